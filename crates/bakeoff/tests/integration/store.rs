//! The results store against real SQLite files, and `bakeoff runs`, `show` and
//! `compare` through the binary on temporary databases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use bakeoff::model::{
    Cell, CellStatus, ContenderInfo, Environment, EqualLoad, Estimate, LittlesLaw, Percentiles,
    Run, RunStatus, SearchStep, Settings, Startup, TimelinePoint, Trial, WsPoint,
};
use bakeoff::store::{Store, StoreError, SCHEMA_VERSION};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

// ---------------------------------------------------------------- fixtures

fn settings() -> Settings {
    Settings {
        profile: "standard".into(),
        slo_p99_ms: 100.0,
        trials: 3,
        duration_scale: 0.1,
        contenders: vec!["node-fastify".into(), "python-flask".into()],
        workloads: vec!["json".into(), "io".into(), "ws".into(), "startup".into()],
        workers: vec![1, 2],
    }
}

fn environment() -> Environment {
    Environment {
        cpu_model: "Test CPU @ 3.0GHz".into(),
        cores: 2,
        memory_bytes: 1 << 40,
        kernel: "6.1.0-test".into(),
        os: "Debian GNU/Linux 12".into(),
        bakeoff_version: "0.1.0".into(),
        git_revision: Some("e0f0793".into()),
        pinning: "generator: cpu 0; contender: cpu 1".into(),
        runtimes: BTreeMap::from([
            ("node".into(), "v20.20.2".into()),
            ("python".into(), "3.11.7".into()),
        ]),
    }
}

fn contenders() -> Vec<ContenderInfo> {
    let node = ContenderInfo {
        name: "node-fastify".into(),
        language: "node".into(),
        runtime: "node".into(),
        runtime_version: "v20.20.2".into(),
        framework: "fastify".into(),
        framework_version: "4.28.1".into(),
        server: "node:http".into(),
        deps_direct: 3,
        deps_total: 61,
        install_bytes: i64::MAX as u64,
        install_secs: 4.25,
        app_loc: 180,
        unsupported: BTreeMap::from([("ws-binary".into(), "text frames only".into())]),
        disclosures: vec!["uses fast-json-stringify".into(), "cluster module".into()],
    };
    let flask = ContenderInfo {
        name: "python-flask".into(),
        language: "python".into(),
        runtime: "python".into(),
        runtime_version: "3.11.7".into(),
        framework: "flask".into(),
        framework_version: "3.0.3".into(),
        server: "gunicorn".into(),
        ..ContenderInfo::default()
    };
    vec![node, flask]
}

fn hdr_blob(scale: u64) -> Vec<u8> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for v in 1..=1000u64 {
        h.record(v * scale).unwrap();
    }
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(&h, &mut buf).unwrap();
    buf
}

fn percentiles(base: f64) -> Percentiles {
    Percentiles {
        p50: base,
        p90: base * 1.5,
        p99: base * 3.0,
        p999: base * 5.0,
        p9999: base * 8.0,
        max: base * 10.0,
        mean: base * 1.1,
    }
}

fn estimate(median: f64, n: u32) -> Estimate {
    Estimate {
        median,
        ci_low: median * 0.97,
        ci_high: median * 1.03,
        cv: 0.021,
        n,
        noisy: false,
    }
}

fn equal_load(p99: f64, cpu: f64) -> EqualLoad {
    EqualLoad {
        target_rps: 1500.0,
        achieved_rps: 1499.7,
        requests: 44_991,
        errors: 2,
        latency: percentiles(p99 / 3.0),
        service: percentiles(p99 / 4.0),
        light: Some(percentiles(0.4)),
        spectrum: vec![[50.0, 0.8], [99.0, 2.4], [99.99, 6.4]],
        service_spectrum: vec![[50.0, 0.6], [99.0, 1.8]],
        cpu_ms_per_request: cpu,
        rss_peak_bytes: 81_000_000,
        rss_mean_bytes: 78_500_000,
        timeline: vec![
            TimelinePoint {
                second: 0,
                rps: 1498.0,
                p99_ms: 2.3,
                errors: 0,
            },
            TimelinePoint {
                second: 1,
                rps: 1501.5,
                p99_ms: 2.5,
                errors: 2,
            },
        ],
        littles_law: LittlesLaw {
            observed_concurrency: 1.21,
            predicted_concurrency: 1.2,
            ok: true,
        },
        histograms: vec![
            ("latency".into(), hdr_blob(10)),
            ("service".into(), hdr_blob(7)),
        ],
    }
}

fn ok_cell(contender: &str, workload: &str, workers: u32, cap: f64, p99: f64, cpu: f64) -> Cell {
    Cell {
        contender: contender.into(),
        workload: workload.into(),
        workers,
        status: CellStatus::Ok,
        capacity: Some(estimate(cap, 3)),
        trials: (0..3)
            .map(|i| Trial {
                index: i,
                capacity_rps: Some(cap * (0.98 + 0.02 * i as f64)),
                steps: vec![
                    SearchStep {
                        index: 0,
                        phase: "ramp".into(),
                        target_rps: cap / 2.0,
                        achieved_rps: cap / 2.0 - 1.0,
                        p99_ms: 3.0,
                        error_rate: 0.0,
                        pass: true,
                    },
                    SearchStep {
                        index: 1,
                        phase: "bisect".into(),
                        target_rps: cap * 1.1,
                        achieved_rps: cap,
                        p99_ms: 250.0,
                        error_rate: 0.002,
                        pass: false,
                    },
                ],
            })
            .collect(),
        equal_load: Some(equal_load(p99, cpu)),
        ws: Vec::new(),
        startup: None,
        scaling_efficiency: None,
        flags: Vec::new(),
        notes: Vec::new(),
    }
}

/// Every kind of cell, with every optional part populated somewhere.
fn rich_cells() -> Vec<Cell> {
    let mut json1 = ok_cell("node-fastify", "json", 1, 12_000.0, 2.4, 0.081);
    json1.flags = vec!["noisy".into(), "littles-law".into()];
    json1.notes = vec!["cv 12% over 3 trials".into()];
    json1.trials[1].capacity_rps = None;
    let mut json2 = ok_cell("node-fastify", "json", 2, 21_000.0, 2.1, 0.09);
    json2.scaling_efficiency = Some(0.875);
    json2.flags = vec!["contended".into()];
    let failed = Cell {
        status: CellStatus::Failed {
            reason: "crashed mid-run (exit 137)".into(),
        },
        capacity: None,
        equal_load: None,
        trials: Vec::new(),
        ..ok_cell("python-flask", "io", 1, 1.0, 1.0, 1.0)
    };
    let skipped = Cell {
        status: CellStatus::Skipped {
            reason: "does not serve /ws".into(),
        },
        capacity: None,
        equal_load: None,
        trials: Vec::new(),
        ..ok_cell("python-flask", "ws", 1, 1.0, 1.0, 1.0)
    };
    let mut ws = ok_cell("node-fastify", "ws", 1, 50_000.0, 1.0, 1.0);
    ws.equal_load = None;
    ws.ws = [100u32, 1000]
        .iter()
        .map(|&clients| WsPoint {
            clients,
            rate: 50.0,
            sent: 500,
            expected_deliveries: 500 * clients as u64,
            deliveries: 500 * clients as u64 - 3,
            missing: 3,
            p50_ms: 1.5,
            p99_ms: 9.25,
            rss_idle_bytes: 60_000_000,
            rss_loaded_bytes: 60_000_000 + 41_000 * clients as u64,
            bytes_per_connection: 41_000.0,
        })
        .collect();
    let mut startup = ok_cell("python-flask", "startup", 1, 1.0, 1.0, 1.0);
    startup.capacity = None;
    startup.trials = Vec::new();
    startup.equal_load = None;
    startup.startup = Some(Startup {
        to_healthy_ms: Estimate {
            median: 412.0,
            ci_low: 380.5,
            ci_high: 455.0,
            cv: 0.07,
            n: 5,
            noisy: false,
        },
        idle_rss_bytes: 31_000_000,
    });
    vec![json1, json2, failed, skipped, ws, startup]
}

/// Write a run with these cells; returns the Run as it should read back.
fn write_run(store: &mut Store, started: &str, cells: Vec<Cell>, status: RunStatus) -> Run {
    let id = store
        .begin_run(started, &settings(), &environment(), &contenders())
        .unwrap();
    for cell in &cells {
        store.record_cell(id, cell).unwrap();
    }
    let finished = "2026-11-28T12:10:00Z";
    store.finish_run(id, status, finished).unwrap();
    Run {
        id,
        started_at: started.into(),
        finished_at: Some(finished.into()),
        status,
        settings: settings(),
        environment: environment(),
        contenders: contenders(),
        cells,
    }
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results").join("bakeoff.db");
    (dir, path)
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn open_message(result: Result<Store, StoreError>) -> String {
    match result {
        Ok(_) => panic!("the store opened a file it should refuse"),
        Err(e) => e.to_string(),
    }
}

// ---------------------------------------------------------------- the store

#[test]
fn a_rich_run_round_trips_exactly_histograms_included() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let expected = write_run(
        &mut store,
        "2026-11-28T12:00:00Z",
        rich_cells(),
        RunStatus::Complete,
    );
    drop(store);

    let store = Store::open(&path).unwrap();
    let got = store.load_run(expected.id).unwrap();
    assert_eq!(got, expected);
    // serde(skip) does not hide the histograms from this comparison: check them
    // directly, and that the blob still decodes into the recorded distribution.
    let eq = got.cells[0].equal_load.as_ref().unwrap();
    assert_eq!(
        eq.histograms,
        expected.cells[0].equal_load.as_ref().unwrap().histograms
    );
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut eq.histograms[0].1.as_slice())
        .unwrap();
    assert_eq!(h.len(), 1000);
    assert!((h.value_at_quantile(0.99) as f64 - 9900.0).abs() <= 10.0);
    assert_eq!(store.resolve("latest").unwrap(), expected.id);
    assert_eq!(
        store.resolve(&expected.id.to_string()).unwrap(),
        expected.id
    );
}

#[test]
fn nan_and_optional_numbers_stay_distinct() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let mut a = ok_cell("a", "json", 1, 100.0, 1.0, 1.0);
    a.capacity.as_mut().unwrap().cv = f64::NAN;
    a.scaling_efficiency = Some(f64::NAN);
    let mut b = ok_cell("b", "json", 1, 100.0, 1.0, 1.0);
    b.scaling_efficiency = None;
    let run = write_run(
        &mut store,
        "2026-11-28T12:00:00Z",
        vec![a, b],
        RunStatus::Complete,
    );
    let got = store.load_run(run.id).unwrap();
    assert!(got.cells[0].capacity.unwrap().cv.is_nan());
    assert!(got.cells[0].scaling_efficiency.unwrap().is_nan());
    assert_eq!(got.cells[1].scaling_efficiency, None);
}

#[test]
fn a_fresh_file_is_migrated_to_the_current_schema_in_wal_mode() {
    let (_dir, path) = temp_db();
    assert!(!path.parent().unwrap().exists());
    let store = Store::open(&path).unwrap();
    assert!(store.list_runs().unwrap().is_empty());
    assert!(matches!(store.resolve("latest"), Err(StoreError::Empty)));
    drop(store);
    let conn = raw(&path);
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for table in [
        "runs",
        "cells",
        "trials",
        "search_steps",
        "histograms",
        "timelines",
    ] {
        assert_eq!(count(&conn, table), 0);
    }
    // An empty (zero-byte) file is a fresh database too.
    let empty = path.with_file_name("empty.db");
    std::fs::write(&empty, b"").unwrap();
    Store::open(&empty).unwrap();
}

#[test]
fn a_newer_schema_is_refused_and_left_byte_for_byte_unchanged() {
    let (_dir, path) = temp_db();
    Store::open(&path).unwrap();
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let msg = open_message(Store::open(&path));
    assert!(
        msg.contains(&format!(
            "created by a newer bakeoff (schema v{}, this one knows v{SCHEMA_VERSION})",
            SCHEMA_VERSION + 1
        )),
        "{msg}"
    );
    assert!(msg.contains("--db another file"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_corrupt_or_foreign_file_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let msg = open_message(Store::open(&path));
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("not a readable SQLite database"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    assert!(!dir.path().join("notes.db-wal").exists());

    // Someone else's SQLite database.
    let other = dir.path().join("other.db");
    raw(&other)
        .execute_batch("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('x');")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    let msg = open_message(Store::open(&other));
    assert!(msg.contains("not a bakeoff results database"), "{msg}");
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[test]
fn an_unusable_directory_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let msg = open_message(Store::open(&file.join("sub").join("bakeoff.db")));
    assert!(msg.contains("cannot create the directory"), "{msg}");
    assert!(msg.contains("--db"), "{msg}");
    let msg = open_message(Store::open(dir.path()));
    assert!(msg.contains("is a directory"), "{msg}");
}

#[test]
fn runs_of_a_dead_process_are_marked_interrupted_on_open() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let dead = store
        .begin_run(
            "2026-11-28T12:00:00Z",
            &settings(),
            &environment(),
            &contenders(),
        )
        .unwrap();
    store
        .record_cell(dead, &ok_cell("node-fastify", "json", 1, 100.0, 1.0, 0.1))
        .unwrap();
    let alive = store
        .begin_run(
            "2026-11-28T12:05:00Z",
            &settings(),
            &environment(),
            &contenders(),
        )
        .unwrap();
    drop(store);

    let mut child = Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    raw(&path)
        .execute(
            "UPDATE runs SET owner_pid = ?1 WHERE id = ?2",
            (dead_pid, dead),
        )
        .unwrap();

    let store = Store::open(&path).unwrap();
    let run = store.load_run(dead).unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
    assert_eq!(run.cells.len(), 1, "the finished cell is kept");
    // This process is alive: its run is still running.
    assert_eq!(store.load_run(alive).unwrap().status, RunStatus::Running);
}

#[test]
fn a_cell_that_fails_mid_write_leaves_nothing() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let id = store
        .begin_run(
            "2026-11-28T12:00:00Z",
            &settings(),
            &environment(),
            &contenders(),
        )
        .unwrap();
    // The cell row, the first trial and its steps go in; the second trial's
    // duplicate index violates a constraint.
    let mut bad = ok_cell("node-fastify", "json", 1, 100.0, 1.0, 0.1);
    bad.trials[1].index = bad.trials[0].index;
    let err = store.record_cell(id, &bad).unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    let conn = raw(&path);
    for table in [
        "cells",
        "trials",
        "search_steps",
        "equal_load",
        "histograms",
    ] {
        assert_eq!(count(&conn, table), 0, "{table} after a failed cell");
    }
    // The store is still usable, and a cell for a missing run is refused.
    let good = ok_cell("node-fastify", "json", 1, 100.0, 1.0, 0.1);
    store.record_cell(id, &good).unwrap();
    assert_eq!(store.load_run(id).unwrap().cells, vec![good.clone()]);
    assert!(matches!(
        store.record_cell(id + 1, &good),
        Err(StoreError::NoSuchRun(_))
    ));
}

#[test]
fn a_write_lock_held_elsewhere_gives_a_clear_error_not_corruption() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_with_timeout(&path, Duration::from_millis(200)).unwrap();
    let id = store
        .begin_run(
            "2026-11-28T12:00:00Z",
            &settings(),
            &environment(),
            &contenders(),
        )
        .unwrap();
    let other = raw(&path);
    other
        .execute_batch("BEGIN IMMEDIATE; UPDATE runs SET profile = 'quick';")
        .unwrap();
    let cell = ok_cell("node-fastify", "json", 1, 100.0, 1.0, 0.1);
    let started = std::time::Instant::now();
    let err = store.record_cell(id, &cell).unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "waited for the lock"
    );
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("locked by another bakeoff process"),
        "{err}"
    );
    // Reads still work under WAL while the other writer holds its lock.
    assert_eq!(store.list_runs().unwrap().len(), 1);
    other.execute_batch("ROLLBACK").unwrap();
    store.record_cell(id, &cell).unwrap();
    let check: String = raw(&path)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(store.load_run(id).unwrap().cells.len(), 1);
}

#[test]
fn list_runs_summarises_newest_first() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let first = write_run(
        &mut store,
        "2026-11-28T10:00:00Z",
        rich_cells(),
        RunStatus::Complete,
    );
    let second = write_run(
        &mut store,
        "2026-11-28T11:00:00Z",
        Vec::new(),
        RunStatus::Failed,
    );
    let runs = store.list_runs().unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second.id, first.id]
    );
    let r = &runs[1];
    assert_eq!((r.cells_ok, r.cells_failed), (4, 1));
    assert_eq!(r.contenders, ["node-fastify", "python-flask"]);
    assert_eq!(r.workloads, settings().workloads);
    assert_eq!(r.status, RunStatus::Complete);
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert!(matches!(
        store.resolve("abc"),
        Err(StoreError::BadRunRef(_))
    ));
    assert!(matches!(store.resolve("99"), Err(StoreError::NoSuchRun(_))));
    assert!(matches!(store.load_run(99), Err(StoreError::NoSuchRun(_))));
}

// ---------------------------------------------------------------- the binary

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

fn schema() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/run.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn show_json_validates_against_the_checked_in_schema() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let expected = write_run(
        &mut store,
        "2026-11-28T12:00:00Z",
        rich_cells(),
        RunStatus::Complete,
    );
    drop(store);
    let db = path.to_str().unwrap();
    let out = bakeoff(&["show", "latest", "--json", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let validator = jsonschema::validator_for(&schema()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
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
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no run 42"), "{}", stderr(&out));
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
    // The CIs (±3%) of 10000 and 8000 do not overlap.
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
        stdout(&out).contains("| node-fastify | json | 1 | 10000 | 8000 | -20.0% | * |"),
        "{}",
        stdout(&out)
    );

    for bad in [
        vec!["compare", &a, "x1", "--db", db],
        vec!["compare", &a, &b, "--format", "html", "--db", db],
        vec!["compare", &a, &b, "--fail-on-regression", "-5", "--db", db],
    ] {
        let out = bakeoff(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    let out = bakeoff(&["compare", &a, "77", "--db", db]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no run 77"), "{}", stderr(&out));
}
