//! Security: manifests run as argv lists, never through a shell, so shell syntax in
//! a command or a name injects nothing; names are validated; load targets are
//! loopback-only unless `--allow-remote`.

use std::path::Path;
use std::time::Duration;

use bakeoff::model::CellStatus;

use crate::faults_run::Area;
use crate::hardening::{fixture, run_bounded, Marker};

/// A contender directory in `dir` copied from the `steady` fixture, with its
/// manifest's `name` and `command` lines replaced.
fn contender_with(dir: &Path, name: &str, command: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let manifest = std::fs::read_to_string(fixture("steady").join("bakeoff.toml")).unwrap();
    let manifest = manifest
        .replace("name = \"fault-steady\"", &format!("name = {name}"))
        .replace(
            "command = [\"python3\", \"app.py\"]",
            &format!("command = {command}"),
        );
    std::fs::write(dir.join("bakeoff.toml"), manifest).unwrap();
    let app = std::fs::read_to_string(fixture("steady").join("app.py")).unwrap();
    // The fixture finds its library relative to itself; point it at the real one.
    let lib = fixture("_lib");
    let app = app.replace(
        "os.path.join(os.path.dirname(os.path.abspath(__file__)), \"..\", \"_lib\")",
        &format!("{:?}", lib.display().to_string()),
    );
    std::fs::write(dir.join("app.py"), app).unwrap();
}

#[test]
fn shell_syntax_in_a_command_runs_no_shell() {
    let marker = Marker::new();
    let area = Area::new();
    let pwned = area.dir.path().join("pwned");
    let p = pwned.display().to_string();
    let one = area.dir.path().join("one-string");
    let args = area.dir.path().join("in-args");
    // A whole shell command as one argv element, and shell syntax inside arguments.
    contender_with(&one, "\"one-string\"", &format!("[\"sh -c 'touch {p}'\"]"));
    contender_with(
        &args,
        "\"in-args\"",
        &format!("[\"python3\", \"app.py\", \"; touch {p}\", \"$(touch {p})\", \"`touch {p}`\"]"),
    );
    let mut cmd = area.run_cmd(&marker, &[], "0.05");
    cmd.arg("--contender")
        .arg(&one)
        .arg("--contender")
        .arg(&args);
    let done = run_bounded(&mut cmd, Duration::from_secs(120));
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(!pwned.exists(), "a shell ran: {} exists", pwned.display());
    let run = area.latest();
    let status = |name: &str| {
        run.cells
            .iter()
            .find(|c| c.contender == name)
            .map(|c| c.status.clone())
            .unwrap()
    };
    // The one-string program does not exist: a start failure that names it.
    match status("one-string") {
        CellStatus::Failed { reason } => assert!(reason.contains("sh -c"), "{reason}"),
        other => panic!("one-string: {other:?}"),
    }
    // Extra arguments are just arguments: the app starts and is measured.
    assert!(status("in-args").is_ok(), "{:?}", status("in-args"));
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn a_name_with_shell_syntax_is_rejected_by_validation() {
    let marker = Marker::new();
    let area = Area::new();
    let dir = area.dir.path().join("evil");
    contender_with(&dir, "\"x; rm -rf /\"", "[\"python3\", \"app.py\"]");
    let mut cmd = area.run_cmd(&marker, &[], "0.05");
    cmd.arg("--contender").arg(&dir);
    let done = run_bounded(&mut cmd, Duration::from_secs(60));
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("name"), "{}", done.stderr);
    assert!(done.stderr.contains("a-z, 0-9"), "{}", done.stderr);
    assert!(
        !area.db().exists(),
        "nothing is recorded for a rejected manifest"
    );
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn load_refuses_non_loopback_targets_without_allow_remote() {
    let marker = Marker::new();
    // 192.0.2.1 is TEST-NET-1: never routed, so nothing is sent even with the flag.
    let done = run_bounded(
        marker
            .bakeoff()
            .args(["load", "http://192.0.2.1:8080/json", "-d", "1s"]),
        Duration::from_secs(30),
    );
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("--allow-remote"), "{}", done.stderr);
}
