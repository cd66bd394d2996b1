//! `bakeoff claims` and `bakeoff advise` through the binary, on a stored run.

use std::process::{Command, Output};

use crate::store::fixtures::{stored_rich_run, temp_db};

fn bakeoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .output()
        .expect("run the bakeoff binary")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn claims_json_lists_seven_claims_and_the_observation_with_verdicts() {
    let (_dir, path) = temp_db();
    stored_rich_run(&path);
    let out = bakeoff(&["claims", "--json", "--db", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let claims = doc["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 8);
    let sources: Vec<&str> = claims
        .iter()
        .map(|c| c["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, [&["blog"; 7][..], &["bakeoff"]].concat());
    for c in claims {
        let v = c["verdict"].as_str().unwrap();
        assert!(
            ["supported", "not_supported", "inconclusive"].contains(&v),
            "{v}"
        );
        assert!(!c["reason"].as_str().unwrap().is_empty());
    }
}

#[test]
fn advise_names_a_contender_and_prints_a_plan() {
    let (_dir, path) = temp_db();
    stored_rich_run(&path);
    let db = path.to_str().unwrap();
    let out = bakeoff(&[
        "advise",
        "--mix",
        "api=100",
        "--team",
        "js",
        "--peak-rps",
        "5000",
        "--db",
        db,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.starts_with("Choose node-fastify") || s.starts_with("Choose python-flask"),
        "{s}"
    );
    assert!(s.contains("Capacity plan for a peak of 5000 req/s"), "{s}");
    assert!(s.contains("core"), "{s}");
}

#[test]
fn bad_profiles_get_clear_errors() {
    let (dir, path) = temp_db();
    stored_rich_run(&path);
    let db = path.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--mix", "io=40,api=40"], "add up to 80"),
        (&["--mix", "io=100", "--peak-rps", "-5"], "peak_rps"),
        (&["--mix", "io=100", "--team", "cobol"], "team"),
        (
            &["--mix", "io=100", "--needs", "blockchain"],
            "unknown need `blockchain`",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["advise", "--db", db];
        all.extend_from_slice(args);
        let out = bakeoff(&all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let profile = dir.path().join("team.toml");
    std::fs::write(&profile, "team = \"js\"\nbudget = 5\n[mix]\nio = 100\n").unwrap();
    let out = bakeoff(&["advise", "--db", db, "--profile", profile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("budget"),
        "{}",
        text(&out.stderr)
    );
    // A profile file that is not there: the error says what the file holds.
    let missing = dir.path().join("no-such-team.toml");
    let out = bakeoff(&["advise", "--db", db, "--profile", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no-such-team.toml") && err.contains("TOML file") && err.contains("peak_rps"),
        "{err}"
    );
}
