//! `bakeoff load` against misbehaving servers (the fault fixtures, started
//! directly): it exits in bounded time, never panics, counts each failure under the
//! right kind, and keeps its memory bounded against a 100 MB body.

use std::time::Duration;

use serde_json::Value;

use crate::hardening::{run_bounded, FaultServer, Finished, Marker};

/// `bakeoff load --json` for `secs` seconds; the run must end well within a bound.
fn load(marker: &Marker, url: &str, extra: &[&str], secs: u64) -> (Finished, Value) {
    let duration = format!("{secs}s");
    let mut cmd = marker.bakeoff();
    cmd.args(["load", url, "--json", "-d", &duration])
        .args(extra);
    let done = run_bounded(&mut cmd, Duration::from_secs(secs + 20));
    assert!(
        !done.stderr.contains("panicked"),
        "bakeoff panicked: {}",
        done.stderr
    );
    let doc: Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", done.stdout));
    // A run in which no request succeeded still prints its figures, and exits 1.
    if doc["successes"].as_u64() == Some(0) {
        assert_eq!(done.code(), Some(1), "stderr: {}", done.stderr);
        assert!(
            done.stderr.contains("no request succeeded"),
            "{}",
            done.stderr
        );
    } else {
        assert_eq!(done.code(), Some(0), "stderr: {}", done.stderr);
    }
    (done, doc)
}

fn errors(doc: &Value, kind: &str) -> u64 {
    doc["errors"][kind]
        .as_u64()
        .unwrap_or_else(|| panic!("errors.{kind} in {doc}"))
}

fn ok_responses(doc: &Value) -> u64 {
    doc["status"]["200"].as_u64().unwrap_or(0)
}

#[test]
fn garbage_http_is_counted_as_parse_errors() {
    let marker = Marker::new();
    let server = FaultServer::start("garbage", &marker);
    let (_, doc) = load(&marker, &server.url("/json"), &["-c", "4"], 2);
    assert!(errors(&doc, "parse") > 0, "{doc}");
    assert_eq!(ok_responses(&doc), 0, "{doc}");
    drop(server);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn a_server_that_closes_every_connection_is_counted_as_resets() {
    let marker = Marker::new();
    let server = FaultServer::start("closer", &marker);
    let (_, doc) = load(&marker, &server.url("/json"), &["-c", "4"], 2);
    assert!(errors(&doc, "reset") > 0, "{doc}");
    assert_eq!(ok_responses(&doc), 0, "{doc}");
    drop(server);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn an_unannounced_close_after_each_response_costs_reconnects_not_errors() {
    let marker = Marker::new();
    let server = FaultServer::start("closer", &marker);
    let (_, doc) = load(
        &marker,
        &server.url("/plaintext"),
        &["-c", "2", "--rate", "100"],
        2,
    );
    assert!(ok_responses(&doc) > 50, "{doc}");
    assert!(doc["reconnects"].as_u64().unwrap_or(0) > 0, "{doc}");
    drop(server);
}

#[test]
fn slowloris_responses_time_out() {
    let marker = Marker::new();
    let server = FaultServer::start("slowloris", &marker);
    let (done, doc) = load(
        &marker,
        &server.url("/json"),
        &["-c", "4", "--timeout", "300ms"],
        2,
    );
    assert!(errors(&doc, "timeout") > 0, "{doc}");
    assert_eq!(ok_responses(&doc), 0, "{doc}");
    // The trickle must not hold the run open past its duration plus the timeout.
    assert!(done.took < Duration::from_secs(10), "took {:?}", done.took);
    drop(server);
}

#[test]
fn a_server_crashing_under_load_is_counted_and_the_run_ends() {
    let marker = Marker::new();
    let server = FaultServer::start("crash-mid", &marker);
    let (_, doc) = load(
        &marker,
        &server.url("/json"),
        &["-c", "4", "--rate", "200", "--timeout", "500ms"],
        3,
    );
    let ok = ok_responses(&doc);
    assert!(
        ok > 0 && ok <= 50,
        "the fixture serves 50 then exits: {doc}"
    );
    let failed = errors(&doc, "connect") + errors(&doc, "reset");
    assert!(failed > 0, "{doc}");
    drop(server);
}

#[test]
fn a_100_mb_body_is_streamed_not_buffered() {
    let marker = Marker::new();
    let server = FaultServer::start("huge-body", &marker);
    let (done, doc) = load(
        &marker,
        &server.url("/json"),
        &["-c", "2", "--timeout", "20s"],
        3,
    );
    assert!(ok_responses(&doc) >= 1, "{doc}");
    // Two connections each reading 100 MB: buffering bodies would need > 200 MB.
    assert!(
        done.peak_rss_kib < 64 * 1024,
        "bakeoff load peaked at {} KiB against a 100 MB body",
        done.peak_rss_kib
    );
    drop(server);
}
