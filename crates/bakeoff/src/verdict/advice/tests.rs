//! The advisor on hand-built runs: rankings, plans, ties and what is named.

#[test]
fn the_measure_command_names_bases_and_their_runtimes() {
    let names = ["node-fastify", "node-fastify-node22", "python-flask-py313"].map(String::from);
    assert_eq!(
        measure_command(&names, &[Workload::Io, Workload::Ws]),
        "bakeoff run --contenders node-fastify,python-flask --workloads io,ws --python 3.13 --node 22"
    );
}

use super::*;
use crate::verdict::fixture;
use crate::verdict::profile::{parse_pairs, Inputs, Weights};

fn profile(mix: &str, team: &str) -> TeamProfile {
    Inputs {
        mix: Some(parse_pairs(mix, "mix").unwrap()),
        team: Some(team.into()),
        ..Inputs::default()
    }
    .validate(&[], &Ecosystem::builtin().need_names())
    .unwrap()
}

#[test]
fn the_ecosystem_file_is_complete() {
    let eco = Ecosystem::builtin();
    assert!(eco.needs.len() >= 8);
    for (name, need) in &eco.needs {
        for e in [&need.node, &need.python] {
            assert!((0.0..=1.0).contains(&e.strength), "{name}");
            assert!(e.source.starts_with("https://"), "{name} needs a source");
            assert!(!e.libraries.is_empty(), "{name}");
        }
    }
}

#[test]
fn realtime_for_a_js_team_picks_node_with_a_plan() {
    let run = fixture::run();
    let a = advise(&run, &profile("realtime=100", "js"), &Ecosystem::builtin());
    assert_eq!(a.ranking[0].language, Language::Node);
    assert!(
        a.recommendation.contains("node-fastify"),
        "{}",
        a.recommendation
    );
    assert_eq!(a.plan.len(), 4);
    assert!(a.peak_is_default);
    // The evidence is the mix's, in the fan-out's own unit.
    // Every ws cell with a fan-out capacity, as a run measures them.
    let mut run = run;
    for (name, cap) in [
        ("node-fastify", 3000.0),
        ("node-express", 2000.0),
        ("python-fastapi", 1000.0),
    ] {
        let ws = run
            .cells
            .iter_mut()
            .find(|c| c.contender == name && c.workload == Workload::Ws)
            .unwrap();
        ws.capacity = Some(crate::report::fixtures::estimate(cap, cap * 0.03, 3));
    }
    let said = |mix: &str| -> Vec<String> {
        let a = advise(&run, &profile(mix, "js"), &Ecosystem::builtin());
        a.reasons
            .into_iter()
            .filter(|r| r.contains(" sustained "))
            .collect()
    };
    let realtime = said("realtime=100");
    assert_eq!(realtime.len(), 1, "{realtime:?}");
    assert!(
        realtime[0].contains(" msg/s on `ws` (realtime, 100% of your mix) at p99 ≤ 100 ms"),
        "{realtime:?}"
    );
    let said = said("api=70,io=30");
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].contains(" req/s on `json` (api, 70% of your mix)"),
        "{said:?}"
    );
    assert!(
        said[1].contains(" req/s on `io` (30% of your mix)"),
        "{said:?}"
    );
}

#[test]
fn the_capacity_plan_blends_the_mix() {
    let run = fixture::run();
    let mut p = profile("io=50,data=50", "both");
    p.peak_rps = Some(1000.0);
    let a = advise(&run, &p, &Ecosystem::builtin());
    let row = a
        .plan
        .iter()
        .find(|r| r.contender == "python-flask")
        .unwrap();
    // 1 / (0.5/55 + 0.5/350) = 95.06 req/s per core → 11 cores.
    assert!((row.per_core_rps.unwrap() - 95.06).abs() < 0.1, "{row:?}");
    assert_eq!(row.cores, Some(11));
    let fast = a
        .plan
        .iter()
        .find(|r| r.contender == "node-fastify")
        .unwrap();
    assert_eq!(fast.cores, Some(3));
}

#[test]
fn weights_change_the_ranking_as_documented() {
    let run = fixture::run();
    let eco = Ecosystem::builtin();
    let mut p = profile("data=100", "python");
    p.needs = vec!["ml".into(), "data-science".into()];
    let a = advise(&run, &p, &eco);
    assert_eq!(a.ranking[0].language, Language::Python);
    // With only the learning ground and a JS team, Node wins.
    let mut p = profile("data=100", "js");
    p.weights = Weights::default()
        .with_overrides(
            &parse_pairs("performance=0,fit=0,ecosystem=0,learning=100", "weights").unwrap(),
        )
        .unwrap();
    let a = advise(&run, &p, &eco);
    assert_eq!(a.ranking[0].language, Language::Node);
    // With only performance, the data leader (python-fastapi) wins whatever the team.
    p.weights = Weights::default()
        .with_overrides(
            &parse_pairs("performance=100,fit=0,ecosystem=0,learning=0", "weights").unwrap(),
        )
        .unwrap();
    let a = advise(&run, &p, &eco);
    assert_eq!(a.ranking[0].contender, "python-fastapi");
    assert!((a.ranking[0].score - 100.0).abs() < 1e-9);
}

#[test]
fn missing_cells_are_named_with_the_command() {
    let mut run = fixture::run();
    run.cells.retain(|c| c.workload != Workload::Io);
    let a = advise(&run, &profile("io=100", "both"), &Ecosystem::builtin());
    assert!(
        a.missing.contains(&"node-fastify/io".to_string()),
        "{:?}",
        a.missing
    );
    let cmd = a.measure_command.unwrap();
    assert!(
        cmd.starts_with("bakeoff run --contenders ") && cmd.ends_with("--workloads io"),
        "{cmd}"
    );
    assert!(a.plan.iter().all(|r| r.cores.is_none()));
}

#[test]
fn unsupported_is_not_missing_and_scores_zero_fit() {
    let mut run = fixture::run();
    run.cells
        .retain(|c| !(c.contender == "python-flask" && c.workload == Workload::Ws));
    run.contenders
        .iter_mut()
        .find(|c| c.name == "python-flask")
        .unwrap()
        .unsupported
        .insert(crate::model::Endpoint::Ws, "sync".into());
    let a = advise(
        &run,
        &profile("realtime=100", "python"),
        &Ecosystem::builtin(),
    );
    assert!(a.missing.is_empty(), "{:?}", a.missing);
    let flask = a
        .ranking
        .iter()
        .find(|r| r.contender == "python-flask")
        .unwrap();
    assert_eq!(flask.breakdown.fit, 0.0);
    assert_eq!(flask.breakdown.performance, 0.0);
}

/// On a run that measured both databases the advisor ranks and sizes the
/// crud mix on the PostgreSQL figures, and says so.
#[test]
fn the_advisor_uses_the_postgres_figures_when_the_run_has_them() {
    let run = fixture::run_on_both_databases();
    let a = advise(&run, &profile("crud=100", "both"), &Ecosystem::builtin());
    let rank = |name: &str| a.ranking.iter().position(|r| r.contender == name).unwrap();
    // Python leads on PostgreSQL (3,000 vs 1,000 req/s), Node on SQLite.
    assert!(
        rank("python-fastapi") < rank("node-fastify"),
        "{:?}",
        a.ranking
    );
    let plan = |name: &str| a.plan.iter().find(|r| r.contender == name).unwrap();
    assert_eq!(plan("python-fastapi").per_core_rps, Some(3000.0));
    assert_eq!(plan("node-fastify").per_core_rps, Some(1000.0));
    assert!(
        plan("node-fastify").basis.contains("db (on postgres)"),
        "{}",
        plan("node-fastify").basis
    );
    assert!(
        a.caveats
            .iter()
            .any(|c| c.contains("uses the postgres figures")),
        "{:?}",
        a.caveats
    );
    // Without the postgres cells, the same mix ranks on SQLite's.
    let sqlite = fixture::on_sqlite_only(run);
    let a = advise(&sqlite, &profile("crud=100", "both"), &Ecosystem::builtin());
    let plan = a
        .plan
        .iter()
        .find(|r| r.contender == "node-fastify")
        .unwrap();
    assert_eq!(plan.per_core_rps, Some(4000.0));
}

/// The fixture's python-flask io cell.
fn flask_io(run: &mut Run) -> &mut Cell {
    run.cells
        .iter_mut()
        .find(|c| c.contender == "python-flask" && c.workload == Workload::Io)
        .unwrap()
}

/// The caveat naming the cells left out of the ranking's comparisons, if any,
/// and whether python-flask's plan has a per-core capacity.
fn left_out_and_flask_sized(run: &Run) -> (Option<String>, bool) {
    let a = advise(run, &profile("io=100", "both"), &Ecosystem::builtin());
    let caveat = a
        .caveats
        .iter()
        .find(|c| c.starts_with("Not compared on performance") || c.starts_with("Scored nothing"))
        .cloned();
    let flask = a
        .plan
        .iter()
        .find(|r| r.contender == "python-flask")
        .unwrap();
    (caveat, flask.per_core_rps.is_some())
}

/// A cell with machine-noisy trials and clean ones is ranked on the clean
/// ones; with none clean it is named among those left out.
#[test]
fn machine_noisy_cells_rank_on_their_clean_trials_or_are_named() {
    let mut run = fixture::run();
    flask_io(&mut run).flags.push(Flag::MachineNoisy);
    assert_eq!(left_out_and_flask_sized(&run), (None, true));

    flask_io(&mut run).capacity = None;
    let caveat = left_out_and_flask_sized(&run).0.expect("the cell is named");
    assert!(
        caveat.contains("python-flask/io (machine-noisy)"),
        "{caveat}"
    );
}

/// A cell with a failing trial is no capacity to rank on, not even its
/// confirmed trials': it scores nothing, and is named.
#[test]
fn failing_cells_are_left_out_of_the_ranking_and_named() {
    let mut run = fixture::run();
    flask_io(&mut run).flags.push(Flag::Failing);
    let (caveat, sized) = left_out_and_flask_sized(&run);
    let caveat = caveat.expect("the cell is named");
    assert!(caveat.starts_with("Scored nothing"), "{caveat}");
    assert!(caveat.contains("python-flask/io (failing)"), "{caveat}");
    assert!(!sized, "no per-core capacity from a failing cell");
    assert_eq!(performance(&run, "io=100", "python-flask"), 0.0);
}

/// A contender's performance share under `mix`, performance weighted alone.
fn performance(run: &Run, mix: &str, contender: &str) -> f64 {
    let mut p = profile(mix, "both");
    p.weights = Weights::default()
        .with_overrides(
            &parse_pairs("performance=100,fit=0,ecosystem=0,learning=0", "weights").unwrap(),
        )
        .unwrap();
    let a = advise(run, &p, &Ecosystem::builtin());
    a.ranking
        .iter()
        .find(|r| r.contender == contender)
        .unwrap()
        .breakdown
        .performance
}

/// A capacity that is only a lower bound (a trial the generator could not
/// drive to the server's limit, or cut short) is no evidence the server is
/// behind: it scores as the category's best, where it used to score nothing
/// and sink the fastest server of all; unless a long window it failed bounds
/// it clearly below, which is the most it then scores.
#[test]
fn a_lower_bound_scores_as_no_clear_difference_not_as_nothing() {
    use crate::model::{SearchStep, StepPhase, StepVerdict, Trial, TrialOutcome};
    let mut run = fixture::run();
    assert!((performance(&run, "io=100", "python-flask") - 55.0 / 3000.0).abs() < 1e-9);
    let long = |rate: f64, verdict: StepVerdict| SearchStep {
        index: 0,
        phase: StepPhase::Confirm,
        target_rps: rate,
        achieved_rps: rate,
        p99_ms: 1.0,
        error_rate: 0.0,
        verdict,
        duration_s: 5.0,
        reasons: Vec::new(),
    };
    // (outcome, the long failure above its held 55 req/s, the score): the
    // best (node-fastify) holds 3,000.
    let cases = [
        (TrialOutcome::GeneratorLimited, None, 1.0),
        (TrialOutcome::Truncated, None, 1.0),
        (TrialOutcome::Truncated, Some(2_800.0), 1.0),
        (TrialOutcome::Truncated, Some(60.0), 60.0 / 3000.0),
    ];
    for (outcome, failed, score) in cases {
        let io = flask_io(&mut run);
        let mut steps = vec![long(55.0, StepVerdict::Pass)];
        steps.extend(failed.map(|f| long(f, StepVerdict::Fail)));
        io.trials = vec![Trial {
            index: 0,
            capacity_rps: Some(55.0),
            outcome,
            note: None,
            steps,
        }];
        io.flags = match outcome {
            TrialOutcome::Truncated => vec![Flag::Truncated],
            _ => Vec::new(),
        };
        assert!(io.out_of_verdicts().is_some());
        let got = performance(&run, "io=100", "python-flask");
        assert!((got - score).abs() < 1e-9, "{outcome:?} {failed:?}: {got}");
        let (caveat, _) = left_out_and_flask_sized(&run);
        let caveat = caveat.expect("the cell is named");
        assert!(
            caveat.starts_with("Not compared on performance"),
            "{caveat}"
        );
        assert!(caveat.contains("python-flask/io ("), "{caveat}");
    }
}

/// Realtime: a fan-out capacity (msg/s) and a reading (delivered share ÷
/// p99, per ms) are in different units. The capacity is the category's best,
/// and the reading against it is no clear difference, not a score near zero
/// that a single reading decided.
#[test]
fn a_fan_out_capacity_and_a_reading_are_not_compared() {
    let mut run = fixture::run();
    let ws = run
        .cells
        .iter_mut()
        .find(|c| c.contender == "node-express" && c.workload == Workload::Ws)
        .unwrap();
    ws.capacity = Some(crate::report::fixtures::estimate(3000.0, 90.0, 3));
    for other in ["node-fastify", "python-fastapi"] {
        assert_eq!(performance(&run, "realtime=100", other), 1.0, "{other}");
    }
    assert_eq!(performance(&run, "realtime=100", "node-express"), 1.0);
    let a = advise(
        &run,
        &profile("realtime=100", "both"),
        &Ecosystem::builtin(),
    );
    assert!(
        !a.recommendation.starts_with("Indicative (single reading)"),
        "{}",
        a.recommendation
    );
}

/// Single-trial capacities 100 and 110 are no clear difference (within the
/// 25% a single trial needs): both score as the best, and the reasons say so.
#[test]
fn an_untested_lead_is_no_lead() {
    let mut run = fixture::run();
    for c in run.cells.iter_mut().filter(|c| c.workload == Workload::Io) {
        let cap = match c.contender.as_str() {
            "node-fastify" => 110.0,
            "python-fastapi" => 100.0,
            _ => 20.0,
        };
        c.capacity = crate::suite::stats::estimate(&[cap]);
    }
    let mut p = profile("io=100", "both");
    p.weights = Weights::default()
        .with_overrides(
            &parse_pairs("performance=100,fit=0,ecosystem=0,learning=0", "weights").unwrap(),
        )
        .unwrap();
    let a = advise(&run, &p, &Ecosystem::builtin());
    let perf = |name: &str| {
        a.ranking
            .iter()
            .find(|r| r.contender == name)
            .unwrap()
            .breakdown
            .performance
    };
    assert_eq!(perf("node-fastify"), 1.0);
    assert_eq!(perf("python-fastapi"), 1.0);
    assert!((perf("python-flask") - 20.0 / 110.0).abs() < 1e-9);
    assert!(a.indicative);
    assert!(
        a.recommendation
            .starts_with("Indicative (single trial): No clear difference between"),
        "{}",
        a.recommendation
    );
    let says = |lines: &[String], what: &str| lines.iter().any(|l| l.contains(what));
    assert!(
        says(
            &a.reasons,
            "performance at the SLO: no clear difference from"
        ),
        "{:?}",
        a.reasons
    );
    assert!(
        says(&a.caveats, "by Welch's t-test at 5%"),
        "{:?}",
        a.caveats
    );
    assert!(!says(&a.caveats, "none is tested"), "{:?}", a.caveats);
}

/// Fit's p99 at equal load is one reading a cell: 5 vs 9 ms (the fixture) is no
/// difference; 5 vs 90 ms is, and the advice is then indicative.
#[test]
fn fit_differs_only_beyond_what_one_reading_shows() {
    let mut run = fixture::run();
    let fit = |run: &Run| {
        let a = advise(run, &profile("io=100", "both"), &Ecosystem::builtin());
        let f = |name: &str| {
            a.ranking
                .iter()
                .find(|r| r.contender == name)
                .unwrap()
                .breakdown
                .fit
        };
        (f("node-fastify"), f("python-fastapi"), a.indicative)
    };
    assert_eq!(fit(&run), (1.0, 1.0, false));
    let cell = run
        .cells
        .iter_mut()
        .find(|c| c.contender == "python-fastapi" && c.workload == Workload::Io)
        .unwrap();
    cell.equal_load.as_mut().unwrap().latency.p99 = 90.0;
    let (node, python, indicative) = fit(&run);
    assert_eq!(node, 1.0);
    assert!((python - 5.0 / 90.0).abs() < 1e-9, "{python}");
    assert!(indicative);
}
