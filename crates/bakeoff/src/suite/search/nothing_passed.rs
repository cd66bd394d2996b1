//! How a search ends when even its lowest rate failed: a server that answered
//! mostly with errors is failing, not slow ([`TrialOutcome::Failing`], no
//! sample); any other is [`TrialOutcome::NoCapacity`], a 0 sample.

use crate::model::{SearchStep, StepVerdict, TrialOutcome};
use crate::workload::RateUnit;

/// A window in which the server answered at least this share of its requests
/// with errors is a failing server's.
pub const FAILING_ERROR_RATE: f64 = 0.5;

/// Whether the server of a window was failing rather than slow, from the
/// share of its requests it answered or refused with an error. Timeouts and
/// requests unanswered at the cutoff do not count: a slow server's window,
/// stopped early with its p99 decided, may leave most of them unanswered.
pub fn is_failing(answered_error_rate: f64) -> bool {
    answered_error_rate >= FAILING_ERROR_RATE
}

/// The outcome and reason of a search no rate passed, from its lowest failed
/// window (none: `min_rps` was never reached). `answered[i]` is step `i`'s
/// share of requests the server answered with errors; `unit` what a rate counts.
pub(super) fn nothing_passed(
    steps: &[SearchStep],
    answered: &[f64],
    min_rps: f64,
    unit: RateUnit,
) -> (TrialOutcome, String) {
    let lowest = with_answered(steps, answered)
        .filter(|(s, _)| s.verdict == StepVerdict::Fail)
        .min_by(|(a, _), (b, _)| a.target_rps.total_cmp(&b.target_rps));
    let Some((step, answered)) = lowest else {
        return (
            TrialOutcome::NoCapacity,
            format!("fails the SLO even at {min_rps:.1} {unit}"),
        );
    };
    let why = step.reasons.join("; ");
    if is_failing(answered) {
        let why = format!(
            "{} even at {:.1} {unit} ({why}): the server is failing, not slow; its log may say why",
            failed(answered, unit),
            step.target_rps
        );
        (TrialOutcome::Failing, why)
    } else {
        let why = format!(
            "fails the SLO even at {:.1} {unit} ({why})",
            step.target_rps
        );
        (TrialOutcome::NoCapacity, why)
    }
}

/// A search cut short (`stopped`: its time or window limit) before any rate
/// passed is a failing server's when the server answered every window it was
/// judged on mostly with errors: the note says so, not only that time ran
/// out. Low rates need long windows to hold a few requests, so a scaled-down
/// run's limit may stop the step down before the lowest rate.
pub(super) fn failing_when_cut_short(
    steps: &[SearchStep],
    answered: &[f64],
    unit: RateUnit,
    stopped: &str,
) -> Option<String> {
    let judged: Vec<(&SearchStep, f64)> = with_answered(steps, answered)
        .filter(|(s, _)| matches!(s.verdict, StepVerdict::Fail | StepVerdict::Pass))
        .collect();
    let failing = !judged.is_empty()
        && judged
            .iter()
            .all(|(s, a)| s.verdict == StepVerdict::Fail && is_failing(*a));
    let (lowest, share) = judged
        .iter()
        .min_by(|(a, _), (b, _)| a.target_rps.total_cmp(&b.target_rps))
        .filter(|_| failing)?;
    Some(format!(
        "{} at every rate tried, down to {:.1} {unit}, when {stopped}: the server is failing, not slow; its log may say why",
        failed(*share, unit),
        lowest.target_rps
    ))
}

/// "answered 100% of its requests with errors", or for fan-out "refused 100%
/// of its clients" (what [`is_failing`] reads of a room).
fn failed(share: f64, unit: RateUnit) -> String {
    let pct = share * 100.0;
    match unit {
        RateUnit::Requests => format!("answered {pct:.0}% of its requests with errors"),
        RateUnit::Messages => format!("refused {pct:.0}% of its clients"),
    }
}

/// Each step with its share of requests answered with errors (0 past the
/// shares recorded).
fn with_answered<'a>(
    steps: &'a [SearchStep],
    answered: &'a [f64],
) -> impl Iterator<Item = (&'a SearchStep, f64)> {
    steps
        .iter()
        .zip(answered.iter().copied().chain(std::iter::repeat(0.0)))
}
