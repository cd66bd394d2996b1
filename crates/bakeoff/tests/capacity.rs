//! The capacity search against real servers whose ceiling is known: one thread
//! that spends a fixed time on every request, its own work between requests
//! included, so it completes at most 1/service requests per second
//! (`bakeoff_load::testkit`). A closed loop that saturates it shows it reaches
//! that ceiling; the search, with the real engine, must report a capacity
//! between 0.85× and 1.0× of it — never more than the server can sustain,
//! but for the judge's own sensitivity (0.5% of overload over a window).
//!
//! Its own test binary, so nothing else runs beside it: the server and the
//! generator each get a core.

use std::time::Duration;

use bakeoff::model::StepVerdict;
use bakeoff::suite::live::{voiding_steal, window_steal, EngineDriver, StealLimit, Stolen};
use bakeoff::suite::search::{
    judge, search_capacity, Observed, Probe, SearchConfig, SearchOutcome, Windows,
};
use bakeoff::suite::windows::{HttpWindows, WsWindows};
use bakeoff::suite::{Warmup, WindowPurpose};
use bakeoff::workload::upstream::Upstream;
use bakeoff::workload::{RateUnit, Workload};
use bakeoff_load::testkit::{FixedServiceRoom, FixedServiceServer};
use bakeoff_load::{LoadConfig, RequestSpec};
use tokio_util::sync::CancellationToken;

/// (generator, server) CPUs: different cores when there are two.
fn cpus() -> (Option<usize>, Option<usize>) {
    let allowed = bakeoff::measure::allowed_cpus().unwrap_or_default();
    match allowed.as_slice() {
        [a, b, ..] => (Some(*a), Some(*b)),
        _ => (None, None),
    }
}

/// The tests stop this whole process or time it: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What a closed loop saturating the server reaches: many connections keep
/// its queue deep, so a generator held up by a busy machine does not leave
/// the server idle. Never above the known ceiling; within 10% under it unless
/// the hypervisor took the server's or the generator's CPU during the reading
/// (steal only lowers it), else the server does not deliver the ceiling the
/// search is judged against. A server whose own work per request (reads,
/// writes, wake-ups) nears its service time falls short of 1/service
/// ([`FixedServiceServer`]): `floor` is the share it must still reach.
async fn closed_loop(
    server: &FixedServiceServer,
    known: f64,
    floor: f64,
    cpus: (Option<usize>, Option<usize>),
) -> f64 {
    let watched: Vec<usize> = [cpus.0, cpus.1].into_iter().flatten().collect();
    let config = LoadConfig {
        connections: 256,
        duration: Some(Duration::from_secs(3)),
        warmup: bakeoff_load::Warmup::Fixed(Duration::from_millis(500)),
        pin_cpu: cpus.0,
        ..LoadConfig::new(server.url("/json"))
    };
    let r = bakeoff_load::run(config, CancellationToken::new(), None)
        .await
        .expect("closed loop");
    assert_eq!(r.error_count(), 0, "{:?}", r.errors);
    let reached = r.achieved_rate / known;
    assert!(
        reached <= 1.005,
        "a closed loop beat the ceiling: {reached:.3}×"
    );
    let wall = Duration::from_secs_f64(r.generator_wall_s);
    let steal = window_steal(
        r.steal,
        &r.cpu_steal,
        &r.steal_bursts,
        &watched,
        wall,
        StealLimit::default(),
    );
    if !steal.as_ref().is_some_and(Stolen::voids) {
        assert!(
            reached >= floor,
            "the server delivers {reached:.3}× its ceiling"
        );
    }
    r.achieved_rate
}

/// Whether this VM's hypervisor holds threads up now (it does for stretches
/// of minutes): a timer probe on the generator's CPU, and the steal
/// meanwhile on the CPUs the search watches. A search that ended
/// machine-noisy on a machine that does neither is the stall rule's mistake.
/// (Quiet, none of four thousand 1 ms sleeps wakes 5 ms late; stalling, this
/// VM shows 0.2–0.5%, and steal of 2–9% of the machine.)
fn machine_stalls(generator: Option<usize>) -> bool {
    let driver = driver(generator);
    let bar = driver.stalled_after();
    let probe = bakeoff::measure::speed::idle_stalls(generator, Duration::from_secs(4), bar)
        .expect("stall probe");
    let watched: Vec<usize> = generator.into_iter().chain(driver.watched_cpus).collect();
    let steal = voiding_steal(&probe.steal, &watched, StealLimit::default());
    eprintln!(
        "stall probe: {:.2}% of 1 ms sleeps over {bar:?} late; voiding steal {steal:?}",
        probe.held() * 100.0
    );
    probe.held() > 0.0005 || steal.is_some()
}

/// The suite's driver, as `bakeoff run` builds it, on the generator's CPU.
fn driver(generator: Option<usize>) -> EngineDriver {
    EngineDriver {
        pin_cpu: generator,
        // The server's CPU, as `bakeoff run` watches the contender's.
        watched_cpus: cpus().1.into_iter().collect(),
        ..EngineDriver::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

fn config(start: f64) -> SearchConfig {
    SearchConfig {
        slo_p99_ms: 100.0,
        start_rps: start,
        ramp_factor: 4.0,
        narrow_factor: 2.0,
        min_rps: 1.0,
        max_rps: 1_000_000.0,
        resolution: 0.03,
        max_steps: 18, // as the quick and standard profiles
        max_retries: 2,
        budget: Duration::from_secs(20),
        first_warmup: Warmup::Fixed(Duration::from_millis(500)),
        settle: Duration::from_millis(200),
        step_min: Duration::from_millis(600),
        step_max: Duration::from_millis(1200),
        target_requests: 300,
        retest_max: Duration::from_secs(3),
        confirm: Duration::from_secs(5),
        max_confirms: 3,
        max_drain: Duration::from_secs(2),
        deadline: None,
        unit: RateUnit::Requests,
    }
}

/// The search's windows on the test server at `base`, as `json`.
fn server_windows<'a>(driver: &'a EngineDriver, base: &'a str) -> HttpWindows<'a> {
    HttpWindows {
        driver,
        contender: "server",
        base_url: base,
        workload: Workload::Json,
        database: None,
    }
}

/// Stop this whole process (generator and in-process server) for `pause`,
/// 0.8 s from now: in the middle of a 2 s window started at once.
fn stop_mid_window(pause: Duration) -> std::process::Child {
    bakeoff_load::testkit::stop_this_process(Duration::from_millis(800), pause).expect("sh")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_lies_between_85_and_100_percent_of_a_known_ceiling() {
    let _serial = SERIAL.lock().await;
    let (generator, server_cpu) = cpus();
    let driver = driver(generator);
    // A few hundred, a few thousand and about 25,000 requests per second: at
    // the last, Node's rates, every connection of an overloaded window is
    // busy, which is where a server's backlog once passed for the generator's
    // stall. There the server's own work per request is near its 40 µs of
    // service, so its ceiling is what the closed loop measures (0.93× of
    // 1/service where this was written).
    for (service, start, floor) in [
        (Duration::from_micros(2_500), 50.0, 0.9),
        (Duration::from_micros(250), 400.0, 0.9),
        (Duration::from_micros(40), 4_000.0, 0.75),
    ] {
        let server = FixedServiceServer::start(service, server_cpu).expect("test server");
        let ceiling = 1.0 / service.as_secs_f64();
        let before = closed_loop(&server, ceiling, floor, (generator, server_cpu)).await;
        let base = format!("http://{}", server.addr());
        let windows = server_windows(&driver, &base);
        let Some(out) = clean_search(&windows, &config(start), generator).await else {
            eprintln!("service {service:?}: not judged, the machine is stalling");
            continue;
        };
        let capacity = out.capacity.unwrap_or(0.0);
        // The reference: the ceiling a closed loop measures here, read
        // before and after the search. A slowing host makes a closed loop read
        // low, never above the ceiling (`closed_loop` asserts it), so the
        // higher reading is the ceiling's (one 3 s reading at 0.943× of
        // 1/service once failed a search that held 0.966×).
        // The floor was checked before: the second reading may only raise the reference.
        let after = closed_loop(&server, ceiling, 0.0, (generator, server_cpu)).await;
        let closed = before.max(after);
        let ratio = capacity / closed;
        eprintln!(
            "service {service:?}: ceiling {ceiling:.0} req/s, a closed loop reached {before:.0} before and {after:.0} after; capacity {capacity:.0} ({ratio:.3}× the closed loop, {:.3}× 1/service), {:?}, {} windows",
            capacity / ceiling,
            out.outcome,
            out.steps.len()
        );
        assert_eq!(
            out.outcome,
            bakeoff::model::TrialOutcome::Confirmed,
            "{:?}: {:#?}",
            out.note,
            out.steps
        );
        // The judge fails a window whose backlog grows by 0.5% of its rate
        // (`judge::MIN_OVERLOAD`): a capacity may land that far above the
        // ceiling, never more; and 2% above a closed loop's reading of it.
        assert!(
            capacity <= 1.005 * ceiling && (0.85..=1.02).contains(&ratio),
            "capacity {capacity:.0} vs ceiling {ceiling:.0} ({ratio:.3}× the {closed:.0} a closed loop reached): {:#?}",
            out.steps
        );
    }
}

/// A search the machine did not stall: a machine that stalls a search
/// (hypervisor steal, late sends) gets another, since such a search ends at
/// its first unclean step, in seconds, and these tests are about accuracy,
/// not the machine's quiet. `None` when every one of four was the machine's
/// and the machine does stall now (accuracy cannot be judged); a machine
/// that does not is the stall rule's mistake, and fails the test.
async fn clean_search(
    windows: &dyn Windows,
    config: &SearchConfig,
    generator: Option<usize>,
) -> Option<SearchOutcome> {
    let cancel = CancellationToken::new();
    let mut noisy = Vec::new();
    for _ in 0..4 {
        let out = search_capacity(windows, config, &cancel, &mut |_| {})
            .await
            .expect("search");
        if out.outcome != bakeoff::model::TrialOutcome::MachineNoisy {
            return Some(out);
        }
        noisy.push(out.note);
    }
    // Steal is the hypervisor's own account; a late-send verdict needs the
    // probe to confirm the machine holds threads up.
    let stolen = noisy.iter().flatten().any(|n| n.contains("(steal)"));
    assert!(
        stolen || machine_stalls(generator),
        "every search ended machine-noisy ({noisy:?}), but the machine is not stalling"
    );
    eprintln!("every search ended machine-noisy: {noisy:?}");
    None
}

/// The fan-out search, with the real engine and driver, against a chat room
/// of known ceiling (2 ms of service per message, so at most 500 messages/s
/// fan out to its 10 clients): its capacity lies between 0.85× and 1.0× of
/// that ceiling, and the windows past it stop once their delivery p99 is
/// decided over the SLO instead of running their length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_capacity_lies_within_a_known_rooms_ceiling() {
    let _serial = SERIAL.lock().await;
    let (generator, server_cpu) = cpus();
    let driver = driver(generator);
    let service = Duration::from_millis(2);
    let room = FixedServiceRoom::start(service, server_cpu).expect("test room");
    let ceiling = 1.0 / service.as_secs_f64();
    let base = format!("http://{}", room.addr());
    let windows = WsWindows {
        driver: &driver,
        base_url: &base,
        clients: 10,
        min_deliveries: 1_000,
    };
    let c = SearchConfig {
        unit: RateUnit::Messages,
        ..config(50.0)
    };
    let Some(out) = clean_search(&windows, &c, generator).await else {
        return;
    };
    let capacity = out.capacity.unwrap_or(0.0);
    let stopped: Vec<_> = out
        .steps
        .iter()
        .filter(|s| s.reasons.iter().any(|r| r.starts_with("stopped after")))
        .collect();
    eprintln!(
        "room: ceiling {ceiling:.0} msg/s; capacity {capacity:.0} ({:.3}×), {:?}, {} windows, {} stopped early, {:.1} s of windows",
        capacity / ceiling,
        out.outcome,
        out.steps.len(),
        stopped.len(),
        out.steps.iter().map(|s| s.duration_s).sum::<f64>()
    );
    assert_eq!(
        out.outcome,
        bakeoff::model::TrialOutcome::Confirmed,
        "{:?}: {:#?}",
        out.note,
        out.steps
    );
    assert!(
        (0.85 * ceiling..=1.005 * ceiling).contains(&capacity),
        "capacity {capacity:.0} vs ceiling {ceiling:.0}: {:#?}",
        out.steps
    );
    // The ramp's ×4 past the ceiling is decided within a fraction of its window.
    assert!(!stopped.is_empty(), "{:#?}", out.steps);
    for s in &stopped {
        assert!(s.target_rps > ceiling, "{s:?}");
    }
}

/// A window during which the whole process (generator included) is stopped is
/// the machine's, not the server's: it is recorded as stalled and run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_with_a_stopped_generator_is_retried() {
    let _serial = SERIAL.lock().await;
    let (generator, server_cpu) = cpus();
    let driver = driver(generator);
    let server =
        FixedServiceServer::start(Duration::from_micros(250), server_cpu).expect("test server");
    let base = format!("http://{}", server.addr());
    let windows = server_windows(&driver, &base);
    let mut c = config(500.0);
    c.first_warmup = Warmup::Fixed(Duration::ZERO);
    c.step_min = Duration::from_secs(2);
    c.step_max = Duration::from_secs(2);
    c.max_steps = 1;
    // Stop this process for 300 ms in the middle of the first window.
    let mut stopper = stop_mid_window(Duration::from_millis(300));
    let out = search_capacity(&windows, &c, &CancellationToken::new(), &mut |_| {})
        .await
        .expect("search");
    stopper.wait().expect("stopper");
    let first = &out.steps[0];
    assert_eq!(first.verdict, StepVerdict::Stalled, "{:#?}", out.steps);
    assert!(
        first.reasons[0].contains("late through the generator"),
        "{first:?}"
    );
    // The retry ran the same rate again; every attempt is recorded, and a
    // machine that keeps stalling ends the trial as machine-noisy, never judged.
    let second = &out.steps[1];
    assert_eq!(second.target_rps, first.target_rps);
    let judged = out.steps.iter().any(|s| s.verdict != StepVerdict::Stalled);
    assert!(
        judged || out.outcome == bakeoff::model::TrialOutcome::MachineNoisy,
        "{:#?}",
        out.steps
    );
}

/// Near the capacity, a generator stopped mid-window leaves a burst of late
/// sends that the server, with 3% to spare, cannot work off by the cutoff:
/// requests are still outstanding and the achieved rate is short, yet the
/// window is the machine's (stalled, run again), not the server's failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generator_stopped_near_the_capacity_stalls_the_window_not_fails_it() {
    use bakeoff::model::StepVerdict;
    use bakeoff::suite::search::{judge, Judgement, Probe, Windows};
    use bakeoff::suite::WindowPurpose;
    let _serial = SERIAL.lock().await;
    let (generator, server_cpu) = cpus();
    let driver = driver(generator);
    let server =
        FixedServiceServer::start(Duration::from_millis(2), server_cpu).expect("test server");
    // What the server delivers now: a busy host's share of its core.
    let closed = closed_loop(&server, 500.0, 0.9, (generator, server_cpu)).await;
    let base = format!("http://{}", server.addr());
    let windows = server_windows(&driver, &base);
    let rate = 0.97 * closed;
    let probe = Probe {
        rate,
        duration: Duration::from_secs(2),
        warmup: Warmup::Fixed(Duration::ZERO),
        purpose: WindowPurpose::Search,
    };
    // Stop this process (generator and server) for 150 ms mid-window.
    let mut stopper = stop_mid_window(Duration::from_millis(150));
    let o = windows
        .run(probe, &CancellationToken::new())
        .await
        .expect("window");
    stopper.wait().expect("stopper");
    let Judgement {
        verdict, reasons, ..
    } = judge(&o, rate, 100.0, RateUnit::Requests);
    assert_eq!(verdict, StepVerdict::Stalled, "{reasons:?}: {o:#?}");
    // The late sends stall it, unless the hypervisor's steal did first.
    let why = o.stalled.unwrap_or_default();
    assert!(
        why.contains("late through the generator") || why.contains("steal"),
        "{why}"
    );
}

/// Once one engine thread could not drive a rate, windows near it run on the
/// spare CPU's thread too, against the real server: two shards, their reports
/// merged, the rate held; a slow window keeps one thread. (Which windows one
/// thread cannot drive is the engine's self-check, tested in the engine.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_past_one_threads_limit_run_on_the_spare_cpu_too() {
    use bakeoff::suite::{Driver, WindowPurpose, WindowSpec};
    let _serial = SERIAL.lock().await;
    let (generator, server_cpu) = cpus();
    let (Some(_), Some(spare)) = (generator, server_cpu) else {
        eprintln!("skipped: needs two CPUs to pin two generator threads");
        return;
    };
    let mut driver = driver(generator);
    // The server's core doubles as the spare here: what is tested is the
    // switch and the merged window, not the extra throughput.
    driver.threads = bakeoff::suite::live::GeneratorThreads::on(vec![spare]);
    let server =
        FixedServiceServer::start(Duration::from_micros(20), server_cpu).expect("test server");
    let spec = |rate: f64| WindowSpec {
        contender: "server".into(),
        base_url: format!("http://{}", server.addr()),
        workload: Workload::Json,
        database: None,
        rate,
        duration: Duration::from_secs(1),
        warmup: Warmup::None,
        purpose: WindowPurpose::EqualLoad,
    };
    let cancel = CancellationToken::new();
    let one = driver.http_window(&spec(2_000.0), &cancel).await.unwrap();
    assert_eq!(one.generator_threads, 1);
    assert!(driver.threads.limited_at(2_100.0));
    let two = driver.http_window(&spec(2_000.0), &cancel).await.unwrap();
    assert_eq!(two.generator_threads, 2);
    assert_eq!(two.errors, 0, "{two:?}");
    assert!(
        (1_900.0..=2_100.0).contains(&two.achieved_rps),
        "achieved {} of 2000 req/s on two threads",
        two.achieved_rps
    );
    let slow = driver.http_window(&spec(200.0), &cancel).await.unwrap();
    assert_eq!(slow.generator_threads, 1);
}

/// `bakeoff load --find-capacity` through the binary, pinned to the generator's
/// core, against a server of known ceiling: the same bounds as the search's,
/// a JSON document that fits its schema, and every window on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_find_capacity_reports_a_capacity_the_server_sustains() {
    let _serial = SERIAL.lock().await;
    let (generator, server_cpu) = cpus();
    let server =
        FixedServiceServer::start(Duration::from_micros(2_500), server_cpu).expect("test server");
    let ceiling = 1.0 / 0.002_5;
    let closed = closed_loop(&server, ceiling, 0.9, (generator, server_cpu)).await;
    let url = server.url("/json").to_string();
    let mut args = vec![
        "load".to_string(),
        url.clone(),
        "--find-capacity".into(),
        "--slo-p99".into(),
        "100ms".into(),
        "--max-time".into(),
        // Room for three 10 s confirmation windows (half the time).
        "60s".into(),
        "--json".into(),
    ];
    if let Some(cpu) = generator {
        args.extend(["--pin".to_string(), cpu.to_string()]);
    }
    let mut doc = serde_json::Value::Null;
    // As above: a machine that stalls a search, or holds the generator's core
    // busy with other work, gets another.
    for _ in 0..3 {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_bakeoff"))
            .args(&args)
            .output()
            .await
            .expect("run bakeoff");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("req/s"),
            "no window lines on stderr: {stderr}"
        );
        doc = serde_json::from_slice(&out.stdout).expect("one JSON document");
        if doc["outcome"] != "machine_noisy" && doc["outcome"] != "generator_limited" {
            break;
        }
    }

    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/schema/capacity.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let problems: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}\n{doc:#}");
    // As above: steal is the hypervisor's own account; a late-send verdict
    // needs the probe to confirm the machine holds threads up.
    let stolen = doc["note"].as_str().is_some_and(|n| n.contains("(steal)"));
    if doc["outcome"] == "machine_noisy" && (stolen || machine_stalls(generator)) {
        eprintln!("--find-capacity: not judged, the machine is stalling: {doc:#}");
        return;
    }
    assert_eq!(doc["outcome"], "confirmed", "{doc:#}");
    let capacity = doc["capacity_rps"].as_f64().unwrap();
    let ratio = capacity / ceiling;
    eprintln!("--find-capacity: ceiling {ceiling:.0} req/s (a closed loop reached {closed:.0}), capacity {capacity:.0} ({ratio:.3}×)");
    assert!(
        (0.85..=1.005).contains(&ratio),
        "capacity {capacity:.0} vs ceiling {ceiling:.0} ({ratio:.3}×): {doc:#}"
    );
    let steps = doc["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["phase"] == "confirm" && s["verdict"] == "pass"),
        "{doc:#}"
    );
    // Bounded by --max-time, drains and retries included (a window stopped
    // at it lets go of the target within a moment).
    assert!(doc["elapsed_s"].as_f64().unwrap() <= 61.0, "{doc:#}");
}

/// A machine that holds bakeoff's upstream up makes its known delay longer
/// than asked: the delays due while this process is stopped are counted
/// late (the driver then voids the `io` window; see
/// `an_io_window_whose_upstream_answered_late_is_the_machines`), and none of
/// those due after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_held_up_by_the_machine_counts_its_delays_late() {
    use bakeoff::workload::upstream::{Upstream, LATE_AFTER};
    use bakeoff::workload::verify::http::{self, Target};
    let _serial = SERIAL.lock().await;
    let up = Upstream::start(CancellationToken::new())
        .await
        .expect("upstream");
    let counters = up.counters();
    let target = Target::parse(&up.base_url()).unwrap();
    let call = |ms: u64| {
        let t = target.clone();
        tokio::spawn(async move {
            let r = http::get(&t, &format!("/delay?ms={ms}"), Duration::from_secs(5), 4096).await;
            assert_eq!(r.expect("delay").status, 200);
        })
    };
    // Ten calls due at 0.3 s, the process stopped from 0.2 to 0.5 s; ten due
    // at 1.5 s, long after.
    let mut stopper = bakeoff_load::testkit::stop_this_process(
        Duration::from_millis(200),
        Duration::from_millis(300),
    )
    .expect("sh");
    let calls: Vec<_> = (0..10)
        .map(|_| call(300))
        .chain((0..10).map(|_| call(1500)))
        .collect();
    for c in calls {
        c.await.expect("call");
    }
    stopper.wait().expect("stopper");
    let tally = counters.read();
    assert_eq!(tally.calls, 20);
    assert!(
        tally.late >= 10,
        "{tally:?}: the delays due in the stop ended ~200 ms late, over {LATE_AFTER:?}"
    );
    // The later ten were due well after the stop: only a stalling host
    // (this VM's hypervisor) makes any of them late.
    if tally.late > 10 {
        eprintln!("{tally:?}: more late than the stop made; the host held the upstream up too");
    }
}

/// `io`'s pool: 512 connections hold 10,240 req/s at its 50 ms wait, so a
/// window at 12,000 against a server that only waits 50 ms (bakeoff's
/// upstream) held its rate only once the pool followed the wait; on 512 its
/// sends queued for a connection and the corrected p99 grew past the SLO
/// (152 ms, the window stopped at 0.15 s), the generator's limit read as the
/// server's. The wait is what the workload's light first window answered in,
/// as a search's first window is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_measured_wait_past_512_connections_holds_its_rate() {
    let _serial = SERIAL.lock().await;
    bakeoff_load::raise_open_files_limit();
    let (light, heavy) = the_upstream_light_then_at(12_000.0, None).await;
    assert!(light.as_ref().is_none_or(|o| o.p50_ms >= 50.0), "{light:?}");
    if let Some(o) = heavy {
        if let Some(why) = &o.generator_limited {
            // The pool's limit is what this test is for; a machine whose
            // generator cannot send 12,000 req/s says nothing about it.
            assert!(!why.contains("(its cap)"), "the pool held it: {why}");
            eprintln!("not judged, the generator's own limit: {why}");
            return;
        }
        let j = judge(&o, 12_000.0, 100.0, RateUnit::Requests);
        assert_eq!(j.verdict, StepVerdict::Pass, "{:?} {o:?}", j.reasons);
        assert!(o.p50_ms < 60.0, "{o:?}");
    }
}

/// Where the open-files limit holds the pool under what the rate needs at the
/// server's floor (1,024 files: `json`'s 512), the window is the generator's,
/// not a failure of the server's: 512 connections hold 10,240 req/s at the
/// 50 ms the server answers in (the window, alone, fails: p99 152 ms).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_the_files_hold_under_the_wait_is_the_generators_limit() {
    let _serial = SERIAL.lock().await;
    let (_, heavy) = the_upstream_light_then_at(12_000.0, Some(1_024)).await;
    if let Some(o) = heavy {
        let why = o.generator_limited.clone().unwrap_or_default();
        assert!(why.contains("the generator's 512 connections"), "{o:?}");
        let j = judge(&o, 12_000.0, 100.0, RateUnit::Requests);
        assert_eq!(j.verdict, StepVerdict::GeneratorLimited, "{:?}", j.reasons);
    }
}

/// Against bakeoff's upstream, which answers `/delay?ms=50` in 50 ms: a
/// window at 200 req/s, as a search's light first one, then one at `rate`,
/// on pools that fit `files` open files (the process's limit when none).
async fn the_upstream_light_then_at(
    rate: f64,
    files: Option<u64>,
) -> (Option<Observed>, Option<Observed>) {
    let (generator, _) = cpus();
    let cancel = CancellationToken::new();
    let upstream = Upstream::start(cancel.clone()).await.expect("upstream");
    let mut driver = EngineDriver {
        requests: Some(vec![RequestSpec::get("/delay?ms=50")]),
        ..driver(generator)
    };
    driver.files = files.or(driver.files);
    let base = upstream.base_url();
    let io = HttpWindows {
        driver: &driver,
        contender: "upstream",
        base_url: &base,
        workload: Workload::Io,
        database: None,
    };
    let light = judged(&io, 200.0, generator, &cancel).await;
    let heavy = judged(&io, rate, generator, &cancel).await;
    cancel.cancel();
    upstream.shutdown().await;
    (light, heavy)
}

/// A 2 s window at `rate` that the machine did not stall, of four; `None`
/// only when the machine does stall now.
async fn judged(
    windows: &HttpWindows<'_>,
    rate: f64,
    generator: Option<usize>,
    cancel: &CancellationToken,
) -> Option<Observed> {
    let probe = Probe {
        rate,
        duration: Duration::from_secs(2),
        warmup: Warmup::Fixed(Duration::from_millis(500)),
        purpose: WindowPurpose::Search,
    };
    for _ in 0..4 {
        let o = windows.run(probe, cancel).await.expect("a window");
        if o.stalled.is_none() {
            return Some(o);
        }
        eprintln!("not judged, the machine's: {:?}", o.stalled);
    }
    assert!(machine_stalls(generator), "no window judged");
    None
}
