//! Every numeric and duration option of `load`, `run`, `advise` and `compare` at its
//! bounds and beyond (0, negative, NaN, infinite, huge, malformed units): exit 2 with
//! a message naming the option, never a panic, never a hang.

use std::process::Command;
use std::time::Duration;

use bakeoff::model::RunStatus;
use bakeoff::store::Store;

use crate::hardening::{fixture, run_bounded, FaultServer, Marker};
use crate::store::fixtures::{rich_cells, temp_db, write_run};

/// `bakeoff <args>` must exit 2, name `option` on stderr and print nothing on
/// stdout; otherwise why not.
fn rejected(mut cmd: Command, args: &[&str], option: &str) -> Result<(), String> {
    let done = run_bounded(cmd.args(args), Duration::from_secs(60));
    let why = if done.stderr.contains("panicked") {
        "panicked"
    } else if done.code() != Some(2) {
        "did not exit 2"
    } else if !done.stderr.contains(option) {
        "the message does not name the option"
    } else if !done.stdout.trim().is_empty() {
        "printed on stdout"
    } else {
        return Ok(());
    };
    Err(format!(
        "{args:?}: {why} (exit {:?}): {}",
        done.code(),
        done.stderr.trim()
    ))
}

/// Run every case; fail once, listing every case that was not rejected properly.
fn all_rejected(cases: Vec<(Command, Vec<String>, &str)>) {
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(cmd, args, option)| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            rejected(cmd, &args, option).err()
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

const HUGE_DURATION: &str = "18446744073709551615s";

#[test]
fn load_options_at_and_beyond_their_bounds() {
    let marker = Marker::new();
    // A live target, so that nothing is masked by "nothing is listening".
    let server = FaultServer::start("steady", &marker);
    let url = server.url("/json");
    let cases: &[(&str, &[&str])] = &[
        ("--rate", &["--rate", "0"]),
        ("--rate", &["--rate", "-1"]),
        ("--rate", &["--rate", "NaN"]),
        ("--rate", &["--rate", "inf"]),
        ("--rate", &["--rate", "-inf"]),
        ("--rate", &["--rate", "1e300"]),
        ("--rate", &["--rate", "1e-20"]),
        ("--rate", &["--rate", "ten"]),
        ("--connections", &["--connections", "0"]),
        ("--connections", &["--connections", "-1"]),
        ("--connections", &["--connections", "50001"]),
        ("--connections", &["--connections", "4294967296"]),
        ("--connections", &["--connections", "lots"]),
        ("--duration", &["--duration", "0s"]),
        ("--duration", &["--duration", "-1s"]),
        ("--duration", &["--duration", "10"]),
        ("--duration", &["--duration", "10 parsecs"]),
        ("--duration", &["--duration", "99999999999999999999s"]),
        ("--duration", &["--duration", HUGE_DURATION, "-n", "3"]),
        ("--duration", &["--duration", "8d", "-n", "3"]),
        ("--requests", &["--requests", "0"]),
        ("--requests", &["--requests", "-1"]),
        ("--requests", &["--requests", "18446744073709551616"]),
        ("--warmup", &["--warmup", "-1s"]),
        ("--warmup", &["--warmup", "soon"]),
        ("--warmup", &["--warmup", HUGE_DURATION, "-n", "3"]),
        ("--timeout", &["--timeout", "0s"]),
        ("--timeout", &["--timeout", "-1s"]),
        ("--timeout", &["--timeout", "NaNs"]),
        ("--timeout", &["--timeout", HUGE_DURATION, "-n", "3"]),
        ("--pin", &["--pin", "-1"]),
        ("--pin", &["--pin", "99999", "-n", "1"]),
        ("--pin", &["--pin", "18446744073709551615", "-n", "1"]),
        ("--max-steal", &["--find-capacity", "--max-steal", "50"]),
        ("--max-steal", &["--find-capacity", "--max-steal", "x"]),
    ];
    all_rejected(
        cases
            .iter()
            .map(|(option, extra)| {
                let mut args = strings(&["load", &url]);
                args.extend(strings(extra));
                (marker.bakeoff(), args, *option)
            })
            .collect(),
    );
    drop(server);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn run_options_at_and_beyond_their_bounds() {
    let marker = Marker::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bakeoff.db");
    let contender = fixture("steady");
    let cases: &[(&str, &[&str])] = &[
        ("--duration-scale", &["--duration-scale", "0"]),
        ("--duration-scale", &["--duration-scale", "-1"]),
        ("--duration-scale", &["--duration-scale", "NaN"]),
        ("--duration-scale", &["--duration-scale", "inf"]),
        ("--duration-scale", &["--duration-scale", "1e300"]),
        ("--duration-scale", &["--duration-scale", "half"]),
        ("--trials", &["--trials", "0"]),
        ("--trials", &["--trials", "-1"]),
        ("--trials", &["--trials", "4294967296"]),
        ("--workers", &["--workers", "0"]),
        ("--workers", &["--workers", "-1"]),
        ("--workers", &["--workers", "1,x"]),
        ("--slo-p99", &["--slo-p99", "0ms"]),
        ("--slo-p99", &["--slo-p99", "-5ms"]),
        ("--slo-p99", &["--slo-p99", "100"]),
        ("--slo-p99", &["--slo-p99", "fast"]),
        ("--slo-p99", &["--slo-p99", HUGE_DURATION]),
        ("--max-steal", &["--max-steal", "1"]),
        ("--max-steal", &["--max-steal", "40"]),
        ("--max-steal", &["--max-steal", "NaN"]),
        ("--max-steal", &["--max-steal", "-5"]),
        ("--max-steal", &["--max-steal", "lots"]),
    ];
    all_rejected(
        cases
            .iter()
            .map(|(option, extra)| {
                let mut args = strings(&[
                    "run",
                    "--contender",
                    contender.to_str().unwrap(),
                    "--workloads",
                    "json",
                    "--db",
                    db.to_str().unwrap(),
                    "-q",
                ]);
                args.extend(strings(extra));
                let mut cmd = marker.bakeoff();
                cmd.env("BAKEOFF_RESULTS_DIR", dir.path().join("results"));
                (cmd, args, *option)
            })
            .collect(),
    );
    marker.assert_no_orphans(Duration::from_secs(10));
}

/// A results database holding two complete runs (ids 1 and 2).
fn db_with_two_runs() -> (tempfile::TempDir, String) {
    let (dir, path) = temp_db();
    let mut store = Store::open(&path).unwrap();
    for started in ["2026-11-28T12:00:00Z", "2026-11-28T13:00:00Z"] {
        write_run(&mut store, started, rich_cells(), RunStatus::Complete);
    }
    (dir, path.display().to_string())
}

#[test]
fn advise_and_compare_numbers_at_and_beyond_their_bounds() {
    let marker = Marker::new();
    let (_dir, db) = db_with_two_runs();
    let mut cases = Vec::new();
    for rps in ["0", "-1", "NaN", "inf", "1e400", "many"] {
        let args = strings(&["advise", "--db", &db, "--peak-rps", rps]);
        cases.push((marker.bakeoff(), args, "--peak-rps"));
    }
    for slo in ["0ms", "-1ms", "100", "soon", HUGE_DURATION] {
        let args = strings(&["advise", "--db", &db, "--slo-p99", slo]);
        cases.push((marker.bakeoff(), args, "--slo-p99"));
    }
    for pct in ["-1", "NaN", "inf", "-inf", "lots"] {
        let args = strings(&[
            "compare",
            "1",
            "2",
            "--db",
            &db,
            "--fail-on-regression",
            pct,
        ]);
        cases.push((marker.bakeoff(), args, "--fail-on-regression"));
    }
    all_rejected(cases);
}
