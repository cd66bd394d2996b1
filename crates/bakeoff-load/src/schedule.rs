//! The send schedule: pre-serialized requests picked by weight, the intended
//! send times (uniform or Poisson) within the run's bounds, and the adaptive
//! warm-up's stability rule.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use std::cell::Cell;
use std::sync::Arc;

use crate::expect::Expect;
use crate::rng::Rng;
use crate::template::{Render, RequestTemplate, Tables};
use crate::{http, LoadConfig, LoadError, RequestSpec, Think};

/// Pre-serialized requests and their weights; a templated request's bytes
/// are one sample rendering (for priming), its template renders each send.
pub(crate) struct Plan {
    pub(crate) bytes: Vec<Bytes>,
    pub(crate) head: Vec<bool>,
    pub(crate) template: Vec<Option<Arc<RequestTemplate>>>,
    /// Per class (not per request): what its responses must be.
    pub(crate) expect: Vec<Option<Arc<Expect>>>,
    /// The tables the templates read (one scenario's, shared).
    pub(crate) tables: Tables,
    /// Index into `class_names` per request.
    pub(crate) class_of: Vec<usize>,
    pub(crate) class_names: Vec<String>,
    pub(crate) cumulative: Vec<u64>,
    /// The sessions (steps as request indexes, think time) and their
    /// cumulative weights; empty: each request is picked by its own weight.
    pub(crate) sessions: Vec<(Vec<usize>, Option<Think>)>,
    pub(crate) session_cumulative: Vec<u64>,
}

impl Plan {
    pub(crate) fn new(cfg: &LoadConfig, authority: &str) -> Result<Plan, LoadError> {
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
            template: Vec::new(),
            expect: Vec::new(),
            tables: Tables::default(),
            class_of: Vec::new(),
            class_names: Vec::new(),
            cumulative: Vec::new(),
            sessions: Vec::new(),
            session_cumulative: Vec::new(),
        };
        let mut total = 0u64;
        for session in &cfg.sessions {
            total += u64::from(session.weight);
            plan.sessions.push((session.steps.clone(), session.think));
            plan.session_cumulative.push(total);
        }
        total = 0;
        for spec in &specs {
            match &spec.template {
                Some(t) => {
                    plan.bytes.push(sample(spec, t, authority)?);
                    plan.head.push(http::is_head(&t.method));
                    if plan.tables.0.is_empty() {
                        plan.tables = t.tables.clone();
                    }
                }
                None => {
                    plan.bytes.push(http::serialize(spec, authority)?);
                    plan.head.push(http::is_head(&spec.method));
                }
            }
            plan.template.push(spec.template.clone());
            let class = match plan.class_names.iter().position(|c| c == &spec.class) {
                Some(i) => i,
                None => {
                    plan.class_names.push(spec.class.clone());
                    plan.expect.push(None);
                    plan.class_names.len() - 1
                }
            };
            if spec.expect.is_some() {
                plan.expect[class] = spec.expect.clone();
            }
            plan.class_of.push(class);
            total += u64::from(spec.weight);
            plan.cumulative.push(total);
        }
        Ok(plan)
    }

    /// A request index drawn by weight.
    pub(crate) fn pick(&self, rng: &mut Rng) -> usize {
        if self.bytes.len() == 1 {
            return 0;
        }
        draw(&self.cumulative, rng)
    }

    /// The next request of a connection following sessions: the next step of
    /// its current one, or the first of a session drawn by weight. `at` is the
    /// connection's (session, step); its think time comes with the request
    /// when the session goes on after it.
    pub(crate) fn next_step(&self, at: &mut Option<(usize, usize)>, rng: &mut Rng) -> Step {
        if self.sessions.is_empty() {
            return Step {
                request: self.pick(rng),
                think: None,
            };
        }
        let (session, step) = match *at {
            Some((s, i)) if i < self.sessions[s].0.len() => (s, i),
            _ => (draw(&self.session_cumulative, rng), 0),
        };
        *at = Some((session, step + 1));
        let (steps, think) = &self.sessions[session];
        Step {
            request: steps[step],
            think: *think,
        }
    }
}

/// A request to send, and the pause that follows it.
pub(crate) struct Step {
    pub(crate) request: usize,
    pub(crate) think: Option<Think>,
}

/// An index drawn from cumulative weights.
fn draw(cumulative: &[u64], rng: &mut Rng) -> usize {
    let total = *cumulative.last().unwrap_or(&1);
    let x = rng.next_u64() % total.max(1);
    cumulative.partition_point(|&c| c <= x)
}

/// One rendering of a templated request, checked as a request line and
/// headers: a template that cannot make a valid request fails before the run.
fn sample(spec: &RequestSpec, t: &RequestTemplate, authority: &str) -> Result<Bytes, LoadError> {
    let bad = |what: String| LoadError::InvalidConfig(format!("request `{}`: {what}", spec.class));
    if t.method.is_empty() || !t.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad("the method must be letters only, e.g. GET".into()));
    }
    let cursors: Vec<Cell<usize>> = t.tables.0.iter().map(|_| Cell::new(0)).collect();
    let (mut out, mut body, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    t.render(
        authority,
        &mut out,
        &mut body,
        &mut Render {
            rng: &mut rng,
            seq: 0,
            tables: &t.tables,
            cursors: &cursors,
            rows: &mut rows,
        },
    );
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(&out) {
        Ok(httparse::Status::Complete(_)) if req.path.is_some_and(|p| p.starts_with('/')) => {
            Ok(Bytes::from(out))
        }
        Ok(_) => Err(bad(format!(
            "the path must start with / (rendered: {:?})",
            String::from_utf8_lossy(&out[..out.len().min(200)])
        ))),
        Err(e) => Err(bad(format!(
            "it does not render as a valid HTTP request ({e}): {:?}",
            String::from_utf8_lossy(&out[..out.len().min(200)])
        ))),
    }
}

/// The schedule of intended send times and the run's bounds.
pub(crate) struct Scheduler {
    pub(crate) rate: Option<f64>,
    pub(crate) poisson: bool,
    pub(crate) origin: Instant,
    pub(crate) issued: u64,
    pub(crate) next: Instant,
    /// No ticket is intended at or after this instant.
    pub(crate) end: Option<Instant>,
    pub(crate) measure_start: Option<Instant>,
    pub(crate) max_requests: Option<u64>,
    pub(crate) issued_measured: u64,
    pub(crate) stopped: bool,
    pub(crate) rng: Rng,
}

impl Scheduler {
    pub(crate) fn next_ticket(&mut self, now: Instant) -> Option<Instant> {
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
}

impl Scheduler {
    /// Open loop: the tickets not yet issued whose intended time lies in
    /// [`from`, `before`) (exact for the uniform schedule, the expected count
    /// for Poisson's).
    pub(crate) fn owed_before(&self, before: Instant, from: Instant) -> u64 {
        let Some(rate) = self.rate.filter(|_| !self.stopped) else {
            return 0;
        };
        let first = self.next.max(from);
        let last = self.end.map_or(before, |end| end.min(before));
        if last <= first {
            return 0;
        }
        ((last - first).as_secs_f64() * rate).ceil() as u64
    }
}

/// Adaptive warm-up: three consecutive 1 s windows within 2% of each other.
pub(crate) struct WarmupTracker {
    pub(crate) window_start: Instant,
    pub(crate) window_responses: u64,
    pub(crate) rates: Vec<f64>,
    t0: Instant,
}

impl WarmupTracker {
    pub(crate) fn new(t0: Instant) -> Self {
        WarmupTracker {
            window_start: t0,
            window_responses: 0,
            rates: Vec::new(),
            t0,
        }
    }

    /// `Some(capped)` when the warm-up should end now.
    pub(crate) fn observe(&mut self, now: Instant, responses: u64, max: Duration) -> Option<bool> {
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
pub(crate) fn stable(rates: &[f64]) -> bool {
    if rates.len() < 3 {
        return false;
    }
    let max = rates.iter().cloned().fold(f64::MIN, f64::max);
    let min = rates.iter().cloned().fold(f64::MAX, f64::min);
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    mean > 0.0 && (max - min) / mean <= 0.02
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
            rng: Rng::new(42),
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
        assert!(s.next_ticket(t0).is_none(), "nothing after the end");
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
    fn owed_tickets_are_the_unissued_ones_due_in_the_span() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut s = sched(Some(1_000.0), false, t0);
        // None issued yet: 100 slots in [t0, t0 + 100 ms), 50 of them from t0 + 50 ms.
        assert_eq!(s.owed_before(t0 + ms(100), t0), 100);
        assert_eq!(s.owed_before(t0 + ms(100), t0 + ms(50)), 50);
        for _ in 0..30 {
            s.next_ticket(t0);
        }
        assert_eq!(s.owed_before(t0 + ms(100), t0), 70, "30 were issued");
        assert_eq!(
            s.owed_before(t0 + ms(20), t0),
            0,
            "all due by then were issued"
        );
        s.stopped = true;
        assert_eq!(s.owed_before(t0 + ms(100), t0), 0);
    }

    #[test]
    fn stability_needs_three_close_windows() {
        assert!(!stable(&[100.0, 100.0]));
        assert!(stable(&[100.0, 101.0, 99.5]));
        assert!(!stable(&[100.0, 105.0, 100.0]));
        assert!(!stable(&[0.0, 0.0, 0.0]));
    }

    #[test]
    fn sessions_send_their_steps_in_order_and_are_drawn_by_weight() {
        use crate::SessionSpec;
        let cfg = LoadConfig {
            requests: ["/list", "/get", "/search"]
                .into_iter()
                .map(RequestSpec::get)
                .collect(),
            sessions: vec![
                SessionSpec {
                    name: "browse".into(),
                    steps: vec![0, 1, 1],
                    weight: 3,
                    think: None,
                },
                SessionSpec {
                    name: "find".into(),
                    steps: vec![2, 1],
                    weight: 1,
                    think: None,
                },
            ],
            ..LoadConfig::new(url::Url::parse("http://127.0.0.1:1/").unwrap())
        };
        let plan = Plan::new(&cfg, "h").unwrap();
        let mut rng = Rng::new(11);
        let mut at = None;
        let (mut browse, mut find) = (0u32, 0u32);
        let mut sent = Vec::new();
        for _ in 0..4_000 {
            // Each session runs to its end before the next begins.
            match plan.next_step(&mut at, &mut rng).request {
                0 => {
                    browse += 1;
                    sent.push(0);
                    for want in [1, 1] {
                        assert_eq!(plan.next_step(&mut at, &mut rng).request, want);
                    }
                }
                2 => {
                    find += 1;
                    assert_eq!(plan.next_step(&mut at, &mut rng).request, 1);
                }
                other => panic!("a session began with step {other}"),
            }
        }
        let share = f64::from(browse) / f64::from(browse + find);
        assert!((0.72..0.78).contains(&share), "{share}");
        assert!(!sent.is_empty());
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
        let mut rng = Rng::new(7);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[plan.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[2], 0);
        let share = f64::from(counts[0]) / 40_000.0;
        assert!((0.72..0.78).contains(&share), "{share}");
    }
}
