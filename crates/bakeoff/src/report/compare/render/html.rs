//! `bakeoff compare --format html`: the comparison as one self-contained page,
//! opened as the run report's is (`report::html::open_page`), with the same
//! table, lists and gate as the text and Markdown pages. Every string from
//! the runs is escaped.

use std::fmt::Write as _;

use super::{describe, gate, lists, numeric_column, rows, Gate, CAVEATS, LEGEND, NO_COMMON_CELL};
use super::{gate_failed, gate_passed, Comparison, NO_GATE};
use crate::report::html::{esc, open_page};

/// The whole page.
pub(super) fn page(c: &Comparison) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let title = format!("bakeoff compare: run {} → run {}", c.a.id, c.b.id);
    let subtitle = format!("A = {}; B = {}", describe(&c.a), describe(&c.b));
    open_page(&mut h, &title, &subtitle);
    h.push('\n');
    list(&mut h, CAVEATS, &c.caveats, false);
    let (head, body) = rows(c);
    if body.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(NO_COMMON_CELL));
    } else {
        table(&mut h, &head, &body);
    }
    for (title, lines) in lists(c) {
        list(&mut h, &title, &lines, false);
    }
    let _ = writeln!(h, "<p class=\"muted\">{}</p>", esc(LEGEND));
    match gate(c) {
        Gate::Unset => {
            let _ = writeln!(h, "<p>{}</p>", esc(NO_GATE));
        }
        Gate::Passed(t) => {
            let _ = writeln!(h, "<p>{}</p>", esc(&gate_passed(t)));
        }
        Gate::Failed(t, failing) => list(&mut h, &gate_failed(t), &failing, true),
    }
    h.push_str("</body></html>\n");
    h
}

/// The cells' table: numbers right-aligned, a regressed cell's gate in the
/// colour the run report gives a failure.
fn table(h: &mut String, head: &[String], body: &[Vec<String>]) {
    h.push_str("<table><thead><tr>");
    for (i, title) in head.iter().enumerate() {
        let class = if numeric_column(i) {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(h, "<th{class}>{}</th>", esc(title));
    }
    h.push_str("</tr></thead><tbody>\n");
    for row in body {
        h.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if numeric_column(i) {
                " class=\"num\""
            } else if cell == "REGRESSED" {
                " class=\"state-failed\""
            } else {
                ""
            };
            let _ = write!(h, "<td{class}>{}</td>", esc(cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
}

/// A titled list, left out when empty; a `failed` one's heading in the
/// colour of a failure.
fn list(h: &mut String, title: &str, lines: &[String], failed: bool) {
    if lines.is_empty() {
        return;
    }
    let class = if failed {
        " class=\"state-failed\""
    } else {
        ""
    };
    let _ = writeln!(h, "<h2{class}>{}</h2><ul>", esc(title));
    for line in lines {
        let _ = writeln!(h, "<li>{}</li>", esc(line));
    }
    h.push_str("</ul>\n");
}
