//! `bakeoff setup` end to end on fixture contenders: npm and pip installs into the
//! cache, idempotence (second run skips), `--force`, and the recorded figures.

use std::path::Path;
use std::process::Command;

use crate::contender::copy_fixtures;

fn setup(
    contenders_dir: &Path,
    results: &Path,
    cache: &Path,
    names: &str,
    force: bool,
) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
    cmd.arg("setup")
        .arg("--contenders-dir")
        .arg(contenders_dir)
        .arg("--results-dir")
        .arg(results)
        .arg("--contenders")
        .arg(names)
        .env("BAKEOFF_CACHE_DIR", cache);
    if force {
        cmd.arg("--force");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn npm_setup_is_cached_linked_and_idempotent() {
    let fx = copy_fixtures(&["npm-tiny", "healthy"]);
    let results = fx.path().join("results");
    let cache = fx.path().join("cache");
    let (code, out, err) = setup(fx.path(), &results, &cache, "npm-tiny,healthy", false);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("npm-tiny: installed"), "{err}");
    assert!(err.contains("healthy: installed"), "{err}");
    // The table: runtime version, framework, deps, LOC.
    let row = out
        .lines()
        .find(|l| l.starts_with("npm-tiny"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("node v2"), "{row}");
    assert!(row.contains("node:http builtin"), "{row}");
    assert!(row.contains("0/0"), "{row}");
    assert!(
        row.trim_end().ends_with(" 12"),
        "app LOC of server.js: {row}"
    );
    assert!(results.join("data/bakeoff.sqlite").is_file());
    assert!(results.join("data/sales.csv").is_file());
    let link = fx.path().join("npm-tiny/node_modules");
    let target = std::fs::read_link(&link).expect("node_modules is a symlink into the cache");
    assert!(target.starts_with(&cache), "{target:?}");

    let (code, out, err) = setup(fx.path(), &results, &cache, "npm-tiny,healthy", false);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("npm-tiny: unchanged, skipped"), "{err}");
    assert!(err.contains("healthy: unchanged, skipped"), "{err}");
    assert!(out.contains("(cached)"), "{out}");

    // A fresh clone with a warm cache: the link comes back without reinstalling.
    std::fs::remove_file(&link).unwrap();
    let (code, _, err) = setup(fx.path(), &results, &cache, "npm-tiny", false);
    assert_eq!(code, 0);
    assert!(err.contains("npm-tiny: unchanged, skipped"), "{err}");
    assert_eq!(std::fs::read_link(&link).unwrap(), target);

    // A changed lockfile reinstalls; --force reinstalls too.
    let lock = fx.path().join("npm-tiny/package-lock.json");
    let text = std::fs::read_to_string(&lock).unwrap();
    std::fs::write(&lock, format!("{text}\n")).unwrap();
    let (_, _, err) = setup(fx.path(), &results, &cache, "npm-tiny", false);
    assert!(err.contains("npm-tiny: installed"), "{err}");
    let (_, _, err) = setup(fx.path(), &results, &cache, "npm-tiny", true);
    assert!(err.contains("npm-tiny: installed"), "{err}");
}

#[test]
fn pip_setup_builds_a_venv_and_records_versions() {
    let fx = copy_fixtures(&["pip-tiny"]);
    let results = fx.path().join("results");
    let cache = fx.path().join("cache");
    let (code, out, err) = setup(fx.path(), &results, &cache, "pip-tiny", false);
    assert_eq!(code, 0, "{out}\n{err}");
    let row = out
        .lines()
        .find(|l| l.starts_with("pip-tiny"))
        .unwrap_or_else(|| panic!("{out}"));
    // The venv's python and pip's own version (framework = "pip" in the fixture).
    assert!(row.contains("python3 3."), "{row}");
    assert!(row.contains("pip 2"), "{row}");
    let venv_python = std::fs::read_dir(cache.join("pip"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("venv/bin/python");
    assert!(venv_python.exists(), "{venv_python:?}");
    let (code, _, err) = setup(fx.path(), &results, &cache, "pip-tiny", false);
    assert_eq!(code, 0);
    assert!(err.contains("pip-tiny: unchanged, skipped"), "{err}");
}

#[test]
fn a_failing_install_shows_the_installer_output() {
    let fx = copy_fixtures(&["npm-tiny"]);
    // A lockfile that does not match package.json makes `npm ci` fail.
    let pkg = fx.path().join("npm-tiny/package.json");
    std::fs::write(
        &pkg,
        r#"{"name":"npm-tiny","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}"#,
    )
    .unwrap();
    let (code, _, err) = setup(
        fx.path(),
        &fx.path().join("r"),
        &fx.path().join("c"),
        "npm-tiny",
        false,
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("`npm ci --no-audit --no-fund` failed"),
        "{err}"
    );
    assert!(err.contains("  | "), "the installer's output tail: {err}");
}

#[test]
fn unknown_contender_is_an_input_error() {
    let fx = copy_fixtures(&["healthy"]);
    let (code, _, err) = setup(
        fx.path(),
        &fx.path().join("r"),
        &fx.path().join("c"),
        "nope",
        false,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown contender `nope`") && err.contains("available: healthy"),
        "{err}"
    );
}
