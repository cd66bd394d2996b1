//! The advisor: ranks the contenders of a run for a team's profile, over the
//! blog's grounds, and sizes each for the expected peak.
//!
//! Scores are in 0–1 per ground and combined with the profile's weights:
//! - **performance**: capacity at the SLO relative to the best contender, per
//!   category of the mix (for `realtime`, the fan-out capacity, else the fan-out p99 and delivered share);
//! - **fit**: whether the contender serves each category at all (unsupported
//!   and failed cells score 0), times its p99 at equal load relative to the best;
//! - **ecosystem**: the curated `data/ecosystem.toml` strength for the team's
//!   needs (80%), and the measured transitive dependency count (20%, fewer is better);
//! - **learning**: the team's skills (70%) and the measured app size (30%, smaller is easier).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::profile::{Category, TeamProfile, DEFAULT_PEAK_RPS};
use super::scope;
use crate::model::{Cell, ContenderInfo, Flag, Language, Run};
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

/// Performance value of a cell for its category: capacity (for realtime, the
/// fan-out capacity), or for a realtime cell without one the inverse fan-out
/// p99 weighted by the delivered share (higher is better).
fn perf_value(cell: &Cell, cat: &Category) -> Option<f64> {
    if !cell.status.is_ok() {
        return None;
    }
    if *cat == Category::Realtime {
        // The fan-out capacity (messages per second into a room) when measured.
        if let Some(e) = cell.verdict_capacity() {
            return Some(e.center());
        }
        let p = cell.ws.iter().max_by_key(|p| p.clients)?;
        let delivered = if p.expected_deliveries == 0 {
            0.0
        } else {
            p.deliveries as f64 / p.expected_deliveries as f64
        };
        return (p.p99_ms > 0.0).then(|| delivered / p.p99_ms);
    }
    cell.verdict_capacity().map(|e| e.center())
}

/// p99 at equal load (lower is better), or the ws fan-out p99.
fn latency_value(cell: &Cell, cat: &Category) -> Option<f64> {
    if *cat == Category::Realtime {
        return cell.ws.iter().max_by_key(|p| p.clients).map(|p| p.p99_ms);
    }
    cell.equal_load.as_ref().map(|e| e.latency.p99)
}

pub fn advise(run: &Run, profile: &TeamProfile, eco: &Ecosystem) -> Advice {
    let contenders: Vec<&ContenderInfo> = run.contenders.iter().collect();
    let total_share: f64 = profile.mix.values().sum();
    let mut missing = Vec::new();
    let mut missing_workloads = Vec::new();

    // Per category: the best performance value and best latency across contenders.
    let mut best_perf = BTreeMap::new();
    let mut best_lat = BTreeMap::new();
    for cat in profile.mix.keys() {
        for c in &contenders {
            match category_cell(run, &c.name, cat) {
                Some(cell) => {
                    if let Some(v) = perf_value(cell, cat) {
                        let e = best_perf.entry(cat.clone()).or_insert(0.0_f64);
                        *e = e.max(v);
                    }
                    if let Some(l) = latency_value(cell, cat).filter(|l| *l > 0.0) {
                        let e = best_lat.entry(cat.clone()).or_insert(f64::INFINITY);
                        *e = e.min(l);
                    }
                }
                None if !c
                    .unsupported
                    .keys()
                    .any(|k| cat.workloads().contains(&k.workload())) =>
                {
                    let first = &cat.workloads()[0];
                    missing.push(format!("{}/{first}", c.name));
                    if !missing_workloads.contains(first) {
                        missing_workloads.push(first.clone());
                    }
                }
                None => {}
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

    let mut ranking: Vec<Ranked> = contenders
        .iter()
        .map(|c| {
            let (mut perf, mut fit) = (0.0, 0.0);
            for (cat, &share) in &profile.mix {
                let w = share / total_share;
                let Some(cell) = category_cell(run, &c.name, cat) else {
                    continue;
                };
                if let (Some(v), Some(best)) = (perf_value(cell, cat), best_perf.get(cat)) {
                    if *best > 0.0 {
                        perf += w * v / best;
                    }
                }
                if cell.status.is_ok() {
                    let lat = match (latency_value(cell, cat), best_lat.get(cat)) {
                        (Some(l), Some(b)) if l > 0.0 => b / l,
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
    let indicative = run
        .cells
        .iter()
        .filter(|c| run.in_verdicts(c))
        .any(|c| c.status.is_ok() && c.verdict_capacity().is_some_and(|e| e.n < 2));
    if indicative {
        caveats.push(format!(
            "Indicative: some capacities rest on a single trial, so differences under {:.0}% are treated as ties and none is tested. `--profile standard` runs several independent trials.",
            super::INDICATIVE_MARGIN * 100.0
        ));
    }
    let left_out: Vec<String> = run
        .cells
        .iter()
        .filter(|c| run.in_verdicts(c))
        .filter_map(|c| {
            c.out_of_verdicts().map(|why| {
                format!(
                    "{}/{} ({why})",
                    c.contender,
                    crate::report::cell_workload(run, c)
                )
            })
        })
        .collect();
    if !left_out.is_empty() {
        caveats.push(format!(
            "Left out of the ranking, their capacity being only a lower bound or unmeasurable on this machine: {}.",
            left_out.join("; ")
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

    let (mut recommendation, reasons) = explain(run, &ranking, &plan);
    if indicative {
        recommendation = format!("Indicative (single trial): {recommendation}");
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
                parts.push(format!("{w} {per_core:.0} req/s"));
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

fn explain(run: &Run, ranking: &[Ranked], plan: &[PlanRow]) -> (String, Vec<String>) {
    let Some(top) = ranking.first() else {
        return ("No contender in this run can be ranked.".into(), Vec::new());
    };
    let cores = |name: &str| {
        plan.iter()
            .find(|p| p.contender == name)
            .and_then(|p| p.cores)
    };
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
            let word = if d > 0.0 { "ahead" } else { "behind" };
            reasons.push(format!(
                "{g}: {word} of {} ({:.2} vs {:.2})",
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
    for cat in [Workload::Io, Workload::Data, Workload::Ws] {
        if let Some(cell) = run.cell(&top.contender, &cat) {
            if let Some(e) = cell.verdict_capacity() {
                reasons.push(format!(
                    "{} sustained {:.0} req/s on `{cat}` at p99 ≤ {} ms{}.",
                    top.contender,
                    e.center(),
                    run.settings.slo_p99_ms,
                    if e.n < 2 {
                        " (1 trial, indicative)"
                    } else {
                        ""
                    }
                ));
            }
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
mod tests {
    #[test]
    fn the_measure_command_names_bases_and_their_runtimes() {
        let names = ["node-fastify", "node-fastify-node22", "python-flask-py313"].map(String::from);
        assert_eq!(
            measure_command(&names, &[Workload::Io, Workload::Ws]),
            "bakeoff run --contenders node-fastify,python-flask --workloads io,ws --python 3.13 --node 22"
        );
    }

    use super::*;
    use crate::verdict::fixture;
    use crate::verdict::profile::{parse_pairs, Inputs, Weights};

    fn profile(mix: &str, team: &str) -> TeamProfile {
        Inputs {
            mix: Some(parse_pairs(mix, "mix").unwrap()),
            team: Some(team.into()),
            ..Inputs::default()
        }
        .validate(&[], &Ecosystem::builtin().need_names())
        .unwrap()
    }

    #[test]
    fn the_ecosystem_file_is_complete() {
        let eco = Ecosystem::builtin();
        assert!(eco.needs.len() >= 8);
        for (name, need) in &eco.needs {
            for e in [&need.node, &need.python] {
                assert!((0.0..=1.0).contains(&e.strength), "{name}");
                assert!(e.source.starts_with("https://"), "{name} needs a source");
                assert!(!e.libraries.is_empty(), "{name}");
            }
        }
    }

    #[test]
    fn realtime_for_a_js_team_picks_node_with_a_plan() {
        let run = fixture::run();
        let a = advise(&run, &profile("realtime=100", "js"), &Ecosystem::builtin());
        assert_eq!(a.ranking[0].language, Language::Node);
        assert!(
            a.recommendation.contains("node-fastify"),
            "{}",
            a.recommendation
        );
        assert_eq!(a.plan.len(), 4);
        assert!(a.peak_is_default);
    }

    #[test]
    fn the_capacity_plan_blends_the_mix() {
        let run = fixture::run();
        let mut p = profile("io=50,data=50", "both");
        p.peak_rps = Some(1000.0);
        let a = advise(&run, &p, &Ecosystem::builtin());
        let row = a
            .plan
            .iter()
            .find(|r| r.contender == "python-flask")
            .unwrap();
        // 1 / (0.5/55 + 0.5/350) = 95.06 req/s per core → 11 cores.
        assert!((row.per_core_rps.unwrap() - 95.06).abs() < 0.1, "{row:?}");
        assert_eq!(row.cores, Some(11));
        let fast = a
            .plan
            .iter()
            .find(|r| r.contender == "node-fastify")
            .unwrap();
        assert_eq!(fast.cores, Some(3));
    }

    #[test]
    fn weights_change_the_ranking_as_documented() {
        let run = fixture::run();
        let eco = Ecosystem::builtin();
        let mut p = profile("data=100", "python");
        p.needs = vec!["ml".into(), "data-science".into()];
        let a = advise(&run, &p, &eco);
        assert_eq!(a.ranking[0].language, Language::Python);
        // With only the learning ground and a JS team, Node wins.
        let mut p = profile("data=100", "js");
        p.weights = Weights::default()
            .with_overrides(
                &parse_pairs("performance=0,fit=0,ecosystem=0,learning=100", "weights").unwrap(),
            )
            .unwrap();
        let a = advise(&run, &p, &eco);
        assert_eq!(a.ranking[0].language, Language::Node);
        // With only performance, the data leader (python-fastapi) wins whatever the team.
        p.weights = Weights::default()
            .with_overrides(
                &parse_pairs("performance=100,fit=0,ecosystem=0,learning=0", "weights").unwrap(),
            )
            .unwrap();
        let a = advise(&run, &p, &eco);
        assert_eq!(a.ranking[0].contender, "python-fastapi");
        assert!((a.ranking[0].score - 100.0).abs() < 1e-9);
    }

    #[test]
    fn missing_cells_are_named_with_the_command() {
        let mut run = fixture::run();
        run.cells.retain(|c| c.workload != Workload::Io);
        let a = advise(&run, &profile("io=100", "both"), &Ecosystem::builtin());
        assert!(
            a.missing.contains(&"node-fastify/io".to_string()),
            "{:?}",
            a.missing
        );
        let cmd = a.measure_command.unwrap();
        assert!(
            cmd.starts_with("bakeoff run --contenders ") && cmd.ends_with("--workloads io"),
            "{cmd}"
        );
        assert!(a.plan.iter().all(|r| r.cores.is_none()));
    }

    #[test]
    fn unsupported_is_not_missing_and_scores_zero_fit() {
        let mut run = fixture::run();
        run.cells
            .retain(|c| !(c.contender == "python-flask" && c.workload == Workload::Ws));
        run.contenders
            .iter_mut()
            .find(|c| c.name == "python-flask")
            .unwrap()
            .unsupported
            .insert(crate::model::Endpoint::Ws, "sync".into());
        let a = advise(
            &run,
            &profile("realtime=100", "python"),
            &Ecosystem::builtin(),
        );
        assert!(a.missing.is_empty(), "{:?}", a.missing);
        let flask = a
            .ranking
            .iter()
            .find(|r| r.contender == "python-flask")
            .unwrap();
        assert_eq!(flask.breakdown.fit, 0.0);
        assert_eq!(flask.breakdown.performance, 0.0);
    }

    /// On a run that measured both databases the advisor ranks and sizes the
    /// crud mix on the PostgreSQL figures, and says so.
    #[test]
    fn the_advisor_uses_the_postgres_figures_when_the_run_has_them() {
        let run = fixture::run_on_both_databases();
        let a = advise(&run, &profile("crud=100", "both"), &Ecosystem::builtin());
        let rank = |name: &str| a.ranking.iter().position(|r| r.contender == name).unwrap();
        // Python leads on PostgreSQL (3,000 vs 1,000 req/s), Node on SQLite.
        assert!(
            rank("python-fastapi") < rank("node-fastify"),
            "{:?}",
            a.ranking
        );
        let plan = |name: &str| a.plan.iter().find(|r| r.contender == name).unwrap();
        assert_eq!(plan("python-fastapi").per_core_rps, Some(3000.0));
        assert_eq!(plan("node-fastify").per_core_rps, Some(1000.0));
        assert!(
            plan("node-fastify").basis.contains("db (on postgres)"),
            "{}",
            plan("node-fastify").basis
        );
        assert!(
            a.caveats
                .iter()
                .any(|c| c.contains("uses the postgres figures")),
            "{:?}",
            a.caveats
        );
        // Without the postgres cells, the same mix ranks on SQLite's.
        let sqlite = fixture::on_sqlite_only(run);
        let a = advise(&sqlite, &profile("crud=100", "both"), &Ecosystem::builtin());
        let plan = a
            .plan
            .iter()
            .find(|r| r.contender == "node-fastify")
            .unwrap();
        assert_eq!(plan.per_core_rps, Some(4000.0));
    }

    /// A cell with machine-noisy trials and clean ones is ranked on the clean
    /// ones; with none clean it is named among those left out.
    #[test]
    fn machine_noisy_cells_rank_on_their_clean_trials_or_are_named() {
        let mut run = fixture::run();
        let io = |c: &Cell| c.contender == "python-flask" && c.workload == Workload::Io;
        let cell = run.cells.iter_mut().find(|c| io(c)).unwrap();
        cell.flags.push(Flag::MachineNoisy);
        let left_out = |a: &Advice| {
            a.caveats
                .iter()
                .find(|c| c.starts_with("Left out of the ranking"))
                .cloned()
        };
        let a = advise(&run, &profile("io=100", "both"), &Ecosystem::builtin());
        assert_eq!(left_out(&a), None, "{:?}", a.caveats);
        let flask = a
            .plan
            .iter()
            .find(|r| r.contender == "python-flask")
            .unwrap();
        assert!(flask.per_core_rps.is_some(), "{flask:?}");

        run.cells.iter_mut().find(|c| io(c)).unwrap().capacity = None;
        let a = advise(&run, &profile("io=100", "both"), &Ecosystem::builtin());
        let caveat = left_out(&a).expect("the cell is named");
        assert!(
            caveat.contains("python-flask/io (machine-noisy)"),
            "{caveat}"
        );
    }
}
