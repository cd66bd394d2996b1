//! The supervisor against real fixture processes: start errors carry the log tail
//! within the timeout, the process tree is known, and nothing survives a stop, a
//! drop or a cancellation.

use std::time::{Duration, Instant};

use bakeoff::contender::procs;
use bakeoff::contender::supervisor::{free_port, probe, Running, SuperviseError};
use tokio_util::sync::CancellationToken;

use crate::contender::{installed, spec};

/// Poll until the group has no live member (bounded), then assert it.
async fn assert_group_gone(pgid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !procs::live_members(pgid).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        procs::live_members(pgid),
        Vec::<u32>::new(),
        "processes left in group {pgid}"
    );
}

/// Install fixture `name` in a fresh directory and start it with `workers`: the
/// directory (keep it while the contender runs), the outcome and how long the
/// start took.
async fn start(
    name: &str,
    workers: u32,
) -> (tempfile::TempDir, Result<Running, SuperviseError>, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    let inst = installed(name, tmp.path()).await;
    let t = Instant::now();
    let outcome =
        Running::start(&spec(&inst, workers, tmp.path()), &CancellationToken::new()).await;
    (tmp, outcome, t.elapsed())
}

#[tokio::test]
async fn a_crash_at_start_is_reported_with_the_log_tail() {
    let (_tmp, outcome, took) = start("crashing", 1).await;
    let err = outcome.unwrap_err();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let msg = err.to_string();
    assert!(matches!(err, SuperviseError::ExitedEarly { .. }), "{msg}");
    assert!(msg.contains("crashing exited (exit status: 3)"), "{msg}");
    assert!(
        msg.contains("cannot load configuration: /etc/fixture.conf missing"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_contender_that_never_becomes_healthy_times_out_with_the_log_tail() {
    let (_tmp, outcome, took) = start("unhealthy", 1).await;
    let err = outcome.unwrap_err();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(20),
        "took {took:?}"
    );
    let msg = err.to_string();
    assert!(matches!(err, SuperviseError::Unhealthy { .. }), "{msg}");
    assert!(
        msg.contains("within 2s (last attempt: GET /health: status 503)"),
        "{msg}"
    );
    assert!(msg.contains("fixture unhealthy: listening"), "{msg}");
}

#[tokio::test]
async fn a_healthy_contender_runs_reports_its_tree_and_stops_cleanly() {
    let (_tmp, outcome, _) = start("healthy", 3).await;
    let running = outcome.unwrap();
    let pgid = running.pgid();
    // The leader plus two forked workers.
    let pids = running.pids();
    assert!(pids.len() >= 3 && pids.contains(&pgid), "{pids:?}");
    assert!(running.startup_time() > Duration::ZERO);
    assert!(running.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        probe(running.port(), "/plaintext", Duration::from_secs(2)).await,
        Ok(200)
    );
    let log = std::fs::read_to_string(running.log_path()).unwrap();
    assert!(log.contains("with 3 worker(s)"), "{log}");
    let out = running.stop().await;
    assert!(out.graceful, "{out:?}");
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn a_forked_child_that_ignores_sigterm_is_killed_with_the_group() {
    let (_tmp, outcome, _) = start("forking", 1).await;
    let running = outcome.unwrap();
    let pgid = running.pgid();
    assert!(running.pids().len() >= 2, "{:?}", running.pids());
    let t = Instant::now();
    let out = running.stop().await;
    assert!(
        !out.graceful,
        "the child ignores SIGTERM, so SIGKILL was needed"
    );
    assert!(t.elapsed() < Duration::from_secs(15));
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn a_leader_that_ignores_sigterm_gets_sigkill_after_the_grace() {
    let (_tmp, outcome, _) = start("stubborn", 1).await;
    let running = outcome.unwrap();
    let pgid = running.pgid();
    let t = Instant::now();
    let out = running.stop().await;
    let took = t.elapsed();
    assert!(!out.graceful);
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(15),
        "{took:?}"
    );
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn dropping_a_running_contender_kills_its_group() {
    let (_tmp, outcome, _) = start("forking", 1).await;
    let running = outcome.unwrap();
    let pgid = running.pgid();
    drop(running);
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn cancellation_during_start_returns_promptly_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = installed("unhealthy", tmp.path()).await;
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        c2.cancel();
    });
    let t = Instant::now();
    let err = Running::start(&spec(&inst, 1, tmp.path()), &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, SuperviseError::Cancelled { .. }), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    // The error carries no pgid: find our processes by their unique environment.
    let marker = format!(
        "BAKEOFF_SQLITE={}",
        tmp.path().join("unused.sqlite").display()
    );
    assert_eq!(
        crate::contender::live_processes_with("environ", &marker),
        Vec::<u32>::new()
    );
}

#[tokio::test]
async fn a_missing_program_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = installed("healthy", tmp.path()).await;
    let mut s = spec(&inst, 1, tmp.path());
    s.command = vec!["bakeoff-no-such-program".into()];
    let msg = Running::start(&s, &CancellationToken::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("`bakeoff-no-such-program`") && msg.contains("PATH"),
        "{msg}"
    );
}

#[tokio::test]
async fn pinning_applies_to_the_whole_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = installed("healthy", tmp.path()).await;
    let mut s = spec(&inst, 2, tmp.path());
    s.cpus = Some(vec![0]);
    let running = Running::start(&s, &CancellationToken::new()).await.unwrap();
    for pid in running.pids() {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("Cpus_allowed_list"))
            .unwrap();
        assert!(line.ends_with("\t0"), "pid {pid}: {line}");
    }
    let pgid = running.pgid();
    running.stop().await;
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn pinning_to_a_cpu_we_do_not_have_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = installed("healthy", tmp.path()).await;
    let mut s = spec(&inst, 1, tmp.path());
    s.cpus = Some(vec![1000]);
    let msg = Running::start(&s, &CancellationToken::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("cannot pin healthy to CPUs [1000]"), "{msg}");
}

#[tokio::test]
async fn a_leader_that_dies_early_does_not_leave_its_children() {
    let (tmp, outcome, _) = start("orphaning", 1).await;
    let err = outcome.unwrap_err();
    assert!(matches!(err, SuperviseError::ExitedEarly { .. }), "{err}");
    assert!(err.to_string().contains("leaving a child behind"), "{err}");
    let marker = format!(
        "BAKEOFF_SQLITE={}",
        tmp.path().join("unused.sqlite").display()
    );
    assert_eq!(
        crate::contender::live_processes_with("environ", &marker),
        Vec::<u32>::new()
    );
}

/// Fixture `healthy` started with its ports from `ports`: the directory (keep
/// it while the contender runs) and the outcome.
async fn start_on_ports(
    ports: impl FnMut() -> std::io::Result<u16>,
) -> (tempfile::TempDir, Result<Running, SuperviseError>) {
    let tmp = tempfile::tempdir().unwrap();
    let inst = installed("healthy", tmp.path()).await;
    let outcome = Running::start_with_ports(
        &spec(&inst, 1, tmp.path()),
        &CancellationToken::new(),
        ports,
    )
    .await;
    (tmp, outcome)
}

/// Two bakeoffs given the same port (each picked it while it was free): the
/// rival's contender answers the health check meant for ours. The start must
/// notice the listener is not its own and move to another port, never hand
/// back a contender whose traffic goes to someone else's process.
#[tokio::test]
async fn a_port_answered_by_another_bakeoffs_contender_is_given_up() {
    let (_tmp, rival, _) = start("healthy", 1).await;
    let rival = rival.unwrap();
    let taken = rival.port();
    let mut handed = Vec::new();
    let (_ours_tmp, ours) = start_on_ports(|| {
        let port = if handed.is_empty() {
            taken
        } else {
            free_port()?
        };
        handed.push(port);
        Ok(port)
    })
    .await;
    let ours = ours.unwrap();
    assert_eq!(handed.first(), Some(&taken));
    assert_ne!(ours.port(), taken, "started on the rival's port");
    // Our own processes hold the listener we measure.
    let inodes = procs::listening_inodes(ours.port());
    assert!(
        ours.pids()
            .iter()
            .any(|&pid| procs::holds_socket(pid, &inodes)),
        "{inodes:?} not held by {:?}",
        ours.pids()
    );
    // The rival was left alone.
    assert_eq!(
        probe(taken, "/health", Duration::from_secs(2)).await,
        Ok(200)
    );
    let (a, b) = (ours.pgid(), rival.pgid());
    ours.stop().await;
    rival.stop().await;
    assert_group_gone(a).await;
    assert_group_gone(b).await;
}

/// Every port handed out taken by a rival: the start gives up after its
/// attempts with an error naming the rival and the fix, and leaves nothing.
#[tokio::test]
async fn a_port_always_answered_by_a_rival_ends_in_a_clear_error() {
    let (_tmp, rival, _) = start("healthy", 1).await;
    let rival = rival.unwrap();
    let taken = rival.port();
    let mut attempts = 0;
    let (tmp, outcome) = start_on_ports(|| {
        attempts += 1;
        Ok(taken)
    })
    .await;
    let err = outcome.unwrap_err();
    assert_eq!(attempts, 3);
    let msg = err.to_string();
    assert!(matches!(err, SuperviseError::PortClash { .. }), "{msg}");
    assert!(msg.contains(&format!("pids [{}", rival.pgid())), "{msg}");
    assert!(msg.contains("the last of 3 ports tried"), "{msg}");
    assert!(msg.contains("run them one after another"), "{msg}");
    // None of our attempts survived; the rival still serves.
    let marker = format!("{}", tmp.path().display());
    assert_eq!(
        crate::contender::live_processes_with("environ", &marker),
        Vec::<u32>::new()
    );
    assert_eq!(
        probe(taken, "/health", Duration::from_secs(2)).await,
        Ok(200)
    );
    let pgid = rival.pgid();
    rival.stop().await;
    assert_group_gone(pgid).await;
}
