//! Load beyond one core: N engine shards, each on its own OS thread with its
//! own current-thread runtime (optionally pinned), each with its share of the
//! rate or connections and its own schedule, so nothing on the request path is
//! shared. Their reports merge exactly ([`merge_reports`]): histograms are
//! added, counts and rates summed, never averaged.
//!
//! The same merge serves the segments of a test run on several machines.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::{
    engine, selfcheck, sys, Abandoned, ClassStats, Histogram, LoadConfig, LoadError, LoadReport,
    Progress, Second, Trend,
};

/// The most shards one process runs.
pub const MAX_SHARDS: u32 = 256;

/// What one shard of a sharded run did.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardInfo {
    /// The CPU its thread was pinned to, if any.
    pub cpu: Option<usize>,
    /// Its share of the connections.
    pub connections: u32,
    /// Its share of the open-loop rate, req/s; `None` for a closed loop.
    pub target_rate: Option<f64>,
    /// Its [`LoadReport::achieved_rate`], req/s.
    pub achieved_rate: f64,
    /// Its measured answers of any status by the cutoff.
    pub requests: u64,
    /// User + system CPU of its engine thread, warm-up included, seconds.
    pub generator_cpu_s: f64,
    /// Wall time of its engine thread, warm-up included, seconds.
    pub generator_wall_s: f64,
    /// Its own report was valid.
    pub valid: bool,
}

impl ShardInfo {
    /// What a finished shard reports of itself.
    pub fn of(report: &LoadReport, cpu: Option<usize>, connections: u32) -> ShardInfo {
        ShardInfo {
            cpu,
            connections,
            target_rate: report.target_rate,
            achieved_rate: report.achieved_rate,
            requests: report.requests,
            generator_cpu_s: report.generator_cpu_s,
            generator_wall_s: report.generator_wall_s,
            valid: report.valid,
        }
    }

    /// Its thread's CPU as a share of one core.
    pub fn cpu_share(&self) -> f64 {
        if self.generator_wall_s > 0.0 {
            self.generator_cpu_s / self.generator_wall_s
        } else {
            0.0
        }
    }
}

/// The merged result of a sharded run, with each shard's own figures.
#[derive(Debug, Clone)]
pub struct ShardedReport {
    /// The shards' reports merged ([`merge_reports`]).
    pub report: LoadReport,
    /// Each shard's own figures, in shard order.
    pub shards: Vec<ShardInfo>,
    /// The wall-clock time the first shard's clock started.
    pub started_at: SystemTime,
}

/// The share `index` (of `count`) of `total`, spread so the shares differ by
/// at most one and sum to `total`.
pub fn even_share(total: u64, index: u32, count: u32) -> u64 {
    let (n, i) = (u64::from(count), u64::from(index));
    total / n + u64::from(i < total % n)
}

/// Shard `index` of `count` of `cfg`: its share of the rate (open loop), the
/// connections and the request count. The abandon rule's count stays the
/// whole window's: one shard over it proves the window's p99 is over, where a
/// share of it would stop a window on one shard's noise.
pub fn shard_config(cfg: &LoadConfig, index: u32, count: u32) -> Result<LoadConfig, LoadError> {
    if count == 0 || count > MAX_SHARDS || index >= count {
        return Err(LoadError::InvalidConfig(format!(
            "shard {index} of {count}: the count must be between 1 and {MAX_SHARDS} and the index below it"
        )));
    }
    if cfg.connections < count {
        return Err(LoadError::InvalidConfig(format!(
            "{} connections cannot be split over {count} shards; give at least one connection per shard (-c {count} or more)",
            cfg.connections
        )));
    }
    if cfg.max_requests.is_some_and(|n| n < u64::from(count)) {
        return Err(LoadError::InvalidConfig(format!(
            "a request count below {count} cannot be split over {count} shards"
        )));
    }
    let mut c = cfg.clone();
    c.connections = even_share(u64::from(cfg.connections), index, count) as u32;
    c.rate = cfg.rate.map(|r| r / f64::from(count));
    c.max_requests = cfg.max_requests.map(|n| even_share(n, index, count));
    Ok(c)
}

/// Run `cfg` as `pins.len()` shards, shard i pinned to `pins[i]`, and merge
/// their reports. Progress (when asked for) is the sum over the shards.
pub async fn run_sharded(
    cfg: LoadConfig,
    pins: Vec<Option<usize>>,
    cancel: CancellationToken,
    progress: Option<tokio::sync::watch::Sender<Progress>>,
) -> Result<ShardedReport, LoadError> {
    engine::validate(&cfg)?;
    let count = u32::try_from(pins.len()).unwrap_or(u32::MAX);
    let configs: Vec<LoadConfig> = (0..count)
        .map(|i| {
            let mut c = shard_config(&cfg, i, count)?;
            c.pin_cpu = pins[i as usize];
            Ok(c)
        })
        .collect::<Result<_, LoadError>>()?;
    let engine_cancel = cancel.child_token();
    // Dropping this future cancels every shard; so does the first to fail.
    let _guard = engine_cancel.clone().drop_guard();
    let mut feeds = Vec::new();
    let runs: Vec<_> = configs
        .into_iter()
        .map(|c| {
            let (tx, rx) = tokio::sync::watch::channel(Progress::default());
            feeds.push(rx);
            let token = engine_cancel.clone();
            let pin = c.pin_cpu;
            let connections = c.connections;
            async move {
                let out =
                    sys::on_engine_thread(pin, move || engine::drive(c, token, Some(tx))).await;
                out.map(|(raw, usage)| {
                    let started = raw.started_at;
                    let report = selfcheck::finish_report(raw, usage);
                    let info = ShardInfo::of(&report, pin, connections);
                    (report, info, started)
                })
            }
        })
        .collect();
    let summing = progress.map(|tx| tokio::spawn(sum_progress(feeds, tx)));
    let results = futures_util::future::join_all(runs.into_iter().map(|f| {
        let token = engine_cancel.clone();
        async move {
            let r = f.await;
            if r.is_err() {
                token.cancel();
            }
            r
        }
    }))
    .await;
    if let Some(task) = summing {
        task.abort();
    }
    // The first real error wins over the cancellations it caused.
    let mut reports = Vec::new();
    let mut shards = Vec::new();
    let mut cancelled = None;
    let mut started_at: Option<SystemTime> = None;
    for r in results {
        match r {
            Ok((report, info, started)) => {
                reports.push(report);
                shards.push(info);
                started_at = Some(started_at.map_or(started, |s| s.min(started)));
            }
            Err(LoadError::Cancelled) => cancelled = Some(LoadError::Cancelled),
            Err(e) => return Err(e),
        }
    }
    if let Some(e) = cancelled {
        return Err(e);
    }
    let report =
        merge_reports(reports).map_err(|e| LoadError::engine("merging the shards' reports", e))?;
    Ok(ShardedReport {
        report,
        shards,
        started_at: started_at.unwrap_or_else(SystemTime::now),
    })
}

/// Publish the sum of the shards' progress whenever one of them changes.
async fn sum_progress(
    mut feeds: Vec<tokio::sync::watch::Receiver<Progress>>,
    tx: tokio::sync::watch::Sender<Progress>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let mut sum = Progress::default();
        for f in &mut feeds {
            let p = f.borrow_and_update();
            sum.elapsed = sum.elapsed.max(p.elapsed);
            sum.warming_up |= p.warming_up;
            sum.requests += p.requests;
            sum.errors += p.errors;
            sum.current_rate += p.current_rate;
        }
        if tx.send(sum).is_err() {
            return;
        }
    }
}

/// Why reports could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No report was given.
    #[error("there is nothing to merge")]
    Empty,
    /// Two histograms could not be added.
    #[error("cannot add the {what} histograms: {reason}")]
    Histogram {
        /// Which histograms: `latency`, `service time`, or a class's name.
        what: String,
        /// The histogram library's error.
        reason: String,
    },
}

fn add(into: &mut Histogram<u64>, from: &Histogram<u64>, what: &str) -> Result<(), MergeError> {
    into.add(from).map_err(|e| MergeError::Histogram {
        what: what.to_string(),
        reason: format!("{e:?}"),
    })
}

/// Merge the reports of shards or segments that ran the same test at the same
/// time. Exact where the data allows: histograms are added, counts, rates and
/// mean in-flight counts summed, the windows' lengths and lags the largest,
/// `valid` only when every part is. Each second's and third's percentiles come
/// from the parts' histograms added ([`LoadReport::second_latency`],
/// [`LoadReport::trend_latency`]): exact. Where a part lacks them (read back
/// from a document without them) they are the largest of the parts' figures,
/// an upper bound (no part has more than 1% of its samples over its own p99).
/// Generator CPU and wall time are summed, so `generator_cpu_share` is the
/// mean share per thread. Warnings are deduplicated, first seen first.
pub fn merge_reports(reports: Vec<LoadReport>) -> Result<LoadReport, MergeError> {
    let mut parts = reports.into_iter();
    let mut m = parts.next().ok_or(MergeError::Empty)?;
    let mut core_busy = Share::of(m.generator_core_busy);
    let mut window_cpu = Share::of(m.window_generator_cpu);
    let mut window_core = Share::of(m.window_core_busy);
    for r in parts {
        m.target_rate = match (m.target_rate, r.target_rate) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        m.achieved_rate += r.achieved_rate;
        m.delivered_rate += r.delivered_rate;
        m.successes += r.successes;
        m.requests += r.requests;
        m.elapsed = m.elapsed.max(r.elapsed);
        m.measured_from = match (m.measured_from, r.measured_from) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        sum_into(&mut m.errors, &r.errors);
        sum_into(&mut m.status, &r.status);
        add(&mut m.latency, &r.latency, "latency")?;
        add(&mut m.service, &r.service, "service time")?;
        for (name, c) in r.classes {
            match m.classes.get_mut(&name) {
                Some(mine) => {
                    mine.requests += c.requests;
                    mine.successes += c.successes;
                    for (kind, n) in &c.errors {
                        *mine.errors.entry(*kind).or_default() += n;
                    }
                    add(&mut mine.latency, &c.latency, &name)?;
                    add(&mut mine.service, &c.service, &name)?;
                }
                None => {
                    m.classes.insert(name, c);
                }
            }
        }
        let seconds = merge_seconds(
            (&m.timeline, &m.second_latency),
            (&r.timeline, &r.second_latency),
        )?;
        (m.timeline, m.second_latency) = seconds;
        m.mean_in_flight += r.mean_in_flight;
        m.late_sends += r.late_sends;
        m.late_stalled += r.late_stalled;
        m.max_send_lag = m.max_send_lag.max(r.max_send_lag);
        m.unsent += r.unsent;
        m.outstanding += r.outstanding;
        m.unanswered += r.unanswered;
        (m.trend, m.trend_latency) = match (m.trend, r.trend) {
            (Some(a), Some(b)) => {
                let mut t = merge_trends(a, b);
                let exact = m.trend_latency.len() == 3 && r.trend_latency.len() == 3;
                let thirds = if exact {
                    let mut out = Vec::with_capacity(3);
                    for (i, (x, y)) in m.trend_latency.iter().zip(&r.trend_latency).enumerate() {
                        let h = added(x, y, "a trend third's latency")?;
                        t.thirds[i].p50_us = quantile(&h, 0.5);
                        t.thirds[i].p90_us = quantile(&h, 0.9);
                        out.push(histogram_bytes(&h));
                    }
                    out
                } else {
                    Vec::new()
                };
                (Some(t), thirds)
            }
            (Some(a), None) => (Some(a), std::mem::take(&mut m.trend_latency)),
            (None, b) => (b, r.trend_latency),
        };
        m.sent_all += r.sent_all;
        m.ok_all += r.ok_all;
        m.steal = match (m.steal, r.steal) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        most_by_cpu(&mut m.cpu_steal, &r.cpu_steal);
        most_by_cpu(&mut m.steal_bursts, &r.steal_bursts);
        m.generator_cpu_s += r.generator_cpu_s;
        m.generator_wall_s += r.generator_wall_s;
        core_busy.push(r.generator_core_busy);
        window_cpu.push(r.window_generator_cpu);
        window_core.push(r.window_core_busy);
        m.reconnects += r.reconnects;
        m.warmup = m.warmup.max(r.warmup);
        m.abandoned = match (m.abandoned, r.abandoned) {
            (Some(a), Some(b)) => Some(Abandoned {
                planned: a.planned.max(b.planned),
                over: a.over + b.over,
                growth: match (a.growth, b.growth) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                },
            }),
            (a, b) => a.or(b),
        };
        m.valid &= r.valid;
        for x in r.expectation_examples {
            if m.expectation_examples.len() < crate::expect::EXAMPLES {
                m.expectation_examples.push(x);
            }
        }
        for w in r.warnings {
            if !m.warnings.contains(&w) {
                m.warnings.push(w);
            }
        }
    }
    m.generator_core_busy = core_busy.mean();
    m.window_generator_cpu = window_cpu.mean();
    m.window_core_busy = window_core.mean();
    Ok(m)
}

/// The mean of the parts' optional shares (None when no part had one).
struct Share {
    sum: f64,
    n: u32,
}

impl Share {
    fn of(v: Option<f64>) -> Share {
        let mut s = Share { sum: 0.0, n: 0 };
        s.push(v);
        s
    }
    fn push(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.sum += v;
            self.n += 1;
        }
    }
    fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / f64::from(self.n))
    }
}

/// Each CPU's larger reading of two engines' (the engines share the machine:
/// the worst of what each saw).
fn most_by_cpu<T: PartialOrd + Copy + Default>(into: &mut Vec<T>, from: &[T]) {
    if into.len() < from.len() {
        into.resize(from.len(), T::default());
    }
    for (m, r) in into.iter_mut().zip(from) {
        if *r > *m {
            *m = *r;
        }
    }
}

fn sum_into<K: Ord + Copy>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, n) in from {
        *into.entry(*k).or_insert(0) += n;
    }
}

/// A histogram as HdrHistogram V2 bytes (no deflate): small for a sparse
/// histogram such as one second's, and what [`histogram_from_bytes`] reads.
pub fn histogram_bytes(h: &Histogram<u64>) -> Vec<u8> {
    use hdrhistogram::serialization::{Serializer as _, V2Serializer};
    let mut out = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut out)
        .expect("a histogram of the engine's bounds serializes into memory");
    out
}

/// The inverse of [`histogram_bytes`] (V2 with or without deflate).
pub fn histogram_from_bytes(bytes: &[u8], what: &str) -> Result<Histogram<u64>, MergeError> {
    let mut cursor = bytes;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut cursor)
        .map_err(|e| MergeError::Histogram {
            what: what.to_string(),
            reason: format!("not an HdrHistogram V2: {e:?}"),
        })
}

fn added(a: &[u8], b: &[u8], what: &str) -> Result<Histogram<u64>, MergeError> {
    let mut h = histogram_from_bytes(a, what)?;
    add(&mut h, &histogram_from_bytes(b, what)?, what)?;
    Ok(h)
}

fn quantile(h: &Histogram<u64>, q: f64) -> u64 {
    if h.is_empty() {
        0
    } else {
        h.value_at_quantile(q)
    }
}

/// Second by second: counts summed; the p99 from the seconds' histograms
/// added when both sides carry one for each of their seconds (exact), else the
/// largest of the parts' p99s. Returns the seconds and, when exact, their
/// histograms.
pub fn merge_seconds(
    a: (&[Second], &[Vec<u8>]),
    b: (&[Second], &[Vec<u8>]),
) -> Result<(Vec<Second>, Vec<Vec<u8>>), MergeError> {
    let exact = a.0.len() == a.1.len() && b.0.len() == b.1.len();
    let mut seconds = merge_timelines(a.0, b.0);
    if !exact {
        return Ok((seconds, Vec::new()));
    }
    let mut by_second: BTreeMap<u32, Histogram<u64>> = BTreeMap::new();
    for (s, bytes) in a.0.iter().zip(a.1).chain(b.0.iter().zip(b.1)) {
        let h = histogram_from_bytes(bytes, "a second's latency")?;
        match by_second.get_mut(&s.second) {
            Some(into) => add(into, &h, "a second's latency")?,
            None => {
                by_second.insert(s.second, h);
            }
        }
    }
    let mut histograms = Vec::with_capacity(seconds.len());
    for s in &mut seconds {
        let h = &by_second[&s.second];
        s.p99_us = quantile(h, 0.99);
        histograms.push(histogram_bytes(h));
    }
    Ok((seconds, histograms))
}

/// Second by second: counts summed, p99 the largest of the parts' (an upper
/// bound; [`merge_seconds`] is exact when the histograms are kept).
pub fn merge_timelines(a: &[Second], b: &[Second]) -> Vec<Second> {
    let mut by_second: BTreeMap<u32, Second> = BTreeMap::new();
    for s in a.iter().chain(b) {
        let e = by_second.entry(s.second).or_insert(Second {
            second: s.second,
            requests: 0,
            errors: 0,
            p99_us: 0,
        });
        e.requests += s.requests;
        e.errors += s.errors;
        e.p99_us = e.p99_us.max(s.p99_us);
    }
    by_second.into_values().collect()
}

fn merge_trends(a: Trend, b: Trend) -> Trend {
    Trend {
        thirds: std::array::from_fn(|i| {
            let (x, y) = (a.thirds[i], b.thirds[i]);
            crate::TrendThird {
                requests: x.requests + y.requests,
                p50_us: x.p50_us.max(y.p50_us),
                p90_us: x.p90_us.max(y.p90_us),
                // Each part's mean in flight is its own; the whole holds their sum.
                mean_in_flight: x.mean_in_flight + y.mean_in_flight,
            }
        }),
    }
}

/// A class's statistics with empty histograms of the engine's bounds.
pub fn empty_class() -> ClassStats {
    ClassStats {
        requests: 0,
        successes: 0,
        errors: Default::default(),
        latency: crate::stats::new_histogram(),
        service: crate::stats::new_histogram(),
    }
}

/// An empty histogram with the engine's bounds (µs, 3 significant digits).
pub fn new_histogram() -> Histogram<u64> {
    crate::stats::new_histogram()
}

/// The CPUs to pin `count` shards to: `first`, `first + 1`, … when `first`
/// is given and they all exist among `online` CPUs; otherwise unpinned.
pub fn plan_pins(
    count: u32,
    first: Option<usize>,
    online: usize,
) -> Result<Vec<Option<usize>>, LoadError> {
    match first {
        None => Ok(vec![None; count as usize]),
        Some(c) if c.checked_add(count as usize).is_some_and(|end| end <= online) => {
            Ok((0..count as usize).map(|i| Some(c + i)).collect())
        }
        Some(c) => Err(LoadError::InvalidConfig(format!(
            "{count} shards pinned from CPU {c} need CPUs {c}..={}, but this machine has {online} (0..={}); lower --threads or --pin",
            c.saturating_add((count as usize).saturating_sub(1)),
            online.saturating_sub(1)
        ))),
    }
}

/// `--threads auto`: the online CPUs minus one (left to the target), at least 1.
pub fn auto_threads(online: usize) -> u32 {
    (online.saturating_sub(1).max(1)).min(MAX_SHARDS as usize) as u32
}

/// The CPUs this process may run on.
pub fn online_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
pub(crate) mod tests;
