//! Tests of the final launch's windows ([`super::runner`]'s equal-load window
//! and WebSocket points) under a stalling machine, with the fakes on tokio's
//! paused clock.

use tokio_util::sync::CancellationToken;

use super::fakes::FAKE_STALL;
use super::plan::tests::spec;
use super::runner_tests::{fc, plan, Harness};
use super::WindowPurpose;
use crate::model::Flag;

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
