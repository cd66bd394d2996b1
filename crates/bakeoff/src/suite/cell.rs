//! The state of one cell while a run measures it, and its assembly into a
//! finished [`Cell`]: capacity estimate over trials, scaling efficiency, the
//! `noisy`, `truncated`, `machine-noisy`, `generator-limited` and `contended`
//! flags, the start-up estimate, and the status.

use std::collections::BTreeSet;

use super::plan::CellKey;
use super::stats;
use crate::model::{Cell, CellStatus, EqualLoad, Startup, Trial, TrialOutcome, WsPoint};
use crate::workload::Workload;

#[derive(Debug, Default)]
pub(super) struct CellState {
    pub(super) trials: Vec<Trial>,
    pub(super) failed: Option<String>,
    pub(super) skipped: Option<String>,
    pub(super) done: bool,
    pub(super) equal: Option<EqualLoad>,
    pub(super) ws: Vec<WsPoint>,
    pub(super) startup_ms: Vec<f64>,
    pub(super) idle_mem: Vec<u64>,
    pub(super) flags: BTreeSet<String>,
    pub(super) notes: Vec<String>,
}

impl CellState {
    pub(super) fn live(&self) -> bool {
        !self.done && self.failed.is_none() && self.skipped.is_none()
    }
    pub(super) fn flag(&mut self, flag: &str, note: String) {
        self.flags.insert(flag.to_string());
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

impl CellState {
    /// The trials' samples: confirmed capacities, and 0 for each trial where
    /// nothing passed. Truncated, machine-noisy and generator-limited trials are
    /// not samples.
    pub(super) fn samples(&self) -> Vec<f64> {
        self.trials.iter().filter_map(Trial::sample).collect()
    }

    /// The headline capacity over the samples so far ([`crate::model::Estimate::center`]).
    pub(super) fn median_capacity(&self) -> Option<f64> {
        stats::estimate(&self.samples()).map(|e| e.center())
    }

    /// Flag and explain the trials that are not samples, one line per outcome.
    fn flag_unsampled_trials(&mut self) {
        let total = self.trials.len();
        for (outcome, flag, what) in [
            (
                TrialOutcome::Truncated,
                "truncated",
                "truncated (capacity is a lower bound)",
            ),
            (
                TrialOutcome::MachineNoisy,
                "machine-noisy",
                "machine-noisy (no clean window)",
            ),
            (
                TrialOutcome::GeneratorLimited,
                "generator-limited",
                "generator-limited (capacity is a lower bound)",
            ),
        ] {
            let hit: Vec<&Trial> = self
                .trials
                .iter()
                .filter(|t| t.outcome == outcome)
                .collect();
            if hit.is_empty() {
                continue;
            }
            let why: Vec<String> = hit
                .iter()
                .map(|t| {
                    let bound = t
                        .capacity_rps
                        .map(|c| format!(" at ≥ {c:.0} rps"))
                        .unwrap_or_default();
                    let note = t
                        .note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default();
                    format!("trial {}{bound}{note}", t.index + 1)
                })
                .collect();
            let note = format!(
                "{} of {total} trials {what}, left out of the estimate and of verdicts; {}",
                hit.len(),
                why.join("; ")
            );
            self.flag(flag, note);
        }
    }

    /// Assemble the finished cell and mark this state done. `cap1` is the median
    /// capacity of the same contender and workload with one worker, if measured.
    pub(super) fn finish(&mut self, key: &CellKey, cap1: Option<f64>, cores: u32) -> Cell {
        self.done = true;
        let samples = self.samples();
        let capacity = stats::estimate(&samples);
        self.flag_unsampled_trials();
        if let Some(e) = capacity {
            if e.noisy {
                self.flag(
                    "noisy",
                    format!(
                        "capacity varies by {:.0}% across trials (CV > 10%)",
                        e.cv * 100.0
                    ),
                );
            }
        }
        let none = self
            .trials
            .iter()
            .filter(|t| t.outcome == TrialOutcome::NoCapacity)
            .count();
        if none > 0 {
            self.notes.push(format!(
                "{none} of {} trials found no rate meeting the SLO (each counted as 0)",
                self.trials.len()
            ));
        }
        let scaling_efficiency = match (capacity, cap1) {
            (Some(e), Some(c1)) if key.workers > 1 && c1 > 0.0 => {
                Some(e.center() / (key.workers as f64 * c1))
            }
            _ => None,
        };
        let loads = !matches!(key.workload, Workload::Startup);
        if loads && self.skipped.is_none() && key.workers + 1 > cores {
            self.flag(
                "contended",
                format!(
                    "{} workers + 1 generator core > {cores} cores: they share CPUs",
                    key.workers
                ),
            );
        }
        let startup = stats::estimate(&self.startup_ms).map(|to_healthy_ms| Startup {
            to_healthy_ms,
            idle_rss_bytes: stats::median(
                &self.idle_mem.iter().map(|&b| b as f64).collect::<Vec<_>>(),
            )
            .unwrap_or(0.0) as u64,
        });
        if let Some(s) = startup.filter(|s| s.to_healthy_ms.noisy) {
            self.flag(
                "noisy",
                format!(
                    "start-up time varies by {:.0}% (CV > 10%)",
                    s.to_healthy_ms.cv * 100.0
                ),
            );
        }
        let status = match (&self.skipped, &self.failed) {
            (Some(r), _) => CellStatus::Skipped { reason: r.clone() },
            (None, Some(r)) => CellStatus::Failed { reason: r.clone() },
            (None, None) => CellStatus::Ok,
        };
        let cell = Cell {
            contender: key.contender.clone(),
            workload: key.workload.name().to_string(),
            workers: key.workers,
            status,
            capacity,
            trials: std::mem::take(&mut self.trials),
            equal_load: self.equal.take(),
            ws: std::mem::take(&mut self.ws),
            startup: if key.workload == Workload::Startup {
                startup
            } else {
                None
            },
            scaling_efficiency,
            flags: self.flags.iter().cloned().collect(),
            notes: std::mem::take(&mut self.notes),
        };
        // Keep the capacities for later scaling efficiencies and equal-load rates.
        self.trials = cell.trials.clone();
        cell
    }
}
