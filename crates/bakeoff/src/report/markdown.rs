//! The Markdown report, ready for a README or a pull request: the headline,
//! the per-workload tables, failed and skipped cells, each contender's variant
//! label and disclosures, the scaling over workers,
//! the environment and a short methodology paragraph.

use std::io::{self, Write};

use crate::model::Run;

use super::summary::{self, RATIO_METHOD};
use super::table::{self, md_cell, Style, Table, BEST_MARK};

/// Render the run as Markdown.
pub fn render_markdown<W: Write>(run: &Run, w: &mut W) -> io::Result<()> {
    writeln!(w, "# {}", super::title(run))?;
    writeln!(w)?;
    writeln!(w, "{}", super::subtitle(run))?;
    let summaries = summary::summarize(run);
    let headlines = summary::headlines(&summaries);
    if !headlines.is_empty() {
        writeln!(w)?;
        writeln!(w, "## Best Node.js vs best Python")?;
        writeln!(w)?;
        let head = [
            "workload",
            "best Node.js",
            "best Python",
            "Node/Python",
            "verdict",
        ];
        let body: Vec<Vec<String>> = headlines
            .iter()
            .map(|h| {
                let unit = h.kind.metric().1;
                let f = if h.kind.higher_is_better() {
                    table::fmt_rate
                } else {
                    table::fmt_ms
                };
                vec![
                    md_cell(&h.label),
                    format!(
                        "{} {} {unit}",
                        md_cell(&h.node.contender),
                        f(h.node_est.center())
                    ),
                    format!(
                        "{} {} {unit}",
                        md_cell(&h.python.contender),
                        f(h.python_est.center())
                    ),
                    md_cell(&h.ratio.text()),
                    md_cell(&h.sentence()),
                ]
            })
            .collect();
        table::write_lines(
            w,
            table::markdown_lines(&head.map(String::from), &body, |i| i == 3),
        )?;
        writeln!(w)?;
        writeln!(w, "{RATIO_METHOD}")?;
    }
    for s in &summaries {
        writeln!(w)?;
        writeln!(w, "## {}", md_cell(&s.label))?;
        writeln!(w)?;
        if s.rows.is_empty() {
            writeln!(w, "No cell measured.")?;
        } else {
            write_table(&table::workload_table(s), w)?;
        }
        if !s.problems.is_empty() {
            writeln!(w)?;
            for cell in &s.problems {
                let (state, reason) = summary::problem(cell);
                writeln!(
                    w,
                    "- **{}** ({} worker{}) {state}: {}",
                    md_cell(&cell.contender),
                    cell.workers,
                    if cell.workers == 1 { "" } else { "s" },
                    md_cell(reason)
                )?;
            }
        }
    }
    let notes: Vec<_> = super::disclosed(run).collect();
    if !notes.is_empty() {
        writeln!(w)?;
        writeln!(w, "## Contenders: variants and disclosures")?;
        for c in notes {
            writeln!(w)?;
            writeln!(w, "**{}**", md_cell(&c.label()))?;
            if !c.disclosures.is_empty() {
                writeln!(w)?;
            }
            for d in &c.disclosures {
                writeln!(w, "- {}", md_cell(d))?;
            }
        }
        writeln!(w)?;
        writeln!(
            w,
            "How each contender is configured, with references: [{0}]({0}).",
            super::FAIRNESS_DOC
        )?;
    }
    if let Some(t) = table::scaling_table(run) {
        writeln!(w)?;
        writeln!(w, "## Scaling over workers")?;
        writeln!(w)?;
        write_table(&t, w)?;
        writeln!(w)?;
        writeln!(w, "{}", table::SCALING_NOTE)?;
    }
    let rv = super::runtimes::runtime_versions(run);
    let past: Vec<_> = rv.end_of_life.iter().filter(|n| n.past).collect();
    let versions = super::runtimes::table(&rv);
    if versions.is_some() || !past.is_empty() {
        writeln!(w)?;
        writeln!(w, "## Runtime versions")?;
        writeln!(w)?;
        if let Some(t) = &versions {
            writeln!(w, "{}", super::runtimes::INTRO)?;
            writeln!(w)?;
            write_table(t, w)?;
            writeln!(w)?;
        }
        for n in past {
            writeln!(w, "- **{}**", md_cell(&n.sentence()))?;
        }
        if !rv.end_of_life.iter().all(|n| !n.past) {
            writeln!(w)?;
        }
        writeln!(w, "{}", super::runtimes::EOL_SOURCE)?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "`{BEST_MARK}` (bold) marks the best contender of each language on that workload."
    )?;
    let legends = table::legends(run);
    if !legends.is_empty() {
        writeln!(w)?;
        for (flag, legend) in legends {
            writeln!(w, "- `{flag}`: {legend}")?;
        }
    }
    let notes = table::explained_notes(run);
    if !notes.is_empty() {
        writeln!(w)?;
        writeln!(w, "Why cells are flagged:")?;
        writeln!(w)?;
        for n in notes {
            writeln!(w, "- {}", md_cell(&n))?;
        }
    }
    writeln!(w)?;
    writeln!(w, "## Environment")?;
    writeln!(w)?;
    let body: Vec<Vec<String>> = super::environment_rows(run)
        .iter()
        .map(|(k, v)| vec![md_cell(k), md_cell(v)])
        .collect();
    table::write_lines(
        w,
        table::markdown_lines(&[String::new(), String::new()], &body, |_| false),
    )?;
    writeln!(w)?;
    writeln!(w, "## Methodology")?;
    writeln!(w)?;
    writeln!(
        w,
        "{} See [docs/methodology.md](docs/methodology.md).",
        super::methodology(run)
    )?;
    Ok(())
}

fn write_table<W: Write>(t: &Table, w: &mut W) -> io::Result<()> {
    let head: Vec<String> = t.headers.iter().map(|h| md_cell(h)).collect();
    let body: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| match c.style {
                    Style::Best => format!("**{}**", md_cell(&c.text)),
                    _ => md_cell(&c.text),
                })
                .collect()
        })
        .collect();
    let numeric = |i: usize| t.numeric.get(i).copied().unwrap_or(false);
    table::write_lines(w, table::markdown_lines(&head, &body, numeric))
}
