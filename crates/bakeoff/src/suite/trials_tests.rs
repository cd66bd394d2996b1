//! Tests of a cell's trials across the plan's launches ([`super::runner`]):
//! a machine-noisy trial searched again, windows judged under a raised steal
//! limit, a machine slowing down around a search, and the trials after a
//! failing one; with the fakes on tokio's paused clock.

use tokio_util::sync::CancellationToken;

use super::fakes::*;
use super::plan::tests::spec;
use super::plan::{Launch, LaunchKind};
use super::runner_tests::{fc, plan, Harness};
use super::*;
use crate::model::{Cell, Flag, Probe, StepVerdict, TrialOutcome};

/// A trial the machine left machine-noisy (its first window stalled three
/// times) is searched once more at the end of the capacity pass, inside the
/// plan's worst case, and the new search replaces it with both searches' steps.
#[tokio::test(start_paused = true)]
async fn a_machine_noisy_trial_is_searched_again_at_the_end() {
    let a = FakeContender::new(ServerModel::mm1(500.0).with_next_windows_stalled(3));
    let mut h = Harness::new(vec![("a", a), ("b", fc(800.0))]);
    let p = plan(vec![spec("a"), spec("b")], &["json"], 2, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let order = h.launch_order();
    // The Latin square, a's first trial again, then the final pass.
    assert_eq!(order, ["a", "b", "b", "a", "a", "a", "b"]);
    let cell = h.cell("a", "json");
    assert_eq!(cell.trials.len(), 2, "{:#?}", cell.trials);
    let first = cell.trials.iter().find(|t| t.index == 0).unwrap();
    assert_eq!(first.outcome, TrialOutcome::Confirmed, "{first:#?}");
    let stalled = first
        .steps
        .iter()
        .take_while(|s| s.verdict == StepVerdict::Stalled)
        .count();
    assert_eq!(stalled, 3, "the first search's steps come first");
    let indices: Vec<u32> = first.steps.iter().map(|s| s.index).collect();
    assert!(indices.windows(2).all(|w| w[1] == w[0] + 1), "{indices:?}");
    assert!(
        !cell.flags.contains(&Flag::MachineNoisy),
        "{:?}",
        cell.flags
    );
    // The note says why the first search was replaced.
    assert!(
        cell.notes.iter().any(|n| n.starts_with(
            "trial 1: searched again at the end of the capacity pass, the machine having stalled its first search (no clean window at"
        )),
        "{:?}",
        cell.notes
    );
    // Its progress says so, and the time left covers that search and the
    // final pass (the plan's worst case, not the final pass alone).
    let again = h
        .progress
        .iter()
        .find(|p| p.cell.contains("trial 1/2, searched again"))
        .expect("progress names the search again");
    let launches = p.launches();
    let budget = |l: &Launch| p.launch_budget(l, plan::ASSUMED_STARTUP);
    let finals: Duration = launches
        .iter()
        .filter(|l| l.kind == LaunchKind::Final)
        .map(budget)
        .sum();
    assert!(
        again.eta >= budget(&launches[0]) + finals,
        "{:?} < {:?} + {:?}",
        again.eta,
        budget(&launches[0]),
        finals
    );
    // A machine that keeps stalling leaves the trial machine-noisy after one
    // more search.
    let a = || FakeContender::new(ServerModel::mm1(500.0).with_stalls(1.0));
    let mut h = Harness::new(vec![("a", a()), ("b", fc(800.0))]);
    let p = plan(vec![spec("a"), spec("b")], &["json"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let cell = h.cell("a", "json");
    assert_eq!(cell.trials[0].outcome, TrialOutcome::MachineNoisy);
    assert_eq!(
        cell.trials[0].steps.len(),
        6,
        "two searches of three attempts"
    );
    assert!(cell.flags.contains(&Flag::MachineNoisy));
    // Each search's reason is said once: the first's in the search again's
    // note, the last in the flag's line.
    let said = |what: &str| {
        cell.notes
            .iter()
            .map(|n| n.matches(what).count())
            .sum::<usize>()
    };
    assert_eq!(said("no clean window at"), 2, "{:?}", cell.notes);
    assert_eq!(said("searched again"), 1, "{:?}", cell.notes);
    // With no clean search in the run to size it by (the machine never let
    // up), none is made.
    let mut h = Harness::new(vec![("a", a())]);
    let p = plan(vec![spec("a")], &["json"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    assert_eq!(h.cell("a", "json").trials[0].steps.len(), 3);
}

/// Windows judged with steal that only the run's raised limit let through flag
/// their cell, and its note counts them: such a capacity may read low.
#[tokio::test(start_paused = true)]
async fn windows_judged_under_a_raised_steal_limit_flag_their_cell() {
    let a = FakeContender::new(ServerModel::mm1(500.0).with_tolerated_steal());
    let mut h = Harness::new(vec![("a", a), ("b", fc(800.0))]);
    let mut p = plan(vec![spec("a"), spec("b")], &["json"], 1, &[]);
    p.steal_limit = live::StealLimit::from_percent(10.0).unwrap();
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let cell = h.cell("a", "json");
    assert!(
        cell.flags.contains(&Flag::StealTolerated),
        "{:?}",
        cell.flags
    );
    assert_eq!(
        cell.out_of_verdicts(),
        None,
        "a lower reading is disclosed, not dropped"
    );
    let judged = cell.trials[0].steps.len();
    let note = format!(
        "trial 1: {judged} of its {judged} judged windows ran with hypervisor steal over the default limit and under the run's raised --max-steal 10,"
    );
    assert!(
        cell.notes.iter().any(|n| n.starts_with(&note)),
        "{note}\n{:?}",
        cell.notes
    );
    assert!(cell.trials[0]
        .steps
        .iter()
        .all(|s| s.reasons.iter().any(|r| r.contains("tolerated"))));
    assert!(!h.cell("b", "json").flags.contains(&Flag::StealTolerated));
}

/// What a window discloses without its verdict changing reaches its step's
/// reasons, as stored and reported.
#[tokio::test(start_paused = true)]
async fn a_windows_disclosures_reach_its_steps_reasons() {
    let note = "2.0% of bakeoff's upstream answers ended over 5 ms past their delay";
    let a = FakeContender::new(ServerModel::mm1(500.0).with_note(note));
    let mut h = Harness::new(vec![("a", a)]);
    let p = plan(vec![spec("a")], &["json"], 1, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let cell = h.cell("a", "json");
    let steps = &cell.trials[0].steps;
    assert!(!steps.is_empty());
    assert!(
        steps.iter().all(|s| s.reasons.iter().any(|r| r == note)),
        "{steps:?}"
    );
    assert!(cell.trials[0].capacity_rps.is_some(), "the verdicts stand");
}

/// A core that ran 30% slower around a search than the run's usual top speed
/// (with five readings, the fastest) flags that trial's cell `drift`, and so
/// does a loopback 34% slower around the other cell's search, each with its
/// probe's readings; the generator's core flags nothing, and a steady run
/// nothing at all.
#[tokio::test(start_paused = true)]
async fn a_slower_machine_around_a_search_flags_drift() {
    let mut h = Harness::new(vec![("a", fc(500.0))]);
    let p = plan(vec![spec("a")], &["json", "db"], 1, &[]);
    // The run's start, then before and after each search (json or db first,
    // whichever the rotation puts first): steady, then slowed. The yardstick
    // is the 90th percentile of the readings so far, here the fastest (101).
    h.world.lock().unwrap().contender_speeds = [100.0, 101.0, 99.0, 70.0, 72.0].into();
    // The generator's core and the loopback, read at the same moments and
    // kept apart: the loopback slowed after the first search (60 of 91).
    h.world.lock().unwrap().generator_speeds = [80.0, 81.0, 79.0, 82.0, 60.0].into();
    h.world.lock().unwrap().loopback_speeds = [90.0, 91.0, 60.0, 92.0, 89.0].into();
    let outcome = h.run(&p, &CancellationToken::new()).await.unwrap();
    // The run keeps every reading's summary, for `compare`.
    let speed = outcome.probes.contender.expect("five readings");
    assert_eq!(
        (speed.readings, speed.median, speed.min, speed.max),
        (5, 99.0, 70.0, 101.0)
    );
    let generator = outcome.probes.generator.expect("five readings");
    assert_eq!(
        (
            generator.readings,
            generator.median,
            generator.min,
            generator.max
        ),
        (5, 80.0, 60.0, 82.0)
    );
    let loopback = outcome.probes.loopback.expect("five readings");
    assert_eq!(
        (
            loopback.readings,
            loopback.median,
            loopback.min,
            loopback.max
        ),
        (5, 90.0, 60.0, 92.0)
    );
    let note_of = |c: &Cell, what: &str| {
        c.notes
            .iter()
            .find(|n| n.starts_with(what) && n.contains("usual top speed in this run"))
            .cloned()
    };
    let flagged: Vec<&Cell> = h
        .cells
        .iter()
        .filter(|c| c.flags.contains(&Flag::Drift))
        .collect();
    assert_eq!(flagged.len(), 2, "{:#?}", h.cells);
    let by_loop: Vec<String> = flagged
        .iter()
        .filter_map(|c| note_of(c, "the contender's core"))
        .collect();
    let by_loopback: Vec<String> = flagged
        .iter()
        .filter_map(|c| note_of(c, "the loopback between the cores"))
        .collect();
    assert_eq!((by_loop.len(), by_loopback.len()), (1, 1), "{flagged:#?}");
    assert!(by_loop[0].contains("trial 1 69–71%"), "{}", by_loop[0]);
    assert!(
        by_loopback[0].contains("trial 1 65–100%"),
        "{}",
        by_loopback[0]
    );
    let one_each = flagged.iter().all(|c| {
        c.notes
            .iter()
            .filter(|n| n.contains("usual top speed"))
            .count()
            == 1
    });
    assert!(one_each, "each cell slowed by one probe: {flagged:#?}");

    // The same run on a steady machine flags nothing.
    let mut steady = Harness::new(vec![("a", fc(500.0))]);
    steady.world.lock().unwrap().contender_speeds = [100.0, 101.0, 99.0, 98.0, 100.0].into();
    steady.world.lock().unwrap().loopback_speeds = [90.0, 91.0, 85.0, 80.0, 89.0].into();
    steady.run(&p, &CancellationToken::new()).await.unwrap();
    assert!(
        steady.cells.iter().all(|c| !c.flags.contains(&Flag::Drift)),
        "{:#?}",
        steady.cells
    );

    use super::cell::drift;
    assert_eq!(
        drift(Probe::Loop, [Some(100.0), Some(95.0), Some(105.0)]),
        None
    );
    assert_eq!(drift(Probe::Loop, [None, Some(50.0), Some(50.0)]), None);
    assert_eq!(
        drift(Probe::Loop, [Some(100.0), Some(85.0), Some(95.0)]),
        Some((0.85, 0.95))
    );
    assert_eq!(
        drift(Probe::Loopback, [Some(100.0), Some(85.0), Some(95.0)]),
        None
    );
    assert_eq!(
        drift(Probe::Loopback, [Some(100.0), Some(74.0), Some(95.0)]),
        Some((0.74, 0.95))
    );
}

/// A failing server's later trials are recorded failing and not searched:
/// its cell is out of verdicts whatever they would find, and each search of
/// a server answering only errors steps down to the lowest rate (~20 s).
#[tokio::test(start_paused = true)]
async fn trials_after_a_failing_one_are_not_searched() {
    let failing = FakeContender::new(ServerModel::knee(1e9).with_errors_above(0.0, 1.0));
    let mut h = Harness::new(vec![("a", fc(800.0)), ("b", failing)]);
    let p = plan(vec![spec("a"), spec("b")], &["json"], 3, &[]);
    h.run(&p, &CancellationToken::new()).await.unwrap();
    let b = h.cell("b", "json");
    assert_eq!(b.trials.len(), 3, "n counts every trial");
    assert!(
        b.trials.iter().all(|t| t.outcome == TrialOutcome::Failing),
        "{:?}",
        b.trials
    );
    let first = b
        .trials
        .iter()
        .find(|t| !t.steps.is_empty())
        .expect("one was searched");
    for t in b.trials.iter().filter(|t| t.index != first.index) {
        assert!(t.steps.is_empty(), "{:?}", t.steps);
        assert_eq!(
            t.note.as_deref(),
            Some(format!("not searched: trial {} was failing", first.index + 1).as_str())
        );
    }
    assert!(b.flags.contains(&Flag::Failing), "{:?}", b.flags);
    let w = h.world.lock().unwrap();
    let searched = w
        .windows
        .iter()
        .filter(|l| l.contender == "b" && l.purpose == Some(WindowPurpose::Search))
        .count();
    assert_eq!(
        searched,
        first.steps.len(),
        "only the first trial's windows ran"
    );
    drop(w);
    let a = h.cell("a", "json");
    assert_eq!(a.trials.len(), 3);
}
