//! The search's end when no rate passed: a slow server has no capacity (a 0),
//! a failing one (answering mostly with errors) is no sample, through a
//! stalling machine and a search cut short too; on tokio's paused clock.

use std::time::Duration;

use super::tests::{cfg, search};
use super::*;
use crate::suite::fakes::ServerModel;
use crate::workload::{RateUnit, Workload};

#[tokio::test(start_paused = true)]
async fn a_server_that_never_meets_the_slo_has_no_capacity() {
    let mut c = cfg(Workload::Json);
    c.budget = Duration::from_secs(60); // low-rate windows last up to 5 s
    let out = search(ServerModel::knee(0.1), &c).await;
    assert_eq!(out.outcome, TrialOutcome::NoCapacity);
    assert_eq!(out.capacity, None);
    assert_eq!(out.outcome.sample(out.capacity), Some(0.0), "a 0 sample");
    assert!(out.steps.iter().all(|s| !s.pass()));
    assert!(out.note.unwrap().contains("fails the SLO"));
}

/// A fast server that answers every request with an error, at every rate, is
/// failing: no capacity and no sample, the lowest window's errors its reason.
#[tokio::test(start_paused = true)]
async fn a_server_that_answers_only_errors_is_failing_not_slow() {
    let mut c = cfg(Workload::Json);
    c.budget = Duration::from_secs(60); // low-rate windows last up to 5 s
    let out = search(ServerModel::knee(1e9).with_errors_above(0.0, 1.0), &c).await;
    assert_eq!(out.outcome, TrialOutcome::Failing, "{out:?}");
    assert_eq!(out.capacity, None);
    assert_eq!(out.outcome.sample(out.capacity), None, "not a sample");
    assert!(!out.outcome.is_sample());
    assert!(out.steps.iter().all(|s| !s.pass()));
    let lowest = out
        .steps
        .iter()
        .map(|s| s.target_rps)
        .fold(f64::MAX, f64::min);
    assert_eq!(lowest, c.min_rps);
    let note = out.note.unwrap();
    // The fake counts its errors beside its answers: half of all requests.
    assert!(
        note.starts_with("answered 50% of its requests with errors even at 1.0 req/s ("),
        "{note}"
    );
    assert!(note.contains("the server is failing, not slow"), "{note}");
}

/// A failing server on a stalling machine is still failing: the machine held
/// every window's sends up, but the server answered them with errors, which no
/// stall causes. Without the rule the trial ended machine-noisy (seen in a
/// real run: a server answering 500 behind 35% steal).
#[tokio::test(start_paused = true)]
async fn a_failing_server_is_failing_on_a_stalling_machine_too() {
    let mut c = cfg(Workload::Json);
    c.budget = Duration::from_secs(60);
    let model = ServerModel::knee(1e9)
        .with_errors_above(0.0, 1.0)
        .with_stalls(1.0);
    let out = search(model, &c).await;
    assert_eq!(out.outcome, TrialOutcome::Failing, "{out:?}");
    assert!(
        out.steps.iter().all(|s| s.verdict == StepVerdict::Fail),
        "{:?}",
        out.steps
    );
    assert!(
        out.steps[0]
            .reasons
            .iter()
            .any(|r| r.starts_with("the server's errors, though ")),
        "{:?}",
        out.steps[0].reasons
    );
    // A stalled window of a server answering few errors is still the machine's.
    let model = ServerModel::knee(1e9)
        .with_errors_above(0.0, 0.2)
        .with_stalls(1.0);
    let out = search(model, &c).await;
    assert_eq!(out.outcome, TrialOutcome::MachineNoisy, "{out:?}");
}

/// A search cut short before the lowest rate (low rates need long windows;
/// a scaled-down run's budget ends first) is still a failing server's when it
/// answered every window mostly with errors; one that passed a rate is not.
#[tokio::test(start_paused = true)]
async fn a_failing_server_cut_short_is_failing_not_truncated() {
    let mut c = cfg(Workload::Json);
    c.budget = Duration::from_secs(3);
    let out = search(ServerModel::knee(1e9).with_errors_above(0.0, 1.0), &c).await;
    assert_eq!(out.outcome, TrialOutcome::Failing, "{out:?}");
    let note = out.note.unwrap();
    assert!(
        note.contains("with errors at every rate tried, down to ")
            && note.contains("when the search stopped at its"),
        "{note}"
    );
    assert!(
        out.steps.iter().all(|s| s.target_rps > c.min_rps),
        "cut short"
    );
    // Errors only above 500 req/s: a rate passed, so a search cut short
    // before any failed is truncated, and one cut short with a bracket is
    // decided by long windows.
    let mut c = cfg(Workload::Json);
    c.max_steps = 2;
    c.start_rps = 100.0;
    let server = || ServerModel::knee(1e9).with_errors_above(500.0, 1.0);
    let out = search(server(), &c).await;
    assert_eq!(out.outcome, TrialOutcome::Truncated, "{out:?}");
    c.max_steps = 3;
    let out = search(server(), &c).await;
    assert_eq!(out.outcome, TrialOutcome::Confirmed, "{out:?}");
    let capacity = out.capacity.unwrap();
    assert!((475.0..=500.0).contains(&capacity), "{out:?}");
}

/// A server that answers with errors at every rate is failing, named with
/// the lowest window's reasons; a slow one keeps "fails the SLO", even when
/// its window, stopped early, left most requests unanswered (overload).
#[test]
fn nothing_passed_tells_a_failing_server_from_a_slow_one() {
    let step = |target_rps: f64, error_rate: f64, reasons: &[&str]| SearchStep {
        index: 0,
        phase: StepPhase::Ramp,
        target_rps,
        achieved_rps: 0.0,
        p99_ms: 5.0,
        error_rate,
        verdict: StepVerdict::Fail,
        duration_s: 0.5,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    };
    let failing = [
        step(50.0, 1.0, &["100.00% errors > 0.1%"]),
        step(1.0, 1.0, &["100.00% errors > 0.1%"]),
    ];
    let (outcome, why) = nothing_passed(&failing, &[1.0, 1.0], 1.0, RateUnit::Requests);
    assert_eq!(outcome, TrialOutcome::Failing);
    assert!(
        why.starts_with(
            "answered 100% of its requests with errors even at 1.0 req/s (100.00% errors"
        ),
        "{why}"
    );
    assert!(why.contains("failing, not slow"), "{why}");
    // A room's answered errors are the clients it refused.
    let (_, why) = nothing_passed(&failing, &[1.0, 1.0], 1.0, RateUnit::Messages);
    assert!(
        why.starts_with("refused 100% of its clients even at 1.0 msg/s"),
        "{why}"
    );
    // The rule is the lowest failed window's: answered errors at 50% are
    // failing, just under are not.
    let one = [step(1.0, FAILING_ERROR_RATE, &[])];
    assert_eq!(
        nothing_passed(&one, &[FAILING_ERROR_RATE], 1.0, RateUnit::Requests).0,
        TrialOutcome::Failing
    );
    let two = [step(1.0, 0.49, &[]), step(4.0, 1.0, &[])];
    assert_eq!(
        nothing_passed(&two, &[0.49, 1.0], 1.0, RateUnit::Requests).0,
        TrialOutcome::NoCapacity
    );
    // 90% errors, all of them requests unanswered at an early stop: slow.
    let stopped = [step(
        1.0,
        0.9,
        &["90.00% errors > 0.1%", "p99 2000.0 ms > 100 ms"],
    )];
    let (outcome, why) = nothing_passed(&stopped, &[0.0], 1.0, RateUnit::Requests);
    assert_eq!(outcome, TrialOutcome::NoCapacity, "{why}");
    assert!(why.starts_with("fails the SLO even at 1.0 req/s"), "{why}");
    let slow = [step(1.0, 0.0, &["p99 180.0 ms > 100 ms"])];
    assert_eq!(
        nothing_passed(&slow, &[0.0], 1.0, RateUnit::Requests),
        (
            TrialOutcome::NoCapacity,
            "fails the SLO even at 1.0 req/s (p99 180.0 ms > 100 ms)".to_string()
        )
    );
    assert_eq!(
        nothing_passed(&[], &[], 1.0, RateUnit::Requests),
        (
            TrialOutcome::NoCapacity,
            "fails the SLO even at 1.0 req/s".to_string()
        )
    );
}
