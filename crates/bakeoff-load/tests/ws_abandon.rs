//! A fan-out window with an abandon rule ends once its delivery p99 is
//! decided over the rule's latency, against a real room of known ceiling
//! (5 ms of service per message, 200 messages/s): at twice the ceiling the
//! queue grows by a second per second and the window stops within a fraction
//! of its length; at half the ceiling it runs its length and loses nothing.

use std::time::{Duration, Instant};

use bakeoff_load::testkit::FixedServiceRoom;
use bakeoff_load::ws::{WsConfig, WsReport};
use bakeoff_load::Abandon;
use tokio_util::sync::CancellationToken;

const SERVICE: Duration = Duration::from_millis(5);
const SLO: Duration = Duration::from_millis(100);
const CLIENTS: u32 = 2;

async fn window(rate: f64, duration: Duration) -> (WsReport, Duration) {
    let room = FixedServiceRoom::start(SERVICE, None).expect("test room");
    let url = room.url("/ws");
    let cfg = WsConfig {
        clients: CLIENTS,
        rate,
        duration,
        grace: Some(SLO * 2),
        abandon: Some(Abandon::p99_over(SLO, rate * f64::from(CLIENTS), duration)),
        ..WsConfig::new(url)
    };
    let t0 = Instant::now();
    let r = bakeoff_load::ws::run(cfg, CancellationToken::new())
        .await
        .unwrap();
    (r, t0.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_fan_out_window_stops_once_its_p99_is_decided() {
    let planned = Duration::from_secs(5);
    let (r, wall) = window(400.0, planned).await;
    let a = r.abandoned.expect("twice the ceiling is abandoned");
    assert_eq!(a.planned, planned);
    // More than 1% of the 4,000 planned deliveries (41) over 100 ms: a
    // queue growing a second per second passes it about 0.15 s in; the
    // check runs every 50 ms.
    assert!(a.over > 41, "{a:?}");
    assert!(
        r.elapsed < Duration::from_millis(1_500),
        "ran {:?} of {planned:?}",
        r.elapsed
    );
    assert!(wall < Duration::from_secs(3), "returned after {wall:?}");
    // What it had sent and what it still owed count; only part arrived.
    assert!(r.missing > 0, "{r:?}");
    let measured = (r.sent + r.unsent) as f64;
    let due = 400.0 * r.elapsed.as_secs_f64();
    assert!(
        (measured - due).abs() <= 0.1 * due + 3.0,
        "{measured} messages for {due:.0} due"
    );
    // The deliveries it timed show the queue: the last waited over half the
    // SLO. Their p99 need not pass the SLO: what tipped the rule may be
    // deliveries still missing 100 ms after their message was due, which are
    // never timed (a room slowed by a busy machine: 50 timed in 0.25 s, p99
    // 96 ms, 72 over).
    let max = r.latency.max();
    assert!(
        max > 50_000,
        "slowest {max} µs of {} deliveries in {:?} (over: {})",
        r.latency.len(),
        r.elapsed,
        a.over
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_window_under_its_ceiling_runs_its_length() {
    let planned = Duration::from_secs(2);
    let (r, _) = window(100.0, planned).await;
    assert!(r.abandoned.is_none(), "{r:?}");
    assert_eq!(r.elapsed, planned);
    assert_eq!(r.missing, 0, "{:?} {:?}", r.errors, r.warnings);
    assert!((195..=201).contains(&r.sent), "sent {}", r.sent);
}
