//! Where a search goes below a failed long window: to the capacity the window
//! measured when it measured one, else a blind step that grows with each
//! failure in a row (the methodology's "Confirmation").

use std::time::Duration;

use super::{Observed, Search, MIN_ACHIEVED_RATIO};

impl Search<'_> {
    /// The next rate after `failed` failed a confirmation-length window `o`,
    /// the `k`-th failure in a row (from 0), and whether it rests on an
    /// estimate of the capacity.
    ///
    /// What the window measured comes first. A server that fell behind showed
    /// its sustained throughput: the answers per second it achieved, never more
    /// than it delivered inside the window ([`Observed::achieved`]). A queue
    /// that grew measured the overload: at R > C the delay rises by (R − C)/C
    /// per second, so C ≈ R ÷ (1 + the rise per second). A full window's rise
    /// is between the medians of its first and last thirds (2/3 of the window
    /// apart); an abandoned window's is the slope of its latency before it
    /// stopped (its achieved rate is not the server's: what was in flight
    /// when it stopped is censored, a large share of a window stopped early),
    /// if it ran [`MIN_SLOPE_RUN`]. The next rate is half a step below the
    /// lower estimate. With none, see [`blind_step`] and [`abandoned_step`].
    pub(super) fn step_down(&self, failed: f64, o: &Observed, k: u32) -> (f64, bool) {
        step_below(failed, o, k, self.cfg.resolution, self.cfg.slo_p99_ms)
    }
}

/// [`Search::step_down`] at resolution `res` and an SLO of `slo_ms`.
pub(super) fn step_below(failed: f64, o: &Observed, k: u32, res: f64, slo_ms: f64) -> (f64, bool) {
    let span = o.duration.as_secs_f64() * 2.0 / 3.0;
    let from_trend = match o.trend.map(|t| t.p50_ms) {
        Some([first, _, last]) if last > first && span > 0.0 => {
            Some(failed / (1.0 + (last - first) / 1000.0 / span))
        }
        _ => None,
    };
    let from_growth = o
        .abandoned
        .filter(|_| o.duration >= MIN_SLOPE_RUN)
        .and_then(|a| a.growth)
        .filter(|&g| g > 0.0)
        .map(|g| failed / (1.0 + g));
    let from_throughput =
        (o.abandoned.is_none() && o.achieved > 0.0 && o.achieved < MIN_ACHIEVED_RATIO * failed)
            .then_some(o.achieved);
    let estimate = [from_trend, from_growth, from_throughput]
        .into_iter()
        .flatten()
        .min_by(f64::total_cmp);
    match (estimate, o.abandoned) {
        (Some(estimate), _) => (
            (estimate / (1.0 + res / 2.0)).min(failed / (1.0 + res)),
            true,
        ),
        (None, Some(a)) => {
            let step = abandoned_step(res, k, o, a.planned, slo_ms);
            (failed / (1.0 + step), false)
        }
        (None, None) => {
            let excess = o.p99_ms / slo_ms.max(1e-9);
            (failed / (1.0 + blind_step(res, k, excess)), false)
        }
    }
}

/// The shortest abandoned window whose latency slope estimates the overload.
/// The engine fits the slope over the last third of what was answered 1.5 ×
/// the SLO before it stopped: under 1.5 s that is under 0.45 s at the
/// default 100 ms SLO (less at a longer one), where a server's own jitter (a
/// pause, a collection) reads as a steep queue. In a
/// quick run six such fits read 107–920 ms per s at rates 4–31% over the
/// capacity their cells held, while the same cells' windows that ran 2.8 s or
/// more read 16–45 ms per s; four of the steps they set landed a pass 16–35%
/// below the capacity, to be climbed back in 5 s windows.
pub(super) const MIN_SLOPE_RUN: Duration = Duration::from_millis(1500);

/// The step below a long window that failed on its tail alone (no growing
/// queue, no shortfall to estimate from), as a share of the rate: one
/// resolution, doubled for each failure in a row (`k`), and doubled again for
/// each doubling of `excess` (the p99 ÷ the SLO) up to three, since a tail
/// several times the SLO is rarely one resolution step from it; at most
/// [`MAX_STEP`]. A pass below then turns the search into a bisection.
pub(super) fn blind_step(resolution: f64, k: u32, excess: f64) -> f64 {
    let doublings = k + (excess.max(1.0).log2().floor() as u32).min(3);
    (resolution * f64::from(1u32 << doublings.min(8))).min(MAX_STEP)
}

/// The largest step below a failed long window that measured no capacity:
/// the next rate a third under it. A window that ran its length before its
/// tail failed it was near the capacity, however many failed before it, and
/// every window of the bisection back up is a long one. Uncapped, quick's
/// fifth failure in a row stepped 128%: python-fastapi `cpu-mixed`, failing
/// at 60 req/s on a p99 of 113 ms, went to 26, climbed back through 39 and
/// 49, and ran out of confirmations (truncated).
pub(super) const MAX_STEP: f64 = 0.5;

/// The step below a window abandoned with its p99 decided too early to fit
/// its latency's slope, as a share of the rate. A queue growing at ε = (R − C)/C per second takes (SLO − base) ÷ ε
/// to push the latency past the SLO, and the window stops once 1% of its
/// planned length later: so ε ≈ (SLO − p50) ÷ (its length − 1% of the
/// planned one), the window's median standing in for the base latency (at
/// least a tenth of the SLO is left). A tail that crossed the SLO without a
/// queue reads as a large ε, so the step is at least [`blind_step`]'s for a
/// tail just past the SLO, and at most [`MAX_STEP`].
///
/// `o.p50_ms` may be anything the window measured, and `k` any count.
pub(super) fn abandoned_step(
    resolution: f64,
    k: u32,
    o: &Observed,
    planned: Duration,
    slo_ms: f64,
) -> f64 {
    let span = (o.duration.as_secs_f64() - 0.01 * planned.as_secs_f64()).max(0.05);
    let headroom = (slo_ms - o.p50_ms).max(0.1 * slo_ms) / 1000.0;
    (headroom / span)
        .max(blind_step(resolution, k, 1.0))
        .min(MAX_STEP)
}
