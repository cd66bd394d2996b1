//! The figures of the final pass: the common equal-load rate of each workload,
//! and CPU and memory at that rate (the average, and the marginal cost above
//! the contender's idle baseline).

use std::collections::BTreeMap;

use super::cell::CellState;
use super::plan::{CellKey, Plan};
use super::ResourceUsage;
use crate::workload::Workload;

/// The equal-load rate of each (workload, worker group): half the lowest median
/// capacity among the contenders measured on it. Contenders whose launch failed,
/// that met the SLO at no rate, or whose trials were all inconclusive do not lower
/// it. Rounded down to two significant figures, so that small run-to-run
/// differences in the lowest capacity rarely move it.
#[derive(Debug, Default)]
pub(super) struct EqualRates(BTreeMap<(Workload, u32), f64>);

impl EqualRates {
    pub(super) fn of(cells: &BTreeMap<CellKey, CellState>, plan: &Plan) -> EqualRates {
        let mut lowest: BTreeMap<(Workload, u32), f64> = BTreeMap::new();
        for (key, st) in cells {
            if st.failed.is_some() || st.skipped.is_some() {
                continue;
            }
            let Some(m) = st.median_capacity().filter(|m| *m > 0.0) else {
                continue;
            };
            let e = lowest
                .entry((key.workload, worker_group(plan, key.workers)))
                .or_insert(m);
            *e = e.min(m);
        }
        EqualRates(
            lowest
                .into_iter()
                .map(|(k, v)| (k, two_figures_down(v / 2.0)))
                .collect(),
        )
    }

    pub(super) fn get(&self, plan: &Plan, key: &CellKey) -> Option<f64> {
        self.0
            .get(&(key.workload, worker_group(plan, key.workers)))
            .copied()
    }
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

/// CPU and memory at equal load.
#[derive(Debug, Default)]
pub(super) struct Cost {
    /// CPU rate over request rate: the settle runs at the same rate as the window.
    pub(super) cpu_ms: f64,
    /// The same with the contender's idle CPU subtracted.
    pub(super) marginal_cpu_ms: Option<f64>,
    pub(super) peak: u64,
    pub(super) mean: u64,
}

impl Cost {
    pub(super) fn of(u: &ResourceUsage, secs: f64, rps: f64, idle_cores: Option<f64>) -> Cost {
        let cores = u.cpu_seconds / secs;
        Cost {
            cpu_ms: cores / rps * 1000.0,
            marginal_cpu_ms: idle_cores.map(|idle| (cores - idle).max(0.0) / rps * 1000.0),
            peak: u.mem_peak_bytes,
            mean: u.mem_mean_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_rates_round_down_to_two_figures() {
        assert_eq!(two_figures_down(1234.0), 1200.0);
        assert_eq!(two_figures_down(99.9), 99.0);
        assert_eq!(two_figures_down(5.0), 5.0);
        assert!((two_figures_down(0.876) - 0.87).abs() < 1e-12);
        assert_eq!(two_figures_down(0.0), 0.0);
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
    }
}
