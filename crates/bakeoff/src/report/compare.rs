//! `bakeoff compare`: cell-by-cell differences between two stored runs; `render`
//! prints them as text, Markdown, JSON or one HTML page. Pure: runs in, a
//! [`Comparison`] out.
//!
//! Cells match on (contender, workload, workers). Per matched cell three metrics
//! are compared: capacity at the SLO, the corrected p99 at equal load, and
//! CPU-ms per request. Δ is (B − A) / A.
//!
//! **Significance** is defined for capacity only: `*` when both runs have at least
//! two trials and Welch's t-test at 5% finds a difference, `~` when it does not,
//! `n/a` when either side has a single trial. The p99 and CPU figures are single
//! equal-load measurements, so their mark is always `n/a`.
//!
//! **Equal-load rates**: p99 and CPU per request are only comparable at the same
//! rate. When a cell's equal-load `target_rps` differs between the runs, the
//! report says so, shows no change between its p99s and CPUs, and the gate
//! does not judge them.
//!
//! **The machine's speed**: when both runs kept their drift-probe readings and
//! the medians differ by more than [`SPEED_DIFFERS`], a caveat says by how
//! much, since every capacity moves with the machine. When every compared
//! capacity moved the same way, across both languages, or a contender's
//! runtime or framework version changed, a caveat says that too; and each
//! run's own Node.js ÷ Python ratio is set beside the other's (`shared`).
//!
//! **JSON** (`--format json`): the [`Comparison`] itself as a
//! [`CompareDocument`], its schema `docs/schema/compare.json`. **HTML**
//! (`--format html`): the text page's table, lists and gate as one page, opened
//! as the run report's.
//!
//! **The regression gate** (`--fail-on-regression PCT`) fails a cell when its
//! capacity dropped by more than PCT %, its p99 or CPU per request rose by more
//! than PCT %, or it was ok in A and failed in B. The gate looks at the size of
//! the change, not its significance: quick runs have one trial and no interval.

use std::collections::BTreeMap;

use crate::model::{Cell, CellStatus, Flag, ProbeSite, ProbeSummary, Profile, Run, RunStatus};
use crate::verdict::{self, Order};
use crate::workload::{RateUnit, Workload};

mod render;
mod shared;
pub use render::{compare_schema, render, CompareDocument, Format};
pub use shared::RatioComparison;

/// Which run a comparison side is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct RunHeader {
    /// The run's id in the store.
    pub id: i64,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub profile: Profile,
    pub status: RunStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct CellKey {
    pub contender: String,
    pub workload: Workload,
    pub workers: u32,
    /// A database workload's database, when either run measured several
    /// (two single-database runs compare their db cells across databases,
    /// with a caveat).
    pub database: Option<crate::database::Database>,
}

impl CellKey {
    /// The workload, with the database when the key has one: "db on postgres".
    pub fn workload_label(&self) -> String {
        match self.database {
            Some(d) => format!("{} on {d}", self.workload),
            None => self.workload.to_string(),
        }
    }
}

/// "contender workload ×workers", then " on database" when the key has one.
impl std::fmt::Display for CellKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ×{}",
            self.contender,
            self.workload_label(),
            self.workers
        )
    }
}

/// By contender, then workload name (the comparison lists cells alphabetically),
/// then workers, then database.
impl Ord for CellKey {
    fn cmp(&self, o: &CellKey) -> std::cmp::Ordering {
        (&self.contender, self.workload.name(), self.workers)
            .cmp(&(&o.contender, o.workload.name(), o.workers))
            .then_with(|| self.workload.cmp(&o.workload))
            .then_with(|| self.database.cmp(&o.database))
    }
}

impl PartialOrd for CellKey {
    fn partial_cmp(&self, o: &CellKey) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// The significance mark of one metric's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Welch's t-test at 5% finds a difference.
    Significant,
    /// It does not: no clear difference.
    Overlap,
    /// No interval to judge by (single trial or single measurement).
    NotApplicable,
}

impl Mark {
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Significant => "*",
            Mark::Overlap => "~",
            Mark::NotApplicable => "n/a",
        }
    }
}

/// One metric of one cell in both runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct MetricDelta {
    /// Run A's figure: a capacity's headline, or the equal-load p99 (ms) or
    /// CPU per request (ms); null where A has none.
    pub a: Option<f64>,
    /// Run B's, as `a`.
    pub b: Option<f64>,
    /// (b − a) / a × 100, when both exist and a ≠ 0.
    pub delta_pct: Option<f64>,
    pub mark: Mark,
    /// Beyond the gate's threshold in the bad direction.
    pub regressed: bool,
}

/// One cell present in both runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct CellComparison {
    pub key: CellKey,
    /// None when ok; otherwise "failed: reason", "skipped: reason" or
    /// "truncated: left out of verdicts" (any flag that keeps it out).
    pub problem_a: Option<String>,
    /// As `problem_a`, for run B.
    pub problem_b: Option<String>,
    /// What `capacity` counts: req/s, or msg/s for a `ws` cell (messages
    /// fanned out to a room's clients).
    pub rate_unit: RateUnit,
    pub capacity: MetricDelta,
    pub p99_ms: MetricDelta,
    pub cpu_ms_per_request: MetricDelta,
    /// The equal-load rates (A, B) when they differ: p99 and CPU are then not
    /// comparable.
    pub rates_differ: Option<(f64, f64)>,
    /// Why the gate fails this cell; empty when it passes or no gate was set.
    pub regressions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Comparison {
    pub a: RunHeader,
    pub b: RunHeader,
    /// The `--fail-on-regression` threshold in percent, if given.
    pub threshold_pct: Option<f64>,
    /// The cells present in both runs.
    pub cells: Vec<CellComparison>,
    /// The cells only run A has.
    pub only_a: Vec<CellKey>,
    /// The cells only run B has.
    pub only_b: Vec<CellKey>,
    /// Differences in settings or machine that make the runs less comparable.
    pub caveats: Vec<String>,
    /// Each run's best Node.js over best Python, per workload both runs have.
    pub ratios: Vec<RatioComparison>,
}

impl Comparison {
    /// Compare run `a` (baseline) with run `b` (candidate).
    pub fn new(a: &Run, b: &Run, threshold_pct: Option<f64>) -> Comparison {
        let axis = a.settings.databases().len() > 1 || b.settings.databases().len() > 1;
        let index = |run: &Run| -> BTreeMap<CellKey, Cell> {
            run.cells
                .iter()
                .map(|c| (key_of(c, axis), c.clone()))
                .collect()
        };
        let (cells_a, cells_b) = (index(a), index(b));
        let cells: Vec<CellComparison> = cells_a
            .iter()
            .filter_map(|(k, ca)| {
                cells_b
                    .get(k)
                    .map(|cb| compare_cell(k, ca, cb, threshold_pct))
            })
            .collect();
        let only = |x: &BTreeMap<CellKey, Cell>, y: &BTreeMap<CellKey, Cell>| {
            x.keys().filter(|k| !y.contains_key(*k)).cloned().collect()
        };
        let mut caveats = caveats(a, b);
        caveats.extend(shared::versions_differ(a, b, &cells));
        caveats.extend(shared::shared_shift(a, b, &cells));
        Comparison {
            a: header(a),
            b: header(b),
            threshold_pct,
            only_a: only(&cells_a, &cells_b),
            only_b: only(&cells_b, &cells_a),
            ratios: shared::ratios(a, b),
            cells,
            caveats,
        }
    }

    /// True when the gate was set and some cell fails it.
    pub fn regressed(&self) -> bool {
        self.cells.iter().any(|c| !c.regressions.is_empty())
    }
}

/// Settings and machine facts that should match for a like-for-like comparison.
fn caveats(a: &Run, b: &Run) -> Vec<String> {
    let (sa, sb, ea, eb) = (&a.settings, &b.settings, &a.environment, &b.environment);
    let pairs = [
        (
            "SLO p99 (ms)",
            sa.slo_p99_ms.to_string(),
            sb.slo_p99_ms.to_string(),
        ),
        (
            "duration scale",
            sa.duration_scale.to_string(),
            sb.duration_scale.to_string(),
        ),
        ("trials", sa.trials.to_string(), sb.trials.to_string()),
        ("steal limit (%)", steal_limit(sa), steal_limit(sb)),
        // The database is an axis: the same contender on SQLite and on
        // PostgreSQL are two runs, compared here.
        ("database", databases(sa), databases(sb)),
        ("CPU", ea.cpu_model.clone(), eb.cpu_model.clone()),
        ("cores", ea.cores.to_string(), eb.cores.to_string()),
        ("pinning", ea.pinning.clone(), eb.pinning.clone()),
    ];
    pairs
        .into_iter()
        .filter(|(_, x, y)| x != y)
        .map(|(what, x, y)| format!("{what} differs: {x} (A) vs {y} (B)"))
        .chain(
            ProbeSite::ALL
                .into_iter()
                .filter_map(|site| speed_caveat(site, ea.probe_at(site), eb.probe_at(site))),
        )
        .collect()
}

/// More than this apart, the two runs' probe medians say the machine itself
/// ran at another speed.
pub const SPEED_DIFFERS: f64 = 0.05;

/// The machine ran at another speed in B than in A (a probe's medians over
/// each run more than [`SPEED_DIFFERS`] apart, at `site`): a capacity moves
/// with it, on the same build and the same server. The generator's core
/// counts too: the generator and the kernel's half of the loopback traffic
/// run there, so its delay is in every measured request; and the loopback
/// probe crosses the path a request takes between the two.
fn speed_caveat(
    site: ProbeSite,
    a: Option<&ProbeSummary>,
    b: Option<&ProbeSummary>,
) -> Option<String> {
    let (a, b) = (a?, b?);
    let ratio = b.median / a.median;
    let (what, probe) = (site.what(), site.probe());
    let name = probe.name();
    ((ratio - 1.0).abs() > SPEED_DIFFERS && ratio.is_finite()).then(|| {
        format!(
            "the {what} ran {:.0}% {} in B ({name}: {} in A, {} in B): capacities move with the machine, so changes of about that size may be its, not the servers'",
            (ratio - 1.0).abs() * 100.0,
            if ratio < 1.0 { "slower" } else { "faster" },
            a.describe(probe),
            b.describe(probe)
        )
    })
}

/// The run's steal limit in percent: 2 unless raised (`--max-steal`).
fn steal_limit(s: &crate::model::Settings) -> String {
    s.raised_steal_limit()
        .unwrap_or(crate::suite::live::StealLimit::DEFAULT_PERCENT)
        .to_string()
}

/// "sqlite", or "sqlite,postgres" for a run that measured both.
fn databases(s: &crate::model::Settings) -> String {
    s.databases()
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn header(run: &Run) -> RunHeader {
    RunHeader {
        id: run.id,
        started_at: run.started_at.clone(),
        profile: run.settings.profile,
        status: run.status,
    }
}

/// `axis`: a run measured several databases, so the database is part of the key.
fn key_of(c: &Cell, axis: bool) -> CellKey {
    CellKey {
        contender: c.contender.clone(),
        workload: c.workload.clone(),
        workers: c.workers,
        database: c.database.filter(|_| axis),
    }
}

/// Why a side has no capacity to compare: the cell failed or was skipped, or
/// its capacity is left out of verdicts (truncated, generator-limited,
/// failing, no clean trial), which the gate cannot judge either.
fn problem(c: &Cell) -> Option<String> {
    match &c.status {
        CellStatus::Ok => c
            .out_of_verdicts()
            .map(|f| format!("{}: left out of verdicts", f.name())),
        CellStatus::Failed { reason } => Some(format!("failed: {reason}")),
        CellStatus::Skipped { reason } => Some(format!("skipped: {reason}")),
    }
}

/// Which way is worse for a metric.
#[derive(Clone, Copy)]
enum Worse {
    Lower,
    Higher,
}

fn compare_cell(key: &CellKey, a: &Cell, b: &Cell, threshold: Option<f64>) -> CellComparison {
    let (cap_a, cap_b) = (a.verdict_capacity(), b.verdict_capacity());
    let capacity_mark = match (&cap_a, &cap_b) {
        (Some(x), Some(y)) if !verdict::is_indicative(x, y) => {
            match verdict::compare_estimates(x, y) {
                Order::Overlap => Mark::Overlap,
                Order::Greater | Order::Less => Mark::Significant,
            }
        }
        _ => Mark::NotApplicable,
    };
    let rates_differ = match (&a.equal_load, &b.equal_load) {
        (Some(x), Some(y))
            if (x.target_rps - y.target_rps).abs()
                > 1e-6 * x.target_rps.abs().max(y.target_rps.abs()) =>
        {
            Some((x.target_rps, y.target_rps))
        }
        _ => None,
    };
    let capacity = metric(
        cap_a.map(|e| e.center()),
        cap_b.map(|e| e.center()),
        capacity_mark,
        Worse::Lower,
        threshold,
    );
    let p99 = |c: &Cell| c.equal_load.as_ref().map(|e| e.latency.p99);
    let cpu = |c: &Cell| c.equal_load.as_ref().and_then(|e| e.cpu_ms_per_request);
    let mut p99_ms = metric(
        p99(a),
        p99(b),
        Mark::NotApplicable,
        Worse::Higher,
        threshold,
    );
    let mut cpu_ms_per_request = metric(
        cpu(a),
        cpu(b),
        Mark::NotApplicable,
        Worse::Higher,
        threshold,
    );
    // p99 and CPU at different rates are not comparable: both are shown,
    // with no change between them (and nothing for the gate).
    if rates_differ.is_some() {
        for m in [&mut p99_ms, &mut cpu_ms_per_request] {
            m.delta_pct = None;
            m.regressed = false;
        }
    }

    let mut regressions = Vec::new();
    if threshold.is_some() {
        let failing = |c: &Cell| c.flags.contains(&Flag::Failing);
        if a.status.is_ok() && !b.status.is_ok() {
            regressions.push(format!("was ok, now {}", problem(b).unwrap_or_default()));
        } else if a.status.is_ok() && !failing(a) && failing(b) {
            // No capacity to judge, but a server that now answers mostly
            // with errors is the regression a gate exists for.
            regressions
                .push("was serving, now failing: a trial answered mostly with errors".into());
        }
        for (name, m) in [
            ("capacity", &capacity),
            ("p99", &p99_ms),
            ("CPU per request", &cpu_ms_per_request),
        ] {
            if let (true, Some(d)) = (m.regressed, m.delta_pct) {
                regressions.push(format!("{name} {}", pct(d)));
            }
        }
    }
    CellComparison {
        key: key.clone(),
        problem_a: problem(a),
        problem_b: problem(b),
        rate_unit: key.workload.rate_unit(),
        capacity,
        p99_ms,
        cpu_ms_per_request,
        rates_differ,
        regressions,
    }
}

fn metric(
    a: Option<f64>,
    b: Option<f64>,
    mark: Mark,
    worse: Worse,
    threshold: Option<f64>,
) -> MetricDelta {
    let delta_pct = match (a, b) {
        (Some(a), Some(b)) if a != 0.0 && a.is_finite() && b.is_finite() => {
            Some((b - a) / a.abs() * 100.0)
        }
        _ => None,
    };
    let regressed = match (delta_pct, threshold) {
        (Some(d), Some(t)) => match worse {
            Worse::Lower => d < -t,
            Worse::Higher => d > t,
        },
        _ => false,
    };
    MetricDelta {
        a,
        b,
        delta_pct,
        mark,
        regressed,
    }
}

/// A change in percent, signed: "+4.2%", "-20.0%".
fn pct(d: f64) -> String {
    format!("{d:+.1}%")
}

#[cfg(test)]
mod tests;
