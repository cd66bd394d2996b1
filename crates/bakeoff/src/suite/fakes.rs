//! Test fakes for the suite's traits: a synthetic server model (a sharp knee or
//! an M/M/1 queue), a launcher whose contenders can fail to start or crash, and
//! a sampler. Time passes through tokio's clock, so tests run with paused time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::model::Percentiles;

/// How a synthetic server answers a given open-loop rate.
#[derive(Debug, Clone)]
pub struct ServerModel {
    /// Capacity at a 100 ms p99 SLO, by construction.
    pub capacity: f64,
    queue: bool,
    noise: f64,
    seed: u64,
    errors_above: Option<(f64, f64)>,
    generator_limit: Option<f64>,
    /// Multiplies the reported in-flight count (1.0 = consistent with Little's law).
    pub in_flight_skew: f64,
}

impl ServerModel {
    /// p99 5 ms up to `capacity`, 10 s beyond; throughput capped at `capacity`.
    pub fn knee(capacity: f64) -> Self {
        ServerModel {
            capacity,
            queue: false,
            noise: 0.0,
            seed: 1,
            errors_above: None,
            generator_limit: None,
            in_flight_skew: 1.0,
        }
    }

    /// M/M/1: p99 = ln(100) / (μ − λ), with μ chosen so p99 = 100 ms at `capacity`.
    pub fn mm1(capacity: f64) -> Self {
        ServerModel {
            queue: true,
            ..ServerModel::knee(capacity)
        }
    }

    /// Each window sees the capacity scaled by a uniform factor in 1 ± `frac`.
    pub fn with_noise(mut self, frac: f64, seed: u64) -> Self {
        self.noise = frac;
        self.seed = seed;
        self
    }

    pub fn with_errors_above(mut self, rate: f64, frac: f64) -> Self {
        self.errors_above = Some((rate, frac));
        self
    }

    pub fn with_generator_limit(mut self, rate: f64) -> Self {
        self.generator_limit = Some(rate);
        self
    }

    fn window(&mut self, rate: f64, secs: f64) -> WindowResult {
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = ((self.seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0;
        let cap = self.capacity * (1.0 + self.noise * u);
        let (p99_s, throughput) = if self.queue {
            let mu = cap + 100f64.ln() / 0.1;
            if rate < mu {
                (100f64.ln() / (mu - rate), rate)
            } else {
                (10.0, mu)
            }
        } else if rate <= cap {
            (0.005, rate)
        } else {
            (10.0, cap)
        };
        let mut achieved = throughput;
        let mut valid = true;
        if let Some(g) = self.generator_limit {
            if rate > g {
                valid = false;
                achieved = achieved.min(g);
            }
        }
        let requests = (achieved * secs).round() as u64;
        let errors = match self.errors_above {
            Some((r, f)) if rate > r => (requests as f64 * f).ceil() as u64,
            _ => 0,
        };
        let p99 = p99_s * 1000.0;
        let mean = p99 / 4.0;
        let pct = Percentiles {
            p50: mean,
            p90: p99 / 2.0,
            p99,
            p999: p99 * 1.5,
            p9999: p99 * 2.0,
            max: p99 * 3.0,
            mean,
        };
        WindowResult {
            target_rps: rate,
            achieved_rps: achieved,
            requests,
            errors,
            latency: pct,
            service: pct,
            light: None,
            spectrum: vec![[50.0, pct.p50], [99.0, pct.p99]],
            service_spectrum: vec![[50.0, pct.p50], [99.0, pct.p99]],
            timeline: vec![],
            mean_in_flight: achieved * mean / 1000.0 * self.in_flight_skew,
            histograms: vec![("latency".into(), vec![1, 2, 3])],
            generator_valid: valid,
            generator_note: (!valid).then(|| "fell behind its schedule".into()),
        }
    }
}

/// One fake contender's behaviour and state.
#[derive(Debug, Clone)]
pub struct FakeContender {
    pub model: ServerModel,
    pub fail_launch: bool,
    /// Crash while serving this many-th window (1-based), counted over its life.
    pub crash_at_window: Option<u32>,
    pub windows: u32,
    pub alive: bool,
}

impl FakeContender {
    pub fn new(model: ServerModel) -> Self {
        FakeContender {
            model,
            fail_launch: false,
            crash_at_window: None,
            windows: 0,
            alive: false,
        }
    }
}

/// A driven window, for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowLog {
    pub contender: String,
    pub workload: Option<Workload>,
    pub rate: f64,
    pub purpose: Option<WindowPurpose>,
    pub warmup: Warmup,
}

#[derive(Debug, Default)]
pub struct World {
    pub contenders: BTreeMap<String, FakeContender>,
    pub launches: Vec<(String, u32)>,
    pub stops: u32,
    pub windows: Vec<WindowLog>,
    pub ws_clients_seen: u32,
}

pub type SharedWorld = Arc<Mutex<World>>;

pub fn world(contenders: Vec<(&str, FakeContender)>) -> SharedWorld {
    Arc::new(Mutex::new(World {
        contenders: contenders
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect(),
        ..World::default()
    }))
}

/// The contender name is the URL's host: `http://NAME`.
fn name_of(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// Drives a [`ServerModel`], sleeping the window's length on tokio's clock.
pub struct FakeDriver {
    world: SharedWorld,
}

impl FakeDriver {
    /// A driver for one server at `http://fake`.
    pub fn new(model: ServerModel) -> Self {
        let mut c = FakeContender::new(model);
        c.alive = true;
        FakeDriver {
            world: world(vec![("fake", c)]),
        }
    }

    pub fn on(world: SharedWorld) -> Self {
        FakeDriver { world }
    }

    pub fn windows(&self) -> usize {
        self.world.lock().unwrap().windows.len()
    }

    /// Count the window and apply a crash; the error a dead server gives.
    fn enter(&self, log: WindowLog) -> Result<(), DriveError> {
        let mut w = self.world.lock().unwrap();
        let name = log.contender.clone();
        w.windows.push(log);
        let c = w
            .contenders
            .get_mut(&name)
            .ok_or_else(|| DriveError::Failed(format!("no fake contender {name}")))?;
        if !c.alive {
            return Err(DriveError::Failed("connection refused".into()));
        }
        c.windows += 1;
        if c.crash_at_window == Some(c.windows) {
            c.alive = false;
            return Err(DriveError::Failed("connection reset by peer".into()));
        }
        Ok(())
    }
}

async fn sleep_or_cancel(d: Duration, cancel: &CancellationToken) -> Result<(), DriveError> {
    tokio::select! {
        _ = tokio::time::sleep(d) => Ok(()),
        _ = cancel.cancelled() => Err(DriveError::Cancelled),
    }
}

impl Driver for FakeDriver {
    fn http_window<'a>(
        &'a self,
        spec: &'a WindowSpec,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<WindowResult, DriveError>> {
        async move {
            let name = name_of(&spec.base_url);
            self.enter(WindowLog {
                contender: name.clone(),
                workload: Some(spec.workload),
                rate: spec.rate,
                purpose: Some(spec.purpose),
                warmup: spec.warmup,
            })?;
            sleep_or_cancel(spec.warmup.max() + spec.duration, cancel).await?;
            let mut w = self.world.lock().unwrap();
            let c = w.contenders.get_mut(&name).expect("entered");
            let mut r = c.model.window(spec.rate, spec.duration.as_secs_f64());
            if spec.workload == Workload::CpuMixed {
                r.light = Some(Percentiles {
                    p99: r.latency.p99 / 2.0,
                    ..r.latency
                });
            }
            Ok(r)
        }
        .boxed()
    }

    fn ws_window<'a>(
        &'a self,
        spec: &'a WsSpec,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<WsResult, DriveError>> {
        async move {
            self.enter(WindowLog {
                contender: name_of(&spec.base_url),
                workload: None,
                rate: spec.rate,
                purpose: None,
                warmup: Warmup::None,
            })?;
            self.world.lock().unwrap().ws_clients_seen = spec.clients;
            sleep_or_cancel(spec.duration, cancel).await?;
            let sent = (spec.rate * spec.duration.as_secs_f64()).round() as u64;
            let expected = sent * spec.clients as u64;
            Ok(WsResult {
                connected: spec.clients,
                sent,
                expected_deliveries: expected,
                deliveries: expected.saturating_sub(1),
                p50_ms: 1.0,
                p99_ms: 2.0 + spec.clients as f64 / 100.0,
            })
        }
        .boxed()
    }
}

pub struct FakeLauncher {
    world: SharedWorld,
    pub startup: Duration,
}

impl FakeLauncher {
    pub fn on(world: SharedWorld) -> Self {
        FakeLauncher {
            world,
            startup: Duration::from_millis(800),
        }
    }
}

struct FakeRunning {
    name: String,
    url: String,
    startup: Duration,
    world: SharedWorld,
}

impl RunningContender for FakeRunning {
    fn base_url(&self) -> &str {
        &self.url
    }
    fn processes(&self) -> ProcessSet {
        ProcessSet {
            pgid: Some(4242),
            pids: vec![4242],
        }
    }
    fn startup_time(&self) -> Duration {
        self.startup
    }
    fn exited(&mut self) -> Option<String> {
        let w = self.world.lock().unwrap();
        (!w.contenders[&self.name].alive).then(|| "exited with signal 9".to_string())
    }
    fn stop(self: Box<Self>) -> BoxFuture<'static, Result<(), LaunchError>> {
        let world = self.world.clone();
        let name = self.name.clone();
        async move {
            let mut w = world.lock().unwrap();
            w.stops += 1;
            if let Some(c) = w.contenders.get_mut(&name) {
                c.alive = false;
            }
            Ok(())
        }
        .boxed()
    }
}

impl Launcher for FakeLauncher {
    fn launch<'a>(
        &'a self,
        contender: &'a str,
        workers: u32,
        _cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Box<dyn RunningContender>, LaunchError>> {
        async move {
            tokio::time::sleep(self.startup).await;
            let mut w = self.world.lock().unwrap();
            w.launches.push((contender.to_string(), workers));
            let c = w
                .contenders
                .get_mut(contender)
                .ok_or_else(|| LaunchError(format!("unknown fake contender {contender}")))?;
            if c.fail_launch {
                return Err(LaunchError(format!(
                    "{contender} exited before it was healthy (exit status 1)"
                )));
            }
            c.alive = true;
            Ok(Box::new(FakeRunning {
                name: contender.to_string(),
                url: format!("http://{contender}"),
                startup: self.startup,
                world: self.world.clone(),
            }) as Box<dyn RunningContender>)
        }
        .boxed()
    }
}

/// 0.5 CPU-seconds per second sampled; 100 MB plus 10 kB per ws client seen.
pub struct FakeSampler {
    pub world: SharedWorld,
}

struct FakeSampling {
    started: tokio::time::Instant,
    world: SharedWorld,
}

impl Sampler for FakeSampler {
    fn start(&self, _target: &ProcessSet) -> Result<Box<dyn Sampling>, SampleError> {
        Ok(Box::new(FakeSampling {
            started: tokio::time::Instant::now(),
            world: self.world.clone(),
        }))
    }
}

impl Sampling for FakeSampling {
    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<ResourceUsage, SampleError>> {
        async move {
            let secs = self.started.elapsed().as_secs_f64();
            let clients = std::mem::take(&mut self.world.lock().unwrap().ws_clients_seen);
            let mem = 100_000_000 + clients as u64 * 10_000;
            Ok(ResourceUsage {
                cpu_seconds: secs * 0.5,
                mem_peak_bytes: mem + 1_000_000,
                mem_mean_bytes: mem,
                samples: 5,
                pss: true,
            })
        }
        .boxed()
    }
}
