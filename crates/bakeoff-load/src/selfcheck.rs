//! The self-check of a finished run: whether the generator, not the server,
//! limited it (its thread's CPU), and whether the machine held its sends up.
//! One set of rules for the HTTP and WebSocket engines and the suite.

use std::time::Duration;

use crate::engine::RawReport;
use crate::sys::Usage;
use crate::{ErrorKind, LoadReport};

/// The self-check's rule, one for the HTTP and WebSocket engines and the suite:
/// the generator's thread used over 90% of a core, or over 80% while it fell
/// more than 5% behind its target rate, so it, not the server, may have
/// limited the window. `cpu` is the share of a core; returns why, if so.
pub fn generator_saturated(cpu: f64, achieved: f64, target: Option<f64>) -> Option<String> {
    let behind = target.filter(|&t| achieved < 0.95 * t);
    if cpu > 0.9 {
        Some(format!(
            "the load generator used {:.0}% of a core: it, not the server, may have limited the results",
            cpu * 100.0
        ))
    } else {
        behind.filter(|_| cpu > 0.8).map(|t| {
            format!(
                "achieved {achieved:.0} of the {t:.0} req/s target while the generator was near saturation ({:.0}% of a core)",
                cpu * 100.0
            )
        })
    }
}

/// The self-check: generator CPU and whether the generator limited the rate.
pub(crate) fn finish_report(raw: RawReport, usage: Usage) -> LoadReport {
    let mut r = raw.report;
    r.generator_cpu_s = usage.cpu.as_secs_f64();
    r.generator_wall_s = usage.stolen.wall.as_secs_f64();
    r.generator_core_busy = usage.core_busy;
    // The window's steal where the engine measured one, else the run's.
    let stolen = raw.window_steal.as_ref().unwrap_or(&usage.stolen);
    r.steal = stolen.machine;
    r.cpu_steal = stolen.cpus.clone();
    r.steal_bursts = stolen.bursts.clone();
    let cpu = usage.cpu_fraction();
    if let Some(why) = generator_saturated(cpu, r.achieved_rate, r.target_rate) {
        r.valid = false;
        r.warnings.push(why);
    } else if let Some(target) = r.target_rate.filter(|&t| r.achieved_rate < 0.95 * t) {
        r.warnings.push(format!(
            "the server fell behind: achieved {:.0} of the {:.0} req/s target with {} connections; the corrected latency includes the queueing",
            r.achieved_rate, target, raw.connections
        ));
    }
    // Non-2xx and missed expectations are counted as answers and as errors.
    let answered_errors = [ErrorKind::Status, ErrorKind::Expectation]
        .iter()
        .map(|k| r.errors.get(k).unwrap_or(&0))
        .sum::<u64>();
    let sends = r.requests + r.error_count() - answered_errors;
    let stalls = Stalls {
        late_stalled: r.late_stalled,
        sends,
        after: raw.stalled_after,
        max_lag: r.max_send_lag,
    };
    if let Some(w) = stall_warning(&stalls, r.steal) {
        r.warnings.push(w);
    }
    if r.requests == 0 && r.valid {
        r.valid = false;
        r.warnings.push("no request got a response".into());
    }
    r
}

/// The rule for a machine that held the generator up, one for `bakeoff load`'s
/// warning and the suite's retry: more than 1% of the sends, and at least
/// three, left late through the engine's own delay (at a few dozen sends per
/// window one late send is several percent, and says nothing).
pub fn sends_stalled(late_stalled: u64, sends: u64) -> bool {
    sends > 0 && late_stalled >= 3 && late_stalled * 100 > sends
}

/// The sends a run's thread held up: how many, of how many, past what lag.
#[derive(Debug, Clone, Copy)]
struct Stalls {
    late_stalled: u64,
    sends: u64,
    after: Duration,
    max_lag: Duration,
}

/// A warning when [`sends_stalled`].
/// Not a reason to mark the run invalid: the corrected latency stays honest (it
/// counts from the intended time), but part of it is then the machine's.
/// `steal` is the share of the machine's CPU time its hypervisor took, named
/// when it is large enough to explain the delays.
fn stall_warning(s: &Stalls, steal: Option<f64>) -> Option<String> {
    let Stalls {
        late_stalled,
        sends,
        after,
        max_lag,
    } = *s;
    sends_stalled(late_stalled, sends).then(|| {
        let stolen = match steal {
            Some(share) if share >= 0.02 => format!(
                "; meanwhile the hypervisor took {:.0}% of this machine's CPU time (steal)",
                share * 100.0
            ),
            _ => String::new(),
        };
        format!(
            "{late_stalled} sends ({:.1}%) left over {} ms late through the generator, not the \
             server: its thread was held up (a busy or stalling machine; the longest lag was \
             {:.0} ms), and the corrected latency includes those delays{stolen}",
            100.0 * late_stalled as f64 / sends as f64,
            after.as_millis(),
            max_lag.as_secs_f64() * 1000.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stalls(late_stalled: u64, sends: u64) -> Stalls {
        Stalls {
            late_stalled,
            sends,
            after: Duration::from_millis(2),
            max_lag: Duration::from_millis(230),
        }
    }

    #[test]
    fn stalls_past_one_percent_of_sends_are_named() {
        assert_eq!(stall_warning(&stalls(10, 1000), None), None);
        let w = stall_warning(&stalls(11, 1000), Some(0.01)).unwrap();
        assert!(w.starts_with("11 sends (1.1%) left over 2 ms late"), "{w}");
        assert!(w.contains("held up") && w.contains("230 ms"), "{w}");
        assert!(!w.contains("steal"), "1% steal explains nothing: {w}");
        let w = stall_warning(&stalls(300, 1000), Some(0.27)).unwrap();
        assert!(
            w.ends_with("took 27% of this machine's CPU time (steal)"),
            "{w}"
        );
        assert_eq!(stall_warning(&stalls(0, 0), None), None);
        // One or two late sends in a window of 50 are not a stalled machine.
        assert_eq!(stall_warning(&stalls(2, 50), None), None);
        assert!(stall_warning(&stalls(3, 50), None).is_some());
        let later = Stalls {
            after: Duration::from_millis(5),
            ..stalls(11, 1000)
        };
        let w = stall_warning(&later, None).unwrap();
        assert!(w.contains("left over 5 ms late"), "{w}");
    }

    /// A burst of steal in a short window is read over the window, not
    /// diluted by the run's connects, priming and grace around it.
    #[test]
    fn the_steal_is_the_windows_where_the_engine_read_one() {
        use crate::StealShares;
        let shares = |wall_ms, machine: f64| StealShares {
            wall: Duration::from_millis(wall_ms),
            machine: Some(machine),
            cpus: vec![machine * 2.0, 0.0],
            bursts: Vec::new(),
        };
        let usage = Usage {
            cpu: Duration::from_millis(100),
            stolen: shares(700, 0.012),
            core_busy: None,
        };
        let raw = |window_steal| RawReport {
            report: crate::shard::tests::report_of(&[1_000; 10], Some(10.0)),
            connections: 1,
            started_at: std::time::SystemTime::now(),
            stalled_after: Duration::from_millis(2),
            window_steal,
        };
        let r = finish_report(raw(Some(shares(300, 0.028))), usage.clone());
        assert_eq!(r.steal, Some(0.028));
        assert_eq!(r.cpu_steal, vec![0.056, 0.0]);
        // No window measured (a run without one): the run's.
        let r = finish_report(raw(None), usage);
        assert_eq!(r.steal, Some(0.012));
    }
}
