//! `setup` and `verify` with `--database` naming both databases (a comma list
//! or the flag repeated, as `run` takes it), on the machine's real PostgreSQL:
//! setup prepares each, verify checks each contender on each and says which
//! database every check ran on. Every test is bounded in time.

use std::path::Path;

use crate::hardening::{run_bounded, Finished, Marker};
use crate::postgres::{pid_file, results, LIMIT};
use crate::run::bakeoff;

/// `bakeoff ARGS` against the real contenders into `results`, bounded.
fn bakeoff_bounded(results: &Path, marker: &Marker, args: &[&str]) -> Finished {
    let mut cmd = bakeoff(results, marker);
    cmd.args(args);
    run_bounded(&mut cmd, LIMIT)
}

/// `bakeoff setup ARGS --contenders node-http` into `results`, bounded.
fn setup(results: &Path, marker: &Marker, args: &[&str]) -> Finished {
    let args = [&["setup"], args, &["--contenders", "node-http"]].concat();
    bakeoff_bounded(results, marker, &args)
}

#[test]
fn setup_prepares_each_listed_database() {
    let tmp = results();
    let results = tmp.path().join("results");
    let marker = Marker::new();
    let cluster = results.join("postgres");
    // One database, the default: no cluster.
    let sqlite = setup(&results, &marker, &[]);
    assert_eq!(sqlite.code(), Some(0), "{}", sqlite.stderr);
    assert!(sqlite.stderr.contains("SQLite: "), "{}", sqlite.stderr);
    assert!(!cluster.exists(), "sqlite alone starts no PostgreSQL");

    let done = setup(&results, &marker, &["--database", "sqlite,postgres"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("SQLite: "), "{}", done.stderr);
    assert!(
        done.stderr.contains("PostgreSQL: ") && done.stderr.contains("initialized and seeded"),
        "{}",
        done.stderr
    );
    assert!(results.join("data/bakeoff.sqlite").is_file());
    assert!(
        cluster.join("stamp.json").is_file(),
        "the cluster is seeded"
    );
    assert!(!pid_file(&results).exists(), "setup stops its server");
    assert!(done.stdout.contains("node-http"), "{}", done.stdout);

    // The flag repeated, in the other order: the same cluster, reused.
    let again = setup(
        &results,
        &marker,
        &["--database", "postgres", "--database", "sqlite"],
    );
    assert_eq!(again.code(), Some(0), "{}", again.stderr);
    let reused = "reused: the seed is unchanged";
    assert!(again.stderr.contains(reused), "{}", again.stderr);
    assert!(!pid_file(&results).exists());

    // A database named twice is bad input, refused before any work.
    let twice = setup(
        &results,
        &marker,
        &["--database", "postgres,sqlite,postgres"],
    );
    assert_eq!(twice.code(), Some(2), "{}", twice.stderr);
    let named = twice.stderr.contains("`postgres` twice");
    assert!(named, "{}", twice.stderr);
    crate::run::assert_no_orphans(&marker);
}

/// node-http passes on both databases; the `sqlite-only` fixture declares
/// PostgreSQL but reads its SQLite file, so it passes on sqlite and its `/db`
/// fails on postgres. Each verdict names its database, each pass is stamped
/// for its database only, and the exit status is 1.
#[test]
fn verify_checks_each_contender_on_each_database() {
    let fx = crate::contender::copy_fixtures(&["sqlite-only"]);
    let tmp = results();
    let results = tmp.path().join("results");
    let marker = Marker::new();
    let app = fx.path().join("sqlite-only");
    let app = app.to_str().unwrap();
    let done = bakeoff_bounded(
        &results,
        &marker,
        &[
            "verify",
            "--json",
            "--database",
            "sqlite,postgres",
            "--contenders",
            "node-http",
            "--contender",
            app,
        ],
    );
    assert_eq!(done.code(), Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["databases"], serde_json::json!(["sqlite", "postgres"]));
    let verdicts: Vec<(String, String, bool)> = doc["contenders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let failed = v["error"].is_string()
                || v["endpoints"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["status"] == "fail");
            (
                v["contender"].as_str().unwrap().to_string(),
                v["database"].as_str().unwrap().to_string(),
                !failed,
            )
        })
        .collect();
    let want = |c: &str, d: &str, passed: bool| (c.to_string(), d.to_string(), passed);
    assert_eq!(
        verdicts,
        [
            want("node-http", "sqlite", true),
            want("node-http", "postgres", true),
            want("sqlite-only", "sqlite", true),
            want("sqlite-only", "postgres", false),
        ],
        "{}",
        done.stdout
    );
    let stamps = results.join("verified");
    for (stamp, exists) in [
        ("node-http.key", true),
        ("node-http.postgres.key", true),
        ("sqlite-only.key", true),
        ("sqlite-only.postgres.key", false),
    ] {
        assert_eq!(stamps.join(stamp).exists(), exists, "{stamp}");
    }
    assert!(
        done.stderr.contains("sqlite-only: FAIL on postgres")
            && done.stderr.contains("sqlite-only: pass on sqlite"),
        "{}",
        done.stderr
    );
    assert!(!pid_file(&results).exists(), "verify stops its server");

    // The table: a row per database, the failure under its database.
    let text = bakeoff_bounded(
        &results,
        &marker,
        &[
            "verify",
            "--database",
            "postgres",
            "--database",
            "sqlite",
            "--contender",
            app,
        ],
    );
    assert_eq!(text.code(), Some(1), "{}\n{}", text.stdout, text.stderr);
    let row = |db: &str, endpoint: &str| {
        text.stdout
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .take(3)
                    .eq(["sqlite-only", db, endpoint])
            })
            .unwrap_or_else(|| panic!("no {db} {endpoint} row:\n{}", text.stdout))
            .to_string()
    };
    assert!(row("postgres", "db").contains("FAIL"), "{}", text.stdout);
    assert!(row("sqlite", "db").contains("pass"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("failures on postgres:\n- sqlite-only /db: "),
        "{}",
        text.stdout
    );
    assert!(
        !text.stdout.contains("failures on sqlite"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .ends_with("0/1 contenders passed on postgres; 1/1 contenders passed on sqlite\n"),
        "{}",
        text.stdout
    );
    crate::run::assert_no_orphans(&marker);
}
