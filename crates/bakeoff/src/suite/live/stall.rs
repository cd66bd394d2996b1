//! The stall rule: when a window is the machine's rather than the server's
//! (sends the generator held up past a bar set from the SLO, or the
//! hypervisor's steal on the machine or a watched CPU), and the readings it
//! rests on. The driver applies it to each window; `bakeoff run` and the
//! known-ceiling tests apply it to their probes.

use std::time::Duration;

use bakeoff_load as load;

/// A window is the machine's, not the server's, when its sends were held up
/// by the generator ([`load::sends_stalled`])…
/// …or the hypervisor took this share of the machine's CPU time meanwhile.
pub const STALLED_STEAL: f64 = 0.02;
/// Steal on one watched CPU voids a window from this share of it.
pub const STALLED_CPU_STEAL: f64 = 0.05;
/// The least stolen time one CPU's reading is taken for: three clock ticks
/// at the usual 100 Hz.
pub const MIN_STOLEN: Duration = Duration::from_millis(30);

/// How late a send the generator itself held up must be to count toward the
/// stall rule's 1% (see [`stall`]) under a p99 objective of `slo`: a
/// twentieth of it, at least the engine's 2 ms. A smaller delay adds at most
/// that much to the requests it touches: it moves a p99 judged against the
/// SLO by under 5% of it, and a median's growth by less than the judge's
/// floor. At 2 ms, this VM's background (a thread held up 2–5 ms on 1% of its
/// wake-ups, over 5 ms on 0.2%) voided every window at a few thousand req/s.
pub fn stalled_after(slo: Duration) -> Duration {
    (slo / 20).max(load::LATE_SEND)
}

/// The hypervisor's take over a window where it matters, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Stolen {
    pub share: f64,
    /// `None`: the machine's average; `Some(n)`: CPU n alone.
    pub cpu: Option<usize>,
}

impl Stolen {
    /// The share from which it voids a window: one CPU's reading moves in
    /// whole ticks and a quiet VM here shows 1–2% on each, so it needs more.
    fn threshold(&self) -> f64 {
        match self.cpu {
            None => STALLED_STEAL,
            Some(_) => STALLED_CPU_STEAL,
        }
    }

    /// Whether it makes its window the machine's: at or over its threshold.
    pub fn voids(&self) -> bool {
        self.share >= self.threshold()
    }
}

/// The worst of the machine's steal share and each watched CPU's over a run
/// of `wall`, against its own threshold: a hypervisor that takes the
/// contender's (or the generator's) vCPU slows the measurement as much, but
/// moves the machine's average by 1/N of it. Each reading counts from
/// [`MIN_STOLEN`] of stolen time (the machine's summed over its CPUs, as many
/// as `cpu_steal` lists, at least one): one tick in a half-second window reads
/// 2% of one CPU, and three over two CPUs in 0.6 s read 2.5% of the machine.
pub fn worst_steal(
    machine: Option<f64>,
    cpu_steal: &[f64],
    watched: &[usize],
    wall: Duration,
) -> Option<Stolen> {
    let one = watched
        .iter()
        .filter_map(|&c| {
            cpu_steal.get(c).map(|&share| Stolen {
                share,
                cpu: Some(c),
            })
        })
        .filter(|s| s.share * wall.as_secs_f64() >= MIN_STOLEN.as_secs_f64());
    let cpus = cpu_steal.len().max(1) as f64;
    machine
        .filter(|share| share * wall.as_secs_f64() * cpus >= MIN_STOLEN.as_secs_f64())
        .map(|share| Stolen { share, cpu: None })
        .into_iter()
        .chain(one)
        .max_by(|a, b| (a.share / a.threshold()).total_cmp(&(b.share / b.threshold())))
}

/// The steal over a probe's span (`bakeoff_load::StealMeter`) that would void
/// a window watching `watched`, if any.
pub fn voiding_steal(s: &load::StealShares, watched: &[usize]) -> Option<Stolen> {
    worst_steal(s.machine, &s.cpus, watched, s.wall).filter(Stolen::voids)
}

/// Why a window is the machine's rather than the server's, if it is: the
/// hypervisor took CPU time, or its sends were held up by the generator's own
/// thread while the server kept up. (When the server falls behind, its queue
/// delays the sends too, and lateness cannot be told apart: the window is
/// judged as the server's.)
pub fn stall(
    late_stalled: u64,
    sends: u64,
    steal: Option<Stolen>,
    kept_up: bool,
) -> Option<String> {
    if kept_up && load::sends_stalled(late_stalled, sends) {
        return Some(format!(
            "{:.1}% of sends left late through the generator (held up by the machine)",
            100.0 * late_stalled as f64 / sends as f64
        ));
    }
    steal.filter(Stolen::voids).map(|s| {
        let of = match s.cpu {
            None => "the machine's CPU time".to_string(),
            Some(c) => format!("cpu {c}'s time"),
        };
        format!(
            "the hypervisor took {:.1}% of {of} (steal) during the window",
            s.share * 100.0
        )
    })
}
