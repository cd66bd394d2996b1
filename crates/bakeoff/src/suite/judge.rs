//! A window's verdict: the fixed criteria of capacity at the SLO (p99,
//! errors, achieved rate), a growing backlog, and the machine's or the
//! generator's windows, which say nothing about the server.

use std::time::Duration;

use super::search::{is_failing, Observed, MAX_ERROR_RATE, MIN_ACHIEVED_RATIO};
use crate::model::StepVerdict;
use crate::workload::RateUnit;

/// One window's verdict, why, and whether only a short window's edge may have
/// failed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: StepVerdict,
    pub reasons: Vec<String>,
    /// It failed only on rules that one pause late in a short window also
    /// fails (p99 within the SLO, no errors, run to its end); a longer window
    /// tells (see
    /// [`SearchConfig::retest_window`](super::search::SearchConfig::retest_window)).
    pub pause: Option<Pause>,
}

/// How one pause late in a short window may have failed it, though the
/// server keeps up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pause {
    /// The achieved rate alone: the seconds of the target's stream it fell
    /// short by. A pause at a window's end leaves its answers past it (30 ms
    /// of 0.3 s is 10%).
    Shortfall(f64),
    /// A backlog that grew in one jump, with or without a shortfall. Near the
    /// capacity a pause's queue drains slowly, at the server's headroom: at
    /// 90% of it, 20 ms of pause takes 180 ms to work off, the whole last
    /// third of a 0.3 s window, whose median then rises past the rule's
    /// margin. node-express on `json` (a ~20 ms pause in every 5 s window,
    /// p99 22–24 ms at 9,500–11,500 req/s, 15 of 15 windows) failed 0.3 s
    /// windows so at 9,935–11,314 req/s with p99 ~30 ms in a quick run. An
    /// overload's queue grows third by third instead (`steady_rise`).
    Backlog,
}

/// A median that rose third by third, as an overload's queue grows (by half
/// the rise from each third to the next, at a steady overload), rather than
/// in one jump, as after a pause: each step at least a quarter of the rise.
fn steady_rise(t: &Thirds) -> bool {
    let [first, mid, last] = t.p50_ms;
    let quarter = (last - first) / 4.0;
    mid - first >= quarter && last - mid >= quarter
}

/// What a window's errors were, when not all of them were the server's
/// answers: an overloaded window's errors are mostly requests still
/// unanswered at its cutoff or timed out, or fan-out deliveries missing at it,
/// which "errors" alone would read as a server answering 500s. A fan-out
/// window's error share is the larger of its refused clients' and its missing
/// deliveries' (they do not add up).
fn error_kinds(o: &Observed, unit: RateUnit) -> String {
    let answered = o.answered_error_rate.clamp(0.0, o.error_rate);
    let unanswered = o.error_rate - answered;
    let some = |share: f64| share * 100.0 >= 0.005;
    match (unit, some(answered), some(unanswered)) {
        (RateUnit::Requests, _, false) => String::new(),
        (RateUnit::Requests, false, true) => " (all unanswered by the cutoff or timed out)".into(),
        (RateUnit::Requests, true, true) => format!(
            " ({:.2}% answered or refused with an error, {:.2}% unanswered by the cutoff or timed out)",
            answered * 100.0,
            unanswered * 100.0
        ),
        (RateUnit::Messages, false, false) => String::new(),
        (RateUnit::Messages, true, false) => " (clients the server refused)".into(),
        (RateUnit::Messages, false, true) => " (deliveries missing at the cutoff)".into(),
        (RateUnit::Messages, true, true) => format!(
            " ({:.2}% of the clients refused, {:.2}% of the deliveries missing at the cutoff)",
            answered * 100.0,
            o.error_rate * 100.0
        ),
    }
}

/// Judge one window against its target and the SLO: the verdict and why.
/// `unit` is what the rate counts.
///
/// A window the machine stalled, or the generator limited, says nothing about
/// the server, unless the server answered most of it with errors (statuses,
/// resets, refusals: [`is_failing`]): late or bunched sends slow a server, they
/// do not make it answer 500, so such a window fails as the server's.
pub fn judge(o: &Observed, target: f64, slo_p99_ms: f64, unit: RateUnit) -> Judgement {
    let failing = is_failing(o.answered_error_rate);
    let not_the_servers = |verdict, why: &String| Judgement {
        verdict,
        reasons: vec![why.clone()],
        pause: None,
    };
    if let Some(why) = o.stalled.as_ref().filter(|_| !failing) {
        return not_the_servers(StepVerdict::Stalled, why);
    }
    if let Some(why) = o.generator_limited.as_ref().filter(|_| !failing) {
        return not_the_servers(StepVerdict::GeneratorLimited, why);
    }
    let mut reasons = Vec::new();
    if o.p99_ms > slo_p99_ms {
        reasons.push(format!("p99 {:.1} ms > {slo_p99_ms:.0} ms", o.p99_ms));
    }
    if o.error_rate > MAX_ERROR_RATE {
        reasons.push(format!(
            "{:.2}% errors > {:.1}%{}",
            o.error_rate * 100.0,
            MAX_ERROR_RATE * 100.0,
            error_kinds(o, unit)
        ));
    }
    let secs = o.duration.as_secs_f64().max(1e-3);
    // The achieved rate counts answers that arrived inside the window: a
    // latency that ends the window higher than it began leaves that rise's
    // answers past its end, though the server kept up. A rise within the
    // latency's own spread is no shortfall (only that: a laxer rule passes
    // short windows above the capacity, and the long ones then step down).
    let edge = o.trend.map_or(0.0, |t| t.spread_ms() / 1000.0);
    let short = o.achieved < MIN_ACHIEVED_RATIO * target - (1.0 + target * edge) / secs;
    if short {
        reasons.push(format!(
            "achieved {:.0} of {target:.0} {unit} (< {:.0}%)",
            o.achieved,
            MIN_ACHIEVED_RATIO * 100.0
        ));
    }
    let backlog = o
        .trend
        .and_then(|t| backlog_grew(&t, slo_p99_ms, o.duration));
    let grew = backlog.is_some();
    reasons.extend(backlog);
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
    let verdict = if reasons.is_empty() {
        StepVerdict::Pass
    } else {
        StepVerdict::Fail
    };
    // The achieved rule's reason and the backlog's, and no other.
    let only = reasons.len() == usize::from(short) + usize::from(grew);
    let pause = match (short, grew) {
        _ if !only => None,
        (_, true) => o.trend.filter(|t| !steady_rise(t)).map(|_| Pause::Backlog),
        (true, false) => Some(Pause::Shortfall(
            (1.0 - o.achieved / target.max(1e-9)).max(0.0) * secs,
        )),
        (false, false) => None,
    };
    Judgement {
        verdict,
        pause,
        reasons,
    }
}

/// Corrected latency of each third of a window, by intended send time
/// (censored overloads included).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Thirds {
    pub p50_ms: [f64; 3],
    pub p90_ms: [f64; 3],
}

impl Thirds {
    /// The first third's spread, p90 − p50: how far the latency already
    /// varied before any growth.
    pub fn spread_ms(&self) -> f64 {
        (self.p90_ms[0] - self.p50_ms[0]).max(0.0)
    }
}

/// A growing backlog: the median corrected latency of the window's last third
/// exceeds its first third's by more than 5% of the SLO, a quarter of the
/// first third's median, 1 ms, what 0.5% of overload adds over the thirds'
/// span, and the first third's own spread (its p90 − p50).
pub fn backlog_grew(t: &Thirds, slo_p99_ms: f64, window: Duration) -> Option<String> {
    let [first, _, last] = t.p50_ms;
    (last - first > backlog_margin_ms(t, slo_p99_ms, window)).then(|| {
        format!("backlog grew: median latency {first:.1} → {last:.1} ms across the window")
    })
}

/// How far a window's median may rise from its first third to its last before
/// the backlog counts as growing (see [`backlog_grew`]).
///
/// An overload ε = (R − C)/C adds about ε × t of queueing delay after t
/// seconds, so this sees 1.5% of overload in a 0.5 s window and 0.5% in a long
/// one, where a p99 would need far more. A median moves only when most of a
/// third is delayed: a short pause does not move it. A long window does not
/// fail on a lesser rise: a second's dip in the server's speed late in it
/// raises its last third though the server held the rate over the window.
/// A server whose requests vary in cost (`cpu-mixed`'s heavy tenth) has a
/// queue that swings by about its latency's spread from one third of a short
/// window to the next without growing; an overload's rise outgrows that
/// spread, which it widens by only a fifth of the rise.
fn backlog_margin_ms(t: &Thirds, slo_p99_ms: f64, window: Duration) -> f64 {
    let first = t.p50_ms[0];
    let span_ms = window.as_secs_f64() * 2.0 / 3.0 * 1000.0;
    (0.05 * slo_p99_ms)
        .max(0.25 * first)
        .max(1.0)
        .max(MIN_OVERLOAD * span_ms)
        .max(t.spread_ms())
}

/// The least overload a long window's rising median is taken for (0.5%,
/// a sixth of the standard profile's resolution).
pub(super) const MIN_OVERLOAD: f64 = 0.005;
