//! Custom workloads end to end: a user's app with only `/health` and its own
//! endpoints (`fixtures/custom-app`, Python stdlib) declares a workload in its
//! manifest; `verify` runs each class once, `run` measures it (the app and its
//! variant, compared on it), and `report` and `compare` show it. Plus the
//! manifest's errors, and `examples/crud.toml` against a real reference contender.

use std::path::{Path, PathBuf};

use crate::contender::copy_fixtures;
use crate::hardening::Marker;
use crate::run::{assert_no_orphans, bakeoff, text};
use crate::variants::ok;
use bakeoff::model::{CellStatus, Run};
use bakeoff::workload::Workload;

/// The classes of one contender's verify verdict: (`workload/class`, status, reasons).
fn classes(doc: &serde_json::Value, contender: &str) -> Vec<(String, String, String)> {
    let verdict = doc["contenders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["contender"] == contender)
        .unwrap_or_else(|| panic!("no verdict for {contender}: {doc}"));
    verdict["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["endpoint"].as_str().unwrap().starts_with("shop/"))
        .map(|e| {
            (
                e["endpoint"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
                e["reasons"].to_string(),
            )
        })
        .collect()
}

#[test]
fn a_user_app_with_only_custom_workloads_goes_through_run_report_and_compare() {
    let fixtures = copy_fixtures(&["custom-app"]);
    let app = fixtures.path().join("custom-app");
    let app_at = |variant: &str| PathBuf::from(format!("{}@{variant}", app.display()));
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let db = results.join("bakeoff.db");
    let marker = Marker::new();

    // verify: each class once, judged by its expectation; the broken variant's
    // create is caught, its list passes.
    let out = bakeoff(&results, &marker)
        .args(["verify", "--json", "--contender"])
        .arg(&app)
        .arg("--contender")
        .arg(app_at("broken"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let good = classes(&doc, "custom-app");
    assert_eq!(good.len(), 2, "{good:?}");
    assert!(good.iter().all(|(_, s, _)| s == "pass"), "{good:?}");
    let broken = classes(&doc, "custom-app@broken");
    let create = broken.iter().find(|c| c.0 == "shop/create").unwrap();
    assert_eq!(create.1, "fail", "{broken:?}");
    assert!(create.2.contains("/ok"), "{create:?}");
    assert!(broken.iter().any(|c| c.0 == "shop/list" && c.1 == "pass"));
    assert_no_orphans(&marker);

    // run: the app and its variant, measured on their own workload.
    let run = |contenders: &[PathBuf]| {
        let mut cmd = bakeoff(&results, &marker);
        cmd.args(["run", "--profile", "quick"]);
        for c in contenders {
            cmd.arg("--contender").arg(c);
        }
        let out = cmd
            .args(["--workloads", "shop", "--duration-scale", "0.1", "--quiet"])
            .arg("--results-dir")
            .arg(&results)
            .output()
            .unwrap();
        ok(&out, "bakeoff run")
    };
    let stdout = run(&[app.clone(), app_at("slow")]);
    assert!(stdout.contains("shop"), "{stdout}");
    assert!(stdout.contains("bakeoff advise --mix shop=100"), "{stdout}");
    assert_no_orphans(&marker);
    let show = |id: &str| -> Run {
        let out = bakeoff(&results, &marker)
            .args(["show", id, "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&ok(&out, "bakeoff show")).unwrap();
        crate::report::assert_fits_run_schema(&doc);
        serde_json::from_value(doc).unwrap()
    };
    let first = show("latest");
    let shop = Workload::from_name("shop");
    assert_eq!(first.settings.workloads, std::slice::from_ref(&shop));
    for contender in ["custom-app", "custom-app@slow"] {
        let cell = first
            .cell(contender, &shop)
            .unwrap_or_else(|| panic!("no {contender}/shop cell"));
        assert!(
            matches!(cell.status, CellStatus::Ok),
            "{contender}: {:?} {:?}",
            cell.status,
            cell.notes
        );
        let trial = &cell.trials[0];
        assert!(!trial.steps.is_empty(), "{contender}: searched");
        // The scenario's requests reached the app and met their expectations
        // (a wrong path or body would be errors of every window).
        assert!(
            trial
                .steps
                .iter()
                .any(|s| s.achieved_rps > 0.0 && s.error_rate < 0.01),
            "{contender}: {:?}",
            trial.steps
        );
        assert!(
            cell.capacity.is_some() || trial.note.is_some(),
            "{contender}: a capacity or the reason there is none: {trial:?}"
        );
        if let Some(eq) = &cell.equal_load {
            assert!(eq.requests > 0 && eq.latency.p99 > 0.0, "{eq:?}");
        }
    }

    // A second run of the app alone, then the reports and the comparison.
    run(std::slice::from_ref(&app));
    let second = show("latest");
    assert!(second.id > first.id);
    assert!(second.cell("custom-app", &shop).is_some());
    for format in ["text", "md", "json"] {
        let out = bakeoff(&results, &marker)
            .args(["report", "latest", "--format", format, "--db"])
            .arg(&db)
            .output()
            .unwrap();
        let body = ok(&out, &format!("bakeoff report --format {format}"));
        assert!(body.contains("shop"), "{format}: {body}");
        assert!(body.contains("custom-app"), "{format}: {body}");
    }
    let html = tmp.path().join("report.html");
    let out = bakeoff(&results, &marker)
        .args(["report", "latest", "--format", "html", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&html)
        .output()
        .unwrap();
    ok(&out, "bakeoff report --format html");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("shop") && page.contains("custom-app"));
    let out = bakeoff(&results, &marker)
        .args(["compare", &first.id.to_string(), &second.id.to_string()])
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let compared = ok(&out, "bakeoff compare");
    assert!(
        compared.contains("shop") && compared.contains("custom-app"),
        "{compared}"
    );

    // The advisor weighs the custom workload by its name.
    let advise = |mix: &str| {
        bakeoff(&results, &marker)
            .args(["advise", "--run", &first.id.to_string(), "--mix", mix])
            .args(["--team", "python", "--db"])
            .arg(&db)
            .output()
            .unwrap()
    };
    let advice = ok(&advise("shop=100"), "bakeoff advise --mix shop=100");
    assert!(advice.contains("custom-app"), "{advice}");
    let out = advise("checkout=100");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown category `checkout`") && stderr.contains("shop"),
        "{stderr}"
    );

    // `advise --measure` measures a missing cell of the app again from its
    // directory, as `run` took it; by name alone it is not found.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let deleted = conn
        .execute(
            "DELETE FROM cells WHERE run_id = ?1 AND contender = 'custom-app@slow'",
            [first.id],
        )
        .unwrap();
    assert_eq!(deleted, 1);
    drop(conn);
    let measure = |dirs: &[PathBuf]| {
        let mut cmd = bakeoff(&results, &marker);
        cmd.args([
            "advise",
            "--run",
            &first.id.to_string(),
            "--mix",
            "shop=100",
        ])
        // No --db: the database in $BAKEOFF_RESULTS_DIR, where the run that
        // measures stores its cells too.
        .args(["--team", "python", "--measure"]);
        for d in dirs {
            cmd.arg("--contender").arg(d);
        }
        cmd.output().unwrap()
    };
    let out = measure(&[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown contender `custom-app`") && stderr.contains("--contender"),
        "{stderr}"
    );
    let advice = ok(&measure(&[app.clone(), app_at("slow")]), "advise --measure");
    assert!(advice.contains("custom-app@slow"), "{advice}");
    let third = show("latest");
    assert!(third.id > second.id);
    // Measured again at the run's own scale, the app from its directory.
    assert_eq!(third.settings.duration_scale, first.settings.duration_scale);
    for contender in ["custom-app", "custom-app@slow"] {
        assert!(third.cell(contender, &shop).is_some(), "{contender}");
    }
    assert_no_orphans(&marker);
}

/// A manifest naming a scenario that does not exist, or a built-in workload's
/// name, is refused before anything starts, naming the manifest and the fix.
#[test]
fn a_bad_custom_workload_is_refused_naming_the_manifest() {
    let fixtures = copy_fixtures(&["custom-app"]);
    let app = fixtures.path().join("custom-app");
    let manifest = app.join("bakeoff.toml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let refused = |edited: String, needles: &[&str]| {
        std::fs::write(&manifest, edited).unwrap();
        let out = bakeoff(tmp.path(), &marker)
            .args(["verify", "--contender"])
            .arg(&app)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        for n in needles {
            assert!(stderr.contains(n), "{n:?} not in: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    refused(
        original.replace("scenario = \"shop.toml\"", "scenario = \"nope.toml\""),
        &[
            "bakeoff.toml",
            "workloads[0].scenario",
            "workload `shop`",
            "nope.toml",
        ],
    );
    refused(
        original.replace("name = \"shop\"", "name = \"json\""),
        &["workloads[0].name", "built-in workload"],
    );
    assert_no_orphans(&marker);
}

/// `examples/crud.toml` as the custom workload of a copy of node-http: every
/// class passes its expectation against the real reference contender, and a
/// brief run measures it.
#[test]
fn the_crud_example_passes_against_a_reference_contender() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("node-http");
    crate::contender::copy_dir(&crate::run::contenders_dir().join("node-http"), &app);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/crud.toml");
    std::fs::copy(example, app.join("crud.toml")).unwrap();
    let manifest = app.join("bakeoff.toml");
    let mut text_ = std::fs::read_to_string(&manifest).unwrap();
    text_.push_str("\n[[workloads]]\nname = \"shop-crud\"\nscenario = \"crud.toml\"\n");
    std::fs::write(&manifest, text_).unwrap();
    let results = tmp.path().join("results");
    let marker = Marker::new();
    let out = bakeoff(&results, &marker)
        .args(["verify", "--json", "--contender"])
        .arg(&app)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    let endpoints = doc["contenders"][0]["endpoints"].as_array().unwrap();
    for class in ["list", "get", "create", "search"] {
        let e = endpoints
            .iter()
            .find(|e| e["endpoint"] == format!("shop-crud/{class}"))
            .unwrap_or_else(|| panic!("no shop-crud/{class}: {doc}"));
        assert_eq!(e["status"], "pass", "{e}");
    }
    assert_eq!(doc["passed"], true, "{doc}");

    // Briefly measured under load beside nothing else: its mix reaches the
    // real server, every class answered as expected.
    let out = bakeoff(&results, &marker)
        .args(["run", "--profile", "quick", "--contender"])
        .arg(&app)
        .args([
            "--workloads",
            "shop-crud",
            "--duration-scale",
            "0.1",
            "--quiet",
        ])
        .arg("--results-dir")
        .arg(&results)
        .output()
        .unwrap();
    ok(&out, "bakeoff run");
    let out = bakeoff(&results, &marker)
        .args(["show", "latest", "--json", "--db"])
        .arg(results.join("bakeoff.db"))
        .output()
        .unwrap();
    let run: Run = serde_json::from_str(&ok(&out, "bakeoff show")).unwrap();
    let cell = run
        .cell("node-http", &Workload::from_name("shop-crud"))
        .expect("a shop-crud cell");
    assert!(cell.status.is_ok(), "{:?}", cell.status);
    let steps = &cell.trials[0].steps;
    assert!(
        steps
            .iter()
            .any(|s| s.achieved_rps > 0.0 && s.error_rate < 0.01),
        "{steps:?}"
    );
    assert_no_orphans(&marker);
}
