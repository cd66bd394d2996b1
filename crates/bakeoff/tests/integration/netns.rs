//! Segments on "other hosts": network namespaces the test creates itself, a
//! server in one, two segments in two others, joined by a bridge and veth
//! pairs. The segments reach the server by its namespace's address, only with
//! `--allow-remote`, then `bakeoff merge` joins them. Skipped, with a note,
//! where namespaces cannot be created (not root, no `ip`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A keep-alive HTTP/1.1 server on 0.0.0.0 that prints its port.
const SERVER: &str = r#"
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        # One write: headers and body apart would meet Nagle and delayed ACKs.
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!")
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("0.0.0.0", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The namespaces (and with them their links), deleted on drop.
struct Namespaces(Vec<String>);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.0 {
            ip(&["netns", "del", n]);
        }
    }
}

/// Kill the server on every path.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Server namespace S with a bridge at 10.216.0.1/24; clients C0 and C1 at .2 and .3.
fn topology(tag: &str) -> Option<Namespaces> {
    let (s, c0, c1) = (
        format!("bk{tag}s"),
        format!("bk{tag}c0"),
        format!("bk{tag}c1"),
    );
    if !ip(&["netns", "add", &s]) {
        return None;
    }
    let ns = Namespaces(vec![s.clone(), c0.clone(), c1.clone()]);
    let run = |cmds: &[&[&str]]| cmds.iter().all(|c| ip(c));
    let ok = run(&[
        &["netns", "add", &c0],
        &["netns", "add", &c1],
        &["-n", &s, "link", "set", "lo", "up"],
        &["-n", &s, "link", "add", "br0", "type", "bridge"],
        &["-n", &s, "addr", "add", "10.216.0.1/24", "dev", "br0"],
        &["-n", &s, "link", "set", "br0", "up"],
    ]);
    if !ok {
        return None;
    }
    for (i, c) in [&c0, &c1].into_iter().enumerate() {
        let (host, peer) = (format!("v{i}h"), format!("v{i}p"));
        let addr = format!("10.216.0.{}/24", i + 2);
        let ok = run(&[
            &[
                "-n", c, "link", "add", &peer, "type", "veth", "peer", "name", &host,
            ],
            &["-n", c, "link", "set", &host, "netns", &s],
            &["-n", &s, "link", "set", &host, "master", "br0"],
            &["-n", &s, "link", "set", &host, "up"],
            &["-n", c, "link", "set", "lo", "up"],
            &["-n", c, "addr", "add", &addr, "dev", &peer],
            &["-n", c, "link", "set", &peer, "up"],
        ]);
        if !ok {
            return None;
        }
    }
    Some(ns)
}

#[test]
fn segments_in_other_namespaces_reach_the_server_and_merge() {
    let tag = std::process::id() % 100_000;
    let Some(ns) = topology(&tag.to_string()) else {
        eprintln!(
            "note: skipped: cannot create network namespaces here (needs root and `ip netns`)"
        );
        return;
    };
    let server = Command::new("ip")
        .args(["netns", "exec", &ns.0[0], "python3", "-c", SERVER])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 in the server namespace");
    let mut server = Reap(server);
    let mut port = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let url = format!("http://10.216.0.1:{}/", port.trim());
    let bin = env!("CARGO_BIN_EXE_bakeoff");
    // The loopback guard holds across namespaces: no --allow-remote, no load.
    let refused = Command::new("ip")
        .args(["netns", "exec", &ns.0[1], bin, "load", &url, "-n", "5"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-remote"));

    let start =
        humantime::format_rfc3339_millis(SystemTime::now() + Duration::from_secs(4)).to_string();
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..2)
        .map(|i| {
            Command::new("ip")
                .args(["netns", "exec", &ns.0[1 + i], bin, "load", &url])
                .args([
                    "--rate",
                    "100",
                    "-c",
                    "2",
                    "-d",
                    "2s",
                    "--allow-remote",
                    "--json",
                ])
                .args(["--segment", &format!("{i}/2"), "--start-at", &start])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut files = Vec::new();
    for (i, mut child) in children.into_iter().enumerate() {
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
        let path = dir.path().join(format!("{i}.json"));
        std::fs::write(&path, &out.stdout).unwrap();
        files.push(path.display().to_string());
    }
    let out = Command::new(bin)
        .args(["merge", "--json", &files[0], &files[1]])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["url"], url);
    assert_eq!(doc["target_rate"], 100.0);
    assert_eq!(doc["errors"]["connect"], 0, "{doc:#}");
    let requests = doc["requests"].as_u64().unwrap();
    assert!(
        (180..=220).contains(&requests),
        "{requests} requests in 2 s at 100 req/s"
    );
    assert_eq!(doc["status"]["200"].as_u64(), Some(requests));
}
