//! Interrupting `bakeoff run`: SIGINT, SIGTERM, both, and SIGKILL, timed to a phase
//! (setup, contender start, verification, measuring) by the fixtures' events file.
//! A handled signal exits 130, marks the run `interrupted` (when it was begun),
//! leaves a database that passes `PRAGMA integrity_check`, and no process behind.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use bakeoff::model::RunStatus;
use bakeoff::store::Store;

use crate::faults_run::{integrity_ok, Area};
use crate::hardening::{run_bounded, signal, wait_bounded, Finished, Marker};

/// How many `/json` requests the fixture has served, from its events file.
fn json_served(events: &Path) -> usize {
    std::fs::read_to_string(events)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("json "))
        .count()
}

/// Wait (bounded) until `ready` holds; the test fails if it never does.
fn wait_until(what: &str, limit: Duration, ready: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "never reached: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn has_event(events: &Path, prefix: &str) -> bool {
    std::fs::read_to_string(events)
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with(prefix))
}

fn spawn_run(marker: &Marker, area: &Area, fixture: &str, scale: &str) -> Child {
    area.run_cmd(marker, &[fixture], scale)
        .process_group(0)
        .spawn()
        .expect("spawn bakeoff run")
}

/// Send `signals` (with a short gap), then expect exit 130 within 20 s and a clean state.
fn interrupt(marker: &Marker, area: &Area, child: Child, signals: &[i32]) -> Finished {
    let pid = child.id();
    for (i, &sig) in signals.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(200));
        }
        signal(pid, sig);
    }
    let done = wait_bounded(child, Duration::from_secs(20));
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.code(), Some(130), "stderr: {}", done.stderr);
    marker.assert_no_orphans(Duration::from_secs(10));
    if area.db().exists() {
        integrity_ok(&area.db());
        let store = Store::open(&area.db()).unwrap();
        for run in store.list_runs().unwrap() {
            assert_eq!(run.status, RunStatus::Interrupted, "run {}", run.id);
        }
    }
    done
}

#[test]
fn sigint_during_setup() {
    let marker = Marker::new();
    let area = Area::new();
    let child = spawn_run(&marker, &area, "slow-setup", "0.05");
    wait_until("the setup command runs", Duration::from_secs(60), || {
        has_event(&area.events(), "setup")
    });
    interrupt(&marker, &area, child, &[libc::SIGINT]);
}

#[test]
fn sigint_while_a_contender_starts() {
    let marker = Marker::new();
    let area = Area::new();
    let child = spawn_run(&marker, &area, "slow-start", "0.05");
    wait_until("the contender starts", Duration::from_secs(60), || {
        has_event(&area.events(), "start ")
    });
    interrupt(&marker, &area, child, &[libc::SIGINT]);
}

#[test]
fn sigint_during_verification() {
    let marker = Marker::new();
    let area = Area::new();
    // The slowloris fixture holds verification on its first /json for seconds.
    let child = spawn_run(&marker, &area, "slowloris", "0.05");
    wait_until(
        "verification reaches /json",
        Duration::from_secs(60),
        || json_served(&area.events()) >= 1,
    );
    interrupt(&marker, &area, child, &[libc::SIGINT]);
}

/// Verification serves fewer than 50 /json (the crash-mid fixture passes it), so
/// more than 60 means the load is on.
fn measuring(area: &Area) -> bool {
    json_served(&area.events()) > 60
}

#[test]
fn sigint_then_sigterm_while_measuring() {
    let marker = Marker::new();
    let area = Area::new();
    let child = spawn_run(&marker, &area, "steady", "1");
    wait_until("measuring", Duration::from_secs(90), || measuring(&area));
    interrupt(&marker, &area, child, &[libc::SIGINT, libc::SIGTERM]);
    let run = area.latest();
    assert_eq!(run.status, RunStatus::Interrupted);
}

#[test]
fn sigterm_while_measuring() {
    let marker = Marker::new();
    let area = Area::new();
    let child = spawn_run(&marker, &area, "steady", "1");
    wait_until("measuring", Duration::from_secs(90), || measuring(&area));
    interrupt(&marker, &area, child, &[libc::SIGTERM]);
    assert_eq!(area.latest().status, RunStatus::Interrupted);
}

#[test]
fn sigkill_mid_run_leaves_a_database_the_next_start_repairs() {
    let marker = Marker::new();
    let area = Area::new();
    let child = spawn_run(&marker, &area, "steady", "1");
    wait_until("measuring", Duration::from_secs(90), || measuring(&area));
    signal(child.id(), libc::SIGKILL);
    let done = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(done.status.code(), None, "killed by a signal");
    let runs = run_bounded(
        marker
            .bakeoff()
            .args(["runs", "--json", "--db"])
            .arg(area.db()),
        Duration::from_secs(30),
    );
    assert_eq!(runs.code(), Some(0), "{}", runs.stderr);
    let listed: serde_json::Value = serde_json::from_str(&runs.stdout).unwrap();
    assert_eq!(listed[0]["status"], "interrupted", "{listed}");
    integrity_ok(&area.db());
    // SIGKILL cannot be handled: the contender outlives bakeoff, until the next
    // `bakeoff run` reaps what a dead bakeoff left (the run fails fast on --trials 0).
    // (A parallel test's `bakeoff run` may already have reaped it.)
    assert!(marker.survivors().len() <= 1, "{:?}", marker.survivors());
    let next = run_bounded(
        area.run_cmd(&marker, &["steady"], "0.05")
            .args(["--trials", "0"]),
        Duration::from_secs(30),
    );
    assert_eq!(next.code(), Some(2), "{}", next.stderr);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn sigterm_during_setup() {
    let marker = Marker::new();
    let area = Area::new();
    let child = spawn_run(&marker, &area, "slow-setup", "0.05");
    wait_until("the setup command runs", Duration::from_secs(60), || {
        has_event(&area.events(), "setup")
    });
    interrupt(&marker, &area, child, &[libc::SIGTERM]);
}

#[test]
fn sigint_then_sigterm_during_verification() {
    let marker = Marker::new();
    let area = Area::new();
    let child = spawn_run(&marker, &area, "slowloris", "0.05");
    wait_until(
        "verification reaches /json",
        Duration::from_secs(60),
        || json_served(&area.events()) >= 1,
    );
    interrupt(&marker, &area, child, &[libc::SIGINT, libc::SIGTERM]);
}
