//! A window's verdict: the fixed criteria of capacity at the SLO (p99,
//! errors, achieved rate), a growing backlog, and the machine's or the
//! generator's windows, which say nothing about the server.

use std::time::Duration;

use super::search::{is_failing, Observed, MAX_ERROR_RATE, MIN_ACHIEVED_RATIO};
use crate::model::StepVerdict;

/// Judge one window against its target and the SLO: the verdict and why.
/// `unit` is what the rate counts ("req/s", "msg/s").
///
/// A window the machine stalled, or the generator limited, says nothing about
/// the server, unless the server answered most of it with errors (statuses,
/// resets, refusals: [`is_failing`]): late or bunched sends slow a server, they
/// do not make it answer 500, so such a window fails as the server's.
pub fn judge(o: &Observed, target: f64, slo_p99_ms: f64, unit: &str) -> (StepVerdict, Vec<String>) {
    let failing = is_failing(o.answered_error_rate);
    if let Some(why) = o.stalled.as_ref().filter(|_| !failing) {
        return (StepVerdict::Stalled, vec![why.clone()]);
    }
    if let Some(why) = o.generator_limited.as_ref().filter(|_| !failing) {
        return (StepVerdict::GeneratorLimited, vec![why.clone()]);
    }
    let mut reasons = Vec::new();
    if o.p99_ms > slo_p99_ms {
        reasons.push(format!("p99 {:.1} ms > {slo_p99_ms:.0} ms", o.p99_ms));
    }
    if o.error_rate > MAX_ERROR_RATE {
        reasons.push(format!(
            "{:.2}% errors > {:.1}%",
            o.error_rate * 100.0,
            MAX_ERROR_RATE * 100.0
        ));
    }
    let one_request = 1.0 / o.duration.as_secs_f64().max(1e-3);
    if o.achieved < MIN_ACHIEVED_RATIO * target - one_request {
        reasons.push(format!(
            "achieved {:.0} of {target:.0} {unit} (< {:.0}%)",
            o.achieved,
            MIN_ACHIEVED_RATIO * 100.0
        ));
    }
    if let Some(why) = o
        .trend_p50_ms
        .and_then(|t| backlog_grew(t, slo_p99_ms, o.duration))
    {
        reasons.push(why);
    }
    if let Some(a) = o.abandoned {
        reasons.push(format!(
            "stopped after {:.2} of {:.2} s, its p99 already over the SLO{}",
            o.duration.as_secs_f64(),
            a.planned.as_secs_f64(),
            a.growth
                .map(|g| format!(" (latency rising {:.0} ms per s)", g * 1000.0))
                .unwrap_or_default()
        ));
    }
    if failing {
        if let Some(why) = o.stalled.as_ref().or(o.generator_limited.as_ref()) {
            reasons.push(format!(
                "the server's errors, though {why}: a machine slows a server, it does not make it answer errors"
            ));
        }
    }
    if reasons.is_empty() {
        (StepVerdict::Pass, reasons)
    } else {
        (StepVerdict::Fail, reasons)
    }
}

/// A growing backlog: the median corrected latency of the window's last third
/// exceeds its first third's by more than 5% of the SLO, a quarter of the
/// first third's, 1 ms, and what 0.5% of overload adds over the thirds' span.
/// An overload ε = (R − C)/C adds about ε × t of queueing delay after t
/// seconds, so this sees 1.5% of overload in a 0.5 s window and 0.5% in a long
/// one, where a p99 would need far more. A median moves only when most of a
/// third is delayed: a short pause does not move it. A long window does not
/// fail on a lesser rise: a second's dip in the server's speed late in it
/// raises its last third though the server held the rate over the window.
pub fn backlog_grew(p50_ms: [f64; 3], slo_p99_ms: f64, window: Duration) -> Option<String> {
    let [first, _, last] = p50_ms;
    let span_ms = window.as_secs_f64() * 2.0 / 3.0 * 1000.0;
    let margin = (0.05 * slo_p99_ms)
        .max(0.25 * first)
        .max(1.0)
        .max(MIN_OVERLOAD * span_ms);
    (last - first > margin).then(|| {
        format!("backlog grew: median latency {first:.1} → {last:.1} ms across the window")
    })
}

/// The least overload a long window's rising median is taken for (0.5%,
/// a sixth of the standard profile's resolution).
pub(super) const MIN_OVERLOAD: f64 = 0.005;
