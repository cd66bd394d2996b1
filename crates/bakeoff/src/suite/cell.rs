//! The state of one cell while a run measures it, and its assembly into a
//! finished [`Cell`]: capacity estimate over trials, scaling efficiency, the
//! `noisy`, `truncated`, `machine-noisy`, `generator-limited`, `contended`
//! and `drift` flags, the start-up estimate, and the status.

use std::collections::BTreeSet;

use super::plan::{CellKey, Plan};
use super::{bracket, stats};
use crate::model::{
    Cell, CellStatus, EqualLoad, Flag, Probe, ProbeSite, Startup, StepPhase, StepVerdict, Trial,
    TrialOutcome, WsPoint,
};
use crate::workload::{RateUnit, Workload};

#[derive(Debug, Default)]
pub(super) struct CellState {
    pub(super) trials: Vec<Trial>,
    pub(super) failed: Option<String>,
    pub(super) skipped: Option<String>,
    pub(super) done: bool,
    pub(super) equal: Option<EqualLoad>,
    pub(super) ws: Vec<WsPoint>,
    pub(super) startup_ms: Vec<f64>,
    pub(super) idle_mem: Vec<u64>,
    pub(super) flags: BTreeSet<Flag>,
    pub(super) notes: Vec<String>,
    /// The searches the machine slowed around (where the probe read it, the
    /// search's label, lowest and highest share of the run's reference): one
    /// note per site at [`Self::finish`].
    pub(super) drifts: Vec<(ProbeSite, String, f64, f64)>,
    /// The run's search resolution, which a truncated trial's bracket is held
    /// to ([`bracket::counted`]); none outside a run, where no truncated
    /// trial counts.
    pub(super) resolution: Option<f64>,
}

impl CellState {
    /// The state of `key` before a run measures it: skipped where the plan
    /// skips it, its truncated trials held to the plan's resolution.
    pub(super) fn planned(plan: &Plan, key: &CellKey) -> Self {
        CellState {
            skipped: plan.skip_reason(key),
            resolution: Some(plan.phases.resolution),
            ..CellState::default()
        }
    }

    /// Still to be measured: not finished, failed or skipped.
    pub(super) fn pending(&self) -> bool {
        !self.done && self.failed.is_none() && self.skipped.is_none()
    }
    /// Whether trial `trial` ended machine-noisy.
    pub(super) fn machine_noisy(&self, trial: u32) -> bool {
        self.trials
            .iter()
            .any(|t| t.index == trial && t.outcome == TrialOutcome::MachineNoisy)
    }

    /// Add a trial's result. A trial searched again (after the machine left it
    /// machine-noisy) replaces the first search in its place, with the first
    /// search's steps before its own, numbered on.
    pub(super) fn record_trial(&mut self, mut trial: Trial) {
        let Some(first) = self.trials.iter_mut().find(|t| t.index == trial.index) else {
            self.trials.push(trial);
            return;
        };
        let offset = first.steps.len() as u32;
        for s in &mut trial.steps {
            s.index += offset;
        }
        let mut steps = std::mem::take(&mut first.steps);
        steps.append(&mut trial.steps);
        let n = trial.index + 1;
        let why = first
            .note
            .take()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        *first = Trial { steps, ..trial };
        self.notes.push(format!(
            "trial {n}: searched again at the end of the capacity pass, the machine having stalled its first search{why}"
        ));
    }

    pub(super) fn flag(&mut self, flag: Flag, note: String) {
        self.flags.insert(flag);
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// A probe's readings before and after a search as shares of the run's
/// [`ProbeSummary::reference`](crate::model::ProbeSummary::reference) so far
/// (`[reference, before, after]`), when either is more than the probe's
/// [`Probe::drift`] below it.
pub(super) fn drift(
    probe: Probe,
    [reference, before, after]: [Option<f64>; 3],
) -> Option<(f64, f64)> {
    let reference = reference.filter(|&s| s > 0.0)?;
    let (a, b) = (before? / reference, after? / reference);
    let (lo, hi) = (a.min(b), a.max(b));
    probe.slowed(lo).then_some((lo, hi))
}

/// A share as a whole percentage, rounded down (a hair of slack for a share
/// such as 0.7 whose product with 100 lands just under 70).
fn percent_down(share: f64) -> f64 {
    (share * 100.0 + 1e-9).floor()
}

impl CellState {
    /// Flag `drift` when the readings at `site` around a search (`trial`, its
    /// label) (`[the run's reference so far, before, after]`) fell behind.
    pub(super) fn check_drift(&mut self, trial: &str, site: ProbeSite, speeds: [Option<f64>; 3]) {
        if let Some((lo, hi)) = drift(site.probe(), speeds) {
            self.flags.insert(Flag::Drift);
            self.drifts.push((site, trial.to_string(), lo, hi));
        }
    }

    /// The `drift` notes: per site, one sentence for every search the machine
    /// slowed around, each with its shares, so a noisy host does not repeat it
    /// per trial.
    fn drift_notes(&self) -> Vec<String> {
        ProbeSite::ALL
            .into_iter()
            .filter_map(|site| self.drift_note(site))
            .collect()
    }

    fn drift_note(&self, site: ProbeSite) -> Option<String> {
        let each: Vec<String> = self
            .drifts
            .iter()
            .filter(|d| d.0 == site)
            .map(|(_, trial, lo, hi)| {
                // Rounded down, so a share flagged for being under 90% never
                // reads "90%"; two that round alike are one share, not a range.
                let (lo, hi) = (percent_down(*lo), percent_down(*hi));
                if lo == hi {
                    format!("{trial} {lo:.0}%")
                } else {
                    format!("{trial} {lo:.0}–{hi:.0}%")
                }
            })
            .collect();
        if each.is_empty() {
            return None;
        }
        // What the probe times and what a share is of are the flag's legend,
        // printed once under the table, not in every cell's note.
        Some(format!(
            "the {} ran more than {:.0}% slower than its usual top speed in this run: {}",
            site.what(),
            site.probe().drift() * 100.0,
            each.join(", ")
        ))
    }

    /// The trials' samples: confirmed capacities, 0 for each trial where
    /// nothing passed, and truncated trials at the rate they held when their
    /// brackets leave the headline within the resolution
    /// ([`bracket::counted`]). Failing, machine-noisy and generator-limited
    /// trials, and other truncated ones, are not samples.
    pub(super) fn samples(&self) -> Vec<f64> {
        let counted = self.counted_brackets();
        self.trials
            .iter()
            .filter_map(|t| {
                t.sample().or_else(|| {
                    let b = counted
                        .as_ref()?
                        .brackets
                        .iter()
                        .find(|b| b.index == t.index)?;
                    Some(b.held)
                })
            })
            .collect()
    }

    /// The truncated trials that count, and how far they could move the headline.
    fn counted_brackets(&self) -> Option<bracket::Counted> {
        bracket::counted(&self.trials, self.resolution)
    }

    /// The headline capacity over the samples so far ([`crate::model::Estimate::center`]).
    pub(super) fn median_capacity(&self) -> Option<f64> {
        stats::estimate(&self.samples()).map(|e| e.center())
    }

    /// What the equal-load rate of this cell's workload may rest on, first
    /// found of: the median capacity; the lowest rate a truncated trial failed
    /// in a confirmation-length window; with no sample at all (every trial
    /// machine-noisy, truncated or generator-limited), the lowest rate any
    /// clean window of its searches failed at (a stalled window is recorded
    /// as `stalled`, never `fail`). The server did not sustain such a rate,
    /// so half of it keeps the equal-load window below what it can; leaving
    /// the cell out would put it past its capacity, unflagged. A cell whose
    /// clean trials found no rate meeting the SLO (a median of 0) has none:
    /// its lowest failure is the search's floor, which would set every
    /// contender's rate near zero.
    pub(super) fn equal_load_basis(&self) -> Option<f64> {
        let lowest_fail = |truncated_confirms: bool| {
            self.trials
                .iter()
                .filter(|t| !truncated_confirms || t.outcome == TrialOutcome::Truncated)
                .flat_map(|t| &t.steps)
                .filter(|s| !truncated_confirms || s.phase == StepPhase::Confirm)
                .filter(|s| s.verdict == StepVerdict::Fail)
                .map(|s| s.target_rps)
                .filter(|r| r.is_finite() && *r > 0.0)
                .min_by(f64::total_cmp)
        };
        let median = self.median_capacity();
        median
            .filter(|m| *m > 0.0)
            .or_else(|| lowest_fail(true))
            .or_else(|| median.is_none().then(|| lowest_fail(false)).flatten())
    }

    /// Whether an equal-load window at `rate` would rest on nothing this
    /// contender showed: no basis for the rate (no capacity, or a capacity of
    /// 0: it met the SLO at no rate, so any window is above what it sustains),
    /// and no generator-limited trial that sustained `rate` or more (its lower
    /// bound is a rate the server kept up with) ([`Flag::EqualLoadUnbased`]).
    pub(super) fn equal_load_unbased(&self, rate: f64) -> bool {
        self.equal_load_basis().is_none()
            && !self.trials.iter().any(|t| {
                t.outcome == TrialOutcome::GeneratorLimited
                    && t.capacity_rps.is_some_and(|low| low >= rate)
            })
    }

    /// Flag and explain the trials that are not samples, one line per
    /// outcome; `unit` is what the workload's rate counts.
    fn flag_unsampled_trials(&mut self, unit: RateUnit) {
        let total = self.trials.len();
        // A machine-noisy trial is the machine's: the clean trials stand for
        // the cell unless a lower bound or a failing server keeps it out
        // ([`Cell::out_of_verdicts`]).
        let counted = self.counted_brackets();
        let clean = self.samples().len();
        let kept_out = self.trials.iter().any(|t| match t.outcome {
            TrialOutcome::Truncated => counted.is_none(),
            TrialOutcome::GeneratorLimited | TrialOutcome::Failing => true,
            _ => false,
        });
        for (outcome, flag, what) in [
            (
                TrialOutcome::Failing,
                Flag::Failing,
                "failing (answered mostly with errors even at the lowest rate)",
            ),
            (
                TrialOutcome::Truncated,
                Flag::Truncated,
                "truncated (capacity is a lower bound)",
            ),
            (
                TrialOutcome::MachineNoisy,
                Flag::MachineNoisy,
                "machine-noisy (no clean window)",
            ),
            (
                TrialOutcome::GeneratorLimited,
                Flag::GeneratorLimited,
                "generator-limited (capacity is a lower bound)",
            ),
        ] {
            let hit: Vec<&Trial> = self
                .trials
                .iter()
                .filter(|t| t.outcome == outcome)
                .collect();
            if hit.is_empty() {
                continue;
            }
            let why: Vec<String> = hit
                .iter()
                .map(|t| {
                    let bound = t
                        .capacity_rps
                        .map(|c| format!(" at ≥ {c:.0} {unit}"))
                        .unwrap_or_default();
                    let note = t
                        .note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default();
                    format!("trial {}{bound}{note}", t.index + 1)
                })
                .collect();
            let left_out = match (outcome, &counted) {
                (TrialOutcome::MachineNoisy, _) if clean > 0 && !kept_out => format!(
                    "left out of the estimate, which rests on the {clean} clean {}",
                    if clean == 1 { "trial" } else { "trials" }
                ),
                (TrialOutcome::Truncated, Some(c)) => {
                    // Counted: the cell stays in verdicts, so no flag, but
                    // the note says what the estimate rests on.
                    let note = format!(
                        "{} of {total} trials {what}, counted at the rate {} held a confirmation window: anywhere between that and the long failure above, {} the estimate by {:.1}% at most, within the {:.0}% resolution; {}",
                        hit.len(),
                        if hit.len() == 1 { "it" } else { "each" },
                        if hit.len() == 1 { "it moves" } else { "they move" },
                        c.shift * 100.0,
                        self.resolution.unwrap_or_default() * 100.0,
                        why.join("; ")
                    );
                    if !self.notes.contains(&note) {
                        self.notes.push(note);
                    }
                    continue;
                }
                _ => "left out of the estimate and of verdicts".to_string(),
            };
            let note = format!(
                "{} of {total} trials {what}, {left_out}; {}",
                hit.len(),
                why.join("; ")
            );
            self.flag(flag, note);
        }
    }

    /// Assemble the finished cell and mark this state done. `cap1` is the median
    /// capacity of the same contender and workload with one worker, if measured;
    /// `cores`, the CPUs the contender is pinned to (0: unpinned).
    pub(super) fn finish(&mut self, key: &CellKey, cap1: Option<f64>, cores: u32) -> Cell {
        self.done = true;
        let drifted = self.drift_notes();
        self.notes.extend(drifted);
        let samples = self.samples();
        let capacity = stats::estimate(&samples);
        self.flag_unsampled_trials(key.workload.rate_unit());
        if let Some(e) = capacity {
            if e.noisy {
                self.flag(
                    Flag::Noisy,
                    format!(
                        "capacity varies by {:.0}% across trials (CV > 10%)",
                        e.cv * 100.0
                    ),
                );
            }
        }
        let none = self
            .trials
            .iter()
            .filter(|t| t.outcome == TrialOutcome::NoCapacity)
            .count();
        if none > 0 {
            self.notes.push(format!(
                "{none} of {} trials found no rate meeting the SLO (each counted as 0)",
                self.trials.len()
            ));
        }
        let scaling_efficiency = match (capacity, cap1) {
            (Some(e), Some(c1)) if key.workers > 1 && c1 > 0.0 => {
                Some(e.center() / (key.workers as f64 * c1))
            }
            _ => None,
        };
        if let Some(c) = self
            .equal
            .as_ref()
            .and_then(|e| e.consistency.clone())
            .filter(|c| !c.ok)
        {
            self.flag(
                Flag::Inconsistent,
                format!("{} check failed: {}", c.check, c.detail),
            );
        }
        let loads = !matches!(key.workload, Workload::Startup);
        if loads && self.skipped.is_none() && key.workers > cores {
            self.flag(
                Flag::Contended,
                match cores {
                    0 => "unpinned: the contender shares the generator's CPUs".to_string(),
                    _ => format!(
                        "{} workers on {cores} CPU(s) of the contender's own: they share CPUs",
                        key.workers
                    ),
                },
            );
        }
        let startup = stats::estimate(&self.startup_ms).map(|to_healthy_ms| Startup {
            to_healthy_ms,
            idle_rss_bytes: stats::median(
                &self.idle_mem.iter().map(|&b| b as f64).collect::<Vec<_>>(),
            )
            .unwrap_or(0.0) as u64,
        });
        if let Some(s) = startup.filter(|s| s.to_healthy_ms.noisy) {
            self.flag(
                Flag::Noisy,
                format!(
                    "start-up time varies by {:.0}% (CV > 10%)",
                    s.to_healthy_ms.cv * 100.0
                ),
            );
        }
        let status = match (&self.skipped, &self.failed) {
            (Some(r), _) => CellStatus::Skipped { reason: r.clone() },
            (None, Some(r)) => CellStatus::Failed { reason: r.clone() },
            (None, None) => CellStatus::Ok,
        };
        let cell = Cell {
            contender: key.contender.clone(),
            workload: key.workload.clone(),
            workers: key.workers,
            database: key.database,
            status,
            capacity,
            trials: std::mem::take(&mut self.trials),
            equal_load: self.equal.take(),
            ws: std::mem::take(&mut self.ws),
            startup: if key.workload == Workload::Startup {
                startup
            } else {
                None
            },
            scaling_efficiency,
            flags: self.flags.iter().cloned().collect(),
            notes: std::mem::take(&mut self.notes),
        };
        // Keep the capacities for later scaling efficiencies and equal-load rates.
        self.trials = cell.trials.clone();
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Consistency, Interval};

    fn trial(index: u32, capacity_rps: Option<f64>, outcome: TrialOutcome) -> Trial {
        Trial {
            index,
            capacity_rps,
            outcome,
            note: Some(format!("note {index}")),
            steps: Vec::new(),
        }
    }

    fn key() -> CellKey {
        CellKey {
            contender: "a".into(),
            workload: Workload::Json,
            workers: 1,
            database: None,
        }
    }

    #[test]
    fn a_trial_with_nothing_passing_is_a_zero_sample() {
        let mut st = CellState {
            trials: vec![
                trial(0, Some(1000.0), TrialOutcome::Confirmed),
                trial(1, None, TrialOutcome::NoCapacity),
                trial(2, Some(1100.0), TrialOutcome::Confirmed),
            ],
            ..CellState::default()
        };
        let cell = st.finish(&key(), None, 4);
        let cap = cell.capacity.unwrap();
        assert_eq!(
            (cap.n, cap.interval, cap.center()),
            (3, Interval::Range, 1000.0)
        );
        assert_eq!(cap.ci_low, 0.0);
        assert!(cell.out_of_verdicts().is_none(), "{:?}", cell.flags);
        assert!(cell
            .notes
            .iter()
            .any(|n| n.contains("1 of 3 trials found no rate")));
    }

    /// A trial whose server answered mostly with errors is no sample (not a
    /// 0): the cell is flagged, its note counts the trial among all of them,
    /// and it is left out of verdicts, whatever its other trials found.
    #[test]
    fn a_failing_trial_is_no_sample_and_keeps_the_cell_out_of_verdicts() {
        let mut st = CellState {
            trials: vec![
                trial(0, Some(1000.0), TrialOutcome::Confirmed),
                trial(1, None, TrialOutcome::Failing),
                trial(2, Some(1100.0), TrialOutcome::Confirmed),
            ],
            ..CellState::default()
        };
        assert_eq!(st.samples(), [1000.0, 1100.0]);
        let cell = st.finish(&key(), None, 4);
        assert_eq!(cell.capacity.map(|c| c.n), Some(2));
        assert!(cell.flags.contains(&Flag::Failing), "{:?}", cell.flags);
        assert!(
            cell.notes.iter().any(|n| n
                == "1 of 3 trials failing (answered mostly with errors even at the lowest rate), left out of the estimate and of verdicts; trial 2: note 1"),
            "{:?}",
            cell.notes
        );
        assert!(
            !cell.notes.iter().any(|n| n.contains("counted as 0")),
            "{:?}",
            cell.notes
        );
        assert_eq!(cell.out_of_verdicts(), Some(Flag::Failing));
        assert!(cell.verdict_capacity().is_none());

        let mut st = CellState {
            trials: vec![
                trial(0, None, TrialOutcome::Failing),
                trial(1, None, TrialOutcome::Failing),
            ],
            ..CellState::default()
        };
        let cell = st.finish(&key(), None, 4);
        assert_eq!(cell.capacity, None);
        assert_eq!(st.equal_load_basis(), None, "no equal-load window");
        assert_eq!(cell.out_of_verdicts(), Some(Flag::Failing));
        assert!(
            cell.notes
                .iter()
                .any(|n| n.starts_with("2 of 2 trials failing")),
            "{:?}",
            cell.notes
        );
    }

    #[test]
    fn lower_bounds_are_not_samples_and_keep_the_cell_out_of_verdicts() {
        let mut st = CellState {
            trials: vec![
                trial(0, Some(1000.0), TrialOutcome::Confirmed),
                trial(1, Some(700.0), TrialOutcome::Truncated),
                trial(2, None, TrialOutcome::MachineNoisy),
                trial(3, Some(900.0), TrialOutcome::GeneratorLimited),
            ],
            ..CellState::default()
        };
        let cell = st.finish(&key(), None, 4);
        let cap = cell.capacity.unwrap();
        assert_eq!(
            (cap.n, cap.interval, cap.center()),
            (1, Interval::Single, 1000.0)
        );
        for flag in [Flag::Truncated, Flag::MachineNoisy, Flag::GeneratorLimited] {
            assert!(cell.flags.contains(&flag), "{flag}: {:?}", cell.flags);
        }
        assert!(
            cell.notes
                .iter()
                .any(|n| n.starts_with("1 of 4 trials machine-noisy (no clean window), left out of the estimate and of verdicts")),
            "{:?}",
            cell.notes
        );
        let truncated = cell
            .notes
            .iter()
            .find(|n| n.starts_with("1 of 4 trials truncated"))
            .expect("a note on the truncated trial");
        assert!(
            truncated.contains("trial 2 at ≥ 700 req/s: note 1"),
            "{truncated}"
        );
        assert!(cell.out_of_verdicts().is_some());
        assert!(cell.verdict_capacity().is_none());
        // A fan-out search's rate counts messages.
        st.done = false;
        st.notes.clear();
        let ws = CellKey {
            workload: Workload::Ws,
            ..key()
        };
        let cell = st.finish(&ws, None, 4);
        assert!(
            cell.notes
                .iter()
                .any(|n| n.contains("trial 2 at ≥ 700 msg/s: note 1")),
            "{:?}",
            cell.notes
        );
    }

    /// A machine-noisy trial is the machine's: the clean trials stand for the
    /// cell in verdicts, with their own n; with none clean, the cell is out.
    #[test]
    fn clean_trials_stand_for_a_cell_whose_other_trials_were_machine_noisy() {
        let mut st = CellState {
            trials: vec![
                trial(0, Some(1000.0), TrialOutcome::Confirmed),
                trial(1, None, TrialOutcome::MachineNoisy),
                trial(2, Some(1100.0), TrialOutcome::Confirmed),
            ],
            ..CellState::default()
        };
        let cell = st.finish(&key(), None, 4);
        assert!(cell.flags.contains(&Flag::MachineNoisy), "{:?}", cell.flags);
        assert_eq!(cell.out_of_verdicts(), None);
        let cap = cell.verdict_capacity().expect("the clean trials stand");
        assert_eq!((cap.n, cap.center()), (2, 1050.0));
        assert!(
            cell.notes.iter().any(|n| n.starts_with(
                "1 of 3 trials machine-noisy (no clean window), left out of the estimate, which rests on the 2 clean trials; trial 2: note 1"
            )),
            "{:?}",
            cell.notes
        );

        let mut st = CellState {
            trials: vec![
                trial(0, None, TrialOutcome::MachineNoisy),
                trial(1, None, TrialOutcome::MachineNoisy),
            ],
            ..CellState::default()
        };
        let cell = st.finish(&key(), None, 4);
        assert_eq!(cell.capacity, None);
        assert_eq!(cell.out_of_verdicts(), Some(Flag::MachineNoisy));
        assert!(
            cell.notes
                .iter()
                .any(|n| n.contains("left out of the estimate and of verdicts")),
            "{:?}",
            cell.notes
        );
    }

    #[test]
    fn a_failed_consistency_check_flags_the_cell() {
        let mut eq = crate::report::fixtures::equal_load(100.0, 5.0, 1 << 20);
        eq.consistency = Some(Consistency {
            check: "upstream calls".into(),
            ok: false,
            detail: "412 calls > 400 sent".into(),
        });
        let mut st = CellState {
            trials: vec![trial(0, Some(1000.0), TrialOutcome::Confirmed)],
            equal: Some(eq),
            ..CellState::default()
        };
        let cell = st.finish(&key(), None, 4);
        assert!(cell.flags.contains(&Flag::Inconsistent));
        assert!(cell
            .notes
            .contains(&"upstream calls check failed: 412 calls > 400 sent".to_string()));
    }

    /// Every search the machine slowed around is named in one `drift` note per
    /// probe with its shares, each held to its probe's bar; a steady search
    /// adds nothing, and a steady cell no note.
    #[test]
    fn drifting_searches_share_one_note() {
        let mut st = CellState::default();
        let by_loop = ProbeSite::ContenderCore;
        st.check_drift("trial 1", by_loop, [Some(100.0), Some(70.0), Some(72.0)]);
        st.check_drift("trial 2", by_loop, [Some(100.0), Some(99.0), Some(98.0)]);
        st.check_drift("trial 3", by_loop, [Some(100.0), Some(85.0), Some(95.0)]);
        // Under 90% both, so neither reads "90%" (rounded, 89.8 would).
        st.check_drift("trial 4", by_loop, [Some(100.0), Some(89.2), Some(89.8)]);
        // The loopback's bar is 25%: 80% is within it, 70% is not.
        let by_loopback = ProbeSite::Loopback;
        st.check_drift("trial 1", by_loopback, [Some(60.0), Some(48.0), Some(55.0)]);
        st.check_drift("trial 2", by_loopback, [Some(60.0), Some(59.0), Some(42.0)]);
        let cell = st.finish(&key(), None, 4);
        assert!(cell.flags.contains(&Flag::Drift));
        let drift: Vec<&String> = cell
            .notes
            .iter()
            .filter(|n| n.contains("usual top speed"))
            .collect();
        assert_eq!(drift.len(), 2, "{:?}", cell.notes);
        assert!(
            drift[0].starts_with("the contender's core ran more than 10% slower")
                && drift[0].ends_with(": trial 1 70–72%, trial 3 85–95%, trial 4 89%"),
            "{}",
            drift[0]
        );
        assert!(!drift[0].contains("trial 2"), "{}", drift[0]);
        assert!(
            drift[1].starts_with("the loopback between the cores ran more than 25% slower")
                && drift[1].ends_with("in this run: trial 2 70–98%"),
            "{}",
            drift[1]
        );

        let mut steady = CellState::default();
        steady.check_drift("trial 1", by_loop, [Some(100.0), Some(99.0), Some(98.0)]);
        let cell = steady.finish(&key(), None, 4);
        assert!(!cell.flags.contains(&Flag::Drift));
        assert!(cell.notes.is_empty(), "{:?}", cell.notes);
    }

    /// A cell without a capacity still bounds the equal-load rate: by the
    /// lowest rate a truncated trial failed in a long window, else by the
    /// lowest clean failure of any window; a confirmed capacity comes first.
    #[test]
    fn equal_load_rests_on_the_capacity_or_the_lowest_long_failure() {
        use crate::model::SearchStep;
        let step = |phase, target_rps, verdict| SearchStep {
            index: 0,
            phase,
            target_rps,
            achieved_rps: target_rps,
            p99_ms: 300.0,
            error_rate: 0.0,
            verdict,
            duration_s: 5.0,
            reasons: vec![],
        };
        let mut t = trial(0, None, TrialOutcome::Truncated);
        t.steps = vec![
            step(StepPhase::Bisect, 900.0, StepVerdict::Fail),
            step(StepPhase::Confirm, 1_800.0, StepVerdict::Fail),
            step(StepPhase::Confirm, 1_200.0, StepVerdict::Fail),
            step(StepPhase::Confirm, 1_100.0, StepVerdict::Stalled),
        ];
        let mut st = CellState {
            trials: vec![t.clone()],
            ..CellState::default()
        };
        assert_eq!(st.equal_load_basis(), Some(1_200.0));
        st.trials
            .push(trial(1, Some(1_500.0), TrialOutcome::Confirmed));
        assert_eq!(st.equal_load_basis(), Some(1_500.0));
        let limited = trial(0, Some(700.0), TrialOutcome::GeneratorLimited);
        st.trials = vec![limited];
        assert_eq!(st.equal_load_basis(), None);
        // Its lower bound is a rate it sustained: a window at or below it
        // rests on that, one above it on nothing.
        assert!(!st.equal_load_unbased(350.0) && !st.equal_load_unbased(700.0));
        assert!(st.equal_load_unbased(701.0));
        // No sample: the lowest clean failure of any window, of any trial;
        // a stalled window is no failure.
        let mut noisy = trial(1, None, TrialOutcome::MachineNoisy);
        noisy.steps = vec![
            step(StepPhase::Ramp, 800.0, StepVerdict::Pass),
            step(StepPhase::Ramp, 1_600.0, StepVerdict::Fail),
            step(StepPhase::Bisect, 1_300.0, StepVerdict::Fail),
            step(StepPhase::Confirm, 1_000.0, StepVerdict::Stalled),
        ];
        st.trials.push(noisy);
        assert_eq!(st.equal_load_basis(), Some(1_300.0));
        assert!(!st.equal_load_unbased(1_000.0));
        // A truncated trial's long failure still comes first.
        st.trials.push(t);
        assert_eq!(st.equal_load_basis(), Some(1_200.0));
        // Clean trials that found no rate meeting the SLO (a median of 0)
        // have no basis: their lowest failure is the search's floor.
        let mut none = trial(0, None, TrialOutcome::NoCapacity);
        none.steps = vec![step(StepPhase::Ramp, 1.0, StepVerdict::Fail)];
        st.trials = vec![none];
        assert_eq!(st.equal_load_basis(), None);
        // Its window is above what it sustains at the SLO (any rate is).
        assert!(st.equal_load_unbased(1_000.0), "a clean trial: capacity 0");
    }
}
