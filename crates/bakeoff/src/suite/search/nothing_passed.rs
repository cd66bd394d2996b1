//! How a search ends when even its lowest rate failed: a server that answered
//! mostly with errors is failing, not slow ([`TrialOutcome::Failing`], no
//! sample); any other is [`TrialOutcome::NoCapacity`], a 0 sample.

use crate::model::{SearchStep, StepVerdict, TrialOutcome};

/// A window with at least this share of errors is a failing server's.
pub const FAILING_ERROR_RATE: f64 = 0.5;

/// Whether the server of this window was failing rather than slow: it
/// answered at least [`FAILING_ERROR_RATE`] of its requests with errors.
pub fn is_failing(step: &SearchStep) -> bool {
    step.error_rate >= FAILING_ERROR_RATE
}

/// The outcome and reason of a search no rate passed, from its lowest failed
/// window (none: `min_rps` was never reached).
pub(super) fn nothing_passed(steps: &[SearchStep], min_rps: f64) -> (TrialOutcome, String) {
    let lowest = steps
        .iter()
        .filter(|s| s.verdict == StepVerdict::Fail)
        .min_by(|a, b| a.target_rps.total_cmp(&b.target_rps));
    let Some(step) = lowest else {
        return (
            TrialOutcome::NoCapacity,
            format!("fails the SLO even at {min_rps:.1} req/s"),
        );
    };
    let why = step.reasons.join("; ");
    if is_failing(step) {
        let why = format!(
            "answered {:.0}% of its requests with errors even at {:.1} req/s ({why}): the server is failing, not slow; its log may say why",
            step.error_rate * 100.0,
            step.target_rps
        );
        (TrialOutcome::Failing, why)
    } else {
        let why = format!("fails the SLO even at {:.1} req/s ({why})", step.target_rps);
        (TrialOutcome::NoCapacity, why)
    }
}
