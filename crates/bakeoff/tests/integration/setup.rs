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
        err.contains("unknown contender `nope`")
            && err.contains("found these contenders: healthy")
            && err.contains("--contenders-dir DIR (or set BAKEOFF_CONTENDERS_DIR)"),
        "{err}"
    );
}

/// A contender dir `name` under `root` with a `kind = "none"` manifest.
fn none_contender(root: &Path, name: &str, language: &str, runtime: &str, commands: &str) {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let text =
        std::fs::read_to_string(crate::contender::fixtures_dir().join("healthy/bakeoff.toml"))
            .unwrap()
            .replace("name = \"healthy\"", &format!("name = \"{name}\""))
            .replace(
                "language = \"python\"",
                &format!("language = \"{language}\""),
            )
            .replace("runtime = \"python3\"", &format!("runtime = \"{runtime}\""))
            .replace(
                "kind = \"none\"",
                &format!("kind = \"none\"\ncommands = {commands}"),
            );
    std::fs::write(dir.join("bakeoff.toml"), text).unwrap();
}

#[test]
fn missing_or_old_runtimes_say_which_and_how_to_install() {
    let tmp = tempfile::tempdir().unwrap();
    none_contender(
        tmp.path(),
        "needs-python9",
        "python",
        "python9-bakeoff-missing",
        "[]",
    );
    let (code, _, err) = setup(
        tmp.path(),
        &tmp.path().join("r"),
        &tmp.path().join("c"),
        "needs-python9",
        false,
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "`python9-bakeoff-missing` was not found on PATH; install Python 3.10 or newer"
        ),
        "{err}"
    );

    // A stand-in `node` that reports an old version (only its --version is run).
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("node");
    std::fs::write(&fake, "#!/bin/sh\necho v18.19.0\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    none_contender(tmp.path(), "old-node", "node", "node", "[]");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["setup", "--contenders", "old-node", "--contenders-dir"])
        .arg(tmp.path())
        .arg("--results-dir")
        .arg(tmp.path().join("r"))
        .env("BAKEOFF_CACHE_DIR", tmp.path().join("c"))
        .env("PATH", path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "`node` is version v18.19.0, but 20.0 or newer is required; install Node.js 20"
        ),
        "{err}"
    );
}

#[test]
fn ctrl_c_during_setup_stops_the_installer_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = format!("bakeoff-setup-sleeper-{}", std::process::id());
    none_contender(
        tmp.path(),
        "slow",
        "python",
        "python3",
        &format!("[[\"python3\", \"-c\", \"import time; time.sleep(60)\", \"{marker}\"]]"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["setup", "--contenders", "slow", "--contenders-dir"])
        .arg(tmp.path())
        .arg("--results-dir")
        .arg(tmp.path().join("r"))
        .env("BAKEOFF_CACHE_DIR", tmp.path().join("c"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) until the installer command runs, then interrupt bakeoff.
    let t = std::time::Instant::now();
    // Scan once per turn: the command reaches python through pyenv's shims, and a
    // process in mid-`exec` shows an empty command line, so a second scan may miss it.
    let mut found = sleepers(&marker);
    while found.is_empty() && t.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(50));
        found = sleepers(&marker);
    }
    if found.is_empty() {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "the setup command never started; bakeoff {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let t = std::time::Instant::now();
    while !sleepers(&marker).is_empty() && t.elapsed() < std::time::Duration::from_secs(3) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        sleepers(&marker),
        Vec::<u32>::new(),
        "the installer outlived bakeoff"
    );
}

fn sleepers(marker: &str) -> Vec<u32> {
    crate::contender::live_processes_with("cmdline", marker)
}

#[test]
fn relative_cache_dir_still_gives_working_links_and_xdg_is_the_default() {
    let fx = copy_fixtures(&["npm-tiny"]);
    let setup = |cache_env: (&str, &str)| {
        let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
            .args([
                "setup",
                "--contenders",
                "npm-tiny",
                "--contenders-dir",
                ".",
                "--results-dir",
                "rel-results",
                "--force",
            ])
            .current_dir(fx.path())
            .env_remove("BAKEOFF_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME")
            .env(cache_env.0, cache_env.1)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{err}");
        let link = fx.path().join("npm-tiny/node_modules");
        let target = std::fs::read_link(&link).unwrap();
        assert!(target.is_absolute(), "{target:?}");
        assert!(link.is_dir(), "the link does not resolve: {target:?}");
        target
    };
    // A relative $BAKEOFF_CACHE_DIR is made absolute.
    let target = setup(("BAKEOFF_CACHE_DIR", "rel-cache"));
    assert!(
        target.starts_with(fx.path().join("rel-cache")),
        "{target:?}"
    );
    // Without it, the XDG cache directory, shared by every project.
    let xdg = fx.path().join("xdg-cache");
    let target = setup(("XDG_CACHE_HOME", xdg.to_str().unwrap()));
    assert!(target.starts_with(xdg.join("bakeoff")), "{target:?}");
    assert!(!fx.path().join("rel-results/cache").exists());
}
