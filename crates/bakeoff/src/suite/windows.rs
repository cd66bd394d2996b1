//! The search's view of a target: [`HttpWindows`] drives a workload's HTTP
//! mix through a [`Driver`], [`WsWindows`] a WebSocket room's fan-out, and both
//! reduce a window to the [`Observed`] figures the search judges.

use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::search::{Observed, Probe, Windows};
use super::{DriveError, Driver, WindowResult, WindowSpec, WsResult, WsSpec};
use crate::workload::Workload;

/// A workload's HTTP windows against one contender.
pub struct HttpWindows<'a> {
    pub driver: &'a dyn Driver,
    pub contender: &'a str,
    pub base_url: &'a str,
    pub workload: Workload,
    /// The database a database workload reads (none for the others).
    pub database: Option<crate::database::Database>,
}

impl Windows for HttpWindows<'_> {
    fn run<'a>(
        &'a self,
        probe: Probe,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Observed, DriveError>> {
        Box::pin(async move {
            let spec = WindowSpec {
                contender: self.contender.to_string(),
                base_url: self.base_url.to_string(),
                workload: self.workload.clone(),
                database: self.database,
                rate: probe.rate,
                duration: probe.duration,
                warmup: probe.warmup,
                purpose: probe.purpose,
            };
            let r = self.driver.http_window(&spec, cancel).await?;
            Ok(observed(&r))
        })
    }
}

/// What the search judges of an HTTP window.
pub fn observed(r: &WindowResult) -> Observed {
    Observed {
        achieved: r.achieved_rps,
        p50_ms: r.latency.p50,
        p99_ms: r.latency.p99,
        error_rate: r.error_rate(),
        answered_error_rate: r.answered_error_rate(),
        trend: r.trend,
        generator_limited: (!r.generator_valid).then(|| {
            r.generator_note
                .clone()
                .unwrap_or_else(|| "the generator fell behind its schedule".into())
        }),
        stalled: r.stalled.clone(),
        steal_tolerated: r.steal_tolerated.clone(),
        notes: r.notes.clone(),
        outstanding: r.outstanding,
        served: r.served_rps,
        duration: r.duration,
        abandoned: r.abandoned,
        generator_threads: r.generator_threads,
    }
}

/// Fan-out windows: `clients` in one room, the search's rate in messages per
/// second into it. A window passes when every delivery arrives, and the
/// delivery p99 (from each message's intended send) meets the SLO.
pub struct WsWindows<'a> {
    pub driver: &'a dyn Driver,
    pub base_url: &'a str,
    pub clients: u32,
    /// Each window lasts long enough for this many deliveries.
    pub min_deliveries: u64,
}

impl WsWindows<'_> {
    /// The window's length at `rate`: the probe's, stretched to reach the
    /// minimum number of deliveries.
    pub fn duration(&self, rate: f64, probe: Duration) -> Duration {
        let per_second = rate.max(1e-3) * f64::from(self.clients.max(1));
        probe.max(Duration::from_secs_f64(
            self.min_deliveries as f64 / per_second,
        ))
    }
}

impl Windows for WsWindows<'_> {
    fn run<'a>(
        &'a self,
        probe: Probe,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Observed, DriveError>> {
        Box::pin(async move {
            let spec = WsSpec {
                base_url: self.base_url.to_string(),
                clients: self.clients,
                rate: probe.rate,
                duration: self.duration(probe.rate, probe.duration),
                warmup: probe.warmup.max(),
                purpose: Some(probe.purpose),
            };
            let r = self.driver.ws_window(&spec, cancel).await?;
            Ok(ws_observed(&r, &spec))
        })
    }
}

/// What the search judges of a fan-out window.
pub fn ws_observed(r: &WsResult, spec: &WsSpec) -> Observed {
    let duration = r.abandoned.map_or(spec.duration, |a| a.after);
    let secs = duration.as_secs_f64().max(1e-9);
    // Never more than the room fanned out inside the window: deliveries up
    // to the cutoff, over the window alone, would read up to (window + grace)
    // ÷ window times its throughput (as HTTP's achieved rate).
    let per_client = r.deliveries.min(r.delivered_in_window) as f64 / f64::from(r.connected.max(1));
    let missing = r.expected_deliveries.saturating_sub(r.deliveries);
    let mut error_rate = if r.expected_deliveries == 0 {
        1.0
    } else {
        missing as f64 / r.expected_deliveries as f64
    };
    // Clients the server refused are failures of the server, not of the generator.
    let all_joined = r.connected >= spec.clients;
    if !all_joined {
        error_rate = error_rate.max(1.0 - f64::from(r.connected) / f64::from(spec.clients));
    }
    Observed {
        achieved: per_client / secs,
        p50_ms: r.p50_ms,
        p99_ms: r.p99_ms,
        error_rate,
        // Clients the server refused; a missing delivery may be a slow one's.
        answered_error_rate: 1.0
            - f64::from(r.connected.min(spec.clients)) / f64::from(spec.clients.max(1)),
        trend: r.trend,
        generator_limited: (!r.valid && all_joined).then(|| r.warnings.join("; ")),
        stalled: r.stalled.clone(),
        steal_tolerated: r.steal_tolerated.clone(),
        // Messages the room had not yet fanned out when the window ended:
        // it works through them before the next window (see `Search::drain`).
        outstanding: r
            .sent
            .saturating_sub(r.deliveries / u64::from(r.connected.max(1))),
        served: 0.0,
        duration,
        abandoned: r.abandoned.map(|a| a.rule),
        generator_threads: 1,
        notes: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StepVerdict;
    use crate::suite::search::{judge, Judgement, Thirds};
    use crate::suite::{WindowPurpose, WsAbandoned};
    use crate::workload::RateUnit;

    fn spec() -> WsSpec {
        WsSpec {
            base_url: "http://127.0.0.1:1".into(),
            clients: 10,
            rate: 500.0,
            duration: Duration::from_secs(5),
            warmup: Duration::ZERO,
            purpose: Some(WindowPurpose::Confirm),
        }
    }

    fn delivered(sent: u64, deliveries: u64) -> WsResult {
        WsResult {
            connected: 10,
            sent,
            expected_deliveries: sent * 10,
            deliveries,
            delivered_in_window: deliveries,
            p50_ms: 5.0,
            p99_ms: 40.0,
            valid: true,
            ..WsResult::default()
        }
    }

    /// A room whose median delivery latency climbs across a window it
    /// otherwise passes (p99 under the SLO, nothing missing) is overloaded:
    /// the fan-out windows get the HTTP windows' backlog test.
    #[test]
    fn a_fan_out_windows_rising_latency_fails_it() {
        let flat = Thirds {
            p50_ms: [5.0, 5.5, 5.2],
            p90_ms: [9.0, 9.5, 9.2],
        };
        let rising = Thirds {
            p50_ms: [5.0, 25.0, 45.0],
            p90_ms: [9.0, 30.0, 50.0],
        };
        let judged = |trend| {
            let r = WsResult {
                trend: Some(trend),
                ..delivered(2_500, 25_000)
            };
            judge(&ws_observed(&r, &spec()), 500.0, 100.0, RateUnit::Messages)
        };
        assert_eq!(judged(flat).verdict, StepVerdict::Pass);
        let Judgement {
            verdict, reasons, ..
        } = judged(rising);
        assert_eq!(verdict, StepVerdict::Fail);
        assert!(reasons[0].starts_with("backlog grew"), "{reasons:?}");
    }

    /// A fan-out window's achieved rate is what the room fanned out inside
    /// it: every delivery by the cutoff (the grace's included) would read a
    /// room of 300 msg/s as keeping up with 500.
    #[test]
    fn a_fan_out_windows_achieved_rate_is_what_arrived_inside_it() {
        let r = WsResult {
            delivered_in_window: 15_000,
            ..delivered(2_500, 25_000)
        };
        let o = ws_observed(&r, &spec());
        assert!((o.achieved - 300.0).abs() < 1e-9, "{}", o.achieved);
        let j = judge(&o, 500.0, 100.0, RateUnit::Messages);
        assert_eq!(j.verdict, StepVerdict::Fail);
        assert!(
            j.reasons[0].starts_with("achieved 300 of 500"),
            "{:?}",
            j.reasons
        );
    }

    /// An abandoned fan-out window is judged over what ran, fails as
    /// stopped, and leaves what the room had not fanned out to drain.
    #[test]
    fn an_abandoned_fan_out_window_is_judged_over_what_ran() {
        let r = WsResult {
            abandoned: Some(WsAbandoned {
                rule: bakeoff_load::Abandoned {
                    planned: Duration::from_secs(5),
                    over: 300,
                    growth: None,
                },
                after: Duration::from_millis(500),
            }),
            p99_ms: 140.0,
            ..delivered(250, 1_500)
        };
        let o = ws_observed(&r, &spec());
        assert_eq!(o.duration, Duration::from_millis(500));
        // 150 of the 250 messages reached every client, over half a second.
        assert!((o.achieved - 300.0).abs() < 1e-9, "{}", o.achieved);
        assert_eq!(o.outstanding, 100);
        let Judgement {
            verdict, reasons, ..
        } = judge(&o, 500.0, 100.0, RateUnit::Messages);
        assert_eq!(verdict, StepVerdict::Fail);
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("stopped after 0.50 of 5.00 s")),
            "{reasons:?}"
        );
        // A window that ran its length had nothing left in the room.
        let full = ws_observed(&delivered(2_500, 25_000), &spec());
        assert_eq!(
            (full.outstanding, full.duration),
            (0, Duration::from_secs(5))
        );
    }

    /// A fan-out window's errors say what they were in a room's words:
    /// deliveries missing at the cutoff, clients the server refused, or
    /// both (the error share is the larger of the two, which do not add up).
    #[test]
    fn a_fan_out_windows_errors_say_what_went_missing() {
        let errors = |r: &WsResult| {
            let j = judge(&ws_observed(r, &spec()), 500.0, 100.0, RateUnit::Messages);
            assert_eq!(j.verdict, StepVerdict::Fail);
            j.reasons
                .into_iter()
                .find(|r| r.contains("errors"))
                .expect("an errors reason")
        };
        // 5% of 25,000 deliveries missing, every client joined.
        assert_eq!(
            errors(&delivered(2_500, 23_750)),
            "5.00% errors > 0.1% (deliveries missing at the cutoff)"
        );
        // Two of ten clients refused; the eight joined got everything.
        let refused = WsResult {
            connected: 8,
            expected_deliveries: 20_000,
            ..delivered(2_500, 20_000)
        };
        assert_eq!(
            errors(&refused),
            "20.00% errors > 0.1% (clients the server refused)"
        );
        // One refused, and 30% of the nine's deliveries missing.
        let both = WsResult {
            connected: 9,
            expected_deliveries: 22_500,
            ..delivered(2_500, 15_750)
        };
        assert_eq!(
            errors(&both),
            "30.00% errors > 0.1% (10.00% of the clients refused, 30.00% of the deliveries missing at the cutoff)"
        );
    }
}
