//! `bakeoff verify` end to end on the `broken` fixture contender.

use std::process::Command;

use crate::contender::copy_fixtures;

#[test]
#[ignore = "needs workload::verify (endpoint checks) and workload::upstream"]
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
            .find(|l| l.split_whitespace().nth(1) == Some(endpoint))
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
#[ignore = "needs workload::upstream"]
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
