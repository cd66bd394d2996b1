//! `bakeoff compare`'s output: the comparison as a text or Markdown page, or
//! as one JSON document ([`CompareDocument`]). Pure: a [`Comparison`] in, bytes
//! out.

use std::io::{self, Write};

use crate::report::table::{fmt_ms, markdown_lines, md_cell, plain_lines, write_lines};

use super::{pct, CellKey, Comparison, MetricDelta, RatioComparison, RunHeader};

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Md,
    /// [`CompareDocument`], whose schema is `docs/schema/compare.json`.
    Json,
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

/// Render a comparison as an aligned text table or a Markdown document.
pub fn render(c: &Comparison, format: Format, out: &mut impl Write) -> io::Result<()> {
    if format == Format::Json {
        let doc = CompareDocument {
            comparison: c,
            regressed: c.regressed(),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        return writeln!(out);
    }
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
    if !c.caveats.is_empty() {
        let bullet = if md { "- " } else { "  " };
        section(
            out,
            md,
            "Caveats (the runs are less comparable)",
            bullet,
            &c.caveats,
        )?;
    }
    if body.is_empty() {
        writeln!(out, "No cell is present in both runs.")?;
    } else if md {
        let esc = |cells: &[String]| cells.iter().map(|c| md_cell(c)).collect::<Vec<_>>();
        let body: Vec<Vec<String>> = body.iter().map(|r| esc(r)).collect();
        write_lines(out, markdown_lines(&esc(&head), &body, numeric_column))?;
    } else {
        write_lines(out, plain_lines(&head, &body, numeric_column, false))?;
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
                .filter_map(move |(side, p)| p.as_ref().map(|p| format!("{k} in {side}: {p}")))
        })
        .collect();
    section(
        out,
        md,
        "Cells without a capacity to compare",
        bullet,
        &notes,
    )?;
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
    section(
        out,
        md,
        "Equal-load rates differ: p99 and CPU at different rates are not comparable (the gate skips them)",
        bullet,
        &rates,
    )?;
    let ratios: Vec<String> = c.ratios.iter().map(RatioComparison::line).collect();
    section(
        out,
        md,
        "Best Node.js over best Python, each run's own (as its report pairs them: both sides measured in that run, their trials interleaved)",
        bullet,
        &ratios,
    )?;
    let keys = |ks: &[CellKey]| -> Vec<String> { ks.iter().map(|k| k.to_string()).collect() };
    for (label, id, ks) in [("A", c.a.id, &c.only_a), ("B", c.b.id, &c.only_b)] {
        let title = format!("Only in run {id} ({label})");
        section(out, md, &title, bullet, &keys(ks))?;
    }
    writeln!(
        out,
        "Capacities in req/s, a ws cell's in fan-out msg/s. Δ = (B − A) / A. sig (capacity): \
         * Welch's t-test at 5% finds a difference, ~ no clear difference, n/a a single trial \
         on either side; p99 and CPU are single measurements."
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
                    format!("{k}: {}", cell.regressions.join(", "))
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
