//! The suite: the plan, the capacity search, trials and statistics, and the runner
//! that turns them into [`crate::model::Cell`]s.
//!
//! Side effects sit behind three traits, in hyperfine's executor style, so the
//! logic is unit-tested with fakes:
//! - [`Launcher`]: starts a contender with a worker count ([`RunningContender`]);
//! - [`Driver`]: runs one open-loop HTTP window or one WebSocket window;
//! - [`Sampler`]: CPU time and memory of a process set over a window (the real one
//!   is [`crate::measure::ProcSampler`]).
//!
//! Submodules: [`plan`] (profiles, options → [`plan::Plan`], the Latin-square
//! launch order), [`search`] (capacity at the SLO: the window rules, retries of
//! stalled windows, confirmation), [`windows`] (HTTP and WebSocket windows as the
//! search sees them), [`runner`] (executes a plan), `equal` (the equal-load rates
//! and the cost figures at them), `cell` (a cell's trials into its estimate
//! and flags), `bracket` (which truncated trials still count), [`stats`]
//! (estimates over trials, Welch's test), [`live`] (the real launcher and
//! driver).
//!
//! Wiring (in `cmd::run`): resolve the contenders (names from
//! [`plan::default_contenders`] or `--contenders`) into [`ContenderSpec`]s, build
//! the plan with [`Plan::build`] (its [`PlanError`] converts into
//! [`crate::InputError`]), then call [`run_plan`] with the supervisor as
//! [`Launcher`], a `bakeoff-load` adapter as [`Driver`],
//! [`crate::measure::ProcSampler`], the command's cancellation token, a progress
//! closure, and a sink closure that stores each cell in one transaction. On
//! [`SuiteError::Interrupted`] mark the run `interrupted` (its source is
//! [`crate::Interrupted`], so the exit status is 130).

use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::model::{Consistency, Percentiles, TimelinePoint};
use crate::workload::Workload;

mod bracket;
pub use bracket::headline_upper_bound;
mod cell;
mod equal;
mod judge;
pub mod live;
pub mod plan;
pub mod runner;
pub mod search;
pub mod stats;
pub mod windows;

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod final_windows_tests;
#[cfg(test)]
mod runner_tests;
#[cfg(test)]
mod trials_tests;

pub use equal::PreviousRates;
pub use plan::{ContenderSpec, Phases, Plan, PlanError, PlanOptions, Profile};
pub use runner::{run_plan, CellSink, Progress, ProgressPhase, RunOutcome, SuiteError};
pub use search::{search_capacity, SearchConfig, SearchOutcome};

/// The processes whose resources are charged to a contender: its process group
/// (which catches forked workers) plus any explicit pids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessSet {
    pub pgid: Option<u32>,
    pub pids: Vec<u32>,
}

/// `new` (a message alone) and `caused` (a message and the error behind it)
/// for an error of a `message` and a `source: Option<Cause>`.
macro_rules! message_and_cause {
    ($t:ident) => {
        impl $t {
            /// A failure with no underlying error.
            pub fn new(message: impl Into<String>) -> Self {
                $t {
                    message: message.into(),
                    source: None,
                }
            }

            /// A failure caused by `source`.
            pub fn caused(
                message: impl Into<String>,
                source: impl std::error::Error + Send + Sync + 'static,
            ) -> Self {
                $t {
                    message: message.into(),
                    source: Some(std::sync::Arc::new(source)),
                }
            }
        }
    };
}

/// An underlying error kept as a source; shared, so the suite's errors stay `Clone`.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// A contender could not be started (or stopped cleanly). `message` says what
/// failed; `source`, when there is one, says why (shown after it in a chain).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct LaunchError {
    pub message: String,
    #[source]
    pub source: Option<Cause>,
}

message_and_cause!(LaunchError);

/// A started contender. Dropping it without [`RunningContender::stop`] is a bug in
/// the caller; the real implementation also kills its group on drop.
pub trait RunningContender: Send {
    /// e.g. `http://127.0.0.1:41234` (no trailing slash).
    fn base_url(&self) -> &str;
    fn processes(&self) -> ProcessSet;
    /// Spawn to first healthy answer.
    fn startup_time(&self) -> Duration;
    /// `Some(reason)` once the contender has exited on its own (a crash).
    fn exited(&mut self) -> Option<String>;
    /// SIGTERM, grace, SIGKILL of the group; bounded in time.
    fn stop(self: Box<Self>) -> BoxFuture<'static, Result<(), LaunchError>>;
}

/// Starts contenders; the real one is the supervisor.
pub trait Launcher: Send + Sync {
    /// Start `contender` with `workers` workers and wait (bounded) until healthy;
    /// `data`: give it the dataset (`BAKEOFF_DATA`); `database`: where its
    /// database endpoints read their rows.
    fn launch<'a>(
        &'a self,
        contender: &'a str,
        workers: u32,
        data: bool,
        database: crate::database::Database,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Box<dyn RunningContender>, LaunchError>>;
}

/// The warm-up before a measured window, excluded from its statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warmup {
    None,
    Fixed(Duration),
    /// Until throughput is stable, at most `max`.
    Adaptive {
        max: Duration,
    },
}

impl Warmup {
    /// The longest this warm-up can take.
    pub fn max(self) -> Duration {
        match self {
            Warmup::None => Duration::ZERO,
            Warmup::Fixed(d) | Warmup::Adaptive { max: d } => d,
        }
    }
}

/// Why a window runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowPurpose {
    Search,
    /// The longer window that confirms a search's candidate.
    Confirm,
    EqualLoad,
}

impl WindowPurpose {
    /// A search's windows are judged pass or fail, so one whose p99 is
    /// already over the SLO ends there (the engine's `Abandon` rule): running
    /// on only loads an overloaded server further. An equal-load window
    /// measures resources over its whole length.
    pub fn abandons(self) -> bool {
        matches!(self, WindowPurpose::Search | WindowPurpose::Confirm)
    }
}

/// One open-loop HTTP window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSpec {
    /// The contender's name (whose own requests a custom workload sends).
    pub contender: String,
    pub base_url: String,
    pub workload: Workload,
    /// The database a database workload's window reads (none for the others).
    pub database: Option<crate::database::Database>,
    pub rate: f64,
    pub duration: Duration,
    pub warmup: Warmup,
    pub purpose: WindowPurpose,
}

/// What one HTTP window measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowResult {
    pub target_rps: f64,
    /// Responses per second over the measured window (after the warm-up).
    pub achieved_rps: f64,
    /// Requests answered without error (the ones in the histograms).
    pub requests: u64,
    /// Requests that failed (connect, timeout, reset, parse, non-2xx status,
    /// and overload: unsent or unanswered at the cutoff).
    pub errors: u64,
    /// Of `errors`, those the server itself answered or refused: non-2xx
    /// statuses, missed expectations, resets, connect and parse errors. Not
    /// timeouts or overload: a slow server has those, a failing one these.
    pub answered_errors: u64,
    /// From the intended send time (coordinated-omission corrected).
    pub latency: Percentiles,
    /// From the actual send.
    pub service: Percentiles,
    /// `cpu-mixed`: the light class alone, corrected.
    pub light: Option<Percentiles>,
    pub spectrum: Vec<[f64; 2]>,
    pub service_spectrum: Vec<[f64; 2]>,
    pub timeline: Vec<TimelinePoint>,
    /// HdrHistogram V2 (deflate) blobs by name ("latency", "service", "light").
    pub histograms: Vec<(String, Vec<u8>)>,
    /// Corrected latency of each third of the window, by intended send time:
    /// a rising median is a growing backlog.
    pub trend: Option<search::Thirds>,
    /// The machine held the generator up (late sends, hypervisor steal): the
    /// window says nothing about the server and is re-run.
    pub stalled: Option<String>,
    /// Steal over the default limit that the run's raised limit let through
    /// ([`live::tolerated_steal`]): judged as the server's.
    pub steal_tolerated: Option<String>,
    /// What the window's judgement discloses without changing it (an
    /// upstream that answered late while the server failed on its own:
    /// [`live::judge_upstream`]); added to the step's reasons.
    pub notes: Vec<String>,
    /// Requests the server still held at the window's cutoff.
    pub outstanding: u64,
    /// The measured window's length.
    pub duration: Duration,
    /// When the measured window began, where the engine measured one (the
    /// equal-load CPU is read over it; see `ResourceUsage::cpu_seconds_over`).
    pub measured_from: Option<std::time::Instant>,
    /// Ended early with its p99 decided over the SLO.
    pub abandoned: Option<bakeoff_load::Abandoned>,
    /// 2xx answers per second over the whole run, settle and grace included.
    pub served_rps: f64,
    /// Every request written and every 2xx answer over the whole window, warm-up
    /// included (for the upstream-counter check).
    pub sent_all: u64,
    pub ok_all: u64,
    /// A check of the window's counts against an independent source.
    pub consistency: Option<Consistency>,
    /// False when the generator itself fell behind its schedule: the window says
    /// nothing about the server.
    pub generator_valid: bool,
    pub generator_note: Option<String>,
    /// Cores the database server used over the window, when it was sampled
    /// (equal-load windows of database workloads on PostgreSQL).
    pub database_cpu_cores: Option<f64>,
    /// Generator threads that drove the window; 0 or 1: one.
    pub generator_threads: u32,
}

impl WindowResult {
    pub fn error_rate(&self) -> f64 {
        self.share(self.errors)
    }

    /// The share of the window's requests the server answered or refused with
    /// an error ([`WindowResult::answered_errors`]).
    pub fn answered_error_rate(&self) -> f64 {
        self.share(self.answered_errors)
    }

    fn share(&self, n: u64) -> f64 {
        let total = self.requests + self.errors;
        if total == 0 {
            0.0
        } else {
            n as f64 / total as f64
        }
    }
}

/// One WebSocket window: `clients` in one room, `rate` messages/s into it.
#[derive(Debug, Clone, PartialEq)]
pub struct WsSpec {
    pub base_url: String,
    pub clients: u32,
    pub rate: f64,
    pub duration: Duration,
    /// Time before the measured window (connects, settle).
    pub warmup: Duration,
    /// A fan-out search's window; `None` for a point at the profile's rate.
    pub purpose: Option<WindowPurpose>,
}

/// What one WebSocket window measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WsResult {
    pub connected: u32,
    pub sent: u64,
    pub expected_deliveries: u64,
    pub deliveries: u64,
    /// Deliveries that arrived inside the measured window (any message's):
    /// the room's throughput in it, × clients.
    pub delivered_in_window: u64,
    /// Fan-out latency, intended send to receipt, over all deliveries.
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The machine held the generator up: re-run the window.
    pub stalled: Option<String>,
    /// See [`WindowResult::steal_tolerated`].
    pub steal_tolerated: Option<String>,
    /// Ended early with its delivery p99 decided over the SLO (a search's
    /// windows, as HTTP's); `None`: it ran the spec's length.
    pub abandoned: Option<WsAbandoned>,
    /// Delivery latency of each third of the window, by intended send time:
    /// a rising median is a growing queue in the room (as HTTP's).
    pub trend: Option<search::Thirds>,
    /// False when the generator could not keep its schedule, or clients failed.
    pub valid: bool,
    pub warnings: Vec<String>,
}

/// A fan-out window that ended early: the abandon rule's figures, and how
/// long its measured part ran.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WsAbandoned {
    pub rule: bakeoff_load::Abandoned,
    pub after: Duration,
}

/// A window could not run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DriveError {
    #[error("cancelled")]
    Cancelled,
    /// The target refused or dropped every connection, or the engine failed
    /// (then `source` is the engine's error).
    #[error("{message}")]
    Failed {
        message: String,
        #[source]
        source: Option<Cause>,
    },
}

impl DriveError {
    /// A failure with no underlying error.
    pub fn failed(message: impl Into<String>) -> Self {
        DriveError::Failed {
            message: message.into(),
            source: None,
        }
    }

    /// A failure caused by `source`.
    pub fn caused(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DriveError::Failed {
            message: message.into(),
            source: Some(std::sync::Arc::new(source)),
        }
    }
}

/// Drives load; the real one wraps `bakeoff-load`.
pub trait Driver: Send + Sync {
    fn http_window<'a>(
        &'a self,
        spec: &'a WindowSpec,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<WindowResult, DriveError>>;

    fn ws_window<'a>(
        &'a self,
        spec: &'a WsSpec,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<WsResult, DriveError>>;
}

/// Resources of a process set over a window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceUsage {
    /// user + system CPU seconds consumed during the window.
    pub cpu_seconds: f64,
    /// Memory (PSS where the kernel has it, else RSS), bytes.
    pub mem_peak_bytes: u64,
    pub mem_mean_bytes: u64,
    pub samples: u32,
    /// Every memory reading was PSS (else some were RSS).
    pub pss: bool,
    /// The CPU seconds used since the sampling began, at each reading.
    pub cpu_timeline: Vec<(std::time::Instant, f64)>,
}

impl ResourceUsage {
    /// The CPU seconds used over `[from, from + len]`, read from
    /// [`cpu_timeline`](Self::cpu_timeline), linear between readings; `None`
    /// when the readings do not span it.
    pub fn cpu_seconds_over(&self, from: std::time::Instant, len: Duration) -> Option<f64> {
        let at = |t: std::time::Instant| -> Option<f64> {
            let tl = &self.cpu_timeline;
            let after = tl.partition_point(|(ti, _)| *ti < t);
            let (t1, c1) = *tl.get(after)?;
            if t1 == t {
                return Some(c1);
            }
            let (t0, c0) = *tl.get(after.checked_sub(1)?)?;
            let span = (t1 - t0).as_secs_f64();
            Some(c0 + (c1 - c0) * (t - t0).as_secs_f64() / span.max(1e-9))
        };
        Some((at(from + len)? - at(from)?).max(0.0))
    }

    /// The CPU seconds of a load window `[from, from + len]` whose sampling
    /// was finished after the load returned. A load returns once its last
    /// request, intended before the window's end, is answered: up to one gap
    /// between sends early (29 ms at 34 req/s). The window's requests used
    /// nothing after the final reading, so the window is read up to it.
    pub fn cpu_seconds_of_load(&self, from: std::time::Instant, len: Duration) -> Option<f64> {
        let last = self.cpu_timeline.last()?.0;
        self.cpu_seconds_over(from, len.min(last.checked_duration_since(from)?))
    }

    /// CPU seconds and the seconds they were spent over: the measured window
    /// (`len` from `from`) where the readings span it, else all that was
    /// sampled (`sampled_secs`). The target check, the priming of the
    /// connections, the settle and the grace are not the window's requests'.
    pub fn cpu_of_window(
        &self,
        from: Option<std::time::Instant>,
        len: Duration,
        sampled_secs: f64,
    ) -> (f64, f64) {
        let window = len.as_secs_f64();
        match from
            .filter(|_| window > 0.0)
            .and_then(|from| self.cpu_seconds_of_load(from, len))
        {
            Some(c) => (c, window),
            None => (self.cpu_seconds, sampled_secs),
        }
    }
}

/// Resources could not be sampled; `source`, when there is one, says why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("resource sampling: {message}")]
pub struct SampleError {
    pub message: String,
    #[source]
    pub source: Option<Cause>,
}

message_and_cause!(SampleError);

/// A sampling in progress; [`Sampling::finish`] stops it and returns the totals.
pub trait Sampling: Send {
    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<ResourceUsage, SampleError>>;
}

/// Starts resource sampling of a process set.
pub trait Sampler: Send + Sync {
    fn start(&self, target: &ProcessSet) -> Result<Box<dyn Sampling>, SampleError>;

    /// The speed of the contender's core now, in the drift probe's units
    /// (`measure::speed`); `None` when it cannot be probed.
    fn core_speed(&self) -> Option<f64> {
        None
    }

    /// The speed of the generator's core now, in the same units; `None` when
    /// it cannot be probed (the generator is not pinned).
    fn generator_core_speed(&self) -> Option<f64> {
        None
    }

    /// Loopback round trips now between the contender's core and the
    /// generator's, in thousands per second; `None` when it cannot be timed.
    fn loopback_speed(&self) -> Option<f64> {
        None
    }

    /// An idle thread's 1 ms sleeps on the core at `site` (the contender's
    /// or the generator's) for `span`: how many woke more than `late` late.
    /// `None` when that core cannot be probed.
    fn idle_wakeups(
        &self,
        _site: crate::model::ProbeSite,
        _span: Duration,
        _late: Duration,
    ) -> Option<crate::model::Wakeups> {
        None
    }

    /// Time every probe now and keep what each read in `into`; what they
    /// read, which the drift check compares.
    fn read_probes(&self, into: &mut crate::model::ProbeReadings) -> crate::model::ProbeReading {
        let now = crate::model::ProbeReading {
            contender: self.core_speed(),
            generator: self.generator_core_speed(),
            loopback: self.loopback_speed(),
        };
        into.push(now);
        now
    }
}
