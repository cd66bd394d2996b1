//! How cells leave the runner, each written to the sink in its own
//! transaction: finished, failed with their launch, or, when the run is
//! stopped, as they stand (flagged `interrupted`) where they had measured
//! something.

use super::*;

impl PlanExecution<'_> {
    /// The run was stopped: every cell it had measured something of but not
    /// finished (a trial, a start-up) is written as it stands, flagged
    /// `interrupted` (out of verdicts), so a stop during the final pass keeps
    /// the capacity trials. The error to return; writing a cell may fail first.
    pub(super) fn interrupted(&mut self) -> Result<SuiteError, SuiteError> {
        let begun: Vec<CellKey> = self
            .cells
            .iter()
            .filter(|(_, s)| !s.done && (!s.trials.is_empty() || !s.startup_ms.is_empty()))
            .map(|(k, _)| k.clone())
            .collect();
        let (trials, startups) = (self.plan.trials, self.plan.phases.startup_spawns);
        for key in begun {
            let st = self.state(&key);
            let so_far = match key.workload {
                Workload::Startup => format!("{} of {startups} start-up(s)", st.startup_ms.len()),
                _ => format!(
                    "{} of {trials} trial(s){}",
                    st.trials.len(),
                    if st.equal.is_some() {
                        ""
                    } else {
                        ", no equal-load window"
                    }
                ),
            };
            let note = format!("the run was stopped before this cell was finished: {so_far}");
            st.flag(Flag::Interrupted, note);
            self.emit(&key)?;
        }
        Ok(SuiteError::Interrupted {
            finished: self.emitted.len(),
            probes: Box::new(self.probes.summary()),
            source: crate::Interrupted,
        })
    }

    /// Every unfinished cell of this contender at this worker count fails,
    /// among those measured on the launch's database.
    pub(super) fn fail_group(&mut self, launch: &Launch, reason: &str) -> Result<(), Abort> {
        let plan = self.plan;
        let keys: Vec<CellKey> = self
            .cells
            .iter()
            .filter(|(k, s)| {
                k.contender == launch.contender
                    && k.workers == launch.workers
                    && plan.measured_on(k, launch.database)
                    && s.pending()
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.state(&key).failed = Some(reason.to_string());
            self.emit(&key)?;
        }
        Ok(())
    }

    /// Build the cell from its state, hand it to the sink, and mark it done.
    pub(super) fn emit(&mut self, key: &CellKey) -> Result<(), SuiteError> {
        let cap1 = self
            .cells
            .get(&CellKey {
                workers: 1,
                ..key.clone()
            })
            .and_then(CellState::median_capacity);
        let cores = self.plan.contender_cores;
        let cell = self.state(key).finish(key, cap1, cores);
        self.sink.cell_finished(&cell).map_err(SuiteError::Sink)?;
        self.emitted.push(cell);
        Ok(())
    }
}
