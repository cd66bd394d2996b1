//! Unit and snapshot tests of the comparison and its renderers.

use super::*;
use crate::model::{Environment, EqualLoad, Estimate, Language};
use crate::report::fixtures::{self, equal_load, estimate, RunBuilder};

/// An ok cell of `workload` at 500 req/s equal load (499 achieved) with this
/// p99 and CPU per request.
fn cell(contender: &str, workload: &str, cap: Estimate, p99: f64, cpu: f64) -> Cell {
    Cell {
        capacity: Some(cap),
        equal_load: Some(EqualLoad {
            achieved_rps: 499.0,
            cpu_ms_per_request: Some(cpu),
            ..equal_load(500.0, p99, 0)
        }),
        ..fixtures::cell(contender, Workload::from_name(workload))
    }
}

fn run(id: i64, cells: Vec<Cell>) -> Run {
    RunBuilder::new()
        .id(id)
        .times(&format!("2026-11-2{id}T10:00:00Z"), None)
        .environment(Environment::default())
        .cells(cells)
        .build()
}

/// A: baseline. B: fastify json lost 20% capacity (significant), flask json
/// is within noise, express io failed, and one cell on each side is unmatched.
fn pair() -> (Run, Run) {
    let a = listed(
        1,
        vec![
            cell(
                "node-fastify",
                "json",
                estimate(10000.0, 200.0, 3),
                2.0,
                0.05,
            ),
            cell("python-flask", "json", estimate(1000.0, 50.0, 3), 20.0, 0.9),
            cell("node-express", "io", estimate(3000.0, 100.0, 3), 55.0, 0.1),
            cell(
                "node-express",
                "json",
                estimate(5000.0, 100.0, 3),
                3.0,
                0.08,
            ),
        ],
    );
    let mut failed = cell("node-express", "io", estimate(0.0, 0.0, 1), 0.0, 0.0);
    failed.status = CellStatus::Failed {
        reason: "crashed (exit 137)".into(),
    };
    failed.capacity = None;
    failed.equal_load = None;
    let mut a = a;
    a.environment.cores = 2;
    let mut b = listed(
        2,
        vec![
            cell(
                "node-fastify",
                "json",
                estimate(8000.0, 200.0, 3),
                2.2,
                0.05,
            ),
            cell(
                "python-flask",
                "json",
                estimate(1020.0, 50.0, 3),
                19.0,
                0.95,
            ),
            failed,
            cell(
                "python-fastapi",
                "json",
                estimate(4000.0, 100.0, 3),
                4.0,
                0.2,
            ),
        ],
    );
    b.environment.cores = 4;
    (a, b)
}

#[test]
fn deltas_marks_and_unmatched_cells() {
    let (a, b) = pair();
    let c = Comparison::new(&a, &b, None);
    assert_eq!(c.cells.len(), 3);
    let fastify = c
        .cells
        .iter()
        .find(|x| x.key.contender == "node-fastify")
        .unwrap();
    assert!((fastify.capacity.delta_pct.unwrap() + 20.0).abs() < 1e-9);
    assert_eq!(fastify.capacity.mark, Mark::Significant);
    assert!((fastify.p99_ms.delta_pct.unwrap() - 10.0).abs() < 1e-9);
    assert_eq!(fastify.p99_ms.mark, Mark::NotApplicable);
    let flask = c
        .cells
        .iter()
        .find(|x| x.key.contender == "python-flask")
        .unwrap();
    assert_eq!(flask.capacity.mark, Mark::Overlap);
    assert_eq!(c.only_a.len(), 1);
    assert_eq!(c.only_a[0].contender, "node-express");
    assert_eq!(c.only_b[0].contender, "python-fastapi");
    // No threshold: never a regression.
    assert!(!c.regressed());
    assert_eq!(c.caveats, ["cores differs: 2 (A) vs 4 (B)"]);
}

#[test]
fn the_gate_fails_on_each_metric_and_on_a_new_failure() {
    let (a, b) = pair();
    // 25%: fastify's -20% capacity and +10% p99 pass; express io failed in B.
    let c = Comparison::new(&a, &b, Some(25.0));
    let failing: Vec<&str> = c
        .cells
        .iter()
        .filter(|x| !x.regressions.is_empty())
        .map(|x| x.key.contender.as_str())
        .collect();
    assert_eq!(failing, ["node-express"]);
    // 5%: fastify now fails on capacity and p99; flask on CPU (+5.6%).
    let c = Comparison::new(&a, &b, Some(5.0));
    let fastify = c
        .cells
        .iter()
        .find(|x| x.key.contender == "node-fastify")
        .unwrap();
    assert_eq!(fastify.regressions, ["capacity -20.0%", "p99 +10.0%"]);
    let flask = c
        .cells
        .iter()
        .find(|x| x.key.contender == "python-flask")
        .unwrap();
    assert_eq!(flask.regressions, ["CPU per request +5.6%"]);
    // An improvement never fails the gate: compare B → A.
    let c = Comparison::new(&b, &a, Some(5.0));
    let fastify = c
        .cells
        .iter()
        .find(|x| x.key.contender == "node-fastify")
        .unwrap();
    assert!(fastify.regressions.is_empty());
}

#[test]
fn single_trials_have_no_significance() {
    let a = run(
        1,
        vec![cell("a", "json", estimate(100.0, 0.0, 1), 1.0, 1.0)],
    );
    let b = run(2, vec![cell("a", "json", estimate(50.0, 0.0, 1), 1.0, 0.0)]);
    let c = Comparison::new(&a, &b, Some(10.0));
    assert_eq!(c.cells[0].capacity.mark, Mark::NotApplicable);
    assert_eq!(c.cells[0].cpu_ms_per_request.delta_pct, Some(-100.0));
    // A zero baseline has no percentage.
    let c = Comparison::new(&b, &a, Some(10.0));
    assert_eq!(c.cells[0].cpu_ms_per_request.delta_pct, None);
    assert!(c.cells[0].regressions.is_empty());
}

#[test]
fn cpu_not_measured_is_no_change_and_no_number() {
    let a = run(
        1,
        vec![cell("a", "json", estimate(100.0, 0.0, 1), 1.0, 1.0)],
    );
    let mut unmeasured = cell("a", "json", estimate(100.0, 0.0, 1), 1.0, 1.0);
    unmeasured.equal_load.as_mut().unwrap().cpu_ms_per_request = None;
    let b = run(2, vec![unmeasured]);
    let c = Comparison::new(&a, &b, Some(10.0));
    let m = &c.cells[0].cpu_ms_per_request;
    assert_eq!((m.a, m.b, m.delta_pct), (Some(1.0), None, None));
    assert!(c.cells[0].regressions.is_empty());
}

fn rendered(c: &Comparison, f: Format) -> String {
    let mut out = Vec::new();
    render(c, f, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn text_snapshot() {
    let (a, b) = pair();
    insta::assert_snapshot!(rendered(&Comparison::new(&a, &b, Some(5.0)), Format::Text));
}

#[test]
fn markdown_snapshot() {
    let (a, b) = pair();
    insta::assert_snapshot!(rendered(&Comparison::new(&a, &b, None), Format::Md));
}

/// The page without its style sheet (the run report's, snapshot there).
#[test]
fn html_snapshot() {
    let (a, b) = pair();
    let page = rendered(&Comparison::new(&a, &b, Some(5.0)), Format::Html);
    let start = page.find("<style>").unwrap();
    let end = page.find("</style>").unwrap() + "</style>".len();
    insta::assert_snapshot!(format!("{}{}", &page[..start], &page[end..]));
}

/// Whatever a manifest or a stored note carries reaches the page as text:
/// a contender's name, a caveat, a failed cell's reason.
#[test]
fn the_html_page_escapes_what_the_runs_carry() {
    let evil = "x<script>alert(1)</script>&\"'";
    let mut a = run(
        1,
        vec![cell(evil, "json", estimate(100.0, 1.0, 3), 1.0, 0.1)],
    );
    let mut b = run(
        2,
        vec![cell(evil, "json", estimate(50.0, 1.0, 3), 1.0, 0.1)],
    );
    b.cells[0].status = CellStatus::Failed {
        reason: "<img src=x onerror=alert(2)>".into(),
    };
    b.cells[0].capacity = None;
    a.settings.slo_p99_ms = 100.0;
    b.settings.slo_p99_ms = 250.0;
    let c = Comparison::new(&a, &b, Some(5.0));
    assert!(!c.caveats.is_empty(), "the SLOs differ: a caveat");
    let page = rendered(&c, Format::Html);
    for raw in ["<script>", "<img", "onerror=alert(2)>"] {
        assert!(!page.contains(raw), "{raw} unescaped in {page}");
    }
    assert!(
        page.contains("x&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;"),
        "{page}"
    );
    assert!(
        page.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(
        page.contains("<h2 class=\"state-failed\">REGRESSIONS beyond 5%"),
        "{page}"
    );
}

#[test]
fn no_common_cells() {
    let a = run(
        1,
        vec![cell("a", "json", estimate(100.0, 0.0, 1), 1.0, 1.0)],
    );
    let b = run(2, Vec::new());
    insta::assert_snapshot!(rendered(&Comparison::new(&a, &b, Some(5.0)), Format::Text));
}

#[test]
fn different_equal_load_rates_are_named_and_not_gated() {
    let (a, mut b) = pair();
    // flask json: p99 doubled, but at a different equal-load rate.
    let el = b.cells[1].equal_load.as_mut().unwrap();
    el.target_rps = 620.0;
    el.latency.p99 *= 2.0;
    let c = Comparison::new(&a, &b, Some(5.0));
    let flask = c
        .cells
        .iter()
        .find(|x| x.key.contender == "python-flask")
        .unwrap();
    assert_eq!(flask.rates_differ, Some((500.0, 620.0)));
    // Both p99s are shown, with no change between them.
    assert!(flask.p99_ms.b.unwrap() > 1.5 * flask.p99_ms.a.unwrap());
    assert_eq!(flask.p99_ms.delta_pct, None);
    assert_eq!(flask.cpu_ms_per_request.delta_pct, None);
    assert!(
        flask.regressions.iter().all(|r| !r.starts_with("p99")),
        "{:?}",
        flask.regressions
    );
    let text = rendered(&c, Format::Text);
    assert!(text.contains("Equal-load rates differ"), "{text}");
    assert!(
        text.contains("python-flask json ×1: 500 req/s (A) vs 620 req/s (B)"),
        "{text}"
    );
    // Same rates: nothing said.
    let (a, b) = pair();
    let c = Comparison::new(&a, &b, None);
    assert!(c.cells.iter().all(|x| x.rates_differ.is_none()));
    assert!(!rendered(&c, Format::Text).contains("Equal-load rates differ"));
}

#[test]
fn a_sqlite_run_against_a_postgres_run_says_the_database_differs() {
    let (a, mut b) = pair();
    b.settings.database = crate::database::Database::Postgres;
    let c = Comparison::new(&a, &b, None);
    assert!(
        c.caveats
            .iter()
            .any(|x| x == "database differs: sqlite (A) vs postgres (B)"),
        "{:?}",
        c.caveats
    );
}

#[test]
fn a_capacity_left_out_of_verdicts_is_named_and_not_gated() {
    let a = run(
        1,
        vec![cell("a", "json", estimate(1000.0, 10.0, 3), 1.0, 1.0)],
    );
    let mut truncated = cell("a", "json", estimate(600.0, 10.0, 3), 1.0, 1.0);
    truncated.flags.push(Flag::Truncated);
    let b = run(2, vec![truncated]);
    let c = Comparison::new(&a, &b, Some(10.0));
    let cell = &c.cells[0];
    assert_eq!(
        cell.capacity.b, None,
        "a truncated capacity is a lower bound"
    );
    assert_eq!(cell.capacity.mark, Mark::NotApplicable);
    assert!(cell.regressions.is_empty(), "{:?}", cell.regressions);
    let text = rendered(&c, Format::Text);
    assert!(
        text.contains("a json ×1 in B: truncated: left out of verdicts"),
        "{text}"
    );

    // A server that now answers mostly with errors has no capacity to judge
    // either, but it is a regression; failing in both runs, it is not a new one.
    let mut failing = self::cell("a", "json", estimate(990.0, 10.0, 3), 1.0, 1.0);
    failing.flags.push(Flag::Failing);
    let b = run(2, vec![failing.clone()]);
    let c = Comparison::new(&a, &b, Some(10.0));
    assert_eq!(
        c.cells[0].regressions,
        ["was serving, now failing: a trial answered mostly with errors"]
    );
    assert!(c.regressed());
    let c = Comparison::new(&run(1, vec![failing]), &b, Some(10.0));
    assert!(c.cells[0].regressions.is_empty());
    assert!(Comparison::new(&a, &b, None).cells[0]
        .regressions
        .is_empty());
}

/// Two runs whose drift-probe medians are more than 5% apart ran on a machine
/// of another speed: the comparison says so with both readings; within 5%, or
/// with either run's readings missing (stored before they were kept), not.
#[test]
fn a_machine_of_another_speed_is_a_caveat() {
    let speed = |median: f64| ProbeSummary {
        readings: 40,
        median,
        min: median * 0.7,
        max: median * 1.1,
    };
    let with = |id, s: Option<ProbeSummary>| {
        let mut r = run(id, vec![]);
        r.environment.core_speed = s;
        r
    };
    let c = Comparison::new(
        &with(1, Some(speed(600.0))),
        &with(2, Some(speed(480.0))),
        None,
    );
    assert_eq!(
        c.caveats,
        ["the contender's core ran 20% slower in B (drift probe: 600 M loop iterations/s (median of 40 readings, 420–660) in A, 480 M loop iterations/s (median of 40 readings, 336–528) in B): capacities move with the machine, so changes of about that size may be its, not the servers'"]
    );
    let c = Comparison::new(
        &with(1, Some(speed(600.0))),
        &with(2, Some(speed(650.0))),
        None,
    );
    assert!(
        c.caveats[0].contains("ran 8% faster in B"),
        "{:?}",
        c.caveats
    );
    for (a, b) in [
        (Some(speed(600.0)), Some(speed(620.0))),
        (None, Some(speed(480.0))),
        (Some(speed(600.0)), None),
    ] {
        let c = Comparison::new(&with(1, a), &with(2, b), None);
        assert!(c.caveats.is_empty(), "{:?}", c.caveats);
    }
    // The generator's core is read and compared too: the contender's the
    // same, the generator's a quarter slower in B.
    let (mut a, mut b) = (with(1, Some(speed(600.0))), with(2, Some(speed(600.0))));
    a.environment.generator_core_speed = Some(speed(600.0));
    b.environment.generator_core_speed = Some(speed(450.0));
    let c = Comparison::new(&a, &b, None);
    assert_eq!(c.caveats.len(), 1, "{:?}", c.caveats);
    assert!(
        c.caveats[0].starts_with("the generator's core ran 25% slower in B (drift probe: 600"),
        "{:?}",
        c.caveats
    );
    // And the loopback between the cores, in its own unit: both cores' loops
    // the same, the round trips a fifth slower in B (a host whose memory and
    // kernel path slowed while the integer loop did not).
    a.environment.generator_core_speed = Some(speed(600.0));
    b.environment.generator_core_speed = Some(speed(600.0));
    a.environment.loopback_speed = Some(speed(90.0));
    b.environment.loopback_speed = Some(speed(72.0));
    let c = Comparison::new(&a, &b, None);
    assert_eq!(
        c.caveats,
        ["the loopback between the cores ran 20% slower in B (loopback probe: 90 k round trips/s (median of 40 readings, 63–99) in A, 72 k round trips/s (median of 40 readings, 50–79) in B): capacities move with the machine, so changes of about that size may be its, not the servers'"]
    );
    b.environment.loopback_speed = Some(speed(88.0));
    assert!(Comparison::new(&a, &b, None).caveats.is_empty());
}

/// Runs of `cells` whose contenders the run lists with their languages
/// (fixtures' versions: Node.js v22.x, CPython 3.12.x, framework 1.0.0).
fn listed(id: i64, cells: Vec<Cell>) -> Run {
    let mut r = run(id, cells);
    for name in [
        "node-fastify",
        "node-express",
        "python-flask",
        "python-fastapi",
    ] {
        let language = if name.starts_with("node") {
            Language::Node
        } else {
            Language::Python
        };
        r.contenders.push(fixtures::contender(name, language));
    }
    r
}

/// Capacities (node-fastify json, node-express json, python-flask json) in
/// one run, three trials each.
fn three(id: i64, caps: [f64; 3]) -> Run {
    let names = ["node-fastify", "node-express", "python-flask"];
    let cells = names
        .iter()
        .zip(caps)
        .map(|(n, c)| cell(n, "json", estimate(c, c * 0.02, 3), 2.0, 0.05))
        .collect();
    listed(id, cells)
}

fn shift_caveats(c: &Comparison) -> Vec<&String> {
    c.caveats
        .iter()
        .filter(|s| s.starts_with("every capacity moved"))
        .collect()
}

/// Every capacity of both languages up (or down) by more than 5% is named
/// as a shift they share, with its range; one cell within 5%, cells moving
/// both ways, a single language, or fewer than three cells are not.
#[test]
fn a_shift_every_contender_shares_is_named() {
    let a = three(1, [10_000.0, 5_000.0, 1_000.0]);
    let c = Comparison::new(&a, &three(2, [12_000.0, 5_400.0, 1_100.0]), None);
    assert_eq!(
        shift_caveats(&c),
        ["every capacity moved the same way, up by 8% to 20% in B (3 cells of 3 contenders, in 2 languages): a change every contender shares is more likely the machine's, or bakeoff's, than each server's; a host can move a whole run without its probes seeing it, while each run's own Node.js ÷ Python ratio sets the languages side by side on one machine (docs/methodology.md, \"How many trials, and what two runs can agree on\")"]
    );
    let c = Comparison::new(&a, &three(2, [8_000.0, 4_500.0, 850.0]), None);
    assert!(
        shift_caveats(&c)[0].contains("down by 10% to 20% in B"),
        "{:?}",
        c.caveats
    );
    for b in [[12_000.0, 5_400.0, 1_040.0], [12_000.0, 4_000.0, 1_100.0]] {
        let c = Comparison::new(&a, &three(2, b), None);
        assert!(shift_caveats(&c).is_empty(), "{b:?}: {:?}", c.caveats);
    }
    // Node.js alone: a change of its runtime moves every Node.js cell.
    let node_only = |id, caps: [f64; 3]| {
        let mut r = three(id, caps);
        let python = r.cells.iter_mut().find(|c| c.contender == "python-flask");
        python.expect("in three").contender = "node-http".into();
        r.contenders
            .push(fixtures::contender("node-http", Language::Node));
        r
    };
    let c = Comparison::new(
        &node_only(1, [10_000.0, 5_000.0, 1_000.0]),
        &node_only(2, [12_000.0, 6_000.0, 1_200.0]),
        None,
    );
    assert_eq!(c.cells.len(), 3);
    assert!(shift_caveats(&c).is_empty(), "{:?}", c.caveats);
    // A cell left out of verdicts in either run is not read, even where its
    // capacity moved the other way.
    let fastapi = |cap: f64| cell("python-fastapi", "json", estimate(cap, 40.0, 3), 2.0, 0.1);
    let mut a4 = three(1, [10_000.0, 5_000.0, 1_000.0]);
    a4.cells.push(fastapi(2_000.0));
    let mut b4 = three(2, [12_000.0, 5_400.0, 1_100.0]);
    b4.cells.push(Cell {
        flags: vec![Flag::Truncated],
        ..fastapi(1_500.0)
    });
    let c = Comparison::new(&a4, &b4, None);
    assert_eq!(c.cells.len(), 4);
    assert!(
        shift_caveats(&c)[0].contains("up by 8% to 20% in B (3 cells of 3 contenders"),
        "{:?}",
        c.caveats
    );
}

/// A contender on another runtime or framework version in B is named with
/// both versions; the same versions say nothing.
#[test]
fn a_contender_on_other_versions_is_a_caveat() {
    let a = three(1, [10_000.0, 5_000.0, 1_000.0]);
    let mut b = three(2, [10_000.0, 5_000.0, 1_000.0]);
    assert!(Comparison::new(&a, &b, None).caveats.is_empty());
    let fastify = b.contenders.iter_mut().find(|c| c.name == "node-fastify");
    let fastify = fastify.expect("listed");
    fastify.runtime_version = "v24.1.0".into();
    fastify.framework_version = "5.2.0".into();
    let c = Comparison::new(&a, &b, None);
    let ra = crate::report::runtimes::runtime_label(a.contender("node-fastify").unwrap());
    assert_eq!(
        c.caveats,
        [
            format!("node-fastify's runtime differs: {ra} (A) vs Node.js v24.1.0 (B)"),
            "node-fastify's framework differs: fastify 1.0.0 (A) vs fastify 5.2.0 (B)".into(),
        ]
    );
}

/// Each run's headline ratio, as its report pairs them (the best Node.js
/// over the best Python), is set beside the other run's and rendered.
#[test]
fn each_runs_headline_ratio_is_set_beside_the_others() {
    let a = three(1, [10_000.0, 5_000.0, 1_000.0]);
    let b = three(2, [9_000.0, 9_500.0, 1_250.0]);
    let c = Comparison::new(&a, &b, None);
    assert_eq!(c.ratios.len(), 1, "{:?}", c.ratios);
    let r = &c.ratios[0];
    assert_eq!(r.label, "json");
    assert!(
        (r.a - 10.0).abs() < 1e-9 && (r.b - 7.6).abs() < 1e-9,
        "{r:?}"
    );
    assert!((r.delta_pct + 24.0).abs() < 1e-9, "{r:?}");
    let text = rendered(&c, Format::Text);
    assert!(
        text.contains("  json: 10.00x (A) vs 7.60x (B), -24.0% (A: node-fastify ÷ python-flask; B: node-express ÷ python-flask)"),
        "{text}"
    );
    // A zero Node.js capacity in A leaves no change to state (no infinity).
    let zero = three(1, [0.0, 0.0, 1_000.0]);
    assert!(Comparison::new(&zero, &b, None).ratios.is_empty());
    // Without a Python side in B there is no ratio to compare.
    let mut b = b;
    b.cells.retain(|c| c.contender.starts_with("node"));
    assert!(Comparison::new(&a, &b, None).ratios.is_empty());
}

/// `--format json`: the comparison's own fields and the gate's outcome, valid
/// against `docs/schema/compare.json`'s schema, which refuses a field it does
/// not name.
#[test]
fn the_json_document_fits_its_schema() {
    let (a, b) = pair();
    let c = Comparison::new(&a, &b, Some(5.0));
    let doc: serde_json::Value = serde_json::from_str(&rendered(&c, Format::Json)).unwrap();
    let schema = compare_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc["regressed"], true);
    assert_eq!(doc["threshold_pct"], 5.0);
    assert_eq!(
        (doc["a"]["id"].clone(), doc["b"]["id"].clone()),
        (1.into(), 2.into())
    );
    let cells = doc["cells"].as_array().unwrap();
    let fastify = cells
        .iter()
        .find(|c| c["key"]["contender"] == "node-fastify")
        .unwrap();
    assert_eq!(fastify["key"]["workload"], "json");
    assert_eq!(fastify["rate_unit"], "req/s");
    assert_eq!(fastify["capacity"]["a"], 10_000.0);
    assert_eq!(fastify["capacity"]["b"], 8_000.0);
    let delta = fastify["capacity"]["delta_pct"].as_f64().unwrap();
    assert!((delta + 20.0).abs() < 1e-9, "{delta}");
    assert_eq!(fastify["capacity"]["mark"], "significant");
    assert_eq!(fastify["regressions"][0], "capacity -20.0%");
    assert_eq!(doc["ratios"][0]["label"], "json");
    assert_eq!(doc["only_a"][0]["contender"], "node-express");
    let mut bad = doc.clone();
    bad["extra"] = 1.into();
    assert!(!validator.is_valid(&bad));
}
