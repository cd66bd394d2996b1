//! `bakeoff machine`'s survey: how steady this machine is, told before a run
//! spends its minutes finding out. The run's own probes (the integer loop on
//! the contender's and the generator's cores, 32-byte round trips over the
//! loopback between them) timed at a fixed interval with nothing of bakeoff's
//! serving, each reading held to the drift check's bar; between timings, an
//! idle thread's 1 ms sleeps on each core in turn, held to the stall rule's
//! bar (what `bakeoff run` checks for half a second at its start); and the
//! hypervisor's steal over the span, held to the limit that voids a window.

use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::model::{BySite, ProbeReadings, ProbeSite, ProbeSummary, Wakeups};
use crate::suite::live::{voiding_steal, StealLimit, Stolen, HELD_WAKEUPS_WARNED};
use crate::suite::Sampler;

/// A site whose readings fall under the drift bar at most this often is
/// steady: a run there flags `drift` on a few searches (about twice this
/// share, each search timed before and after), as any clean run of a shared
/// host does. Past it, the machine is moving. Over 76 timings: 3 readings.
pub const SLOWED_TOLERATED: f64 = 0.05;

/// How long the survey reads, and how often.
#[derive(Debug, Clone, Copy)]
pub struct SurveyConfig {
    pub span: Duration,
    /// From one timing's start to the next (the probes take 50–100 ms).
    pub interval: Duration,
    /// How late a wake-up counts as held up: the stall rule's bar at the
    /// SLO a run would use (`suite::live::stalled_after`).
    pub late: Duration,
    /// The steal that voids a window at that SLO (its burst bar half of it).
    pub steal: StealLimit,
}

/// What the probes and the steal meter read over the survey.
#[derive(Debug, Clone)]
pub struct Survey {
    /// How long it read.
    pub elapsed: Duration,
    /// Stopped by Ctrl-C before its span.
    pub interrupted: bool,
    /// How many times the probes were timed (a probe that failed gave no
    /// reading that time).
    pub timings: u32,
    pub readings: ProbeReadings,
    /// The idle sleeps between timings, per core (the loopback's is none).
    pub wakeups: BySite<Option<Wakeups>>,
    /// The steal that would void a window watching the probed CPUs, if any.
    pub steal: Option<Stolen>,
    /// The machine's steal share over the span, where the kernel reports it.
    pub machine_steal: Option<f64>,
}

/// What makes a survey call the machine moving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// More than [`SLOWED_TOLERATED`] of the readings at `site` more than
    /// its probe's drift bar under their 90th percentile: a run would flag
    /// `drift` on many searches.
    Slowed { site: ProbeSite },
    /// Idle sleeps on the core at `site` woke late more often than
    /// [`HELD_WAKEUPS_WARNED`]: a run would retry windows for late sends.
    HeldUp { site: ProbeSite },
    /// Steal that voids a window.
    Steal,
}

/// The survey's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No [`Cause`] over the span.
    Steady,
    /// At least one [`Cause`].
    Moving,
    /// No probe gave a reading.
    Unknown,
}

/// One probe site's readings held to its drift bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteSteadiness {
    pub site: ProbeSite,
    pub summary: ProbeSummary,
    /// The readings' 90th percentile (the run's "usual top speed").
    pub reference: f64,
    /// Readings more than the probe's bar below `reference`; none for a site
    /// the drift check does not read (the generator's core).
    pub below_bar: Option<u32>,
}

impl SiteSteadiness {
    /// The share of readings under the bar; none for a site not held to it.
    pub fn share_below(&self) -> Option<f64> {
        let n = self.below_bar?;
        Some(f64::from(n) / f64::from(self.summary.readings.max(1)))
    }

    /// Whether readings here fell under the bar more often than
    /// [`SLOWED_TOLERATED`].
    pub fn moved(&self) -> bool {
        self.share_below().is_some_and(|p| p > SLOWED_TOLERATED)
    }
}

impl Survey {
    /// Each site that gave a reading, held to its bar as a run holds a search.
    pub fn sites(&self) -> Vec<SiteSteadiness> {
        ProbeSite::ALL
            .into_iter()
            .filter_map(|site| {
                let readings = self.readings.at(site);
                let summary = ProbeSummary::of(readings)?;
                let reference = ProbeSummary::reference(readings)?;
                let below = readings
                    .iter()
                    .filter(|&&r| site.probe().slowed(r / reference))
                    .count() as u32;
                Some(SiteSteadiness {
                    site,
                    summary,
                    reference,
                    below_bar: site.drift_checked().then_some(below),
                })
            })
            .collect()
    }

    /// The share of a run's searches its drift check would flag at this
    /// span's rate of slowed readings: each search is timed before and
    /// after, at every drift-checked site, and flagged when any of them falls
    /// under its bar. None without a drift-checked reading.
    pub fn drift_share(&self) -> Option<f64> {
        self.assess().drift_share
    }

    /// The sites summarised, the causes read from them, the verdict they
    /// give and the drift share, in one pass (the report needs them all).
    pub fn assess(&self) -> Assessment {
        let sites = self.sites();
        let slowed = sites
            .iter()
            .filter(|x| x.moved())
            .map(|x| Cause::Slowed { site: x.site });
        let held = self
            .held_up()
            .into_iter()
            .map(|(site, _)| Cause::HeldUp { site });
        let steal = self.steal.is_some().then_some(Cause::Steal);
        let causes: Vec<Cause> = slowed.chain(held).chain(steal).collect();
        let verdict = if sites.is_empty() {
            Verdict::Unknown
        } else if causes.is_empty() {
            Verdict::Steady
        } else {
            Verdict::Moving
        };
        let shares: Vec<f64> = sites
            .iter()
            .filter_map(SiteSteadiness::share_below)
            .collect();
        let drift_share = (!shares.is_empty())
            .then(|| 1.0 - shares.iter().map(|p| (1.0 - p).powi(2)).product::<f64>());
        Assessment {
            sites,
            causes,
            verdict,
            drift_share,
        }
    }

    /// The cores whose idle sleeps woke late more often than
    /// [`HELD_WAKEUPS_WARNED`], each with its share.
    pub fn held_up(&self) -> Vec<(ProbeSite, f64)> {
        ProbeSite::ALL
            .into_iter()
            .filter_map(|site| {
                let share = self.wakeups.at(site).as_ref()?.late_share()?;
                (share > HELD_WAKEUPS_WARNED).then_some((site, share))
            })
            .collect()
    }

    /// Every reason the machine was not steady, in the report's order: the
    /// probes' sites, the cores' idle sleeps, the steal.
    pub fn causes(&self) -> Vec<Cause> {
        self.assess().causes
    }

    /// Steady: no drift-checked site with more than [`SLOWED_TOLERATED`] of
    /// its readings under its bar, no core holding idle threads up, no steal
    /// that voids a window: a run then would flag `drift` on few searches
    /// ([`Survey::drift_share`]) and void no window for the machine's sake,
    /// as far as this span tells. Unknown without a single reading.
    pub fn verdict(&self) -> Verdict {
        self.assess().verdict
    }
}

/// What [`Survey::assess`] reads from a survey.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub sites: Vec<SiteSteadiness>,
    pub causes: Vec<Cause>,
    pub verdict: Verdict,
    /// [`Survey::drift_share`].
    pub drift_share: Option<f64>,
}

/// Time every probe of `sampler` every `cfg.interval` for `cfg.span` (or
/// until `cancel`), with the steal over the same span on `cpus`. Blocking:
/// the probes pin threads of their own for 50–100 ms a timing.
pub fn survey(
    sampler: &dyn Sampler,
    cpus: &[usize],
    cfg: SurveyConfig,
    cancel: &CancellationToken,
) -> Survey {
    let mut readings = ProbeReadings::default();
    let meter = bakeoff_load::StealMeter::start();
    let start = Instant::now();
    let (mut interrupted, mut timings) = (false, 0);
    let mut wakeups: BySite<Option<Wakeups>> = BySite::default();
    // On a schedule, one timing every interval from the start: a probe that
    // ran long is followed at once, not shifted, so the span holds its count.
    let count = cfg.span.as_nanos() / cfg.interval.as_nanos().max(1) + 1;
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    for k in 0..count {
        // A span past what an Instant holds ends the survey, not the process.
        let Some(due) = cfg
            .interval
            .checked_mul(k)
            .and_then(|d| start.checked_add(d))
        else {
            break;
        };
        // The wait is spent in idle sleeps on one core, the generator's and
        // the contender's in turn, a tenth of a second at a time so Ctrl-C
        // is seen soon.
        let core = [ProbeSite::GeneratorCore, ProbeSite::ContenderCore][k as usize % 2];
        while Instant::now() < due && !cancel.is_cancelled() {
            let chunk = due.saturating_duration_since(Instant::now()).min(TICK);
            match sampler.idle_wakeups(core, chunk, cfg.late) {
                Some(w) => wakeups.at_mut(core).get_or_insert_default().add(w),
                None => std::thread::sleep(chunk),
            }
        }
        if cancel.is_cancelled() {
            interrupted = true;
            break;
        }
        sampler.read_probes(&mut readings);
        timings += 1;
    }
    let shares = meter.stop();
    Survey {
        elapsed: start.elapsed(),
        interrupted,
        timings,
        readings,
        wakeups,
        steal: voiding_steal(&shares, cpus, cfg.steal),
        machine_steal: shares.machine,
    }
}

const TICK: Duration = Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProbeReading;
    use std::sync::Mutex;

    /// A sampler whose probes read the next of fixed sequences, and whose
    /// idle sleeps on each core see a fixed count per call, taking the span.
    struct Scripted {
        readings: Mutex<Vec<ProbeReading>>,
        wakeups: BySite<Option<Wakeups>>,
    }

    impl Sampler for Scripted {
        fn start(
            &self,
            _: &crate::suite::ProcessSet,
        ) -> Result<Box<dyn crate::suite::Sampling>, crate::suite::SampleError> {
            unreachable!("the survey samples no process")
        }

        fn idle_wakeups(&self, site: ProbeSite, span: Duration, _: Duration) -> Option<Wakeups> {
            std::thread::sleep(span);
            *self.wakeups.at(site)
        }

        fn read_probes(&self, into: &mut ProbeReadings) -> ProbeReading {
            let mut left = self.readings.lock().unwrap();
            let now = if left.is_empty() {
                ProbeReading::default()
            } else {
                left.remove(0)
            };
            into.push(now);
            now
        }
    }

    fn reading(contender: f64, generator: f64, loopback: f64) -> ProbeReading {
        ProbeReading {
            contender: Some(contender),
            generator: Some(generator),
            loopback: Some(loopback),
        }
    }

    fn surveyed(readings: Vec<ProbeReading>) -> Survey {
        let n = readings.len() as u32;
        let sampler = Scripted {
            readings: Mutex::new(readings),
            wakeups: BySite::default(),
        };
        let cfg = SurveyConfig {
            span: Duration::from_millis(n.saturating_sub(1).into()),
            interval: Duration::from_millis(1),
            late: Duration::from_millis(5),
            steal: StealLimit::default(),
        };
        let mut s = survey(&sampler, &[], cfg, &CancellationToken::new());
        // The host's own steal is not this test's.
        s.steal = None;
        s
    }

    /// Ten readings within a few percent of each other are steady; one 12%
    /// under the contender's 90th percentile is not, nor one 30% under the
    /// loopback's, while the generator's core is summarised but never held
    /// to a bar (the drift check does not read it).
    #[test]
    fn readings_are_held_to_the_drift_bars() {
        let steady: Vec<_> = (0..10)
            .map(|i| reading(700.0 + f64::from(i), 300.0 + 40.0 * f64::from(i % 3), 80.0))
            .collect();
        let s = surveyed(steady.clone());
        assert_eq!((s.timings, s.readings.contender.len()), (10, 10), "{s:?}");
        assert_eq!(s.verdict(), Verdict::Steady, "{:?}", s.sites());
        let generator = s.sites()[1];
        assert_eq!(
            (generator.site, generator.below_bar),
            (ProbeSite::GeneratorCore, None)
        );

        let mut slow_core = steady.clone();
        slow_core[4].contender = Some(620.0);
        let s = surveyed(slow_core);
        assert_eq!(
            s.causes(),
            [Cause::Slowed {
                site: ProbeSite::ContenderCore
            }]
        );
        let core = s.sites()[0];
        assert_eq!(
            (core.site, core.below_bar),
            (ProbeSite::ContenderCore, Some(1))
        );
        assert_eq!(core.reference, 708.0);
        assert_eq!(s.verdict(), Verdict::Moving);

        // 8.8% under the reference (708) is within the core's 10% bar.
        let mut within = steady.clone();
        within[4].contender = Some(646.0);
        assert_eq!(surveyed(within).verdict(), Verdict::Steady);

        let mut slow_loopback = steady;
        slow_loopback[2].loopback = Some(56.0);
        let s = surveyed(slow_loopback);
        assert_eq!(s.sites()[2].below_bar, Some(1));
        assert_eq!(s.verdict(), Verdict::Moving);
    }

    /// A site may dip under its bar in up to 5% of its readings and stay
    /// steady (any shared host's clean run has a few); past that it moves.
    /// The drift share is what a run would flag, each search read twice.
    #[test]
    fn a_few_dips_are_tolerated_and_counted() {
        let mut readings: Vec<_> = (0..40).map(|_| reading(700.0, 700.0, 80.0)).collect();
        readings[5].contender = Some(600.0);
        readings[30].contender = Some(610.0);
        let s = surveyed(readings.clone());
        assert_eq!(s.sites()[0].below_bar, Some(2));
        assert_eq!(s.verdict(), Verdict::Steady, "{:?}", s.sites());
        let share = s.drift_share().unwrap();
        assert!((share - (1.0 - 0.95f64.powi(2))).abs() < 1e-9, "{share}");

        readings[12].loopback = Some(50.0);
        let s = surveyed(readings.clone());
        assert_eq!(s.verdict(), Verdict::Steady);
        let both = 1.0 - 0.95f64.powi(2) * 0.975f64.powi(2);
        assert!((s.drift_share().unwrap() - both).abs() < 1e-9);

        readings[20].contender = Some(590.0);
        let s = surveyed(readings);
        assert_eq!(s.sites()[0].below_bar, Some(3));
        assert_eq!(
            s.causes(),
            [Cause::Slowed {
                site: ProbeSite::ContenderCore
            }]
        );
        assert_eq!(s.verdict(), Verdict::Moving);
    }

    /// A probe that never read leaves its site out rather than a zero.
    #[test]
    fn a_site_without_readings_is_left_out() {
        let mut r = reading(700.0, 700.0, 80.0);
        r.loopback = None;
        let s = surveyed(vec![r; 3]);
        let sites: Vec<ProbeSite> = s.sites().iter().map(|s| s.site).collect();
        assert_eq!(sites, [ProbeSite::ContenderCore, ProbeSite::GeneratorCore]);
        // And with no reading at all, the verdict is unknown, not steady.
        let none = surveyed(vec![ProbeReading::default(); 3]);
        assert_eq!((none.timings, none.verdict()), (3, Verdict::Unknown));
    }

    /// A cancelled survey takes no further reading and says so.
    #[test]
    fn ctrl_c_stops_the_survey() {
        let sampler = Scripted {
            readings: Mutex::new(vec![reading(1.0, 1.0, 1.0); 100]),
            wakeups: BySite::default(),
        };
        let cancel = CancellationToken::new();
        cancel.cancel();
        let cfg = SurveyConfig {
            span: Duration::from_secs(60),
            interval: Duration::from_secs(1),
            late: Duration::from_millis(5),
            steal: StealLimit::default(),
        };
        let s = survey(&sampler, &[], cfg, &cancel);
        assert!(s.interrupted);
        assert_eq!(s.timings, 0);
        assert!(s.readings.contender.is_empty());
        assert!(s.elapsed < Duration::from_secs(1));
    }

    /// The waits between timings are idle sleeps on the generator's core and
    /// the contender's in turn, counted per core; a core whose sleeps woke
    /// late more than 0.5% of the time makes the machine moving, however
    /// steady its probes read.
    #[test]
    fn held_up_wakeups_are_counted_per_core() {
        let sampler = Scripted {
            readings: Mutex::new(vec![reading(700.0, 700.0, 80.0); 6]),
            wakeups: BySite {
                contender: Some(Wakeups { late: 0, naps: 100 }),
                generator: Some(Wakeups { late: 1, naps: 100 }),
                loopback: None,
            },
        };
        let cfg = SurveyConfig {
            span: Duration::from_millis(100),
            interval: Duration::from_millis(20),
            late: Duration::from_millis(5),
            steal: StealLimit::default(),
        };
        let s = survey(&sampler, &[], cfg, &CancellationToken::new());
        assert_eq!(s.timings, 6);
        let (g, c) = (s.wakeups.generator.unwrap(), s.wakeups.contender.unwrap());
        assert!(
            g.naps >= 100 && g.naps % 100 == 0 && g.late * 100 == g.naps,
            "{g:?}"
        );
        assert!(c.naps >= 100 && c.late == 0, "{c:?}");
        assert_eq!(s.wakeups.loopback, None);
        assert_eq!(s.held_up(), vec![(ProbeSite::GeneratorCore, 0.01)]);
        assert_eq!(
            s.causes()[0],
            Cause::HeldUp {
                site: ProbeSite::GeneratorCore
            }
        );
        assert!(s.sites().iter().all(|x| !x.moved()));
        assert_eq!(s.verdict(), Verdict::Moving);
    }
}
