//! The final launch's windows of a contender: the equal-load window of each
//! HTTP workload (latency, CPU per request and memory at one rate for every
//! contender) and the WebSocket memory points. Both follow the search's stall
//! rule ([`until_clean`]): a window the machine stalled is run again, and one
//! that never runs clean flags the cell's figures `equal-load-stalled`. A
//! cell whose rate was set without its capacity is flagged `equal-load-unbased`.

use super::*;

impl PlanExecution<'_> {
    pub(super) async fn equal_load(
        &mut self,
        key: &CellKey,
        url: &str,
        procs: &ProcessSet,
        idle_cpu: Option<f64>,
    ) -> Result<(), DriveError> {
        let Some(equal) = self.equal_rates.get(self.plan, key) else {
            self.state(key)
                .notes
                .push("no equal-load window: no contender met the SLO on this workload".into());
            return Ok(());
        };
        let rate = equal.rps;
        if self.state(key).equal_load_unbased(rate) {
            // Its window runs, for what it shows, but may overload it.
            let why = if self.state(key).median_capacity() == Some(0.0) {
                format!("the equal-load rate {rate} req/s is above what this contender sustains: its clean trials met the SLO at no rate")
            } else {
                format!("the equal-load rate {rate} req/s was set without this contender's capacity (no clean trial); it may be above what it sustains")
            };
            self.state(key).flag(Flag::EqualLoadUnbased, why);
        }
        if let Some(run) = equal.reused_from {
            self.state(key).notes.push(format!(
                "equal-load rate {rate} req/s as in run {run} (the same plan), still between a quarter and three quarters of the lowest capacity"
            ));
        }
        let p = &self.plan.phases;
        let settle = self.plan.scaled(p.step_warmup);
        self.report(
            &key.to_string(),
            ProgressPhase::EqualLoad,
            Some((rate, &key.workload)),
            None,
        );
        // Warm up apart from the measured window, so its CPU is not charged.
        let warm = WindowSpec {
            contender: key.contender.clone(),
            base_url: url.to_string(),
            workload: key.workload.clone(),
            database: key.database,
            rate,
            duration: settle,
            warmup: Warmup::Adaptive {
                max: self.plan.scaled(p.equal_warmup_max),
            },
            purpose: WindowPurpose::EqualLoad,
        };
        self.driver.http_window(&warm, self.cancel).await?;
        let spec = WindowSpec {
            duration: self.plan.scaled(p.equal_window),
            warmup: Warmup::Fixed(settle),
            ..warm
        };
        let (driver, sampler, cancel, spec) = (self.driver, self.sampler, self.cancel, &spec);
        let tries = until_clean(
            self.plan.phases.max_retries,
            cancel,
            move || async move {
                let (res, usage, secs) =
                    sampled_around(sampler, procs, driver.http_window(spec, cancel)).await;
                res.map(|r| (r, usage, secs))
            },
            |(r, _, _)| r.stalled.clone(),
        )
        .await?;
        self.record_stalls(
            key,
            &format!("the equal-load window at {rate:.0} req/s"),
            &tries,
        );
        let (r, usage, sampled_secs) = tries.last;
        self.report(
            &key.to_string(),
            ProgressPhase::EqualLoad,
            Some((r.achieved_rps, &key.workload)),
            Some(r.latency.p99),
        );
        let st = self.state(key);
        let cost = match usage {
            Ok(u) if r.achieved_rps > 0.0 && sampled_secs > 0.0 => {
                if !u.pss {
                    st.notes
                        .push("memory is RSS: this kernel gave no PSS".into());
                }
                let (cpu_seconds, secs) =
                    u.cpu_of_window(r.measured_from, r.duration, sampled_secs);
                let u = ResourceUsage { cpu_seconds, ..u };
                let cost = Cost::of(&u, secs, r.achieved_rps, idle_cpu);
                if let (Some(idle), None) = (idle_cpu, cost.marginal_cpu_ms) {
                    st.notes.push(format!(
                        "no marginal CPU at equal load: the idle baseline ({idle:.3} cores, read right after start-up) was above the window's {:.3}",
                        cpu_seconds / secs
                    ));
                }
                Some(cost)
            }
            Ok(_) => None,
            Err(e) => {
                st.notes.push(format!(
                    "{}; CPU and memory at equal load not measured",
                    chain(&e)
                ));
                None
            }
        };
        if r.achieved_rps < MIN_ACHIEVED_RATIO * rate {
            st.notes.push(format!(
                "at the equal-load rate of {rate:.0} req/s it achieved only {:.0} req/s",
                r.achieved_rps
            ));
        }
        if !r.generator_valid {
            st.flag(
                Flag::GeneratorLimited,
                format!(
                    "the load generator fell behind during the equal-load window{}",
                    r.generator_note
                        .as_ref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                ),
            );
        }
        if let Some(c) = r.consistency.as_ref().filter(|c| !c.ok) {
            st.flag(Flag::Inconsistent, format!("{}: {}", c.check, c.detail));
        }
        st.equal = Some(EqualLoad {
            target_rps: rate,
            achieved_rps: r.achieved_rps,
            requests: r.requests,
            errors: r.errors,
            latency: r.latency,
            service: r.service,
            light: r.light,
            spectrum: r.spectrum,
            service_spectrum: r.service_spectrum,
            cpu_ms_per_request: cost.as_ref().map(|c| c.cpu_ms),
            idle_cpu_cores: idle_cpu,
            marginal_cpu_ms_per_request: cost.as_ref().and_then(|c| c.marginal_cpu_ms),
            database_cpu_ms_per_request: r
                .database_cpu_cores
                .filter(|_| r.achieved_rps > 0.0)
                .map(|cores| cores / r.achieved_rps * 1000.0),
            rss_peak_bytes: cost.as_ref().map(|c| c.peak),
            rss_mean_bytes: cost.as_ref().map(|c| c.mean),
            timeline: r.timeline,
            consistency: r.consistency,
            histograms: r.histograms,
        });
        Ok(())
    }

    /// Memory per connection and fan-out latency at each client count, in a
    /// launch of their own (`Plan::launches`): each point's memory is what
    /// the process grew by from its idle memory, sampled once before the
    /// first point, to hold that many clients. A heap keeps the pages it
    /// grew to, so neither earlier HTTP windows (node-express after its
    /// equal-load windows: 3 bytes per connection) nor the smaller point
    /// before may lend it room.
    pub(super) async fn ws_points(
        &mut self,
        key: &CellKey,
        url: &str,
        procs: &ProcessSet,
    ) -> Result<(), DriveError> {
        let rate = self.plan.phases.ws_rate;
        let idle = match self
            .sampled(procs, self.plan.scaled(self.plan.phases.idle_sample))
            .await
        {
            Ok(u) => Ok(u.mem_mean_bytes),
            Err(Unsampled::Failed(e)) => Err(e),
            Err(Unsampled::Cancelled) => return Err(DriveError::Cancelled),
        };
        for clients in self.plan.ws_clients() {
            if self.cancel.is_cancelled() {
                return Err(DriveError::Cancelled);
            }
            self.report(
                &key.to_string(),
                ProgressPhase::Ws { clients },
                Some((rate, &Workload::Ws)),
                None,
            );
            let windows = WsWindows {
                driver: self.driver,
                base_url: url,
                clients,
                min_deliveries: self.plan.ws_min_deliveries(),
            };
            let spec = WsSpec {
                base_url: url.to_string(),
                clients,
                rate,
                duration: windows.duration(rate, self.plan.scaled(self.plan.phases.ws_window)),
                warmup: Duration::ZERO,
                purpose: None,
            };
            let (driver, sampler, cancel, ws) = (self.driver, self.sampler, self.cancel, &spec);
            let tries = until_clean(
                self.plan.phases.max_retries,
                cancel,
                move || async move {
                    let (res, usage, _) =
                        sampled_around(sampler, procs, driver.ws_window(ws, cancel)).await;
                    res.map(|r| (r, usage.map(|u| u.mem_peak_bytes)))
                },
                |(r, _)| r.stalled.clone(),
            )
            .await?;
            self.record_stalls(
                key,
                &format!("the ws window with {clients} clients"),
                &tries,
            );
            let (r, loaded) = tries.last;
            let st = self.state(key);
            let (idle, loaded) = match (&idle, &loaded) {
                (Ok(i), Ok(l)) => (*i, *l),
                (Err(e), _) | (_, Err(e)) => {
                    let note = format!("{}; ws memory not measured", chain(e));
                    if !st.notes.contains(&note) {
                        st.notes.push(note);
                    }
                    (0, 0)
                }
            };
            let measured = idle > 0 && loaded > 0;
            if r.connected < clients {
                st.notes.push(format!(
                    "only {} of {clients} ws clients connected",
                    r.connected
                ));
            }
            for w in &r.warnings {
                let note = format!("ws {clients} clients: {w}");
                if !st.notes.contains(&note) {
                    st.notes.push(note);
                }
            }
            if !r.valid {
                st.flag(
                    Flag::GeneratorLimited,
                    format!(
                        "ws {clients} clients: the window is not valid ({})",
                        r.warnings.join("; ")
                    ),
                );
            }
            st.ws.push(WsPoint {
                clients,
                rate: spec.rate,
                sent: r.sent,
                expected_deliveries: r.expected_deliveries,
                deliveries: r.deliveries,
                missing: r.expected_deliveries.saturating_sub(r.deliveries),
                p50_ms: r.p50_ms,
                p99_ms: r.p99_ms,
                rss_idle_bytes: idle,
                rss_loaded_bytes: loaded,
                bytes_per_connection: measured
                    .then(|| (loaded as f64 - idle as f64) / clients.max(1) as f64),
            });
        }
        Ok(())
    }
}

/// One final window after the search's stall rule ([`Observed::stalled`]):
/// the last run, and why each stalled run did.
///
/// [`Observed::stalled`]: crate::suite::search::Observed::stalled
struct Tries<T> {
    last: T,
    stalls: Vec<String>,
    clean: bool,
}

/// Run a final window again while the machine stalls it, at most
/// `max_retries` times, as the search does (`phases.max_retries`): a stalled
/// window's latency and CPU are the machine's, not the server's.
async fn until_clean<T, Fut>(
    max_retries: u32,
    cancel: &CancellationToken,
    mut run: impl FnMut() -> Fut,
    stalled: impl Fn(&T) -> Option<String>,
) -> Result<Tries<T>, DriveError>
where
    Fut: std::future::Future<Output = Result<T, DriveError>>,
{
    let mut stalls = Vec::new();
    loop {
        if cancel.is_cancelled() {
            return Err(DriveError::Cancelled);
        }
        let last = run().await?;
        let Some(why) = stalled(&last) else {
            return Ok(Tries {
                last,
                stalls,
                clean: true,
            });
        };
        stalls.push(why);
        if stalls.len() > max_retries as usize {
            return Ok(Tries {
                last,
                stalls,
                clean: false,
            });
        }
    }
}

impl PlanExecution<'_> {
    /// Every stalled attempt is a note; no clean window flags the cell's
    /// equal-load figures, which verdicts then leave out.
    fn record_stalls<T>(&mut self, key: &CellKey, what: &str, tries: &Tries<T>) {
        let n = tries.stalls.len() + usize::from(tries.clean);
        let st = self.state(key);
        for (i, why) in tries.stalls.iter().enumerate() {
            st.notes
                .push(format!("{what}, attempt {} of {n}, stalled: {why}", i + 1));
        }
        if !tries.clean {
            st.flag(
                Flag::EqualLoadStalled,
                format!("{what} had no clean run in {n} attempts: the machine stalled each"),
            );
        }
    }
}
