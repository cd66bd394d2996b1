//! The upstream service and the contract verifier against real servers on
//! 127.0.0.1: a correct mini contender passes every check; each broken
//! variant fails with a reason naming the endpoint, the expectation and what
//! came; misbehaving servers fail in bounded time.

mod faults;
mod server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bakeoff::model::Endpoint;
use bakeoff::workload::upstream::Upstream;
use bakeoff::workload::verify::http::{self, Target};
use bakeoff::workload::verify::{
    verify_contender, verify_contender_with, Check, CheckTarget, VerifyContext, VerifyOptions,
};
use rand::{Rng, SeedableRng};
use server::{Faults, Raw};
use tokio_util::sync::CancellationToken;

/// TechEmpower's 12 fortunes.
const FORTUNES: [&str; 12] = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    "フレームワークのベンチマーク",
];

const REGIONS: [&str; 7] = [
    "africa",
    "asia",
    "europe",
    "latin-america",
    "middle-east",
    "north-america",
    "oceania",
];

/// The contract's SQLite database, in WAL mode, with a random `world`.
fn make_db(dir: &Path) -> PathBuf {
    let path = dir.join("bakeoff.sqlite");
    let mut db = rusqlite::Connection::open(&path).unwrap();
    db.pragma_update(None, "journal_mode", "WAL").unwrap();
    db.execute_batch(
        "CREATE TABLE world (id INTEGER PRIMARY KEY, randomNumber INTEGER NOT NULL);
         CREATE TABLE fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL);",
    )
    .unwrap();
    let tx = db.transaction().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for id in 1..=10_000i64 {
        let n: i64 = rng.random_range(1..=10_000);
        tx.execute("INSERT INTO world VALUES (?1, ?2)", [id, n])
            .unwrap();
    }
    for (i, msg) in FORTUNES.iter().enumerate() {
        tx.execute(
            "INSERT INTO fortune VALUES (?1, ?2)",
            rusqlite::params![i as i64 + 1, msg],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    path
}

/// A small sales dataset in the contract's format.
fn make_csv(dir: &Path) -> PathBuf {
    let path = dir.join("sales.csv");
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut out = String::from("region,product,units,unit_price,day\n");
    for _ in 0..3000 {
        let region = REGIONS[rng.random_range(0..REGIONS.len())];
        let product = rng.random_range(1..=25);
        let units = rng.random_range(1..=50);
        let cents: u32 = rng.random_range(50..=50_000);
        let day = rng.random_range(1..=28);
        out.push_str(&format!(
            "{region},product-{product:02},{units},{}.{:02},2025-03-{day:02}\n",
            cents / 100,
            cents % 100
        ));
    }
    std::fs::write(&path, out).unwrap();
    path
}

struct Fixture {
    _dir: tempfile::TempDir,
    sqlite: PathBuf,
    data: PathBuf,
    upstream: Upstream,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = make_db(dir.path());
    let data = make_csv(dir.path());
    let upstream = Upstream::start(CancellationToken::new()).await.unwrap();
    Fixture {
        _dir: dir,
        sqlite,
        data,
        upstream,
    }
}

impl Fixture {
    fn ctx(&self) -> VerifyContext<'_> {
        VerifyContext {
            sqlite: self.sqlite.clone(),
            data: self.data.clone(),
            upstream: &self.upstream,
            keep_alive: true,
            health_path: "/health".into(),
            postgres: None,
        }
    }
}

fn names(list: &[&str]) -> Vec<Endpoint> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

/// Every contract endpoint's name.
const ENDPOINTS: [&str; 10] = {
    let mut names = [""; 10];
    let mut i = 0;
    while i < 10 {
        names[i] = Endpoint::ALL[i].as_str();
        i += 1;
    }
    names
};

/// Verify `endpoints` on a mini contender with `faults`.
async fn verify_faulty(faults: Faults, endpoints: &[&str]) -> Vec<Check> {
    verify_declared(faults, endpoints, true).await
}

/// [`verify_faulty`] with the manifest's `keep_alive` declaration.
async fn verify_declared(faults: Faults, endpoints: &[&str], keep_alive: bool) -> Vec<Check> {
    let fx = fixture().await;
    let srv = server::start(&fx.sqlite, &fx.data, &fx.upstream.base_url(), faults).await;
    let ctx = VerifyContext {
        keep_alive,
        ..fx.ctx()
    };
    verify_contender(&srv.base_url, &names(endpoints), &ctx).await
}

/// Verify `endpoint` alone on a mini contender broken by `fault`: the
/// reasons its check failed with.
async fn fails(fault: impl FnOnce(&mut Faults), endpoint: &str) -> String {
    let mut faults = Faults::default();
    fault(&mut faults);
    failed_reasons(&verify_faulty(faults, &[endpoint]).await, endpoint)
}

/// The reasons of the single failed check labelled `endpoint`.
fn failed_reasons(checks: &[Check], endpoint: &str) -> String {
    let c = checks
        .iter()
        .find(|c| c.endpoint.to_string() == endpoint)
        .unwrap();
    assert!(!c.passed, "{endpoint} should fail: {c:?}");
    assert!(!c.reasons.is_empty());
    c.reasons.join("\n")
}

#[tokio::test]
async fn a_correct_contender_passes_every_check() {
    let checks = verify_faulty(Faults::default(), &ENDPOINTS).await;
    assert_eq!(checks.len(), ENDPOINTS.len() + 1);
    assert_eq!(checks.last().unwrap().endpoint, CheckTarget::Http);
    for c in &checks {
        assert!(c.passed, "{}: {:#?}", c.endpoint, c.reasons);
    }
}

#[tokio::test]
async fn wrong_json_fails_naming_the_expected_body() {
    let checks = verify_faulty(
        Faults {
            wrong_json: true,
            ..Faults::default()
        },
        &["plaintext", "json"],
    )
    .await;
    assert!(checks[0].passed, "{:?}", checks[0]);
    let r = failed_reasons(&checks, "json");
    assert!(
        r.contains("GET /json") && r.contains("Hello, World!") && r.contains("Hello, world"),
        "{r}"
    );
}

#[tokio::test]
async fn unescaped_fortunes_fail() {
    let r = fails(|f| f.unescaped_fortunes = true, "fortunes").await;
    assert!(
        r.contains("GET /fortunes") && r.contains("unescaped") && r.contains("<script>"),
        "{r}"
    );
}

#[tokio::test]
async fn unclamped_queries_fail() {
    let r = fails(|f| f.unclamped_queries = true, "queries").await;
    assert!(
        r.contains("GET /queries?queries=501: expected 500 rows"),
        "{r}"
    );
    assert!(r.contains("got 501 rows"), "{r}");
    assert!(r.contains("GET /queries?queries=0: expected 1 rows"), "{r}");
}

#[tokio::test]
async fn a_missing_date_header_fails_every_endpoint() {
    let checks = verify_faulty(
        Faults {
            no_date: true,
            ..Faults::default()
        },
        &["plaintext", "cpu"],
    )
    .await;
    for ep in ["plaintext", "cpu"] {
        let r = failed_reasons(&checks, ep);
        assert!(r.contains("expected a Date header, got none"), "{r}");
    }
}

#[tokio::test]
async fn io_that_skips_the_upstream_fails() {
    let r = fails(|f| f.fake_io = true, "io").await;
    assert!(
        r.contains("GET /io?ms=20") && r.contains("did not return the upstream's answer"),
        "{r}"
    );
    assert!(
        r.contains("exactly 3 /delay calls") && r.contains("received 0"),
        "{r}"
    );
}

#[tokio::test]
async fn wrong_data_sums_fail() {
    let r = fails(|f| f.wrong_data = true, "data").await;
    assert!(
        r.contains("GET /data?region=europe") && r.contains("expected revenue"),
        "{r}"
    );
    assert!(!r.contains("expected units"), "{r}");
}

#[tokio::test]
async fn unpersisted_updates_fail() {
    let checks = verify_faulty(
        Faults {
            updates_not_persisted: true,
            ..Faults::default()
        },
        &["db", "updates"],
    )
    .await;
    assert!(checks[0].passed, "{:?}", checks[0]);
    let r = failed_reasons(&checks, "updates");
    assert!(
        r.contains("GET /updates?queries=5") && r.contains("(persisted)"),
        "{r}"
    );
}

#[tokio::test]
async fn a_chat_room_that_skips_the_sender_fails() {
    let r = fails(|f| f.ws_no_self_echo = true, "ws").await;
    for c in 0..3 {
        assert!(
            r.contains(&format!("client {c}: expected its own message")),
            "{r}"
        );
    }
    assert!(
        !r.contains("'s message"),
        "only the sender's own messages are missing: {r}"
    );
}

fn quick() -> VerifyOptions {
    VerifyOptions {
        request_timeout: Duration::from_millis(300),
        endpoint_timeout: Duration::from_secs(3),
        ws_timeout: Duration::from_millis(300),
        max_body: 256 * 1024,
    }
}

async fn verify_raw(kind: Raw, endpoints: &[&str]) -> (Vec<Check>, Duration) {
    let fx = fixture().await;
    let srv = server::start_raw(kind).await;
    let started = Instant::now();
    let checks = verify_contender_with(&srv.base_url, &names(endpoints), &fx.ctx(), &quick()).await;
    (checks, started.elapsed())
}

#[tokio::test]
async fn a_hanging_server_fails_in_bounded_time() {
    let (checks, took) = verify_raw(Raw::Hang, &ENDPOINTS).await;
    assert!(took < Duration::from_secs(20), "took {took:?}");
    for c in &checks {
        assert!(!c.passed, "{c:?}");
    }
    let r = failed_reasons(&checks, "json");
    assert!(
        r.contains("GET /json: no complete response within 300ms"),
        "{r}"
    );
    let r = failed_reasons(&checks, "ws");
    assert!(r.contains("WebSocket handshake"), "{r}");
}

#[tokio::test]
async fn garbage_bytes_fail_cleanly() {
    let (checks, _) = verify_raw(Raw::Garbage, &["plaintext", "fortunes"]).await;
    for ep in ["plaintext", "fortunes"] {
        let r = failed_reasons(&checks, ep);
        assert!(r.contains("malformed HTTP response"), "{r}");
    }
}

#[tokio::test]
async fn an_endless_body_is_capped() {
    let (checks, took) = verify_raw(Raw::EndlessBody, &["plaintext"]).await;
    let r = failed_reasons(&checks, "plaintext");
    assert!(r.contains("larger than the 262144-byte limit"), "{r}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[tokio::test]
async fn a_body_shorter_than_promised_fails() {
    let (checks, _) = verify_raw(Raw::ShortBody, &["json"]).await;
    let r = failed_reasons(&checks, "json");
    assert!(
        r.contains("GET /json: connection closed before the response was complete"),
        "{r}"
    );
}

#[tokio::test]
async fn bad_urls_fail_with_a_reason() {
    let fx = fixture().await;
    let checks = verify_contender("ftp://x", &names(&["json"]), &fx.ctx()).await;
    assert!(checks[0].reasons[0].contains("http://"), "{checks:?}");
    // Nothing listening: a connect error, not a hang.
    let checks = verify_contender("http://127.0.0.1:1", &names(&["json"]), &fx.ctx()).await;
    assert!(
        checks[0].reasons[0].contains("cannot connect"),
        "{checks:?}"
    );
}

async fn delay(target: &Target, path: &str) -> serde_json::Value {
    let resp = http::get(target, path, Duration::from_secs(5), 4096)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    serde_json::from_slice(&resp.body).unwrap()
}

#[tokio::test]
async fn upstream_delays_and_counts_its_calls() {
    let up = Upstream::start(CancellationToken::new()).await.unwrap();
    let target = Target::parse(&up.base_url()).unwrap();
    assert_eq!(up.calls(), 0);

    let started = Instant::now();
    let v = delay(&target, "/delay?ms=50").await;
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(v, serde_json::json!({"ms": 50, "seq": 1}));
    assert_eq!(
        delay(&target, "/delay?ms=oops").await,
        serde_json::json!({"ms": 0, "seq": 2})
    );
    assert_eq!(up.calls(), 2);
    assert_eq!(
        delay(&target, "/stats").await,
        serde_json::json!({"calls": 2})
    );
    assert_eq!(up.calls(), 2, "/stats is not a call");
}

#[tokio::test]
async fn upstream_keeps_connections_alive() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = Upstream::start(CancellationToken::new()).await.unwrap();
    let mut conn = tokio::net::TcpStream::connect(up.addr()).await.unwrap();
    let mut buf = Vec::new();
    for seq in 1..=3 {
        conn.write_all(b"GET /delay?ms=1 HTTP/1.1\r\nHost: up\r\n\r\n")
            .await
            .unwrap();
        let want = format!("{{\"ms\":1,\"seq\":{seq}}}");
        while !String::from_utf8_lossy(&buf).contains(&want) {
            let mut chunk = [0u8; 1024];
            let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut chunk))
                .await
                .expect("the upstream answers on the same connection")
                .unwrap();
            assert!(n > 0, "the upstream closed a keep-alive connection");
            buf.extend_from_slice(&chunk[..n]);
        }
    }
    assert_eq!(up.calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_serves_many_concurrent_connections() {
    let up = Upstream::start(CancellationToken::new()).await.unwrap();
    let target = Target::parse(&up.base_url()).unwrap();
    let n = 2000u64;
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let t = target.clone();
            tokio::spawn(async move { delay(&t, "/delay?ms=300").await })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap()["seq"].as_u64().unwrap());
    }
    // All waited concurrently: far less than n × 300 ms (600 s).
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "every seq issued once");
    assert_eq!(up.calls(), n);
}

#[tokio::test]
async fn upstream_answers_while_the_callers_runtime_is_busy() {
    use std::io::{Read, Write};
    let up = Upstream::start(CancellationToken::new()).await.unwrap();
    let addr = up.addr();
    let client = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        s.write_all(b"GET /delay?ms=0 HTTP/1.1\r\nHost: up\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).map(|_| out)
    });
    // Block this (single-threaded) runtime for longer than the client waits:
    // a service sharing it could not answer in time.
    std::thread::sleep(Duration::from_millis(1500));
    let answer = client.join().unwrap().expect("answered within 1 s");
    assert!(answer.contains(r#"{"ms":0,"seq":1}"#), "{answer}");
}

#[tokio::test]
async fn upstream_stops_on_cancel_and_on_drop() {
    let cancel = CancellationToken::new();
    let up = Upstream::start(cancel.clone()).await.unwrap();
    let target = Target::parse(&up.base_url()).unwrap();
    delay(&target, "/delay?ms=0").await;
    cancel.cancel();
    up.shutdown().await;
    let err = http::get(&target, "/delay", Duration::from_secs(2), 4096).await;
    assert!(err.is_err(), "still serving after cancel");

    let up = Upstream::start(CancellationToken::new()).await.unwrap();
    let target = Target::parse(&up.base_url()).unwrap();
    // A request in flight when the upstream goes away ends instead of hanging.
    let pending = tokio::spawn({
        let t = target.clone();
        async move { http::get(&t, "/delay?ms=10000", Duration::from_secs(5), 4096).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(up);
    let started = Instant::now();
    assert!(pending.await.unwrap().is_err());
    assert!(started.elapsed() < Duration::from_secs(8));
}

/// The upstream counts a delay as late past its bar: none at a bar of a
/// second, every one at a bar of zero (a timer ends past its due time);
/// `ms=0` calls are no delays.
#[tokio::test]
async fn upstream_counts_the_delays_that_end_late() {
    use bakeoff::workload::upstream::{UpstreamTally, LATE_AFTER};
    let up = Upstream::start(CancellationToken::new()).await.unwrap();
    let target = Target::parse(&up.base_url()).unwrap();
    let counters = up.counters();
    assert_eq!(counters.late_after(), LATE_AFTER);
    up.set_late_after(Duration::from_secs(1));
    for _ in 0..5 {
        delay(&target, "/delay?ms=5").await;
    }
    assert_eq!(counters.read(), UpstreamTally { calls: 5, late: 0 });
    up.set_late_after(Duration::ZERO);
    for _ in 0..5 {
        delay(&target, "/delay?ms=5").await;
    }
    delay(&target, "/delay?ms=0").await;
    let now = counters.read();
    assert_eq!(now, UpstreamTally { calls: 11, late: 5 });
    assert_eq!(
        now - UpstreamTally { calls: 5, late: 0 },
        UpstreamTally { calls: 6, late: 5 }
    );
}

/// The driver reads the upstream around each `io` window: a window whose
/// upstream answered late is the machine's (stalled, re-run), not the
/// server's; one whose upstream kept time is judged as any other. The other
/// stall rules are loosened (a 2 s SLO's 100 ms bar for late sends, the
/// highest steal limit), since a window they void first keeps their reason
/// and this test runs beside the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_io_window_whose_upstream_answered_late_is_the_machines() {
    use bakeoff::suite::live::{EngineDriver, StealLimit};
    use bakeoff::suite::search::{Probe, Windows};
    use bakeoff::suite::windows::HttpWindows;
    use bakeoff::suite::{Warmup, WindowPurpose};
    use bakeoff::workload::Workload;
    let fx = fixture().await;
    let srv = server::start(
        &fx.sqlite,
        &fx.data,
        &fx.upstream.base_url(),
        Faults::default(),
    )
    .await;
    let driver = EngineDriver {
        upstream: Some(fx.upstream.counters()),
        steal_limit: StealLimit::from_percent(StealLimit::MAX_PERCENT).unwrap(),
        ..EngineDriver::new(Duration::from_secs(2), Duration::from_secs(5))
    };
    let windows = HttpWindows {
        driver: &driver,
        contender: "mini",
        base_url: &srv.base_url,
        workload: Workload::Io,
        database: None,
    };
    let window = || Probe {
        rate: 100.0,
        duration: Duration::from_millis(800),
        warmup: Warmup::Fixed(Duration::ZERO),
        purpose: WindowPurpose::Search,
    };
    let cancel = CancellationToken::new();
    // Every delay counted late: the window is the upstream's stall. A window
    // the host voided first anyway is run again, as the search would.
    fx.upstream.set_late_after(Duration::ZERO);
    let mut seen = Vec::new();
    for _ in 0..4 {
        let o = windows.run(window(), &cancel).await.unwrap();
        // Stalled, or generator-limited where the generator's core was busy
        // (a loaded test machine): never judged as the server's.
        let why = o
            .stalled
            .clone()
            .or(o.generator_limited.clone())
            .expect("every late delay voids the window");
        if why.contains("upstream answers") {
            break;
        }
        seen.push(why);
    }
    assert!(
        seen.len() < 4,
        "every window voided by another rule: {seen:?}"
    );
    // None late: whatever else may stall it (the host's steal), not the upstream.
    fx.upstream.set_late_after(Duration::from_secs(1));
    let o = windows.run(window(), &cancel).await.unwrap();
    assert!(
        !o.stalled.clone().unwrap_or_default().contains("upstream"),
        "{o:#?}"
    );
    assert!(o.achieved > 0.0, "{o:#?}");
}
