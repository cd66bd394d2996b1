//! The verdict: the blog's claims checked against a stored run ([`claims`]), and
//! the advisor that turns a team's profile into a ranked recommendation with a
//! capacity plan ([`advice`]).
//!
//! Everything here is a pure function of a [`Run`]: no I/O, no clock. The
//! comparison rule shared by both lives in this module: two capacities differ
//! only when Welch's two-sided t-test at 5% says so (both sides with at least two
//! trials). With a single trial on either side there is no test: the two values
//! must differ by more than [`INDICATIVE_MARGIN`], and the verdict is labelled
//! *indicative* ([`is_indicative`]) in every output. Single readings (a p99,
//! a memory sample) have no trials to test: they differ only beyond a
//! per-kind factor ([`compare_readings`]), indicatively.

pub mod advice;
pub mod claims;
pub mod profile;
pub mod render;

use crate::model::{Cell, ContenderInfo, Estimate, Flag, Interval, Language, Run};
use crate::suite::stats;
use crate::workload::Workload;

/// Relative difference required when either side has a single trial. The
/// search's own trial-to-trial error reaches 15–25% on a shared machine (the
/// capacity noise the search is tested against, and the −40%…+68% swings seen
/// between quick runs), so a smaller margin would call noise a difference.
pub const INDICATIVE_MARGIN: f64 = 0.25;

/// What a single reading measures. An equal-load window, a WebSocket point and
/// a memory sample are taken once per cell, so no test applies to two of them:
/// their difference counts only beyond the largest ratio between two readings
/// of the same cell seen on this machine ([`Reading::factor`]), and any verdict
/// on them is indicative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// A p99: equal-load, light-request or WebSocket fan-out.
    Latency,
    /// A process group's mean memory (PSS) at equal load.
    Memory,
    /// WebSocket memory per connection: (loaded − idle) ÷ clients, a
    /// difference of two memory samples of a fresh process.
    MemoryPerConnection,
}

impl Reading {
    /// The ratio two readings of this kind must exceed to differ. Repeated
    /// readings of the same cell (docs/capacity-passes.md, qa11 and sr11) moved by up
    /// to 4.4× (an equal-load p99) and 1.15× (mean memory); memory per
    /// connection, since it is read in a fresh process, by up to 1.07× at
    /// 1,000 clients and 1.36× at 100 (docs/benchmarks.md, "Thirty-third
    /// pass"; 4.7× before); each factor is that, rounded up.
    pub fn factor(self) -> f64 {
        match self {
            Reading::Latency => 5.0,
            Reading::MemoryPerConnection => 1.5,
            Reading::Memory => 1.25,
        }
    }
}

/// Compare two single readings of one kind ([`Reading::factor`]).
pub fn compare_readings(a: f64, b: f64, kind: Reading) -> Order {
    let (lo, hi) = (a.min(b), a.max(b));
    if hi <= 0.0 || (lo > 0.0 && hi / lo <= kind.factor()) {
        Order::Overlap
    } else if a > b {
        Order::Greater
    } else {
        Order::Less
    }
}

/// Why a cell's single p99 readings cannot decide a verdict on their own: the
/// machine stalled its trials (`machine-noisy`) or every attempt at its
/// equal-load window (`equal-load-stalled`), or the generator could not keep
/// up (`generator-limited`), so its one window's timing may be the machine's;
/// or its equal-load rate was set without its capacity (`equal-load-unbased`),
/// so that window may have overloaded it; or a trial's server answered mostly
/// with errors (`failing`), so its timing is a broken app's, not its stack's.
/// (Its memory samples stand: a stall
/// does not change them.)
pub fn unsteady(cell: &Cell) -> Option<&Flag> {
    cell.flags.iter().find(|f| {
        matches!(
            f,
            Flag::MachineNoisy
                | Flag::GeneratorLimited
                | Flag::EqualLoadStalled
                | Flag::EqualLoadUnbased
                | Flag::Failing
        )
    })
}

/// The result of comparing two measurements where larger means more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `a` is larger, beyond the noise.
    Greater,
    /// `a` is smaller, beyond the noise.
    Less,
    /// No clear difference: the test does not reject equality at 5%, or the
    /// difference is within the margin.
    Overlap,
}

/// The orders of a family of tests after Holm's correction
/// ([`stats::holm`]), each given as (two-sided p, whether `a` is the larger):
/// `Greater` where Holm at 5% counts the test among those whose `a` is larger
/// (the others taking p = 1), `Less` likewise the other way, else `Overlap`.
/// A two-sided p read one way is conservative by half, so the two directions
/// together keep the 5%. Claims 7 and 8 and the runtime versions section
/// decide the same pairs with it.
pub fn holm_orders(tests: &[(f64, bool)]) -> Vec<Order> {
    let one_way = |larger: bool| {
        let p: Vec<f64> = tests
            .iter()
            .map(|&(p, a)| if a == larger { p } else { 1.0 })
            .collect();
        stats::holm(&p, stats::ALPHA)
    };
    let (greater, less) = (one_way(true), one_way(false));
    greater
        .into_iter()
        .zip(less)
        .map(|g| match g {
            (true, _) => Order::Greater,
            (_, true) => Order::Less,
            _ => Order::Overlap,
        })
        .collect()
}

/// Compare two estimates: Welch's t-test at 5% when both have two samples or
/// more, otherwise a point comparison with [`INDICATIVE_MARGIN`] (indicative).
pub fn compare_estimates(a: &Estimate, b: &Estimate) -> Order {
    match stats::welch_p(a, b) {
        None => compare_margin(a.center(), b.center(), INDICATIVE_MARGIN),
        Some(p) if p < stats::ALPHA => {
            if a.mean > b.mean {
                Order::Greater
            } else {
                Order::Less
            }
        }
        Some(_) => Order::Overlap,
    }
}

/// Whether a comparison of these two rests on a single trial of either.
pub fn is_indicative(a: &Estimate, b: &Estimate) -> bool {
    a.n < 2 || b.n < 2
}

/// Where a ratio's interval lies against `threshold`: `Greater` when all of
/// it is above, `Less` when all of it is at or below, `Overlap` when it
/// straddles. A single trial's point ratio has no interval: it must clear the
/// threshold by [`INDICATIVE_MARGIN`].
pub fn compare_ratio(r: &RatioInterval, threshold: f64) -> Order {
    match r.kind {
        RatioKind::Point => compare_margin(r.ratio, threshold, INDICATIVE_MARGIN),
        _ if r.low > threshold => Order::Greater,
        _ if r.high <= threshold => Order::Less,
        _ => Order::Overlap,
    }
}

fn compare_margin(a: f64, b: f64, margin: f64) -> Order {
    let scale = a.abs().max(b.abs());
    if scale == 0.0 || (a - b).abs() <= margin * scale {
        Order::Overlap
    } else if a > b {
        Order::Greater
    } else {
        Order::Less
    }
}

/// What a ratio's interval is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatioKind {
    /// A single trial on either side: the ratio alone, indicative.
    Point,
    /// Fewer than five trials on a side: from the extremes of the two ranges;
    /// every ratio of one trial of each lies inside; no coverage is claimed.
    Range,
    /// Both sides have t-intervals: each taken at 97.5%, so both hold at least
    /// 95% of the time (Bonferroni) and the ratio of the means lies inside.
    Bonferroni95,
    /// Five or more trials on one side only: the extremes of one side's range
    /// against the other's 95% t-interval of its mean. Neither a range of
    /// ratios (the t-side's trials may lie outside its interval) nor an
    /// interval of known coverage: no coverage is claimed.
    Mixed,
}

impl RatioKind {
    /// A short label for the interval, e.g. in a headline.
    pub fn label(self) -> &'static str {
        match self {
            RatioKind::Point => "indicative: 1 trial",
            RatioKind::Range => "range of ratios",
            RatioKind::Bonferroni95 => "95% interval",
            RatioKind::Mixed => "range against a 95% interval",
        }
    }
}

/// A ratio a / b of two estimates' centers, with an interval that says what it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioInterval {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub kind: RatioKind,
}

/// The ratio a / b with its interval; `None` when b's center is not positive. A
/// lower bound of b at or below 0 makes the high end infinite.
pub fn ratio_interval(a: &Estimate, b: &Estimate) -> Option<RatioInterval> {
    let (ca, cb) = (a.center(), b.center());
    if cb <= 0.0 || !cb.is_finite() {
        return None;
    }
    let ratio = ca / cb;
    let div = |x: f64, y: f64| if y > 0.0 { x / y } else { f64::INFINITY };
    let t_sides = [a, b]
        .iter()
        .filter(|e| e.interval == Interval::TInterval95)
        .count();
    let (kind, low, high) = if is_indicative(a, b) {
        (RatioKind::Point, ratio, ratio)
    } else if t_sides == 2 {
        let (al, ah) = t_interval(a, 0.975);
        let (bl, bh) = t_interval(b, 0.975);
        (RatioKind::Bonferroni95, div(al, bh), div(ah, bl))
    } else {
        // Each side's stored bounds: a range's extremes, or a t-interval.
        let kind = if t_sides == 1 {
            RatioKind::Mixed
        } else {
            RatioKind::Range
        };
        (kind, div(a.ci_low, b.ci_high), div(a.ci_high, b.ci_low))
    };
    Some(RatioInterval {
        ratio,
        low,
        high,
        kind,
    })
}

/// The two-sided t-interval of the mean at `level` (e.g. 0.975).
fn t_interval(e: &Estimate, level: f64) -> (f64, f64) {
    let n = e.n as f64;
    let half = stats::t_quantile(0.5 + level / 2.0, n - 1.0) * e.sd / n.sqrt();
    (e.mean - half, e.mean + half)
}

/// A contender's language, or `None` when the run does not list it.
pub fn language_of<'a>(run: &'a Run, contender: &str) -> Option<&'a Language> {
    run.contender(contender).map(|c| &c.language)
}

/// Whether a contender is a language's own entry in the contest: not a
/// configuration variant (`<base>@<name>`) and not a copy on another runtime
/// version (`<base>-node22`, `<base>-py312`). Claims 1–6 compare these, so one
/// language's extra variants or runtimes cannot win it a claim the other
/// language was never offered; variants and versions have their own sections
/// and claim 7 (docs/methodology.md, "Variants and runtime versions").
pub fn is_primary(c: &ContenderInfo) -> bool {
    c.variant.is_none() && crate::contender::runtimes::split_name(&c.name).1.is_none()
}

/// The successful cells of one workload for one language, at each contender's
/// lowest worker count: its primary contenders' ([`is_primary`]), or, when the
/// run has none of those for the language, whatever it has (the evidence then
/// names a variant or a version).
pub fn cells_of<'a>(run: &'a Run, workload: &Workload, language: &Language) -> Vec<&'a Cell> {
    let primary = |name: &str| run.contender(name).is_some_and(is_primary);
    let of_language = || {
        run.cells
            .iter()
            .filter(|c| c.workload == *workload && language_of(run, &c.contender) == Some(language))
    };
    let any_primary = of_language().any(|c| primary(&c.contender));
    let mut names: Vec<&str> = of_language()
        .filter(|c| !any_primary || primary(&c.contender))
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
    workload: &Workload,
    language: &Language,
) -> Option<(&'a Cell, Estimate)> {
    cells_of(run, workload, language)
        .into_iter()
        .filter_map(|c| c.verdict_capacity().map(|e| (c, e)))
        .max_by(|a, b| a.1.center().total_cmp(&b.1.center()))
}

/// One-line statement of where the evidence comes from, so no verdict generalises beyond it.
pub fn scope(run: &Run) -> String {
    let env = &run.environment;
    let runtimes: Vec<String> = env
        .runtimes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    use crate::database::Database;
    let mut dbs: Vec<Database> = Vec::new();
    for c in run.cells.iter().filter(|c| c.workload.uses_database()) {
        let db = c.database.unwrap_or(run.settings.database);
        if !dbs.contains(&db) {
            dbs.push(db);
        }
    }
    dbs.sort_unstable();
    let database = match dbs.as_slice() {
        [] => String::new(),
        [Database::Sqlite] => ", database workloads on SQLite (inside each app)".to_string(),
        [db] => format!(", database workloads on {db} (a private server over loopback)"),
        _ => ", database workloads on SQLite (inside each app) and on postgres (a private server over loopback); verdicts on them rest on postgres".to_string(),
    };
    // Every verdict rests on this machine's speed: say when it moved under a
    // search. A run's slowest reading against its fastest is an extreme pair
    // that moves on most long runs; only `drift` flags say a search ran slow.
    let drifted = run
        .cells
        .iter()
        .filter(|c| c.flags.contains(&Flag::Drift))
        .count();
    // Each probe the drift check reads, where its readings moved by more
    // than its bar.
    let moved: Vec<String> = env
        .probes()
        .filter(|(site, _)| drifted > 0 && site.drift_checked())
        .filter_map(|(site, s)| {
            let probe = site.probe();
            let share = s.moved(probe)?;
            Some(format!(
                "the {} slowed to {:.0}% of its fastest during the run ({}: {:.0}–{:.0} {})",
                site.what(),
                share * 100.0,
                probe.name(),
                s.min,
                s.max,
                probe.unit()
            ))
        })
        .collect();
    let speed = if moved.is_empty() {
        String::new()
    } else {
        format!(
            "; {}, so the {drifted} {} flagged `drift` may read low",
            moved.join(" and "),
            if drifted == 1 { "cell" } else { "cells" }
        )
    };
    format!(
        "run {} on this machine ({}, {} cores), {}, profile `{}`, SLO p99 ≤ {} ms{database}{speed}",
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

    fn est(samples: &[f64]) -> Estimate {
        stats::estimate(samples).unwrap()
    }

    /// The scope says when the machine's speed moved under a search (a cell
    /// flagged `drift`), and only then.
    #[test]
    fn the_scope_names_a_machine_whose_speed_moved() {
        use crate::model::{Flag, ProbeSummary};
        use crate::verdict::fixture;
        let mut run = fixture::run();
        for c in &mut run.cells {
            c.flags.retain(|f| *f != Flag::Drift);
        }
        run.environment.core_speed = None;
        assert!(!scope(&run).contains("drift probe"), "{}", scope(&run));
        let steady = ProbeSummary {
            readings: 40,
            median: 600.0,
            min: 560.0,
            max: 610.0,
        };
        run.environment.core_speed = Some(steady);
        assert!(!scope(&run).contains("drift probe"), "{}", scope(&run));
        run.environment.core_speed = Some(ProbeSummary {
            min: 172.0,
            max: 669.0,
            ..steady
        });
        // Its readings moved, but no search ran slow.
        assert!(!scope(&run).contains("drift probe"), "{}", scope(&run));
        run.cells[0].flags.push(Flag::Drift);
        let s = scope(&run);
        assert!(
            s.contains("slowed to 26% of its fastest")
                && s.contains("172–669")
                && s.contains("the 1 cell flagged `drift`"),
            "{s}"
        );
        run.cells[1].flags.push(Flag::Drift);
        assert!(
            scope(&run).contains("the 2 cells flagged"),
            "{}",
            scope(&run)
        );
        // The loopback, held to its own bar: 80% of its fastest is within it,
        // 60% is not; the generator's core is not what the check reads.
        run.environment.core_speed = Some(steady);
        run.environment.generator_core_speed = Some(ProbeSummary {
            min: 100.0,
            ..steady
        });
        run.environment.loopback_speed = Some(ProbeSummary {
            readings: 40,
            median: 50.0,
            min: 44.0,
            max: 55.0,
        });
        assert!(!scope(&run).contains("slowed to"), "{}", scope(&run));
        run.environment.loopback_speed = Some(ProbeSummary {
            readings: 40,
            median: 50.0,
            min: 33.0,
            max: 55.0,
        });
        let s = scope(&run);
        assert!(
            s.contains("; the loopback between the cores slowed to 60% of its fastest during the run (loopback probe: 33–55 k round trips/s), so the 2 cells flagged `drift` may read low"),
            "{s}"
        );
    }

    /// Each direction is tested over the whole family, the other direction's
    /// pairs at p = 1 (as claims 7 and 8 always did for "faster"): 0.04
    /// passes alone, not as one of two pairs.
    #[test]
    fn holm_orders_correct_each_direction_over_the_family() {
        let orders = holm_orders(&[(0.001, false), (0.04, true)]);
        assert_eq!(orders, [Order::Less, Order::Overlap]);
        let orders = holm_orders(&[(0.04, true), (0.9, true)]);
        assert_eq!(orders, [Order::Overlap, Order::Overlap]);
        assert_eq!(holm_orders(&[(0.04, true)]), [Order::Greater]);
        assert_eq!(holm_orders(&[]), Vec::<Order>::new());
    }

    /// A variant or another runtime's copy that beats its base does not become
    /// the language's best in claims 1–6; alone, it stands in (and is named).
    #[test]
    fn the_contest_is_between_primary_contenders() {
        use crate::model::VariantInfo;
        use crate::report::fixtures::{cell, estimate};
        use crate::verdict::fixture;
        let mut run = fixture::run();
        let mut add = |name: &str, variant: Option<VariantInfo>, cap: f64| {
            let mut c = fixture::listed(name, Language::Python, "gunicorn", 100);
            c.variant = variant;
            run.contenders.push(c);
            run.cells.push(Cell {
                capacity: Some(estimate(cap, 100.0, 3)),
                ..cell(name, Workload::Json)
            });
        };
        let fast = VariantInfo {
            of: "python-fastapi".into(),
            name: "fast".into(),
            description: "a faster configuration".into(),
        };
        add("python-fastapi@fast", Some(fast), 50_000.0);
        add("python-fastapi-py313", None, 60_000.0);
        let (best, _) = best_capacity(&run, &Workload::Json, &Language::Python).unwrap();
        assert_eq!(best.contender, "python-fastapi");
        let names: Vec<_> = cells_of(&run, &Workload::Json, &Language::Python)
            .iter()
            .map(|c| c.contender.clone())
            .collect();
        assert_eq!(names, ["python-fastapi", "python-flask"]);

        // A run of variants only: they are what the language has.
        run.cells.retain(|c| {
            c.workload != Workload::Json
                || !c.contender.starts_with("python-")
                || c.contender.contains('@')
        });
        let (best, _) = best_capacity(&run, &Workload::Json, &Language::Python).unwrap();
        assert_eq!(best.contender, "python-fastapi@fast");
    }

    #[test]
    fn welch_decides_between_trials() {
        // Spread apart by more than their noise: a difference.
        let a = est(&[200.0, 190.0, 210.0]);
        let b = est(&[105.0, 95.0, 115.0]);
        assert_eq!(compare_estimates(&a, &b), Order::Greater);
        assert_eq!(compare_estimates(&b, &a), Order::Less);
        assert!(!is_indicative(&a, &b));
        // Overlapping noise: no clear difference.
        let c = est(&[100.0, 90.0, 110.0]);
        let d = est(&[105.0, 95.0, 115.0]);
        assert_eq!(compare_estimates(&c, &d), Order::Overlap);
        // Disjoint ranges of two trials each are not enough for the test.
        let e = est(&[100.0, 140.0]);
        let f = est(&[150.0, 190.0]);
        assert!(e.ci_high < f.ci_low);
        assert_eq!(compare_estimates(&e, &f), Order::Overlap);
        // Identical trials one 3% grid step apart: no clear difference.
        let g = est(&[1000.0, 1000.0]);
        let h = est(&[1030.0, 1030.0]);
        assert_eq!(compare_estimates(&g, &h), Order::Overlap);
    }

    #[test]
    fn single_trials_need_the_indicative_margin() {
        let one = est(&[100.0]);
        assert!(is_indicative(&one, &est(&[120.0, 121.0, 119.0])));
        assert_eq!(compare_estimates(&one, &est(&[124.0])), Order::Overlap);
        assert_eq!(compare_estimates(&one, &est(&[140.0])), Order::Less);
        assert_eq!(compare_estimates(&est(&[140.0]), &one), Order::Greater);
    }

    #[test]
    fn single_readings_differ_only_beyond_their_factor() {
        use Reading::*;
        assert_eq!(compare_readings(0.0, 0.0, Latency), Order::Overlap);
        // std7's ws p99s: 63 vs 95 ms is within what one reading can show.
        assert_eq!(compare_readings(63.1, 94.8, Latency), Order::Overlap);
        assert_eq!(compare_readings(10.0, 60.0, Latency), Order::Less);
        assert_eq!(compare_readings(60.0, 10.0, Latency), Order::Greater);
        // Memory per connection of a fresh process repeats within 1.07×.
        assert_eq!(
            compare_readings(17.4e3, 18.7e3, MemoryPerConnection),
            Order::Overlap
        );
        assert_eq!(
            compare_readings(18e3, 31.6e3, MemoryPerConnection),
            Order::Less
        );
        assert_eq!(compare_readings(60e6, 70e6, Memory), Order::Overlap);
        assert_eq!(compare_readings(60e6, 90e6, Memory), Order::Less);
        assert_eq!(compare_readings(0.0, 1.0, Memory), Order::Less);
    }

    #[test]
    fn a_ratio_clears_a_threshold_only_with_all_its_interval() {
        let r = |ratio, low, high, kind| RatioInterval {
            ratio,
            low,
            high,
            kind,
        };
        // Node [180, 205, 230] vs Python [95, 100, 105]: 2.05×, range 1.71–2.42.
        let cases = [
            (
                r(2.05, 180.0 / 105.0, 230.0 / 95.0, RatioKind::Range),
                Order::Overlap,
            ),
            (r(2.3, 2.1, 2.5, RatioKind::Range), Order::Greater),
            (r(1.5, 1.4, 2.0, RatioKind::Bonferroni95), Order::Less),
            (r(2.4, 2.4, 2.4, RatioKind::Point), Order::Overlap),
            (r(2.8, 2.8, 2.8, RatioKind::Point), Order::Greater),
        ];
        for (ratio, order) in cases {
            assert_eq!(compare_ratio(&ratio, 2.0), order, "{ratio:?}");
        }
    }

    #[test]
    fn ratio_interval_says_what_it_is() {
        let r = ratio_interval(&est(&[180.0, 200.0, 220.0]), &est(&[90.0, 100.0, 110.0])).unwrap();
        assert_eq!(r.kind, RatioKind::Range);
        assert!((r.ratio - 2.0).abs() < 1e-9);
        assert!((r.low - 180.0 / 110.0).abs() < 1e-9);
        assert!((r.high - 220.0 / 90.0).abs() < 1e-9);

        let r = ratio_interval(&est(&[200.0]), &est(&[90.0, 100.0, 110.0])).unwrap();
        assert_eq!(
            (r.kind, r.low, r.high),
            (RatioKind::Point, r.ratio, r.ratio)
        );

        // Two t-intervals: each at 97.5%, wider than the stored 95% ones.
        let a = est(&[190.0, 195.0, 200.0, 205.0, 210.0]);
        let b = est(&[95.0, 98.0, 100.0, 102.0, 105.0]);
        let r = ratio_interval(&a, &b).unwrap();
        assert_eq!(r.kind, RatioKind::Bonferroni95);
        assert!(
            r.low < a.ci_low / b.ci_high && r.high > a.ci_high / b.ci_low,
            "{r:?}"
        );
        assert!(r.low < 2.0 && r.high > 2.0);

        // Five trials on one side, three on the other: the five's stored
        // bounds are a 95% t-interval, not its extremes (190 and 210 lie
        // outside it), so the pair is no range of ratios.
        let r = ratio_interval(&a, &est(&[90.0, 100.0, 110.0])).unwrap();
        assert_eq!(r.kind, RatioKind::Mixed);
        assert!(a.ci_low > 190.0 && a.ci_high < 210.0, "{a:?}");
        assert!((r.low - a.ci_low / 110.0).abs() < 1e-9, "{r:?}");
        assert_eq!(r.kind.label(), "range against a 95% interval");
        assert_eq!(
            ratio_interval(&b, &a).unwrap().kind,
            RatioKind::Bonferroni95
        );

        assert!(ratio_interval(&est(&[1.0]), &est(&[0.0])).is_none());
        let r = ratio_interval(&est(&[1.0, 2.0]), &est(&[0.0, 1.0])).unwrap();
        assert!(r.high.is_infinite());
    }
}
