//! The measured window in thirds by intended time ([`Trend`]): each third's
//! requests, corrected latency, and requests in flight on average over its
//! time. A backlog that grows shows in the last third against the first.

use std::time::Instant;

use hdrhistogram::Histogram;

use super::{new_histogram, secs_since};
use crate::{Trend, TrendThird};

/// What the recorder keeps for the window's thirds.
pub(super) struct TrendRec {
    /// Where the second and third thirds start, and where the window ends.
    bounds: [Instant; 3],
    start: Instant,
    requests: [u64; 3],
    latency: [Histogram<u64>; 3],
    /// The thirds' edges in the recorder's seconds: start, two bounds, end.
    edges: [f64; 4],
    /// Request-seconds in flight within each third, of the requests done.
    area: [f64; 3],
    /// Requests still in flight by the third they were sent in (sent before
    /// the window: its first), and the sum of their send times there.
    open: [u32; 3],
    open_sent: [f64; 3],
}

impl TrendRec {
    /// The window from `start` to `end`, in seconds from `base`; the
    /// `in_flight` requests sent before it count from its start, in the first
    /// third.
    pub(super) fn new(start: Instant, end: Instant, base: Instant, in_flight: u32) -> TrendRec {
        let third = end.saturating_duration_since(start) / 3;
        let bounds = [start + third, start + third * 2, end];
        let secs = |t: Instant| secs_since(base, t);
        let edges = [secs(start), secs(bounds[0]), secs(bounds[1]), secs(end)];
        TrendRec {
            bounds,
            start,
            requests: [0; 3],
            latency: std::array::from_fn(|_| new_histogram()),
            edges,
            area: [0.0; 3],
            open: [in_flight, 0, 0],
            open_sent: [f64::from(in_flight) * edges[0], 0.0, 0.0],
        }
    }

    /// A request was sent at `sent`, in the recorder's seconds clipped to
    /// the window (its start for one sent before, its end for one after):
    /// in flight from then.
    pub(super) fn on_send(&mut self, sent: f64) {
        if let Some((i, s)) = self.entered(sent) {
            self.open[i] += 1;
            self.open_sent[i] += s;
        }
    }

    /// A request sent at `sent` was answered at `done` (the answer's own
    /// arrival time, whenever it is harvested), both clipped as in
    /// [`TrendRec::on_send`].
    pub(super) fn on_done(&mut self, sent: f64, done: f64) {
        if let Some((i, s)) = self.entered(sent) {
            self.open[i] = self.open[i].saturating_sub(1);
            self.open_sent[i] -= s;
            for k in 0..3 {
                let overlap = done.min(self.edges[k + 1]) - s.max(self.edges[k]);
                self.area[k] += overlap.max(0.0);
            }
        }
    }

    /// A measured request intended at `intended` finished; `corrected` its
    /// corrected latency (µs) when it is timed.
    pub(super) fn on_record(&mut self, intended: Instant, corrected: Option<u64>) {
        if let Some(i) = self.third(intended) {
            self.requests[i] += 1;
            if let Some(us) = corrected {
                self.latency[i].saturating_record(us);
            }
        }
    }

    /// The thirds as reported.
    pub(super) fn report(&self) -> Trend {
        let q = |h: &Histogram<u64>, p: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(p)
            }
        };
        let in_flight = self.mean_in_flight();
        Trend {
            thirds: std::array::from_fn(|i| TrendThird {
                requests: self.requests[i],
                p50_us: q(&self.latency[i], 0.5),
                p90_us: q(&self.latency[i], 0.9),
                mean_in_flight: in_flight[i],
            }),
        }
    }

    /// The thirds' histograms as V2 bytes.
    pub(super) fn latency_bytes(&self) -> Vec<Vec<u8>> {
        self.latency
            .iter()
            .map(crate::shard::histogram_bytes)
            .collect()
    }

    /// The third a request sent at `sent` (seconds) entered flight in, and
    /// when: the window's start for one sent before it; none at or after its
    /// end (a clipped send time there is the end itself).
    fn entered(&self, sent: f64) -> Option<(usize, f64)> {
        let s = sent.max(self.edges[0]);
        (s < self.edges[3]).then(|| {
            let i = if s < self.edges[1] {
                0
            } else if s < self.edges[2] {
                1
            } else {
                2
            };
            (i, s)
        })
    }

    /// Time-averaged requests in flight in each third, those still in flight
    /// counted to the window's end.
    fn mean_in_flight(&self) -> [f64; 3] {
        let mut before = 0u32;
        std::array::from_fn(|i| {
            let (from, to) = (self.edges[i], self.edges[i + 1]);
            let open =
                f64::from(self.open[i]) * to - self.open_sent[i] + f64::from(before) * (to - from);
            before += self.open[i];
            let len = to - from;
            if len > 0.0 {
                (self.area[i] + open.max(0.0)) / len
            } else {
                0.0
            }
        })
    }

    /// Which third `intended` falls in (comparisons only: this runs per request).
    fn third(&self, intended: Instant) -> Option<usize> {
        if intended < self.start {
            None
        } else if intended < self.bounds[0] {
            Some(0)
        } else if intended < self.bounds[1] {
            Some(1)
        } else if intended < self.bounds[2] {
            Some(2)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::stats::Recorder;
    use crate::TrendThird;

    /// The thirds' in flight is a time average from the answers' own times,
    /// as the window's: answers harvested in batches (on ticks) do not count
    /// as in flight meanwhile. One send a millisecond, each answered 2 ms
    /// later: 2 in flight throughout. Then answers 2 ms later at first and
    /// 0.1 ms more each send: a backlog the thirds show growing.
    #[test]
    fn the_trends_in_flight_is_a_time_average() {
        let t0 = Instant::now();
        let ms = |x: f64| Duration::from_secs_f64(x / 1e3);
        let run = |done_after: &dyn Fn(f64) -> f64| {
            let mut r = Recorder::new(1, Some(t0), t0);
            r.set_window(t0 + ms(300.0), Some(t0 + ms(400.0)), true);
            let mut pending: Vec<(f64, f64)> = Vec::new();
            for k in 0..300 {
                let at = f64::from(k);
                r.on_send(t0 + ms(at));
                pending.push((at, at + done_after(at)));
                // Harvest every 5 ms what arrived by then.
                if k % 5 == 4 {
                    pending.retain(|&(sent, done)| {
                        let arrived = done <= at;
                        if arrived {
                            r.on_done(t0 + ms(sent), t0 + ms(done));
                        }
                        !arrived
                    });
                }
            }
            let whole = r.mean_in_flight(t0 + ms(300.0), ms(300.0));
            (r.trend().unwrap().thirds.map(|x| x.mean_in_flight), whole)
        };
        let (steady, whole) = run(&|_| 2.0);
        for x in steady {
            assert!((x - 2.0).abs() < 0.05, "{steady:?}");
        }
        assert!((whole - 2.0).abs() < 0.05, "{whole}");
        let (growing, _) = run(&|at| 2.0 + 0.1 * at);
        assert!(
            growing[0] < growing[1] && growing[1] < growing[2],
            "{growing:?}"
        );
        // Little's law per third: its mean latency (2 + 0.1 × the mid send,
        // ms) × one send per ms, give or take the requests crossing an edge.
        assert!((growing[1] - 17.0).abs() < 2.0, "{growing:?}");
    }

    /// Thirds by intended time: counts, censored latencies, and the requests
    /// in flight on average over each.
    #[test]
    fn the_trend_splits_the_window_in_thirds() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut r = Recorder::new(1, Some(t0), t0);
        r.set_window(t0 + ms(300), Some(t0 + ms(400)), true);
        // Third 0: one send alone, answered in 5 ms.
        r.on_send(t0);
        r.on_done(t0, t0 + ms(5));
        r.record(0, t0, t0, t0 + ms(5), Ok(200));
        // Third 2: three sends piling up; one 503 (counted, not timed), one censored.
        for k in 0..3 {
            let at = t0 + ms(200 + k);
            r.on_send(at);
        }
        r.record(0, t0 + ms(200), t0 + ms(200), t0 + ms(260), Ok(200));
        r.record(0, t0 + ms(201), t0 + ms(201), t0 + ms(202), Ok(503));
        r.censor(0, t0 + ms(202), true);
        let t = r.trend().unwrap();
        assert_eq!(t.thirds.map(|x| x.requests), [1, 0, 3]);
        // Time-averaged: 5 ms of one request in a 100 ms third; three from
        // 200, 201 and 202 ms to the window's end (none answered on_done).
        let inf = t.thirds.map(|x| x.mean_in_flight);
        assert!((inf[0] - 0.05).abs() < 1e-6, "{inf:?}");
        assert_eq!(inf[1], 0.0);
        assert!((inf[2] - 2.97).abs() < 1e-6, "{inf:?}");
        assert!((4_900..=5_100).contains(&t.thirds[0].p50_us));
        // 60 ms and 198 ms (censored): the 503 is not among them.
        assert!((59_000..=61_000).contains(&t.thirds[2].p50_us), "{t:?}");
        assert!((197_000..=199_000).contains(&t.thirds[2].p90_us), "{t:?}");
        assert_eq!(t.thirds[1], TrendThird::default());
    }
}
