//! `bakeoff load` as a user runs it: bad inputs exit 2 with a one-line error, and
//! a real run against a local server prints a summary or schema-valid JSON.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};

fn bakeoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .arg("load")
        .args(args)
        .output()
        .expect("run bakeoff")
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1:0 (one thread per connection),
/// alive until the test process exits.
fn hello_server() -> SocketAddr {
    status_server(&[200])
}

/// A server like [`hello_server`] whose answers on each connection take their
/// status from `statuses`, in turn.
fn status_server(statuses: &'static [u16]) -> SocketAddr {
    recording_server(statuses).0
}

/// The requests a [`recording_server`] read: (connection number, path), in
/// the order they arrived.
type Requests = std::sync::Arc<std::sync::Mutex<Vec<(usize, String)>>>;

/// A server like [`status_server`] that also records each request's
/// connection and path.
fn recording_server(statuses: &'static [u16]) -> (SocketAddr, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Requests::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for (n, sock) in listener.incoming().flatten().enumerate() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(sock.try_clone().unwrap());
                let mut writer = sock;
                let mut line = String::new();
                let mut next = statuses.iter().cycle();
                let mut request_line = true;
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            request_line = true;
                            let code = next.next().copied().unwrap_or(200);
                            let answer = format!(
                                "HTTP/1.1 {code} X\r\nContent-Length: 13\r\n\r\nHello, World!"
                            );
                            if writer.write_all(answer.as_bytes()).is_err() {
                                return;
                            }
                        }
                        Ok(_) if request_line => {
                            request_line = false;
                            let path = line.split(' ').nth(1).unwrap_or_default();
                            log.lock().unwrap().push((n, path.to_string()));
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    (addr, seen)
}

fn assert_input_error(args: &[&str], needle: &str) {
    let out = bakeoff(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: not one line: {stderr}");
    assert!(
        lines[0].to_lowercase().contains(needle),
        "{args:?}: `{}` does not mention `{needle}`",
        lines[0]
    );
}

#[test]
fn load_bad_inputs_exit_2_with_one_line() {
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dead_url = format!("http://{dead}/");
    assert_input_error(&["http://[::1"], "malformed url");
    assert_input_error(&["https://127.0.0.1:9/"], "unsupported scheme");
    assert_input_error(&["http://127.0.0.1:9/", "--rate=0"], "--rate");
    assert_input_error(&["http://127.0.0.1:9/", "--rate=-5"], "--rate");
    assert_input_error(&["http://127.0.0.1:9/", "-d", "0s"], "--duration");
    assert_input_error(&["http://127.0.0.1:9/", "--duration=-2s"], "--duration");
    assert_input_error(&[&dead_url, "-d", "1s"], "nothing is listening");
    assert_input_error(&["http://192.0.2.1:80/", "-d", "1s"], "loopback");
}

#[test]
fn a_closed_stdout_ends_load_quietly_with_status_0() {
    let addr = hello_server();
    let url = format!("http://{addr}/hello");
    for json in [false, true] {
        let (reader, writer) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(reader);
        let writer = std::os::fd::OwnedFd::from(writer);
        let mut args = vec![url.as_str(), "-c", "2", "-n", "50"];
        if json {
            args.push("--json");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
            .arg("load")
            .args(&args)
            .stdout(writer)
            .output()
            .expect("run bakeoff");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "--json {json}: {stderr}");
        assert!(!stderr.contains("error"), "--json {json}: {stderr}");
    }
}

#[test]
fn load_json_matches_the_schema() {
    let addr = hello_server();
    let url = format!("http://{addr}/hello");
    let out = bakeoff(&[&url, "-c", "2", "-n", "300", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/schema/load.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let problems: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}\n{doc:#}");
    assert_eq!(doc["requests"], 300);
    assert_eq!(doc["status"]["200"], 300);
    assert_eq!(doc["errors"]["status"], 0);
    assert!(doc["target_rate"].is_null());
    assert!(doc["latency_ms"]["p99"].as_f64().unwrap() > 0.0);

    // The schema is not a rubber stamp: a missing field fails it.
    let mut broken = doc.clone();
    broken.as_object_mut().unwrap().remove("service_ms");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn load_text_summary_reports_both_latencies() {
    let addr = hello_server();
    let url = format!("http://{addr}/");
    let out = bakeoff(&[&url, "-c", "2", "--rate", "100", "-d", "1s"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for needle in [
        "throughput",
        "latency (corrected)",
        "service time",
        "p99.9",
        "status               200: ",
        "generator",
        "valid",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
}

/// A server that fails: every request (exit 1, the summary says why) or half
/// of them (a warning; the figures are of the successes).
#[test]
fn failing_servers_are_named_in_the_summary_and_the_exit_status() {
    let url = format!("http://{}/", status_server(&[500]));
    let out = bakeoff(&[&url, "-c", "2", "--rate", "100", "-d", "1s"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("warning: no request succeeded (status 500: "),
        "{stdout}"
    );
    assert!(stderr.contains("no request succeeded"), "{stderr}");

    let url = format!("http://{}/", status_server(&[200, 503]));
    let out = bakeoff(&[&url, "-c", "2", "--rate", "100", "-d", "1s"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("% of the requests failed (status 503: "),
        "{stdout}"
    );
}

/// `--find-capacity` against a server that answers every request with 500 is
/// a failing server, not a capacity of 0: the reason, the fix, and exit 1.
/// With `--prime`, the search's windows prime their connections with it.
#[test]
fn find_capacity_names_a_failing_server_and_exits_1() {
    let (addr, seen) = recording_server(&[500]);
    let url = format!("http://{addr}/");
    // Its low-rate windows last 5 s: the shared host's steal would void them
    // (machine-noisy), which is not what this test is about.
    let out = bakeoff(&[
        &url,
        "--find-capacity",
        "--max-time",
        "60s",
        "--max-steal",
        "33",
        "--prime",
        "/health",
    ]);
    // The first request is a priming one (a failed one ends the priming:
    // the rest connect lazily), and so is each window's.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first().map(|(_, p)| p.as_str()), Some("/health"));
    let windows = seen.iter().filter(|(_, p)| p == "/health").count();
    assert!(windows >= 2, "{seen:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for needle in [
        "the server is failing, not slow",
        "answered 100% of its requests with errors even at 1.0 req/s",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
    assert!(
        stderr.contains("check the server's log and the URL; exiting 1"),
        "{stderr}"
    );
}

/// A generator held up by its own machine (here: the whole process stopped for
/// 300 ms) is told apart from connections kept busy by the server, and the run
/// says so.
#[test]
fn a_held_up_generator_is_named_in_the_warnings() {
    let addr = hello_server();
    let url = format!("http://{addr}/");
    let child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args([
            "load", &url, "-c", "8", "--rate", "500", "-d", "3s", "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run bakeoff");
    let pid = child.id() as libc::pid_t;
    std::thread::sleep(std::time::Duration::from_millis(1200));
    // SAFETY: signalling our own child, which has not been reaped yet.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let out = child.wait_with_output().expect("bakeoff finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let stalled = doc["late_stalled"].as_u64().unwrap();
    // About 150 requests were due during the stop; every connection was free.
    assert!(stalled >= 50, "{stalled} stalled sends\n{doc:#}");
    assert!(doc["late_sends"].as_u64().unwrap() >= stalled);
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("held up"), "{warnings}");
}

/// A scenario through the binary: two classes mixed by weight, a CSV table, a
/// templated path, and an expectation one class always misses.
#[test]
fn a_scenario_reports_each_class_and_quotes_missed_expectations() {
    let addr = hello_server();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.csv"), "id,name\n1,ada\n2,grace\n").unwrap();
    let file = dir.path().join("shop.toml");
    std::fs::write(
        &file,
        format!(
            r#"target = "http://{addr}"

[data.users]
file = "users.csv"

[defaults]
expect = {{ status = [200] }}

[[request]]
name = "home"
path = "/home/{{{{ csv users.name }}}}?n={{{{ int 1 9 }}}}"
weight = 3
expect = {{ body_contains = "Hello" }}

[[request]]
name = "search"
path = "/search"
query = {{ q = "{{{{ pick a b }}}}" }}
expect = {{ body_contains = "results" }}
"#
        ),
    )
    .unwrap();
    let out = bakeoff(&[
        "--scenario",
        file.to_str().unwrap(),
        "-c",
        "2",
        "-n",
        "400",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/schema/load.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let problems: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}");

    let (home, search) = (&doc["classes"]["home"], &doc["classes"]["search"]);
    let (h, s) = (
        home["requests"].as_u64().unwrap(),
        search["requests"].as_u64().unwrap(),
    );
    assert_eq!(h + s, 400, "{doc:#}");
    // 3 : 1 by weight, within sampling noise of 400 draws.
    assert!((250..=350).contains(&h), "home {h} of 400");
    assert_eq!(home["successes"], h);
    assert_eq!(home["errors"]["expectation"], 0);
    // Every search answer is 200 "Hello, World!", which misses "results".
    assert_eq!(search["successes"], 0);
    assert_eq!(search["errors"]["expectation"], s);
    assert_eq!(doc["errors"]["expectation"], s);
    let examples = doc["expectation_examples"].as_array().unwrap();
    assert!(!examples.is_empty() && examples.len() <= 3, "{examples:?}");
    assert!(
        examples[0].as_str().unwrap().contains("Hello, World!"),
        "{examples:?}"
    );

    // The text summary has a line per class.
    let text = bakeoff(&["--scenario", file.to_str().unwrap(), "-c", "2", "-n", "100"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(
        text.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    assert!(
        stdout.contains("home") && stdout.contains("search"),
        "{stdout}"
    );
}

/// Sessions through the binary: two virtual users (`-c 2`, a closed loop)
/// each send `home` then `search` and think 50 ms after each, so a second
/// holds about 2 × 1 s ÷ 50 ms requests, half of each class. A think time
/// with a rate (an open loop) is refused before any load.
#[test]
fn virtual_users_run_sessions_with_think_times() {
    let addr = hello_server();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.toml");
    std::fs::write(
        &file,
        format!(
            r#"target = "http://{addr}"

[[request]]
name = "home"
path = "/"

[[request]]
name = "search"
path = "/search?q=1"

[[session]]
name = "visit"
steps = ["home", "search"]
think = "50ms"
"#
        ),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = bakeoff(&["--scenario", path, "-c", "2", "-d", "1s", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let requests = doc["requests"].as_u64().unwrap();
    assert!(
        (20..=50).contains(&requests),
        "{requests} requests: {doc:#}"
    );
    let class = |name: &str| doc["classes"][name]["requests"].as_u64().unwrap();
    assert!(class("home").abs_diff(class("search")) <= 2, "{doc:#}");

    assert_input_error(
        &["--scenario", path, "--rate", "100", "-d", "1s"],
        "think time",
    );
    assert_input_error(&["--scenario", path, "--find-capacity"], "think time");
}

#[test]
fn a_bad_scenario_file_names_the_field_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "target = \"http://127.0.0.1:9\"\n[[request]]\nname = \"a\"\npath = \"/\"\nwieght = 2\n",
    )
    .unwrap();
    assert_input_error(
        &["--scenario", file.to_str().unwrap(), "-n", "10"],
        "wieght",
    );
    std::fs::write(
        &file,
        "target = \"http://127.0.0.1:9\"\n[[request]]\nname = \"a\"\npath = \"/{{ csv nope.id }}\"\n",
    )
    .unwrap();
    assert_input_error(&["--scenario", file.to_str().unwrap(), "-n", "10"], "nope");
}

#[test]
fn find_capacity_refuses_what_the_search_sets_and_bad_bounds() {
    let url = "http://127.0.0.1:9/";
    for extra in [
        ["--rate", "100"],
        ["-c", "8"],
        ["-d", "5s"],
        ["--threads", "2"],
    ] {
        let mut args = vec![url, "--find-capacity"];
        args.extend(extra);
        let out = bakeoff(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot be used with"), "{args:?}: {stderr}");
    }
    assert_input_error(&[url, "--find-capacity", "--max-time", "5s"], "--max-time");
    // 20 s left the search windows ~4 s: the shortest bound is 30 s.
    assert_input_error(
        &[url, "--find-capacity", "--max-time", "29s"],
        "between 30s",
    );
    assert_input_error(&[url, "--find-capacity", "--slo-p99", "0ms"], "--slo-p99");
    assert_input_error(&[url, "--find-capacity", "--slo-p99", "fast"], "--slo-p99");
    // The SLO and the time bound belong to the search.
    let out = bakeoff(&[url, "--max-time", "30s"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `--prime PATH` serves every connection one GET PATH before the test's
/// requests, as `run` primes a contender's; without it, none.
#[test]
fn prime_serves_each_connection_its_path_first() {
    for prime in [true, false] {
        let (addr, seen) = recording_server(&[200]);
        let url = format!("http://{addr}/hello");
        let mut args = vec![url.as_str(), "-c", "4", "-n", "40", "--rate", "400"];
        if prime {
            args.extend(["--prime", "/health"]);
        }
        let out = bakeoff(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        // The output says how its connections were primed.
        let stdout = String::from_utf8_lossy(&out.stdout);
        let said = stdout.contains("4 connections (each primed in turn with GET /health)");
        assert_eq!(said, prime, "{stdout}");
        let seen = seen.lock().unwrap().clone();
        let health = seen.iter().filter(|(_, p)| p == "/health").count();
        let hello = seen.iter().filter(|(_, p)| p == "/hello").count();
        assert!(hello >= 40, "{args:?}: {seen:?}");
        if !prime {
            assert_eq!(health, 0, "{seen:?}");
            continue;
        }
        assert_eq!(health, 4, "one per connection: {seen:?}");
        let conns: std::collections::BTreeSet<usize> = seen.iter().map(|(c, _)| *c).collect();
        for c in conns {
            let first = seen.iter().find(|(n, _)| *n == c).unwrap();
            assert_eq!(first.1, "/health", "connection {c} first: {seen:?}");
        }
    }
    let (addr, _) = recording_server(&[200]);
    let url = format!("http://{addr}/hello");
    let out = bakeoff(&[&url, "-c", "2", "-n", "10", "--prime", "/health", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["primed_with"], "GET /health");
    assert_input_error(&["http://127.0.0.1:9/", "--prime", "health"], "--prime");
    assert_input_error(&["http://127.0.0.1:9/", "--prime", "/a b"], "--prime");
}
