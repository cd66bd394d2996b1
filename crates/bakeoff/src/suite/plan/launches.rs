//! The launch order of a plan: which contender starts when, at which worker
//! count and on which database, measuring which workloads (the capacity
//! trials interleaved as a Latin square, then the final pass, then any extra
//! start-ups), and each launch's time budget.

use std::time::Duration;

use super::{ContenderSpec, Launch, LaunchKind, Plan};
use crate::database::Database;
use crate::suite::search::SearchConfig;
use crate::workload::Workload;

impl Plan {
    /// The workloads of `c` at `workers` measured in the dataset's own
    /// launches ([`Workload::needs_dataset`]), on the first database.
    fn dataset_workloads(
        &self,
        http: &[Workload],
        c: &ContenderSpec,
        workers: u32,
    ) -> Vec<Workload> {
        http.iter()
            .filter(|w| w.needs_dataset() && self.runnable(c, w, workers, self.primary_database()))
            .cloned()
            .collect()
    }

    /// The HTTP workloads (`data` aside) a launch of `c` at `workers` on
    /// `database` measures: all of them on the primary database, the
    /// database workloads alone on the others.
    fn launch_workloads(
        &self,
        http: &[Workload],
        c: &ContenderSpec,
        workers: u32,
        database: Database,
    ) -> Vec<Workload> {
        let primary = database == self.primary_database();
        http.iter()
            .filter(|&w| !w.needs_dataset() && (primary || w.uses_database()))
            .filter(|&w| self.runnable(c, w, workers, database))
            .cloned()
            .collect()
    }

    /// The launches in order: the capacity trials interleaved, then one final
    /// pass per contender (the ws points in a launch of their own, then equal
    /// load), then any extra spawns the `startup` cells need.
    ///
    /// Order is a Latin square: trial t runs the contenders rotated by t, and
    /// each launch's workloads rotated by t plus the contender's position, so
    /// no contender or workload always goes first (drift, thermal state). The
    /// final pass continues it as trial `trials`: its equal-load windows are
    /// where CPU, p99 and memory are read, and in plan order the same
    /// contender and workload would always have gone first.
    /// `data` and custom workloads run in launches of their own, the only ones
    /// given the dataset ([`Workload::needs_dataset`]), so no other measurement
    /// (start-up, idle memory) carries it. With several
    /// databases, each beyond the first gets launches of its own for the
    /// database workloads, next to the first's (their order rotated by trial).
    pub fn launches(&self) -> Vec<Launch> {
        let http = self.http_workloads();
        let ws = self.has(&Workload::Ws);
        let primary = self.primary_database();
        let mut out = Vec::new();
        let n = self.contenders.len().max(1);
        for trial in 0..self.trials {
            // The databases rotated by trial too, so neither always goes first.
            let mut databases = self.databases.clone();
            let turn = trial as usize % databases.len().max(1);
            databases.rotate_left(turn);
            for k in 0..n {
                let i = (k + trial as usize) % n;
                let c = &self.contenders[i];
                let counts = self.worker_counts(c);
                let kind = LaunchKind::Capacity { trial };
                for &workers in &counts {
                    for &database in &databases {
                        let mut workloads = self.launch_workloads(&http, c, workers, database);
                        if !workloads.is_empty() {
                            let r = (trial as usize + i) % workloads.len();
                            workloads.rotate_left(r);
                        }
                        push(
                            &mut out,
                            Launch {
                                workloads,
                                ws: database == primary
                                    && ws
                                    && workers == 1
                                    && self.runnable(c, &Workload::Ws, 1, primary),
                                ..launch(kind, c, workers, database)
                            },
                        );
                    }
                    push(
                        &mut out,
                        Launch {
                            workloads: self.dataset_workloads(&http, c, workers),
                            data: true,
                            ..launch(kind, c, workers, primary)
                        },
                    );
                }
                if ws && !counts.contains(&1) && self.runnable(c, &Workload::Ws, 1, primary) {
                    push(
                        &mut out,
                        Launch {
                            ws: true,
                            ..launch(kind, c, 1, primary)
                        },
                    );
                }
            }
        }
        for k in 0..n {
            let i = (k + self.trials as usize) % n;
            let c = &self.contenders[i];
            // The ws points in a launch of their own: their memory per
            // connection is what a fresh process grows by to hold the
            // clients, which a heap grown by HTTP windows hides.
            if ws && self.runnable(c, &Workload::Ws, 1, primary) {
                push(
                    &mut out,
                    Launch {
                        ws: true,
                        ..launch(LaunchKind::Final, c, 1, primary)
                    },
                );
            }
            for workers in self.worker_counts(c) {
                for &database in &self.databases {
                    let mut workloads = self.launch_workloads(&http, c, workers, database);
                    if !workloads.is_empty() {
                        let r = (self.trials as usize + i) % workloads.len();
                        workloads.rotate_left(r);
                    }
                    push(
                        &mut out,
                        Launch {
                            workloads,
                            ..launch(LaunchKind::Final, c, workers, database)
                        },
                    );
                }
                push(
                    &mut out,
                    Launch {
                        workloads: self.dataset_workloads(&http, c, workers),
                        data: true,
                        ..launch(LaunchKind::Final, c, workers, primary)
                    },
                );
            }
        }
        if self.has(&Workload::Startup) {
            for c in &self.contenders {
                let sw = self.startup_workers(c);
                if !self.runnable(c, &Workload::Startup, sw, primary) {
                    continue;
                }
                let have = out
                    .iter()
                    .filter(|l| Self::samples_startup(l, &c.name, sw, primary))
                    .count() as u32;
                for _ in have..self.phases.startup_spawns {
                    push(&mut out, launch(LaunchKind::StartupOnly, c, sw, primary));
                }
            }
        }
        out
    }

    /// Whether `l` samples the start-up of `contender` at `workers`: a plain
    /// start (no dataset) on the primary database.
    fn samples_startup(l: &Launch, contender: &str, workers: u32, primary: Database) -> bool {
        l.contender == contender && l.workers == workers && !l.data && l.database == primary
    }

    /// Whether `l` samples the start-up cell of its contender and worker count.
    pub fn launch_samples_startup(&self, l: &Launch) -> bool {
        Self::samples_startup(l, &l.contender, l.workers, self.primary_database())
    }
    /// The longest one launch can take at this scale, with `startup` per start,
    /// from the same settings the runner uses.
    pub fn launch_budget(&self, launch: &Launch, startup: Duration) -> Duration {
        let p = &self.phases;
        let stop = Duration::from_millis(500);
        let mut t = startup + self.scaled(p.idle_sample) + stop;
        match launch.kind {
            LaunchKind::Capacity { .. } => {
                for (i, w) in launch.workloads.iter().enumerate() {
                    t += SearchConfig::for_plan(self, w, i == 0).worst_case();
                }
                if launch.ws {
                    t += SearchConfig::for_plan(self, &Workload::Ws, launch.workloads.is_empty())
                        .worst_case();
                }
            }
            LaunchKind::Final => {
                // Adaptive warm-up + its short window, then settle + measured
                // window, re-run while the machine stalls it.
                let tries = 1 + p.max_retries;
                let per =
                    p.equal_warmup_max + p.step_warmup + (p.step_warmup + p.equal_window) * tries;
                t += self.scaled(per) * launch.workloads.len() as u32;
                if launch.ws {
                    // One idle sample, then per point the window and about a
                    // second to connect the clients, re-run while the machine
                    // stalls it.
                    let per = (p.ws_window + Duration::from_secs(1)) * tries;
                    t += self.scaled(p.idle_sample)
                        + self.scaled(per) * self.phases.ws_clients.len() as u32;
                }
            }
            LaunchKind::StartupOnly => {}
        }
        t
    }

    /// Worst-case duration of the whole plan, assuming `startup` per start.
    pub fn budget(&self, startup: Duration) -> Duration {
        self.launches()
            .iter()
            .map(|l| self.launch_budget(l, startup))
            .sum()
    }
}

/// A launch of `c` that measures nothing yet.
fn launch(kind: LaunchKind, c: &ContenderSpec, workers: u32, database: Database) -> Launch {
    Launch {
        kind,
        contender: c.name.clone(),
        workers,
        workloads: Vec::new(),
        ws: false,
        data: false,
        database,
    }
}

/// Add a launch unless it has nothing to do (a start-up spawn always has).
fn push(out: &mut Vec<Launch>, launch: Launch) {
    if launch.workloads.is_empty() && !launch.ws && launch.kind != LaunchKind::StartupOnly {
        return;
    }
    out.push(launch);
}
