//! Reading runs back into the [`crate::model`] exactly as they were written.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{RunSummary, StoredEqualRates};
use crate::database::Database;
use crate::model::{
    Cell, CellStatus, Consistency, ContenderInfo, Environment, EqualLoad, Estimate, Interval,
    Percentiles, Profile, Run, RunStatus, SearchStep, Settings, Startup, StepPhase, StepVerdict,
    TimelinePoint, Trial, TrialOutcome, VariantInfo, WsPoint,
};

/// A stored database name, or none (NULL).
fn database(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Database>> {
    row.get::<_, Option<String>>(idx)?
        .map(|name| {
            Database::parse(&name).ok_or_else(|| bad_data(format!("unknown database `{name}`")))
        })
        .transpose()
}

fn bad_data(msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, msg.into())
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| bad_data(format!("stored JSON {text:?}: {e}")))
}

/// An optional JSON column: NULL is none.
fn opt_json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    idx: usize,
) -> rusqlite::Result<Option<T>> {
    row.get::<_, Option<String>>(idx)?
        .map(|j| from_json(&j))
        .transpose()
}

/// A non-optional REAL: NULL is how SQLite stored a NaN.
fn real(row: &Row<'_>, idx: usize) -> rusqlite::Result<f64> {
    Ok(row.get::<_, Option<f64>>(idx)?.unwrap_or(f64::NAN))
}

/// An optional REAL guarded by its `has_*` flag column.
fn opt_real(row: &Row<'_>, has: usize, idx: usize) -> rusqlite::Result<Option<f64>> {
    Ok(if row.get::<_, bool>(has)? {
        Some(real(row, idx)?)
    } else {
        None
    })
}

/// A stored enum's text back into the enum, or a clear error naming the column.
fn parse_text<T>(
    row: &Row<'_>,
    idx: usize,
    what: &str,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    parse(&text).ok_or_else(|| bad_data(format!("unknown {what} {text:?}")))
}

pub(super) fn latest_run(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT max(id) FROM runs", [], |r| r.get(0))
}

/// The equal-load rates of the newest complete run with the same profile, SLO,
/// scale, contenders and worker counts.
pub(super) fn previous_equal_rates(
    conn: &Connection,
    settings: &Settings,
) -> rusqlite::Result<Option<StoredEqualRates>> {
    let contenders =
        serde_json::to_string(&settings.contenders).map_err(|e| bad_data(e.to_string()))?;
    let workers = serde_json::to_string(&settings.workers).map_err(|e| bad_data(e.to_string()))?;
    let databases =
        serde_json::to_string(&settings.databases()).map_err(|e| bad_data(e.to_string()))?;
    let run: Option<i64> = conn
        .query_row(
            "SELECT id FROM runs
             WHERE status = 'complete' AND profile = ?1 AND slo_p99_ms = ?2
               AND duration_scale = ?3 AND contenders_json = ?4 AND workers_json = ?5
               AND database = ?6 AND databases_json = ?7
             ORDER BY id DESC LIMIT 1",
            params![
                settings.profile.as_str(),
                settings.slo_p99_ms,
                settings.duration_scale,
                contenders,
                workers,
                settings.database.as_str(),
                databases
            ],
            |r| r.get(0),
        )
        .optional()?;
    let Some(run) = run else { return Ok(None) };
    let mut stmt = conn.prepare(
        "SELECT c.workload, c.workers, c.database, max(e.target_rps) FROM equal_load e
         JOIN cells c ON c.id = e.cell_id
         WHERE c.run_id = ?1 AND e.target_rps > 0
         GROUP BY c.workload, c.workers, c.database",
    )?;
    let rows = stmt
        .query_map([run], |r| {
            Ok((r.get(0)?, r.get(1)?, database(r, 2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(StoredEqualRates {
        run_id: run,
        rates: rows,
    }))
}

pub(super) fn run_exists(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM runs WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(super) fn list_runs(conn: &Connection) -> rusqlite::Result<Vec<RunSummary>> {
    let mut stmt = conn.prepare(
        "SELECT r.id, r.started_at, r.finished_at, r.status, r.profile, r.contenders_json,
                r.workloads_json,
                (SELECT count(*) FROM cells c WHERE c.run_id = r.id AND c.state = 'ok'),
                (SELECT count(*) FROM cells c WHERE c.run_id = r.id AND c.state = 'failed')
         FROM runs r ORDER BY r.id DESC",
    )?;
    let mut runs = stmt
        .query_map([], |r| {
            Ok(RunSummary {
                id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                status: parse_text(r, 3, "run status", RunStatus::parse)?,
                profile: parse_text(r, 4, "profile", Profile::parse)?,
                contenders: from_json(&r.get::<_, String>(5)?)?,
                workloads: from_json(&r.get::<_, String>(6)?)?,
                cells_ok: r.get(7)?,
                cells_failed: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The contenders actually set up (user apps included) beat the requested names.
    let mut names =
        conn.prepare("SELECT name FROM contenders WHERE run_id = ?1 ORDER BY position")?;
    for run in &mut runs {
        let set_up: Vec<String> = names
            .query_map([run.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if !set_up.is_empty() {
            run.contenders = set_up;
        }
    }
    Ok(runs)
}

/// None when there is no such run.
pub(super) fn load_run(conn: &Connection, id: i64) -> rusqlite::Result<Option<Run>> {
    let head = conn
        .query_row(
            "SELECT started_at, finished_at, status, profile, slo_p99_ms, trials, duration_scale,
                    contenders_json, workloads_json, workers_json, database, databases_json,
                    max_steal_percent, search_resolution
             FROM runs WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    parse_text(r, 2, "run status", RunStatus::parse)?,
                    Settings {
                        profile: parse_text(r, 3, "profile", Profile::parse)?,
                        slo_p99_ms: real(r, 4)?,
                        trials: r.get(5)?,
                        duration_scale: real(r, 6)?,
                        contenders: from_json(&r.get::<_, String>(7)?)?,
                        workloads: from_json(&r.get::<_, String>(8)?)?,
                        workers: from_json(&r.get::<_, String>(9)?)?,
                        database: database(r, 10)?.unwrap_or_default(),
                        databases: from_json(&r.get::<_, String>(11)?)?,
                        max_steal_percent: r.get(12)?,
                        search_resolution: r.get(13)?,
                    },
                ))
            },
        )
        .optional()?;
    let Some((started_at, finished_at, status, settings)) = head else {
        return Ok(None);
    };
    Ok(Some(Run {
        id,
        started_at,
        finished_at,
        status,
        settings,
        environment: load_environment(conn, id)?,
        contenders: load_contenders(conn, id)?,
        cells: load_cells(conn, id)?,
    }))
}

fn load_environment(conn: &Connection, run_id: i64) -> rusqlite::Result<Environment> {
    conn.query_row(
        "SELECT cpu_model, cores, memory_bytes, kernel, os, bakeoff_version, git_revision,
                pinning, runtimes_json, core_speed_json, generator_core_speed_json,
                loopback_speed_json
         FROM environment WHERE run_id = ?1",
        [run_id],
        |r| {
            Ok(Environment {
                cpu_model: r.get(0)?,
                cores: r.get(1)?,
                memory_bytes: r.get(2)?,
                kernel: r.get(3)?,
                os: r.get(4)?,
                bakeoff_version: r.get(5)?,
                git_revision: r.get(6)?,
                pinning: r.get(7)?,
                runtimes: from_json(&r.get::<_, String>(8)?)?,
                core_speed: opt_json(r, 9)?,
                generator_core_speed: opt_json(r, 10)?,
                loopback_speed: opt_json(r, 11)?,
            })
        },
    )
}

fn load_contenders(conn: &Connection, run_id: i64) -> rusqlite::Result<Vec<ContenderInfo>> {
    conn.prepare(
        "SELECT name, language, runtime, runtime_version, framework, framework_version, server,
                deps_direct, deps_total, install_bytes, install_secs, app_loc, unsupported_json,
                disclosures_json, variant_of, variant_name, variant_description
         FROM contenders WHERE run_id = ?1 ORDER BY position",
    )?
    .query_map([run_id], |r| {
        Ok(ContenderInfo {
            name: r.get(0)?,
            language: r.get(1)?,
            runtime: r.get(2)?,
            runtime_version: r.get(3)?,
            framework: r.get(4)?,
            framework_version: r.get(5)?,
            server: r.get(6)?,
            deps_direct: r.get(7)?,
            deps_total: r.get(8)?,
            install_bytes: r.get(9)?,
            install_secs: real(r, 10)?,
            app_loc: r.get(11)?,
            unsupported: from_json(&r.get::<_, String>(12)?)?,
            disclosures: from_json(&r.get::<_, String>(13)?)?,
            variant: match (
                r.get::<_, Option<String>>(14)?,
                r.get::<_, Option<String>>(15)?,
            ) {
                (Some(of), Some(name)) => Some(VariantInfo {
                    of,
                    name,
                    description: r.get::<_, Option<String>>(16)?.unwrap_or_default(),
                }),
                _ => None,
            },
        })
    })?
    .collect()
}

fn load_cells(conn: &Connection, run_id: i64) -> rusqlite::Result<Vec<Cell>> {
    let rows: Vec<(i64, Cell)> = conn
        .prepare(
            "SELECT id, contender, workload, workers, state, reason, has_capacity,
                    capacity_median, capacity_ci_low, capacity_ci_high, capacity_cv, capacity_n,
                    capacity_noisy, has_scaling, scaling_efficiency, flags_json, notes_json,
                    capacity_mean, capacity_sd, capacity_interval, database
             FROM cells WHERE run_id = ?1 ORDER BY id",
        )?
        .query_map([run_id], |r| {
            let reason = || -> rusqlite::Result<String> {
                Ok(r.get::<_, Option<String>>(5)?.unwrap_or_default())
            };
            let status = match r.get::<_, String>(4)?.as_str() {
                "ok" => CellStatus::Ok,
                "failed" => CellStatus::Failed { reason: reason()? },
                "skipped" => CellStatus::Skipped { reason: reason()? },
                other => return Err(bad_data(format!("unknown cell state {other:?}"))),
            };
            let capacity = if r.get::<_, bool>(6)? {
                Some(Estimate {
                    median: real(r, 7)?,
                    mean: real(r, 17)?,
                    sd: real(r, 18)?,
                    ci_low: real(r, 8)?,
                    ci_high: real(r, 9)?,
                    cv: real(r, 10)?,
                    n: r.get(11)?,
                    noisy: r.get(12)?,
                    interval: parse_text(r, 19, "interval", Interval::parse)?,
                })
            } else {
                None
            };
            let cell = Cell {
                contender: r.get(1)?,
                workload: r.get(2)?,
                workers: r.get(3)?,
                database: database(r, 20)?,
                status,
                capacity,
                trials: Vec::new(),
                equal_load: None,
                ws: Vec::new(),
                startup: None,
                scaling_efficiency: opt_real(r, 13, 14)?,
                flags: from_json(&r.get::<_, String>(15)?)?,
                notes: from_json(&r.get::<_, String>(16)?)?,
            };
            Ok((r.get(0)?, cell))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(cell_id, mut cell)| {
            cell.trials = load_trials(conn, cell_id)?;
            cell.equal_load = load_equal_load(conn, cell_id)?;
            cell.ws = load_ws(conn, cell_id)?;
            cell.startup = load_startup(conn, cell_id)?;
            Ok(cell)
        })
        .collect()
}

fn load_trials(conn: &Connection, cell_id: i64) -> rusqlite::Result<Vec<Trial>> {
    let trials: Vec<(i64, Trial)> = conn
        .prepare_cached(
            "SELECT id, idx, has_capacity, capacity_rps, outcome, note FROM trials
             WHERE cell_id = ?1 ORDER BY position",
        )?
        .query_map([cell_id], |r| {
            Ok((
                r.get(0)?,
                Trial {
                    index: r.get(1)?,
                    capacity_rps: opt_real(r, 2, 3)?,
                    outcome: parse_text(r, 4, "trial outcome", TrialOutcome::parse)?,
                    note: r.get(5)?,
                    steps: Vec::new(),
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut steps = conn.prepare_cached(
        "SELECT idx, phase, target_rps, achieved_rps, p99_ms, error_rate, verdict, duration_s,
                reasons_json
         FROM search_steps WHERE trial_id = ?1 ORDER BY position",
    )?;
    trials
        .into_iter()
        .map(|(trial_id, mut trial)| {
            trial.steps = steps
                .query_map([trial_id], |r| {
                    Ok(SearchStep {
                        index: r.get(0)?,
                        phase: parse_text(r, 1, "search phase", StepPhase::parse)?,
                        target_rps: real(r, 2)?,
                        achieved_rps: real(r, 3)?,
                        p99_ms: real(r, 4)?,
                        error_rate: real(r, 5)?,
                        verdict: parse_text(r, 6, "step verdict", StepVerdict::parse)?,
                        duration_s: real(r, 7)?,
                        reasons: from_json(&r.get::<_, String>(8)?)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(trial)
        })
        .collect()
}

fn load_equal_load(conn: &Connection, cell_id: i64) -> rusqlite::Result<Option<EqualLoad>> {
    let eq = conn
        .prepare_cached(
            "SELECT target_rps, achieved_rps, requests, errors, cpu_ms_per_request,
                    rss_peak_bytes, rss_mean_bytes, has_idle_cpu, idle_cpu_cores,
                    has_marginal_cpu, marginal_cpu_ms_per_request, consistency_check,
                    consistency_ok, consistency_detail, database_cpu_ms_per_request
             FROM equal_load WHERE cell_id = ?1",
        )?
        .query_row([cell_id], |r| {
            Ok(EqualLoad {
                target_rps: real(r, 0)?,
                achieved_rps: real(r, 1)?,
                requests: r.get(2)?,
                errors: r.get(3)?,
                latency: Percentiles::default(),
                service: Percentiles::default(),
                light: None,
                spectrum: Vec::new(),
                service_spectrum: Vec::new(),
                cpu_ms_per_request: r.get(4)?,
                idle_cpu_cores: opt_real(r, 7, 8)?,
                marginal_cpu_ms_per_request: opt_real(r, 9, 10)?,
                database_cpu_ms_per_request: r.get(14)?,
                // Stored as 0 when unmeasured (no running server has none).
                rss_peak_bytes: Some(r.get::<_, u64>(5)?).filter(|&b| b > 0),
                rss_mean_bytes: Some(r.get::<_, u64>(6)?).filter(|&b| b > 0),
                timeline: Vec::new(),
                consistency: match r.get::<_, Option<String>>(11)? {
                    Some(check) => Some(Consistency {
                        check,
                        ok: r.get(12)?,
                        detail: r.get::<_, Option<String>>(13)?.unwrap_or_default(),
                    }),
                    None => None,
                },
                histograms: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut eq) = eq else {
        return Ok(None);
    };
    let mut pct = conn.prepare_cached(
        "SELECT kind, p50, p90, p99, p999, p9999, max, mean FROM percentiles WHERE cell_id = ?1",
    )?;
    let rows = pct.query_map([cell_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Percentiles {
                p50: real(r, 1)?,
                p90: real(r, 2)?,
                p99: real(r, 3)?,
                p999: real(r, 4)?,
                p9999: real(r, 5)?,
                max: real(r, 6)?,
                mean: real(r, 7)?,
            },
        ))
    })?;
    for row in rows {
        let (kind, p) = row?;
        match kind.as_str() {
            "latency" => eq.latency = p,
            "service" => eq.service = p,
            _ => eq.light = Some(p),
        }
    }
    let mut spec = conn.prepare_cached(
        "SELECT quantile, ms FROM spectra WHERE cell_id = ?1 AND kind = ?2 ORDER BY position",
    )?;
    for (kind, out) in [
        ("latency", &mut eq.spectrum),
        ("service", &mut eq.service_spectrum),
    ] {
        *out = spec
            .query_map(params![cell_id, kind], |r| Ok([real(r, 0)?, real(r, 1)?]))?
            .collect::<rusqlite::Result<_>>()?;
    }
    eq.timeline = conn
        .prepare_cached(
            "SELECT second, rps, p99_ms, errors FROM timelines WHERE cell_id = ?1 ORDER BY position",
        )?
        .query_map([cell_id], |r| {
            Ok(TimelinePoint {
                second: r.get(0)?,
                rps: real(r, 1)?,
                p99_ms: real(r, 2)?,
                errors: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    eq.histograms = conn
        .prepare_cached("SELECT name, data FROM histograms WHERE cell_id = ?1 ORDER BY position")?
        .query_map([cell_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(eq))
}

fn load_ws(conn: &Connection, cell_id: i64) -> rusqlite::Result<Vec<WsPoint>> {
    conn.prepare_cached(
        "SELECT clients, rate, sent, expected_deliveries, deliveries, missing, p50_ms, p99_ms,
                rss_idle_bytes, rss_loaded_bytes, bytes_per_connection
         FROM ws_points WHERE cell_id = ?1 ORDER BY position",
    )?
    .query_map([cell_id], |r| {
        Ok(WsPoint {
            clients: r.get(0)?,
            rate: real(r, 1)?,
            sent: r.get(2)?,
            expected_deliveries: r.get(3)?,
            deliveries: r.get(4)?,
            missing: r.get(5)?,
            p50_ms: real(r, 6)?,
            p99_ms: real(r, 7)?,
            rss_idle_bytes: r.get(8)?,
            rss_loaded_bytes: r.get(9)?,
            // Runs stored before it was optional wrote 0 for an unmeasured
            // point, with a loaded RSS of 0 that no running server has.
            bytes_per_connection: match r.get::<_, u64>(9)? {
                0 => None,
                _ => r.get::<_, Option<f64>>(10)?,
            },
        })
    })?
    .collect()
}

fn load_startup(conn: &Connection, cell_id: i64) -> rusqlite::Result<Option<Startup>> {
    conn.prepare_cached(
        "SELECT median_ms, ci_low_ms, ci_high_ms, cv, n, noisy, idle_rss_bytes, mean_ms, sd_ms,
                interval
         FROM startups WHERE cell_id = ?1",
    )?
    .query_row([cell_id], |r| {
        Ok(Startup {
            to_healthy_ms: Estimate {
                median: real(r, 0)?,
                mean: real(r, 7)?,
                sd: real(r, 8)?,
                ci_low: real(r, 1)?,
                ci_high: real(r, 2)?,
                cv: real(r, 3)?,
                n: r.get(4)?,
                noisy: r.get(5)?,
                interval: parse_text(r, 9, "interval", Interval::parse)?,
            },
            idle_rss_bytes: r.get(6)?,
        })
    })
    .optional()
}
