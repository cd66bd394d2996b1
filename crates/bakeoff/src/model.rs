//! The results model: what one `bakeoff run` measured, as plain data.
//!
//! The suite produces these structs, the store persists them, and the reports and
//! the verdict read them. Nothing here does I/O. All latencies are milliseconds,
//! rates are requests per second, memory is bytes.
//!
//! Every kind is an enum with one table to and from its text (`text` for the
//! closed kinds, each open kind's `name`). A workload, language or flag this
//! bakeoff does not know reads back as [`Workload::Custom`], [`Language::Other`]
//! or [`Flag::Other`], so a store or a document from another version still reads.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::workload::Workload;

mod estimate;
mod flag;
mod keys;
mod probe;
mod text;
pub use estimate::{Estimate, Interval};
pub use flag::Flag;
pub use keys::{Endpoint, RuntimeKey};
pub use probe::{
    BySite, Probe, ProbeReading, ProbeReadings, ProbeSite, ProbeSummaries, ProbeSummary, Wakeups,
};
pub(crate) use text::open_schema;
pub(crate) use text::text_enum;
pub use text::{Language, UnknownName};

/// One `bakeoff run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Run {
    pub id: i64,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub settings: Settings,
    pub environment: Environment,
    pub contenders: Vec<ContenderInfo>,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Complete,
    Interrupted,
    Failed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 4] = [
        RunStatus::Running,
        RunStatus::Complete,
        RunStatus::Interrupted,
        RunStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }
}
text_enum!(RunStatus, "run status");

/// How much a run measures: quick (one trial, short windows), standard (three
/// trials, the data workload) or full (every contender and workload, sweeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Profile {
    Quick,
    Standard,
    Full,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Quick, Profile::Standard, Profile::Full];

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Quick => "quick",
            Profile::Standard => "standard",
            Profile::Full => "full",
        }
    }
}
text_enum!(Profile, "profile");

/// What the user asked for, after the profile was applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Settings {
    pub profile: Profile,
    pub slo_p99_ms: f64,
    pub trials: u32,
    pub duration_scale: f64,
    pub contenders: Vec<String>,
    pub workloads: Vec<Workload>,
    pub workers: Vec<u32>,
    /// Where the database workloads read their rows (sqlite for older runs);
    /// with several, the first: the one the other workloads' launches had.
    #[serde(default)]
    pub database: crate::database::Database,
    /// Every database the database workloads ran on, in the order asked
    /// (`--database sqlite,postgres`); empty in runs stored before the axis,
    /// meaning `[database]` (see [`Settings::databases`]).
    #[serde(default)]
    pub databases: Vec<crate::database::Database>,
    /// The machine's steal, in percent, from which a window was voided as the
    /// machine's (`--max-steal`; 2 by default); none in runs stored before it
    /// could be set, which used 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steal_percent: Option<f64>,
    /// The capacity search bisected until its bracket's high ÷ low was at
    /// most 1 + this (0.08 in quick): a capacity is a rate that passed, up to
    /// this share below the highest that would have. None in runs stored
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_resolution: Option<f64>,
}

impl Settings {
    /// The databases the run's database workloads ran on: `databases`, or
    /// `[database]` for a run stored before the axis.
    pub fn databases(&self) -> Vec<crate::database::Database> {
        if self.databases.is_empty() {
            vec![self.database]
        } else {
            self.databases.clone()
        }
    }

    /// The steal limit the run raised above the default, in percent, if it did:
    /// its windows with steal under it were judged as the server's, and its
    /// capacities may read low.
    pub fn raised_steal_limit(&self) -> Option<f64> {
        self.max_steal_percent
            .filter(|&p| crate::suite::live::StealLimit::is_raised(p))
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Environment {
    pub cpu_model: String,
    pub cores: u32,
    pub memory_bytes: u64,
    pub kernel: String,
    pub os: String,
    pub bakeoff_version: String,
    pub git_revision: Option<String>,
    /// e.g. "generator: cpu 0; contender: cpu 1", or "unpinned (1 core)".
    pub pinning: String,
    /// Runtime -> version (node -> "v20.20.2", python -> "3.11.7"), and on some
    /// runs the PostgreSQL server, its pool size and the Python interpreters found.
    pub runtimes: BTreeMap<RuntimeKey, String>,
    /// The contender's core's speed over the run, as the drift probe read it;
    /// none for runs stored before it was kept, or cut short.
    #[serde(default)]
    pub core_speed: Option<ProbeSummary>,
    /// The generator's core's speed, read at the same moments: the generator, the
    /// upstream and the kernel's half of the loopback traffic share it, so a
    /// slower one adds its delay to every measured request, and near the
    /// generator's limit caps a capacity. None as above, and
    /// when the generator is not pinned.
    #[serde(default)]
    pub generator_core_speed: Option<ProbeSummary>,
    /// Loopback TCP round trips between the contender's core and the
    /// generator's, timed at the same moments: the path every measured request
    /// takes, which moved with the servers' capacities on a host where the
    /// integer loop did not. None for runs stored before it was kept, or cut
    /// short before any reading.
    #[serde(default)]
    pub loopback_speed: Option<ProbeSummary>,
}

impl Environment {
    /// What the probe at `site` read over the run, where the run kept it.
    pub fn probe_at(&self, site: ProbeSite) -> Option<&ProbeSummary> {
        let kept = BySite {
            contender: self.core_speed.as_ref(),
            generator: self.generator_core_speed.as_ref(),
            loopback: self.loopback_speed.as_ref(),
        };
        *kept.at(site)
    }

    /// Each probe's summary the run kept, with where it read, in the order
    /// reports list them.
    pub fn probes(&self) -> impl Iterator<Item = (ProbeSite, &ProbeSummary)> {
        ProbeSite::ALL
            .into_iter()
            .filter_map(|site| Some((site, self.probe_at(site)?)))
    }
}

/// A contender as set up for this run: identity plus the measured footprint
/// (the "frameworks, libraries" and "learning curve" grounds).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ContenderInfo {
    pub name: String,
    pub language: Language,
    pub runtime: String,
    pub runtime_version: String,
    pub framework: String,
    pub framework_version: String,
    pub server: String,
    pub deps_direct: u32,
    pub deps_total: u32,
    pub install_bytes: u64,
    pub install_secs: f64,
    pub app_loc: u32,
    /// Endpoint -> reason it is not served.
    pub unsupported: BTreeMap<Endpoint, String>,
    /// The base's disclosures, then the variant's own.
    pub disclosures: Vec<String>,
    /// Set when this contender is a configuration variant (`<of>@<name>`).
    #[serde(default)]
    pub variant: Option<VariantInfo>,
}

/// A contender's `[[variants]]` identity: `python-flask@sync` is variant `sync`
/// of `python-flask`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VariantInfo {
    /// The base contender's name.
    pub of: String,
    /// The variant's name (after the `@`).
    pub name: String,
    pub description: String,
}

impl ContenderInfo {
    /// `python-flask@sync — variant of python-flask: <description>`, or just the name.
    pub fn label(&self) -> String {
        match &self.variant {
            Some(v) => format!("{} — variant of {}: {}", self.name, v.of, v.description),
            None => self.name.clone(),
        }
    }
}

/// One contender × workload × worker count. Serialized with one derived
/// field more, `rate_unit` (the workload's, "req/s" or "msg/s"), so a JSON
/// reader need not know which workloads count messages.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, transform = with_rate_unit)]
pub struct Cell {
    pub contender: String,
    pub workload: Workload,
    pub workers: u32,
    /// The database a database workload's cell ran on; none for the others.
    /// With `--database sqlite,postgres` a contender has one db cell per database.
    #[serde(default)]
    pub database: Option<crate::database::Database>,
    pub status: CellStatus,
    /// Capacity at the SLO across trials, in `rate_unit` (req/s; a `ws`
    /// cell's fan-out messages/s), as are its trials' rates.
    pub capacity: Option<Estimate>,
    pub trials: Vec<Trial>,
    /// Latency and cost at the workload's common rate.
    pub equal_load: Option<EqualLoad>,
    /// `ws` only: one point per client count.
    pub ws: Vec<WsPoint>,
    /// `startup` only.
    pub startup: Option<Startup>,
    /// Scaling efficiency cap(w) / (w × cap(1)), when a worker sweep ran.
    pub scaling_efficiency: Option<f64>,
    /// What the suite noticed; their meanings are in `report::table::flag_meaning`.
    pub flags: Vec<Flag>,
    /// Human notes behind the flags.
    pub notes: Vec<String>,
}

impl Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // Destructured without `..`: a field added to `Cell` and not
        // serialized here does not compile.
        let Cell {
            contender,
            workload,
            workers,
            database,
            status,
            capacity,
            trials,
            equal_load,
            ws,
            startup,
            scaling_efficiency,
            flags,
            notes,
        } = self;
        let mut st = s.serialize_struct("Cell", 14)?;
        st.serialize_field("contender", contender)?;
        st.serialize_field("workload", workload)?;
        st.serialize_field("rate_unit", workload.rate_unit().as_str())?;
        st.serialize_field("workers", workers)?;
        st.serialize_field("database", database)?;
        st.serialize_field("status", status)?;
        st.serialize_field("capacity", capacity)?;
        st.serialize_field("trials", trials)?;
        st.serialize_field("equal_load", equal_load)?;
        st.serialize_field("ws", ws)?;
        st.serialize_field("startup", startup)?;
        st.serialize_field("scaling_efficiency", scaling_efficiency)?;
        st.serialize_field("flags", flags)?;
        st.serialize_field("notes", notes)?;
        st.end()
    }
}

/// The schema of [`Cell`]'s one serialized field more.
fn with_rate_unit(schema: &mut schemars::Schema) {
    let unit = schemars::json_schema!({
        "type": "string",
        "enum": crate::workload::RateUnit::ALL.map(|u| u.as_str()),
        "description": "What the cell's rates count: req/s, or msg/s for a `ws` cell (messages fanned out to a room's clients). Derived from the workload; ignored when read."
    });
    if let Some(p) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        p.insert("rate_unit".into(), unit.into());
    }
    if let Some(r) = schema.get_mut("required").and_then(|r| r.as_array_mut()) {
        r.push("rate_unit".into());
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
#[schemars(deny_unknown_fields)]
pub enum CellStatus {
    Ok,
    Failed { reason: String },
    Skipped { reason: String },
}

impl CellStatus {
    pub fn is_ok(&self) -> bool {
        matches!(self, CellStatus::Ok)
    }
}

/// How one trial's capacity search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialOutcome {
    /// `capacity_rps` is the rate that passed its confirmation window.
    Confirmed,
    /// Even the lowest rate failed; `capacity_rps` is None and counts as a 0 sample.
    NoCapacity,
    /// Even the lowest rate failed, answered mostly with errors: the server is
    /// broken, not slow. `capacity_rps` is None and no sample: a 0 would be a
    /// verdict on a broken app, not on its stack.
    Failing,
    /// The search stopped before its resolution; `capacity_rps` is a lower
    /// bound (a sample at it only where its cell's bracket rule counts it:
    /// `suite::bracket`).
    Truncated,
    /// No clean window could be had; `capacity_rps` is None.
    MachineNoisy,
    /// The generator could not go higher; `capacity_rps` is a lower bound.
    GeneratorLimited,
}

impl TrialOutcome {
    pub const ALL: [TrialOutcome; 6] = [
        TrialOutcome::Confirmed,
        TrialOutcome::NoCapacity,
        TrialOutcome::Failing,
        TrialOutcome::Truncated,
        TrialOutcome::MachineNoisy,
        TrialOutcome::GeneratorLimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrialOutcome::Confirmed => "confirmed",
            TrialOutcome::NoCapacity => "no_capacity",
            TrialOutcome::Failing => "failing",
            TrialOutcome::Truncated => "truncated",
            TrialOutcome::MachineNoisy => "machine_noisy",
            TrialOutcome::GeneratorLimited => "generator_limited",
        }
    }

    /// Whether such a trial is a sample of the estimate (see [`TrialOutcome::sample`]).
    pub fn is_sample(self) -> bool {
        matches!(self, TrialOutcome::Confirmed | TrialOutcome::NoCapacity)
    }

    /// The trial's sample for the cell's estimate: its capacity when confirmed, 0
    /// when nothing passed, and none (not a sample) otherwise.
    pub fn sample(self, capacity_rps: Option<f64>) -> Option<f64> {
        match self {
            TrialOutcome::Confirmed => capacity_rps,
            TrialOutcome::NoCapacity => Some(0.0),
            TrialOutcome::Failing
            | TrialOutcome::Truncated
            | TrialOutcome::MachineNoisy
            | TrialOutcome::GeneratorLimited => None,
        }
    }
}
text_enum!(TrialOutcome, "trial outcome");

/// One trial's capacity search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Trial {
    pub index: u32,
    /// See [`TrialOutcome`] for what this is under each outcome; in its
    /// cell's `rate_unit`.
    pub capacity_rps: Option<f64>,
    pub outcome: TrialOutcome,
    /// Why the trial ended as it did, when it is not plainly confirmed.
    pub note: Option<String>,
    pub steps: Vec<SearchStep>,
}

impl Trial {
    /// This trial's sample for the estimate (see [`TrialOutcome::sample`]).
    pub fn sample(&self) -> Option<f64> {
        self.outcome.sample(self.capacity_rps)
    }
}

/// Which part of the search a window belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepPhase {
    Ramp,
    Bisect,
    /// A stalled window run again.
    Retest,
    /// The long window that holds the candidate capacity.
    Confirm,
}

impl StepPhase {
    pub const ALL: [StepPhase; 4] = [
        StepPhase::Ramp,
        StepPhase::Bisect,
        StepPhase::Retest,
        StepPhase::Confirm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepPhase::Ramp => "ramp",
            StepPhase::Bisect => "bisect",
            StepPhase::Retest => "retest",
            StepPhase::Confirm => "confirm",
        }
    }
}
text_enum!(StepPhase, "search phase");

/// How a search window was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepVerdict {
    Pass,
    Fail,
    /// The machine held the generator up; the window is retried, not judged.
    Stalled,
    GeneratorLimited,
}

impl StepVerdict {
    pub const ALL: [StepVerdict; 4] = [
        StepVerdict::Pass,
        StepVerdict::Fail,
        StepVerdict::Stalled,
        StepVerdict::GeneratorLimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepVerdict::Pass => "pass",
            StepVerdict::Fail => "fail",
            StepVerdict::Stalled => "stalled",
            StepVerdict::GeneratorLimited => "generator_limited",
        }
    }
}
text_enum!(StepVerdict, "step verdict");

/// One window of the capacity search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SearchStep {
    pub index: u32,
    pub phase: StepPhase,
    /// The window's offered rate, in its cell's `rate_unit`.
    pub target_rps: f64,
    /// What it answered within the window (and its grace), in the same unit.
    pub achieved_rps: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
    pub verdict: StepVerdict,
    /// The measured window's length, seconds.
    pub duration_s: f64,
    /// Why it failed or was stalled, e.g. "p99 131 ms > 100 ms".
    pub reasons: Vec<String>,
}

impl SearchStep {
    pub fn pass(&self) -> bool {
        self.verdict == StepVerdict::Pass
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub p9999: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct EqualLoad {
    pub target_rps: f64,
    pub achieved_rps: f64,
    pub requests: u64,
    pub errors: u64,
    /// From the intended send time (coordinated-omission corrected).
    pub latency: Percentiles,
    /// From the actual send.
    pub service: Percentiles,
    /// `cpu-mixed`: the light (`/json`) requests alone, corrected.
    pub light: Option<Percentiles>,
    /// (quantile, ms) points from p50 to p99.99, corrected.
    pub spectrum: Vec<[f64; 2]>,
    /// (quantile, ms) points from p50 to p99.99, service time.
    pub service_spectrum: Vec<[f64; 2]>,
    /// Average CPU per request over the measured window, the contender's idle
    /// CPU included; `None`: not measured (sampling failed, nothing achieved).
    #[serde(default)]
    pub cpu_ms_per_request: Option<f64>,
    /// The contender's idle CPU, in cores, when measured.
    pub idle_cpu_cores: Option<f64>,
    /// CPU per request with the idle baseline subtracted.
    pub marginal_cpu_ms_per_request: Option<f64>,
    /// The database server's CPU per request (postgres runs' db workloads).
    #[serde(default)]
    pub database_cpu_ms_per_request: Option<f64>,
    /// The contender's memory (PSS where the kernel has it) over the window,
    /// peak and mean; `None` where it could not be sampled.
    pub rss_peak_bytes: Option<u64>,
    pub rss_mean_bytes: Option<u64>,
    pub timeline: Vec<TimelinePoint>,
    /// A check of the measurement against an independent count, when one exists.
    pub consistency: Option<Consistency>,
    /// HdrHistogram V2 (deflate) blobs, by name ("latency", "service", "light").
    /// Persisted by the store; not part of the JSON document.
    #[serde(skip)]
    pub histograms: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TimelinePoint {
    pub second: u32,
    pub rps: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

/// A cross-check of the engine's counts against an independent source, e.g.
/// check "upstream calls": ok_all ≤ calls ≤ sent_all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Consistency {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct WsPoint {
    pub clients: u32,
    /// Messages sent per second into the room.
    pub rate: f64,
    pub sent: u64,
    pub expected_deliveries: u64,
    pub deliveries: u64,
    pub missing: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// 0 when not measured (see `bytes_per_connection`).
    pub rss_idle_bytes: u64,
    pub rss_loaded_bytes: u64,
    /// (rss_loaded - rss_idle) / clients; `None` when the sampler could not
    /// read the server's memory (the cell's notes say why), so that no claim
    /// reads an unmeasured server as the leaner.
    pub bytes_per_connection: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Startup {
    /// Spawn to first healthy answer, across trials.
    pub to_healthy_ms: Estimate,
    pub idle_rss_bytes: u64,
}

/// Flags that keep a cell's capacity out of verdicts: the search could not give a
/// plain capacity (truncated), or the server answered a trial mostly with
/// errors (failing: its other trials' capacity is not the stack's either).
pub const FLAGS_OUT_OF_VERDICTS: [Flag; 3] = [Flag::Truncated, Flag::Failing, Flag::Interrupted];

impl Cell {
    /// Why this cell's capacity is left out of verdicts, if it is: a flag in
    /// [`FLAGS_OUT_OF_VERDICTS`], a trial that only gave a lower bound, or
    /// machine-noisy trials and no clean one.
    ///
    /// A machine-noisy trial is the machine's, not the server's: the stall
    /// rule voided its windows whatever the server did. So it is left out of
    /// the estimate and the cell's clean trials stand for it, with their own
    /// `n` (one clean trial is indicative). A truncated or generator-limited
    /// trial is the server's search giving only a lower bound: dropping it
    /// would leave the estimate on the trials that finished, so it keeps the
    /// whole cell out (flagged), unless its bracket leaves the headline within
    /// the resolution, when it is a sample and the cell is not flagged
    /// (`suite::bracket`). A failing trial is the app's, broken, and keeps the
    /// cell out too.
    pub fn out_of_verdicts(&self) -> Option<Flag> {
        if let Some(f) = self
            .flags
            .iter()
            .find(|f| FLAGS_OUT_OF_VERDICTS.contains(f))
        {
            return Some(f.clone());
        }
        if self
            .trials
            .iter()
            .any(|t| t.outcome == TrialOutcome::GeneratorLimited)
        {
            return Some(Flag::GeneratorLimited);
        }
        // The capacity is the clean trials' estimate: none, no clean trial.
        (self.flags.contains(&Flag::MachineNoisy) && self.capacity.is_none())
            .then_some(Flag::MachineNoisy)
    }

    /// The equal-load figures, unless the machine stalled every attempt at
    /// that window ([`Flag::EqualLoadStalled`]) or its rate was set without
    /// this cell's capacity ([`Flag::EqualLoadUnbased`]): verdicts read these.
    pub fn verdict_equal_load(&self) -> Option<&EqualLoad> {
        self.equal_load.as_ref().filter(|_| {
            !self
                .flags
                .iter()
                .any(|f| matches!(f, Flag::EqualLoadStalled | Flag::EqualLoadUnbased))
        })
    }

    /// The equal-load memory verdicts read: a stall does not change a memory
    /// sample (an `equal-load-stalled` cell's counts), but a rate above what
    /// the cell sustains may, an overloaded server holding its queue
    /// ([`Flag::EqualLoadUnbased`]).
    pub fn verdict_equal_load_memory(&self) -> Option<&EqualLoad> {
        self.equal_load
            .as_ref()
            .filter(|_| !self.flags.contains(&Flag::EqualLoadUnbased))
    }

    /// The capacity, unless the cell is left out of verdicts.
    pub fn verdict_capacity(&self) -> Option<Estimate> {
        self.capacity.filter(|_| self.out_of_verdicts().is_none())
    }
}

impl Run {
    pub fn contender(&self, name: &str) -> Option<&ContenderInfo> {
        self.contenders.iter().find(|c| c.name == name)
    }

    /// The cell for this contender and workload at the run's default worker count
    /// (the lowest worker count measured for that pair); for a database
    /// workload measured on several databases, the one on
    /// [`Run::verdict_database`] (PostgreSQL when it ran).
    pub fn cell(&self, contender: &str, workload: &Workload) -> Option<&Cell> {
        let on = workload
            .uses_database()
            .then(|| self.verdict_database(workload))
            .flatten();
        self.cells
            .iter()
            .filter(|c| c.contender == contender && c.workload == *workload)
            .filter(|c| on.is_none() || c.database == on)
            .min_by_key(|c| c.workers)
    }

    /// Whether verdicts read `cell`: it has no database, or the one its
    /// workload's verdicts rest on ([`Run::verdict_database`]).
    pub fn in_verdicts(&self, cell: &Cell) -> bool {
        cell.database.is_none() || cell.database == self.verdict_database(&cell.workload)
    }

    /// The database whose cells of `workload` the verdicts (claims, advice)
    /// rest on: PostgreSQL when the run measured the workload on it, as
    /// production services reach their data, else the one it ran on; none
    /// for a workload without database cells.
    pub fn verdict_database(&self, workload: &Workload) -> Option<crate::database::Database> {
        self.cells
            .iter()
            .filter(|c| c.workload == *workload)
            .filter_map(|c| c.database)
            .max()
    }
}
