//! The HTTP load engine: the send schedule, one task per keep-alive connection,
//! and the run control (warm-up, end, hard stop, progress).
//!
//! Connections *pull* tickets from the schedule when they are free. A ticket
//! carries its intended send time: in the open loop that is the schedule's next
//! slot, so when every connection is busy the schedule waits (nothing is dropped)
//! and the wait shows up in the corrected latency and the send lag. In the closed
//! loop the intended time is "now", so corrected and service time coincide.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{watch, Notify};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::http::{self, Conn, ExchangeError};
use crate::stats::Recorder;
use crate::sys::Usage;
use crate::{
    target, ClassStats, ErrorKind, LoadConfig, LoadError, LoadReport, Progress, RequestSpec,
    Schedule, Warmup,
};

/// A send later than this behind its intended time counts as late. Tokio's
/// timer has 1 ms granularity, so smaller lags are the clock, not a backlog.
const LATE: Duration = Duration::from_millis(2);
const TICK: Duration = Duration::from_millis(250);

/// Reject values that cannot describe a run.
pub(crate) fn validate(cfg: &LoadConfig) -> Result<(), LoadError> {
    let bad = |m: &str| Err(LoadError::InvalidConfig(m.to_string()));
    if cfg.connections == 0 || cfg.connections > crate::MAX_CONNECTIONS {
        return bad("connections must be between 1 and 50000");
    }
    if let Some(r) = cfg.rate {
        if !(r.is_finite() && r > 0.0 && r <= crate::MAX_RATE) {
            return bad(
                "the rate must be a positive number of requests per second, at most 10000000",
            );
        }
    }
    // Deadlines are `Instant + span`: an unbounded span overflows (a panic).
    let warmup = match cfg.warmup {
        Warmup::Fixed(d) | Warmup::Adaptive { max: d } => d,
    };
    let spans = [cfg.duration.unwrap_or_default(), warmup, cfg.timeout];
    if spans.iter().any(|d| *d > crate::MAX_SPAN) {
        return bad("the duration, warm-up and timeout must each be at most 7 days");
    }
    if cfg.duration.is_some_and(|d| d.is_zero()) {
        return bad("the duration must be greater than zero");
    }
    if cfg.max_requests == Some(0) {
        return bad("the request count must be greater than zero");
    }
    if cfg.duration.is_none() && cfg.max_requests.is_none() {
        return bad("give a duration or a request count, or the run would never end");
    }
    if cfg.timeout.is_zero() {
        return bad("the timeout must be greater than zero");
    }
    if !cfg.requests.is_empty() && cfg.requests.iter().all(|r| r.weight == 0) {
        return bad("every request in the mix has weight 0");
    }
    Ok(())
}

/// Pre-serialized requests and their weights.
struct Plan {
    bytes: Vec<Bytes>,
    head: Vec<bool>,
    /// Index into `class_names` per request.
    class_of: Vec<usize>,
    class_names: Vec<String>,
    cumulative: Vec<u64>,
}

impl Plan {
    fn new(cfg: &LoadConfig, authority: &str) -> Result<Plan, LoadError> {
        let specs = if cfg.requests.is_empty() {
            let mut path = cfg.target.path().to_string();
            if let Some(q) = cfg.target.query() {
                path.push('?');
                path.push_str(q);
            }
            vec![RequestSpec::get(path)]
        } else {
            cfg.requests.clone()
        };
        let mut plan = Plan {
            bytes: Vec::new(),
            head: Vec::new(),
            class_of: Vec::new(),
            class_names: Vec::new(),
            cumulative: Vec::new(),
        };
        let mut total = 0u64;
        for spec in &specs {
            plan.bytes.push(http::serialize(spec, authority)?);
            plan.head.push(spec.method.eq_ignore_ascii_case("HEAD"));
            let class = match plan.class_names.iter().position(|c| c == &spec.class) {
                Some(i) => i,
                None => {
                    plan.class_names.push(spec.class.clone());
                    plan.class_names.len() - 1
                }
            };
            plan.class_of.push(class);
            total += u64::from(spec.weight);
            plan.cumulative.push(total);
        }
        Ok(plan)
    }

    /// A request index drawn by weight.
    fn pick(&self, rng: &mut Rng) -> usize {
        if self.bytes.len() == 1 {
            return 0;
        }
        let total = *self.cumulative.last().unwrap_or(&1);
        let x = rng.next() % total.max(1);
        self.cumulative.partition_point(|&c| c <= x)
    }
}

/// xorshift64*: a cheap generator for picking requests and Poisson gaps.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// The schedule of intended send times and the run's bounds.
struct Scheduler {
    rate: Option<f64>,
    poisson: bool,
    origin: Instant,
    issued: u64,
    next: Instant,
    /// No ticket is intended at or after this instant.
    end: Option<Instant>,
    measure_start: Option<Instant>,
    max_requests: Option<u64>,
    issued_measured: u64,
    stopped: bool,
    rng: Rng,
}

impl Scheduler {
    fn next_ticket(&mut self, now: Instant) -> Option<Instant> {
        if self.stopped {
            return None;
        }
        let intended = match self.rate {
            None => now,
            Some(rate) => {
                let t = self.next;
                self.issued += 1;
                self.next = if self.poisson {
                    t + Duration::from_secs_f64(-self.rng.unit().ln() / rate)
                } else {
                    self.origin + Duration::from_secs_f64(self.issued as f64 / rate)
                };
                t
            }
        };
        if self.end.is_some_and(|end| intended >= end) {
            self.stopped = true;
            return None;
        }
        if self.measure_start.is_some_and(|m| intended >= m) {
            if self
                .max_requests
                .is_some_and(|max| self.issued_measured >= max)
            {
                self.stopped = true;
                return None;
            }
            self.issued_measured += 1;
        }
        Some(intended)
    }

    /// Scheduled sends in the window that never went out (open loop).
    fn backlog(&self) -> u64 {
        match (self.rate, self.end) {
            (Some(rate), Some(end)) if !self.stopped || self.next < end => {
                (end.saturating_duration_since(self.next).as_secs_f64() * rate).ceil() as u64
            }
            _ => 0,
        }
    }
}

/// State shared by the connection tasks and the control loop (one thread).
struct Engine {
    plan: Plan,
    addr: std::net::SocketAddr,
    timeout: Duration,
    open_loop: bool,
    sched: RefCell<Scheduler>,
    rec: RefCell<Recorder>,
    rng: RefCell<Rng>,
    late_sends: Cell<u64>,
    max_lag: Cell<Duration>,
    reconnects: Cell<u64>,
    live: Cell<u32>,
    all_done: Notify,
}

/// What the engine thread hands back; [`finish_report`] adds the self-check.
pub(crate) struct RawReport {
    report: LoadReport,
    connections: u32,
}

/// Run the load on the current (engine) thread.
pub(crate) async fn drive(
    cfg: LoadConfig,
    cancel: CancellationToken,
    progress: Option<watch::Sender<Progress>>,
) -> Result<RawReport, LoadError> {
    let probe_timeout = cfg.timeout.min(Duration::from_secs(5));
    let target = tokio::select! {
        t = target::probe(&cfg.target, "http", cfg.allow_remote, probe_timeout) => t?,
        _ = cancel.cancelled() => return Err(LoadError::Cancelled),
    };
    let plan = Plan::new(&cfg, &target.authority)?;
    let classes = plan.class_names.len();
    let t0 = Instant::now();
    let measure_start = match cfg.warmup {
        Warmup::Fixed(d) => Some(t0 + d),
        Warmup::Adaptive { .. } => None,
    };
    let seed =
        t0.elapsed().as_nanos() as u64 ^ 0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id());
    let engine = Rc::new(Engine {
        plan,
        addr: target.addr,
        timeout: cfg.timeout,
        open_loop: cfg.rate.is_some(),
        sched: RefCell::new(Scheduler {
            rate: cfg.rate,
            poisson: cfg.schedule == Schedule::Poisson,
            origin: t0,
            issued: 0,
            next: t0,
            end: measure_start.and_then(|m| cfg.duration.map(|d| m + d)),
            measure_start,
            max_requests: cfg.max_requests,
            issued_measured: 0,
            stopped: false,
            rng: Rng(seed | 1),
        }),
        rec: RefCell::new(Recorder::new(
            classes,
            measure_start.map(Into::into),
            t0.into(),
        )),
        rng: RefCell::new(Rng(seed.rotate_left(17) | 1)),
        late_sends: Cell::new(0),
        max_lag: Cell::new(Duration::ZERO),
        reconnects: Cell::new(0),
        live: Cell::new(cfg.connections),
        all_done: Notify::new(),
    });
    let tasks: Vec<_> = (0..cfg.connections)
        .map(|_| tokio::task::spawn_local(connection(engine.clone())))
        .collect();
    let abort_all = || tasks.iter().for_each(|t| t.abort());

    let mut warnings = Vec::new();
    let mut unsent = 0;
    let mut abandoned = false;
    let mut warmup = WarmupTracker::new(t0);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut last_responses = 0u64;
    let mut last_tick = t0;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                abort_all();
                return Err(LoadError::Cancelled);
            }
            _ = engine.all_done.notified() => {
                if engine.live.get() == 0 {
                    break;
                }
            }
            _ = tick.tick() => {}
        }
        let now = Instant::now();
        if let Warmup::Adaptive { max } = cfg.warmup {
            if engine.rec.borrow().measure_start.is_none() {
                let responses = engine.rec.borrow().all_responses;
                if let Some(capped) = warmup.observe(now, responses, max) {
                    if capped {
                        warnings.push(format!(
                            "the adaptive warm-up reached its cap of {max:?} before throughput settled within 2%"
                        ));
                    }
                    engine.rec.borrow_mut().start_measuring(now.into());
                    let mut s = engine.sched.borrow_mut();
                    s.measure_start = Some(now);
                    s.end = cfg.duration.map(|d| now + d);
                }
            }
        }
        // Hard stop: the backlog has had one timeout past the end to drain.
        let end = engine.sched.borrow().end;
        if let Some(end) = end {
            let mut s = engine.sched.borrow_mut();
            if now >= end + cfg.timeout + TICK && !s.stopped {
                unsent = s.backlog();
                s.stopped = true;
            }
            if now >= end + cfg.timeout * 2 + TICK * 4 {
                abandoned = true;
                break;
            }
        }
        if let Some(tx) = &progress {
            let rec = engine.rec.borrow();
            let dt = (now - last_tick).as_secs_f64();
            let _ = tx.send(Progress {
                elapsed: now - t0,
                warming_up: rec.measure_start.is_none_or(|m| now < m.into()),
                requests: rec.requests,
                errors: rec.error_count(),
                current_rate: if dt > 0.0 {
                    (rec.all_responses - last_responses) as f64 / dt
                } else {
                    0.0
                },
            });
            last_responses = rec.all_responses;
            last_tick = now;
        }
    }
    abort_all();
    if abandoned {
        warnings
            .push("some requests were still in flight at the hard stop and were abandoned".into());
    }
    if unsent > 0 {
        warnings.push(format!(
            "about {unsent} scheduled requests were never sent: every connection stayed busy; add connections"
        ));
    }

    let end_now = Instant::now();
    let sched = engine.sched.borrow();
    let mut rec = engine.rec.borrow_mut();
    rec.finish_timeline();
    let (window, measured) = match rec.measure_start {
        None => {
            warnings.push("the run ended before the warm-up did; nothing was measured".into());
            (Duration::ZERO, false)
        }
        Some(start) => {
            let start = Instant::from(start);
            let window = match (sched.end, cfg.max_requests) {
                (Some(end), _) if sched.issued_measured < cfg.max_requests.unwrap_or(u64::MAX) => {
                    end.saturating_duration_since(start)
                }
                _ => rec
                    .last_done
                    .map(|d| Instant::from(d).saturating_duration_since(start))
                    .unwrap_or_default(),
            };
            (window, true)
        }
    };
    let warmup_len = rec
        .measure_start
        .map(|m| Instant::from(m).saturating_duration_since(t0))
        .unwrap_or_else(|| end_now - t0);
    let mean_in_flight = if measured {
        let stop = rec.measure_start.map(Instant::from).unwrap_or(t0) + window;
        rec.mean_in_flight(stop.min(end_now).into(), window)
    } else {
        0.0
    };
    let classes = engine
        .plan
        .class_names
        .iter()
        .zip(rec.classes.iter())
        .map(|(name, c)| {
            (
                name.clone(),
                ClassStats {
                    requests: c.requests,
                    latency: c.latency.clone(),
                    service: c.service.clone(),
                },
            )
        })
        .collect();
    let report = LoadReport {
        target_rate: cfg.rate,
        achieved_rate: if window.is_zero() {
            0.0
        } else {
            rec.requests as f64 / window.as_secs_f64()
        },
        requests: rec.requests,
        elapsed: window,
        errors: std::mem::take(&mut rec.errors),
        status: std::mem::take(&mut rec.status),
        latency: rec.latency.clone(),
        service: rec.service.clone(),
        classes,
        timeline: std::mem::take(&mut rec.timeline),
        mean_in_flight,
        late_sends: engine.late_sends.get(),
        max_send_lag: engine.max_lag.get(),
        unsent,
        generator_cpu_s: 0.0,
        generator_wall_s: 0.0,
        reconnects: engine.reconnects.get(),
        warmup: warmup_len,
        valid: measured,
        warnings,
    };
    Ok(RawReport {
        report,
        connections: cfg.connections,
    })
}

/// Adaptive warm-up: three consecutive 1 s windows within 2% of each other.
struct WarmupTracker {
    window_start: Instant,
    window_responses: u64,
    rates: Vec<f64>,
    t0: Instant,
}

impl WarmupTracker {
    fn new(t0: Instant) -> Self {
        WarmupTracker {
            window_start: t0,
            window_responses: 0,
            rates: Vec::new(),
            t0,
        }
    }

    /// `Some(capped)` when the warm-up should end now.
    fn observe(&mut self, now: Instant, responses: u64, max: Duration) -> Option<bool> {
        if now - self.t0 >= max {
            return Some(true);
        }
        let dt = now - self.window_start;
        if dt < Duration::from_secs(1) {
            return None;
        }
        let rate = (responses - self.window_responses) as f64 / dt.as_secs_f64();
        self.window_start = now;
        self.window_responses = responses;
        self.rates.push(rate);
        if self.rates.len() > 3 {
            self.rates.remove(0);
        }
        stable(&self.rates).then_some(false)
    }
}

/// Three positive rates whose spread is within 2% of their mean.
fn stable(rates: &[f64]) -> bool {
    if rates.len() < 3 {
        return false;
    }
    let max = rates.iter().cloned().fold(f64::MIN, f64::max);
    let min = rates.iter().cloned().fold(f64::MAX, f64::min);
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    mean > 0.0 && (max - min) / mean <= 0.02
}

/// The self-check: generator CPU and whether the generator limited the rate.
pub(crate) fn finish_report(raw: RawReport, usage: Usage) -> LoadReport {
    let mut r = raw.report;
    r.generator_cpu_s = usage.cpu.as_secs_f64();
    r.generator_wall_s = usage.wall.as_secs_f64();
    let cpu = usage.cpu_fraction();
    if cpu > 0.9 {
        r.valid = false;
        r.warnings.push(format!(
            "the load generator used {:.0}% of a core: it, not the server, may have limited the results",
            cpu * 100.0
        ));
    }
    if let Some(target) = r.target_rate {
        if r.achieved_rate < 0.95 * target {
            if cpu > 0.8 {
                r.valid = false;
                r.warnings.push(format!(
                    "achieved {:.0} of the {:.0} req/s target while the generator was near saturation ({:.0}% of a core)",
                    r.achieved_rate, target, cpu * 100.0
                ));
            } else {
                r.warnings.push(format!(
                    "the server fell behind: achieved {:.0} of the {:.0} req/s target with {} connections; the corrected latency includes the queueing",
                    r.achieved_rate, target, raw.connections
                ));
            }
        }
    }
    if r.requests == 0 && r.valid {
        r.valid = false;
        r.warnings.push("no request got a response".into());
    }
    r
}

/// One keep-alive connection: take a ticket, wait for its time, send, record.
async fn connection(e: Rc<Engine>) {
    let mut conn: Option<Conn> = None;
    let mut opened_before = false;
    let mut connect_failures = 0u32;
    // One timer per connection, reset for each wait and each timeout.
    let sleep = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(sleep);
    loop {
        let now = Instant::now();
        let Some(intended) = e.sched.borrow_mut().next_ticket(now) else {
            break;
        };
        let idx = e.plan.pick(&mut e.rng.borrow_mut());
        let class = e.plan.class_of[idx];
        if intended > now {
            sleep.as_mut().reset(intended);
            (&mut sleep).await;
        }
        if conn.is_none() {
            match tokio::time::timeout(e.timeout, Conn::connect(e.addr)).await {
                Ok(Ok(c)) => {
                    if opened_before {
                        e.reconnects.set(e.reconnects.get() + 1);
                    }
                    opened_before = true;
                    connect_failures = 0;
                    conn = Some(c);
                }
                _ => {
                    let t = Instant::now();
                    record(&e, class, intended, t, t, Err(ErrorKind::Connect), false);
                    // Back off so a dead server does not turn into a busy loop.
                    connect_failures = (connect_failures + 1).min(6);
                    sleep
                        .as_mut()
                        .reset(t + Duration::from_millis(5 << connect_failures));
                    (&mut sleep).await;
                    continue;
                }
            }
        }
        let sent = Instant::now();
        if e.open_loop {
            let lag = sent.saturating_duration_since(intended);
            if lag > LATE {
                e.late_sends.set(e.late_sends.get() + 1);
                e.max_lag.set(e.max_lag.get().max(lag));
            }
        }
        e.rec.borrow_mut().on_send(sent.into());
        sleep.as_mut().reset(sent + e.timeout);
        let request = &e.plan.bytes[idx];
        let head = e.plan.head[idx];
        let mut retried = false;
        let outcome = loop {
            let Some(c) = conn.as_mut() else {
                break Err(ErrorKind::Reset);
            };
            let result = tokio::select! {
                biased;
                r = c.exchange(request, head) => Some(r),
                _ = &mut sleep => None,
            };
            let served = c.served;
            match result {
                Some(Ok(resp)) => {
                    if resp.close {
                        conn = None;
                    }
                    break Ok(resp.status);
                }
                None => {
                    conn = None;
                    break Err(ErrorKind::Timeout);
                }
                // The server closed an idle keep-alive connection: retry once.
                Some(Err(ExchangeError::ClosedBeforeResponse)) if !retried && served > 0 => {
                    retried = true;
                    conn = None;
                    let fresh = tokio::select! {
                        biased;
                        c = Conn::connect(e.addr) => c.ok(),
                        _ = &mut sleep => None,
                    };
                    match fresh {
                        Some(c) => {
                            e.reconnects.set(e.reconnects.get() + 1);
                            conn = Some(c);
                        }
                        None => break Err(ErrorKind::Connect),
                    }
                }
                Some(Err(ExchangeError::Parse)) => {
                    conn = None;
                    break Err(ErrorKind::Parse);
                }
                Some(Err(_)) => {
                    conn = None;
                    break Err(ErrorKind::Reset);
                }
            }
        };
        record(&e, class, intended, sent, Instant::now(), outcome, true);
    }
    e.live.set(e.live.get() - 1);
    if e.live.get() == 0 {
        e.all_done.notify_one();
    }
}

fn record(
    e: &Engine,
    class: usize,
    intended: Instant,
    sent: Instant,
    done: Instant,
    outcome: Result<u16, ErrorKind>,
    was_sent: bool,
) {
    let mut rec = e.rec.borrow_mut();
    if was_sent {
        rec.on_done(done.into());
    }
    rec.record(class, intended.into(), sent.into(), done.into(), outcome);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(rate: Option<f64>, poisson: bool, t0: Instant) -> Scheduler {
        Scheduler {
            rate,
            poisson,
            origin: t0,
            issued: 0,
            next: t0,
            end: Some(t0 + Duration::from_secs(1)),
            measure_start: Some(t0),
            max_requests: None,
            issued_measured: 0,
            stopped: false,
            rng: Rng(42),
        }
    }

    #[test]
    fn uniform_schedule_spaces_sends_and_stops_at_the_end() {
        let t0 = Instant::now();
        let mut s = sched(Some(100.0), false, t0);
        let mut times = Vec::new();
        while let Some(t) = s.next_ticket(t0) {
            times.push(t);
        }
        assert_eq!(times.len(), 100);
        assert_eq!(times[1] - times[0], Duration::from_millis(10));
        assert_eq!(times[99] - t0, Duration::from_millis(990));
        assert_eq!(s.backlog(), 0);
    }

    #[test]
    fn poisson_schedule_has_the_right_mean_rate() {
        let t0 = Instant::now();
        let mut s = sched(Some(10_000.0), true, t0);
        let mut n = 0;
        while s.next_ticket(t0).is_some() {
            n += 1;
        }
        assert!((9_500..=10_500).contains(&n), "{n}");
    }

    #[test]
    fn max_requests_bounds_the_measured_tickets() {
        let t0 = Instant::now();
        let mut s = sched(None, false, t0);
        s.end = None;
        s.max_requests = Some(5);
        let n = std::iter::from_fn(|| s.next_ticket(t0)).count();
        assert_eq!(n, 5);
    }

    #[test]
    fn stability_needs_three_close_windows() {
        assert!(!stable(&[100.0, 100.0]));
        assert!(stable(&[100.0, 101.0, 99.5]));
        assert!(!stable(&[100.0, 105.0, 100.0]));
        assert!(!stable(&[0.0, 0.0, 0.0]));
    }

    #[test]
    fn weighted_pick_follows_weights() {
        let cfg = LoadConfig {
            requests: vec![
                RequestSpec {
                    weight: 3,
                    ..RequestSpec::get("/a")
                },
                RequestSpec {
                    weight: 1,
                    ..RequestSpec::get("/b")
                },
                RequestSpec {
                    weight: 0,
                    ..RequestSpec::get("/never")
                },
            ],
            ..LoadConfig::new(url::Url::parse("http://127.0.0.1:1/").unwrap())
        };
        let plan = Plan::new(&cfg, "h").unwrap();
        let mut rng = Rng(7);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[plan.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[2], 0);
        let share = f64::from(counts[0]) / 40_000.0;
        assert!((0.72..0.78).contains(&share), "{share}");
    }

    #[test]
    fn validation_names_the_problem() {
        let base = LoadConfig::new(url::Url::parse("http://127.0.0.1:1/").unwrap());
        let mut c = base.clone();
        c.rate = Some(0.0);
        assert!(validate(&c).unwrap_err().to_string().contains("rate"));
        let mut c = base.clone();
        c.duration = Some(Duration::ZERO);
        assert!(validate(&c).unwrap_err().to_string().contains("duration"));
        let mut c = base;
        c.duration = None;
        assert!(validate(&c).is_err());
    }
}
