//! The plan: profile + options → contenders × workloads × worker counts × trials,
//! the launch order (interleaved trials), and the phase durations with their
//! time budget (see docs/methodology.md, "Time budget"); the launch order
//! itself is in `launches`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::database::Database;
use crate::measure::PinLayout;
pub use crate::model::Profile;
use crate::model::Settings;
use crate::suite::live::StealLimit;
use crate::workload::Workload;

/// The contenders of quick and standard: the two most used frameworks of each
/// language. node-http and python-django join with `--contenders` or in full;
/// six contenders × three trials do not fit standard's 45 minutes on 2 cores
/// (docs/capacity-passes.md, "Time").
pub const DEFAULT_CONTENDERS: [&str; 4] = [
    "node-fastify",
    "node-express",
    "python-fastapi",
    "python-flask",
];
/// Quick leaves `data` to standard: its own launch and low rates (long
/// windows) cost quick about 140 s of its 8 minutes (docs/capacity-passes.md, "Time").
const QUICK_WORKLOADS: [Workload; 6] = [
    Workload::Json,
    Workload::Db,
    Workload::Io,
    Workload::CpuMixed,
    Workload::Ws,
    Workload::Startup,
];
const STANDARD_WORKLOADS: [Workload; 7] = [
    Workload::Json,
    Workload::Db,
    Workload::Io,
    Workload::CpuMixed,
    Workload::Data,
    Workload::Ws,
    Workload::Startup,
];
/// Worker sweep of the full profile.
const FULL_WORKERS: [u32; 3] = [1, 2, 4];
const MAX_TRIALS: u32 = 100;
const MAX_WORKERS: u32 = 256;
const SCALE_RANGE: (f64, f64) = (0.01, 100.0);
const SLO_MAX: Duration = Duration::from_secs(60);
/// Deliveries each WebSocket window rests on, at least, at scale 1.
pub const WS_MIN_DELIVERIES: u64 = 1_000;
/// Start-up time assumed by the budget (the reference apps take 0.5–3 s here).
pub const ASSUMED_STARTUP: Duration = Duration::from_secs(3);

/// The profile's default contender names, `None` meaning "every contender available".
pub fn default_contenders(profile: Profile) -> Option<&'static [&'static str]> {
    match profile {
        Profile::Quick | Profile::Standard => Some(&DEFAULT_CONTENDERS),
        Profile::Full => None,
    }
}

/// The options of `bakeoff run` that shape the plan, as typed by the user.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub profile: Profile,
    /// Empty: the profile's workloads, then every contender's custom ones.
    pub workloads: Vec<String>,
    pub trials: Option<u32>,
    /// Empty: each contender's manifest default (full: 1, 2, 4).
    pub workers: Vec<u32>,
    /// e.g. "100ms".
    pub slo_p99: String,
    pub duration_scale: f64,
    /// CPUs this process may use; the contender's are these less the
    /// generator's ([`Plan::contender_cores`], for the `contended` flag).
    pub available_cores: u32,
    /// The machine's steal, in percent, from which a window is voided (none:
    /// the default, see [`crate::suite::live::StealLimit`]).
    pub max_steal: Option<f64>,
}

/// A contender as the plan needs it (resolved by the caller from its manifest).
#[derive(Debug, Clone, PartialEq)]
pub struct ContenderSpec {
    pub name: String,
    pub default_workers: u32,
    pub max_workers: u32,
    /// Endpoint → why it is not served.
    pub unsupported: BTreeMap<crate::model::Endpoint, String>,
    /// The names of its own workloads (manifest `[[workloads]]`); other
    /// contenders' custom workloads are skipped for it.
    pub custom: Vec<String>,
    /// Why none of its cells is measured (e.g. its dependencies do not install on
    /// the runtime it was derived for); set after setup by [`Plan::skip_contender`].
    pub skipped: Option<String>,
    /// Database → why its database workloads cannot run on it (the manifest
    /// does not declare it).
    pub databases_unsupported: BTreeMap<Database, String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("--workloads: {0}")]
    UnknownWorkload(String),
    #[error("--workloads lists `{0}` twice; name each workload once")]
    DuplicateWorkload(String),
    #[error("--trials {0}: give a number of trials from 1 to {MAX_TRIALS}")]
    Trials(u32),
    #[error("--duration-scale {0}: give a factor from {lo} to {hi} (tests use 0.1)", lo = SCALE_RANGE.0, hi = SCALE_RANGE.1)]
    Scale(f64),
    #[error("--slo-p99 `{value}`: {reason}; give a positive duration such as 100ms")]
    Slo { value: String, reason: String },
    #[error("--workers {0}: give worker counts from 1 to {MAX_WORKERS}, e.g. --workers 1,2,4")]
    Workers(u32),
    #[error("no contenders to run; name some with --contenders or add one with --contender PATH")]
    NoContenders,
    #[error("contender `{0}` is listed twice; name each contender once")]
    DuplicateContender(String),
    #[error("--max-steal {0}: give the machine's steal, in percent, from which a window is the machine's: from {lo} (the default) to {hi}", lo = StealLimit::DEFAULT_PERCENT, hi = StealLimit::MAX_PERCENT)]
    MaxSteal(f64),
    #[error(transparent)]
    DuplicateDatabase(#[from] crate::database::DuplicateDatabase),
}

/// The steal limit of `--max-steal PERCENT` (none: the default) under a p99
/// objective of `slo` (its burst bar is half the SLO).
pub fn steal_limit(percent: Option<f64>, slo: Duration) -> Result<StealLimit, PlanError> {
    let limit = percent.map_or(Ok(StealLimit::default()), |p| {
        StealLimit::from_percent(p).ok_or(PlanError::MaxSteal(p))
    })?;
    Ok(limit.for_slo(slo))
}

impl From<PlanError> for crate::InputError {
    fn from(e: PlanError) -> Self {
        crate::InputError::new(e.to_string())
    }
}

/// Phase durations at scale 1 (see [`Plan::scaled`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Phases {
    /// Adaptive warm-up cap before a contender's first workload (JIT, pools).
    pub first_warmup_max: Duration,
    /// Adaptive warm-up cap before each further workload's search.
    pub warmup_max: Duration,
    /// Fixed settle time before each search window.
    pub step_warmup: Duration,
    /// A search window lasts `step_target_requests / rate`, within these bounds.
    pub step_min: Duration,
    pub step_max: Duration,
    pub step_target_requests: u32,
    pub max_steps: u32,
    /// No new search window starts after this much time in one search.
    pub search_budget: Duration,
    /// The search bisects until high ÷ low ≤ 1 + resolution.
    pub resolution: f64,
    /// Re-runs of a window the machine stalled, per step.
    pub max_retries: u32,
    /// The window that confirms a search's candidate, and how many windows' worth
    /// of running time the long windows may take (see `SearchConfig::max_confirms`).
    pub confirm_window: Duration,
    pub max_confirms: u32,
    /// The longest wait for an overloaded server to work off its queue.
    pub max_drain: Duration,
    pub equal_warmup_max: Duration,
    pub equal_window: Duration,
    /// Idle memory sampling after start-up and before each ws point.
    pub idle_sample: Duration,
    pub ws_clients: Vec<u32>,
    /// Messages per second into the room.
    pub ws_rate: f64,
    pub ws_window: Duration,
    /// Start-up samples per contender, at least (extra spawns make up the difference).
    pub startup_spawns: u32,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

impl Phases {
    pub fn for_profile(profile: Profile) -> Phases {
        match profile {
            Profile::Quick => Phases {
                first_warmup_max: secs(2.0),
                warmup_max: secs(1.0),
                step_warmup: secs(0.1),
                step_min: secs(0.3),
                step_max: secs(1.0),
                step_target_requests: 200,
                max_steps: 18,
                search_budget: secs(16.0),
                resolution: 0.08,
                max_retries: 2,
                confirm_window: secs(5.0),
                max_confirms: 3,
                max_drain: secs(1.0),
                equal_warmup_max: secs(0.5),
                equal_window: secs(1.0),
                idle_sample: secs(0.5),
                ws_clients: vec![100, 1000],
                ws_rate: 10.0,
                ws_window: secs(3.0),
                startup_spawns: 3,
            },
            Profile::Standard => Phases {
                first_warmup_max: secs(5.0),
                warmup_max: secs(1.0),
                step_warmup: secs(0.1),
                step_min: secs(0.3),
                step_max: secs(1.0),
                step_target_requests: 200,
                max_steps: 18,
                search_budget: secs(18.0),
                resolution: 0.03,
                max_retries: 2,
                confirm_window: secs(10.0),
                max_confirms: 4,
                max_drain: secs(2.0),
                equal_warmup_max: secs(1.0),
                equal_window: secs(3.0),
                idle_sample: secs(0.5),
                ws_clients: vec![100, 1000],
                ws_rate: 10.0,
                ws_window: secs(3.0),
                startup_spawns: 5,
            },
            Profile::Full => Phases {
                first_warmup_max: secs(10.0),
                warmup_max: secs(5.0),
                step_warmup: secs(0.5),
                step_min: secs(2.0),
                step_max: secs(5.0),
                step_target_requests: 2000,
                max_steps: 20,
                search_budget: secs(60.0),
                resolution: 0.02,
                max_retries: 3,
                confirm_window: secs(30.0),
                max_confirms: 5,
                max_drain: secs(5.0),
                equal_warmup_max: secs(5.0),
                equal_window: secs(15.0),
                idle_sample: secs(1.0),
                ws_clients: vec![100, 1000, 5000],
                ws_rate: 10.0,
                ws_window: secs(10.0),
                startup_spawns: 10,
            },
        }
    }
}

/// One cell's coordinates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub contender: String,
    pub workload: Workload,
    pub workers: u32,
    /// The database of a database workload's cell; none for the others.
    pub database: Option<Database>,
}

impl std::fmt::Display for CellKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ×{}", self.contender, self.workload, self.workers)?;
        match self.database {
            Some(d) => write!(f, " on {d}"),
            None => Ok(()),
        }
    }
}

/// Why a contender is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchKind {
    /// Capacity searches of one trial.
    Capacity { trial: u32 },
    /// Equal-load windows and the ws points, once the capacities are known.
    Final,
    /// Only to sample spawn → healthy time and idle memory.
    StartupOnly,
}

/// One start of a contender and what runs while it is up.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub kind: LaunchKind,
    pub contender: String,
    pub workers: u32,
    /// HTTP workloads measured during this launch.
    pub workloads: Vec<Workload>,
    pub ws: bool,
    /// The contender gets the dataset (`BAKEOFF_DATA`): only launches of `data`.
    pub data: bool,
    /// The database the contender is given. Launches on the plan's first
    /// database run every workload; those on the others only the database
    /// workloads.
    pub database: Database,
}

/// A validated plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub profile: Profile,
    pub slo_p99_ms: f64,
    pub trials: u32,
    pub duration_scale: f64,
    /// CPUs the contender is pinned to, for the `contended` flag: the machine's
    /// less the generator's (as [`PinLayout::for_cpus`] lays them out); `run`
    /// sets the layout's own, which a database server or spare generator
    /// cores make smaller. 0: unpinned, sharing the generator's.
    pub contender_cores: u32,
    pub contenders: Vec<ContenderSpec>,
    pub workloads: Vec<Workload>,
    /// The worker counts asked for (empty: each contender's default).
    pub workers: Vec<u32>,
    pub phases: Phases,
    /// The equal-load rates an earlier run of the same plan used, to reuse
    /// (set by the caller from the store; none: derived afresh).
    pub previous_equal_rates: Option<super::equal::PreviousRates>,
    /// Where the database workloads read their rows, each database its own
    /// cells (set by the caller; never empty, without repeats). The first is
    /// the one the other workloads' launches get.
    pub databases: Vec<Database>,
    /// How much steal voids a window.
    pub steal_limit: StealLimit,
}

impl Plan {
    /// Validate the options against the profile and the resolved contenders.
    pub fn build(opts: &PlanOptions, contenders: Vec<ContenderSpec>) -> Result<Plan, PlanError> {
        let trials = opts.trials.unwrap_or(match opts.profile {
            Profile::Quick => 1,
            Profile::Standard => 3,
            Profile::Full => 5,
        });
        if trials == 0 || trials > MAX_TRIALS {
            return Err(PlanError::Trials(trials));
        }
        let scale = opts.duration_scale;
        if !(scale.is_finite() && (SCALE_RANGE.0..=SCALE_RANGE.1).contains(&scale)) {
            return Err(PlanError::Scale(scale));
        }
        let slo_p99_ms = parse_slo(&opts.slo_p99)?;
        let steal_limit = steal_limit(opts.max_steal, Duration::from_secs_f64(slo_p99_ms / 1e3))?;
        let workloads = if opts.workloads.is_empty() {
            let mut v = match opts.profile {
                // Standard is quick's plan plus `data`, three times, with longer
                // windows, inside 45 minutes; the rest with --workloads or full.
                Profile::Quick => QUICK_WORKLOADS.to_vec(),
                Profile::Standard => STANDARD_WORKLOADS.to_vec(),
                Profile::Full => Workload::ALL.to_vec(),
            };
            // The contenders' own workloads join every profile, each name
            // once; then the profile's workloads none of them serves are left
            // out (a user's app with only its own workloads runs those alone).
            let mut custom = Vec::new();
            for name in contenders.iter().flat_map(|c| &c.custom) {
                let w = Workload::Custom(name.clone());
                if !custom.contains(&w) {
                    custom.push(w);
                }
            }
            if !custom.is_empty() {
                v.retain(|w| {
                    contenders.iter().any(|c| {
                        w.endpoints()
                            .iter()
                            .all(|ep| !c.unsupported.contains_key(ep))
                    })
                });
            }
            v.extend(custom);
            v
        } else {
            let mut v = Vec::new();
            for name in &opts.workloads {
                let w = parse_workload(name.trim(), &contenders)?;
                if v.contains(&w) {
                    return Err(PlanError::DuplicateWorkload(w.name().into()));
                }
                v.push(w);
            }
            v
        };
        let mut workers = opts.workers.clone();
        if let Some(&bad) = workers.iter().find(|&&w| w == 0 || w > MAX_WORKERS) {
            return Err(PlanError::Workers(bad));
        }
        if workers.is_empty() && opts.profile == Profile::Full {
            workers = FULL_WORKERS.to_vec();
        }
        workers.sort_unstable();
        workers.dedup();
        if contenders.is_empty() {
            return Err(PlanError::NoContenders);
        }
        for (i, c) in contenders.iter().enumerate() {
            if contenders[..i].iter().any(|o| o.name == c.name) {
                return Err(PlanError::DuplicateContender(c.name.clone()));
            }
        }
        Ok(Plan {
            profile: opts.profile,
            slo_p99_ms,
            trials,
            duration_scale: scale,
            contender_cores: PinLayout::for_cpus(
                &(0..opts.available_cores.max(1) as usize).collect::<Vec<_>>(),
            )
            .contender
            .len() as u32,
            contenders,
            workloads,
            workers,
            phases: Phases::for_profile(opts.profile),
            previous_equal_rates: None,
            databases: vec![Database::default()],
            steal_limit,
        })
    }

    /// Measure the database workloads on each of `databases`, in this order
    /// (empty: the default, SQLite).
    pub fn set_databases(&mut self, databases: &[Database]) -> Result<(), PlanError> {
        self.databases = crate::database::distinct(databases)?;
        Ok(())
    }

    /// The database of the launches that run every workload (the first asked).
    pub fn primary_database(&self) -> Database {
        self.databases.first().copied().unwrap_or_default()
    }

    /// The databases a workload's cells run on: each of the plan's for a
    /// database workload, none (one cell) for the others.
    pub fn databases_of(&self, w: &Workload) -> Vec<Option<Database>> {
        if w.uses_database() {
            self.databases.iter().map(|&d| Some(d)).collect()
        } else {
            vec![None]
        }
    }

    /// Whether `key`'s cell is measured in launches on `database`: a database
    /// workload's on its own database, the others' on the primary one.
    pub fn measured_on(&self, key: &CellKey, database: Database) -> bool {
        key.database.unwrap_or(self.primary_database()) == database
    }

    pub fn settings(&self) -> Settings {
        Settings {
            profile: self.profile,
            slo_p99_ms: self.slo_p99_ms,
            trials: self.trials,
            duration_scale: self.duration_scale,
            contenders: self.contenders.iter().map(|c| c.name.clone()).collect(),
            workloads: self.workloads.clone(),
            workers: self.workers.clone(),
            database: self.primary_database(),
            databases: self.databases.clone(),
            max_steal_percent: Some(self.steal_limit.percent()),
            search_resolution: Some(self.phases.resolution),
        }
    }

    /// A phase duration at this plan's scale.
    pub fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.duration_scale)
    }

    /// WebSocket client counts; the duration scale shrinks them too (min 2).
    pub fn ws_clients(&self) -> Vec<u32> {
        let s = self.duration_scale.min(1.0);
        self.phases
            .ws_clients
            .iter()
            .map(|&c| ((c as f64 * s).round() as u32).max(2))
            .collect()
    }

    /// Deliveries each WebSocket window rests on, at least (1,000 at scale 1).
    pub fn ws_min_deliveries(&self) -> u64 {
        ((WS_MIN_DELIVERIES as f64 * self.duration_scale.min(1.0)) as u64).max(100)
    }

    /// Clients in the room while the fan-out capacity is searched: the
    /// profile's first ws point.
    pub fn ws_search_clients(&self) -> u32 {
        self.ws_clients().first().copied().unwrap_or(2)
    }

    pub fn contender(&self, name: &str) -> Option<&ContenderSpec> {
        self.contenders.iter().find(|c| c.name == name)
    }

    /// The worker counts used for a contender's HTTP workloads.
    pub fn worker_counts(&self, c: &ContenderSpec) -> Vec<u32> {
        if self.workers.is_empty() {
            vec![c.default_workers.max(1)]
        } else {
            self.workers.clone()
        }
    }

    /// The worker count of a contender's `startup` cell (its lowest).
    pub fn startup_workers(&self, c: &ContenderSpec) -> u32 {
        self.worker_counts(c).into_iter().min().unwrap_or(1)
    }

    fn http_workloads(&self) -> Vec<Workload> {
        self.workloads
            .iter()
            .filter(|w| !matches!(w, Workload::Ws | Workload::Startup))
            .cloned()
            .collect()
    }

    fn has(&self, w: &Workload) -> bool {
        self.workloads.contains(w)
    }

    /// Every cell of the plan, in a stable order. `ws` runs with 1 worker only.
    pub fn cells(&self) -> Vec<CellKey> {
        let mut out = Vec::new();
        for c in &self.contenders {
            for w in &self.workloads {
                let counts = match w {
                    Workload::Ws => vec![1],
                    Workload::Startup => vec![self.startup_workers(c)],
                    _ => self.worker_counts(c),
                };
                for workers in counts {
                    for database in self.databases_of(w) {
                        out.push(CellKey {
                            contender: c.name.clone(),
                            workload: w.clone(),
                            workers,
                            database,
                        });
                    }
                }
            }
        }
        out
    }

    /// Skip every cell of `name`, for `reason` (recorded with each cell).
    pub fn skip_contender(&mut self, name: &str, reason: &str) {
        if let Some(c) = self.contenders.iter_mut().find(|c| c.name == name) {
            c.skipped = Some(reason.to_string());
        }
    }

    /// Why a cell will not be measured, if it will not.
    pub fn skip_reason(&self, key: &CellKey) -> Option<String> {
        let c = self.contender(&key.contender)?;
        if let Some(why) = &c.skipped {
            return Some(why.clone());
        }
        if let Some(name) = key.workload.custom_name() {
            if !c.custom.iter().any(|n| n == name) {
                return Some(format!(
                    "{} declares no workload `{name}` (its bakeoff.toml's [[workloads]])",
                    c.name
                ));
            }
        }
        for ep in key.workload.endpoints() {
            if let Some(why) = c.unsupported.get(ep) {
                return Some(format!("`{ep}` is not served by {}: {why}", c.name));
            }
        }
        if let Some(why) = key.database.and_then(|d| c.databases_unsupported.get(&d)) {
            return Some(why.clone());
        }
        if key.workers > c.max_workers {
            return Some(format!(
                "{} allows at most {} workers (manifest `workers.max`)",
                c.name, c.max_workers
            ));
        }
        None
    }

    /// No skip reason: the plan measures `w` for `c` at `workers` (on
    /// `database`, for a database workload).
    fn runnable(&self, c: &ContenderSpec, w: &Workload, workers: u32, database: Database) -> bool {
        self.skip_reason(&CellKey {
            contender: c.name.clone(),
            workload: w.clone(),
            workers,
            database: w.uses_database().then_some(database),
        })
        .is_none()
    }
}

/// A `--workloads` name: a built-in workload, or one a contender declares.
fn parse_workload(name: &str, contenders: &[ContenderSpec]) -> Result<Workload, PlanError> {
    Workload::parse(name).or_else(|e| {
        let declared = contenders
            .iter()
            .any(|c| c.custom.iter().any(|n| n == name));
        if declared {
            return Ok(Workload::Custom(name.to_string()));
        }
        let mut custom: Vec<&str> = contenders
            .iter()
            .flat_map(|c| c.custom.iter().map(String::as_str))
            .collect();
        custom.sort_unstable();
        custom.dedup();
        Err(PlanError::UnknownWorkload(match custom.is_empty() {
            true => e.to_string(),
            false => format!("{e}, or a contender's own: {}", custom.join(", ")),
        }))
    })
}

fn parse_slo(value: &str) -> Result<f64, PlanError> {
    let err = |reason: &str| PlanError::Slo {
        value: value.into(),
        reason: reason.into(),
    };
    let d = humantime::parse_duration(value.trim()).map_err(|e| err(&e.to_string()))?;
    if d.is_zero() {
        return Err(err("the SLO must be greater than zero"));
    }
    if d > SLO_MAX {
        return Err(err("an SLO above 60s is not a latency objective"));
    }
    Ok(d.as_secs_f64() * 1000.0)
}

mod launches;

#[cfg(test)]
#[path = "plan_tests.rs"]
pub(crate) mod tests;
