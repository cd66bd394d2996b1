//! Tests of the final launch's windows ([`super::runner`]'s equal-load window
//! and WebSocket points) under a stalling machine, with the fakes on tokio's
//! paused clock.

use tokio_util::sync::CancellationToken;

use super::fakes::{FakeContender, ServerModel, FAKE_STALL};
use super::plan::tests::spec;
use super::runner_tests::{fc, plan, Harness};
use super::WindowPurpose;
use crate::model::{Flag, StepVerdict};

/// Equal-load windows the fake driver ran for contender `a` (the warm-up's too).
fn equal_windows(h: &Harness) -> usize {
    let w = h.world.lock().unwrap();
    w.windows
        .iter()
        .filter(|l| l.contender == "a" && l.purpose == Some(WindowPurpose::EqualLoad))
        .count()
}

/// A stalled equal-load window is run again, each attempt noted; a clean one
/// stands for the cell, which is not flagged.
#[tokio::test(start_paused = true)]
async fn a_stalled_equal_load_window_is_run_again() {
    let mut a = fc(800.0);
    // The warm-up window and the first measured one.
    a.stall_equal_load = 2;
    let mut h = Harness::new(vec![("a", a)]);
    let p = plan(vec![spec("a")], &["json"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    assert_eq!(equal_windows(&h), 3, "warm-up, stalled, clean");
    let c = h.cell("a", "json");
    assert!(!c.flags.contains(&Flag::EqualLoadStalled), "{:?}", c.flags);
    let stalls: Vec<&String> = c.notes.iter().filter(|n| n.contains("stalled")).collect();
    assert_eq!(stalls.len(), 1, "{:?}", c.notes);
    assert!(
        stalls[0].contains("attempt 1 of 2, stalled: ") && stalls[0].ends_with(FAKE_STALL),
        "{stalls:?}"
    );
    assert!(c.verdict_equal_load().is_some());
}

/// When every attempt stalls, the cell's equal-load figures are flagged and
/// left out of verdicts; every attempt is noted.
#[tokio::test(start_paused = true)]
async fn an_equal_load_window_that_never_runs_clean_is_flagged() {
    let mut a = fc(800.0);
    a.stall_equal_load = u32::MAX;
    let mut h = Harness::new(vec![("a", a)]);
    let p = plan(vec![spec("a")], &["json"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let attempts = p.phases.max_retries as usize + 1;
    assert_eq!(equal_windows(&h), 1 + attempts);
    let c = h.cell("a", "json");
    assert!(c.flags.contains(&Flag::EqualLoadStalled), "{:?}", c.flags);
    let noted = c.notes.iter().filter(|n| n.contains(", stalled: ")).count();
    assert_eq!(noted, attempts, "{:?}", c.notes);
    assert!(
        c.notes.iter().any(|n| n.ends_with(&format!(
            "had no clean run in {attempts} attempts: the machine stalled each"
        ))),
        "{:?}",
        c.notes
    );
    assert!(c.equal_load.is_some(), "the figures are kept, flagged");
    assert!(c.verdict_equal_load().is_none());
}

/// A stalled WebSocket point is run again, and flagged when it never runs clean.
#[tokio::test(start_paused = true)]
async fn stalled_ws_points_are_run_again_and_flagged() {
    let mut a = fc(800.0);
    a.stall_ws = 1;
    let mut h = Harness::new(vec![("a", a)]);
    let p = plan(vec![spec("a")], &["ws"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let ws = h.cell("a", "ws");
    assert_eq!(ws.ws.len(), 2, "both client counts measured");
    assert!(
        !ws.flags.contains(&Flag::EqualLoadStalled),
        "{:?}",
        ws.flags
    );
    assert_eq!(
        ws.notes
            .iter()
            .filter(|n| n.contains(", stalled: "))
            .count(),
        1,
        "{:?}",
        ws.notes
    );

    let mut a = fc(800.0);
    a.stall_ws = u32::MAX;
    let mut h = Harness::new(vec![("a", a)]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let ws = h.cell("a", "ws");
    assert!(ws.flags.contains(&Flag::EqualLoadStalled), "{:?}", ws.flags);
}

/// A contender whose every search window the machine stalled has no capacity
/// and no failed window: the equal-load rate is set without it (half of the
/// other's capacity), and its figures there are flagged and left out of
/// verdicts; the measured contender's are not.
#[tokio::test(start_paused = true)]
async fn an_equal_load_rate_set_without_a_contenders_capacity_is_flagged() {
    let mut b = fc(300.0);
    b.stall_search = true;
    let mut h = Harness::new(vec![("a", fc(800.0)), ("b", b)]);
    let p = plan(vec![spec("a"), spec("b")], &["json"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let b = h.cell("b", "json");
    assert_eq!(b.capacity, None, "{:?}", b.trials);
    let el = b.equal_load.as_ref().expect("its window still runs");
    assert!(
        el.target_rps > 300.0,
        "past b's capacity: {}",
        el.target_rps
    );
    assert!(b.flags.contains(&Flag::EqualLoadUnbased), "{:?}", b.flags);
    let note = format!(
        "the equal-load rate {} req/s was set without this contender's capacity (no clean trial); it may be above what it sustains",
        el.target_rps
    );
    assert!(b.notes.contains(&note), "{:?}", b.notes);
    assert!(b.verdict_equal_load().is_none());
    assert!(crate::verdict::unsteady(b).is_some());
    let a = h.cell("a", "json");
    assert!(!a.flags.contains(&Flag::EqualLoadUnbased), "{:?}", a.flags);
    assert!(a.verdict_equal_load().is_some());
}

/// A contender that met the SLO at no rate (capacity 0) does not lower the
/// equal-load rate, and its window there is above what it sustains: flagged,
/// its figures out of verdicts, the note saying why.
#[tokio::test(start_paused = true)]
async fn a_contender_without_a_rate_meeting_the_slo_is_flagged_at_equal_load() {
    let mut h = Harness::new(vec![
        ("a", fc(800.0)),
        ("b", FakeContender::new(ServerModel::knee(0.1))),
    ]);
    let p = plan(vec![spec("a"), spec("b")], &["json"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let b = h.cell("b", "json");
    assert_eq!(
        b.capacity.as_ref().map(|e| e.center()),
        Some(0.0),
        "{:?}",
        b.trials
    );
    let rate = b
        .equal_load
        .as_ref()
        .expect("its window still runs")
        .target_rps;
    assert!(rate >= 200.0, "half of a's capacity, not b's floor: {rate}");
    assert!(b.flags.contains(&Flag::EqualLoadUnbased), "{:?}", b.flags);
    let note = format!(
        "the equal-load rate {rate} req/s is above what this contender sustains: its clean trials met the SLO at no rate"
    );
    assert!(b.notes.contains(&note), "{:?}", b.notes);
    assert!(b.verdict_equal_load().is_none());
    let a = h.cell("a", "json");
    assert!(!a.flags.contains(&Flag::EqualLoadUnbased), "{:?}", a.flags);
    assert_eq!(a.equal_load.as_ref().unwrap().target_rps, rate);
}

/// A contender whose confirmation windows the machine stalled has no
/// capacity, but its clean search windows failed: the lowest of them bounds
/// the equal-load rate, which then sits below what it sustains, unflagged.
#[tokio::test(start_paused = true)]
async fn a_contenders_failed_clean_windows_bound_the_equal_load_rate() {
    let p = plan(vec![spec("a"), spec("b")], &["json"], 1, &[]);
    let confirm = p.scaled(p.phases.confirm_window).as_secs_f64();
    let b = FakeContender::new(ServerModel::mm1(300.0).with_long_windows_stalled(confirm * 0.9));
    let mut h = Harness::new(vec![("a", fc(800.0)), ("b", b)]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let b = h.cell("b", "json");
    assert_eq!(b.capacity, None, "{:?}", b.trials);
    let failed = b
        .trials
        .iter()
        .flat_map(|t| &t.steps)
        .filter(|s| s.verdict == StepVerdict::Fail)
        .map(|s| s.target_rps)
        .min_by(f64::total_cmp)
        .expect("a clean window failed");
    let rate = b.equal_load.as_ref().unwrap().target_rps;
    assert!(rate <= failed / 2.0 && rate < 300.0, "{rate} for {failed}");
    assert!(!b.flags.contains(&Flag::EqualLoadUnbased), "{:?}", b.flags);
    assert_eq!(
        h.cell("a", "json").equal_load.as_ref().unwrap().target_rps,
        rate
    );
}
