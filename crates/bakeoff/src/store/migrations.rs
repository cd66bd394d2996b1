//! The store's schema versions: an ordered list of migrations, applied on open.
//!
//! The version lives in `PRAGMA user_version`. Migration `i` (0-based) takes the
//! database from version `i` to `i + 1`. Never edit a shipped migration; append one.

use rusqlite::{Connection, OptionalExtension};

/// Migration SQL, in order. `MIGRATIONS.len()` is the version this binary writes.
const MIGRATIONS: &[&str] = &[include_str!("schema_v1.sql"), include_str!("schema_v2.sql")];

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
    let version = user_version(conn)?;
    // Reading the schema page catches a corrupt first page the header read misses.
    let foreign = has_foreign_tables(conn)?;
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
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Re-read under the write lock: another process may have migrated meanwhile.
        if user_version(&tx)? > i as u32 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as u32 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// A version-0 file with tables of its own belongs to someone else: never touch it.
fn has_foreign_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' LIMIT 1",
        [],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
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
        assert_eq!(tables, 13, "the v1 tables (v2 adds columns only)");
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
}
