//! The search at the generator's limit, on paused-clock fakes: a limit met
//! in short windows caps the bracket, and only long windows decide what lies
//! below it, a limit met in a long window too.

use super::tests::{cfg, check_between, long_windows, search};
use super::*;
use crate::suite::fakes::ServerModel;
use crate::workload::Workload;

/// A window of the search met the generator's limit (the case is what it says).
fn met_the_generators_limit(out: &SearchOutcome) {
    assert!(
        out.steps
            .iter()
            .any(|s| s.verdict == StepVerdict::GeneratorLimited),
        "no window met the generator's limit: {:?}",
        out.steps
    );
}

/// The trial's lower bound `low` held a long window, and its note says it
/// is one, after why (which names the generator).
fn lower_bound_held_and_told(out: &SearchOutcome, low: f64) {
    assert!(
        long_windows(out)
            .iter()
            .any(|s| s.verdict == StepVerdict::Pass && s.target_rps == low),
        "the bound held a long window: {:?}",
        out.steps
    );
    let note = out.note.as_deref().unwrap_or_default();
    assert!(note.contains("generator"), "{note}");
    assert!(
        note.ends_with(&format!(
            "the capacity is at least {low:.0} req/s, the highest rate that held a confirmation window"
        )),
        "{note}"
    );
}

/// A generator that holds short bursts but not a long window's rate: the
/// long windows step below it, and the trial ends generator-limited with the
/// rate that held one as its lower bound (before, it ended with none).
#[tokio::test(start_paused = true)]
async fn a_generator_that_cannot_hold_a_long_window_leaves_a_lower_bound() {
    let c = cfg(Workload::Json);
    let model = ServerModel::knee(1_000.0).with_generator_limit_in_long_windows(800.0, 2.0);
    let out = search(model, &c).await;
    assert_eq!(
        out.outcome,
        TrialOutcome::GeneratorLimited,
        "{:?}",
        out.steps
    );
    let long = long_windows(&out);
    assert_eq!(long[0].verdict, StepVerdict::GeneratorLimited, "{long:?}");
    let low = out
        .capacity
        .expect("a rate below the generator's limit held");
    assert!(
        (800.0 / (1.0 + c.resolution).powi(2)..=800.0).contains(&low),
        "{low}: {long:?}"
    );
    assert!(
        !long.iter().any(|s| s.verdict == StepVerdict::Fail),
        "the server never failed: {long:?}"
    );
    lower_bound_held_and_told(&out, low);
}

/// The generator cannot hold the candidate for a long window, and the server
/// fails a long window below it: that failure is the server's, and the trial
/// a confirmed capacity under it.
#[tokio::test(start_paused = true)]
async fn a_server_failing_below_a_long_windows_generator_limit_is_confirmed() {
    let c = cfg(Workload::Json);
    let model = ServerModel::knee(5_000.0)
        .with_fade(1.0, 0.5)
        .with_generator_limit_in_long_windows(3_000.0, 1.1);
    let out = search(model, &c).await;
    let long = long_windows(&out);
    assert_eq!(long[0].verdict, StepVerdict::GeneratorLimited, "{long:?}");
    assert_eq!(out.outcome, TrialOutcome::Confirmed, "{long:?}");
    let cap = out.capacity.unwrap();
    assert!(
        (2_500.0 / (1.0 + c.resolution) / 1.05..=2_500.0 * 1.02).contains(&cap),
        "{cap}: {long:?}"
    );
}

/// A generator that cannot hold any long window down to the search's floor
/// leaves no lower bound, and the note says so.
#[tokio::test(start_paused = true)]
async fn a_generator_that_holds_no_long_window_leaves_no_lower_bound() {
    let c = cfg(Workload::Json);
    let model = ServerModel::knee(1_000.0).with_generator_limit_in_long_windows(0.0, 2.0);
    let out = search(model, &c).await;
    assert_eq!(
        out.outcome,
        TrialOutcome::GeneratorLimited,
        "{:?}",
        out.steps
    );
    assert_eq!(out.capacity, None, "{:?}", out.steps);
    let note = out.note.unwrap();
    assert!(
        note.ends_with("no lower rate held a confirmation window, so there is no lower bound"),
        "{note}"
    );
}

/// A server faster than the generator: flagged, not failed, and its lower
/// bound is a rate that held a confirmation window.
#[tokio::test(start_paused = true)]
async fn generator_limit_is_flagged_not_failed() {
    let model = ServerModel::knee(1e9).with_generator_limit(3_000.0);
    let out = search(model, &cfg(Workload::Json)).await;
    assert_eq!(out.outcome, TrialOutcome::GeneratorLimited, "{out:?}");
    let cap = out.capacity.unwrap();
    assert!((3_000.0 * 0.95..=3_000.0).contains(&cap), "{cap}");
    lower_bound_held_and_told(&out, cap);
}

/// The generator's limit caps the ramp, but the server fails below it: the
/// bracket is the server's, and the trial a confirmed capacity, not a
/// generator-limited lower bound.
#[tokio::test(start_paused = true)]
async fn a_server_failure_below_the_generators_limit_bounds_the_bracket() {
    let c = cfg(Workload::Json);
    let model = ServerModel::knee(2_000.0).with_generator_limit(3_000.0);
    let out = search(model, &c).await;
    met_the_generators_limit(&out);
    assert_eq!(out.outcome, TrialOutcome::Confirmed, "{:?}", out.steps);
    check_between(
        &out,
        2_000.0 / (1.0 + c.resolution) / 1.02,
        2_000.0 * 1.02,
        20,
    );
}

/// Short windows pass up to the generator's limit, but the server holds
/// only 2,500 req/s for a long window: a short window's pass is no lower
/// bound, and the long windows find the server's capacity below the
/// generator's limit, a confirmed one. (Before, the trial ended
/// generator-limited "at least" the short windows' 2,900 req/s.)
#[tokio::test(start_paused = true)]
async fn a_server_that_fails_a_long_window_below_the_generators_limit_is_measured() {
    let c = cfg(Workload::Json);
    let model = ServerModel::knee(5_000.0)
        .with_fade(1.0, 0.5)
        .with_generator_limit(3_000.0);
    let out = search(model, &c).await;
    met_the_generators_limit(&out);
    assert_eq!(out.outcome, TrialOutcome::Confirmed, "{:?}", out.steps);
    let cap = out.capacity.unwrap();
    assert!(
        (2_500.0 / (1.0 + c.resolution) / 1.05..=2_500.0 * 1.02).contains(&cap),
        "{cap}: {:?}",
        out.steps
    );
    assert!(
        long_windows(&out)
            .iter()
            .any(|s| s.verdict == StepVerdict::Fail && s.target_rps > cap),
        "a long window failed above it: {:?}",
        out.steps
    );
}
