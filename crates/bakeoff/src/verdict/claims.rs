//! The blog's claims as hypotheses, each tested over a run's cells.
//!
//! A verdict is `supported`, `not_supported` or `inconclusive`. It is
//! inconclusive when the capacities show no clear difference (Welch's t-test at
//! 5%, see [`super::compare_estimates`]) or when a cell it needs is missing or
//! left out of verdicts (truncated, machine-noisy); those cells are named. A
//! verdict that rests on a single-trial comparison, or on single readings (a
//! p99 or a memory sample, one per cell: [`super::compare_readings`]), is marked
//! `indicative`; a p99 from a machine-noisy or generator-limited cell decides
//! nothing. Every verdict carries the numbers behind it and the scope
//! it holds for.

use serde::Serialize;

use super::{
    best_capacity, cells_of, compare_estimates, compare_ratio, compare_readings, is_indicative,
    ratio_interval, scope, unsteady, Order, RatioInterval, RatioKind, Reading,
};
use crate::model::{Cell, Estimate, Language, Run, WsPoint};
use crate::workload::Workload;

pub(crate) mod versions;
#[cfg(test)]
use versions::version_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supported,
    NotSupported,
    Inconclusive,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::NotSupported => "not supported",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// One number behind a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub what: String,
    pub contender: Option<String>,
    pub value: f64,
    pub unit: String,
}

/// Whose statement a [`ClaimResult`] tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The blog's claim, in its words.
    Blog,
    /// bakeoff's own observation, checked the same way (not the blog's).
    Bakeoff,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimResult {
    pub id: u8,
    pub source: Source,
    /// The blog's words (or, for [`Source::Bakeoff`], the statement checked).
    pub quote: &'static str,
    pub hypothesis: &'static str,
    pub test: &'static str,
    pub verdict: Verdict,
    /// Why, in one or two sentences with the numbers.
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// Cells (`contender-language/workload`) that were needed but not measured.
    pub missing: Vec<String>,
    /// Some comparison behind the verdict rests on a single trial or on single
    /// readings: indicative only.
    pub indicative: bool,
    /// A capacity comparison behind the verdict rests on a single trial.
    pub single_trial: bool,
    /// Single readings (one p99 or memory sample per cell) entered the verdict.
    pub single_readings: bool,
    pub scope: String,
}

impl ClaimResult {
    /// The verdict's label, marked when it rests on a single trial or reading.
    pub fn verdict_label(&self) -> String {
        let why = match (self.single_trial, self.single_readings) {
            (true, false) => "single trial",
            (false, true) => "single readings",
            (true, true) => "single trial and readings",
            (false, false) => return self.verdict.label().to_string(),
        };
        format!("{} (indicative: {why})", self.verdict.label())
    }
}

/// Check the blog's seven claims, then bakeoff's own observations, against a run.
pub fn check_all(run: &Run) -> Vec<ClaimResult> {
    let scope = scope(run);
    let mut out = vec![
        claim1_speed(run),
        claim2_realtime(run),
        claim3_io(run),
        claim4_memory(run),
        claim5_data(run),
        claim6_high_load(run),
        versions::claim7_python_versions(run),
        versions::node_versions_observation(run),
    ];
    for c in &mut out {
        c.scope = scope.clone();
    }
    out
}

struct Draft {
    verdict: Verdict,
    reason: String,
    evidence: Vec<Evidence>,
    missing: Vec<String>,
    indicative: bool,
    single_readings: bool,
}

impl Draft {
    fn new() -> Draft {
        Draft {
            verdict: Verdict::Inconclusive,
            reason: String::new(),
            evidence: Vec::new(),
            missing: Vec::new(),
            indicative: false,
            single_readings: false,
        }
    }

    /// [`compare_readings`] of two cells' readings: always indicative, and for
    /// a p99 no difference when either cell is [`unsteady`] (named among the
    /// missing). A memory sample is no timing: a stall does not change it.
    fn compare_readings(&mut self, a: (&Cell, f64), b: (&Cell, f64), kind: Reading) -> Order {
        self.single_readings = true;
        let mut steady = true;
        for cell in [a.0, b.0].into_iter().filter(|_| kind == Reading::Latency) {
            if let Some(flag) = unsteady(cell) {
                steady = false;
                let m = format!(
                    "{}/{} (its reading is left out of verdicts: {flag})",
                    cell.contender, cell.workload
                );
                if !self.missing.contains(&m) {
                    self.missing.push(m);
                }
            }
        }
        if steady {
            compare_readings(a.1, b.1, kind)
        } else {
            Order::Overlap
        }
    }

    /// [`compare_estimates`], remembering when the comparison is indicative.
    fn compare(&mut self, a: &Estimate, b: &Estimate) -> Order {
        self.indicative |= is_indicative(a, b);
        compare_estimates(a, b)
    }

    fn ev(&mut self, what: impl Into<String>, contender: Option<&str>, value: f64, unit: &str) {
        self.evidence.push(Evidence {
            what: what.into(),
            contender: contender.map(str::to_string),
            value,
            unit: unit.into(),
        });
    }

    fn finish(
        self,
        id: u8,
        quote: &'static str,
        hypothesis: &'static str,
        test: &'static str,
    ) -> ClaimResult {
        ClaimResult {
            id,
            source: Source::Blog,
            quote,
            hypothesis,
            test,
            verdict: self.verdict,
            reason: self.reason,
            evidence: self.evidence,
            missing: self.missing,
            indicative: self.indicative || self.single_readings,
            single_trial: self.indicative,
            single_readings: self.single_readings,
            scope: String::new(),
        }
    }
}

/// `language/workload`, with why: not in the run's plan, or measured but left
/// out of verdicts (truncated, machine-noisy, generator-limited, failing).
fn missing_capacity(run: &Run, workload: &Workload, language: &Language) -> String {
    if run.cells.iter().all(|c| c.workload != *workload) {
        // Quick leaves `data` to standard, and `--workloads` narrows any plan.
        return format!(
            "{language}/{workload} (not in this run's plan: `bakeoff run --workloads {workload}` measures it)"
        );
    }
    let left_out: Vec<String> = cells_of(run, workload, language)
        .into_iter()
        .filter_map(|c| {
            c.out_of_verdicts()
                .map(|why| format!("{} {why}", c.contender))
        })
        .collect();
    if left_out.is_empty() {
        format!("{language}/{workload}")
    } else {
        format!(
            "{language}/{workload} (left out of verdicts: {})",
            left_out.join(", ")
        )
    }
}

/// Best Node vs best Python capacity on one workload: the order, the ratio, and evidence.
fn node_vs_python(run: &Run, workload: &Workload, d: &mut Draft) -> Option<(Order, RatioInterval)> {
    let node = best_capacity(run, workload, &Language::Node);
    let py = best_capacity(run, workload, &Language::Python);
    for (lang, found) in [
        (Language::Node, node.is_some()),
        (Language::Python, py.is_some()),
    ] {
        if !found {
            d.missing.push(missing_capacity(run, workload, &lang));
        }
    }
    let ((nc, ne), (pc, pe)) = (node?, py?);
    let unit = workload.rate_unit().as_str();
    let workload = &heading(run, workload);
    d.ev(
        format!("{workload} capacity, best Node.js"),
        Some(&nc.contender),
        ne.center(),
        unit,
    );
    d.ev(
        format!("{workload} capacity, best Python"),
        Some(&pc.contender),
        pe.center(),
        unit,
    );
    let r = ratio_interval(&ne, &pe)?;
    d.ev(format!("{workload} Node.js ÷ Python"), None, r.ratio, "×");
    if r.kind != RatioKind::Point {
        d.ev(
            format!("{workload} ratio ({}), low", r.kind.label()),
            None,
            r.low,
            "×",
        );
        d.ev(
            format!("{workload} ratio ({}), high", r.kind.label()),
            None,
            r.high,
            "×",
        );
    }
    Some((d.compare(&ne, &pe), r))
}

fn claim1_speed(run: &Run) -> ClaimResult {
    let mut d = Draft::new();
    let mut results = Vec::new();
    for w in [Workload::Json, Workload::Plaintext] {
        if let Some(r) = node_vs_python(run, &w, &mut d) {
            results.push((w, r));
        }
    }
    // plaintext is optional (not in the quick profile) when json was measured.
    if results.iter().any(|(w, _)| *w == Workload::Json) {
        let plaintext = format!("/{}", Workload::Plaintext);
        d.missing.retain(|m| {
            !m.split_whitespace()
                .next()
                .is_some_and(|k| k.ends_with(&plaintext))
        });
    }
    // Within 2×: the ratio's whole interval (or range) at or below 2; more than
    // 2×: all of it above. One that straddles 2 cannot say.
    let within = |r: &RatioInterval| compare_ratio(r, 2.0);
    if results.is_empty() {
        d.reason = "needs json (or plaintext) capacity for both languages".into();
    } else if results.iter().any(|(_, (o, _))| *o == Order::Less) {
        d.verdict = Verdict::NotSupported;
        d.reason = "the best Python contender had the higher capacity".into();
    } else if results
        .iter()
        .all(|(_, (o, r))| *o == Order::Greater && within(r) == Order::Less)
    {
        d.verdict = Verdict::Supported;
        d.reason = format!(
            "Node.js led, and Python stayed within 2× ({})",
            fmt_ratios(&results)
        );
    } else if results
        .iter()
        .any(|(_, (o, r))| *o == Order::Greater && within(r) == Order::Greater)
    {
        d.verdict = Verdict::NotSupported;
        d.reason = format!(
            "Node.js led by more than 2×: Python was far behind ({})",
            fmt_ratios(&results)
        );
    } else if results.iter().any(|(_, (o, _))| *o == Order::Greater) {
        d.reason = format!(
            "Node.js led, but whether Python stayed within 2× the trials cannot tell: the ratio's range straddles 2, or a single trial's ratio is within 25% of it ({})",
            fmt_ratios(&results)
        );
    } else {
        d.reason = format!("no clear difference ({})", fmt_ratios(&results));
    }
    d.finish(
        1,
        "Node.js with its V8 engine … is one of the fastest server-side solutions; Python is not that far behind.",
        "The best Node.js contender has a higher capacity than the best Python one on json and plaintext, and Python stays within 2× of it.",
        "Best Node.js ÷ best Python capacity at the SLO on json and plaintext.",
    )
}

/// The workload as evidence names it: "db (on postgres)" when its figures
/// rest on PostgreSQL or the run measured several databases, so a database
/// figure always names the database it rests on ([`Run::verdict_database`]).
fn heading(run: &Run, workload: &Workload) -> String {
    crate::report::workload_heading(run, workload, run.verdict_database(workload))
}

fn fmt_ratios(results: &[(Workload, (Order, RatioInterval))]) -> String {
    results
        .iter()
        .map(|(w, (_, r))| match r.kind {
            RatioKind::Point => format!("{w}: {:.2}×", r.ratio),
            k => format!(
                "{w}: {:.2}× ({} {:.2}–{:.2})",
                r.ratio,
                k.label(),
                r.low,
                r.high
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A ws point's memory per connection as the claims print it.
fn per_connection(p: &WsPoint) -> String {
    p.bytes_per_connection
        .map_or("not measured".into(), |b| format!("{b:.0}"))
}

/// The ws point with the most clients for the best (lowest p99) contender of a language.
fn best_ws<'a>(run: &'a Run, language: &Language) -> Option<(&'a Cell, &'a WsPoint)> {
    cells_of(run, &Workload::Ws, language)
        .into_iter()
        .filter_map(|c| c.ws.iter().max_by_key(|p| p.clients).map(|p| (c, p)))
        .min_by(|a, b| a.1.p99_ms.total_cmp(&b.1.p99_ms))
}

fn claim2_realtime(run: &Run) -> ClaimResult {
    let mut d = Draft::new();
    let node = best_ws(run, &Language::Node);
    let py = best_ws(run, &Language::Python);
    if node.is_none() {
        d.missing.push("node/ws".into());
    }
    if py.is_none() {
        d.missing.push("python/ws".into());
    }
    if let (Some((nc, np)), Some((pc, pp))) = (node, py) {
        let (nn, pn) = (nc.contender.as_str(), pc.contender.as_str());
        d.ev(
            format!("fan-out p99 at {} clients", np.clients),
            Some(nn),
            np.p99_ms,
            "ms",
        );
        d.ev(
            format!("fan-out p99 at {} clients", pp.clients),
            Some(pn),
            pp.p99_ms,
            "ms",
        );
        for (name, p) in [(nn, np), (pn, pp)] {
            match p.bytes_per_connection {
                Some(b) => d.ev("memory per connection", Some(name), b, "bytes"),
                None => d.missing.push(format!("{name}/ws memory (not measured)")),
            }
        }
        d.ev(
            "missing deliveries",
            Some(nn),
            np.missing as f64,
            "messages",
        );
        d.ev(
            "missing deliveries",
            Some(pn),
            pp.missing as f64,
            "messages",
        );
        // Greater: Python slower, or heavier.
        let latency = d.compare_readings((pc, pp.p99_ms), (nc, np.p99_ms), Reading::Latency);
        // None when a server's memory was not read: neither leaner nor heavier.
        let memory = match (pp.bytes_per_connection, np.bytes_per_connection) {
            (Some(p), Some(n)) => {
                Some(d.compare_readings((pc, p), (nc, n), Reading::MemoryPerConnection))
            }
            _ => None,
        };
        let lossier_node = np.missing > pp.missing;
        (d.verdict, d.reason) = match (latency, memory.unwrap_or(Order::Overlap)) {
            (Order::Greater, Order::Greater | Order::Overlap) if !lossier_node => (
                Verdict::Supported,
                format!("Node.js delivered with lower p99 ({:.1} vs {:.1} ms) and no more memory per connection", np.p99_ms, pp.p99_ms),
            ),
            (Order::Less, _) | (_, Order::Less) => (
                Verdict::NotSupported,
                format!("Python was faster or leaner: p99 {:.1} vs {:.1} ms, {} vs {} bytes/connection", pp.p99_ms, np.p99_ms, per_connection(pp), per_connection(np)),
            ),
            _ => {
                // Each reading said apart: one may differ while the other does not.
                // Only a p99 is left out for its cell's flags (`compare_readings`).
                let within = |o: Order, kind: Reading, ahead: &str| match o {
                    Order::Overlap => format!(
                        "no clear difference: within the ×{} that repeated readings of one cell vary by{}",
                        kind.factor(),
                        if kind == Reading::Latency {
                            ", or a reading is flagged"
                        } else {
                            ""
                        }
                    ),
                    _ => ahead.to_string(),
                };
                let lost = if lossier_node {
                    format!("; Node.js lost more messages ({} vs {})", np.missing, pp.missing)
                } else {
                    String::new()
                };
                (
                    Verdict::Inconclusive,
                    format!(
                        "one reading each: p99 {:.1} vs {:.1} ms ({}); {} vs {} bytes/connection ({}){lost}",
                        np.p99_ms,
                        pp.p99_ms,
                        within(latency, Reading::Latency, "Node.js lower"),
                        per_connection(np),
                        per_connection(pp),
                        memory.map_or("not compared".to_string(), |o| {
                            within(o, Reading::MemoryPerConnection, "Node.js leaner")
                        }),
                    ),
                )
            }
        };
    } else {
        d.reason =
            "needs ws cells for both languages (Django and Flask do not serve /ws; FastAPI does)"
                .into();
    }
    d.finish(
        2,
        "Node.js is the best option for real-time … projects like chatting or streaming.",
        "In a WebSocket chat room, the best Node.js contender delivers with lower fan-out p99 latency and no more memory per connection than the best Python one.",
        "ws fan-out p99 at the largest client count, missing deliveries, and memory per connection.",
    )
}

fn claim3_io(run: &Run) -> ClaimResult {
    let mut d = Draft::new();
    let io = node_vs_python(run, &Workload::Io, &mut d);
    // Part B: light-request p99 under heavy requests (head-of-line blocking).
    let light = |lang: &Language| {
        cells_of(run, &Workload::CpuMixed, lang)
            .into_iter()
            .filter_map(|c| {
                c.equal_load
                    .as_ref()
                    .and_then(|e| e.light)
                    .map(|l| (c, l.p99))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let (nl, pl) = (light(&Language::Node), light(&Language::Python));
    if nl.is_none() {
        d.missing.push("node/cpu-mixed".into());
    }
    if pl.is_none() {
        d.missing.push("python/cpu-mixed".into());
    }
    let heavy = match (&nl, &pl) {
        (Some((nc, n)), Some((pc, p))) => {
            for (c, v) in [(nc, n), (pc, p)] {
                d.ev(
                    "cpu-mixed light-request p99 at equal load",
                    Some(&c.contender),
                    *v,
                    "ms",
                );
            }
            // Greater: Node's light requests wait longer.
            Some(d.compare_readings((nc, *n), (pc, *p), Reading::Latency))
        }
        _ => None,
    };
    (d.verdict, d.reason) = match (io, heavy) {
        (Some((Order::Greater, RatioInterval { ratio: r, .. })), Some(Order::Greater)) => (
            Verdict::Supported,
            format!("Node.js served {r:.2}× the I/O-bound capacity, and its light requests suffered more from heavy ones (head-of-line blocking)"),
        ),
        (Some((Order::Less, RatioInterval { ratio: r, .. })), _) => (
            Verdict::NotSupported,
            format!("Python served more I/O-bound load ({r:.2}× Node.js ÷ Python)"),
        ),
        (Some((Order::Greater, RatioInterval { ratio: r, .. })), Some(Order::Less)) => (
            Verdict::NotSupported,
            format!("Node.js led on I/O ({r:.2}×) but its light requests fared better than Python's under heavy requests, so heavy processing did not hurt it more"),
        ),
        (Some((Order::Greater, RatioInterval { ratio: r, .. })), _) => (
            Verdict::Inconclusive,
            format!("Node.js led on I/O ({r:.2}×), but the heavy-processing half is missing, flagged, or within what one reading can show (×{:.0})", Reading::Latency.factor()),
        ),
        _ => (Verdict::Inconclusive, "the I/O capacities show no clear difference, or are missing".to_string()),
    };
    d.finish(
        3,
        "Node.js is ideal for projects that don't require heavy processing and are good with I/O operations.",
        "Node.js has the higher capacity on I/O waits, and heavy CPU requests hurt its light requests' p99 more than Python's.",
        "io capacity (best per language), and the light-request p99 in cpu-mixed at equal load.",
    )
}

fn claim4_memory(run: &Run) -> ClaimResult {
    let mut d = Draft::new();
    let mut node_wins = 0;
    let mut py_wins = 0;
    let mut compared = 0;
    let workloads: Vec<&Workload> = {
        let mut w: Vec<&Workload> = run.cells.iter().map(|c| &c.workload).collect();
        // By name: the evidence lists workloads alphabetically.
        w.sort_by_key(|w| w.name());
        w.dedup();
        w
    };
    for w in workloads
        .into_iter()
        .filter(|w| !matches!(w, Workload::Ws | Workload::Startup))
    {
        let min_rss = |lang: &Language| {
            cells_of(run, w, lang)
                .into_iter()
                .filter_map(|c| {
                    c.verdict_equal_load_memory()
                        .and_then(|e| Some((c, e.rss_mean_bytes? as f64)))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
        };
        if let (Some((nc, n)), Some((pc, p))) =
            (min_rss(&Language::Node), min_rss(&Language::Python))
        {
            compared += 1;
            let w = heading(run, w);
            for (c, v) in [(nc, n), (pc, p)] {
                d.ev(
                    format!("{w} mean RSS at equal load"),
                    Some(&c.contender),
                    v,
                    "bytes",
                );
            }
            match d.compare_readings((pc, p), (nc, n), Reading::Memory) {
                Order::Greater => node_wins += 1,
                Order::Less => py_wins += 1,
                Order::Overlap => {}
            }
        }
    }
    // A point whose memory the sampler could not read compares nothing.
    let per_connection =
        |l: &Language| best_ws(run, l).and_then(|(c, p)| p.bytes_per_connection.map(|b| (c, b)));
    if let (Some((nc, n)), Some((pc, p))) = (
        per_connection(&Language::Node),
        per_connection(&Language::Python),
    ) {
        compared += 1;
        for (c, b) in [(nc, n), (pc, p)] {
            d.ev(
                "memory per WebSocket connection",
                Some(&c.contender),
                b,
                "bytes",
            );
        }
        match d.compare_readings((pc, p), (nc, n), Reading::MemoryPerConnection) {
            Order::Greater => node_wins += 1,
            Order::Less => py_wins += 1,
            Order::Overlap => {}
        }
    }
    if compared == 0 {
        d.missing.push("equal-load cells for both languages".into());
        d.reason = "no workload has equal-load memory for both languages".into();
    } else if node_wins * 2 > compared {
        d.verdict = Verdict::Supported;
        d.reason = format!("Node.js used less memory in {node_wins} of {compared} comparisons");
    } else if py_wins * 2 > compared {
        d.verdict = Verdict::NotSupported;
        d.reason = format!("Python used less memory in {py_wins} of {compared} comparisons");
    } else {
        d.reason = format!("no majority: Node.js leaner in {node_wins}, Python in {py_wins}, of {compared} comparisons");
    }
    d.finish(
        4,
        "Node.js is also preferred for memory-intensive applications.",
        "The leanest Node.js contender uses less memory than the leanest Python one in most workloads (RSS at equal load, and memory per WebSocket connection).",
        "Mean RSS (PSS where available) at equal load per workload, and bytes per WebSocket connection; a majority decides.",
    )
}

fn claim5_data(run: &Run) -> ClaimResult {
    let mut d = Draft::new();
    let cap = node_vs_python(run, &Workload::Data, &mut d);
    (d.verdict, d.reason) = match cap {
        Some((Order::Less, RatioInterval { ratio: r, .. })) => (
            Verdict::Supported,
            format!("the best Python contender (pandas) aggregated with the higher capacity (Node.js ÷ Python = {r:.2}×)"),
        ),
        Some((Order::Greater, RatioInterval { ratio: r, .. })) => (
            Verdict::NotSupported,
            format!("plain JavaScript aggregated with the higher capacity (Node.js ÷ Python = {r:.2}×)"),
        ),
        Some((Order::Overlap, RatioInterval { ratio: r, .. })) => (Verdict::Inconclusive, format!("no clear difference ({r:.2}×)")),
        None => (Verdict::Inconclusive, "needs data cells for both languages".to_string()),
    };
    for lang in Language::COMPARED {
        if let Some(c) = best_capacity(run, &Workload::Data, &lang).map(|(c, _)| c) {
            if let Some(e) = &c.equal_load {
                d.ev(
                    "data p99 at equal load",
                    Some(&c.contender),
                    e.latency.p99,
                    "ms",
                );
            }
        }
    }
    d.finish(
        5,
        "Python … is strong and natural at handling big data sets.",
        "Aggregating the sales dataset, the best Python contender (pandas) has a higher capacity than the best Node.js one (plain JavaScript).",
        "data capacity at the SLO (best per language), with p99 at equal load.",
    )
}

fn is_async_python(run: &Run, contender: &str) -> bool {
    run.contender(contender)
        .map(|c| {
            let s = c.server.to_ascii_lowercase();
            s.contains("uvicorn") || s.contains("asgi") || s.contains("hypercorn")
        })
        .unwrap_or(false)
}

fn claim6_high_load(run: &Run) -> ClaimResult {
    let mut d = Draft::new();
    let mut workloads: Vec<&Workload> = run
        .cells
        .iter()
        .filter(|c| c.capacity.is_some())
        .map(|c| &c.workload)
        .collect();
    workloads.sort_unstable_by_key(|w| w.name());
    workloads.dedup();
    let (mut py_ahead, mut node_ahead, mut compared) = (0, 0, 0);
    for w in &workloads {
        let node = best_capacity(run, w, &Language::Node);
        let py_cells = cells_of(run, w, &Language::Python);
        let best_of = |asynchronous: bool| {
            py_cells
                .iter()
                .filter(|c| is_async_python(run, &c.contender) == asynchronous)
                .filter_map(|c| c.verdict_capacity().map(|e| (c.contender.clone(), e)))
                .max_by(|a, b| a.1.center().total_cmp(&b.1.center()))
        };
        let (sync, asyn) = (best_of(false), best_of(true));
        let unit = w.rate_unit().as_str();
        let w = heading(run, w);
        if let Some((n, e)) = &sync {
            d.ev(
                format!("{w} capacity, best sync Python"),
                Some(n),
                e.center(),
                unit,
            );
        }
        if let Some((n, e)) = &asyn {
            d.ev(
                format!("{w} capacity, best async Python"),
                Some(n),
                e.center(),
                unit,
            );
        }
        let best_py = [sync, asyn]
            .into_iter()
            .flatten()
            .max_by(|a, b| a.1.center().total_cmp(&b.1.center()));
        if let (Some((nc, ne)), Some((_, pe))) = (node, best_py) {
            d.ev(
                format!("{w} capacity, best Node.js"),
                Some(&nc.contender),
                ne.center(),
                unit,
            );
            compared += 1;
            match d.compare(&pe, &ne) {
                Order::Greater => py_ahead += 1,
                Order::Less => node_ahead += 1,
                Order::Overlap => {}
            }
        }
    }
    if compared == 0 {
        d.missing.push("capacity cells for both languages".into());
        d.reason = "no workload has capacity for both languages".into();
    } else if py_ahead * 2 > compared {
        d.verdict = Verdict::Supported;
        d.reason = format!("Python had the higher capacity in {py_ahead} of {compared} workloads");
    } else if node_ahead * 2 > compared {
        d.verdict = Verdict::NotSupported;
        d.reason = format!("Node.js had the higher capacity in {node_ahead} of {compared} workloads (sync and async Python shown separately)");
    } else {
        d.reason = format!("no majority: Python ahead in {py_ahead}, Node.js in {node_ahead}, of {compared} workloads");
    }
    d.finish(
        6,
        "Python is synchronous … In other cases where high load is a concern, Python is recommended.",
        "Under load, the best Python contender sustains a higher capacity at the SLO than the best Node.js one in most workloads.",
        "Capacity at the SLO per workload, best Python (sync gunicorn and async uvicorn shown separately) against best Node.js; a majority decides.",
    )
}

#[cfg(test)]
mod tests;
