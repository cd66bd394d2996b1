//! What an `io` window's upstream calls say about it: every 2xx answer
//! needs one call ([`upstream_check`]), and a delay that ended late was not
//! the known delay the contender was meant to wait ([`judge_upstream`]):
//! bakeoff's upstream shares the generator's core, so its lateness is the
//! machine's or bakeoff's, never the server's.

use bakeoff_load as load;

use super::super::WindowResult;
use super::stall::GeneratorLoad;
use crate::model::Consistency;
use crate::workload::upstream::UpstreamTally;

/// Every successful `/io` answer needs one upstream call: ok ≤ calls over the
/// whole window, or some answers did not come from the upstream. (More calls
/// than sends can be an earlier window's abandoned requests finishing: noted,
/// not a failure.)
pub fn upstream_check(calls: u64, r: &load::LoadReport) -> Consistency {
    let ok = r.ok_all <= calls;
    Consistency {
        check: "upstream calls".into(),
        ok,
        detail: format!(
            "the upstream received {calls} calls for {} requests sent and {} answered 2xx{}",
            r.sent_all,
            r.ok_all,
            if ok {
                ""
            } else {
                ": some answers did not come from the upstream (a cache, or a fake)"
            }
        ),
    }
}

/// Apply the upstream's lateness to `w`, a window judged so far on the
/// generator's readings: more than 1% of the window's calls (and at least
/// three, as for late sends) answered past `late_after_ms` makes it the
/// machine's (a stall, re-run) when the generator's core was otherwise idle,
/// and bakeoff's limit (generator-limited) when that core was busy, since a
/// retry at the same rate would be held up the same way. A window already
/// stalled or generator-limited keeps its first reason. Either reason states
/// the generator's load, so a reader can tell the two apart.
///
/// Except where the server failed on its own: each late answer held one
/// request up (and, on a worker that waits, the requests queued behind it),
/// so a window whose failed or unserved share is more than
/// [`BEYOND_LATE`] times the late share failed beyond anything the lateness
/// could cause. Its verdict stands, the lateness disclosed in its reasons:
/// an overloaded contender's bursts of new upstream connections hold the
/// upstream's thread up themselves, so voiding such windows would re-run
/// overloads as stalls.
pub fn judge_upstream(
    w: &mut WindowResult,
    tally: UpstreamTally,
    late_after_ms: f64,
    load: GeneratorLoad,
) {
    if w.stalled.is_some() || !w.generator_valid || !load::sends_stalled(tally.late, tally.calls) {
        return;
    }
    let late_share = tally.late as f64 / tally.calls as f64;
    let late = format!(
        "{:.1}% of bakeoff's upstream answers ended over {late_after_ms:.0} ms past their delay",
        100.0 * late_share
    );
    let failed = failed_share(w);
    if failed > BEYOND_LATE * late_share {
        w.notes.push(format!(
            "{late}, while {:.0}% of the window's requests failed or went unserved: more than the lateness could cause, so the verdict is the server's",
            100.0 * failed
        ));
        return;
    }
    if load.busy() {
        w.generator_valid = false;
        let why = format!(
            "{late} while {} (the upstream shares that core): at this rate bakeoff, not the server, sets the limit",
            load.describe()
        );
        w.generator_note = Some(match w.generator_note.take() {
            Some(n) => format!("{why}; {n}"),
            None => why,
        });
    } else {
        w.stalled = Some(format!(
            "{late} (its thread held up by the machine, while {})",
            load.describe()
        ));
        w.steal_tolerated = None;
    }
}

/// How many times the late share a window's failed share must be before its
/// failure is the server's own: one request per late answer, and as many
/// again queued behind the workers those answers held.
pub const BEYOND_LATE: f64 = 2.0;

/// The share of the window's requests that failed (errors, the unanswered at
/// the cutoff among them), or its shortfall from the target rate, whichever
/// is larger.
fn failed_share(w: &WindowResult) -> f64 {
    let short = if w.target_rps > 0.0 {
        1.0 - w.achieved_rps / w.target_rps
    } else {
        0.0
    };
    w.error_rate().max(short).clamp(0.0, 1.0)
}
