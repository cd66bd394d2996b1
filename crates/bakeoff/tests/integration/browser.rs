//! The HTML report in a real headless Chromium, driven over the DevTools
//! protocol: no console errors, every chart drawn with data marks, no request
//! leaving the file, and a screenshot saved under `tests/artifacts/`.
//!
//! Without Chromium the test skips loudly, unless `BAKEOFF_REQUIRE_BROWSER=1`
//! (CI), where it fails.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::time::{sleep, timeout, Instant};
use tokio_tungstenite::tungstenite::Message;

use bakeoff::report::{self, fixtures::sample_run};

const STEP: Duration = Duration::from_secs(20);

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BAKEOFF_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Chromium in its own process group, killed as a group on drop.
struct Browser {
    child: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: signalling a process group we created; no memory is touched.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn launch(chromium: &Path, profile: &Path) -> Browser {
    let log = std::fs::File::create(profile.with_extension("log")).expect("chromium log file");
    let child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log fd"))
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    Browser { child }
}

/// The browser's DevTools WebSocket URL, from `DevToolsActivePort` in the profile.
async fn devtools_url(browser: &mut Browser, profile: &Path) -> String {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + STEP;
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return format!("ws://127.0.0.1:{port}{path}");
            }
        }
        if let Ok(Some(status)) = browser.child.try_wait() {
            let log = std::fs::read_to_string(profile.with_extension("log")).unwrap_or_default();
            panic!("chromium exited ({status}) before opening DevTools:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "chromium did not write {} within {STEP:?}",
            file.display()
        );
        sleep(Duration::from_millis(100)).await;
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A minimal CDP client over one flattened page session; events are kept.
struct Cdp {
    ws: Ws,
    next_id: u64,
    session: Option<String>,
    events: Vec<Value>,
}

impl Cdp {
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        timeout(STEP, self.ws.send(Message::text(msg.to_string())))
            .await
            .unwrap_or_else(|_| panic!("{method}: send timed out"))
            .unwrap_or_else(|e| panic!("{method}: send failed: {e}"));
        loop {
            let v = self.read(method).await;
            if v["id"] == json!(id) {
                assert!(v.get("error").is_none(), "{method} failed: {}", v["error"]);
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    async fn read(&mut self, what: &str) -> Value {
        loop {
            let msg = timeout(STEP, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{what}: no message from chromium within {STEP:?}"))
                .unwrap_or_else(|| panic!("{what}: DevTools connection closed"))
                .unwrap_or_else(|e| panic!("{what}: DevTools read failed: {e}"));
            if let Message::Text(text) = msg {
                return serde_json::from_str(text.as_str()).expect("DevTools sends JSON");
            }
        }
    }

    async fn wait_event(&mut self, method: &str) -> Value {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            return self.events.remove(i);
        }
        loop {
            let v = self.read(method).await;
            if v["method"] == method {
                return v;
            }
            self.events.push(v);
        }
    }

    /// Collect whatever events arrive during `d` (late console errors, requests).
    async fn drain(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while let Ok(Some(Ok(Message::Text(text)))) = timeout(
            end.saturating_duration_since(Instant::now()),
            self.ws.next(),
        )
        .await
        {
            self.events
                .push(serde_json::from_str(text.as_str()).expect("DevTools sends JSON"));
        }
    }

    async fn eval(&mut self, expression: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        assert!(
            r.get("exceptionDetails").is_none(),
            "evaluation threw: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    async fn navigate(&mut self, url: &str) {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        let r = self.call("Page.navigate", json!({ "url": url })).await;
        assert!(
            r.get("errorText").is_none(),
            "navigation to {url} failed: {}",
            r["errorText"]
        );
        self.wait_event("Page.loadEventFired").await;
    }

    fn take_requests(&mut self) -> Vec<String> {
        let (reqs, rest): (Vec<Value>, Vec<Value>) = self
            .events
            .drain(..)
            .partition(|e| e["method"] == "Network.requestWillBeSent");
        self.events = rest;
        reqs.iter()
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => {
                        Some(format!("exception: {}", p["exceptionDetails"]))
                    }
                    "Runtime.consoleAPICalled"
                        if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(format!("console.{}: {}", p["type"], p["args"]))
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => {
                        Some(format!("log: {}", p["entry"]["text"]))
                    }
                    _ => None,
                }
            })
            .collect()
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .map(val)
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

async fn screenshot(cdp: &mut Cdp, y: f64, height: f64, path: &Path) {
    let shot = cdp
        .call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": y, "width": 1200, "height": height, "scale": 1 } }),
        )
        .await;
    let png = base64_decode(shot["data"].as_str().expect("screenshot data"));
    assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
    std::fs::write(path, png).unwrap_or_else(|e| panic!("cannot save {}: {e}", path.display()));
}

#[tokio::test]
async fn html_report_renders_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        let msg = "chromium not found (install Debian's `chromium`, or set BAKEOFF_CHROMIUM)";
        if std::env::var("BAKEOFF_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("{msg}, and BAKEOFF_REQUIRE_BROWSER=1");
        }
        eprintln!("\n!!!!!!!! SKIPPED the browser test: {msg} !!!!!!!!\n");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = sample_run();
    let page = report::write_html_report(&run, dir.path()).unwrap();
    let page_url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let mut browser = launch(&chromium, &profile);
    timeout(Duration::from_secs(120), async {
        let url = devtools_url(&mut browser, &profile).await;
        let (ws, _) = timeout(STEP, tokio_tungstenite::connect_async(url.as_str()))
            .await
            .expect("DevTools connect timed out")
            .expect("DevTools connect failed");
        let mut cdp = Cdp { ws, next_id: 0, session: None, events: Vec::new() };
        let target = cdp.call("Target.createTarget", json!({ "url": "about:blank" })).await;
        let attached = cdp.call("Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true })).await;
        cdp.session = Some(attached["sessionId"].as_str().expect("session id").to_string());
        for domain in ["Page", "Runtime", "Log", "Network"] {
            cdp.call(&format!("{domain}.enable"), json!({})).await;
        }
        cdp.call("Emulation.setDeviceMetricsOverride", json!({ "width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": false })).await;
        cdp.navigate(&page_url).await;
        cdp.drain(Duration::from_millis(500)).await;

        let charts = cdp
            .eval("JSON.stringify(Array.from(document.querySelectorAll('svg[data-chart]')).map(s => [s.dataset.chart, s.querySelectorAll('.mark').length]))")
            .await;
        let charts: Vec<(String, usize)> = serde_json::from_str(charts.as_str().expect("a JSON string")).unwrap();
        for name in crate::report::expected_charts(&run) {
            let marks = charts.iter().find(|c| c.0 == name).map(|c| c.1);
            assert!(marks.is_some_and(|n| n > 0), "chart {name}: {marks:?} data marks in the DOM");
        }
        let height = cdp.eval("document.documentElement.scrollHeight").await.as_f64().expect("page height");
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        screenshot(&mut cdp, 0.0, height.min(16_000.0), &artifacts.join("report-full.png")).await;
        // Readable pieces for people: the top, and each later section.
        screenshot(&mut cdp, 0.0, 1800.0, &artifacts.join("report-top.png")).await;
        for section in ["latency", "cost", "cells", "problems"] {
            let y = cdp.eval(&format!("document.getElementById('{section}').getBoundingClientRect().top + window.scrollY")).await;
            let y = y.as_f64().unwrap_or_else(|| panic!("section {section} is missing"));
            screenshot(&mut cdp, y, 1800.0_f64.min(height - y), &artifacts.join(format!("report-{section}.png"))).await;
        }
        cdp.drain(Duration::from_millis(300)).await;

        let errors = cdp.errors();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
        let requests = cdp.take_requests();
        let outside: Vec<&String> = requests.iter().filter(|u| **u != page_url && !u.starts_with("data:")).collect();
        assert!(outside.is_empty(), "the report requested {outside:?}");

        // The detector itself: a page that does fetch must be caught.
        let leaky = dir.path().join("leaky.html");
        std::fs::write(&leaky, "<!DOCTYPE html><img src=\"http://127.0.0.1:9/x.png\">").unwrap();
        cdp.navigate(&format!("file://{}", leaky.display())).await;
        cdp.drain(Duration::from_millis(300)).await;
        let caught = cdp.take_requests();
        assert!(caught.iter().any(|u| u.starts_with("http://127.0.0.1:9/")), "request detector missed {caught:?}");
    })
    .await
    .expect("the browser test took over 120 s");
    drop(browser);
}
