//! The advisor: ranks the contenders of a run for a team's profile, over the
//! blog's grounds, and sizes each for the expected peak.
//!
//! Scores are in 0–1 per ground and combined with the profile's weights:
//! - **performance**: capacity at the SLO relative to the best contender, per
//!   category of the mix (for `realtime`, the fan-out capacity, else the fan-out p99 and delivered share);
//! - **fit**: whether the contender serves each category at all (unsupported
//!   and failed cells score 0), times its p99 at equal load relative to the best;
//!
//! Both measured grounds go through the verdicts' test (`relative`): a
//! contender the test cannot tell from the category's best scores as the best,
//! so no lead rests on a difference the evidence does not show.
//! - **ecosystem**: the curated `data/ecosystem.toml` strength for the team's
//!   needs (80%), and the measured transitive dependency count (20%, fewer is better);
//! - **learning**: the team's skills (70%) and the measured app size (30%, smaller is easier).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::profile::{Category, TeamProfile, DEFAULT_PEAK_RPS};
use super::{compare_estimates, compare_readings, scope, unsteady, Order, Reading};
use crate::model::{Cell, ContenderInfo, Estimate, Flag, Language, Run};
use crate::report::table::fmt_rate;
use crate::workload::Workload;

/// The curated ecosystem knowledge, compiled in.
pub const ECOSYSTEM_TOML: &str = include_str!("../../../../data/ecosystem.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ecosystem {
    pub needs: BTreeMap<String, Need>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Need {
    pub description: String,
    pub python: Entry,
    pub node: Entry,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub strength: f64,
    pub libraries: Vec<String>,
    pub source: String,
}

impl Ecosystem {
    pub fn builtin() -> Ecosystem {
        // The file is part of the source tree and checked by a unit test.
        toml::from_str(ECOSYSTEM_TOML).expect("data/ecosystem.toml is valid")
    }

    pub fn need_names(&self) -> Vec<String> {
        self.needs.keys().cloned().collect()
    }

    fn entry(&self, need: &str, language: &Language) -> Option<&Entry> {
        let n = self.needs.get(need)?;
        match language {
            Language::Node => Some(&n.node),
            Language::Python => Some(&n.python),
            Language::Other(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Breakdown {
    pub performance: f64,
    pub fit: f64,
    pub ecosystem: f64,
    pub learning: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub contender: String,
    pub language: Language,
    /// 0–100.
    pub score: f64,
    pub breakdown: Breakdown,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    pub contender: String,
    /// Blended capacity of one core for the mix, req/s at the run's SLO.
    pub per_core_rps: Option<f64>,
    pub cores: Option<u32>,
    /// How the figure was derived, or why there is none.
    pub basis: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advice {
    pub run_id: i64,
    pub profile: TeamProfile,
    pub ranking: Vec<Ranked>,
    pub recommendation: String,
    /// Some capacity behind the ranking rests on a single trial: the
    /// recommendation is indicative only.
    pub indicative: bool,
    pub reasons: Vec<String>,
    pub caveats: Vec<String>,
    pub peak_rps: f64,
    pub peak_is_default: bool,
    pub plan: Vec<PlanRow>,
    /// Cells the mix needs that the run lacks (`contender/workload`).
    pub missing: Vec<String>,
    /// The workloads that would measure them.
    pub missing_workloads: Vec<Workload>,
    /// The command that measures them.
    pub measure_command: Option<String>,
    /// Ecosystem entries behind the needs, with sources.
    pub ecosystem: BTreeMap<String, BTreeMap<String, Entry>>,
}

/// The cell that measures `cat` for `contender`: the first workload of the category present.
fn category_cell<'a>(run: &'a Run, contender: &str, cat: &Category) -> Option<&'a Cell> {
    cat.workloads().iter().find_map(|w| run.cell(contender, w))
}

/// A cell's performance evidence for its category (higher is better).
#[derive(Debug, Clone, Copy)]
enum Perf {
    /// Capacity (for realtime, the fan-out capacity) across trials.
    Capacity(Estimate),
    /// A realtime cell without a capacity: the delivered share ÷ the fan-out
    /// p99, one reading.
    Reading(f64),
}

impl Perf {
    fn value(self) -> f64 {
        match self {
            Perf::Capacity(e) => e.center(),
            Perf::Reading(v) => v,
        }
    }

    /// The order a category's best is chosen in: any capacity before any
    /// reading (the two are in different units), then by value.
    fn rank(self) -> (bool, f64) {
        (matches!(self, Perf::Capacity(_)), self.value())
    }
}

/// Whether `cell` has no performance to compare for a reason that is not the
/// server's failure: its capacity is only a lower bound (truncated,
/// generator-limited) or unmeasurable on this machine (machine-noisy, no clean
/// trial). A failing server's cell scores nothing.
fn unknown_perf(cell: &Cell) -> bool {
    cell.status.is_ok() && cell.out_of_verdicts().is_some_and(|f| f != Flag::Failing)
}

/// The score of an [`unknown_perf`] cell against its category's `best`: no
/// clear difference (the best's 1), unless its truncated trials' long
/// failures bound it clearly below (by more than the single-trial margin):
/// then the ratio of that bound, the most it could score.
fn unknown_score(cell: &Cell, best: Perf) -> f64 {
    let bound = crate::suite::headline_upper_bound(&cell.trials);
    match (bound, best) {
        (Some(h), Perf::Capacity(b)) if b.center() > 0.0 => {
            let ratio = h / b.center();
            if ratio < 1.0 - super::INDICATIVE_MARGIN {
                ratio
            } else {
                1.0
            }
        }
        _ => 1.0,
    }
}

/// Performance evidence of a cell for its category: capacity (for realtime,
/// the fan-out capacity), or for a realtime cell without one the inverse
/// fan-out p99 weighted by the delivered share.
fn perf_value(cell: &Cell, cat: &Category) -> Option<Perf> {
    if !cell.status.is_ok() {
        return None;
    }
    if let Some(e) = cell.verdict_capacity() {
        return Some(Perf::Capacity(e));
    }
    // A failing server's reading would score a broken app: it has none (an
    // unsteady reading would instead tie with the best, see [`relative`]).
    if *cat != Category::Realtime || cell.flags.contains(&Flag::Failing) {
        return None;
    }
    let p = cell.ws.iter().max_by_key(|p| p.clients)?;
    let delivered = if p.expected_deliveries == 0 {
        0.0
    } else {
        p.deliveries as f64 / p.expected_deliveries as f64
    };
    (p.p99_ms > 0.0).then(|| Perf::Reading(delivered / p.p99_ms))
}

/// A contender's score on a measured ground against the category's best
/// (higher is better), and whether a single reading decided it. The best's
/// own score, 1, when the test finds no clear difference: Welch's t-test at 5%
/// between capacities of several trials, the indicative margin with a single
/// trial ([`compare_estimates`]), the reading factor between two readings
/// ([`compare_readings`]), and always when either reading's cell is
/// [`unsteady`].
///
/// A capacity and a reading (a realtime cell with a fan-out capacity against
/// one without) are in different units: no clear difference either.
fn relative(v: (Perf, &Cell), best: (Perf, &Cell)) -> (f64, bool) {
    let steady = unsteady(v.1).is_none() && unsteady(best.1).is_none();
    let order = match (v.0, best.0) {
        (Perf::Capacity(a), Perf::Capacity(b)) => compare_estimates(&a, &b),
        (Perf::Reading(a), Perf::Reading(b)) if steady => compare_readings(a, b, Reading::Latency),
        _ => Order::Overlap,
    };
    let reading = matches!((v.0, best.0), (Perf::Reading(_), Perf::Reading(_)));
    match order {
        Order::Overlap => (1.0, false),
        _ if best.0.value() > 0.0 => (v.0.value() / best.0.value(), reading),
        _ => (0.0, reading),
    }
}

/// p99 at equal load, or the ws fan-out p99, as [`Perf`] (its inverse: higher
/// is better), one reading.
fn latency_value(cell: &Cell, cat: &Category) -> Option<Perf> {
    let p99 = if *cat == Category::Realtime {
        cell.ws.iter().max_by_key(|p| p.clients).map(|p| p.p99_ms)
    } else {
        cell.equal_load.as_ref().map(|e| e.latency.p99)
    };
    p99.filter(|l| *l > 0.0).map(|l| Perf::Reading(1.0 / l))
}

/// Per category, the cell with the highest value of `value` ([`Perf::rank`]).
fn best_of<'a>(
    run: &'a Run,
    contenders: &[&ContenderInfo],
    cat: &Category,
    value: fn(&Cell, &Category) -> Option<Perf>,
) -> Option<(Perf, &'a Cell)> {
    contenders
        .iter()
        .filter_map(|c| category_cell(run, &c.name, cat))
        .filter_map(|cell| value(cell, cat).map(|v| (v, cell)))
        .max_by(|a, b| {
            let (a, b) = (a.0.rank(), b.0.rank());
            a.0.cmp(&b.0).then(a.1.total_cmp(&b.1))
        })
}

pub fn advise(run: &Run, profile: &TeamProfile, eco: &Ecosystem) -> Advice {
    let contenders: Vec<&ContenderInfo> = run.contenders.iter().collect();
    let total_share: f64 = profile.mix.values().sum();
    let mut missing = Vec::new();
    let mut missing_workloads = Vec::new();

    // Per category: the best performance and the best latency across contenders.
    let mut best_perf = BTreeMap::new();
    let mut best_lat = BTreeMap::new();
    for cat in profile.mix.keys() {
        if let Some(b) = best_of(run, &contenders, cat, perf_value) {
            best_perf.insert(cat.clone(), b);
        }
        if let Some(b) = best_of(run, &contenders, cat, latency_value) {
            best_lat.insert(cat.clone(), b);
        }
        for c in &contenders {
            let unsupported = c
                .unsupported
                .keys()
                .any(|k| cat.workloads().contains(&k.workload()));
            if category_cell(run, &c.name, cat).is_none() && !unsupported {
                let first = &cat.workloads()[0];
                missing.push(format!("{}/{first}", c.name));
                if !missing_workloads.contains(first) {
                    missing_workloads.push(first.clone());
                }
            }
        }
    }

    let min_deps = contenders
        .iter()
        .map(|c| c.deps_total)
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(0);
    let min_loc = contenders
        .iter()
        .map(|c| c.app_loc)
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(0);

    // Whether a single reading (not a capacity) set some score below the best's.
    let mut reading_decided = false;
    let mut ranking: Vec<Ranked> = contenders
        .iter()
        .map(|c| {
            let (mut perf, mut fit) = (0.0, 0.0);
            for (cat, &share) in &profile.mix {
                let w = share / total_share;
                let Some(cell) = category_cell(run, &c.name, cat) else {
                    continue;
                };
                match (perf_value(cell, cat), best_perf.get(cat)) {
                    (Some(v), Some(&best)) => {
                        let (score, reading) = relative((v, cell), best);
                        reading_decided |= reading;
                        perf += w * score;
                    }
                    (None, Some(&(best, _))) if unknown_perf(cell) => {
                        perf += w * unknown_score(cell, best);
                    }
                    _ => {}
                }
                if cell.status.is_ok() {
                    let lat = match (latency_value(cell, cat), best_lat.get(cat)) {
                        (Some(l), Some(&best)) => {
                            let (score, reading) = relative((l, cell), best);
                            reading_decided |= reading;
                            score
                        }
                        _ => 1.0,
                    };
                    fit += w * lat;
                }
            }
            let needs_score = if profile.needs.is_empty() {
                1.0
            } else {
                profile
                    .needs
                    .iter()
                    .map(|n| eco.entry(n, &c.language).map_or(0.0, |e| e.strength))
                    .sum::<f64>()
                    / profile.needs.len() as f64
            };
            let deps_score = if c.deps_total > 0 && min_deps > 0 {
                min_deps as f64 / c.deps_total as f64
            } else {
                1.0
            };
            let skill = if profile.team.speaks(&c.language) {
                1.0
            } else {
                0.3
            };
            let size_score = if c.app_loc > 0 && min_loc > 0 {
                min_loc as f64 / c.app_loc as f64
            } else {
                1.0
            };
            let breakdown = Breakdown {
                performance: perf,
                fit,
                ecosystem: 0.8 * needs_score + 0.2 * deps_score,
                learning: 0.7 * skill + 0.3 * size_score,
            };
            let w = &profile.weights;
            let score = 100.0
                * (w.performance * breakdown.performance
                    + w.fit * breakdown.fit
                    + w.ecosystem * breakdown.ecosystem
                    + w.learning * breakdown.learning)
                / w.total();
            Ranked {
                contender: c.name.clone(),
                language: c.language.clone(),
                score,
                breakdown,
            }
        })
        .collect();
    ranking.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.contender.cmp(&b.contender))
    });

    let peak_rps = profile.peak_rps.unwrap_or(DEFAULT_PEAK_RPS);
    let plan: Vec<PlanRow> = contenders
        .iter()
        .map(|c| plan_row(run, c, profile, peak_rps))
        .collect();

    let mut caveats = vec![format!(
        "Measured in {}; it says nothing beyond this machine and these versions.",
        scope(run)
    )];
    if run.settings.databases().len() > 1 {
        let on: Vec<String> = run
            .cells
            .iter()
            .filter(|c| c.workload.uses_database())
            .filter_map(|c| c.database.filter(|_| run.in_verdicts(c)))
            .map(|d| d.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !on.is_empty() {
            caveats.push(format!(
                "The database workloads were measured on {}; the advice uses the {} figures, as a real service reaches its data over a socket.",
                run.settings
                    .databases()
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(" and "),
                on.join(", ")
            ));
        }
    }
    caveats.push(format!(
        "Performance and fit score a contender as the category's best unless it is clearly behind: by Welch's t-test at 5% between capacities of several trials, by more than {:.0}% between single trials, by more than a factor of {:.0} between single p99 readings (equal load, fan-out).",
        super::INDICATIVE_MARGIN * 100.0,
        Reading::Latency.factor()
    ));
    let single_trial = run
        .cells
        .iter()
        .filter(|c| run.in_verdicts(c))
        .any(|c| c.status.is_ok() && c.verdict_capacity().is_some_and(|e| e.n < 2));
    if single_trial {
        caveats.push(format!(
            "Indicative: some capacities rest on a single trial, which no test can compare: they differ only beyond {:.0}%. `--profile standard` runs several independent trials.",
            super::INDICATIVE_MARGIN * 100.0
        ));
    }
    if reading_decided {
        caveats.push("Indicative: a single p99 reading, which no test can compare, set some score below the best's.".into());
    }
    let indicative = single_trial || reading_decided;
    let left_out: Vec<(String, Flag)> = run
        .cells
        .iter()
        .filter(|c| run.in_verdicts(c))
        .filter_map(|c| {
            c.out_of_verdicts().map(|why| {
                let workload = crate::report::cell_workload(run, c);
                (format!("{}/{workload} ({why})", c.contender), why)
            })
        })
        .collect();
    let named = |failing: bool| {
        left_out
            .iter()
            .filter(|(_, why)| (*why == Flag::Failing) == failing)
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let (unknown, failing) = (named(false), named(true));
    if !unknown.is_empty() {
        caveats.push(format!(
            "Not compared on performance, their capacity being only a lower bound or unmeasurable on this machine, so each scores as its category's best (no clear difference) unless the long windows it failed bound it clearly below, then at that bound: {unknown}."
        ));
    }
    if !failing.is_empty() {
        caveats.push(format!(
            "Scored nothing on performance, a failing server's: {failing}."
        ));
    }
    if let Some(slo) = profile.slo_p99_ms {
        if (slo - run.settings.slo_p99_ms).abs() > 1e-9 {
            caveats.push(format!(
                "Capacities were measured at p99 ≤ {} ms, not your {slo} ms; rerun with `bakeoff run --slo-p99 {slo}ms` to size for it.",
                run.settings.slo_p99_ms
            ));
        }
    }
    let flagged: Vec<String> = run
        .cells
        .iter()
        .filter(|c| !c.flags.is_empty() && run.in_verdicts(c))
        .map(|c| {
            format!(
                "{}/{} ({})",
                c.contender,
                crate::report::cell_workload(run, c),
                Flag::list(&c.flags, ", ")
            )
        })
        .collect();
    if !flagged.is_empty() {
        caveats.push(format!("Flagged cells: {}.", flagged.join("; ")));
    }
    caveats.push("The plan assumes capacity grows linearly with cores; a worker sweep (`--workers 1,2`) measures the real scaling.".into());

    let (mut recommendation, reasons) = explain(run, profile, &ranking, &plan);
    if single_trial {
        recommendation = format!("Indicative (single trial): {recommendation}");
    } else if reading_decided {
        recommendation = format!("Indicative (single reading): {recommendation}");
    }
    let measure_command = (!missing_workloads.is_empty()).then(|| {
        let names: Vec<String> = contenders.iter().map(|c| c.name.clone()).collect();
        measure_command(&names, &missing_workloads)
    });
    let ecosystem = profile
        .needs
        .iter()
        .filter_map(|n| {
            let need = eco.needs.get(n)?;
            let mut m = BTreeMap::new();
            m.insert(Language::Node.to_string(), need.node.clone());
            m.insert(Language::Python.to_string(), need.python.clone());
            Some((n.clone(), m))
        })
        .collect();

    Advice {
        run_id: run.id,
        profile: profile.clone(),
        ranking,
        recommendation,
        indicative,
        reasons,
        caveats,
        peak_rps,
        peak_is_default: profile.peak_rps.is_none(),
        plan,
        missing,
        missing_workloads,
        measure_command,
        ecosystem,
    }
}

/// Cores needed for the peak from the mix-blended capacity per core:
/// 1 / Σ(share_k / capacity_k) over the categories sized in requests per second.
fn plan_row(run: &Run, c: &ContenderInfo, profile: &TeamProfile, peak: f64) -> PlanRow {
    let sized: Vec<(Category, f64)> = profile
        .mix
        .iter()
        .filter(|(k, _)| **k != Category::Realtime)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    if sized.is_empty() {
        return PlanRow {
            contender: c.name.clone(),
            per_core_rps: None,
            cores: None,
            basis: "a realtime-only mix is sized by connections: see memory per connection".into(),
        };
    }
    let total: f64 = sized.iter().map(|(_, s)| s).sum();
    let mut inv = 0.0;
    let mut parts = Vec::new();
    for (cat, share) in &sized {
        let cap = category_cell(run, &c.name, cat)
            .filter(|cell| cell.status.is_ok())
            .and_then(|cell| {
                cell.verdict_capacity().map(|e| {
                    (
                        crate::report::cell_workload(run, cell),
                        e.center() / cell.workers.max(1) as f64,
                    )
                })
            });
        match cap {
            Some((w, per_core)) if per_core > 0.0 => {
                inv += share / total / per_core;
                parts.push(format!("{w} {} req/s", fmt_rate(per_core)));
            }
            _ => {
                return PlanRow {
                    contender: c.name.clone(),
                    per_core_rps: None,
                    cores: None,
                    basis: format!("no capacity measured for `{}`", cat.name()),
                }
            }
        }
    }
    let per_core = 1.0 / inv;
    PlanRow {
        contender: c.name.clone(),
        per_core_rps: Some(per_core),
        cores: Some((peak / per_core).ceil().max(1.0) as u32),
        basis: format!("per core: {}", parts.join(", ")),
    }
}

fn explain(
    run: &Run,
    profile: &TeamProfile,
    ranking: &[Ranked],
    plan: &[PlanRow],
) -> (String, Vec<String>) {
    let Some(top) = ranking.first() else {
        return ("No contender in this run can be ranked.".into(), Vec::new());
    };
    let cores = |name: &str| {
        plan.iter()
            .find(|p| p.contender == name)
            .and_then(|p| p.cores)
    };
    // Scores that round alike are a tie: nothing the evidence shows separates them.
    let tied: Vec<&str> = ranking[1..]
        .iter()
        .filter(|r| (top.score - r.score).round() == 0.0)
        .map(|r| r.contender.as_str())
        .collect();
    let mut rec = if tied.is_empty() {
        let mut rec = format!(
            "Choose {} ({}), score {:.0}/100",
            top.contender,
            top.language.label(),
            top.score
        );
        if let Some(n) = cores(&top.contender) {
            rec.push_str(&format!(
                ", {n} core{} for the peak",
                if n == 1 { "" } else { "s" }
            ));
        }
        rec
    } else {
        format!(
            "No clear difference between {} and {} ({:.0}/100): nothing measured here separates them",
            top.contender,
            tied.join(" and "),
            top.score
        )
    };
    rec.push('.');
    let mut reasons = Vec::new();
    if let Some(rival) = ranking.iter().find(|r| r.language != top.language) {
        let b = (&top.breakdown, &rival.breakdown);
        let grounds = [
            ("performance at the SLO", b.0.performance, b.1.performance),
            ("fit to your workload mix", b.0.fit, b.1.fit),
            ("ecosystem for your needs", b.0.ecosystem, b.1.ecosystem),
            ("learning curve for your team", b.0.learning, b.1.learning),
        ];
        let mut diffs: Vec<_> = grounds.iter().map(|(g, a, r)| (g, a - r, a, r)).collect();
        diffs.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()));
        for (g, d, a, r) in diffs.into_iter().take(3) {
            // A measured ground is 0 apart when its test found no clear difference.
            let word = if d.abs() < 0.005 {
                "no clear difference from"
            } else if d > 0.0 {
                "ahead of"
            } else {
                "behind"
            };
            reasons.push(format!(
                "{g}: {word} {} ({:.2} vs {:.2})",
                rival.contender, a, r
            ));
        }
        let (tc, rc) = (cores(&top.contender), cores(&rival.contender));
        if let (Some(t), Some(r)) = (tc, rc) {
            reasons.push(format!(
                "{} needs {t} core(s) for the peak; {} needs {r}.",
                top.contender, rival.contender
            ));
        }
        rec.push_str(&format!(
            " The best {} option is {} ({:.0}/100).",
            rival.language.label(),
            rival.contender,
            rival.score
        ));
    }
    // What the choice sustained on each category of the team's mix, the
    // largest share first, in its workload's unit (a ws cell's is msg/s).
    let mut mix: Vec<(&Category, f64)> = profile
        .mix
        .iter()
        .filter(|(_, share)| **share > 0.0)
        .map(|(c, s)| (c, *s))
        .collect();
    mix.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (cat, share) in mix {
        let Some(cell) = category_cell(run, &top.contender, cat) else {
            continue;
        };
        if let Some(e) = cell.verdict_capacity() {
            let workload = crate::report::cell_workload(run, cell);
            // The category named where its workload's name does not say it.
            let of_mix = if cat.name() == workload {
                format!("{share:.0}% of your mix")
            } else {
                format!("{}, {share:.0}% of your mix", cat.name())
            };
            reasons.push(format!(
                "{} sustained {} {} on `{workload}` ({of_mix}) at p99 ≤ {} ms{}.",
                top.contender,
                fmt_rate(e.center()),
                cell.workload.rate_unit(),
                run.settings.slo_p99_ms,
                if e.n < 2 {
                    " (1 trial, indicative)"
                } else {
                    ""
                }
            ));
        }
    }
    (rec, reasons)
}

/// The `bakeoff run` that measures `missing` workloads for contenders
/// `names`: one on another runtime is its base on that runtime again.
fn measure_command(names: &[String], missing: &[Workload]) -> String {
    let (bases, axis) = crate::contender::runtimes::RuntimeAxis::of_names(names);
    let workloads: Vec<&str> = missing.iter().map(Workload::name).collect();
    let mut cmd = format!(
        "bakeoff run --contenders {} --workloads {}",
        bases.join(","),
        workloads.join(",")
    );
    for (flag, list) in [("--python", &axis.python), ("--node", &axis.node)] {
        if !list.is_empty() {
            cmd.push_str(&format!(" {flag} {}", list.join(",")));
        }
    }
    cmd
}

#[cfg(test)]
mod tests;
