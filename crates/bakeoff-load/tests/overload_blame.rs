//! A server that falls behind is the server's, never the engine's: against a
//! server of known ceiling driven 30% past it, the backlog builds in the
//! schedule (every connection waiting for an answer), every send leaves late,
//! and none of them counts in `late_stalled`, which the stall rule reads as a
//! machine holding the generator up. (Before, a send catching up after a
//! slightly late one carried that lateness on, and along a saturated
//! connection's chain of sends the server's growing queue read as an engine
//! stall: two thirds of the sends at 1.2× a 25,000 req/s ceiling.)
//! Its own test binary: other tests' load would hold the engine up for real.

use std::time::Duration;

use bakeoff_load::testkit::FixedServiceServer;
use bakeoff_load::{run, LoadConfig, Schedule};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_behind_its_schedule_is_not_an_engine_stall() {
    // 1 ms per request on one thread: a ceiling of about 1,000 req/s.
    let srv = FixedServiceServer::start(Duration::from_millis(1), None).unwrap();
    // Few connections, so each is always busy once the server falls behind
    // and its sends follow its answers closely (the chain that misled).
    let cfg = LoadConfig {
        rate: Some(1_300.0),
        schedule: Schedule::Uniform,
        connections: 4,
        duration: Some(Duration::from_secs(2)),
        stalled_after: bakeoff_load::LATE_SEND,
        ..LoadConfig::new(srv.url("/"))
    };
    let r = run(cfg, CancellationToken::new(), None).await.unwrap();
    let sends = r.requests + r.error_count();
    assert!(
        r.late_sends * 2 > sends,
        "the server fell behind: {} of {sends} sends late",
        r.late_sends
    );
    assert!(
        r.max_send_lag >= Duration::from_millis(100),
        "{:?}",
        r.max_send_lag
    );
    assert!(
        !bakeoff_load::sends_stalled(r.late_stalled, sends),
        "{} of {} late sends blamed on the engine, whose thread waited on the server",
        r.late_stalled,
        r.late_sends
    );
}
