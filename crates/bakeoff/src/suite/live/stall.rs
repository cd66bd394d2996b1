//! The stall rule: when a window is the machine's rather than the server's
//! (sends the generator held up past a bar set from the SLO, or the
//! hypervisor's steal on the machine or a watched CPU), and the readings it
//! rests on. The driver applies it to each window; `bakeoff run` and the
//! known-ceiling tests apply it to their probes, and `bakeoff run` warns
//! before it starts when an idle probe already reads a stalling machine
//! ([`stalls_warning`]). [`StealLimit`] is the one
//! part a user may move (`bakeoff run --max-steal`). Also the other side of
//! the line: late sends the generator's own load caused (generator-limited,
//! not a stall to retry).

use std::time::Duration;

use bakeoff_load as load;

use crate::model::ProbeSite;

/// A window is the machine's, not the server's, when its sends were held up
/// by the generator ([`load::sends_stalled`])…
/// …or the hypervisor took this share of the machine's CPU time meanwhile.
pub const STALLED_STEAL: f64 = 0.02;
/// Steal on one watched CPU voids a window from this share of it.
pub const STALLED_CPU_STEAL: f64 = 0.05;
/// The least stolen time one CPU's reading is taken for: three clock ticks
/// at the usual 100 Hz.
pub const MIN_STOLEN: Duration = Duration::from_millis(30);
/// A pause of one watched CPU voids a window from this much stolen time
/// within one [`load::bursts::SPAN`], whatever the window's average, under
/// the default SLO: it holds every request it meets by up to that, half the
/// SLO, and a server near its capacity takes longer still to catch up. A
/// run's bar is half its own SLO ([`burst_bar`]).
pub const STALLED_BURST: Duration = Duration::from_millis(50);

/// The burst that voids a window under a p99 objective of `slo` (at the
/// default `--max-steal`): half the SLO, as [`STALLED_BURST`] is of the
/// default's. At least [`MIN_STOLEN`], since a quiet VM's scattered steal
/// (10 ms ticks, 1–2% of a CPU) sums to a tick or two in a span; at most the
/// span itself, whose whole loss is then the one burst that voids.
pub fn burst_bar(slo: Duration) -> Duration {
    (slo / 2).clamp(MIN_STOLEN, load::bursts::SPAN)
}

/// From this share of an idle thread's 1 ms sleeps waking later than
/// [`stalled_after`], a machine is said to hold threads up: `bakeoff run`
/// warns before it starts, and `bakeoff machine` calls it moving. At that
/// rate many windows pass the 1% of late sends that voids them.
pub const HELD_WAKEUPS_WARNED: f64 = 0.005;

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

/// How much steal voids a window: [`STALLED_STEAL`] of the machine,
/// [`STALLED_CPU_STEAL`] of one watched CPU (one CPU's reading moves in whole
/// ticks, and a quiet VM here shows 1–2% on each, so it needs more), and
/// half the SLO of one watched CPU within half a second ([`burst_bar`]). A host
/// whose steal never falls under that voids every window of every cell; a
/// user there may raise the machine's share (`bakeoff run --max-steal`), the
/// one CPU's moving with it. Steal only slows what is measured, so windows
/// judged under a raised limit can read capacities low, never high; the run
/// records the limit and its reports say so.
/// Kept in percent as given, so the run records and prints `7`, not the
/// `7.000000000000001` a share multiplied back would give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StealLimit {
    percent: f64,
    /// The burst bar at the default percent: half the SLO ([`burst_bar`]).
    burst: Duration,
}

impl Default for StealLimit {
    /// The default limit under the default SLO.
    fn default() -> Self {
        StealLimit {
            percent: Self::DEFAULT_PERCENT,
            burst: STALLED_BURST,
        }
    }
}

impl StealLimit {
    /// The default, in percent of the machine's CPU time ([`STALLED_STEAL`]).
    pub const DEFAULT_PERCENT: f64 = STALLED_STEAL * 100.0;
    /// The highest `--max-steal` a run takes, in percent: past it the
    /// hypervisor has a third of the machine and capacities say little.
    pub const MAX_PERCENT: f64 = 33.0;

    /// The limit at `percent` of the machine's CPU time, when it is one a
    /// run takes: from the default up to [`StealLimit::MAX_PERCENT`].
    pub fn from_percent(percent: f64) -> Option<StealLimit> {
        (percent.is_finite() && (Self::DEFAULT_PERCENT..=Self::MAX_PERCENT).contains(&percent))
            .then_some(StealLimit {
                percent,
                ..StealLimit::default()
            })
    }

    /// This limit under a p99 objective of `slo`: its burst bar half the SLO
    /// ([`burst_bar`]), so a pause that alone breaks a tight SLO voids its
    /// window and one a loose SLO absorbs does not.
    pub fn for_slo(self, slo: Duration) -> StealLimit {
        StealLimit {
            burst: burst_bar(slo),
            ..self
        }
    }

    /// Whether `percent` (a stored run's) is above the default.
    pub fn is_raised(percent: f64) -> bool {
        percent > Self::DEFAULT_PERCENT
    }

    /// The limit in percent of the machine's CPU time, as given.
    pub fn percent(&self) -> f64 {
        self.percent
    }

    /// The share of the machine's CPU time from which a window is voided.
    pub fn machine(&self) -> f64 {
        self.percent / 100.0
    }

    /// The share of one watched CPU's time from which a window is voided.
    pub fn one_cpu(&self) -> f64 {
        self.machine() * STALLED_CPU_STEAL / STALLED_STEAL
    }

    /// The stolen time within one [`load::bursts::SPAN`] of one watched CPU
    /// from which a window is voided (half the SLO, raised with the rest).
    pub fn burst(&self) -> Duration {
        self.burst.mul_f64(self.machine() / STALLED_STEAL)
    }

    /// The default `--max-steal` under the same SLO: what a raised limit is
    /// told apart from ([`tolerated_steal`]).
    pub fn at_default(&self) -> StealLimit {
        StealLimit {
            percent: Self::DEFAULT_PERCENT,
            ..*self
        }
    }

    /// Whether this is the default limit rather than one a user raised.
    pub fn is_default(&self) -> bool {
        !Self::is_raised(self.percent)
    }
}

/// The hypervisor's take over a window where it matters, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Stolen {
    pub share: f64,
    /// `None`: the machine's average; `Some(n)`: CPU n alone.
    pub cpu: Option<usize>,
    /// The share from which it voids a window (see [`StealLimit`]).
    pub limit: f64,
    /// The share from which it would void one at the default `--max-steal`
    /// (the same as `limit` unless the run raised it).
    pub default_limit: f64,
    /// `None`: the share of the whole window; `Some(span)`: of the one span
    /// of it where the CPU lost the most (a burst, [`burst_steal`]).
    pub within: Option<Duration>,
}

impl Stolen {
    /// Whether it makes its window the machine's: at or over its limit.
    pub fn voids(&self) -> bool {
        self.share >= self.limit
    }

    /// Orders readings by how far toward their own limits they are.
    fn against_limit(a: &Stolen, b: &Stolen) -> std::cmp::Ordering {
        (a.share / a.limit).total_cmp(&(b.share / b.limit))
    }

    /// How much of whose time, for messages: "6.0% of cpu 1's time", or
    /// "80 ms of cpu 1's time within 0.5 s".
    pub fn amount(&self) -> String {
        match self.within {
            None => format!("{:.1}% of {}", self.share * 100.0, self.of()),
            Some(span) => format!(
                "{:.0} ms of {} within {} s",
                self.share * span.as_secs_f64() * 1000.0,
                self.of(),
                span.as_secs_f64()
            ),
        }
    }

    /// A limit of this reading's, for messages: "5.0%", or "50 ms".
    fn bar(&self, limit: f64) -> String {
        match self.within {
            None => format!("{:.1}%", limit * 100.0),
            Some(span) => format!("{:.0} ms", limit * span.as_secs_f64() * 1000.0),
        }
    }

    /// Whose time it was, for messages: "the machine's CPU time", "cpu 1's time".
    pub fn of(&self) -> String {
        match self.cpu {
            None => "the machine's CPU time".to_string(),
            Some(c) => format!("cpu {c}'s time"),
        }
    }
}

/// Why a window's steal was judged as the server's only because the run's
/// limit was raised: the reading ([`worst_steal`] at the run's limit) is over
/// its default limit and under its raised one. (Both limits scale together, so
/// the worst reading is the same under either.) Such a window can only make
/// the server look slower; its cell says so ([`Flag::StealTolerated`]).
///
/// [`Flag::StealTolerated`]: crate::model::Flag::StealTolerated
pub fn tolerated_steal(steal: Option<&Stolen>) -> Option<String> {
    steal
        .filter(|s| !s.voids() && s.share >= s.default_limit)
        .map(|s| {
            format!(
                "the hypervisor took {} (steal), over its default limit of {} and under the run's raised {}: judged as the server's",
                s.amount(),
                s.bar(s.default_limit),
                s.bar(s.limit)
            )
        })
}

/// The worst of the machine's steal share and each watched CPU's over a run
/// of `wall`, against its own share of `limit`: a hypervisor that takes the
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
    limit: StealLimit,
) -> Option<Stolen> {
    let one = watched
        .iter()
        .filter_map(|&c| {
            cpu_steal.get(c).map(|&share| Stolen {
                share,
                cpu: Some(c),
                limit: limit.one_cpu(),
                default_limit: limit.at_default().one_cpu(),
                within: None,
            })
        })
        .filter(|s| s.share * wall.as_secs_f64() >= MIN_STOLEN.as_secs_f64());
    let cpus = cpu_steal.len().max(1) as f64;
    machine
        .filter(|share| share * wall.as_secs_f64() * cpus >= MIN_STOLEN.as_secs_f64())
        .map(|share| Stolen {
            share,
            cpu: None,
            limit: limit.machine(),
            default_limit: limit.at_default().machine(),
            within: None,
        })
        .into_iter()
        .chain(one)
        .max_by(Stolen::against_limit)
}

/// The worst burst on a `watched` CPU: its most stolen time within one
/// [`load::bursts::SPAN`] (`bursts`, by CPU number), against [`StealLimit::burst`].
pub fn burst_steal(bursts: &[Duration], watched: &[usize], limit: StealLimit) -> Option<Stolen> {
    let span = load::bursts::SPAN.as_secs_f64();
    watched
        .iter()
        .filter_map(|&c| {
            bursts.get(c).map(|stolen| Stolen {
                share: stolen.as_secs_f64() / span,
                cpu: Some(c),
                limit: limit.burst().as_secs_f64() / span,
                default_limit: limit.at_default().burst().as_secs_f64() / span,
                within: Some(load::bursts::SPAN),
            })
        })
        .filter(|s| s.share > 0.0)
        .max_by(Stolen::against_limit)
}

/// What a window's steal is judged on: the worse of its averages over
/// `wall` ([`worst_steal`]) and its worst burst ([`burst_steal`]).
pub fn window_steal(
    machine: Option<f64>,
    cpu_steal: &[f64],
    bursts: &[Duration],
    watched: &[usize],
    wall: Duration,
    limit: StealLimit,
) -> Option<Stolen> {
    worst_steal(machine, cpu_steal, watched, wall, limit)
        .into_iter()
        .chain(burst_steal(bursts, watched, limit))
        .max_by(Stolen::against_limit)
}

/// The steal over a probe's span (`bakeoff_load::StealMeter`) that would void
/// a window watching `watched` under `limit`, if any.
pub fn voiding_steal(
    s: &load::StealShares,
    watched: &[usize],
    limit: StealLimit,
) -> Option<Stolen> {
    window_steal(s.machine, &s.cpus, &s.bursts, watched, s.wall, limit).filter(Stolen::voids)
}

/// Why a window is the machine's rather than the server's, if it is: the
/// hypervisor took CPU time, or its sends were held up by the generator's own
/// thread while that thread was not `busy` with its own load (a busy one's
/// late sends are the generator's limit, or the server's when it fell
/// behind). `late_stalled` counts only the time sends waited on the engine
/// once their connection was free, so a server that falls behind does not
/// make them (`bakeoff_load::LoadReport::late_stalled`): a machine
/// that stops the generator near the capacity leaves a burst the server
/// cannot catch up with by the cutoff, and that window is still the
/// machine's.
pub fn stall(late_stalled: u64, sends: u64, steal: Option<Stolen>, busy: bool) -> Option<String> {
    if !busy && load::sends_stalled(late_stalled, sends) {
        return Some(format!(
            "{:.1}% of sends left late through the generator (held up by the machine)",
            100.0 * late_stalled as f64 / sends as f64
        ));
    }
    steal.filter(Stolen::voids).map(|s| {
        let raised = if s.limit > s.default_limit {
            format!(", over the run's raised limit of {}", s.bar(s.limit))
        } else {
            String::new()
        };
        format!(
            "the hypervisor took {} (steal) during the window{raised}",
            s.amount()
        )
    })
}

/// From these shares up (of the engine thread's CPU, or of its core's busy
/// time), sends late through the generator are its own load's, not a stall.
const GENERATOR_BUSY: f64 = 0.5;
const GENERATOR_CORE_BUSY: f64 = 0.7;

/// Sends left late through the generator while the server kept up, with the
/// generator busy: its thread used half its core, or the core was busy 70% of
/// the time (the kernel's work for the generator's sockets runs there too, as
/// softirq time no thread is charged). The generator's own load held the sends
/// up, so the window is generator-limited, not a stall to retry: a retry at the
/// same rate would be held up the same way. (node-fastify reaches 25,000–50,000
/// req/s on `json` here, where one engine thread, sharing its core with
/// bakeoff's upstream and sampler, starts leaving sends late.) An idle core
/// whose thread was held up is the machine's: see [`stall`].
pub(super) fn generator_late(
    r: &load::LoadReport,
    sends: u64,
    busy: GeneratorLoad,
) -> Option<String> {
    (kept_up(r) && load::sends_stalled(r.late_stalled, sends)).then(|| {
        format!(
            "{:.1}% of sends left late through the generator while {}: at this rate the generator, not the server, sets the limit",
            100.0 * r.late_stalled as f64 / sends.max(1) as f64,
            busy.describe()
        )
    })
}

/// The generator's thread's share of a core, and its core's busy share, in
/// one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratorLoad {
    pub cpu: f64,
    pub core_share: Option<f64>,
}

impl GeneratorLoad {
    /// The window's own shares where the engine took them: the run's include
    /// connects, priming and the grace, and understate a short window's.
    pub(super) fn of(r: &load::LoadReport) -> GeneratorLoad {
        GeneratorLoad {
            cpu: r
                .window_generator_cpu
                .unwrap_or_else(|| r.generator_cpu_share()),
            core_share: r.window_core_busy.or(r.generator_core_busy),
        }
    }

    /// Busy enough that its own load holds sends (and bakeoff's upstream,
    /// which shares the core) up.
    pub fn busy(self) -> bool {
        self.cpu >= GENERATOR_BUSY || self.core_share.unwrap_or(0.0) >= GENERATOR_CORE_BUSY
    }

    /// "the generator's thread used 30% of a core and its core was busy 45%
    /// of the time".
    pub fn describe(self) -> String {
        format!(
            "the generator's thread used {:.0}% of a core{}",
            self.cpu * 100.0,
            self.core_share
                .map(|c| format!(" and its core was busy {:.0}% of the time", c * 100.0))
                .unwrap_or_default()
        )
    }
}

/// The generator's own load in the window, when it was busy enough to hold
/// its sends up (see [`generator_late`]).
pub(super) fn generator_busy(r: &load::LoadReport) -> Option<GeneratorLoad> {
    let load = GeneratorLoad::of(r);
    load.busy().then_some(load)
}

/// The generator, not the server, limited the window (the engine's own
/// self-check). A server that answered nothing is a failing server, not a
/// limited generator.
pub(super) fn generator_bound(r: &load::LoadReport) -> bool {
    load::generator_saturated(r.generator_cpu_share(), r.achieved_rate, r.target_rate).is_some()
}

/// The server kept up with the schedule: it achieved the rate, and nothing was
/// left unsent or unanswered at the cutoff.
fn kept_up(r: &load::LoadReport) -> bool {
    let overload = r
        .errors
        .get(&load::ErrorKind::Overload)
        .copied()
        .unwrap_or(0);
    r.target_rate
        .is_none_or(|t| r.achieved_rate >= super::super::search::MIN_ACHIEVED_RATIO * t)
        && overload == 0
}

/// A warning when, over half a second, an idle thread on `cpu` (the `site`'s,
/// a core) wakes more than `late` late (the stall rule's bar) more than
/// [`HELD_WAKEUPS_WARNED`] of the time, or the hypervisor takes as much of that CPU
/// (or the machine) as voids a window.
pub fn stalls_warning(
    site: ProbeSite,
    cpu: Option<usize>,
    late: Duration,
    limit: StealLimit,
) -> Option<String> {
    let probe = crate::measure::speed::idle_stalls(cpu, Duration::from_millis(500), late).ok()?;
    let steal = voiding_steal(&probe.steal, cpu.as_slice(), limit);
    stalls_message(site, cpu, probe.held(), steal, late)
}

fn stalls_message(
    site: ProbeSite,
    cpu: Option<usize>,
    held: f64,
    steal: Option<Stolen>,
    late: Duration,
) -> Option<String> {
    let on = cpu.map_or("any CPU".to_string(), |c| format!("cpu {c}"));
    let (what, windows) = match steal {
        _ if held > HELD_WAKEUPS_WARNED => (
            format!(
                "this machine held an idle thread on {on} (the {}) up for more than {} ms in {:.1}% of its wake-ups",
                site.what(),
                late.as_millis(),
                held * 100.0
            ),
            "windows with more than 1% of sends held up that long",
        ),
        Some(s) => (
            format!(
                "this machine's hypervisor took {} (steal) while an idle thread on {on} (the {}) was timed",
                s.amount(),
                site.what()
            ),
            "windows with that much steal",
        ),
        None => return None,
    };
    // Steal that never falls can be accepted; held-up sends cannot.
    let hatch = if held > HELD_WAKEUPS_WARNED {
        ""
    } else {
        "; if this host's steal never falls, --max-steal PERCENT judges windows under that share of the machine as the server's (its capacities may then read low)"
    };
    Some(format!(
        "warning: {what}; {windows} are the machine's and are re-run, so expect machine-noisy cells (a busy or oversubscribed host): run when it is quieter, or on another machine{hatch}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stalling_machine_is_warned_with_its_cpu_and_share() {
        let late = Duration::from_millis(5);
        assert_eq!(
            stalls_message(ProbeSite::GeneratorCore, Some(0), 0.004, None, late),
            None
        );
        let w = stalls_message(ProbeSite::ContenderCore, Some(1), 0.018, None, late).unwrap();
        assert!(
            w.starts_with("warning: this machine held an idle thread on cpu 1 (the contender's core) up for more than 5 ms in 1.8% of its wake-ups"),
            "{w}"
        );
        let stolen = Stolen {
            share: 0.06,
            cpu: Some(1),
            limit: 0.05,
            default_limit: 0.05,
            within: None,
        };
        let w = stalls_message(ProbeSite::ContenderCore, Some(1), 0.0, Some(stolen), late).unwrap();
        assert!(
            w.starts_with("warning: this machine's hypervisor took 6.0% of cpu 1's time (steal) while an idle thread on cpu 1 (the contender's core) was timed; windows with that much steal are the machine's"),
            "{w}"
        );
        assert!(w.ends_with("(its capacities may then read low)"), "{w}");
        assert!(
            stalls_message(ProbeSite::GeneratorCore, None, 0.02, None, late)
                .unwrap()
                .contains("on any CPU")
        );
    }
}
