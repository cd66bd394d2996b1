//! The real side effects behind the suite's traits: [`SupervisorLauncher`]
//! starts installed contenders through the supervisor, and [`EngineDriver`]
//! drives windows with the `bakeoff-load` engine. Everything here is a thin
//! translation; the logic lives in the suite and is tested with fakes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bakeoff_load::{
    self as load, Histogram, LoadConfig, LoadError, RequestSpec, Schedule, SessionSpec,
};
use futures_util::future::BoxFuture;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use tokio_util::sync::CancellationToken;

use super::search::Thirds;
use super::{
    DriveError, Driver, LaunchError, Launcher, ProcessSet, RunningContender, Sampler, Warmup,
    WindowResult, WindowSpec, WsResult, WsSpec,
};
use crate::contender::datagen::DataFiles;
use crate::contender::supervisor::{ContractEnv, Running, SpawnSpec, SuperviseError};
use crate::contender::Installed;
use crate::database::{Database, Postgres};
use crate::model::{Percentiles, TimelinePoint};
use crate::workload::upstream::UpstreamCounters;
use crate::workload::Workload;

pub use pool::{rule as pool_rule, LatencyFloors};
pub use stall::GeneratorLoad;
use stall::{generator_bound, generator_busy, generator_late};
pub use upstream::{judge_upstream, upstream_check, BEYOND_LATE};

pub use stall::{
    burst_bar, burst_steal, stall, stalled_after, stalls_warning, tolerated_steal, voiding_steal,
    window_steal, worst_steal, StealLimit, Stolen, HELD_WAKEUPS_WARNED, MIN_STOLEN, STALLED_BURST,
    STALLED_CPU_STEAL, STALLED_STEAL,
};

/// Quantiles drawn in the percentile spectrum.
const SPECTRUM: [f64; 10] = [
    0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0,
];

/// Starts contenders with the supervisor, each on a fresh copy of the database.
pub struct SupervisorLauncher {
    installed: BTreeMap<String, Installed>,
    /// Contenders that may not run, with the reason (failed setup or verification).
    rejected: BTreeMap<String, String>,
    /// Contenders that may not run on one database (failed verification there).
    rejected_on: BTreeMap<(String, Database), String>,
    data: DataFiles,
    upstream: String,
    log_dir: std::path::PathBuf,
    cpus: Option<Vec<usize>>,
    /// The run's PostgreSQL, reset to the seed before each start.
    postgres: Option<Arc<Postgres>>,
    /// Set after the manifest's and its variant's (`bakeoff serve --env`).
    env: Vec<(String, String)>,
}

impl SupervisorLauncher {
    pub fn new(
        installed: Vec<Installed>,
        rejected: BTreeMap<String, String>,
        data: DataFiles,
        upstream: String,
        log_dir: std::path::PathBuf,
        cpus: Option<Vec<usize>>,
    ) -> SupervisorLauncher {
        SupervisorLauncher {
            installed: installed
                .into_iter()
                .map(|i| (i.contender.name().to_string(), i))
                .collect(),
            rejected,
            rejected_on: BTreeMap::new(),
            data,
            upstream,
            log_dir,
            cpus,
            postgres: None,
            env: Vec::new(),
        }
    }

    /// More environment for every launch, after the manifest's and its
    /// variant's, so it overrides them.
    pub fn with_env(mut self, env: Vec<(String, String)>) -> SupervisorLauncher {
        self.env = env;
        self
    }

    /// Refuse the launches of contenders on a database, with the reason (they
    /// failed verification there, on a run that measures several).
    pub fn with_rejected_on(
        mut self,
        rejected_on: BTreeMap<(String, Database), String>,
    ) -> SupervisorLauncher {
        self.rejected_on = rejected_on;
        self
    }

    /// Give contenders the PostgreSQL server (URL, pool size), reset before each start.
    pub fn with_postgres(mut self, postgres: Arc<Postgres>) -> SupervisorLauncher {
        self.postgres = Some(postgres);
        self
    }
}

impl Launcher for SupervisorLauncher {
    fn launch<'a>(
        &'a self,
        contender: &'a str,
        workers: u32,
        data: bool,
        database: Database,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Box<dyn RunningContender>, LaunchError>> {
        Box::pin(async move {
            // A launch on SQLite is not given the server, so its db endpoints
            // read the file. The run starts one whenever a database workload
            // runs on PostgreSQL; without one, a launch on it runs none.
            let postgres = match database {
                Database::Sqlite => None,
                Database::Postgres => self.postgres.as_ref(),
            };
            if let Some(reason) = self
                .rejected
                .get(contender)
                .or_else(|| self.rejected_on.get(&(contender.to_string(), database)))
            {
                return Err(LaunchError::new(reason.clone()));
            }
            let installed = self
                .installed
                .get(contender)
                .ok_or_else(|| LaunchError::new(format!("{contender} is not installed")))?;
            let sqlite = self
                .data
                .working_copy(contender)
                .map_err(|e| LaunchError::caused("preparing its data", e))?;
            if let Some(pg) = postgres {
                // A server that died is reported by the db cells themselves
                // ([`EngineDriver::database_down`]); the others still run.
                if let Err(e) = pg.reset().await {
                    if pg.server.is_running() {
                        return Err(LaunchError::caused("resetting PostgreSQL to the seed", e));
                    }
                }
            }
            let env = ContractEnv {
                sqlite,
                data: self.data.csv.clone(),
                upstream: self.upstream.clone(),
                log_dir: self.log_dir.clone(),
                database_url: postgres.map(|pg| pg.server.url()),
            };
            let mut spec = SpawnSpec::new(installed, workers, &env);
            if !data {
                spec = spec.without_data();
            }
            spec.cpus = self.cpus.clone();
            spec.env.extend(self.env.iter().cloned());
            let max_connections = postgres.map(|pg| pg.server.max_connections());
            match Running::start(&spec, cancel).await {
                Ok(r) => Ok(Box::new(Live {
                    running: Some(r),
                    workers,
                    max_connections,
                }) as Box<dyn RunningContender>),
                Err(SuperviseError::Cancelled { .. }) => Err(LaunchError::new("cancelled")),
                Err(e) => Err(LaunchError::new(crate::database::explain_exhaustion(
                    e.to_string(),
                    contender,
                    workers,
                    max_connections,
                ))),
            }
        })
    }
}

/// A running contender; `Option` so `stop` can take it out of the box.
struct Live {
    running: Option<Running>,
    workers: u32,
    /// The PostgreSQL server's, when the run has one.
    max_connections: Option<u32>,
}

impl RunningContender for Live {
    fn base_url(&self) -> &str {
        self.running.as_ref().map_or("", |r| r.base_url())
    }

    fn processes(&self) -> ProcessSet {
        ProcessSet {
            pgid: self.running.as_ref().map(|r| r.pgid()),
            pids: Vec::new(),
        }
    }

    fn startup_time(&self) -> Duration {
        self.running
            .as_ref()
            .map_or(Duration::ZERO, |r| r.startup_time())
    }

    fn exited(&mut self) -> Option<String> {
        let r = self.running.as_mut()?;
        let status = r.try_exited()?;
        let message = format!(
            "{} exited ({status}) while being measured; last lines of {}:\n{}",
            r.name(),
            r.log_path().display(),
            r.log_tail(),
        );
        Some(crate::database::explain_exhaustion(
            message,
            r.name(),
            self.workers,
            self.max_connections,
        ))
    }

    fn stop(mut self: Box<Self>) -> BoxFuture<'static, Result<(), LaunchError>> {
        let running = self.running.take();
        Box::pin(async move {
            if let Some(r) = running {
                r.stop().await;
            }
            Ok(())
        })
    }
}

/// Drives windows with the `bakeoff-load` engine, pinned to the generator's core.
pub struct EngineDriver {
    pub pin_cpu: Option<usize>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Latency objective: sizes the connection pool and the windows' grace.
    pub slo: Duration,
    /// The upstream service's counters, read around the `io` windows: its
    /// calls against the answers, its late delays against the stall rule.
    pub upstream: Option<UpstreamCounters>,
    /// Why the run's database server is down, if it is: a window of a
    /// workload that reads it then fails with that reason instead of running.
    pub database_down: Option<Arc<dyn Fn() -> Option<String> + Send + Sync>>,
    /// The database server's processes, sampled over the equal-load windows
    /// of the database workloads (its CPU per request).
    pub database_procs: Option<ProcessSet>,
    /// The requests of `bakeoff load --find-capacity` (a URL's, or a
    /// scenario's mix) instead of the workload's.
    pub requests: Option<Vec<RequestSpec>>,
    /// Each contender's own workloads' scenarios (requests and sessions).
    pub custom: CustomRequests,
    /// A scenario's sessions over `requests` (empty: each request by weight).
    pub sessions: Vec<SessionSpec>,
    /// More generator threads for the windows one thread cannot drive.
    pub threads: GeneratorThreads,
    /// The other CPUs the measurement runs on (the contender's, the
    /// database's): steal on one of them, or on the generator's, voids a
    /// window as the machine's (see [`worst_steal`]).
    pub watched_cpus: Vec<usize>,
    /// How much steal voids a window (the run's `--max-steal`).
    pub steal_limit: StealLimit,
    /// Each contender's health path: a window opens its connections in turn,
    /// each primed with it ([`load::Prime::InTurn`]), so a pre-fork server
    /// spreads them over its workers as it would clients arriving over time.
    /// A target without one (`bakeoff load --find-capacity`'s URL) has its
    /// connections primed together with the mix's first request.
    pub prime_paths: BTreeMap<String, String>,
    /// The least latency each contender's workload has answered in, which
    /// sizes its connections for the workloads that wait ([`LatencyFloors`]).
    pub floors: LatencyFloors,
    /// The open-files limit the pools fit in (see [`pool_rule`]): the
    /// process's, read when the driver is made (after
    /// [`load::raise_open_files_limit`]); none when unlimited.
    pub files: Option<u64>,
}

/// The generator's extra threads: a window whose one engine thread was at its
/// limit (generator-limited) is run again with a thread on each spare CPU
/// too, and so is every later window at 90% of that rate or more.
#[derive(Debug, Default)]
pub struct GeneratorThreads {
    /// CPUs reserved for the generator beyond its first
    /// ([`crate::measure::PinLayout::generator_spare`]): never the
    /// contender's or the database's. Empty: one thread, always.
    pub spare: Vec<usize>,
    /// The lowest rate one thread could not drive, once seen.
    limit: std::sync::Mutex<Option<f64>>,
}

impl GeneratorThreads {
    /// Extra threads on these CPUs.
    pub fn on(spare: Vec<usize>) -> GeneratorThreads {
        GeneratorThreads {
            spare,
            limit: Default::default(),
        }
    }

    fn all(&self) -> u32 {
        1 + self.spare.len() as u32
    }

    /// The threads a window at `rate` starts with.
    pub fn for_rate(&self, rate: f64) -> u32 {
        let limit = *self.limit.lock().unwrap_or_else(|e| e.into_inner());
        if limit.is_some_and(|l| rate >= 0.9 * l) {
            self.all()
        } else {
            1
        }
    }

    /// One thread could not drive `rate` (a generator-limited window):
    /// remembered, and whether more threads can.
    pub fn limited_at(&self, rate: f64) -> bool {
        if self.spare.is_empty() {
            return false;
        }
        let mut limit = self.limit.lock().unwrap_or_else(|e| e.into_inner());
        *limit = Some(limit.map_or(rate, |l| l.min(rate)));
        true
    }
}

/// Contender name → custom workload name → its scenario (requests, sessions).
pub type CustomRequests = BTreeMap<String, BTreeMap<String, crate::scenario::Scenario>>;

impl EngineDriver {
    /// A driver for `slo` and a per-request `timeout`, on no pinned CPU,
    /// reading no upstream, database or custom requests, with one thread and
    /// the default steal limit: callers set what they have beside it.
    pub fn new(slo: Duration, timeout: Duration) -> EngineDriver {
        EngineDriver {
            pin_cpu: None,
            timeout,
            slo,
            upstream: None,
            database_down: None,
            database_procs: None,
            requests: None,
            custom: CustomRequests::new(),
            sessions: Vec::new(),
            threads: GeneratorThreads::default(),
            watched_cpus: Vec::new(),
            steal_limit: StealLimit::default().for_slo(slo),
            prime_paths: BTreeMap::new(),
            floors: LatencyFloors::default(),
            files: load::open_files_limit(),
        }
    }

    /// How long after a window's end its answers still count: twice the SLO
    /// (an answer later than that fails the SLO anyway), at least 50 ms.
    pub fn grace(&self) -> Duration {
        (self.slo * 2).max(Duration::from_millis(50))
    }

    /// See [`stalled_after`].
    pub fn stalled_after(&self) -> Duration {
        stalled_after(self.slo)
    }

    /// How a window against `contender` primes its connections (see
    /// [`EngineDriver::prime_paths`]).
    pub fn prime(&self, contender: &str) -> load::Prime {
        match self.prime_paths.get(contender) {
            Some(path) => load::Prime::InTurn(RequestSpec::get(path.clone())),
            None => load::Prime::Together,
        }
    }
}

impl EngineDriver {
    /// Enough connections to keep `rate` in flight at the SLO's latency (Little's
    /// law with 2× headroom), so the pool is never what limits an open-loop
    /// window, up to 512, TechEmpower's highest concurrency: 512 hold 2,560
    /// req/s at a mean latency of the whole SLO and 51,200 at 10 ms. More only
    /// adds the server's per-connection cost: node-fastify on `json` at 16,000
    /// req/s, 0.3 s windows, had a p99 of 73–432 ms over 2,048 connections
    /// (the priming burst and thousands of sockets each read once in 128 ms)
    /// and 1.3–4 ms over 256, with 36–40 requests in flight on average.
    /// One window with `threads` engine threads: the first on the generator's
    /// CPU, the others on its spare ones; their reports merged exactly.
    async fn drive(
        &self,
        config: LoadConfig,
        threads: u32,
        cancel: &CancellationToken,
    ) -> Result<load::LoadReport, DriveError> {
        if threads <= 1 {
            return load::run(config, cancel.clone(), None)
                .await
                .map_err(drive_error);
        }
        let pins = std::iter::once(self.pin_cpu)
            .chain(self.threads.spare.iter().map(|&c| Some(c)))
            .take(threads as usize)
            .collect();
        load::shard::run_sharded(config, pins, cancel.clone(), None)
            .await
            .map(|s| s.report)
            .map_err(drive_error)
    }

    /// The CPUs whose steal voids a window: the generator's and the watched.
    fn watched(&self) -> Vec<usize> {
        self.pin_cpu
            .iter()
            .chain(&self.watched_cpus)
            .copied()
            .collect()
    }

    /// The connections a window at `rate` opens ([`pool::connections`]),
    /// for the least latency its target has answered its workload in
    /// (`wait`): a search's light first window reads it.
    fn connections(&self, rate: f64, wait: Option<Duration>) -> u32 {
        pool::connections(rate, self.slo, wait, self.files)
    }
}

impl Driver for EngineDriver {
    fn http_window<'a>(
        &'a self,
        spec: &'a WindowSpec,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<WindowResult, DriveError>> {
        Box::pin(async move {
            if spec.database == Some(Database::Postgres) {
                if let Some(why) = self.database_down.as_ref().and_then(|f| f()) {
                    return Err(DriveError::failed(why));
                }
            }
            let target = load::Url::parse(&spec.base_url).map_err(|e| {
                DriveError::caused(format!("bad contender URL {}", spec.base_url), e)
            })?;
            let (requests, sessions) = match (&self.requests, &spec.workload) {
                (Some(own), _) => (own.clone(), self.sessions.clone()),
                (None, Workload::Custom(name)) => self
                    .custom
                    .get(&spec.contender)
                    .and_then(|c| c.get(name))
                    .map(|s| (s.requests.clone(), s.sessions.clone()))
                    .ok_or_else(|| {
                        DriveError::failed(format!(
                            "{} declares no workload `{name}`: no requests to send",
                            spec.contender
                        ))
                    })?,
                (None, _) => (
                    spec.workload
                        .requests()
                        .into_iter()
                        .map(|r| RequestSpec {
                            class: r.class.to_string(),
                            weight: r.weight,
                            ..RequestSpec::get(r.path)
                        })
                        .collect(),
                    Vec::new(),
                ),
            };
            let workload = spec.workload.name();
            let floor = self.floors.get(&spec.contender, workload);
            let connections = self.connections(spec.rate, floor);
            let config = LoadConfig {
                requests,
                sessions,
                connections,
                rate: Some(spec.rate),
                schedule: Schedule::Uniform,
                duration: Some(spec.duration),
                warmup: match spec.warmup {
                    Warmup::None => load::Warmup::Fixed(Duration::ZERO),
                    Warmup::Fixed(d) => load::Warmup::Fixed(d),
                    Warmup::Adaptive { max } => load::Warmup::Adaptive { max },
                },
                timeout: self.timeout,
                grace: Some(self.grace()),
                // Every connection accepted and served before the settle: a
                // window measures steady state, not a connection storm.
                prime: self.prime(&spec.contender),
                abandon: spec
                    .purpose
                    .abandons()
                    .then(|| load::Abandon::p99_over(self.slo, spec.rate, spec.duration)),
                pin_cpu: self.pin_cpu,
                stalled_after: self.stalled_after(),
                ..LoadConfig::new(target)
            };
            let counter = self
                .upstream
                .as_ref()
                .filter(|_| spec.workload == Workload::Io);
            let mut before = counter.map(UpstreamCounters::read);
            let db_sampling = match &self.database_procs {
                Some(p)
                    if spec.database == Some(Database::Postgres)
                        && spec.purpose == super::WindowPurpose::EqualLoad =>
                {
                    let sampler = crate::measure::ProcSampler {
                        children: true,
                        ..crate::measure::ProcSampler::default()
                    };
                    sampler.start(p).ok()
                }
                _ => None,
            };
            let sampled_from = std::time::Instant::now();
            let mut threads = self.threads.for_rate(spec.rate);
            let mut report = self.drive(config.clone(), threads, cancel).await?;
            let mut result = window_result(&report, &self.watched(), self.steal_limit);
            if threads == 1 && !result.generator_valid && self.threads.limited_at(spec.rate) {
                threads = self.threads.all();
                before = counter.map(UpstreamCounters::read);
                report = self.drive(config, threads, cancel).await?;
                result = window_result(&report, &self.watched(), self.steal_limit);
            }
            result.generator_threads = threads;
            if result.requests > 0 {
                self.floors
                    .learn(&spec.contender, workload, result.service.p50);
            }
            // This window's own answers may have lowered the floor.
            let floor = self.floors.get(&spec.contender, workload);
            if let Some(why) = pool::short(connections, spec.rate, floor, self.slo) {
                result.generator_valid = false;
                result.generator_note = Some(match result.generator_note.take() {
                    Some(other) => format!("{why}; {other}"),
                    None => why,
                });
            }
            // The run lasted its warm-up, its window, and the grace unless abandoned.
            let grace = if report.abandoned.is_some() {
                Duration::ZERO
            } else {
                self.grace()
            };
            let ran = (report.warmup + report.elapsed + grace).as_secs_f64();
            result.served_rps = if ran > 0.0 {
                report.ok_all as f64 / ran
            } else {
                0.0
            };
            if let Some(s) = db_sampling {
                let secs = sampled_from.elapsed().as_secs_f64();
                if let Ok(u) = s.finish().await {
                    // Over the measured window, as the contender's CPU.
                    let (cpu, secs) = u.cpu_of_window(result.measured_from, result.duration, secs);
                    result.database_cpu_cores = (secs > 0.0).then(|| cpu / secs);
                }
            }
            if let (Some(c), Some(before)) = (counter, before) {
                let tally = c.read() - before;
                result.consistency = Some(upstream_check(tally.calls, &report));
                let bar = c.late_after().as_secs_f64() * 1000.0;
                judge_upstream(&mut result, tally, bar, GeneratorLoad::of(&report));
            }
            Ok(result)
        })
    }

    fn ws_window<'a>(
        &'a self,
        spec: &'a WsSpec,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<WsResult, DriveError>> {
        Box::pin(self.fan_out(spec, cancel))
    }
}

fn drive_error(e: LoadError) -> DriveError {
    match e {
        LoadError::Cancelled => DriveError::Cancelled,
        other => DriveError::caused("the load engine failed", other),
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// The search's view of a window's thirds.
fn thirds(t: &load::Trend) -> Thirds {
    Thirds {
        p50_ms: t.thirds.map(|third| ms(third.p50_us)),
        p90_ms: t.thirds.map(|third| ms(third.p90_us)),
    }
}

/// Percentiles in milliseconds from a microsecond histogram.
pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    Percentiles {
        p50: ms(h.value_at_quantile(0.5)),
        p90: ms(h.value_at_quantile(0.9)),
        p99: ms(h.value_at_quantile(0.99)),
        p999: ms(h.value_at_quantile(0.999)),
        p9999: ms(h.value_at_quantile(0.9999)),
        max: ms(h.max()),
        mean: h.mean() / 1000.0,
    }
}

/// (quantile, ms) points for the spectrum chart.
pub fn spectrum(h: &Histogram<u64>) -> Vec<[f64; 2]> {
    if h.is_empty() {
        return Vec::new();
    }
    SPECTRUM
        .iter()
        .map(|&q| [q, ms(h.value_at_quantile(q))])
        .collect()
}

fn v2(h: &Histogram<u64>) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut buf).ok()?;
    Some(buf)
}

/// Translate an engine report into the suite's window result; steal on a
/// `watched` CPU (or the machine's), over the window or in a burst, voids it
/// as the machine's.
pub fn window_result(
    r: &load::LoadReport,
    watched: &[usize],
    steal_limit: StealLimit,
) -> WindowResult {
    let light = r.classes.get("light").map(|c| &c.latency);
    let mut histograms = Vec::new();
    for (name, h) in [
        ("latency", Some(&r.latency)),
        ("service", Some(&r.service)),
        ("light", light),
    ] {
        if let Some(blob) = h.and_then(v2) {
            histograms.push((name.to_string(), blob));
        }
    }
    let errors = r.error_count();
    let busy = generator_busy(r);
    let busy_late = busy.and_then(|b| generator_late(r, r.successes + errors, b));
    // The steal's span: the measured window's where the engine read it there.
    let wall = if r.window_generator_cpu.is_some() {
        r.elapsed
    } else {
        Duration::from_secs_f64(r.generator_wall_s)
    };
    let steal = window_steal(
        r.steal,
        &r.cpu_steal,
        &r.steal_bursts,
        watched,
        wall,
        steal_limit,
    );
    let steal_tolerated = tolerated_steal(steal.as_ref());
    let stalled = busy_late
        .is_none()
        .then(|| stall(r.late_stalled, r.successes + errors, steal, busy.is_some()))
        .flatten();
    let steal_tolerated = steal_tolerated.filter(|_| stalled.is_none());
    WindowResult {
        target_rps: r.target_rate.unwrap_or(0.0),
        // Never more than the server delivered in the window: answers up to
        // the cutoff, over the window alone, would read up to (window +
        // grace) ÷ window times its throughput.
        achieved_rps: r.achieved_rate.min(r.delivered_rate),
        requests: r.successes,
        errors,
        answered_errors: r
            .errors
            .iter()
            .filter(|(kind, _)| {
                !matches!(kind, load::ErrorKind::Timeout | load::ErrorKind::Overload)
            })
            .map(|(_, n)| n)
            .sum(),
        latency: percentiles(&r.latency),
        service: percentiles(&r.service),
        light: light.map(percentiles),
        spectrum: spectrum(&r.latency),
        service_spectrum: spectrum(&r.service),
        timeline: r
            .timeline
            .iter()
            .map(|s| TimelinePoint {
                second: s.second,
                rps: s.requests as f64,
                p99_ms: ms(s.p99_us),
                errors: s.errors,
            })
            .collect(),
        histograms,
        trend: r.trend.as_ref().map(thirds),
        stalled,
        steal_tolerated,
        notes: vec![],
        // What the server still holds: the window's unanswered requests, and
        // the settle's too when the window was abandoned early.
        outstanding: r.outstanding.max(r.unanswered),
        duration: r.elapsed,
        measured_from: r.measured_from,
        abandoned: r.abandoned,
        // The driver knows the grace the run lasted (see `http_window`).
        served_rps: 0.0,
        sent_all: r.sent_all,
        ok_all: r.ok_all,
        consistency: None,
        generator_valid: !generator_bound(r) && busy_late.is_none(),
        generator_note: busy_late
            .into_iter()
            .chain(r.warnings.iter().cloned())
            .reduce(|a, b| format!("{a}; {b}")),
        database_cpu_cores: None,
        generator_threads: 1,
    }
}

pub(super) mod pool;
mod stall;
#[cfg(test)]
pub(crate) mod tests;
mod upstream;
mod ws;
