//! Load beyond one core and one machine, as a user runs it: `load --threads 2`,
//! several `load --segment I/N --start-at T --json` processes with one shared
//! start, then `bakeoff merge` of their documents, and merge's refusals.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use bakeoff_load::testkit::FixedServiceServer;

fn bakeoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(args)
        .output()
        .expect("run bakeoff")
}

fn schema() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/schema/load.json")).unwrap();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

pub(super) fn assert_valid(doc: &serde_json::Value) {
    let problems: Vec<String> = schema().iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}\n{doc:#}");
}

/// Exit status 2 with one line on stderr that mentions `needle`.
fn assert_refused(args: &[&str], needle: &str) {
    let out = bakeoff(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
    assert!(
        stderr.to_lowercase().contains(&needle.to_lowercase()),
        "{args:?}: `{stderr}` does not mention `{needle}`"
    );
}

pub(super) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[test]
fn threads_split_the_rate_and_merge_into_one_document() {
    let srv = FixedServiceServer::start(Duration::from_micros(20), None).unwrap();
    let url = srv.url("/").to_string();
    let out = bakeoff(&[
        "load",
        &url,
        "--rate",
        "1000",
        "-c",
        "4",
        "-d",
        "1s",
        "--threads",
        "2",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&doc);
    assert_eq!(doc["threads"], 2);
    let shards = doc["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 2);
    assert!(shards
        .iter()
        .all(|s| s["target_rate"] == 500.0 && s["connections"] == 2));
    let sum: u64 = shards.iter().map(|s| s["requests"].as_u64().unwrap()).sum();
    assert_eq!(doc["requests"].as_u64().unwrap(), sum);
    assert_eq!(doc["target_rate"], 1000.0);
    assert_refused(&["load", &url, "--threads", "0"], "--threads");
    // A shard's input error wins over the cancellations it causes in the others.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dead = format!("http://{dead}/");
    assert_refused(
        &["load", &dead, "--threads", "2", "-d", "1s"],
        "nothing is listening",
    );
    assert_refused(&["load", &url, "--threads", "2", "-c", "1"], "-c 2");
}

#[test]
fn bad_segments_and_start_times_are_refused() {
    let url = "http://127.0.0.1:9/";
    let soon = rfc3339(SystemTime::now() + Duration::from_secs(120));
    let past = rfc3339(SystemTime::now() - Duration::from_secs(90));
    assert_refused(
        &["load", url, "--segment", "3/3", "--start-at", &soon],
        "below the count",
    );
    assert_refused(
        &["load", url, "--segment", "x", "--start-at", &soon],
        "is not i/n",
    );
    assert_refused(
        &["load", url, "--segment", "0/2", "--start-at", &past],
        "in the past",
    );
    assert_refused(
        &["load", url, "--segment", "0/2", "--start-at", "noon"],
        "rfc 3339",
    );
    assert_refused(&["load", url, "--segment", "0/2"], "--start-at");
    assert_refused(
        &[
            "load",
            url,
            "--segment",
            "0/4",
            "--start-at",
            &soon,
            "-c",
            "3",
        ],
        "cannot be split over 4 segments",
    );
    assert_refused(&["merge", "/nonexistent/a.json"], "cannot read");
}

/// Spawn every segment of a test at once and collect each one's stdout.
pub(super) fn run_segments(url: &str, count: u32, start: &str, dir: &Path) -> Vec<String> {
    let children: Vec<_> = (0..count)
        .map(|i| {
            let seg = format!("{i}/{count}");
            Command::new(env!("CARGO_BIN_EXE_bakeoff"))
                .args(["load", url, "--rate", "600", "-c", "6", "-d", "2s"])
                .args(["--segment", &seg, "--start-at", start, "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    children
        .into_iter()
        .enumerate()
        .map(|(i, mut child)| {
            while child.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("segment {i} did not finish within 60 s");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let path = dir.join(format!("segment-{i}.json"));
            std::fs::write(&path, &out.stdout).unwrap();
            path.display().to_string()
        })
        .collect()
}

/// The segments' documents, from their files.
pub(super) fn read_docs(files: &[String]) -> Vec<serde_json::Value> {
    files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect()
}

#[test]
fn segments_with_a_shared_start_merge_and_bad_sets_are_refused() {
    let srv = FixedServiceServer::start(Duration::from_micros(20), None).unwrap();
    let url = srv.url("/").to_string();
    let dir = tempfile::tempdir().unwrap();
    // Far enough ahead for three debug processes to start and connect.
    let start = rfc3339(SystemTime::now() + Duration::from_secs(4));
    let files = run_segments(&url, 3, &start, dir.path());
    let docs = read_docs(&files);
    for (i, d) in docs.iter().enumerate() {
        assert_valid(d);
        assert_eq!(d["segment"]["index"], i);
        assert_eq!(d["target_rate"], 200.0);
        assert_eq!(d["test"]["id"], docs[0]["test"]["id"]);
    }
    let f: Vec<&str> = files.iter().map(String::as_str).collect();
    let mut args = vec!["merge", "--json"];
    args.extend(&f);
    let out = bakeoff(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&merged);
    let sum = |k: &str| docs.iter().map(|d| d[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(merged["requests"].as_u64().unwrap(), sum("requests"));
    assert_eq!(merged["successes"].as_u64().unwrap(), sum("successes"));
    assert_eq!(merged["target_rate"], 600.0);
    assert_eq!(merged["segments"].as_array().unwrap().len(), 3);
    // The three processes woke at one wall-clock time (same machine, same clock).
    let skew = merged["skew_ms"].as_f64().unwrap();
    assert!(skew < 200.0, "skew {skew} ms");
    let lo = docs
        .iter()
        .map(|d| d["latency_ms"]["max"].as_f64().unwrap());
    let max = lo.fold(0.0, f64::max);
    assert_eq!(merged["latency_ms"]["max"].as_f64().unwrap(), max);
    // Each merged second's p99 is that of the segments' seconds added: exact.
    let mut seconds: std::collections::BTreeMap<u64, bakeoff_load::Histogram<u64>> =
        Default::default();
    for d in &docs {
        let timeline = d["timeline"].as_array().unwrap();
        let hists = d["histograms"]["seconds"].as_array().unwrap();
        assert_eq!(timeline.len(), hists.len(), "a histogram per second");
        for (s, h) in timeline.iter().zip(hists) {
            let h = bakeoff::distributed::decode_histogram(h.as_str().unwrap()).unwrap();
            let at = s["second"].as_u64().unwrap();
            match seconds.get_mut(&at) {
                Some(into) => into.add(&h).unwrap(),
                None => {
                    seconds.insert(at, h);
                }
            }
        }
    }
    let merged_timeline = merged["timeline"].as_array().unwrap();
    assert_eq!(merged_timeline.len(), seconds.len());
    for s in merged_timeline {
        let h = &seconds[&s["second"].as_u64().unwrap()];
        let want = if h.is_empty() {
            0
        } else {
            h.value_at_quantile(0.99)
        };
        let got = (s["p99_ms"].as_f64().unwrap() * 1000.0).round() as u64;
        assert_eq!(got, want, "second {}", s["second"]);
    }
    let text = bakeoff(&["merge", f[0], f[1], f[2]]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("3 of test"));

    // Refusals: a duplicate, a missing segment, a corrupt histogram, another test.
    assert_refused(&["merge", f[0], f[1], f[1], f[2]], "appears twice");
    assert_refused(&["merge", f[0], f[2]], "segment 1 of 3 is missing");
    let mut corrupt = docs[1].clone();
    corrupt["histograms"]["latency"] = "HISTfAAAA".into();
    let bad = dir.path().join("corrupt.json");
    std::fs::write(&bad, corrupt.to_string()).unwrap();
    assert_refused(
        &["merge", f[0], bad.to_str().unwrap(), f[2]],
        "histogram is corrupt",
    );
    let mut corrupt = docs[1].clone();
    corrupt["histograms"]["seconds"][0] = "HISTfAAAA".into();
    std::fs::write(&bad, corrupt.to_string()).unwrap();
    assert_refused(
        &["merge", f[0], bad.to_str().unwrap(), f[2]],
        "a second's latency histogram is corrupt",
    );
    let mut other = docs[1].clone();
    other["test"]["connections"] = 7.into();
    std::fs::write(&bad, other.to_string()).unwrap();
    assert_refused(&["merge", f[0], bad.to_str().unwrap(), f[2]], "was edited");
    // A span no clock holds: refused, not a panic.
    for (field, value) in [("duration_s", 1e300), ("warmup_s", -1.0)] {
        let mut edited = docs[1].clone();
        edited[field] = value.into();
        std::fs::write(&bad, edited.to_string()).unwrap();
        assert_refused(
            &["merge", f[0], bad.to_str().unwrap(), f[2]],
            &format!("its `{field}` of"),
        );
    }
    // A consistent identity of another test: a start one second later.
    let later = humantime::parse_rfc3339_weak(&start).unwrap() + Duration::from_secs(1);
    let test = bakeoff::distributed::TestIdentity::new(
        &url,
        "GET",
        Some(600.0),
        6,
        Duration::from_secs(2),
        3,
        later,
    );
    other["test"] = serde_json::to_value(&test).unwrap();
    std::fs::write(&bad, other.to_string()).unwrap();
    assert_refused(
        &["merge", f[0], bad.to_str().unwrap(), f[2]],
        "another test than",
    );
    assert_refused(&["merge", f[0], bad.to_str().unwrap(), f[2]], "start_at");
    let plain = bakeoff(&["load", &url, "-c", "1", "-n", "10", "--json"]);
    std::fs::write(&bad, &plain.stdout).unwrap();
    assert_refused(&["merge", bad.to_str().unwrap()], "not a segment");
}
