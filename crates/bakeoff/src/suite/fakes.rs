//! Test fakes for the suite's traits: a driver that answers with a synthetic
//! server model ([`server_model`]: a sharp knee or an M/M/1 queue), a launcher
//! whose contenders can fail to start or crash, and a sampler. Time passes
//! through tokio's clock, so tests run with paused time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::model::Percentiles;

mod server_model;
pub(super) use server_model::*;

/// One fake contender's behaviour and state.
#[derive(Debug, Clone)]
pub(super) struct FakeContender {
    pub model: ServerModel,
    pub fail_launch: bool,
    /// Fail to start when given this database (a driver that cannot connect).
    pub fail_launch_on: Option<crate::database::Database>,
    /// Crash while serving this many-th window (1-based), counted over its life.
    pub crash_at_window: Option<u32>,
    pub windows: u32,
    pub alive: bool,
    /// The machine stalls this many equal-load windows (the warm-up's too)
    /// and ws points, the next ones it serves.
    pub stall_equal_load: u32,
    pub stall_ws: u32,
    /// The machine stalls every search and confirmation window.
    pub stall_search: bool,
}

impl FakeContender {
    pub(super) fn new(model: ServerModel) -> Self {
        FakeContender {
            model,
            fail_launch: false,
            fail_launch_on: None,
            crash_at_window: None,
            windows: 0,
            alive: false,
            stall_equal_load: 0,
            stall_ws: 0,
            stall_search: false,
        }
    }
}

/// A driven window, for assertions.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WindowLog {
    pub contender: String,
    pub workload: Option<Workload>,
    pub rate: f64,
    pub purpose: Option<WindowPurpose>,
    pub warmup: Warmup,
    pub database: Option<crate::database::Database>,
}

#[derive(Debug, Default)]
pub(super) struct World {
    pub contenders: BTreeMap<String, FakeContender>,
    pub launches: Vec<(String, u32)>,
    /// Whether each launch was given the dataset.
    pub with_data: Vec<bool>,
    /// The database each launch was given.
    pub on_database: Vec<crate::database::Database>,
    pub stops: u32,
    pub windows: Vec<WindowLog>,
    /// Bytes the running process holds above its 100 MB start: its
    /// high-water mark, as a real heap keeps the pages it grew to (HTTP load
    /// takes it to [`HTTP_HEAP`], ws clients to 10 kB each); a launch starts
    /// at 0.
    pub resident: u64,
    /// The drift probe's readings, one per call, in order; none: no probe.
    pub contender_speeds: std::collections::VecDeque<f64>,
    /// Its readings on the generator's core, likewise.
    pub generator_speeds: std::collections::VecDeque<f64>,
    /// The loopback probe's readings, likewise.
    pub loopback_speeds: std::collections::VecDeque<f64>,
    /// Every sampling fails to start, as on a process already gone.
    pub sampling_fails: bool,
}

pub(super) type SharedWorld = Arc<Mutex<World>>;

pub(super) fn world(contenders: Vec<(&str, FakeContender)>) -> SharedWorld {
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

/// Why the fakes' sampler could not sample (`World::sampling_fails`).
pub(super) const FAKE_UNSAMPLED: &str = "no process of the contender is running";

/// Why the fakes' machine stalled a window.
pub(super) const FAKE_STALL: &str = "5.0% of sends left late through the generator";

/// Drives a [`ServerModel`], sleeping the window's length on tokio's clock.
pub(super) struct FakeDriver {
    world: SharedWorld,
}

impl FakeDriver {
    /// A driver for one server at `http://fake`.
    pub(super) fn new(model: ServerModel) -> Self {
        let mut c = FakeContender::new(model);
        c.alive = true;
        FakeDriver {
            world: world(vec![("fake", c)]),
        }
    }

    pub(super) fn on(world: SharedWorld) -> Self {
        FakeDriver { world }
    }

    pub(super) fn windows(&self) -> usize {
        self.world.lock().unwrap().windows.len()
    }

    /// What each of the server's windows could really sustain at the tests'
    /// SLO, in order (see [`ServerModel::realized`]).
    pub(super) fn realized(&self) -> Vec<f64> {
        let w = self.world.lock().unwrap();
        w.contenders["fake"].model.realized(FAKE_SLO_MS)
    }

    /// Count the window and apply a crash; the error a dead server gives.
    fn enter(&self, log: WindowLog) -> Result<(), DriveError> {
        let mut w = self.world.lock().unwrap();
        let name = log.contender.clone();
        w.windows.push(log);
        let c = w
            .contenders
            .get_mut(&name)
            .ok_or_else(|| DriveError::failed(format!("no fake contender {name}")))?;
        if !c.alive {
            return Err(DriveError::failed("connection refused"));
        }
        c.windows += 1;
        if c.crash_at_window == Some(c.windows) {
            c.alive = false;
            return Err(DriveError::failed("connection reset by peer"));
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
                workload: Some(spec.workload.clone()),
                rate: spec.rate,
                purpose: Some(spec.purpose),
                warmup: spec.warmup,
                database: spec.database,
            })?;
            let mut r = {
                let mut w = self.world.lock().unwrap();
                w.resident = w.resident.max(HTTP_HEAP);
                let c = w.contenders.get_mut(&name).expect("entered");
                let mut r = c.model.window_abandoning(
                    spec.rate,
                    spec.warmup.max().as_secs_f64(),
                    spec.duration.as_secs_f64(),
                    FAKE_GRACE,
                    spec.purpose.abandons().then_some(FAKE_SLO_MS),
                );
                if spec.purpose == WindowPurpose::EqualLoad && c.stall_equal_load > 0 {
                    c.stall_equal_load -= 1;
                    r.stalled = Some(FAKE_STALL.into());
                }
                if spec.purpose.abandons() && c.stall_search {
                    r.stalled = Some(FAKE_STALL.into());
                }
                r
            };
            sleep_or_cancel(spec.warmup.max() + r.duration, cancel).await?;
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
                workload: Some(Workload::Ws),
                rate: spec.rate,
                purpose: spec.purpose,
                warmup: Warmup::None,
                database: None,
            })?;
            let stalled = {
                let mut w = self.world.lock().unwrap();
                w.resident = w.resident.max(u64::from(spec.clients) * WS_CLIENT_BYTES);
                let c = w
                    .contenders
                    .get_mut(&name_of(&spec.base_url))
                    .expect("entered");
                // `stall_ws` counts the points; a search's windows stall by `stall_search`.
                let stalled = match spec.purpose {
                    Some(_) => c.stall_search,
                    None => {
                        let stalled = c.stall_ws > 0;
                        c.stall_ws = c.stall_ws.saturating_sub(1);
                        stalled
                    }
                };
                stalled.then(|| FAKE_STALL.to_string())
            };
            sleep_or_cancel(spec.warmup + spec.duration, cancel).await?;
            // A room that fans out WS_FAKE_CEILING deliveries per second.
            let sent = (spec.rate * spec.duration.as_secs_f64()).round() as u64;
            let expected = sent * spec.clients as u64;
            let load = spec.rate * f64::from(spec.clients) / WS_FAKE_CEILING;
            let p99 = if load < 1.0 { 2.0 + 40.0 * load } else { 500.0 };
            Ok(WsResult {
                connected: spec.clients,
                sent,
                expected_deliveries: expected,
                deliveries: if load < 1.0 { expected } else { expected / 2 },
                delivered_in_window: if load < 1.0 { expected } else { expected / 2 },
                p50_ms: p99 / 2.0,
                p99_ms: p99,
                valid: true,
                stalled,
                ..WsResult::default()
            })
        }
        .boxed()
    }
}

pub(super) struct FakeLauncher {
    world: SharedWorld,
    pub startup: Duration,
}

impl FakeLauncher {
    pub(super) fn on(world: SharedWorld) -> Self {
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
        data: bool,
        database: crate::database::Database,
        _cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Box<dyn RunningContender>, LaunchError>> {
        async move {
            tokio::time::sleep(self.startup).await;
            let mut w = self.world.lock().unwrap();
            w.launches.push((contender.to_string(), workers));
            w.resident = 0;
            w.with_data.push(data);
            w.on_database.push(database);
            let c = w
                .contenders
                .get_mut(contender)
                .ok_or_else(|| LaunchError::new(format!("unknown fake contender {contender}")))?;
            if c.fail_launch || c.fail_launch_on == Some(database) {
                return Err(LaunchError::new(format!(
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

/// What HTTP load grows a fake process's heap to, and keeps.
pub(super) const HTTP_HEAP: u64 = 5_000_000;
/// What each ws client takes, while connected or after (see [`World::resident`]).
const WS_CLIENT_BYTES: u64 = 10_000;

/// 0.5 CPU-seconds per second sampled; memory 100 MB plus what the process
/// holds ([`World::resident`]), its peak 1 MB over that.
pub(super) struct FakeSampler {
    pub world: SharedWorld,
}

struct FakeSampling {
    started: tokio::time::Instant,
    world: SharedWorld,
}

impl Sampler for FakeSampler {
    fn start(&self, _target: &ProcessSet) -> Result<Box<dyn Sampling>, SampleError> {
        if self.world.lock().unwrap().sampling_fails {
            return Err(SampleError::new(FAKE_UNSAMPLED.to_string()));
        }
        Ok(Box::new(FakeSampling {
            started: tokio::time::Instant::now(),
            world: self.world.clone(),
        }))
    }

    fn core_speed(&self) -> Option<f64> {
        self.world.lock().unwrap().contender_speeds.pop_front()
    }

    fn generator_core_speed(&self) -> Option<f64> {
        self.world.lock().unwrap().generator_speeds.pop_front()
    }

    fn loopback_speed(&self) -> Option<f64> {
        self.world.lock().unwrap().loopback_speeds.pop_front()
    }
}

impl Sampling for FakeSampling {
    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<ResourceUsage, SampleError>> {
        async move {
            let secs = self.started.elapsed().as_secs_f64();
            let mem = 100_000_000 + self.world.lock().unwrap().resident;
            Ok(ResourceUsage {
                cpu_seconds: secs * 0.5,
                mem_peak_bytes: mem + 1_000_000,
                mem_mean_bytes: mem,
                samples: 5,
                pss: true,
                // No readings: the runner falls back to the whole span.
                cpu_timeline: Vec::new(),
            })
        }
        .boxed()
    }
}
