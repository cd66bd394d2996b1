//! Tests of [`super::run_plan`] with the fakes, on tokio's paused clock.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::fakes::*;
use super::plan::tests::{opts, spec};
use super::plan::{ContenderSpec, Plan, PlanOptions};
use super::*;
use crate::model::{Cell, CellStatus, Flag};
use crate::suite::plan::Profile;
use crate::suite::PreviousRates;
use crate::workload::Workload;

pub(super) fn plan(
    contenders: Vec<ContenderSpec>,
    workloads: &[&str],
    trials: u32,
    workers: &[u32],
) -> Plan {
    let opts = PlanOptions {
        workloads: workloads.iter().map(|s| s.to_string()).collect(),
        trials: Some(trials),
        workers: workers.to_vec(),
        duration_scale: 0.1,
        ..opts(Profile::Quick)
    };
    Plan::build(&opts, contenders).unwrap()
}

pub(super) struct Harness {
    pub(super) world: SharedWorld,
    pub(super) cells: Vec<Cell>,
    pub(super) progress: Vec<Progress>,
}

impl Harness {
    pub(super) fn new(contenders: Vec<(&str, FakeContender)>) -> Self {
        Harness {
            world: world(contenders),
            cells: Vec::new(),
            progress: Vec::new(),
        }
    }

    pub(super) async fn run(
        &mut self,
        plan: &Plan,
        cancel: &CancellationToken,
    ) -> Result<RunOutcome, SuiteError> {
        let launcher = FakeLauncher::on(self.world.clone());
        let driver = FakeDriver::on(self.world.clone());
        let sampler = FakeSampler {
            world: self.world.clone(),
        };
        let cells = &mut self.cells;
        let progress = &mut self.progress;
        let mut sink = |c: &Cell| -> Result<(), runner::BoxError> {
            cells.push(c.clone());
            Ok(())
        };
        let mut on_progress = |p: &Progress| progress.push(p.clone());
        run_plan(
            plan,
            &launcher,
            &driver,
            &sampler,
            cancel,
            &mut on_progress,
            &mut sink,
        )
        .await
    }

    /// The contenders in the order they were launched.
    pub(super) fn launch_order(&self) -> Vec<String> {
        let w = self.world.lock().unwrap();
        w.launches.iter().map(|(n, _)| n.clone()).collect()
    }

    pub(super) fn cell(&self, contender: &str, workload: &str) -> &Cell {
        self.cells
            .iter()
            .find(|c| c.contender == contender && c.workload.name() == workload)
            .unwrap_or_else(|| panic!("no cell {contender} {workload}"))
    }
}

pub(super) fn fc(capacity: f64) -> FakeContender {
    FakeContender::new(ServerModel::mm1(capacity))
}

#[tokio::test(start_paused = true)]
async fn full_quick_shape_with_equal_load_at_half_the_lowest_capacity() {
    let mut h = Harness::new(vec![("a", fc(800.0)), ("b", fc(300.0)), ("c", fc(2000.0))]);
    let p = plan(
        vec![spec("a"), spec("b"), spec("c")],
        &["json", "cpu-mixed", "ws", "startup"],
        2,
        &[],
    );
    let out = h.run(&p, &CancellationToken::new()).await.unwrap();
    assert_eq!(out.cells.len(), 3 * 4);
    assert_eq!(
        out.cells, h.cells,
        "the sink saw every cell the outcome lists"
    );
    for c in &out.cells {
        assert_eq!(c.status, CellStatus::Ok, "{c:?}");
    }
    for (name, cap) in [("a", 800.0), ("b", 300.0), ("c", 2000.0)] {
        let c = h.cell(name, "json");
        let e = c
            .capacity
            .unwrap_or_else(|| panic!("{name}: {:?} {:#?}", c.notes, c.trials));
        assert!((e.median - cap).abs() / cap <= 0.05, "{name}: {e:?}");
        assert_eq!(e.n, 2);
        assert_eq!(c.trials.len(), 2);
        assert!(!c.trials[0].steps.is_empty());
        // Equal load at half of b's capacity for everyone, to two figures.
        let b = h.cell("b", "json");
        let b_cap = b
            .capacity
            .unwrap_or_else(|| panic!("b: {:?} {:?}", b.notes, b.trials))
            .median;
        let el = c
            .equal_load
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no equal load: {:?}", c.notes));
        assert!(
            el.target_rps <= b_cap / 2.0 && el.target_rps >= 0.9 * b_cap / 2.0,
            "{} vs {}",
            el.target_rps,
            b_cap
        );
        assert_eq!(el.target_rps, el.target_rps.round(), "two figures");
        // The fake idles at 0.5 CPU-s per s too: nothing is left at the margin.
        assert_eq!(el.marginal_cpu_ms_per_request, Some(0.0));
        assert_eq!(el.idle_cpu_cores, Some(0.5));
        // FakeSampler: 0.5 CPU-s per s; at rate R that is 500/R ms per request.
        let want = 500.0 / el.achieved_rps;
        let cpu = el.cpu_ms_per_request.expect("measured");
        assert!((cpu - want).abs() / want < 0.01, "{cpu} vs {want}");
        // The fake's heap grew under HTTP load and keeps it.
        assert_eq!(el.rss_mean_bytes, Some(100_000_000 + HTTP_HEAP));
        assert!(!el.histograms.is_empty());
        // 2 workers + 1 generator core fit 2 cores? 1 + 1 = 2: not contended.
        assert!(!c.flags.contains(&Flag::Contended));
    }
    let mixed = h.cell("a", "cpu-mixed").equal_load.as_ref().unwrap();
    assert!(mixed.light.is_some());

    let ws = h.cell("a", "ws");
    assert_eq!(ws.workers, 1);
    let clients: Vec<u32> = ws.ws.iter().map(|p| p.clients).collect();
    assert_eq!(clients, vec![10, 100]);
    assert!(ws.ws.iter().all(|p| p.missing == 0));
    // The fan-out capacity: the fake room carries 50,000 deliveries/s, 10 clients.
    let fan_out = ws
        .capacity
        .unwrap_or_else(|| panic!("a fan-out capacity: {:?} {:?}", ws.notes, ws.trials))
        .median;
    assert!((4_750.0..=5_100.0).contains(&fan_out), "{fan_out}");
    // Loaded is the fake's peak: 10 kB per client + 1 MB over the idle mean
    // of a fresh process, whose heap neither HTTP windows nor the smaller
    // point grew (either would read 10 kB, or 19 kB, here).
    let want = (100.0 * 10_000.0 + 1_000_000.0) / 100.0;
    assert!(
        ws.ws[1]
            .bytes_per_connection
            .is_some_and(|b| (b - want).abs() < 1e-9),
        "{:?}",
        ws.ws
    );
    assert!(
        ws.ws.iter().all(|p| p.rss_idle_bytes == 100_000_000),
        "{:?}",
        ws.ws
    );

    let st = h.cell("b", "startup").startup.unwrap();
    assert_eq!(
        st.to_healthy_ms.n, 4,
        "2 capacity launches + 2 final launches (ws and HTTP)"
    );
    assert!((st.to_healthy_ms.median - 800.0).abs() < 1e-9);
    assert_eq!(st.idle_rss_bytes, 100_000_000);

    // Progress carried phases, rates and an ETA that shrinks to zero-ish.
    assert!(h
        .progress
        .iter()
        .any(|p| matches!(p.phase, ProgressPhase::Search { .. }) && p.rate.is_some()));
    assert!(h
        .progress
        .iter()
        .any(|p| p.phase == ProgressPhase::EqualLoad));
    assert!(h.progress.first().unwrap().eta > h.progress.last().unwrap().eta);
}

#[tokio::test(start_paused = true)]
async fn launches_interleave_contenders_across_trials() {
    let mut h = Harness::new(vec![("a", fc(500.0)), ("b", fc(500.0)), ("c", fc(500.0))]);
    let p = plan(vec![spec("a"), spec("b"), spec("c")], &["json"], 2, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let order = h.launch_order();
    // Capacity trials in a Latin square, the final pass as its third trial.
    assert_eq!(order, ["a", "b", "c", "b", "c", "a", "c", "a", "b"]);
    let w = h.world.lock().unwrap();
    assert_eq!(w.stops, 9, "every launch was stopped");
}

/// Quick, the default profile, searches the fan-out capacity too (the summary
/// and the advisor's `realtime` share rest on it), and measures the ws points.
#[tokio::test(start_paused = true)]
async fn quick_searches_the_fan_out_capacity_and_measures_the_ws_points() {
    let mut h = Harness::new(vec![("a", fc(800.0))]);
    let p = plan(vec![spec("a")], &["json", "ws"], 1, &[]);
    assert_eq!(p.profile, Profile::Quick);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let ws = h.cell("a", "ws");
    assert_eq!(ws.trials.len(), 1, "{:?}", ws.trials);
    assert!(ws.capacity.is_some(), "{:?}", ws.trials);
    assert_eq!(ws.ws.len(), 2, "both client counts measured");
    let w = h.world.lock().unwrap();
    let searched: Vec<f64> = w
        .windows
        .iter()
        .filter(|l| l.purpose == Some(WindowPurpose::Search) && l.workload == Some(Workload::Ws))
        .map(|l| l.rate)
        .collect();
    assert!(!searched.is_empty());
    assert_eq!(
        searched[0],
        SearchConfig::start_rate(&Workload::Ws),
        "the first fan-out window runs at the search's start rate"
    );
}

#[tokio::test(start_paused = true)]
async fn warm_ups_long_for_a_fresh_process_short_after() {
    let mut h = Harness::new(vec![("a", fc(500.0))]);
    let p = plan(vec![spec("a")], &["json", "db"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let w = h.world.lock().unwrap();
    let search: Vec<&WindowLog> = w
        .windows
        .iter()
        .filter(|l| l.purpose == Some(WindowPurpose::Search))
        .collect();
    let first_db = search
        .iter()
        .position(|l| l.workload == Some(Workload::Db))
        .unwrap();
    // At scale 0.1: quick's 2 s cap for the first workload, 1 s for the next,
    // and its settle before every later window.
    let ph = &p.phases;
    let adaptive = |d| Warmup::Adaptive { max: p.scaled(d) };
    let settle = Warmup::Fixed(p.scaled(ph.step_warmup));
    assert_eq!(p.scaled(ph.first_warmup_max), Duration::from_millis(200));
    assert_eq!(search[0].warmup, adaptive(ph.first_warmup_max));
    assert_eq!(search[1].warmup, settle);
    assert_eq!(search[first_db].warmup, adaptive(ph.warmup_max));
    // Equal load: an adaptive warm-up window, then the measured one after a settle.
    let eq: Vec<&WindowLog> = w
        .windows
        .iter()
        .filter(|l| l.purpose == Some(WindowPurpose::EqualLoad))
        .collect();
    assert_eq!(eq.len(), 4);
    assert_eq!(eq[0].warmup, adaptive(ph.equal_warmup_max));
    assert_eq!(eq[1].warmup, settle);
}

#[tokio::test(start_paused = true)]
async fn failed_launch_fails_its_cells_and_the_run_goes_on() {
    let mut bad = fc(500.0);
    bad.fail_launch = true;
    let mut h = Harness::new(vec![("a", fc(500.0)), ("bad", bad)]);
    let p = plan(
        vec![spec("a"), spec("bad")],
        &["json", "db", "startup"],
        1,
        &[],
    );
    let out = h.run(&p, &CancellationToken::new()).await.unwrap();
    assert_eq!(out.cells.len(), 6);
    for w in ["json", "db", "startup"] {
        match &h.cell("bad", w).status {
            CellStatus::Failed { reason } => {
                assert!(reason.contains("failed to start"), "{reason}")
            }
            s => panic!("{w}: {s:?}"),
        }
        assert_eq!(h.cell("a", w).status, CellStatus::Ok);
    }
    // Equal load still ran for `a`, at half its own capacity.
    let el = h.cell("a", "json").equal_load.as_ref().unwrap();
    assert!((el.target_rps * 2.0 - 500.0).abs() / 500.0 < 0.05);
    // The failed contender was not retried once its cells were failed.
    let w = h.world.lock().unwrap();
    assert_eq!(w.launches.iter().filter(|(n, _)| n == "bad").count(), 1);
}

#[tokio::test(start_paused = true)]
async fn crash_mid_run_fails_the_rest_of_that_contender() {
    let mut crashy = fc(500.0);
    crashy.crash_at_window = Some(3);
    let mut h = Harness::new(vec![("a", fc(500.0)), ("crashy", crashy)]);
    let p = plan(vec![spec("a"), spec("crashy")], &["json", "db"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    for w in ["json", "db"] {
        match &h.cell("crashy", w).status {
            CellStatus::Failed { reason } => {
                assert!(
                    reason.contains("crashed") && reason.contains("signal 9"),
                    "{reason}"
                )
            }
            s => panic!("{w}: {s:?}"),
        }
        assert_eq!(h.cell("a", w).status, CellStatus::Ok);
    }
}

#[tokio::test(start_paused = true)]
async fn unsupported_endpoints_are_skipped() {
    let mut b = spec("b");
    b.unsupported.insert(
        crate::model::Endpoint::Ws,
        "Django needs Channels for WebSockets".into(),
    );
    let mut h = Harness::new(vec![("a", fc(500.0)), ("b", fc(500.0))]);
    let p = plan(vec![spec("a"), b], &["json", "ws"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    match &h.cell("b", "ws").status {
        CellStatus::Skipped { reason } => assert!(reason.contains("Channels"), "{reason}"),
        s => panic!("{s:?}"),
    }
    assert_eq!(h.cell("b", "json").status, CellStatus::Ok);
    assert_eq!(h.cell("a", "ws").status, CellStatus::Ok);
    // b was never driven over ws.
    let w = h.world.lock().unwrap();
    assert!(!w
        .windows
        .iter()
        .any(|l| l.contender == "b" && l.workload == Some(Workload::Ws)));
}

#[tokio::test(start_paused = true)]
async fn cancellation_mid_plan_returns_interrupted_after_the_sink_got_finished_cells() {
    let mut h = Harness::new(vec![("a", fc(500.0)), ("b", fc(500.0))]);
    let p = plan(
        vec![spec("a"), spec("b")],
        &["json", "db", "startup"],
        1,
        &[],
    );
    h.world.lock().unwrap().contender_speeds = [600.0, 580.0, 610.0, 590.0, 620.0].into();
    let cancel = CancellationToken::new();
    // Cancel while the final pass of `a` runs: it continues the Latin square
    // (b's first), so `b`'s cells are finished by then.
    let trigger = cancel.clone();
    let world = h.world.clone();
    let watcher = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let w = world.lock().unwrap();
            let finals_a = w.launches.iter().filter(|(n, _)| n == "a").count();
            if finals_a >= 2 {
                trigger.cancel();
                return;
            }
        }
    });
    let err = h.run(&p, &cancel).await.unwrap_err();
    watcher.await.unwrap();
    let SuiteError::Interrupted {
        finished, probes, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*finished, h.cells.len());
    // The machine's speed until then, kept with the finished cells.
    let speed = probes.contender.expect("the readings so far");
    assert!(speed.readings >= 3 && speed.min >= 580.0, "{speed:?}");
    assert_eq!(probes.generator, None, "no generator readings");
    assert_eq!(probes.loopback, None, "no loopback readings");
    let names: Vec<(&str, &str)> = h
        .cells
        .iter()
        .map(|c| (c.contender.as_str(), c.workload.name()))
        .collect();
    assert!(
        names.contains(&("b", "json")) && names.contains(&("b", "db")),
        "{names:?}"
    );
    // `a`'s cells were under way: their capacity trials are kept, flagged
    // `interrupted` (out of verdicts), with no equal-load window; none of
    // `b`'s finished cells is. Both start-up cells were under way too (quick
    // takes three start-ups: the third is an extra spawn after the pass).
    for c in &h.cells {
        let stopped = c.flags.contains(&Flag::Interrupted);
        let under_way = c.contender == "a" || c.workload == Workload::Startup;
        assert_eq!(stopped, under_way, "{} {}", c.contender, c.workload);
    }
    let b_startup = h
        .cells
        .iter()
        .find(|c| c.contender == "b" && c.workload == Workload::Startup)
        .expect("b's start-ups kept");
    assert!(
        b_startup
            .notes
            .iter()
            .any(|n| n.ends_with("2 of 3 start-up(s)")),
        "{:?}",
        b_startup.notes
    );
    for w in ["json", "db"] {
        let a = h
            .cells
            .iter()
            .find(|c| c.contender == "a" && c.workload.name() == w)
            .unwrap_or_else(|| panic!("a's {w} trials were lost: {names:?}"));
        assert_eq!(a.trials.len(), 1, "{w}");
        assert!(a.equal_load.is_none());
        assert_eq!(a.out_of_verdicts(), Some(Flag::Interrupted));
        assert!(a
            .notes
            .iter()
            .any(|n| n.contains("1 of 1 trial(s), no equal-load window")));
    }
    // The chain carries crate::Interrupted so the CLI exits 130.
    let any = anyhow::Error::new(err);
    assert_eq!(crate::exit_code(&any), 130);
    // Nothing left running, nothing started after the cancel.
    let w = h.world.lock().unwrap();
    assert_eq!(w.stops as usize, w.launches.len());
    assert!(w.contenders.values().all(|c| !c.alive));
}

#[tokio::test(start_paused = true)]
async fn worker_sweep_gives_scaling_efficiency_and_contention() {
    let mut h = Harness::new(vec![("a", fc(1000.0))]);
    let p = plan(vec![spec("a")], &["json"], 1, &[1, 2]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let one = h.cells.iter().find(|c| c.workers == 1).unwrap();
    let two = h.cells.iter().find(|c| c.workers == 2).unwrap();
    assert_eq!(one.scaling_efficiency, None);
    // The fake ignores workers: same capacity, so efficiency ≈ 1/2.
    let eff = two.scaling_efficiency.unwrap();
    assert!((eff - 0.5).abs() < 0.05, "{eff}");
    assert!(two.flags.contains(&Flag::Contended));
    assert!(!one.flags.contains(&Flag::Contended));
}

#[tokio::test(start_paused = true)]
async fn only_data_launches_get_the_dataset() {
    let mut h = Harness::new(vec![("a", fc(500.0))]);
    let p = plan(vec![spec("a")], &["json", "data", "startup"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let w = h.world.lock().unwrap();
    let data: Vec<bool> = w.with_data.clone();
    // capacity (json), capacity (data), final (json), final (data), extra spawn
    assert_eq!(data, vec![false, true, false, true, false]);
    drop(w);
    // Start-up samples come from the launches without the dataset only.
    let st = h.cell("a", "startup").startup.unwrap();
    assert_eq!(st.to_healthy_ms.n, 3);
}

#[tokio::test(start_paused = true)]
async fn a_failing_sink_stops_the_run() {
    let world = world(vec![("a", fc(500.0))]);
    let p = plan(vec![spec("a")], &["json"], 1, &[]);
    let mut sink = |_: &Cell| -> Result<(), runner::BoxError> { Err("disk full".into()) };
    let err = run_plan(
        &p,
        &FakeLauncher::on(world.clone()),
        &FakeDriver::on(world.clone()),
        &FakeSampler { world },
        &CancellationToken::new(),
        &mut |_| {},
        &mut sink,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SuiteError::Sink(_)), "{err:?}");
}

/// The quick profile at full scale, on the paused clock: the runner's real time use
/// stays inside the plan's worst-case budget.
#[tokio::test(start_paused = true)]
async fn quick_profile_runs_inside_its_budget() {
    let names = plan::DEFAULT_CONTENDERS;
    let mut h = Harness::new(names.iter().map(|n| (*n, fc(800.0))).collect());
    let p = Plan::build(
        &opts(Profile::Quick),
        names.iter().map(|n| spec(n)).collect(),
    )
    .unwrap();
    let started = tokio::time::Instant::now();
    let out = h.run(&p, &CancellationToken::new()).await.unwrap();
    let took = started.elapsed();
    eprintln!("quick profile on fakes: {took:?}");
    for c in &out.cells {
        for t in &c.trials {
            let secs: f64 = t.steps.iter().map(|s| s.duration_s + 0.2).sum();
            eprintln!(
                "{} {}: {} windows, {secs:.1} s, {:?} {:?}",
                c.contender,
                c.workload,
                t.steps.len(),
                t.outcome,
                t.steps
                    .iter()
                    .map(|s| (s.target_rps.round(), s.verdict))
                    .collect::<Vec<_>>()
            );
        }
    }
    assert_eq!(out.cells.len(), 4 * 6);
    assert!(out.cells.iter().all(|c| c.status == CellStatus::Ok));
    // FakeLauncher takes 0.8 s per start against the budget's 3 s.
    let budget = p.budget(plan::ASSUMED_STARTUP);
    assert!(took <= budget, "took {took:?}, budget {budget:?}");
    // Overhead outside measurements: the fake start-ups of 0.8 s each.
    assert_eq!(out.wall, took);
    let overhead = out.wall - out.measuring;
    let starts = h.world.lock().unwrap().launches.len() as u32;
    assert!(
        overhead >= Duration::from_millis(800) * starts,
        "{overhead:?}"
    );
    assert!(
        overhead <= Duration::from_millis(800) * starts + Duration::from_millis(100),
        "{overhead:?} for {starts} starts"
    );
}

/// A rate an earlier run of the same plan used is kept while it lies between a
/// quarter and three quarters of this run's lowest capacity, and said; one
/// outside that range is replaced by this run's own.
#[tokio::test(start_paused = true)]
async fn an_earlier_runs_equal_load_rate_is_reused_while_it_still_fits() {
    for (earlier, reused) in [(170.0, true), (290.0, false), (40.0, false)] {
        let mut h = Harness::new(vec![("a", fc(800.0)), ("b", fc(300.0))]);
        let mut p = plan(vec![spec("a"), spec("b")], &["json"], 1, &[]);
        let rows = vec![
            (Workload::Json, 1, None, earlier),
            (Workload::from_name("no-such-workload"), 1, None, 5.0),
        ];
        p.previous_equal_rates = Some(PreviousRates::from_rows(&p, 7, &rows));
        h.run(&p, &CancellationToken::new()).await.unwrap();
        for name in ["a", "b"] {
            let c = h.cell(name, "json");
            let el = c.equal_load.as_ref().unwrap();
            let said = c.notes.iter().any(|n| n.contains("as in run 7"));
            if reused {
                assert_eq!(el.target_rps, earlier, "{name}: {:?}", c.notes);
                assert!(said, "{:?}", c.notes);
            } else {
                assert_ne!(el.target_rps, earlier, "{name}: {:?}", c.notes);
                assert!(el.target_rps <= 150.0 && el.target_rps >= 135.0);
                assert!(!said, "{:?}", c.notes);
            }
        }
    }
}

/// `--database sqlite,postgres`: the db workload is measured once per
/// database, in launches given that database, and its windows say which; the
/// other workloads and start-up run once, on the first database. A launch
/// that fails on PostgreSQL fails only the PostgreSQL cells.
#[tokio::test(start_paused = true)]
async fn the_database_axis_measures_db_once_per_database() {
    use crate::database::Database;
    let mut h = Harness::new(vec![("a", fc(800.0)), ("b", fc(500.0))]);
    h.world
        .lock()
        .unwrap()
        .contenders
        .get_mut("b")
        .unwrap()
        .fail_launch_on = Some(Database::Postgres);
    let mut p = plan(
        vec![spec("a"), spec("b")],
        &["json", "db", "startup"],
        1,
        &[],
    );
    p.set_databases(&[Database::Sqlite, Database::Postgres])
        .unwrap();
    let out = h.run(&p, &CancellationToken::new()).await.unwrap();
    let of = |name: &str| -> Vec<(String, Option<Database>, bool)> {
        out.cells
            .iter()
            .filter(|c| c.contender == name)
            .map(|c| (c.workload.to_string(), c.database, c.status.is_ok()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    assert_eq!(
        of("a"),
        [
            ("db".to_string(), Some(Database::Sqlite), true),
            ("db".to_string(), Some(Database::Postgres), true),
            ("json".to_string(), None, true),
            ("startup".to_string(), None, true),
        ]
    );
    // b's driver cannot reach PostgreSQL: that cell fails, its others stand.
    let b = of("b");
    assert_eq!(b.len(), 4, "{b:?}");
    for (w, db, ok) in &b {
        assert_eq!(*ok, *db != Some(Database::Postgres), "{w} {db:?}");
    }
    let failed = out
        .cells
        .iter()
        .find(|c| c.contender == "b" && c.database == Some(Database::Postgres))
        .unwrap();
    assert!(
        matches!(&failed.status, CellStatus::Failed { reason } if reason.contains("failed to start")),
        "{:?}",
        failed.status
    );
    let w = h.world.lock().unwrap();
    // Every window of the db workload said its database; no other did.
    for win in &w.windows {
        match &win.workload {
            Some(Workload::Db) => assert!(win.database.is_some(), "{win:?}"),
            _ => assert_eq!(win.database, None, "{win:?}"),
        }
    }
    for (i, db) in w.on_database.iter().enumerate() {
        let name = &w.launches[i].0;
        if *db == Database::Postgres {
            // Only db windows ran while a was up on PostgreSQL.
            assert!(!w.with_data[i], "{name}");
        }
    }
    assert!(w
        .windows
        .iter()
        .any(|win| win.contender == "a" && win.database == Some(Database::Postgres)));
    // Both db cells of `a` reached the equal-load pass.
    for db in [Database::Sqlite, Database::Postgres] {
        let c = out
            .cells
            .iter()
            .find(|c| c.contender == "a" && c.database == Some(db))
            .unwrap();
        assert!(c.equal_load.is_some(), "{db}: {c:?}");
    }
    let startup = h.cell("a", "startup").startup.unwrap();
    assert_eq!(startup.to_healthy_ms.n, p.phases.startup_spawns);
}

#[tokio::test(start_paused = true)]
async fn a_sampler_that_cannot_sample_leaves_notes_not_an_aborted_run() {
    let mut h = Harness::new(vec![("a", fc(800.0))]);
    h.world.lock().unwrap().sampling_fails = true;
    let p = plan(vec![spec("a")], &["json", "ws", "startup"], 1, &[]);
    let out = h.run(&p, &CancellationToken::new()).await.unwrap();
    for c in &out.cells {
        assert_eq!(c.status, CellStatus::Ok, "{c:?}");
    }
    assert!(h.cell("a", "json").capacity.is_some());
    // The idle sample before start-up's cell, and before the ws points.
    let startup = h.cell("a", "startup");
    assert!(
        startup.notes.iter().any(|n| n.contains(FAKE_UNSAMPLED)),
        "{:?}",
        startup.notes
    );
    let ws = h.cell("a", "ws");
    assert!(
        ws.notes
            .iter()
            .any(|n| n.ends_with(&format!("{FAKE_UNSAMPLED}; ws memory not measured"))),
        "{:?}",
        ws.notes
    );
}
