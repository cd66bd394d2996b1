//! The SQLite results store: the only module that speaks SQL.
//!
//! One file ([`db_in`] the results directory) in WAL mode with foreign keys on, versioned by
//! `PRAGMA user_version` (`migrations`); the tables are in `schema_v1.sql`, amended by
//! the later `schema_v*.sql`.
//! [`Store::record_cell`] writes one finished cell in one transaction, so an
//! interrupted run keeps exactly the cells that finished. [`Store::open`] never
//! writes to a file it cannot use (not SQLite, corrupt, someone else's, or made by
//! a newer bakeoff), and marks runs left `running` by a dead process `interrupted`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::model::{
    Cell, ContenderInfo, Environment, ProbeSummaries, Profile, Run, RunStatus, Settings,
};
use crate::workload::Workload;

mod columns;
mod migrations;
pub(crate) mod owner;
mod read;
mod write;

pub use migrations::SCHEMA_VERSION;

/// The equal-load rates one stored run used.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEqualRates {
    pub run_id: i64,
    /// (workload, workers, a database workload's database, req/s).
    pub rates: Vec<(Workload, u32, Option<crate::database::Database>, f64)>,
}

/// Where a run's results directory keeps its database: `bakeoff run` writes
/// there and the commands that read runs look there, unless given a file.
pub fn db_in(results_dir: &Path) -> PathBuf {
    results_dir.join("bakeoff.db")
}

/// The database a command uses: the file it was given (`--db`), else the
/// results directory's ([`db_in`]).
pub fn db_path(db: Option<&Path>, results_dir: &Path) -> PathBuf {
    db.map_or_else(|| db_in(results_dir), Path::to_path_buf)
}

/// How long a write waits for another process's write to finish.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("results database {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("no run {0} in the results database; `bakeoff runs` lists them")]
    NoSuchRun(String),
    #[error("the results database has no runs yet; `bakeoff run` makes one")]
    Empty,
    /// SQLite failed; the source is its error.
    #[error("results database {}", path.display())]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A cell was recorded twice (a bug in the caller, not in the file).
    #[error("run {run_id} already has a cell for {cell}; a cell is recorded once")]
    DuplicateCell { run_id: i64, cell: String },
    /// Another process held the write lock for longer than the busy timeout.
    #[error(
        "results database {path}: the database is locked by another bakeoff process \
         (waited {waited_ms} ms); wait for it to finish, or use --db another file"
    )]
    Locked { path: PathBuf, waited_ms: u128 },
    /// A run reference that is neither an id nor `latest` (bad user input).
    #[error("`{0}` is not a run id; give a number from `bakeoff runs`, or `latest`")]
    BadRunRef(String),
}

/// One line of `bakeoff runs`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub profile: Profile,
    pub contenders: Vec<String>,
    pub workloads: Vec<Workload>,
    pub cells_ok: u32,
    pub cells_failed: u32,
}

pub struct Store {
    path: PathBuf,
    conn: Connection,
    busy_timeout: Duration,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open (creating directories and the file if needed), migrate, and mark runs
    /// left `running` by a dead process as `interrupted`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`Store::open`] with a chosen busy timeout (tests use a short one).
    pub fn open_with_timeout(path: &Path, busy_timeout: Duration) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.to_path_buf(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                open_err(format!(
                    "cannot create the directory {}: {e}; choose a writable place with --db",
                    dir.display()
                ))
            })?;
        }
        if path.is_dir() {
            return Err(open_err(
                "is a directory; give --db a file path, e.g. bakeoff-results/bakeoff.db".into(),
            ));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)
            .map_err(|e| open_err(describe_open_error(&e, path)))?;
        conn.busy_timeout(busy_timeout)
            .map_err(|e| open_err(describe_open_error(&e, path)))?;
        let sql_err = |e: rusqlite::Error| {
            if is_busy(&e) {
                locked(path, busy_timeout)
            } else {
                open_err(describe_open_error(&e, path))
            }
        };
        // Read-only checks first: nothing is written to a file we refuse.
        let version = migrations::check(&conn).map_err(|r| match r {
            migrations::Refusal::Sql(e) => sql_err(e),
            migrations::Refusal::Newer(v) => open_err(format!(
                "created by a newer bakeoff (schema v{v}, this one knows v{SCHEMA_VERSION}); \
                 upgrade bakeoff or use --db another file"
            )),
            migrations::Refusal::Foreign => open_err(
                "is an SQLite database, but not a bakeoff results database; it was left \
                 untouched; use --db another file"
                    .into(),
            ),
        })?;
        // Two processes opening a fresh file at once can get SQLITE_BUSY without the
        // busy handler (switching to WAL, or upgrading a read lock): retry until the
        // busy timeout, as the handler would have.
        let deadline = std::time::Instant::now() + busy_timeout;
        loop {
            let attempt = match configure(&conn) {
                Ok(()) => migrations::apply(&mut conn, version).map_err(|e| (e, true)),
                Err(e) => Err((e, false)),
            };
            match attempt {
                Ok(()) => break,
                Err((e, _)) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err((e, _)) if is_busy(&e) => return Err(locked(path, busy_timeout)),
                Err((e, true)) => {
                    return Err(open_err(format!(
                        "migrating to schema v{SCHEMA_VERSION}: {e}"
                    )))
                }
                Err((e, false)) => return Err(open_err(describe_open_error(&e, path))),
            }
        }
        let mut store = Store {
            path: path.to_path_buf(),
            conn,
            busy_timeout,
        };
        // Best effort: when another process is mid-write, the next open marks them.
        match write::mark_dead_runs_interrupted(&mut store.conn) {
            Err(e) if !is_busy(&e) => return Err(store.err(e)),
            _ => {}
        }
        Ok(store)
    }

    /// Open an existing database only to read it, for a file bakeoff may not
    /// write (a read-only mount, another user's file): no migration, no
    /// marking of dead runs. A WAL database whose `-shm` cannot be made is
    /// opened immutable, which is sound only because nothing can write it.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.to_path_buf(),
            message,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let checked = |conn: Connection| {
            migrations::check(&conn)
                .map(|v| (conn, v))
                .map_err(|r| match r {
                    migrations::Refusal::Sql(e) => describe_open_error(&e, path),
                    migrations::Refusal::Newer(v) => {
                        format!("created by a newer bakeoff (schema v{v}); upgrade bakeoff")
                    }
                    migrations::Refusal::Foreign => "is not a bakeoff results database".to_string(),
                })
        };
        let plain = Connection::open_with_flags(path, flags)
            .map_err(|e| describe_open_error(&e, path))
            .and_then(checked);
        let (conn, version) = match plain {
            Ok(found) => found,
            Err(first) => {
                let uri = url::Url::from_file_path(std::path::absolute(path).unwrap_or_default())
                    .map_err(|()| open_err(first.clone()))?;
                Connection::open_with_flags(
                    format!("{uri}?immutable=1"),
                    flags | OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(|e| describe_open_error(&e, path))
                .and_then(checked)
                .map_err(|_| open_err(first))?
            }
        };
        if version != SCHEMA_VERSION {
            return Err(open_err(format!(
                "is at schema v{version}; reading it needs a migration to v{SCHEMA_VERSION}, \
                 which needs write access: copy it somewhere writable and pass --db the copy"
            )));
        }
        Ok(Store {
            path: path.to_path_buf(),
            conn,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Insert a new run in state `running`; returns its id.
    pub fn begin_run(
        &mut self,
        started_at: &str,
        settings: &Settings,
        environment: &Environment,
        contenders: &[ContenderInfo],
    ) -> Result<i64, StoreError> {
        write::begin_run(
            &mut self.conn,
            started_at,
            settings,
            environment,
            contenders,
        )
        .map_err(|e| self.err(e))
    }

    /// Write one finished cell (with trials, steps, metrics, timeline and
    /// histograms) in one transaction.
    pub fn record_cell(&mut self, run_id: i64, cell: &Cell) -> Result<(), StoreError> {
        match write::record_cell(&mut self.conn, run_id, cell) {
            Ok(write::Recorded::Done) => Ok(()),
            Ok(write::Recorded::NoSuchRun) => Err(StoreError::NoSuchRun(run_id.to_string())),
            Ok(write::Recorded::Duplicate) => Err(StoreError::DuplicateCell {
                run_id,
                cell: match cell.database {
                    Some(d) => format!(
                        "{} {} ×{} on {d}",
                        cell.contender, cell.workload, cell.workers
                    ),
                    None => format!("{} {} ×{}", cell.contender, cell.workload, cell.workers),
                },
            }),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Keep the probes' summaries over the run: the drift probe's on the
    /// contender's core and the generator's, and the loopback probe's between
    /// them (see [`ProbeSummary`](crate::model::ProbeSummary)).
    pub fn record_probe_summaries(
        &mut self,
        run_id: i64,
        speeds: &ProbeSummaries,
    ) -> Result<(), StoreError> {
        match write::record_probe_summaries(&mut self.conn, run_id, speeds) {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::NoSuchRun(run_id.to_string())),
            Err(e) => Err(self.err(e)),
        }
    }

    pub fn finish_run(
        &mut self,
        run_id: i64,
        status: RunStatus,
        finished_at: &str,
    ) -> Result<(), StoreError> {
        match write::finish_run(&mut self.conn, run_id, status, finished_at) {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::NoSuchRun(run_id.to_string())),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Every run, newest first.
    pub fn list_runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        read::list_runs(&self.conn).map_err(|e| self.err(e))
    }

    /// The equal-load rates the newest complete run of the same plan used
    /// (its profile, SLO, scale, contenders and worker counts), with its id, so
    /// that runs of one plan measure CPU and p99 at the same rates.
    pub fn previous_equal_rates(
        &self,
        settings: &Settings,
    ) -> Result<Option<StoredEqualRates>, StoreError> {
        read::previous_equal_rates(&self.conn, settings).map_err(|e| self.err(e))
    }

    /// The newest complete run whose database workloads ran on `database`
    /// (alone or beside another).
    pub fn latest_complete_on(
        &self,
        database: crate::database::Database,
    ) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT max(id) FROM runs WHERE status = 'complete'
                   AND instr(databases_json, ?1) > 0",
                [format!("\"{database}\"")],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    pub fn load_run(&self, id: i64) -> Result<Run, StoreError> {
        read::load_run(&self.conn, id)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NoSuchRun(id.to_string()))
    }

    /// "latest" or a run id.
    pub fn resolve(&self, run: &str) -> Result<i64, StoreError> {
        let run = run.trim();
        if run.eq_ignore_ascii_case("latest") {
            return read::latest_run(&self.conn)
                .map_err(|e| self.err(e))?
                .ok_or(StoreError::Empty);
        }
        let id: i64 = run
            .strip_prefix('#')
            .unwrap_or(run)
            .parse()
            .map_err(|_| StoreError::BadRunRef(run.to_string()))?;
        if read::run_exists(&self.conn, id).map_err(|e| self.err(e))? {
            Ok(id)
        } else {
            Err(StoreError::NoSuchRun(run.to_string()))
        }
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        if is_busy(&e) {
            locked(&self.path, self.busy_timeout)
        } else if matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure)
        ) && disk_full(&self.path)
        {
            StoreError::Open {
                path: self.path.clone(),
                message: full_message(&e, &self.path),
            }
        } else {
            StoreError::Sql {
                path: self.path.clone(),
                source: e,
            }
        }
    }
}

/// WAL lets `bakeoff report` read while a run writes; NORMAL sync is durable
/// enough with WAL (a power cut may lose the last cell, never corrupt the file).
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn locked(path: &Path, waited: Duration) -> StoreError {
    StoreError::Locked {
        path: path.to_path_buf(),
        waited_ms: waited.as_millis(),
    }
}

/// Less than this free on the database's filesystem counts as a full disk.
const FULL_BELOW: u64 = 64 * 1024;

/// True when the filesystem holding `path` has (almost) no space left for us.
/// SQLite reports a full disk as SQLITE_FULL, or as an I/O error when it cannot
/// even create its `-wal`/`-shm` files.
fn disk_full(path: &Path) -> bool {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(st) = rustix::fs::statvfs(dir) else {
        return false;
    };
    st.f_bavail.saturating_mul(st.f_frsize) < FULL_BELOW
}

/// The message for a full disk, with the fix.
fn full_message(e: &rusqlite::Error, path: &Path) -> String {
    format!(
        "the disk holding it is full ({e}); the database was left consistent; \
         free space on {} or use --db another file",
        path.parent().unwrap_or(Path::new(".")).display()
    )
}

/// The message for a file SQLite cannot open or read, with the fix.
fn describe_open_error(e: &rusqlite::Error, path: &Path) -> String {
    let io_or_full = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure)
    );
    if io_or_full && disk_full(path) {
        return full_message(e, path);
    }
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => format!(
            "is not a readable SQLite database ({e}); it was left untouched; \
             move it away or use --db another file"
        ),
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => {
            format!(
                "cannot open it ({e}); check the path and permissions, or use --db another file"
            )
        }
        Some(ErrorCode::ReadOnly) => {
            format!("is read-only ({e}); make it writable or use --db another file")
        }
        _ => e.to_string(),
    }
}
