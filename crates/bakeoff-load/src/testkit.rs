//! Servers of known ceiling for tests (feature `testkit`): an HTTP/1.1
//! server here, a WebSocket chat room in [`room`].
//!
//! The HTTP server is ONE OS
//! thread, optionally pinned, serving any number of keep-alive connections,
//! where every request costs a busy spin of a fixed service time on that
//! thread before its 200 answer. Requests queue on the thread as on a real
//! single-threaded server (tokio's current-thread scheduler runs woken
//! connections in order).
//!
//! Its ceiling is exactly 1/service, whatever the load's shape: a request
//! taken up while the server was still busy (within one service time of the
//! last one's end) ends one service time after the last one did, so the
//! server's own work between requests (reading, writing, scheduling: 10–30 µs
//! here, more with many connections ready) lies inside the service time.
//! With a plain spin per request that work came on top, and depended on the
//! load: a closed loop over 256 connections read 6% under what an open loop
//! sustained at 250 µs (3,575 against 3,750 req/s with a flat p99). The
//! ceiling holds while that work is under the service time; with shorter
//! services, it is 1/(service + the server's own work).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod room;
pub use room::FixedServiceRoom;

const OK: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
const BAD: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Stop this whole process (SIGSTOP) `after` from now for `pause`, as a
/// stalling machine would hold it up, from a shell of its own; wait for the
/// returned child to know the pause is over.
pub fn stop_this_process(after: Duration, pause: Duration) -> std::io::Result<std::process::Child> {
    let pid = std::process::id();
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "sleep {}; kill -STOP {pid}; sleep {}; kill -CONT {pid}",
            after.as_secs_f64(),
            pause.as_secs_f64()
        ))
        .spawn()
}

/// The server; it stops when dropped.
pub struct FixedServiceServer {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    accepts: Arc<AtomicU64>,
    _thread: ServerThread,
}

impl FixedServiceServer {
    /// Start on 127.0.0.1:0, each request costing `service` of busy CPU on the
    /// server's one thread, pinned to `cpu` when given.
    pub fn start(service: Duration, cpu: Option<usize>) -> std::io::Result<FixedServiceServer> {
        let requests = Arc::new(AtomicU64::new(0));
        let accepts = Arc::new(AtomicU64::new(0));
        let (req, acc) = (requests.clone(), accepts.clone());
        let (addr, thread) =
            ServerThread::start("fixed-service", cpu, move |listener| async move {
                let clock = Clock::new(service);
                while let Ok((sock, _)) = listener.accept().await {
                    acc.fetch_add(1, Ordering::SeqCst);
                    let served = Served {
                        clock: clock.clone(),
                        requests: req.clone(),
                    };
                    tokio::spawn(serve(sock, served));
                }
            })?;
        Ok(FixedServiceServer {
            addr,
            requests,
            accepts,
            _thread: thread,
        })
    }

    /// The loopback address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.addr)).expect("a valid URL")
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn accepts(&self) -> u64 {
        self.accepts.load(Ordering::SeqCst)
    }
}

/// A test server's one OS thread (pinned to `cpu` when given), running a
/// current-thread runtime that serves a listener on 127.0.0.1:0; it stops
/// and is joined when dropped.
struct ServerThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    fn start<F, Fut>(
        name: &str,
        cpu: Option<usize>,
        serve: F,
    ) -> std::io::Result<(SocketAddr, ServerThread)>
    where
        F: FnOnce(TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let setup = (|| {
                    if let Some(cpu) = cpu {
                        crate::sys::pin_current_thread(cpu)?;
                    }
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    let listener = rt.block_on(async { TcpListener::from_std(listener) })?;
                    Ok((rt, listener))
                })();
                let (rt, listener) = match setup {
                    Ok(v) => {
                        let _ = ready_tx.send(Ok(()));
                        v
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    tokio::select! {
                        _ = serve(listener) => {}
                        _ = stopped => {}
                    }
                });
            })?;
        ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the server thread exited"))??;
        Ok((
            addr,
            ServerThread {
                stop: Some(stop),
                thread: Some(thread),
            },
        ))
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What every connection of one server shares.
struct Served {
    clock: Clock,
    requests: Arc<AtomicU64>,
}

/// A server's one service: when the last piece of work ended (see the
/// module's notes).
#[derive(Clone)]
struct Clock {
    service: Duration,
    last: Arc<Mutex<Option<Instant>>>,
}

impl Clock {
    fn new(service: Duration) -> Clock {
        Clock {
            service,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// Busy-wait on this thread until this piece of work's service ends: one
    /// service time after the last one's end while the server was still busy
    /// with it, else one service time from now. Completions are never closer
    /// than `service` apart.
    fn spin(&self) {
        let end = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let end = match *last {
                Some(prev) if now.saturating_duration_since(prev) < self.service => {
                    prev + self.service
                }
                _ => now + self.service,
            };
            *last = Some(end);
            end
        };
        while Instant::now() < end {
            std::hint::spin_loop();
        }
    }
}

/// One keep-alive connection: read a request (head and Content-Length body),
/// spin, answer; pipelined requests are served in order.
async fn serve(mut sock: TcpStream, served: Served) {
    let _ = sock.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let (end, length) = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse::<usize>());
                match length {
                    Some(Err(_)) => {
                        let _ = sock.write_all(BAD).await;
                        return;
                    }
                    other => break (i + 4, other.and_then(Result::ok).unwrap_or(0)),
                }
            }
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        while buf.len() < end + length {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..end + length);
        served.clock.spin();
        served.requests.fetch_add(1, Ordering::SeqCst);
        if sock.write_all(OK).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Two requests on one connection take at least two service times.
    #[test]
    fn every_request_costs_the_service_time() {
        let srv = FixedServiceServer::start(Duration::from_millis(20), None).unwrap();
        let mut s = std::net::TcpStream::connect(srv.addr()).unwrap();
        let t0 = Instant::now();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 1024];
        while got.windows(13).filter(|w| w == b"Hello, World!").count() < 2 {
            let n = s.read(&mut b).unwrap();
            assert!(n > 0, "closed early");
            got.extend_from_slice(&b[..n]);
        }
        assert!(
            t0.elapsed() >= Duration::from_millis(40),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(srv.requests(), 2);
        assert_eq!(srv.accepts(), 1);
    }

    /// Requests from many connections at once never complete closer than
    /// one service time apart: the time the server's own work saves is not
    /// handed out twice.
    #[test]
    fn many_connections_never_beat_the_ceiling() {
        let service = Duration::from_millis(5);
        let srv = FixedServiceServer::start(service, None).unwrap();
        let addr = srv.addr();
        let t0 = Instant::now();
        let clients: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    let mut b = [0u8; 1024];
                    for _ in 0..10 {
                        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                        let mut got = Vec::new();
                        while !got.ends_with(b"Hello, World!") {
                            let n = s.read(&mut b).unwrap();
                            assert!(n > 0, "closed early");
                            got.extend_from_slice(&b[..n]);
                        }
                    }
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        assert_eq!(srv.requests(), 80);
        assert!(t0.elapsed() >= service * 80, "{:?}", t0.elapsed());
    }
}
