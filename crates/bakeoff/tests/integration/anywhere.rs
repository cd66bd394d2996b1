//! bakeoff as an installed CLI: run from a directory outside the clone it finds
//! the contenders built into it; inside a clone, the clone's `contenders/` wins;
//! lookup errors say where bakeoff looked and how to point elsewhere; the cache
//! commands, completions, man page and `--version` work from the built binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::hardening::{run_bounded, Finished, Marker};

/// The built `bakeoff` in `cwd`, as a user outside the clone runs it: no
/// contenders directory given, data (the unpacked contenders) under `home`.
fn outside(cwd: &Path, home: &Path, marker: &Marker) -> Command {
    let mut cmd = marker.bakeoff();
    cmd.current_dir(cwd)
        .env_remove("BAKEOFF_CONTENDERS_DIR")
        .env_remove("BAKEOFF_RESULTS_DIR")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("BAKEOFF_CACHE_DIR", crate::run::cache_dir())
        .env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command, args: &[&str]) -> Finished {
    run_bounded(cmd.args(args), Duration::from_secs(300))
}

/// The unpacked copies under `<home>/data/bakeoff`.
fn unpacked(home: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(home.join("data/bakeoff"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn verify_outside_the_clone_uses_the_built_in_contenders() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let done = run(
        &mut outside(tmp.path(), tmp.path(), &marker),
        &["verify", "--json", "--contenders", "node-http"],
    );
    assert_eq!(done.code(), Some(0), "{}\n{}", done.stdout, done.stderr);
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(doc["passed"], true, "{}", done.stdout);
    assert_eq!(doc["contenders"][0]["contender"], "node-http");
    let copies = unpacked(tmp.path());
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].join("node-http/bakeoff.toml").is_file());
    // Results land next to the user's project, as in the clone.
    assert!(tmp.path().join("bakeoff-results/data").is_dir());
    crate::run::assert_no_orphans(&marker);
}

/// A tiny run from outside the clone: set up, verified, measured and stored with
/// the built-in contenders, results next to the user's project.
#[test]
fn a_tiny_run_outside_the_clone_uses_the_built_in_contenders() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let done = run(
        &mut outside(tmp.path(), tmp.path(), &marker),
        &[
            "run",
            "--workloads",
            "json",
            "--contenders",
            "node-http",
            "--duration-scale",
            "0.05",
            // A raised steal limit is recorded with the run.
            "--max-steal",
            "10",
            "-q",
        ],
    );
    assert_eq!(done.code(), Some(0), "{}\n{}", done.stdout, done.stderr);
    let db = tmp.path().join("bakeoff-results/bakeoff.db");
    let store = bakeoff::store::Store::open(&db).unwrap();
    let runs = store.list_runs().unwrap();
    assert_eq!(runs.len(), 1);
    let stored = store.load_run(runs[0].id).unwrap();
    assert_eq!(stored.settings.raised_steal_limit(), Some(10.0));
    assert_eq!(runs[0].contenders, ["node-http"]);
    assert_eq!(runs[0].status, bakeoff::model::RunStatus::Complete);
    assert!(unpacked(tmp.path())[0]
        .join("node-http/bakeoff.toml")
        .is_file());
    crate::run::assert_no_orphans(&marker);
}

#[test]
fn inside_a_clone_its_own_contenders_are_used() {
    let clone = tempfile::tempdir().unwrap();
    // A clone's contenders/ with an edit: node-http's manifest gains a bad key.
    let dir = clone.path().join("contenders/node-http");
    std::fs::create_dir_all(&dir).unwrap();
    let src = crate::run::contenders_dir().join("node-http/bakeoff.toml");
    let text = std::fs::read_to_string(src).unwrap();
    std::fs::write(
        dir.join("bakeoff.toml"),
        format!("edited_in_the_clone = 1\n{text}"),
    )
    .unwrap();
    let marker = Marker::new();
    let done = run(
        &mut outside(clone.path(), clone.path(), &marker),
        &["setup", "--contenders", "node-http"],
    );
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    assert!(
        done.stderr.contains("edited_in_the_clone")
            && done.stderr.contains(&dir.display().to_string()),
        "the edited manifest was not the one read: {}",
        done.stderr
    );
    assert!(
        unpacked(clone.path()).is_empty(),
        "the built-in copy was unpacked anyway"
    );
}

#[test]
fn lookup_errors_say_where_bakeoff_looked_and_how_to_point_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    let done = run(
        &mut outside(tmp.path(), tmp.path(), &marker),
        &["verify", "--contenders", "node-nope"],
    );
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    let copy = &unpacked(tmp.path())[0];
    for part in [
        "unknown contender `node-nope`",
        &copy.display().to_string(),
        "built into bakeoff",
        "node-fastify",
        "--contenders-dir",
        "BAKEOFF_CONTENDERS_DIR",
    ] {
        assert!(
            done.stderr.contains(part),
            "no {part:?} in: {}",
            done.stderr
        );
    }

    // A directory that is not a contenders directory, and an empty one, say so.
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir_all(foreign.join("src")).unwrap();
    std::fs::write(foreign.join("Cargo.toml"), "").unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for (dir, says) in [
        (&foreign, "not a contenders directory"),
        (&empty, "an empty directory"),
    ] {
        let done = run(
            &mut outside(tmp.path(), tmp.path(), &marker),
            &["verify", "--contenders-dir", dir.to_str().unwrap()],
        );
        assert_eq!(done.code(), Some(2), "{}", done.stderr);
        assert!(
            done.stderr.contains(says) && done.stderr.contains("given by --contenders-dir"),
            "{}",
            done.stderr
        );
    }
}

#[test]
fn cache_prune_removes_what_it_lists_and_list_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let entry = |name: &str| {
        let dir = cache.join("npm").join(format!("{name}-0123456789abcdef"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("bakeoff-stamp.json"),
            r#"{"runtime_version":"v22.0.0"}"#,
        )
        .unwrap();
        dir
    };
    let (a, b) = (entry("node-a"), entry("node-b"));
    let marker = Marker::new();
    let cmd = || {
        let mut c = outside(tmp.path(), tmp.path(), &marker);
        c.env("BAKEOFF_CACHE_DIR", &cache);
        c
    };
    let listed = run(&mut cmd(), &["cache", "list"]);
    assert_eq!(listed.code(), Some(0), "{}", listed.stderr);
    assert!(
        listed.stdout.contains("npm node-a (v22.0.0)") && listed.stdout.contains("npm node-b"),
        "{}",
        listed.stdout
    );
    // Used just now: an age selector leaves both; --dry-run removes nothing.
    let kept = run(&mut cmd(), &["cache", "prune", "--older-than", "30d"]);
    assert!(
        kept.stdout.contains("(nothing)") && a.is_dir() && b.is_dir(),
        "{}",
        kept.stdout
    );
    let dry = run(&mut cmd(), &["cache", "prune", "--all", "--dry-run"]);
    assert!(
        dry.stdout.contains(&a.display().to_string()) && a.is_dir(),
        "{}",
        dry.stdout
    );
    let pruned = run(&mut cmd(), &["cache", "prune", "--all"]);
    assert_eq!(pruned.code(), Some(0), "{}", pruned.stderr);
    for dir in [&a, &b] {
        assert!(
            pruned.stdout.contains(&dir.display().to_string()),
            "{}",
            pruned.stdout
        );
        assert!(!dir.exists());
    }
    let none = run(&mut cmd(), &["cache", "prune"]);
    assert_eq!(
        none.code(),
        Some(2),
        "a prune without a selector: {}",
        none.stderr
    );
    assert!(none.stderr.contains("--older-than"), "{}", none.stderr);
}

#[test]
fn completions_man_page_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = Marker::new();
    for shell in ["bash", "zsh", "fish"] {
        let done = run(
            &mut outside(tmp.path(), tmp.path(), &marker),
            &["completions", shell],
        );
        assert_eq!(done.code(), Some(0), "{shell}: {}", done.stderr);
        assert!(
            done.stdout.contains("contenders-dir"),
            "{shell}: {}",
            done.stdout
        );
    }
    let man = run(&mut outside(tmp.path(), tmp.path(), &marker), &["man"]);
    assert_eq!(man.code(), Some(0), "{}", man.stderr);
    assert!(man.stdout.contains(".TH bakeoff"), "{}", man.stdout);

    let version = run(
        &mut outside(tmp.path(), tmp.path(), &marker),
        &["--version"],
    );
    assert!(version
        .stdout
        .starts_with(&format!("bakeoff {}", env!("CARGO_PKG_VERSION"))));
    // Built from a clone with git: the revision it was built from.
    let rev = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(rev) = rev {
        assert!(
            version.stdout.contains(&format!("(git {rev})")),
            "{}",
            version.stdout
        );
    }
}

/// An install handed to a command stays in use, so a prune skips it, until the
/// command drops it.
#[tokio::test]
async fn prune_skips_an_install_a_command_is_using() {
    use bakeoff::contender::cache::{self, Prune};
    let tmp = tempfile::tempdir().unwrap();
    let installed = crate::contender::installed("healthy", tmp.path()).await;
    let cache_dir = tmp.path().join("cache");
    let out = cache::prune(&cache_dir, Prune::All, std::time::SystemTime::now()).unwrap();
    assert!(out.removed.is_empty(), "{:?}", out.removed);
    assert_eq!(out.skipped.len(), 1);
    assert!(out.skipped[0].in_use && out.skipped[0].path.is_dir());
    drop(installed);
    let out = cache::prune(&cache_dir, Prune::All, std::time::SystemTime::now()).unwrap();
    assert_eq!(out.removed.len(), 1);
    assert!(!out.removed[0].path.exists());
}
