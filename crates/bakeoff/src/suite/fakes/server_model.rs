//! The synthetic server the fakes answer with: a queue with a ceiling (a sharp
//! knee or an M/M/1 queue), capacity noise, pauses, stalls and steal, on
//! tokio's clock.

use std::time::Duration;

use super::super::*;
use crate::model::Percentiles;
use bakeoff_load::rng::Rng;

/// How a synthetic server answers an open-loop rate: a queue with a ceiling.
///
/// Below the ceiling the latency is the base (plus M/M/1 queueing for
/// [`ServerModel::mm1`]); above it the backlog grows at R − C through the
/// window and the latency follows it. The requests still queued at a window's
/// cutoff are censored (overload errors) and stay queued in the server: the next
/// window starts with whatever has not drained meanwhile, on tokio's clock.
#[derive(Debug, Clone)]
pub(in crate::suite) struct ServerModel {
    /// The service ceiling (requests per second the server completes).
    ceiling: f64,
    base_ms: f64,
    mm1: bool,
    noise: Noise,
    rng: Rng,
    /// The per-second ceilings and pauses each window drew, in the order the
    /// windows ran.
    realized: Vec<(Vec<f64>, Vec<Pause>)>,
    /// The share of seconds in which the server stops serving for a moment,
    /// and how long (seconds): a collection, a blocked event loop.
    pauses: Option<(f64, f64)>,
    errors_above: Option<(f64, f64)>,
    generator_limit: Option<f64>,
    /// The generator limit applies only to windows longer than this (seconds).
    generator_limit_longer_than: f64,
    /// Share of windows the machine stalls (the generator is held up).
    stalls: f64,
    /// After this many seconds of a window, the ceiling drops to this share.
    fade: Option<(f64, f64)>,
    /// Windows longer than this many seconds are stalled by the machine.
    stall_longer_than: Option<f64>,
    /// ... once this many such windows have run unstalled.
    stall_long_after: u32,
    long_seen: u32,
    /// The machine stalls this many windows more, the next ones it serves.
    stall_next: u32,
    /// Every window not stalled ran with steal a raised limit let through.
    steal_tolerated: bool,
    notes: Vec<String>,
    /// The next this-many windows above a rate, each at a rate not run before,
    /// run at a share of the ceiling (rate, windows left, share): dips a
    /// retest does not see again.
    dips: Option<(f64, u32, f64)>,
    /// Every rate a window ran at, in order.
    rates: Vec<f64>,
    /// Requests left queued at the last cutoff, and when that was.
    backlog: f64,
    last_cutoff: Option<tokio::time::Instant>,
}

/// Per-window capacity noise.
#[derive(Debug, Clone, Copy)]
enum Noise {
    None,
    /// Uniform in 1 ± frac.
    Uniform(f64),
    /// Most windows within ±1%; one in `rare` anywhere within ±frac.
    Rare {
        frac: f64,
        rare: u32,
    },
}

/// How long answers count past a fake window's end.
pub(super) const FAKE_GRACE: f64 = 0.2;
/// The SLO a fake driver abandons decided windows at (the tests' SLO).
pub(super) const FAKE_SLO_MS: f64 = 100.0;
/// Deliveries per second a fake room fans out before it falls behind.
pub(in crate::suite) const WS_FAKE_CEILING: f64 = 50_000.0;

/// Arrivals simulated per window (evenly spaced, as the engine's uniform schedule).
const ARRIVALS: usize = 600;

impl ServerModel {
    /// A 5 ms service up to `capacity`; beyond it the backlog grows at R − C.
    pub(in crate::suite) fn knee(capacity: f64) -> Self {
        ServerModel {
            ceiling: capacity,
            base_ms: 5.0,
            mm1: false,
            noise: Noise::None,
            rng: Rng::new(1),
            realized: Vec::new(),
            pauses: None,
            errors_above: None,
            generator_limit: None,
            generator_limit_longer_than: 0.0,
            stalls: 0.0,
            fade: None,
            stall_longer_than: None,
            stall_long_after: 0,
            long_seen: 0,
            stall_next: 0,
            steal_tolerated: false,
            notes: vec![],
            dips: None,
            rates: Vec::new(),
            backlog: 0.0,
            last_cutoff: None,
        }
    }

    /// M/M/1: p99 = ln(100) / (μ − λ), with μ chosen so p99 = 100 ms at `capacity`.
    pub(in crate::suite) fn mm1(capacity: f64) -> Self {
        ServerModel {
            ceiling: capacity + 100f64.ln() / 0.1,
            base_ms: 0.0,
            mm1: true,
            ..ServerModel::knee(capacity)
        }
    }

    /// Each second of a window sees the ceiling scaled by a uniform factor in 1 ± `frac`.
    pub(in crate::suite) fn with_noise(mut self, frac: f64, seed: u64) -> Self {
        self.noise = Noise::Uniform(frac);
        self.rng = Rng::new(seed);
        self
    }

    /// Most seconds see the ceiling within ±1%; one in `rare` anywhere in ±`frac`.
    pub(in crate::suite) fn with_rare_noise(mut self, frac: f64, rare: u32, seed: u64) -> Self {
        self.noise = Noise::Rare { frac, rare };
        self.rng = Rng::new(seed);
        self
    }

    /// In `share` of the seconds the server stops serving for `len_s` at a
    /// random moment: its latency jumps for a moment at any rate, so a
    /// window stopped early fits a steep slope to it.
    pub(in crate::suite) fn with_pauses(mut self, share: f64, len_s: f64) -> Self {
        self.pauses = Some((share, len_s));
        self
    }

    /// A share of windows is stalled by the machine.
    pub(in crate::suite) fn with_stalls(mut self, share: f64) -> Self {
        self.stalls = share;
        self
    }

    /// Sustained load wears the server down: `after_s` seconds into a window
    /// its ceiling drops to `share` of itself (a short window never sees it).
    pub(in crate::suite) fn with_fade(mut self, after_s: f64, share: f64) -> Self {
        self.fade = Some((after_s, share));
        self
    }

    /// The machine stalls the next `n` windows (a stretch of a noisy host).
    pub(in crate::suite) fn with_next_windows_stalled(mut self, n: u32) -> Self {
        self.stall_next = n;
        self
    }

    /// Every window the machine does not stall ran with steal over the
    /// default limit that the run's raised one let through.
    pub(in crate::suite) fn with_tolerated_steal(mut self) -> Self {
        self.steal_tolerated = true;
        self
    }

    /// Every window discloses `note` without its verdict changing (as an
    /// upstream that answered late while the server failed on its own).
    pub(in crate::suite) fn with_note(mut self, note: &str) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The machine stalls every window longer than `secs` (the long ones).
    pub(in crate::suite) fn with_long_windows_stalled(mut self, secs: f64) -> Self {
        self.stall_longer_than = Some(secs);
        self
    }

    /// The machine stalls every window longer than `secs` once `n` of them
    /// have run (a host that turns noisy in the middle of a confirmation).
    pub(in crate::suite) fn with_long_windows_stalled_after(mut self, secs: f64, n: u32) -> Self {
        self.stall_longer_than = Some(secs);
        self.stall_long_after = n;
        self
    }

    /// The first `n` windows above `rate` dip to `share` of the ceiling (a
    /// GC, another tenant), each at a new rate: the same rate again runs at
    /// full speed.
    pub(in crate::suite) fn with_dips_above(mut self, rate: f64, n: u32, share: f64) -> Self {
        self.dips = Some((rate, n, share));
        self
    }

    pub(in crate::suite) fn with_errors_above(mut self, rate: f64, frac: f64) -> Self {
        self.errors_above = Some((rate, frac));
        self
    }

    pub(in crate::suite) fn with_generator_limit(mut self, rate: f64) -> Self {
        self.generator_limit = Some(rate);
        self
    }

    /// The generator falls behind above `rate` only in windows longer than
    /// `secs` (it holds a burst, not a sustained rate).
    pub(in crate::suite) fn with_generator_limit_in_long_windows(
        mut self,
        rate: f64,
        secs: f64,
    ) -> Self {
        self.generator_limit = Some(rate);
        self.generator_limit_longer_than = secs;
        self
    }

    /// Uniform in [0, 1), from the shared RNG.
    fn unit(&mut self) -> f64 {
        self.rng.fraction()
    }

    /// What each window so far could really sustain at `slo_ms` (see
    /// [`sustained`]), given the ceilings it drew, in order.
    pub(in crate::suite) fn realized(&self, slo_ms: f64) -> Vec<f64> {
        self.realized
            .iter()
            .map(|(cs, ps)| sustained(cs, ps, self.base_ms, slo_ms))
            .collect()
    }

    /// The capacity at `slo_ms` this server holds over a long run
    /// (`seconds` of its noise, drawn from `seed`): with rare dips it is below
    /// the nominal ceiling, since a dip queues requests past the SLO.
    pub(in crate::suite) fn long_run(&self, seconds: usize, seed: u64) -> f64 {
        let mut m = self.clone();
        m.rng = Rng::new(seed);
        let (cs, ps) = m.window_ceilings(seconds as f64);
        sustained(&cs, &ps, self.base_ms, FAKE_SLO_MS)
    }

    /// The ceiling each second of a window of `secs` sees: the noise is drawn
    /// per second (a busy neighbour for a second), and the queue follows it;
    /// and where in each second the server pauses, if it does.
    fn window_ceilings(&mut self, secs: f64) -> (Vec<f64>, Vec<Pause>) {
        let draws = secs.ceil().max(1.0) as usize;
        let cs = (0..draws)
            .map(|_| {
                let noise = match self.noise {
                    Noise::None => 0.0,
                    Noise::Uniform(f) => f * (self.unit() * 2.0 - 1.0),
                    Noise::Rare { frac, rare } => {
                        let wide = self.unit() * f64::from(rare) < 1.0;
                        let u = self.unit() * 2.0 - 1.0;
                        if wide {
                            frac * u
                        } else {
                            0.01 * u
                        }
                    }
                };
                self.ceiling * (1.0 + noise)
            })
            .collect();
        // Drawn only for a pausing server: the others' draws stay as they were.
        let ps = (0..draws)
            .map(|_| {
                let (share, len) = self.pauses?;
                let at = self.unit() * (1.0 - len).max(0.0);
                (self.unit() < share).then_some((at, len))
            })
            .collect();
        (cs, ps)
    }

    /// One window of `secs` at `rate` after `settle` seconds at the same rate;
    /// answers count until `grace` past its end.
    pub(in crate::suite) fn window(
        &mut self,
        rate: f64,
        settle: f64,
        secs: f64,
        grace: f64,
    ) -> WindowResult {
        self.window_abandoning(rate, settle, secs, grace, None)
    }

    /// [`ServerModel::window`], called as the window starts, which ends early
    /// as the engine's `Abandon` rule does when `abandon_ms` is given: once
    /// more than 1% of the planned arrivals are known to be over it.
    pub(in crate::suite) fn window_abandoning(
        &mut self,
        rate: f64,
        settle: f64,
        planned: f64,
        grace: f64,
        abandon_ms: Option<f64>,
    ) -> WindowResult {
        let start = tokio::time::Instant::now();
        let (mut cs, pauses) = self.window_ceilings(planned);
        let new_rate = !self.rates.contains(&rate);
        self.rates.push(rate);
        if let Some((above, left, share)) = self.dips.as_mut() {
            if rate > *above && *left > 0 && new_rate {
                *left -= 1;
                cs.iter_mut().for_each(|c| *c *= *share);
            }
        }
        let ceiling_at = |t: f64| cs[((t.max(0.0)) as usize).min(cs.len() - 1)];
        let c = cs.iter().sum::<f64>() / cs.len() as f64;
        self.realized.push((cs.clone(), pauses.clone()));
        // What the server still held from earlier windows, less what it served since.
        let gap = self
            .last_cutoff
            .map_or(0.0, |t| start.saturating_duration_since(t).as_secs_f64());
        let b0 = (self.backlog - self.ceiling * gap.max(0.0)).max(0.0);
        let mut backlog = (b0 + (rate - cs[0]) * settle).max(0.0);
        // Stationary queueing below the ceiling (M/M/1), in seconds.
        let (q50, q90, q99) = if self.mm1 && rate < c {
            let q = |p: f64| (1.0 / (1.0 - p)).ln() / (c - rate);
            (q(0.5), q(0.9), q(0.99))
        } else if self.mm1 {
            (1.0, 5.0, 10.0)
        } else {
            (0.0, 0.0, 0.0)
        };
        let long = self.stall_longer_than.is_some_and(|s| planned > s);
        let stalled = (self.stalls > 0.0 && self.unit() < self.stalls)
            || (long && self.long_seen >= self.stall_long_after)
            || self.stall_next > 0;
        self.long_seen += u32::from(long);
        self.stall_next = self.stall_next.saturating_sub(1);
        let stall_s = if stalled { 0.2 } else { 0.0 };
        let dt = planned / ARRIVALS as f64;
        // Each arrival's time, latency, and the backlog after it.
        let mut arrivals = Vec::with_capacity(ARRIVALS);
        for i in 0..ARRIVALS {
            let t = (i as f64 + 0.5) * dt;
            let ct = match self.fade {
                Some((after, share)) if t > after => ceiling_at(t) * share,
                _ => ceiling_at(t),
            };
            let left = pause_left(&pauses, t);
            let served = if left > 0.0 { 0.0 } else { ct };
            backlog = (backlog + (rate - served) * dt).max(0.0);
            let l = self.base_ms / 1000.0 + backlog / ct + left + stall_s;
            arrivals.push((t, l, backlog));
        }
        // Abandoned as the engine would: only a window whose p99 fails, when
        // the expected count of arrivals over the threshold (M/M/1: a sojourn
        // past what the queue left of it) passes 1% of the planned ones, at
        // the tipping arrival's time + the threshold.
        let stop = abandon_ms.and_then(|ms| {
            let limit = ms / 1000.0;
            let full = self.p99_of(&arrivals, planned + grace, q99);
            if full <= limit {
                return None;
            }
            let mut over = 0.0;
            let tip = arrivals.iter().find(|&&(_, l, _)| {
                over += if l >= limit || (self.mm1 && rate >= c) {
                    1.0
                } else if self.mm1 {
                    (-(c - rate) * (limit - l)).exp()
                } else {
                    0.0
                };
                over > (ARRIVALS / 100 + 1) as f64
            })?;
            Some(tip.0 + limit).filter(|&t| t < planned)
        });
        let secs = stop.unwrap_or(planned);
        let cutoff = stop.unwrap_or(planned + grace);
        let kept = arrivals.iter().take_while(|a| a.0 < secs).count().max(1);
        backlog = arrivals[kept - 1].2;
        let mut lat = [Vec::new(), Vec::new(), Vec::new()];
        let mut censored = 0usize;
        for (i, &(t, l, _)) in arrivals[..kept].iter().enumerate() {
            let mut l = l;
            if t + l > cutoff {
                censored += 1;
                l = cutoff - t;
            }
            lat[(3 * i / kept).min(2)].push(l);
        }
        let mut all: Vec<f64> = lat.iter().flatten().copied().collect();
        all.sort_by(f64::total_cmp);
        let p99 = (quantile(&all, 0.99) + q99) * 1000.0;
        let third = |v: &[f64], q: f64, offset: f64| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            (if v.is_empty() { 0.0 } else { quantile(&v, q) } + offset) * 1000.0
        };
        let trend = search::Thirds {
            p50_ms: [0, 1, 2].map(|i| third(&lat[i], 0.5, q50)),
            p90_ms: [0, 1, 2].map(|i| third(&lat[i], 0.9, q90)),
        };
        let sent = rate * secs;
        let overload = sent * censored as f64 / kept as f64;
        // Only the requests on the generator's connections reached the server;
        // the rest were never sent and leave nothing behind.
        let slo = Duration::from_secs_f64(FAKE_SLO_MS / 1000.0);
        let pool = f64::from(live::pool::connections(rate, slo, None, None));
        let drained = if stop.is_some() { 0.0 } else { grace };
        self.backlog = (backlog - ceiling_at(secs) * drained).clamp(0.0, pool);
        self.last_cutoff = Some(start + Duration::from_secs_f64(settle + secs));
        let mut achieved = (sent - overload) / secs;
        let mut generator = None;
        if let Some(g) = self
            .generator_limit
            .filter(|&g| rate > g && secs > self.generator_limit_longer_than)
        {
            achieved = achieved.min(g);
            generator = Some(format!("fell behind its schedule above {g:.0} req/s"));
        }
        let requests = (achieved * secs).round() as u64;
        // The server's own error answers, beside the overload a slow one has:
        // a share of every request sent, as errors are answered at once, even
        // in a window whose other answers the stall or the backlog held up.
        let answered_errors = self
            .errors_above
            .filter(|(r, _)| rate > *r)
            .map_or(0, |(_, f)| (sent.ceil() * f).ceil() as u64);
        let errors = overload.round() as u64 + answered_errors;
        let pct = Percentiles {
            p50: trend.p50_ms[1],
            p90: (trend.p50_ms[1] + p99) / 2.0,
            p99,
            p999: p99 * 1.2,
            p9999: p99 * 1.4,
            max: p99 * 1.5,
            mean: trend.p50_ms.iter().sum::<f64>() / 3.0,
        };
        WindowResult {
            target_rps: rate,
            achieved_rps: achieved,
            requests,
            errors,
            answered_errors,
            latency: pct,
            service: pct,
            light: None,
            spectrum: vec![[50.0, pct.p50], [99.0, pct.p99]],
            service_spectrum: vec![[50.0, pct.p50], [99.0, pct.p99]],
            timeline: vec![],
            histograms: vec![("latency".into(), vec![1, 2, 3])],
            trend: stop.is_none().then_some(trend),
            abandoned: stop.map(|tau| bakeoff_load::Abandoned {
                planned: Duration::from_secs_f64(planned),
                over: (sent / 100.0) as u64 + 1,
                growth: growth(&arrivals, tau - 1.5 * abandon_ms.unwrap_or(0.0) / 1000.0),
            }),
            // What the server answered over the settle and the window.
            served_rps: rate.min(c),
            stalled: stalled.then(|| "5.0% of sends left late through the generator".into()),
            steal_tolerated: (self.steal_tolerated && !stalled).then(|| {
                "the hypervisor took 5.0% of the machine's CPU time (steal), tolerated".into()
            }),
            notes: self.notes.clone(),
            outstanding: (overload.round() as u64).max(self.backlog.round() as u64),
            duration: Duration::from_secs_f64(secs),
            generator_valid: generator.is_none(),
            generator_note: generator,
            ..WindowResult::default()
        }
    }
}

impl ServerModel {
    /// The p99 (seconds) of `arrivals` (time, latency, backlog) censored at `cutoff`.
    fn p99_of(&self, arrivals: &[(f64, f64, f64)], cutoff: f64, q99: f64) -> f64 {
        let mut all: Vec<f64> = arrivals
            .iter()
            .map(|&(t, l, _)| l.min(cutoff - t))
            .collect();
        all.sort_by(f64::total_cmp);
        quantile(&all, 0.99) + q99
    }
}

/// The capacity at `slo_ms` of a fluid queue (a knee: `base_ms` plus the
/// backlog ÷ the ceiling) whose ceiling each second is `ceilings[i]`, serving
/// nothing through that second's pause (`pauses[i]`: its start and length),
/// from an empty queue: the highest rate whose arrivals' p99 stays within the
/// SLO, and never above the mean it serves (no queue holds more than that).
pub(in crate::suite) fn sustained(
    ceilings: &[f64],
    pauses: &[Pause],
    base_ms: f64,
    slo_ms: f64,
) -> f64 {
    const STEPS: usize = 50;
    let served = |i: usize| {
        let share = pauses.get(i).copied().flatten().map_or(0.0, |p| p.1);
        ceilings[i] * (1.0 - share.min(1.0))
    };
    let mean = (0..ceilings.len()).map(served).sum::<f64>() / ceilings.len() as f64;
    let p99_at = |rate: f64| {
        let mut backlog = 0.0f64;
        let mut lat = Vec::with_capacity(ceilings.len() * STEPS);
        for (i, &c) in ceilings.iter().enumerate() {
            for j in 0..STEPS {
                let t = i as f64 + (j as f64 + 0.5) / STEPS as f64;
                let left = pause_left(pauses, t);
                let out = if left > 0.0 { 0.0 } else { c };
                backlog = (backlog + (rate - out) / STEPS as f64).max(0.0);
                lat.push(base_ms + (backlog / c + left) * 1000.0);
            }
        }
        lat.sort_by(f64::total_cmp);
        quantile(&lat, 0.99)
    };
    let (mut lo, mut hi) = (0.0, mean);
    if p99_at(hi) <= slo_ms {
        return hi;
    }
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if p99_at(mid) <= slo_ms {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The engine's slope of latency over intended time (`Recorder::growth`):
/// least squares over the arrivals in the last third of [0, `fit_end`).
fn growth(arrivals: &[(f64, f64, f64)], fit_end: f64) -> Option<f64> {
    let pts: Vec<(f64, f64)> = arrivals
        .iter()
        .filter(|a| a.0 >= fit_end * 2.0 / 3.0 && a.0 < fit_end)
        .map(|a| (a.0, a.1))
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let mt = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let ml = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let stt: f64 = pts.iter().map(|p| (p.0 - mt).powi(2)).sum();
    let stl: f64 = pts.iter().map(|p| (p.0 - mt) * (p.1 - ml)).sum();
    (stt > 0.0).then(|| stl / stt)
}

/// A second's pause, if it has one: its start within the second and its
/// length, both in seconds.
type Pause = Option<(f64, f64)>;

/// How much of a pause is left at `t` (seconds into the window): 0 outside one.
fn pause_left(pauses: &[Pause], t: f64) -> f64 {
    let second = t.max(0.0).floor();
    match pauses.get(second as usize).copied().flatten() {
        Some((at, len)) if (second + at..second + at + len).contains(&t) => second + at + len - t,
        _ => 0.0,
    }
}

/// The `p` quantile of sorted values.
fn quantile(v: &[f64], p: f64) -> f64 {
    v[((v.len() - 1) as f64 * p).round() as usize]
}
