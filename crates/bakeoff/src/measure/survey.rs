//! `bakeoff machine`'s survey: how steady this machine is, told before a run
//! spends its minutes finding out. The run's own probes (the integer loop on
//! the contender's and the generator's cores, 32-byte round trips over the
//! loopback between them) timed at a fixed interval with nothing of bakeoff's
//! serving, each reading held to the drift check's bar, and the hypervisor's
//! steal over the span held to the limit that voids a window.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::model::{ProbeReadings, ProbeSite, ProbeSummary};
use crate::suite::live::{voiding_steal, StealLimit, Stolen};
use crate::suite::Sampler;

/// How long the survey reads, and how often.
#[derive(Debug, Clone, Copy)]
pub struct SurveyConfig {
    pub span: Duration,
    /// From one timing's start to the next (the probes take 50–100 ms).
    pub interval: Duration,
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
    /// The steal that would void a window watching the probed CPUs, if any.
    pub steal: Option<Stolen>,
    /// The machine's steal share over the span, where the kernel reports it.
    pub machine_steal: Option<f64>,
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
    /// Whether a reading here would have flagged a search `drift`.
    pub fn moved(&self) -> bool {
        self.below_bar.is_some_and(|n| n > 0)
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
                let floor = reference * (1.0 - site.probe().drift());
                let below = readings.iter().filter(|&&r| r < floor).count() as u32;
                Some(SiteSteadiness {
                    site,
                    summary,
                    reference,
                    below_bar: site.drift_checked().then_some(below),
                })
            })
            .collect()
    }

    /// Steady: no drift-checked reading under its bar and no steal that voids
    /// a window: a run then would flag no `drift` and void no window for
    /// steal, as far as this span tells. (Sends held up by the machine are
    /// `bakeoff run`'s own check at its start, not this one's.)
    pub fn steady(&self) -> bool {
        self.steal.is_none() && !self.sites().iter().any(SiteSteadiness::moved)
    }
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
    // On a schedule, one timing every interval from the start: a probe that
    // ran long is followed at once, not shifted, so the span holds its count.
    let count = cfg.span.as_nanos() / cfg.interval.as_nanos().max(1) + 1;
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    for k in 0..count {
        let due = start + cfg.interval * k;
        // Short sleeps, so Ctrl-C is seen within a tenth of a second.
        while Instant::now() < due && !cancel.is_cancelled() {
            std::thread::sleep(due.saturating_duration_since(Instant::now()).min(TICK));
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
        steal: voiding_steal(&shares, cpus, StealLimit::default()),
        machine_steal: shares.machine,
    }
}

const TICK: Duration = Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProbeReading;
    use std::sync::Mutex;

    /// A sampler whose probes read the next of fixed sequences.
    struct Scripted {
        readings: Mutex<Vec<ProbeReading>>,
    }

    impl Sampler for Scripted {
        fn start(
            &self,
            _: &crate::suite::ProcessSet,
        ) -> Result<Box<dyn crate::suite::Sampling>, crate::suite::SampleError> {
            unreachable!("the survey samples no process")
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
        };
        let cfg = SurveyConfig {
            span: Duration::from_millis(n.saturating_sub(1).into()),
            interval: Duration::from_millis(1),
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
        assert!(s.steady(), "{:?}", s.sites());
        let generator = s.sites()[1];
        assert_eq!(
            (generator.site, generator.below_bar),
            (ProbeSite::GeneratorCore, None)
        );

        let mut slow_core = steady.clone();
        slow_core[4].contender = Some(620.0);
        let s = surveyed(slow_core);
        let core = s.sites()[0];
        assert_eq!(
            (core.site, core.below_bar),
            (ProbeSite::ContenderCore, Some(1))
        );
        assert_eq!(core.reference, 708.0);
        assert!(!s.steady());

        // 8.8% under the reference (708) is within the core's 10% bar.
        let mut within = steady.clone();
        within[4].contender = Some(646.0);
        assert!(surveyed(within).steady());

        let mut slow_loopback = steady;
        slow_loopback[2].loopback = Some(56.0);
        let s = surveyed(slow_loopback);
        assert_eq!(s.sites()[2].below_bar, Some(1));
        assert!(!s.steady());
    }

    /// A probe that never read leaves its site out rather than a zero.
    #[test]
    fn a_site_without_readings_is_left_out() {
        let mut r = reading(700.0, 700.0, 80.0);
        r.loopback = None;
        let s = surveyed(vec![r; 3]);
        let sites: Vec<ProbeSite> = s.sites().iter().map(|s| s.site).collect();
        assert_eq!(sites, [ProbeSite::ContenderCore, ProbeSite::GeneratorCore]);
    }

    /// A cancelled survey takes no further reading and says so.
    #[test]
    fn ctrl_c_stops_the_survey() {
        let sampler = Scripted {
            readings: Mutex::new(vec![reading(1.0, 1.0, 1.0); 100]),
        };
        let cancel = CancellationToken::new();
        cancel.cancel();
        let cfg = SurveyConfig {
            span: Duration::from_secs(60),
            interval: Duration::from_secs(1),
        };
        let s = survey(&sampler, &[], cfg, &cancel);
        assert!(s.interrupted);
        assert_eq!(s.timings, 0);
        assert!(s.readings.contender.is_empty());
        assert!(s.elapsed < Duration::from_secs(1));
    }
}
