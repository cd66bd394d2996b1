//! The dedicated engine thread: CPU pinning, a current-thread runtime, and the
//! thread's own CPU time from `getrusage(RUSAGE_THREAD)`.

// getrusage(RUSAGE_THREAD) and sysconf have no safe wrapper on the hot path.
#![allow(unsafe_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use crate::bursts::BurstSampler;
use crate::LoadError;

/// CPU and wall time the engine thread used.
#[derive(Debug, Clone, Default)]
pub(crate) struct Usage {
    pub cpu: Duration,
    /// The hypervisor's take meanwhile; its `wall` is the thread's wall time.
    pub stolen: StealShares,
    /// Share of the pinned CPU's time it was busy meanwhile (anything but idle
    /// and steal: this thread, the kernel's network work for its sockets, and
    /// whatever else runs there).
    pub core_busy: Option<f64>,
}

/// What the run reads of /proc/stat at its start and end: the steal of the
/// whole machine and the pinned CPU's ticks, from one read of the file.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StatSnapshot {
    steal: Option<(Duration, usize)>,
    core: Option<(u64, u64)>,
}

impl StatSnapshot {
    fn parse(stat: &str, pin: Option<usize>) -> StatSnapshot {
        StatSnapshot {
            steal: parse_steal(stat),
            core: pin.and_then(|cpu| cpu_ticks(stat, cpu)),
        }
    }

    /// The machine's steal share and the pinned CPU's busy share from `self`
    /// to `end`, `wall` apart.
    pub(crate) fn shares(self, end: StatSnapshot, wall: Duration) -> (Option<f64>, Option<f64>) {
        let steal = match (self.steal, end.steal) {
            (Some((before, cpus)), Some((after, _))) if !wall.is_zero() => Some(
                after.saturating_sub(before).as_secs_f64() / (wall.as_secs_f64() * cpus as f64),
            ),
            _ => None,
        };
        let core_busy = match (self.core, end.core) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
                Some(b1.saturating_sub(b0) as f64 / (t1 - t0) as f64)
            }
            _ => None,
        };
        (steal, core_busy)
    }
}

/// What the hypervisor took (steal, from /proc/stat) over a span of time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StealShares {
    /// The span's length.
    pub wall: Duration,
    /// The machine's steal share, where the kernel reports it.
    pub machine: Option<f64>,
    /// Each CPU's steal share, indexed by CPU number (empty where the kernel
    /// reports none).
    pub cpus: Vec<f64>,
    /// Each CPU's most stolen time within one [`crate::bursts::SPAN`] of the span,
    /// indexed by CPU number (empty where none was read).
    pub bursts: Vec<Duration>,
}

/// Reads /proc/stat at a span's start and end: the hypervisor's take
/// meanwhile, and one CPU's busy share; and, on a thread of its own, each
/// slice between ([`crate::bursts`]). The engine thread's, and any caller's that
/// wants to know whether the machine was its own (a probe).
pub struct StealMeter {
    t0: Instant,
    stat: StatSnapshot,
    cpu_steal: Vec<u64>,
    pin: Option<usize>,
    bursts: Option<BurstSampler>,
}

impl StealMeter {
    /// Start a span now.
    pub fn start() -> StealMeter {
        Self::start_on(None)
    }

    /// Start a span now, also reading `pin`'s busy share.
    fn start_on(pin: Option<usize>) -> StealMeter {
        let text = read_stat();
        let cpu_steal = cpu_steal_ticks(&text);
        StealMeter {
            t0: Instant::now(),
            stat: StatSnapshot::parse(&text, pin),
            bursts: BurstSampler::start(cpu_steal.clone()),
            cpu_steal,
            pin,
        }
    }

    /// The steal since [`StealMeter::start`].
    pub fn stop(self) -> StealShares {
        self.finish().0
    }

    /// The steal since the start, and the pinned CPU's busy share.
    fn finish(self) -> (StealShares, Option<f64>) {
        let wall = self.t0.elapsed();
        let text = read_stat();
        let (machine, core_busy) = self.stat.shares(StatSnapshot::parse(&text, self.pin), wall);
        let cpus = cpu_steal_shares(&self.cpu_steal, &cpu_steal_ticks(&text), wall);
        let bursts = self.bursts.map(BurstSampler::finish).unwrap_or_default();
        (
            StealShares {
                wall,
                machine,
                cpus,
                bursts,
            },
            core_busy,
        )
    }
}

/// /proc/stat, or nothing where it cannot be read.
pub(crate) fn read_stat() -> String {
    std::fs::read_to_string("/proc/stat").unwrap_or_default()
}

/// One `cpu` row of /proc/stat: which CPU (`None` for the machine's total
/// row) and its first `N` tick columns (user nice system idle iowait irq
/// softirq steal …). The one reader of the file's rows; a row short of `N`
/// columns, or not a number, is none.
fn cpu_rows<const N: usize>(stat: &str) -> impl Iterator<Item = (Option<usize>, [u64; N])> + '_ {
    stat.lines().filter_map(|line| {
        let mut f = line.split_whitespace();
        let cpu = match f.next()?.strip_prefix("cpu")? {
            "" => None,
            n => Some(n.parse::<usize>().ok()?),
        };
        let mut ticks = [0u64; N];
        for t in &mut ticks {
            *t = f.next()?.parse().ok()?;
        }
        Some((cpu, ticks))
    })
}

/// Each CPU's steal ticks from /proc/stat, indexed by CPU number (a CPU
/// missing from the file, offline, reads 0).
pub(crate) fn cpu_steal_ticks(stat: &str) -> Vec<u64> {
    let mut ticks = Vec::new();
    for (cpu, row) in cpu_rows::<8>(stat) {
        let Some(cpu) = cpu else { continue };
        if ticks.len() <= cpu {
            ticks.resize(cpu + 1, 0);
        }
        ticks[cpu] = row[7];
    }
    ticks
}

/// Each CPU's steal share between two [`cpu_steal_ticks`] readings `wall` apart.
fn cpu_steal_shares(before: &[u64], after: &[u64], wall: Duration) -> Vec<f64> {
    let hz = rustix::param::clock_ticks_per_second() as f64;
    if hz <= 0.0 || wall.is_zero() || before.len() != after.len() {
        return Vec::new();
    }
    before
        .iter()
        .zip(after)
        .map(|(b, a)| (a.saturating_sub(*b) as f64 / hz / wall.as_secs_f64()).min(1.0))
        .collect()
}

/// (busy, busy + idle) ticks of one CPU from /proc/stat: busy is user, nice,
/// system, irq and softirq; idle is idle and iowait (steal is neither).
fn cpu_ticks(stat: &str, cpu: usize) -> Option<(u64, u64)> {
    let (_, [user, nice, system, idle, iowait, irq, softirq]) =
        cpu_rows::<7>(stat).find(|(n, _)| *n == Some(cpu))?;
    let busy = user + nice + system + irq + softirq;
    Some((busy, busy + idle + iowait))
}

/// The machine's total steal and its number of CPUs, from /proc/stat.
fn parse_steal(stat: &str) -> Option<(Duration, usize)> {
    let (_, total) = cpu_rows::<8>(stat).find(|(n, _)| n.is_none())?;
    let cpus = cpu_rows::<0>(stat).filter(|(n, _)| n.is_some()).count();
    let hz = rustix::param::clock_ticks_per_second();
    (hz > 0 && cpus > 0).then(|| (Duration::from_secs_f64(total[7] as f64 / hz as f64), cpus))
}

impl Usage {
    /// CPU use as a fraction of one core.
    pub(crate) fn cpu_fraction(&self) -> f64 {
        let wall = self.stolen.wall.as_secs_f64();
        if wall > 0.0 {
            self.cpu.as_secs_f64() / wall
        } else {
            0.0
        }
    }
}

/// User + system CPU time of the calling thread.
pub(crate) fn thread_cpu() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The engine thread's CPU, its core's busy share and the steal over part of
/// a run: [`WindowProbe::start`] on the engine thread, then
/// [`WindowProbe::finish`].
pub(crate) struct WindowProbe {
    cpu: Duration,
    meter: StealMeter,
}

/// What a [`WindowProbe`] read.
#[derive(Debug, Clone, Default)]
pub(crate) struct WindowUsage {
    /// The thread's CPU as a share of a core.
    pub(crate) cpu: f64,
    /// The pinned core's busy share.
    pub(crate) core_busy: Option<f64>,
    pub(crate) stolen: StealShares,
}

impl WindowProbe {
    pub(crate) fn start(pin: Option<usize>) -> WindowProbe {
        WindowProbe {
            cpu: thread_cpu(),
            meter: StealMeter::start_on(pin),
        }
    }

    pub(crate) fn finish(self) -> WindowUsage {
        let (stolen, core_busy) = self.meter.finish();
        let cpu = thread_cpu().saturating_sub(self.cpu).as_secs_f64()
            / stolen.wall.as_secs_f64().max(1e-9);
        WindowUsage {
            cpu,
            core_busy,
            stolen,
        }
    }
}

/// Restrict the calling thread to one CPU.
pub(crate) fn pin_current_thread(cpu: usize) -> std::io::Result<()> {
    use rustix::thread::CpuSet;
    if cpu >= CpuSet::MAX_CPU {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "CPU number out of range",
        ));
    }
    let mut set = CpuSet::new();
    set.set(cpu);
    Ok(rustix::thread::sched_setaffinity(None, &set)?)
}

/// Run `make()`'s future on a new OS thread with its own current-thread runtime
/// (and `LocalSet`, so tasks may be `!Send`), optionally pinned, and return its
/// output with the thread's CPU and wall time.
pub(crate) async fn on_engine_thread<T, F, Fut>(
    pin: Option<usize>,
    make: F,
) -> Result<(T, Usage), LoadError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, LoadError>> + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bakeoff-load".into())
        .spawn(move || {
            let out = (|| {
                if let Some(cpu) = pin {
                    pin_current_thread(cpu).map_err(|source| LoadError::Pin { cpu, source })?;
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| LoadError::engine("cannot start the runtime", e))?;
                let cpu0 = thread_cpu();
                let meter = StealMeter::start_on(pin);
                let local = tokio::task::LocalSet::new();
                let value = local.block_on(&rt, make())?;
                // Close sockets and timers before reading the clock, so they count.
                drop(local);
                drop(rt);
                let (stolen, core_busy) = meter.finish();
                let usage = Usage {
                    cpu: thread_cpu().saturating_sub(cpu0),
                    stolen,
                    core_busy,
                };
                Ok((value, usage))
            })();
            let _ = tx.send(out);
        })
        .map_err(|e| LoadError::engine("cannot start the load thread", e))?;
    rx.await.map_err(|_| LoadError::Engine {
        what: "the load thread stopped unexpectedly".into(),
        source: None,
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_failures_keep_the_system_error() {
        use std::error::Error as _;
        let e = LoadError::engine(
            "cannot start the load thread",
            std::io::Error::other("EAGAIN"),
        );
        assert_eq!(
            e.to_string(),
            "load engine failure: cannot start the load thread"
        );
        assert_eq!(e.source().map(|s| s.to_string()).as_deref(), Some("EAGAIN"));
    }

    /// Two CPUs of a VM's /proc/stat (user nice system idle iowait irq softirq steal …).
    const STAT: &str = "cpu  2133035 46845 337093 1242513 27354 0 45850 96927 0 0\n\
                        cpu0 1019136 22882 165884 678833 9746 0 20405 47997 0 0\n\
                        cpu1 1113899 23963 171209 563679 17608 0 25445 48930 0 0\n\
                        intr 1 2 3\n";

    #[test]
    fn one_cpus_busy_and_total_ticks() {
        let busy = 1019136 + 22882 + 165884 + 20405;
        assert_eq!(cpu_ticks(STAT, 0), Some((busy, busy + 678833 + 9746)));
        let busy = 1113899 + 23963 + 171209 + 25445;
        assert_eq!(cpu_ticks(STAT, 1), Some((busy, busy + 563679 + 17608)));
        assert_eq!(cpu_ticks(STAT, 2), None);
        assert_eq!(cpu_ticks("cpu0 1 2\n", 0), None);
    }

    #[test]
    fn thread_cpu_grows_with_work() {
        let before = thread_cpu();
        let mut x = 0u64;
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        assert!(thread_cpu() > before);
    }

    #[test]
    fn steal_is_read_from_the_total_line_over_the_cpus() {
        let (steal, cpus) = parse_steal(STAT).unwrap();
        // SAFETY: sysconf has no memory-safety preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        assert_eq!(cpus, 2);
        assert!((steal.as_secs_f64() - 96927.0 / hz).abs() < 1e-6);
        assert!(parse_steal("cpu  1 2 3\n").is_none(), "no steal column");
        assert!(
            StatSnapshot::parse(&read_stat(), None).steal.is_some(),
            "this kernel reports steal"
        );
    }

    #[test]
    fn each_cpus_steal_is_read_by_its_number() {
        assert_eq!(cpu_steal_ticks(STAT), vec![47997, 48930]);
        // A gap in the numbering (an offline CPU) keeps the indices.
        let gap = "cpu  1 1 1 1 1 1 1 9\ncpu0 1 1 1 1 1 1 1 4\ncpu2 1 1 1 1 1 1 1 5\n";
        assert_eq!(cpu_steal_ticks(gap), vec![4, 0, 5]);
        assert!(
            cpu_steal_ticks("cpu0 1 2 3\n").is_empty(),
            "no steal column"
        );
        let hz = rustix::param::clock_ticks_per_second() as f64;
        let shares = cpu_steal_shares(&[0, 0], &[0, (hz / 10.0) as u64], Duration::from_secs(1));
        assert_eq!(shares[0], 0.0);
        assert!((shares[1] - 0.1).abs() < 0.02, "{shares:?}");
        assert!(cpu_steal_shares(&[0], &[1, 2], Duration::from_secs(1)).is_empty());
    }

    #[test]
    fn pinning_rejects_out_of_range_cpu() {
        assert!(pin_current_thread(100_000).is_err());
    }
}
