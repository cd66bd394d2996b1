//! The summary tables as rows of formatted strings with a style hint per cell,
//! shared by the text, Markdown and HTML renderers, plus number formatting and
//! the one plain-text and one Markdown table layout every report and command
//! uses.

use std::io::{self, Write};

use crate::model::{Cell, Estimate, Flag, Interval, Run};
use crate::workload::{RateUnit, Workload};

use super::summary::{self, Kind, Row, WorkloadSummary};

/// How a table cell should stand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// The best contender of its language.
    Best,
    /// A flag worth a second look.
    Warn,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableCell {
    pub text: String,
    pub style: Style,
}

impl TableCell {
    fn plain(text: impl Into<String>) -> TableCell {
        TableCell {
            text: text.into(),
            style: Style::Plain,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<TableCell>>,
    /// Columns holding numbers (right-aligned).
    pub numeric: Vec<bool>,
}

/// The mark after the best contender of each language.
pub const BEST_MARK: &str = "*";

/// The summary table of one workload.
pub fn workload_table(s: &WorkloadSummary<'_>) -> Table {
    let (metric, unit) = s.kind.metric();
    let mut headers = vec![
        "contender".to_string(),
        "language".to_string(),
        format!("{metric} ({unit})"),
    ];
    match s.kind {
        Kind::Http => {
            let rate = s
                .rows
                .iter()
                .find_map(|r| r.cell.equal_load.as_ref())
                .map(|e| e.target_rps);
            headers.push(match rate {
                Some(r) => format!("p99 @ {} req/s (ms)", fmt_rate(r)),
                None => "p99 at equal load (ms)".into(),
            });
            headers.extend(["CPU ms/req".into(), "marginal CPU ms/req".into()]);
            if has_database_cpu(s) {
                headers.push("DB server CPU ms/req".into());
            }
            headers.push("RSS peak".into());
        }
        Kind::Ws => {
            let clients = s
                .rows
                .iter()
                .find_map(|r| summary::ws_p99(r.cell))
                .map(|(c, _)| c);
            headers.push(match clients {
                Some(c) => format!("p99 @ {c} clients (ms)"),
                None => "p99 (ms)".into(),
            });
            headers.extend(["bytes/conn".into(), "RSS loaded".into()]);
        }
        Kind::Startup => headers.push("idle RSS".into()),
    }
    headers.push("flags".into());
    let mut numeric = vec![true; headers.len()];
    numeric[0] = false;
    numeric[1] = false;
    *numeric.last_mut().expect("headers are never empty") = false;
    let db_cpu = has_database_cpu(s);
    let rows = s.rows.iter().map(|r| row(r, s.kind, db_cpu)).collect();
    Table {
        headers,
        rows,
        numeric,
    }
}

/// What the scaling table's last figure means.
pub const SCALING_NOTE: &str =
    "Scaling efficiency is capacity with w workers divided by w times the one-worker capacity.";

/// Capacity by worker count for every contender and workload where a worker
/// sweep ran (the summary tables show the lowest count only); `None` without one.
pub fn scaling_table(run: &Run) -> Option<Table> {
    let swept: std::collections::BTreeSet<(&Workload, &str)> = run
        .cells
        .iter()
        .filter(|c| c.workers > 1 && c.capacity.is_some())
        .map(|c| (&c.workload, c.contender.as_str()))
        .collect();
    if swept.is_empty() {
        return None;
    }
    let mut cells: Vec<&Cell> = run
        .cells
        .iter()
        .filter(|c| swept.contains(&(&c.workload, c.contender.as_str())))
        .collect();
    // Workloads by name, as the table has always listed them.
    cells.sort_by(|a, b| {
        (a.workload.name(), &a.contender, a.workers).cmp(&(
            b.workload.name(),
            &b.contender,
            b.workers,
        ))
    });
    let rows = cells
        .iter()
        .map(|c| {
            let efficiency = match c.scaling_efficiency {
                _ if c.workers == 1 => "baseline".to_string(),
                Some(e) => format!("{:.0}%", e * 100.0),
                None => "-".to_string(),
            };
            let contended = c.flags.contains(&Flag::Contended);
            vec![
                TableCell::plain(&c.contender),
                TableCell::plain(c.workload.name()),
                TableCell::plain(c.workers.to_string()),
                TableCell::plain(
                    c.capacity
                        .as_ref()
                        .map_or("-".into(), |e| fmt_estimate(e, fmt_rate)),
                ),
                TableCell::plain(efficiency),
                if contended {
                    TableCell {
                        text: "contended".into(),
                        style: Style::Warn,
                    }
                } else {
                    TableCell::plain("")
                },
            ]
        })
        .collect();
    Some(Table {
        headers: [
            "contender",
            "workload",
            "workers",
            "capacity (req/s)",
            "scaling efficiency",
            "flags",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        numeric: vec![false, false, true, true, true, false],
    })
}

/// Whether any row has the database server's CPU (postgres runs' db workloads).
fn has_database_cpu(s: &WorkloadSummary<'_>) -> bool {
    s.rows.iter().any(|r| {
        r.cell
            .equal_load
            .as_ref()
            .is_some_and(|e| e.database_cpu_ms_per_request.is_some())
    })
}

fn row(r: &Row<'_>, kind: Kind, db_cpu: bool) -> Vec<TableCell> {
    let cell = r.cell;
    let name = if r.best_of_language {
        TableCell {
            text: format!("{} {BEST_MARK}", cell.contender),
            style: Style::Best,
        }
    } else {
        TableCell::plain(&cell.contender)
    };
    let headline = r.headline();
    let est = |f: fn(f64) -> String| match (headline, summary::lower_bound(cell)) {
        (Some(e), _) => fmt_estimate(&e, f),
        (None, Some(low)) => format!("≥ {} (lower bound)", f(low)),
        (None, None) => "-".to_string(),
    };
    let mut out = vec![name, TableCell::plain(r.language.name())];
    match kind {
        Kind::Http => {
            out.push(TableCell::plain(est(fmt_rate)));
            let el = cell.equal_load.as_ref();
            out.push(TableCell::plain(
                el.map_or("-".into(), |e| fmt_ms(e.latency.p99)),
            ));
            out.push(TableCell::plain(
                el.and_then(|e| e.cpu_ms_per_request)
                    .map_or("-".into(), fmt_ms),
            ));
            out.push(TableCell::plain(
                el.and_then(|e| e.marginal_cpu_ms_per_request)
                    .map_or("-".into(), fmt_ms),
            ));
            if db_cpu {
                out.push(TableCell::plain(
                    el.and_then(|e| e.database_cpu_ms_per_request)
                        .map_or("-".into(), fmt_ms),
                ));
            }
            out.push(TableCell::plain(
                el.and_then(|e| e.rss_peak_bytes)
                    .map_or("-".into(), |b| fmt_bytes(b as f64)),
            ));
        }
        Kind::Ws => {
            out.push(TableCell::plain(est(fmt_rate)));
            out.push(TableCell::plain(
                summary::ws_p99(cell).map_or("-".into(), |(_, p)| fmt_ms(p)),
            ));
            out.push(TableCell::plain(
                summary::ws_bytes_per_connection(cell).map_or("-".into(), fmt_bytes),
            ));
            let loaded = cell
                .ws
                .iter()
                .max_by_key(|p| p.clients)
                .filter(|p| p.bytes_per_connection.is_some())
                .map(|p| p.rss_loaded_bytes);
            out.push(TableCell::plain(
                loaded.map_or("-".into(), |b| fmt_bytes(b as f64)),
            ));
        }
        Kind::Startup => {
            out.push(TableCell::plain(est(fmt_ms)));
            out.push(TableCell::plain(
                cell.startup
                    .map_or("-".into(), |s| fmt_bytes(s.idle_rss_bytes as f64)),
            ));
        }
    }
    let flags = flags(cell);
    out.push(TableCell {
        style: if flags.is_empty() {
            Style::Plain
        } else {
            Style::Warn
        },
        text: Flag::list(&flags, ", "),
    });
    out
}

/// The cell's flags, with `noisy` added when the capacity estimate says so.
pub fn flags(cell: &Cell) -> Vec<Flag> {
    let mut flags = cell.flags.clone();
    if cell.capacity.is_some_and(|c| c.noisy) && !flags.contains(&Flag::Noisy) {
        flags.push(Flag::Noisy);
    }
    flags
}

/// What each flag means, for the legends.
pub fn flag_meaning(flag: &Flag) -> &'static str {
    match flag {
        Flag::Noisy => "trials disagree by more than 10% (coefficient of variation); rerun on a quieter machine (`bakeoff machine` tells how steady this one is)",
        Flag::Contended => "the load generator competed for CPU; figures are a lower bound",
        Flag::GeneratorLimited => "the generator could not send at the target rate; capacity may be higher (a lower bound, left out of verdicts)",
        Flag::MachineNoisy => "the machine held the generator up in every retry of a trial, so that trial had no clean window and is left out; the clean trials stand, and a cell with none is left out of verdicts",
        Flag::Truncated => "the search stopped before its resolution; capacity is a lower bound, left out of verdicts",
        Flag::Inconsistent => "the engine's counts disagree with an independent count (see the cell's notes)",
        Flag::Drift => "a probe read the machine slower around a search (timed before and after it, the contender's core more than 10% or the loopback between the cores more than 25% below its usual top speed in this run, the 90th percentile of the probe's readings: a fixed CPU loop on the one, 32-byte round trips over the other; each cell's note gives the readings around its flagged searches as shares of it, rounded down); on a host taking steal such a search ran slower, on a steady host hardly more often than an unflagged one: compare with care",
        Flag::StealTolerated => "windows of its search ran with hypervisor steal over the default limit (2% of the machine, 5% of one CPU) and under the run's raised --max-steal, and were judged as the server's: its capacity may read low, never high",
        Flag::EqualLoadStalled => "the machine held the generator up in every retry of its equal-load window (or a WebSocket point), so its latency, CPU and memory there are the machine's as much as the server's; they are left out of verdicts",
        Flag::EqualLoadUnbased => "the equal-load rate was set without this contender's capacity (every trial machine-noisy or a lower bound under the rate, no clean window failed), or the contender met the SLO at no rate, so it may be above what it sustains; its latency and CPU there may describe an overloaded server and are left out of verdicts",
        Flag::Failing => "the server answered mostly with errors even at the lowest rate of a trial: it is failing, not slow (its log may say why); that trial is no sample, and the cell is left out of verdicts",
        Flag::Interrupted => "the run was stopped before this cell was finished: its trials so far are kept, with no equal-load window, and left out of verdicts",
        Flag::Other(_) => "see the cell's notes",
    }
}

/// Flags whose reason the text and Markdown reports spell out per cell (the
/// cell's notes), since they change what its figures mean.
pub const EXPLAINED_FLAGS: [Flag; 10] = [
    Flag::Failing,
    Flag::Interrupted,
    Flag::Truncated,
    Flag::MachineNoisy,
    Flag::GeneratorLimited,
    Flag::Inconsistent,
    Flag::Drift,
    Flag::StealTolerated,
    Flag::EqualLoadStalled,
    Flag::EqualLoadUnbased,
];

/// "contender workload ×w: note; note" for each cell carrying an
/// [`EXPLAINED_FLAGS`] flag and notes.
pub fn explained_notes(run: &Run) -> Vec<String> {
    run.cells
        .iter()
        .filter(|c| !c.notes.is_empty())
        .filter(|c| c.flags.iter().any(|f| EXPLAINED_FLAGS.contains(f)))
        .map(|c| {
            format!(
                "{} {} ×{}: {}",
                c.contender,
                super::cell_workload(run, c),
                c.workers,
                c.notes.join("; ")
            )
        })
        .collect()
}

/// Each distinct flag in the run, in first-seen order, with its legend: its
/// meaning, and for `drift` carried by most of the run's searched cells, that
/// the machine moved through the run rather than under a search or two.
pub fn legends(run: &Run) -> Vec<(Flag, String)> {
    let mut out: Vec<(Flag, String)> = Vec::new();
    for c in &run.cells {
        for f in flags(c) {
            if !out.iter().any(|(seen, _)| *seen == f) {
                let legend = legend(run, &f);
                out.push((f, legend));
            }
        }
    }
    out
}

fn legend(run: &Run, flag: &Flag) -> String {
    let meaning = flag_meaning(flag);
    if *flag != Flag::Drift {
        return meaning.to_string();
    }
    let searched: Vec<&Cell> = run.cells.iter().filter(|c| !c.trials.is_empty()).collect();
    let drifted = searched
        .iter()
        .filter(|c| c.flags.contains(&Flag::Drift))
        .count();
    // On a host that moves all run every cell carries it, and a flag on
    // every cell singles none out: say what it says of the run.
    if searched.len() >= 2 && 2 * drifted > searched.len() {
        format!(
            "{meaning}. Here {drifted} of the {} searched cells carry it: the probes read the machine slower around most of the run, not a search or two; where the host moved, the capacities describe its slow stretches as much as the contenders (set the trials' ranges beside another run's, or rerun on a quieter machine: `bakeoff machine` tells how steady this one is)",
            searched.len()
        )
    } else {
        meaning.to_string()
    }
}

/// An estimate with its interval named: "51,200 (1 trial, indicative)",
/// "51,200 (range 48,000–53,000 of 3)", "51,200 (95% CI 50,100–52,300, n 5)".
pub fn fmt_estimate(e: &Estimate, f: fn(f64) -> String) -> String {
    with_interval(e, f, f(e.center()))
}

/// As [`fmt_estimate`], with the rate's unit right after the value:
/// "2,167 msg/s (1 trial, indicative)".
pub fn fmt_estimate_in(e: &Estimate, f: fn(f64) -> String, unit: RateUnit) -> String {
    with_interval(e, f, format!("{} {unit}", f(e.center())))
}

/// `value` (the estimate's headline, formatted) followed by its interval.
fn with_interval(e: &Estimate, f: fn(f64) -> String, value: String) -> String {
    match e.interval {
        Interval::Single => format!("{value} (1 trial, indicative)"),
        Interval::Range => format!(
            "{value} (range {}–{} of {})",
            f(e.ci_low),
            f(e.ci_high),
            e.n
        ),
        Interval::TInterval95 => format!(
            "{value} (95% CI {}–{}, n {})",
            f(e.ci_low),
            f(e.ci_high),
            e.n
        ),
    }
}

/// Requests per second: whole numbers with thousands separators from 100 up.
pub fn fmt_rate(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if x.abs() < 100.0 {
        return format!("{x:.1}");
    }
    let grouped = group_thousands(&format!("{:.0}", x.abs()));
    if x < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// A count with thousands separators.
pub fn fmt_count(n: u64) -> String {
    group_thousands(&n.to_string())
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Milliseconds with three significant figures or so.
pub fn fmt_ms(x: f64) -> String {
    if !x.is_finite() {
        "-".into()
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

pub fn fmt_bytes(b: f64) -> String {
    const KIB: f64 = 1024.0;
    if b >= KIB * KIB * KIB {
        format!("{:.1} GiB", b / (KIB * KIB * KIB))
    } else if b >= KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{b:.0} B")
    }
}

/// The width of each column, in characters, over the rows given (header included).
pub fn column_widths<S: AsRef<str>>(rows: &[&[S]]) -> Vec<usize> {
    let mut widths = Vec::new();
    for row in rows {
        widths.resize(widths.len().max(row.len()), 0);
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.as_ref().chars().count());
        }
    }
    widths
}

/// `text` filled with spaces to `width` characters: on the left when `right`.
pub fn pad(text: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(text.chars().count()));
    if right {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

/// A plain left-aligned text table with a rule under its header (the
/// commands' tables: setup, verify, cache).
pub fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    plain_lines(&headers, rows, |_| false, true).join("\n")
}

/// A plain-text table, one string per line: columns two spaces apart, those
/// where `right(i)` right-aligned, a rule of dashes under the header when
/// `rule`, no trailing spaces.
pub fn plain_lines<S: AsRef<str>>(
    head: &[S],
    body: &[Vec<S>],
    right: impl Fn(usize) -> bool,
    rule: bool,
) -> Vec<String> {
    let rows: Vec<&[S]> = std::iter::once(head)
        .chain(body.iter().map(Vec::as_slice))
        .collect();
    let widths = column_widths(&rows);
    let line = |cells: &mut dyn Iterator<Item = String>| {
        cells.collect::<Vec<_>>().join("  ").trim_end().to_string()
    };
    let row_line = |row: &[S]| {
        line(
            &mut row
                .iter()
                .enumerate()
                .map(|(i, c)| pad(c.as_ref(), widths[i], right(i))),
        )
    };
    let mut out = vec![row_line(head)];
    if rule {
        out.push(line(&mut widths.iter().map(|w| "-".repeat(*w))));
    }
    out.extend(body.iter().map(|r| row_line(r)));
    out
}

/// A table's lines (from [`plain_lines`] or [`markdown_lines`]) written to
/// `out`, one a line.
pub fn write_lines(
    out: &mut impl Write,
    lines: impl IntoIterator<Item = String>,
) -> io::Result<()> {
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Text safe inside a Markdown table cell: one line, no pipes, no emphasis,
/// no raw HTML (a contender's name comes from a user's manifest).
pub fn md_cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
        .replace('*', "\\*")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Markdown table, one string per line: `head` and `body` are Markdown
/// already (escaped with [`md_cell`], and emphasised where the caller wants),
/// and the columns where `right(i)` are right-aligned.
pub fn markdown_lines(
    head: &[String],
    body: &[Vec<String>],
    right: impl Fn(usize) -> bool,
) -> Vec<String> {
    let row = |cells: &[String]| format!("| {} |", cells.join(" | "));
    let rule: Vec<&str> = (0..head.len())
        .map(|i| if right(i) { "---:" } else { "---" })
        .collect();
    let mut out = vec![row(head), format!("|{}|", rule.join("|"))];
    out.extend(body.iter().map(|r| row(r)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_tables_escape_what_a_manifest_could_carry() {
        let head = vec![md_cell("name"), md_cell("n")];
        let body = vec![vec![md_cell("a|b <i>*x*\nc"), "**7**".to_string()]];
        assert_eq!(
            markdown_lines(&head, &body, |i| i == 1),
            [
                "| name | n |",
                "|---|---:|",
                "| a\\|b &lt;i&gt;\\*x\\* c | **7** |",
            ]
        );
    }

    #[test]
    fn text_table_aligns_columns() {
        let t = text_table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "a    bb\n---  --\nxxx  y");
    }

    #[test]
    fn plain_tables_align_their_columns() {
        let head = ["name", "n"];
        let body = vec![vec!["pypy", "12345"], vec!["node-http", "7"]];
        assert_eq!(
            plain_lines(&head, &body, |i| i == 1, true),
            [
                "name           n",
                "---------  -----",
                "pypy       12345",
                "node-http      7"
            ]
        );
        // Characters, not bytes; the last column leaves no trailing spaces.
        assert_eq!(
            plain_lines(&["é", "x"], &[vec!["ab", ""]], |_| false, false),
            ["é   x", "ab"]
        );
        assert_eq!(pad("7", 3, true), "  7");
        assert_eq!(column_widths(&[&["abc", "d"][..], &["e"][..]]), [3, 1]);
    }

    #[test]
    fn the_scaling_table_lists_each_swept_pair_from_its_baseline() {
        let mut run = crate::report::fixtures::sample_run();
        let t = scaling_table(&run).expect("the fixture sweeps workers");
        let swept = run.cells.iter().filter(|c| c.workers > 1).count();
        assert_eq!(t.rows.len(), 2 * swept);
        assert_eq!(t.rows[0][2].text, "1");
        assert_eq!(t.rows[0][4].text, "baseline");
        assert_eq!(t.rows[1][2].text, "2");
        assert!(t.rows[1][4].text.ends_with('%'), "{:?}", t.rows[1]);
        let two = run.cells.iter_mut().find(|c| c.workers > 1).unwrap();
        two.flags.push(Flag::Contended);
        let (name, workload) = (two.contender.clone(), two.workload.clone());
        let t = scaling_table(&run).unwrap();
        let row = t
            .rows
            .iter()
            .find(|r| r[0].text == name && r[1].text == workload.name() && r[2].text == "2")
            .unwrap();
        assert_eq!(row[5].style, Style::Warn);
        run.cells.retain(|c| c.workers == 1);
        assert!(scaling_table(&run).is_none());
    }

    /// A failing cell shows `-`, never a capacity of 0; the text and
    /// Markdown reports give the flag's meaning and the cell's note.
    #[test]
    fn a_failing_cell_is_flagged_and_explained_not_shown_as_zero() {
        use crate::model::{Trial, TrialOutcome};
        let mut run = crate::report::fixtures::sample_run();
        let cell = &mut run.cells[0];
        let note = "1 of 1 trials failing (answered mostly with errors even at the lowest rate), left out of the estimate and of verdicts; trial 1: answered 100% of its requests with errors even at 1.0 req/s";
        cell.capacity = None;
        cell.trials = vec![Trial {
            index: 0,
            capacity_rps: None,
            outcome: TrialOutcome::Failing,
            note: None,
            steps: Vec::new(),
        }];
        cell.flags = vec![Flag::Failing];
        cell.notes = vec![note.into()];
        assert_eq!(summary::lower_bound(cell), None);
        let notes = explained_notes(&run);
        assert!(notes.iter().any(|n| n.ends_with(note)), "{notes:?}");
        let mut text = Vec::new();
        crate::report::render_text(&run, false, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains(&format!("failing: {}", flag_meaning(&Flag::Failing))),
            "{text}"
        );
        assert!(text.contains(note), "{text}");
        let mut md = Vec::new();
        crate::report::render_markdown(&run, &mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(
            md.contains("- `failing`: the server answered mostly with errors"),
            "{md}"
        );
    }

    /// `drift` on one searched cell of many singles that cell out; on most
    /// of them its legend says the machine moved through the run, in every
    /// format.
    #[test]
    fn drift_on_most_cells_is_said_of_the_run() {
        let mut run = crate::report::fixtures::sample_run();
        let searched: Vec<usize> = (0..run.cells.len())
            .filter(|&i| !run.cells[i].trials.is_empty())
            .collect();
        assert!(searched.len() >= 3, "the sample run has searched cells");
        for c in &mut run.cells {
            c.flags.retain(|f| *f != Flag::Drift);
        }
        let drift = |run: &Run| {
            legends(run)
                .into_iter()
                .find(|(f, _)| *f == Flag::Drift)
                .map(|(_, legend)| legend)
        };
        assert_eq!(drift(&run), None);
        run.cells[searched[0]].flags.push(Flag::Drift);
        assert_eq!(drift(&run).as_deref(), Some(flag_meaning(&Flag::Drift)));
        let most = searched.len() / 2 + 1;
        for &i in &searched[1..most] {
            run.cells[i].flags.push(Flag::Drift);
        }
        let said = format!(
            "Here {most} of the {} searched cells carry it: the probes read the machine slower around most of the run",
            searched.len()
        );
        let legend = drift(&run).unwrap();
        assert!(legend.starts_with(flag_meaning(&Flag::Drift)), "{legend}");
        assert!(legend.contains(&said), "{legend}");
        let mut text = Vec::new();
        crate::report::render_text(&run, false, &mut text).unwrap();
        let mut md = Vec::new();
        crate::report::render_markdown(&run, &mut md).unwrap();
        let mut html = Vec::new();
        crate::report::render_html(&run, &crate::report::HtmlExtras::default(), &mut html).unwrap();
        for out in [text, md, html] {
            let out = String::from_utf8(out).unwrap();
            assert!(out.contains(&said), "{out}");
        }
    }

    /// CPU not measured is `-`, never 0.00; a store without the field reads
    /// as not measured, one with it as it was.
    #[test]
    fn cpu_or_memory_not_measured_is_a_dash() {
        let mut run = crate::report::fixtures::sample_run();
        let cell = run
            .cells
            .iter_mut()
            .find(|c| c.equal_load.is_some())
            .unwrap();
        let (name, workload) = (cell.contender.clone(), cell.workload.clone());
        let eq = cell.equal_load.as_mut().unwrap();
        eq.cpu_ms_per_request = None;
        eq.marginal_cpu_ms_per_request = None;
        eq.rss_peak_bytes = None;
        let mut json = serde_json::to_value(&*eq).unwrap();
        let s = summary::summarize(&run);
        let s = s.iter().find(|s| s.workload == &workload).unwrap();
        let t = workload_table(s);
        let col = t.headers.iter().position(|h| h == "CPU ms/req").unwrap();
        let row = t
            .rows
            .iter()
            .find(|r| r[0].text.starts_with(&name))
            .unwrap();
        assert_eq!(row[col].text, "-");
        assert_eq!(row[col + 1].text, "-");
        let mem = t.headers.iter().position(|h| h == "RSS peak").unwrap();
        assert_eq!(row[mem].text, "-", "not 0 B: the leanest-looking");

        json.as_object_mut().unwrap().remove("cpu_ms_per_request");
        let old: crate::model::EqualLoad = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(old.cpu_ms_per_request, None);
        json["cpu_ms_per_request"] = serde_json::json!(0.25);
        let old: crate::model::EqualLoad = serde_json::from_value(json).unwrap();
        assert_eq!(old.cpu_ms_per_request, Some(0.25));
    }

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(fmt_rate(1234567.4), "1,234,567");
        assert_eq!(fmt_rate(999.0), "999");
        assert_eq!(fmt_rate(12.34), "12.3");
        assert_eq!(fmt_rate(-4321.0), "-4,321");
        assert_eq!(fmt_ms(0.1234), "0.12");
        assert_eq!(fmt_ms(12.34), "12.3");
        assert_eq!(fmt_ms(1234.5), "1234");
        assert_eq!(fmt_bytes(512.0), "512 B");
        assert_eq!(fmt_bytes(30_000.0), "29.3 KiB");
        assert_eq!(fmt_bytes((48u64 << 20) as f64), "48.0 MiB");
        assert_eq!(fmt_rate(f64::NAN), "-");
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
    }

    /// The legends state each bar as the check applies it: the probes' for
    /// `drift`, the CV for `noisy`, the default steal limit for
    /// `steal-tolerated`.
    #[test]
    fn the_legends_state_the_bars_the_checks_apply() {
        use crate::model::ProbeSite;
        use crate::suite::{live, stats};
        let meaning = flag_meaning(&Flag::Drift);
        for site in ProbeSite::ALL.into_iter().filter(|s| s.drift_checked()) {
            let bar = site.probe().drift() * 100.0;
            let said = format!("{} more than {bar:.0}%", site.what());
            assert!(meaning.contains(&said), "{said:?} not in {meaning:?}");
        }
        let said = format!("more than {:.0}%", stats::NOISY_CV * 100.0);
        let meaning = flag_meaning(&Flag::Noisy);
        assert!(meaning.contains(&said), "{said:?} not in {meaning:?}");
        let said = format!(
            "({:.0}% of the machine, {:.0}% of one CPU)",
            live::STALLED_STEAL * 100.0,
            live::STALLED_CPU_STEAL * 100.0
        );
        let meaning = flag_meaning(&Flag::StealTolerated);
        assert!(meaning.contains(&said), "{said:?} not in {meaning:?}");
    }
}
