//! `bakeoff run` end to end on the real reference contenders: a small run is
//! stored completely and read back, the claims and the advisor work on it, and
//! Ctrl-C leaves a consistent database and no processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::hardening::Marker;
use bakeoff::model::TrialOutcome;
use bakeoff::workload::Workload;
use std::time::{Duration, Instant};

/// Contender installs are shared by every test and every `cargo test` of this
/// checkout (CI points BAKEOFF_CACHE_DIR at a cache outside the clone).
pub(crate) fn cache_dir() -> PathBuf {
    std::env::var_os("BAKEOFF_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("contender-cache"))
}

pub(crate) fn contenders_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contenders")
}

/// A `bakeoff` command against the real contenders, tagged with `marker` so its
/// whole process tree can be found afterwards.
pub(crate) fn bakeoff(results: &Path, marker: &Marker) -> Command {
    let mut cmd = marker.bakeoff();
    cmd.env("BAKEOFF_CACHE_DIR", cache_dir())
        .env("BAKEOFF_CONTENDERS_DIR", contenders_dir())
        .env("BAKEOFF_RESULTS_DIR", results)
        .env("NO_COLOR", "1");
    cmd
}

pub(crate) fn assert_no_orphans(marker: &Marker) {
    marker.assert_no_orphans(Duration::from_secs(10));
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_small_real_run_is_stored_and_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let db = results.join("bakeoff.db");
    let marker = Marker::new();
    let out = bakeoff(&results, &marker)
        .args([
            "run",
            "--profile",
            "quick",
            "--contenders",
            "node-fastify,python-flask",
        ])
        .args([
            "--workloads",
            "json,io,ws",
            "--duration-scale",
            "0.1",
            "--quiet",
        ])
        .output()
        .unwrap();
    ok(&out, "bakeoff run");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("HTML report: "), "{stdout}");
    assert_no_orphans(&marker);

    let out = bakeoff(&results, &marker)
        .args(["show", "latest", "--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    ok(&out, "bakeoff show");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::report::assert_fits_run_schema(&doc);

    let run: bakeoff::model::Run = serde_json::from_value(doc).unwrap();
    assert_eq!(run.status, bakeoff::model::RunStatus::Complete);
    assert_eq!(run.contenders.len(), 2);
    assert!(!run.environment.pinning.is_empty());
    // The generator's pools and the open-files limit they fit in.
    let pools = &run.environment.runtimes[&bakeoff::model::RuntimeKey::GeneratorConnections];
    assert!(pools.contains("2 × rate × SLO"), "{pools}");
    // The machine's cores are the CPUs the run was given (this test's), read
    // before bakeoff pins itself to one of them.
    let given = bakeoff::measure::allowed_cpus().unwrap().len() as u32;
    assert_eq!(run.environment.cores, given, "{:?}", run.environment);
    // The drift probe's readings over the run: the start, and before and
    // after each of its searches.
    let speed = run.environment.core_speed.expect("the run's core speed");
    assert!(
        speed.readings >= 3
            && speed.min > 0.0
            && speed.min <= speed.median
            && speed.median <= speed.max,
        "{speed:?}"
    );
    // And on the generator's core, at the same moments, when it has one.
    if !run.environment.pinning.starts_with("unpinned") {
        let g = run
            .environment
            .generator_core_speed
            .expect("the generator core's speed");
        assert!(g.readings == speed.readings && g.min > 0.0, "{g:?}");
    }
    // The loopback probe, at the same moments, pinned or not.
    let l = run
        .environment
        .loopback_speed
        .expect("the loopback's speed");
    assert!(l.readings == speed.readings && l.min > 0.0, "{l:?}");
    for contender in ["node-fastify", "python-flask"] {
        for workload in ["json", "io"] {
            let cell = run
                .cell(contender, &Workload::from_name(workload))
                .unwrap_or_else(|| panic!("no {contender}/{workload}"));
            assert!(
                cell.status.is_ok(),
                "{contender}/{workload}: {:?}",
                cell.status
            );
            // Every trial was searched and stored with its steps. On a busy
            // machine (the other tests run beside this one) a search may end
            // machine-noisy or truncated: then it has no plain capacity and
            // says why, never a made-up one.
            let trial = &cell.trials[0];
            assert!(!trial.steps.is_empty());
            match cell.capacity {
                Some(cap) => assert!(
                    cap.median > 0.0 && trial.outcome == TrialOutcome::Confirmed,
                    "{contender}/{workload}: {cap:?} {trial:?}"
                ),
                None => assert!(
                    trial.outcome != TrialOutcome::Confirmed
                        && trial.note.is_some()
                        && !cell.notes.is_empty(),
                    "{contender}/{workload}: no capacity and no reason: {:?}",
                    cell.trials
                ),
            }
            if let Some(eq) = &cell.equal_load {
                assert!(
                    eq.requests > 0
                        && eq.latency.p99 > 0.0
                        && eq.cpu_ms_per_request.is_some_and(|c| c > 0.0)
                );
                assert!(eq.rss_peak_bytes.is_some_and(|b| b > 0));
            }
        }
    }
    let ws = run.cell("node-fastify", &Workload::Ws).unwrap();
    assert!(ws.status.is_ok(), "{:?}", ws.status);
    assert!(!ws.ws.is_empty() && ws.ws[0].deliveries > 0);
    let flask_ws = run.cell("python-flask", &Workload::Ws).unwrap();
    assert!(matches!(
        flask_ws.status,
        bakeoff::model::CellStatus::Skipped { .. }
    ));
    assert!(results.join(format!("run-{}/report.html", run.id)).exists());

    let out = bakeoff(&results, &marker)
        .args(["claims", "--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    ok(&out, "bakeoff claims");
    let claims: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let claims = claims["claims"].as_array().unwrap();
    // The blog's seven, then bakeoff's own Node.js observation.
    assert_eq!(claims.len(), 8);
    for c in claims {
        assert!(c["verdict"].is_string(), "{c}");
        // Every verdict shows its numbers, or names the cells it lacked.
        let has_evidence = !c["evidence"].as_array().unwrap().is_empty();
        let names_missing = !c["missing"].as_array().unwrap().is_empty();
        assert!(has_evidence || names_missing, "{c}");
    }

    let out = bakeoff(&results, &marker)
        .args(["advise", "--mix", "realtime=100", "--team", "js", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    ok(&out, "bakeoff advise");
    let advice = text(&out.stdout);
    // A capacity from a single trial makes the recommendation indicative.
    let rec = advice
        .strip_prefix("Indicative (single trial): ")
        .unwrap_or(&advice);
    assert!(
        rec.starts_with("Choose node-fastify") || rec.starts_with("Choose python-flask"),
        "{advice}"
    );
    assert!(advice.contains("Capacity plan for a peak of"), "{advice}");
}

#[test]
fn sigint_keeps_finished_cells_and_leaves_nothing_running() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let db = results.join("bakeoff.db");
    let marker = Marker::new();
    let mut child = bakeoff(&results, &marker)
        .args([
            "run",
            "--contenders",
            "node-fastify",
            "--workloads",
            "json,io",
        ])
        .args(["--duration-scale", "0.2", "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is recorded and measuring (set-up may install first).
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        assert!(Instant::now() < deadline, "the run never started measuring");
        assert!(
            child.try_wait().unwrap().is_none(),
            "bakeoff run ended before it was interrupted"
        );
        if db.exists() {
            let conn = rusqlite::Connection::open(&db).unwrap();
            let running: i64 = conn
                .query_row(
                    "SELECT count(*) FROM runs WHERE status = 'running'",
                    [],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            if running > 0 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let waited = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "bakeoff did not stop within 30 s of SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = {
        use std::io::Read;
        let mut s = String::new();
        child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
        s
    };
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert_no_orphans(&marker);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let status: String = conn
        .query_row("SELECT status FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "interrupted");
    // The machine's speed until the interrupt is kept with the finished cells
    // (the drift probe reads it as the run starts).
    let speed: Option<String> = conn
        .query_row("SELECT core_speed_json FROM environment", [], |r| r.get(0))
        .unwrap();
    assert!(speed.is_some_and(|s| s.contains("median")), "no core speed");
}

#[test]
fn an_unknown_python_interpreter_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bakeoff(&tmp.path().join("results"), &Marker::new())
        .args([
            "run",
            "--contenders",
            "python-flask",
            "--python",
            "9.9",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("--python 9.9") && err.contains("pyenv install 9.9"),
        "{err}"
    );
}
