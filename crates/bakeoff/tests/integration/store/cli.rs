//! `bakeoff runs`, `show` and `compare` through the binary on temporary databases.

use std::path::Path;
use std::process::{Command, Output};

use bakeoff::model::{Run, RunStatus};
use bakeoff::store::{Store, SCHEMA_VERSION};

use super::fixtures::*;

fn bakeoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .output()
        .expect("run the bakeoff binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn show_json_validates_against_the_checked_in_schema() {
    let (_dir, path) = temp_db();
    let expected = stored_rich_run(&path);
    let db = path.to_str().unwrap();
    let out = bakeoff(&["show", "latest", "--json", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    crate::report::assert_fits_run_schema(&doc);
    let validator = crate::report::run_schema();
    // The document is the model's own serialization of the stored run, and
    // deserializes as a Run (histograms are not part of the document).
    // (Both sides go through text: serde_json's default parser may round the last
    // digit of a float.)
    let want: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&expected).unwrap()).unwrap();
    assert_eq!(doc, want);
    let back: Run = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(back.cells.len(), expected.cells.len());
    assert!(back.cells[0]
        .equal_load
        .as_ref()
        .unwrap()
        .histograms
        .is_empty());

    // The schema is strict: a missing field, an unknown one, or a bad enum fail it.
    let mut missing = doc.clone();
    missing["cells"][0]
        .as_object_mut()
        .unwrap()
        .remove("trials");
    assert!(!validator.is_valid(&missing));
    let mut extra = doc.clone();
    extra["environment"]["colour"] = "blue".into();
    assert!(!validator.is_valid(&extra));
    let mut status = doc;
    status["cells"][2]["status"] = serde_json::json!({"state": "failed"});
    assert!(!validator.is_valid(&status));
}

#[test]
fn show_and_runs_on_the_command_line() {
    let (_dir, path) = temp_db();
    let db = path.to_str().unwrap();
    // No database yet: a friendly line, and nothing created.
    let out = bakeoff(&["runs", "--db", db]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("No runs yet"), "{}", stdout(&out));
    assert!(!path.exists());
    let out = bakeoff(&["show", "--db", db]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no results database at"),
        "{}",
        stderr(&out)
    );

    let mut store = Store::open(&path).unwrap();
    let out = bakeoff(&["runs", "--db", db]);
    assert!(stdout(&out).contains("No runs yet"), "{}", stdout(&out));
    let run = write_run(
        &mut store,
        "2026-11-28T12:00:00Z",
        rich_cells(),
        RunStatus::Complete,
    );
    drop(store);

    let out = bakeoff(&["runs", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("2026-11-28T12:00:00Z") && text.contains("complete"),
        "{text}"
    );
    assert!(text.contains("node-fastify,python-flask"), "{text}");
    let out = bakeoff(&["runs", "--json", "--db", db]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["id"], run.id);
    assert_eq!(list[0]["cells_ok"], 4);
    assert_eq!(list[0]["cells_failed"], 1);

    let out = bakeoff(&["show", &run.id.to_string(), "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("Run {}: complete", run.id)),
        "{text}"
    );
    assert!(
        text.contains("FAILED: crashed mid-run (exit 137)"),
        "{text}"
    );

    let out = bakeoff(&["show", "nope", "--db", db]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`nope` is not a run id"),
        "{}",
        stderr(&out)
    );
    let out = bakeoff(&["show", "42", "--db", db]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no run 42"), "{}", stderr(&out));

    // A database from a newer bakeoff: a clear error, exit 1, file untouched.
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    for args in [vec!["runs", "--db", db], vec!["show", "--db", db]] {
        let out = bakeoff(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("created by a newer bakeoff"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// The reading commands find the database where `bakeoff run` stores it: in
/// the results directory given as `run` takes it (`--results-dir`, or
/// `$BAKEOFF_RESULTS_DIR`), unless `--db` names another file.
#[test]
fn reading_commands_read_the_results_directory_run_wrote_to() {
    let (dir, path) = temp_db();
    let run = stored_rich_run(&path);
    let results = path.parent().unwrap().to_str().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let id = run.id.to_string();
    let commands: [&[&str]; 5] = [
        &["runs", "--json"],
        &["show", "latest", "--json"],
        &["report", "latest", "--format", "json"],
        &["claims", "latest", "--json"],
        &["compare", &id, &id],
    ];
    for args in commands {
        // Run from another directory, so the default `bakeoff-results` is not it.
        let by_flag = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
            .args(args)
            .args(["--results-dir", results])
            .current_dir(&elsewhere)
            .env_remove("BAKEOFF_RESULTS_DIR")
            .output()
            .unwrap();
        assert!(by_flag.status.success(), "{args:?}: {}", stderr(&by_flag));
        assert!(
            !stdout(&by_flag).trim().is_empty() && !stdout(&by_flag).contains("No runs yet"),
            "{args:?}: {}",
            stdout(&by_flag)
        );
        if args[0] == "runs" {
            assert!(
                stdout(&by_flag).contains(&run.started_at),
                "{}",
                stdout(&by_flag)
            );
        }
        let by_env = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
            .args(args)
            .current_dir(&elsewhere)
            .env("BAKEOFF_RESULTS_DIR", results)
            .output()
            .unwrap();
        assert!(by_env.status.success(), "{args:?}: {}", stderr(&by_env));
        assert_eq!(stdout(&by_env), stdout(&by_flag), "{args:?}");
    }
    // --db wins over the results directory; a directory with no database
    // says how to point at one.
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["show", "latest", "--db", path.to_str().unwrap()])
        .args(["--results-dir", elsewhere.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args([
            "show",
            "latest",
            "--results-dir",
            elsewhere.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--results-dir DIR (the one `bakeoff run` was given)"),
        "{}",
        stderr(&out)
    );
}

/// Baseline A and candidate B: in B fastify json lost 20% of its capacity and its
/// p99 rose 10%; flask json is unchanged; one cell on each side is unmatched.
fn compare_fixture(path: &Path) -> (i64, i64) {
    let mut store = Store::open(path).unwrap();
    let a = write_run(
        &mut store,
        "2026-11-28T10:00:00Z",
        vec![
            ok_cell("node-fastify", "json", 1, 10_000.0, 2.4, 0.08),
            ok_cell("python-flask", "json", 1, 1_000.0, 30.0, 0.9),
            ok_cell("python-flask", "io", 1, 500.0, 80.0, 0.5),
        ],
        RunStatus::Complete,
    );
    let b = write_run(
        &mut store,
        "2026-11-28T11:00:00Z",
        vec![
            ok_cell("node-fastify", "json", 1, 8_000.0, 2.64, 0.08),
            ok_cell("python-flask", "json", 1, 1_000.0, 30.0, 0.9),
            ok_cell("node-fastify", "io", 1, 4_000.0, 55.0, 0.1),
        ],
        RunStatus::Complete,
    );
    (a.id, b.id)
}

#[test]
fn compare_reports_deltas_and_gates_the_exit_status() {
    let (_dir, path) = temp_db();
    let (a, b) = compare_fixture(&path);
    let db = path.to_str().unwrap();
    let (a, b) = (a.to_string(), b.to_string());

    let out = bakeoff(&["compare", &a, &b, "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let fastify = text
        .lines()
        .find(|l| l.starts_with("node-fastify  json"))
        .unwrap();
    assert!(
        fastify.contains("10000") && fastify.contains("8000"),
        "{fastify}"
    );
    assert!(
        fastify.contains("-20.0%") && fastify.contains("+10.0%"),
        "{fastify}"
    );
    // Welch's t-test tells 10000 from 8000 (sd 2% over 3 trials each).
    assert!(fastify.contains(" * "), "{fastify}");
    assert!(text.contains("python-flask io ×1"), "{text}");
    assert!(text.contains("node-fastify io ×1"), "{text}");

    // 10%: capacity -20% fails the gate (p99 +10.0% does not).
    let out = bakeoff(&["compare", &a, &b, "--fail-on-regression", "10", "--db", db]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("node-fastify json ×1: capacity -20.0%"),
        "{}",
        stdout(&out)
    );
    let out = bakeoff(&["compare", &a, &b, "--fail-on-regression", "25", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Reversed, every change is an improvement: even a 1% gate passes.
    let out = bakeoff(&["compare", &b, &a, "--fail-on-regression", "1", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let out = bakeoff(&["compare", &a, "latest", "--format", "md", "--db", db]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        // The mark escaped: a bare `*` can open emphasis in Markdown.
        stdout(&out).contains(r"| node-fastify | json | 1 | 10000 | 8000 | -20.0% | \* |"),
        "{}",
        stdout(&out)
    );

    // JSON: the same figures and the gate's outcome, with the gate's exit status.
    let out = bakeoff(&[
        "compare",
        &a,
        &b,
        "--format",
        "json",
        "--fail-on-regression",
        "10",
        "--db",
        db,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["regressed"], true, "{doc}");
    let fastify = doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"]["contender"] == "node-fastify" && c["key"]["workload"] == "json")
        .unwrap();
    assert_eq!(fastify["capacity"]["a"], 10_000.0, "{fastify}");
    assert_eq!(fastify["capacity"]["b"], 8_000.0, "{fastify}");
    assert_eq!(fastify["capacity"]["mark"], "significant", "{fastify}");

    // HTML: one page, the same cell and the gate's failure, same exit status.
    let out = bakeoff(&[
        "compare",
        &a,
        &b,
        "--format",
        "html",
        "--fail-on-regression",
        "10",
        "--db",
        db,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    assert!(
        page.contains("<td>node-fastify</td><td>json</td><td class=\"num\">1</td><td class=\"num\">10000</td><td class=\"num\">8000</td>"),
        "{page}"
    );
    assert!(page.contains("REGRESSIONS beyond 10%"), "{page}");

    for bad in [
        vec!["compare", &a, "x1", "--db", db],
        vec!["compare", &a, &b, "--fail-on-regression", "-5", "--db", db],
    ] {
        let out = bakeoff(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    let out = bakeoff(&["compare", &a, "77", "--db", db]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no run 77"), "{}", stderr(&out));
}

/// Run bakeoff with a stdout whose reader has already gone (`bakeoff … | head`
/// after head exited): its first write fails with EPIPE (a socket pair stands
/// in for the pipe: `std::io::pipe` is newer than our MSRV).
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(reader);
    let writer = std::os::fd::OwnedFd::from(writer);
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run the bakeoff binary")
}

#[test]
fn a_closed_stdout_ends_every_printing_command_quietly_with_status_0() {
    let (_dir, path) = temp_db();
    stored_rich_run(&path);
    let db = path.to_str().unwrap();
    for args in [
        vec!["show", "latest", "--db", db],
        vec!["show", "latest", "--json", "--db", db],
        vec!["runs", "--db", db],
        vec!["runs", "--json", "--db", db],
        vec!["report", "latest", "--db", db],
        vec!["report", "latest", "--format", "json", "--db", db],
        vec!["report", "latest", "--format", "md", "--db", db],
        vec!["claims", "latest", "--db", db],
        vec!["claims", "latest", "--json", "--db", db],
    ] {
        let out = with_closed_stdout(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
        // The same command with an open stdout prints something: the closed
        // pipe was really written to.
        assert!(
            !bakeoff(&args).stdout.is_empty(),
            "{args:?} printed nothing"
        );
    }
}
