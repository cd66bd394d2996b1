//! The machine-drift probe: a fixed throughput-bound integer loop timed on one
//! core. The runner times it on the contender's core at the run's start and
//! around each capacity search, so a machine that slowed down (a busy
//! neighbour on the host's sibling hyperthread, a lower clock) is told apart
//! from a server that did. And the stall
//! probe ([`idle_stalls`]): how often an idle thread wakes late, which is the
//! share of a window's sends the machine itself would hold up, and what the
//! hypervisor took meanwhile. And the loopback probe ([`loopback_speed`]):
//! small messages echoed between the two cores over loopback TCP, the path
//! every measured request takes, which the integer loop does not see slow.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{set_affinity, MeasureError};
use crate::model::Wakeups;

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
        s.spawn(probe)
            .join()
            .unwrap_or(Err(MeasureError::ProbePanicked("speed")))
    })
}

/// Round trips per timing of the loopback probe: a few milliseconds.
const ROUND_TRIPS: u32 = 400;
/// Untimed round trips first: the connection's and the caches' warm-up.
const WARM_ROUND_TRIPS: u32 = 200;
/// The longest the loopback probe waits for one echo: a machine that stalls
/// this long reads as no reading, never as a hang.
const ECHO_TIMEOUT: Duration = Duration::from_secs(1);

/// Thousands of round trips per second of a 32-byte message over loopback
/// TCP, echoed by a thread on `server_cpu` to one on `client_cpu` (anywhere
/// where `None`): the median of `ROUNDS` timings. 2,200 round trips: about
/// 27 ms at the 82 k/s it read at its fastest, 70 ms at 31 k/s under steal.
///
/// The integer loop of [`core_speed`] runs from the core's own caches; what
/// moved every server's capacity by a quarter on the shared VM this was built
/// on did not touch it, while this probe's round-trip time moved with the
/// servers' throughput, about one for one (docs/benchmarks.md, "Thirty-fourth
/// pass"). It crosses what a request crosses: the kernel's TCP stack, a wake-up
/// on the other core, and the memory between them.
pub fn loopback_speed(
    server_cpu: Option<usize>,
    client_cpu: Option<usize>,
) -> Result<f64, MeasureError> {
    let io = |e: std::io::Error| MeasureError::Loopback(Arc::new(e));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io)?;
    let addr = listener.local_addr().map_err(io)?;
    let total = WARM_ROUND_TRIPS + ROUND_TRIPS * ROUNDS as u32;
    let echo = move || -> Result<(), MeasureError> {
        if let Some(c) = server_cpu {
            set_affinity(0, &[c])?;
        }
        let mut s = accept_within(&listener, ECHO_TIMEOUT).map_err(io)?;
        prepare(&s).map_err(io)?;
        let mut msg = [0u8; 32];
        for _ in 0..total {
            s.read_exact(&mut msg).map_err(io)?;
            s.write_all(&msg).map_err(io)?;
        }
        Ok(())
    };
    let client = move || -> Result<f64, MeasureError> {
        if let Some(c) = client_cpu {
            set_affinity(0, &[c])?;
        }
        let mut s = TcpStream::connect_timeout(&addr, ECHO_TIMEOUT).map_err(io)?;
        prepare(&s).map_err(io)?;
        let mut msg = [7u8; 32];
        let mut trip = |n: u32| -> Result<(), MeasureError> {
            for _ in 0..n {
                s.write_all(&msg).map_err(io)?;
                s.read_exact(&mut msg).map_err(io)?;
            }
            Ok(())
        };
        trip(WARM_ROUND_TRIPS)?;
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            trip(ROUND_TRIPS)?;
            times.push(t.elapsed());
        }
        times.sort_unstable();
        let median = times[ROUNDS / 2].as_secs_f64().max(1e-9);
        Ok(f64::from(ROUND_TRIPS) / median / 1e3)
    };
    std::thread::scope(|s| {
        let server = s.spawn(echo);
        let speed = s.spawn(client).join();
        // A client that failed closed its socket, so the echo's read ends too.
        let served = server.join();
        let panicked = |_| MeasureError::ProbePanicked("loopback");
        served.map_err(panicked)??;
        speed.map_err(panicked)?
    })
}

/// The first connection to `listener`, or `TimedOut` after `limit`: a client
/// that failed before connecting leaves no thread waiting.
fn accept_within(listener: &TcpListener, limit: Duration) -> std::io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let t = Instant::now();
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if t.elapsed() >= limit {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "no client connected",
                    ));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => return Err(e),
        }
    }
}

/// No Nagle delay (each message goes at once, as a server's answer does) and
/// a bound on every wait.
fn prepare(s: &TcpStream) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(ECHO_TIMEOUT))?;
    s.set_write_timeout(Some(ECHO_TIMEOUT))
}

/// What an idle thread saw over [`idle_stalls`]' span.
#[derive(Debug, Clone)]
pub struct IdleProbe {
    /// How many of its wake-ups came late past the bar, of how many.
    pub wakeups: Wakeups,
    /// What the hypervisor took meanwhile (steal), the machine's and each CPU's.
    pub steal: bakeoff_load::StealShares,
}

impl IdleProbe {
    /// The share of its wake-ups that came late past the bar (0 before any).
    pub fn held(&self) -> f64 {
        self.wakeups.late_share().unwrap_or(0.0)
    }
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
            wakeups: Wakeups {
                late: held,
                naps: n,
            },
            steal: meter.stop(),
        })
    };
    std::thread::scope(|s| {
        s.spawn(probe)
            .join()
            .unwrap_or(Err(MeasureError::ProbePanicked("stall")))
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
    fn the_loopback_probe_measures_round_trips_between_two_cores() {
        let cpus = crate::measure::allowed_cpus().unwrap();
        let (a, b) = (cpus.first().copied(), cpus.last().copied());
        let s = loopback_speed(a, b).unwrap();
        // Loopback round trips take microseconds: between 100/s and 10M/s.
        assert!(s.is_finite() && (0.1..10_000.0).contains(&s), "{s} k/s");
        assert!(loopback_speed(None, None).unwrap() > 0.0);
    }

    #[test]
    fn a_core_that_does_not_exist_is_an_error() {
        assert!(core_speed(Some(100_000)).is_err());
        // Either side pinned to a missing core fails, and neither hangs.
        assert!(loopback_speed(Some(100_000), None).is_err());
        assert!(loopback_speed(None, Some(100_000)).is_err());
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
        assert!((0.0..=1.0).contains(&s.held()), "{s:?}");
        assert!(s.steal.wall >= Duration::from_millis(50), "{s:?}");
    }
}
