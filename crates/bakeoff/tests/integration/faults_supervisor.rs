//! The supervisor against the fault fixtures: a contender that never gets healthy,
//! ignores SIGTERM, forks children that stay in its group or escape it with
//! setsid(), loses its port to another process, or crashes under load. Every
//! start and stop is bounded, and no process carrying the test's marker remains.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use bakeoff::contender::supervisor::{Running, SpawnSpec, SuperviseError};
use bakeoff::contender::Contender;
use tokio_util::sync::CancellationToken;

use crate::hardening::{fixture, Marker, MARKER_VAR};

/// A spec for fault fixture `name`, with the marker and an events file in its
/// environment and its logs (and the port thief's state) under `tmp`.
fn fault_spec(name: &str, marker: &Marker, tmp: &Path) -> SpawnSpec {
    let c = Contender::load(&fixture(name)).unwrap();
    let m = &c.manifest;
    SpawnSpec {
        name: m.name.clone(),
        dir: c.dir.clone(),
        command: m.start.command.clone(),
        workers: 1,
        python: "python3".into(),
        env: vec![
            (MARKER_VAR.into(), marker.0.clone()),
            (
                "BAKEOFF_TEST_EVENTS".into(),
                tmp.join("events").display().to_string(),
            ),
            ("BAKEOFF_FAULT_STATE".into(), tmp.display().to_string()),
        ],
        path_dirs: Vec::new(),
        health_path: m.start.health_path.clone(),
        start_timeout: m.start.start_timeout,
        stop_grace: m.start.stop_grace,
        log_dir: tmp.join("logs"),
        cpus: None,
    }
}

/// Pids the fixture logged as `<prefix> <pid>` in its events file.
fn logged_pids(tmp: &Path, prefix: &str) -> Vec<i32> {
    std::fs::read_to_string(tmp.join("events"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
        .collect()
}

#[tokio::test]
async fn never_healthy_fails_within_its_start_timeout() {
    let marker = Marker::new();
    let tmp = tempfile::tempdir().unwrap();
    let spec = fault_spec("never-healthy", &marker, tmp.path());
    let t = Instant::now();
    let err = Running::start(&spec, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        t.elapsed() < spec.start_timeout + Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    let msg = err.to_string();
    assert!(matches!(err, SuperviseError::Unhealthy { .. }), "{msg}");
    assert!(msg.contains("status 503"), "{msg}");
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[tokio::test]
async fn a_contender_ignoring_sigterm_is_killed_after_its_grace() {
    let marker = Marker::new();
    let tmp = tempfile::tempdir().unwrap();
    let spec = fault_spec("sigterm-hang", &marker, tmp.path());
    let running = Running::start(&spec, &CancellationToken::new())
        .await
        .unwrap();
    let t = Instant::now();
    let outcome = running.stop().await;
    let took = t.elapsed();
    assert!(
        !outcome.graceful,
        "it ignores SIGTERM, yet stopped gracefully"
    );
    assert!(
        took >= spec.stop_grace,
        "SIGKILL before the grace period: {took:?}"
    );
    assert!(
        took < spec.stop_grace + Duration::from_secs(15),
        "stop took {took:?}"
    );
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[tokio::test]
async fn children_left_in_the_group_die_with_it() {
    let marker = Marker::new();
    let tmp = tempfile::tempdir().unwrap();
    let spec = fault_spec("fork-ingroup", &marker, tmp.path());
    let running = Running::start(&spec, &CancellationToken::new())
        .await
        .unwrap();
    let children = logged_pids(tmp.path(), "child ");
    assert_eq!(children.len(), 2, "the fixture forks two children");
    let members = running.pids();
    for c in &children {
        assert!(
            members.contains(&(*c as u32)),
            "child {c} not in the group {members:?}"
        );
    }
    assert_eq!(marker.survivors().len(), 3, "{:?}", marker.survivors());
    running.stop().await;
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[tokio::test]
async fn a_child_that_calls_setsid_is_reaped_too() {
    let marker = Marker::new();
    let tmp = tempfile::tempdir().unwrap();
    let spec = fault_spec("fork-setsid", &marker, tmp.path());
    let running = Running::start(&spec, &CancellationToken::new())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while logged_pids(tmp.path(), "escaped ").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let escaped = logged_pids(tmp.path(), "escaped ");
    assert_eq!(escaped.len(), 1, "the fixture forks one setsid child");
    assert!(
        !running.pids().contains(&(escaped[0] as u32)),
        "the setsid child should have left the process group"
    );
    running.stop().await;
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[tokio::test]
async fn a_stolen_port_is_retried_on_another() {
    let marker = Marker::new();
    let tmp = tempfile::tempdir().unwrap();
    let spec = fault_spec("port-thief", &marker, tmp.path());
    let running = Running::start(&spec, &CancellationToken::new())
        .await
        .unwrap();
    let starts = logged_pids(tmp.path(), "start ");
    assert_eq!(
        starts.len(),
        2,
        "one failed start (EADDRINUSE), one retry: {starts:?}"
    );
    let logs: Vec<String> = std::fs::read_dir(tmp.path().join("logs"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(
        logs.iter().any(|l| l.contains("Address already in use")),
        "no log shows the lost port: {logs:?}"
    );
    // The thief (a forked helper of the first attempt) died with that attempt.
    assert_eq!(marker.survivors().len(), 1, "{:?}", marker.survivors());
    running.stop().await;
    marker.assert_no_orphans(Duration::from_secs(10));
}

/// One `GET /json` on a fresh connection; the status code, if any.
pub(crate) fn get_json(port: u16) -> Option<u16> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_crash_under_load_is_seen_with_its_exit_status() {
    let marker = Marker::new();
    let tmp = tempfile::tempdir().unwrap();
    let spec = fault_spec("crash-mid", &marker, tmp.path());
    let mut running = Running::start(&spec, &CancellationToken::new())
        .await
        .unwrap();
    let port = running.port();
    let served = tokio::task::spawn_blocking(move || {
        (0..80).filter(|_| get_json(port) == Some(200)).count()
    })
    .await
    .unwrap();
    assert_eq!(served, 50, "the fixture serves 50 /json, then exits");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = running.try_exited() {
            break s;
        }
        assert!(Instant::now() < deadline, "the crash was not noticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(7));
    assert!(
        running.log_tail().contains("exiting after 50"),
        "{}",
        running.log_tail()
    );
    running.stop().await;
    marker.assert_no_orphans(Duration::from_secs(10));
}
