//! The search against synthetic queueing servers, on tokio's paused clock.

use super::*;
use crate::suite::fakes::{FakeDriver, ServerModel};
use crate::suite::plan::Plan;
use crate::suite::windows::HttpWindows;
use crate::workload::{RateUnit, Workload};

pub(super) fn cfg(workload: Workload) -> SearchConfig {
    SearchConfig {
        slo_p99_ms: 100.0,
        start_rps: SearchConfig::start_rate(&workload),
        ramp_factor: 4.0,
        narrow_factor: 2.0,
        min_rps: 1.0,
        max_rps: 1_000_000.0,
        resolution: 0.03,
        max_steps: 16,
        max_retries: 2,
        budget: Duration::from_secs(30),
        first_warmup: Warmup::Adaptive {
            max: Duration::from_secs(2),
        },
        settle: Duration::from_millis(200),
        step_min: Duration::from_millis(500),
        step_max: Duration::from_millis(1500),
        target_requests: 300,
        retest_max: Duration::from_secs(3),
        confirm: Duration::from_secs(5),
        max_confirms: 4,
        max_drain: Duration::from_secs(5),
        deadline: None,
        unit: workload.rate_unit(),
    }
}

pub(super) async fn search_on(driver: &FakeDriver, c: &SearchConfig) -> SearchOutcome {
    let windows = HttpWindows {
        driver,
        contender: "fake",
        base_url: "http://fake",
        workload: Workload::Json,
        database: None,
    };
    let cancel = CancellationToken::new();
    search_capacity(&windows, c, &cancel, &mut |_| {})
        .await
        .unwrap()
}

pub(super) async fn search(model: ServerModel, c: &SearchConfig) -> SearchOutcome {
    search_on(&FakeDriver::new(model), c).await
}

/// Confirmed within 5% of the true capacity and never more than 2% above it.
pub(super) fn check(out: &SearchOutcome, capacity: f64, max_windows: usize) {
    check_between(out, 0.95 * capacity, 1.02 * capacity, max_windows);
}

/// Confirmed at a rate in `min..=max`, in at most `max_windows` windows.
pub(super) fn check_between(out: &SearchOutcome, min: f64, max: f64, max_windows: usize) {
    assert_eq!(out.outcome, TrialOutcome::Confirmed, "{out:?}");
    let got = out.capacity.expect("a confirmed capacity");
    assert!(
        (min..=max).contains(&got),
        "capacity {got:.1} outside {min:.1}–{max:.1}: {:?}",
        out.steps
    );
    assert!(
        out.steps.len() <= max_windows,
        "{} windows: {:?}",
        out.steps.len(),
        out.steps
    );
    for (i, s) in out.steps.iter().enumerate() {
        assert_eq!(s.index as usize, i);
    }
    // The capacity held a long window; the search ended in the long windows.
    assert_eq!(out.steps.last().unwrap().phase, StepPhase::Confirm);
    assert!(out
        .steps
        .iter()
        .any(|s| s.phase == StepPhase::Confirm && s.pass() && s.target_rps == got));
}

/// The confirmation-phase (long) windows of a search, in order.
pub(super) fn long_windows(out: &SearchOutcome) -> Vec<&SearchStep> {
    out.steps
        .iter()
        .filter(|s| s.phase == StepPhase::Confirm)
        .collect()
}

/// The long windows ran at most `max_confirms` windows' worth of time, plus
/// the half window the last may start with, plus what the short windows left
/// of their budget; and twice as many windows at most, plus those.
pub(super) fn within_confirm_budget(out: &SearchOutcome, c: &SearchConfig) {
    let long = long_windows(out);
    let ran: f64 = long.iter().map(|s| s.duration_s).sum();
    let spare = c.budget.as_secs_f64();
    let budget = c.confirm.as_secs_f64() * (f64::from(c.max_confirms) + 0.5) + spare;
    assert!(
        ran <= budget + 1e-6,
        "{ran:.2} s of long windows: {:?}",
        out.steps
    );
    let extra = (spare / c.confirm.as_secs_f64()).ceil() as usize + 1;
    assert!(
        long.len() <= 2 * c.max_confirms as usize + extra,
        "{:?}",
        out.steps
    );
}

#[tokio::test(start_paused = true)]
async fn converges_on_a_sharp_knee_across_decades() {
    for capacity in [30.0, 800.0, 20_000.0] {
        let out = search(ServerModel::knee(capacity), &cfg(Workload::Json)).await;
        check(&out, capacity, 20);
        assert!(out.steps.iter().any(|s| s.phase == StepPhase::Bisect));
    }
}

#[tokio::test(start_paused = true)]
async fn converges_on_a_queue_with_noise() {
    for (i, capacity) in [30.0, 800.0, 20_000.0].into_iter().enumerate() {
        let model = ServerModel::mm1(capacity).with_noise(0.02, 7 + i as u64);
        let out = search(model, &cfg(Workload::Io)).await;
        check(&out, capacity, 20);
    }
}

/// Every bound the bracket closes on is re-tested once: two dips at two
/// rates, each in one short window, leave the search bracketing the
/// capacity, not the second dip (re-testing only the first bound, it ended
/// at about 3,900 of 10,000).
#[tokio::test(start_paused = true)]
async fn each_bound_gets_its_retest() {
    let model = ServerModel::knee(10_000.0).with_dips_above(3_000.0, 2, 0.3);
    let c = SearchConfig {
        max_steps: 32,
        ..cfg(Workload::Json)
    };
    let out = search(model, &c).await;
    check(&out, 10_000.0, 32);
    let retests = out
        .steps
        .iter()
        .filter(|s| s.phase == StepPhase::Retest)
        .count();
    assert_eq!(retests, 2, "{:#?}", out.steps);
    // A server that dips at every new bound gets MAX_RETESTS re-tests, then
    // its bracket closes on a bound that failed once.
    let model = ServerModel::knee(10_000.0).with_dips_above(3_000.0, 12, 0.3);
    let out = search(model, &c).await;
    let retests = out
        .steps
        .iter()
        .filter(|s| s.phase == StepPhase::Retest)
        .count();
    assert_eq!(retests, MAX_RETESTS, "{:#?}", out.steps);
    assert!(out.steps.len() < 32, "{:#?}", out.steps);
}

/// A growing backlog fails a window whose p99 alone would pass: at 4% above
/// the ceiling a one-second window's tail stays far under the SLO.
#[tokio::test(start_paused = true)]
async fn a_growing_backlog_fails_a_window_the_p99_would_pass() {
    let mut model = ServerModel::knee(1_000.0);
    let r = model.window(1_040.0, 0.2, 1.0, 0.2);
    assert!(r.latency.p99 < 100.0, "{:?}", r.latency);
    let o = crate::suite::windows::observed(&r);
    let Judgement {
        verdict, reasons, ..
    } = judge(&o, 1_040.0, 100.0, RateUnit::Requests);
    assert_eq!(verdict, StepVerdict::Fail, "{o:?}");
    assert!(reasons[0].contains("backlog grew"), "{reasons:?}");
    // and a flat one passes
    let mut model = ServerModel::knee(1_000.0);
    let o = crate::suite::windows::observed(&model.window(960.0, 0.2, 1.0, 0.2));
    assert_eq!(
        judge(&o, 960.0, 100.0, RateUnit::Requests).verdict,
        StepVerdict::Pass,
        "{o:?}"
    );
}

/// Thirds with no spread of their own (a server of fixed cost).
fn flat(p50_ms: [f64; 3]) -> Thirds {
    Thirds {
        p50_ms,
        p90_ms: p50_ms,
    }
}

#[test]
fn backlog_growth_needs_more_than_jitter() {
    let short = Duration::from_millis(500);
    assert!(backlog_grew(&flat([5.0, 6.0, 9.0]), 100.0, short).is_none());
    assert!(backlog_grew(&flat([5.0, 9.0, 11.0]), 100.0, short).is_some());
    // A slow base latency needs a proportionally larger rise.
    assert!(backlog_grew(&flat([50.0, 55.0, 62.0]), 100.0, short).is_none());
    assert!(backlog_grew(&flat([50.0, 60.0, 70.0]), 100.0, short).is_some());
    // A long window needs the rise 0.5% of overload makes over its span (in
    // 10 s, 33 ms): a dip late in it raises the last third less.
    let long = Duration::from_secs(10);
    assert!(backlog_grew(&flat([5.0, 15.0, 35.0]), 100.0, long).is_none());
    assert!(backlog_grew(&flat([5.0, 20.0, 40.0]), 100.0, long).is_some());
    // A queue of mixed costs swings by its spread without growing: a rise
    // like python-flask `cpu-mixed`'s in a quick run (median 1.1 → 8.9 ms;
    // the stored steps keep no per-third p90, so the 28 ms spread here is
    // assumed, of the order of its heavy requests) is within it; a rise past
    // the spread is not.
    let mixed = |p50_ms: [f64; 3]| Thirds {
        p50_ms,
        p90_ms: p50_ms.map(|m| m + 28.0),
    };
    assert!(backlog_grew(&mixed([1.1, 4.0, 8.9]), 100.0, short).is_none());
    assert!(backlog_grew(&mixed([1.1, 15.0, 30.0]), 100.0, short).is_some());
}

/// The achieved rate counts answers inside the window: a short window whose
/// latency ends higher than it began, by less than the latency's own spread,
/// falls short by that rise's answers and is no overload; past it, or with no
/// spread to explain it, it is.
#[test]
fn a_rise_within_the_latencys_spread_is_no_shortfall() {
    let window = Duration::from_millis(770);
    let o = |achieved: f64, spread: f64| Observed {
        achieved,
        p50_ms: 5.0,
        p99_ms: 70.0,
        trend: Some(Thirds {
            p50_ms: [1.1, 4.0, 8.9],
            p90_ms: [1.1 + spread, 30.0, 40.0],
        }),
        duration: window,
        ..Observed::default()
    };
    // 252 of 259 req/s: 7 answers, 27 ms of a 259 req/s stream.
    assert_eq!(
        judge(&o(252.0, 28.0), 259.0, 100.0, RateUnit::Requests).verdict,
        StepVerdict::Pass
    );
    // With no spread, the same shortfall fails, and so does the rise itself.
    let Judgement {
        verdict, reasons, ..
    } = judge(&o(248.0, 0.0), 259.0, 100.0, RateUnit::Requests);
    assert_eq!(verdict, StepVerdict::Fail);
    assert!(reasons[0].contains("achieved 248 of 259"), "{reasons:?}");
    assert!(reasons[1].contains("backlog grew"), "{reasons:?}");
    // A shortfall past what the spread explains fails.
    let j = judge(&o(235.0, 28.0), 259.0, 100.0, RateUnit::Requests);
    assert_eq!(j.verdict, StepVerdict::Fail);
    // On that rule alone: it fell 24 answers, 71 ms of the stream, short.
    let Some(Pause::Shortfall(s)) = j.pause else {
        panic!("achieved rule alone: {j:?}")
    };
    assert!((s - (1.0 - 235.0 / 259.0) * 0.77).abs() < 1e-9, "{s}");
    // With a backlog that grew third by third too, it is an overload's.
    assert_eq!(
        judge(&o(248.0, 0.0), 259.0, 100.0, RateUnit::Requests).pause,
        None
    );
    // One that grew in one jump (p99 within the SLO, no errors) may have been
    // a pause late in the window: a backlog's.
    let jump = Observed {
        trend: Some(Thirds {
            p50_ms: [1.1, 1.3, 8.9],
            p90_ms: [1.1, 2.0, 12.0],
        }),
        ..o(248.0, 0.0)
    };
    let j = judge(&jump, 259.0, 100.0, RateUnit::Requests);
    assert!(
        j.reasons.iter().any(|r| r.contains("backlog grew")),
        "{j:?}"
    );
    assert_eq!(j.pause, Some(Pause::Backlog));
    // With the p99 over the SLO, or errors, no pause did it.
    let over = Observed {
        p99_ms: 120.0,
        ..jump
    };
    assert_eq!(judge(&over, 259.0, 100.0, RateUnit::Requests).pause, None);
    let errors = Observed {
        error_rate: 0.01,
        ..o(235.0, 28.0)
    };
    assert_eq!(judge(&errors, 259.0, 100.0, RateUnit::Requests).pause, None);
}

/// A window's errors say what they were when not all were the server's
/// answers: an overloaded window's unanswered requests read as "errors"
/// alone like a server answering 500s.
#[test]
fn a_windows_errors_say_which_were_unanswered() {
    let reason = |error_rate: f64, answered_error_rate: f64| {
        let o = Observed {
            achieved: 100.0,
            p99_ms: 20.0,
            error_rate,
            answered_error_rate,
            duration: Duration::from_secs(1),
            ..Observed::default()
        };
        let j = judge(&o, 100.0, 100.0, RateUnit::Requests);
        assert_eq!(j.verdict, StepVerdict::Fail);
        j.reasons[0].clone()
    };
    assert_eq!(reason(0.05, 0.05), "5.00% errors > 0.1%");
    assert_eq!(
        reason(0.1265, 0.0),
        "12.65% errors > 0.1% (all unanswered by the cutoff or timed out)"
    );
    assert_eq!(
        reason(0.10, 0.03),
        "10.00% errors > 0.1% (3.00% answered or refused with an error, 7.00% unanswered by the cutoff or timed out)"
    );
}

/// The test: capacity noise of up to ±15% between windows and the
/// machine stalling now and then; over many seeds the search lands within 5%
/// of the true capacity, never more than 2% above it, in bounded windows and
/// time.
///
/// The truth is the model's own, not its nominal ceiling. Each second one in
/// twenty draws its ceiling anywhere in ±15%, and a dip queues requests past
/// the SLO, so what the server holds over a long run ([`ServerModel::long_run`])
/// is below the nominal ceiling: a search may not land more than 5% under
/// that. A confirmation window sees a few seconds only, and may meet no dip or
/// a rise: the confirmed rate may not be more than 2% above what that window's
/// own ceilings could sustain ([`ServerModel::realized`]). At most 2% of the
/// searches may end short (truncated, or under 95%), none under 90%.
#[tokio::test(start_paused = true)]
async fn lands_near_the_truth_through_noise_and_stalls_over_many_seeds() {
    let c = cfg(Workload::Json);
    let first: u64 = std::env::var("SEARCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let noisy = |capacity, seed| {
        ServerModel::knee(capacity)
            .with_rare_noise(0.15, 20, seed)
            .with_stalls(0.05)
    };
    let mut worst = (f64::MAX, f64::MIN);
    let mut low = Vec::new();
    let mut searches = 0;
    for capacity in [300.0, 4_000.0] {
        let truth = noisy(capacity, 0).long_run(4_000, 1);
        assert!(
            (0.9..1.0).contains(&(truth / capacity)),
            "long-run capacity {truth:.1} of a nominal {capacity}"
        );
        for seed in first..first + 100 {
            let t0 = Instant::now();
            let driver = FakeDriver::new(noisy(capacity, seed));
            let out = search_on(&driver, &c).await;
            let took = t0.elapsed();
            let realized = driver.realized();
            assert_eq!(realized.len(), out.steps.len(), "a window per step");
            assert!(
                took <= c.worst_case(),
                "seed {seed}: {took:?} > {:?}",
                c.worst_case()
            );
            if out.outcome == TrialOutcome::MachineNoisy {
                continue; // three stalls in a row: told, not judged
            }
            let r = out.capacity.unwrap_or(0.0) / truth;
            // What the window that confirmed it could hold.
            let held = out
                .steps
                .iter()
                .zip(&realized)
                .rev()
                .find(|(s, _)| s.phase == StepPhase::Confirm && s.pass())
                .map_or(truth, |(_, &h)| h);
            if std::env::var("SEARCH_SURVEY").is_ok() {
                eprintln!(
                    "seed {seed} cap {capacity}: {:?} {r:.3} of {truth:.0} (window held {:.3}) in {} windows",
                    out.outcome,
                    held / truth,
                    out.steps.len()
                );
                for (st, real) in out.steps.iter().zip(&realized) {
                    eprintln!(
                        "   {:?} {:.1} (holds {:.3}) p99 {:.1} {:?} {:?}",
                        st.phase,
                        st.target_rps,
                        real / truth,
                        st.p99_ms,
                        st.verdict,
                        st.reasons
                    );
                }
            }
            searches += 1;
            let short = out.outcome == TrialOutcome::Truncated || r < 0.95;
            if short && (0.90..=1.02).contains(&r) {
                low.push((seed, capacity, r));
            } else {
                check_between(&out, 0.95 * truth, 1.02 * held, 40);
            }
            worst = (worst.0.min(r), worst.1.max(r));
        }
    }
    eprintln!(
        "capacity ÷ long-run truth over all seeds: {:.3}–{:.3}; short: {low:?}",
        worst.0, worst.1
    );
    assert!(
        low.len() * 50 <= searches,
        "{} of {searches} searches truncated or below 95%: {low:?}",
        low.len()
    );
}

#[tokio::test(start_paused = true)]
async fn a_stalled_window_is_retried_and_every_attempt_recorded() {
    let out = search(
        ServerModel::knee(800.0).with_stalls(0.3),
        &cfg(Workload::Json),
    )
    .await;
    let stalled = out
        .steps
        .iter()
        .filter(|s| s.verdict == StepVerdict::Stalled)
        .count();
    assert!(stalled > 0, "{:?}", out.steps);
    assert!(out
        .steps
        .iter()
        .filter(|s| s.verdict == StepVerdict::Stalled)
        .all(|s| s.reasons[0].contains("late")));
    // A machine that always stalls gets no verdict at all.
    let out = search(
        ServerModel::knee(800.0).with_stalls(1.0),
        &cfg(Workload::Json),
    )
    .await;
    assert_eq!(out.outcome, TrialOutcome::MachineNoisy, "{out:?}");
    assert_eq!(out.capacity, None);
    assert_eq!(out.steps.len(), 3, "one window and its two retries");
    assert!(out.note.unwrap().contains("no clean window"));
}

/// A candidate that passed a short window but fails the confirmation steps down.
#[tokio::test(start_paused = true)]
async fn a_failed_confirmation_steps_down_and_confirms_again() {
    let mut c = cfg(Workload::Json);
    // 0.3 s windows cannot see a 2% overload; the 5 s confirmation can.
    c.resolution = 0.01;
    c.step_min = Duration::from_millis(300);
    c.step_max = Duration::from_millis(300);
    c.max_confirms = 5;
    let out = search(ServerModel::knee(1_000.0), &c).await;
    let confirms = long_windows(&out);
    assert!(confirms.len() >= 2, "{:?}", out.steps);
    assert!(!confirms[0].pass() && confirms[0].target_rps > 1_000.0);
    assert!(confirms[1].target_rps < confirms[0].target_rps);
    assert_eq!(out.outcome, TrialOutcome::Confirmed);
    // A long window's growing median sees an overload from 0.5% up.
    let got = out.capacity.unwrap();
    assert!((950.0..=1_005.0).contains(&got), "{got}: {:?}", out.steps);
}

/// A server whose throughput wears down after a second of sustained load
/// passes every short window above what it sustains: the long windows search
/// below the failed confirmation and find the sustained capacity.
#[tokio::test(start_paused = true)]
async fn a_server_that_wears_down_is_searched_with_long_windows() {
    for (share, seed) in [(0.85, 1), (0.7, 2), (0.95, 3)] {
        let sustained = 1_000.0 * share;
        let c = cfg(Workload::Json);
        let out = search(ServerModel::knee(1_000.0).with_fade(1.0, share), &c).await;
        assert_eq!(
            out.outcome,
            TrialOutcome::Confirmed,
            "{share}: {:?}",
            out.steps
        );
        let got = out.capacity.unwrap();
        assert!(
            (0.93 * sustained..=1.01 * sustained).contains(&got),
            "{share} (seed {seed}): {got:.0} vs {sustained:.0}: {:?}",
            out.steps
        );
        let long = long_windows(&out);
        within_confirm_budget(&out, &c);
        // The capacity held a long window, and a long window (or the search's
        // bound) failed within the resolution above it.
        assert!(long.iter().any(|s| s.pass() && s.target_rps == got));
        let above = long
            .iter()
            .filter(|s| !s.pass())
            .map(|s| s.target_rps)
            .fold(f64::INFINITY, f64::min);
        assert!(above / got <= 1.0 + c.resolution + 1e-9, "{:?}", out.steps);
    }
}

/// A machine that stalls every long window before one held: machine-noisy,
/// never a truncated "lower bound" of nothing.
#[tokio::test(start_paused = true)]
async fn a_confirmation_the_machine_always_stalls_is_machine_noisy() {
    let c = cfg(Workload::Json);
    let out = search(
        ServerModel::knee(1_000.0).with_long_windows_stalled(2.0),
        &c,
    )
    .await;
    assert_eq!(out.outcome, TrialOutcome::MachineNoisy, "{:?}", out.steps);
    assert_eq!(out.capacity, None);
    let stalled = out
        .steps
        .iter()
        .filter(|s| s.phase == StepPhase::Confirm && s.verdict == StepVerdict::Stalled)
        .count();
    assert_eq!(stalled as u32, c.max_retries + 1, "{:?}", out.steps);
}

/// A machine that turns noisy after a confirmation held, while the search
/// closes the bracket above it: the trial is the machine's (searched again,
/// its cell's clean trials standing), not a truncated lower bound.
#[tokio::test(start_paused = true)]
async fn a_stall_after_a_held_confirmation_is_machine_noisy() {
    let c = cfg(Workload::Json);
    // Long windows fail at the candidate (the server fades), the step down
    // holds, and every long window after those two stalls.
    let model = ServerModel::knee(1_000.0)
        .with_fade(1.0, 0.8)
        .with_long_windows_stalled_after(2.0, 2);
    let out = search(model, &c).await;
    let confirms: Vec<StepVerdict> = out
        .steps
        .iter()
        .filter(|s| s.phase == StepPhase::Confirm)
        .map(|s| s.verdict)
        .collect();
    assert_eq!(
        &confirms[..2],
        [StepVerdict::Fail, StepVerdict::Pass],
        "{:?}",
        out.steps
    );
    assert_eq!(out.outcome, TrialOutcome::MachineNoisy, "{:?}", out.steps);
    assert_eq!(out.capacity, None);
    let note = out.note.unwrap();
    assert!(note.contains("a confirmation window had held"), "{note}");
}

/// The real profiles' settings (time budget included) still converge.
#[tokio::test(start_paused = true)]
async fn converges_under_the_profiles_own_limits() {
    use crate::suite::plan::tests::{opts, spec};
    use crate::suite::plan::Profile;
    for profile in [Profile::Quick, Profile::Standard] {
        let plan = Plan::build(&opts(profile), vec![spec("a")]).unwrap();
        for (w, capacity) in [
            (Workload::Io, 30.0),
            (Workload::Cpu, 30.0),
            (Workload::Json, 800.0),
            (Workload::Json, 20_000.0),
            (Workload::Data, 150.0),
        ] {
            // 1% noise on the ceiling is 2.5% on an M/M/1 capacity of 30.
            let model = ServerModel::mm1(capacity).with_noise(0.01, 3);
            let c = SearchConfig::for_plan(&plan, &w, true);
            let t0 = Instant::now();
            let out = search(model, &c).await;
            // Within the profile's resolution below (quick's is wider than
            // 5%), less the noise's 2.5%; never more than 2% above.
            let min = capacity * (0.975 / (1.0 + c.resolution)).min(0.95);
            let windows = (plan.phases.max_steps + 4) as usize;
            check_between(&out, min, 1.02 * capacity, windows);
            assert!(t0.elapsed() <= c.worst_case());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn errors_fail_a_window() {
    // Fine latency, but 1% errors above 500 rps.
    let out = search(
        ServerModel::knee(1e9).with_errors_above(500.0, 0.01),
        &cfg(Workload::Json),
    )
    .await;
    check(&out, 500.0, 16);
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_before_the_next_window() {
    let driver = FakeDriver::new(ServerModel::knee(800.0));
    let windows = HttpWindows {
        driver: &driver,
        contender: "fake",
        base_url: "http://fake",
        workload: Workload::Json,
        database: None,
    };
    let cancel = CancellationToken::new();
    let c = cfg(Workload::Json);
    let mut n = 0;
    let r = search_capacity(&windows, &c, &cancel, &mut |_| {
        n += 1;
        if n == 2 {
            cancel.cancel();
        }
    })
    .await;
    assert!(matches!(r, Err(DriveError::Cancelled)));
    assert_eq!(driver.windows(), 2);
}

/// A tail just past the SLO steps one resolution; one several times the SLO
/// steps further, and every failure in a row doubles it.
#[test]
fn an_abandoned_step_is_bounded_whatever_the_window_measured() {
    let planned = Duration::from_secs(10);
    for k in 0..12 {
        for p50 in [0.0, 40.0, 99.0, 100.0, 5_000.0, f64::NAN] {
            for secs in [0.0, 0.05, 0.3, 2.0, 9.9] {
                let o = Observed {
                    p50_ms: p50,
                    duration: Duration::from_secs_f64(secs),
                    ..Observed::default()
                };
                let step = abandoned_step(0.03, k, &o, planned, 100.0);
                assert!(
                    (0.03..=0.5).contains(&step),
                    "k {k} p50 {p50} {secs} s: {step}"
                );
            }
        }
    }
    // Decided 2 s in, 60 ms under the SLO at the median: a 3% overload.
    let o = Observed {
        p50_ms: 40.0,
        duration: Duration::from_secs(2),
        ..Observed::default()
    };
    let step = abandoned_step(0.01, 0, &o, planned, 100.0);
    assert!((step - 0.06 / 1.9).abs() < 1e-9, "{step}");
}

/// A window stopped early enough that its slope was fit over a fraction of
/// a second steps by when it stopped, not by that slope: a server's pause
/// reads as a steep queue there (q63: 531 ms per s at 4% over the capacity).
/// From [`MIN_SLOPE_RUN`] the slope estimates the capacity.
#[test]
fn a_slope_fit_over_a_moment_does_not_set_the_step() {
    let window = |secs: f64| Observed {
        p50_ms: 20.0,
        duration: Duration::from_secs_f64(secs),
        abandoned: Some(bakeoff_load::Abandoned {
            planned: Duration::from_secs(5),
            over: 60,
            growth: Some(0.531),
        }),
        ..Observed::default()
    };
    let early = window(0.85);
    let (next, estimated) = step_below(2181.0, &early, 0, 0.08, 100.0);
    let step = abandoned_step(0.08, 0, &early, Duration::from_secs(5), 100.0);
    assert!(!estimated);
    assert!((next - 2181.0 / (1.0 + step)).abs() < 1e-9, "{next}");
    assert!(next > 1950.0, "{next}: the slope's 1,369 was 35% below");
    let late = window(MIN_SLOPE_RUN.as_secs_f64());
    let (next, estimated) = step_below(2181.0, &late, 0, 0.08, 100.0);
    assert!(estimated);
    assert!((next - 2181.0 / 1.531 / 1.04).abs() < 1e-9, "{next}");
}

#[test]
fn a_blind_step_grows_with_the_tail_and_with_each_failure() {
    let step = |k, p99: f64| blind_step(0.03, k, p99 / 100.0);
    assert!((step(0, 105.0) - 0.03).abs() < 1e-12);
    assert!((step(0, 199.0) - 0.03).abs() < 1e-12);
    assert!((step(0, 345.0) - 0.06).abs() < 1e-12);
    assert!((step(0, 840.0) - 0.24).abs() < 1e-12);
    assert!(
        (step(0, 10_000.0) - 0.24).abs() < 1e-12,
        "at most three doublings for the tail"
    );
    assert!((step(1, 105.0) - 0.06).abs() < 1e-12);
    assert!((step(2, 345.0) - 0.24).abs() < 1e-12);
    // A p99 under the SLO (another reason failed it) is a plain step.
    assert!((step(0, 20.0) - 0.03).abs() < 1e-12);
    // Never more than a third down: q65's fifth failure in a row at quick's
    // 8%, a full window at 60.3 req/s with a p99 of 113 ms, went to 26.4.
    assert_eq!(blind_step(0.08, 4, 1.13), MAX_STEP);
    assert_eq!(blind_step(0.08, 0, 8.4), MAX_STEP);
    assert_eq!(blind_step(0.03, 20, 100.0), MAX_STEP);
    let full = Observed {
        achieved: 60.0,
        p50_ms: 38.0,
        p99_ms: 113.2,
        duration: Duration::from_secs(5),
        ..Observed::default()
    };
    let (next, estimated) = step_below(60.3, &full, 4, 0.08, 100.0);
    assert!(!estimated);
    assert!((next - 60.3 / 1.5).abs() < 1e-9, "{next}");
}

/// `--max-time` bounds the whole standalone search, warm-up, drains,
/// confirmations and the retries of stalled windows included; a search it
/// stops is truncated, never a plain capacity.
#[tokio::test(start_paused = true)]
async fn a_standalone_search_ends_within_its_max_time() {
    for secs in [30, 45, 120] {
        let max_time = Duration::from_secs(secs);
        let c = SearchConfig::standalone(100.0, 50.0, max_time);
        for model in [
            // every confirmation stalls, and is retried
            ServerModel::knee(1_000.0).with_long_windows_stalled(2.0),
            // long windows fail below what short ones passed, and drain
            ServerModel::knee(1_000.0).with_fade(1.0, 0.5),
            ServerModel::mm1(20_000.0).with_stalls(0.3),
        ] {
            let t0 = Instant::now();
            let out = search(model, &c).await;
            let took = t0.elapsed();
            assert!(took <= max_time, "{secs} s: took {took:?}: {out:?}");
            if out
                .note
                .as_deref()
                .is_some_and(|n| n.contains("--max-time"))
            {
                assert_ne!(out.outcome, TrialOutcome::Confirmed, "{out:?}");
            }
        }
    }
    // At the shortest --max-time, a steady server is still found and
    // confirmed: the search windows are not squeezed out by the fixed parts.
    let c = SearchConfig::standalone(100.0, 50.0, STANDALONE_MIN_TIME);
    assert!(c.budget >= Duration::from_secs(10), "{:?}", c.budget);
    let out = search(ServerModel::knee(1_000.0), &c).await;
    let found = out.capacity.unwrap_or(0.0);
    assert!((950.0..=1_000.0).contains(&found), "{out:?}");
    assert!(
        out.steps
            .iter()
            .any(|s| s.phase == StepPhase::Confirm && s.verdict == StepVerdict::Pass),
        "{out:?}"
    );
    // A deadline that comes before the search's own budget stops it there,
    // truncated with its best lower bound, and says so.
    let mut c = cfg(Workload::Json);
    c.deadline = Some(Duration::from_secs(8));
    let t0 = Instant::now();
    let out = search(ServerModel::mm1(20_000.0), &c).await;
    assert!(t0.elapsed() <= Duration::from_secs(8));
    assert_eq!(out.outcome, TrialOutcome::Truncated, "{out:?}");
    assert!(out.capacity.is_some(), "{out:?}");
    assert!(
        out.note.as_deref().unwrap().contains("--max-time"),
        "{out:?}"
    );
}
