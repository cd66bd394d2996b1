//! The HTML report: one self-contained page (inline CSS and SVG, no script, no
//! network fetch) with the headline, charts, tables, failures, disclosures,
//! environment, flags and methodology. Every string from the run is escaped.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::model::{ContenderInfo, Flag, Language, Run};
use crate::workload::Workload;

use super::summary::{self, Kind, RATIO_METHOD};
use super::table::{self, fmt_bytes, fmt_count, fmt_estimate_in, fmt_ms, fmt_rate, Style, Table};

pub mod charts;
pub mod svg;

/// Optional sections rendered elsewhere (the claims check, the advice), as
/// trusted HTML fragments: their producers escape their own text. An absent
/// fragment omits its section.
#[derive(Debug, Clone, Default)]
pub struct HtmlExtras {
    pub claims_html: Option<String>,
    pub advice_html: Option<String>,
    /// Absolute path of `docs/fairness.md` ([`super::fairness_doc`]), linked as a
    /// `file://` URL; without it the page names the file in the repository.
    pub fairness_doc: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write the HTML report {}: {source}", path.display())]
pub struct ReportWriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn has_notes(c: &ContenderInfo) -> bool {
    !c.disclosures.is_empty() || !c.unsupported.is_empty()
}

/// Contenders listed with their disclosures in the contenders section.
fn disclosed(run: &Run) -> Vec<&str> {
    run.contenders
        .iter()
        .filter(|c| has_notes(c))
        .map(|c| c.name.as_str())
        .collect()
}

/// The id of a contender's disclosure list (names are `[a-z0-9-@]`; escaped anyway).
fn anchor(name: &str) -> String {
    format!("disclosures-{}", esc(name))
}

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Write `<results_dir>/run-<id>/report.html` and return its path.
pub fn write_html_report(run: &Run, results_dir: &Path) -> Result<PathBuf, ReportWriteError> {
    write_html_report_with(run, &HtmlExtras::default(), results_dir)
}

/// [`write_html_report`] with the optional sections.
pub fn write_html_report_with(
    run: &Run,
    extras: &HtmlExtras,
    results_dir: &Path,
) -> Result<PathBuf, ReportWriteError> {
    let dir = results_dir.join(format!("run-{}", run.id));
    let path = dir.join("report.html");
    let err = |source| ReportWriteError {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let mut page = Vec::new();
    render_html(run, extras, &mut page).map_err(err)?;
    // Write then rename, so a reader never sees half a page.
    let tmp = dir.join("report.html.tmp");
    std::fs::write(&tmp, &page).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(path)
}

const CSS: &str = r#"
:root{--fg:#1b1b1b;--muted:#5a5a5a;--line:#d6d6d6;--bg:#fff;--warn:#8a5a00;--bad:#a01818}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1120px;padding:24px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:26px;margin:0 0 4px}h2{font-size:21px;margin:36px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}h3{font-size:16px;margin:22px 0 8px}
p.sub,.muted{color:var(--muted)}
nav{margin:14px 0;font-size:14px}nav a{margin-right:12px;color:#0b3d91}
table{border-collapse:collapse;margin:8px 0 14px;font-size:14px}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.best{font-weight:700}td.best::after{content:" \2605"}td.warn{color:var(--warn)}
.state-failed{color:var(--bad);font-weight:700}
td.supported{border-left:4px solid #1f6f3f}td.not-supported{border-left:4px dashed var(--bad)}td.inconclusive{border-left:4px dotted var(--muted)}.state-skipped{color:var(--warn);font-weight:700}
.headline{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:250px;flex:1}
.card .ratio{font-size:24px;font-weight:700}.card .who{font-size:13px;color:var(--muted)}
.charts{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-start}
svg.chart{max-width:100%;height:auto;background:#fff}
svg text{font-family:inherit;font-size:12px;fill:#1b1b1b}
svg .title{font-size:13px;font-weight:700}svg .tick{font-size:11px;fill:#444}svg .group{font-weight:700;fill:#444}
svg .axis{stroke:#444;stroke-width:1}svg .grid{stroke:#e3e3e3;stroke-width:1}
svg .axis-label{font-size:12px;fill:#333}
details{margin:6px 0;border:1px solid var(--line);border-radius:6px;padding:4px 10px}summary{cursor:pointer;font-weight:600}
code{background:#f3f3f3;padding:0 3px;border-radius:3px}
.legend-key{display:inline-block;width:14px;height:14px;vertical-align:-2px;margin-right:4px;border:1px solid #333}
"#;

/// Render the whole page.
pub fn render_html<W: Write>(run: &Run, extras: &HtmlExtras, w: &mut W) -> io::Result<()> {
    let mut h = String::with_capacity(256 * 1024);
    page(run, extras, &mut h);
    w.write_all(h.as_bytes())
}

/// The start of a page, to its heading and the line under it (both escaped):
/// inline CSS, and a policy that lets the page fetch nothing. `bakeoff
/// compare`'s page opens the same way.
pub(crate) fn open_page(h: &mut String, title: &str, subtitle: &str) {
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title><style>{CSS}</style></head><body>\
         <h1>{t}</h1><p class=\"sub\">{s}</p>",
        t = esc(title),
        s = esc(subtitle)
    );
}

fn page(run: &Run, extras: &HtmlExtras, h: &mut String) {
    let summaries = summary::summarize(run);
    let looks = charts::looks(run);
    let title = super::title(run);
    let disclosed = disclosed(run);
    open_page(h, &title, &super::subtitle(run));
    let mut nav = vec![
        ("headline", "Headline"),
        ("capacity", "Capacity"),
        ("latency", "Latency"),
        ("cost", "Cost"),
        ("scalability", "Scalability"),
        ("runtimes", "Runtime versions"),
        ("cells", "Cells"),
        ("problems", "Failed and skipped"),
        ("contenders", "Contenders"),
        ("environment", "Environment"),
        ("flags", "Flags"),
        ("methodology", "Methodology"),
    ];
    if extras.claims_html.is_some() {
        nav.push(("claims", "Claims"));
    }
    if extras.advice_html.is_some() {
        nav.push(("advice", "Advice"));
    }
    h.push_str("<nav>");
    for (id, label) in &nav {
        let _ = write!(h, "<a href=\"#{id}\">{label}</a>");
    }
    h.push_str("</nav>");

    headline(&summaries, h);
    section(h, "capacity", "Capacity at the SLO");
    let _ = write!(
        h,
        "<p>The highest rate each contender sustained with p99 at or under {} ms. Bars are the median of the trials below five trials and their mean from five up; whiskers are the trials' range below five (no coverage claimed) and the 95% t-interval from five. \
         {} Node.js is drawn solid in warm tones, Python hatched in blue.</p>",
        fmt_ms(run.settings.slo_p99_ms),
        legend_keys()
    );
    for s in &summaries {
        let _ = write!(h, "<h3>{}</h3>", esc(&s.label));
        if let Some(svg) = charts::capacity(run, s, &looks) {
            h.push_str(&svg);
        }
        table_html(&table::workload_table(s), &disclosed, h);
    }

    section(h, "latency", "Latency percentile spectrum at equal load");
    h.push_str("<p>Every contender of a workload driven at the same rate. <b>Corrected</b> latency counts from when each request should have been sent, so queueing behind a stalled server is included; <b>service time</b> counts from when it was actually sent. Both axes are logarithmic.</p>");
    for s in summaries.iter().filter(|s| s.kind == Kind::Http) {
        let pair: Vec<String> = [false, true]
            .iter()
            .filter_map(|&svc| charts::spectrum(s, &looks, svc))
            .collect();
        if !pair.is_empty() {
            let _ = write!(
                h,
                "<h3>{}</h3><div class=\"charts\">{}</div>",
                esc(&s.label),
                pair.join("")
            );
        }
        percentile_table(s, h);
    }

    section(h, "cost", "Cost");
    h.push_str("<p>CPU time per request and peak resident memory at equal load, and the memory each WebSocket connection adds.</p><div class=\"charts\">");
    for svg in charts::costs(run, &looks) {
        h.push_str(&svg);
    }
    h.push_str("</div>");

    section(h, "scalability", "Scalability");
    let mut any = false;
    for s in &summaries {
        let chart = match s.kind {
            Kind::Ws => charts::fanout(s, &looks),
            _ => charts::scaling(run, s, &looks),
        };
        if let Some(svg) = chart {
            any = true;
            h.push_str(&svg);
        }
    }
    scaling_table(run, h);
    for s in summaries.iter().filter(|s| s.kind == Kind::Ws) {
        fanout_table(s, h);
    }
    if !any {
        h.push_str("<p class=\"muted\">No worker sweep or fan-out was measured in this run.</p>");
    }

    runtime_versions(run, &disclosed, h);
    cells(run, &looks, h);
    problems(&summaries, h);
    contenders(run, extras, h);
    environment(run, h);
    flags(run, h);
    section(h, "methodology", "Methodology");
    let _ = write!(
        h,
        "<p>{}</p><p>{}</p><p>The full method is in <code>docs/methodology.md</code> in the bakeoff repository.</p>",
        esc(&super::methodology(run)),
        esc(RATIO_METHOD)
    );
    if let Some(claims) = &extras.claims_html {
        section(h, "claims", "The blog's claims, checked");
        h.push_str(claims);
    }
    if let Some(advice) = &extras.advice_html {
        section(h, "advice", "Advice");
        h.push_str(advice);
    }
    h.push_str("</body></html>\n");
}

/// Each contender across the runtime versions measured, drawn per workload, and
/// the runtimes past their end of life.
fn runtime_versions(run: &Run, disclosed: &[&str], h: &mut String) {
    use super::runtimes;
    let rv = runtimes::runtime_versions(run);
    section(h, "runtimes", "Runtime versions");
    for n in rv.end_of_life.iter().filter(|n| n.past) {
        let _ = write!(h, "<p><b>{}</b></p>", esc(&n.sentence()));
    }
    match runtimes::table(&rv) {
        None => h.push_str(
            "<p class=\"muted\">Every contender ran on one runtime version (measure others with --python or --node).</p>",
        ),
        Some(t) => {
            let _ = write!(
                h,
                "<p>{} Whiskers: the range below 5 trials, the 95% t-interval from 5.</p>",
                esc(runtimes::INTRO)
            );
            let mut workloads: Vec<&Workload> = rv.groups.iter().map(|g| &g.workload).collect();
            workloads.dedup();
            for w in workloads {
                if let Some(svg) = charts::runtime_versions(&rv, w) {
                    h.push_str(&svg);
                }
            }
            table_html(&t, disclosed, h);
        }
    }
    let _ = write!(h, "<p class=\"muted\">{}</p>", esc(runtimes::EOL_SOURCE));
}

fn section(h: &mut String, id: &str, title: &str) {
    let _ = write!(h, "<h2 id=\"{id}\">{}</h2>", esc(title));
}

fn legend_keys() -> String {
    let node = svg::Look::new(&Language::Node, 0);
    let py = svg::Look::new(&Language::Python, 0);
    format!(
        "<span class=\"legend-key\" style=\"background:{}\"></span>Node.js <span class=\"legend-key\" style=\"background:repeating-linear-gradient(45deg,{} 0 3px,#fff 3px 5px)\"></span>Python.",
        node.color, py.color
    )
}

fn headline(summaries: &[summary::WorkloadSummary<'_>], h: &mut String) {
    section(h, "headline", "Best Node.js vs best Python");
    let heads = summary::headlines(summaries);
    if heads.is_empty() {
        h.push_str(
            "<p class=\"muted\">No workload has a measured contender of both languages.</p>",
        );
        return;
    }
    h.push_str("<div class=\"headline\">");
    for hd in &heads {
        let unit = hd.kind.metric().1;
        let f = if hd.kind.higher_is_better() {
            fmt_rate
        } else {
            fmt_ms
        };
        let _ = write!(
            h,
            "<div class=\"card\"><div><b>{w}</b> <span class=\"muted\">{m}</span></div><div class=\"ratio\">{r:.2}&times; <span class=\"muted\" style=\"font-size:15px\">{interval}</span></div>\
             <div>{sent}</div><div class=\"who\">Node/Python: {n} {nv} {unit} vs {p} {pv} {unit}</div></div>",
            w = esc(&hd.label),
            m = esc(hd.kind.metric().0),
            r = hd.ratio.value,
            interval = esc(&match hd.ratio.kind {
                // The sentence below says "indicative: single trial": once per card.
                crate::verdict::RatioKind::Point => String::new(),
                k => format!("{} {:.2}–{:.2}", k.label(), hd.ratio.low, hd.ratio.high),
            }),
            sent = esc(&hd.sentence()),
            n = esc(&hd.node.contender),
            nv = f(hd.node_est.center()),
            p = esc(&hd.python.contender),
            pv = f(hd.python_est.center()),
        );
    }
    let _ = write!(h, "</div><p class=\"muted\">{}</p>", esc(RATIO_METHOD));
}

/// `disclosed`: contenders with a disclosure list, whose names in a table's
/// `contender` column link to it, so the caveats sit one click from the numbers.
fn table_html(t: &Table, disclosed: &[&str], h: &mut String) {
    let linked = t.headers.first().is_some_and(|c| c == "contender");
    h.push_str("<table><tr>");
    for head in &t.headers {
        let _ = write!(h, "<th>{}</th>", esc(head));
    }
    h.push_str("</tr>");
    for row in &t.rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let mut class = Vec::new();
            if t.numeric[i] {
                class.push("num");
            }
            match c.style {
                Style::Best => class.push("best"),
                Style::Warn => class.push("warn"),
                Style::Plain => {}
            }
            // The star comes from CSS for the best row; drop the text mark.
            let text = c.text.trim_end_matches(table::BEST_MARK).trim_end();
            let text = if c.style == Style::Best {
                text
            } else {
                c.text.as_str()
            };
            let cell = match disclosed.iter().find(|n| **n == text) {
                Some(name) if i == 0 && linked => format!(
                    "<a href=\"#{}\" title=\"its disclosures\">{}</a>",
                    anchor(name),
                    esc(name)
                ),
                _ => esc(text),
            };
            let _ = write!(h, "<td class=\"{}\">{cell}</td>", class.join(" "));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

fn scaling_table(run: &Run, h: &mut String) {
    if let Some(t) = table::scaling_table(run) {
        table_html(&t, &disclosed(run), h);
        let _ = write!(h, "<p class=\"muted\">{}</p>", esc(table::SCALING_NOTE));
    }
}

fn cells(run: &Run, looks: &std::collections::BTreeMap<String, svg::Look>, h: &mut String) {
    section(h, "cells", "Capacity search and timeline per cell");
    h.push_str("<p>Each trial's search, step by step (o met the SLO, x missed it, diamond not judged: the machine stalled or the generator fell behind): a ramp until the SLO broke, bisection, then longer confirmation windows at the candidate. Below it, throughput and p99 second by second during the equal-load window.</p>");
    let mut first = true;
    for c in run.cells.iter().filter(|c| c.status.is_ok()) {
        let mut svgs: Vec<String> = charts::search(c).into_iter().collect();
        svgs.extend(charts::timeline(c, looks));
        if svgs.is_empty() {
            continue;
        }
        let cap = c.capacity.map_or(String::new(), |e| {
            let unit = c.workload.rate_unit();
            format!(": capacity {}", fmt_estimate_in(&e, fmt_rate, unit))
        });
        let _ = write!(
            h,
            "<details{}><summary>{} &middot; {} &middot; {} worker{}{}</summary><div class=\"charts\">{}</div></details>",
            if first { " open" } else { "" },
            esc(&c.contender),
            esc(&super::cell_workload(run, c)),
            c.workers,
            if c.workers == 1 { "" } else { "s" },
            esc(&cap),
            svgs.join("")
        );
        first = false;
    }
}

fn problems(summaries: &[summary::WorkloadSummary<'_>], h: &mut String) {
    section(h, "problems", "Failed and skipped cells");
    let all: Vec<(&str, &crate::model::Cell)> = summaries
        .iter()
        .flat_map(|s| s.problems.iter().map(|&c| (s.label.as_str(), c)))
        .collect();
    if all.is_empty() {
        h.push_str("<p>Every cell was measured.</p>");
        return;
    }
    h.push_str("<table><tr><th>contender</th><th>workload</th><th>workers</th><th>state</th><th>reason</th></tr>");
    for (label, c) in all {
        let (state, reason) = summary::problem(c);
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"state-{state}\">{state}</td><td>{}</td></tr>",
            esc(&c.contender),
            esc(label),
            c.workers,
            esc(reason)
        );
    }
    h.push_str("</table>");
}

fn contenders(run: &Run, extras: &HtmlExtras, h: &mut String) {
    section(
        h,
        "contenders",
        "Contenders, disclosures and unsupported endpoints",
    );
    h.push_str("<table><tr><th>contender</th><th>language</th><th>runtime</th><th>framework</th><th>server</th><th>deps (direct / total)</th><th>install size</th><th>install time</th><th>app lines</th></tr>");
    for c in &run.contenders {
        let name = match &c.variant {
            Some(v) => format!(
                "{}<br><span class=\"muted\">variant of {}: {}</span>",
                esc(&c.name),
                esc(&v.of),
                esc(&v.description)
            ),
            None => esc(&c.name),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{} {}</td><td>{}</td><td class=\"num\">{} / {}</td><td class=\"num\">{}</td><td class=\"num\">{:.1} s</td><td class=\"num\">{}</td></tr>",
            name,
            esc(c.language.name()),
            esc(&c.runtime),
            esc(&c.runtime_version),
            esc(&c.framework),
            esc(&c.framework_version),
            esc(&c.server),
            c.deps_direct,
            c.deps_total,
            fmt_bytes(c.install_bytes as f64),
            c.install_secs,
            c.app_loc
        );
    }
    h.push_str("</table>");
    let fairness = match &extras.fairness_doc {
        Some(path) => format!(
            "<a href=\"file://{}\">{}</a>",
            esc(&path.display().to_string()),
            super::FAIRNESS_DOC
        ),
        None => format!(
            "<code>{}</code> in the bakeoff repository",
            super::FAIRNESS_DOC
        ),
    };
    let _ = write!(
        h,
        "<p>How each contender is configured (server and workers, keep-alive, database, logging, the io client), with a reference for each choice: {fairness}. A variant (<code>contender@variant</code>) is the same app started with another configuration; its disclosures follow its base's. A contender's name in the tables above links to its disclosures below.</p>"
    );
    for c in run.contenders.iter().filter(|c| has_notes(c)) {
        let _ = write!(
            h,
            "<h3 id=\"{}\">{}</h3><ul>",
            anchor(&c.name),
            esc(&c.label())
        );
        for d in &c.disclosures {
            let _ = write!(h, "<li>{}</li>", esc(d));
        }
        for (endpoint, reason) in &c.unsupported {
            let _ = write!(
                h,
                "<li>does not serve <code>{}</code>: {}</li>",
                esc(endpoint.as_str()),
                esc(reason)
            );
        }
        h.push_str("</ul>");
    }
}

fn environment(run: &Run, h: &mut String) {
    section(h, "environment", "Environment");
    h.push_str("<table>");
    for (k, v) in super::environment_rows(run) {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
    }
    let s = &run.settings;
    let workers: Vec<String> = s.workers.iter().map(u32::to_string).collect();
    let _ = write!(
        h,
        "<tr><th>profile</th><td>{}</td></tr><tr><th>SLO</th><td>p99 &le; {} ms</td></tr><tr><th>trials</th><td>{}</td></tr><tr><th>duration scale</th><td>{}</td></tr><tr><th>workers</th><td>{}</td></tr></table>",
        esc(s.profile.as_str()),
        fmt_ms(s.slo_p99_ms),
        s.trials,
        s.duration_scale,
        esc(&workers.join(", "))
    );
}

fn flags(run: &Run, h: &mut String) {
    section(h, "flags", "Noise and sanity flags");
    let flagged: Vec<&crate::model::Cell> = run
        .cells
        .iter()
        .filter(|c| !table::flags(c).is_empty() || !c.notes.is_empty())
        .collect();
    if flagged.is_empty() {
        h.push_str("<p>No cell was flagged.</p>");
        return;
    }
    h.push_str("<ul>");
    for (f, legend) in table::legends(run) {
        let _ = write!(
            h,
            "<li><code>{}</code>: {}</li>",
            esc(f.name()),
            esc(&legend)
        );
    }
    h.push_str("</ul><table><tr><th>contender</th><th>workload</th><th>workers</th><th>flags</th><th>notes</th></tr>");
    for c in flagged {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"warn\">{}</td><td>{}</td></tr>",
            esc(&c.contender),
            esc(&super::cell_workload(run, c)),
            c.workers,
            esc(&Flag::list(&table::flags(c), ", ")),
            esc(&c.notes.join("; "))
        );
    }
    h.push_str("</table>");
}

/// Corrected and service percentiles per contender, plus the light requests of a mix.
fn percentile_table(s: &summary::WorkloadSummary<'_>, h: &mut String) {
    let rows: Vec<_> = s
        .rows
        .iter()
        .filter_map(|r| Some((r.cell, r.cell.equal_load.as_ref()?)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let has_light = rows.iter().any(|(_, el)| el.light.is_some());
    h.push_str("<table><tr><th>contender</th><th>kind</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th><th>errors</th></tr>");
    for (cell, el) in rows {
        let mut kinds = vec![("corrected", el.latency), ("service", el.service)];
        if let Some(light) = el.light {
            kinds.push(("light requests only (corrected)", light));
        }
        for (i, (kind, p)) in kinds.into_iter().enumerate() {
            let name = if i == 0 {
                esc(&cell.contender)
            } else {
                String::new()
            };
            let errors = if i == 0 {
                format!("{} of {}", fmt_count(el.errors), fmt_count(el.requests))
            } else {
                String::new()
            };
            let _ = write!(h, "<tr><td>{name}</td><td>{kind}</td>");
            for v in [p.p50, p.p90, p.p99, p.p999, p.p9999, p.max] {
                let _ = write!(h, "<td class=\"num\">{} ms</td>", fmt_ms(v));
            }
            let _ = write!(h, "<td class=\"num\">{errors}</td></tr>");
        }
    }
    h.push_str("</table>");
    if has_light {
        h.push_str("<p class=\"muted\">Light requests only: the cheap <code>/json</code> requests of the mix, showing how much the heavy ones delay them.</p>");
    }
}

/// Every fan-out point: deliveries, losses, latency and memory.
fn fanout_table(s: &summary::WorkloadSummary<'_>, h: &mut String) {
    if s.rows.iter().all(|r| r.cell.ws.is_empty()) {
        return;
    }
    h.push_str("<table><tr><th>contender</th><th>clients</th><th>messages/s in</th><th>deliveries</th><th>missing</th><th>p50</th><th>p99</th><th>RSS idle</th><th>RSS loaded</th><th>per connection</th></tr>");
    for r in &s.rows {
        for p in &r.cell.ws {
            // The sampler could not read the server's memory: none of it.
            let memory = |b: f64| match p.bytes_per_connection {
                Some(_) => fmt_bytes(b),
                None => "-".to_string(),
            };
            let missing = if p.missing > 0 {
                " class=\"num warn\""
            } else {
                " class=\"num\""
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} of {}</td><td{missing}>{}</td><td class=\"num\">{} ms</td><td class=\"num\">{} ms</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&r.cell.contender),
                p.clients,
                fmt_rate(p.rate),
                fmt_count(p.deliveries),
                fmt_count(p.expected_deliveries),
                p.missing,
                fmt_ms(p.p50_ms),
                fmt_ms(p.p99_ms),
                memory(p.rss_idle_bytes as f64),
                memory(p.rss_loaded_bytes as f64),
                memory(p.bytes_per_connection.unwrap_or(0.0))
            );
        }
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use crate::workload::Workload;

    /// A ws cell's capacity and its search's rates are fan-out messages a
    /// second, and the page says so; an HTTP cell's are requests.
    #[test]
    fn each_cell_says_its_own_rate_unit() {
        let mut run = crate::report::fixtures::sample_run();
        // The sample's fan-outs have no search steps: borrow an HTTP cell's.
        let steps = run.cells.iter().find(|c| c.workload == Workload::Json);
        let trials = steps.map(|c| c.trials.clone()).unwrap_or_default();
        assert!(trials.iter().any(|t| !t.steps.is_empty()));
        let ws = run
            .cells
            .iter_mut()
            .find(|c| c.workload == Workload::Ws && c.capacity.is_some())
            .expect("the sample run has a ws cell with a capacity");
        ws.trials = trials;
        let ws = ws.clone();
        let mut html = Vec::new();
        super::render_html(&run, &super::HtmlExtras::default(), &mut html).unwrap();
        let html = String::from_utf8(html).unwrap();
        let summary = html
            .split("<summary>")
            .find(|s| s.starts_with(&format!("{} &middot; ws", ws.contender)))
            .expect("the ws cell's details");
        assert!(
            summary.contains(": capacity 30,000 msg/s (range "),
            "{summary}"
        );
        assert!(!summary.contains("req/s"), "{summary}");
        assert!(html.contains("target rate (msg/s)"), "the ws search chart");
        assert!(html.contains("target rate (req/s)"), "an HTTP search chart");
    }
}
