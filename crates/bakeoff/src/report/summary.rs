//! The per-workload summary every renderer shows: which cells go in a workload's
//! table, the best contender of each language, and the Node-vs-Python headline
//! with its conservative ratio interval. Pure functions of a [`Run`].

use crate::model::{Cell, CellStatus, Estimate, Run};

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
    pub fn of(workload: &str) -> Kind {
        match workload {
            "ws" => Kind::Ws,
            "startup" => Kind::Startup,
            _ => Kind::Http,
        }
    }

    /// The headline metric's name and unit.
    pub fn metric(self) -> (&'static str, &'static str) {
        match self {
            Kind::Http => ("capacity at SLO", "req/s"),
            Kind::Ws => ("fan-out capacity", "msg/s"),
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
    pub language: &'a str,
    /// The best contender of its language on this workload.
    pub best_of_language: bool,
}

impl Row<'_> {
    /// The headline estimate (capacity, or time to healthy for start-up).
    pub fn headline(&self) -> Option<Estimate> {
        headline_estimate(self.cell)
    }
}

/// A workload's table: its measured rows (at the lowest worker count) and the
/// cells that failed or were skipped (at any worker count).
#[derive(Debug, Clone)]
pub struct WorkloadSummary<'a> {
    pub workload: &'a str,
    pub kind: Kind,
    pub rows: Vec<Row<'a>>,
    pub problems: Vec<&'a Cell>,
}

/// The headline of one workload: best Node.js vs best Python.
#[derive(Debug, Clone)]
pub struct Headline<'a> {
    pub workload: &'a str,
    pub kind: Kind,
    pub node: &'a Cell,
    pub python: &'a Cell,
    pub node_est: Estimate,
    pub python_est: Estimate,
    pub ratio: Ratio,
}

/// Node ÷ Python of the headline metric with a conservative interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

impl Ratio {
    /// The interval from the extremes of two intervals: if both 95% intervals
    /// hold (probability ≥ 90% by Bonferroni), the ratio lies inside this one.
    pub fn of(num: &Estimate, den: &Estimate) -> Option<Ratio> {
        if den.median <= 0.0 || den.ci_low <= 0.0 {
            return None;
        }
        Some(Ratio {
            median: num.median / den.median,
            low: num.ci_low / den.ci_high,
            high: num.ci_high / den.ci_low,
        })
    }

    /// Whether the interval excludes 1, i.e. one side is clearly ahead.
    pub fn decisive(&self) -> bool {
        self.low > 1.0 || self.high < 1.0
    }
}

/// How the headline interval is computed, for the reports to say so.
pub const RATIO_METHOD: &str = "The ratio's interval is conservative: its low end divides the \
lower 95% bound of one side by the upper bound of the other, and its high end the reverse. \
When both intervals hold (at least 90% of the time, by Bonferroni) the true ratio lies inside; \
it is wider than a bootstrap of the ratio would be. An interval containing 1 means no clear winner.";

pub fn headline_estimate(cell: &Cell) -> Option<Estimate> {
    if !cell.status.is_ok() {
        return None;
    }
    match Kind::of(&cell.workload) {
        Kind::Startup => cell.startup.map(|s| s.to_healthy_ms),
        _ => cell.capacity,
    }
}

/// The workloads in the run, in the settings' order, then any others in cell order.
pub fn workloads(run: &Run) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let in_cells = |w: &str| run.cells.iter().any(|c| c.workload == w);
    for w in &run.settings.workloads {
        if in_cells(w) && !out.contains(&w.as_str()) {
            out.push(w);
        }
    }
    for c in &run.cells {
        if !out.contains(&c.workload.as_str()) {
            out.push(&c.workload);
        }
    }
    out
}

/// The contenders that have cells for `workload`, in the run's contender order.
pub fn contenders_of<'a>(run: &'a Run, workload: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    let known = run.contenders.iter().map(|c| c.name.as_str());
    let in_cells = run.cells.iter().map(|c| c.contender.as_str());
    for name in known.chain(in_cells) {
        if !out.contains(&name)
            && run
                .cells
                .iter()
                .any(|c| c.contender == name && c.workload == workload)
        {
            out.push(name);
        }
    }
    out
}

pub fn language_of<'a>(run: &'a Run, contender: &str) -> &'a str {
    run.contender(contender)
        .map_or("unknown", |c| c.language.as_str())
}

pub fn summarize(run: &Run) -> Vec<WorkloadSummary<'_>> {
    workloads(run)
        .into_iter()
        .map(|w| summarize_workload(run, w))
        .collect()
}

fn summarize_workload<'a>(run: &'a Run, workload: &'a str) -> WorkloadSummary<'a> {
    let kind = Kind::of(workload);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for name in contenders_of(run, workload) {
        let mut cells: Vec<&Cell> = run
            .cells
            .iter()
            .filter(|c| c.contender == name && c.workload == workload)
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
        kind,
        rows,
        problems,
    }
}

fn best_index(rows: &[Row<'_>], language: &str, kind: Kind) -> Option<usize> {
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
        if let Some(e) = r.headline() {
            if best.is_none_or(|(_, b)| better(e.median, b)) {
                best = Some((i, e.median));
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
            let best = |lang: &str| {
                s.rows
                    .iter()
                    .find(|r| r.best_of_language && r.language == lang)
                    .and_then(|r| Some((r.cell, r.headline()?)))
            };
            let (node, node_est) = best("node")?;
            let (python, python_est) = best("python")?;
            Some(Headline {
                workload: s.workload,
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
    /// One sentence: who wins, by how much, and whether the interval is decisive.
    pub fn sentence(&self) -> String {
        let r = self.ratio;
        let node_ahead = if self.kind.higher_is_better() {
            r.median >= 1.0
        } else {
            r.median <= 1.0
        };
        let (winner, factor) = match (node_ahead, self.kind.higher_is_better()) {
            (true, true) => ("Node.js", r.median),
            (false, true) => ("Python", 1.0 / r.median),
            (true, false) => ("Node.js", 1.0 / r.median),
            (false, false) => ("Python", r.median),
        };
        let what = if self.kind.higher_is_better() {
            "more"
        } else {
            "faster"
        };
        if r.decisive() {
            format!("{winner} {factor:.2}x {what}")
        } else {
            format!("no clear winner ({winner} {factor:.2}x {what}, interval spans 1)")
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

/// Mean bytes per WebSocket connection over the measured points.
pub fn ws_bytes_per_connection(cell: &Cell) -> Option<f64> {
    (!cell.ws.is_empty())
        .then(|| cell.ws.iter().map(|p| p.bytes_per_connection).sum::<f64>() / cell.ws.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Interval;
    use crate::report::fixtures::sample_run;

    fn est(median: f64, lo: f64, hi: f64) -> Estimate {
        Estimate {
            median,
            mean: median,
            ci_low: lo,
            ci_high: hi,
            cv: 0.05,
            sd: 0.05 * median,
            n: 3,
            noisy: false,
            interval: Interval::Range,
        }
    }

    #[test]
    fn ratio_interval_takes_the_extremes() {
        let r = Ratio::of(&est(200.0, 180.0, 220.0), &est(100.0, 90.0, 110.0)).unwrap();
        assert_eq!(r.median, 2.0);
        assert!((r.low - 180.0 / 110.0).abs() < 1e-12);
        assert!((r.high - 220.0 / 90.0).abs() < 1e-12);
        assert!(r.decisive());
        let close = Ratio::of(&est(105.0, 95.0, 115.0), &est(100.0, 90.0, 110.0)).unwrap();
        assert!(
            !close.decisive(),
            "overlapping intervals are no clear winner"
        );
        assert!(Ratio::of(&est(1.0, 1.0, 1.0), &est(0.0, 0.0, 0.0)).is_none());
    }

    #[test]
    fn best_of_language_and_headlines_follow_the_metric() {
        let run = sample_run();
        let s = summarize(&run);
        let json = s.iter().find(|s| s.workload == "json").unwrap();
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
            .find(|h| h.workload == "startup")
            .unwrap();
        assert!(
            startup.ratio.median < 1.0 && startup.sentence().starts_with("Node.js"),
            "lower start-up time wins"
        );
        let mixed = s.iter().find(|s| s.workload == "cpu-mixed").unwrap();
        assert_eq!(
            mixed.problems.len(),
            1,
            "the failed cell is listed, not tabled"
        );
        assert_eq!(
            workloads(&run),
            ["json", "io", "cpu-mixed", "ws", "startup"]
        );
    }
}
