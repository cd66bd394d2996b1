//! A window's time: run within the search's deadline, and the wait for an
//! overloaded server to drain before the next.

use std::time::Duration;

use tokio::time::Instant;

use super::{DriveError, Observed, Probe, Search};

impl Search<'_> {
    /// Run one window within the deadline: `None` when it would not end
    /// before it (not started) or was still running at it (stopped).
    pub(super) async fn run_window(&self, probe: Probe) -> Result<Option<Observed>, DriveError> {
        let Some(deadline) = self.deadline else {
            return self.windows.run(probe, self.cancel).await.map(Some);
        };
        if Instant::now() + probe.warmup.max() + probe.duration > deadline {
            return Ok(None);
        }
        let stop = self.cancel.child_token();
        let run = self.windows.run(probe, &stop);
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r.map(Some),
            _ = tokio::time::sleep_until(deadline) => {
                // Stopped by us, not the user: wait for it to let go of the
                // target, and ignore what it says.
                stop.cancel();
                let _ = run.await;
                if self.cancel.is_cancelled() {
                    return Err(DriveError::Cancelled);
                }
                Ok(None)
            }
        }
    }

    pub(super) fn out_of_time(&self) -> String {
        let limit = self.cfg.deadline.unwrap_or_default().as_secs_f64();
        format!("the search stopped at its {limit:.0} s limit on the whole search (--max-time)")
    }

    /// After an overloaded window the server still works through the requests
    /// it queued; starting the next window before it has would charge them to it.
    pub(super) async fn drain(&self, o: &Observed) -> Result<(), DriveError> {
        if o.outstanding == 0 {
            return Ok(());
        }
        // An abandoned window's achieved rate is low by what it censored.
        let secs = 1.2 * o.outstanding as f64 / o.achieved.max(o.served).max(1.0);
        let wait = Duration::from_secs_f64(secs.min(self.cfg.max_drain.as_secs_f64()));
        // Past the deadline no window starts, so there is nothing to drain for.
        let until = self
            .deadline
            .map_or(Instant::now() + wait, |d| d.min(Instant::now() + wait));
        tokio::select! {
            _ = tokio::time::sleep_until(until) => Ok(()),
            _ = self.cancel.cancelled() => Err(DriveError::Cancelled),
        }
    }
}
