//! The figures of the final pass: the common equal-load rate of each workload,
//! and CPU and memory at that rate (the average, and the marginal cost above
//! the contender's idle baseline).

use std::collections::BTreeMap;

use super::cell::CellState;
use super::plan::{CellKey, Plan};
use super::ResourceUsage;
use crate::database::Database;
use crate::workload::Workload;

/// An equal-load rate's group: the workload, the worker group, and a database
/// workload's database (each database compares the contenders at its own rate).
type RateKey = (Workload, u32, Option<Database>);

/// The equal-load rate of each (workload, worker group): half the lowest median
/// capacity among the contenders measured on it ([`CellState::equal_load_basis`]:
/// without one, the lowest rate the cell failed at). Contenders whose launch
/// failed, that met the SLO at no rate, or that have no basis at all (flagged
/// `equal-load-unbased` when their window runs) do not lower it. Rounded down
/// to two significant figures, so that small run-to-run differences in the
/// lowest capacity rarely move it; and the rate an earlier run of the same
/// plan used is kept while it still lies between a quarter and three quarters
/// of that lowest capacity, so runs of one plan compare CPU and p99 at the
/// same rate, unless a contender of the group has no basis: the check cannot
/// vouch for it, so its rate is set afresh at half, the most cautious.
#[derive(Debug, Default)]
pub(super) struct EqualRates(BTreeMap<RateKey, EqualRate>);

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct EqualRate {
    pub(super) rps: f64,
    /// The earlier run whose rate this is.
    pub(super) reused_from: Option<i64>,
}

/// The equal-load rates of an earlier run of the same plan (see
/// `Store::previous_equal_rates`), by workload, worker group and database.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreviousRates {
    pub run_id: i64,
    rates: BTreeMap<RateKey, f64>,
}

impl PreviousRates {
    /// From the store's rows (workload, workers, database, rate).
    pub fn from_rows(
        plan: &Plan,
        run_id: i64,
        rows: &[(Workload, u32, Option<Database>, f64)],
    ) -> PreviousRates {
        let rates = rows
            .iter()
            .filter(|(_, _, _, rps)| rps.is_finite() && *rps > 0.0)
            .map(|(w, workers, db, rps)| ((w.clone(), worker_group(plan, *workers), *db), *rps))
            .collect();
        PreviousRates { run_id, rates }
    }
}

/// The reused rate keeps the weakest contender between these shares of its capacity.
const REUSE_WITHIN: (f64, f64) = (0.25, 0.75);

impl EqualRates {
    pub(super) fn of(cells: &BTreeMap<CellKey, CellState>, plan: &Plan) -> EqualRates {
        let mut lowest: BTreeMap<RateKey, f64> = BTreeMap::new();
        // Cells that do not lower the rate: a reused one must not be
        // unbased for any of them.
        let mut without: Vec<(RateKey, &CellState)> = Vec::new();
        for (key, st) in cells {
            if st.failed.is_some() || st.skipped.is_some() {
                continue;
            }
            if st.equal_load_basis().is_none() {
                without.push((rate_key(plan, key), st));
            }
            let Some(m) = st.equal_load_basis() else {
                continue;
            };
            let e = lowest.entry(rate_key(plan, key)).or_insert(m);
            *e = e.min(m);
        }
        let previous = plan.previous_equal_rates.as_ref();
        EqualRates(
            lowest
                .into_iter()
                .map(|(k, low)| {
                    let reused = previous.and_then(|p| {
                        let rps = *p.rates.get(&k)?;
                        let vouched = !without
                            .iter()
                            .any(|(wk, st)| *wk == k && st.equal_load_unbased(rps));
                        (vouched && (REUSE_WITHIN.0 * low..=REUSE_WITHIN.1 * low).contains(&rps))
                            .then_some(EqualRate {
                                rps,
                                reused_from: Some(p.run_id),
                            })
                    });
                    let rate = reused.unwrap_or(EqualRate {
                        rps: two_figures_down(low / 2.0),
                        reused_from: None,
                    });
                    (k, rate)
                })
                .collect(),
        )
    }

    pub(super) fn get(&self, plan: &Plan, key: &CellKey) -> Option<EqualRate> {
        self.0.get(&rate_key(plan, key)).copied()
    }
}

fn rate_key(plan: &Plan, key: &CellKey) -> RateKey {
    (
        key.workload.clone(),
        worker_group(plan, key.workers),
        key.database,
    )
}

/// Contenders run at their own default worker counts unless the run sweeps them.
fn worker_group(plan: &Plan, workers: u32) -> u32 {
    if plan.workers.is_empty() {
        0
    } else {
        workers
    }
}

/// `x` rounded down to two significant figures (1,234 → 1,200; 0.87 → 0.87).
fn two_figures_down(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    (x / scale).floor() * scale
}

/// CPU and memory at equal load, when sampled.
#[derive(Debug)]
pub(super) struct Cost {
    /// CPU rate over request rate: the settle runs at the same rate as the window.
    pub(super) cpu_ms: f64,
    /// The same with the contender's idle CPU subtracted.
    pub(super) marginal_cpu_ms: Option<f64>,
    pub(super) peak: u64,
    pub(super) mean: u64,
}

impl Cost {
    /// The window's cost at `rps`; the marginal CPU is `None` where the idle
    /// baseline (read right after start-up) is above the window's CPU: that
    /// baseline caught start-up work, and a 0 would read as a measurement.
    pub(super) fn of(u: &ResourceUsage, secs: f64, rps: f64, idle_cores: Option<f64>) -> Cost {
        let cores = u.cpu_seconds / secs;
        Cost {
            cpu_ms: cores / rps * 1000.0,
            marginal_cpu_ms: idle_cores
                .filter(|&idle| idle <= cores)
                .map(|idle| (cores - idle) / rps * 1000.0),
            peak: u.mem_peak_bytes,
            mean: u.mem_mean_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn equal_rates_round_down_to_two_figures() {
        assert_eq!(two_figures_down(1234.0), 1200.0);
        assert_eq!(two_figures_down(99.9), 99.0);
        assert_eq!(two_figures_down(5.0), 5.0);
        assert!((two_figures_down(0.876) - 0.87).abs() < 1e-12);
        assert_eq!(two_figures_down(0.0), 0.0);
    }

    /// A contender with no basis does not lower the rate, and keeps an
    /// earlier run's rate from being reused: the reuse check cannot vouch
    /// for it, so the rate is set afresh at half the lowest capacity.
    #[test]
    fn a_contender_without_a_basis_keeps_an_earlier_rate_from_being_reused() {
        use crate::model::{Trial, TrialOutcome};
        use crate::suite::plan::tests::spec;
        let trial = |capacity_rps, outcome| Trial {
            index: 0,
            capacity_rps,
            outcome,
            note: None,
            steps: Vec::new(),
        };
        let mut p = crate::suite::runner_tests::plan(vec![spec("a"), spec("b")], &["json"], 1, &[]);
        let rows = [(Workload::Json, 1, None, 500.0)];
        p.previous_equal_rates = Some(PreviousRates::from_rows(&p, 7, &rows));
        let key = |name: &str| CellKey {
            contender: name.into(),
            workload: Workload::Json,
            workers: 1,
            database: None,
        };
        let cell = |t| CellState {
            trials: vec![t],
            ..CellState::default()
        };
        let mut cells = BTreeMap::new();
        cells.insert(key("a"), cell(trial(Some(800.0), TrialOutcome::Confirmed)));
        let rate = |cells: &BTreeMap<CellKey, CellState>| {
            EqualRates::of(cells, &p).get(&p, &key("a")).unwrap()
        };
        // 500 is within a quarter and three quarters of 800: reused.
        assert_eq!(rate(&cells).reused_from, Some(7));
        cells.insert(key("b"), cell(trial(None, TrialOutcome::MachineNoisy)));
        assert!(cells[&key("b")].equal_load_unbased(500.0));
        assert_eq!(
            rate(&cells),
            EqualRate {
                rps: 400.0,
                reused_from: None
            }
        );
        // A generator-limited contender that sustained 600 vouches for 500.
        let limited = trial(Some(600.0), TrialOutcome::GeneratorLimited);
        cells.insert(key("b"), cell(limited));
        assert_eq!(rate(&cells).reused_from, Some(7));
    }

    #[test]
    fn marginal_cpu_subtracts_the_idle_baseline() {
        let u = ResourceUsage {
            cpu_seconds: 3.0,
            ..ResourceUsage::default()
        };
        // 1 core busy for 3 s at 500 req/s: 2 ms per request; 0.25 cores idle.
        let c = Cost::of(&u, 3.0, 500.0, Some(0.25));
        assert!((c.cpu_ms - 2.0).abs() < 1e-9);
        assert!((c.marginal_cpu_ms.unwrap() - 1.5).abs() < 1e-9);
        assert_eq!(Cost::of(&u, 3.0, 500.0, None).marginal_cpu_ms, None);
        // An idle baseline above the window's CPU gives none, not 0.
        assert_eq!(Cost::of(&u, 3.0, 500.0, Some(1.2)).marginal_cpu_ms, None);
    }

    #[test]
    fn cpu_over_a_span_interpolates_between_the_readings() {
        let t0 = std::time::Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // 1 s of CPU before the window (priming), then half a core.
        let u = ResourceUsage {
            cpu_seconds: 2.0,
            cpu_timeline: vec![
                (at(0), 0.0),
                (at(200), 1.0),
                (at(400), 1.1),
                (at(2200), 2.0),
            ],
            ..ResourceUsage::default()
        };
        let over = |from, len| u.cpu_seconds_over(at(from), Duration::from_millis(len));
        let window = over(400, 1000).unwrap();
        assert!((window - 0.5).abs() < 1e-9, "{window}");
        // Between readings: linear.
        assert!((over(100, 100).unwrap() - 0.5).abs() < 1e-9);
        assert!((over(200, 0).unwrap()).abs() < 1e-12);
        // Outside the readings: unknown, not guessed.
        assert_eq!(over(2000, 400), None);
        // A load that returned before its window's end (its last request
        // answered) used nothing after the final reading.
        let load = u.cpu_seconds_of_load(at(2000), Duration::from_millis(400));
        assert!((load.unwrap() - 0.1).abs() < 1e-9, "{load:?}");
        assert_eq!(
            u.cpu_seconds_of_load(at(2300), Duration::from_millis(100)),
            None
        );
        let none = ResourceUsage::default();
        assert_eq!(none.cpu_seconds_over(t0, Duration::from_secs(1)), None);

        // A window's CPU and its span (the contender's at equal load, the
        // database server's): the window's where the readings span it, else
        // all that was sampled over all its seconds.
        assert_eq!(
            u.cpu_of_window(Some(at(400)), Duration::from_millis(1000), 2.2)
                .1,
            1.0
        );
        assert!(
            (u.cpu_of_window(Some(at(400)), Duration::from_millis(1000), 2.2)
                .0
                - 0.5)
                .abs()
                < 1e-9
        );
        assert_eq!(
            u.cpu_of_window(None, Duration::from_millis(1000), 2.2),
            (2.0, 2.2)
        );
        assert_eq!(
            u.cpu_of_window(Some(at(2300)), Duration::from_millis(100), 2.2),
            (2.0, 2.2)
        );
    }
}
