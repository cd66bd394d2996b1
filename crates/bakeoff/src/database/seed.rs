//! The seed: `world` and `fortune` exactly as in the generated SQLite file
//! (read from it, so the two databases can never drift apart), as one psql
//! script that creates the tables and loads them with `COPY ... FROM STDIN`.
//! Column names are lower case (`randomnumber`), as TechEmpower's unquoted
//! `randomNumber` folds to in PostgreSQL.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::DatabaseError;

/// The rows of both tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub world: Vec<(i64, i64)>,
    pub fortune: Vec<(i64, String)>,
}

/// Every row of a two-column query.
fn rows<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql>(
    conn: &rusqlite::Connection,
    sql: &str,
) -> rusqlite::Result<Vec<(A, B)>> {
    let mut s = conn.prepare(sql)?;
    let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

impl Seed {
    /// Read the pristine SQLite database written by `contender::datagen`.
    pub fn from_sqlite(path: &Path) -> Result<Seed, DatabaseError> {
        let err = |source| DatabaseError::Seed {
            path: path.to_path_buf(),
            source,
        };
        let conn =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(err)?;
        let world = rows(&conn, "SELECT id, randomNumber FROM world ORDER BY id").map_err(err)?;
        let fortune = rows(&conn, "SELECT id, message FROM fortune ORDER BY id").map_err(err)?;
        Ok(Seed { world, fortune })
    }

    /// The psql script that (re)creates and fills both tables; run with
    /// `ON_ERROR_STOP` so a bad row fails the whole load.
    pub fn script(&self) -> String {
        let mut s = String::with_capacity(16 * self.world.len() + 1024);
        s.push_str(
            // The server runs synchronous_commit=off; the seed itself must survive
            // an immediate stop, since a reused cluster is not reseeded at start.
            "SET synchronous_commit = on;\n\
             BEGIN;\n\
             DROP TABLE IF EXISTS world;\n\
             DROP TABLE IF EXISTS fortune;\n\
             CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL);\n\
             CREATE TABLE fortune (id integer PRIMARY KEY, message text NOT NULL);\n\
             COPY world (id, randomnumber) FROM STDIN;\n",
        );
        for (id, n) in &self.world {
            s.push_str(&format!("{id}\t{n}\n"));
        }
        s.push_str("\\.\nCOPY fortune (id, message) FROM STDIN;\n");
        for (id, m) in &self.fortune {
            s.push_str(&format!("{id}\t{}\n", copy_escape(m)));
        }
        s.push_str("\\.\nCOMMIT;\nANALYZE world;\nANALYZE fortune;\n");
        s
    }

    /// SHA-256 of the script: the cluster's stamp changes when a row does.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.script().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Escape a value for COPY's text format: backslash, tab, newline, CR.
pub fn copy_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_generated_file_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let files = crate::contender::datagen::ensure(dir.path()).unwrap();
        let seed = Seed::from_sqlite(&files.sqlite).unwrap();
        assert_eq!(
            seed.world.len(),
            crate::contender::datagen::WORLD_ROWS as usize
        );
        assert_eq!(seed.world[0].0, 1);
        let want: Vec<(i64, String)> = crate::contender::datagen::FORTUNES
            .iter()
            .map(|(i, m)| (*i, m.to_string()))
            .collect();
        assert_eq!(seed.fortune, want);
        let script = seed.script();
        assert!(script.contains("randomnumber integer NOT NULL"));
        assert_eq!(seed.hash().len(), 64);
    }

    #[test]
    fn copy_values_are_escaped() {
        assert_eq!(copy_escape("a\tb\\c\nd\re"), "a\\tb\\\\c\\nd\\re");
        assert_eq!(
            copy_escape("<script>\"x\"</script>"),
            "<script>\"x\"</script>"
        );
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let e = Seed::from_sqlite(Path::new("/nonexistent/bakeoff.sqlite")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/bakeoff.sqlite"), "{e}");
    }
}
