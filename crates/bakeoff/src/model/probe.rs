//! The machine probes (the drift probe's integer loop on each core, the
//! loopback probe between them): where each reads and its name, their
//! readings over a run, summarised for the store and `compare`, and the
//! yardstick and bar a search's readings are held against.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One probe's readings over one run (at the start and around every capacity
/// search), in its [`Probe::unit`]: two runs whose medians differ ran on a
/// machine of different speed, and their capacities moved with it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ProbeSummary {
    pub readings: u32,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl ProbeSummary {
    /// The summary of `readings` (positive, finite ones); none without any.
    pub fn of(readings: &[f64]) -> Option<ProbeSummary> {
        let r = real(readings);
        Some(ProbeSummary {
            readings: r.len() as u32,
            median: crate::suite::stats::median(&r)?,
            min: r.iter().copied().reduce(f64::min)?,
            max: r.iter().copied().reduce(f64::max)?,
        })
    }

    /// The speed a search's readings are held against, from the run's
    /// readings so far (positive, finite ones): their 90th percentile, nearest
    /// rank, which is the fastest of fewer than ten. Not the fastest of all:
    /// over a long run that is an extreme value that rises with their number
    /// (139 readings: fastest 933, median 843), and a quiet core's ordinary
    /// readings, a few percent apart, fell more than 10% below it in 20 of 28
    /// cells. Not the first: a start the machine happened to slow would make
    /// every later search look fast.
    pub fn reference(readings: &[f64]) -> Option<f64> {
        let mut r = real(readings);
        r.sort_by(f64::total_cmp);
        // ⌈0.9 n⌉ in integers: 0.9 × n in floating point may land above n × 9 / 10.
        let rank = (9 * r.len()).div_ceil(10);
        r.get(rank.checked_sub(1)?).copied()
    }

    /// The slowest reading as a share of the fastest, when it is more than
    /// the `probe`'s [`Probe::drift`] below it: the machine's speed moved
    /// during the run.
    pub fn moved(&self, probe: Probe) -> Option<f64> {
        let share = self.min / self.max;
        (self.max > 0.0 && probe.slowed(share)).then_some(share)
    }

    /// "586 M loop iterations/s (median of 40 readings, 391–674)", in the
    /// unit of the `probe` that read it.
    pub fn describe(&self, probe: Probe) -> String {
        format!(
            "{:.0} {} (median of {} readings, {:.0}–{:.0})",
            self.median,
            probe.unit(),
            self.readings,
            self.min,
            self.max
        )
    }
}

/// What a [`ProbeSummary`] timed: its name, the unit of its readings, and how
/// far below the run's [`ProbeSummary::reference`] a reading says the machine
/// slowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// The drift probe's integer loop on one core (`measure::speed::core_speed`).
    Loop,
    /// Messages echoed over loopback TCP from the contender's core to the
    /// generator's (`measure::speed::loopback_speed`).
    Loopback,
}

impl Probe {
    pub fn name(self) -> &'static str {
        match self {
            Probe::Loop => "drift probe",
            Probe::Loopback => "loopback probe",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Probe::Loop => "M loop iterations/s",
            Probe::Loopback => "k round trips/s",
        }
    }

    /// A reading more than this share below the run's
    /// [`ProbeSummary::reference`] is a slowed machine (a trial around it is
    /// flagged `drift`). The loop's readings on a quiet core lie within a few
    /// percent; a single loopback reading spreads about 10% on a quiet host,
    /// so its bar is higher. Beside two served contenders for 22 minutes every
    /// pair of readings with one 25% below its reference came with a server
    /// running more than 10% slower (36 of 36; `docs/benchmarks.md`,
    /// thirty-fifth pass).
    pub fn drift(self) -> f64 {
        match self {
            Probe::Loop => 0.10,
            Probe::Loopback => 0.25,
        }
    }

    /// Whether a reading at `share` of its reference is a slowed machine:
    /// more than [`Probe::drift`] below it. The one place the rule is written.
    pub fn slowed(self, share: f64) -> bool {
        share < 1.0 - self.drift()
    }
}

/// Where a probe reads: the loop on either core, the loopback between them.
/// The one place their names are written (in JSON, snake case:
/// `contender_core`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbeSite {
    ContenderCore,
    GeneratorCore,
    Loopback,
}

impl ProbeSite {
    /// In the order reports list them.
    pub const ALL: [ProbeSite; 3] = [
        ProbeSite::ContenderCore,
        ProbeSite::GeneratorCore,
        ProbeSite::Loopback,
    ];

    /// "contender's core".
    pub fn what(self) -> &'static str {
        match self {
            ProbeSite::ContenderCore => "contender's core",
            ProbeSite::GeneratorCore => "generator's core",
            ProbeSite::Loopback => "loopback between the cores",
        }
    }

    pub fn probe(self) -> Probe {
        match self {
            ProbeSite::ContenderCore | ProbeSite::GeneratorCore => Probe::Loop,
            ProbeSite::Loopback => Probe::Loopback,
        }
    }

    /// Whether a search is held to this site's readings (flagged `drift`
    /// when they fall). Not the generator's core: a slow generator shows in
    /// its own late sends, and near its limit voids its windows.
    pub fn drift_checked(self) -> bool {
        self != ProbeSite::GeneratorCore
    }
}

/// One value per place a probe reads ([`ProbeSite`]): what one timing read,
/// the readings over a run, their summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BySite<T> {
    /// The drift probe on the contender's core.
    pub contender: T,
    /// The drift probe on the generator's core.
    pub generator: T,
    /// The loopback probe between them.
    pub loopback: T,
}

impl<T> BySite<T> {
    /// The value at `site`.
    pub fn at(&self, site: ProbeSite) -> &T {
        match site {
            ProbeSite::ContenderCore => &self.contender,
            ProbeSite::GeneratorCore => &self.generator,
            ProbeSite::Loopback => &self.loopback,
        }
    }

    /// The value at `site`, to change.
    pub fn at_mut(&mut self, site: ProbeSite) -> &mut T {
        match site {
            ProbeSite::ContenderCore => &mut self.contender,
            ProbeSite::GeneratorCore => &mut self.generator,
            ProbeSite::Loopback => &mut self.loopback,
        }
    }

    /// `f` of each site's value.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> BySite<U> {
        BySite {
            contender: f(&self.contender),
            generator: f(&self.generator),
            loopback: f(&self.loopback),
        }
    }
}

/// What an idle thread's 1 ms sleeps on one core saw: how many woke later
/// than the stall rule's bar, of how many (`measure::speed::idle_stalls`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wakeups {
    pub late: u32,
    pub naps: u32,
}

impl Wakeups {
    /// The share that woke late; none before any sleep.
    pub fn late_share(&self) -> Option<f64> {
        (self.naps > 0).then(|| f64::from(self.late) / f64::from(self.naps))
    }

    /// Both counts added.
    pub fn add(&mut self, other: Wakeups) {
        self.late += other.late;
        self.naps += other.naps;
    }
}

/// One timing of every probe (`None`: that probe could not be read).
pub type ProbeReading = BySite<Option<f64>>;

/// The probes' readings over a run so far, in the order they were taken.
pub type ProbeReadings = BySite<Vec<f64>>;

/// The probes' summaries over a run: what a run (or an interrupted one) hands
/// to the store, as [`Environment::core_speed`](super::Environment::core_speed),
/// [`generator_core_speed`](super::Environment::generator_core_speed) and
/// [`loopback_speed`](super::Environment::loopback_speed).
pub type ProbeSummaries = BySite<Option<ProbeSummary>>;

impl ProbeReadings {
    /// Keep what one timing of the probes read.
    pub fn push(&mut self, r: ProbeReading) {
        self.contender.extend(r.contender);
        self.generator.extend(r.generator);
        self.loopback.extend(r.loopback);
    }

    /// What the drift check holds a search to, per site it reads
    /// ([`ProbeSite::drift_checked`]): the run's reference so far (these
    /// readings included) and the timings `before` and after the search.
    pub fn around(
        &self,
        before: ProbeReading,
        after: ProbeReading,
    ) -> impl Iterator<Item = (ProbeSite, [Option<f64>; 3])> + '_ {
        ProbeSite::ALL
            .into_iter()
            .filter(|site| site.drift_checked())
            .map(move |site| {
                let reference = ProbeSummary::reference(self.at(site));
                (site, [reference, *before.at(site), *after.at(site)])
            })
    }

    /// The summaries of each probe's readings.
    pub fn summary(&self) -> ProbeSummaries {
        self.map(|r| ProbeSummary::of(r))
    }
}

/// The readings a probe really took: positive and finite.
fn real(readings: &[f64]) -> Vec<f64> {
    readings
        .iter()
        .copied()
        .filter(|s| s.is_finite() && *s > 0.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_core_speed_summarises_its_readings() {
        assert_eq!(ProbeSummary::of(&[]), None);
        assert_eq!(
            ProbeSummary::of(&[0.0, f64::NAN, -1.0]),
            None,
            "no real reading"
        );
        let s = ProbeSummary::of(&[650.0, 455.0, 0.0, 640.0, 460.0]).unwrap();
        assert_eq!(
            (s.readings, s.median, s.min, s.max),
            (4, 550.0, 455.0, 650.0)
        );
        assert_eq!(
            s.describe(Probe::Loop),
            "550 M loop iterations/s (median of 4 readings, 455–650)"
        );
        assert_eq!(
            s.describe(Probe::Loopback),
            "550 k round trips/s (median of 4 readings, 455–650)"
        );
    }

    /// The drift yardstick is the fastest of a few readings, and the 90th
    /// percentile of many: one fast outlier among a steady core's readings
    /// does not put them all more than 10% below it.
    #[test]
    fn the_drift_reference_is_the_readings_90th_percentile() {
        assert_eq!(ProbeSummary::reference(&[]), None);
        assert_eq!(ProbeSummary::reference(&[0.0, f64::NAN]), None);
        assert_eq!(ProbeSummary::reference(&[80.0]), Some(80.0));
        let few = [90.0, 100.0, 0.0, 95.0, 85.0, 92.0, 91.0, 93.0, 94.0, 96.0];
        assert_eq!(ProbeSummary::reference(&few), Some(100.0), "nine real ones");
        // Twenty readings of a steady core around 85 and one at 100.
        let mut many: Vec<f64> = (0..20).map(|i| 84.0 + f64::from(i % 3)).collect();
        many.push(100.0);
        let reference = ProbeSummary::reference(&many).unwrap();
        assert_eq!(reference, 86.0);
        assert!(many[..20]
            .iter()
            .all(|s| s / reference > 1.0 - Probe::Loop.drift()));
        assert!(many[..20]
            .iter()
            .any(|s| s / 100.0 < 1.0 - Probe::Loop.drift()));
    }

    /// The loop's readings lie within a few percent on a quiet core, a single
    /// loopback reading within about 10%: a run whose loopback moved 20% did
    /// not slow the machine by the loopback's bar, one whose loop did has.
    #[test]
    fn each_probe_is_held_to_its_own_bar() {
        let s = ProbeSummary {
            readings: 3,
            median: 90.0,
            min: 80.0,
            max: 100.0,
        };
        assert_eq!(s.moved(Probe::Loop), Some(0.8));
        assert_eq!(s.moved(Probe::Loopback), None);
        let slower = ProbeSummary { min: 70.0, ..s };
        assert_eq!(slower.moved(Probe::Loopback), Some(0.7));
        assert!(Probe::Loop.drift() < Probe::Loopback.drift());
    }

    /// A timing's missing readings leave the other probes' standing, and a
    /// search is held to the contender's core and the loopback, each against
    /// its own readings, never the generator's core.
    #[test]
    fn a_timing_keeps_each_probe_apart() {
        let mut r = ProbeReadings::default();
        let first = ProbeReading {
            contender: Some(600.0),
            generator: None,
            loopback: Some(50.0),
        };
        let second = ProbeReading {
            contender: Some(610.0),
            generator: Some(590.0),
            loopback: None,
        };
        r.push(first);
        r.push(second);
        assert_eq!(r.contender, [600.0, 610.0]);
        assert_eq!(r.generator, [590.0]);
        assert_eq!(r.loopback, [50.0]);
        assert_eq!(*r.at(ProbeSite::GeneratorCore), [590.0]);
        assert_eq!(*second.at(ProbeSite::Loopback), None);
        let around: Vec<_> = r.around(first, second).collect();
        assert_eq!(
            around,
            [
                (
                    ProbeSite::ContenderCore,
                    [Some(610.0), Some(600.0), Some(610.0)]
                ),
                (ProbeSite::Loopback, [Some(50.0), Some(50.0), None]),
            ]
        );
        assert_eq!(
            ProbeSite::ALL.map(|s| (s.probe(), s.drift_checked())),
            [
                (Probe::Loop, true),
                (Probe::Loop, false),
                (Probe::Loopback, true)
            ]
        );
    }
}
