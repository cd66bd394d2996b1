//! `bakeoff compare`: cell-by-cell differences between two stored runs, and their
//! text and Markdown rendering. Pure: runs in, a [`Comparison`] out, bytes out.
//!
//! Cells match on (contender, workload, workers). Per matched cell three metrics
//! are compared: capacity at the SLO, the corrected p99 at equal load, and
//! CPU-ms per request. Δ is (B − A) / A.
//!
//! **Significance** is defined for capacity only: `*` when both runs have at least
//! two trials and the 95% confidence intervals do not overlap, `~` when they
//! overlap, `n/a` when either side has a single trial. The p99 and CPU figures are
//! single equal-load measurements, so their mark is always `n/a`.
//!
//! **The regression gate** (`--fail-on-regression PCT`) fails a cell when its
//! capacity dropped by more than PCT %, its p99 or CPU per request rose by more
//! than PCT %, or it was ok in A and failed in B. The gate looks at the size of
//! the change, not its significance: quick runs have one trial and no interval.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::model::{Cell, CellStatus, Run, RunStatus};

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Md,
}

/// Which run a comparison side is.
#[derive(Debug, Clone, PartialEq)]
pub struct RunHeader {
    pub id: i64,
    pub started_at: String,
    pub profile: String,
    pub status: RunStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CellKey {
    pub contender: String,
    pub workload: String,
    pub workers: u32,
}

/// The significance mark of one metric's change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The confidence intervals do not overlap.
    Significant,
    /// They overlap.
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
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDelta {
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// (b − a) / a × 100, when both exist and a ≠ 0.
    pub delta_pct: Option<f64>,
    pub mark: Mark,
    /// Beyond the gate's threshold in the bad direction.
    pub regressed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CellComparison {
    pub key: CellKey,
    /// None when ok; otherwise "failed: reason" / "skipped: reason".
    pub problem_a: Option<String>,
    pub problem_b: Option<String>,
    pub capacity: MetricDelta,
    pub p99_ms: MetricDelta,
    pub cpu_ms_per_request: MetricDelta,
    /// Why the gate fails this cell; empty when it passes or no gate was set.
    pub regressions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub a: RunHeader,
    pub b: RunHeader,
    /// The `--fail-on-regression` threshold in percent, if given.
    pub threshold_pct: Option<f64>,
    pub cells: Vec<CellComparison>,
    pub only_a: Vec<CellKey>,
    pub only_b: Vec<CellKey>,
}

impl Comparison {
    /// Compare run `a` (baseline) with run `b` (candidate).
    pub fn new(a: &Run, b: &Run, threshold_pct: Option<f64>) -> Comparison {
        let index = |run: &Run| -> BTreeMap<CellKey, Cell> {
            run.cells.iter().map(|c| (key_of(c), c.clone())).collect()
        };
        let (cells_a, cells_b) = (index(a), index(b));
        let cells = cells_a
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
        Comparison {
            a: header(a),
            b: header(b),
            threshold_pct,
            only_a: only(&cells_a, &cells_b),
            only_b: only(&cells_b, &cells_a),
            cells,
        }
    }

    /// True when the gate was set and some cell fails it.
    pub fn regressed(&self) -> bool {
        self.cells.iter().any(|c| !c.regressions.is_empty())
    }
}

fn header(run: &Run) -> RunHeader {
    RunHeader {
        id: run.id,
        started_at: run.started_at.clone(),
        profile: run.settings.profile.clone(),
        status: run.status,
    }
}

fn key_of(c: &Cell) -> CellKey {
    CellKey {
        contender: c.contender.clone(),
        workload: c.workload.clone(),
        workers: c.workers,
    }
}

fn problem(c: &Cell) -> Option<String> {
    match &c.status {
        CellStatus::Ok => None,
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
    let capacity_mark = match (&a.capacity, &b.capacity) {
        (Some(x), Some(y)) if x.n >= 2 && y.n >= 2 => {
            if x.ci_high < y.ci_low || y.ci_high < x.ci_low {
                Mark::Significant
            } else {
                Mark::Overlap
            }
        }
        _ => Mark::NotApplicable,
    };
    let capacity = metric(
        a.capacity.map(|e| e.median),
        b.capacity.map(|e| e.median),
        capacity_mark,
        Worse::Lower,
        threshold,
    );
    let p99 = |c: &Cell| c.equal_load.as_ref().map(|e| e.latency.p99);
    let cpu = |c: &Cell| c.equal_load.as_ref().map(|e| e.cpu_ms_per_request);
    let p99_ms = metric(
        p99(a),
        p99(b),
        Mark::NotApplicable,
        Worse::Higher,
        threshold,
    );
    let cpu_ms_per_request = metric(
        cpu(a),
        cpu(b),
        Mark::NotApplicable,
        Worse::Higher,
        threshold,
    );

    let mut regressions = Vec::new();
    if threshold.is_some() {
        if a.status.is_ok() && !b.status.is_ok() {
            regressions.push(format!("was ok, now {}", problem(b).unwrap_or_default()));
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
        capacity,
        p99_ms,
        cpu_ms_per_request,
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

/// A number with precision that suits its size.
fn num(x: Option<f64>) -> String {
    match x {
        None => "—".into(),
        Some(x) if !x.is_finite() => "—".into(),
        Some(x) => {
            let m = x.abs();
            if m >= 100.0 {
                format!("{x:.0}")
            } else if m >= 10.0 {
                format!("{x:.1}")
            } else if m >= 1.0 {
                format!("{x:.2}")
            } else {
                format!("{x:.3}")
            }
        }
    }
}

fn pct(d: f64) -> String {
    format!("{d:+.1}%")
}

fn delta(m: &MetricDelta) -> String {
    m.delta_pct.map(pct).unwrap_or_else(|| "—".into())
}

const HEADINGS: [&str; 13] = [
    "contender",
    "workload",
    "workers",
    "capacity A req/s",
    "capacity B req/s",
    "Δ capacity",
    "sig",
    "p99 A ms",
    "p99 B ms",
    "Δ p99",
    "CPU A ms/req",
    "CPU B ms/req",
    "Δ CPU",
];

fn rows(c: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let gate = c.threshold_pct.is_some();
    let mut head: Vec<String> = HEADINGS.iter().map(|s| s.to_string()).collect();
    if gate {
        head.push("gate".into());
    }
    let body = c
        .cells
        .iter()
        .map(|cell| {
            let side = |problem: &Option<String>, v: Option<f64>| match problem {
                Some(p) => p.split(':').next().unwrap_or("failed").to_string(),
                None => num(v),
            };
            let mut row = vec![
                cell.key.contender.clone(),
                cell.key.workload.clone(),
                cell.key.workers.to_string(),
                side(&cell.problem_a, cell.capacity.a),
                side(&cell.problem_b, cell.capacity.b),
                delta(&cell.capacity),
                cell.capacity.mark.symbol().into(),
                num(cell.p99_ms.a),
                num(cell.p99_ms.b),
                delta(&cell.p99_ms),
                num(cell.cpu_ms_per_request.a),
                num(cell.cpu_ms_per_request.b),
                delta(&cell.cpu_ms_per_request),
            ];
            if gate {
                let verdict = if cell.regressions.is_empty() {
                    "ok"
                } else {
                    "REGRESSED"
                };
                row.push(verdict.into());
            }
            row
        })
        .collect();
    (head, body)
}

fn describe(h: &RunHeader) -> String {
    format!(
        "run {} ({}, {}, {})",
        h.id,
        h.started_at,
        h.profile,
        h.status.as_str()
    )
}

/// Columns that hold numbers are right-aligned.
fn numeric_column(i: usize) -> bool {
    (2..13).contains(&i) && i != 6
}

/// Render a comparison as an aligned text table or a Markdown document.
pub fn render(c: &Comparison, format: Format, out: &mut impl Write) -> io::Result<()> {
    let (head, body) = rows(c);
    let md = format == Format::Md;
    if md {
        writeln!(
            out,
            "## Comparison: {} → {}",
            describe(&c.a),
            describe(&c.b)
        )?;
    } else {
        writeln!(out, "Comparison: A = {}", describe(&c.a))?;
        writeln!(out, "            B = {}", describe(&c.b))?;
    }
    writeln!(out)?;
    if body.is_empty() {
        writeln!(out, "No cell is present in both runs.")?;
    } else if md {
        table_md(out, &head, &body)?;
    } else {
        table_text(out, &head, &body, numeric_column)?;
    }
    writeln!(out)?;
    let bullet = if md { "- " } else { "  " };
    let notes: Vec<String> = c
        .cells
        .iter()
        .flat_map(|cell| {
            let k = &cell.key;
            [("A", &cell.problem_a), ("B", &cell.problem_b)]
                .into_iter()
                .filter_map(move |(side, p)| {
                    p.as_ref().map(|p| {
                        format!(
                            "{} {} ×{} in {side}: {p}",
                            k.contender, k.workload, k.workers
                        )
                    })
                })
        })
        .collect();
    section(out, md, "Cells that did not run", bullet, &notes)?;
    let keys = |ks: &[CellKey]| -> Vec<String> {
        ks.iter()
            .map(|k| format!("{} {} ×{}", k.contender, k.workload, k.workers))
            .collect()
    };
    section(
        out,
        md,
        &format!("Only in run {} (A)", c.a.id),
        bullet,
        &keys(&c.only_a),
    )?;
    section(
        out,
        md,
        &format!("Only in run {} (B)", c.b.id),
        bullet,
        &keys(&c.only_b),
    )?;
    writeln!(
        out,
        "Δ = (B − A) / A. sig (capacity): * the 95% confidence intervals do not overlap, \
         ~ they overlap, n/a a single trial; p99 and CPU are single measurements."
    )?;
    writeln!(out)?;
    match c.threshold_pct {
        None => writeln!(
            out,
            "No regression gate (--fail-on-regression PCT not given)."
        )?,
        Some(t) => {
            let failing: Vec<String> = c
                .cells
                .iter()
                .filter(|cell| !cell.regressions.is_empty())
                .map(|cell| {
                    let k = &cell.key;
                    format!(
                        "{} {} ×{}: {}",
                        k.contender,
                        k.workload,
                        k.workers,
                        cell.regressions.join(", ")
                    )
                })
                .collect();
            if failing.is_empty() {
                writeln!(out, "Gate: no cell regressed by more than {t}%.")?;
            } else {
                writeln!(out)?;
                section(
                    out,
                    md,
                    &format!("REGRESSIONS beyond {t}% (capacity down, p99 or CPU/request up)"),
                    bullet,
                    &failing,
                )?;
            }
        }
    }
    Ok(())
}

fn section(
    out: &mut impl Write,
    md: bool,
    title: &str,
    bullet: &str,
    lines: &[String],
) -> io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    if md {
        writeln!(out, "**{title}**")?;
        writeln!(out)?;
    } else {
        writeln!(out, "{title}:")?;
    }
    for line in lines {
        writeln!(out, "{bullet}{line}")?;
    }
    writeln!(out)
}

/// An aligned plain-text table; `right_align(i)` for columns of numbers.
pub(crate) fn table_text(
    out: &mut impl Write,
    head: &[String],
    body: &[Vec<String>],
    right_align: impl Fn(usize) -> bool,
) -> io::Result<()> {
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            std::iter::once(&head[i])
                .chain(body.iter().map(|r| &r[i]))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: &[String]| -> String {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let pad = " ".repeat(widths[i].saturating_sub(s.chars().count()));
                if right_align(i) {
                    format!("{pad}{s}")
                } else {
                    format!("{s}{pad}")
                }
            })
            .collect();
        cells.join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(head))?;
    for row in body {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

fn table_md(out: &mut impl Write, head: &[String], body: &[Vec<String>]) -> io::Result<()> {
    let esc = |s: &String| s.replace('|', "\\|");
    writeln!(
        out,
        "| {} |",
        head.iter().map(esc).collect::<Vec<_>>().join(" | ")
    )?;
    let rule: Vec<&str> = (0..head.len())
        .map(|i| if numeric_column(i) { "---:" } else { "---" })
        .collect();
    writeln!(out, "| {} |", rule.join(" | "))?;
    for row in body {
        writeln!(
            out,
            "| {} |",
            row.iter().map(esc).collect::<Vec<_>>().join(" | ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Environment, EqualLoad, Estimate, LittlesLaw, Percentiles, Settings};

    fn estimate(median: f64, half_width: f64, n: u32) -> Estimate {
        Estimate {
            median,
            ci_low: median - half_width,
            ci_high: median + half_width,
            cv: 0.02,
            n,
            noisy: false,
        }
    }

    fn cell(contender: &str, workload: &str, cap: Estimate, p99: f64, cpu: f64) -> Cell {
        Cell {
            contender: contender.into(),
            workload: workload.into(),
            workers: 1,
            status: CellStatus::Ok,
            capacity: Some(cap),
            trials: Vec::new(),
            equal_load: Some(EqualLoad {
                target_rps: 500.0,
                achieved_rps: 499.0,
                requests: 5000,
                errors: 0,
                latency: Percentiles {
                    p99,
                    ..Percentiles::default()
                },
                service: Percentiles::default(),
                light: None,
                spectrum: Vec::new(),
                service_spectrum: Vec::new(),
                cpu_ms_per_request: cpu,
                rss_peak_bytes: 0,
                rss_mean_bytes: 0,
                timeline: Vec::new(),
                littles_law: LittlesLaw {
                    observed_concurrency: 1.0,
                    predicted_concurrency: 1.0,
                    ok: true,
                },
                histograms: Vec::new(),
            }),
            ws: Vec::new(),
            startup: None,
            scaling_efficiency: None,
            flags: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn run(id: i64, cells: Vec<Cell>) -> Run {
        Run {
            id,
            started_at: format!("2026-11-2{id}T10:00:00Z"),
            finished_at: None,
            status: RunStatus::Complete,
            settings: Settings {
                profile: "standard".into(),
                slo_p99_ms: 100.0,
                trials: 3,
                duration_scale: 1.0,
                contenders: Vec::new(),
                workloads: Vec::new(),
                workers: vec![1],
            },
            environment: Environment::default(),
            contenders: Vec::new(),
            cells,
        }
    }

    /// A: baseline. B: fastify json lost 20% capacity (significant), flask json
    /// is within noise, express io failed, and one cell on each side is unmatched.
    fn pair() -> (Run, Run) {
        let a = run(
            1,
            vec![
                cell(
                    "node-fastify",
                    "json",
                    estimate(10000.0, 200.0, 3),
                    2.0,
                    0.05,
                ),
                cell("python-flask", "json", estimate(1000.0, 50.0, 3), 20.0, 0.9),
                cell("node-express", "io", estimate(3000.0, 100.0, 3), 55.0, 0.1),
                cell(
                    "node-express",
                    "json",
                    estimate(5000.0, 100.0, 3),
                    3.0,
                    0.08,
                ),
            ],
        );
        let mut failed = cell("node-express", "io", estimate(0.0, 0.0, 1), 0.0, 0.0);
        failed.status = CellStatus::Failed {
            reason: "crashed (exit 137)".into(),
        };
        failed.capacity = None;
        failed.equal_load = None;
        let b = run(
            2,
            vec![
                cell(
                    "node-fastify",
                    "json",
                    estimate(8000.0, 200.0, 3),
                    2.2,
                    0.05,
                ),
                cell(
                    "python-flask",
                    "json",
                    estimate(1020.0, 50.0, 3),
                    19.0,
                    0.95,
                ),
                failed,
                cell(
                    "python-fastapi",
                    "json",
                    estimate(4000.0, 100.0, 3),
                    4.0,
                    0.2,
                ),
            ],
        );
        (a, b)
    }

    #[test]
    fn deltas_marks_and_unmatched_cells() {
        let (a, b) = pair();
        let c = Comparison::new(&a, &b, None);
        assert_eq!(c.cells.len(), 3);
        let fastify = c
            .cells
            .iter()
            .find(|x| x.key.contender == "node-fastify")
            .unwrap();
        assert!((fastify.capacity.delta_pct.unwrap() + 20.0).abs() < 1e-9);
        assert_eq!(fastify.capacity.mark, Mark::Significant);
        assert!((fastify.p99_ms.delta_pct.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(fastify.p99_ms.mark, Mark::NotApplicable);
        let flask = c
            .cells
            .iter()
            .find(|x| x.key.contender == "python-flask")
            .unwrap();
        assert_eq!(flask.capacity.mark, Mark::Overlap);
        assert_eq!(c.only_a.len(), 1);
        assert_eq!(c.only_a[0].contender, "node-express");
        assert_eq!(c.only_b[0].contender, "python-fastapi");
        // No threshold: never a regression.
        assert!(!c.regressed());
    }

    #[test]
    fn the_gate_fails_on_each_metric_and_on_a_new_failure() {
        let (a, b) = pair();
        // 25%: fastify's -20% capacity and +10% p99 pass; express io failed in B.
        let c = Comparison::new(&a, &b, Some(25.0));
        let failing: Vec<&str> = c
            .cells
            .iter()
            .filter(|x| !x.regressions.is_empty())
            .map(|x| x.key.contender.as_str())
            .collect();
        assert_eq!(failing, ["node-express"]);
        // 5%: fastify now fails on capacity and p99; flask on CPU (+5.6%).
        let c = Comparison::new(&a, &b, Some(5.0));
        let fastify = c
            .cells
            .iter()
            .find(|x| x.key.contender == "node-fastify")
            .unwrap();
        assert_eq!(fastify.regressions, ["capacity -20.0%", "p99 +10.0%"]);
        let flask = c
            .cells
            .iter()
            .find(|x| x.key.contender == "python-flask")
            .unwrap();
        assert_eq!(flask.regressions, ["CPU per request +5.6%"]);
        // An improvement never fails the gate: compare B → A.
        let c = Comparison::new(&b, &a, Some(5.0));
        let fastify = c
            .cells
            .iter()
            .find(|x| x.key.contender == "node-fastify")
            .unwrap();
        assert!(fastify.regressions.is_empty());
    }

    #[test]
    fn single_trials_have_no_significance() {
        let a = run(
            1,
            vec![cell("a", "json", estimate(100.0, 0.0, 1), 1.0, 1.0)],
        );
        let b = run(2, vec![cell("a", "json", estimate(50.0, 0.0, 1), 1.0, 0.0)]);
        let c = Comparison::new(&a, &b, Some(10.0));
        assert_eq!(c.cells[0].capacity.mark, Mark::NotApplicable);
        assert_eq!(c.cells[0].cpu_ms_per_request.delta_pct, Some(-100.0));
        // A zero baseline has no percentage.
        let c = Comparison::new(&b, &a, Some(10.0));
        assert_eq!(c.cells[0].cpu_ms_per_request.delta_pct, None);
        assert!(c.cells[0].regressions.is_empty());
    }

    fn rendered(c: &Comparison, f: Format) -> String {
        let mut out = Vec::new();
        render(c, f, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_snapshot() {
        let (a, b) = pair();
        insta::assert_snapshot!(rendered(&Comparison::new(&a, &b, Some(5.0)), Format::Text));
    }

    #[test]
    fn markdown_snapshot() {
        let (a, b) = pair();
        insta::assert_snapshot!(rendered(&Comparison::new(&a, &b, None), Format::Md));
    }

    #[test]
    fn no_common_cells() {
        let a = run(
            1,
            vec![cell("a", "json", estimate(100.0, 0.0, 1), 1.0, 1.0)],
        );
        let b = run(2, Vec::new());
        insta::assert_snapshot!(rendered(&Comparison::new(&a, &b, Some(5.0)), Format::Text));
    }
}
