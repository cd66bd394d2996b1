//! The machine probes' readings over a run (the drift probe's integer loop on
//! each core, the loopback probe between them), summarised for the store and
//! `compare`, and the yardstick a search's readings are held against.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The drift probe's readings over one run (`measure::speed::core_speed`, on
/// the contender's core at the start and around every capacity search), in
/// millions of loop iterations per second: two runs whose medians differ ran
/// on a machine of different speed, and their capacities moved with it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CoreSpeed {
    pub readings: u32,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl CoreSpeed {
    /// The summary of `readings` (positive, finite ones); none without any.
    pub fn of(readings: &[f64]) -> Option<CoreSpeed> {
        let r = real(readings);
        Some(CoreSpeed {
            readings: r.len() as u32,
            median: crate::suite::stats::median(&r)?,
            min: r.iter().copied().reduce(f64::min)?,
            max: r.iter().copied().reduce(f64::max)?,
        })
    }

    /// A reading more than this share below the run's [`CoreSpeed::reference`]
    /// is a slowed machine (a trial around it is flagged `drift`).
    pub const DRIFT: f64 = 0.10;

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
    /// [`CoreSpeed::DRIFT`] below it: the machine's speed moved during the run.
    pub fn moved(&self) -> Option<f64> {
        let share = self.min / self.max;
        (self.max > 0.0 && share < 1.0 - Self::DRIFT).then_some(share)
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

/// What a [`CoreSpeed`] timed: the unit of its readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// The probes' summaries over a run, one per core the drift probe reads and
/// the loopback between them: what a run (or an interrupted one) hands to the
/// store.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CoreSpeeds {
    /// The contender's core ([`Environment::core_speed`](super::Environment::core_speed)).
    pub contender: Option<CoreSpeed>,
    /// The generator's core ([`Environment::generator_core_speed`](super::Environment::generator_core_speed)).
    pub generator: Option<CoreSpeed>,
    /// The loopback between them ([`Environment::loopback_speed`](super::Environment::loopback_speed)).
    pub loopback: Option<CoreSpeed>,
}

/// The probes' readings over a run so far, in the order they were taken.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeReadings {
    pub contender: Vec<f64>,
    pub generator: Vec<f64>,
    pub loopback: Vec<f64>,
}

impl ProbeReadings {
    /// The summaries of each probe's readings.
    pub fn summary(&self) -> CoreSpeeds {
        CoreSpeeds {
            contender: CoreSpeed::of(&self.contender),
            generator: CoreSpeed::of(&self.generator),
            loopback: CoreSpeed::of(&self.loopback),
        }
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
        assert_eq!(CoreSpeed::of(&[]), None);
        assert_eq!(
            CoreSpeed::of(&[0.0, f64::NAN, -1.0]),
            None,
            "no real reading"
        );
        let s = CoreSpeed::of(&[650.0, 455.0, 0.0, 640.0, 460.0]).unwrap();
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
        assert_eq!(CoreSpeed::reference(&[]), None);
        assert_eq!(CoreSpeed::reference(&[0.0, f64::NAN]), None);
        assert_eq!(CoreSpeed::reference(&[80.0]), Some(80.0));
        let few = [90.0, 100.0, 0.0, 95.0, 85.0, 92.0, 91.0, 93.0, 94.0, 96.0];
        assert_eq!(CoreSpeed::reference(&few), Some(100.0), "nine real ones");
        // Twenty readings of a steady core around 85 and one at 100.
        let mut many: Vec<f64> = (0..20).map(|i| 84.0 + f64::from(i % 3)).collect();
        many.push(100.0);
        let reference = CoreSpeed::reference(&many).unwrap();
        assert_eq!(reference, 86.0);
        assert!(many[..20]
            .iter()
            .all(|s| s / reference > 1.0 - CoreSpeed::DRIFT));
        assert!(many[..20]
            .iter()
            .any(|s| s / 100.0 < 1.0 - CoreSpeed::DRIFT));
    }
}
