//! The terminal report: per-workload summary tables, failed and skipped cells,
//! each contender's variant label and disclosures, the scaling over workers, the Node-vs-Python headline and the flags. ANSI colour only when asked.

use std::io::{self, Write};

use crate::model::Run;
use crate::verdict::RatioKind;

use super::summary::{self, Headline};
use super::table::{self, column_widths, pad, Style, Table, BEST_MARK};

const BOLD: &str = "\x1b[1m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// Render the run as plain-text tables; `color` adds ANSI escapes.
pub fn render_text<W: Write>(run: &Run, color: bool, w: &mut W) -> io::Result<()> {
    let p = Painter { color };
    writeln!(w, "{}", p.paint(BOLD, &super::title(run)))?;
    writeln!(w, "{}", super::subtitle(run))?;
    let summaries = summary::summarize(run);
    for s in &summaries {
        writeln!(w)?;
        writeln!(w, "{}", p.paint(BOLD, &s.label))?;
        if s.rows.is_empty() {
            writeln!(w, "  no cell measured")?;
        } else {
            write_table(&table::workload_table(s), &p, w)?;
        }
        for cell in &s.problems {
            let (state, reason) = summary::problem(cell);
            let head = format!("{} ({}): {state}", cell.contender, workers(cell.workers));
            writeln!(w, "  {} - {}", p.paint(RED, &head), one_line(reason))?;
        }
    }
    let notes: Vec<_> = super::disclosed(run).collect();
    if !notes.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            p.paint(BOLD, "Contenders: variants and disclosures")
        )?;
        for c in notes {
            writeln!(w, "  {}", one_line(&c.label()))?;
            for d in &c.disclosures {
                writeln!(w, "    - {}", one_line(d))?;
            }
        }
    }
    if let Some(t) = table::scaling_table(run) {
        writeln!(w)?;
        writeln!(w, "{}", p.paint(BOLD, "Scaling over workers"))?;
        write_table(&t, &p, w)?;
        writeln!(w, "  {}", p.paint(DIM, table::SCALING_NOTE))?;
    }
    let rv = super::runtimes::runtime_versions(run);
    let past: Vec<_> = rv.end_of_life.iter().filter(|n| n.past).collect();
    let versions = super::runtimes::table(&rv);
    if versions.is_some() || !past.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", p.paint(BOLD, "Runtime versions"))?;
        if let Some(t) = &versions {
            write_table(t, &p, w)?;
        }
        for n in past {
            writeln!(w, "  {}", p.paint(YELLOW, &n.sentence()))?;
        }
        writeln!(w, "  {}", p.paint(DIM, super::runtimes::EOL_SOURCE))?;
    }
    let headlines = summary::headlines(&summaries);
    if !headlines.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            p.paint(
                BOLD,
                "Best Node.js vs best Python (ratio Node/Python, its interval named)"
            )
        )?;
        for h in &headlines {
            writeln!(w, "  {}", headline_line(h))?;
        }
    }
    writeln!(w)?;
    writeln!(
        w,
        "{}",
        p.paint(
            DIM,
            &format!("{BEST_MARK} best of its language on that workload")
        )
    )?;
    for (flag, legend) in table::legends(run) {
        writeln!(w, "{}", p.paint(DIM, &format!("{flag}: {legend}")))?;
    }
    writeln!(w)?;
    for line in super::machine_lines(&run.environment) {
        writeln!(w, "{}", p.paint(DIM, &line))?;
    }
    let notes = table::explained_notes(run);
    if !notes.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", p.paint(BOLD, "Why cells are flagged"))?;
        for n in notes {
            writeln!(w, "  {}", one_line(&n))?;
        }
    }
    Ok(())
}

fn headline_line(h: &Headline<'_>) -> String {
    let unit = h.kind.metric().1;
    let f = if h.kind.higher_is_better() {
        table::fmt_rate
    } else {
        table::fmt_ms
    };
    // A single trial's ratio has no interval, and its verdict already says
    // "indicative: single trial": the label once, not twice on one line.
    let ratio = match h.ratio.kind {
        RatioKind::Point => format!("{:.2}x", h.ratio.value),
        _ => h.ratio.text(),
    };
    format!(
        "{}: {} {} {unit} vs {} {} {unit} -> {}: {}",
        h.label,
        h.node.contender,
        f(h.node_est.center()),
        h.python.contender,
        f(h.python_est.center()),
        ratio,
        h.sentence()
    )
}

/// Reasons can carry newlines (stderr tails); a table line must not.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write_table<W: Write>(t: &Table, p: &Painter, w: &mut W) -> io::Result<()> {
    let mut rows: Vec<&[String]> = vec![&t.headers];
    let texts: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| one_line(&c.text)).collect())
        .collect();
    rows.extend(texts.iter().map(Vec::as_slice));
    let widths = column_widths(&rows);
    let last = t.headers.len() - 1;
    // The last column is left-aligned text: no trailing fill (it would be painted).
    let fit = |text: &str, i: usize| pad(text, if i == last { 0 } else { widths[i] }, t.numeric[i]);
    let header: Vec<String> = t
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| fit(h, i))
        .collect();
    writeln!(w, "  {}", p.paint(BOLD, header.join("  ").trim_end()))?;
    for row in &t.rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let text = fit(&one_line(&c.text), i);
                match c.style {
                    Style::Plain => text,
                    Style::Best => p.paint(GREEN, &text),
                    Style::Warn => p.paint(YELLOW, &text),
                }
            })
            .collect();
        writeln!(w, "  {}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

fn workers(n: u32) -> String {
    format!("{n} worker{}", if n == 1 { "" } else { "s" })
}
