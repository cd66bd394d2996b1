//! Truncated trials that still count: a search cut short with a bracket — a
//! rate that held a confirmation window and a long-window failure above it —
//! wider than the resolution has its capacity somewhere in that bracket. A
//! cell's headline (a median, or a mean) moves with each sample monotonically,
//! so where the bracket could leave it is known exactly: between the estimate
//! with every such trial at its held rate and the one with each at its
//! failure. When those are within the search's resolution, the cell's
//! headline is known as well as any search finds it, and the trials count at
//! their held rates (lower bounds, so the estimate errs low); otherwise they
//! keep the cell out of verdicts, as every truncated trial did before
//! (docs/methodology.md, "A search that finishes").

use super::stats;
use crate::model::{StepPhase, StepVerdict, Trial, TrialOutcome};

/// A truncated trial's bracket: `index`, the rate it `held` a confirmation
/// window at (its lower bound), and the lowest rate above it that `failed` one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Bracket {
    pub index: u32,
    pub held: f64,
    pub failed: f64,
}

/// The cell's truncated trials, all bracketed, and how far their brackets
/// could move its headline: `shift` = the estimate with each at its failure ÷
/// the one with each at its held rate − 1.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Counted {
    pub brackets: Vec<Bracket>,
    pub shift: f64,
}

/// `t`'s bracket, when it is a truncated trial that held a confirmation window
/// at its lower bound and failed one above it (a server failure: a window the
/// generator could not hold, or the machine stalled, bounds nothing).
pub(super) fn bracket(t: &Trial) -> Option<Bracket> {
    if t.outcome != TrialOutcome::Truncated {
        return None;
    }
    let held = t.capacity_rps.filter(|c| c.is_finite() && *c > 0.0)?;
    let long = |verdict: StepVerdict| {
        t.steps
            .iter()
            .filter(move |s| s.phase == StepPhase::Confirm && s.verdict == verdict)
            .map(|s| s.target_rps)
    };
    // The stored capacity is the held window's rate itself; a hair of slack
    // for a round trip through the store.
    let same = |r: f64| (r - held).abs() <= held * 1e-9;
    if !long(StepVerdict::Pass).any(same) {
        return None;
    }
    let failed = long(StepVerdict::Fail)
        .filter(|&r| r > held && !same(r))
        .min_by(f64::total_cmp)?;
    Some(Bracket {
        index: t.index,
        held,
        failed,
    })
}

/// Whether `trials`' truncated ones count toward the estimate: each has a
/// [`bracket`], and with every one anywhere in its bracket the headline
/// ([`crate::model::Estimate::center`]) moves by no more than `resolution`.
/// None when there is no truncated trial, no resolution to hold it to (a
/// cell built outside a run), or either condition fails.
pub(super) fn counted(trials: &[Trial], resolution: Option<f64>) -> Option<Counted> {
    let resolution = resolution?;
    let brackets = brackets(trials)?;
    let low = center(trials, &brackets, |b| b.held).filter(|c| *c > 0.0)?;
    let high = center(trials, &brackets, |b| b.failed)?;
    let shift = high / low - 1.0;
    (shift <= resolution + 1e-9).then_some(Counted { brackets, shift })
}

/// The highest a cell's headline could be when truncated trials keep it out
/// of verdicts: the estimate with each at the long failure above it. `None`
/// without a truncated trial, or with one that has no bracket (nothing
/// above it failed a long window, so nothing bounds it).
pub fn headline_upper_bound(trials: &[Trial]) -> Option<f64> {
    center(trials, &brackets(trials)?, |b| b.failed)
}

/// Every truncated trial's bracket: `None` when there is no truncated trial,
/// or one has none.
fn brackets(trials: &[Trial]) -> Option<Vec<Bracket>> {
    let brackets: Vec<Bracket> = trials
        .iter()
        .filter(|t| t.outcome == TrialOutcome::Truncated)
        .map(bracket)
        .collect::<Option<_>>()?;
    (!brackets.is_empty()).then_some(brackets)
}

/// The headline over the trials' samples with each bracketed trial `at` a
/// point of its bracket.
fn center(trials: &[Trial], brackets: &[Bracket], at: fn(&Bracket) -> f64) -> Option<f64> {
    let mut samples: Vec<f64> = trials.iter().filter_map(Trial::sample).collect();
    samples.extend(brackets.iter().map(at));
    stats::estimate(&samples).map(|e| e.center())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SearchStep;

    fn step(phase: StepPhase, rate: f64, verdict: StepVerdict) -> SearchStep {
        SearchStep {
            index: 0,
            phase,
            target_rps: rate,
            achieved_rps: rate,
            p99_ms: 1.0,
            error_rate: 0.0,
            verdict,
            duration_s: 10.0,
            reasons: Vec::new(),
        }
    }

    fn confirmed(index: u32, c: f64) -> Trial {
        Trial {
            index,
            capacity_rps: Some(c),
            outcome: TrialOutcome::Confirmed,
            note: None,
            steps: Vec::new(),
        }
    }

    /// st76's run 3, node-fastify `json`: held 65,605, failed 68,900 (5.0%
    /// apart, the resolution 3%), its windows as the search left them.
    fn truncated(index: u32, held: f64, failed: f64) -> Trial {
        use StepPhase::{Bisect, Confirm};
        use StepVerdict::{Fail, Pass};
        Trial {
            index,
            capacity_rps: Some(held),
            outcome: TrialOutcome::Truncated,
            note: Some("cut short".into()),
            steps: vec![
                step(Bisect, failed * 1.2, Pass), // a short window above: no bound
                step(Confirm, failed * 1.1, Fail),
                step(Confirm, held * 0.75, Pass),
                step(Confirm, held, Pass),
                step(Confirm, failed, Fail),
                step(Confirm, failed * 1.05, StepVerdict::GeneratorLimited),
            ],
        }
    }

    #[test]
    fn a_bracket_is_a_held_confirmation_and_the_lowest_long_failure_above_it() {
        let t = truncated(2, 65_605.0, 68_900.0);
        assert_eq!(
            bracket(&t),
            Some(Bracket {
                index: 2,
                held: 65_605.0,
                failed: 68_900.0
            })
        );
        // Held by short windows only, or with no long failure above: no bracket.
        let mut short = t.clone();
        short.steps.retain(|s| s.target_rps != 65_605.0);
        assert_eq!(bracket(&short), None);
        let mut open = t.clone();
        open.steps.retain(|s| s.verdict != StepVerdict::Fail);
        assert_eq!(bracket(&open), None);
        assert_eq!(bracket(&confirmed(0, 65_605.0)), None);
    }

    /// The median of three is the same wherever in its bracket the lowest
    /// trial lies: it counts, at its held rate.
    #[test]
    fn a_bracket_below_the_median_leaves_it_where_it_is() {
        let trials = [
            confirmed(0, 74_215.0),
            confirmed(1, 71_684.0),
            truncated(2, 65_605.0, 68_900.0),
        ];
        let c = counted(&trials, Some(0.03)).expect("counted");
        assert_eq!(c.shift, 0.0);
        assert_eq!(c.brackets.len(), 1);
        // At its failure the trial is still the lowest: the median stays.
        assert_eq!(headline_upper_bound(&trials), Some(71_684.0));
        assert_eq!(
            headline_upper_bound(&trials[..2]),
            None,
            "nothing truncated"
        );
    }

    /// A bracket that straddles the median moves it: by 2.4% (sfull70's
    /// python-fastapi `db`, 3,110–3,266 beside 3,191 and 4,311) it counts at
    /// a 3% resolution and not at 2%.
    #[test]
    fn a_bracket_across_the_median_counts_only_within_the_resolution() {
        let trials = [
            confirmed(0, 3_191.0),
            confirmed(1, 4_311.0),
            truncated(2, 3_110.0, 3_266.0),
        ];
        let c = counted(&trials, Some(0.03)).expect("within 3%");
        assert!((c.shift - (3_266.0 / 3_191.0 - 1.0)).abs() < 1e-12, "{c:?}");
        assert_eq!(counted(&trials, Some(0.02)), None);
        assert_eq!(headline_upper_bound(&trials), Some(3_266.0));
    }

    /// A lone truncated trial is its own headline: a bracket wider than the
    /// resolution (why it was truncated) never counts. Nor does a cell with
    /// a truncated trial that has no bracket, or built with no resolution.
    #[test]
    fn what_keeps_a_truncated_trial_out() {
        let lone = [truncated(0, 1_000.0, 1_050.0)];
        assert_eq!(counted(&lone, Some(0.03)), None);
        let mut open = truncated(2, 65_605.0, 68_900.0);
        open.steps.retain(|s| s.verdict != StepVerdict::Fail);
        let with_open = [
            confirmed(0, 74_215.0),
            confirmed(1, 71_684.0),
            truncated(3, 65_605.0, 68_900.0),
            open,
        ];
        assert_eq!(counted(&with_open, Some(0.03)), None);
        let fine = [
            confirmed(0, 74_215.0),
            confirmed(1, 71_684.0),
            truncated(2, 65_605.0, 68_900.0),
        ];
        assert_eq!(counted(&fine, None), None);
        assert_eq!(counted(&fine[..2], Some(0.03)), None, "nothing truncated");
    }

    /// A run's cells hold their truncated trials to its profile's resolution.
    #[test]
    fn a_runs_cells_take_its_resolution() {
        use super::super::cell::CellState;
        use super::super::plan::tests::spec;
        use super::super::runner_tests::plan;
        let p = plan(vec![spec("a")], &["json"], 3, &[]);
        let key = p.cells().into_iter().next().expect("a cell");
        let st = CellState::planned(&p, &key);
        assert_eq!(st.resolution, Some(p.phases.resolution));
        assert!(st.skipped.is_none());
    }

    /// The cell: a counted bracket is a sample at its held rate, the cell in
    /// verdicts, unflagged, its note saying so; the same trials held to a
    /// finer resolution keep it out, flagged, on the other two trials' estimate.
    #[test]
    fn a_counted_bracket_keeps_its_cell_in_verdicts_and_says_so() {
        use super::super::cell::CellState;
        use super::super::plan::CellKey;
        use crate::model::{Flag, Interval};
        use crate::workload::Workload;
        let key = CellKey {
            contender: "python-fastapi".into(),
            workload: Workload::Db,
            workers: 1,
            database: None,
        };
        let trials = vec![
            confirmed(0, 3_191.0),
            confirmed(1, 4_311.0),
            truncated(2, 3_110.0, 3_266.0),
        ];
        let mut st = CellState {
            trials: trials.clone(),
            resolution: Some(0.03),
            ..CellState::default()
        };
        assert_eq!(st.samples(), [3_191.0, 4_311.0, 3_110.0]);
        let cell = st.finish(&key, None, 4);
        let cap = cell.capacity.expect("an estimate");
        assert_eq!(
            (cap.n, cap.interval, cap.center()),
            (3, Interval::Range, 3_191.0)
        );
        assert_eq!(cap.ci_low, 3_110.0);
        assert!(cell.out_of_verdicts().is_none(), "{:?}", cell.flags);
        assert!(!cell.flags.contains(&Flag::Truncated), "{:?}", cell.flags);
        let note = cell
            .notes
            .iter()
            .find(|n| n.starts_with("1 of 3 trials truncated"))
            .expect("a note on the truncated trial");
        assert!(
            note.contains("counted at the rate it held a confirmation window")
                && note.contains("by 2.4% at most, within the 3% resolution")
                && note.contains("trial 3 at ≥ 3110 req/s: cut short"),
            "{note}"
        );

        let mut fine = CellState {
            trials,
            resolution: Some(0.02),
            ..CellState::default()
        };
        let cell = fine.finish(&key, None, 4);
        assert_eq!(cell.out_of_verdicts(), Some(Flag::Truncated));
        assert_eq!(cell.capacity.map(|c| c.n), Some(2));
        assert!(cell
            .notes
            .iter()
            .any(|n| n.contains("left out of the estimate and of verdicts")));
    }
}
