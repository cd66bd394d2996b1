//! `bakeoff serve` end to end on fault fixtures: the base URL is the one line
//! on stdout once the app is healthy, `--env` reaches the app, the app is
//! pinned off bakeoff's own core, Ctrl-C and `--for` stop it with nothing
//! left running, and an app that exits on its own ends serve with status 1.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

use crate::faults_supervisor::get_json;
use crate::hardening::{fixture, signal, wait_bounded, Marker};

/// `bakeoff serve --contender <fault fixture>` with `args`, started in its own
/// process group, its results and cache in `dir`.
fn serve(name: &str, args: &[&str], dir: &Path, marker: &Marker) -> Child {
    marker
        .bakeoff()
        .env("BAKEOFF_CACHE_DIR", dir.join("cache"))
        .env("BAKEOFF_RESULTS_DIR", dir.join("results"))
        .arg("serve")
        .arg("--contender")
        .arg(fixture(name))
        .args(args)
        .process_group(0)
        .spawn()
        .expect("spawn bakeoff serve")
}

/// The port of the base URL serve prints, read within 60 s (the first run
/// generates the data); the stdout pipe is handed back to `child`.
pub(crate) fn port_of(child: &mut Child) -> u16 {
    let out = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep reading so that serve never writes into a closed pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("no base URL on stdout within 60 s");
    let port = line
        .trim()
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse().ok());
    port.unwrap_or_else(|| panic!("stdout's first line is not a loopback base URL: {line:?}"))
}

/// The CPUs a process may run on (`Cpus_allowed_list`: `0-1`, `0,2-3`).
fn cpus_allowed(pid: &str) -> Vec<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap_or_default();
    let mut cpus = Vec::new();
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        cpus.extend(a.parse::<usize>().unwrap()..=b.parse::<usize>().unwrap());
    }
    cpus
}

#[test]
fn serve_keeps_an_app_up_with_its_env_until_ctrl_c_then_reaps_it() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events");
    let marker = Marker::new();
    let env = format!("BAKEOFF_TEST_EVENTS={}", events.display());
    let mut child = serve("steady", &["--env", &env], tmp.path(), &marker);
    let port = port_of(&mut child);
    assert_eq!(get_json(port), Some(200));

    // `--env` reached the app: it logged its start there.
    let log = std::fs::read_to_string(&events).unwrap_or_default();
    let app: u32 = log
        .lines()
        .find_map(|l| l.strip_prefix("start ")?.parse().ok())
        .unwrap_or_else(|| panic!("no start event from the app in {log:?}"));
    // Pinned as `run` pins it: with two CPUs or more, off the first
    // (bakeoff's own and the generator's).
    let ours = cpus_allowed("self");
    let its = cpus_allowed(&app.to_string());
    assert!(!its.is_empty(), "no affinity read for the app ({app})");
    if ours.len() >= 2 {
        assert!(
            !its.contains(&ours[0]),
            "the app may run on {its:?} (ours: {ours:?})"
        );
    }

    signal(child.id(), libc::SIGINT);
    let done = wait_bounded(child, Duration::from_secs(30));
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("stopped"), "{}", done.stderr);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn serve_for_a_while_stops_by_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let mut child = serve("steady", &["--for", "1s"], tmp.path(), &marker);
    let port = port_of(&mut child);
    assert_eq!(get_json(port), Some(200));
    let done = wait_bounded(child, Duration::from_secs(30));
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("stops in 1s"), "{}", done.stderr);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn an_app_that_exits_while_served_ends_serve_with_its_log() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let mut child = serve("crash-mid", &[], tmp.path(), &marker);
    let port = port_of(&mut child);
    // The fixture exits (status 7) after its 50th /json.
    for _ in 0..60 {
        if get_json(port).is_none() {
            break;
        }
    }
    let done = wait_bounded(child, Duration::from_secs(30));
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("exited") && done.stderr.contains("exiting after 50 /json requests"),
        "{}",
        done.stderr
    );
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn serve_refuses_bad_input_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    for (args, want) in [
        (&["--env", "NOEQUALS"][..], "is not KEY=VALUE"),
        (&["--for", "soon"][..], "--for `soon` is not a duration"),
        (&["--workers", "9"][..], "runs 1 to 4 workers"),
    ] {
        let child = serve("steady", args, tmp.path(), &marker);
        let done = wait_bounded(child, Duration::from_secs(30));
        assert_eq!(done.code(), Some(2), "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains(want), "{args:?}: {}", done.stderr);
    }
    // A runtime-derived name on the runtime already on PATH has no derived
    // contender: the plain name serves it.
    let major = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(bakeoff::contender::node_versions::path_major())
        .expect("node on PATH");
    let child = marker
        .bakeoff()
        .env("BAKEOFF_CACHE_DIR", tmp.path().join("cache"))
        .env("BAKEOFF_RESULTS_DIR", tmp.path().join("results"))
        .args([
            "serve",
            &format!("npm-tiny-node{major}"),
            "--contenders-dir",
        ])
        .arg(crate::contender::fixtures_dir())
        .spawn()
        .unwrap();
    let done = wait_bounded(child, Duration::from_secs(60));
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("on the runtime on PATH it goes by its plain name")
            && done.stderr.contains("`bakeoff serve npm-tiny`"),
        "{}",
        done.stderr
    );
    marker.assert_no_orphans(Duration::from_secs(10));
}
