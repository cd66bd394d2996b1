//! Claims about runtime versions: the blog's claim 7 ("up to 50% speed
//! improvement" with Python's latest release) and bakeoff's own parallel
//! observation for Node.js ("newer Node.js is faster"), tested the same way:
//! the same contender (by base name, [`split_name`]) on each newer version
//! against its oldest, per workload, by the capacity test of every claim, its
//! 5% shared over the pairs by Holm's correction ([`version_tests`], which the
//! runtime versions section reads too).

use super::{ClaimResult, Draft, Source, Verdict};
use crate::contender::runtimes::split_name;
use crate::model::{ContenderInfo, Estimate, Language, Run, RuntimeKey};
use crate::suite::stats;
use crate::verdict::{compare_estimates, holm_orders, is_indicative, Order};
use crate::workload::Workload;

/// The smallest improvement that supports "faster".
const MEANINGFUL: f64 = 0.10;

/// Each newer version of a contender with its oldest: (oldest, newer) pairs of
/// `language`'s contenders sharing a base name (variants apart), PyPy left out
/// (another implementation, not a newer release).
fn version_pairs<'a>(
    run: &'a Run,
    language: &Language,
) -> Vec<(&'a ContenderInfo, &'a ContenderInfo)> {
    let mut groups: Vec<(String, Vec<&ContenderInfo>)> = Vec::new();
    for c in run
        .contenders
        .iter()
        .filter(|c| c.language == *language && !c.runtime.contains("pypy"))
    {
        let base = split_name(&c.name).0;
        match groups.iter_mut().find(|(b, _)| *b == base) {
            Some((_, g)) => g.push(c),
            None => groups.push((base, vec![c])),
        }
    }
    let mut out = Vec::new();
    for (_, mut g) in groups {
        g.sort_by_key(|c| version_key(&c.runtime_version));
        let Some(&oldest) = g.first() else { continue };
        for &newer in &g[1..] {
            if version_key(&newer.runtime_version) > version_key(&oldest.runtime_version) {
                out.push((oldest, newer));
            }
        }
    }
    out
}

/// The largest clear improvement: (speedup, workload, whether it rests on a
/// single trial).
type Best = Option<(f64, String, bool)>;

/// What the pairs of one language showed: the largest clear improvement,
/// whether any pair rested on a single trial, and whether every pair was
/// clearly slower on the newer version.
struct Pairs {
    best: Best,
    any_single: bool,
    all_slower: bool,
}

/// One newer version's capacity against its oldest's on one workload (the
/// cells verdicts read: [`Run::cell`]), as claims 7 and 8 test it.
pub(crate) struct VersionTest<'a> {
    pub(crate) old: &'a ContenderInfo,
    pub(crate) new: &'a ContenderInfo,
    pub(crate) workload: &'a Workload,
    pub(crate) old_capacity: Estimate,
    pub(crate) new_capacity: Estimate,
    /// Newer against oldest: after Holm's correction over `language`'s tested
    /// pairs ([`holm_orders`]); the indicative margin for a single trial.
    pub(crate) order: Order,
}

/// Every pair of `language`, per workload. With a dozen or more pairs, one
/// would pass a 5% test by chance alone, so the tested pairs (two trials or
/// more on both sides) share the 5% by Holm's correction; single-trial pairs
/// have no p and keep the indicative margin. The runtime versions section
/// reads these orders, so it and the claims cannot disagree on a pair.
pub(crate) fn version_tests<'a>(run: &'a Run, language: &Language) -> Vec<VersionTest<'a>> {
    let mut tests = Vec::new();
    for (old, new) in version_pairs(run, language) {
        for cell in run.cells.iter().filter(|c| c.contender == old.name) {
            // One pair per workload: the cells verdicts read (no other worker
            // count, no other database).
            if !run
                .cell(&old.name, &cell.workload)
                .is_some_and(|c| std::ptr::eq(c, cell))
            {
                continue;
            }
            let (Some(o), Some(n)) = (
                cell.verdict_capacity(),
                run.cell(&new.name, &cell.workload)
                    .and_then(|c| c.verdict_capacity()),
            ) else {
                continue;
            };
            if o.center() <= 0.0 {
                continue;
            }
            tests.push(VersionTest {
                old,
                new,
                workload: &cell.workload,
                old_capacity: o,
                new_capacity: n,
                order: compare_estimates(&n, &o),
            });
        }
    }
    let tested: Vec<(usize, (f64, bool))> = tests
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let (n, o) = (&t.new_capacity, &t.old_capacity);
            Some((i, (stats::welch_p(n, o)?, n.mean > o.mean)))
        })
        .collect();
    let family: Vec<(f64, bool)> = tested.iter().map(|(_, t)| *t).collect();
    for ((i, _), order) in tested.iter().zip(holm_orders(&family)) {
        tests[*i].order = order;
    }
    tests
}

/// Compare every pair per workload ([`version_tests`]).
fn compare_versions(run: &Run, language: &Language, d: &mut Draft) -> Pairs {
    let label = language.label();
    let mut any_single = false;
    let mut all_slower = true;
    let mut best: Best = None;
    for t in version_tests(run, language) {
        let (n, o) = (&t.new_capacity, &t.old_capacity);
        let speedup = n.center() / o.center() - 1.0;
        d.ev(
            format!(
                "{} capacity, {label} {} → {}",
                t.workload, t.old.runtime_version, t.new.runtime_version
            ),
            Some(&t.new.name),
            speedup * 100.0,
            "% change",
        );
        let single = is_indicative(n, o);
        any_single |= single;
        all_slower &= t.order == Order::Less;
        if t.order == Order::Greater && best.as_ref().is_none_or(|(s, ..)| speedup > *s) {
            best = Some((speedup, t.workload.to_string(), single));
        }
    }
    Pairs {
        best,
        any_single,
        all_slower,
    }
}

/// The verdict from the largest clear improvement, if any was measured. It is
/// indicative when the improvement it names rests on a single trial; "not
/// faster" is when any pair does, since that pair could have been. No clear
/// improvement is "not supported" only when the newer version was clearly
/// slower on every workload; otherwise the test found no clear difference
/// somewhere, which is inconclusive, as for every claim.
fn decide(d: &mut Draft, pairs: Pairs, newer: &str) {
    let Pairs {
        best,
        any_single,
        all_slower,
    } = pairs;
    d.indicative = match &best {
        Some((.., single)) => *single,
        None => any_single,
    };
    match best {
        Some((s, w, _)) => {
            d.verdict = if s >= MEANINGFUL {
                Verdict::Supported
            } else {
                Verdict::Inconclusive
            };
            d.reason = format!(
                "the newer {newer} was up to {:.0}% faster ({w}; tested pairs Holm-corrected at 5% over all of them)",
                s * 100.0
            );
        }
        None if all_slower => {
            d.verdict = Verdict::NotSupported;
            d.reason = format!("the newer {newer} was slower on every workload (tested pairs Holm-corrected at 5% over all of them)");
        }
        None => {
            d.verdict = Verdict::Inconclusive;
            d.reason = format!("the newer {newer} was not measurably faster on any workload: no clear difference on some (tested pairs Holm-corrected at 5% over all of them)");
        }
    }
}

pub(super) fn claim7_python_versions(run: &Run) -> ClaimResult {
    let mut d = Draft::new();
    let best = compare_versions(run, &Language::Python, &mut d);
    if d.evidence.is_empty() {
        d.missing
            .push("the same Python contender on two interpreter versions".into());
        let found = run
            .environment
            .runtimes
            .get(&RuntimeKey::PythonInterpreters)
            .map(String::as_str)
            .unwrap_or("none recorded");
        d.reason = format!(
            "this run measured one Python version (interpreters on this machine: {found}). Measure another with `bakeoff run --python 3.13` (install it first, e.g. `pyenv install 3.13`), which adds each Python contender on that interpreter as `<name>-py313`"
        );
    } else {
        decide(&mut d, best, "interpreter");
    }
    d.finish(
        7,
        "With the latest release and speed optimizations, [Python] has achieved up to 50% speed improvement in some cases.",
        "The same Python contender is measurably faster (≥ 10%) on a newer interpreter in at least one workload.",
        "Capacity of the same contender on each newer CPython version against its oldest, per workload (PyPy is another implementation and is left out).",
    )
}

/// bakeoff's own observation, checked as claim 7 is: not the blog's.
pub(super) fn node_versions_observation(run: &Run) -> ClaimResult {
    let mut d = Draft::new();
    let best = compare_versions(run, &Language::Node, &mut d);
    if d.evidence.is_empty() {
        d.missing
            .push("the same Node.js contender on two Node.js versions".into());
        d.reason = "this run measured one Node.js version. Measure others with `bakeoff run --node 22,24`, which installs them from the npm registry and adds each Node.js contender on them as `<name>-node22`".into();
    } else {
        decide(&mut d, best, "Node.js");
    }
    let mut r = d.finish(
        8,
        "Newer Node.js is faster (bakeoff's own observation, not the blog's).",
        "The same Node.js contender is measurably faster (≥ 10%) on a newer Node.js major in at least one workload.",
        "Capacity of the same contender on each newer Node.js version against its oldest, per workload.",
    );
    r.source = Source::Bakeoff;
    r
}

pub(super) fn version_key(v: &str) -> Vec<u32> {
    v.trim_start_matches(|c: char| !c.is_ascii_digit())
        .split('.')
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        })
        .collect()
}
