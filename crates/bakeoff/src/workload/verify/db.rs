//! Checks of the database endpoints — `/db`, `/queries`, `/updates` — against
//! the database itself (the SQLite file here, or PostgreSQL through `truth`):
//! rows must exist with the values returned, ids must vary, `queries` must be
//! clamped, and updates must be persisted. Before each
//! `/db` and `/queries` request the verifier changes every row's randomNumber
//! in the contender's (working copy of the) database, so a row served from a
//! cache instead of a `SELECT` always shows a stale value.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use super::{Probe, VerifyContext};

/// Ids and randomNumbers live in 1..=WORLD_ROWS.
const WORLD_ROWS: i64 = 10_000;

/// One `world` row as returned by the contender.
type Row = (i64, i64);

/// The whole `world` table, id → randomNumber.
pub(super) type World = HashMap<i64, i64>;

fn open_rw(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| {
        format!(
            "cannot open the database {} for writing: {e}",
            path.display()
        )
    })?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| format!("cannot set a busy timeout on {}: {e}", path.display()))?;
    Ok(conn)
}

fn open(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open the database {}: {e}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| format!("cannot set a busy timeout on {}: {e}", path.display()))?;
    Ok(conn)
}

/// Change every row's randomNumber (n → n % 10000 + 1: always different, still
/// in 1..=10000), as another writer could at any time.
pub(super) async fn rotate_world(path: &Path) -> Result<(), String> {
    let path: PathBuf = path.to_path_buf();
    let write = move || -> Result<(), String> {
        let conn = open_rw(&path)?;
        conn.execute(
            "UPDATE world SET randomNumber = randomNumber % ?1 + 1",
            [WORLD_ROWS],
        )
        .map(drop)
        .map_err(|e| format!("cannot change `world` in {}: {e}", path.display()))
    };
    tokio::task::spawn_blocking(write)
        .await
        .map_err(|e| format!("database writer failed: {e}"))?
}

/// Set the message of fortune `id`.
pub(super) async fn set_fortune(path: &Path, id: i64, message: String) -> Result<(), String> {
    let path: PathBuf = path.to_path_buf();
    let write = move || -> Result<(), String> {
        let conn = open_rw(&path)?;
        conn.execute(
            "UPDATE fortune SET message = ?1 WHERE id = ?2",
            rusqlite::params![message, id],
        )
        .map(drop)
        .map_err(|e| format!("cannot change `fortune` in {}: {e}", path.display()))
    };
    tokio::task::spawn_blocking(write)
        .await
        .map_err(|e| format!("database writer failed: {e}"))?
}

/// Read all of `world` (10,000 rows: a few milliseconds).
pub(super) async fn world(path: &Path) -> Result<World, String> {
    let path: PathBuf = path.to_path_buf();
    let read = move || -> Result<World, String> {
        let conn = open(&path)?;
        let err = |e: rusqlite::Error| format!("cannot read `world` from {}: {e}", path.display());
        let mut stmt = conn
            .prepare("SELECT id, randomNumber FROM world")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(err)?;
        rows.collect::<Result<World, _>>().map_err(err)
    };
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| format!("database reader failed: {e}"))?
}

/// Read all of `fortune`.
pub(super) async fn fortunes(path: &Path) -> Result<Vec<(i64, String)>, String> {
    let path: PathBuf = path.to_path_buf();
    let read = move || -> Result<Vec<(i64, String)>, String> {
        let conn = open(&path)?;
        let err =
            |e: rusqlite::Error| format!("cannot read `fortune` from {}: {e}", path.display());
        let mut stmt = conn
            .prepare("SELECT id, message FROM fortune")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    };
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| format!("database reader failed: {e}"))?
}

/// A `world` row: exactly `{"id":n,"randomNumber":m}`, both in 1..=10000.
fn parse_row(v: &Value) -> Result<Row, String> {
    let obj = v.as_object().ok_or("a row must be a JSON object")?;
    let get = |key: &str| -> Result<i64, String> {
        let n = obj
            .get(key)
            .ok_or_else(|| format!("missing key `{key}`"))?
            .as_i64()
            .ok_or_else(|| format!("`{key}` must be an integer"))?;
        if !(1..=WORLD_ROWS).contains(&n) {
            return Err(format!("`{key}` {n} is outside 1..={WORLD_ROWS}"));
        }
        Ok(n)
    };
    let row = (get("id")?, get("randomNumber")?);
    if obj.len() != 2 {
        return Err(format!(
            "unexpected keys (only `id` and `randomNumber` are allowed): {:?}",
            obj.keys().collect::<Vec<_>>()
        ));
    }
    Ok(row)
}

/// Collects per-row problems and reports the first few.
struct RowErrors {
    path: String,
    errors: Vec<String>,
}

impl RowErrors {
    fn new(path: &str) -> Self {
        RowErrors {
            path: path.to_string(),
            errors: Vec::new(),
        }
    }

    fn push(&mut self, e: String) {
        self.errors.push(e);
    }

    fn report(self, p: &mut Probe<'_>) {
        const SHOWN: usize = 3;
        let n = self.errors.len();
        for e in self.errors.into_iter().take(SHOWN) {
            p.reasons.push(format!("GET {}: {e}", self.path));
        }
        if n > SHOWN {
            p.reasons.push(format!(
                "GET {}: ... and {} more bad rows",
                self.path,
                n - SHOWN
            ));
        }
    }
}

/// Rows of a JSON array body; shape errors recorded in `errs`.
fn parse_rows(v: &Value, errs: &mut RowErrors) -> Option<Vec<Row>> {
    let Some(items) = v.as_array() else {
        errs.push(format!(
            "expected a JSON array of rows, got {}",
            super::snippet(&v.to_string())
        ));
        return None;
    };
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match parse_row(item) {
            Ok(r) => rows.push(r),
            Err(e) => errs.push(format!(
                "row {i}: expected {{\"id\":1..10000,\"randomNumber\":1..10000}} ({e}), got {}",
                super::snippet(&item.to_string())
            )),
        }
    }
    Some(rows)
}

/// Returned rows must hold the value the database now has.
fn match_db(rows: &[Row], world: &World, errs: &mut RowErrors) {
    for (id, n) in rows {
        match world.get(id) {
            None => errs.push(format!("row id {id}: no such row in the database")),
            Some(db) if db != n => errs.push(format!(
                "row id {id}: expected randomNumber {db} (the database's value; bakeoff changed every row just before the request, so a cached or made-up row is stale), got {n}"
            )),
            Some(_) => {}
        }
    }
}

/// Change the database, GET `path`, and match the returned rows (one object
/// when `single`, else an array) against the database as it is then. Returns
/// the body and its well-formed rows; `None` when the request failed.
async fn fresh_rows(
    p: &mut Probe<'_>,
    ctx: &VerifyContext<'_>,
    path: &str,
    single: bool,
    errs: &mut RowErrors,
) -> Option<(Value, Vec<Row>)> {
    if let Err(e) = super::truth::rotate_world(ctx).await {
        p.reasons.push(format!("{path}: {e}"));
        return None;
    }
    let (_, v) = p.get_json(path, 200).await?;
    let rows = if single {
        match parse_row(&v) {
            Ok(r) => vec![r],
            Err(e) => {
                errs.push(format!(
                    "expected {{\"id\":1..10000,\"randomNumber\":1..10000}} ({e}), got {}",
                    super::snippet(&v.to_string())
                ));
                Vec::new()
            }
        }
    } else {
        parse_rows(&v, errs)?
    };
    if !rows.is_empty() {
        match super::truth::world(ctx).await {
            Ok(w) => match_db(&rows, &w, errs),
            Err(e) => p.reasons.push(format!("{path}: {e}")),
        }
    }
    Some((v, rows))
}

/// Fewest distinct ids accepted among `n` random ones (collisions in
/// 1..=10000 are rare; a fixed or cached row is not).
fn min_distinct(n: usize) -> usize {
    match n {
        0..=1 => n,
        2..=9 => n - 1,
        _ => n * 9 / 10,
    }
}

fn check_distinct(p: &mut Probe<'_>, what: &str, rows: &[Row]) {
    let distinct = rows.iter().map(|r| r.0).collect::<HashSet<_>>().len();
    let need = min_distinct(rows.len());
    if distinct < need {
        p.reasons.push(format!(
            "{what}: expected random ids (at least {need} distinct of {}), got only {distinct} distinct",
            rows.len()
        ));
    }
}

/// Calls of `/db` made to see that ids vary.
const DB_CALLS: usize = 10;

pub(super) async fn db(p: &mut Probe<'_>, ctx: &VerifyContext<'_>) {
    let path = "/db";
    let mut rows = Vec::new();
    let mut errs = RowErrors::new(path);
    for _ in 0..DB_CALLS {
        if p.is_dead() {
            break;
        }
        if let Some((_, got)) = fresh_rows(p, ctx, path, true, &mut errs).await {
            rows.extend(got);
        }
    }
    errs.report(p);
    if rows.len() == DB_CALLS {
        check_distinct(p, "db: over 10 calls of GET /db", &rows);
    }
}

/// `(queries parameter, rows expected)`; `None` means no parameter at all.
/// The two 500-row calls share ~25 ids, so a cache filled on first read
/// (not only one filled at start-up) returns stale values in the second.
const QUERY_CASES: [(Option<&str>, usize); 8] = [
    (Some("0"), 1),
    (Some("501"), 500),
    (Some("foo"), 1),
    (Some(""), 1),
    (None, 1),
    (Some("-3"), 1),
    (Some("20"), 20),
    (Some("500"), 500),
];

fn with_queries(endpoint: &str, param: Option<&str>) -> String {
    match param {
        Some(q) => format!("/{endpoint}?queries={q}"),
        None => format!("/{endpoint}"),
    }
}

fn check_count(p: &mut Probe<'_>, path: &str, param: Option<&str>, want: usize, got: usize) {
    if got != want {
        let rule = match param {
            Some(q) => format!("queries={q:?} means {want}"),
            None => format!("a missing queries means {want}"),
        };
        p.fail(
            path,
            format!("{want} rows ({rule}, clamped to 1..=500)"),
            format!("{got} rows"),
        );
    }
}

pub(super) async fn queries(p: &mut Probe<'_>, ctx: &VerifyContext<'_>) {
    for (param, want) in QUERY_CASES {
        if p.is_dead() {
            break;
        }
        let path = with_queries("queries", param);
        let mut errs = RowErrors::new(&path);
        if let Some((v, rows)) = fresh_rows(p, ctx, &path, false, &mut errs).await {
            check_count(p, &path, param, want, v.as_array().map_or(0, Vec::len));
            if rows.len() == want {
                check_distinct(p, &format!("GET {path}"), &rows);
            }
        }
        errs.report(p);
    }
}

const UPDATE_CASES: [(Option<&str>, usize); 4] = [
    (Some("5"), 5),
    (Some("0"), 1),
    (Some("501"), 500),
    (Some("foo"), 1),
];

pub(super) async fn updates(p: &mut Probe<'_>, ctx: &VerifyContext<'_>) {
    for (param, want) in UPDATE_CASES {
        let path = with_queries("updates", param);
        let before = match super::truth::world(ctx).await {
            Ok(w) => w,
            Err(e) => {
                p.reasons.push(format!("updates: {e}"));
                return;
            }
        };
        let Some((_, v)) = p.get_json(&path, 200).await else {
            continue;
        };
        let mut errs = RowErrors::new(&path);
        if let Some(rows) = parse_rows(&v, &mut errs) {
            check_count(p, &path, param, want, v.as_array().map_or(0, Vec::len));
            match super::truth::world(ctx).await {
                Ok(after) => check_persisted(p, &path, &rows, &before, &after, &mut errs),
                Err(e) => p.reasons.push(format!("updates: {e}")),
            }
        }
        errs.report(p);
    }
}

/// Every returned row is in the database now, and the rows really changed.
fn check_persisted(
    p: &mut Probe<'_>,
    path: &str,
    rows: &[Row],
    before: &World,
    after: &World,
    errs: &mut RowErrors,
) {
    // A repeated id keeps one of its returned values (the last write wins).
    let mut returned: HashMap<i64, Vec<i64>> = HashMap::new();
    for (id, n) in rows {
        returned.entry(*id).or_default().push(*n);
    }
    for (id, values) in &returned {
        match after.get(id) {
            None => errs.push(format!("row id {id}: no such row in the database")),
            Some(db) if !values.contains(db) => errs.push(format!(
                "row id {id}: expected the database to hold the returned randomNumber {} after the update (persisted), it holds {db}",
                values.last().copied().unwrap_or_default()
            )),
            Some(_) => {}
        }
    }
    // A new random number equals the old one with probability 1/10000.
    let unchanged = rows
        .iter()
        .filter(|(id, n)| before.get(id) == Some(n))
        .count();
    let allowed = if rows.len() >= 5 {
        1 + rows.len() / 100
    } else {
        rows.len()
    };
    if unchanged > allowed {
        p.fail(
            path,
            "rows with new randomNumbers",
            format!(
                "{unchanged} of {} rows returned with the randomNumber they already had: not updated",
                rows.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_must_have_exactly_the_contract_shape() {
        assert_eq!(parse_row(&json!({"id": 3, "randomNumber": 9})), Ok((3, 9)));
        assert!(parse_row(&json!({"id": 0, "randomNumber": 9})).is_err());
        assert!(parse_row(&json!({"id": 3, "randomNumber": 10001})).is_err());
        assert!(parse_row(&json!({"id": "3", "randomNumber": 9})).is_err());
        assert!(parse_row(&json!({"id": 3, "randomnumber": 9})).is_err());
        assert!(parse_row(&json!({"id": 3, "randomNumber": 9, "x": 1})).is_err());
        assert!(parse_row(&json!([3, 9])).is_err());
    }

    #[test]
    fn distinctness_threshold_tolerates_rare_collisions_only() {
        assert_eq!(min_distinct(1), 1);
        assert_eq!(min_distinct(5), 4);
        assert_eq!(min_distinct(20), 18);
        assert_eq!(min_distinct(500), 450);
    }
}
