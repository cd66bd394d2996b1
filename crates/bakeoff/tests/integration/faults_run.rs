//! `bakeoff run` with fault contenders: every fault becomes a failed cell with a
//! clear reason while the other contenders are still measured; contenders that
//! misbehave on stop are still cleaned up; the run completes, never hangs, never
//! panics, and leaves no process behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bakeoff::model::{Cell, CellStatus, Flag, Run, RunStatus, TrialOutcome};
use bakeoff::store::Store;
use bakeoff::workload::Workload;

use crate::hardening::{fixture, run_bounded, Finished, Marker};

/// A run's working area: results directory, database, events file.
pub(crate) struct Area {
    pub dir: tempfile::TempDir,
}

impl Area {
    pub(crate) fn new() -> Area {
        Area {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.dir.path().join("bakeoff.db")
    }

    pub(crate) fn results(&self) -> PathBuf {
        self.dir.path().join("results")
    }

    pub(crate) fn events(&self) -> PathBuf {
        self.dir.path().join("events")
    }

    /// `bakeoff run` of these fault fixtures on `json` at a duration scale, with
    /// this area's database and results directory.
    pub(crate) fn run_cmd(&self, marker: &Marker, fixtures: &[&str], scale: &str) -> Command {
        self.run_cmd_at(marker, fixtures, scale, &self.db(), &self.results())
    }

    /// [`Area::run_cmd`] with another database and results directory.
    pub(crate) fn run_cmd_at(
        &self,
        marker: &Marker,
        fixtures: &[&str],
        scale: &str,
        db: &Path,
        results: &Path,
    ) -> Command {
        let mut cmd = marker.bakeoff();
        cmd.arg("run");
        for f in fixtures {
            cmd.arg("--contender").arg(fixture(f));
        }
        cmd.args(["--workloads", "json", "--duration-scale", scale, "-q"])
            .arg("--db")
            .arg(db)
            .arg("--results-dir")
            .arg(results)
            .env("BAKEOFF_TEST_EVENTS", self.events())
            .env("BAKEOFF_FAULT_STATE", self.dir.path());
        cmd
    }

    /// The latest stored run.
    pub(crate) fn latest(&self) -> Run {
        let store = Store::open(&self.db()).expect("the database opens");
        let id = store.resolve("latest").expect("a run is stored");
        store.load_run(id).unwrap()
    }
}

/// `PRAGMA integrity_check` on a database file.
pub(crate) fn integrity_ok(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verdict, "ok", "integrity_check of {}", db.display());
}

/// Run the fault fixtures; the run must exit 0 (some cell measured).
fn run_faults(marker: &Marker, area: &Area, fixtures: &[&str], limit: u64) -> Finished {
    let done = run_bounded(
        &mut area.run_cmd(marker, fixtures, "0.05"),
        Duration::from_secs(limit),
    );
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), Some(0), "stderr: {}", done.stderr);
    done
}

/// A run in which no cell was measured: it is stored, and exits 1 saying so.
fn assert_measured_nothing(done: &Finished) {
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), Some(1), "stderr: {}", done.stderr);
    assert!(done.stderr.contains("measured no cell"), "{}", done.stderr);
}

fn cell<'a>(run: &'a Run, contender: &str) -> &'a Cell {
    run.cells
        .iter()
        .find(|c| c.contender == contender && c.workload == Workload::Json)
        .unwrap_or_else(|| panic!("no json cell for {contender}: {:?}", run.cells))
}

/// The failure reason of a contender's json cell (the test fails if it is not failed).
fn failure(run: &Run, contender: &str) -> String {
    match &cell(run, contender).status {
        CellStatus::Failed { reason } => reason.clone(),
        other => panic!("{contender}: expected a failed cell, got {other:?}"),
    }
}

#[test]
fn contract_breakers_fail_their_cells_and_the_run_continues() {
    let marker = Marker::new();
    let area = Area::new();
    let fixtures = ["garbage", "huge-body", "closer", "never-healthy", "steady"];
    run_faults(&marker, &area, &fixtures, 180);
    let run = area.latest();
    assert_eq!(run.status, RunStatus::Complete);
    let expect = [
        ("fault-garbage", "malformed HTTP response"),
        ("fault-huge-body", "larger than"),
        ("fault-closer", "closed before the response"),
        ("fault-never-healthy", "health check"),
    ];
    for (name, needle) in expect {
        let reason = failure(&run, name);
        assert!(reason.contains(needle), "{name}: {reason}");
    }
    assert!(cell(&run, "fault-steady").status.is_ok(), "{:?}", run.cells);
    integrity_ok(&area.db());
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn a_slowloris_contender_fails_within_the_verifier_timeout() {
    let marker = Marker::new();
    let area = Area::new();
    let done = run_bounded(
        &mut area.run_cmd(&marker, &["slowloris"], "0.05"),
        Duration::from_secs(120),
    );
    assert_measured_nothing(&done);
    assert!(
        done.stderr.contains("fault-slowloris json"),
        "{}",
        done.stderr
    );
    let reason = failure(&area.latest(), "fault-slowloris");
    assert!(reason.contains("no complete response"), "{reason}");
    assert!(done.took < Duration::from_secs(60), "took {:?}", done.took);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn a_crash_mid_measurement_fails_the_cell_with_the_exit_status() {
    let marker = Marker::new();
    let area = Area::new();
    run_faults(&marker, &area, &["crash-mid", "steady"], 180);
    let run = area.latest();
    let reason = failure(&run, "fault-crash-mid");
    assert!(reason.contains("exit status: 7"), "{reason}");
    assert!(
        reason.contains("exiting after 50"),
        "the log tail is kept: {reason}"
    );
    assert!(cell(&run, "fault-steady").status.is_ok(), "{:?}", run.cells);
    marker.assert_no_orphans(Duration::from_secs(10));
}

/// A server that passes verification and then answers 500 to every request
/// is failing, not slow: its cell is measured (not a failed launch), each
/// trial ends `failing` with no sample, the cell is flagged and has no
/// capacity (never a 0 that verdicts would count).
#[test]
fn a_server_answering_only_errors_under_load_is_failing_not_slow() {
    let marker = Marker::new();
    let area = Area::new();
    // Its search steps down to 1 req/s, whose windows need seconds to hold a
    // few requests: a scaled-down run's time limit ends it truncated first.
    let done = run_bounded(
        &mut area.run_cmd(&marker, &["errors-mid"], "1"),
        Duration::from_secs(240),
    );
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), Some(0), "stderr: {}", done.stderr);
    let run = area.latest();
    let c = cell(&run, "fault-errors-mid");
    assert!(
        c.status.is_ok(),
        "measured, not a failed launch: {:?}",
        c.status
    );
    assert!(!c.trials.is_empty());
    // A stalling machine does not hide it: no stall makes a server answer 500.
    for t in &c.trials {
        assert_eq!(t.outcome, TrialOutcome::Failing, "{:?}", t.note);
        assert_eq!(t.capacity_rps, None);
    }
    assert!(
        c.capacity.is_none(),
        "no 0 that verdicts count: {:?}",
        c.capacity
    );
    assert!(c.flags.contains(&Flag::Failing), "{:?}", c.flags);
    assert!(done.stdout.contains("failing"), "{}", done.stdout);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn contenders_that_resist_stopping_are_measured_and_leave_nothing() {
    let marker = Marker::new();
    let area = Area::new();
    let fixtures = ["sigterm-hang", "fork-ingroup", "fork-setsid", "port-thief"];
    run_faults(&marker, &area, &fixtures, 240);
    let run = area.latest();
    for name in fixtures {
        let c = cell(&run, &format!("fault-{name}"));
        assert!(c.status.is_ok(), "{name}: {:?}", c.status);
    }
    let events = std::fs::read_to_string(area.events()).unwrap_or_default();
    assert!(
        events.lines().any(|l| l.starts_with("escaped ")),
        "{events}"
    );
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn missing_runtimes_fail_their_cells_with_a_clear_reason() {
    let marker = Marker::new();
    let area = Area::new();
    let empty = area.dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    // No python3 and no node (nor anything else) on PATH.
    let npm_tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npm-tiny");
    let mut cmd = area.run_cmd(&marker, &["steady"], "0.05");
    cmd.arg("--contender")
        .arg(npm_tiny)
        .args(["--workloads", "plaintext"])
        .env("PATH", &empty);
    let done = run_bounded(&mut cmd, Duration::from_secs(60));
    assert_measured_nothing(&done);
    let run = area.latest();
    let reason = failure(&run, "fault-steady");
    assert!(
        reason.contains("`python3` was not found on PATH"),
        "{reason}"
    );
    let node = run
        .cells
        .iter()
        .find(|c| c.contender == "npm-tiny" && c.workload == Workload::Plaintext)
        .map(|c| c.status.clone());
    match node {
        Some(CellStatus::Failed { reason }) => {
            assert!(reason.contains("`node` was not found on PATH"), "{reason}")
        }
        other => panic!("npm-tiny plaintext: {other:?}"),
    }
    marker.assert_no_orphans(Duration::from_secs(10));
}
