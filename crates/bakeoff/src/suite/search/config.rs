//! The search's configuration: its rules' parameters (ramp, resolution,
//! windows, confirmation, retries, budget) from a profile's phases, for a
//! run's cell or a standalone `load --find-capacity`, and the time the
//! search may take at most, which the plan's budget adds up.

use std::time::Duration;

use super::{Pause, MIN_WINDOW_REQUESTS, STANDALONE_MIN_TIME};
use crate::suite::plan::{Phases, Plan, Profile};
use crate::suite::Warmup;
use crate::workload::{RateUnit, Workload};

/// A re-test window holds what a short window fell short by as this share of
/// itself at most (half the achieved rule's 2%).
const RETEST_SHORTFALL_SHARE: f64 = 0.01;
/// A re-test window is this many of the longest search windows at most.
const RETEST_MAX_STEPS: u32 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    pub slo_p99_ms: f64,
    pub start_rps: f64,
    /// Multiplier of the ramp before the first failure above a pass.
    pub ramp_factor: f64,
    /// The largest step after it (≤ 2).
    pub narrow_factor: f64,
    pub min_rps: f64,
    pub max_rps: f64,
    /// Bisect until high ÷ low ≤ 1 + resolution.
    pub resolution: f64,
    /// Search windows at most (retries of stalled windows and confirmations apart).
    pub max_steps: u32,
    /// Re-runs of a stalled window, per step.
    pub max_retries: u32,
    /// No search window starts after this much time past the first one.
    pub budget: Duration,
    /// Warm-up before the first window (a workload's warm-up).
    pub first_warmup: Warmup,
    /// Settle time before every later window.
    pub settle: Duration,
    /// A search window lasts `target_requests / rate`, clamped to these bounds.
    pub step_min: Duration,
    pub step_max: Duration,
    pub target_requests: u32,
    /// The longest re-test of a bound that only the achieved rule failed
    /// ([`SearchConfig::retest_window`]).
    pub retest_max: Duration,
    /// The confirmation window's length.
    pub confirm: Duration,
    /// Confirmation windows' worth of running time at most (each failure
    /// steps down; an abandoned one costs what it ran), and twice as many
    /// windows at most.
    pub max_confirms: u32,
    /// The longest wait for an overloaded server to work off its queue.
    pub max_drain: Duration,
    /// The longest the whole search may take, from its start (warm-up, drains
    /// and retries included): no window starts that cannot end before it,
    /// and one still running at it is stopped. A search it ends is truncated.
    pub deadline: Option<Duration>,
    /// What a rate counts, in notes.
    pub unit: RateUnit,
}

impl SearchConfig {
    /// The first rate tried, by workload (trials never seed each other).
    pub fn start_rate(workload: &Workload) -> f64 {
        match workload {
            Workload::Io | Workload::CpuMixed | Workload::Data => 100.0,
            Workload::Cpu | Workload::Updates | Workload::Queries => 25.0,
            // 10,000 deliveries/s at 100 clients, a tenth of what the
            // reference servers hold: a 10 msg/s start spent a 5 s window (50
            // messages at least) on a rate every server passes.
            Workload::Ws => 100.0,
            // An app's own requests may write or compute: start low, ramp ×4.
            Workload::Custom(_) => 100.0,
            Workload::Plaintext | Workload::Json | Workload::Db | Workload::Fortunes => 1_000.0,
            // Not searched (start-up is timed, not loaded).
            Workload::Startup => 1_000.0,
        }
    }

    /// The search of `workload` under this plan's phases and scale. `first`: the
    /// contender's first workload since it started (longer warm-up cap).
    ///
    /// Windows keep a floor at any scale: shorter ones hold too few requests
    /// per third to see a queue grow, and the budget holds its windows.
    pub fn for_plan(plan: &Plan, workload: &Workload, first: bool) -> Self {
        SearchConfig {
            unit: workload.rate_unit(),
            ..SearchConfig::from_phases(
                &plan.phases,
                |d| plan.scaled(d),
                plan.slo_p99_ms,
                SearchConfig::start_rate(workload),
                first,
            )
        }
    }

    /// A search outside a run (`bakeoff load --find-capacity`): the standard
    /// profile's windows, resolution and confirmation, all of it bounded by
    /// `max_time` (at least [`STANDALONE_MIN_TIME`]), a hard
    /// [`SearchConfig::deadline`]: confirmations get at most half of it, the
    /// search windows what is left once the first warm-up, a window started
    /// at the budget's end and the confirmations' settles are taken off.
    pub fn standalone(slo_p99_ms: f64, start_rps: f64, max_time: Duration) -> Self {
        let phases = Phases::for_profile(Profile::Standard);
        let mut cfg = SearchConfig::from_phases(&phases, |d| d, slo_p99_ms, start_rps, true);
        let max_time = max_time.max(STANDALONE_MIN_TIME);
        let fit = (max_time.as_secs_f64() / 2.0 / cfg.confirm.as_secs_f64()).floor() as u32;
        cfg.max_confirms = fit.clamp(1, cfg.max_confirms);
        let fixed = cfg.first_warmup.max()
            + cfg.settle
            + cfg.step_max
            + (cfg.confirm + cfg.settle) * cfg.max_confirms;
        cfg.budget = max_time.saturating_sub(fixed);
        cfg.deadline = Some(max_time);
        cfg
    }

    fn from_phases(
        p: &Phases,
        scaled: impl Fn(Duration) -> Duration,
        slo_p99_ms: f64,
        start_rps: f64,
        first: bool,
    ) -> Self {
        const MIN_WINDOW: Duration = Duration::from_millis(250);
        const MIN_CONFIRM: Duration = Duration::from_secs(1);
        let warm = if first {
            p.first_warmup_max
        } else {
            p.warmup_max
        };
        let settle = scaled(p.step_warmup);
        let step_min = scaled(p.step_min).max(MIN_WINDOW);
        let step_max = scaled(p.step_max).max(MIN_WINDOW);
        // Room for every window, and for the drains after a few overloads.
        let budget =
            scaled(p.search_budget).max((settle + step_max) * p.max_steps + p.max_drain * 3);
        SearchConfig {
            slo_p99_ms,
            start_rps,
            ramp_factor: 4.0,
            narrow_factor: 2.0,
            min_rps: 1.0,
            max_rps: 1_000_000.0,
            resolution: p.resolution,
            max_steps: p.max_steps,
            max_retries: p.max_retries,
            budget,
            first_warmup: Warmup::Adaptive { max: scaled(warm) },
            settle,
            step_min,
            step_max,
            target_requests: p.step_target_requests,
            retest_max: step_max * RETEST_MAX_STEPS,
            confirm: scaled(p.confirm_window).max(MIN_CONFIRM),
            max_confirms: p.max_confirms,
            // The server's queue drains at its own pace, whatever the scale.
            max_drain: p.max_drain,
            deadline: None,
            unit: RateUnit::Requests,
        }
    }

    /// A window lasts `target_requests / rate` within the step bounds, but
    /// holds at least [`MIN_WINDOW_REQUESTS`] (at most 5 s): at a few requests
    /// per window one late answer would be several percent of them.
    pub fn window_for(&self, rate: f64) -> Duration {
        let per = |n: f64| Duration::from_secs_f64(n / rate.max(1e-3));
        let want = per(f64::from(self.target_requests))
            .clamp(self.step_min, self.step_max.max(self.step_min));
        want.max(per(MIN_WINDOW_REQUESTS).min(Duration::from_secs(5)))
    }

    /// The re-test window of a bound at `rate` that one pause late in a
    /// short window may have set ([`Pause`]). A window that fell short by `s`
    /// seconds of its stream on the achieved rule alone gets one long enough
    /// that the same shortfall, if one pause at its end caused it, is 1% of
    /// the window, half what the rule allows; an overload's shortfall grows
    /// with the window and fails it again. A growing backlog gets the longest:
    /// a pause's slow drain near the capacity fills less of its last third,
    /// while an overload's rise grows with it. Any other bound gets a search
    /// window.
    pub fn retest_window(&self, rate: f64, pause: Option<Pause>) -> Duration {
        let short = self.window_for(rate);
        let longest = self.retest_max.max(short);
        match pause {
            Some(Pause::Shortfall(s)) if s.is_finite() && s > 0.0 => {
                let want = Duration::from_secs_f64((s / RETEST_SHORTFALL_SHARE).min(3_600.0));
                want.clamp(short, longest)
            }
            Some(Pause::Backlog) => longest,
            _ => short,
        }
    }

    /// The longest one search can take: warm-up, the budget plus one window
    /// that starts just before it ends, the confirmations, drains and retries.
    pub fn worst_case(&self) -> Duration {
        let worst = self.without_retries() + self.retry_reserve();
        self.deadline.map_or(worst, |d| worst.min(d))
    }

    /// [`SearchConfig::worst_case`] without the stalled windows' re-runs: the
    /// time a search plans with. Long windows may use what the short ones
    /// left of it (see [`Search::confirm`]).
    pub(super) fn without_retries(&self) -> Duration {
        let (first, last) = self.edge_windows();
        let per_confirm = self.settle + self.max_drain;
        self.first_warmup.max()
            + first
            + self.budget
            + last
            + self.confirm * self.max_confirms
            + per_confirm * (2 * self.max_confirms)
    }

    /// Room for re-running stalled windows: the search's and, past its
    /// budget, the last confirmation's.
    fn retry_reserve(&self) -> Duration {
        let (first, last) = self.edge_windows();
        let per_confirm = self.settle + self.max_drain;
        (first + last) * self.max_retries + (self.confirm + per_confirm) * self.max_retries
    }

    /// The search windows outside its budget, settle and drain included: the
    /// first (a ramp step: the budget counts from its end) and one started
    /// just before the budget ends (a re-test's, at the longest).
    fn edge_windows(&self) -> (Duration, Duration) {
        let around = self.settle + self.max_drain;
        (
            around + self.step_max,
            around + self.step_max.max(self.retest_max),
        )
    }
}
