//! What two runs' cells say together: a capacity change every contender
//! shares, a contender whose runtime or framework changed between them, and
//! each run's own Node.js ÷ Python ratio per workload. Pure: the runs and
//! their matched cells in, caveat sentences and ratios out.

use std::collections::BTreeSet;

use super::{CellComparison, SPEED_DIFFERS};
use crate::model::{Language, Run};
use crate::report::runtimes::runtime_label;
use crate::report::summary;
use crate::verdict::language_of;

/// One workload's headline ratio in each run: its best Node.js capacity over
/// its best Python one, both measured in that run, their trials interleaved.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct RatioComparison {
    /// The reports' heading: the workload, with its database where it says
    /// something ("db (on postgres)").
    pub label: String,
    pub a: f64,
    pub b: f64,
    /// (b − a) / a × 100.
    pub delta_pct: f64,
    /// The (Node.js, Python) contenders each run paired: another best
    /// contender in B makes the ratios another pairing's.
    pub pair_a: (String, String),
    pub pair_b: (String, String),
}

impl RatioComparison {
    /// "json: 12.52x (A) vs 14.56x (B), +16.2% (node-fastify ÷ python-flask)".
    pub fn line(&self) -> String {
        let pair = |(n, p): &(String, String)| format!("{n} ÷ {p}");
        let pairs = if self.pair_a == self.pair_b {
            pair(&self.pair_a)
        } else {
            format!("A: {}; B: {}", pair(&self.pair_a), pair(&self.pair_b))
        };
        format!(
            "{}: {:.2}x (A) vs {:.2}x (B), {} ({pairs})",
            self.label,
            self.a,
            self.b,
            super::pct(self.delta_pct)
        )
    }
}

/// The capacity headlines both runs have, as their reports pair them
/// ([`summary::headlines`]: the best Node.js against the best Python), in
/// run A's order.
pub(super) fn ratios(a: &Run, b: &Run) -> Vec<RatioComparison> {
    let (sa, sb) = (summary::summarize(a), summary::summarize(b));
    let hb = summary::headlines(&sb);
    summary::headlines(&sa)
        .into_iter()
        .filter(|h| h.kind.higher_is_better())
        .filter_map(|ha| {
            let hb = hb.iter().find(|h| h.label == ha.label)?;
            let (ra, rb) = (ha.ratio.value, hb.ratio.value);
            // A zero capacity on the Node.js side leaves no change to state.
            if !(ra > 0.0 && ra.is_finite() && rb.is_finite()) {
                return None;
            }
            let pair =
                |h: &summary::Headline| (h.node.contender.clone(), h.python.contender.clone());
            Some(RatioComparison {
                pair_a: pair(&ha),
                pair_b: pair(hb),
                label: ha.label,
                a: ra,
                b: rb,
                delta_pct: (rb - ra) / ra * 100.0,
            })
        })
        .collect()
}

/// Fewer cells than this moving together is too likely a coincidence to
/// name (all of three move one way one time in four by chance).
const MIN_CELLS: usize = 3;

/// Every compared capacity moved the same way, each by more than
/// [`SPEED_DIFFERS`], across contenders of two languages or more: what they
/// share moved (the machine, or bakeoff itself), more likely than each of
/// them. A host can move a whole run without its probes seeing it
/// (docs/benchmarks.md, "Fifty-second pass": every cell of three contenders
/// 8–19% lower in one run whose probes read like the others').
pub(super) fn shared_shift(a: &Run, b: &Run, cells: &[CellComparison]) -> Option<String> {
    // A side left out of verdicts has no capacity delta, so it is not read.
    let moved: Vec<(&CellComparison, f64)> = cells
        .iter()
        .filter_map(|c| Some((c, c.capacity.delta_pct?)))
        .filter(|(_, d)| d.is_finite())
        .collect();
    if moved.len() < MIN_CELLS {
        return None;
    }
    let up = moved[0].1 > 0.0;
    let all_beyond = moved
        .iter()
        .all(|(_, d)| (*d > 0.0) == up && d.abs() > SPEED_DIFFERS * 100.0);
    let contenders: BTreeSet<&str> = moved
        .iter()
        .map(|(c, _)| c.key.contender.as_str())
        .collect();
    let languages: BTreeSet<&Language> = contenders
        .iter()
        .filter_map(|n| language_of(b, n).or_else(|| language_of(a, n)))
        .collect();
    if !all_beyond || languages.len() < 2 {
        return None;
    }
    let (lo, hi) = moved
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, d)| {
            (lo.min(*d), hi.max(*d))
        });
    let (near, far) = if up { (lo, hi) } else { (hi, lo) };
    Some(format!(
        "every capacity moved the same way, {} by {:.0}% to {:.0}% in B ({} cells of {} contenders, in {} languages): a change every contender shares is more likely the machine's, or bakeoff's, than each server's; a host can move a whole run without its probes seeing it, while each run's own Node.js ÷ Python ratio sets the languages side by side on one machine (docs/methodology.md, \"How many trials, and what two runs can agree on\")",
        if up { "up" } else { "down" },
        near.abs(),
        far.abs(),
        moved.len(),
        contenders.len(),
        languages.len(),
    ))
}

/// A contender measured in both runs on another runtime or framework version:
/// its changes are those versions' as much as the app's.
pub(super) fn versions_differ(a: &Run, b: &Run, cells: &[CellComparison]) -> Vec<String> {
    let names: BTreeSet<&str> = cells.iter().map(|c| c.key.contender.as_str()).collect();
    let mut out = Vec::new();
    for name in names {
        let (Some(ca), Some(cb)) = (a.contender(name), b.contender(name)) else {
            continue;
        };
        let (ra, rb) = (runtime_label(ca), runtime_label(cb));
        if ra != rb {
            out.push(format!("{name}'s runtime differs: {ra} (A) vs {rb} (B)"));
        }
        if (&ca.framework, &ca.framework_version) != (&cb.framework, &cb.framework_version) {
            out.push(format!(
                "{name}'s framework differs: {} {} (A) vs {} {} (B)",
                ca.framework, ca.framework_version, cb.framework, cb.framework_version
            ));
        }
    }
    out
}
