//! The "Runtime versions" section: each contender measured on several runtime
//! versions (`--python`, `--node`: `<name>-py313`, `<name>-node22`, grouped back
//! by [`split_name`]) per workload, as a ratio to its oldest version with the
//! interval and test of the headline ([`Ratio`]), Holm-corrected as claims 7
//! and 8 are (their pairs take the claims' own orders); and the runtimes in use that
//! are past their end of life ([`crate::contender::eol`]). Pure functions of a [`Run`].

use serde::Serialize;

use crate::contender::eol;
use crate::contender::runtimes::split_name;
use crate::model::{ContenderInfo, Estimate, Language, Run};
use crate::suite::stats;
use crate::verdict::claims::versions::{version_tests, VersionTest};
use crate::verdict::{holm_orders, Order};
use crate::workload::Workload;

use super::summary::{self, Kind, Ratio};
use super::table::{fmt_estimate, fmt_ms, fmt_rate, Style, Table, TableCell};

/// The section's content (also the `runtime_versions` member of the JSON report).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RuntimeVersions {
    /// One per base contender × workload measured on two or more runtimes.
    pub groups: Vec<VersionGroup>,
    /// Every runtime in the run whose end of life the table lists.
    pub end_of_life: Vec<EolNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VersionGroup {
    /// The base contender, e.g. "python-flask".
    pub contender: String,
    pub language: Language,
    pub workload: Workload,
    /// e.g. "capacity at SLO".
    pub metric: String,
    pub unit: String,
    pub higher_is_better: bool,
    /// Oldest first (CPython and Node.js by version, then PyPy).
    pub versions: Vec<VersionPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VersionPoint {
    /// The contender as measured, e.g. "python-flask-py313".
    pub contender: String,
    /// e.g. "CPython 3.13.1", "Node.js v22.23.5".
    pub runtime: String,
    pub estimate: Option<Estimate>,
    /// Without an estimate, the highest rate a truncated or generator-limited trial
    /// passed ([`summary::lower_bound`]): "at least", never a capacity.
    pub lower_bound: Option<f64>,
    /// This version ÷ the oldest; None for the oldest itself or without both estimates.
    pub ratio_to_oldest: Option<VersionRatio>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VersionRatio {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// What `low..high` is: "range of ratios", "95% interval", "indicative: 1 trial".
    pub interval: String,
    /// "better", "worse" or "no clear difference" than the oldest (the headline's test).
    pub verdict: String,
    /// A single trial on either side: the verdict is indicative only.
    pub indicative: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct EolNote {
    /// The runtime, e.g. "Node.js v20.20.2".
    pub runtime: String,
    /// The contenders that ran on it.
    pub contenders: Vec<String>,
    /// YYYY-MM-DD, or YYYY-MM for CPython.
    pub end_of_life: String,
    /// Past it on the day the run started.
    pub past: bool,
}

/// Where the end-of-life dates come from, for the reports to say so.
pub const EOL_SOURCE: &str = "End-of-life dates: the Node.js release schedule \
(nodejs.org/en/about/previous-releases) and the status of Python versions \
(devguide.python.org/versions).";

/// "Node.js v22.23.5", "CPython 3.13.1", "PyPy (Python 3.9.16)".
pub fn runtime_label(c: &ContenderInfo) -> String {
    let v = c.runtime_version.split_whitespace().next().unwrap_or("?");
    match c.language {
        Language::Node => format!("Node.js {v}"),
        Language::Python if c.runtime.contains("pypy") => format!("PyPy (Python {v})"),
        Language::Python => format!("CPython {v}"),
        Language::Other(_) => format!("{} {v}", c.runtime),
    }
}

/// Oldest first: PyPy after CPython, then by version number.
fn age_key(c: &ContenderInfo) -> (bool, Vec<u32>) {
    let v = c.runtime_version.trim_start_matches('v');
    let v = v.split_whitespace().next().unwrap_or("");
    (
        c.runtime.contains("pypy"),
        v.split('.').map(|p| p.parse().unwrap_or(0)).collect(),
    )
}

pub fn runtime_versions(run: &Run) -> RuntimeVersions {
    // Claims 7 and 8 test each newer CPython or Node.js version's capacity
    // against its oldest, Holm-corrected over their language's pairs: the
    // section takes their orders, so the two cannot disagree on a pair.
    let claimed: Vec<VersionTest> = [Language::Python, Language::Node]
        .iter()
        .flat_map(|l| version_tests(run, l))
        .collect();
    let mut groups: Vec<VersionGroup> = Vec::new();
    // The section's other tested pairs (PyPy, start-up time, other
    // languages): (group, version, Welch's p, whether the newer is larger),
    // Holm-corrected over the section below.
    let mut rest: Vec<(usize, usize, f64, bool)> = Vec::new();
    for s in summary::summarize(run) {
        // A database workload on several databases: the one verdicts rest on.
        if s.database.is_some() && s.database != run.verdict_database(s.workload) {
            continue;
        }
        let mut bases: Vec<String> = Vec::new();
        for r in &s.rows {
            let base = split_name(&r.cell.contender).0;
            if !bases.contains(&base) {
                bases.push(base);
            }
        }
        for base in bases {
            let mut rows: Vec<(&ContenderInfo, &summary::Row<'_>)> = s
                .rows
                .iter()
                .filter(|r| split_name(&r.cell.contender).0 == base)
                .filter_map(|r| Some((run.contender(&r.cell.contender)?, r)))
                .collect();
            if rows.len() < 2 {
                continue;
            }
            rows.sort_by_key(|(c, _)| age_key(c));
            let oldest = rows[0].1.verdict_headline();
            let (metric, unit) = s.kind.metric();
            let mut versions = Vec::new();
            for (i, (c, r)) in rows.iter().enumerate() {
                let ratio_to_oldest = match (i, r.verdict_headline(), oldest) {
                    (1.., Some(e), Some(o)) => {
                        let claim = claimed.iter().find(|t| {
                            t.old.name == rows[0].0.name
                                && t.new.name == c.name
                                && t.workload == s.workload
                        });
                        let order = claim.map(|t| t.order);
                        let ratio = version_ratio(&e, &o, s.kind, order);
                        if let (Some(_), None, Some(p)) = (&ratio, order, stats::welch_p(&e, &o)) {
                            rest.push((groups.len(), i, p, e.mean > o.mean));
                        }
                        ratio
                    }
                    _ => None,
                };
                versions.push(VersionPoint {
                    contender: r.cell.contender.clone(),
                    runtime: runtime_label(c),
                    estimate: r.headline(),
                    lower_bound: summary::lower_bound(r.cell),
                    ratio_to_oldest,
                });
            }
            groups.push(VersionGroup {
                language: rows[0].0.language.clone(),
                contender: base,
                workload: s.workload.clone(),
                metric: metric.to_string(),
                unit: unit.to_string(),
                higher_is_better: s.kind.higher_is_better(),
                versions,
            });
        }
    }
    let family: Vec<(f64, bool)> = rest.iter().map(|&(.., p, larger)| (p, larger)).collect();
    for (&(g, i, ..), order) in rest.iter().zip(holm_orders(&family)) {
        let better = groups[g].higher_is_better;
        if let Some(r) = groups[g].versions[i].ratio_to_oldest.as_mut() {
            r.verdict = verdict_word(order, better).to_string();
        }
    }
    RuntimeVersions {
        groups,
        end_of_life: eol_notes(run),
    }
}

/// "better", "worse" or "no clear difference", for a newer version's order
/// against the oldest.
fn verdict_word(order: Order, higher_is_better: bool) -> &'static str {
    match (order, higher_is_better) {
        (Order::Overlap, _) => "no clear difference",
        (Order::Greater, true) | (Order::Less, false) => "better",
        _ => "worse",
    }
}

/// The ratio of `e` to the oldest's, its verdict by `order` where a Holm
/// family decided it, else by the ratio's own test (a single trial's margin;
/// a tested pair's verdict is then set by the section's family).
fn version_ratio(
    e: &Estimate,
    oldest: &Estimate,
    kind: Kind,
    order: Option<Order>,
) -> Option<VersionRatio> {
    let r = Ratio::of(e, oldest)?;
    Some(VersionRatio {
        value: r.value,
        low: r.low,
        high: r.high,
        interval: r.kind.label().to_string(),
        verdict: verdict_word(order.unwrap_or(r.order), kind.higher_is_better()).to_string(),
        indicative: r.indicative,
    })
}

fn eol_notes(run: &Run) -> Vec<EolNote> {
    let mut out: Vec<EolNote> = Vec::new();
    for c in &run.contenders {
        let version = c.runtime_version.split_whitespace().next().unwrap_or("");
        if c.runtime.contains("pypy") {
            continue;
        }
        let Some(end) = eol::end_of_life(c.language.name(), version) else {
            continue;
        };
        let runtime = runtime_label(c);
        match out.iter_mut().find(|n| n.runtime == runtime) {
            Some(n) => n.contenders.push(c.name.clone()),
            None => out.push(EolNote {
                runtime,
                contenders: vec![c.name.clone()],
                end_of_life: end.to_string(),
                past: eol::is_past(end, &run.started_at),
            }),
        }
    }
    out
}

impl EolNote {
    /// "Node.js v20.20.2 (node-fastify, node-express) is past its end of life (2026-04-30)".
    pub fn sentence(&self) -> String {
        format!(
            "{} ({}) is past its end of life ({}): it no longer gets security fixes",
            self.runtime,
            self.contenders.join(", "),
            self.end_of_life
        )
    }
}

impl VersionRatio {
    /// "1.12x (range of ratios 1.05–1.20), better" — the headline's wording.
    pub fn text(&self) -> String {
        let head = match self.interval.as_str() {
            i if self.low == self.high => format!("{:.2}x ({i})", self.value),
            i => format!("{:.2}x ({i} {:.2}–{:.2})", self.value, self.low, self.high),
        };
        format!("{head}, {}", self.verdict)
    }
}

/// The section as one table: contender, workload, runtime, headline, ratio, end of life.
pub fn table(rv: &RuntimeVersions) -> Option<Table> {
    if rv.groups.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    for g in &rv.groups {
        let fmt: fn(f64) -> String = if g.unit == "ms" { fmt_ms } else { fmt_rate };
        for (i, v) in g.versions.iter().enumerate() {
            let eol = rv
                .end_of_life
                .iter()
                .find(|n| n.runtime == v.runtime)
                .map(|n| match n.past {
                    true => format!("{} (past)", n.end_of_life),
                    false => n.end_of_life.clone(),
                })
                .unwrap_or_else(|| "-".into());
            let cell = |text: String, style| TableCell { text, style };
            rows.push(vec![
                cell(
                    if i == 0 {
                        g.contender.clone()
                    } else {
                        String::new()
                    },
                    Style::Plain,
                ),
                cell(
                    if i == 0 {
                        g.workload.to_string()
                    } else {
                        String::new()
                    },
                    Style::Plain,
                ),
                cell(v.runtime.clone(), Style::Plain),
                cell(
                    match (&v.estimate, v.lower_bound) {
                        (Some(e), _) => format!("{} {}", fmt_estimate(e, fmt), g.unit),
                        (None, Some(b)) => format!("≥ {} {} (lower bound)", fmt(b), g.unit),
                        (None, None) => "-".into(),
                    },
                    Style::Plain,
                ),
                cell(
                    match (&v.ratio_to_oldest, i) {
                        (_, 0) => "1.00x (the oldest)".into(),
                        (Some(r), _) => r.text(),
                        (None, _) => "-".into(),
                    },
                    match &v.ratio_to_oldest {
                        Some(r) if r.verdict == "better" && !r.indicative => Style::Best,
                        _ => Style::Plain,
                    },
                ),
                cell(
                    eol.clone(),
                    if eol.ends_with("(past)") {
                        Style::Warn
                    } else {
                        Style::Plain
                    },
                ),
            ]);
        }
    }
    Some(Table {
        headers: [
            "contender",
            "workload",
            "runtime",
            "headline",
            "ratio to the oldest",
            "end of life",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        numeric: vec![false, false, false, true, false, false],
    })
}

/// What the section says before its table.
pub const INTRO: &str = "The same contender on each runtime version measured (--python, \
--node), per workload: its headline figure, and its ratio to the oldest version with the \
interval and test of the headline (better or worse only when the test says so). The \
tested pairs share the 5% by Holm's correction, as claims 7 and 8 do: a newer CPython \
or Node.js version's capacity takes those claims' own test, over their language's pairs; \
the others (PyPy, start-up time) are corrected over this section's. Each \
version's dependencies were installed for it; versions whose dependencies do not install \
are listed as skipped cells.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cell, Flag};
    use crate::report::fixtures::{run_on_two_pythons, sample_run};

    #[test]
    fn two_versions_make_a_group_with_a_ratio_to_the_oldest() {
        let run = run_on_two_pythons();
        let rv = runtime_versions(&run);
        let json = rv
            .groups
            .iter()
            .find(|g| g.workload == Workload::Json)
            .expect("a json group");
        assert_eq!(json.contender, "python-fastapi");
        let names: Vec<&str> = json.versions.iter().map(|v| v.contender.as_str()).collect();
        assert_eq!(names, ["python-fastapi", "python-fastapi-py313"]);
        let base = run.contender("python-fastapi").unwrap();
        assert_eq!(json.versions[0].runtime, runtime_label(base));
        assert!(json.versions[0].ratio_to_oldest.is_none());
        let r = json.versions[1].ratio_to_oldest.as_ref().unwrap();
        assert!((r.value - 1.5).abs() < 1e-9, "{r:?}");
        assert!(r.low <= r.value && r.value <= r.high);
        assert!(
            rv.groups.iter().all(|g| g.contender == "python-fastapi"),
            "contenders on one runtime only make no group"
        );
        let t = table(&rv).unwrap();
        assert_eq!(t.rows.len(), 2 * rv.groups.len());
        assert!(t.rows[1][4].text.starts_with("1.50x"), "{:?}", t.rows[1][4]);
        assert!(table(&runtime_versions(&sample_run())).is_none());
    }

    /// A version's machine-noisy trials leave its clean ones standing for the
    /// ratio; a truncated trial of the oldest version withholds the group's.
    #[test]
    fn a_ratio_rests_on_clean_trials_but_not_on_a_lower_bound() {
        let ratio = |run: &Run| {
            runtime_versions(run)
                .groups
                .into_iter()
                .find(|g| g.workload == Workload::Json)
                .and_then(|g| g.versions[1].ratio_to_oldest.clone())
        };
        let mut run = run_on_two_pythons();
        let json = |c: &Cell| c.workload == Workload::Json;
        for c in run.cells.iter_mut().filter(|c| json(c)) {
            c.flags.push(Flag::MachineNoisy);
        }
        assert!(ratio(&run).is_some_and(|r| (r.value - 1.5).abs() < 1e-9));
        let oldest = run
            .cells
            .iter_mut()
            .find(|c| json(c) && c.contender == "python-fastapi")
            .unwrap();
        oldest.flags.push(Flag::Truncated);
        assert_eq!(ratio(&run), None);
    }

    /// A newer version 6.5% faster on json (p ≈ 0.03, which a lone test calls
    /// better) is no clear difference once Holm shares the 5% with the other
    /// pairs, in the section as in claim 7.
    #[test]
    fn version_pairs_are_holm_corrected_as_the_claims_are() {
        let mut run = run_on_two_pythons();
        let old = stats::estimate(&[100.0, 102.0, 98.0]).unwrap();
        let new = stats::estimate(&[106.5, 108.5, 104.5]).unwrap();
        let p = stats::welch_p(&new, &old).unwrap();
        assert!(p > 0.025 && p < 0.05, "{p}");
        assert_eq!(
            crate::verdict::compare_estimates(&new, &old),
            Order::Greater
        );
        let olds: Vec<Cell> = run
            .cells
            .iter()
            .filter(|c| c.contender == "python-fastapi")
            .cloned()
            .collect();
        let mut others = 0;
        for c in run.cells.iter_mut() {
            let json = c.workload == Workload::Json;
            match c.contender.as_str() {
                "python-fastapi" if json => c.capacity = Some(old),
                "python-fastapi-py313" if json => c.capacity = Some(new),
                // The other pairs: the same capacity on both versions (p = 1).
                "python-fastapi-py313" => {
                    c.capacity = olds
                        .iter()
                        .find(|o| o.workload == c.workload)
                        .unwrap()
                        .capacity;
                    others += usize::from(c.capacity.is_some_and(|e| e.n >= 2));
                }
                _ => {}
            }
        }
        assert!(others >= 1, "a family of two or more pairs");
        let rv = runtime_versions(&run);
        let json = rv
            .groups
            .iter()
            .find(|g| g.workload == Workload::Json)
            .unwrap();
        let r = json.versions[1].ratio_to_oldest.as_ref().unwrap();
        assert_eq!(r.verdict, "no clear difference", "{r:?}");
        assert!(r.text().ends_with(", no clear difference"), "{}", r.text());
        let c7 = crate::verdict::claims::check_all(&run)
            .into_iter()
            .find(|c| c.id == 7)
            .unwrap();
        assert!(c7.reason.contains("not measurably faster"), "{}", c7.reason);
        // Alone, the pair is better in both.
        run.cells
            .retain(|c| c.workload == Workload::Json || !c.contender.starts_with("python-fastapi"));
        let rv = runtime_versions(&run);
        let r = rv.groups[0].versions[1].ratio_to_oldest.clone().unwrap();
        assert_eq!(r.verdict, "better", "{r:?}");
    }

    #[test]
    fn a_runtime_past_its_end_of_life_is_named() {
        let mut run = sample_run();
        run.started_at = "2026-11-30T12:00:00Z".into();
        for c in run.contenders.iter_mut() {
            if c.language == Language::Node {
                c.runtime_version = "v20.20.2".into();
            }
        }
        let notes = eol_notes(&run);
        let node = notes
            .iter()
            .find(|n| n.runtime == "Node.js v20.20.2")
            .unwrap();
        assert!(node.past && node.end_of_life == "2026-04-30");
        assert!(node
            .sentence()
            .contains("past its end of life (2026-04-30)"));
        run.started_at = "2026-01-01T00:00:00Z".into();
        assert!(eol_notes(&run).iter().all(|n| !n.past));
    }
}
