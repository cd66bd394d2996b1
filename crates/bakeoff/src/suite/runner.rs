//! Executes a [`Plan`]: starts each contender once per launch, runs its windows
//! while it is up, and hands every finished [`Cell`] to a [`CellSink`].
//!
//! Three phases (see docs/methodology.md):
//! 1. the capacity trials, in the plan's Latin-square order, each trial an
//!    independent search ([`search_capacity`]) — no trial is seeded from another —
//!    then one more search of each trial the machine left machine-noisy, in the
//!    time those would have taken clean (`search_again`);
//! 2. with every trial done, the equal-load rates (half the lowest median
//!    capacity of each workload, `EqualRates`);
//! 3. one final launch per contender for the equal-load windows and the
//!    WebSocket memory points, then extra spawns for the `startup` samples.
//!
//! A cell is emitted as soon as nothing later in the plan can change it.

use crate::error::chain;
use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::cell::CellState;
use super::equal::{Cost, EqualRates};
use super::plan::{CellKey, Launch, LaunchKind, Plan, ASSUMED_STARTUP};
use super::search::{search_capacity, SearchConfig, Windows, MIN_ACHIEVED_RATIO};
use super::windows::{HttpWindows, WsWindows};
use super::{
    DriveError, Driver, Launcher, ProcessSet, ResourceUsage, RunningContender, Sampler, Warmup,
    WindowPurpose, WindowSpec, WsSpec,
};
use crate::model::{
    Cell, EqualLoad, Flag, ProbeReadings, ProbeSummaries, SearchStep, StepVerdict, Trial,
    TrialOutcome, WsPoint,
};
use crate::workload::{RateUnit, Workload};

mod emit;
mod final_windows;

/// Receives each finished cell (the store writes it in one transaction).
pub trait CellSink: Send {
    fn cell_finished(&mut self, cell: &Cell) -> Result<(), BoxError>;
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<F: FnMut(&Cell) -> Result<(), BoxError> + Send> CellSink for F {
    fn cell_finished(&mut self, cell: &Cell) -> Result<(), BoxError> {
        self(cell)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// Cancelled; every cell finished before it was handed to the sink.
    #[error("run interrupted after {finished} finished cells")]
    Interrupted {
        finished: usize,
        /// The probes' readings until then, as [`RunOutcome::probes`]
        /// (boxed: the error stays small).
        probes: Box<ProbeSummaries>,
        #[source]
        source: crate::Interrupted,
    },
    #[error("saving a finished cell")]
    Sink(#[source] BoxError),
}

/// Every cell of the plan, in the order they were finished.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub cells: Vec<Cell>,
    /// Wall time of the whole plan.
    pub wall: Duration,
    /// Time inside measurements (warm-ups, windows, idle samples); the rest is
    /// bakeoff's overhead (start-ups, stops, bookkeeping).
    pub measuring: Duration,
    /// The probes' readings over the run, summarised per probe.
    pub probes: ProbeSummaries,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProgressPhase {
    Starting,
    Search { step: u32 },
    EqualLoad,
    Ws { clients: u32 },
    Stopping,
}

impl std::fmt::Display for ProgressPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProgressPhase::Starting => write!(f, "starting"),
            ProgressPhase::Search { step } => write!(f, "capacity search, step {}", step + 1),
            ProgressPhase::EqualLoad => write!(f, "equal load"),
            ProgressPhase::Ws { clients } => write!(f, "ws, {clients} clients"),
            ProgressPhase::Stopping => write!(f, "stopping"),
        }
    }
}

/// A progress report, sent while the plan runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// e.g. "node-fastify json ×1, trial 1/3".
    pub cell: String,
    pub phase: ProgressPhase,
    pub rate: Option<f64>,
    /// What `rate` counts.
    pub unit: RateUnit,
    pub p99_ms: Option<f64>,
    /// Launches done / all launches.
    pub done: f64,
    /// Upper estimate of the time left.
    pub eta: Duration,
}

/// Why the current launch ended early.
enum Abort {
    Cancelled,
    Sink(BoxError),
}

impl From<SuiteError> for Abort {
    fn from(e: SuiteError) -> Self {
        match e {
            SuiteError::Interrupted { .. } => Abort::Cancelled,
            SuiteError::Sink(e) => Abort::Sink(e),
        }
    }
}

/// Run the plan. Cancellation stops before the next window (the driver also stops
/// its current one), stops the contender, and returns [`SuiteError::Interrupted`].
pub async fn run_plan(
    plan: &Plan,
    launcher: &dyn Launcher,
    driver: &dyn Driver,
    sampler: &dyn Sampler,
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(&Progress) + Send),
    sink: &mut dyn CellSink,
) -> Result<RunOutcome, SuiteError> {
    let began = Instant::now();
    let launches = plan.launches();
    let budgets = launches
        .iter()
        .map(|l| plan.launch_budget(l, ASSUMED_STARTUP))
        .collect();
    let mut r = PlanExecution {
        plan,
        launcher,
        driver,
        sampler,
        cancel,
        progress,
        sink,
        cells: BTreeMap::new(),
        emitted: Vec::new(),
        budgets,
        current: 0,
        current_started: Instant::now(),
        equal_rates: EqualRates::default(),
        measuring: Duration::ZERO,
        probes: ProbeReadings::default(),
        searches: Vec::new(),
        again_until: None,
    };
    // The run's first readings, before any launch.
    sampler.read_probes(&mut r.probes);
    for key in plan.cells() {
        let st = CellState::planned(plan, &key);
        r.cells.insert(key, st);
    }
    let skipped: Vec<CellKey> = r
        .cells
        .iter()
        .filter(|(_, s)| s.skipped.is_some())
        .map(|(k, _)| k.clone())
        .collect();
    for key in skipped {
        r.emit(&key)?;
    }
    let finals = launches
        .iter()
        .position(|l| !matches!(l.kind, LaunchKind::Capacity { .. }))
        .unwrap_or(launches.len());
    for (i, launch) in launches.iter().enumerate() {
        if i == finals {
            r.search_again(&launches[..finals], began).await?;
            // Every trial is done: the common rates of the final pass.
            r.equal_rates = EqualRates::of(&r.cells, plan);
        }
        if cancel.is_cancelled() {
            return Err(r.interrupted()?);
        }
        r.current = i;
        r.current_started = Instant::now();
        match r.run_launch(launch).await {
            Ok(()) => {}
            Err(Abort::Cancelled) => return Err(r.interrupted()?),
            Err(Abort::Sink(e)) => return Err(SuiteError::Sink(e)),
        }
        // Startup cells are done after their contender's last spawn at that count.
        let later = launches[i + 1..]
            .iter()
            .any(|l| l.contender == launch.contender && l.workers == launch.workers);
        if !later {
            let key = PlanExecution::key(launch, Workload::Startup);
            if r.cells.get(&key).is_some_and(|s| !s.done) {
                r.emit(&key)?;
            }
        }
    }
    if finals == launches.len() {
        r.search_again(&launches, began).await?;
    }
    let rest: Vec<CellKey> = r
        .cells
        .iter()
        .filter(|(_, s)| !s.done)
        .map(|(k, _)| k.clone())
        .collect();
    for key in rest {
        r.emit(&key)?;
    }
    Ok(RunOutcome {
        probes: r.probes.summary(),
        cells: r.emitted,
        wall: began.elapsed(),
        measuring: r.measuring,
    })
}

/// (share of launches done, upper estimate of the time left) from the worst-case
/// budget of each launch; while trials are searched again, from the plan's
/// worst case (`deadline`), which they never pass.
fn eta(
    budgets: &[Duration],
    current: usize,
    started: Instant,
    deadline: Option<Instant>,
) -> (f64, Duration) {
    let n = budgets.len().max(1);
    let left: Duration = budgets.iter().skip(current + 1).sum();
    let here = budgets
        .get(current)
        .map_or(Duration::ZERO, |b| b.saturating_sub(started.elapsed()));
    let left = match deadline {
        Some(d) => d.saturating_duration_since(Instant::now()),
        None => left + here,
    };
    (current as f64 / n as f64, left)
}

/// The state of one plan's execution: the cells so far, the budgets, the equal-load rates.
struct PlanExecution<'a> {
    plan: &'a Plan,
    launcher: &'a dyn Launcher,
    driver: &'a dyn Driver,
    sampler: &'a dyn Sampler,
    cancel: &'a CancellationToken,
    progress: &'a mut (dyn FnMut(&Progress) + Send),
    sink: &'a mut dyn CellSink,
    cells: BTreeMap<CellKey, CellState>,
    emitted: Vec<Cell>,
    budgets: Vec<Duration>,
    current: usize,
    current_started: Instant,
    equal_rates: EqualRates,
    measuring: Duration,
    /// The probes' readings so far (the first before the first launch, then
    /// before and after each search).
    probes: ProbeReadings,
    /// Each search so far: whether it ended machine-noisy, and how long it took.
    searches: Vec<(bool, Duration)>,
    /// While machine-noisy trials are searched again: the plan's worst-case
    /// end, which those searches never pass.
    again_until: Option<Instant>,
}

/// What a contender did at rest, right after it started.
struct Idle {
    mem_bytes: u64,
    /// CPU cores used while idle.
    cpu_cores: f64,
}

impl PlanExecution<'_> {
    fn key(launch: &Launch, workload: Workload) -> CellKey {
        CellKey {
            database: workload.uses_database().then_some(launch.database),
            contender: launch.contender.clone(),
            workload,
            workers: launch.workers,
        }
    }

    /// Whether the cell at `key` is still to be measured.
    fn pending(&self, key: &CellKey) -> bool {
        self.cells.get(key).is_some_and(CellState::pending)
    }

    fn state(&mut self, key: &CellKey) -> &mut CellState {
        self.cells
            .get_mut(key)
            .expect("every planned cell has a state")
    }

    fn report(
        &mut self,
        what: &str,
        phase: ProgressPhase,
        rate: Option<(f64, &Workload)>,
        p99: Option<f64>,
    ) {
        let (done, eta) = eta(
            &self.budgets,
            self.current,
            self.current_started,
            self.again_until,
        );
        (self.progress)(&Progress {
            cell: what.to_string(),
            phase,
            rate: rate.map(|(r, _)| r),
            unit: rate.map_or(RateUnit::Requests, |(_, w)| w.rate_unit()),
            p99_ms: p99,
            done,
            eta,
        });
    }

    /// Search once more each trial the machine left machine-noisy, in the
    /// capacity pass's order: a machine that stalls comes and goes in
    /// minutes, and a machine-noisy trial ends in seconds. They start while
    /// time is left of what the machine-noisy trials saved against clean ones
    /// (the mean of the run's clean searches each), so a run takes about as
    /// long as on a quiet machine, at most one search more, and never past
    /// the plan's worst case (the final pass keeps its own). The new search
    /// replaces the trial; its steps follow the first's.
    async fn search_again(
        &mut self,
        capacity: &[Launch],
        began: Instant,
    ) -> Result<(), SuiteError> {
        let planned: Duration = self.budgets.iter().sum();
        let finals: Duration = self.budgets[capacity.len()..].iter().sum();
        let (noisy, clean): (Vec<_>, Vec<_>) = self.searches.iter().partition(|(n, _)| *n);
        let Some(typical) = clean
            .iter()
            .map(|(_, d)| *d)
            .sum::<Duration>()
            .checked_div(clean.len() as u32)
        else {
            return Ok(()); // no clean search to go by: the machine never let up
        };
        // What the machine-noisy trials saved against clean ones.
        let mut room: Duration = noisy.iter().map(|(_, d)| typical.saturating_sub(*d)).sum();
        for (i, launch) in capacity.iter().enumerate() {
            let LaunchKind::Capacity { trial } = launch.kind else {
                continue;
            };
            let noisy = |w: &Workload| {
                self.cells
                    .get(&Self::key(launch, w.clone()))
                    .is_some_and(|st| st.pending() && st.machine_noisy(trial))
            };
            let again = Launch {
                workloads: launch
                    .workloads
                    .iter()
                    .filter(|w| noisy(w))
                    .cloned()
                    .collect(),
                ws: launch.ws && noisy(&Workload::Ws),
                ..launch.clone()
            };
            if again.workloads.is_empty() && !again.ws {
                continue;
            }
            if began.elapsed() + self.budgets[i] + finals > planned || room.is_zero() {
                break;
            }
            let t = Instant::now();
            self.again_until = Some(began + planned);
            let ran = self.run_launch(&again).await;
            self.again_until = None;
            match ran {
                Ok(()) => {}
                Err(Abort::Cancelled) => return Err(self.interrupted()?),
                Err(Abort::Sink(e)) => return Err(SuiteError::Sink(e)),
            }
            room = room.saturating_sub(t.elapsed());
        }
        Ok(())
    }

    /// "trial 1/3", and "searched again" while it is.
    fn trial_label(&self, trial: u32) -> String {
        let again = if self.again_until.is_some() {
            ", searched again"
        } else {
            ""
        };
        format!("trial {}/{}{again}", trial + 1, self.plan.trials)
    }

    async fn run_launch(&mut self, launch: &Launch) -> Result<(), Abort> {
        let startup_key = Self::key(launch, Workload::Startup);
        // A launch with the dataset loaded says nothing about a plain start-up.
        let wants_startup = self.plan.launch_samples_startup(launch) && self.pending(&startup_key);
        let any_http = launch
            .workloads
            .iter()
            .any(|w| self.pending(&Self::key(launch, w.clone())));
        let any_ws = launch.ws && self.pending(&Self::key(launch, Workload::Ws));
        if !wants_startup && !any_http && !any_ws {
            return Ok(());
        }
        let on = match self.plan.databases.len() {
            1 => String::new(),
            _ => format!(" on {}", launch.database),
        };
        let label = match launch.kind {
            LaunchKind::Capacity { trial } => format!(
                "{} ×{}{on}, {}",
                launch.contender,
                launch.workers,
                self.trial_label(trial)
            ),
            LaunchKind::Final => {
                format!("{} ×{}{on}, equal load", launch.contender, launch.workers)
            }
            LaunchKind::StartupOnly => format!("{} ×{}, startup", launch.contender, launch.workers),
        };
        self.report(&label, ProgressPhase::Starting, None, None);
        let launched = self
            .launcher
            .launch(
                &launch.contender,
                launch.workers,
                launch.data,
                launch.database,
                self.cancel,
            )
            .await;
        if self.cancel.is_cancelled() {
            if let Ok(h) = launched {
                let _ = h.stop().await;
            }
            return Err(Abort::Cancelled);
        }
        let mut handle = match launched {
            Ok(h) => h,
            Err(e) => {
                self.fail_group(launch, &format!("failed to start: {}", chain(&e)))?;
                return Ok(());
            }
        };
        let result = self.while_up(launch, &mut handle, wants_startup).await;
        self.report(&label, ProgressPhase::Stopping, None, None);
        let stopped = handle.stop().await;
        result?;
        if let Err(e) = stopped {
            if let Some(st) = self.cells.get_mut(&startup_key) {
                st.notes.push(format!(
                    "stopping {} failed: {}",
                    launch.contender,
                    chain(&e)
                ));
            }
        }
        Ok(())
    }

    async fn while_up(
        &mut self,
        launch: &Launch,
        handle: &mut Box<dyn RunningContender>,
        wants_startup: bool,
    ) -> Result<(), Abort> {
        let procs = handle.processes();
        let idle = if wants_startup || launch.kind == LaunchKind::Final {
            self.idle(launch, &procs).await?
        } else {
            None
        };
        if wants_startup {
            let ms = handle.startup_time().as_secs_f64() * 1000.0;
            let st = self.state(&Self::key(launch, Workload::Startup));
            st.startup_ms.push(ms);
            if let Some(i) = &idle {
                st.idle_mem.push(i.mem_bytes);
            }
        }
        let idle_cpu = idle.map(|i| i.cpu_cores);
        let mut first = true;
        let mut steps: Vec<(Workload, bool)> = launch
            .workloads
            .iter()
            .map(|w| (w.clone(), false))
            .collect();
        if launch.ws {
            steps.push((Workload::Ws, true));
        }
        for (w, is_ws) in steps {
            let key = Self::key(launch, w.clone());
            if !self.pending(&key) {
                continue;
            }
            if self.cancel.is_cancelled() {
                return Err(Abort::Cancelled);
            }
            let t = Instant::now();
            let url = handle.base_url().to_string();
            let res = match (launch.kind, is_ws) {
                (LaunchKind::Capacity { trial }, _) => {
                    let warm_first = std::mem::replace(&mut first, false);
                    self.capacity(&key, &url, trial, warm_first).await
                }
                (LaunchKind::Final, false) => self.equal_load(&key, &url, &procs, idle_cpu).await,
                (LaunchKind::Final, true) => self.ws_points(&key, &url, &procs).await,
                (LaunchKind::StartupOnly, _) => Ok(()),
            };
            self.measuring += t.elapsed();
            match res {
                Ok(()) => {}
                Err(DriveError::Cancelled) => return Err(Abort::Cancelled),
                Err(e @ DriveError::Failed { .. }) => {
                    let msg = chain(&e);
                    if let Some(reason) = handle.exited() {
                        let why = format!("crashed during {w}: {reason} (load: {msg})");
                        self.fail_group(launch, &why)?;
                        return Ok(());
                    }
                    self.state(&key).failed = Some(format!("load failed: {msg}"));
                    self.emit(&key)?;
                    continue;
                }
            }
            if let Some(reason) = handle.exited() {
                self.fail_group(launch, &format!("crashed after {w}: {reason}"))?;
                return Ok(());
            }
            if launch.kind == LaunchKind::Final {
                self.emit(&key)?;
            }
        }
        Ok(())
    }

    /// Memory and CPU of the idle contender over the idle-sample period; a
    /// sampling error becomes a note on the launch's cells.
    async fn idle(&mut self, launch: &Launch, procs: &ProcessSet) -> Result<Option<Idle>, Abort> {
        let d = self.plan.scaled(self.plan.phases.idle_sample);
        let t = Instant::now();
        let usage = self.sampled(procs, d).await;
        self.measuring += t.elapsed();
        let secs = t.elapsed().as_secs_f64();
        match usage {
            Ok(u) => Ok(Some(Idle {
                mem_bytes: u.mem_mean_bytes,
                cpu_cores: if secs > 0.0 {
                    u.cpu_seconds / secs
                } else {
                    0.0
                },
            })),
            Err(Unsampled::Cancelled) => Err(Abort::Cancelled),
            Err(Unsampled::Failed(e)) => {
                let key = Self::key(launch, Workload::Startup);
                if let Some(st) = self.cells.get_mut(&key) {
                    st.notes.push(chain(&e));
                }
                Ok(None)
            }
        }
    }

    /// One trial's capacity search of a cell: an HTTP workload, or the ws fan-out.
    async fn capacity(
        &mut self,
        key: &CellKey,
        url: &str,
        trial: u32,
        first: bool,
    ) -> Result<(), DriveError> {
        // A failing server's cell is out of verdicts whatever its other
        // trials find: they are recorded failing, unsearched (each ~20 s).
        if let Some(earlier) = self
            .state(key)
            .trials
            .iter()
            .find(|t| t.outcome == TrialOutcome::Failing)
            .map(|t| t.index + 1)
        {
            self.state(key).record_trial(Trial {
                index: trial,
                capacity_rps: None,
                outcome: TrialOutcome::Failing,
                note: Some(format!("not searched: trial {earlier} was failing")),
                steps: Vec::new(),
            });
            return Ok(());
        }
        let cfg = SearchConfig::for_plan(self.plan, &key.workload, first);
        let what = format!("{key}, {}", self.trial_label(trial));
        let (driver, cancel) = (self.driver, self.cancel);
        let http = HttpWindows {
            driver,
            contender: &key.contender,
            base_url: url,
            workload: key.workload.clone(),
            database: key.database,
        };
        let ws = WsWindows {
            driver,
            base_url: url,
            clients: self.plan.ws_search_clients(),
            min_deliveries: self.plan.ws_min_deliveries(),
        };
        let windows: &dyn Windows = if key.workload == Workload::Ws {
            &ws
        } else {
            &http
        };
        let (budgets, current, started, until) = (
            &self.budgets,
            self.current,
            self.current_started,
            self.again_until,
        );
        let progress = &mut *self.progress;
        let mut on_step = |s: &SearchStep| {
            let (done, eta) = eta(budgets, current, started, until);
            progress(&Progress {
                cell: what.clone(),
                phase: ProgressPhase::Search { step: s.index },
                rate: Some(s.target_rps),
                unit: key.workload.rate_unit(),
                p99_ms: Some(s.p99_ms),
                done,
                eta,
            });
        };
        let before = self.sampler.read_probes(&mut self.probes);
        let searching = Instant::now();
        let out = search_capacity(windows, &cfg, cancel, &mut on_step).await?;
        self.searches.push((
            out.outcome == TrialOutcome::MachineNoisy,
            searching.elapsed(),
        ));
        let after = self.sampler.read_probes(&mut self.probes);
        let around: Vec<_> = self.probes.around(before, after).collect();
        let limit = self.plan.steal_limit;
        // A search again has notes of its own beside the first search's.
        let label = match self.again_until {
            Some(_) => format!("trial {}, searched again", trial + 1),
            None => format!("trial {}", trial + 1),
        };
        let st = self.state(key);
        for (site, speeds) in around {
            st.check_drift(&label, site, speeds);
        }
        if out.steal_tolerated > 0 {
            let judged = out
                .steps
                .iter()
                .filter(|s| s.verdict != StepVerdict::Stalled)
                .count();
            st.flag(
                Flag::StealTolerated,
                format!(
                    "{label}: {} of its {judged} judged windows ran with hypervisor steal over the default limit and under the run's raised --max-steal {}, judged as the server's: the capacity may read low",
                    out.steal_tolerated,
                    limit.percent()
                ),
            );
        }
        // A trial that is no sample has its note in its flag's line
        // (`CellState::finish`), or in the search again's if one replaces it.
        let said = (out.outcome.is_sample())
            .then(|| out.note.as_ref().map(|n| format!("{label}: {n}")))
            .flatten();
        // After the trial, so a search again's note follows "searched again".
        st.record_trial(Trial {
            index: trial,
            capacity_rps: out.capacity,
            outcome: out.outcome,
            note: out.note,
            steps: out.steps,
        });
        st.notes.extend(said);
        Ok(())
    }

    /// Sample the process set for `d`, stopping early on cancellation.
    async fn sampled(&self, procs: &ProcessSet, d: Duration) -> Result<ResourceUsage, Unsampled> {
        let sleep = async {
            tokio::select! {
                _ = tokio::time::sleep(d) => true,
                _ = self.cancel.cancelled() => false,
            }
        };
        let (slept, usage, _) = sampled_around(self.sampler, procs, sleep).await;
        match (slept, usage) {
            (false, _) => Err(Unsampled::Cancelled),
            (true, usage) => usage.map_err(Unsampled::Failed),
        }
    }
}

/// Why [`PlanExecution::sampled`] has no usage: a stop, or a sampling error (a note).
enum Unsampled {
    Cancelled,
    Failed(super::SampleError),
}

/// `window` with the contender's resources sampled around it: its output, the
/// usage, and the seconds sampled.
async fn sampled_around<T>(
    sampler: &dyn Sampler,
    procs: &ProcessSet,
    window: impl std::future::Future<Output = T>,
) -> (T, Result<ResourceUsage, crate::suite::SampleError>, f64) {
    let sampling = sampler.start(procs);
    let started = Instant::now();
    let out = window.await;
    let secs = started.elapsed().as_secs_f64();
    let usage = match sampling {
        Ok(s) => s.finish().await,
        Err(e) => Err(e),
    };
    (out, usage, secs)
}
