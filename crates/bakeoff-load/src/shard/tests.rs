//! The shards' split, merge and pins, on hand-built configs and reports.

use super::*;
use crate::{Abandon, ErrorKind, TrendThird};
use rand::{Rng, SeedableRng};

/// A report holding `samples` (µs) as 2xx answers, over a 1 s window.
pub(crate) fn report_of(samples: &[u64], rate: Option<f64>) -> LoadReport {
    let mut latency = new_histogram();
    for &s in samples {
        latency.record(s).unwrap();
    }
    let n = samples.len() as u64;
    let p99 = if latency.is_empty() {
        0
    } else {
        latency.value_at_quantile(0.99)
    };
    let mut classes = BTreeMap::new();
    classes.insert(
        "/".to_string(),
        ClassStats {
            requests: n,
            successes: n,
            errors: Default::default(),
            latency: latency.clone(),
            service: latency.clone(),
        },
    );
    LoadReport {
        target_rate: rate,
        achieved_rate: n as f64,
        delivered_rate: n as f64,
        successes: n,
        requests: n,
        elapsed: Duration::from_secs(1),
        measured_from: None,
        errors: BTreeMap::from([(ErrorKind::Timeout, 1)]),
        status: BTreeMap::from([(200, n)]),
        service: latency.clone(),
        latency: latency.clone(),
        classes,
        timeline: vec![Second {
            second: 0,
            requests: n,
            errors: 1,
            p99_us: p99,
        }],
        second_latency: vec![histogram_bytes(&latency)],
        mean_in_flight: 2.0,
        late_sends: 1,
        late_stalled: 0,
        max_send_lag: Duration::from_millis(n % 7),
        unsent: 0,
        outstanding: 1,
        unanswered: 1,
        // Every sample in the first third, none in the others.
        trend: Some(Trend {
            thirds: [
                TrendThird {
                    requests: n,
                    p50_us: quantile(&latency, 0.5),
                    p90_us: quantile(&latency, 0.9),
                    mean_in_flight: 2.0,
                },
                TrendThird::default(),
                TrendThird::default(),
            ],
        }),
        trend_latency: vec![
            histogram_bytes(&latency),
            histogram_bytes(&new_histogram()),
            histogram_bytes(&new_histogram()),
        ],
        sent_all: n + 1,
        ok_all: n,
        steal: None,
        cpu_steal: vec![0.01 * n as f64, 0.0],
        steal_bursts: vec![Duration::ZERO, Duration::from_millis(n / 10)],
        generator_cpu_s: 0.5,
        generator_wall_s: 1.0,
        generator_core_busy: Some(0.5),
        window_generator_cpu: None,
        window_core_busy: None,
        reconnects: 0,
        warmup: Duration::ZERO,
        abandoned: None,
        valid: true,
        warnings: vec![format!("part of {n}"), "shared".into()],
        expectation_examples: Vec::new(),
    }
}

#[test]
fn merged_percentiles_equal_one_histogram_of_every_sample() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    // Parts of unequal size and spread: a fast shard and a slow one.
    let parts: Vec<Vec<u64>> = (0..5)
        .map(|i| {
            let n = 1000 + 700 * i;
            let scale = 100 * (i as u64 + 1);
            (0..n).map(|_| rng.random_range(1..scale * 50)).collect()
        })
        .collect();
    let mut all = new_histogram();
    for s in parts.iter().flatten() {
        all.record(*s).unwrap();
    }
    let merged = merge_reports(parts.iter().map(|p| report_of(p, Some(100.0))).collect()).unwrap();
    for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
        assert_eq!(
            merged.latency.value_at_quantile(q),
            all.value_at_quantile(q),
            "q {q}"
        );
        assert_eq!(
            merged.classes["/"].latency.value_at_quantile(q),
            all.value_at_quantile(q)
        );
    }
    assert_eq!(merged.latency.len(), all.len());
    assert_eq!(merged.latency.mean(), all.mean());
    let n = all.len();
    assert_eq!(
        (merged.requests, merged.successes, merged.status[&200]),
        (n, n, n)
    );
    assert_eq!(merged.errors[&ErrorKind::Timeout], 5);
    assert_eq!(merged.target_rate, Some(500.0));
    assert_eq!(merged.achieved_rate, n as f64);
    assert_eq!(merged.timeline.len(), 1);
    assert_eq!(merged.timeline[0].requests, n);
    // Each CPU's steal is the worst any thread saw (the largest part's).
    assert_eq!(merged.cpu_steal, vec![0.01 * (1000 + 700 * 4) as f64, 0.0]);
    assert_eq!(
        merged.steal_bursts,
        vec![Duration::ZERO, Duration::from_millis((1000 + 700 * 4) / 10)]
    );
    // The second's p99 and the thirds' p50 and p90 are exact, from the
    // parts' histograms added, not the largest of the parts' figures.
    assert_eq!(merged.timeline[0].p99_us, all.value_at_quantile(0.99));
    let first = merged.trend.unwrap().thirds[0];
    assert_eq!(first.p50_us, all.value_at_quantile(0.5));
    assert_eq!(first.p90_us, all.value_at_quantile(0.9));
    assert_eq!(first.requests, n);
    assert_eq!(merged.second_latency.len(), 1);
    let back = histogram_from_bytes(&merged.second_latency[0], "second").unwrap();
    assert_eq!(back.len(), n);
    assert_eq!(merged.mean_in_flight, 10.0);
    assert_eq!(
        (merged.generator_cpu_s, merged.generator_wall_s),
        (2.5, 5.0)
    );
    assert_eq!(merged.warnings.iter().filter(|w| *w == "shared").count(), 1);
    assert_eq!(merged.warnings.len(), 6);
    assert!(merged.valid);
}

/// A part without its seconds' histograms (read back from an older
/// document): the merged p99 is the parts' largest, an upper bound.
#[test]
fn seconds_without_histograms_merge_to_an_upper_bound() {
    let (fast, slow) = ([100u64; 300], [5_000u64; 100]);
    let mut a = report_of(&fast, None);
    a.second_latency.clear();
    a.trend_latency.clear();
    let m = merge_reports(vec![a, report_of(&slow, None)]).unwrap();
    let p99 = m.timeline[0].p99_us;
    assert!((4_990..=5_010).contains(&p99), "{p99}");
    assert!(m.second_latency.is_empty() && m.trend_latency.is_empty());
    // With both, the exact p99 of 300 fast and 100 slow samples is slow too,
    // but the p50 of the first third is the fast one.
    let m = merge_reports(vec![report_of(&fast, None), report_of(&slow, None)]).unwrap();
    assert!((99..=101).contains(&m.trend.unwrap().thirds[0].p50_us));
    assert!(histogram_from_bytes(b"nonsense", "x").is_err());
}

#[test]
fn one_invalid_part_makes_the_whole_invalid() {
    let mut bad = report_of(&[10, 20], None);
    bad.valid = false;
    let m = merge_reports(vec![report_of(&[5], None), bad]).unwrap();
    assert!(!m.valid);
    assert_eq!(m.target_rate, None);
    assert!(matches!(merge_reports(Vec::new()), Err(MergeError::Empty)));
}

#[test]
fn histograms_of_other_bounds_are_refused() {
    let mut small = report_of(&[10], None);
    small.latency = Histogram::new_with_bounds(1, 100, 2).unwrap();
    let mut big = report_of(&[10], None);
    big.latency.record(500_000_000).unwrap();
    let e = merge_reports(vec![small, big]).unwrap_err();
    assert!(e.to_string().contains("latency"), "{e}");
}

#[test]
fn shares_are_even_and_sum_to_the_whole() {
    for (total, count) in [(10u64, 3u32), (64, 2), (7, 7), (1000, 9)] {
        let shares: Vec<u64> = (0..count).map(|i| even_share(total, i, count)).collect();
        assert_eq!(shares.iter().sum::<u64>(), total);
        assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
    }
    let cfg = LoadConfig {
        rate: Some(9000.0),
        connections: 10,
        max_requests: Some(101),
        abandon: Some(Abandon::p99_over(
            Duration::from_millis(100),
            9000.0,
            Duration::from_secs(1),
        )),
        ..LoadConfig::new("http://127.0.0.1:1/".parse().unwrap())
    };
    let parts: Vec<LoadConfig> = (0..3).map(|i| shard_config(&cfg, i, 3).unwrap()).collect();
    assert!(parts.iter().all(|p| p.rate == Some(3000.0)));
    // 91 requests over the SLO in one shard decide the window's p99; 31 do not.
    assert!(parts.iter().all(|p| p.abandon == cfg.abandon));
    assert_eq!(parts.iter().map(|p| p.connections).sum::<u32>(), 10);
    assert_eq!(
        parts.iter().map(|p| p.max_requests.unwrap()).sum::<u64>(),
        101
    );
    let few = LoadConfig {
        connections: 2,
        ..cfg.clone()
    };
    let e = shard_config(&few, 0, 3).unwrap_err().to_string();
    assert!(e.contains("-c 3"), "{e}");
    assert!(shard_config(&cfg, 3, 3).is_err());
}

#[test]
fn pins_are_distinct_cpus_that_exist() {
    assert_eq!(plan_pins(2, None, 2).unwrap(), vec![None, None]);
    assert_eq!(plan_pins(2, Some(0), 2).unwrap(), vec![Some(0), Some(1)]);
    let e = plan_pins(2, Some(1), 2).unwrap_err().to_string();
    assert!(e.contains("CPUs 1..=2") && e.contains("--threads"), "{e}");
    assert_eq!(auto_threads(1), 1);
    assert_eq!(auto_threads(2), 1);
    assert_eq!(auto_threads(8), 7);
}
