//! WebSocket fan-out latency counts from each message's intended send time: a
//! sender held up (here: this whole process stopped for half a second, as a
//! stalling machine would) shows the hold-up in the latency of every message
//! it delayed. Timed from the actual send, those messages would look fast.
//! Its own test binary: the stop would disturb other tests' timing.

use std::time::Duration;

use bakeoff_load::testkit::FixedServiceRoom;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sender_shows_in_the_fan_out_latency() {
    let room = FixedServiceRoom::start(Duration::ZERO, None).expect("test room");
    let url = room.url("/ws");
    let cfg = bakeoff_load::ws::WsConfig {
        clients: 2,
        rate: 100.0,
        duration: Duration::from_secs(2),
        ..bakeoff_load::ws::WsConfig::new(url)
    };
    // Stop the process 0.8 s in for 0.5 s, from a process of its own.
    let mut stopper = bakeoff_load::testkit::stop_this_process(
        Duration::from_millis(800),
        Duration::from_millis(500),
    )
    .expect("sh runs");
    let r = bakeoff_load::ws::run(cfg, CancellationToken::new())
        .await
        .unwrap();
    assert!(stopper.wait().unwrap().success());
    assert_eq!(r.connected, 2);
    assert_eq!(r.missing, 0, "{:?} {:?}", r.errors, r.warnings);
    // About 50 sends were due during the stop and went out late.
    assert!(
        r.late_sends >= 30,
        "late sends {} of {}",
        r.late_sends,
        r.sent
    );
    // The engine held them up itself (the sender was stopped, not waiting on
    // the room): the machine's, which a run re-runs.
    assert!(
        r.late_stalled >= 30,
        "late through the engine {} of {}",
        r.late_stalled,
        r.sent
    );
    // Their deliveries (about a quarter) waited 0-500 ms behind schedule.
    let p90 = r.latency.value_at_quantile(0.9) as f64 / 1000.0;
    assert!(p90 >= 100.0, "p90 {p90} ms hides the stalled sender");
    assert!(r.latency.max() >= 400_000, "max {} µs", r.latency.max());
}
