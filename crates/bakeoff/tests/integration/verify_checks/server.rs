//! A mini contender for the verifier's tests: a hyper server on 127.0.0.1:0
//! that serves the whole app contract correctly, unless a [`Faults`] flag
//! breaks one part of it; plus raw servers that hang, send garbage, an
//! endless body or more bytes than they announce.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::Rng;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::{CancellationToken, DropGuard};

/// Ways to break the contract, one per flag.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Faults {
    pub wrong_json: bool,
    pub unescaped_fortunes: bool,
    pub unclamped_queries: bool,
    pub no_date: bool,
    /// `/io` sleeps and makes up a seq instead of calling the upstream.
    pub fake_io: bool,
    pub wrong_data: bool,
    /// The chat room broadcasts to everyone but the sender.
    pub ws_no_self_echo: bool,
    /// `/ws` is an echo server: each client gets only its own messages.
    pub ws_echo_only: bool,
    /// `/updates` returns new numbers without writing them.
    pub updates_not_persisted: bool,
    /// The Date header is computed once, at start-up.
    pub frozen_date: bool,
    /// Every response says `Connection: close` (gunicorn sync workers).
    pub no_keep_alive: bool,
    /// `/cpu` counts primes below n instead of up to n.
    pub cpu_below_n: bool,
    /// `/io` calls the upstream once per `ms` and then answers from a cache.
    pub cached_io: bool,
    /// `/db` and `/queries` serve `world` from a copy read at start-up.
    pub cached_rows: bool,
    /// `/db` and `/queries` always return row 42.
    pub constant_row: bool,
    /// `/queries` always returns one row, whatever `queries` says.
    pub queries_ignore_n: bool,
    /// `/updates` writes a different number than the one it returns.
    pub updates_persist_other: bool,
    /// `/fortunes` leaves out the row added at request time.
    pub fortunes_no_added_row: bool,
    /// `/fortunes` keeps the database's order.
    pub fortunes_unsorted: bool,
    /// `/fortunes` renders the page once, at start-up.
    pub fortunes_cached: bool,
    /// `/data` sorts products by name instead of revenue.
    pub data_unsorted: bool,
    /// `/data` rounds `mean_unit_price` to cents.
    pub data_rounded: bool,
    /// `/data` answers an unknown region with 200 and no products.
    pub data_unknown_region_ok: bool,
}

/// A running test server; stops when dropped.
pub(super) struct TestServer {
    pub base_url: String,
    _guard: DropGuard,
}

struct Sale {
    region: String,
    product: String,
    units: u64,
    unit_price: f64,
}

struct State {
    db: Mutex<rusqlite::Connection>,
    sales: Vec<Sale>,
    upstream: String,
    client: Client<HttpConnector, Empty<Bytes>>,
    faults: Faults,
    room: broadcast::Sender<(u64, String)>,
    next_conn: AtomicU64,
    cancel: CancellationToken,
    /// The Date of every response under `frozen_date`.
    start_date: String,
    /// `world` as read at start-up, for `cached_rows`.
    world_copy: Vec<i64>,
    /// Answers per `ms`, for `cached_io`.
    io_cache: Mutex<BTreeMap<u64, Bytes>>,
    /// The page rendered at start-up, for `fortunes_cached`.
    fortunes_copy: Mutex<Option<String>>,
}

type Resp = Response<Full<Bytes>>;

/// Start the mini contender, as a real one is started: db, dataset, upstream.
pub(super) async fn start(
    sqlite: &Path,
    data: &Path,
    upstream: &str,
    faults: Faults,
) -> TestServer {
    let db = rusqlite::Connection::open(sqlite).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.pragma_update(None, "synchronous", "NORMAL").unwrap();
    let mut reader = csv::Reader::from_path(data).unwrap();
    let sales = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Sale {
                region: r[0].to_string(),
                product: r[1].to_string(),
                units: r[2].parse().unwrap(),
                unit_price: r[3].parse().unwrap(),
            }
        })
        .collect();
    let world_copy = {
        let mut stmt = db
            .prepare("SELECT randomNumber FROM world ORDER BY id")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        std::iter::once(0).chain(rows.map(Result::unwrap)).collect()
    };
    let cancel = CancellationToken::new();
    let state = Arc::new(State {
        db: Mutex::new(db),
        sales,
        upstream: upstream.to_string(),
        client: Client::builder(TokioExecutor::new()).build_http(),
        faults,
        room: broadcast::channel(64).0,
        next_conn: AtomicU64::new(0),
        cancel: cancel.clone(),
        start_date: httpdate::fmt_http_date(SystemTime::now()),
        world_copy,
        io_cache: Mutex::new(BTreeMap::new()),
        fortunes_copy: Mutex::new(None),
    });
    if faults.fortunes_cached {
        *state.fortunes_copy.lock().unwrap() = Some(fortunes_page(&state));
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = state.cancel.cancelled() => return,
                r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => continue },
            };
            let state = state.clone();
            tokio::spawn(async move {
                let svc_state = state.clone();
                let service = hyper::service::service_fn(move |req| {
                    let state = svc_state.clone();
                    async move { Ok::<_, Infallible>(route(req, &state).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    // hyper adds a Date itself unless told not to.
                    .auto_date_header(!state.faults.no_date && !state.faults.frozen_date)
                    .keep_alive(!state.faults.no_keep_alive)
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades();
                tokio::select! {
                    _ = state.cancel.cancelled() => {}
                    _ = conn => {}
                }
            });
        }
    });
    TestServer {
        base_url,
        _guard: cancel.drop_guard(),
    }
}

fn query_param<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.uri()
        .query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn respond(state: &State, status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert("server", HeaderValue::from_static("mini-contender"));
    if !state.faults.no_date {
        let date = if state.faults.frozen_date {
            state.start_date.clone()
        } else {
            httpdate::fmt_http_date(SystemTime::now())
        };
        h.insert("date", HeaderValue::from_str(&date).unwrap());
    }
    resp
}

fn json_resp(state: &State, status: StatusCode, v: &Value) -> Resp {
    respond(
        state,
        status,
        "application/json",
        serde_json::to_vec(v).unwrap(),
    )
}

async fn route(mut req: Request<Incoming>, state: &Arc<State>) -> Resp {
    let f = state.faults;
    match req.uri().path() {
        "/health" => respond(state, StatusCode::OK, "text/plain", b"ok".to_vec()),
        "/plaintext" => respond(
            state,
            StatusCode::OK,
            "text/plain",
            b"Hello, World!".to_vec(),
        ),
        "/json" => {
            let msg = if f.wrong_json {
                "Hello, world"
            } else {
                "Hello, World!"
            };
            json_resp(state, StatusCode::OK, &json!({ "message": msg }))
        }
        "/db" => {
            let row = random_rows(state, 1).remove(0);
            json_resp(state, StatusCode::OK, &row)
        }
        "/queries" => {
            let mut n = queries_param(query_param(&req, "queries"), f.unclamped_queries);
            if f.queries_ignore_n {
                n = 1;
            }
            json_resp(state, StatusCode::OK, &Value::Array(random_rows(state, n)))
        }
        "/updates" => {
            let n = queries_param(query_param(&req, "queries"), false);
            json_resp(state, StatusCode::OK, &Value::Array(update_rows(state, n)))
        }
        "/fortunes" => {
            let cached = state.fortunes_copy.lock().unwrap().clone();
            let page = cached.unwrap_or_else(|| fortunes_page(state));
            respond(
                state,
                StatusCode::OK,
                "text/html; charset=utf-8",
                page.into_bytes(),
            )
        }
        "/io" => {
            let ms: u64 = query_param(&req, "ms")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if f.fake_io {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                return json_resp(state, StatusCode::OK, &json!({"ms": ms, "seq": 424242}));
            }
            let cached = f
                .cached_io
                .then(|| state.io_cache.lock().unwrap().get(&ms).cloned())
                .flatten();
            let body = match cached {
                Some(body) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    body
                }
                None => {
                    let uri = format!("{}/delay?ms={ms}", state.upstream).parse().unwrap();
                    let resp = state.client.get(uri).await.unwrap();
                    let body = resp.into_body().collect().await.unwrap().to_bytes();
                    state.io_cache.lock().unwrap().insert(ms, body.clone());
                    body
                }
            };
            respond(state, StatusCode::OK, "application/json", body.to_vec())
        }
        "/cpu" => {
            let n: u64 = query_param(&req, "n")
                .and_then(|v| v.parse().ok())
                .unwrap_or(10_000)
                .clamp(1, 10_000_000);
            let counted = if f.cpu_below_n {
                primes(n - 1)
            } else {
                primes(n)
            };
            json_resp(state, StatusCode::OK, &json!({"n": n, "primes": counted}))
        }
        "/data" => match query_param(&req, "region").and_then(|r| aggregate(state, r)) {
            Some(v) => json_resp(state, StatusCode::OK, &v),
            None if f.data_unknown_region_ok => json_resp(
                state,
                StatusCode::OK,
                &json!({"region": query_param(&req, "region"), "products": []}),
            ),
            None => json_resp(
                state,
                StatusCode::NOT_FOUND,
                &json!({"error": "unknown region"}),
            ),
        },
        "/ws" => upgrade(&mut req, state.clone()),
        _ => json_resp(state, StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

fn queries_param(v: Option<&str>, unclamped: bool) -> usize {
    let n: i64 = v.and_then(|v| v.parse().ok()).unwrap_or(1);
    if unclamped {
        n.max(0) as usize
    } else {
        n.clamp(1, 500) as usize
    }
}

fn random_rows(state: &State, n: usize) -> Vec<Value> {
    let db = state.db.lock().unwrap();
    let mut stmt = db
        .prepare_cached("SELECT id, randomNumber FROM world WHERE id = ?1")
        .unwrap();
    let f = state.faults;
    (0..n)
        .map(|_| {
            let id: i64 = if f.constant_row {
                42
            } else {
                rand::rng().random_range(1..=10_000)
            };
            let num: i64 = if f.cached_rows {
                state.world_copy[id as usize]
            } else {
                stmt.query_row([id], |r| r.get(1)).unwrap()
            };
            json!({"id": id, "randomNumber": num})
        })
        .collect()
}

fn update_rows(state: &State, n: usize) -> Vec<Value> {
    let rows = random_rows(state, n);
    let db = state.db.lock().unwrap();
    rows.into_iter()
        .map(|row| {
            let id = row["id"].as_i64().unwrap();
            let new: i64 = rand::rng().random_range(1..=10_000);
            let written = if state.faults.updates_persist_other {
                new % 10_000 + 1
            } else {
                new
            };
            if !state.faults.updates_not_persisted {
                db.execute(
                    "UPDATE world SET randomNumber = ?1 WHERE id = ?2",
                    [written, id],
                )
                .unwrap();
            }
            json!({"id": id, "randomNumber": new})
        })
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn fortunes_page(state: &State) -> String {
    let mut rows: Vec<(i64, String)> = {
        let db = state.db.lock().unwrap();
        let mut stmt = db.prepare("SELECT id, message FROM fortune").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    if !state.faults.fortunes_no_added_row {
        rows.push((0, "Additional fortune added at request time.".into()));
    }
    if !state.faults.fortunes_unsorted {
        rows.sort_by(|a, b| a.1.cmp(&b.1));
    }
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><title>Fortunes</title></head><body><table>\n<tr><th>id</th><th>message</th></tr>\n",
    );
    for (id, msg) in rows {
        let msg = if state.faults.unescaped_fortunes {
            msg
        } else {
            escape(&msg)
        };
        html.push_str(&format!("<tr><td>{id}</td><td>{msg}</td></tr>\n"));
    }
    html.push_str("</table></body></html>");
    html
}

fn primes(n: u64) -> u64 {
    (2..=n)
        .filter(|&i| {
            let mut d = 2;
            while d * d <= i {
                if i % d == 0 {
                    return false;
                }
                d += 1;
            }
            true
        })
        .count() as u64
}

fn aggregate(state: &State, region: &str) -> Option<Value> {
    let mut groups: BTreeMap<&str, (u64, u64, f64, f64)> = BTreeMap::new();
    for s in state.sales.iter().filter(|s| s.region == region) {
        let g = groups.entry(&s.product).or_default();
        g.0 += 1;
        g.1 += s.units;
        g.2 += s.units as f64 * s.unit_price;
        g.3 += s.unit_price;
    }
    if groups.is_empty() {
        return None;
    }
    let skew = if state.faults.wrong_data { 1.01 } else { 1.0 };
    let mut products: Vec<(&str, u64, u64, f64, f64)> = groups
        .into_iter()
        .map(|(p, (c, u, r, ps))| {
            let mean = ps / c as f64;
            let mean = if state.faults.data_rounded {
                (mean * 100.0).round() / 100.0
            } else {
                mean
            };
            (p, c, u, r * skew, mean)
        })
        .collect();
    if !state.faults.data_unsorted {
        products.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(b.0)));
    }
    let products: Vec<Value> = products
        .into_iter()
        .map(|(p, c, u, r, m)| {
            json!({"product": p, "count": c, "units": u, "revenue": r, "mean_unit_price": m})
        })
        .collect();
    Some(json!({"region": region, "products": products}))
}

fn upgrade(req: &mut Request<Incoming>, state: Arc<State>) -> Resp {
    let Some(key) = req.headers().get("sec-websocket-key") else {
        return json_resp(
            &state,
            StatusCode::BAD_REQUEST,
            &json!({"error": "not a websocket"}),
        );
    };
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(req);
    let cancel = state.cancel.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = chat(ws, &state) => {}
        }
    });
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert("upgrade", HeaderValue::from_static("websocket"));
    h.insert("connection", HeaderValue::from_static("Upgrade"));
    h.insert(
        "sec-websocket-accept",
        HeaderValue::from_str(&accept).unwrap(),
    );
    resp
}

async fn chat<S>(ws: WebSocketStream<S>, state: &State)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let me = state.next_conn.fetch_add(1, Ordering::SeqCst);
    let mut rx = state.room.subscribe();
    let (mut sink, mut stream) = ws.split();
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => { let _ = state.room.send((me, t.as_str().to_string())); }
                Some(Ok(_)) => {}
                _ => return,
            },
            got = rx.recv() => match got {
                Ok((from, text)) => {
                    if state.faults.ws_no_self_echo && from == me { continue; }
                    if state.faults.ws_echo_only && from != me { continue; }
                    if sink.send(Message::text(text)).await.is_err() { return; }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            },
        }
    }
}

/// How a raw misbehaving server answers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Raw {
    /// Reads the request and never answers.
    Hang,
    /// Answers with bytes that are not HTTP.
    Garbage,
    /// A valid head, then a body that never ends.
    EndlessBody,
    /// Promises 100 bytes, sends 5 and closes.
    ShortBody,
    /// A correct `/plaintext` answer whose body is written twice: 13 bytes
    /// promised, 26 sent.
    DoubleBody,
    /// A correct `/plaintext` answer, then the connection is closed without
    /// `Connection: close` (keep-alive ignored silently).
    SilentClose,
}

/// Start a raw misbehaving server; stops when dropped.
pub(super) async fn start_raw(kind: Raw) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        loop {
            let mut stream = tokio::select! {
                _ = token.cancelled() => return,
                r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => continue },
            };
            let token = token.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let serve = async {
                    match kind {
                        Raw::Hang => std::future::pending::<()>().await,
                        Raw::Garbage => {
                            let _ = stream
                                .write_all(b"\x00\xff\x13garbage\r\nnot http\r\n\r\n")
                                .await;
                        }
                        Raw::EndlessBody => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                                .await;
                            let block = vec![b'x'; 64 * 1024];
                            while stream.write_all(&block).await.is_ok() {}
                        }
                        Raw::DoubleBody | Raw::SilentClose => {
                            let double = matches!(kind, Raw::DoubleBody);
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nServer: raw\r\nDate: {}\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n{}\r\n",
                                httpdate::fmt_http_date(SystemTime::now()),
                                if double { "Connection: close\r\n" } else { "" }
                            );
                            let body = if double {
                                "Hello, World!Hello, World!"
                            } else {
                                "Hello, World!"
                            };
                            let _ = stream.write_all(format!("{head}{body}").as_bytes()).await;
                        }
                        Raw::ShortBody => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
                                .await;
                        }
                    }
                };
                tokio::select! {
                    _ = token.cancelled() => {}
                    _ = serve => {}
                }
            });
        }
    });
    TestServer {
        base_url,
        _guard: cancel.drop_guard(),
    }
}
