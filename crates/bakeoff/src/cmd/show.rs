//! `bakeoff runs` and `bakeoff show`.

use anyhow::{Context, Result};

use super::{open_existing, resolve};
use crate::cli::{ShowArgs, StoreArgs};
use crate::model::{CellStatus, Flag, Run};
use crate::report::table::{fmt_estimate_in, fmt_rate};
use crate::report::table::{plain_lines, write_lines};

pub(super) async fn runs(args: StoreArgs) -> Result<u8> {
    let path = args.db.path();
    if !path.exists() {
        if args.json {
            outln!("[]")?;
        } else {
            outln!(
                "No runs yet (no database at {}); `bakeoff run` makes one.",
                path.display()
            )?;
        }
        return Ok(0);
    }
    let store = open_existing(&path)?;
    let runs = store.list_runs()?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&runs)?)?;
        return Ok(0);
    }
    if runs.is_empty() {
        outln!(
            "No runs yet in {}; `bakeoff run` makes one.",
            path.display()
        )?;
        return Ok(0);
    }
    let head: Vec<String> = [
        "id",
        "started",
        "status",
        "profile",
        "contenders",
        "workloads",
        "cells ok",
        "failed",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let body: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.started_at.clone(),
                r.status.as_str().to_string(),
                r.profile.to_string(),
                r.contenders.join(","),
                r.workloads
                    .iter()
                    .map(|w| w.name())
                    .collect::<Vec<_>>()
                    .join(","),
                r.cells_ok.to_string(),
                r.cells_failed.to_string(),
            ]
        })
        .collect();
    let mut out = super::stdout();
    write_lines(
        &mut out,
        plain_lines(&head, &body, |i| i == 0 || i >= 6, false),
    )?;
    Ok(0)
}

pub(super) async fn show(args: ShowArgs) -> Result<u8> {
    let path = args.store.db.path();
    let store = open_existing(&path)?;
    let id = resolve(&store, &args.run)?;
    let run = store
        .load_run(id)
        .with_context(|| format!("reading run {id}"))?;
    if args.store.json {
        outln!("{}", serde_json::to_string_pretty(&run)?)?;
    } else {
        out!("{}", summary(&run))?;
    }
    Ok(0)
}

/// A short human summary of a run; `--json` has everything.
fn summary(run: &Run) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let st = &run.settings;
    let env = &run.environment;
    let _ = writeln!(
        s,
        "Run {}: {}, profile {}, started {}{}",
        run.id,
        run.status.as_str(),
        st.profile,
        run.started_at,
        run.finished_at
            .as_deref()
            .map(|f| format!(", finished {f}"))
            .unwrap_or_default()
    );
    let steal = st
        .raised_steal_limit()
        .map(|p| format!(", steal tolerated up to {p}%"))
        .unwrap_or_default();
    let resolution = st
        .search_resolution
        .map(|r| format!(", capacities found to {}", crate::report::fmt_resolution(r)))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "Settings: SLO p99 {} ms, {} trial(s), duration scale {}, workers {:?}{resolution}{steal}",
        st.slo_p99_ms, st.trials, st.duration_scale, st.workers
    );
    for line in crate::report::machine_lines(env) {
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(
        s,
        "bakeoff {}{}",
        env.bakeoff_version,
        env.git_revision
            .as_deref()
            .map(|g| format!(" ({g})"))
            .unwrap_or_default()
    );
    for c in &run.contenders {
        let _ = writeln!(
            s,
            "Contender {}: {} {} on {} {} ({})",
            c.name, c.framework, c.framework_version, c.runtime, c.runtime_version, c.server
        );
        if let Some(v) = &c.variant {
            let _ = writeln!(s, "  variant of {}: {}", v.of, v.description);
        }
    }
    let count = |f: fn(&CellStatus) -> bool| run.cells.iter().filter(|c| f(&c.status)).count();
    let _ = writeln!(
        s,
        "Cells: {} ok, {} failed, {} skipped",
        count(|c| matches!(c, CellStatus::Ok)),
        count(|c| matches!(c, CellStatus::Failed { .. })),
        count(|c| matches!(c, CellStatus::Skipped { .. })),
    );
    for c in &run.cells {
        let what = match &c.status {
            CellStatus::Ok => {
                let mut parts = Vec::new();
                let unit = c.workload.rate_unit();
                if let Some(cap) = &c.capacity {
                    parts.push(format!("capacity {}", fmt_estimate_in(cap, fmt_rate, unit)));
                }
                if let Some(eq) = &c.equal_load {
                    parts.push(format!(
                        "p99 {:.2} ms at {} {unit}, CPU {} ms/req",
                        eq.latency.p99,
                        fmt_rate(eq.target_rps),
                        eq.cpu_ms_per_request
                            .map_or("-".into(), |v| format!("{v:.3}"))
                    ));
                }
                if let Some(st) = &c.startup {
                    parts.push(format!("startup {:.0} ms", st.to_healthy_ms.center()));
                }
                if !c.ws.is_empty() {
                    parts.push(format!("{} ws point(s)", c.ws.len()));
                }
                if !c.flags.is_empty() {
                    parts.push(format!("flags: {}", Flag::list(&c.flags, ",")));
                }
                format!("ok  {}", parts.join("; "))
            }
            CellStatus::Failed { reason } => format!("FAILED: {reason}"),
            CellStatus::Skipped { reason } => format!("skipped: {reason}"),
        };
        let _ = writeln!(
            s,
            "  {} {} ×{}: {what}",
            c.contender,
            crate::report::cell_workload(run, c),
            c.workers
        );
    }
    let _ = writeln!(s, "Everything: bakeoff show {} --json", run.id);
    s
}

#[cfg(test)]
mod tests {
    use crate::workload::Workload;

    /// Each cell's rates in its own unit, right after the number: a fan-out's
    /// in msg/s.
    #[test]
    fn the_summary_gives_each_cell_its_unit() {
        let run = crate::report::fixtures::sample_run();
        let text = super::summary(&run);
        let line = |workload: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("  node-fastify {workload} ×1:")))
                .unwrap_or_else(|| panic!("no node-fastify {workload} line in {text}"))
                .to_string()
        };
        let ws = line(Workload::Ws.name());
        assert!(ws.contains(" msg/s (range "), "{ws}");
        assert!(!ws.contains("req/s") && !ws.contains(")/s"), "{ws}");
        let io = line(Workload::Io.name());
        assert!(
            io.contains(" req/s (range ") && io.contains(" req/s, CPU "),
            "{io}"
        );
    }
}
