//! `bakeoff verify` end to end on the `broken` fixture contender.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::contender::copy_fixtures;

#[test]
fn verify_names_each_broken_endpoint() {
    let fx = copy_fixtures(&["broken"]);
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["verify", "--contenders", "broken", "--contenders-dir"])
        .arg(fx.path())
        .arg("--results-dir")
        .arg(fx.path().join("results"))
        .env("BAKEOFF_CACHE_DIR", fx.path().join("cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let row = |endpoint: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().nth(2) == Some(endpoint))
            .unwrap_or_else(|| panic!("no row for {endpoint}:\n{stdout}"))
            .to_string()
    };
    for broken in ["json", "fortunes", "queries"] {
        assert!(
            row(broken).contains("FAIL"),
            "{broken} should fail:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("- broken /{broken}: ")),
            "no reason for {broken}:\n{stdout}"
        );
    }
    for fine in ["plaintext", "db"] {
        assert!(row(fine).contains("pass"), "{fine} should pass:\n{stdout}");
    }
    assert!(
        row("ws").contains("n/a (fixture: not implemented)"),
        "{stdout}"
    );
}

#[test]
fn verify_reports_a_contender_that_cannot_start_as_a_failure() {
    let fx = copy_fixtures(&["crashing"]);
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args([
            "verify",
            "--json",
            "--contenders",
            "crashing",
            "--contenders-dir",
        ])
        .arg(fx.path())
        .arg("--results-dir")
        .arg(fx.path().join("results"))
        .env("BAKEOFF_CACHE_DIR", fx.path().join("cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["passed"], false);
    let c = &doc["contenders"][0];
    assert_eq!(c["contender"], "crashing");
    let err = c["error"].as_str().unwrap();
    assert!(err.contains("cannot load configuration"), "{err}");
    assert_eq!(c["endpoints"][0]["status"], "not_applicable");
}

#[test]
fn ctrl_c_during_verify_stops_the_contender_and_exits_130() {
    // Never healthy, and patient: the interrupt lands while bakeoff waits for it.
    let fx = copy_fixtures(&["unhealthy"]);
    let manifest = fx.path().join("unhealthy/bakeoff.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("start_timeout = \"2s\"", "start_timeout = \"60s\""),
    )
    .unwrap();
    let results = fx.path().join("results");
    let child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["verify", "--contenders", "unhealthy", "--contenders-dir"])
        .arg(fx.path())
        .arg("--results-dir")
        .arg(&results)
        .env("BAKEOFF_CACHE_DIR", fx.path().join("cache"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The contender's unique environment entry: its working copy of the database.
    let marker = format!(
        "BAKEOFF_SQLITE={}",
        std::path::absolute(results.join("data/work/unhealthy.sqlite"))
            .unwrap()
            .display()
    );
    let ours = || crate::contender::live_processes_with("environ", &marker);
    // One scan per turn: a process in mid-`exec` (pyenv's shims exec twice)
    // shows an empty environment, so a second scan may miss it.
    let t = Instant::now();
    let mut found = ours();
    while found.is_empty() && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
        found = ours();
    }
    assert!(!found.is_empty(), "the contender never started");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let t = Instant::now();
    while !ours().is_empty() && t.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(ours(), Vec::<u32>::new(), "the contender outlived bakeoff");
}

/// The six reference contenders, installed from their lockfiles, all serve the
/// contract (TechEmpower-style checks of every supported endpoint).
/// `bakeoff verify --json` with `args`: the contenders it verified, after
/// checking that all passed, the exit status is 0 and nothing was left running.
fn verify_all_pass(args: &[&str]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let marker = crate::hardening::Marker::new();
    let out = crate::run::bakeoff(&results, &marker)
        .args(["verify", "--json"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("verify --json printed no JSON ({e}):\n{stdout}\n{stderr}"));
    assert_eq!(doc["passed"], true, "{stdout}\n{stderr}");
    assert_eq!(out.status.code(), Some(0));
    crate::run::assert_no_orphans(&marker);
    doc["contenders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contender"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn all_six_reference_contenders_pass_verify() {
    let names = verify_all_pass(&[]);
    for name in [
        "node-http",
        "node-express",
        "node-fastify",
        "python-flask",
        "python-django",
        "python-fastapi",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "{name} was not verified: {names:?}"
        );
    }
}

/// Every shipped variant passes too: its environment switch really changes the
/// app (the sync workers answer `Connection: close`, which their manifests
/// declare, so verify's keep-alive check holds them to it).
#[test]
fn every_shipped_variant_passes_verify() {
    const VARIANTS: [&str; 5] = [
        "python-flask@sync",
        "python-django@sync",
        "python-fastapi@orm",
        "python-fastapi@aiohttp",
        "node-express@defaults",
    ];
    let names = verify_all_pass(&["--contenders", &VARIANTS.join(",")]);
    assert_eq!(names, VARIANTS);
}
