//! The database the `db`, `queries`, `fortunes` and `updates` workloads read:
//! SQLite inside the app (the default), or a private PostgreSQL server that
//! bakeoff starts for the run, the way production services and TechEmpower's
//! database tests reach their data (over a socket, through a driver and a pool).
//!
//! - [`binaries`]: finds the machine's own `initdb`/`pg_ctl`/`postgres`/`psql`.
//! - [`config`]: the tuned, disclosed `postgresql.conf`.
//! - [`cluster`]: the cluster under `<results>/postgres/`: init, seed, start,
//!   reset between launches, stop (also on drop), stale-run recovery.
//! - [`seed`]: the `world`/`fortune` rows, read from the generated SQLite file.
//!
//! The pool size a contender gets ([`pool_size`]) and the server's
//! `max_connections` ([`max_connections`]) are sized together here.

use std::fmt;
use std::path::PathBuf;

pub mod binaries;
pub mod cluster;
pub mod config;
pub mod seed;

pub use binaries::Binaries;
pub use cluster::{ClusterOptions, Server};

/// Where the database workloads' data lives.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    /// The SQLite file, opened inside the app process (`BAKEOFF_SQLITE`).
    #[default]
    Sqlite,
    /// bakeoff's private PostgreSQL server (`BAKEOFF_DATABASE_URL`).
    Postgres,
}

impl Database {
    pub const ALL: [Database; 2] = [Database::Sqlite, Database::Postgres];

    /// The name used on the command line, in manifests and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
        }
    }

    /// Parse a stored or declared name.
    pub fn parse(s: &str) -> Option<Database> {
        Database::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--database` list that names a database twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("--database lists `{0}` twice; name each database once, e.g. --database sqlite,postgres")]
pub struct DuplicateDatabase(pub Database);

impl From<DuplicateDatabase> for crate::InputError {
    fn from(e: DuplicateDatabase) -> Self {
        crate::InputError::new(e.to_string())
    }
}

/// The databases a command acts on (`run`, `verify`, `setup`), in the order
/// asked, each once; an empty list is the default, SQLite.
pub fn distinct(asked: &[Database]) -> Result<Vec<Database>, DuplicateDatabase> {
    let mut v: Vec<Database> = Vec::new();
    for &d in asked {
        if v.contains(&d) {
            return Err(DuplicateDatabase(d));
        }
        v.push(d);
    }
    if v.is_empty() {
        v.push(Database::default());
    }
    Ok(v)
}

/// The contract's user, password and database name (docs/contract.md).
pub const USER: &str = "bakeoff";
pub const PASSWORD: &str = "bakeoff";
pub const DB_NAME: &str = "bakeoff";

/// The environment variable carrying the `postgres://` URL.
pub const URL_VAR: &str = "BAKEOFF_DATABASE_URL";
/// The environment variable carrying the pool size per process.
pub const POOL_VAR: &str = "BAKEOFF_DB_POOL_SIZE";

/// Connections one contender may hold in total, whatever its worker count.
/// More than two database cores can use at once: a pool that limits throughput
/// on this machine is the app's design, not our cap.
pub const CONNECTION_BUDGET: u32 = 32;
/// The least pool a process gets: one connection for a request in flight, one
/// for the next.
pub const MIN_POOL: u32 = 2;
/// Connections kept free for bakeoff itself (seeding, resets, verify's reads)
/// beyond the contenders' pools.
pub const RESERVED_CONNECTIONS: u32 = 10;

/// The pool size per process for `workers` processes: the budget shared out,
/// rounded up, at least [`MIN_POOL`]:
/// `max(MIN_POOL, ceil(CONNECTION_BUDGET / workers))`.
/// 1 worker: 32; 2: 16; 4: 8; 8: 4; 16 or more: 2.
pub fn pool_size(workers: u32) -> u32 {
    CONNECTION_BUDGET.div_ceil(workers.max(1)).max(MIN_POOL)
}

/// Processes a contender may run for `workers`: gunicorn's (2 × workers) + 1
/// (the Flask contender), the most of any reference app; the pool is per process.
pub fn processes(workers: u32) -> u32 {
    2 * workers.max(1) + 1
}

/// Connections a contender with `workers` may open: its processes × pool.
pub fn connections(workers: u32) -> u32 {
    processes(workers) * pool_size(workers)
}

/// `max_connections` for a run whose largest worker count is `max_workers`:
/// its pools plus [`RESERVED_CONNECTIONS`], never below PostgreSQL's default 100.
pub fn max_connections(max_workers: u32) -> u32 {
    (connections(max_workers) + RESERVED_CONNECTIONS).max(100)
}

/// The URL a contender is given.
pub fn url(port: u16) -> String {
    format!("postgres://{USER}:{PASSWORD}@127.0.0.1:{port}/{DB_NAME}")
}

/// The PostgreSQL of one command (`run`, `verify`, `setup`): the server and the
/// seed it is reset to before each contender start.
#[derive(Debug)]
pub struct Postgres {
    pub server: Server,
    pub seed: seed::Seed,
}

impl Postgres {
    /// Find the binaries, read the seed from the generated SQLite file, and
    /// start (initializing or reusing) the cluster under `<results_dir>/postgres`.
    pub async fn start(
        results_dir: &std::path::Path,
        sqlite: &std::path::Path,
        max_connections: u32,
        cpus: Option<Vec<usize>>,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Postgres, DatabaseError> {
        let bins = binaries::find()?;
        let seed = seed::Seed::from_sqlite(sqlite)?;
        let opts = ClusterOptions {
            cpus,
            ..ClusterOptions::new(results_dir, max_connections)
        };
        let server = Server::start(&bins, &seed, &opts, cancel).await?;
        Ok(Postgres { server, seed })
    }

    /// Back to the seed's rows (before each contender start).
    pub async fn reset(&self) -> Result<(), DatabaseError> {
        self.server.reset(&self.seed).await
    }

    /// The line recorded in the run's environment.
    pub fn description(&self) -> String {
        format!(
            "{} on 127.0.0.1:{} (cluster {}; {})",
            self.server.version(),
            self.server.port(),
            self.server.dir().display(),
            config::summary(self.server.max_connections())
        )
    }
}

/// Why the PostgreSQL server could not be found, prepared, started or used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("--database postgres needs PostgreSQL's server programs, and `{tool}` was found neither on PATH nor under {searched}; install Debian's `postgresql` package (`apt-get install postgresql`), or put the directory holding initdb and pg_ctl on PATH")]
    Missing { tool: String, searched: String },
    #[error("bakeoff runs as root, and PostgreSQL refuses to: it is run as the `postgres` system user, which does not exist here; install Debian's `postgresql` package (it creates the user), or run bakeoff as an ordinary user")]
    NoPostgresUser,
    #[error("bakeoff runs as root, so PostgreSQL runs as the `postgres` user, which cannot reach {dir}: {blocker} is not searchable by others; give --results-dir a directory under /tmp, or `chmod o+x {blocker}`", dir = .dir.display(), blocker = .blocker.display())]
    Unreachable { dir: PathBuf, blocker: PathBuf },
    #[error("another bakeoff is using the PostgreSQL cluster in {dir}; wait for it to finish, or give this run another --results-dir", dir = .dir.display())]
    Busy { dir: PathBuf },
    #[error("{what} {path}: {source}", path = .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}):\n{output}")]
    Command {
        command: String,
        status: String,
        output: String,
    },
    #[error("PostgreSQL did not start on 127.0.0.1:{port} ({attempts} attempt(s)); last lines of {log}:\n{tail}", log = .log.display())]
    Start {
        port: u16,
        attempts: u32,
        log: PathBuf,
        tail: String,
    },
    #[error("cannot read the seed rows from {path}: {source}", path = .path.display())]
    Seed {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("interrupted while preparing PostgreSQL")]
    Cancelled,
}

/// What PostgreSQL says when a pool asks for more than `max_connections`.
fn is_connection_exhaustion(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("too many clients already") || t.contains("remaining connection slots are reserved")
}

/// The error for a contender whose pools exhausted the server's connections.
pub fn exhaustion_message(name: &str, workers: u32, max_connections: u32) -> String {
    format!(
        "PostgreSQL refused {name} a connection (too many clients): with {workers} worker(s), up to {} processes × pool {} = {} connections are allowed within max_connections {max_connections}; the app must cap its pool at {POOL_VAR} per process",
        processes(workers),
        pool_size(workers),
        connections(workers)
    )
}

/// A contender's failure `message`, led by [`exhaustion_message`] when it
/// carries PostgreSQL's refusal for too many clients (`max_connections`: the
/// run's server's, none without one).
pub fn explain_exhaustion(
    message: String,
    name: &str,
    workers: u32,
    max_connections: Option<u32>,
) -> String {
    match max_connections {
        Some(max) if is_connection_exhaustion(&message) => {
            format!("{}; {message}", exhaustion_message(name, workers, max))
        }
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Database::ALL {
            assert_eq!(Database::parse(d.as_str()), Some(d));
        }
        assert_eq!(Database::parse("mysql"), None);
        assert_eq!(Database::default(), Database::Sqlite);
    }

    #[test]
    fn a_database_list_is_each_once_in_order() {
        use Database::*;
        assert_eq!(distinct(&[]), Ok(vec![Sqlite]));
        assert_eq!(distinct(&[Postgres, Sqlite]), Ok(vec![Postgres, Sqlite]));
        let e = distinct(&[Postgres, Sqlite, Postgres]).unwrap_err();
        assert_eq!(e, DuplicateDatabase(Postgres));
        assert!(e.to_string().contains("`postgres` twice"), "{e}");
    }

    #[test]
    fn pools_share_the_budget_and_fit_max_connections() {
        assert_eq!(pool_size(1), CONNECTION_BUDGET);
        assert_eq!(pool_size(3), CONNECTION_BUDGET.div_ceil(3));
        assert_eq!(pool_size(1024), MIN_POOL);
        assert_eq!(pool_size(0), pool_size(1));
        for w in 1..=256 {
            assert!(pool_size(w) >= MIN_POOL);
            assert!(connections(w) + RESERVED_CONNECTIONS <= max_connections(w));
            // gunicorn's 2w + 1 processes each with a full pool fit.
            assert_eq!(connections(w), (2 * w + 1) * pool_size(w));
            assert!(connections(w) >= CONNECTION_BUDGET);
        }
    }

    #[test]
    fn exhaustion_is_recognised_and_names_the_pool() {
        assert!(is_connection_exhaustion(
            "FATAL:  sorry, too many clients already"
        ));
        assert!(is_connection_exhaustion(
            "FATAL: remaining connection slots are reserved for non-replication superuser connections"
        ));
        assert!(!is_connection_exhaustion("connection refused"));
        let m = exhaustion_message("app", 4, 100);
        assert!(m.contains(&format!("pool {}", pool_size(4))), "{m}");
        assert!(m.contains(POOL_VAR), "{m}");
    }

    #[test]
    fn url_follows_the_contract() {
        assert_eq!(
            url(5433),
            "postgres://bakeoff:bakeoff@127.0.0.1:5433/bakeoff"
        );
    }
}
