//! The upstream service that `/io` calls: `GET /delay?ms=M` answers
//! `{"ms":M,"seq":S}` after M ms and counts its calls, and those whose delay
//! ended late (its thread held up: the known delay was not what the
//! contender got); `GET /stats` answers `{"calls":n}`. Binds 127.0.0.1 only.
//!
//! It runs on a dedicated thread with a single-threaded tokio runtime, one
//! hyper HTTP/1.1 connection task per socket (keep-alive), so thousands of
//! idle or waiting connections cost a few KiB each. Everything stops when the
//! token is cancelled or the [`Upstream`] is dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Longest delay `/delay` honours; larger values are clamped.
pub const MAX_DELAY_MS: u64 = 10_000;

/// Listen backlog: the io workload opens thousands of connections at once.
const BACKLOG: u32 = 4096;

/// A delay that ends later than this past its due time counts as late
/// (until [`Upstream::set_late_after`]): the timer's own 1 ms granularity
/// stays under it.
pub const LATE_AFTER: Duration = Duration::from_millis(5);

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("cannot bind the upstream service on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    #[error("cannot start the upstream service's thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A running upstream service; stops when dropped or when its token is cancelled.
pub struct Upstream {
    addr: SocketAddr,
    cancel: CancellationToken,
    counters: UpstreamCounters,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The upstream's counters, shared with its thread: readable from anywhere
/// (the driver reads them around each `io` window). No `Default`: its late
/// bar would be 0 ns, every delay late.
#[derive(Debug, Clone)]
pub struct UpstreamCounters {
    calls: Arc<AtomicU64>,
    late: Arc<AtomicU64>,
    /// [`LATE_AFTER`] or what [`Upstream::set_late_after`] set, in ns.
    late_after_ns: Arc<AtomicU64>,
}

/// The upstream's counts at one moment, or between two (`after - before`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamTally {
    /// `/delay` calls received.
    pub calls: u64,
    /// Calls whose delay ended more than the late bar after it was due.
    pub late: u64,
}

impl std::ops::Sub for UpstreamTally {
    type Output = UpstreamTally;
    fn sub(self, before: UpstreamTally) -> UpstreamTally {
        UpstreamTally {
            calls: self.calls.saturating_sub(before.calls),
            late: self.late.saturating_sub(before.late),
        }
    }
}

impl UpstreamCounters {
    fn new() -> UpstreamCounters {
        UpstreamCounters {
            calls: Arc::default(),
            late: Arc::default(),
            late_after_ns: Arc::new(AtomicU64::new(LATE_AFTER.as_nanos() as u64)),
        }
    }

    /// The counts so far.
    pub fn read(&self) -> UpstreamTally {
        UpstreamTally {
            calls: self.calls.load(Ordering::SeqCst),
            late: self.late.load(Ordering::SeqCst),
        }
    }

    /// How late a delay may end before it counts as late.
    pub fn late_after(&self) -> Duration {
        Duration::from_nanos(self.late_after_ns.load(Ordering::Relaxed))
    }
}

impl Upstream {
    /// Start on 127.0.0.1 with an ephemeral port.
    ///
    /// The service runs on its own thread with its own single-threaded
    /// runtime, so a load generator saturating the caller's runtime cannot
    /// delay the upstream's answers (which would be charged to the contender).
    pub async fn start(cancel: CancellationToken) -> Result<Upstream, UpstreamError> {
        // A child token: cancelling the parent stops us, and Drop stops us
        // without touching the parent.
        let cancel = cancel.child_token();
        let counters = UpstreamCounters::new();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("bakeoff-upstream".into())
            .spawn({
                let cancel = cancel.clone();
                let counters = counters.clone();
                move || serve_on_this_thread(ready_tx, cancel, counters)
            })
            .map_err(UpstreamError::Thread)?;
        let addr = match ready_rx.await {
            Ok(r) => r?,
            Err(_) => {
                return Err(UpstreamError::Thread(std::io::Error::other(
                    "the upstream thread ended before it was ready",
                )))
            }
        };
        Ok(Upstream {
            addr,
            cancel,
            counters,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL without a trailing slash, for `BAKEOFF_UPSTREAM`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Number of `/delay` calls received so far.
    pub fn calls(&self) -> u64 {
        self.counters.read().calls
    }

    /// The counters, readable after this borrow ends (for the driver).
    pub fn counters(&self) -> UpstreamCounters {
        self.counters.clone()
    }

    /// Count a delay as late from `bar` past its due time (a run sets the
    /// stall rule's bar for its SLO).
    pub fn set_late_after(&self, bar: Duration) {
        self.counters.late_after_ns.store(
            bar.as_nanos().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    /// Stop serving and wait until the service's thread has ended (its
    /// connections are closed by then).
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        // The thread notices within a scheduler tick and exits on its own;
        // joining here would block the caller's runtime.
        self.cancel.cancel();
    }
}

type Ready = tokio::sync::oneshot::Sender<Result<SocketAddr, UpstreamError>>;

fn serve_on_this_thread(ready: Ready, cancel: CancellationToken, counters: UpstreamCounters) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(UpstreamError::Thread(e)));
            return;
        }
    };
    rt.block_on(async move {
        let bound = bind().and_then(|l| Ok((l.local_addr()?, l)));
        let listener = match bound {
            Ok((addr, listener)) => {
                let _ = ready.send(Ok(addr));
                listener
            }
            Err(e) => {
                let _ = ready.send(Err(UpstreamError::Bind(e)));
                return;
            }
        };
        accept_loop(listener, cancel, counters).await;
    });
    // Dropping the runtime drops every connection task still alive.
}

fn bind() -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.listen(BACKLOG)
}

async fn accept_loop(listener: TcpListener, cancel: CancellationToken, counters: UpstreamCounters) {
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, cancel.clone(), counters.clone()));
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        }
    }
}

async fn serve_connection(
    stream: TcpStream,
    cancel: CancellationToken,
    counters: UpstreamCounters,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| handle(req, counters.clone()));
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    // Dropping the connection future on cancel closes the socket and aborts
    // any pending delay.
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = conn => {}
    }
}

async fn handle(
    req: Request<Incoming>,
    counters: UpstreamCounters,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != hyper::Method::GET {
        return Ok(json(
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"error":"only GET"}"#.into(),
        ));
    }
    match req.uri().path() {
        "/delay" => {
            let ms = delay_ms(req.uri().query());
            let seq = counters.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if ms > 0 {
                let due = Instant::now() + Duration::from_millis(ms);
                tokio::time::sleep_until(due).await;
                if due.elapsed() > counters.late_after() {
                    counters.late.fetch_add(1, Ordering::SeqCst);
                }
            }
            Ok(json(
                StatusCode::OK,
                format!(r#"{{"ms":{ms},"seq":{seq}}}"#),
            ))
        }
        "/stats" => {
            let n = counters.calls.load(Ordering::SeqCst);
            Ok(json(StatusCode::OK, format!(r#"{{"calls":{n}}}"#)))
        }
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            r#"{"error":"not found; try /delay?ms=M or /stats"}"#.into(),
        )),
    }
}

/// `ms` from the query string: clamped to 0..=MAX_DELAY_MS, missing or invalid means 0.
fn delay_ms(query: Option<&str>) -> u64 {
    let Some(query) = query else { return 0 };
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "ms")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .map(|v| v.clamp(0, MAX_DELAY_MS as i64) as u64)
        .unwrap_or(0)
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    h.insert(
        hyper::header::SERVER,
        hyper::header::HeaderValue::from_static("bakeoff-upstream"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_parameter_is_clamped_and_defaults_to_zero() {
        assert_eq!(delay_ms(None), 0);
        assert_eq!(delay_ms(Some("ms=20")), 20);
        assert_eq!(delay_ms(Some("x=1&ms=7")), 7);
        assert_eq!(delay_ms(Some("ms=-5")), 0);
        assert_eq!(delay_ms(Some("ms=99999")), MAX_DELAY_MS);
        assert_eq!(delay_ms(Some("ms=abc")), 0);
        assert_eq!(delay_ms(Some("ms=")), 0);
    }
}
