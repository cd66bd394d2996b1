//! Executes a [`Plan`]: starts each contender once per launch, runs its windows
//! while it is up, and hands every finished [`Cell`] to a [`CellSink`].
//!
//! Order (see docs/methodology.md): the capacity trials, interleaved A B C A B C;
//! then one final launch per contender for the equal-load windows (at half the
//! lowest median capacity of the workload, known only once every trial is done)
//! and the WebSocket points; then extra spawns for the `startup` samples. A cell is
//! emitted as soon as nothing later in the plan can change it.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::cell::CellState;
use super::plan::{CellKey, Launch, LaunchKind, Plan, ASSUMED_STARTUP};
use super::search::{search_capacity, SearchConfig, MIN_ACHIEVED_RATIO};
use super::{
    DriveError, Driver, Launcher, ProcessSet, ResourceUsage, RunningContender, SampleError,
    Sampler, Warmup, WindowPurpose, WindowSpec, WsSpec,
};
use crate::model::{Cell, EqualLoad, SearchStep, Trial, TrialOutcome, WsPoint};
use crate::workload::Workload;

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

/// A live progress report.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// e.g. "node-fastify json ×1, trial 1/3".
    pub cell: String,
    pub phase: ProgressPhase,
    pub rate: Option<f64>,
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
    let mut r = Runner {
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
        equal_rates: None,
        measuring: Duration::ZERO,
    };
    for key in plan.cells() {
        let st = CellState {
            skipped: plan.skip_reason(&key),
            ..CellState::default()
        };
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
    for (i, launch) in launches.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(r.interrupted());
        }
        r.current = i;
        r.current_started = Instant::now();
        match r.run_launch(launch).await {
            Ok(()) => {}
            Err(Abort::Cancelled) => return Err(r.interrupted()),
            Err(Abort::Sink(e)) => return Err(SuiteError::Sink(e)),
        }
        // Startup cells are done after their contender's last spawn at that count.
        let later = launches[i + 1..]
            .iter()
            .any(|l| l.contender == launch.contender && l.workers == launch.workers);
        if !later {
            let key = CellKey {
                contender: launch.contender.clone(),
                workload: Workload::Startup,
                workers: launch.workers,
            };
            if r.cells.get(&key).is_some_and(|s| !s.done) {
                r.emit(&key)?;
            }
        }
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
        cells: r.emitted,
        wall: began.elapsed(),
        measuring: r.measuring,
    })
}

/// (share of launches done, upper estimate of the time left) from the worst-case
/// budget of each launch.
fn eta(budgets: &[Duration], current: usize, started: Instant) -> (f64, Duration) {
    let n = budgets.len().max(1);
    let left: Duration = budgets.iter().skip(current + 1).sum();
    let here = budgets
        .get(current)
        .map_or(Duration::ZERO, |b| b.saturating_sub(started.elapsed()));
    (current as f64 / n as f64, left + here)
}

struct Runner<'a> {
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
    /// (workload, worker group) → equal-load rate; computed before the first final launch.
    equal_rates: Option<BTreeMap<(Workload, u32), f64>>,
    measuring: Duration,
}

impl Runner<'_> {
    fn interrupted(&self) -> SuiteError {
        SuiteError::Interrupted {
            finished: self.emitted.len(),
            source: crate::Interrupted,
        }
    }

    fn key(launch: &Launch, workload: Workload) -> CellKey {
        CellKey {
            contender: launch.contender.clone(),
            workload,
            workers: launch.workers,
        }
    }

    fn live(&self, key: &CellKey) -> bool {
        self.cells.get(key).is_some_and(CellState::live)
    }

    fn report(&mut self, what: &str, phase: ProgressPhase, rate: Option<f64>, p99: Option<f64>) {
        let (done, eta) = eta(&self.budgets, self.current, self.current_started);
        (self.progress)(&Progress {
            cell: what.to_string(),
            phase,
            rate,
            p99_ms: p99,
            done,
            eta,
        });
    }

    async fn run_launch(&mut self, launch: &Launch) -> Result<(), Abort> {
        let startup_key = Self::key(launch, Workload::Startup);
        let wants_startup = self.live(&startup_key);
        let any_http = launch
            .workloads
            .iter()
            .any(|&w| self.live(&Self::key(launch, w)));
        let ws_key = Self::key(launch, Workload::Ws);
        let any_ws = launch.ws && self.live(&ws_key);
        if !wants_startup && !any_http && !any_ws {
            return Ok(());
        }
        let label = match launch.kind {
            LaunchKind::Capacity { trial } => format!(
                "{} ×{}, trial {}/{}",
                launch.contender,
                launch.workers,
                trial + 1,
                self.plan.trials
            ),
            LaunchKind::Final => format!("{} ×{}, equal load", launch.contender, launch.workers),
            LaunchKind::StartupOnly => format!("{} ×{}, startup", launch.contender, launch.workers),
        };
        self.report(&label, ProgressPhase::Starting, None, None);
        let launched = self
            .launcher
            .launch(&launch.contender, launch.workers, self.cancel)
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
                self.fail_group(launch, &format!("failed to start: {e}"))?;
                return Ok(());
            }
        };
        let result = self.while_up(launch, &mut handle, wants_startup).await;
        self.report(&label, ProgressPhase::Stopping, None, None);
        let stopped = handle.stop().await;
        result?;
        if let Err(e) = stopped {
            if let Some(st) = self.cells.get_mut(&startup_key) {
                st.notes
                    .push(format!("stopping {} failed: {e}", launch.contender));
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
        if wants_startup {
            let ms = handle.startup_time().as_secs_f64() * 1000.0;
            let t = Instant::now();
            let idle = self.idle_memory(&procs).await?;
            self.measuring += t.elapsed();
            let st = self
                .cells
                .get_mut(&Self::key(launch, Workload::Startup))
                .expect("cell");
            st.startup_ms.push(ms);
            match idle {
                Ok(bytes) => st.idle_mem.push(bytes),
                Err(e) => st.notes.push(e.to_string()),
            }
        }
        if launch.kind == LaunchKind::Final && self.equal_rates.is_none() {
            self.equal_rates = Some(self.compute_equal_rates());
        }
        let mut first = true;
        for &w in &launch.workloads {
            let key = Self::key(launch, w);
            if !self.live(&key) {
                continue;
            }
            if self.cancel.is_cancelled() {
                return Err(Abort::Cancelled);
            }
            let t = Instant::now();
            let res = match launch.kind {
                LaunchKind::Capacity { trial } => {
                    let warm_first = std::mem::replace(&mut first, false);
                    self.capacity(&key, handle.base_url(), trial, warm_first)
                        .await
                }
                LaunchKind::Final => self.equal_load(&key, handle.base_url(), &procs).await,
                LaunchKind::StartupOnly => Ok(()),
            };
            self.measuring += t.elapsed();
            match res {
                Ok(()) => {}
                Err(DriveError::Cancelled) => return Err(Abort::Cancelled),
                Err(DriveError::Failed(msg)) => {
                    if let Some(reason) = handle.exited() {
                        let why = format!("crashed during {w}: {reason} (load: {msg})");
                        self.fail_group(launch, &why)?;
                        return Ok(());
                    }
                    let st = self.cells.get_mut(&key).expect("cell");
                    st.failed = Some(format!("load failed: {msg}"));
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
        if launch.ws && self.live(&Self::key(launch, Workload::Ws)) {
            let t = Instant::now();
            let res = self.ws_points(launch, handle.base_url(), &procs).await;
            self.measuring += t.elapsed();
            match res {
                Ok(()) => self.emit(&Self::key(launch, Workload::Ws))?,
                Err(DriveError::Cancelled) => return Err(Abort::Cancelled),
                Err(DriveError::Failed(msg)) => {
                    let why = match handle.exited() {
                        Some(reason) => format!("crashed during ws: {reason} (load: {msg})"),
                        None => format!("load failed: {msg}"),
                    };
                    let key = Self::key(launch, Workload::Ws);
                    self.cells.get_mut(&key).expect("cell").failed = Some(why);
                    self.emit(&key)?;
                }
            }
        }
        Ok(())
    }

    /// Mean memory of the idle contender over the idle-sample period.
    async fn idle_memory(&mut self, procs: &ProcessSet) -> Result<Result<u64, SampleError>, Abort> {
        let d = self.plan.scaled(self.plan.phases.idle_sample);
        let sampling = match self.sampler.start(procs) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let slept = tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.cancel.cancelled() => false,
        };
        let usage = sampling.finish().await;
        if !slept {
            return Err(Abort::Cancelled);
        }
        Ok(usage.map(|u| u.mem_mean_bytes))
    }

    async fn capacity(
        &mut self,
        key: &CellKey,
        url: &str,
        trial: u32,
        first: bool,
    ) -> Result<(), DriveError> {
        let hint = self.cells[key]
            .trials
            .iter()
            .rev()
            .find_map(|t| t.capacity_rps);
        let cfg = SearchConfig::for_plan(self.plan, key.workload, hint, first);
        let what = format!("{key}, trial {}/{}", trial + 1, self.plan.trials);
        let (driver, cancel) = (self.driver, self.cancel);
        let (budgets, current, started) = (&self.budgets, self.current, self.current_started);
        let progress = &mut *self.progress;
        let mut on_step = |s: &SearchStep| {
            let (done, eta) = eta(budgets, current, started);
            progress(&Progress {
                cell: what.clone(),
                phase: ProgressPhase::Search { step: s.index },
                rate: Some(s.target_rps),
                p99_ms: Some(s.p99_ms),
                done,
                eta,
            });
        };
        let out = search_capacity(driver, url, key.workload, &cfg, cancel, &mut on_step).await?;
        let st = self.cells.get_mut(key).expect("cell");
        if out.generator_limited {
            st.flags.insert("generator-limited".into());
        }
        for n in out.notes {
            st.notes.push(format!("trial {}: {n}", trial + 1));
        }
        let outcome = match out.capacity {
            None => TrialOutcome::NoCapacity,
            Some(_) if out.generator_limited => TrialOutcome::GeneratorLimited,
            Some(_) => TrialOutcome::Confirmed,
        };
        st.trials.push(Trial {
            index: trial,
            capacity_rps: out.capacity,
            outcome,
            note: None,
            steps: out.steps,
        });
        Ok(())
    }

    /// Half the lowest median capacity among the contenders, per workload (and per
    /// worker count when the run sweeps workers).
    fn compute_equal_rates(&self) -> BTreeMap<(Workload, u32), f64> {
        let mut lowest: BTreeMap<(Workload, u32), f64> = BTreeMap::new();
        for (key, st) in &self.cells {
            if st.failed.is_some() || st.skipped.is_some() {
                continue;
            }
            let Some(m) = st.median_capacity() else {
                continue;
            };
            let group = (key.workload, self.worker_group(key.workers));
            let e = lowest.entry(group).or_insert(m);
            *e = e.min(m);
        }
        lowest.into_iter().map(|(k, v)| (k, v / 2.0)).collect()
    }

    /// Contenders run at their own default worker counts unless the run sweeps them.
    fn worker_group(&self, workers: u32) -> u32 {
        if self.plan.workers.is_empty() {
            0
        } else {
            workers
        }
    }

    async fn equal_load(
        &mut self,
        key: &CellKey,
        url: &str,
        procs: &ProcessSet,
    ) -> Result<(), DriveError> {
        let group = (key.workload, self.worker_group(key.workers));
        let rate = self
            .equal_rates
            .as_ref()
            .and_then(|m| m.get(&group).copied());
        let Some(rate) = rate else {
            let st = self.cells.get_mut(key).expect("cell");
            st.notes
                .push("no equal-load window: no contender met the SLO on this workload".into());
            return Ok(());
        };
        let p = &self.plan.phases;
        let settle = self.plan.scaled(p.step_warmup);
        self.report(&key.to_string(), ProgressPhase::EqualLoad, Some(rate), None);
        // Warm up apart from the measured window, so its CPU is not charged.
        let warm = WindowSpec {
            base_url: url.to_string(),
            workload: key.workload,
            rate,
            duration: settle,
            warmup: Warmup::Adaptive {
                max: self.plan.scaled(p.equal_warmup_max),
            },
            purpose: WindowPurpose::EqualLoad,
        };
        self.driver.http_window(&warm, self.cancel).await?;
        let spec = WindowSpec {
            duration: self.plan.scaled(p.equal_window),
            warmup: Warmup::Fixed(settle),
            ..warm
        };
        let sampling = self.sampler.start(procs);
        let started = Instant::now();
        let res = self.driver.http_window(&spec, self.cancel).await;
        let sampled_secs = started.elapsed().as_secs_f64();
        let usage: Result<ResourceUsage, SampleError> = match sampling {
            Ok(s) => s.finish().await,
            Err(e) => Err(e),
        };
        let r = res?;
        self.report(
            &key.to_string(),
            ProgressPhase::EqualLoad,
            Some(r.achieved_rps),
            Some(r.latency.p99),
        );
        let st = self.cells.get_mut(key).expect("cell");
        let (cpu_ms, peak, mean) = match usage {
            // CPU rate over request rate: the settle runs at the same rate as the window.
            Ok(u) if r.achieved_rps > 0.0 && sampled_secs > 0.0 => {
                if !u.pss {
                    st.notes
                        .push("memory is RSS: this kernel gave no PSS".into());
                }
                (
                    u.cpu_seconds / sampled_secs / r.achieved_rps * 1000.0,
                    u.mem_peak_bytes,
                    u.mem_mean_bytes,
                )
            }
            Ok(_) => (0.0, 0, 0),
            Err(e) => {
                st.notes
                    .push(format!("{e}; CPU and memory at equal load not measured"));
                (0.0, 0, 0)
            }
        };
        if r.achieved_rps < MIN_ACHIEVED_RATIO * rate {
            st.notes.push(format!(
                "at the equal-load rate of {rate:.0} rps it achieved only {:.0} rps",
                r.achieved_rps
            ));
        }
        if !r.generator_valid {
            st.flag(
                "generator-limited",
                format!(
                    "the load generator fell behind during the equal-load window{}",
                    r.generator_note
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                ),
            );
        }
        st.equal = Some(EqualLoad {
            target_rps: rate,
            achieved_rps: r.achieved_rps,
            requests: r.requests,
            errors: r.errors,
            latency: r.latency,
            service: r.service,
            light: r.light,
            spectrum: r.spectrum,
            service_spectrum: r.service_spectrum,
            cpu_ms_per_request: cpu_ms,
            rss_peak_bytes: peak,
            rss_mean_bytes: mean,
            timeline: r.timeline,
            idle_cpu_cores: None,
            marginal_cpu_ms_per_request: None,
            consistency: None,
            histograms: r.histograms,
        });
        Ok(())
    }

    async fn ws_points(
        &mut self,
        launch: &Launch,
        url: &str,
        procs: &ProcessSet,
    ) -> Result<(), DriveError> {
        let key = Self::key(launch, Workload::Ws);
        for clients in self.plan.ws_clients() {
            if self.cancel.is_cancelled() {
                return Err(DriveError::Cancelled);
            }
            self.report(
                &key.to_string(),
                ProgressPhase::Ws { clients },
                Some(self.plan.phases.ws_rate),
                None,
            );
            let idle = match self.idle_memory(procs).await {
                Ok(r) => r,
                Err(_) => return Err(DriveError::Cancelled),
            };
            let spec = WsSpec {
                base_url: url.to_string(),
                clients,
                rate: self.plan.phases.ws_rate,
                duration: self.plan.scaled(self.plan.phases.ws_window),
            };
            let sampling = self.sampler.start(procs);
            let res = self.driver.ws_window(&spec, self.cancel).await;
            let loaded = match sampling {
                Ok(s) => s.finish().await.map(|u| u.mem_peak_bytes),
                Err(e) => Err(e),
            };
            let r = res?;
            let st = self.cells.get_mut(&key).expect("cell");
            let (idle, loaded) = match (idle, loaded) {
                (Ok(i), Ok(l)) => (i, l),
                (Err(e), _) | (_, Err(e)) => {
                    st.notes.push(format!("{e}; ws memory not measured"));
                    (0, 0)
                }
            };
            if r.connected < clients {
                st.notes.push(format!(
                    "only {} of {clients} ws clients connected",
                    r.connected
                ));
            }
            st.ws.push(WsPoint {
                clients,
                rate: spec.rate,
                sent: r.sent,
                expected_deliveries: r.expected_deliveries,
                deliveries: r.deliveries,
                missing: r.expected_deliveries.saturating_sub(r.deliveries),
                p50_ms: r.p50_ms,
                p99_ms: r.p99_ms,
                rss_idle_bytes: idle,
                rss_loaded_bytes: loaded,
                bytes_per_connection: (loaded as f64 - idle as f64) / clients.max(1) as f64,
            });
        }
        Ok(())
    }

    /// Every unfinished cell of this contender at this worker count fails.
    fn fail_group(&mut self, launch: &Launch, reason: &str) -> Result<(), Abort> {
        let keys: Vec<CellKey> = self
            .cells
            .iter()
            .filter(|(k, s)| {
                k.contender == launch.contender && k.workers == launch.workers && s.live()
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.cells.get_mut(&key).expect("cell").failed = Some(reason.to_string());
            self.emit(&key)?;
        }
        Ok(())
    }

    /// Build the cell from its state, hand it to the sink, and mark it done.
    fn emit(&mut self, key: &CellKey) -> Result<(), SuiteError> {
        let cap1 = self.median_capacity(&CellKey {
            workers: 1,
            ..key.clone()
        });
        let st = self.cells.get_mut(key).expect("cell");
        let cell = st.finish(key, cap1, self.plan.available_cores);
        self.sink.cell_finished(&cell).map_err(SuiteError::Sink)?;
        self.emitted.push(cell);
        Ok(())
    }

    fn median_capacity(&self, key: &CellKey) -> Option<f64> {
        self.cells.get(key)?.median_capacity()
    }
}
