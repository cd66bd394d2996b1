//! The `bakeoff load --json` document (and `bakeoff merge --json`'s), and
//! `bakeoff load --find-capacity --json`'s: serde structs that are written,
//! read back by a merge, and generate the schemas checked in under
//! `docs/schema/` (see [`crate::schema`]).
//!
//! A field added later gets `#[serde(default)]`, so a merge still reads the
//! segments an older bakeoff wrote.

use std::collections::BTreeMap;

use bakeoff_load::shard::ShardInfo;
use bakeoff_load::{ErrorKind, Histogram, LoadReport};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::distributed::TestIdentity;
use crate::suite::live;

/// One `bakeoff load` run. Latencies are milliseconds, rates requests per
/// second. `latency_ms` is measured from each request's intended send time
/// (coordinated-omission corrected) and holds 2xx answers and every failure
/// that cost time (overloads censored at their age at the cutoff), never
/// non-2xx answers; `service_ms` holds 2xx answers from their actual send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "bakeoff load --json")]
pub struct LoadDoc {
    pub url: String,
    pub connections: u32,
    /// The open-loop rate asked for; null for a closed loop.
    pub target_rate: Option<f64>,
    /// successes ÷ duration_s: 2xx answers to measured requests that arrived by
    /// the cutoff (the window's end + grace), per second of the window.
    pub achieved_rate: f64,
    /// Measured requests answered 2xx by the cutoff.
    pub successes: u64,
    /// Measured answers of any status that arrived by the cutoff.
    pub requests: u64,
    /// The measured window.
    pub duration_s: f64,
    pub warmup_s: f64,
    pub errors: ErrorCounts,
    /// Responses by HTTP status code.
    pub status: BTreeMap<String, u64>,
    pub latency_ms: Percentiles,
    pub service_ms: Percentiles,
    /// One entry per second of the measured window, by completion time.
    pub timeline: Vec<SecondDoc>,
    /// Time-averaged requests in flight (Little's law: ≈ achieved_rate × mean
    /// service time).
    pub mean_in_flight: f64,
    /// Open loop: measured sends more than 2 ms behind their intended time.
    pub late_sends: u64,
    /// Of late_sends, those held up by the generator itself (a busy or
    /// stalling machine) past the stall bar, counted from when their
    /// connection was free, or catching up after such a send (at most its
    /// delay). The rest waited for the server.
    pub late_stalled: u64,
    pub max_send_lag_ms: f64,
    /// Measured requests never sent by the cutoff (overload errors).
    pub unsent: u64,
    /// Measured requests sent but unanswered at the cutoff (overload errors):
    /// work the server still held when the run stopped.
    pub outstanding: u64,
    /// Requests written and unanswered when the run stopped, warm-up included.
    #[serde(default)]
    pub unanswered: u64,
    /// Open loop with a duration: the measured window in thirds by intended
    /// send time; a growing backlog shows as latency and in-flight counts
    /// rising from the first to the last. Null otherwise.
    pub trend: Option<[ThirdDoc; 3]>,
    /// Requests written over the whole run, warm-up included.
    pub sent_all: u64,
    /// 2xx answers received over the whole run, warm-up and late answers included.
    pub ok_all: u64,
    /// The hypervisor's share of this machine's CPU time during the run; null
    /// where the kernel does not report it.
    pub steal: Option<f64>,
    /// Each CPU's steal share during the run, by CPU number; empty where the
    /// kernel does not report it.
    #[serde(default)]
    pub cpu_steal: Vec<f64>,
    /// Each CPU's most stolen time within half a second of the run, in ms, by
    /// CPU number: a burst its average hides; empty where none was read.
    #[serde(default)]
    pub steal_bursts_ms: Vec<f64>,
    pub reconnects: u64,
    /// User + system CPU of the load generator's threads, summed.
    pub generator_cpu_s: f64,
    /// Wall time of the generator's threads, summed (generator_cpu_s ÷
    /// generator_wall_s is the mean share of a core per thread).
    #[serde(default)]
    pub generator_wall_s: f64,
    /// Share of the generator's pinned core that was busy over the run (its
    /// thread, the kernel's network work, anything else on that core); null
    /// when unpinned.
    #[serde(default)]
    pub generator_core_busy: Option<f64>,
    /// The generator's CPU share over the measured window alone (the run's
    /// share includes connects and the grace, and understates a short window's).
    #[serde(default)]
    pub window_generator_cpu: Option<f64>,
    /// The pinned core's busy share over the measured window alone.
    #[serde(default)]
    pub window_core_busy: Option<f64>,
    /// Per request class (a scenario's names, else the path): answers,
    /// successes, failed requests by kind, and latencies as in the run's own
    /// figures.
    #[serde(default)]
    pub classes: BTreeMap<String, ClassDoc>,
    /// The first few responses that missed their class's expectation, quoted
    /// with the start of their body.
    #[serde(default)]
    pub expectation_examples: Vec<String>,
    /// Every thread's and segment's run was valid.
    pub valid: bool,
    pub warnings: Vec<String>,
    /// The request each connection carried, one connection at a time, before
    /// the clock (`--prime`), as `GET /health`; absent when they were only
    /// opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primed_with: Option<String>,
    /// Generator threads (shards) of this run (`--threads`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// Each generator thread's share and its own figures; the top-level
    /// figures are their exact merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<Vec<ShardDoc>>,
    /// A distributed test (`--segment`, `bakeoff merge`): what every segment of
    /// it shares. `id` is a hash of the other fields; `rate` and `connections`
    /// are the whole test's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TestIdentity>,
    /// This document's segment of the test, and the wall-clock time its clock
    /// started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentDoc>,
    /// The latency and service-time histograms (µs) as HdrHistogram V2 with
    /// deflate, base64: what `bakeoff merge` adds exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histograms: Option<HistogramsDoc>,
    /// `bakeoff merge`: the merged segments, by index, with their start times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<MergedSegmentDoc>>,
    /// `bakeoff merge`: the spread of the segments' start times; over 10 ms it
    /// is also a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew_ms: Option<f64>,
}

/// Failed requests by kind; `status` counts complete non-2xx responses;
/// `expectation` counts complete responses that missed their class's
/// expectation (scenario files); `overload` counts measured requests unsent or
/// unanswered at the cutoff, or answered after it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorCounts {
    pub connect: u64,
    pub timeout: u64,
    pub reset: u64,
    pub parse: u64,
    pub status: u64,
    #[serde(default)]
    pub expectation: u64,
    pub overload: u64,
}

impl ErrorCounts {
    pub fn of(errors: &BTreeMap<ErrorKind, u64>) -> ErrorCounts {
        let n = |k: ErrorKind| errors.get(&k).copied().unwrap_or(0);
        ErrorCounts {
            connect: n(ErrorKind::Connect),
            timeout: n(ErrorKind::Timeout),
            reset: n(ErrorKind::Reset),
            parse: n(ErrorKind::Parse),
            status: n(ErrorKind::Status),
            expectation: n(ErrorKind::Expectation),
            overload: n(ErrorKind::Overload),
        }
    }

    /// Back to the engine's map, leaving out kinds that did not occur.
    pub fn to_map(&self) -> BTreeMap<ErrorKind, u64> {
        [
            (ErrorKind::Connect, self.connect),
            (ErrorKind::Timeout, self.timeout),
            (ErrorKind::Reset, self.reset),
            (ErrorKind::Parse, self.parse),
            (ErrorKind::Status, self.status),
            (ErrorKind::Expectation, self.expectation),
            (ErrorKind::Overload, self.overload),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .collect()
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        let p = live::percentiles(h);
        Percentiles {
            p50: p.p50,
            p90: p.p90,
            p99: p.p99,
            p999: p.p999,
            max: p.max,
            mean: p.mean,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondDoc {
    pub second: u32,
    pub requests: u64,
    pub errors: u64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThirdDoc {
    /// Measured requests intended in this third, every outcome.
    pub requests: u64,
    /// Corrected latency, as latency_ms.
    pub p50_ms: f64,
    pub p90_ms: f64,
    /// Requests sent and unanswered, averaged over this third's time (as
    /// mean_in_flight over the window).
    pub mean_in_flight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassDoc {
    pub requests: u64,
    pub successes: u64,
    pub errors: ErrorCounts,
    pub latency_ms: Percentiles,
    pub service_ms: Percentiles,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShardDoc {
    /// The CPU the thread was pinned to, or null.
    pub cpu: Option<usize>,
    pub connections: u32,
    pub target_rate: Option<f64>,
    pub achieved_rate: f64,
    pub requests: u64,
    pub generator_cpu_s: f64,
    /// Its CPU as a share of one core.
    pub generator_cpu_share: f64,
    pub valid: bool,
}

impl ShardDoc {
    pub fn of(s: &ShardInfo) -> ShardDoc {
        ShardDoc {
            cpu: s.cpu,
            connections: s.connections,
            target_rate: s.target_rate,
            achieved_rate: s.achieved_rate,
            requests: s.requests,
            generator_cpu_s: s.generator_cpu_s,
            generator_cpu_share: s.cpu_share(),
            valid: s.valid,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentDoc {
    pub index: u32,
    pub count: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistogramsDoc {
    pub latency: String,
    pub service: String,
    #[serde(default)]
    pub classes: BTreeMap<String, ClassHistogramsDoc>,
    /// Each timeline second's corrected latencies (the same form), in the
    /// timeline's order, so merged seconds get exact p99s; absent from older
    /// documents, whose merged seconds take the segments' largest p99.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seconds: Vec<String>,
    /// The trend's thirds' corrected latencies (the same form).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thirds: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassHistogramsDoc {
    pub requests: u64,
    pub latency: String,
    pub service: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergedSegmentDoc {
    pub index: u32,
    pub file: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// How long after the first segment this one started.
    pub start_offset_ms: f64,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl LoadDoc {
    /// A run's document; the optional parts (priming, threads, segment, merge) are
    /// filled in by the command that has them.
    pub fn of(url: &str, connections: u32, r: &LoadReport) -> LoadDoc {
        LoadDoc {
            url: url.to_string(),
            connections,
            target_rate: r.target_rate,
            achieved_rate: r.achieved_rate,
            successes: r.successes,
            requests: r.requests,
            duration_s: r.elapsed.as_secs_f64(),
            warmup_s: r.warmup.as_secs_f64(),
            errors: ErrorCounts::of(&r.errors),
            status: r.status.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            latency_ms: Percentiles::of(&r.latency),
            service_ms: Percentiles::of(&r.service),
            timeline: r
                .timeline
                .iter()
                .map(|s| SecondDoc {
                    second: s.second,
                    requests: s.requests,
                    errors: s.errors,
                    p99_ms: ms(s.p99_us),
                })
                .collect(),
            mean_in_flight: r.mean_in_flight,
            late_sends: r.late_sends,
            late_stalled: r.late_stalled,
            max_send_lag_ms: r.max_send_lag.as_secs_f64() * 1000.0,
            unsent: r.unsent,
            outstanding: r.outstanding,
            unanswered: r.unanswered,
            trend: r.trend.map(|t| {
                t.thirds.map(|third| ThirdDoc {
                    requests: third.requests,
                    p50_ms: ms(third.p50_us),
                    p90_ms: ms(third.p90_us),
                    mean_in_flight: third.mean_in_flight,
                })
            }),
            sent_all: r.sent_all,
            ok_all: r.ok_all,
            steal: r.steal,
            cpu_steal: r.cpu_steal.clone(),
            steal_bursts_ms: r
                .steal_bursts
                .iter()
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect(),
            reconnects: r.reconnects,
            generator_cpu_s: r.generator_cpu_s,
            generator_wall_s: r.generator_wall_s,
            generator_core_busy: r.generator_core_busy,
            window_generator_cpu: r.window_generator_cpu,
            window_core_busy: r.window_core_busy,
            classes: r
                .classes
                .iter()
                .map(|(name, c)| {
                    let doc = ClassDoc {
                        requests: c.requests,
                        successes: c.successes,
                        errors: ErrorCounts::of(&c.errors),
                        latency_ms: Percentiles::of(&c.latency),
                        service_ms: Percentiles::of(&c.service),
                    };
                    (name.clone(), doc)
                })
                .collect(),
            expectation_examples: r.expectation_examples.clone(),
            valid: r.valid,
            warnings: r.warnings.clone(),
            primed_with: None,
            threads: None,
            shards: None,
            test: None,
            segment: None,
            histograms: None,
            segments: None,
            skew_ms: None,
        }
    }
}

/// The document's JSON Schema, as checked in at `docs/schema/load.json`.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(LoadDoc)).expect("a schema is plain JSON")
}

/// `bakeoff load --find-capacity --json`: the highest open-loop rate the
/// target sustained at the SLO, found by `bakeoff run`'s capacity search, and
/// every window it ran. Rates are requests per second, latencies milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "bakeoff load --find-capacity --json")]
pub struct CapacityDoc {
    pub url: String,
    /// The corrected p99 each rate had to hold.
    pub slo_p99_ms: f64,
    /// confirmed (the capacity held a confirmation window), no_capacity (even
    /// the lowest rate failed), failing (even the lowest rate failed, mostly
    /// with errors: the server is failing, not slow), truncated (the time ran out: a lower bound),
    /// machine_noisy (no clean window could be had), generator_limited (the
    /// generator could not go higher: a lower bound).
    pub outcome: String,
    /// Confirmed: the capacity; truncated or generator-limited: a lower bound;
    /// otherwise null.
    pub capacity_rps: Option<f64>,
    /// Why the search ended as it did.
    pub note: Option<String>,
    /// The whole search's wall time.
    pub elapsed_s: f64,
    /// The machine's steal, in percent, from which a window was the
    /// machine's (`--max-steal`; 2 by default). Raised, the capacity may
    /// read low.
    pub max_steal_percent: f64,
    /// Windows judged as the server's with steal over the default 2% that
    /// only a raised `--max-steal` let through (their reasons say so).
    #[serde(default)]
    pub steal_tolerated_windows: u32,
    /// Every window, in order.
    pub steps: Vec<StepDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDoc {
    pub index: u32,
    /// ramp, bisect, retest or confirm.
    pub phase: String,
    pub target_rps: f64,
    pub achieved_rps: f64,
    /// Corrected p99 (from the intended send time).
    pub p99_ms: f64,
    pub error_rate: f64,
    /// pass, fail, stalled (the machine held the generator up) or
    /// generator_limited (the generator could not hold the rate).
    pub verdict: String,
    pub duration_s: f64,
    /// Why it failed or stalled.
    pub reasons: Vec<String>,
}

impl CapacityDoc {
    pub fn of(
        url: &str,
        slo_p99_ms: f64,
        out: &crate::suite::SearchOutcome,
        elapsed: std::time::Duration,
        steal_limit: live::StealLimit,
    ) -> CapacityDoc {
        CapacityDoc {
            url: url.to_string(),
            slo_p99_ms,
            outcome: out.outcome.as_str().to_string(),
            capacity_rps: out.capacity,
            note: out.note.clone(),
            elapsed_s: elapsed.as_secs_f64(),
            max_steal_percent: steal_limit.percent(),
            steal_tolerated_windows: out.steal_tolerated,
            steps: out
                .steps
                .iter()
                .map(|s| StepDoc {
                    index: s.index,
                    phase: s.phase.as_str().to_string(),
                    target_rps: s.target_rps,
                    achieved_rps: s.achieved_rps,
                    p99_ms: s.p99_ms,
                    error_rate: s.error_rate,
                    verdict: s.verdict.as_str().to_string(),
                    duration_s: s.duration_s,
                    reasons: s.reasons.clone(),
                })
                .collect(),
        }
    }
}

/// The capacity document's JSON Schema (`docs/schema/capacity.json`).
pub fn capacity_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(CapacityDoc)).expect("a schema is plain JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_counts_round_trip_through_the_engine_map() {
        let mut m = BTreeMap::new();
        m.insert(ErrorKind::Timeout, 3);
        m.insert(ErrorKind::Expectation, 2);
        let c = ErrorCounts::of(&m);
        assert_eq!((c.timeout, c.expectation, c.connect), (3, 2, 0));
        assert_eq!(c.to_map(), m);
    }

    #[test]
    fn every_engine_error_kind_has_a_field() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            let mut m = BTreeMap::new();
            m.insert(*k, i as u64 + 1);
            assert_eq!(ErrorCounts::of(&m).to_map(), m, "{k:?}");
        }
    }
}
