//! Capacity at the SLO: the highest open-loop rate a server sustains with the
//! corrected p99 ≤ SLO, errors ≤ 0.1%, the achieved rate ≥ 98% of the target,
//! and no growing backlog — confirmed by one longer window.
//!
//! The rules, in the order a search applies them (docs/methodology.md, "Capacity
//! at the SLO"):
//! 1. **Judge** each window ([`judge`]): the fixed criteria, plus a backlog that
//!    grows across the window (the median corrected latency of its last third
//!    against its first), which a short window's p99 would hide.
//! 2. **Stalls are the machine's**: a window the generator was held up in (late
//!    sends or hypervisor steal, see [`Observed::stalled`]) is re-run, at most
//!    `max_retries` times per step; a step that never gets a clean window ends
//!    the trial as machine-noisy. Every attempt is recorded.
//! 3. **Ramp** ×`ramp_factor` from the start rate while windows pass (÷ while
//!    they fail); after the first failure above a pass, any further step is at
//!    most ×`narrow_factor`. Only a failing window sets an upper bound: an
//!    overloaded window's throughput is depressed by the queue it inherited, so
//!    it bounds nothing.
//! 4. **Bisect** geometrically until high ÷ low ≤ 1 + `resolution`; then
//!    re-test the upper bound once, since one failing window may have been a
//!    dip in the server's capacity (if it passes, the search goes on above it,
//!    and the next bound it closes on gets its own re-test, up to
//!    [`MAX_RETESTS`] bounds). A bound whose windows failed on the achieved
//!    rate or a growing backlog alone (p99 within the SLO, no errors) is
//!    re-tested with a longer window ([`SearchConfig::retest_window`]): one
//!    pause late in a short window fails it so, though the server keeps up
//!    ([`Pause`]), up to [`MAX_PAUSE_RETESTS`] such bounds.
//! 5. **Confirm** the candidate with a window of `confirm` length. If it fails,
//!    the search goes on below it with windows of that length (steps that grow
//!    below a failure, or a jump to the capacity a growing queue measured, and
//!    bisection once a long window passed), until a rate that held one has a
//!    long-window failure within the resolution above it; at most
//!    `max_confirms` windows' worth of running time, and what the short
//!    windows left of their budget. Short windows find the bracket cheaply; only long
//!    windows decide the capacity (`confirm`). A long window the generator
//!    could not hold after one held ends the trial generator-limited; before
//!    any held, the long windows step below it, and what holds there (with
//!    no server failure between) is the trial's lower bound, generator-limited
//!    too. A short window the generator could not hold
//!    caps the bracket instead of failing it, and the highest rate that passed
//!    below it is confirmed like any candidate: a long failure there means the
//!    server's capacity lies below the generator's limit, and the long windows
//!    find it; a hold with only the generator's limit above it is the
//!    generator-limited trial's lower bound.
//! 6. **Decided windows stop**: a search or confirmation window whose p99 is
//!    already over the SLO (more than 1% of its planned requests, or
//!    deliveries, over it, answered or still waiting) ends there, a failure
//!    whatever followed (the engine's `Abandon` rule, HTTP and fan-out); how
//!    soon it got there estimates the overload for the step down.
//! 7. **Nothing passed**: even the lowest rate failed. A server whose lowest
//!    failed window was mostly errors is failing, not slow
//!    ([`TrialOutcome::Failing`], see [`is_failing`]); any other has no
//!    capacity ([`TrialOutcome::NoCapacity`]).
//! 8. **Bounds**: `max_steps` search windows and a time `budget`. A search cut
//!    short with a passing and a failing rate goes on to confirm (5) from that
//!    wider bracket, since only long windows decide; one cut short without
//!    both reports its best lower bound as [`TrialOutcome::Truncated`], never
//!    as a plain capacity.
//!
//! After an overloaded window the server still holds the requests it had
//! queued; the search waits for it to drain before the next window.
//!
//! The search drives windows through [`Windows`], so HTTP and WebSocket fan-out
//! use the same rules.

use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{DriveError, Warmup, WindowPurpose};
use crate::model::{SearchStep, StepPhase, StepVerdict, TrialOutcome};
use crate::workload::RateUnit;

pub use super::judge::{backlog_grew, judge, Judgement, Pause, Thirds};

/// Errors above this share fail a window (0.1%).
pub const MAX_ERROR_RATE: f64 = 0.001;
/// A window fails when it achieved less than this share of its target rate
/// (less one request, the schedule's rounding at the window's edges).
pub const MIN_ACHIEVED_RATIO: f64 = 0.98;
/// The shortest `--max-time` of a standalone search: the first warm-up, one
/// standard confirmation window and ~14 s of search windows (at 20 s the
/// windows had ~4 s and most searches ended truncated).
pub const STANDALONE_MIN_TIME: Duration = Duration::from_secs(30);
/// The most upper bounds a search re-tests (each once) with a search window
/// before its bracket closes.
pub const MAX_RETESTS: usize = 2;
/// The most bounds a pause may have set ([`Pause`]) that a search re-tests
/// with a longer window: a server that pauses fails short windows so at
/// most rates near its capacity, and four re-tests of at most 3 s (quick
/// and standard) still leave the short windows a quarter of the budget
/// (docs/benchmarks.md, "Thirtieth pass").
pub const MAX_PAUSE_RETESTS: usize = 4;
/// The fewest requests a search window holds (see [`SearchConfig::window_for`]).
pub const MIN_WINDOW_REQUESTS: f64 = 50.0;

/// What the search needs to know of one window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// Successful answers per second that arrived within the window's grace,
    /// at most the 2xx answers per second delivered inside the window.
    pub achieved: f64,
    /// Corrected p50 and p99 (failures at their elapsed time, the unanswered
    /// censored).
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
    /// The share the server answered or refused with an error (not timed out,
    /// not left unanswered): at half or more, it is failing, not slow.
    pub answered_error_rate: f64,
    /// Corrected latency of each third of the window, by intended time.
    pub trend: Option<Thirds>,
    /// The generator could not keep its schedule: nothing is known above this rate.
    pub generator_limited: Option<String>,
    /// The machine held the generator up: the window says nothing about the server.
    pub stalled: Option<String>,
    /// Steal only a raised limit let through: judged, but may read low.
    pub steal_tolerated: Option<String>,
    /// Disclosed with the step's reasons, the verdict unchanged.
    pub notes: Vec<String>,
    /// Requests the server still held at the window's cutoff.
    pub outstanding: u64,
    /// 2xx answers per second over the whole run, settle included: an
    /// overloaded server's throughput, whose queue it drains at.
    pub served: f64,
    /// The measured window's length.
    pub duration: Duration,
    /// The window ended early, its p99 already decided over the SLO (the
    /// engine's `Abandon` rule). It has no trend.
    pub abandoned: Option<bakeoff_load::Abandoned>,
    /// Generator threads that drove it, when more than one (one was at its
    /// limit and the machine had spare cores: `EngineDriver::spare_cpus`).
    pub generator_threads: u32,
}

/// One window to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    pub rate: f64,
    pub duration: Duration,
    pub warmup: Warmup,
    pub purpose: WindowPurpose,
}

/// Runs the search's windows against one target (HTTP or WebSocket).
pub trait Windows: Send + Sync {
    fn run<'a>(
        &'a self,
        probe: Probe,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Observed, DriveError>>;
}

/// The search's result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    pub outcome: TrialOutcome,
    /// Confirmed: the capacity. Truncated or generator-limited: a lower bound.
    pub capacity: Option<f64>,
    pub steps: Vec<SearchStep>,
    /// Why the search ended as it did, for the cell's notes.
    pub note: Option<String>,
    /// Windows judged as the server's with steal only a raised limit let
    /// through ([`Observed::steal_tolerated`]).
    pub steal_tolerated: u32,
}

/// Run the search. `on_step` sees every window as it finishes.
pub async fn search_capacity(
    windows: &dyn Windows,
    cfg: &SearchConfig,
    cancel: &CancellationToken,
    on_step: &mut (dyn FnMut(&SearchStep) + Send),
) -> Result<SearchOutcome, DriveError> {
    let mut s = Search {
        windows,
        cfg,
        cancel,
        on_step,
        steps: Vec::new(),
        answered_errors: Vec::new(),
        fails: Vec::new(),
        planned_end: Instant::now() + cfg.without_retries(),
        deadline: cfg.deadline.map(|d| Instant::now() + d),
        steal_tolerated: 0,
    };
    s.run().await
}

/// Why the search part ended.
enum Bracket {
    /// high ÷ low ≤ 1 + resolution (or wider, cut short); confirm `low`.
    /// `capped`: `high` is the rate the generator could not sustain, not a
    /// failure of the server's.
    Closed {
        low: f64,
        high: f64,
        capped: Option<String>,
    },
    /// Even the lowest rate failed.
    None,
    /// The generator could not sustain the lowest rate tried: nothing is
    /// known of the server.
    GeneratorLimited {
        why: String,
    },
    /// Cut short: `low` is a lower bound.
    Truncated {
        low: Option<f64>,
        why: String,
    },
    MachineNoisy {
        why: String,
    },
}

struct Search<'a> {
    windows: &'a dyn Windows,
    cfg: &'a SearchConfig,
    cancel: &'a CancellationToken,
    on_step: &'a mut (dyn FnMut(&SearchStep) + Send),
    steps: Vec<SearchStep>,
    /// Each step's share of requests the server answered with errors
    /// ([`Observed::answered_error_rate`]; not stored with the step).
    answered_errors: Vec<f64>,
    /// Every rate that failed (a retest that passes looks for the next bound).
    fails: Vec<Failed>,
    /// When the search's planned time runs out (its worst case, retries apart).
    planned_end: Instant,
    /// When the search must have ended ([`SearchConfig::deadline`]).
    deadline: Option<Instant>,
    /// Judged windows with steal only a raised limit let through.
    steal_tolerated: u32,
}

/// A rate a search window failed at.
#[derive(Debug, Clone, Copy)]
struct Failed {
    rate: f64,
    /// How one pause may have failed it ([`Judgement::pause`]).
    pause: Option<Pause>,
}

/// What the long windows found ([`Search::confirm`]).
enum LongWindows {
    /// `rate` held a confirmation window, the bracket above it within the
    /// resolution. `by_failure`: closed by a long window that failed above
    /// it, rather than by the bound the confirmation was given.
    Held { rate: f64, by_failure: bool },
    /// The machine stalled every attempt at a long window before any held.
    Stalled(String),
    /// Out of long windows (or stalled after one held): `low` is the best
    /// rate that held one, a lower bound.
    Short { low: Option<f64>, why: String },
    /// The generator could not hold a long window's rate: nothing is known
    /// above it. `low` is the best rate that held one below it (the long
    /// windows step down to find one), a lower bound.
    GeneratorLimited { low: Option<f64>, why: String },
}

/// One window's verdict, after any retries of stalls.
enum Attempt {
    /// The verdict, the window, and how one pause may have failed it
    /// ([`Judgement::pause`]).
    Judged(StepVerdict, Box<Observed>, Option<Pause>),
    /// Every attempt stalled.
    Stalled(String),
    /// The search's deadline came before the window could end.
    OutOfTime(String),
}

impl Search<'_> {
    async fn run(&mut self) -> Result<SearchOutcome, DriveError> {
        let t0 = Instant::now();
        let bracket = self.bracket().await?;
        // What the short windows left of their time budget.
        let leftover = self.cfg.budget.saturating_sub(t0.elapsed());
        let out = |outcome, capacity, note: Option<String>, steps| SearchOutcome {
            outcome,
            capacity,
            steps,
            note,
            steal_tolerated: 0,
        };
        let mut outcome = match bracket {
            // Only long windows decide, at the generator's limit too: a
            // short window's pass below it is no lower bound. Held for a
            // confirmation window, it is one; failing one, the server's
            // capacity lies below the generator's limit, and the long
            // windows below find it.
            Bracket::Closed { low, high, capped } => {
                let confirmed = self.confirm(low, high, leftover).await?;
                let steps = std::mem::take(&mut self.steps);
                match (confirmed, capped) {
                    (LongWindows::Held { rate, by_failure }, Some(why)) if !by_failure => out(
                        TrialOutcome::GeneratorLimited,
                        Some(rate),
                        Some(at_least(why, Some(rate), self.cfg.unit)),
                        steps,
                    ),
                    (LongWindows::Held { rate, .. }, _) => {
                        out(TrialOutcome::Confirmed, Some(rate), None, steps)
                    }
                    (LongWindows::Stalled(why), _) => {
                        out(TrialOutcome::MachineNoisy, None, Some(why), steps)
                    }
                    (LongWindows::Short { low, why }, capped) => {
                        let why = match capped {
                            Some(c) => format!("{c}; {why}"),
                            None => why,
                        };
                        out(TrialOutcome::Truncated, low, Some(why), steps)
                    }
                    (LongWindows::GeneratorLimited { low, why }, _) => {
                        out(TrialOutcome::GeneratorLimited, low, Some(why), steps)
                    }
                }
            }
            Bracket::None => {
                let (outcome, why) = nothing_passed(
                    &self.steps,
                    &self.answered_errors,
                    self.cfg.min_rps,
                    self.cfg.unit,
                );
                out(outcome, None, Some(why), std::mem::take(&mut self.steps))
            }
            Bracket::GeneratorLimited { why } => out(
                TrialOutcome::GeneratorLimited,
                None,
                Some(at_least(why, None, self.cfg.unit)),
                std::mem::take(&mut self.steps),
            ),
            Bracket::Truncated { low, why } => {
                // With no rate passed, a server answering only errors is failing.
                let failing = low.is_none().then(|| {
                    failing_when_cut_short(&self.steps, &self.answered_errors, self.cfg.unit, &why)
                });
                let failing = failing.flatten();
                let steps = std::mem::take(&mut self.steps);
                match failing {
                    Some(note) => out(TrialOutcome::Failing, None, Some(note), steps),
                    None => out(TrialOutcome::Truncated, low, Some(why), steps),
                }
            }
            Bracket::MachineNoisy { why } => out(
                TrialOutcome::MachineNoisy,
                None,
                Some(why),
                std::mem::take(&mut self.steps),
            ),
        };
        outcome.steal_tolerated = self.steal_tolerated;
        Ok(outcome)
    }

    /// Ramp and bisect until the bracket is narrow enough, or a bound stops it.
    async fn bracket(&mut self) -> Result<Bracket, DriveError> {
        let cfg = self.cfg;
        let mut started: Option<Instant> = None;
        let mut lo: Option<f64> = None;
        let mut hi: Option<f64> = None;
        let mut generator_note: Option<String> = None;
        let mut rate = cfg.start_rps.clamp(cfg.min_rps, cfg.max_rps);
        let mut windows = 0u32;
        // A single failing window may have been a dip in the server's capacity
        // (another tenant, a GC): before the bracket closes on a bound, that
        // bound is re-tested once. A bound that fails twice stands; a dip at
        // one rate says nothing of the next bound's window. At most
        // `MAX_RETESTS` bounds: past that, a server whose speed wanders would
        // have the search chase its wander up while only long windows decide.
        // Bounds a pause may have set, re-tested with longer windows that a
        // wander passes less easily, count apart (`true`), up to
        // `MAX_PAUSE_RETESTS`.
        let mut retested: Vec<(f64, bool)> = Vec::new();
        let mut retesting = false;
        loop {
            let limit = if windows >= cfg.max_steps {
                Some(format!(
                    "the search stopped at its limit of {} windows",
                    cfg.max_steps
                ))
            } else if started.is_some_and(|t| t.elapsed() >= cfg.budget) {
                Some(format!(
                    "the search stopped at its {:.1} s time limit",
                    cfg.budget.as_secs_f64()
                ))
            } else {
                None
            };
            if let Some(why) = limit {
                return Ok(match (lo, hi, generator_note) {
                    // A bracket, only wider than the resolution (a server
                    // whose short windows pass and fail around its capacity):
                    // long windows decide, as for a closed one.
                    (Some(low), Some(high), capped) => Bracket::Closed { low, high, capped },
                    _ => truncated(lo, why),
                });
            }
            let phase = if retesting {
                StepPhase::Retest
            } else if lo.is_some() && hi.is_some() {
                StepPhase::Bisect
            } else {
                StepPhase::Ramp
            };
            let warmup = if windows == 0 {
                cfg.first_warmup
            } else {
                Warmup::Fixed(cfg.settle)
            };
            let duration = if retesting {
                cfg.retest_window(rate, self.pause_at(rate))
            } else {
                cfg.window_for(rate)
            };
            let probe = Probe {
                rate,
                duration,
                warmup,
                purpose: WindowPurpose::Search,
            };
            let attempt = self.attempt(phase, probe).await?;
            started.get_or_insert_with(Instant::now);
            windows += 1;
            let was_retest = std::mem::replace(&mut retesting, false);
            match attempt {
                Attempt::Stalled(why) => return Ok(Bracket::MachineNoisy { why }),
                Attempt::OutOfTime(why) => return Ok(truncated(lo, why)),
                Attempt::Judged(StepVerdict::Pass, ..) => {
                    lo = Some(lo.map_or(rate, |l| l.max(rate)));
                    if was_retest {
                        // The bound was a dip: the next failure above it is the bound.
                        hi = self
                            .fails
                            .iter()
                            .map(|f| f.rate)
                            .filter(|&f| f > rate * (1.0 + cfg.resolution / 2.0))
                            .min_by(f64::total_cmp);
                    }
                }
                Attempt::Judged(StepVerdict::GeneratorLimited, o, _) => {
                    generator_note = Some(format!(
                        "the load generator could not sustain {rate:.0} {} ({})",
                        cfg.unit,
                        o.generator_limited.as_deref().unwrap_or("fell behind")
                    ));
                    hi = Some(hi.map_or(rate, |h| h.min(rate)));
                }
                Attempt::Judged(_, _, pause) => {
                    self.fails.push(Failed { rate, pause });
                    // The search never goes above its upper bound: the
                    // server's failure bounds the bracket now, not the generator.
                    generator_note = None;
                    hi = Some(hi.map_or(rate, |h| h.min(rate)));
                }
            }
            rate = match (lo, hi) {
                (Some(l), Some(h)) => {
                    if h / l <= 1.0 + cfg.resolution {
                        if generator_note.is_some() {
                            return Ok(Bracket::Closed {
                                low: l,
                                high: h,
                                capped: generator_note,
                            });
                        }
                        let long = self.pause_at(h).is_some();
                        let of_kind = retested.iter().filter(|r| r.1 == long).count();
                        let most = if long { MAX_PAUSE_RETESTS } else { MAX_RETESTS };
                        if retested.iter().any(|r| r.0 == h) || of_kind >= most {
                            return Ok(Bracket::Closed {
                                low: l,
                                high: h,
                                capped: None,
                            });
                        }
                        retested.push((h, long));
                        retesting = true;
                        h
                    } else {
                        (l * h).sqrt().min(l * cfg.narrow_factor)
                    }
                }
                (Some(l), None) => {
                    if l >= cfg.max_rps {
                        return Ok(truncated(
                            Some(l),
                            format!(
                                "passed at the search ceiling of {:.0} {}",
                                cfg.max_rps, cfg.unit
                            ),
                        ));
                    }
                    let factor = if !retested.is_empty() {
                        cfg.narrow_factor
                    } else {
                        cfg.ramp_factor
                    };
                    (l * factor).min(cfg.max_rps)
                }
                (None, Some(h)) => {
                    if let Some(why) = generator_note.take() {
                        return Ok(Bracket::GeneratorLimited { why });
                    }
                    if h <= cfg.min_rps {
                        return Ok(Bracket::None);
                    }
                    (h / cfg.ramp_factor).max(cfg.min_rps)
                }
                (None, None) => unreachable!("every judged window sets a bound"),
            };
        }
    }

    /// How one pause may have failed every window that failed at `rate` (a
    /// growing backlog if any did, else the largest shortfall): a bound that
    /// a pause late in a short window may have set. None if any failed for
    /// another reason.
    fn pause_at(&self, rate: f64) -> Option<Pause> {
        let mut worst: Option<Pause> = None;
        for f in self.fails.iter().filter(|f| f.rate == rate) {
            worst = Some(match (worst, f.pause?) {
                (Some(Pause::Backlog), _) | (_, Pause::Backlog) => Pause::Backlog,
                (Some(Pause::Shortfall(a)), Pause::Shortfall(b)) => Pause::Shortfall(a.max(b)),
                (None, p) => p,
            });
        }
        worst
    }

    /// Run one window, re-running it while the machine stalls it; record every
    /// attempt; wait for an overloaded server to drain.
    async fn attempt(&mut self, phase: StepPhase, probe: Probe) -> Result<Attempt, DriveError> {
        let mut retries = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Err(DriveError::Cancelled);
            }
            let Some(o) = self.run_window(probe).await? else {
                return Ok(Attempt::OutOfTime(self.out_of_time()));
            };
            let Judgement {
                verdict,
                mut reasons,
                pause,
            } = judge(&o, probe.rate, self.cfg.slo_p99_ms, self.cfg.unit);
            if o.generator_threads > 1 {
                reasons.push(format!(
                    "driven by {} generator threads: one was at its limit",
                    o.generator_threads
                ));
            }
            if let Some(t) = o
                .steal_tolerated
                .as_ref()
                .filter(|_| verdict != StepVerdict::Stalled)
            {
                reasons.push(t.clone());
                self.steal_tolerated += 1;
            }
            reasons.extend(o.notes.iter().cloned());
            let step = SearchStep {
                index: self.steps.len() as u32,
                phase,
                target_rps: probe.rate,
                achieved_rps: o.achieved,
                p99_ms: o.p99_ms,
                error_rate: o.error_rate,
                verdict,
                duration_s: o.duration.as_secs_f64(),
                reasons,
            };
            (self.on_step)(&step);
            self.steps.push(step);
            self.answered_errors.push(o.answered_error_rate);
            self.drain(&o).await?;
            if verdict != StepVerdict::Stalled {
                return Ok(Attempt::Judged(verdict, Box::new(o), pause));
            }
            if retries >= self.cfg.max_retries {
                return Ok(Attempt::Stalled(format!(
                    "no clean window at {:.0} {} in {} attempts: {}",
                    probe.rate,
                    self.cfg.unit,
                    retries + 1,
                    o.stalled.unwrap_or_default()
                )));
            }
            retries += 1;
        }
    }
}

/// A generator-limited trial's note: why, and the lower bound it leaves, the
/// highest rate that held a confirmation window, if one did.
fn at_least(why: String, low: Option<f64>, unit: RateUnit) -> String {
    match low {
        Some(l) => format!(
            "{why}; the capacity is at least {l:.0} {unit}, the highest rate that held a confirmation window"
        ),
        None => format!("{why}; no lower rate held a confirmation window, so there is no lower bound"),
    }
}

fn truncated(low: Option<f64>, why: String) -> Bracket {
    Bracket::Truncated { low, why }
}

mod config;
mod confirm;
mod nothing_passed;
mod step_down;
mod timing;
pub use config::SearchConfig;
#[cfg(test)]
use confirm::climb;
use nothing_passed::{failing_when_cut_short, nothing_passed};
pub use nothing_passed::{is_failing, FAILING_ERROR_RATE};
#[cfg(test)]
use step_down::{abandoned_step, blind_step, step_below, MAX_STEP, MIN_SLOPE_RUN};

#[cfg(test)]
#[path = "search_bounds_tests.rs"]
mod bounds_tests;
#[cfg(test)]
#[path = "search_cost_tests.rs"]
mod cost_tests;
#[cfg(test)]
#[path = "search_failing_tests.rs"]
mod failing_tests;
#[cfg(test)]
#[path = "search_generator_tests.rs"]
mod generator_tests;
#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
