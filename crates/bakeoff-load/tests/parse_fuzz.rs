//! Arbitrary bytes as an HTTP response never panic the engine: for each generated
//! response a real server on 127.0.0.1 answers every request with those bytes,
//! and `bakeoff_load::run` must return a report that accounts for the exchanges.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bakeoff_load::{LoadConfig, Url};
use proptest::prelude::*;
use tokio_util::sync::CancellationToken;

/// Serve `response` to every request on every connection; close after it when `close`.
/// Accepting stops when the returned flag is set.
fn serve(response: Vec<u8>, close: bool) -> (u16, Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let handle = std::thread::spawn(move || {
        while !stopped.load(Ordering::Relaxed) {
            let Ok((mut sock, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            let response = response.clone();
            std::thread::spawn(move || {
                let _ = sock.set_nonblocking(false);
                let _ = sock.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                loop {
                    match sock.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        if sock.write_all(&response).is_err() || close {
                            return;
                        }
                    }
                }
            });
        }
    });
    (port, stop, handle)
}

/// Response-shaped byte strings: pure noise, or an HTTP head with hostile parts.
fn responses() -> impl Strategy<Value = Vec<u8>> {
    let noise = proptest::collection::vec(any::<u8>(), 0..2048);
    let status = prop_oneof![
        Just("HTTP/1.1 200 OK".to_string()),
        Just("HTTP/1.0 204 No Content".to_string()),
        Just("HTTP/1.1 100 Continue".to_string()),
        "[ -~]{0,40}",
        "HTTP/1.1 [0-9]{1,6} [ -~]{0,10}",
    ];
    let header = prop_oneof![
        "Content-Length: [0-9]{1,25}",
        "Content-Length: -[0-9]{1,5}",
        Just("Transfer-Encoding: chunked".to_string()),
        Just("Connection: close".to_string()),
        "[ -~]{0,60}",
    ];
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "([0-9a-fA-F]{1,18}(;[ -~]{0,8})?\r\n[ -~]{0,20}\r\n){0,4}(0\r\n\r\n)?"
            .prop_map(String::into_bytes),
    ];
    let shaped = (
        status,
        proptest::collection::vec(header, 0..5),
        prop_oneof![Just("\r\n\r\n"), Just("\n\n"), Just("\r\n")],
        body,
    )
        .prop_map(|(status, headers, end, body)| {
            let mut out = status.into_bytes();
            for h in headers {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(h.as_bytes());
            }
            out.extend_from_slice(end.as_bytes());
            out.extend_from_slice(&body);
            out
        });
    prop_oneof![noise, shaped]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_response_bytes_never_panic_the_engine(
        response in responses(),
        close in any::<bool>(),
    ) {
        let (port, stop, server) = serve(response, close);
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let mut config = LoadConfig::new(url);
        config.connections = 1;
        config.duration = Some(Duration::from_millis(300));
        config.max_requests = Some(4);
        config.timeout = Duration::from_millis(200);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let report = rt
            .block_on(bakeoff_load::run(config, CancellationToken::new(), None))
            .expect("the run ends with a report, whatever the server sent");
        prop_assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        let answered: u64 = report.status.values().sum();
        prop_assert!(
            report.requests + report.error_count() > 0 || answered > 0,
            "no exchange was accounted for: {:?}",
            report.errors
        );
        drop(rt);
        stop.store(true, Ordering::Relaxed);
        let _ = server.join();
    }
}
