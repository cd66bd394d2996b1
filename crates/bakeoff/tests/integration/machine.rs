//! `bakeoff machine` on this machine: the real probes timed on the cores a run
//! pins, a verdict, Ctrl-C's partial report, and its options at their bounds.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::hardening::{run_bounded, signal, wait_bounded};

fn machine(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.arg("machine")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Four seconds of real probes: a reading per site a run reads (both cores
/// where there are two, the loopback), each line with its median and count,
/// the idle sleeps between timings (room for them even in a debug build
/// beside other tests), the steal, and one verdict.
#[test]
fn the_real_probes_are_timed_and_judged() {
    let done = run_bounded(
        &mut machine(&["--for", "4s", "--every", "500ms"]),
        Duration::from_secs(60),
    );
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let out = &done.stdout;
    assert!(
        out.starts_with("How steady this machine is: 9 timings over "),
        "{out}"
    );
    assert!(out.contains("contender's core (drift probe): "), "{out}");
    assert!(
        out.contains("loopback between the cores (loopback probe): "),
        "{out}"
    );
    assert!(out.contains("(median of 9 readings, "), "{out}");
    if std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2 {
        assert!(out.contains("generator's core (drift probe): "), "{out}");
        assert!(out.contains("; contender: cpu "), "{out}");
    }
    assert!(out.contains("\n  steal: "), "{out}");
    assert!(
        out.contains("\n  idle 1 ms sleeps that woke more than 5ms late: the "),
        "{out}"
    );
    let verdicts = out
        .lines()
        .filter(|l| l.starts_with("steady: ") || l.starts_with("moving ("))
        .count();
    assert_eq!(verdicts, 1, "{out}");
    assert!(done.took < Duration::from_secs(30), "{:?}", done.took);
}

/// `--json` prints one document and nothing else on stdout: the verdict,
/// each site's summary, the idle sleeps, the steal.
#[test]
fn json_is_one_document() {
    let done = run_bounded(
        &mut machine(&["--for", "2s", "--every", "500ms", "--json"]),
        Duration::from_secs(60),
    );
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).expect("one JSON document");
    assert!(
        ["steady", "moving"].contains(&doc["verdict"].as_str().unwrap_or_default()),
        "{doc}"
    );
    assert_eq!(doc["timings"], 5, "{doc}");
    assert_eq!(doc["sites"][0]["site"], "contender_core", "{doc}");
    assert_eq!(doc["sites"][0]["summary"]["readings"], 5, "{doc}");
    assert_eq!(doc["late_ms"], 5.0, "{doc}");
    assert!(
        doc["wakeups"].as_array().is_some_and(|w| !w.is_empty()),
        "{doc}"
    );
}

/// SIGINT prints what was read so far, says it was stopped, and exits 130.
#[test]
fn ctrl_c_prints_what_was_read() {
    let child = machine(&["--for", "10m", "--every", "100ms"])
        .process_group(0)
        .spawn()
        .expect("spawn bakeoff");
    std::thread::sleep(Duration::from_millis(1500));
    signal(child.id(), libc::SIGINT);
    let done = wait_bounded(child, Duration::from_secs(30));
    assert_eq!(done.code(), Some(130), "{}", done.stderr);
    assert!(
        done.stdout.contains("(stopped by Ctrl-C)"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("contender's core (drift probe): "),
        "{}",
        done.stdout
    );
}

/// Each bad value exits 2 naming its option, with nothing on stdout.
#[test]
fn its_options_at_and_beyond_their_bounds() {
    let cases: &[(&[&str], &str)] = &[
        (&["--for", "0s"], "--for"),
        (&["--for", "-1s"], "--for"),
        (&["--for", "NaN"], "--for"),
        (&["--for", "2h"], "--for"),
        (&["--for", "18446744073709551615s"], "--for"),
        (&["--every", "0ms"], "--every"),
        (&["--every", "1m"], "--every"),
        (&["--every", "fast"], "--every"),
        (&["--slo-p99", "0ms"], "--slo-p99"),
        (&["--slo-p99", "-5ms"], "--slo-p99"),
    ];
    let mut failures = Vec::new();
    for (args, option) in cases {
        let done = run_bounded(&mut machine(args), Duration::from_secs(30));
        if done.code() != Some(2) || !done.stderr.contains(option) || !done.stdout.is_empty() {
            failures.push(format!(
                "{args:?}: exit {:?}, stderr {}",
                done.code(),
                done.stderr.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
