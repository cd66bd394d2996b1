//! Templated requests and expectations against a real server that echoes what
//! it received: each send renders its own values (a table row shared by the
//! request's placeholders, sequence numbers, random ids in range), and
//! responses that miss their class's expectation are `expectation` errors,
//! quoted, kept out of the latency.

#[allow(dead_code)] // each test binary uses some of the servers
mod server;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bakeoff_load::expect::Expect;
use bakeoff_load::template::{Context, Order, RequestTemplate, Table, Tables, Text};
use bakeoff_load::{run, ErrorKind, LoadConfig, RequestSpec};
use bytes::Bytes;
use server::Mode;
use tokio_util::sync::CancellationToken;

fn users() -> Tables {
    let row =
        |name: &str, id: &str| vec![Bytes::from(name.to_string()), Bytes::from(id.to_string())];
    Tables(Arc::new(vec![Table {
        name: "users".into(),
        columns: vec!["name".into(), "id".into()],
        rows: vec![row("ann", "1"), row("bo", "2"), row("cy", "3")],
        order: Order::Sequential,
    }]))
}

fn templated(
    class: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    expect: Expect,
    tables: &Tables,
) -> RequestSpec {
    let text = |s: &str, c: Context| Text::parse(s, c, tables).unwrap();
    RequestSpec {
        class: class.into(),
        template: Some(Arc::new(RequestTemplate {
            method: method.into(),
            path: text(path, Context::Path),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), text(v, Context::Header)))
                .collect(),
            body: text(body, Context::Body),
            tables: tables.clone(),
        })),
        expect: Some(Arc::new(expect)),
        ..RequestSpec::get("/")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_render_per_send_and_expectations_decide_success() {
    let srv = server::http(Mode::Echo).await;
    let tables = users();
    let item = templated(
        "item",
        "GET",
        "/item/{{ int 1 50 }}?u={{ csv users.name }}&n={{ seq }}",
        &[("X-Id", "{{ csv users.id }}")],
        "",
        Expect {
            body_contains: Some("/item/".into()),
            ..Expect::default()
        },
        &tables,
    );
    let post = templated(
        "post",
        "POST",
        "/post",
        &[],
        "{{ uuid }}",
        Expect {
            json: Some(("/path".into(), serde_json::json!("/post"))),
            ..Expect::default()
        },
        &tables,
    );
    let missing = templated(
        "missing",
        "GET",
        "/missing/{{ pick a b }}",
        &[],
        "",
        Expect {
            status: vec![404],
            body_contains: Some("nope".into()),
            ..Expect::default()
        },
        &tables,
    );
    let wrong = templated(
        "wrong",
        "GET",
        "/wrong",
        &[],
        "",
        Expect {
            body_contains: Some("never there".into()),
            ..Expect::default()
        },
        &tables,
    );
    let cfg = LoadConfig {
        requests: vec![item, post, missing, wrong],
        connections: 4,
        rate: Some(2000.0),
        duration: None,
        max_requests: Some(800),
        ..LoadConfig::new(srv.url("/"))
    };
    let r = run(cfg, CancellationToken::new(), None).await.unwrap();
    let seen = srv.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 800, "every send reached the server");

    // Classes: all four were sent; only `wrong` missed its expectation, and
    // the 404s that `missing` expects are successes.
    let count = |class: &str| r.classes.get(class).map_or(0, |c| c.requests);
    assert!(
        ["item", "post", "missing", "wrong"]
            .iter()
            .all(|c| count(c) > 50),
        "{:?}",
        r.classes.keys()
    );
    assert_eq!(
        r.errors.get(&ErrorKind::Expectation).copied(),
        Some(count("wrong"))
    );
    assert_eq!(r.errors.get(&ErrorKind::Status), None, "{:?}", r.errors);
    assert_eq!(r.successes, 800 - count("wrong"));
    assert_eq!(
        r.latency.len(),
        r.successes,
        "misses stay out of the latency"
    );
    assert!(!r.expectation_examples.is_empty() && r.expectation_examples.len() <= 3);
    assert!(
        r.expectation_examples[0]
            .starts_with("wrong: the body does not contain \"never there\"; body: "),
        "{:?}",
        r.expectation_examples
    );

    // Rendering: one row per request for all its placeholders, rows in order,
    // distinct sequence numbers, ids inside their range.
    let paths: Vec<&str> = seen.iter().filter_map(|e| e["path"].as_str()).collect();
    let mut seqs = BTreeSet::new();
    let mut ids = BTreeSet::new();
    let mut rows = Vec::new();
    for e in seen
        .iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with("/item/"))
    {
        let path = e["path"].as_str().unwrap();
        let (id, query) = path["/item/".len()..].split_once("?u=").unwrap();
        let (name, n) = query.split_once("&n=").unwrap();
        let id: u32 = id.parse().unwrap();
        assert!((1..=50).contains(&id), "{path}");
        ids.insert(id);
        assert!(seqs.insert(n.parse::<u64>().unwrap()), "seq {n} twice");
        let x_id = e["x_id"].as_str().unwrap();
        let expected = match name {
            "ann" => "1",
            "bo" => "2",
            "cy" => "3",
            other => panic!("unknown name {other} in {path}"),
        };
        assert_eq!(
            x_id, expected,
            "the header and the query read one row: {path}"
        );
        rows.push((n.parse::<u64>().unwrap(), name.to_string()));
    }
    assert!(ids.len() > 20, "ids vary: {ids:?}");
    // Sequential rows: in render order (by sequence number; connections may
    // arrive out of order), the names cycle ann, bo, cy from the first row.
    rows.sort();
    let cycle = ["ann", "bo", "cy"];
    for (i, (_, name)) in rows.iter().enumerate() {
        assert_eq!(name, cycle[i % 3], "row {i} of {rows:?}");
    }
    let bodies: BTreeSet<&str> = seen
        .iter()
        .filter(|e| e["path"] == "/post")
        .map(|e| e["body"].as_str().unwrap())
        .collect();
    assert!(bodies.iter().all(|b| b.len() == 36), "{bodies:?}");
    assert_eq!(
        bodies.len(),
        count("post") as usize,
        "a fresh UUID per send"
    );
    assert!(paths.contains(&"/missing/a") && paths.contains(&"/missing/b"));
}

/// A body check reads the body across chunks (without their framing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_check_sees_a_chunked_body_whole() {
    let srv = server::http(Mode::Chunked).await;
    let check = |needle: &str| RequestSpec {
        class: needle.into(),
        expect: Some(Arc::new(Expect {
            body_contains: Some(needle.into()),
            ..Expect::default()
        })),
        ..RequestSpec::get("/")
    };
    let cfg = LoadConfig {
        requests: vec![check("World!abcdef"), check("5\r\nHello")],
        connections: 2,
        duration: None,
        max_requests: Some(200),
        timeout: Duration::from_secs(5),
        ..LoadConfig::new(srv.url("/"))
    };
    let r = run(cfg, CancellationToken::new(), None).await.unwrap();
    let framed = r.classes["5\r\nHello"].requests;
    assert_eq!(r.errors.get(&ErrorKind::Expectation).copied(), Some(framed));
    assert_eq!(r.successes, 200 - framed);
    assert!(framed > 0 && framed < 200);
}
