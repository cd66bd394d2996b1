//! The search's bounds on paused-clock fakes: a search cut short by its
//! window or time limit, the long windows' budget, and the climb back above a
//! long window that held.

use super::tests::{cfg, check, long_windows, search, within_confirm_budget};
use super::*;
use crate::suite::fakes::ServerModel;
use crate::workload::Workload;

/// Above a long window that held: two resolutions at most after a step that
/// landed on an estimate, unless a second pass in a row shows the estimate
/// was low (a dip during the failed window, or a burst of errors that read as
/// a fast-growing queue: python-fastapi `db` stepped down from 3,830 to 1,214
/// req/s in a quick run and climbed 16% a window to 2,551, truncated); then,
/// and after a blind step, bisection.
#[test]
fn a_low_estimate_is_climbed_back_by_bisection() {
    let res = 0.03;
    // First pass after an estimate: two resolutions.
    let next = climb(1_214.0, 3_830.0, res, false, 1);
    assert!((next / 1_214.0 - 1.06).abs() < 1e-9, "{next}");
    // Second pass in a row: halfway (geometrically) to the failure.
    let next = climb(1_287.0, 3_830.0, res, false, 2);
    assert!(
        (next - (1_287.0f64 * 3_830.0).sqrt()).abs() < 1e-6,
        "{next}"
    );
    // After a blind step, bisection from the first pass.
    let next = climb(1_214.0, 3_830.0, res, true, 1);
    assert!(
        (next - (1_214.0f64 * 3_830.0).sqrt()).abs() < 1e-6,
        "{next}"
    );
    // Near the failure, two resolutions is already past the midpoint.
    let next = climb(1_000.0, 1_050.0, res, false, 1);
    assert!(
        (next - (1_000.0f64 * 1_050.0).sqrt()).abs() < 1e-6,
        "{next}"
    );
    // From 1,214 to within 3% of 3,830: the long windows it takes.
    let windows = |mut rate: f64| {
        let mut n = 1;
        while 3_830.0 / rate > 1.0 + res {
            rate = climb(rate, 3_830.0, res, false, n);
            n += 1;
        }
        n
    };
    assert!(windows(1_214.0) <= 8, "{}", windows(1_214.0));
}

/// Out of long windows with a bracket still wider than the resolution: the
/// trial is truncated, with the rate that held a long window as its lower bound.
#[tokio::test(start_paused = true)]
async fn out_of_long_windows_is_truncated_with_the_long_pass_as_a_lower_bound() {
    let mut c = cfg(Workload::Json);
    c.max_confirms = 2;
    // Short windows that use their whole budget leave the long ones no more.
    c.budget = Duration::from_secs(6);
    let out = search(ServerModel::knee(1_000.0).with_fade(1.0, 0.6), &c).await;
    assert_eq!(out.outcome, TrialOutcome::Truncated, "{:?}", out.steps);
    let long = long_windows(&out);
    within_confirm_budget(&out, &c);
    assert!(long.len() >= 2, "{:?}", out.steps);
    match out.capacity {
        Some(low) => assert!(long.iter().any(|s| s.pass() && s.target_rps == low)),
        None => assert!(long.iter().all(|s| !s.pass())),
    }
    assert!(out.note.unwrap().contains("confirmation window"));
}

#[tokio::test(start_paused = true)]
async fn bounded_by_time_and_flagged_as_truncated() {
    let mut c = cfg(Workload::Json);
    c.budget = Duration::from_secs(3);
    // Every window passed: no bracket, a lower bound.
    c.max_rps = 1e12;
    let started = Instant::now();
    let out = search(ServerModel::knee(1e12), &c).await;
    assert!(started.elapsed() <= c.worst_case());
    assert_eq!(out.outcome, TrialOutcome::Truncated, "{out:?}");
    assert!(out.note.unwrap().contains("time limit"));
    assert!(out.steps.iter().all(|s| s.phase != StepPhase::Confirm));
    // A bracket when the time ran out: long windows decide, in the planned time.
    c.max_rps = 1e6;
    let started = Instant::now();
    let out = search(ServerModel::mm1(20_000.0), &c).await;
    assert!(started.elapsed() <= c.worst_case());
    check(&out, 20_000.0, 16);
}

#[tokio::test(start_paused = true)]
async fn bounded_by_steps() {
    let mut c = cfg(Workload::Json);
    c.max_steps = 3;
    let out = search(ServerModel::mm1(20_000.0), &c).await;
    assert_eq!(out.steps.len(), 3);
    assert!(out.steps.iter().all(|s| s.verdict == StepVerdict::Pass));
    assert_eq!(out.outcome, TrialOutcome::Truncated);
    assert!(out.note.unwrap().contains("limit of 3 windows"));
}

/// A search whose window limit came with a passing and a failing rate, the
/// bracket still wider than the resolution, is decided by long windows: a
/// confirmed capacity, not a truncated lower bound.
#[tokio::test(start_paused = true)]
async fn a_bracket_cut_short_is_confirmed() {
    let capacity = 5_000.0;
    for max_steps in [4, 5, 6] {
        let mut c = cfg(Workload::Json);
        c.max_steps = max_steps;
        let out = search(ServerModel::mm1(capacity), &c).await;
        let short: Vec<_> = out
            .steps
            .iter()
            .filter(|s| s.phase != StepPhase::Confirm)
            .collect();
        assert_eq!(short.len(), max_steps as usize, "{:?}", out.steps);
        let passed = short.iter().filter(|s| s.verdict == StepVerdict::Pass);
        let failed = short.iter().filter(|s| s.verdict == StepVerdict::Fail);
        let (lo, hi) = (
            passed.map(|s| s.target_rps).fold(0.0, f64::max),
            failed.map(|s| s.target_rps).fold(f64::INFINITY, f64::min),
        );
        assert!(
            hi / lo > 1.0 + c.resolution,
            "the bracket was open: {lo}–{hi}"
        );
        check(
            &out,
            capacity,
            max_steps as usize + 2 * c.max_confirms as usize,
        );
    }
}
