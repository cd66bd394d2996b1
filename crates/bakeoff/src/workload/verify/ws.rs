//! The `/ws` check: three clients join the chat room, each sends one unique
//! text message, and every client — the sender included — must receive all
//! three unchanged within the timeout. Reports which client missed what.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use super::Probe;

const CLIENTS: usize = 3;
/// Largest WebSocket message accepted from the contender.
const MAX_MESSAGE: usize = 1024 * 1024;
/// Lets the server add the last client to the room before anyone speaks.
const SETTLE: Duration = Duration::from_millis(500);

pub(super) async fn check(p: &mut Probe<'_>) {
    let url = format!("ws://{}/ws", p.target.authority());
    let limit = p.opts.ws_timeout;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let mut sinks = Vec::new();
    let mut streams = Vec::new();
    for i in 0..CLIENTS {
        let connect =
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true);
        match timeout(limit, connect).await {
            Ok(Ok((ws, _))) => {
                let (sink, stream) = ws.split();
                sinks.push(sink);
                streams.push(stream);
            }
            Ok(Err(e)) => {
                p.reasons.push(format!(
                    "ws: client {i}: expected a WebSocket handshake at {url}, got {}",
                    super::snippet(&e.to_string())
                ));
                return;
            }
            Err(_) => {
                p.reasons.push(format!(
                    "ws: client {i}: expected a WebSocket handshake at {url} within {limit:?}, got none"
                ));
                return;
            }
        }
    }
    tokio::time::sleep(SETTLE).await;

    let nonce: u64 = bakeoff_load::rng::Rng::unseeded().next_u64();
    let messages: Vec<String> = (0..CLIENTS)
        .map(|i| format!("bakeoff-verify {nonce:016x} from client {i}: héllo ✓ \"<&>\""))
        .collect();
    let prefix = format!("bakeoff-verify {nonce:016x}");
    for (i, sink) in sinks.iter_mut().enumerate() {
        let send = sink.send(Message::text(messages[i].clone()));
        match timeout(limit, send).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => p
                .reasons
                .push(format!("ws: client {i} could not send its message: {e}")),
            Err(_) => p.reasons.push(format!(
                "ws: client {i} could not send its message within {limit:?}"
            )),
        }
    }

    let deadline = Instant::now() + limit;
    let receive = streams.into_iter().map(|mut stream| {
        let messages = &messages;
        let prefix = &prefix;
        async move {
            let mut got = vec![false; messages.len()];
            let mut altered = Vec::new();
            let mut error = None;
            while !got.iter().all(|g| *g) {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Err(_) => break,
                    Ok(None) => {
                        error = Some("the server closed the connection".to_string());
                        break;
                    }
                    Ok(Some(Err(e))) => {
                        error = Some(e.to_string());
                        break;
                    }
                    Ok(Some(Ok(Message::Text(t)))) => {
                        match messages.iter().position(|m| m == t.as_str()) {
                            Some(k) => got[k] = true,
                            None if t.as_str().contains(prefix.as_str()) => {
                                altered.push(t.as_str().to_string())
                            }
                            None => {}
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                }
            }
            (got, altered, error)
        }
    });
    let results = futures_util::future::join_all(receive).await;

    for (c, (got, altered, error)) in results.into_iter().enumerate() {
        for (s, received) in got.iter().enumerate() {
            if !received {
                let whose = if s == c {
                    "its own message (the sender must receive its broadcast too)".to_string()
                } else {
                    format!("client {s}'s message")
                };
                p.reasons.push(format!(
                    "ws: client {c}: expected {whose} {:?} within {limit:?}, got nothing{}",
                    messages[s],
                    error
                        .as_deref()
                        .map_or(String::new(), |e| format!(" ({})", super::snippet(e)))
                ));
            }
        }
        for a in altered {
            p.reasons.push(format!(
                "ws: client {c}: expected messages broadcast unchanged, got altered text {}",
                super::snippet(&format!("{a:?}"))
            ));
        }
    }
    for mut sink in sinks {
        let _ = timeout(Duration::from_millis(200), sink.close()).await;
    }
}
