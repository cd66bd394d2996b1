//! Configuration variants end to end: `bakeoff run` measures a contender and its
//! variant as two rows, each stored with its own disclosures, and the reports
//! label the variant.

use std::process::Output;

use crate::hardening::Marker;
use crate::run::{assert_no_orphans, bakeoff};
use bakeoff::workload::Workload;

/// The stdout of a command that must have succeeded (else its output, in the panic).
pub(crate) fn ok(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn a_contender_and_its_variant_are_stored_and_reported_as_two_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let db = results.join("bakeoff.db");
    let marker = Marker::new();
    let out = bakeoff(&results, &marker)
        .args(["run", "--contenders", "python-flask,python-flask@sync"])
        .args([
            "--workloads",
            "json,io",
            "--duration-scale",
            "0.1",
            "--quiet",
        ])
        .arg("--results-dir")
        .arg(&results)
        .output()
        .unwrap();
    ok(&out, "bakeoff run");
    assert_no_orphans(&marker);

    let out = bakeoff(&results, &marker)
        .args(["show", "latest", "--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let run: bakeoff::model::Run = serde_json::from_str(&ok(&out, "bakeoff show")).unwrap();
    let names: Vec<&str> = run.contenders.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["python-flask", "python-flask@sync"]);
    let (base, sync) = (&run.contenders[0], &run.contenders[1]);
    assert_eq!(base.variant, None);
    let v = sync
        .variant
        .as_ref()
        .expect("the variant's identity is stored");
    assert_eq!((v.of.as_str(), v.name.as_str()), ("python-flask", "sync"));
    assert!(v.description.contains("sync workers"), "{v:?}");
    // Each row has its own disclosures: the variant's follow its base's.
    assert!(!base.disclosures.is_empty());
    assert!(sync.disclosures.starts_with(&base.disclosures));
    let own = &sync.disclosures[base.disclosures.len()..];
    assert!(
        own.iter().any(|d| d.contains("WORKER_CLASS=sync")),
        "{own:?}"
    );
    assert!(own.iter().all(|d| !base.disclosures.contains(d)));
    // Same install: same versions and footprint.
    assert_eq!(sync.framework_version, base.framework_version);
    assert_eq!(sync.deps_total, base.deps_total);
    for contender in ["python-flask", "python-flask@sync"] {
        for workload in ["json", "io"] {
            assert!(
                run.cell(contender, &Workload::from_name(workload))
                    .is_some(),
                "no {contender}/{workload} cell"
            );
        }
    }

    let label = format!(
        "python-flask@sync — variant of python-flask: {}",
        v.description
    );
    for format in ["text", "md"] {
        let out = bakeoff(&results, &marker)
            .args(["report", "latest", "--format", format, "--db"])
            .arg(&db)
            .output()
            .unwrap();
        let report = ok(&out, "bakeoff report");
        assert!(report.contains(&label), "{format}: {report}");
        assert!(report.contains(&own[0]), "{format}: {report}");
    }
}
