//! Resource measurement from `/proc`: the real [`Sampler`] (CPU seconds and memory
//! of a contender's process group over a window, and the machine-drift probe of
//! [`speed`]), the environment probe, CPU pinning, and `bakeoff machine`'s
//! [`survey`] of how steady the machine is.
//!
//! - CPU: the scheduler's nanoseconds of every member of the process group (and
//!   any explicit pids), summed over each one's threads (`schedstat`); where the
//!   kernel has no schedstat, utime + stime in clock ticks (10 ms). The window's
//!   figure is the sum over processes of last − first reading. A process's
//!   first reading is its baseline, so time a worker used before it was first
//!   seen, or after its last sample, is not counted; nor is a thread's that
//!   exited between two readings of the nanosecond count.
//! - Memory: PSS from `smaps_rollup` where the kernel has it (forked workers share
//!   pages; summing RSS would count them once per worker), else VmRSS. Sampled
//!   every [`DEFAULT_INTERVAL`] on a background task; peak and mean of the sums.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::model::{ProbeSite, Wakeups};
use crate::suite::{ProcessSet, ResourceUsage, SampleError, Sampler, Sampling};

pub mod env;
pub mod procfs;
pub mod speed;
pub mod survey;

pub use env::{
    allowed_cpus, available_cores, pin_processes, probe_environment, set_affinity, PinLayout,
};
pub use procfs::MemKind;

pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, thiserror::Error)]
pub enum MeasureError {
    #[error("CPU affinity: {0}")]
    Affinity(String),
    /// The loopback probe's socket failed (shared, so the error stays `Clone`).
    #[error("the loopback probe's socket")]
    Loopback(#[source] std::sync::Arc<std::io::Error>),
    /// A probe's thread panicked (named: "speed", "loopback", "stall"); a bug
    /// in bakeoff, not the machine.
    #[error("the {0} probe's thread panicked")]
    ProbePanicked(&'static str),
}

/// The real sampler over `/proc`.
#[derive(Debug, Clone)]
pub struct ProcSampler {
    pub interval: Duration,
    /// The contender's core, where the drift probe runs (`None`: unpinned).
    pub probe_cpu: Option<usize>,
    /// The generator's core, which the drift probe reads too (`None`:
    /// unpinned, not read).
    pub generator_cpu: Option<usize>,
    /// Also sample every child of the target's pids, wherever its process
    /// group: PostgreSQL's backends each lead their own session.
    pub children: bool,
}

impl Default for ProcSampler {
    fn default() -> Self {
        ProcSampler {
            interval: DEFAULT_INTERVAL,
            probe_cpu: None,
            generator_cpu: None,
            children: false,
        }
    }
}

/// The pids of a process set that exist now, each once.
pub fn members(target: &ProcessSet) -> Vec<u32> {
    let mut pids: Vec<u32> = target
        .pgid
        .map(procfs::group_members)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.pid)
        .collect();
    pids.extend(
        target
            .pids
            .iter()
            .copied()
            .filter(|&p| std::path::Path::new(&format!("/proc/{p}")).exists()),
    );
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The children (by parent pid) of `parents` that exist now.
pub fn children_of(parents: &[u32]) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(procfs::read_stat)
        .filter(|s| parents.contains(&s.ppid))
        .map(|s| s.pid)
        .collect()
}

/// A process's CPU time so far, in nanoseconds, and whether it is the
/// scheduler's (else clock ticks): a process keeps the source of its first
/// reading, so last − first never mixes the two.
#[derive(Debug, Clone, Copy)]
struct CpuReading {
    ns: u64,
    precise: bool,
}

impl CpuReading {
    /// The process's CPU time: from its threads' schedstat where the kernel has
    /// it (`precise`: `None` at the first reading, then the first's source),
    /// else from `stat`'s `ticks`. `threads` holds each thread's last reading:
    /// one that exited keeps it, since its time was the process's (anyio ends
    /// FastAPI's idle pool threads after 10 s: summed over live threads alone,
    /// a window they left read their whole lives' CPU off the process's).
    fn read(
        pid: u32,
        ticks: u64,
        precise: Option<bool>,
        threads: &mut HashMap<u32, u64>,
    ) -> Option<CpuReading> {
        let from_ticks = CpuReading {
            ns: (ticks as f64 * 1e9 / procfs::clock_ticks()) as u64,
            precise: false,
        };
        let mut from_threads = || {
            threads.extend(procfs::read_thread_cpu_ns(pid)?);
            Some(CpuReading {
                ns: threads.values().sum(),
                precise: true,
            })
        };
        match precise {
            Some(false) => Some(from_ticks),
            Some(true) => from_threads(),
            None => Some(from_threads().unwrap_or(from_ticks)),
        }
    }
}

#[derive(Debug, Default)]
struct Acc {
    first_cpu: HashMap<u32, CpuReading>,
    last_cpu: HashMap<u32, u64>,
    /// Each process's threads' last CPU readings (see [`CpuReading::read`]).
    threads: HashMap<u32, HashMap<u32, u64>>,
    mem: Vec<u64>,
    all_pss: bool,
    children: bool,
    /// (when, CPU seconds since the first reading) at each sample.
    cpu_timeline: Vec<(std::time::Instant, f64)>,
}

impl Acc {
    fn sample(&mut self, target: &ProcessSet) -> usize {
        let mut pids = members(target);
        if self.children {
            pids.extend(children_of(&target.pids));
            pids.sort_unstable();
            pids.dedup();
        }
        let mut total = 0;
        let mut seen = 0;
        for pid in pids {
            let Some(stat) = procfs::read_stat(pid) else {
                continue;
            };
            seen += 1;
            let source = self.first_cpu.get(&pid).map(|r| r.precise);
            let threads = self.threads.entry(pid).or_default();
            if let Some(r) = CpuReading::read(pid, stat.cpu_ticks, source, threads) {
                self.first_cpu.entry(pid).or_insert(r);
                self.last_cpu.insert(pid, r.ns);
            }
            if let Some((bytes, kind)) = procfs::read_memory(pid) {
                total += bytes;
                self.all_pss &= kind == MemKind::Pss;
            }
        }
        if seen > 0 {
            self.mem.push(total);
        }
        let now = std::time::Instant::now();
        self.cpu_timeline.push((now, self.cpu_ns() as f64 / 1e9));
        seen
    }

    /// CPU nanoseconds since each process's first reading, summed.
    fn cpu_ns(&self) -> u64 {
        self.last_cpu
            .iter()
            .map(|(pid, last)| last.saturating_sub(self.first_cpu[pid].ns))
            .sum()
    }

    fn usage(&self) -> ResourceUsage {
        let ns = self.cpu_ns();
        let n = self.mem.len().max(1) as u64;
        ResourceUsage {
            cpu_seconds: ns as f64 / 1e9,
            mem_peak_bytes: self.mem.iter().copied().max().unwrap_or(0),
            mem_mean_bytes: self.mem.iter().sum::<u64>() / n,
            samples: self.mem.len() as u32,
            pss: self.all_pss && !self.mem.is_empty(),
            cpu_timeline: self.cpu_timeline.clone(),
        }
    }
}

struct ProcSampling {
    stop: CancellationToken,
    task: JoinHandle<Acc>,
    target: ProcessSet,
}

impl Sampler for ProcSampler {
    fn start(&self, target: &ProcessSet) -> Result<Box<dyn Sampling>, SampleError> {
        Ok(Box::new(self.begin(target)?))
    }

    fn core_speed(&self) -> Option<f64> {
        speed::core_speed(self.probe_cpu).ok()
    }

    fn generator_core_speed(&self) -> Option<f64> {
        speed::core_speed(Some(self.generator_cpu?)).ok()
    }

    fn loopback_speed(&self) -> Option<f64> {
        speed::loopback_speed(self.probe_cpu, self.generator_cpu).ok()
    }

    fn idle_wakeups(&self, site: ProbeSite, span: Duration, late: Duration) -> Option<Wakeups> {
        let cpu = match site {
            ProbeSite::ContenderCore => self.probe_cpu,
            ProbeSite::GeneratorCore => Some(self.generator_cpu?),
            ProbeSite::Loopback => return None,
        };
        Some(speed::idle_stalls(cpu, span, late).ok()?.wakeups)
    }
}

impl ProcSampler {
    fn begin(&self, target: &ProcessSet) -> Result<ProcSampling, SampleError> {
        let mut acc = Acc {
            all_pss: true,
            children: self.children,
            ..Acc::default()
        };
        if acc.sample(target) == 0 {
            return Err(SampleError::new(format!(
                "no process of the contender is running (group {:?}, pids {:?})",
                target.pgid, target.pids
            )));
        }
        let stop = CancellationToken::new();
        let (t, s, every) = (target.clone(), stop.clone(), self.interval);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await; // the first tick is immediate; we sampled already
            loop {
                tokio::select! {
                    _ = tick.tick() => { acc.sample(&t); }
                    _ = s.cancelled() => return acc,
                }
            }
        });
        Ok(ProcSampling {
            stop,
            task,
            target: target.clone(),
        })
    }
}

/// A sampling dropped without `finish` (an early return) stops its task.
impl Drop for ProcSampling {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Sampling for ProcSampling {
    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<ResourceUsage, SampleError>> {
        async move {
            let mut this = self;
            this.stop.cancel();
            let mut acc = (&mut this.task)
                .await
                .map_err(|e| SampleError::caused("sampling task failed", e))?;
            acc.sample(&this.target);
            Ok(acc.usage())
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};

    /// Kills the child's whole process group on drop, so a failing test orphans nothing.
    struct Group(Child);

    impl Drop for Group {
        fn drop(&mut self) {
            // Errors (already gone) are fine.
            let _ = crate::contender::procs::signal_group(
                self.0.id(),
                crate::contender::procs::Signal::KILL,
            );
            let _ = self.0.wait();
        }
    }

    fn spawn_group(script: &str) -> Group {
        Group(
            Command::new("sh")
                .args(["-c", script])
                .process_group(0)
                .spawn()
                .expect("spawn sh"),
        )
    }

    #[tokio::test]
    async fn finds_forked_members_of_a_process_group() {
        let g = spawn_group("sleep 30 & sleep 30 & wait");
        let pgid = g.0.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut found = Vec::new();
        while std::time::Instant::now() < deadline {
            found = members(&ProcessSet {
                pgid: Some(pgid),
                pids: vec![],
            });
            if found.len() >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(found.len() >= 3, "sh + 2 sleeps, got {found:?}");
        assert!(found.contains(&pgid));
        assert!(!found.contains(&std::process::id()));
    }

    /// `g`'s process group sampled every 50 ms for `span`.
    async fn sampled_for(g: &Group, span: Duration) -> ResourceUsage {
        let target = ProcessSet {
            pgid: Some(g.0.id()),
            pids: vec![],
        };
        let sampler = ProcSampler {
            interval: Duration::from_millis(50),
            ..ProcSampler::default()
        };
        let s = sampler.start(&target).unwrap();
        tokio::time::sleep(span).await;
        s.finish().await.unwrap()
    }

    #[tokio::test]
    async fn samples_cpu_and_memory_of_a_busy_child() {
        let g = spawn_group("while :; do :; done");
        let u = sampled_for(&g, Duration::from_millis(800)).await;
        // A busy loop on a shared 2-core machine still gets a good share of 0.8 s.
        assert!(u.cpu_seconds > 0.1 && u.cpu_seconds < 2.0, "{u:?}");
        assert!(u.samples >= 5, "{u:?}");
        assert!(
            u.mem_peak_bytes > 0 && u.mem_mean_bytes <= u.mem_peak_bytes,
            "{u:?}"
        );
        assert!(u.mem_peak_bytes < 512 * 1024 * 1024, "{u:?}");
        // The timeline: a reading per sample, rising, ending at the total.
        let tl = &u.cpu_timeline;
        assert!(tl.len() >= 5, "{tl:?}");
        assert!(tl.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        assert!((tl.last().unwrap().1 - u.cpu_seconds).abs() < 1e-9);
        let (from, to) = (tl[1].0, tl[tl.len() - 2].0);
        let inner = u.cpu_seconds_over(from, to - from).unwrap();
        assert!(
            inner > 0.0 && inner < u.cpu_seconds,
            "{inner} of {}",
            u.cpu_seconds
        );
    }

    /// A thread that exits keeps the CPU it ran: a thread spinning 0.6 s then
    /// ending (as anyio ends FastAPI's idle pool threads) is the process's
    /// time. Summed over the live threads alone, the process's total fell by
    /// its whole life when it left, and the window read about nothing.
    #[tokio::test]
    async fn a_thread_that_exits_keeps_its_cpu() {
        let script = "import threading, time\n\
                      def spin():\n    t = time.monotonic()\n    while time.monotonic() - t < 0.6: pass\n\
                      time.sleep(0.2)\n\
                      th = threading.Thread(target=spin); th.start(); th.join()\n\
                      time.sleep(30)\n";
        let g = Group(
            Command::new("python3")
                .args(["-c", script])
                .process_group(0)
                .spawn()
                .expect("spawn python3"),
        );
        let u = sampled_for(&g, Duration::from_millis(1200)).await;
        assert!(u.cpu_seconds > 0.2, "{u:?}");
    }

    /// The scheduler's nanoseconds, not 10 ms ticks: a child that sleeps and
    /// wakes (as a server does; the kernel updates a task's runtime when it
    /// switches, and at its own tick for one that never does) has a CPU over
    /// a few short windows that is almost never a whole number of ticks.
    #[tokio::test]
    async fn cpu_time_is_finer_than_a_clock_tick() {
        let g = spawn_group(
            "exec python3 -c 'import time\nwhile True:\n sum(range(2000)); time.sleep(0.0003)'",
        );
        let target = ProcessSet {
            pgid: Some(g.0.id()),
            pids: vec![],
        };
        let tick = 1.0 / procfs::clock_ticks();
        // Readings in which the child ran at all (a loaded machine may not
        // run it for 37 ms): with ticks each is a whole number of them.
        let (mut ran, mut off_tick) = (0, 0);
        for _ in 0..40 {
            let s = ProcSampler::default().start(&target).unwrap();
            tokio::time::sleep(Duration::from_millis(37)).await;
            let u = s.finish().await.unwrap();
            if u.cpu_seconds > 0.0 {
                ran += 1;
                let frac = (u.cpu_seconds / tick).fract();
                off_tick += usize::from(frac > 0.01 && frac < 0.99);
            }
            if ran == 5 {
                break;
            }
        }
        assert!(ran >= 3, "the busy child ran in only {ran} of 40 readings");
        assert!(
            off_tick + 1 >= ran,
            "{off_tick} of {ran} readings off a tick"
        );
    }

    #[test]
    fn a_process_keeps_the_source_of_its_first_reading() {
        let me = std::process::id();
        let precise = CpuReading::read(me, 7, None, &mut HashMap::new()).unwrap();
        assert!(precise.precise, "this kernel has schedstat");
        let ticks = CpuReading::read(me, 7, Some(false), &mut HashMap::new()).unwrap();
        assert!(!ticks.precise);
        assert_eq!(ticks.ns, (7.0 * 1e9 / procfs::clock_ticks()) as u64);
    }

    #[tokio::test]
    async fn children_are_found_by_parent_in_any_group() {
        // The child leads its own session, as a PostgreSQL backend does.
        let g = spawn_group("setsid sleep 30 & wait");
        let parent = g.0.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut kids = Vec::new();
        while kids.is_empty() && std::time::Instant::now() < deadline {
            kids = children_of(&[parent]);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(kids.len(), 1, "{kids:?}");
        let in_group = members(&ProcessSet {
            pgid: Some(parent),
            pids: vec![],
        });
        assert!(!in_group.contains(&kids[0]), "setsid left the group");
        crate::contender::procs::signal_pids(&kids[..1], crate::contender::procs::Signal::KILL);
    }

    #[tokio::test]
    async fn an_idle_child_uses_almost_no_cpu() {
        let g = spawn_group("sleep 30");
        let target = ProcessSet {
            pgid: None,
            pids: vec![g.0.id()],
        };
        let s = ProcSampler::default().start(&target).unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let u = s.finish().await.unwrap();
        assert!(u.cpu_seconds <= 0.02, "{u:?}");
    }

    #[tokio::test]
    async fn dropping_a_sampling_stops_its_task() {
        let target = ProcessSet {
            pgid: None,
            pids: vec![std::process::id()],
        };
        let s = ProcSampler::default().begin(&target).unwrap();
        let stop = s.stop.clone();
        assert!(!stop.is_cancelled());
        drop(s);
        assert!(stop.is_cancelled());
    }

    #[tokio::test]
    async fn a_missing_process_is_an_error() {
        let target = ProcessSet {
            pgid: Some(u32::MAX - 7),
            pids: vec![u32::MAX - 7],
        };
        let e = ProcSampler::default().start(&target).err().unwrap();
        assert!(e.to_string().contains("no process"), "{e}");
    }
}
