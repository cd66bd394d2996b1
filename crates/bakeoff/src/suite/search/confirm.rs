//! The long windows: the candidate held for confirmation windows, and below
//! a failure, a search with windows of that length, so a capacity is a rate
//! that held one with a long failure (or the search's bound) within the
//! resolution above it.

use std::time::Duration;

use tokio::time::Instant;

use super::{
    at_least, Attempt, DriveError, LongWindows, Probe, Search, StepPhase, StepVerdict, Warmup,
    WindowPurpose,
};

impl Search<'_> {
    /// Hold the candidate for confirmation-length windows, and if it fails,
    /// search below it with windows of that length, so the capacity is a rate
    /// that held a long window with a long-window failure (or `bound`: the
    /// search's retested bound, or the rate the generator could not sustain)
    /// within the resolution above it; [`LongWindows::Held`] says which.
    ///
    /// Below a failure it goes to what the window measured, or takes a blind
    /// step that grows ([`Search::step_down`]); above a pass it is one
    /// resolution at most, since a pass after a measured estimate is usually
    /// just below the capacity. A long window the generator could not hold
    /// before any held is stepped below the same way, its rate the bound
    /// above: what then holds is a lower bound (generator-limited), unless
    /// the server fails a long window below it, which is the server's.
    pub(super) async fn confirm(
        &mut self,
        candidate: f64,
        bound: f64,
        leftover: Duration,
    ) -> Result<LongWindows, DriveError> {
        let cfg = self.cfg;
        let res = cfg.resolution;
        let closed = |low: f64, high: f64| high / low <= 1.0 + res + 1e-9;
        let mut rate = candidate;
        let mut bound = bound;
        let mut held: Option<f64> = None;
        let mut broke: Option<f64> = None;
        // Why the last long window that met the generator's limit before any
        // rate held one did: the bound above is then the generator's, and a
        // rate held below it (no server failure between) is a lower bound.
        let mut capped: Option<String> = None;
        let mut fails_in_a_row = 0;
        let mut passes_in_a_row = 0;
        // Whether the last step down was blind (no estimate to land near).
        let mut blind = false;
        // The budget is `max_confirms` windows' worth of running time: an
        // abandoned window costs only what it ran, so a failure decided early
        // leaves room for more steps. A window starts while half of one fits.
        let budget = (cfg.confirm * cfg.max_confirms.max(1)).as_secs_f64();
        // Past it, what the short windows left of their budget goes to
        // closing the bracket rather than to a truncated trial: a window
        // starts while half of one fits in that too, and it ends (drain
        // included) inside the search's planned time.
        let spare = budget + leftover.as_secs_f64();
        let first = self.steps.len();
        let mut tries = 0;
        loop {
            let spent: f64 = self.steps[first..].iter().map(|s| s.duration_s).sum();
            let fits = |budget: f64| spent + cfg.confirm.as_secs_f64() / 2.0 <= budget;
            let within = tries < 2 * cfg.max_confirms.max(1) && (tries == 0 || fits(budget));
            let extra = fits(spare)
                && Instant::now() + cfg.settle + cfg.confirm + cfg.max_drain <= self.planned_end;
            if !(within || (tries > 0 && extra)) {
                break;
            }
            tries += 1;
            let probe = Probe {
                rate,
                duration: cfg.confirm,
                warmup: Warmup::Fixed(cfg.settle),
                purpose: WindowPurpose::Confirm,
            };
            let next = match self.attempt(StepPhase::Confirm, probe).await? {
                // The machine's, even after a rate held: the trial is searched
                // again, and its cell's clean trials stand for it meanwhile
                // (a truncated "lower bound" would keep the cell out).
                Attempt::Stalled(why) => {
                    let why = match held {
                        Some(h) => {
                            format!("{why}; a confirmation window had held {h:.0} {}", cfg.unit)
                        }
                        None => why,
                    };
                    return Ok(LongWindows::Stalled(why));
                }
                Attempt::OutOfTime(why) => {
                    let why = match held {
                        Some(h) => format!("{why}; the capacity is at least {h:.0} {}, which held a confirmation window", cfg.unit),
                        None => why,
                    };
                    return Ok(LongWindows::Short { low: held, why });
                }
                Attempt::Judged(StepVerdict::Pass, ..) => {
                    fails_in_a_row = 0;
                    passes_in_a_row += 1;
                    held = Some(rate);
                    let above = broke.unwrap_or(bound);
                    if closed(rate, above) {
                        if let (None, Some(why)) = (broke, &capped) {
                            return Ok(LongWindows::GeneratorLimited {
                                low: held,
                                why: at_least(why.clone(), held, cfg.unit),
                            });
                        }
                        return Ok(LongWindows::Held {
                            rate,
                            by_failure: broke.is_some(),
                        });
                    }
                    climb(rate, above, res, blind, passes_in_a_row)
                }
                Attempt::Judged(StepVerdict::GeneratorLimited, o, _) => {
                    let why = format!(
                        "the load generator could not hold {rate:.0} {} for a confirmation window ({})",
                        cfg.unit,
                        o.generator_limited.as_deref().unwrap_or("fell behind")
                    );
                    if held.is_some() || broke.is_some() {
                        return Ok(LongWindows::GeneratorLimited {
                            low: held,
                            why: at_least(why, held, cfg.unit),
                        });
                    }
                    // Nothing held yet: below the generator's limit a rate
                    // that holds is a lower bound, and a server failure
                    // there is the server's, measured as any other.
                    passes_in_a_row = 0;
                    bound = bound.min(rate);
                    capped = Some(why); // the lowest such rate says most
                    let (next, estimated) = self.step_down(rate, &o, fails_in_a_row);
                    blind = !estimated;
                    fails_in_a_row += 1;
                    next
                }
                Attempt::Judged(_, o, _) => {
                    passes_in_a_row = 0;
                    broke = Some(rate);
                    match held {
                        Some(h) if closed(h, rate) => {
                            return Ok(LongWindows::Held {
                                rate: h,
                                by_failure: true,
                            })
                        }
                        Some(h) => (h * rate).sqrt(),
                        None => {
                            let (next, estimated) = self.step_down(rate, &o, fails_in_a_row);
                            blind = !estimated;
                            fails_in_a_row += 1;
                            next
                        }
                    }
                }
            };
            if next < cfg.min_rps {
                break;
            }
            rate = next;
        }
        if let (None, Some(why)) = (broke, capped) {
            return Ok(LongWindows::GeneratorLimited {
                low: held,
                why: at_least(why, held, cfg.unit),
            });
        }
        let why = match (held, broke) {
            (Some(h), Some(b)) => format!(
                "{tries} confirmation windows left {h:.0}–{b:.0} {} wider than the {:.0}% resolution; the capacity is at least {h:.0}",
                cfg.unit,
                res * 100.0
            ),
            _ => format!(
                "no confirmation window passed ({tries} tried, from {candidate:.0} {} down)",
                cfg.unit
            ),
        };
        Ok(LongWindows::Short { low: held, why })
    }
}

/// The next confirmation rate above `rate`, which held a long window, below
/// `above`, which failed one (or the search's bound), the `passes`-th pass in
/// a row. After a step that landed on an estimate the pass is usually just
/// below the capacity, unless the failure above was a dip: two resolutions at
/// most. A second pass in a row says the estimate was low (a dip during the
/// failed window, an error burst read as a fast-growing queue), and a blind
/// step knows nothing: bisect.
pub(super) fn climb(rate: f64, above: f64, resolution: f64, blind: bool, passes: u32) -> f64 {
    let mid = (rate * above).sqrt();
    if blind || passes >= 2 {
        mid
    } else {
        mid.min(rate * (1.0 + 2.0 * resolution))
    }
}
