//! A fan-out window on the engine: the room's URL, the abandon rule and the
//! stall bar from the run's SLO, and what the search reads of the report (a
//! sender held up by the machine re-runs the window; one held up by its own
//! load makes it generator-limited).

use bakeoff_load as load;
use tokio_util::sync::CancellationToken;

use super::stall::{stall, tolerated_steal, window_steal, GeneratorLoad};
use super::{drive_error, ms, thirds, EngineDriver};
use crate::suite::{DriveError, WsAbandoned, WsResult, WsSpec};

impl EngineDriver {
    /// One fan-out window of `spec` (see [`crate::suite::Driver::ws_window`]).
    pub(super) async fn fan_out(
        &self,
        spec: &WsSpec,
        cancel: &CancellationToken,
    ) -> Result<WsResult, DriveError> {
        let url = format!("{}/ws", spec.base_url.replacen("http://", "ws://", 1));
        let url = load::Url::parse(&url)
            .map_err(|e| DriveError::caused(format!("bad WebSocket URL {url}"), e))?;
        let config = load::ws::WsConfig {
            clients: spec.clients,
            rate: spec.rate,
            duration: spec.duration,
            warmup: spec.warmup,
            grace: Some(self.grace()),
            pin_cpu: self.pin_cpu,
            // Deliveries, not messages: each message reaches every client.
            abandon: spec.purpose.filter(|p| p.abandons()).map(|_| {
                let deliveries = spec.rate * f64::from(spec.clients);
                load::Abandon::p99_over(self.slo, deliveries, spec.duration)
            }),
            stalled_after: self.stalled_after(),
            ..load::ws::WsConfig::new(url)
        };
        let r = load::ws::run(config, cancel.clone())
            .await
            .map_err(drive_error)?;
        if r.connected == 0 {
            let errors: Vec<String> = r.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            return Err(DriveError::failed(format!(
                "no WebSocket client could join the room ({})",
                errors.join(", ")
            )));
        }
        let watched = self.watched();
        let steal = window_steal(
            r.steal,
            &r.cpu_steal,
            &r.steal_bursts,
            &watched,
            r.elapsed,
            self.steal_limit,
        );
        // Sends the engine itself held up (not a slow room's backpressure,
        // see `WsReport::late_stalled`) are the machine's, unless the
        // generator was busy: then it sets the limit, as in HTTP.
        let busy = GeneratorLoad {
            cpu: r.window_generator_cpu.unwrap_or(0.0),
            core_share: r.window_core_busy,
        };
        let steal_tolerated = tolerated_steal(steal.as_ref());
        let stalled = stall(r.late_stalled, r.sent, steal, busy.busy());
        let mut valid = r.valid;
        let mut warnings = r.warnings.clone();
        if busy.busy() && load::sends_stalled(r.late_stalled, r.sent) {
            valid = false;
            warnings.push(format!(
                "{:.1}% of sends left late through the generator while {}: at this rate the generator, not the room, sets the limit",
                100.0 * r.late_stalled as f64 / r.sent.max(1) as f64,
                busy.describe()
            ));
        }
        Ok(WsResult {
            connected: r.connected,
            sent: r.sent,
            expected_deliveries: r.expected_deliveries,
            deliveries: r.deliveries,
            delivered_in_window: r.delivered_in_window,
            p50_ms: ms(r.latency.value_at_quantile(0.5)),
            p99_ms: ms(r.latency.value_at_quantile(0.99)),
            steal_tolerated: steal_tolerated.filter(|_| stalled.is_none()),
            stalled,
            abandoned: r.abandoned.map(|rule| WsAbandoned {
                rule,
                after: r.elapsed,
            }),
            trend: r.trend.as_ref().map(thirds),
            valid,
            warnings,
        })
    }
}
