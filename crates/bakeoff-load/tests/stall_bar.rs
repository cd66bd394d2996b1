//! `LoadConfig::stalled_after`: the sends the engine itself held up count in
//! `late_stalled` only past that lag, while every send over 2 ms late still
//! counts in `late_sends`. Here the whole process is stopped for 0.3 s (as a
//! stalling machine would hold it up): 0.3 s past a 2 ms bar, inside a 2 s one.
//! Its own test binary: the stop would disturb other tests' timing.

#[allow(dead_code)]
mod server;

use std::time::Duration;

use bakeoff_load::{run, LoadConfig, LoadReport, Schedule};
use server::Mode;
use tokio_util::sync::CancellationToken;

/// 400 req/s for 2 s over 16 connections, the process stopped for 0.3 s from
/// 0.8 s in.
async fn stopped_run(url: url::Url, stalled_after: Duration) -> LoadReport {
    let cfg = LoadConfig {
        rate: Some(400.0),
        schedule: Schedule::Uniform,
        connections: 16,
        duration: Some(Duration::from_secs(2)),
        stalled_after,
        ..LoadConfig::new(url)
    };
    let mut stopper = bakeoff_load::testkit::stop_this_process(
        Duration::from_millis(800),
        Duration::from_millis(300),
    )
    .expect("sh runs");
    let r = run(cfg, CancellationToken::new(), None).await.unwrap();
    assert!(stopper.wait().unwrap().success());
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_sends_held_up_past_the_bar_count_as_stalled() {
    let srv = server::http(Mode::Delay(Duration::from_millis(1))).await;
    // About 120 sends were due during the stop; they left up to 0.3 s late.
    let strict = stopped_run(srv.url("/"), bakeoff_load::LATE_SEND).await;
    assert!(strict.late_sends >= 60, "{}", strict.late_sends);
    assert!(
        strict.late_stalled >= 60,
        "{} of {} late sends the engine's",
        strict.late_stalled,
        strict.late_sends
    );
    assert!(
        bakeoff_load::sends_stalled(strict.late_stalled, strict.requests),
        "{strict:?}"
    );
    let lenient = stopped_run(srv.url("/"), Duration::from_secs(2)).await;
    assert!(lenient.late_sends >= 60, "{}", lenient.late_sends);
    assert_eq!(lenient.late_stalled, 0, "none was held up 2 s");
    assert!(
        lenient.warnings.iter().all(|w| !w.contains("held up")),
        "{:?}",
        lenient.warnings
    );
}
