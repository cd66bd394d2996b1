//! `bakeoff compare`'s output: the comparison as a text or Markdown page, one
//! JSON document ([`CompareDocument`]), or one HTML page (`html`). Pure: a
//! [`Comparison`] in, bytes out.

use std::io::{self, Write};

use crate::report::table::{fmt_ms, markdown_lines, md_cell, plain_lines, write_lines};

use super::{pct, CellKey, Comparison, MetricDelta, RatioComparison, RunHeader};

mod html;

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Md,
    /// [`CompareDocument`], whose schema is `docs/schema/compare.json`.
    Json,
    /// One self-contained page, as the run report's (`report::html`).
    Html,
}

/// The comparison as JSON (`bakeoff compare --format json`): its own fields,
/// and whether the gate failed.
#[derive(serde::Serialize, schemars::JsonSchema)]
#[schemars(
    title = "bakeoff compare",
    description = "Two stored runs compared cell by cell, as printed by `bakeoff compare A B --format json`: per cell the capacity at the SLO (the headline: the mean from five trials, else the median), the corrected p99 and the CPU per request at equal load, in A and in B, with Δ = (B − A) / A in percent; each run's best Node.js over best Python per workload; the caveats that make the runs less comparable; and the regression gate's outcome. Each cell's `rate_unit` names what its capacity counts (req/s, or msg/s for a ws cell's fan-out). Optional values are present as null.",
    deny_unknown_fields
)]
pub struct CompareDocument<'a> {
    #[serde(flatten)]
    pub comparison: &'a Comparison,
    /// The gate was set and some cell failed it (`bakeoff compare` exits 1).
    pub regressed: bool,
}

/// The JSON Schema of [`CompareDocument`], as written.
pub fn compare_schema() -> serde_json::Value {
    crate::report::serialized_schema::<CompareDocument<'static>>()
}

/// A figure as the reports print milliseconds ([`fmt_ms`]), with a third
/// decimal under 1 (a CPU cost per request of 0.050 ms); "—" for none.
fn num(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() && x.abs() < 1.0 => format!("{x:.3}"),
        Some(x) if x.is_finite() => fmt_ms(x),
        _ => "—".into(),
    }
}

fn delta(m: &MetricDelta) -> String {
    m.delta_pct.map(pct).unwrap_or_else(|| "—".into())
}

const HEADINGS: [&str; 13] = [
    "contender",
    "workload",
    "workers",
    "capacity A",
    "capacity B",
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
                cell.key.workload_label(),
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

/// The lists after the table, each under its title, in the page's order
/// (an empty list is left out): cells without a capacity, equal-load rates
/// that differ, each run's headline ratio, the cells only one run has.
fn lists(c: &Comparison) -> Vec<(String, Vec<String>)> {
    let notes: Vec<String> = c
        .cells
        .iter()
        .flat_map(|cell| {
            let k = &cell.key;
            [("A", &cell.problem_a), ("B", &cell.problem_b)]
                .into_iter()
                .filter_map(move |(side, p)| p.as_ref().map(|p| format!("{k} in {side}: {p}")))
        })
        .collect();
    let rates: Vec<String> = c
        .cells
        .iter()
        .filter_map(|cell| {
            let (ra, rb) = cell.rates_differ?;
            let k = &cell.key;
            Some(format!(
                "{k}: {} req/s (A) vs {} req/s (B)",
                num(Some(ra)),
                num(Some(rb))
            ))
        })
        .collect();
    let ratios: Vec<String> = c.ratios.iter().map(RatioComparison::line).collect();
    let keys = |ks: &[CellKey]| -> Vec<String> { ks.iter().map(|k| k.to_string()).collect() };
    let mut out = vec![
        ("Cells without a capacity to compare".to_string(), notes),
        (
            "Equal-load rates differ: p99 and CPU at different rates are not comparable (the gate skips them)".to_string(),
            rates,
        ),
        (
            "Best Node.js over best Python, each run's own (as its report pairs them: both sides measured in that run, their trials interleaved)".to_string(),
            ratios,
        ),
    ];
    for (label, id, ks) in [("A", c.a.id, &c.only_a), ("B", c.b.id, &c.only_b)] {
        out.push((format!("Only in run {id} ({label})"), keys(ks)));
    }
    out
}

/// What the table's figures and its `sig` column mean.
const LEGEND: &str =
    "Capacities in req/s, a ws cell's in fan-out msg/s. Δ = (B − A) / A. sig (capacity): \
     * Welch's t-test at 5% finds a difference, ~ no clear difference, n/a a single trial \
     on either side; p99 and CPU are single measurements.";

/// The regression gate's outcome.
enum Gate {
    Unset,
    Passed(f64),
    /// The threshold, and each regressed cell with what regressed.
    Failed(f64, Vec<String>),
}

fn gate(c: &Comparison) -> Gate {
    let Some(t) = c.threshold_pct else {
        return Gate::Unset;
    };
    let failing: Vec<String> = c
        .cells
        .iter()
        .filter(|cell| !cell.regressions.is_empty())
        .map(|cell| {
            let k = &cell.key;
            format!("{k}: {}", cell.regressions.join(", "))
        })
        .collect();
    if failing.is_empty() {
        Gate::Passed(t)
    } else {
        Gate::Failed(t, failing)
    }
}

const NO_GATE: &str = "No regression gate (--fail-on-regression PCT not given).";

fn gate_passed(t: f64) -> String {
    format!("Gate: no cell regressed by more than {t}%.")
}

fn gate_failed(t: f64) -> String {
    format!("REGRESSIONS beyond {t}% (capacity down, p99 or CPU/request up)")
}

const CAVEATS: &str = "Caveats (the runs are less comparable)";
const NO_COMMON_CELL: &str = "No cell is present in both runs.";

/// Render a comparison as an aligned text table, a Markdown document, one
/// JSON document, or one self-contained HTML page.
pub fn render(c: &Comparison, format: Format, out: &mut impl Write) -> io::Result<()> {
    match format {
        Format::Json => {
            let doc = CompareDocument {
                comparison: c,
                regressed: c.regressed(),
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        Format::Html => out.write_all(html::page(c).as_bytes()),
        Format::Text | Format::Md => lines(c, format == Format::Md, out),
    }
}

fn lines(c: &Comparison, md: bool, out: &mut impl Write) -> io::Result<()> {
    let (head, body) = rows(c);
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
    let bullet = if md { "- " } else { "  " };
    section(out, md, CAVEATS, bullet, &c.caveats)?;
    if body.is_empty() {
        writeln!(out, "{NO_COMMON_CELL}")?;
    } else if md {
        let esc = |cells: &[String]| cells.iter().map(|c| md_cell(c)).collect::<Vec<_>>();
        let body: Vec<Vec<String>> = body.iter().map(|r| esc(r)).collect();
        write_lines(out, markdown_lines(&esc(&head), &body, numeric_column))?;
    } else {
        write_lines(out, plain_lines(&head, &body, numeric_column, false))?;
    }
    writeln!(out)?;
    for (title, lines) in lists(c) {
        section(out, md, &title, bullet, &lines)?;
    }
    writeln!(out, "{LEGEND}")?;
    writeln!(out)?;
    match gate(c) {
        Gate::Unset => writeln!(out, "{NO_GATE}"),
        Gate::Passed(t) => writeln!(out, "{}", gate_passed(t)),
        Gate::Failed(t, failing) => {
            writeln!(out)?;
            section(out, md, &gate_failed(t), bullet, &failing)
        }
    }
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
