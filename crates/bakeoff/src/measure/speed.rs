//! The machine-drift probe: a fixed throughput-bound integer loop timed on one
//! core. The runner times it on the contender's core at the run's start and
//! around each capacity search, so a machine that slowed down (a busy
//! neighbour on the host's sibling hyperthread, a lower clock) is told apart
//! from a server that did. And the stall
//! probe ([`idle_stalls`]): how often an idle thread wakes late, which is the
//! share of a window's sends the machine itself would hold up, and what the
//! hypervisor took meanwhile.

use std::hint::black_box;
use std::time::{Duration, Instant};

use super::{set_affinity, MeasureError};

/// Loop iterations per timing: a few milliseconds on a current x86 core.
const ITERATIONS: u64 = 2_000_000;
/// Timings per probe; the median is kept, so one preemption does not count.
const ROUNDS: usize = 5;

/// Millions of loop iterations per second on `cpu` (anywhere if `None`): the
/// median of `ROUNDS` timings, on a thread of its own so the caller's
/// threads keep their pinning. About 20 ms.
pub fn core_speed(cpu: Option<usize>) -> Result<f64, MeasureError> {
    let probe = move || -> Result<f64, MeasureError> {
        if let Some(c) = cpu {
            // pid 0: the calling thread, this probe's own.
            set_affinity(0, &[c])?;
        }
        let mut times: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                black_box(spin(black_box(ITERATIONS)));
                t.elapsed()
            })
            .collect();
        times.sort_unstable();
        let median = times[ROUNDS / 2].as_secs_f64().max(1e-9);
        Ok(ITERATIONS as f64 / median / 1e6)
    };
    std::thread::scope(|s| {
        s.spawn(probe).join().unwrap_or_else(|_| {
            Err(MeasureError::Affinity(
                "the speed probe's thread panicked".into(),
            ))
        })
    })
}

/// What an idle thread saw over [`idle_stalls`]' span.
#[derive(Debug, Clone)]
pub struct IdleProbe {
    /// The share of its wake-ups that came late past the bar.
    pub held: f64,
    /// What the hypervisor took meanwhile (steal), the machine's and each CPU's.
    pub steal: bakeoff_load::StealShares,
}

/// 1 ms sleeps on `cpu` (anywhere if `None`) over `span`: the share that woke
/// more than `late` late (the stall rule's bar for a send,
/// `suite::live::stalled_after`), and the steal meanwhile. On an idle machine
/// no wake-up is that late; a hypervisor that holds vCPUs up for milliseconds
/// shows here, and a window then has as large a share of its sends late
/// through the machine, which the stall rule (more than 1%) voids, as it
/// voids a window with as much steal.
pub fn idle_stalls(
    cpu: Option<usize>,
    span: Duration,
    late: Duration,
) -> Result<IdleProbe, MeasureError> {
    let probe = move || -> Result<IdleProbe, MeasureError> {
        if let Some(c) = cpu {
            set_affinity(0, &[c])?;
        }
        let nap = Duration::from_millis(1);
        let (mut held, mut n) = (0u32, 0u32);
        let meter = bakeoff_load::StealMeter::start();
        let t0 = Instant::now();
        while t0.elapsed() < span {
            let t = Instant::now();
            std::thread::sleep(nap);
            n += 1;
            if t.elapsed() > nap + late {
                held += 1;
            }
        }
        Ok(IdleProbe {
            held: f64::from(held) / f64::from(n.max(1)),
            steal: meter.stop(),
        })
    };
    std::thread::scope(|s| {
        s.spawn(probe).join().unwrap_or_else(|_| {
            Err(MeasureError::Affinity(
                "the stall probe's thread panicked".into(),
            ))
        })
    })
}

/// Six interleaved chains of shifts, xors and adds: a throughput-bound loop,
/// as an interpreter's is. A busy neighbour on the core's sibling hyperthread
/// takes issue slots from it as it takes them from a server; a single
/// dependent chain (this probe until December 2026) leaves most slots idle and
/// hardly notices (timed beside a Python loop on this VM, its timings
/// correlated 0.1–0.2 with the Python loop's, this one's 0.75: docs/benchmarks.md
/// "How steady this machine is").
fn spin(n: u64) -> u64 {
    let (mut a, mut b, mut c, mut d, mut e, mut f) = (1u64, 2u64, 3u64, 4u64, 5u64, 6u64);
    for i in 0..n {
        a ^= a << 13;
        b ^= b >> 7;
        c ^= c << 17;
        d = d.wrapping_add(i);
        e ^= e >> 5;
        f = f.wrapping_add(a);
        a = a.wrapping_add(f);
        b ^= d;
        c = c.wrapping_add(e);
        e = e.wrapping_add(i);
    }
    a ^ b ^ c ^ d ^ e ^ f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_measures_a_positive_speed_on_an_allowed_core() {
        let cpu = crate::measure::allowed_cpus().unwrap().first().copied();
        let s = core_speed(cpu).unwrap();
        assert!(s.is_finite() && s > 1.0, "{s} M iterations/s");
    }

    #[test]
    fn a_core_that_does_not_exist_is_an_error() {
        assert!(core_speed(Some(100_000)).is_err());
        assert!(idle_stalls(
            Some(100_000),
            Duration::from_millis(10),
            Duration::from_millis(2)
        )
        .is_err());
    }

    #[test]
    fn the_stall_probe_gives_a_share() {
        let cpu = crate::measure::allowed_cpus().unwrap().first().copied();
        let s = idle_stalls(cpu, Duration::from_millis(50), Duration::from_millis(2)).unwrap();
        assert!((0.0..=1.0).contains(&s.held), "{s:?}");
        assert!(s.steal.wall >= Duration::from_millis(50), "{s:?}");
    }
}
