//! Writing runs and cells. Every public write is one transaction.
//!
//! f64 values are bound as they are: SQLite stores NaN as NULL, which
//! [`super::read`] turns back into NaN. Optional numbers carry a `has_*` column so
//! `Some(NaN)` and `None` stay distinct.

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::owner;
use crate::model::{
    Cell, CellStatus, ContenderInfo, Environment, EqualLoad, Percentiles, ProbeSummaries,
    RunStatus, Settings, Startup, Trial, WsPoint,
};

fn json<T: serde::Serialize + ?Sized>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Immediate: take the write lock up front, so waiting happens in `busy_timeout`
/// rather than as a failed lock upgrade half-way through.
fn write_tx(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

pub(super) fn begin_run(
    conn: &mut Connection,
    started_at: &str,
    settings: &Settings,
    env: &Environment,
    contenders: &[ContenderInfo],
) -> rusqlite::Result<i64> {
    let (pid, start) = owner::current();
    let tx = write_tx(conn)?;
    tx.execute(
        "INSERT INTO runs (started_at, status, owner_pid, owner_start, profile, slo_p99_ms,
                           trials, duration_scale, contenders_json, workloads_json, workers_json,
                           database, databases_json, max_steal_percent, search_resolution)
         VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            started_at,
            pid,
            start,
            settings.profile.as_str(),
            settings.slo_p99_ms,
            settings.trials,
            settings.duration_scale,
            json(&settings.contenders)?,
            json(&settings.workloads)?,
            json(&settings.workers)?,
            settings.database.as_str(),
            json(&settings.databases())?,
            settings.max_steal_percent,
            settings.search_resolution,
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO environment (run_id, cpu_model, cores, memory_bytes, kernel, os,
                                  bakeoff_version, git_revision, pinning, runtimes_json,
                                  core_speed_json, generator_core_speed_json,
                                  loopback_speed_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            run_id,
            env.cpu_model,
            env.cores,
            env.memory_bytes,
            env.kernel,
            env.os,
            env.bakeoff_version,
            env.git_revision,
            env.pinning,
            json(&env.runtimes)?,
            env.core_speed.as_ref().map(json).transpose()?,
            env.generator_core_speed.as_ref().map(json).transpose()?,
            env.loopback_speed.as_ref().map(json).transpose()?,
        ],
    )?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO contenders (run_id, position, name, language, runtime, runtime_version,
                 framework, framework_version, server, deps_direct, deps_total, install_bytes,
                 install_secs, app_loc, unsupported_json, disclosures_json, variant_of,
                 variant_name, variant_description)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19)",
        )?;
        for (pos, c) in contenders.iter().enumerate() {
            stmt.execute(params![
                run_id,
                pos,
                c.name,
                c.language,
                c.runtime,
                c.runtime_version,
                c.framework,
                c.framework_version,
                c.server,
                c.deps_direct,
                c.deps_total,
                c.install_bytes,
                c.install_secs,
                c.app_loc,
                json(&c.unsupported)?,
                json(&c.disclosures)?,
                c.variant.as_ref().map(|v| &v.of),
                c.variant.as_ref().map(|v| &v.name),
                c.variant.as_ref().map(|v| &v.description),
            ])?;
        }
    }
    tx.commit()?;
    Ok(run_id)
}

/// What [`record_cell`] did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Recorded {
    Done,
    NoSuchRun,
    /// The run already has a cell for this contender, workload, worker count
    /// and database.
    Duplicate,
}

pub(super) fn record_cell(
    conn: &mut Connection,
    run_id: i64,
    cell: &Cell,
) -> rusqlite::Result<Recorded> {
    let tx = write_tx(conn)?;
    let exists = tx
        .query_row("SELECT 1 FROM runs WHERE id = ?1", [run_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        return Ok(Recorded::NoSuchRun);
    }
    let duplicate = tx
        .query_row(
            "SELECT 1 FROM cells
             WHERE run_id = ?1 AND contender = ?2 AND workload = ?3 AND workers = ?4
               AND database IS ?5",
            params![
                run_id,
                cell.contender,
                cell.workload,
                cell.workers,
                cell.database.map(|d| d.as_str())
            ],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if duplicate {
        return Ok(Recorded::Duplicate);
    }
    let (state, reason) = match &cell.status {
        CellStatus::Ok => ("ok", None),
        CellStatus::Failed { reason } => ("failed", Some(reason.as_str())),
        CellStatus::Skipped { reason } => ("skipped", Some(reason.as_str())),
    };
    let cap = cell.capacity.as_ref();
    tx.execute(
        "INSERT INTO cells (run_id, contender, workload, workers, state, reason,
             has_capacity, capacity_median, capacity_ci_low, capacity_ci_high, capacity_cv,
             capacity_n, capacity_noisy, has_scaling, scaling_efficiency, flags_json, notes_json,
             capacity_mean, capacity_sd, capacity_interval, database)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21)",
        params![
            run_id,
            cell.contender,
            cell.workload,
            cell.workers,
            state,
            reason,
            cap.is_some(),
            cap.map(|c| c.median),
            cap.map(|c| c.ci_low),
            cap.map(|c| c.ci_high),
            cap.map(|c| c.cv),
            cap.map(|c| c.n),
            cap.map(|c| c.noisy),
            cell.scaling_efficiency.is_some(),
            cell.scaling_efficiency,
            json(&cell.flags)?,
            json(&cell.notes)?,
            cap.map(|c| c.mean),
            cap.map(|c| c.sd),
            cap.map(|c| c.interval.as_str()),
            cell.database.map(|d| d.as_str()),
        ],
    )?;
    let cell_id = tx.last_insert_rowid();
    insert_trials(&tx, cell_id, &cell.trials)?;
    if let Some(eq) = &cell.equal_load {
        insert_equal_load(&tx, cell_id, eq)?;
    }
    insert_ws(&tx, cell_id, &cell.ws)?;
    if let Some(s) = &cell.startup {
        insert_startup(&tx, cell_id, s)?;
    }
    tx.commit()?;
    Ok(Recorded::Done)
}

fn insert_trials(tx: &Transaction<'_>, cell_id: i64, trials: &[Trial]) -> rusqlite::Result<()> {
    let mut trial_stmt = tx.prepare_cached(
        "INSERT INTO trials (cell_id, position, idx, has_capacity, capacity_rps, outcome, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut step_stmt = tx.prepare_cached(
        "INSERT INTO search_steps (trial_id, position, idx, phase, target_rps, achieved_rps,
             p99_ms, error_rate, pass, verdict, duration_s, reasons_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for (pos, t) in trials.iter().enumerate() {
        trial_stmt.execute(params![
            cell_id,
            pos,
            t.index,
            t.capacity_rps.is_some(),
            t.capacity_rps,
            t.outcome.as_str(),
            t.note,
        ])?;
        let trial_id = tx.last_insert_rowid();
        for (spos, s) in t.steps.iter().enumerate() {
            step_stmt.execute(params![
                trial_id,
                spos,
                s.index,
                s.phase.as_str(),
                s.target_rps,
                s.achieved_rps,
                s.p99_ms,
                s.error_rate,
                s.pass(),
                s.verdict.as_str(),
                s.duration_s,
                json(&s.reasons)?,
            ])?;
        }
    }
    Ok(())
}

fn insert_equal_load(tx: &Transaction<'_>, cell_id: i64, eq: &EqualLoad) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO equal_load (cell_id, target_rps, achieved_rps, requests, errors, p99_ms,
             cpu_ms_per_request, rss_peak_bytes, rss_mean_bytes, has_idle_cpu, idle_cpu_cores,
             has_marginal_cpu, marginal_cpu_ms_per_request, consistency_check, consistency_ok,
             consistency_detail, database_cpu_ms_per_request)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            cell_id,
            eq.target_rps,
            eq.achieved_rps,
            eq.requests,
            eq.errors,
            eq.latency.p99,
            eq.cpu_ms_per_request.filter(|v| v.is_finite()),
            // 0 for unmeasured, which no running server's memory is.
            eq.rss_peak_bytes.unwrap_or(0),
            eq.rss_mean_bytes.unwrap_or(0),
            eq.idle_cpu_cores.is_some(),
            eq.idle_cpu_cores,
            eq.marginal_cpu_ms_per_request.is_some(),
            eq.marginal_cpu_ms_per_request,
            eq.consistency.as_ref().map(|c| c.check.as_str()),
            eq.consistency.as_ref().map(|c| c.ok),
            eq.consistency.as_ref().map(|c| c.detail.as_str()),
            eq.database_cpu_ms_per_request.filter(|v| v.is_finite()),
        ],
    )?;
    insert_percentiles(tx, cell_id, "latency", &eq.latency)?;
    insert_percentiles(tx, cell_id, "service", &eq.service)?;
    if let Some(light) = &eq.light {
        insert_percentiles(tx, cell_id, "light", light)?;
    }
    let mut spec = tx.prepare_cached(
        "INSERT INTO spectra (cell_id, kind, position, quantile, ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (kind, points) in [("latency", &eq.spectrum), ("service", &eq.service_spectrum)] {
        for (pos, [q, ms]) in points.iter().enumerate() {
            spec.execute(params![cell_id, kind, pos, q, ms])?;
        }
    }
    let mut tl = tx.prepare_cached(
        "INSERT INTO timelines (cell_id, position, second, rps, p99_ms, errors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (pos, p) in eq.timeline.iter().enumerate() {
        tl.execute(params![cell_id, pos, p.second, p.rps, p.p99_ms, p.errors])?;
    }
    let mut hist = tx.prepare_cached(
        "INSERT INTO histograms (cell_id, position, name, data) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (pos, (name, data)) in eq.histograms.iter().enumerate() {
        hist.execute(params![cell_id, pos, name, data])?;
    }
    Ok(())
}

fn insert_percentiles(
    tx: &Transaction<'_>,
    cell_id: i64,
    kind: &str,
    p: &Percentiles,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO percentiles (cell_id, kind, p50, p90, p99, p999, p9999, max, mean)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        cell_id, kind, p.p50, p.p90, p.p99, p.p999, p.p9999, p.max, p.mean
    ])?;
    Ok(())
}

fn insert_ws(tx: &Transaction<'_>, cell_id: i64, points: &[WsPoint]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO ws_points (cell_id, position, clients, rate, sent, expected_deliveries,
             deliveries, missing, p50_ms, p99_ms, rss_idle_bytes, rss_loaded_bytes,
             bytes_per_connection)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for (pos, w) in points.iter().enumerate() {
        stmt.execute(params![
            cell_id,
            pos,
            w.clients,
            w.rate,
            w.sent,
            w.expected_deliveries,
            w.deliveries,
            w.missing,
            w.p50_ms,
            w.p99_ms,
            w.rss_idle_bytes,
            w.rss_loaded_bytes,
            w.bytes_per_connection,
        ])?;
    }
    Ok(())
}

fn insert_startup(tx: &Transaction<'_>, cell_id: i64, s: &Startup) -> rusqlite::Result<()> {
    let e = &s.to_healthy_ms;
    tx.execute(
        "INSERT INTO startups (cell_id, median_ms, ci_low_ms, ci_high_ms, cv, n, noisy,
             idle_rss_bytes, mean_ms, sd_ms, interval)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            cell_id,
            e.median,
            e.ci_low,
            e.ci_high,
            e.cv,
            e.n,
            e.noisy,
            s.idle_rss_bytes,
            e.mean,
            e.sd,
            e.interval.as_str(),
        ],
    )?;
    Ok(())
}

/// The probes' summaries over the run, known at its end (a probe's stays as
/// begun where it read nothing). False when the run does not
/// exist.
pub(super) fn record_probe_summaries(
    conn: &mut Connection,
    run_id: i64,
    speeds: &ProbeSummaries,
) -> rusqlite::Result<bool> {
    let tx = write_tx(conn)?;
    let changed = tx.execute(
        "UPDATE environment SET
             core_speed_json = COALESCE(?2, core_speed_json),
             generator_core_speed_json = COALESCE(?3, generator_core_speed_json),
             loopback_speed_json = COALESCE(?4, loopback_speed_json)
         WHERE run_id = ?1",
        params![
            run_id,
            speeds.contender.as_ref().map(json).transpose()?,
            speeds.generator.as_ref().map(json).transpose()?,
            speeds.loopback.as_ref().map(json).transpose()?,
        ],
    )?;
    tx.commit()?;
    Ok(changed == 1)
}

/// False when the run does not exist.
pub(super) fn finish_run(
    conn: &mut Connection,
    run_id: i64,
    status: RunStatus,
    finished_at: &str,
) -> rusqlite::Result<bool> {
    let tx = write_tx(conn)?;
    let changed = tx.execute(
        "UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1",
        params![run_id, status.as_str(), finished_at],
    )?;
    tx.commit()?;
    Ok(changed == 1)
}

/// Runs left `running` whose writer is gone (Ctrl-C past the handler, a crash, a
/// kill -9) become `interrupted`; their finished cells stay.
pub(super) fn mark_dead_runs_interrupted(conn: &mut Connection) -> rusqlite::Result<usize> {
    let running: Vec<(i64, Option<i64>, Option<i64>)> = conn
        .prepare("SELECT id, owner_pid, owner_start FROM runs WHERE status = 'running'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let dead: Vec<i64> = running
        .into_iter()
        .filter(|(_, pid, start)| !pid.is_some_and(|pid| owner::is_alive(pid, *start)))
        .map(|(id, _, _)| id)
        .collect();
    if dead.is_empty() {
        return Ok(0);
    }
    let tx = write_tx(conn)?;
    for id in &dead {
        // Re-check the status under the lock: the owner may have just finished it.
        tx.execute(
            "UPDATE runs SET status = 'interrupted' WHERE id = ?1 AND status = 'running'",
            [id],
        )?;
    }
    tx.commit()?;
    Ok(dead.len())
}
