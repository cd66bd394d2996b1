//! The recorder: everything a completed request adds to the statistics, in
//! constant memory (HdrHistograms), plus the per-second timeline and the
//! time-averaged number of requests in flight (for Little's law).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::{ErrorKind, Second};

/// Highest recordable latency: 10 minutes in microseconds (larger values saturate).
const MAX_US: u64 = 600_000_000;

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
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
}

pub(crate) struct Recorder {
    /// Requests intended before this instant are warm-up; `None` while warming up.
    pub measure_start: Option<Instant>,
    pub requests: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub status: BTreeMap<u16, u64>,
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    pub classes: Vec<ClassRec>,
    pub timeline: Vec<Second>,
    /// Every response, warm-up included (drives the adaptive warm-up and progress).
    pub all_responses: u64,
    pub last_done: Option<Instant>,
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
}

impl Recorder {
    pub fn new(classes: usize, measure_start: Option<Instant>, now: Instant) -> Self {
        Recorder {
            measure_start,
            requests: 0,
            errors: BTreeMap::new(),
            status: BTreeMap::new(),
            latency: new_histogram(),
            service: new_histogram(),
            classes: (0..classes)
                .map(|_| ClassRec {
                    requests: 0,
                    latency: new_histogram(),
                    service: new_histogram(),
                })
                .collect(),
            timeline: Vec::new(),
            all_responses: 0,
            last_done: None,
            sec: 0,
            sec_hist: new_histogram(),
            sec_requests: 0,
            sec_errors: 0,
            in_flight: 0,
            in_flight_sent: 0.0,
            in_flight_area: 0.0,
            base: now,
        }
    }

    /// End the warm-up now (adaptive warm-up).
    pub fn start_measuring(&mut self, at: Instant) {
        self.measure_start = Some(at);
        // Everything in flight was sent before `at`: it counts from `at`.
        self.in_flight_sent = f64::from(self.in_flight) * self.secs(at);
        self.in_flight_area = 0.0;
    }

    /// Measured errors so far.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn secs(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.base).as_secs_f64()
    }

    /// A send time clipped to the start of the measured window.
    fn clipped(&self, sent: Instant) -> f64 {
        self.secs(self.measure_start.map_or(sent, |start| sent.max(start)))
    }

    pub fn on_send(&mut self, sent: Instant) {
        self.in_flight += 1;
        self.in_flight_sent += self.clipped(sent);
    }

    /// A request sent at `sent` is done at `done`. Calls may come out of time
    /// order (tick-harvested responses carry earlier arrival times), so the area
    /// is summed per request rather than integrated between events.
    pub fn on_done(&mut self, sent: Instant, done: Instant) {
        let from = self.clipped(sent);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.in_flight_sent -= from;
        if self.measure_start.is_some() {
            self.in_flight_area += (self.secs(done) - from).max(0.0);
        }
    }

    /// Time-averaged requests in flight over `window` of measurement, those
    /// still in flight counted up to `end`.
    pub fn mean_in_flight(&self, end: Instant, window: Duration) -> f64 {
        if window.is_zero() || self.measure_start.is_none() {
            return 0.0;
        }
        let open = f64::from(self.in_flight) * self.secs(end) - self.in_flight_sent;
        (self.in_flight_area + open.max(0.0)) / window.as_secs_f64()
    }

    /// One finished request: `Ok(status)` for a complete response, else the error.
    pub fn record(
        &mut self,
        class: usize,
        intended: Instant,
        sent: Instant,
        done: Instant,
        outcome: Result<u16, ErrorKind>,
    ) {
        if outcome.is_ok() {
            self.all_responses += 1;
        }
        let Some(start) = self.measure_start else {
            return;
        };
        if intended < start {
            return;
        }
        self.last_done = Some(self.last_done.map_or(done, |d| d.max(done)));
        self.roll_to(done.saturating_duration_since(start).as_secs() as u32);
        match outcome {
            Ok(status) => {
                // A send released early (within the timer's 1 ms tick) counts from its actual send.
                let corrected = micros(done - intended.min(sent));
                let service = micros(done - sent);
                self.requests += 1;
                *self.status.entry(status).or_default() += 1;
                if !(200..300).contains(&status) {
                    *self.errors.entry(ErrorKind::Status).or_default() += 1;
                    self.sec_errors += 1;
                }
                self.latency.saturating_record(corrected);
                self.service.saturating_record(service);
                self.sec_hist.saturating_record(corrected);
                self.sec_requests += 1;
                // One class is the whole run: `class_stats` reuses the overall figures.
                let several = self.classes.len() > 1;
                if let Some(c) = self.classes.get_mut(class).filter(|_| several) {
                    c.requests += 1;
                    c.latency.saturating_record(corrected);
                    c.service.saturating_record(service);
                }
            }
            Err(kind) => {
                *self.errors.entry(kind).or_default() += 1;
                self.sec_errors += 1;
            }
        }
    }

    /// Per class: requests, corrected and service-time histograms.
    pub fn class_stats(&self) -> Vec<(u64, &Histogram<u64>, &Histogram<u64>)> {
        if self.classes.len() == 1 {
            return vec![(self.requests, &self.latency, &self.service)];
        }
        self.classes
            .iter()
            .map(|c| (c.requests, &c.latency, &c.service))
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
        self.sec += 1;
        self.sec_hist.reset();
        self.sec_requests = 0;
        self.sec_errors = 0;
    }

    /// Flush the last, partial second.
    pub fn finish_timeline(&mut self) {
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
        assert_eq!(r.all_responses, 1);
        // Intended 100 ms before it was sent: corrected 110 ms, service 10 ms.
        let intended = start + Duration::from_millis(100);
        let sent = intended + Duration::from_millis(100);
        r.record(0, intended, sent, sent + Duration::from_millis(10), Ok(503));
        assert_eq!(r.requests, 1);
        assert_eq!(r.errors[&ErrorKind::Status], 1);
        assert_eq!(r.status[&503], 1);
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

    #[test]
    fn one_class_reports_the_overall_figures_and_several_their_own() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut one = Recorder::new(1, Some(t0), t0);
        one.record(0, t0, t0, t0 + ms(5), Ok(200));
        one.record(0, t0, t0, t0 + ms(9), Ok(200));
        let [(n, latency, service)] = one.class_stats()[..] else {
            panic!("one class expected");
        };
        assert_eq!((n, latency.len(), service.len()), (2, 2, 2));
        assert_eq!(latency.max(), one.latency.max());
        let mut two = Recorder::new(2, Some(t0), t0);
        two.record(0, t0, t0, t0 + ms(5), Ok(200));
        two.record(1, t0, t0, t0 + ms(9), Ok(200));
        two.record(1, t0, t0, t0 + ms(9), Err(ErrorKind::Timeout));
        let stats = two.class_stats();
        assert_eq!(stats.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 1]);
        assert!(stats[0].1.max() < stats[1].1.max());
        assert_eq!(two.latency.len(), 2);
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
