//! The results model: what one `bakeoff run` measured, as plain data.
//!
//! The suite produces these structs, the store persists them, and the reports and
//! the verdict read them. Nothing here does I/O. All latencies are milliseconds,
//! rates are requests per second, memory is bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One `bakeoff run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Complete,
    Interrupted,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }
}

/// What the user asked for, after the profile was applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// quick | standard | full
    pub profile: String,
    pub slo_p99_ms: f64,
    pub trials: u32,
    pub duration_scale: f64,
    pub contenders: Vec<String>,
    pub workloads: Vec<String>,
    pub workers: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
    /// Runtime name -> version, e.g. "node" -> "v20.20.2", "python" -> "3.11.7".
    pub runtimes: BTreeMap<String, String>,
}

/// A contender as set up for this run: identity plus the measured footprint
/// (the "frameworks, libraries" and "learning curve" grounds).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContenderInfo {
    pub name: String,
    /// "node" | "python" | other
    pub language: String,
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
    /// Endpoint/workload name -> reason it is not served.
    pub unsupported: BTreeMap<String, String>,
    /// The base's disclosures, then the variant's own.
    pub disclosures: Vec<String>,
    /// Set when this contender is a configuration variant (`<of>@<name>`).
    #[serde(default)]
    pub variant: Option<VariantInfo>,
}

/// A contender's `[[variants]]` identity: `python-flask@sync` is variant `sync`
/// of `python-flask`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VariantInfo {
    /// The base contender's name.
    pub of: String,
    /// The variant's name (after the `@`).
    pub name: String,
    pub description: String,
}

impl ContenderInfo {
    /// "python-flask@sync — variant of python-flask: <description>", or just the name.
    pub fn label(&self) -> String {
        match &self.variant {
            Some(v) => format!("{} — variant of {}: {}", self.name, v.of, v.description),
            None => self.name.clone(),
        }
    }
}

/// One contender × workload × worker count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub contender: String,
    pub workload: String,
    pub workers: u32,
    pub status: CellStatus,
    /// Capacity at the SLO (req/s) across trials. For `ws`, messages/s.
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
    /// Machine-readable flags: "noisy", "contended", "littles-law", "generator-limited".
    pub flags: Vec<String>,
    /// Human notes behind the flags.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
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

/// A median with its 95% bootstrap confidence interval over trials.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Coefficient of variation of the samples.
    pub cv: f64,
    pub n: u32,
    /// cv > 10%
    pub noisy: bool,
}

/// One trial's capacity search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub index: u32,
    /// The highest rate that met the SLO, if any did.
    pub capacity_rps: Option<f64>,
    pub steps: Vec<SearchStep>,
}

/// One window of the capacity search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchStep {
    pub index: u32,
    /// "ramp" | "bisect"
    pub phase: String,
    pub target_rps: f64,
    pub achieved_rps: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
    pub pass: bool,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub p9999: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub cpu_ms_per_request: f64,
    pub rss_peak_bytes: u64,
    pub rss_mean_bytes: u64,
    pub timeline: Vec<TimelinePoint>,
    pub littles_law: LittlesLaw,
    /// HdrHistogram V2 (deflate) blobs, by name ("latency", "service", "light").
    /// Persisted by the store; not part of the JSON document.
    #[serde(skip)]
    pub histograms: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    pub second: u32,
    pub rps: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

/// Little's law: mean in-flight requests ≈ throughput × mean latency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LittlesLaw {
    /// Measured mean number of requests in flight.
    pub observed_concurrency: f64,
    /// achieved_rps × mean service time.
    pub predicted_concurrency: f64,
    pub ok: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    pub rss_idle_bytes: u64,
    pub rss_loaded_bytes: u64,
    /// (rss_loaded - rss_idle) / clients
    pub bytes_per_connection: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Startup {
    /// Spawn to first healthy answer, across trials.
    pub to_healthy_ms: Estimate,
    pub idle_rss_bytes: u64,
}

impl Run {
    pub fn contender(&self, name: &str) -> Option<&ContenderInfo> {
        self.contenders.iter().find(|c| c.name == name)
    }

    /// The cell for this contender and workload at the run's default worker count
    /// (the lowest worker count measured for that pair).
    pub fn cell(&self, contender: &str, workload: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .filter(|c| c.contender == contender && c.workload == workload)
            .min_by_key(|c| c.workers)
    }
}
