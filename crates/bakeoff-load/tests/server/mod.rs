//! Real HTTP/1.1 test servers on 127.0.0.1:0, written on raw tokio sockets so
//! each test can choose exactly how the server misbehaves (the WebSocket room
//! is `bakeoff_load::testkit::FixedServiceRoom`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the HTTP test server answers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// 200 with a small Content-Length body after a fixed delay.
    Delay(Duration),
    /// Like `Delay`, but every request arriving in [from, from+len) after the
    /// first request waits until the end of that window (a one-off stall).
    Stall {
        base: Duration,
        from: Duration,
        len: Duration,
    },
    /// Like `Delay`, but no answer leaves during the first `pause` of every
    /// `every` (from the first request): each one due then waits for the
    /// pause's end, and they all leave together, as after a garbage
    /// collector's pause.
    Pauses {
        delay: Duration,
        every: Duration,
        pause: Duration,
    },
    /// 200 with a chunked body sent in several writes.
    Chunked,
    /// Announce `Connection: close` on every n-th response and close.
    AnnouncedClose(u64),
    /// Close silently after n responses on a connection (keep-alive race).
    SilentClose(u64),
    /// After `after` responses on a connection, hold the next request for
    /// `hold` and close without answering (a worker that dies mid-request).
    DropMidRequest { after: u64, hold: Duration },
    /// Every second response is a 503.
    AlternateStatus,
    /// Every second response is a 503 at once; the others are 200 after the delay.
    FastFailSlowOk(Duration),
    /// Never answer.
    Hang,
    /// Answer with bytes that are not HTTP.
    Garbage,
    /// 200 for a GET, or for a POST whose body is `hello` and that carries
    /// `X-Test: 1`; 400 otherwise.
    CheckPost,
    /// 200 with a JSON body echoing the request (`path`, the `x-id` header,
    /// `body`), logged in [`HttpServer::seen`]; 404 with `nope` for a path
    /// under `/missing`.
    Echo,
}

pub(crate) struct HttpServer {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
    /// Connections accepted, and how many had been when the first request came.
    pub accepts: Arc<AtomicU64>,
    pub accepts_at_first_request: Arc<std::sync::OnceLock<u64>>,
    /// [`Mode::Echo`]: every request's echo, in arrival order.
    pub seen: Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HttpServer {
    pub(crate) fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }
}

pub(crate) async fn http(mode: Mode) -> HttpServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicU64::new(0));
    let accepts = Arc::new(AtomicU64::new(0));
    let at_first: Arc<std::sync::OnceLock<u64>> = Arc::new(std::sync::OnceLock::new());
    let first: Arc<std::sync::OnceLock<Instant>> = Arc::new(std::sync::OnceLock::new());
    let counter = requests.clone();
    let log: Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Arc::default();
    let echoes = log.clone();
    let (accepted, seen) = (accepts.clone(), at_first.clone());
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            let counter = counter.clone();
            let first = first.clone();
            let (accepted, seen) = (accepted.clone(), seen.clone());
            let echoes = echoes.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1];
                // The first byte of any request: note how many connections were
                // open (after 10 ms, for the accept loop to catch up).
                if sock.peek(&mut buf).await.is_ok_and(|n| n > 0) && seen.get().is_none() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    seen.get_or_init(|| accepted.load(Ordering::SeqCst));
                }
                let _ = serve(sock, mode, counter, first, echoes).await;
            });
        }
    });
    HttpServer {
        addr,
        requests,
        accepts,
        accepts_at_first_request: at_first,
        seen: log,
        task,
    }
}

async fn serve(
    mut sock: TcpStream,
    mode: Mode,
    counter: Arc<AtomicU64>,
    first: Arc<std::sync::OnceLock<Instant>>,
    echoes: Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut on_conn = 0u64;
    loop {
        // Read one request head (the engine's test requests have no body).
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let raw_head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let head = raw_head.to_ascii_lowercase();
        buf.drain(..end);
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < length {
            let mut chunk = [0u8; 4096];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = buf.drain(..length).collect();
        let arrived = Instant::now();
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        on_conn += 1;
        const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!";
        match mode {
            Mode::Delay(d) => {
                if !d.is_zero() {
                    tokio::time::sleep(d).await;
                }
                sock.write_all(OK).await?;
            }
            Mode::Stall { base, from, len } => {
                let t0 = *first.get_or_init(|| arrived);
                let since = arrived - t0;
                if since >= from && since < from + len {
                    tokio::time::sleep_until((t0 + from + len).into()).await;
                }
                tokio::time::sleep(base).await;
                sock.write_all(OK).await?;
            }
            Mode::Pauses {
                delay,
                every,
                pause,
            } => {
                let t0 = *first.get_or_init(|| arrived);
                tokio::time::sleep(delay).await;
                let since = t0.elapsed();
                let into = Duration::from_nanos((since.as_nanos() % every.as_nanos()) as u64);
                if into < pause {
                    tokio::time::sleep(pause - into).await;
                }
                sock.write_all(OK).await?;
            }
            Mode::Chunked => {
                sock.write_all(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n",
                )
                .await?;
                sock.flush().await?;
                tokio::task::yield_now().await;
                sock.write_all(b"8\r\n, World!\r\n1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n")
                    .await?;
                sock.write_all(b"0\r\nX-Trailer: 1\r\n\r\n").await?;
            }
            Mode::AnnouncedClose(every) => {
                if n % every == 0 {
                    sock.write_all(
                        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                    )
                    .await?;
                    return Ok(());
                }
                sock.write_all(OK).await?;
            }
            Mode::SilentClose(after) => {
                sock.write_all(OK).await?;
                if on_conn >= after {
                    return Ok(());
                }
            }
            Mode::DropMidRequest { after, hold } => {
                if on_conn > after {
                    tokio::time::sleep(hold).await;
                    return Ok(());
                }
                sock.write_all(OK).await?;
            }
            Mode::AlternateStatus => {
                if n % 2 == 0 {
                    sock.write_all(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy")
                        .await?;
                } else {
                    sock.write_all(OK).await?;
                }
            }
            Mode::FastFailSlowOk(d) => {
                if n % 2 == 0 {
                    sock.write_all(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy")
                        .await?;
                } else {
                    tokio::time::sleep(d).await;
                    sock.write_all(OK).await?;
                }
            }
            Mode::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Mode::CheckPost => {
                let ok = head.starts_with("get ")
                    || (head.starts_with("post ")
                        && body == b"hello"
                        && head.contains("\r\nx-test: 1\r\n"));
                if ok {
                    sock.write_all(OK).await?;
                } else {
                    sock.write_all(b"HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n")
                        .await?;
                }
            }
            Mode::Echo => {
                let path = raw_head.split(' ').nth(1).unwrap_or("").to_string();
                let id = raw_head
                    .lines()
                    .find_map(|l| l.strip_prefix("X-Id: "))
                    .unwrap_or("")
                    .to_string();
                let echo = serde_json::json!({
                    "path": path,
                    "x_id": id,
                    "body": String::from_utf8_lossy(&body),
                });
                echoes.lock().unwrap().push(echo.clone());
                let (status, text) = if path.starts_with("/missing") {
                    ("404 Not Found", "nope".to_string())
                } else {
                    ("200 OK", echo.to_string())
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{text}",
                    text.len()
                );
                sock.write_all(response.as_bytes()).await?;
            }
            Mode::Garbage => {
                sock.write_all(b"SPLAT \x00\x01\x02 nonsense\r\n\r\n")
                    .await?;
            }
        }
    }
}
