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

/// The phase of a run a signal is timed to, with the fixture that holds it there.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Setup,
    ContenderStart,
    Verification,
    Measuring,
}

impl Phase {
    /// The fixture and `--duration-scale` that make the phase last.
    fn fixture(self) -> (&'static str, &'static str) {
        match self {
            Phase::Setup => ("slow-setup", "0.05"),
            Phase::ContenderStart => ("slow-start", "0.05"),
            // The slowloris fixture holds verification on its first /json for seconds.
            Phase::Verification => ("slowloris", "0.05"),
            Phase::Measuring => ("steady", "1"),
        }
    }

    fn reached(self, area: &Area) -> bool {
        let events = area.events();
        match self {
            Phase::Setup => has_event(&events, "setup"),
            Phase::ContenderStart => has_event(&events, "start "),
            Phase::Verification => json_served(&events) >= 1,
            // Verification serves fewer than 50 /json (the crash-mid fixture
            // passes it), so more than 60 means the load is on.
            Phase::Measuring => json_served(&events) > 60,
        }
    }
}

/// Start a run whose fixture holds `phase` and wait (bounded) until it is there.
fn run_reaching(marker: &Marker, phase: Phase) -> (Area, Child) {
    let area = Area::new();
    let (fixture, scale) = phase.fixture();
    let child = spawn_run(marker, &area, fixture, scale);
    wait_until(&format!("{phase:?}"), Duration::from_secs(90), || {
        phase.reached(&area)
    });
    (area, child)
}

/// Interrupt a run in `phase` with `signals`: exit 130 and a clean state.
fn interrupt_during(phase: Phase, signals: &[i32]) {
    let marker = Marker::new();
    let (area, child) = run_reaching(&marker, phase);
    interrupt(&marker, &area, child, signals);
    if phase == Phase::Measuring {
        assert_eq!(area.latest().status, RunStatus::Interrupted);
    }
}

#[test]
fn sigint_during_setup() {
    interrupt_during(Phase::Setup, &[libc::SIGINT]);
}

#[test]
fn sigterm_during_setup() {
    interrupt_during(Phase::Setup, &[libc::SIGTERM]);
}

#[test]
fn sigint_while_a_contender_starts() {
    interrupt_during(Phase::ContenderStart, &[libc::SIGINT]);
}

#[test]
fn sigint_during_verification() {
    interrupt_during(Phase::Verification, &[libc::SIGINT]);
}

#[test]
fn sigint_then_sigterm_during_verification() {
    interrupt_during(Phase::Verification, &[libc::SIGINT, libc::SIGTERM]);
}

#[test]
fn sigterm_while_measuring() {
    interrupt_during(Phase::Measuring, &[libc::SIGTERM]);
}

#[test]
fn sigint_then_sigterm_while_measuring() {
    interrupt_during(Phase::Measuring, &[libc::SIGINT, libc::SIGTERM]);
}

#[test]
fn sigkill_mid_run_leaves_a_database_the_next_start_repairs() {
    let marker = Marker::new();
    let (area, child) = run_reaching(&marker, Phase::Measuring);
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
fn sighup_while_measuring() {
    // The terminal closed: the same cleanup as Ctrl-C.
    interrupt_during(Phase::Measuring, &[libc::SIGHUP]);
}

/// `merge` blocked reading a pipe that never ends: the first signal cannot
/// reach it; a second bounds the wait, a third ends it at once.
#[test]
fn repeated_signals_end_a_command_blocked_on_a_pipe() {
    let marker = Marker::new();
    let child = marker
        .bakeoff()
        .args(["merge", "/dev/stdin", "/dev/stdin"])
        .stdin(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn bakeoff merge");
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..3 {
        signal(child.id(), libc::SIGINT);
        std::thread::sleep(Duration::from_millis(300));
    }
    // The child's stdin (its pipe's write end) is still open in `child`.
    let done = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(done.code(), Some(130), "stderr: {}", done.stderr);
    assert!(
        done.stderr.contains("stopped without cleaning up"),
        "{}",
        done.stderr
    );
}
