//! What an `io` window's upstream calls say about it: every 2xx answer
//! needs one call ([`upstream_check`]), and a delay that ended late was not
//! the known delay the contender was meant to wait ([`judge_upstream`]):
//! bakeoff's upstream shares the generator's core, so its lateness is the
//! machine's or bakeoff's, never the server's.

use bakeoff_load as load;

use super::super::WindowResult;
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
/// stalled or generator-limited keeps its first reason.
pub fn judge_upstream(w: &mut WindowResult, tally: UpstreamTally, late_after_ms: f64, busy: bool) {
    if w.stalled.is_some() || !w.generator_valid || !load::sends_stalled(tally.late, tally.calls) {
        return;
    }
    let share = 100.0 * tally.late as f64 / tally.calls as f64;
    if busy {
        w.generator_valid = false;
        let why = format!(
            "{share:.1}% of bakeoff's upstream answers ended over {late_after_ms:.0} ms past their delay while the generator's core (which the upstream shares) was busy: at this rate bakeoff, not the server, sets the limit"
        );
        w.generator_note = Some(match w.generator_note.take() {
            Some(n) => format!("{why}; {n}"),
            None => why,
        });
    } else {
        w.stalled = Some(format!(
            "{share:.1}% of bakeoff's upstream answers ended over {late_after_ms:.0} ms past their delay (its thread held up by the machine)"
        ));
        w.steal_tolerated = None;
    }
}
