//! Capacity at the SLO: the highest open-loop rate at which the corrected p99 ≤
//! SLO, the error rate ≤ 0.1% and the achieved rate ≥ 98% of the target.
//!
//! An exponential ramp (up from a start rate, or down after a failure) brackets
//! it; a geometric bisection narrows the bracket to `precision`. A failing window
//! whose server throughput was measurable also caps the bracket at what the
//! server achieved, which saves most of the ramp's overshoot. The search is
//! bounded in steps and in time; every window is recorded as a `SearchStep`.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::plan::Plan;
use super::{DriveError, Driver, Warmup, WindowPurpose, WindowResult, WindowSpec};
use crate::model::{SearchStep, StepPhase, StepVerdict};
use crate::workload::Workload;

/// Errors above this share fail a window (0.1%).
pub const MAX_ERROR_RATE: f64 = 0.001;
/// A window fails when it achieved less than this share of its target rate.
pub const MIN_ACHIEVED_RATIO: f64 = 0.98;

#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    pub slo_p99_ms: f64,
    pub start_rps: f64,
    /// Multiplier of the ramp (up and down) before the first bracket.
    pub ramp_factor: f64,
    pub min_rps: f64,
    pub max_rps: f64,
    /// Stop once high / low ≤ 1 + precision.
    pub precision: f64,
    pub max_steps: u32,
    /// No window starts after this much time past the first window.
    pub budget: Duration,
    /// Warm-up before the first window (a workload's warm-up).
    pub first_warmup: Warmup,
    /// Settle time before every later window.
    pub step_warmup: Duration,
    /// A window lasts `target_requests / rate`, clamped to these bounds.
    pub step_min: Duration,
    pub step_max: Duration,
    pub target_requests: u32,
}

impl SearchConfig {
    /// Start rates by workload; a hint (an earlier trial's capacity) replaces them.
    pub fn start_rate(workload: Workload, hint: Option<f64>) -> (f64, f64) {
        if let Some(h) = hint.filter(|h| *h > 0.0) {
            return (h * 0.95, 1.25);
        }
        let start = match workload {
            Workload::Io => 50.0,
            Workload::Cpu | Workload::Updates | Workload::Queries => 25.0,
            Workload::CpuMixed | Workload::Data => 100.0,
            _ => 200.0,
        };
        (start, 4.0)
    }

    /// The search of `workload` under this plan's phases and scale. `first`: the
    /// contender's first workload since it started (longer warm-up cap).
    pub fn for_plan(plan: &Plan, workload: Workload, hint: Option<f64>, first: bool) -> Self {
        let p = &plan.phases;
        let (start_rps, ramp_factor) = SearchConfig::start_rate(workload, hint);
        let warm = if first {
            p.first_warmup_max
        } else {
            p.warmup_max
        };
        SearchConfig {
            slo_p99_ms: plan.slo_p99_ms,
            start_rps,
            ramp_factor,
            min_rps: 1.0,
            max_rps: 1_000_000.0,
            precision: 0.03,
            max_steps: p.max_steps,
            budget: plan.scaled(p.search_budget),
            first_warmup: Warmup::Adaptive {
                max: plan.scaled(warm),
            },
            step_warmup: plan.scaled(p.step_warmup),
            step_min: plan.scaled(p.step_min),
            step_max: plan.scaled(p.step_max),
            target_requests: p.step_target_requests,
        }
    }

    pub fn window_for(&self, rate: f64) -> Duration {
        let want = Duration::from_secs_f64(self.target_requests as f64 / rate.max(1e-3));
        want.clamp(self.step_min, self.step_max.max(self.step_min))
    }
}

/// The search's result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchOutcome {
    /// Highest passing rate, if any window passed.
    pub capacity: Option<f64>,
    pub steps: Vec<SearchStep>,
    /// Some window was generator-limited: capacity is a lower bound.
    pub generator_limited: bool,
    /// Human notes (why the search stopped early, what limited it).
    pub notes: Vec<String>,
}

/// Did the window meet the SLO? Generator-invalid windows never pass.
pub fn passes(r: &WindowResult, target: f64, slo_p99_ms: f64) -> bool {
    r.generator_valid
        && r.latency.p99 <= slo_p99_ms
        && r.error_rate() <= MAX_ERROR_RATE
        && r.achieved_rps >= MIN_ACHIEVED_RATIO * target
}

/// Run the search against `base_url`. `on_step` sees every finished window.
pub async fn search_capacity(
    driver: &dyn Driver,
    base_url: &str,
    workload: Workload,
    cfg: &SearchConfig,
    cancel: &CancellationToken,
    on_step: &mut (dyn FnMut(&SearchStep) + Send),
) -> Result<SearchOutcome, DriveError> {
    // The clock starts after the first window, so the warm-up is not charged to it.
    let mut started: Option<Instant> = None;
    let mut out = SearchOutcome::default();
    let mut lo: Option<f64> = None;
    let mut hi: Option<f64> = None;
    let mut factor = cfg.ramp_factor.max(1.05);
    let mut rate = cfg.start_rps.clamp(cfg.min_rps, cfg.max_rps);
    loop {
        if cancel.is_cancelled() {
            return Err(DriveError::Cancelled);
        }
        if out.steps.len() as u32 >= cfg.max_steps {
            out.notes.push(format!(
                "{workload}: search stopped at its {} step limit",
                cfg.max_steps
            ));
            break;
        }
        if started.is_some_and(|t| t.elapsed() >= cfg.budget) {
            out.notes.push(format!(
                "{workload}: search stopped at its {:.1}s time limit",
                cfg.budget.as_secs_f64()
            ));
            break;
        }
        let bracketed = lo.is_some() && hi.is_some();
        let spec = WindowSpec {
            base_url: base_url.to_string(),
            workload,
            rate,
            duration: cfg.window_for(rate),
            warmup: if out.steps.is_empty() {
                cfg.first_warmup
            } else {
                Warmup::Fixed(cfg.step_warmup)
            },
            purpose: WindowPurpose::Search,
        };
        let r = driver.http_window(&spec, cancel).await?;
        started.get_or_insert_with(Instant::now);
        let pass = passes(&r, rate, cfg.slo_p99_ms);
        let step = SearchStep {
            index: out.steps.len() as u32,
            phase: if bracketed {
                StepPhase::Bisect
            } else {
                StepPhase::Ramp
            },
            target_rps: rate,
            achieved_rps: r.achieved_rps,
            p99_ms: r.latency.p99,
            error_rate: r.error_rate(),
            verdict: if pass {
                StepVerdict::Pass
            } else if !r.generator_valid {
                StepVerdict::GeneratorLimited
            } else {
                StepVerdict::Fail
            },
            duration_s: spec.duration.as_secs_f64(),
            reasons: Vec::new(),
        };
        on_step(&step);
        out.steps.push(step);

        if pass {
            lo = Some(lo.map_or(rate, |l: f64| l.max(rate)));
        } else if !r.generator_valid {
            // Not the server's failure: only a ceiling on what can be measured.
            out.generator_limited = true;
            out.notes.push(format!(
                "{workload}: the load generator could not sustain {rate:.0} rps{}",
                r.generator_note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ));
            hi = Some(hi.map_or(rate, |h: f64| h.min(rate)));
        } else {
            let mut cap = rate;
            if r.achieved_rps < MIN_ACHIEVED_RATIO * rate && r.achieved_rps > 0.0 {
                // The server's throughput bounds its capacity, with a margin for noise.
                cap = cap.min(r.achieved_rps * 1.05 / MIN_ACHIEVED_RATIO);
            }
            if let Some(l) = lo {
                cap = cap.max(l * (1.0 + cfg.precision / 2.0));
            }
            hi = Some(hi.map_or(cap, |h: f64| h.min(cap)));
        }

        rate = match (lo, hi) {
            (Some(l), Some(h)) => {
                if h / l <= 1.0 + cfg.precision {
                    break;
                }
                (l * h).sqrt()
            }
            (Some(l), None) => {
                if l >= cfg.max_rps {
                    out.notes.push(format!(
                        "{workload}: passed at the search ceiling of {:.0} rps",
                        cfg.max_rps
                    ));
                    break;
                }
                let next = (l * factor).min(cfg.max_rps);
                factor = (factor * factor).min(8.0);
                next
            }
            (None, Some(h)) => {
                let next = if h < rate { h / 2.0 } else { h / factor };
                factor = (factor * factor).min(8.0);
                if next < cfg.min_rps {
                    if h <= cfg.min_rps {
                        out.notes.push(format!(
                            "{workload}: fails the SLO even at {:.1} rps",
                            cfg.min_rps
                        ));
                        break;
                    }
                    cfg.min_rps
                } else {
                    next
                }
            }
            (None, None) => unreachable!("every window sets a bound"),
        };
    }
    out.capacity = lo;
    if out.generator_limited {
        if let Some(l) = lo {
            out.notes.push(format!(
                "{workload}: capacity is at least {l:.0} rps (generator-limited)"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::fakes::{FakeDriver, ServerModel};

    fn cfg(workload: Workload, hint: Option<f64>) -> SearchConfig {
        let (start_rps, ramp_factor) = SearchConfig::start_rate(workload, hint);
        SearchConfig {
            slo_p99_ms: 100.0,
            start_rps,
            ramp_factor,
            min_rps: 1.0,
            max_rps: 1_000_000.0,
            precision: 0.03,
            max_steps: 16,
            budget: Duration::from_secs(30),
            first_warmup: Warmup::Adaptive {
                max: Duration::from_secs(2),
            },
            step_warmup: Duration::from_millis(200),
            step_min: Duration::from_millis(500),
            step_max: Duration::from_millis(1500),
            target_requests: 300,
        }
    }

    async fn search(model: ServerModel, c: &SearchConfig) -> SearchOutcome {
        let driver = FakeDriver::new(model);
        let cancel = CancellationToken::new();
        search_capacity(
            &driver,
            "http://fake",
            Workload::Json,
            c,
            &cancel,
            &mut |_| {},
        )
        .await
        .unwrap()
    }

    fn check(out: &SearchOutcome, capacity: f64, max_steps: usize) {
        let got = out.capacity.expect("some window passed");
        let err = (got - capacity).abs() / capacity;
        assert!(
            err <= 0.05,
            "capacity {got} vs {capacity} ({:.1}%)",
            err * 100.0
        );
        assert!(
            out.steps.len() <= max_steps,
            "{} steps: {:?}",
            out.steps.len(),
            out.steps
        );
        for (i, s) in out.steps.iter().enumerate() {
            assert_eq!(s.index as usize, i);
        }
        assert!(out.steps.iter().any(|s| s.phase == StepPhase::Bisect));
    }

    #[tokio::test(start_paused = true)]
    async fn converges_on_a_sharp_knee_across_decades() {
        for capacity in [30.0, 800.0, 20_000.0] {
            let out = search(ServerModel::knee(capacity), &cfg(Workload::Json, None)).await;
            check(&out, capacity, 14);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn converges_on_a_queue_with_noise() {
        for (i, capacity) in [30.0, 800.0, 20_000.0].into_iter().enumerate() {
            let model = ServerModel::mm1(capacity).with_noise(0.02, 7 + i as u64);
            let out = search(model, &cfg(Workload::Io, None)).await;
            check(&out, capacity, 14);
        }
    }

    /// The real profiles' settings (time budget included) still converge.
    #[tokio::test(start_paused = true)]
    async fn converges_under_the_profiles_own_limits() {
        use crate::cli::Profile;
        use crate::suite::plan::{ContenderSpec, PlanOptions};
        for profile in [Profile::Quick, Profile::Standard] {
            let opts = PlanOptions {
                profile,
                workloads: vec![],
                trials: None,
                workers: vec![],
                slo_p99: "100ms".into(),
                duration_scale: 1.0,
                available_cores: 2,
            };
            let c = ContenderSpec {
                name: "a".into(),
                default_workers: 1,
                max_workers: 1,
                unsupported: Default::default(),
            };
            let plan = Plan::build(&opts, vec![c]).unwrap();
            for (w, capacity) in [
                (Workload::Io, 30.0),
                (Workload::Cpu, 30.0),
                (Workload::Json, 800.0),
                (Workload::Json, 20_000.0),
                (Workload::Data, 150.0),
            ] {
                let model = ServerModel::mm1(capacity).with_noise(0.02, 3);
                let cold = search(model, &SearchConfig::for_plan(&plan, w, None, true)).await;
                check(&cold, capacity, plan.phases.max_steps as usize);
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hint_shortens_the_search() {
        let capacity = 800.0;
        let cold = search(ServerModel::mm1(capacity), &cfg(Workload::Json, None)).await;
        let warm = search(
            ServerModel::mm1(capacity),
            &cfg(Workload::Json, Some(790.0)),
        )
        .await;
        check(&warm, capacity, 8);
        assert!(
            warm.steps.len() < cold.steps.len(),
            "{} vs {}",
            warm.steps.len(),
            cold.steps.len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_by_time() {
        let mut c = cfg(Workload::Json, None);
        c.budget = Duration::from_secs(3);
        let started = Instant::now();
        let out = search(ServerModel::mm1(20_000.0), &c).await;
        // Warm-up and first window, the budget, and one window started just before its end.
        assert!(
            started.elapsed() <= Duration::from_secs(3) + Duration::from_millis(2000 + 2 * 1700)
        );
        assert!(
            out.notes.iter().any(|n| n.contains("time limit")),
            "{:?}",
            out.notes
        );
        assert!(out.steps.len() < 8);
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_by_steps() {
        let mut c = cfg(Workload::Json, None);
        c.max_steps = 3;
        let out = search(ServerModel::mm1(20_000.0), &c).await;
        assert_eq!(out.steps.len(), 3);
        assert!(out.notes.iter().any(|n| n.contains("step limit")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_never_meets_the_slo_has_no_capacity() {
        let out = search(ServerModel::knee(0.1), &cfg(Workload::Json, None)).await;
        assert_eq!(out.capacity, None);
        assert!(out.steps.iter().all(|s| !s.pass()));
        assert!(
            out.notes.iter().any(|n| n.contains("fails the SLO")),
            "{:?}",
            out.notes
        );
    }

    #[tokio::test(start_paused = true)]
    async fn errors_fail_a_window() {
        // Fine latency, but 1% errors above 500 rps.
        let out = search(
            ServerModel::knee(1e9).with_errors_above(500.0, 0.01),
            &cfg(Workload::Json, None),
        )
        .await;
        check(&out, 500.0, 14);
    }

    #[tokio::test(start_paused = true)]
    async fn generator_limit_is_flagged_not_failed() {
        let model = ServerModel::knee(1e9).with_generator_limit(3_000.0);
        let out = search(model, &cfg(Workload::Json, None)).await;
        assert!(out.generator_limited);
        let cap = out.capacity.unwrap();
        assert!((3_000.0 * 0.95..=3_000.0).contains(&cap), "{cap}");
        assert!(out.notes.iter().any(|n| n.contains("generator")));
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_stops_before_the_next_window() {
        let driver = FakeDriver::new(ServerModel::knee(800.0));
        let cancel = CancellationToken::new();
        let c = cfg(Workload::Json, None);
        let mut n = 0;
        let r = search_capacity(
            &driver,
            "http://fake",
            Workload::Json,
            &c,
            &cancel,
            &mut |_| {
                n += 1;
                if n == 2 {
                    cancel.cancel();
                }
            },
        )
        .await;
        assert!(matches!(r, Err(DriveError::Cancelled)));
        assert_eq!(driver.windows(), 2);
    }
}
