//! The search's bounds on paused-clock fakes: a search cut short by its
//! window or time limit, the long windows' budget, the climb back above a
//! long window that held, and the longer re-test of a bound only the achieved
//! rule set.

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
    // What its cell reads as the trial's bracket (`suite::bracket`): the
    // held rate, and the lowest long failure above it.
    let above = long
        .iter()
        .filter(|s| s.verdict == StepVerdict::Fail && Some(s.target_rps) > out.capacity)
        .map(|s| s.target_rps)
        .min_by(f64::total_cmp);
    let bracket = crate::suite::bracket::bracket(&as_trial(&out));
    assert_eq!(bracket.map(|b| (b.held, b.failed)), out.capacity.zip(above));
    assert!(out.note.unwrap().contains("confirmation window"));
}

/// The trial a run records of `out`.
fn as_trial(out: &SearchOutcome) -> crate::model::Trial {
    crate::model::Trial {
        index: 0,
        capacity_rps: out.capacity,
        outcome: out.outcome,
        note: out.note.clone(),
        steps: out.steps.clone(),
    }
}

/// A search cut short between a long pass and a long failure leaves the
/// bracket its cell reads (`suite::bracket`): the rate that held, its lower
/// bound, and the lowest long failure above it, which its note names.
#[tokio::test(start_paused = true)]
async fn a_truncated_search_leaves_its_bracket() {
    let mut found = 0;
    for max_confirms in 2..=6 {
        let mut c = cfg(Workload::Json);
        c.max_confirms = max_confirms;
        c.budget = Duration::from_secs(6);
        let out = search(ServerModel::knee(1_000.0).with_fade(1.0, 0.6), &c).await;
        let Some(b) = crate::suite::bracket::bracket(&as_trial(&out)) else {
            continue;
        };
        found += 1;
        assert_eq!(out.outcome, TrialOutcome::Truncated);
        assert_eq!(Some(b.held), out.capacity);
        assert!(b.failed / b.held > 1.0 + c.resolution, "{b:?}");
        let note = out.note.unwrap();
        assert!(
            note.contains(&format!("left {:.0}–{:.0} req/s", b.held, b.failed)),
            "{note}"
        );
    }
    assert!(found > 0, "no configuration left a bracket");
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

/// A server of capacity `ceiling` that pauses `pause` at the end of every
/// window it runs at a rate in `paused` (a garbage collection, say, at 4,000 req/s):
/// the answers of the pause's span arrive past the window, so a short window
/// falls short of its target on the achieved rule alone, its p99 35 ms, its
/// latency flat. Up to 10% over the ceiling it falls short so too (an
/// overload's queue is still small); further over, it fails hard. With
/// `jump`, a window under a second at a paused rate shows the pause's slow
/// drain instead: its median jumps in the last third, no shortfall.
struct EndPause {
    ceiling: f64,
    paused: Vec<std::ops::RangeInclusive<f64>>,
    pause: Duration,
    jump: bool,
    /// Rates whose first window dips (its backlog grows, p99 60 ms).
    dips: Vec<std::ops::RangeInclusive<f64>>,
    dipped: std::sync::Mutex<Vec<f64>>,
}

impl EndPause {
    fn new(ceiling: f64, paused: &[std::ops::RangeInclusive<f64>]) -> Self {
        EndPause {
            ceiling,
            paused: paused.to_vec(),
            pause: Duration::from_millis(30),
            jump: false,
            dips: Vec::new(),
            dipped: Default::default(),
        }
    }
}

impl Windows for EndPause {
    fn run<'a>(
        &'a self,
        probe: Probe,
        _cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Observed, DriveError>> {
        let r = probe.rate;
        let t = probe.duration.as_secs_f64();
        let flat = Thirds {
            p50_ms: [2.0; 3],
            p90_ms: [3.0; 3],
        };
        let paused = self.paused.iter().any(|p| p.contains(&r));
        let dip = self.dips.iter().any(|d| d.contains(&r)) && {
            let mut dipped = self.dipped.lock().unwrap();
            let first = !dipped.contains(&r);
            dipped.push(r);
            first
        };
        let o = if dip {
            Observed {
                achieved: r,
                p50_ms: 20.0,
                p99_ms: 60.0,
                trend: Some(Thirds {
                    p50_ms: [5.0, 20.0, 40.0],
                    p90_ms: [8.0, 25.0, 45.0],
                }),
                ..Observed::default()
            }
        } else if r > 1.1 * self.ceiling {
            Observed {
                achieved: 0.8 * self.ceiling,
                p50_ms: 150.0,
                p99_ms: 400.0,
                error_rate: 0.2,
                ..Observed::default()
            }
        } else if self.jump && t < 1.0 && paused {
            Observed {
                achieved: r.min(self.ceiling),
                p50_ms: 2.0,
                p99_ms: 30.0,
                trend: Some(Thirds {
                    p50_ms: [2.0, 2.2, 12.0],
                    p90_ms: [3.0, 8.0, 25.0],
                }),
                ..Observed::default()
            }
        } else {
            let lost = if paused {
                self.pause.as_secs_f64() / t
            } else {
                0.0
            };
            Observed {
                achieved: r.min(self.ceiling) * (1.0 - lost),
                p50_ms: 2.0,
                p99_ms: if paused { 35.0 } else { 10.0 },
                trend: Some(flat),
                ..Observed::default()
            }
        };
        Box::pin(async move {
            tokio::time::sleep(probe.duration).await;
            Ok(Observed {
                duration: probe.duration,
                ..o
            })
        })
    }
}

/// The re-test at `rate`, which held.
fn held_retest(out: &SearchOutcome, rate: f64) -> &SearchStep {
    let retest = out
        .steps
        .iter()
        .find(|s| s.phase == StepPhase::Retest && s.target_rps.round() == rate.round())
        .unwrap_or_else(|| panic!("{rate} re-tested: {:#?}", out.steps));
    assert!(retest.pass(), "{:#?}", out.steps);
    retest
}

/// With re-tests no longer than a search window, `server`'s pause at `rate`
/// stands as a bound and the search confirms under it.
async fn confirms_under_with_short_retests(server: EndPause, c: &SearchConfig, rate: f64) {
    let short = SearchConfig {
        retest_max: Duration::ZERO,
        ..c.clone()
    };
    let out = search_end_pause(server, &short).await;
    assert!(out.capacity.unwrap() < rate, "{:#?}", out.steps);
}

async fn search_end_pause(server: EndPause, c: &SearchConfig) -> SearchOutcome {
    let cancel = CancellationToken::new();
    search_capacity(&server, c, &cancel, &mut |_| {})
        .await
        .unwrap()
}

/// node-express `json` in a quick run: 4,000 req/s failed its short window
/// and that window's re-test on the achieved rule alone (p99 33–36 ms, no
/// backlog, no errors), and 3,830 was confirmed where the other run held
/// 9,895. A bound only the achieved rule set is re-tested with a window long
/// enough that the pause is 1% of it: it holds, and the search goes on above
/// it to the capacity. With a search-length re-test (as before), the search
/// confirms under 4,000.
#[tokio::test(start_paused = true)]
async fn a_pause_at_a_short_windows_end_is_retested_long() {
    let c = cfg(Workload::Json);
    let server = || EndPause::new(10_000.0, &[3_950.0..=4_050.0]);
    let out = search_end_pause(server(), &c).await;
    check(&out, 10_000.0, 16 + 4);
    let retest = held_retest(&out, 4_000.0);
    // 30 ms of a 0.5 s window is 6% of it: 3 s (the longest) makes it 1%.
    assert_eq!(retest.duration_s, 3.0, "{retest:?}");
    // A re-test no longer than a search window fails again.
    confirms_under_with_short_retests(server(), &c, 4_000.0).await;
}

/// Bounds only the achieved rule set count apart from the others' re-tests:
/// node-express `json` in a quick run re-tested a backlog's bound (3,830
/// req/s, which passed) and a pause's (4,000, passed long), then closed on
/// 7,336, failed so too, untested, and confirmed 7,025; the other run held
/// 11,314. Here a dip at 2,828 and pauses at 4,000 and 9,514: four
/// re-tests, the last three long, the last of them (10,375, a slight
/// overload's shortfall) failing again, and the capacity found.
#[tokio::test(start_paused = true)]
async fn each_kind_of_bound_has_its_own_retests() {
    let c = SearchConfig {
        max_steps: 32,
        ..cfg(Workload::Json)
    };
    let mut server = EndPause::new(10_000.0, &[3_950.0..=4_050.0, 9_500.0..=9_530.0]);
    server.dips = vec![2_820.0..=2_830.0];
    let out = search_end_pause(server, &c).await;
    let retests: Vec<_> = out
        .steps
        .iter()
        .filter(|s| s.phase == StepPhase::Retest)
        .map(|s| {
            (
                s.target_rps.round(),
                s.duration_s > c.step_max.as_secs_f64(),
            )
        })
        .collect();
    assert_eq!(
        retests,
        [
            (2_828.0, false),
            (4_000.0, true),
            (9_514.0, true),
            (10_375.0, true)
        ],
        "{:#?}",
        out.steps
    );
    check(&out, 10_000.0, 32 + 4);
}

/// A bound a slight overload set fails its short window on the achieved rule
/// alone too, and its longer re-test again (the shortfall of an overload is a
/// share of the window, not a fixed pause): the capacity below it stands,
/// within the resolution of the ceiling, never above it. A bound a hard
/// failure set is re-tested with a search window.
#[tokio::test(start_paused = true)]
async fn an_overloads_shortfall_fails_its_longer_retest() {
    let c = cfg(Workload::Json);
    let out = search_end_pause(EndPause::new(5_000.0, &[]), &c).await;
    check(&out, 5_000.0, 16 + 4);
    let retests: Vec<_> = out
        .steps
        .iter()
        .filter(|s| s.phase == StepPhase::Retest)
        .collect();
    assert!(!retests.is_empty(), "{:#?}", out.steps);
    for r in &retests {
        let soft = r.target_rps <= 1.1 * 5_000.0;
        assert_eq!(r.pass(), r.target_rps <= 5_000.0, "{r:?}");
        if soft && !r.pass() {
            assert!(r.duration_s > c.step_max.as_secs_f64(), "{r:?}");
        } else if !soft {
            assert!(r.duration_s <= c.step_max.as_secs_f64(), "{r:?}");
        }
    }
}

/// The re-test window: the shortfall held to 1% of it, between the search
/// window's length at that rate and `retest_max`; the longest for a growing
/// backlog; none for any other bound.
#[test]
fn a_retest_window_holds_the_shortfall_to_a_percent() {
    let c = cfg(Workload::Json);
    let search = c.window_for(4_000.0);
    let short = |s| Some(Pause::Shortfall(s));
    assert_eq!(c.retest_window(4_000.0, None), search);
    assert_eq!(
        c.retest_window(4_000.0, short(0.02)),
        Duration::from_secs(2)
    );
    assert_eq!(c.retest_window(4_000.0, short(0.5)), c.retest_max);
    assert_eq!(c.retest_window(4_000.0, short(0.000_1)), search);
    assert_eq!(c.retest_window(4_000.0, short(f64::NAN)), search);
    assert_eq!(c.retest_window(4_000.0, Some(Pause::Backlog)), c.retest_max);
}

/// node-express `json` in a quick run (~20 ms pauses; 5 s windows held
/// 9,500–11,500 req/s at p99 21–26 ms in 14 of 15): its 0.3 s windows failed
/// at 11,314, 10,375 and 9,935 on a median that jumped in their last third
/// (1.0 → 7.5 ms, p99 ~30 ms), a short re-test failed so again, and the
/// search confirmed 9,514 where the other run held 11,786. A jump is a
/// pause's: re-tested with the longest window, it holds, and the search goes
/// on to the capacity. As a hard bound (a search-length re-test), the search
/// confirms under it.
#[tokio::test(start_paused = true)]
async fn a_jump_in_a_short_windows_median_is_retested_long() {
    let c = cfg(Workload::Json);
    let server = || {
        let mut s = EndPause::new(10_000.0, &[3_950.0..=4_050.0]);
        s.jump = true;
        s
    };
    let out = search_end_pause(server(), &c).await;
    check(&out, 10_000.0, 16 + 4);
    let retest = held_retest(&out, 4_000.0);
    assert_eq!(retest.duration_s, c.retest_max.as_secs_f64(), "{retest:?}");
    let failed = out
        .steps
        .iter()
        .find(|s| s.target_rps == 4_000.0 && !s.pass())
        .expect("4,000 failed a short window");
    assert!(
        failed.reasons.iter().all(|r| r.contains("backlog grew")),
        "{failed:?}"
    );
    confirms_under_with_short_retests(server(), &c, 4_000.0).await;
}

/// node-express `json` in a quick run failed its short windows on a pause at
/// 8,000 (a jump), 9,514 and 10,834 req/s (the achieved rule alone), held the
/// first two re-tests, closed on 10,834 untested and confirmed 10,375 where
/// 5 s windows hold 11,500. Here, in quick's resolution and steps, pauses at
/// three rates under the ceiling: each bound gets its long re-test
/// (`MAX_PAUSE_RETESTS`), and the search finds the capacity. With two, as
/// before, it closed on 11,314 untested and confirmed 10,834.
#[tokio::test(start_paused = true)]
async fn a_server_that_pauses_at_three_bounds_is_retested_at_each() {
    let c = SearchConfig {
        resolution: 0.08,
        max_steps: 18,
        ..cfg(Workload::Json)
    };
    let server = EndPause::new(
        11_500.0,
        &[7_990.0..=8_010.0, 9_500.0..=9_530.0, 11_300.0..=11_330.0],
    );
    let out = search_end_pause(server, &c).await;
    for rate in [8_000.0, 9_514.0, 11_314.0] {
        held_retest(&out, rate);
    }
    check(&out, 11_500.0, 18 + 3);
}
