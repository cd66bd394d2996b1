//! The HTTP load engine: one task per keep-alive connection pulling from the
//! schedule (`schedule.rs`), and the run control (preconnect, warm-up, the
//! cutoff, progress).
//!
//! The run stops at the cutoff (the measured window's end + grace): the
//! connection tasks are aborted, and every measured request still in the
//! schedule or held by a connection (each connection's ticket sits in a shared
//! slot) becomes an overload error at its age at the cutoff.
//!
//! Connections *pull* tickets from the schedule when they are free. A ticket
//! carries its intended send time: in the open loop that is the schedule's next
//! slot, so when every connection is busy the schedule waits (nothing is dropped)
//! and the wait shows up in the corrected latency and the send lag. In the closed
//! loop the intended time is "now", so corrected and service time coincide.
//!
//! Open-loop connections are read on the 1 ms ticks of a `ticked::Ticker` and
//! time their answers by the kernel's arrival stamp; closed-loop connections stay
//! in tokio's reactor and react to each response at once.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::rng::Rng;
use crate::schedule::{Plan, Scheduler, WarmupTracker};
use crate::stats::Recorder;
use crate::sys::WindowProbe;
use crate::ticked::Ticker;
mod connection;
mod preconnect;

use crate::{
    target, Abandon, Abandoned, LoadConfig, LoadError, LoadReport, Prime, Progress, Schedule,
    Warmup,
};
use connection::connection;
use preconnect::Opening;

/// See [`crate::LATE_SEND`].
pub(crate) const LATE: Duration = crate::LATE_SEND;
/// Open loop: how far ahead of its intended time a request may be sent.
const EARLY: Duration = Duration::from_millis(1);
const TICK: Duration = Duration::from_millis(250);
/// How often a window with an [`Abandon`] rule checks whether it is decided.
pub(crate) const ABANDON_CHECK: Duration = Duration::from_millis(50);
/// A control loop that wakes this much later than its checks are due was
/// held up with the whole engine thread (a stopped or starved process): the
/// window's late answers are then the machine's, and it runs its length so
/// that the caller's stall rule can judge it.
pub(crate) const HELD_UP: Duration = Duration::from_millis(ABANDON_CHECK.as_millis() as u64 + 25);

/// Reject values that cannot describe a run.
pub(crate) fn validate(cfg: &LoadConfig) -> Result<(), LoadError> {
    let bad = |m: &str| Err(LoadError::InvalidConfig(m.to_string()));
    if cfg.connections == 0 || cfg.connections > crate::MAX_CONNECTIONS {
        return bad("connections must be between 1 and 50000");
    }
    if let Some(r) = cfg.rate {
        if !(r.is_finite() && (crate::MIN_RATE..=crate::MAX_RATE).contains(&r)) {
            return bad(&format!(
                "the rate must be a number of requests per second from {} to {}",
                crate::MIN_RATE,
                crate::MAX_RATE
            ));
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
    if cfg.grace.is_some_and(|g| g > crate::MAX_SPAN) {
        return bad("the grace period must be at most 7 days");
    }
    if cfg
        .abandon
        .is_some_and(|a| a.latency.is_zero() || a.latency > crate::MAX_SPAN)
    {
        return bad("the abandon latency must be greater than zero and at most 7 days");
    }
    if cfg.sessions.is_empty() {
        if !cfg.requests.is_empty() && cfg.requests.iter().all(|r| r.weight == 0) {
            return bad("every request in the mix has weight 0");
        }
        return Ok(());
    }
    validate_sessions(cfg)
}

fn validate_sessions(cfg: &LoadConfig) -> Result<(), LoadError> {
    let bad = |m: String| Err(LoadError::InvalidConfig(m));
    if cfg.sessions.iter().all(|s| s.weight == 0) {
        return bad("every session in the mix has weight 0".into());
    }
    for s in &cfg.sessions {
        if s.steps.is_empty() {
            return bad(format!("session `{}` has no steps", s.name));
        }
        if let Some(i) = s.steps.iter().find(|&&i| i >= cfg.requests.len()) {
            return bad(format!(
                "session `{}` names request {i}, but there are {} requests",
                s.name,
                cfg.requests.len()
            ));
        }
        if let Some(t) = s.think {
            if cfg.rate.is_some() {
                return bad(format!(
                    "session `{}` has a think time, which only a closed loop has: an open loop's rate alone sets when requests are sent; drop the rate for virtual users (-c N), or the think time",
                    s.name
                ));
            }
            if t.min > t.max || t.max > crate::MAX_SPAN {
                return bad(format!(
                    "session `{}`: the think time must run from a minimum up to a maximum of at most 7 days",
                    s.name
                ));
            }
        }
    }
    Ok(())
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
    late_stalled: Cell<u64>,
    /// [`LoadConfig::stalled_after`], at least [`LATE`].
    stalled_after: Duration,
    max_lag: Cell<Duration>,
    reconnects: Cell<u64>,
    live: Cell<u32>,
    all_done: Notify,
    /// Open loop: connections are read on its ticks (see `ticked`).
    ticker: Option<Rc<Ticker>>,
    /// Each connection's current ticket, read by the control loop at the cutoff.
    tickets: Box<[Cell<Option<Ticket>>]>,
    /// The window's end + grace, once known; a send due after it is not made.
    cutoff: Cell<Option<Instant>>,
    /// The `Host` templated requests carry.
    authority: String,
    /// Templates' `{{ seq }}`: the next number.
    seq: Cell<u64>,
    /// Templates' sequential tables: each one's next row.
    cursors: Box<[Cell<usize>]>,
}

impl Engine {
    /// The next ticket for a free connection; the ticker learns when the one
    /// after it is due, so it keeps harvesting every tick while that send
    /// waits for a connection.
    fn next_ticket(&self, now: Instant) -> Option<Instant> {
        let mut sched = self.sched.borrow_mut();
        let ticket = sched.next_ticket(now);
        self.tell_ticker(&sched);
        ticket
    }

    /// No send is made after this: the window ended early, or its cutoff came.
    fn stop_sending(&self) {
        let mut sched = self.sched.borrow_mut();
        sched.stopped = true;
        self.tell_ticker(&sched);
    }

    /// The schedule's next unclaimed send, for the ticker's back-off.
    fn tell_ticker(&self, sched: &Scheduler) {
        if let Some(t) = &self.ticker {
            t.next_send((!sched.stopped && sched.rate.is_some()).then_some(sched.next));
        }
    }
}

/// A request a connection holds, from taking its ticket until it is recorded.
#[derive(Clone, Copy)]
struct Ticket {
    intended: Instant,
    class: u32,
    sent: bool,
}

/// What the engine thread hands back; `selfcheck::finish_report` adds the self-check.
pub(crate) struct RawReport {
    pub(crate) report: LoadReport,
    pub(crate) connections: u32,
    /// The wall-clock time the run's clock started.
    pub(crate) started_at: std::time::SystemTime,
    /// How late an engine-held send counted in `late_stalled`.
    pub(crate) stalled_after: Duration,
    /// The steal over the measured window, when the engine measured one.
    pub(crate) window_steal: Option<crate::StealShares>,
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
    // The request that primes connections opened in turn, and whether it is a HEAD.
    let in_turn = match &cfg.prime {
        Prime::InTurn(spec) => Some((
            crate::http::serialize(spec, &target.authority)?,
            crate::http::is_head(&spec.method),
        )),
        Prime::Off | Prime::Together => None,
    };
    let classes = plan.class_names.len();
    // The closed loop reacts to each response at once (it is about maximum
    // throughput); the open loop batches its reads on the timer's ticks.
    let ticker = match cfg.rate {
        Some(_) => {
            Some(Ticker::new().map_err(|e| LoadError::engine("cannot create an epoll set", e))?)
        }
        None => None,
    };
    let mut warnings = Vec::new();
    // The harvester runs from the start: primed connections read through it.
    let harvester = ticker.clone().map(|t| tokio::task::spawn_local(t.run()));
    // Open the connections before the clock starts, so their cost stays out of
    // the run; primed, each has carried one exchange too.
    let preconnected = if cfg.preconnect {
        let prime = match &cfg.prime {
            Prime::Off => None,
            Prime::Together => Some((&plan.bytes[0][..], plan.head[0])),
            Prime::InTurn(_) => in_turn.as_ref().map(|(bytes, head)| (&bytes[..], *head)),
        };
        let open = Opening {
            connections: cfg.connections as usize,
            addr: target.addr,
            ticker: ticker.as_ref(),
            timeout: cfg.timeout,
            prime,
            in_turn: in_turn.is_some(),
        };
        let (opened, warning) = tokio::select! {
            r = open.run() => r,
            _ = cancel.cancelled() => {
                harvester.iter().for_each(|t| t.abort());
                return Err(LoadError::Cancelled);
            }
        };
        warnings.extend(warning);
        opened
    } else {
        (0..cfg.connections).map(|_| None).collect()
    };
    if let Some(at) = cfg.start_at {
        if let Err(e) = wait_until(at, &cancel).await {
            harvester.iter().for_each(|t| t.abort());
            return Err(e);
        }
    }
    let started_at = std::time::SystemTime::now();
    let t0 = Instant::now();
    let measure_start = match cfg.warmup {
        Warmup::Fixed(d) => Some(t0 + d),
        Warmup::Adaptive { .. } => None,
    };
    let grace = cfg.grace.unwrap_or(cfg.timeout);
    let open_loop = cfg.rate.is_some();
    let seed =
        t0.elapsed().as_nanos() as u64 ^ 0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id());
    let engine = Rc::new(Engine {
        addr: target.addr,
        timeout: cfg.timeout,
        open_loop,
        sched: RefCell::new(Scheduler {
            rate: cfg.rate,
            poisson: cfg.schedule == Schedule::Poisson,
            origin: t0,
            issued: 0,
            next: t0,
            end: None,
            measure_start,
            max_requests: cfg.max_requests,
            issued_measured: 0,
            stopped: false,
            rng: Rng::new(seed),
        }),
        rec: RefCell::new({
            let mut rec = Recorder::new(classes, measure_start.map(Into::into), t0.into());
            rec.expect(plan.expect.clone());
            rec
        }),
        rng: RefCell::new(Rng::new(seed.rotate_left(17))),
        late_sends: Cell::new(0),
        late_stalled: Cell::new(0),
        stalled_after: cfg.stalled_after.max(LATE),
        max_lag: Cell::new(Duration::ZERO),
        reconnects: Cell::new(0),
        live: Cell::new(cfg.connections),
        all_done: Notify::new(),
        ticker: ticker.clone(),
        tickets: (0..cfg.connections).map(|_| Cell::new(None)).collect(),
        cutoff: Cell::new(None),
        authority: target.authority.clone(),
        seq: Cell::new(0),
        cursors: plan.tables.0.iter().map(|_| Cell::new(0)).collect(),
        plan,
    });
    // Only an open-loop window with an end can be decided before it.
    let abandon = cfg.abandon.filter(|_| open_loop && cfg.duration.is_some());
    let track_growth = abandon.is_some();
    // The window's end and cutoff, once the warm-up's end is known.
    let set_window = |start: Instant| {
        let end = cfg.duration.map(|d| start + d)?;
        let cutoff = end + grace;
        engine.sched.borrow_mut().end = Some(end);
        engine
            .rec
            .borrow_mut()
            .set_window(end.into(), Some(cutoff.into()), open_loop);
        if track_growth {
            engine.rec.borrow_mut().track_growth(end.into());
        }
        engine.cutoff.set(Some(cutoff));
        Some(cutoff)
    };
    engine.rec.borrow_mut().over_us = abandon.map(|a| a.latency.as_micros() as u64);
    let mut abandoned = None;
    let mut held_up = false;
    let mut cutoff = measure_start.and_then(set_window);
    let mut tasks: Vec<_> = preconnected
        .into_iter()
        .enumerate()
        .map(|(id, conn)| tokio::task::spawn_local(connection(engine.clone(), id, conn)))
        .collect();
    tasks.extend(harvester);
    let abort_all = || tasks.iter().for_each(|t| t.abort());

    let mut warmup = WarmupTracker::new(t0);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut check = tokio::time::interval(ABANDON_CHECK);
    check.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let stop = tokio::time::sleep_until(cutoff.unwrap_or(t0));
    tokio::pin!(stop);
    let mut last_responses = 0u64;
    let mut last_tick = t0;
    let mut last_wake = t0;
    // The engine's CPU over the measured window: from the control loop's
    // first wake in it to its first wake past the window's end (or the stop).
    let mut window_probe: Option<WindowProbe> = None;
    let mut window_usage = None;
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
            // Precisely at the cutoff: what has not arrived by now never counts.
            _ = &mut stop, if cutoff.is_some() => {
                engine.stop_sending();
                if let Some(t) = &ticker {
                    // Answers that arrived by the cutoff but wait for the
                    // next harvest: hand them to their connections first.
                    t.harvest();
                }
                tokio::time::sleep(EARLY).await;
                break;
            }
            _ = tick.tick() => {}
            _ = check.tick(), if abandon.is_some() => {}
        }
        let now = Instant::now();
        if window_probe.is_none() && window_usage.is_none() {
            let start = engine.rec.borrow().measure_start;
            if start.is_some_and(|m| now >= m.into()) {
                window_probe = Some(WindowProbe::start(cfg.pin_cpu));
            }
        } else if window_usage.is_none() && engine.sched.borrow().end.is_some_and(|e| now >= e) {
            window_usage = window_probe.take().map(WindowProbe::finish);
        }
        held_up |= abandon.is_some() && now - last_wake > HELD_UP;
        last_wake = now;
        let rule = abandon.filter(|_| !held_up);
        if let Some((rule, over)) =
            rule.and_then(|rule| decided_over(&engine, rule, now).map(|over| (rule, over)))
        {
            // The window's tail is decided: end it here, as at a cutoff.
            engine.sched.borrow_mut().end = Some(now);
            engine.stop_sending();
            // Requests intended in the last 1.5 × the latency are still
            // mostly unanswered (they would be censored short): fit before.
            let fit_end = now.checked_sub(rule.latency.mul_f64(1.5)).unwrap_or(now);
            let growth = engine.rec.borrow().growth(fit_end.into());
            engine.rec.borrow_mut().end_early(now.into());
            engine.cutoff.set(Some(now));
            cutoff = Some(now);
            abandoned = cfg.duration.map(|planned| Abandoned {
                planned,
                over,
                growth,
            });
            if let Some(t) = &ticker {
                t.harvest();
            }
            tokio::time::sleep(EARLY).await;
            break;
        }
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
                    engine.sched.borrow_mut().measure_start = Some(now);
                    cutoff = set_window(now);
                    if let Some(c) = cutoff {
                        stop.as_mut().reset(c);
                    }
                }
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
    let window_usage = window_usage.or_else(|| window_probe.map(WindowProbe::finish));
    // The steal the stall rule judges is the window's, as its CPU shares are
    // (the run's includes connects, priming and the grace, diluting a burst).
    let window_steal = window_usage.as_ref().map(|u| u.stolen.clone());
    if cutoff.is_some() {
        censor_at_cutoff(&engine);
    }

    let end_now = Instant::now();
    let sched = engine.sched.borrow();
    let mut rec = engine.rec.borrow_mut();
    if let (Some(a), Some(rule), Some(start)) = (abandoned, abandon, rec.measure_start) {
        warnings.push(format!(
            "stopped {:.2} s into the planned {:.2} s window: {} measured requests were already over {} ms, more than the {} that decide its p99",
            sched.end.map_or(0.0, |end| end.saturating_duration_since(start.into()).as_secs_f64()),
            a.planned.as_secs_f64(),
            a.over,
            rule.latency.as_millis(),
            rule.count
        ));
    } else if rec.unsent + rec.outstanding > 0 {
        warnings.push(format!(
            "at the cutoff ({} ms after the window), {} measured requests were still unsent and {} unanswered: counted as overload errors",
            grace.as_millis(),
            rec.unsent,
            rec.outstanding
        ));
    }
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
        .cloned()
        .zip(rec.class_stats())
        .collect();
    let report = LoadReport {
        target_rate: cfg.rate,
        achieved_rate: if window.is_zero() {
            0.0
        } else {
            rec.successes as f64 / window.as_secs_f64()
        },
        delivered_rate: if window.is_zero() {
            0.0
        } else {
            rec.ok_in_window as f64 / window.as_secs_f64()
        },
        successes: rec.successes,
        requests: rec.requests,
        elapsed: window,
        measured_from: rec.measure_start.filter(|_| measured),
        errors: std::mem::take(&mut rec.errors),
        status: std::mem::take(&mut rec.status),
        latency: rec.latency.clone(),
        service: rec.service.clone(),
        classes,
        timeline: std::mem::take(&mut rec.timeline),
        second_latency: std::mem::take(&mut rec.second_latency),
        mean_in_flight,
        late_sends: engine.late_sends.get(),
        late_stalled: engine.late_stalled.get(),
        max_send_lag: engine.max_lag.get(),
        unsent: rec.unsent,
        outstanding: rec.outstanding,
        unanswered: u64::from(rec.in_flight()),
        trend: rec.trend(),
        trend_latency: rec.trend_latency(),
        sent_all: rec.sent_all,
        ok_all: rec.ok_all,
        steal: None,
        cpu_steal: Vec::new(),
        steal_bursts: Vec::new(),
        generator_cpu_s: 0.0,
        generator_wall_s: 0.0,
        generator_core_busy: None,
        window_generator_cpu: window_usage.as_ref().map(|u| u.cpu),
        window_core_busy: window_usage.as_ref().and_then(|u| u.core_busy),
        reconnects: engine.reconnects.get(),
        warmup: warmup_len,
        abandoned,
        valid: measured,
        warnings,
        expectation_examples: std::mem::take(&mut rec.examples),
    };
    Ok(RawReport {
        report,
        connections: cfg.connections,
        started_at,
        stalled_after: engine.stalled_after,
        window_steal,
    })
}

/// Sleep until the wall-clock time `at`; refuse when it is already more than
/// [`crate::MAX_START_LATE`] past.
async fn wait_until(
    at: std::time::SystemTime,
    cancel: &CancellationToken,
) -> Result<(), LoadError> {
    match at.duration_since(std::time::SystemTime::now()) {
        Ok(wait) => tokio::select! {
            _ = tokio::time::sleep(wait) => Ok(()),
            _ = cancel.cancelled() => Err(LoadError::Cancelled),
        },
        Err(past) if past.duration() > crate::MAX_START_LATE => Err(LoadError::TooLate {
            late: past.duration(),
        }),
        Err(_) => Ok(()),
    }
}

/// An [`Abandon`] rule's count of measured requests over its latency, once
/// it exceeds the rule's: those timed over it, plus those a connection holds
/// or the schedule still owes whose intended time is that long past. `None`
/// while the window is undecided, or outside it.
fn decided_over(e: &Engine, rule: Abandon, now: Instant) -> Option<u64> {
    let rec = e.rec.borrow();
    let start: Instant = rec.measure_start?.into();
    let sched = e.sched.borrow();
    if sched.end.is_none_or(|end| now >= end) {
        return None;
    }
    let old = now.checked_sub(rule.latency)?;
    let held = e
        .tickets
        .iter()
        .filter_map(Cell::get)
        .filter(|t| t.intended >= start && t.intended < old)
        .count() as u64;
    let over = rec.over + held + sched.owed_before(old, start);
    (over > rule.count).then_some(over)
}

/// At the cutoff: every measured request still in the schedule, or held by a
/// connection (sent or not), is an overload error at its age then. The
/// connection tasks are already aborted, so the tickets are final.
fn censor_at_cutoff(e: &Engine) {
    let mut rec = e.rec.borrow_mut();
    let mut sched = e.sched.borrow_mut();
    sched.stopped = false;
    let cutoff = e.cutoff.get().unwrap_or_else(Instant::now);
    // The schedule's remaining tickets up to the window's end (it stops there).
    while let Some(intended) = sched.next_ticket(cutoff) {
        let class = e.plan.class_of[e.plan.pick(&mut e.rng.borrow_mut())];
        rec.censor(class, intended.into(), false);
    }
    for ticket in e.tickets.iter().filter_map(Cell::take) {
        rec.censor(ticket.class as usize, ticket.intended.into(), ticket.sent);
    }
}

#[cfg(test)]
mod tests {
    use super::connection::within;
    use super::*;

    /// A shared start: wait for it, start at once a little late, refuse past 60 s.
    #[tokio::test]
    async fn a_start_time_is_awaited_and_one_long_past_refused() {
        use std::time::SystemTime;
        let cancel = CancellationToken::new();
        let t = Instant::now();
        wait_until(SystemTime::now() + Duration::from_millis(80), &cancel)
            .await
            .unwrap();
        assert!(
            t.elapsed() >= Duration::from_millis(75),
            "{:?}",
            t.elapsed()
        );
        let t = Instant::now();
        wait_until(SystemTime::now() - Duration::from_secs(59), &cancel)
            .await
            .unwrap();
        assert!(t.elapsed() < Duration::from_millis(50));
        let e = wait_until(SystemTime::now() - Duration::from_secs(61), &cancel)
            .await
            .unwrap_err();
        assert!(matches!(e, LoadError::TooLate { .. }), "{e}");
        assert!(e.to_string().contains("more than the 60s allowed"), "{e}");
        cancel.cancel();
        let e = wait_until(SystemTime::now() + Duration::from_secs(60), &cancel)
            .await
            .unwrap_err();
        assert!(matches!(e, LoadError::Cancelled));
    }

    /// The lazily moved timeout: a timer still armed for an earlier request's
    /// deadline neither cuts the current request short nor lets it run forever.
    #[tokio::test(start_paused = true)]
    async fn a_timer_left_at_an_earlier_deadline_times_out_at_the_current_one() {
        let t0 = Instant::now();
        let timer = tokio::time::sleep_until(t0 + Duration::from_secs(1));
        tokio::pin!(timer);
        let never = std::future::pending::<()>();
        let deadline = t0 + Duration::from_millis(1500);
        assert_eq!(within(deadline, timer.as_mut(), never).await, None);
        assert_eq!(t0.elapsed(), Duration::from_millis(1500));
        // The timer has long fired: work that ends before its own deadline completes.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let t1 = Instant::now();
        let work = async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            7
        };
        let deadline = t1 + Duration::from_secs(1);
        assert_eq!(within(deadline, timer.as_mut(), work).await, Some(7));
        assert_eq!(t1.elapsed(), Duration::from_millis(700));
        // And the next one, slower than its deadline, times out exactly there.
        let t2 = Instant::now();
        let slow = tokio::time::sleep(Duration::from_secs(5));
        let deadline = t2 + Duration::from_secs(1);
        assert_eq!(within(deadline, timer.as_mut(), slow).await, None);
        assert_eq!(t2.elapsed(), Duration::from_secs(1));
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
        let mut c = base.clone();
        c.duration = None;
        assert!(validate(&c).is_err());
        // Think time is a closed loop's: an open loop's rate sets the sends.
        let mut c = base;
        c.requests = vec![crate::RequestSpec::get("/")];
        c.sessions = vec![crate::SessionSpec {
            name: "browse".into(),
            steps: vec![0],
            weight: 1,
            think: Some(crate::Think {
                min: Duration::from_millis(10),
                max: Duration::from_millis(20),
            }),
        }];
        assert!(validate(&c).is_ok());
        c.rate = Some(100.0);
        let why = validate(&c).unwrap_err().to_string();
        assert!(
            why.contains("session `browse`") && why.contains("closed loop"),
            "{why}"
        );
        c.rate = None;
        c.sessions[0].steps = vec![1];
        let why = validate(&c).unwrap_err().to_string();
        assert!(why.contains("names request 1"), "{why}");
    }
}
