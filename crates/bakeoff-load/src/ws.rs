//! WebSocket fan-out load: N clients join one room, timestamped text messages go
//! out at a total rate spread round-robin over the clients, and every client
//! records the latency of every delivery it receives (the sender included, as
//! the contract's chat room echoes to everyone). Missing deliveries are counted.
//!
//! Each message carries its **intended** send time (origin + k/rate), so a
//! sender held up (by the server's backpressure or this machine) shows in the
//! latency rather than hiding it (coordinated omission). Deliveries arriving
//! after the window's end + grace are missing, and go into the latency at
//! their age at that cutoff (censored: at least that late), as the HTTP
//! engine's unanswered requests do: a room that drops or falls behind shows in
//! its p99 rather than vanishing from it.
//!
//! With an [`Abandon`] rule (a capacity search's windows) the window ends as
//! soon as more of its planned deliveries are over the rule's latency than the
//! rule allows: delivered that late, or still missing that long after their
//! message's intended time. Its p99 is then decided, as in the HTTP engine.
//!
//! Runs on the same dedicated engine thread as the HTTP engine, and reads its
//! sockets as the open loop does: on the 1 ms ticks of a `ticked::Ticker`, each
//! delivery timed at the kernel's arrival of the read that completed it
//! (`SO_TIMESTAMPNS`). A room writes every message to every client, and one
//! wake-up and read per delivery cost the generator as much CPU as the room
//! spent writing it (bench/ws.sh); a tick's read takes all that arrived since.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use hdrhistogram::Histogram;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use url::Url;

use crate::engine::{ABANDON_CHECK, HELD_UP};
use crate::stats::new_histogram;
use crate::ticked::{Stamped, TickedStream, Ticker};
use crate::{sys, target, Abandon, Abandoned, LoadError, Trend, TrendThird};

/// The default grace: how long after the window deliveries still count.
const DEFAULT_GRACE: Duration = Duration::from_secs(2);
/// A send later than this behind its intended time counts as late (as in HTTP).
const LATE: Duration = Duration::from_millis(2);

/// What to run.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// `ws://host:port/path`
    pub url: Url,
    /// WebSocket clients, each its own connection, all in the one room.
    pub clients: u32,
    /// Messages per second in total, spread over the clients.
    pub rate: f64,
    /// Length of the sending window.
    pub duration: Duration,
    /// Messages sent at the rate before the window and never measured: the
    /// room settles (buffers, the server's first allocations) before it.
    pub warmup: Duration,
    /// Bound on each client's connect and handshake, and on one blocked send.
    pub connect_timeout: Duration,
    /// Size of each text message (at least the timestamp header).
    pub message_bytes: usize,
    /// Deliveries arriving after the window's end + grace are missing, and
    /// messages not sent by then are unsent. `None` is 2 s.
    pub grace: Option<Duration>,
    /// Pin the engine thread to this CPU.
    pub pin_cpu: Option<usize>,
    /// Allow a target that does not resolve to a loopback address.
    pub allow_remote: bool,
    /// End the window once its delivery p99 is decided over a latency (see
    /// [`Abandon`]; its count is of deliveries: messages × clients).
    pub abandon: Option<Abandon>,
    /// How late a send the engine itself held up must be to count in
    /// [`WsReport::late_stalled`] (as HTTP's [`crate::LoadConfig::stalled_after`]).
    pub stalled_after: Duration,
}

impl WsConfig {
    /// 10 clients, 100 messages/s for 10 s, 64-byte messages, 5 s connect timeout.
    pub fn new(url: Url) -> Self {
        WsConfig {
            url,
            clients: 10,
            rate: 100.0,
            duration: Duration::from_secs(10),
            warmup: Duration::ZERO,
            connect_timeout: Duration::from_secs(5),
            message_bytes: 64,
            grace: None,
            pin_cpu: None,
            allow_remote: false,
            abandon: None,
            stalled_after: crate::LATE_SEND,
        }
    }
}

/// The result of one WebSocket run. Latencies are microseconds.
#[derive(Debug, Clone)]
pub struct WsReport {
    /// Clients asked for.
    pub clients: u32,
    /// Clients that connected and joined.
    pub connected: u32,
    /// Messages sent in the window.
    pub sent: u64,
    /// Messages intended in the window but not sent by the cutoff.
    pub unsent: u64,
    /// Sends more than 2 ms behind their intended time.
    pub late_sends: u64,
    /// Those of them the engine thread itself held up (a busy or stalling
    /// machine) by more than [`WsConfig::stalled_after`]: counted from when the
    /// previous send had finished (at the intended time at the earliest), or,
    /// for a send catching up after such a send, at most by that send's delay.
    /// A room that reads slowly holds the previous send up instead: none.
    pub late_stalled: u64,
    /// (`sent` + `unsent`) × connected clients.
    pub expected_deliveries: u64,
    /// Deliveries received by the cutoff (the window's end + grace).
    pub deliveries: u64,
    /// Deliveries that arrived inside the measured window, whatever their
    /// intended time (the warm-up's included): the room's throughput in it,
    /// × clients. `deliveries` ÷ the window would count the grace's too.
    pub delivered_in_window: u64,
    /// `expected_deliveries` − `deliveries`.
    pub missing: u64,
    /// From the message's intended send time to its receipt, every delivery
    /// (by the cutoff) at every receiver; and every missing one at its age at
    /// the cutoff (censored). It counts `expected_deliveries`.
    pub latency: Histogram<u64>,
    /// By kind: "connect", "handshake", "send", "closed", "protocol".
    pub errors: BTreeMap<String, u64>,
    /// User + system CPU of the engine thread over the run, seconds.
    pub generator_cpu_s: f64,
    /// The engine thread's share of a core over the measured window alone (the
    /// run's includes the connects, the grace and the closes), where it ran.
    pub window_generator_cpu: Option<f64>,
    /// The engine's core's busy share over the measured window, where pinned.
    pub window_core_busy: Option<f64>,
    /// The hypervisor's share of this machine's CPU time during the measured
    /// window (the run's, where no window ran).
    pub steal: Option<f64>,
    /// Each CPU's steal share, over the same span, indexed by CPU number.
    pub cpu_steal: Vec<f64>,
    /// Each CPU's most stolen time within one [`crate::bursts::SPAN`] of the
    /// same span, indexed by CPU number.
    pub steal_bursts: Vec<Duration>,
    /// The measured window's length: the configured one, or less when abandoned.
    pub elapsed: Duration,
    /// Ended early with its delivery p99 decided over the abandon rule's latency.
    pub abandoned: Option<Abandoned>,
    /// The measured window in thirds by intended send time: each third's
    /// deliveries (its `requests`, missing ones included) and their latency,
    /// censored as in `latency` (no in-flight count).
    /// A room whose queue grows shows its latency rising from the first
    /// third to the last. `None` when the window was abandoned.
    pub trend: Option<Trend>,
    /// Every client connected and the generator did not saturate; `warnings` say why not.
    pub valid: bool,
    /// What a reader should know about the run, one sentence each.
    pub warnings: Vec<String>,
}

type Sink = SplitSink<WebSocketStream<Stamped>, Message>;
/// The kernel's arrival time of a client's last read ([`Stamped`]).
type Arrived = Rc<Cell<Option<std::time::Instant>>>;

struct Shared {
    base: Instant,
    nonce: String,
    latency: RefCell<Histogram<u64>>,
    errors: RefCell<BTreeMap<String, u64>>,
    stopping: Cell<bool>,
    /// Deliveries after this instant do not count.
    cutoff: Cell<Option<Instant>>,
    /// Messages intended before this (µs since `base`) are the warm-up's.
    measure_from_us: Cell<u64>,
    /// The measured window's length, µs: where its thirds are.
    window_us: u64,
    /// Latency of the deliveries of each third of the window, by intended time.
    thirds: RefCell<[Histogram<u64>; 3]>,
    /// Each client's measured deliveries by the cutoff, by its join order
    /// (their sum is the run's deliveries).
    received: Vec<Cell<u64>>,
    /// Deliveries of this run that arrived inside the measured window.
    in_window: Cell<u64>,
    /// With an abandon rule: its latency, and each message's deliveries
    /// within it, by sequence number.
    on_time: Option<(u64, RefCell<Vec<u32>>)>,
}

impl Shared {
    /// Measured deliveries by the cutoff, every client's.
    fn deliveries(&self) -> u64 {
        self.received.iter().map(Cell::get).sum()
    }

    /// The third of the measured window a message intended at `intended_us`
    /// (µs since `base`, not before the window) belongs to.
    fn third(&self, intended_us: u64) -> usize {
        let into = intended_us.saturating_sub(self.measure_from_us.get());
        (3 * into / self.window_us).min(2) as usize
    }

    fn error(&self, kind: &str) {
        *self
            .errors
            .borrow_mut()
            .entry(kind.to_string())
            .or_default() += 1;
    }
}

/// Run the fan-out load. Cancelling `cancel` returns [`LoadError::Cancelled`].
pub async fn run(cfg: WsConfig, cancel: CancellationToken) -> Result<WsReport, LoadError> {
    if cfg.clients == 0 {
        return Err(LoadError::InvalidConfig(
            "clients must be at least 1".into(),
        ));
    }
    if !(cfg.rate.is_finite() && cfg.rate > 0.0) {
        return Err(LoadError::InvalidConfig(
            "the message rate must be a positive number per second".into(),
        ));
    }
    if cfg.duration.is_zero() || cfg.connect_timeout.is_zero() {
        return Err(LoadError::InvalidConfig(
            "the duration and connect timeout must be greater than zero".into(),
        ));
    }
    let engine_cancel = cancel.child_token();
    let _guard = engine_cancel.clone().drop_guard();
    let pin = cfg.pin_cpu;
    let (mut report, usage) = sys::on_engine_thread(pin, move || drive(cfg, engine_cancel)).await?;
    report.generator_cpu_s = usage.cpu.as_secs_f64();
    // The measured window's CPU and steal where one ran (it has a CPU share):
    // the run's include the connects, the grace and the closes, diluting a
    // short window's.
    if report.window_generator_cpu.is_none() {
        report.steal = usage.stolen.machine;
        report.cpu_steal = usage.stolen.cpus.clone();
        report.steal_bursts = usage.stolen.bursts.clone();
    }
    let cpu = report
        .window_generator_cpu
        .unwrap_or_else(|| usage.cpu_fraction());
    if let Some(why) = crate::generator_saturated(cpu, 0.0, None) {
        report.valid = false;
        report.warnings.push(why);
    }
    Ok(report)
}

async fn drive(cfg: WsConfig, cancel: CancellationToken) -> Result<WsReport, LoadError> {
    let target = tokio::select! {
        t = target::probe(&cfg.url, "ws", cfg.allow_remote, cfg.connect_timeout) => t?,
        _ = cancel.cancelled() => return Err(LoadError::Cancelled),
    };
    let start = Instant::now();
    let shared = Rc::new(Shared {
        base: start,
        nonce: run_nonce(),
        latency: RefCell::new(new_histogram()),
        errors: RefCell::new(BTreeMap::new()),
        stopping: Cell::new(false),
        cutoff: Cell::new(None),
        measure_from_us: Cell::new(0),
        window_us: cfg.duration.as_micros().max(1) as u64,
        thirds: RefCell::new(std::array::from_fn(|_| new_histogram())),
        received: (0..cfg.clients).map(|_| Cell::new(0)).collect(),
        in_window: Cell::new(0),
        on_time: cfg.abandon.and_then(|rule| {
            // Every message of the run has its counter; a run too large for
            // them runs its length.
            let messages = (cfg.warmup + cfg.duration).as_secs_f64() * cfg.rate + 1.0;
            (messages <= MAX_COUNTED as f64).then(|| {
                let latency_us = rule.latency.as_micros() as u64;
                (latency_us, RefCell::new(vec![0; messages.ceil() as usize]))
            })
        }),
    });

    let ticker = Ticker::new().map_err(|e| LoadError::engine("cannot create an epoll set", e))?;
    let _harvester = AbortOnDropHandle::new(tokio::task::spawn_local(ticker.clone().run()));
    // Connect every client concurrently, each bounded by the connect timeout.
    let connects = (0..cfg.clients).map(|_| {
        let url = cfg.url.as_str().to_string();
        let addr = target.addr;
        let ticker = &ticker;
        async move {
            let stream = TcpStream::connect(addr).await.map_err(|_| "connect")?;
            let _ = stream.set_nodelay(true);
            let ticked = TickedStream::new(stream, ticker).map_err(|_| "connect")?;
            let (stream, arrived) = Stamped::new(ticked);
            tokio_tungstenite::client_async_with_config(url, stream, Some(read_config()))
                .await
                .map(|(ws, _)| (ws, arrived))
                .map_err(|_| "handshake")
        }
    });
    let all = futures_util::future::join_all(
        connects.map(|c| tokio::time::timeout(cfg.connect_timeout, c)),
    );
    let results = tokio::select! {
        r = all => r,
        _ = cancel.cancelled() => return Err(LoadError::Cancelled),
    };
    let mut sinks: Vec<Sink> = Vec::new();
    let mut readers = Vec::new();
    for r in results {
        match r {
            Ok(Ok((ws, arrived))) => {
                let (sink, stream) = ws.split();
                let client = sinks.len();
                sinks.push(sink);
                readers.push(tokio::task::spawn_local(receive(
                    stream,
                    arrived,
                    shared.clone(),
                    client,
                )));
            }
            Ok(Err(kind)) => shared.error(kind),
            Err(_) => shared.error("connect"),
        }
    }
    let connected = sinks.len() as u32;
    let mut sent = 0u64;
    let mut unsent = 0u64;
    // Sends the socket refused: never sent, and never delivered.
    let mut failed = 0u64;
    let mut late_sends = 0u64;
    let mut late_stalled = 0u64;
    let mut send_error = false;
    // The engine's CPU and the machine's steal over the measured window: from
    // the first send in it to the last (the connects, the grace and the
    // closes are not the window's).
    let mut window_probe = None;
    let mut window_usage = None;
    let mut elapsed = Duration::ZERO;
    let mut abandoned = None;
    // The measured window, once it ran: whose missing deliveries are censored.
    let mut ran = None;
    if connected > 0 {
        let origin = Instant::now();
        let measured_from = origin + cfg.warmup;
        shared
            .measure_from_us
            .set((measured_from - shared.base).as_micros() as u64);
        let end = measured_from + cfg.duration;
        let cutoff = end + cfg.grace.unwrap_or(DEFAULT_GRACE);
        shared.cutoff.set(Some(cutoff));
        let window = Window {
            origin,
            rate: cfg.rate,
            first: messages_before(cfg.warmup, cfg.rate),
            last: messages_before(cfg.warmup + cfg.duration, cfg.rate),
            clients: u64::from(connected),
        };
        // The window's tail is decided: it ends there (see `watch`).
        let decided = Rc::new(Cell::new(None));
        let stop = CancellationToken::new();
        let watcher = cfg
            .abandon
            .filter(|_| shared.on_time.is_some())
            .map(|rule| {
                tokio::task::spawn_local(watch(
                    shared.clone(),
                    rule.count,
                    window,
                    decided.clone(),
                    stop.clone(),
                ))
            });
        let _stop_watching = watcher.map(AbortOnDropHandle::new);
        let sleep = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(sleep);
        let mut k = 0u64;
        // When the previous send finished, and the engine's own part of its lag.
        let mut prev_done = origin;
        let mut engine_lag = Duration::ZERO;
        loop {
            let at = window.at(k);
            if at >= end {
                break;
            }
            if window_probe.is_none() && at >= measured_from {
                window_probe = Some(sys::WindowProbe::start(cfg.pin_cpu));
            }
            sleep.as_mut().reset(at);
            tokio::select! {
                _ = &mut sleep => {}
                _ = stop.cancelled() => break,
                _ = cancel.cancelled() => return Err(LoadError::Cancelled),
            }
            let now = Instant::now();
            if now >= cutoff {
                // The rest of the window's messages are never sent.
                let from = at.max(measured_from);
                unsent += ((end - from).as_secs_f64() * cfg.rate).ceil() as u64;
                break;
            }
            // The warm-up's messages go out, and count nowhere.
            let measured = at >= measured_from;
            // The engine's part of the lag: from when the previous send was
            // done (at the intended time at the earliest); catching up after
            // it, at most the part that held that one up. A room that reads
            // slowly holds the previous send up, which is not the engine's.
            let lag = now - at;
            let part = if prev_done < at {
                now - at
            } else {
                lag.min(engine_lag)
            };
            engine_lag = if part > LATE { part } else { Duration::ZERO };
            if measured && lag > LATE {
                late_sends += 1;
                if part > cfg.stalled_after {
                    late_stalled += 1;
                }
            }
            let client = (k % u64::from(connected)) as usize;
            // The intended time, not the actual send: a held-up sender shows.
            let intended_us = (at - shared.base).as_micros();
            let mut text = format!("{} {client} {k} {intended_us} ", shared.nonce);
            while text.len() < cfg.message_bytes {
                text.push('x');
            }
            let until = cutoff.min(now + cfg.connect_timeout);
            let send = tokio::time::timeout_at(until, sinks[client].send(Message::text(text)));
            let outcome = tokio::select! {
                r = send => r,
                _ = stop.cancelled() => break,
            };
            prev_done = Instant::now();
            match outcome {
                Ok(Ok(())) => sent += u64::from(measured),
                Ok(Err(_)) => {
                    // Its deliveries are expected, and missing.
                    failed += u64::from(measured);
                    shared.error("send");
                }
                Err(_) => {
                    unsent += u64::from(measured); // held until the cutoff
                    if Instant::now() < cutoff {
                        shared.error("send");
                        send_error = true;
                    }
                }
            }
            k += 1;
        }
        window_usage = window_probe.take().map(sys::WindowProbe::finish);
        elapsed = cfg.duration;
        if let Some((at, over)) = decided.get() {
            // Messages due by the decision and not sent are unsent; later
            // ones were never part of the window that ran.
            let due = messages_before(at - origin, cfg.rate).min(window.last);
            unsent += due.saturating_sub(k.max(window.first));
            shared.cutoff.set(Some(at));
            elapsed = at.saturating_duration_since(measured_from);
            abandoned = Some(Abandoned {
                planned: cfg.duration,
                over,
                growth: None,
            });
        } else {
            // Wait for the last deliveries, up to the cutoff.
            let expected = (sent + unsent + failed) * u64::from(connected);
            while shared.deliveries() < expected && Instant::now() < cutoff {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = cancel.cancelled() => return Err(LoadError::Cancelled),
                }
            }
        }
        ran = shared.cutoff.get().map(|c| (window, c));
    }
    let expected = (sent + unsent + failed) * u64::from(connected);
    shared.stopping.set(true);
    close_all(&mut sinks, CLOSE_WITHIN).await;
    readers.iter().for_each(|r| r.abort());
    if let Some((window, cutoff)) = ran {
        censor_missing(&shared, &window, sent + unsent + failed, cutoff);
    }

    let deliveries = shared.deliveries();
    let missing = expected.saturating_sub(deliveries);
    let mut warnings = Vec::new();
    let mut valid = true;
    if connected < cfg.clients {
        valid = false;
        warnings.push(format!(
            "only {connected} of {} clients connected",
            cfg.clients
        ));
    }
    if missing > 0 {
        warnings.push(format!(
            "{missing} of {expected} expected deliveries never arrived"
        ));
    }
    if send_error {
        warnings.push("some messages could not be sent".into());
    }
    if failed > 0 {
        warnings.push(format!("{failed} messages failed to send"));
    }
    if unsent > 0 {
        warnings.push(format!(
            "{unsent} messages were not sent by the cutoff: the sender was held up"
        ));
    }
    let latency = shared.latency.borrow().clone();
    let errors = shared.errors.borrow().clone();
    let trend = (connected > 0 && abandoned.is_none()).then(|| Trend {
        thirds: shared.thirds.borrow().each_ref().map(|h| TrendThird {
            requests: h.len(),
            p50_us: h.value_at_quantile(0.5),
            p90_us: h.value_at_quantile(0.9),
            mean_in_flight: 0.0,
        }),
    });
    Ok(WsReport {
        clients: cfg.clients,
        connected,
        sent,
        unsent,
        late_sends,
        late_stalled,
        expected_deliveries: expected,
        deliveries,
        delivered_in_window: shared.in_window.get(),
        missing,
        latency,
        errors,
        elapsed,
        abandoned,
        trend,
        generator_cpu_s: 0.0,
        window_generator_cpu: window_usage.as_ref().map(|u| u.cpu),
        window_core_busy: window_usage.as_ref().and_then(|u| u.core_busy),
        steal: window_usage.as_ref().and_then(|u| u.stolen.machine),
        cpu_steal: window_usage
            .as_ref()
            .map(|u| u.stolen.cpus.clone())
            .unwrap_or_default(),
        steal_bursts: window_usage.map(|u| u.stolen.bursts).unwrap_or_default(),
        valid,
        warnings,
    })
}

/// One client's receiving side: time every message of this run, at the
/// arrival of the read that completed it (at most a tick before it was read;
/// a message read with later bytes is timed at theirs: never early).
async fn receive(
    mut stream: futures_util::stream::SplitStream<WebSocketStream<Stamped>>,
    arrived: Arrived,
    shared: Rc<Shared>,
    client: usize,
) {
    while let Some(msg) = stream.next().await {
        match msg {
            Ok(Message::Text(text)) => {
                if let Some((seq, sent_us)) = parse_stamp(text.as_str(), &shared.nonce) {
                    let now = arrived.get().map_or_else(Instant::now, Instant::from_std);
                    let now_us = (now - shared.base).as_micros() as u64;
                    let from_us = shared.measure_from_us.get();
                    if (from_us..from_us + shared.window_us).contains(&now_us) {
                        shared.in_window.set(shared.in_window.get() + 1);
                    }
                    if sent_us < from_us {
                        continue; // the warm-up's
                    }
                    if shared.cutoff.get().is_some_and(|c| now > c) {
                        continue; // after the cutoff: missing
                    }
                    let latency = now_us.saturating_sub(sent_us).max(1);
                    shared.latency.borrow_mut().saturating_record(latency);
                    let mine = &shared.received[client];
                    mine.set(mine.get() + 1);
                    shared.thirds.borrow_mut()[shared.third(sent_us)].saturating_record(latency);
                    if let Some((within, counts)) = &shared.on_time {
                        let mut counts = counts.borrow_mut();
                        match counts.get_mut(seq as usize) {
                            Some(n) if latency <= *within => *n += 1,
                            _ => {}
                        }
                    }
                }
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(_) => {
                if !shared.stopping.get() {
                    shared.error("protocol");
                }
                return;
            }
        }
    }
    if !shared.stopping.get() {
        shared.error("closed");
    }
}

/// Put every expected delivery of the window's `messages` (measured, from
/// `w.first`) that had not arrived by `cutoff` into the latency and its
/// third, at its age then: a censored value, at least that late. A room
/// writes to each client in order, so a client's missing deliveries are its
/// last messages'; a room that dropped an earlier one is then censored
/// younger than it was, still a lower bound.
fn censor_missing(shared: &Shared, w: &Window, messages: u64, cutoff: Instant) {
    let received = shared.received[..w.clients as usize].iter().map(Cell::get);
    let mut latency = shared.latency.borrow_mut();
    let mut thirds = shared.thirds.borrow_mut();
    let base_us = |t: Instant| (t - shared.base).as_micros() as u64;
    let cutoff_us = base_us(cutoff);
    for (j, clients) in (1..).zip(missing_from_last(received, messages)) {
        let intended_us = base_us(w.at(w.first + messages - j));
        let age = cutoff_us.saturating_sub(intended_us).max(1);
        latency.saturating_record_n(age, clients);
        thirds[shared.third(intended_us)].saturating_record_n(age, clients);
    }
}

/// How many clients miss each message, from the last of `messages` back,
/// given how many each received: a client missing m misses the last m.
fn missing_from_last(received: impl Iterator<Item = u64>, messages: u64) -> Vec<u64> {
    let mut missing: Vec<u64> = received.map(|r| messages.saturating_sub(r)).collect();
    missing.sort_unstable();
    let most = missing.last().copied().unwrap_or(0);
    // The j-th last message is missed by the clients missing j or more.
    let mut fewer = 0;
    (1..=most)
        .map(|j| {
            while missing[fewer] < j {
                fewer += 1;
            }
            (missing.len() - fewer) as u64
        })
        .collect()
}

/// Each client's read buffer. tungstenite zero-fills the free part of its read
/// buffer before every read (128 KiB by default): at 100 clients that memset was
/// 42% of the generator's CPU (perf, 100,000 deliveries/s), so the fan-out
/// search saturated the generator before the server. A fan-out read holds a
/// few 64-byte messages; larger frames still grow the buffer as they need.
const READ_BUFFER: usize = 8 * 1024;

fn read_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
}

/// The longest the clients' close handshakes take, all of them together.
const CLOSE_WITHIN: Duration = Duration::from_millis(500);

/// Close every sink at once, giving up on those not closed `within` (a client
/// whose server stopped reading would otherwise hold each close up in turn).
async fn close_all<S, M>(sinks: &mut [S], within: Duration)
where
    S: futures_util::Sink<M> + Unpin,
{
    let all = futures_util::future::join_all(sinks.iter_mut().map(SinkExt::close));
    let _ = tokio::time::timeout(within, all).await;
}

/// A run's own tag on its messages, drawn afresh for every run: a room still
/// broadcasting an earlier window's backlog to this window's clients sends
/// messages whose times count from another base, and they must not pass.
fn run_nonce() -> String {
    format!("bk{:016x}", crate::rng::Rng::unseeded().next_u64())
}

/// The sequence number and intended send time (µs) of a message from this
/// run (`<nonce> <client> <seq> <us> pad`).
fn parse_stamp(text: &str, nonce: &str) -> Option<(u64, u64)> {
    let mut parts = text.split(' ');
    if parts.next()? != nonce {
        return None;
    }
    parts.next()?;
    let seq = parts.next()?.parse().ok()?;
    Some((seq, parts.next()?.parse().ok()?))
}

/// The most messages a run with an abandon rule keeps counters for (16 MiB);
/// a larger run has no rule.
const MAX_COUNTED: usize = 1 << 22;

/// Message `k` is intended at `origin + k ÷ rate`.
#[derive(Debug, Clone, Copy)]
struct Window {
    origin: Instant,
    rate: f64,
    /// The first measured message (the warm-up's are before it).
    first: u64,
    /// One past the last measured message.
    last: u64,
    /// Deliveries expected per message.
    clients: u64,
}

impl Window {
    /// When message `k` is intended.
    fn at(&self, k: u64) -> Instant {
        self.origin + Duration::from_secs_f64(k as f64 / self.rate)
    }
}

/// How many messages, from the first, are intended before `t` after the origin.
fn messages_before(t: Duration, rate: f64) -> u64 {
    (t.as_secs_f64() * rate).ceil() as u64
}

/// The abandon rule's watch: every [`ABANDON_CHECK`], the measured deliveries
/// over the rule's latency are every expected delivery of a message intended
/// more than that latency ago less those that arrived within it (a message's
/// on-time count is final by then). Once they pass `count`, record when and
/// how many in `decided` and stop the sender. A watch that wakes late was
/// held up with the whole engine thread: the window then runs its length, so
/// that the caller's stall rule can judge it (as the HTTP engine does).
async fn watch(
    shared: Rc<Shared>,
    count: u64,
    w: Window,
    decided: Rc<Cell<Option<(Instant, u64)>>>,
    stop: CancellationToken,
) {
    let Some((within_us, counts)) = &shared.on_time else {
        return;
    };
    let within = Duration::from_micros(*within_us);
    let (measured_from, end) = (w.at(w.first), w.at(w.last));
    let mut tick = tokio::time::interval(ABANDON_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_wake = Instant::now();
    let (mut next, mut on_time) = (w.first, 0u64);
    loop {
        tick.tick().await;
        let now = Instant::now();
        if now - last_wake > HELD_UP || now >= end {
            return;
        }
        last_wake = now;
        let Some(old) = now.checked_sub(within).filter(|&old| old > measured_from) else {
            continue;
        };
        let due = messages_before(old - w.origin, w.rate).min(w.last);
        let counts = counts.borrow();
        while next < due {
            on_time += u64::from(counts.get(next as usize).copied().unwrap_or(0));
            next += 1;
        }
        let over = (due.saturating_sub(w.first) * w.clients).saturating_sub(on_time);
        if over > count {
            decided.set(Some((now, over)));
            stop.cancel();
            return;
        }
    }
}

#[cfg(test)]
mod tests;
