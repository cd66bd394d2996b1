//! bakeoff-load: an open-loop, coordinated-omission-corrected HTTP/1.1 load engine,
//! and a WebSocket fan-out load engine ([`ws`]).
//!
//! This file owns the public types; the work happens in:
//! - `engine`: the connections and the run control (preconnect, warm-up, the
//!   cutoff, a window abandoned once its p99 is decided);
//! - `selfcheck`: whether the generator or the machine, not the server, limited a run;
//! - `schedule`: the request mix, intended send times, warm-up stability;
//! - `http`: pre-serialized requests and the `httparse` response reader;
//! - [`head`]: the framing rules of a response head (status line, Content-Length,
//!   Transfer-Encoding, Connection), shared with bakeoff's verifier and health probe;
//! - [`rng`]: the one seeded generator (splitmix64) both crates use;
//! - `stats`: the recorder (histograms, timeline, in-flight averages; `stats::trend` the window in thirds);
//! - `target`: URL checks, loopback policy, the reachability probe;
//! - `ticked`: open-loop sockets harvested once per 1 ms tick, with kernel arrival times;
//! - `shard`: N engine threads for one run, and the exact merge of their reports;
//! - `sys`: the dedicated engine thread, CPU pinning and `getrusage`, and the
//!   steal over a span from /proc/stat ([`StealMeter`]);
//! - [`bursts`]: the steal within each half second of a span, on a thread of its own;
//! - `files`: the open-files limit the connections count against;
//! - `testkit` (feature `testkit`): servers of known ceiling for tests (HTTP, and a WebSocket room).
//!
//! The window semantics (what counts as an answer, what is overload, what goes
//! into which histogram) are on [`LoadReport`] and in `docs/methodology.md`.
//!
//! A run's engine runs on ONE dedicated OS thread with a current-thread tokio
//! runtime, so the caller's runtime is untouched and the generator's CPU use is
//! measurable; [`shard::run_sharded`] runs several such engines and merges them.

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::time::Duration;

pub use files::{open_files_limit, raise_open_files_limit};
pub use hdrhistogram::Histogram;
pub use selfcheck::{generator_saturated, sends_stalled};
use serde::Serialize;
pub use sys::{StealMeter, StealShares};
use tokio_util::sync::CancellationToken;
pub use url::Url;

pub mod bursts;
mod engine;
pub mod expect;
mod files;
pub mod head;
mod http;
pub mod rng;
mod schedule;
mod selfcheck;
pub mod shard;
mod stats;
mod sys;
mod target;
pub mod template;
#[cfg(feature = "testkit")]
pub mod testkit;
mod ticked;
pub mod ws;

/// The most connections one run opens.
pub const MAX_CONNECTIONS: u32 = 50_000;
/// The highest open-loop rate accepted, requests per second.
pub const MAX_RATE: f64 = 10_000_000.0;
/// The lowest open-loop rate accepted, requests per second (one request in
/// 1,000 s): far lower, a ticket's time overflows the clock.
pub const MIN_RATE: f64 = 0.001;
/// The longest duration, warm-up or timeout accepted (deadlines must not overflow).
pub const MAX_SPAN: Duration = Duration::from_secs(7 * 24 * 3600);
/// How late past [`LoadConfig::start_at`] a run may still start: later, it
/// would not overlap the test's other segments, and it refuses.
pub const MAX_START_LATE: Duration = Duration::from_secs(60);

/// One kind of request in the mix.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    /// Name used in [`LoadReport::classes`].
    pub class: String,
    /// HTTP method, letters only, e.g. `GET`.
    pub method: String,
    /// Path and query, e.g. `/queries?queries=20`.
    pub path: String,
    /// Extra headers as (name, value), sent in this order; `Host` and
    /// `Content-Length` are added when absent.
    pub headers: Vec<(String, String)>,
    /// Request body, sent as is (empty: none).
    pub body: bytes::Bytes,
    /// Relative weight in the mix (0 = never chosen).
    pub weight: u32,
    /// Rendered per request in place of `method`, `path`, `headers` and
    /// `body` (scenario files): see [`template`].
    pub template: Option<std::sync::Arc<template::RequestTemplate>>,
    /// What its responses must be; none: any 2xx.
    pub expect: Option<std::sync::Arc<expect::Expect>>,
}

/// A session: requests sent in a fixed order on one connection, like a user
/// who lists, then opens one, then searches (scenario files' `[[session]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpec {
    /// Its name, for messages.
    pub name: String,
    /// Indexes into [`LoadConfig::requests`], in the order they are sent.
    pub steps: Vec<usize>,
    /// Relative weight among the sessions (0 = never chosen).
    pub weight: u32,
    /// A closed loop's pause after each step (a virtual user's think time),
    /// drawn uniformly from `min..=max`; refused in an open loop, whose rate
    /// alone sets when requests are sent.
    pub think: Option<Think>,
}

/// A think time: uniform between `min` and `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Think {
    /// The shortest pause.
    pub min: Duration,
    /// The longest pause.
    pub max: Duration,
}

impl RequestSpec {
    /// A `GET path` of weight 1 whose class is the path.
    pub fn get(path: impl Into<String>) -> Self {
        let path = path.into();
        RequestSpec {
            class: path.clone(),
            method: "GET".into(),
            path,
            headers: Vec::new(),
            body: bytes::Bytes::new(),
            weight: 1,
            template: None,
            expect: None,
        }
    }
}

/// How open-loop send times are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Fixed intervals of 1/rate.
    Uniform,
    /// Exponential gaps with mean 1/rate.
    Poisson,
}

/// The warm-up excluded from the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warmup {
    /// Exactly this long.
    Fixed(Duration),
    /// Ends once throughput is stable within 2% over three consecutive 1 s windows,
    /// or at `max`.
    Adaptive {
        /// The longest the warm-up may last.
        max: Duration,
    },
}

/// How `preconnect` readies the connections before the run's clock starts.
/// Primed, every connection has been accepted and served by the server before
/// the run, so a window measures the server's steady state, not a storm of new
/// connections (a Node.js cluster hands each one from its primary to a
/// worker). A connection whose priming fails connects lazily at its first
/// request.
#[derive(Debug, Clone, PartialEq)]
pub enum Prime {
    /// Connect only.
    Off,
    /// Every connection at once, each carrying the mix's first request.
    Together,
    /// One connection at a time (in at most 32 rounds: more share a round),
    /// each carrying this request (a cheap one: a health check), the next
    /// opened only once the last has its answer, as clients arriving over
    /// time open theirs. A pre-fork server whose
    /// workers share one listen socket (gunicorn) then spreads them over its
    /// workers; opened at once, they queue in the kernel's backlog and the
    /// first worker to wake accepts them all. The first failure ends the
    /// priming: the rest connect lazily, so a server that does not answer
    /// costs one timeout, not one per connection.
    InTurn(RequestSpec),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Scheme, host and port; its path is the request when `requests` is empty.
    pub target: Url,
    /// Weighted mix, chosen per request.
    pub requests: Vec<RequestSpec>,
    /// When not empty, the mix is these sessions instead: each connection
    /// sends one session's steps in order, then picks the next session by
    /// weight; `requests` are only what the steps name.
    pub sessions: Vec<SessionSpec>,
    /// TCP connections to the target (at most [`MAX_CONNECTIONS`]).
    pub connections: u32,
    /// Requests per second; `None` is a closed loop (maximum throughput).
    pub rate: Option<f64>,
    /// How open-loop send times are spaced (ignored by a closed loop).
    pub schedule: Schedule,
    /// Measured duration (after warm-up).
    pub duration: Option<Duration>,
    /// Stop after this many measured requests.
    pub max_requests: Option<u64>,
    /// The warm-up before the measured window.
    pub warmup: Warmup,
    /// Per-request timeout, from the actual send.
    pub timeout: Duration,
    /// How long after the measured window's end answers still count: the run
    /// stops at the **cutoff** (end + grace). `None` is the timeout. Runs
    /// without a duration have no cutoff.
    pub grace: Option<Duration>,
    /// Open every connection before the run's clock starts (a failed one
    /// connects lazily later). Off: each connects at its first request.
    pub preconnect: bool,
    /// With `preconnect`: whether each connection also carries one request
    /// before the clock starts, and in what order ([`Prime`]).
    pub prime: Prime,
    /// Open loop with a duration: end the measured window as soon as its
    /// tail is decided (see [`Abandon`]).
    pub abandon: Option<Abandon>,
    /// Pin the engine thread to this CPU.
    pub pin_cpu: Option<usize>,
    /// Allow a target that does not resolve to a loopback address.
    pub allow_remote: bool,
    /// Start the run's clock at this wall-clock time, after connecting (the
    /// shared start of a test's segments on several machines). A run that
    /// reaches it more than [`MAX_START_LATE`] late refuses to start.
    pub start_at: Option<std::time::SystemTime>,
    /// Open loop: how late a send the engine itself held up must be to count
    /// in [`LoadReport::late_stalled`] (at least [`LATE_SEND`]). A caller
    /// judging against a latency objective sets it from that objective: a
    /// smaller delay cannot decide a verdict there.
    pub stalled_after: Duration,
}

/// An open-loop send later than this behind its intended time counts as late
/// ([`LoadReport::late_sends`]). Tokio's timer has 1 ms granularity, so
/// smaller lags are the clock, not a backlog.
pub const LATE_SEND: Duration = Duration::from_millis(2);

impl LoadConfig {
    /// A 10 s closed loop over 64 connections against `target`, no warm-up, 2 s timeout.
    pub fn new(target: Url) -> Self {
        LoadConfig {
            target,
            requests: Vec::new(),
            sessions: Vec::new(),
            connections: 64,
            rate: None,
            schedule: Schedule::Uniform,
            duration: Some(Duration::from_secs(10)),
            max_requests: None,
            warmup: Warmup::Fixed(Duration::ZERO),
            timeout: Duration::from_secs(2),
            grace: None,
            preconnect: true,
            prime: Prime::Off,
            abandon: None,
            pin_cpu: None,
            allow_remote: false,
            start_at: None,
            stalled_after: LATE_SEND,
        }
    }
}

/// End an open-loop window early once more than `count` of its measured
/// requests have a corrected latency over `latency`: answered or failed that
/// late, or still unsent or unanswered that long after their intended time.
/// With `count` at 1% of the window's requests its p99 is then over `latency`
/// whatever the rest of the window does, so running on only loads an
/// overloaded server further (a capacity search's doomed windows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Abandon {
    /// The corrected latency a request must exceed to count.
    pub latency: Duration,
    /// The window ends once more than this many requests are over `latency`.
    pub count: u64,
}

impl Abandon {
    /// The rule that decides a p99 over `latency` in a window of `rate` ×
    /// `duration` requests: more than 1% of them (plus one, for the
    /// schedule's rounding at the window's edges).
    pub fn p99_over(latency: Duration, rate: f64, duration: Duration) -> Abandon {
        let planned = rate.max(0.0) * duration.as_secs_f64();
        Abandon {
            latency,
            count: (planned / 100.0).floor() as u64 + 1,
        }
    }
}

/// How an abandoned window ended (see [`Abandon`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Abandoned {
    /// The window's planned length; the report's `elapsed` is what ran.
    pub planned: Duration,
    /// Measured requests over the latency when it stopped.
    pub over: u64,
    /// How fast the corrected latency was rising before it stopped, in
    /// seconds per second of intended time (a least-squares slope over the
    /// last third of the requests answered by then): a queue that grows at
    /// (R − C)/C per second rises at that rate, so C ≈ R ÷ (1 + growth).
    /// `None` when too little was answered to fit a slope.
    pub growth: Option<f64>,
}

/// Why a request failed. Failures are counted, never abort the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The TCP connection was refused or failed (one that did not open within
    /// the timeout is a [`ErrorKind::Timeout`]).
    Connect,
    /// No complete response within the timeout, or no connection.
    Timeout,
    /// The connection broke (reset, or closed mid-response).
    Reset,
    /// The response was not valid HTTP/1.1.
    Parse,
    /// A complete response with a non-2xx status (when its class expects
    /// nothing else).
    Status,
    /// A complete response that missed its class's [`expect::Expect`]: a
    /// status outside its list, or a body check that failed.
    Expectation,
    /// Unsent or unanswered at the cutoff (the window's end + grace), or
    /// answered after it: the server could not keep up.
    Overload,
}

impl ErrorKind {
    /// Every kind, in their `Ord` order.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Parse,
        ErrorKind::Status,
        ErrorKind::Expectation,
        ErrorKind::Overload,
    ];

    /// The kind's snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Parse => "parse",
            ErrorKind::Status => "status",
            ErrorKind::Expectation => "expectation",
            ErrorKind::Overload => "overload",
        }
    }
}

/// Per-class statistics (latencies in microseconds), with the rules of
/// [`LoadReport::latency`] and [`LoadReport::service`].
#[derive(Debug, Clone)]
pub struct ClassStats {
    /// Measured answers of any status by the cutoff.
    pub requests: u64,
    /// Those that succeeded (2xx, or what the class expects).
    pub successes: u64,
    /// The class's failed requests by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Corrected latency of the class's requests, µs.
    pub latency: Histogram<u64>,
    /// Service time of the class's successes, from the actual send, µs.
    pub service: Histogram<u64>,
}

/// One second of the measured run, by completion time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Second {
    /// Seconds since the measured window's start (0 is the first).
    pub second: u32,
    /// Responses completed in this second (any status).
    pub requests: u64,
    /// Failures completed in this second, non-2xx and missed expectations included.
    pub errors: u64,
    /// Corrected p99 of what completed in this second (2xx answers and
    /// failures, non-2xx excluded; see [`LoadReport::latency`]).
    pub p99_us: u64,
}

/// One third of an open-loop measured window, by intended send time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TrendThird {
    /// Measured requests intended in this third, every outcome.
    pub requests: u64,
    /// Corrected latency percentiles of those requests (the rules of
    /// [`LoadReport::latency`]: censored overloads in, non-2xx out), µs.
    pub p50_us: u64,
    /// The same requests' corrected p90, µs.
    pub p90_us: u64,
    /// Requests in flight (sent, unanswered) on average over this third of the
    /// window's time, from the answers' own arrival times (as
    /// [`LoadReport::mean_in_flight`] over the window).
    pub mean_in_flight: f64,
}

/// The measured window in thirds: a backlog that grows shows as latency and
/// in-flight counts rising from the first third to the last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Trend {
    /// First, middle and last third, in order.
    pub thirds: [TrendThird; 3],
}

/// Live state, published about four times a second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Since the start, warm-up included.
    pub elapsed: Duration,
    /// The run is still in its warm-up.
    pub warming_up: bool,
    /// Measured responses so far.
    pub requests: u64,
    /// Measured errors so far.
    pub errors: u64,
    /// Responses per second over the last interval.
    pub current_rate: f64,
}

/// The result of one run. Latencies are microseconds.
///
/// Measured requests are those intended in the window [measure start, end).
/// The run stops at the **cutoff** (end + grace): what is unsent or unanswered
/// then, or answered later, is an [`ErrorKind::Overload`] error.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// The configured open-loop rate, req/s; `None` for a closed loop.
    pub target_rate: Option<f64>,
    /// `successes` ÷ the window's length. Answers count up to the cutoff
    /// (the window plus its grace), so a short window's rate can exceed what
    /// the server delivered in it: see [`delivered_rate`](Self::delivered_rate).
    pub achieved_rate: f64,
    /// 2xx answers that arrived inside the measured window, whatever their
    /// intended time (the settle's included), ÷ its length: the server's
    /// throughput in the window.
    pub delivered_rate: f64,
    /// Measured 2xx answers that arrived by the cutoff.
    pub successes: u64,
    /// Measured answers of any status that arrived by the cutoff.
    pub requests: u64,
    /// The measured window.
    pub elapsed: Duration,
    /// When the measured window began (`None`: nothing measured, or a report
    /// read back from a document), so that a caller can read its own meters
    /// (the server's CPU) over the same span.
    pub measured_from: Option<std::time::Instant>,
    /// Measured failures by kind (non-2xx answers and missed expectations included).
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Measured answers by HTTP status code.
    pub status: BTreeMap<u16, u64>,
    /// From the intended send time (coordinated-omission corrected) to the
    /// answer (open loop: the kernel's arrival time of its last bytes), for
    /// 2xx answers and for every failure that cost time (timeout, reset,
    /// connect, parse: at their elapsed time; overload: censored at its age at
    /// the cutoff). Non-2xx answers are left out. Sends may be released up to
    /// 1 ms early (the timer's tick); those count from the actual send.
    pub latency: Histogram<u64>,
    /// 2xx answers only, from the actual send.
    pub service: Histogram<u64>,
    /// Statistics per [`RequestSpec::class`].
    pub classes: BTreeMap<String, ClassStats>,
    /// The measured window second by second.
    pub timeline: Vec<Second>,
    /// Each [`timeline`](Self::timeline) second's corrected latencies, the
    /// histogram its `p99_us` was read from, as HdrHistogram V2 bytes
    /// ([`shard::histogram_bytes`]), so that merged seconds get exact
    /// percentiles. Empty when not kept (a report read back from a document
    /// without them); a merge then takes the parts' largest p99.
    pub second_latency: Vec<Vec<u8>>,
    /// Time-averaged requests in flight during the measured window.
    pub mean_in_flight: f64,
    /// Open loop: measured sends more than 2 ms behind their intended time.
    pub late_sends: u64,
    /// Those of them held up by the engine thread itself (a busy or stalling
    /// machine) by more than [`LoadConfig::stalled_after`], counted from when
    /// their connection was free (at the intended time at the earliest), or,
    /// for a send catching up after such a send, at most by that send's delay.
    /// The rest waited for the server's answers or connects: a server that
    /// falls behind makes none.
    pub late_stalled: u64,
    /// Open loop: the longest of the `late_sends` behind its intended time (zero if none).
    pub max_send_lag: Duration,
    /// Measured requests never sent by the cutoff (overload errors).
    pub unsent: u64,
    /// Measured requests sent but unanswered when the run stopped at the
    /// cutoff (overload errors): work the server still holds. The overload
    /// count is `unsent` + `outstanding` + answers that arrived after the cutoff.
    pub outstanding: u64,
    /// Requests written and unanswered when the run stopped, warm-up
    /// included: the work the server still holds.
    pub unanswered: u64,
    /// Open loop with a duration: the measured window in thirds.
    pub trend: Option<Trend>,
    /// The [`trend`](Self::trend)'s thirds' corrected latencies, V2 bytes as
    /// [`second_latency`](Self::second_latency), for exact merged p50 and p90.
    pub trend_latency: Vec<Vec<u8>>,
    /// Requests written over the whole run, warm-up included.
    pub sent_all: u64,
    /// 2xx answers received over the whole run, warm-up included (late ones too).
    pub ok_all: u64,
    /// The hypervisor's share of this machine's CPU time during the measured
    /// window (over [`elapsed`](Self::elapsed)) when the engine measured one
    /// ([`window_generator_cpu`](Self::window_generator_cpu) is then set),
    /// else during the run.
    pub steal: Option<f64>,
    /// Each CPU's steal share over the same span as [`steal`](Self::steal),
    /// indexed by CPU number (empty where the kernel reports none).
    pub cpu_steal: Vec<f64>,
    /// Each CPU's most stolen time within one [`bursts::SPAN`] over the same
    /// span, indexed by CPU number (empty where none was read).
    pub steal_bursts: Vec<Duration>,
    /// User + system CPU of the engine thread, warm-up included.
    pub generator_cpu_s: f64,
    /// Wall time of the engine thread, warm-up included.
    pub generator_wall_s: f64,
    /// Share of the generator's CPU (when pinned) that was busy over the run:
    /// its thread, the kernel's network work, anything else on that core.
    pub generator_core_busy: Option<f64>,
    /// The same two over the measured window alone (from the control loop's
    /// first wake in it to the stop): the run's shares include connects,
    /// priming and the grace, and understate a short window's.
    pub window_generator_cpu: Option<f64>,
    /// [`generator_core_busy`](Self::generator_core_busy) over the measured window.
    pub window_core_busy: Option<f64>,
    /// Connections re-opened after the server closed them.
    pub reconnects: u64,
    /// How long the warm-up lasted.
    pub warmup: Duration,
    /// The window was ended early by [`LoadConfig::abandon`]: its statistics
    /// cover what ran (`elapsed`), and it has no trend.
    pub abandoned: Option<Abandoned>,
    /// Something was measured, some answer came, and the generator did not
    /// limit the rate; `warnings` say why not.
    pub valid: bool,
    /// What a reader should know about the run, one sentence each.
    pub warnings: Vec<String>,
    /// The first few responses that missed their class's expectation (see
    /// [`ErrorKind::Expectation`]), quoted with the start of their body.
    pub expectation_examples: Vec<String>,
}

impl LoadReport {
    /// Total errors of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The engine thread's CPU as a share of one core over the run.
    pub fn generator_cpu_share(&self) -> f64 {
        if self.generator_wall_s > 0.0 {
            self.generator_cpu_s / self.generator_wall_s
        } else {
            0.0
        }
    }
}

/// Why a run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target URL has no host or no port.
    #[error("invalid target URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What it lacks.
        reason: String,
    },
    /// The URL's scheme is not the one this engine speaks.
    #[error("unsupported URL scheme `{scheme}`; use {expected}")]
    UnsupportedScheme {
        /// The scheme given.
        scheme: String,
        /// The scheme to use instead.
        expected: &'static str,
    },
    /// The target's host name did not resolve.
    #[error("cannot resolve `{host}`: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The target resolves to a remote address and remote targets are not allowed.
    #[error("`{host}` resolves to {addr}, which is not a loopback address; bakeoff only loads this machine unless --allow-remote is given")]
    NotLoopback {
        /// The host name.
        host: String,
        /// The first of its addresses that is not loopback.
        addr: std::net::IpAddr,
    },
    /// No address of the target accepted a TCP connection.
    #[error("nothing is listening at {target}: {reason}; start the server first or fix the port")]
    Unreachable {
        /// The target's host and port.
        target: String,
        /// The last address tried and why it failed.
        reason: String,
    },
    /// A configuration value is out of range or inconsistent; the text says which.
    #[error("invalid load configuration: {0}")]
    InvalidConfig(String),
    /// The engine thread could not be pinned to the CPU asked for.
    #[error("cannot pin the load thread to CPU {cpu}: {source}")]
    Pin {
        /// The CPU index asked for.
        cpu: usize,
        /// The system's error.
        source: std::io::Error,
    },
    /// The engine could not run (a thread, runtime or epoll set it needs); the
    /// source, when there is one, is the system's error.
    #[error("load engine failure: {what}")]
    Engine {
        /// What failed.
        what: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The caller cancelled the run.
    #[error("the run was cancelled")]
    Cancelled,
    /// The run reached [`LoadConfig::start_at`] more than [`MAX_START_LATE`] late.
    #[error("this run reached its start time {late:.1?} late, more than the {max:?} allowed, so it would not overlap the test's other segments; refusing to run (check this machine's clock (NTP) and start the test with a later --start-at)", max = MAX_START_LATE)]
    TooLate {
        /// How late it was.
        late: Duration,
    },
}

impl LoadError {
    /// An engine failure caused by `source`.
    pub(crate) fn engine(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        LoadError::Engine {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// True when the error is the caller's input (bad URL, policy, port, value).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            LoadError::InvalidUrl { .. }
                | LoadError::UnsupportedScheme { .. }
                | LoadError::Resolve { .. }
                | LoadError::NotLoopback { .. }
                | LoadError::Unreachable { .. }
                | LoadError::InvalidConfig(_)
                | LoadError::Pin { .. }
                | LoadError::TooLate { .. }
        )
    }
}

/// Run one load. Validates the config, resolves and probes the target, then drives
/// the load on a dedicated thread. Cancelling `cancel` (or dropping this future)
/// stops the run and returns [`LoadError::Cancelled`].
pub async fn run(
    config: LoadConfig,
    cancel: CancellationToken,
    progress: Option<tokio::sync::watch::Sender<Progress>>,
) -> Result<LoadReport, LoadError> {
    engine::validate(&config)?;
    let engine_cancel = cancel.child_token();
    // Dropping this future cancels the engine thread too.
    let _guard = engine_cancel.clone().drop_guard();
    let pin = config.pin_cpu;
    let (report, usage) =
        sys::on_engine_thread(pin, move || engine::drive(config, engine_cancel, progress)).await?;
    Ok(selfcheck::finish_report(report, usage))
}
