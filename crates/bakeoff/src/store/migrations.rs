//! The store's schema versions: an ordered list of migrations, applied on open.
//!
//! The version lives in `PRAGMA user_version`. Migration `i` (0-based) takes the
//! database from version `i` to `i + 1`: its SQL, then an optional Rust fix-up for
//! what SQL cannot compute. Never edit a shipped migration; append one.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::model::{Estimate, Interval};
use crate::suite::stats;

struct Migration {
    sql: &'static str,
    fixup: Option<fn(&Transaction<'_>) -> rusqlite::Result<()>>,
    /// It rebuilds a table others reference: foreign keys are off around it
    /// (SQLite ignores the switch inside a transaction), and checked before
    /// its commit.
    rebuilds: bool,
}

/// The migrations, in order. `MIGRATIONS.len()` is the version this binary writes.
const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("schema_v1.sql"),
        fixup: None,
        rebuilds: false,
    },
    Migration {
        sql: include_str!("schema_v2.sql"),
        fixup: Some(v2_fixup),
        rebuilds: false,
    },
    Migration {
        sql: include_str!("schema_v3.sql"),
        fixup: None,
        rebuilds: false,
    },
    Migration {
        sql: include_str!("schema_v4.sql"),
        fixup: None,
        rebuilds: false,
    },
    Migration {
        sql: include_str!("schema_v5.sql"),
        fixup: None,
        rebuilds: true,
    },
    Migration {
        sql: include_str!("schema_v6.sql"),
        fixup: None,
        rebuilds: false,
    },
    Migration {
        sql: include_str!("schema_v7.sql"),
        fixup: None,
        rebuilds: true,
    },
    Migration {
        sql: include_str!("schema_v8.sql"),
        fixup: None,
        rebuilds: false,
    },
    Migration {
        sql: include_str!("schema_v9.sql"),
        fixup: None,
        rebuilds: false,
    },
    Migration {
        sql: include_str!("schema_v10.sql"),
        fixup: None,
        rebuilds: false,
    },
    Migration {
        sql: include_str!("schema_v11.sql"),
        fixup: None,
        rebuilds: false,
    },
];

/// The schema version this binary knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Why an existing file cannot be used as this binary's store.
#[derive(Debug)]
pub(super) enum Refusal {
    /// Not a database SQLite can read (or a corrupt one).
    Sql(rusqlite::Error),
    /// Written by a newer bakeoff.
    Newer(u32),
    /// An SQLite database with tables that are not ours.
    Foreign,
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Refusal::Sql(e)
    }
}

/// Read-only checks, done before anything is written to the file: it is a
/// readable SQLite database, not newer than us, and ours (or empty).
/// Returns the current version.
pub(super) fn check(conn: &Connection) -> Result<u32, Refusal> {
    let (version, foreign) = version_and_tables(conn)?;
    if version > SCHEMA_VERSION {
        return Err(Refusal::Newer(version));
    }
    if version == 0 && foreign {
        return Err(Refusal::Foreign);
    }
    Ok(version)
}

/// Apply the migrations after `from`, each in its own transaction with its
/// version bump, so a crash mid-way leaves a consistent older version.
pub(super) fn apply(conn: &mut Connection, from: u32) -> rusqlite::Result<()> {
    for (i, m) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        if !m.rebuilds {
            apply_one(conn, i, m)?;
            continue;
        }
        let keys_on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        conn.pragma_update(None, "foreign_keys", false)?;
        let applied = apply_one(conn, i, m);
        // Back on whatever happened: the connection is used on.
        conn.pragma_update(None, "foreign_keys", keys_on)?;
        applied?;
    }
    Ok(())
}

/// Migration `i` in its own transaction with its version bump.
fn apply_one(conn: &mut Connection, i: usize, m: &Migration) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    if user_version(&tx)? > i as u32 {
        return Ok(());
    }
    tx.execute_batch(m.sql)?;
    if let Some(fixup) = m.fixup {
        fixup(&tx)?;
    }
    if m.rebuilds {
        let broken: Option<String> = tx
            .query_row("SELECT \"table\" FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(table) = broken {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                Some(format!(
                    "schema v{}: rows of {table} lost their parent",
                    i + 1
                )),
            ));
        }
    }
    tx.pragma_update(None, "user_version", i as u32 + 1)?;
    tx.commit()
}

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// The schema version and whether the file has tables, read in one statement
/// and so from one snapshot: another process creating the schema commits its
/// tables and its version together, and two separate reads could see the
/// tables without the version (and refuse our own file as foreign). Reading
/// the schema page also catches a corrupt first page the header read misses.
/// A version-0 file with tables of its own belongs to someone else.
fn version_and_tables(conn: &Connection) -> rusqlite::Result<(u32, bool)> {
    conn.query_row(
        "SELECT (SELECT user_version FROM pragma_user_version), \
                EXISTS (SELECT 1 FROM sqlite_master WHERE name NOT LIKE 'sqlite_%')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// v1 → v2: recompute each cell's capacity estimate from its stored trials under
/// the v2 rules (a trial that found nothing is a 0 sample; the interval is single,
/// range or t), and drop the Little's-law flag and notes.
fn v2_fixup(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let cells: Vec<(i64, String, String)> = tx
        .prepare("SELECT id, flags_json, notes_json FROM cells")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut samples_of = tx.prepare(
        "SELECT has_capacity, capacity_rps FROM trials WHERE cell_id = ?1 ORDER BY position",
    )?;
    for (id, flags, notes) in cells {
        let samples: Vec<f64> = samples_of
            .query_map([id], |r| {
                let has: bool = r.get(0)?;
                let cap: Option<f64> = r.get(1)?;
                Ok(if has { cap.unwrap_or(f64::NAN) } else { 0.0 })
            })?
            .collect::<rusqlite::Result<_>>()?;
        if let Some(e) = stats::estimate(&samples) {
            tx.execute(
                "UPDATE cells SET has_capacity = 1, capacity_median = ?2, capacity_mean = ?3,
                     capacity_sd = ?4, capacity_ci_low = ?5, capacity_ci_high = ?6,
                     capacity_cv = ?7, capacity_n = ?8, capacity_noisy = ?9,
                     capacity_interval = ?10
                 WHERE id = ?1",
                params![
                    id,
                    e.median,
                    e.mean,
                    e.sd,
                    e.ci_low,
                    e.ci_high,
                    e.cv,
                    e.n,
                    e.noisy,
                    e.interval.as_str()
                ],
            )?;
        }
        let flags: Vec<String> = serde_json::from_str(&flags).unwrap_or_default();
        let notes: Vec<String> = serde_json::from_str(&notes).unwrap_or_default();
        let flags: Vec<String> = flags.into_iter().filter(|f| f != "littles-law").collect();
        let notes: Vec<String> = notes
            .into_iter()
            .filter(|n| !n.starts_with("Little's law"))
            .collect();
        tx.execute(
            "UPDATE cells SET flags_json = ?2, notes_json = ?3 WHERE id = ?1",
            params![
                id,
                serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into()),
                serde_json::to_string(&notes).unwrap_or_else(|_| "[]".into())
            ],
        )?;
    }
    // Cells with a capacity but no stored trials, and start-up times, kept only
    // their summary: take the median as the mean and cv × median as the sd.
    let legacy: Vec<(&str, i64, Estimate)> = {
        let mut out = Vec::new();
        for (table, sql) in [
            (
                "cells",
                "SELECT id, capacity_median, capacity_ci_low, capacity_ci_high, capacity_cv,
                        capacity_n
                 FROM cells WHERE has_capacity = 1 AND capacity_interval IS NULL",
            ),
            (
                "startups",
                "SELECT cell_id, median_ms, ci_low_ms, ci_high_ms, cv, n FROM startups",
            ),
        ] {
            let rows: Vec<(i64, Estimate)> = tx
                .prepare(sql)?
                .query_map([], |r| {
                    let get = |i| -> rusqlite::Result<f64> {
                        Ok(r.get::<_, Option<f64>>(i)?.unwrap_or(f64::NAN))
                    };
                    Ok((
                        r.get(0)?,
                        legacy_estimate(get(1)?, get(2)?, get(3)?, get(4)?, r.get(5)?),
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            out.extend(rows.into_iter().map(|(id, e)| (table, id, e)));
        }
        out
    };
    for (table, id, e) in legacy {
        let sql = if table == "cells" {
            "UPDATE cells SET capacity_mean = ?2, capacity_sd = ?3, capacity_ci_low = ?4,
                 capacity_ci_high = ?5, capacity_interval = ?6 WHERE id = ?1"
        } else {
            "UPDATE startups SET mean_ms = ?2, sd_ms = ?3, ci_low_ms = ?4, ci_high_ms = ?5,
                 interval = ?6 WHERE cell_id = ?1"
        };
        tx.execute(
            sql,
            params![id, e.mean, e.sd, e.ci_low, e.ci_high, e.interval.as_str()],
        )?;
    }
    Ok(())
}

/// A v1 summary (median, bootstrap interval, cv, n) in v2 terms. Below five
/// samples the bootstrap interval of the median is (close to) the range of the
/// samples, so it is kept and called a range; from five up it is replaced by the
/// t-interval of the approximate mean and sd.
fn legacy_estimate(median: f64, ci_low: f64, ci_high: f64, cv: f64, n: u32) -> Estimate {
    let sd = cv * median.abs();
    let (interval, ci_low, ci_high) = match n as usize {
        0 | 1 => (Interval::Single, median, median),
        n if n < stats::T_INTERVAL_MIN_N => (Interval::Range, ci_low, ci_high),
        n => {
            let half = stats::t_quantile(0.975, n as f64 - 1.0) * sd / (n as f64).sqrt();
            (Interval::TInterval95, median - half, median + half)
        }
    };
    Estimate {
        median,
        mean: median,
        sd,
        ci_low,
        ci_high,
        cv,
        n,
        noisy: cv > stats::NOISY_CV,
        interval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_in_order_on_an_empty_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        let from = check(&conn).unwrap();
        assert_eq!(from, 0);
        apply(&mut conn, from).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        // A second pass has nothing to do.
        assert_eq!(check(&conn).unwrap(), SCHEMA_VERSION);
        apply(&mut conn, SCHEMA_VERSION).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 13, "the v1 tables");
    }

    #[test]
    fn newer_and_foreign_databases_are_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(check(&conn), Err(Refusal::Newer(v)) if v == SCHEMA_VERSION + 1));

        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT)")
            .unwrap();
        assert!(matches!(check(&conn), Err(Refusal::Foreign)));
    }

    /// A database written by schema v1 (bootstrap intervals, Little's law, no
    /// outcomes) reads back under v2 with its estimates recomputed.
    #[test]
    fn a_v1_database_reads_after_the_migration() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply_v1_only(&mut conn);
        conn.execute_batch(
            r#"
            INSERT INTO runs (id, started_at, status, profile, slo_p99_ms, trials, duration_scale,
                              contenders_json, workloads_json, workers_json)
            VALUES (1, '2026-11-01T00:00:00Z', 'complete', 'quick', 100, 3, 1,
                    '["a"]', '["json"]', '[1]');
            INSERT INTO environment VALUES (1, 'cpu', 2, 1, 'k', 'os', '0.1', NULL, 'p', '{}');
            INSERT INTO cells (id, run_id, contender, workload, workers, state, has_capacity,
                               capacity_median, capacity_ci_low, capacity_ci_high, capacity_cv,
                               capacity_n, capacity_noisy, has_scaling, flags_json, notes_json)
            VALUES (10, 1, 'a', 'json', 1, 'ok', 1, 900, 800, 1000, 0.11, 2, 1, 0,
                    '["noisy","littles-law"]',
                    '["Little''s law: 9.1 observed, 4.0 predicted","kept"]');
            INSERT INTO trials VALUES (100, 10, 0, 0, 1, 800);
            INSERT INTO trials VALUES (101, 10, 1, 1, 0, NULL);
            INSERT INTO trials VALUES (102, 10, 2, 2, 1, 1000);
            INSERT INTO search_steps VALUES (100, 0, 0, 'ramp', 400, 399, 3, 0, 1);
            INSERT INTO search_steps VALUES (100, 1, 1, 'bisect', 900, 700, 300, 0.1, 0);
            INSERT INTO equal_load VALUES (10, 400, 399, 4000, 0, 5, 0.4, 1, 1, 2.0, 2.1, 1);
            INSERT INTO cells (id, run_id, contender, workload, workers, state, has_capacity,
                               has_scaling, flags_json, notes_json)
            VALUES (11, 1, 'a', 'startup', 1, 'ok', 0, 0, '[]', '[]');
            INSERT INTO startups VALUES (11, 200, 190, 210, 0.05, 5, 0, 1000);
            "#,
        )
        .unwrap();
        assert_eq!(check(&conn).unwrap(), 1);
        apply(&mut conn, 1).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);

        let run = super::super::read::load_run(&conn, 1).unwrap().unwrap();
        let cell = &run.cells[0];
        // Samples 800, 0 (the trial that found nothing), 1000: a range of 3.
        let cap = cell.capacity.unwrap();
        assert_eq!((cap.n, cap.interval), (3, Interval::Range));
        assert_eq!((cap.median, cap.ci_low, cap.ci_high), (800.0, 0.0, 1000.0));
        assert_eq!(cell.flags, [crate::model::Flag::Noisy]);
        assert_eq!(cell.notes, ["kept"]);
        let outcomes: Vec<_> = cell.trials.iter().map(|t| t.outcome).collect();
        use crate::model::{StepPhase, StepVerdict, TrialOutcome};
        assert_eq!(
            outcomes,
            [
                TrialOutcome::Confirmed,
                TrialOutcome::NoCapacity,
                TrialOutcome::Confirmed
            ]
        );
        let steps = &cell.trials[0].steps;
        assert_eq!(
            (steps[0].phase, steps[0].verdict, steps[1].verdict),
            (StepPhase::Ramp, StepVerdict::Pass, StepVerdict::Fail)
        );
        assert!(steps[0].duration_s.is_nan() && steps[0].reasons.is_empty());
        let eq = cell.equal_load.as_ref().unwrap();
        assert_eq!(eq.cpu_ms_per_request, Some(0.4));
        assert!(eq.consistency.is_none() && eq.marginal_cpu_ms_per_request.is_none());
        // Start-up kept only its summary: five samples become a t-interval.
        let st = run.cells[1].startup.unwrap().to_healthy_ms;
        assert_eq!(
            (st.interval, st.mean, st.n),
            (Interval::TInterval95, 200.0, 5)
        );
        assert!(st.ci_low < 200.0 && st.ci_high > 200.0);
    }

    fn apply_v1_only(conn: &mut Connection) {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(MIGRATIONS[0].sql).unwrap();
        tx.pragma_update(None, "user_version", 1).unwrap();
        tx.commit().unwrap();
    }

    /// A v4 store (one database per run, cells unique without it) reads after
    /// the v5 rebuild: its db cells carry the run's database, the others none,
    /// the rows under them survive, and a second database's cell can join.
    #[test]
    fn a_v4_database_gains_the_database_axis() {
        use crate::database::Database;
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        for (i, m) in MIGRATIONS.iter().enumerate().take(4) {
            apply_one(&mut conn, i, m).unwrap();
        }
        conn.execute_batch(
            r#"
            INSERT INTO runs (id, started_at, status, profile, slo_p99_ms, trials, duration_scale,
                              contenders_json, workloads_json, workers_json, database)
            VALUES (1, '2026-11-01T00:00:00Z', 'complete', 'quick', 100, 1, 1,
                    '["a"]', '["json","db"]', '[]', 'postgres');
            INSERT INTO environment VALUES (1, 'cpu', 2, 1, 'k', 'os', '0.1', NULL, 'p', '{}');
            INSERT INTO cells (id, run_id, contender, workload, workers, state, has_capacity,
                               capacity_median, capacity_ci_low, capacity_ci_high, capacity_cv,
                               capacity_n, capacity_noisy, capacity_mean, capacity_sd,
                               capacity_interval, has_scaling, flags_json, notes_json)
            VALUES (10, 1, 'a', 'db', 1, 'ok', 1, 700, 700, 700, 0, 1, 0, 700, 0, 'single',
                    0, '[]', '[]'),
                   (11, 1, 'a', 'json', 1, 'ok', 1, 900, 900, 900, 0, 1, 0, 900, 0, 'single',
                    0, '[]', '[]');
            INSERT INTO trials (id, cell_id, position, idx, has_capacity, capacity_rps, outcome)
            VALUES (100, 10, 0, 0, 1, 700, 'confirmed');
            INSERT INTO equal_load (cell_id, target_rps, achieved_rps, requests, errors, p99_ms,
                                    cpu_ms_per_request, rss_peak_bytes, rss_mean_bytes,
                                    database_cpu_ms_per_request)
            VALUES (10, 300, 299, 3000, 0, 4, 0.5, 1000, 900, 0.2);
            "#,
        )
        .unwrap();
        apply(&mut conn, 4).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let keys: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(keys, "foreign keys are back on after the rebuild");

        let run = super::super::read::load_run(&conn, 1).unwrap().unwrap();
        assert_eq!(run.settings.database, Database::Postgres);
        assert_eq!(run.settings.databases, [Database::Postgres]);
        let db = run
            .cells
            .iter()
            .find(|c| c.workload.name() == "db")
            .unwrap();
        let json = run
            .cells
            .iter()
            .find(|c| c.workload.name() == "json")
            .unwrap();
        assert_eq!(
            (db.database, json.database),
            (Some(Database::Postgres), None)
        );
        assert_eq!(db.trials.len(), 1, "the trials kept their cell");
        let eq = db.equal_load.as_ref().unwrap();
        assert_eq!(eq.database_cpu_ms_per_request, Some(0.2));

        // The same contender's db cell on SQLite is a cell of its own; a
        // second of either, or of json, is a duplicate.
        use super::super::write::{record_cell, Recorded};
        let on_sqlite = crate::model::Cell {
            database: Some(Database::Sqlite),
            ..db.clone()
        };
        assert_eq!(
            record_cell(&mut conn, 1, &on_sqlite).unwrap(),
            Recorded::Done
        );
        for dup in [&on_sqlite, db, json] {
            assert_eq!(record_cell(&mut conn, 1, dup).unwrap(), Recorded::Duplicate);
        }
        // The index holds without the check: NULL counts as a value.
        assert!(conn
            .execute(
                "INSERT INTO cells (run_id, contender, workload, workers, state, has_capacity,
                                    has_scaling, flags_json, notes_json)
                 VALUES (1, 'a', 'json', 1, 'ok', 0, 0, '[]', '[]')",
                [],
            )
            .is_err());
        let run = super::super::read::load_run(&conn, 1).unwrap().unwrap();
        let dbs: Vec<_> = run
            .cells
            .iter()
            .filter(|c| c.workload.name() == "db")
            .map(|c| c.database)
            .collect();
        assert_eq!(dbs, [Some(Database::Postgres), Some(Database::Sqlite)]);
    }

    /// A v6 store's trials and their search steps survive the v7 rebuild,
    /// and a failing trial, which v6's check refused, records and reads back.
    #[test]
    fn a_v6_database_keeps_its_trials_and_takes_failing_ones() {
        use crate::model::TrialOutcome;
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        for (i, m) in MIGRATIONS.iter().enumerate().take(6) {
            apply_one(&mut conn, i, m).unwrap();
        }
        conn.execute_batch(
            r#"
            INSERT INTO runs (id, started_at, status, profile, slo_p99_ms, trials, duration_scale,
                              contenders_json, workloads_json, workers_json)
            VALUES (1, '2026-11-01T00:00:00Z', 'complete', 'quick', 100, 1, 1,
                    '["a"]', '["json"]', '[]');
            INSERT INTO environment VALUES (1, 'cpu', 2, 1, 'k', 'os', '0.1', NULL, 'p', '{}');
            INSERT INTO cells (id, run_id, contender, workload, workers, state, has_capacity,
                               has_scaling, flags_json, notes_json)
            VALUES (10, 1, 'a', 'json', 1, 'ok', 0, 0, '[]', '[]');
            INSERT INTO trials (id, cell_id, position, idx, has_capacity, capacity_rps, outcome,
                                note)
            VALUES (100, 10, 0, 0, 0, NULL, 'no_capacity', 'fails the SLO');
            INSERT INTO search_steps (trial_id, position, idx, phase, target_rps, achieved_rps,
                                      p99_ms, error_rate, pass, verdict, duration_s)
            VALUES (100, 0, 0, 'ramp', 50, 50, 300, 0, 0, 'fail', 1);
            "#,
        )
        .unwrap();
        let failing = "INSERT INTO trials (cell_id, position, idx, has_capacity, outcome)
                       VALUES (10, 1, 1, 0, 'failing')";
        assert!(conn.execute(failing, []).is_err(), "v6 refuses it");
        apply(&mut conn, 6).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let keys: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(keys, "foreign keys are back on after the rebuild");
        conn.execute(failing, []).unwrap();
        assert!(conn
            .execute(
                "INSERT INTO trials (cell_id, position, idx, has_capacity, outcome)
                 VALUES (10, 2, 2, 0, 'bogus')",
                [],
            )
            .is_err());

        let run = super::super::read::load_run(&conn, 1).unwrap().unwrap();
        let trials = &run.cells[0].trials;
        let outcomes: Vec<_> = trials.iter().map(|t| t.outcome).collect();
        assert_eq!(outcomes, [TrialOutcome::NoCapacity, TrialOutcome::Failing]);
        assert_eq!(trials[0].steps.len(), 1, "the steps kept their trial");
        // Deleting the run still cascades through the rebuilt table.
        conn.execute("DELETE FROM runs WHERE id = 1", []).unwrap();
        let steps: i64 = conn
            .query_row("SELECT count(*) FROM search_steps", [], |r| r.get(0))
            .unwrap();
        assert_eq!(steps, 0);
    }
}
