//! The per-workload summary every renderer shows: which cells go in a workload's
//! table, the best contender of each language, and the Node-vs-Python headline
//! with its ratio, an interval that says what it is, and the verdict's test
//! ([`crate::verdict::compare_estimates`]). Pure functions of a [`Run`].

use crate::database::Database;
use crate::model::{Cell, CellStatus, Estimate, Language, Run};
use crate::verdict::{self, Order, RatioKind};
use crate::workload::{RateUnit, Workload};

/// What a workload's headline figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Capacity at the SLO in requests per second.
    Http,
    /// Fan-out capacity in messages per second.
    Ws,
    /// Time from spawn to the first healthy answer; lower is better.
    Startup,
}

impl Kind {
    pub fn of(workload: &Workload) -> Kind {
        match workload {
            Workload::Ws => Kind::Ws,
            Workload::Startup => Kind::Startup,
            Workload::Plaintext
            | Workload::Json
            | Workload::Db
            | Workload::Queries
            | Workload::Fortunes
            | Workload::Updates
            | Workload::Io
            | Workload::Cpu
            | Workload::CpuMixed
            | Workload::Data
            | Workload::Custom(_) => Kind::Http,
        }
    }

    /// The headline metric's name and unit.
    pub fn metric(self) -> (&'static str, &'static str) {
        match self {
            Kind::Http => ("capacity at SLO", RateUnit::Requests.as_str()),
            Kind::Ws => ("fan-out capacity", RateUnit::Messages.as_str()),
            Kind::Startup => ("time to healthy", "ms"),
        }
    }

    pub fn higher_is_better(self) -> bool {
        !matches!(self, Kind::Startup)
    }
}

/// One contender's row in a workload table.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub cell: &'a Cell,
    pub language: &'a Language,
    /// The best contender of its language on this workload.
    pub best_of_language: bool,
}

impl Row<'_> {
    /// The headline estimate (capacity, or time to healthy for start-up).
    pub fn headline(&self) -> Option<Estimate> {
        headline_estimate(self.cell)
    }

    /// The headline estimate if the cell takes part in verdicts.
    pub fn verdict_headline(&self) -> Option<Estimate> {
        self.headline()
            .filter(|_| self.cell.out_of_verdicts().is_none())
    }
}

/// A workload's table: its measured rows (at the lowest worker count) and the
/// cells that failed or were skipped (at any worker count). A database
/// workload measured on several databases has a table per database.
#[derive(Debug, Clone)]
pub struct WorkloadSummary<'a> {
    pub workload: &'a Workload,
    /// The database of a database workload's cells (none for the others, and
    /// for cells stored without one).
    pub database: Option<Database>,
    /// The heading: the workload, with the database where it says something
    /// ("db (on postgres)"; see `report::workload_heading`).
    pub label: String,
    pub kind: Kind,
    pub rows: Vec<Row<'a>>,
    pub problems: Vec<&'a Cell>,
}

/// The headline of one workload: best Node.js vs best Python.
#[derive(Debug, Clone)]
pub struct Headline<'a> {
    pub workload: &'a Workload,
    /// The summary's database and heading.
    pub database: Option<Database>,
    pub label: String,
    pub kind: Kind,
    pub node: &'a Cell,
    pub python: &'a Cell,
    pub node_est: Estimate,
    pub python_est: Estimate,
    pub ratio: Ratio,
}

/// Node ÷ Python of the headline metric, its interval, and the verdict's test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// Node's center ÷ Python's center.
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// What `low..high` is.
    pub kind: RatioKind,
    /// Node against Python, by Welch's t-test (or the indicative margin).
    pub order: Order,
    /// A single trial on either side: the verdict is indicative only.
    pub indicative: bool,
}

impl Ratio {
    pub fn of(num: &Estimate, den: &Estimate) -> Option<Ratio> {
        let r = verdict::ratio_interval(num, den)?;
        Some(Ratio {
            value: r.ratio,
            low: r.low,
            high: r.high,
            kind: r.kind,
            order: verdict::compare_estimates(num, den),
            indicative: verdict::is_indicative(num, den),
        })
    }

    /// Whether one side is clearly ahead (the test, not the interval, decides).
    pub fn decisive(&self) -> bool {
        self.order != Order::Overlap
    }

    /// The ratio with its interval named, e.g. "1.84x (range of ratios 1.50–2.10)".
    pub fn text(&self) -> String {
        match self.kind {
            RatioKind::Point => format!("{:.2}x ({})", self.value, self.kind.label()),
            _ => format!(
                "{:.2}x ({} {:.2}–{:.2})",
                self.value,
                self.kind.label(),
                self.low,
                self.high
            ),
        }
    }
}

/// How the headline is decided and what its interval is, for the reports to say so.
pub const RATIO_METHOD: &str = "Who wins is decided by Welch's two-sided t-test at 5% over the \
trials; otherwise there is no clear difference. With a single trial on either side there is no \
test: the two must differ by more than 25%, and the verdict is indicative. Each value is the \
median of its trials below five trials and the mean from five up. The ratio's interval says what \
it is: with fewer than five trials on a side, a range of ratios (from the extremes of the two \
ranges; no coverage is claimed); with five or more on both, a 95% interval (two 97.5% \
t-intervals combined by Bonferroni); with five or more on one side only, that side's 95% \
t-interval against the other's range (no coverage is claimed). A cell with a truncated or generator-limited trial is left \
out, and so is a machine-noisy cell without a clean trial; a machine-noisy cell with clean trials \
stands on those alone, with their n.";

pub fn headline_estimate(cell: &Cell) -> Option<Estimate> {
    if !cell.status.is_ok() {
        return None;
    }
    match Kind::of(&cell.workload) {
        Kind::Startup => cell.startup.map(|s| s.to_healthy_ms),
        _ => cell.capacity,
    }
}

/// With no estimate, the highest lower bound a trial reached (a truncated or
/// generator-limited search): shown as "≥ N", never as a capacity.
pub fn lower_bound(cell: &Cell) -> Option<f64> {
    use crate::model::TrialOutcome;
    if !cell.status.is_ok() || cell.capacity.is_some() {
        return None;
    }
    cell.trials
        .iter()
        .filter(|t| {
            matches!(
                t.outcome,
                TrialOutcome::Truncated | TrialOutcome::GeneratorLimited
            )
        })
        .filter_map(|t| t.capacity_rps)
        .filter(|c| c.is_finite() && *c > 0.0)
        .max_by(f64::total_cmp)
}

/// The workloads in the run, in the settings' order, then any others in cell order.
pub fn workloads(run: &Run) -> Vec<&Workload> {
    let mut out: Vec<&Workload> = Vec::new();
    let in_cells = |w: &Workload| run.cells.iter().any(|c| c.workload == *w);
    for w in &run.settings.workloads {
        if in_cells(w) && !out.contains(&w) {
            out.push(w);
        }
    }
    for c in &run.cells {
        if !out.contains(&&c.workload) {
            out.push(&c.workload);
        }
    }
    out
}

/// The contenders that have cells for `workload`, in the run's contender order.
pub fn contenders_of<'a>(run: &'a Run, workload: &Workload) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    let known = run.contenders.iter().map(|c| c.name.as_str());
    let in_cells = run.cells.iter().map(|c| c.contender.as_str());
    for name in known.chain(in_cells) {
        if !out.contains(&name)
            && run
                .cells
                .iter()
                .any(|c| c.contender == name && c.workload == *workload)
        {
            out.push(name);
        }
    }
    out
}

/// The language shown for a contender the run does not list.
static UNKNOWN: std::sync::LazyLock<Language> =
    std::sync::LazyLock::new(|| Language::Other("unknown".into()));

/// A contender's language, "unknown" for a contender the run does not list.
pub fn language_of<'a>(run: &'a Run, contender: &str) -> &'a Language {
    verdict::language_of(run, contender).unwrap_or(&UNKNOWN)
}

pub fn summarize(run: &Run) -> Vec<WorkloadSummary<'_>> {
    workloads(run)
        .into_iter()
        .flat_map(|w| {
            databases_of(run, w)
                .into_iter()
                .map(move |db| summarize_workload(run, w, db))
        })
        .collect()
}

/// The databases `workload`'s cells ran on, in the run's order (`[None]` for
/// a workload without database cells).
pub fn databases_of(run: &Run, workload: &Workload) -> Vec<Option<Database>> {
    let mut out: Vec<Option<Database>> = Vec::new();
    let in_cells = run
        .cells
        .iter()
        .filter(|c| c.workload == *workload)
        .map(|c| c.database);
    for db in run
        .settings
        .databases()
        .into_iter()
        .map(Some)
        .chain(in_cells)
    {
        let here = run
            .cells
            .iter()
            .any(|c| c.workload == *workload && c.database == db);
        if here && !out.contains(&db) {
            out.push(db);
        }
    }
    if out.is_empty() {
        out.push(None);
    }
    out
}

fn summarize_workload<'a>(
    run: &'a Run,
    workload: &'a Workload,
    database: Option<Database>,
) -> WorkloadSummary<'a> {
    let kind = Kind::of(workload);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for name in contenders_of(run, workload) {
        let mut cells: Vec<&Cell> = run
            .cells
            .iter()
            .filter(|c| c.contender == name && c.workload == *workload && c.database == database)
            .collect();
        cells.sort_by_key(|c| c.workers);
        problems.extend(cells.iter().copied().filter(|c| !c.status.is_ok()));
        if let Some(cell) = cells.first().copied().filter(|c| c.status.is_ok()) {
            rows.push(Row {
                cell,
                language: language_of(run, name),
                best_of_language: false,
            });
        }
    }
    for i in 0..rows.len() {
        let lang = rows[i].language;
        rows[i].best_of_language = best_index(&rows, lang, kind) == Some(i);
    }
    WorkloadSummary {
        workload,
        database,
        label: crate::report::workload_heading(run, workload, database),
        kind,
        rows,
        problems,
    }
}

fn best_index(rows: &[Row<'_>], language: &Language, kind: Kind) -> Option<usize> {
    let better = |a: f64, b: f64| {
        if kind.higher_is_better() {
            a > b
        } else {
            a < b
        }
    };
    let mut best: Option<(usize, f64)> = None;
    for (i, r) in rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.language == language)
    {
        if let Some(e) = r.verdict_headline() {
            if best.is_none_or(|(_, b)| better(e.center(), b)) {
                best = Some((i, e.center()));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// Per workload, the best Node.js against the best Python contender, where both exist.
pub fn headlines<'a>(summaries: &[WorkloadSummary<'a>]) -> Vec<Headline<'a>> {
    summaries
        .iter()
        .filter_map(|s| {
            let best = |lang: &Language| {
                s.rows
                    .iter()
                    .find(|r| r.best_of_language && r.language == lang)
                    .and_then(|r| Some((r.cell, r.verdict_headline()?)))
            };
            let (node, node_est) = best(&Language::Node)?;
            let (python, python_est) = best(&Language::Python)?;
            Some(Headline {
                workload: s.workload,
                database: s.database,
                label: s.label.clone(),
                kind: s.kind,
                node,
                python,
                node_est,
                python_est,
                ratio: Ratio::of(&node_est, &python_est)?,
            })
        })
        .collect()
}

impl Headline<'_> {
    /// One sentence: who wins, by how much, whether the test says so, and
    /// whether it rests on a single trial.
    pub fn sentence(&self) -> String {
        let r = self.ratio;
        let node_ahead = if self.kind.higher_is_better() {
            r.value >= 1.0
        } else {
            r.value <= 1.0
        };
        let (winner, factor) = match (node_ahead, self.kind.higher_is_better()) {
            (true, true) => ("Node.js", r.value),
            (false, true) => ("Python", 1.0 / r.value),
            (true, false) => ("Node.js", 1.0 / r.value),
            (false, false) => ("Python", r.value),
        };
        let what = if self.kind.higher_is_better() {
            "more"
        } else {
            "faster"
        };
        match (r.decisive(), r.indicative) {
            (true, false) => format!("{winner} {factor:.2}x {what}"),
            (true, true) => format!("{winner} {factor:.2}x {what} (indicative: single trial)"),
            (false, false) => format!(
                "no clear difference ({winner} {factor:.2}x {what}; Welch's t-test, p ≥ 0.05)"
            ),
            (false, true) => format!(
                "no clear difference ({winner} {factor:.2}x {what}, within the 25% margin; indicative: single trial)"
            ),
        }
    }
}

impl WorkloadSummary<'_> {
    /// A name for ids and anchors: the workload, then the database when the
    /// run measured the workload on several ("db-postgres").
    pub fn slug(&self) -> String {
        match self.database {
            Some(d) if self.label != self.workload.name() => format!("{}-{d}", self.workload),
            _ => self.workload.to_string(),
        }
    }
}

/// A failed or skipped cell's state and reason.
pub fn problem(cell: &Cell) -> (&'static str, &str) {
    match &cell.status {
        CellStatus::Ok => ("ok", ""),
        CellStatus::Failed { reason } => ("failed", reason),
        CellStatus::Skipped { reason } => ("skipped", reason),
    }
}

/// p99 at the highest client count of a `ws` cell.
pub fn ws_p99(cell: &Cell) -> Option<(u32, f64)> {
    cell.ws
        .iter()
        .max_by_key(|p| p.clients)
        .map(|p| (p.clients, p.p99_ms))
}

/// Bytes per WebSocket connection at the highest client count (the point the
/// claims compare), where the process's fixed cost is spread thinnest.
pub fn ws_bytes_per_connection(cell: &Cell) -> Option<f64> {
    cell.ws
        .iter()
        .max_by_key(|p| p.clients)
        .and_then(|p| p.bytes_per_connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::sample_run;

    fn est(samples: &[f64]) -> Estimate {
        crate::suite::stats::estimate(samples).unwrap()
    }

    #[test]
    fn ratio_names_its_interval_and_the_test_decides() {
        let r = Ratio::of(&est(&[180.0, 200.0, 220.0]), &est(&[90.0, 100.0, 110.0])).unwrap();
        assert_eq!(r.value, 2.0);
        assert!((r.low - 180.0 / 110.0).abs() < 1e-12);
        assert!((r.high - 220.0 / 90.0).abs() < 1e-12);
        assert!(r.decisive() && !r.indicative);
        assert!(r.text().contains("range of ratios"), "{}", r.text());
        let close = Ratio::of(&est(&[95.0, 105.0, 115.0]), &est(&[90.0, 100.0, 110.0])).unwrap();
        assert!(!close.decisive(), "no clear difference");
        let one = Ratio::of(&est(&[200.0]), &est(&[100.0])).unwrap();
        assert!(one.decisive() && one.indicative);
        assert_eq!(one.text(), "2.00x (indicative: 1 trial)");
        assert!(Ratio::of(&est(&[1.0]), &est(&[0.0])).is_none());
    }

    /// The table's memory per connection is the claims' point, the most
    /// clients, not a mean that a small point's fixed cost would raise.
    #[test]
    fn ws_memory_per_connection_is_read_at_the_most_clients() {
        use crate::report::fixtures::build::ws_point;
        let mut run = sample_run();
        let cell = run
            .cells
            .iter_mut()
            .find(|c| c.workload == Workload::Ws)
            .expect("a ws cell");
        cell.ws = vec![
            ws_point(1_000, 10.0, 20.0, 18_000.0),
            ws_point(100, 10.0, 7.0, 40_000.0),
        ];
        assert_eq!(ws_bytes_per_connection(cell), Some(18_000.0));
        cell.ws.clear();
        assert_eq!(ws_bytes_per_connection(cell), None);
    }

    #[test]
    fn best_of_language_and_headlines_follow_the_metric() {
        let run = sample_run();
        let s = summarize(&run);
        let json = s.iter().find(|s| *s.workload == Workload::Json).unwrap();
        let best: Vec<&str> = json
            .rows
            .iter()
            .filter(|r| r.best_of_language)
            .map(|r| r.cell.contender.as_str())
            .collect();
        assert_eq!(best, ["node-fastify", "python-fastapi"]);
        assert!(
            json.rows.iter().all(|r| r.cell.workers == 1),
            "tables use the lowest worker count"
        );
        let startup = headlines(&s)
            .into_iter()
            .find(|h| *h.workload == Workload::Startup)
            .unwrap();
        assert!(
            startup.ratio.value < 1.0 && startup.sentence().starts_with("Node.js"),
            "lower start-up time wins"
        );
        let mixed = s
            .iter()
            .find(|s| *s.workload == Workload::CpuMixed)
            .unwrap();
        assert_eq!(
            mixed.problems.len(),
            1,
            "the failed cell is listed, not tabled"
        );
        assert_eq!(
            workloads(&run),
            [
                &Workload::Json,
                &Workload::Io,
                &Workload::CpuMixed,
                &Workload::Ws,
                &Workload::Startup
            ]
        );
    }

    /// A cell whose trials only reached lower bounds shows the highest of them,
    /// and only when it has no estimate at all.
    #[test]
    fn a_lower_bound_is_the_highest_bounded_trial_and_only_without_an_estimate() {
        use crate::model::{Trial, TrialOutcome};
        let run = sample_run();
        let mut cell = run.cells[0].clone();
        assert!(cell.capacity.is_some());
        assert_eq!(lower_bound(&cell), None);
        let trial = |capacity_rps, outcome| Trial {
            index: 0,
            capacity_rps,
            outcome,
            note: None,
            steps: vec![],
        };
        cell.capacity = None;
        cell.trials = vec![
            trial(Some(900.0), TrialOutcome::Truncated),
            trial(Some(1_200.0), TrialOutcome::GeneratorLimited),
            trial(None, TrialOutcome::MachineNoisy),
        ];
        assert_eq!(lower_bound(&cell), Some(1_200.0));
        cell.trials = vec![trial(None, TrialOutcome::Truncated)];
        assert_eq!(lower_bound(&cell), None);
    }

    /// A workload bakeoff does not define (a custom one, or one from another
    /// version) gets its own table under its name in every renderer, and a
    /// claim that needed the workload it replaced names the gap.
    #[test]
    fn a_custom_workload_is_tabled_under_its_name() {
        let mut run = sample_run();
        let custom = Workload::from_name("checkout-flow");
        let rename = |w: &mut Workload| {
            if *w == Workload::Io {
                *w = custom.clone();
            }
        };
        run.cells.iter_mut().for_each(|c| rename(&mut c.workload));
        run.settings.workloads.iter_mut().for_each(rename);
        let s = summarize(&run);
        let table = s.iter().find(|s| *s.workload == custom).expect("a table");
        assert_eq!(table.kind, Kind::Http);
        assert!(!table.rows.is_empty());
        let mut text = Vec::new();
        crate::report::render_text(&run, false, &mut text).unwrap();
        assert!(String::from_utf8(text).unwrap().contains("checkout-flow"));
        let mut md = Vec::new();
        crate::report::render_markdown(&run, &mut md).unwrap();
        assert!(String::from_utf8(md).unwrap().contains("checkout-flow"));
        let io_claim = verdict::claims::check_all(&run)
            .into_iter()
            .find(|c| c.id == 3)
            .unwrap();
        assert!(
            io_claim.missing.iter().any(|m| m.starts_with("node/io")),
            "{:?}",
            io_claim.missing
        );
    }

    /// A run on both databases: `db` has a table and a headline per database,
    /// each of its own cells, and every renderer names the database.
    #[test]
    fn a_database_workload_on_two_databases_has_a_table_each() {
        let run = verdict::fixture::run_on_both_databases();
        let s = summarize(&run);
        let db: Vec<&WorkloadSummary<'_>> =
            s.iter().filter(|s| *s.workload == Workload::Db).collect();
        let labels: Vec<&str> = db.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["db (on sqlite)", "db (on postgres)"]);
        for t in &db {
            assert_eq!(t.rows.len(), 4);
            assert!(t.rows.iter().all(|r| r.cell.database == t.database));
        }
        assert_eq!(db[1].slug(), "db-postgres");
        let json = s.iter().find(|s| *s.workload == Workload::Json).unwrap();
        assert_eq!((json.label.as_str(), json.slug()), ("json", "json".into()));
        let heads = headlines(&s);
        let on = |label: &str| heads.iter().find(|h| h.label == label).unwrap();
        // Node ahead on SQLite, Python on PostgreSQL.
        assert!(on("db (on sqlite)").ratio.value > 1.0);
        assert!(on("db (on postgres)").ratio.value < 1.0);
        let mut text = Vec::new();
        crate::report::render_text(&run, false, &mut text).unwrap();
        let mut md = Vec::new();
        crate::report::render_markdown(&run, &mut md).unwrap();
        for out in [text, md] {
            let out = String::from_utf8(out).unwrap();
            assert!(out.contains("databases sqlite, postgres"), "{out}");
            assert!(out.contains("db (on sqlite)"), "{out}");
            assert!(out.contains("db (on postgres)"), "{out}");
        }
    }
}
