//! A WebSocket chat room of known ceiling: every text message a client sends
//! costs a fixed service time of busy CPU on the room's one thread, then goes
//! to every connected client (the sender included, as the contract's room).
//! Messages wait their turn in one queue, as in a single-threaded server's
//! event loop, so past 1 ÷ service messages per second the queue grows.
//!
//! Its ceiling is 1/service while the room's own work per message (reading
//! it, writing it to every client) stays under the service time, which
//! absorbs it (see the HTTP server's notes in [`super`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message;

use super::{Clock, ServerThread};

/// Messages a slow client may fall behind by before it misses some.
const BACKLOG: usize = 1 << 16;

/// The room; it stops when dropped.
pub struct FixedServiceRoom {
    addr: SocketAddr,
    messages: Arc<AtomicU64>,
    _thread: ServerThread,
}

impl FixedServiceRoom {
    /// Start on 127.0.0.1:0, each message costing `service` of busy CPU on
    /// the room's one thread, pinned to `cpu` when given.
    pub fn start(service: Duration, cpu: Option<usize>) -> std::io::Result<FixedServiceRoom> {
        let messages = Arc::new(AtomicU64::new(0));
        let counted = messages.clone();
        let (addr, thread) = ServerThread::start("fixed-room", cpu, move |listener| async move {
            let (room, _) = broadcast::channel::<String>(BACKLOG);
            let (inbox, mut queue) = mpsc::unbounded_channel::<String>();
            let clock = Clock::new(service);
            let out = room.clone();
            tokio::spawn(async move {
                while let Some(text) = queue.recv().await {
                    clock.spin();
                    counted.fetch_add(1, Ordering::SeqCst);
                    let _ = out.send(text);
                }
            });
            while let Ok((sock, _)) = listener.accept().await {
                let _ = sock.set_nodelay(true);
                let (room, inbox) = (room.clone(), inbox.clone());
                tokio::spawn(async move {
                    let Ok(ws) = tokio_tungstenite::accept_async(sock).await else {
                        return;
                    };
                    let (mut sink, mut stream) = ws.split();
                    let mut rx = room.subscribe();
                    let forward = tokio::spawn(async move {
                        loop {
                            match rx.recv().await {
                                Ok(text) => {
                                    if sink.send(Message::text(text)).await.is_err() {
                                        return;
                                    }
                                }
                                Err(broadcast::error::RecvError::Lagged(_)) => {}
                                Err(broadcast::error::RecvError::Closed) => return,
                            }
                        }
                    });
                    while let Some(Ok(msg)) = stream.next().await {
                        if let Message::Text(t) = msg {
                            let _ = inbox.send(t.as_str().to_string());
                        }
                    }
                    forward.abort();
                });
            }
        })?;
        Ok(FixedServiceRoom {
            addr,
            messages,
            _thread: thread,
        })
    }

    /// The loopback address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("ws://{}{path}", self.addr)).expect("a valid URL")
    }

    /// Messages served (and broadcast) so far.
    pub fn messages(&self) -> u64 {
        self.messages.load(Ordering::SeqCst)
    }
}
