//! The renderers on the fixture run: text and Markdown snapshots, JSON round
//! trip (and schema, once checked in), and the HTML page's structure, escaping
//! and self-containment; plus `bakeoff report` end to end.

use std::collections::BTreeMap;

use bakeoff::model::{CellStatus, Endpoint, Run};
use bakeoff::report::{self, fixtures::sample_run, HtmlExtras};

use crate::store::fixtures::store_run;

/// The charts the fixture's page must carry, listed from the fixture's shape
/// (not from the renderer): per-workload charts plus three per measured HTTP cell.
pub(crate) fn expected_charts(run: &Run) -> Vec<String> {
    let mut out: Vec<String> = [
        "capacity-json",
        "capacity-io",
        "capacity-cpu-mixed",
        "capacity-ws",
        "capacity-startup",
        "spectrum-json",
        "service-json",
        "spectrum-io",
        "service-io",
        "spectrum-cpu-mixed",
        "service-cpu-mixed",
        "cost-cpu",
        "cost-cpu-marginal",
        "cost-rss",
        "cost-ws-memory",
        "scaling-json",
        "fanout-ws",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in run
        .cells
        .iter()
        .filter(|c| c.status.is_ok() && !c.trials.is_empty())
    {
        for kind in ["search", "timeline-rps", "timeline-p99"] {
            out.push(format!(
                "{kind}-{}-{}-w{}",
                c.contender, c.workload, c.workers
            ));
        }
    }
    out
}

/// `data-chart` name -> number of `class="mark"` elements inside that SVG.
pub(crate) fn chart_marks(html: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let mut rest = html;
    while let Some(i) = rest.find("<svg ") {
        rest = &rest[i..];
        let end = rest.find("</svg>").expect("every svg is closed");
        let svg = &rest[..end];
        let name = svg
            .split("data-chart=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("every svg has data-chart")
            .to_string();
        let marks = svg.matches("class=\"mark\"").count();
        assert!(
            out.insert(name.clone(), marks).is_none(),
            "chart {name} appears twice"
        );
        rest = &rest[end..];
    }
    out
}

fn text(run: &Run, color: bool) -> String {
    let mut out = Vec::new();
    report::render_text(run, color, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

pub(crate) fn html(run: &Run, extras: &HtmlExtras) -> String {
    let mut out = Vec::new();
    report::render_html(run, extras, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

pub(crate) fn markdown(run: &Run) -> String {
    let mut out = Vec::new();
    report::render_markdown(run, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// `bakeoff report --format json`'s document of `run`.
pub(crate) fn json(run: &Run) -> serde_json::Value {
    let mut out = Vec::new();
    report::render_json(run, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// The checked-in `docs/schema/run.json`, compiled.
pub(crate) fn run_schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema/run.json");
    let schema = std::fs::read_to_string(path).expect("docs/schema/run.json is checked in");
    let schema: serde_json::Value = serde_json::from_str(&schema).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// `doc` fits `docs/schema/run.json`, or the test fails naming every violation.
pub(crate) fn assert_fits_run_schema(doc: &serde_json::Value) {
    let errors: Vec<String> = run_schema()
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "the document violates docs/schema/run.json: {errors:#?}"
    );
}

#[test]
fn text_report_snapshot() {
    let out = text(&sample_run(), false);
    assert!(!out.contains('\x1b'), "no colour when not asked");
    insta::assert_snapshot!("text_report", out);
}

#[test]
fn text_report_colours_only_when_asked() {
    let run = sample_run();
    let coloured = text(&run, true);
    assert!(
        coloured.contains("\x1b[32m"),
        "best-of-language rows are green"
    );
    let stripped = coloured
        .split('\x1b')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.split_once('m').map_or(part, |(_, rest)| rest)
            }
        })
        .collect::<String>();
    assert_eq!(
        stripped,
        text(&run, false),
        "colour changes nothing but escapes"
    );
}

#[test]
fn markdown_report_snapshot() {
    insta::assert_snapshot!("markdown_report", markdown(&sample_run()));
}

#[test]
fn json_report_is_the_whole_run() {
    let run = sample_run();
    let mut out = Vec::new();
    report::render_json(&run, &mut out).unwrap();
    let back: Run = serde_json::from_slice(&out).unwrap();
    let expected = serde_json::to_value(&run).unwrap();
    assert_json_close(&serde_json::to_value(&back).unwrap(), &expected, "$");
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_fits_run_schema(&doc);
    let validator = run_schema();
    // Strict: the derived `indicative` is required, and no field may be added.
    let mut missing = doc.clone();
    missing["cells"][0]["capacity"]
        .as_object_mut()
        .unwrap()
        .remove("indicative");
    assert!(!validator.is_valid(&missing));
    let mut extra = doc;
    extra["runtime_versions"]["colour"] = "blue".into();
    assert!(!validator.is_valid(&extra));
}

#[test]
fn html_has_every_chart_with_marks() {
    let run = sample_run();
    let page = html(&run, &HtmlExtras::default());
    let marks = chart_marks(&page);
    for name in expected_charts(&run) {
        let n = marks
            .get(&name)
            .copied()
            .unwrap_or_else(|| panic!("chart {name} missing; have {:?}", marks.keys()));
        assert!(n > 0, "chart {name} has no data marks");
    }
    // Capacity bars: one per measured cell of that workload.
    assert_eq!(marks["capacity-json"], 8);
    assert_eq!(marks["capacity-cpu-mixed"], 3);
    assert_eq!(marks["capacity-ws"], 3);
}

#[test]
fn html_is_self_contained() {
    let page = html(&sample_run(), &HtmlExtras::default());
    for needle in [
        "http://", "https://", "<script", "<link", "<img", "@import", "url(http", "//cdn",
    ] {
        assert!(!page.contains(needle), "page contains {needle}");
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Content-Security-Policy"));
    assert_eq!(page.matches("<svg").count(), page.matches("</svg>").count());
}

#[test]
fn html_escapes_everything_from_the_run() {
    let mut run = sample_run();
    let evil = "<script>alert('x')</script> & \"quoted\"";
    run.cells[1].status = CellStatus::Failed {
        reason: evil.into(),
    };
    run.contenders[0].disclosures.push(evil.into());
    run.contenders[1]
        .unsupported
        .insert(Endpoint::Ws, format!("<u>ws</u> {evil}"));
    run.environment.cpu_model = evil.into();
    let page = html(&run, &HtmlExtras::default());
    assert!(!page.contains("<script"), "raw script tag leaked");
    assert!(!page.contains("<u>ws</u>"));
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;")
    );
    assert!(
        !markdown(&run).contains("<script"),
        "Markdown escapes HTML too"
    );
}

#[test]
fn html_extras_appear_only_when_given() {
    let run = sample_run();
    let plain = html(&run, &HtmlExtras::default());
    assert!(!plain.contains("id=\"claims\"") && !plain.contains("id=\"advice\""));
    let extras = HtmlExtras {
        claims_html: Some("<p class=\"claims-probe\">claims</p>".into()),
        advice_html: Some("<p class=\"advice-probe\">advice</p>".into()),
        ..HtmlExtras::default()
    };
    let page = html(&run, &extras);
    assert!(page.contains("id=\"claims\"") && page.contains("claims-probe"));
    assert!(page.contains("id=\"advice\"") && page.contains("advice-probe"));
}

/// The sample run with python-flask measured as variant `sync` of python-flask.
fn run_with_a_variant() -> Run {
    let mut run = sample_run();
    let name = "python-flask@sync";
    for c in run
        .contenders
        .iter_mut()
        .filter(|c| c.name == "python-flask")
    {
        c.name = name.into();
        c.disclosures
            .push("WORKER_CLASS=sync: 2N+1 sync workers".into());
        c.variant = Some(bakeoff::model::VariantInfo {
            of: "python-flask".into(),
            name: "sync".into(),
            description: "gunicorn sync workers, no keep-alive".into(),
        });
    }
    for cell in run
        .cells
        .iter_mut()
        .filter(|c| c.contender == "python-flask")
    {
        cell.contender = name.into();
    }
    run
}

#[test]
fn every_report_labels_a_variant_and_shows_its_disclosures() {
    let run = run_with_a_variant();
    let label = "python-flask@sync — variant of python-flask: gunicorn sync workers, no keep-alive";
    for out in [text(&run, false), markdown(&run)] {
        assert!(out.contains(label), "{out}");
        let at = out.find(label).unwrap();
        assert!(
            out[at..].contains("WORKER_CLASS=sync: 2N+1 sync workers"),
            "the variant's disclosures follow its label: {out}"
        );
    }
    let page = html(&run, &HtmlExtras::default());
    assert!(
        page.contains(&format!(
            "<h3 id=\"disclosures-python-flask@sync\">{label}</h3>"
        )),
        "disclosure heading"
    );
    assert!(
        page.contains("<a href=\"#disclosures-python-flask@sync\" title=\"its disclosures\">python-flask@sync</a>"),
        "the name in the numbers links to the disclosures"
    );
    assert!(
        page.contains("python-flask@sync<br><span class=\"muted\">variant of python-flask: gunicorn sync workers, no keep-alive</span>"),
        "contenders table"
    );
    assert!(page.contains("WORKER_CLASS=sync: 2N+1 sync workers"));
}

#[test]
fn html_links_the_fairness_review() {
    let page = html(&sample_run(), &HtmlExtras::default());
    assert!(
        page.contains("<code>docs/fairness.md</code> in the bakeoff repository"),
        "named without a link when the file is not found"
    );
    let extras = HtmlExtras {
        fairness_doc: Some("/repo/docs/fairness.md".into()),
        ..HtmlExtras::default()
    };
    let page = html(&sample_run(), &extras);
    assert!(
        page.contains("<a href=\"file:///repo/docs/fairness.md\">docs/fairness.md</a>"),
        "linked when found"
    );
}

#[test]
fn html_shows_headline_failures_and_disclosures() {
    let page = html(&sample_run(), &HtmlExtras::default());
    assert!(page.contains("exit status 137"), "failed reason shown");
    assert!(
        page.contains("Flask has no WebSocket support"),
        "skip reason shown"
    );
    assert!(page.contains("keep-alive is off"), "disclosure shown");
    assert!(
        page.contains("Node/Python: node-fastify"),
        "headline names the best of each language"
    );
    assert!(page.contains("Sample CPU @ 3.00GHz"), "environment shown");
    assert!(
        page.contains("light requests only"),
        "cpu-mixed light percentiles shown"
    );
    assert!(
        page.contains("<td class=\"num warn\">12</td>"),
        "lost broadcasts stand out"
    );
}

#[test]
fn write_html_report_writes_under_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run();
    let path = report::write_html_report(&run, dir.path()).unwrap();
    assert_eq!(path, dir.path().join("run-7").join("report.html"));
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, html(&run, &HtmlExtras::default()));
}

#[test]
fn cli_report_names_a_missing_database_problem() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the database file should be: unusable whatever the store does.
    let db = dir.path().join("db-is-a-dir");
    std::fs::create_dir(&db).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["report", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("db-is-a-dir"),
        "the error names the database: {err}"
    );
}

/// End to end through the SQLite store: store a run, then render it via the CLI.
#[test]
fn cli_report_renders_a_stored_run() {
    use bakeoff::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bakeoff.db");
    let id = store_run(&mut Store::open(&db).unwrap(), &sample_run());
    let stored = Store::open(&db).unwrap().load_run(id).unwrap();
    let bin = env!("CARGO_BIN_EXE_bakeoff");
    let md = std::process::Command::new(bin)
        .args(["report", "latest", "--format", "md", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        md.status.success(),
        "{}",
        String::from_utf8_lossy(&md.stderr)
    );
    assert_eq!(String::from_utf8(md.stdout).unwrap(), markdown(&stored));
    let html = std::process::Command::new(bin)
        .args(["report", &id.to_string(), "--format", "html", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        html.status.success(),
        "{}",
        String::from_utf8_lossy(&html.stderr)
    );
    let path = dir.path().join(format!("run-{id}")).join("report.html");
    assert_eq!(
        String::from_utf8_lossy(&html.stdout).trim(),
        path.display().to_string()
    );
    assert!(path.exists());
    let missing = std::process::Command::new(bin)
        .args(["report", "999", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(
        missing.status.code(),
        Some(2),
        "an unknown run is bad input"
    );
}

/// JSON equality, with floats equal to 1e-12 relative (text round trips may move the last bit).
fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                "{at}: {x} != {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: lengths differ");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_json_close(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}: keys differ"
            );
            for (k, v) in x {
                assert_json_close(v, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

/// Degenerate runs (no cells; every figure zero or NaN) render in every format
/// without panicking, and the page stays self-contained.
#[test]
fn degenerate_runs_render_everywhere() {
    let mut empty = sample_run();
    empty.cells.clear();
    let mut nan = sample_run();
    for c in &mut nan.cells {
        if let Some(e) = c.capacity.as_mut() {
            (e.median, e.ci_low, e.ci_high) = (f64::NAN, 0.0, f64::INFINITY);
        }
        if let Some(el) = c.equal_load.as_mut() {
            el.spectrum = vec![[0.5, 0.0], [0.99, f64::NAN]];
            el.timeline.clear();
            el.target_rps = 0.0;
        }
        for t in &mut c.trials {
            t.steps.truncate(1);
        }
    }
    for run in [empty, nan] {
        let page = html(&run, &HtmlExtras::default());
        assert!(
            !page.contains("http://") && !page.contains("NaN") && !page.contains("inf"),
            "page shows raw non-numbers"
        );
        let _ = text(&run, true);
        let _ = markdown(&run);
    }
}
