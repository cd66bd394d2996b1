//! The store against real SQLite files: round trip, migrations, refusals,
//! interruption, atomicity and lock contention.

use std::process::Command;
use std::time::Duration;

use bakeoff::model::{Flag, Language, ProbeSummaries, ProbeSummary, RunStatus, Settings};
use bakeoff::store::{Store, StoreError, SCHEMA_VERSION};
use bakeoff::workload::Workload;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

use super::fixtures::*;

#[test]
fn a_rich_run_round_trips_exactly_histograms_included() {
    let (_dir, path) = temp_db();
    let expected = stored_rich_run(&path);

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
    // CPU not measured stays not measured, never 0.
    b.equal_load.as_mut().unwrap().cpu_ms_per_request = None;
    b.flags.push(Flag::EqualLoadStalled);
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
    let eq = |i: usize| got.cells[i].equal_load.as_ref().unwrap().cpu_ms_per_request;
    assert_eq!((eq(0), eq(1)), (Some(1.0), None));
    assert_eq!(got.cells[1].flags, [Flag::EqualLoadStalled]);
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

/// Many processes' first open of one new file at once: each sees either an
/// empty file or a complete schema, never tables without their version (the
/// race that once refused a file as "not a bakeoff results database").
#[test]
fn concurrent_first_opens_of_a_new_file_all_succeed() {
    for round in 0..40 {
        let (_dir, path) = temp_db();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let start = std::sync::Arc::new(std::sync::Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    Store::open(&path).map(drop)
                })
            })
            .collect();
        for opener in openers {
            if let Err(e) = opener.join().unwrap() {
                panic!("round {round}: {e}");
            }
        }
        let version: u32 = raw(&path)
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}

/// The drift probe's summary is kept with the run's environment (as begun,
/// and as recorded at its end) and read back; a run that does not exist is
/// an error.
#[test]
fn a_runs_core_speed_is_kept_with_its_environment() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    let id = begin(&mut store, "2026-11-28T12:00:00Z");
    assert_eq!(
        store.load_run(id).unwrap().environment.core_speed,
        environment().core_speed
    );
    let speed = ProbeSummary::of(&[650.0, 455.0, 640.0]).unwrap();
    let generator = ProbeSummary::of(&[510.0, 530.0]).unwrap();
    let loopback = ProbeSummary::of(&[84.0, 90.0, 66.0]).unwrap();
    store
        .record_probe_summaries(
            id,
            &ProbeSummaries {
                contender: Some(speed),
                generator: Some(generator),
                loopback: Some(loopback),
            },
        )
        .unwrap();
    // A probe that read nothing keeps what the run began with.
    store
        .record_probe_summaries(id, &ProbeSummaries::default())
        .unwrap();
    store
        .finish_run(id, RunStatus::Complete, "2026-11-28T12:10:00Z")
        .unwrap();
    let env = store.load_run(id).unwrap().environment;
    assert_eq!(
        (env.core_speed, env.generator_core_speed, env.loopback_speed),
        (Some(speed), Some(generator), Some(loopback))
    );
    assert!(matches!(
        store.record_probe_summaries(id + 1, &ProbeSummaries::default()),
        Err(StoreError::NoSuchRun(_))
    ));
}

#[test]
fn a_version_1_store_with_runs_is_migrated_and_still_reads() {
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = raw(&path);
    conn.execute_batch(include_str!("../../../src/store/schema_v1.sql"))
        .unwrap();
    conn.execute_batch(
        "PRAGMA user_version = 1;
         INSERT INTO runs (id, started_at, finished_at, status, profile, slo_p99_ms, trials,
             duration_scale, contenders_json, workloads_json, workers_json)
         VALUES (1, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 'complete', 'quick',
             100.0, 1, 1.0, '[\"python-flask\"]', '[\"json\"]', '[1]');
         INSERT INTO environment VALUES (1, 'cpu', 2, 1024, 'linux', 'debian', '0.1.0',
             NULL, 'none', '{}');
         INSERT INTO contenders VALUES (1, 0, 'python-flask', 'python', 'python3', '3.11.7',
             'flask', '3.1.0', 'gunicorn', 3, 20, 1000, 2.5, 100, '{}', '[\"sync workers\"]');",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    let run = store.load_run(1).unwrap();
    assert_eq!(run.contenders.len(), 1);
    assert_eq!(run.contenders[0].name, "python-flask");
    assert_eq!(run.contenders[0].disclosures, vec!["sync workers"]);
    assert_eq!(run.contenders[0].variant, None);
    // Stored before the machine's speed was kept.
    assert_eq!(run.environment.core_speed, None);
    // Stored before the steal limit could be raised: it used the default.
    assert_eq!(run.settings.max_steal_percent, None);
    assert_eq!(run.settings.raised_steal_limit(), None);
    drop(store);
    let version: u32 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

/// Names this bakeoff does not know (a custom workload, another language) read
/// back as themselves instead of failing, and are written again unchanged.
#[test]
fn unknown_workload_and_language_names_read_back_as_custom_and_round_trip() {
    let (_dir, path) = temp_db();
    let expected = stored_rich_run(&path);
    raw(&path)
        .execute_batch(
            "UPDATE cells SET workload = 'checkout-flow', flags_json = '[\"noisy\",\"hot-cache\"]'
                 WHERE id = (SELECT min(id) FROM cells);
             UPDATE runs SET workloads_json = '[\"json\",\"checkout-flow\"]';
             UPDATE contenders SET language = 'ruby' WHERE position = 0;",
        )
        .unwrap();
    let mut store = Store::open(&path).unwrap();
    let run = store.load_run(expected.id).unwrap();
    let custom = Workload::Custom("checkout-flow".into());
    assert_eq!(run.cells[0].workload, custom);
    assert_eq!(
        run.cells[0].flags,
        [Flag::Noisy, Flag::Other("hot-cache".into())]
    );
    assert_eq!(run.settings.workloads, [Workload::Json, custom.clone()]);
    assert_eq!(run.contenders[0].language, Language::Other("ruby".into()));
    assert_eq!(run.contenders[1..], expected.contenders[1..]);
    assert_eq!(run.cells[1..], expected.cells[1..]);
    // The JSON document carries the names as they were.
    let doc = serde_json::to_value(&run).unwrap();
    assert_eq!(doc["cells"][0]["workload"], "checkout-flow");
    assert_eq!(doc["settings"]["workloads"][1], "checkout-flow");
    assert_eq!(doc["contenders"][0]["language"], "ruby");
    // Written again, the custom cell reads back equal.
    let again = write_run(
        &mut store,
        "2026-11-29T12:00:00Z",
        vec![run.cells[0].clone()],
        RunStatus::Complete,
    );
    assert_eq!(store.load_run(again.id).unwrap().cells, again.cells);
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
    let dead = begin(&mut store, "2026-11-28T12:00:00Z");
    store
        .record_cell(dead, &ok_cell("node-fastify", "json", 1, 100.0, 1.0, 0.1))
        .unwrap();
    let alive = begin(&mut store, "2026-11-28T12:05:00Z");
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
    let id = begin(&mut store, "2026-11-28T12:00:00Z");
    // The cell row, the first trial and its steps go in; the second trial's
    // duplicate index violates a constraint.
    let mut bad = ok_cell("node-fastify", "json", 1, 100.0, 1.0, 0.1);
    bad.trials[1].index = bad.trials[0].index;
    let err = store.record_cell(id, &bad).unwrap_err();
    // SQLite's own words are the error's source, printed after it in the chain.
    let text = bakeoff::error::chain(&err);
    assert!(text.contains("UNIQUE"), "{text}");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
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
    // A cell is recorded once; a second copy is refused and changes nothing.
    let err = store.record_cell(id, &good).unwrap_err();
    assert!(
        err.to_string()
            .contains("already has a cell for node-fastify json ×1"),
        "{err}"
    );
    assert_eq!(count(&raw(&path), "trials"), 3);
    assert!(matches!(
        store.record_cell(id + 1, &good),
        Err(StoreError::NoSuchRun(_))
    ));
}

#[test]
fn a_write_lock_held_elsewhere_gives_a_clear_error_not_corruption() {
    let (_dir, path) = temp_db();
    let mut store = Store::open_with_timeout(&path, Duration::from_millis(200)).unwrap();
    let id = begin(&mut store, "2026-11-28T12:00:00Z");
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
    assert_eq!(
        r.contenders,
        ["node-fastify", "python-flask", "python-flask@sync"]
    );
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

/// The equal-load rates to reuse come from the newest *complete* run of the
/// same plan; an interrupted run, or one with other settings, is passed over.
#[test]
fn the_newest_complete_run_of_the_same_plan_gives_its_equal_load_rates() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.previous_equal_rates(&settings()).unwrap(), None);
    let cell = |cpu| ok_cell("node-fastify", "json", 1, 12_000.0, 2.4, cpu);
    let older = write_run(
        &mut store,
        "2026-11-28T10:00:00Z",
        vec![cell(0.1)],
        RunStatus::Complete,
    );
    let mut newer = vec![cell(0.1)];
    newer[0].equal_load.as_mut().unwrap().target_rps = 1_200.0;
    let newer = write_run(
        &mut store,
        "2026-11-28T11:00:00Z",
        newer,
        RunStatus::Complete,
    );
    write_run(
        &mut store,
        "2026-11-28T12:00:00Z",
        vec![cell(0.1)],
        RunStatus::Interrupted,
    );
    let got = store.previous_equal_rates(&settings()).unwrap().unwrap();
    assert_ne!(got.run_id, older.id);
    assert_eq!(got.run_id, newer.id);
    assert_eq!(got.rates, vec![(Workload::Json, 1, None, 1_200.0)]);
    let other = Settings {
        slo_p99_ms: 50.0,
        ..settings()
    };
    assert_eq!(store.previous_equal_rates(&other).unwrap(), None);
}
