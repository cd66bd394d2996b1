//! The verdict: the blog's claims checked against a stored run ([`claims`]), and
//! the advisor that turns a team's profile into a ranked recommendation with a
//! capacity plan ([`advice`]).
//!
//! Everything here is a pure function of a [`Run`]: no I/O, no clock. The
//! comparison rule shared by both lives in this module: two measurements differ
//! only when their 95% confidence intervals do not overlap, and a single-trial
//! measurement (no interval) must also differ by more than [`SINGLE_TRIAL_MARGIN`].

pub mod advice;
pub mod claims;
pub mod profile;
pub mod render;

use crate::model::{Cell, Estimate, Run};

/// Relative difference required when either side has fewer than two trials,
/// matching the 10% coefficient-of-variation noise threshold.
pub const SINGLE_TRIAL_MARGIN: f64 = 0.10;

/// The result of comparing two measurements where larger means more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `a` is larger, beyond the noise.
    Greater,
    /// `a` is smaller, beyond the noise.
    Less,
    /// The intervals overlap, or the difference is within the single-trial margin.
    Overlap,
}

/// Compare two estimates by their confidence intervals.
pub fn compare_estimates(a: &Estimate, b: &Estimate) -> Order {
    if a.n < 2 || b.n < 2 {
        return compare_points(a.median, b.median);
    }
    if a.ci_low > b.ci_high {
        Order::Greater
    } else if a.ci_high < b.ci_low {
        Order::Less
    } else {
        Order::Overlap
    }
}

/// Compare two single measurements with the single-trial margin.
pub fn compare_points(a: f64, b: f64) -> Order {
    let scale = a.abs().max(b.abs());
    if scale == 0.0 || (a - b).abs() <= SINGLE_TRIAL_MARGIN * scale {
        Order::Overlap
    } else if a > b {
        Order::Greater
    } else {
        Order::Less
    }
}

/// A conservative interval for the ratio a / b from the two intervals.
pub fn ratio_interval(a: &Estimate, b: &Estimate) -> Option<(f64, f64, f64)> {
    if b.median <= 0.0 || b.ci_low <= 0.0 {
        return None;
    }
    Some((
        a.median / b.median,
        a.ci_low / b.ci_high,
        a.ci_high / b.ci_low,
    ))
}

/// Language label of a contender ("node", "python", …), or "" when unknown.
pub fn language_of<'a>(run: &'a Run, contender: &str) -> &'a str {
    run.contender(contender)
        .map(|c| c.language.as_str())
        .unwrap_or("")
}

/// The successful cells of one workload for one language, at each contender's lowest worker count.
pub fn cells_of<'a>(run: &'a Run, workload: &str, language: &str) -> Vec<&'a Cell> {
    let mut names: Vec<&str> = run
        .cells
        .iter()
        .filter(|c| c.workload == workload && language_of(run, &c.contender) == language)
        .map(|c| c.contender.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| run.cell(n, workload))
        .filter(|c| c.status.is_ok())
        .collect()
}

/// The contender of `language` with the highest capacity on `workload`.
pub fn best_capacity<'a>(
    run: &'a Run,
    workload: &str,
    language: &str,
) -> Option<(&'a Cell, Estimate)> {
    cells_of(run, workload, language)
        .into_iter()
        .filter_map(|c| c.capacity.map(|e| (c, e)))
        .max_by(|a, b| a.1.median.total_cmp(&b.1.median))
}

/// One-line statement of where the evidence comes from, so no verdict generalises beyond it.
pub fn scope(run: &Run) -> String {
    let env = &run.environment;
    let runtimes: Vec<String> = env
        .runtimes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    format!(
        "run {} on this machine ({}, {} cores), {}, profile `{}`, SLO p99 ≤ {} ms",
        run.id,
        if env.cpu_model.is_empty() {
            "unknown CPU"
        } else {
            &env.cpu_model
        },
        env.cores,
        if runtimes.is_empty() {
            "runtime versions not recorded".to_string()
        } else {
            runtimes.join(", ")
        },
        run.settings.profile,
        run.settings.slo_p99_ms
    )
}

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Interval;

    fn est(median: f64, lo: f64, hi: f64, n: u32) -> Estimate {
        Estimate {
            median,
            mean: median,
            ci_low: lo,
            ci_high: hi,
            cv: 0.0,
            sd: 0.0 * median,
            n,
            noisy: false,
            interval: if n == 1 {
                Interval::Single
            } else {
                Interval::Range
            },
        }
    }

    #[test]
    fn overlapping_intervals_are_not_a_difference() {
        assert_eq!(
            compare_estimates(&est(100.0, 90.0, 110.0, 3), &est(105.0, 95.0, 115.0, 3)),
            Order::Overlap
        );
        assert_eq!(
            compare_estimates(&est(200.0, 190.0, 210.0, 3), &est(105.0, 95.0, 115.0, 3)),
            Order::Greater
        );
        assert_eq!(
            compare_estimates(&est(50.0, 45.0, 55.0, 3), &est(105.0, 95.0, 115.0, 3)),
            Order::Less
        );
    }

    #[test]
    fn single_trials_need_a_ten_percent_margin() {
        assert_eq!(
            compare_estimates(&est(100.0, 100.0, 100.0, 1), &est(109.0, 109.0, 109.0, 1)),
            Order::Overlap
        );
        assert_eq!(
            compare_estimates(&est(100.0, 100.0, 100.0, 1), &est(112.0, 112.0, 112.0, 1)),
            Order::Less
        );
        assert_eq!(compare_points(0.0, 0.0), Order::Overlap);
    }

    #[test]
    fn ratio_interval_is_conservative() {
        let (r, lo, hi) =
            ratio_interval(&est(200.0, 180.0, 220.0, 3), &est(100.0, 90.0, 110.0, 3)).unwrap();
        assert!((r - 2.0).abs() < 1e-9);
        assert!((lo - 180.0 / 110.0).abs() < 1e-9);
        assert!((hi - 220.0 / 90.0).abs() < 1e-9);
        assert!(ratio_interval(&est(1.0, 1.0, 1.0, 1), &est(0.0, 0.0, 0.0, 1)).is_none());
    }
}
