//! The recorder: everything a completed request adds to the statistics, in
//! constant memory (HdrHistograms), plus the per-second timeline, the window's
//! trend in thirds (the `trend` module), and the time-averaged number of
//! requests in flight.
//!
//! The rules (see `LoadReport`): 2xx answers go into both histograms, non-2xx
//! into neither, failures into the corrected one at their elapsed time, and
//! whatever the cutoff finds unsent or unanswered, or answered after it, is an
//! overload error at its age at the cutoff.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::expect::Expect;
use crate::{ClassStats, ErrorKind, Second, Trend};

mod trend;
use trend::TrendRec;

/// Highest recordable latency: 10 minutes in microseconds (larger values saturate).
const MAX_US: u64 = 600_000_000;

/// Seconds from `base` to `t` (none before it): the recorder's clock.
fn secs_since(base: Instant, t: Instant) -> f64 {
    t.saturating_duration_since(base).as_secs_f64()
}

/// A latency histogram in microseconds, 3 significant digits.
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("constant histogram bounds are valid")
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

/// Statistics of one request class.
pub(crate) struct ClassRec {
    pub requests: u64,
    pub successes: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
}

/// Buckets of the window by intended time for [`Recorder::growth`].
const SLOPE_BUCKETS: usize = 200;

/// Sum and count of corrected latencies (s) per bucket of intended time.
struct SlopeRec {
    start: Instant,
    /// Seconds per bucket.
    width: f64,
    sum: [f64; SLOPE_BUCKETS],
    n: [u32; SLOPE_BUCKETS],
}

pub(crate) struct Recorder {
    /// Requests intended before this instant are warm-up; `None` while warming up.
    pub measure_start: Option<Instant>,
    /// Requests intended at or after this instant are not measured.
    window_end: Option<Instant>,
    /// Answers arriving after this instant are overload errors.
    cutoff: Option<Instant>,
    /// Measured answers of any status by the cutoff.
    pub requests: u64,
    /// Measured 2xx answers by the cutoff.
    pub successes: u64,
    /// Measured requests unsent / sent but unanswered at the cutoff.
    pub unsent: u64,
    pub outstanding: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub status: BTreeMap<u16, u64>,
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    pub classes: Vec<ClassRec>,
    pub timeline: Vec<Second>,
    /// Each closed second's histogram, V2 bytes (see `LoadReport::second_latency`).
    pub second_latency: Vec<Vec<u8>>,
    /// Every response, warm-up included (drives the adaptive warm-up and progress).
    pub all_responses: u64,
    /// Requests written and 2xx answers received, warm-up and late ones included.
    pub sent_all: u64,
    pub ok_all: u64,
    /// 2xx answers that arrived inside the measured window, whatever their
    /// intended time.
    pub ok_in_window: u64,
    pub last_done: Option<Instant>,
    /// Measured requests timed over `over_us` (see `LoadConfig::abandon`).
    pub over: u64,
    pub over_us: Option<u64>,
    /// With `over_us`: corrected latency by intended time, for the slope.
    slope: Option<Box<SlopeRec>>,
    trend: Option<Box<TrendRec>>,
    sec: u32,
    sec_hist: Histogram<u64>,
    sec_requests: u64,
    sec_errors: u64,
    /// Requests sent and not yet done.
    in_flight: u32,
    /// Σ over those of their send time, clipped to the measured window (s since `base`).
    in_flight_sent: f64,
    /// Σ over done requests of their time in flight within the window (s).
    in_flight_area: f64,
    base: Instant,
    /// Per class, what its responses must be (none: any 2xx).
    accept: Vec<Option<Arc<Expect>>>,
    /// The first few responses that missed their class's expectation, quoted.
    pub examples: Vec<String>,
}

impl Recorder {
    pub(crate) fn new(classes: usize, measure_start: Option<Instant>, now: Instant) -> Self {
        Recorder {
            measure_start,
            window_end: None,
            cutoff: None,
            requests: 0,
            successes: 0,
            unsent: 0,
            outstanding: 0,
            errors: BTreeMap::new(),
            status: BTreeMap::new(),
            latency: new_histogram(),
            service: new_histogram(),
            classes: (0..classes)
                .map(|_| ClassRec {
                    requests: 0,
                    successes: 0,
                    errors: BTreeMap::new(),
                    latency: new_histogram(),
                    service: new_histogram(),
                })
                .collect(),
            timeline: Vec::new(),
            second_latency: Vec::new(),
            all_responses: 0,
            sent_all: 0,
            ok_all: 0,
            ok_in_window: 0,
            last_done: None,
            over: 0,
            over_us: None,
            slope: None,
            trend: None,
            sec: 0,
            sec_hist: new_histogram(),
            sec_requests: 0,
            sec_errors: 0,
            in_flight: 0,
            in_flight_sent: 0.0,
            in_flight_area: 0.0,
            base: now,
            accept: Vec::new(),
            examples: Vec::new(),
        }
    }

    /// Each class's expectation (by class index); a status it lists is a success.
    pub(crate) fn expect(&mut self, per_class: Vec<Option<Arc<Expect>>>) {
        self.accept = per_class;
    }

    /// Quote a missed expectation, while fewer than [`crate::expect::EXAMPLES`] are.
    pub(crate) fn missed(&mut self, example: String) {
        if self.examples.len() < crate::expect::EXAMPLES {
            self.examples.push(example);
        }
    }

    fn accepts(&self, class: usize, status: u16) -> bool {
        match self.accept.get(class) {
            Some(Some(x)) => x.accepts(status),
            _ => (200..300).contains(&status),
        }
    }

    /// End the warm-up now (adaptive warm-up).
    pub(crate) fn start_measuring(&mut self, at: Instant) {
        self.measure_start = Some(at);
        // Everything in flight was sent before `at`: it counts from `at`.
        self.in_flight_sent = f64::from(self.in_flight) * self.secs(at);
        self.in_flight_area = 0.0;
    }

    /// The measured window ends at `end` (set once `measure_start` is);
    /// answers after `cutoff` are overload errors; `trend` splits the window
    /// in thirds.
    pub(crate) fn set_window(&mut self, end: Instant, cutoff: Option<Instant>, trend: bool) {
        self.window_end = Some(end);
        self.cutoff = cutoff;
        let Some(start) = self.measure_start.filter(|_| trend) else {
            return;
        };
        // The trend's window is the recorder's: it takes the same clipped
        // send and answer times (`clipped`), converted once per event.
        self.trend = Some(Box::new(TrendRec::new(
            start,
            end,
            self.base,
            self.in_flight,
        )));
    }

    /// Keep the corrected latency by intended time over the window (set once
    /// `measure_start` and the end are), for [`Recorder::growth`].
    pub(crate) fn track_growth(&mut self, end: Instant) {
        if let Some(start) = self.measure_start {
            self.slope = Some(Box::new(SlopeRec {
                start,
                width: end.saturating_duration_since(start).as_secs_f64() / SLOPE_BUCKETS as f64,
                sum: [0.0; SLOPE_BUCKETS],
                n: [0; SLOPE_BUCKETS],
            }));
        }
    }

    /// The rise of the corrected latency (s per s of intended time) over the
    /// last third of [start, `fit_end`): a weighted least-squares slope of the
    /// buckets' mean latencies. `None` with fewer than three buckets answered.
    pub(crate) fn growth(&self, fit_end: Instant) -> Option<f64> {
        let s = self.slope.as_deref()?;
        let end = fit_end.saturating_duration_since(s.start).as_secs_f64();
        let from = end * 2.0 / 3.0;
        let points: Vec<(f64, f64, f64)> = (0..SLOPE_BUCKETS)
            .filter(|&i| s.n[i] > 0)
            .map(|i| {
                (
                    (i as f64 + 0.5) * s.width,
                    s.sum[i] / f64::from(s.n[i]),
                    f64::from(s.n[i]),
                )
            })
            .filter(|&(t, _, _)| t >= from && t + s.width / 2.0 <= end)
            .collect();
        if points.len() < 3 {
            return None;
        }
        let w: f64 = points.iter().map(|p| p.2).sum();
        let mt = points.iter().map(|p| p.0 * p.2).sum::<f64>() / w;
        let ml = points.iter().map(|p| p.1 * p.2).sum::<f64>() / w;
        let stt: f64 = points.iter().map(|p| p.2 * (p.0 - mt).powi(2)).sum();
        let stl: f64 = points.iter().map(|p| p.2 * (p.0 - mt) * (p.1 - ml)).sum();
        (stt > 0.0).then(|| stl / stt)
    }

    /// End the measured window at `at`, ahead of its planned end: requests
    /// intended from then on are not measured, and what is unanswered then is
    /// censored at its age. The thirds of the planned window mean nothing now.
    pub(crate) fn end_early(&mut self, at: Instant) {
        self.window_end = Some(at);
        self.cutoff = Some(at);
        self.trend = None;
    }

    /// Measured errors so far.
    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn secs(&self, t: Instant) -> f64 {
        secs_since(self.base, t)
    }

    /// A time clipped to the measured window.
    fn clipped(&self, t: Instant) -> f64 {
        let t = self.measure_start.map_or(t, |start| t.max(start));
        self.secs(self.window_end.map_or(t, |end| t.min(end)))
    }

    /// A request was written at `sent`: in flight from then.
    pub(crate) fn on_send(&mut self, sent: Instant) {
        self.sent_all += 1;
        let s = self.clipped(sent);
        if let Some(t) = &mut self.trend {
            t.on_send(s);
        }
        self.in_flight += 1;
        self.in_flight_sent += s;
    }

    /// A request sent at `sent` is done at `done`. Calls may come out of time
    /// order (tick-harvested responses carry earlier arrival times), so the area
    /// is summed per request rather than integrated between events.
    pub(crate) fn on_done(&mut self, sent: Instant, done: Instant) {
        let from = self.clipped(sent);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.in_flight_sent -= from;
        if self.measure_start.is_some() {
            let to = self.clipped(done);
            self.in_flight_area += (to - from).max(0.0);
            if let Some(t) = &mut self.trend {
                t.on_done(from, to);
            }
        }
    }

    /// Requests sent and not yet done.
    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// Time-averaged requests in flight over `window` of measurement, those
    /// still in flight counted up to `end`.
    pub(crate) fn mean_in_flight(&self, end: Instant, window: Duration) -> f64 {
        if window.is_zero() || self.measure_start.is_none() {
            return 0.0;
        }
        let open = f64::from(self.in_flight) * self.secs(end) - self.in_flight_sent;
        (self.in_flight_area + open.max(0.0)) / window.as_secs_f64()
    }

    /// A measured request still unsent (`sent` false) or unanswered at the
    /// cutoff: an overload error at its age then (a censored latency).
    pub(crate) fn censor(&mut self, class: usize, intended: Instant, sent: bool) {
        let (Some(start), Some(cutoff)) = (self.measure_start, self.cutoff) else {
            return;
        };
        if intended < start || self.window_end.is_some_and(|end| intended >= end) {
            return;
        }
        if sent {
            self.outstanding += 1;
        } else {
            self.unsent += 1;
        }
        self.record(class, intended, cutoff, cutoff, Err(ErrorKind::Overload));
    }

    /// One finished request: `Ok(status)` for a complete response, else the
    /// error. 2xx answers enter both histograms, non-2xx neither, failures the
    /// corrected one at their elapsed time. An answer after the cutoff is an
    /// overload error at its age at the cutoff.
    pub(crate) fn record(
        &mut self,
        class: usize,
        intended: Instant,
        sent: Instant,
        done: Instant,
        outcome: Result<u16, ErrorKind>,
    ) {
        if let Ok(status) = outcome {
            self.all_responses += 1;
            if self.accepts(class, status) {
                self.ok_all += 1;
                let inside = self.measure_start.is_some_and(|s| done >= s)
                    && self.window_end.is_none_or(|e| done <= e);
                if inside {
                    self.ok_in_window += 1;
                }
            }
        }
        if outcome == Err(ErrorKind::Expectation) {
            self.all_responses += 1;
        }
        let Some(start) = self.measure_start else {
            return;
        };
        if intended < start {
            return;
        }
        let (done, outcome) = match self.cutoff {
            Some(cutoff) if done > cutoff => (cutoff, Err(ErrorKind::Overload)),
            _ => (done, outcome),
        };
        self.last_done = Some(self.last_done.map_or(done, |d| d.max(done)));
        self.roll_to(done.saturating_duration_since(start).as_secs() as u32);
        // A send released early (within the timer's 1 ms tick) counts from its actual send.
        let corrected = micros(done.saturating_duration_since(intended.min(sent)));
        // One class is the whole run: `class_stats` reuses the overall figures.
        let accepted = outcome.is_ok_and(|status| self.accepts(class, status));
        let several = self.classes.len() > 1;
        let mut class = self.classes.get_mut(class).filter(|_| several);
        let timed = match outcome {
            Ok(status) => {
                self.requests += 1;
                self.sec_requests += 1;
                *self.status.entry(status).or_default() += 1;
                if let Some(c) = class.as_deref_mut() {
                    c.requests += 1;
                }
                if accepted {
                    self.successes += 1;
                    if let Some(c) = class.as_deref_mut() {
                        c.successes += 1;
                    }
                    let service = micros(done.saturating_duration_since(sent));
                    self.service.saturating_record(service);
                    if let Some(c) = class.as_deref_mut() {
                        c.service.saturating_record(service);
                    }
                    true
                } else {
                    *self.errors.entry(ErrorKind::Status).or_default() += 1;
                    if let Some(c) = class.as_deref_mut() {
                        *c.errors.entry(ErrorKind::Status).or_default() += 1;
                    }
                    self.sec_errors += 1;
                    false
                }
            }
            // A complete answer that missed its expectation: counted as an
            // answer and kept out of the latency, as a non-2xx one is.
            Err(ErrorKind::Expectation) => {
                self.requests += 1;
                self.sec_requests += 1;
                if let Some(c) = class.as_deref_mut() {
                    c.requests += 1;
                    *c.errors.entry(ErrorKind::Expectation).or_default() += 1;
                }
                *self.errors.entry(ErrorKind::Expectation).or_default() += 1;
                self.sec_errors += 1;
                false
            }
            Err(kind) => {
                *self.errors.entry(kind).or_default() += 1;
                if let Some(c) = class.as_deref_mut() {
                    *c.errors.entry(kind).or_default() += 1;
                }
                self.sec_errors += 1;
                true
            }
        };
        if timed {
            if self.over_us.is_some_and(|limit| corrected > limit) {
                self.over += 1;
            }
            if let Some(s) = &mut self.slope {
                let at = intended.saturating_duration_since(s.start).as_secs_f64();
                let i = (at / s.width.max(1e-9)) as usize;
                if intended >= s.start && i < SLOPE_BUCKETS {
                    s.sum[i] += corrected as f64 / 1e6;
                    s.n[i] += 1;
                }
            }
            self.latency.saturating_record(corrected);
            self.sec_hist.saturating_record(corrected);
            if let Some(c) = class {
                c.latency.saturating_record(corrected);
            }
        }
        if let Some(t) = &mut self.trend {
            t.on_record(intended, timed.then_some(corrected));
        }
    }

    /// The window in thirds, when it was asked for.
    pub(crate) fn trend(&self) -> Option<Trend> {
        self.trend.as_deref().map(TrendRec::report)
    }

    /// The trend's thirds' histograms as V2 bytes (empty without a trend).
    pub(crate) fn trend_latency(&self) -> Vec<Vec<u8>> {
        self.trend
            .as_deref()
            .map_or_else(Vec::new, TrendRec::latency_bytes)
    }

    /// Per class: requests, corrected and service-time histograms.
    pub(crate) fn class_stats(&self) -> Vec<ClassStats> {
        if self.classes.len() == 1 {
            return vec![ClassStats {
                requests: self.requests,
                successes: self.successes,
                errors: self.errors.clone(),
                latency: self.latency.clone(),
                service: self.service.clone(),
            }];
        }
        self.classes
            .iter()
            .map(|c| ClassStats {
                requests: c.requests,
                successes: c.successes,
                errors: c.errors.clone(),
                latency: c.latency.clone(),
                service: c.service.clone(),
            })
            .collect()
    }

    /// Close the seconds before `sec`, including empty ones.
    fn roll_to(&mut self, sec: u32) {
        while self.sec < sec {
            self.close_second();
        }
    }

    fn close_second(&mut self) {
        self.timeline.push(Second {
            second: self.sec,
            requests: self.sec_requests,
            errors: self.sec_errors,
            p99_us: if self.sec_hist.is_empty() {
                0
            } else {
                self.sec_hist.value_at_quantile(0.99)
            },
        });
        self.second_latency
            .push(crate::shard::histogram_bytes(&self.sec_hist));
        self.sec += 1;
        self.sec_hist.reset();
        self.sec_requests = 0;
        self.sec_errors = 0;
    }

    /// Flush the last, partial second.
    pub(crate) fn finish_timeline(&mut self) {
        if self.measure_start.is_some() && (self.sec_requests > 0 || self.sec_errors > 0) {
            self.close_second();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_requests_are_excluded_and_latencies_split() {
        let t0 = Instant::now();
        let start = t0 + Duration::from_secs(1);
        let mut r = Recorder::new(1, Some(start), t0);
        // Intended during warm-up: ignored.
        r.record(0, t0, t0, t0 + Duration::from_millis(5), Ok(200));
        assert_eq!(r.requests, 0);
        assert_eq!((r.all_responses, r.ok_all), (1, 1));
        // Intended 100 ms before it was sent: corrected 110 ms, service 10 ms.
        let intended = start + Duration::from_millis(100);
        let sent = intended + Duration::from_millis(100);
        r.record(0, intended, sent, sent + Duration::from_millis(10), Ok(201));
        assert_eq!((r.requests, r.successes), (1, 1));
        let c = r.latency.max();
        assert!((109_000..=111_000).contains(&c), "{c}");
        let s = r.service.max();
        assert!((9_900..=10_100).contains(&s), "{s}");
        // Sent 1 ms early: corrected equals service, never less.
        let sent = start + Duration::from_millis(500);
        let intended = sent + Duration::from_millis(1);
        r.latency.reset();
        r.service.reset();
        r.record(0, intended, sent, sent + Duration::from_millis(3), Ok(200));
        assert_eq!(r.latency.max(), r.service.max());
    }

    /// The server's throughput in the window counts the answers that arrived
    /// inside it, whatever their intended time; the window's answers arriving
    /// in the grace count as successes but were not delivered in it.
    #[test]
    fn delivered_in_the_window_counts_arrivals_inside_it() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let start = t0 + ms(100);
        let end = start + ms(300);
        let mut r = Recorder::new(1, Some(start), t0);
        r.set_window(end, Some(end + ms(200)), false);
        // Intended in the settle, answered in the window: delivered in it.
        r.record(0, t0, t0, start + ms(10), Ok(200));
        // Intended and answered in the window.
        r.record(0, start, start, start + ms(50), Ok(200));
        // Intended in the window, answered in the grace: a success only.
        r.record(0, end - ms(10), end - ms(10), end + ms(150), Ok(200));
        // A non-2xx answer is neither.
        r.record(0, start, start, start + ms(60), Ok(503));
        assert_eq!(r.successes, 2);
        assert_eq!(r.ok_in_window, 2);
        assert_eq!(r.ok_all, 3);
    }

    /// Non-2xx answers are errors kept out of both histograms; failures that
    /// cost time are in the corrected one at their elapsed time.
    #[test]
    fn non_2xx_are_left_out_and_failures_are_timed() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut r = Recorder::new(1, Some(t0), t0);
        r.record(0, t0, t0, t0 + ms(1), Ok(503));
        assert_eq!((r.requests, r.successes), (1, 0));
        assert_eq!(r.errors[&ErrorKind::Status], 1);
        assert_eq!(r.status[&503], 1);
        assert!(r.latency.is_empty() && r.service.is_empty());
        // A timeout 300 ms after a send 50 ms late: 350 ms corrected, no service time.
        r.record(0, t0, t0 + ms(50), t0 + ms(350), Err(ErrorKind::Timeout));
        assert_eq!(r.latency.len(), 1);
        assert!((349_000..=351_000).contains(&r.latency.max()));
        assert!(r.service.is_empty());
        r.record(0, t0, t0 + ms(2), t0 + ms(2), Err(ErrorKind::Connect));
        assert_eq!(r.latency.len(), 2);
        assert_eq!(r.requests, 1, "failures are not answers");
        r.finish_timeline();
        assert_eq!(r.timeline[0].errors, 3);
        assert_eq!(r.timeline[0].p99_us, r.latency.max());
    }

    /// An answer after the cutoff is an overload error at its age at the
    /// cutoff; what is unsent or unanswered at the cutoff is censored the same
    /// way, and requests outside the window are not.
    #[test]
    fn the_cutoff_censors_late_answers_and_leftovers() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let (end, cutoff) = (t0 + ms(1000), t0 + ms(1200));
        let mut r = Recorder::new(1, Some(t0), t0);
        r.set_window(end, Some(cutoff), false);
        r.record(0, t0 + ms(900), t0 + ms(900), t0 + ms(1500), Ok(200));
        assert_eq!((r.requests, r.successes), (0, 0));
        assert_eq!(r.errors[&ErrorKind::Overload], 1);
        assert_eq!(r.ok_all, 1, "the server did answer it");
        assert!((299_000..=301_000).contains(&r.latency.max()));
        assert!(r.service.is_empty());
        r.latency.reset();
        r.censor(0, t0 + ms(400), true);
        r.censor(0, t0 + ms(999), false);
        r.censor(0, t0 + ms(1000), false); // not in the window
        assert_eq!((r.outstanding, r.unsent), (1, 1));
        assert_eq!(r.errors[&ErrorKind::Overload], 3);
        assert!((799_000..=801_000).contains(&r.latency.max()));
        assert!((200_000..=201_000).contains(&r.latency.min()));
        // By the cutoff, an answer counts.
        r.record(0, t0 + ms(990), t0 + ms(990), cutoff, Ok(200));
        assert_eq!(r.successes, 1);
    }

    #[test]
    fn one_class_reports_the_overall_figures_and_several_their_own() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut one = Recorder::new(1, Some(t0), t0);
        one.record(0, t0, t0, t0 + ms(5), Ok(200));
        one.record(0, t0, t0, t0 + ms(9), Ok(200));
        let [ref only] = one.class_stats()[..] else {
            panic!("one class expected");
        };
        assert_eq!(
            (only.requests, only.latency.len(), only.service.len()),
            (2, 2, 2)
        );
        assert_eq!(only.latency.max(), one.latency.max());
        let mut two = Recorder::new(2, Some(t0), t0);
        two.record(0, t0, t0, t0 + ms(5), Ok(200));
        two.record(1, t0, t0, t0 + ms(9), Ok(200));
        two.record(1, t0, t0, t0 + ms(9), Err(ErrorKind::Timeout));
        let stats = two.class_stats();
        assert_eq!(
            stats.iter().map(|s| s.requests).collect::<Vec<_>>(),
            vec![1, 1]
        );
        assert!(stats[0].latency.max() < stats[1].latency.max());
        // The timeout is timed in the corrected histogram, not in service time.
        assert_eq!((two.latency.len(), two.service.len()), (3, 2));
        assert_eq!(stats[1].latency.len(), 2);
        // Each class counts its own successes and errors.
        assert_eq!((stats[0].successes, stats[1].successes), (1, 1));
        assert!(stats[0].errors.is_empty());
        assert_eq!(stats[1].errors.get(&ErrorKind::Timeout), Some(&1));
    }

    #[test]
    fn timeline_has_empty_seconds_and_little_law_area() {
        let t0 = Instant::now();
        let mut r = Recorder::new(1, Some(t0), t0);
        r.on_send(t0);
        r.on_done(t0, t0 + Duration::from_secs(1));
        // Out of time order, and still in flight at the end: 0.5 s more.
        r.on_send(t0 + Duration::from_millis(1200));
        r.on_send(t0 + Duration::from_millis(1500));
        r.on_done(
            t0 + Duration::from_millis(1200),
            t0 + Duration::from_millis(1400),
        );
        r.record(0, t0, t0, t0 + Duration::from_millis(500), Ok(200));
        r.record(
            0,
            t0,
            t0,
            t0 + Duration::from_millis(2500),
            Err(ErrorKind::Timeout),
        );
        r.finish_timeline();
        let secs: Vec<(u32, u64, u64)> = r
            .timeline
            .iter()
            .map(|s| (s.second, s.requests, s.errors))
            .collect();
        assert_eq!(secs, vec![(0, 1, 0), (1, 0, 0), (2, 0, 1)]);
        let m = r.mean_in_flight(t0 + Duration::from_secs(2), Duration::from_secs(2));
        assert!((m - (1.0 + 0.2 + 0.5) / 2.0).abs() < 1e-6, "{m}");
    }
}
