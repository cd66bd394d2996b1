//! `run_sharded` against a real local server: two engine threads hold the
//! aggregate open-loop rate, and their histograms merge into the totals.

use std::time::Duration;

use bakeoff_load::shard::{online_cpus, run_sharded};
use bakeoff_load::testkit::FixedServiceServer;
use bakeoff_load::LoadConfig;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_hold_the_aggregate_rate_and_merge() {
    // 20 µs per request: a ceiling near 50k req/s, far above the 2,000 asked.
    let srv = FixedServiceServer::start(Duration::from_micros(20), None).unwrap();
    let rate = 2000.0;
    let cfg = LoadConfig {
        rate: Some(rate),
        connections: 8,
        duration: Some(Duration::from_secs(2)),
        grace: Some(Duration::from_millis(500)),
        timeout: Duration::from_secs(5),
        ..LoadConfig::new(srv.url("/"))
    };
    let pins = if online_cpus() >= 2 {
        vec![Some(0), Some(1)]
    } else {
        vec![None, None]
    };
    let out = run_sharded(cfg, pins.clone(), CancellationToken::new(), None)
        .await
        .unwrap();
    let r = &out.report;
    assert_eq!(out.shards.len(), 2);
    assert_eq!(out.shards.iter().map(|s| s.cpu).collect::<Vec<_>>(), pins);
    assert!(out.shards.iter().all(|s| s.target_rate == Some(rate / 2.0)));
    assert_eq!(out.shards.iter().map(|s| s.connections).sum::<u32>(), 8);
    assert_eq!(r.target_rate, Some(rate));
    // Each shard measures its own ~2 s window: the sum of their rates is the aggregate.
    assert!(
        r.achieved_rate > 0.95 * rate && r.achieved_rate < 1.05 * rate,
        "achieved {:.0} of {rate} req/s: {:?}",
        r.achieved_rate,
        r.warnings
    );
    assert_eq!(r.error_count(), 0, "{:?}", r.errors);
    assert_eq!(
        r.requests,
        out.shards.iter().map(|s| s.requests).sum::<u64>()
    );
    assert_eq!(
        r.latency.len(),
        r.successes,
        "one histogram entry per 2xx answer"
    );
    assert_eq!(r.status.get(&200).copied(), Some(r.requests));
    let timeline: u64 = r.timeline.iter().map(|s| s.requests).sum();
    assert_eq!(timeline, r.requests);
    assert!(srv.requests() >= r.requests);
    let cpu: f64 = out.shards.iter().map(|s| s.generator_cpu_s).sum();
    assert!((r.generator_cpu_s - cpu).abs() < 1e-9);
}
