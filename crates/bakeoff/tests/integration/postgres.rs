//! `--database postgres` on the machine's real PostgreSQL: the cluster starts,
//! is seeded with the SQLite file's rows, resets, stops, is reused, survives a
//! crashed run's leftovers, names the package when the binaries are missing,
//! and a small run measures the db workload on it. Root (CI) exercises the
//! `postgres`-user path. Every test is bounded in time.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bakeoff::contender::datagen::{self, FORTUNES, WORLD_ROWS};
use bakeoff::database::seed::Seed;
use bakeoff::database::{binaries, ClusterOptions, Database, Postgres, Server, DB_NAME};
use bakeoff::model::Run;
use bakeoff::workload::Workload;
use tokio_util::sync::CancellationToken;

use crate::hardening::{run_bounded, Finished, Marker};
use crate::run::bakeoff;

/// Whole-test bound: initdb and a start take a few seconds on a loaded machine.
pub(crate) const LIMIT: Duration = Duration::from_secs(120);

/// A results directory under /tmp (the `postgres` user must reach it when root).
pub(crate) fn results() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("bakeoff-pg-")
        .tempdir_in("/tmp")
        .unwrap()
}

async fn start(results: &Path) -> Postgres {
    let data = datagen::ensure(results).unwrap();
    tokio::time::timeout(
        LIMIT,
        Postgres::start(results, &data.sqlite, 100, None, &CancellationToken::new()),
    )
    .await
    .expect("PostgreSQL starts within the limit")
    .expect("PostgreSQL starts")
}

/// A cluster made, seeded and stopped in `results`; the port it had.
async fn made_and_stopped(results: &Path) -> u16 {
    let pg = start(results).await;
    let port = pg.server.port();
    pg.server.stop().await.unwrap();
    port
}

async fn count(pg: &Postgres, table: &str) -> usize {
    let rows = pg
        .server
        .query(&format!("SELECT count(*) FROM {table};"))
        .await
        .unwrap();
    rows[0][0].parse().unwrap()
}

async fn random_number(pg: &Postgres, id: i64) -> i64 {
    let sql = format!("SELECT randomnumber FROM world WHERE id = {id};");
    pg.server.query(&sql).await.unwrap()[0][0].parse().unwrap()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
        .unwrap_or(false)
}

pub(crate) fn pid_file(results: &Path) -> PathBuf {
    results.join("postgres/data/postmaster.pid")
}

#[tokio::test]
async fn a_cluster_is_seeded_like_sqlite_reset_and_stopped() {
    let tmp = results();
    let pg = start(tmp.path()).await;
    assert!(!pg.server.reused());
    assert_eq!(count(&pg, "world").await, WORLD_ROWS as usize);
    let fortunes = pg
        .server
        .query("SELECT id, message FROM fortune ORDER BY id;")
        .await
        .unwrap();
    let want: Vec<Vec<String>> = FORTUNES
        .iter()
        .map(|(id, m)| vec![id.to_string(), m.to_string()])
        .collect();
    assert_eq!(fortunes, want, "the same rows, byte for byte, as SQLite");
    let seed_row = pg.seed.world[41];
    assert_eq!(random_number(&pg, seed_row.0).await, seed_row.1);
    pg.server
        .psql(DB_NAME, "UPDATE world SET randomnumber = 0;")
        .await
        .unwrap();
    assert_eq!(random_number(&pg, seed_row.0).await, 0);
    pg.reset().await.unwrap();
    assert_eq!(
        random_number(&pg, seed_row.0).await,
        seed_row.1,
        "reset restores the seed"
    );
    // The contract's URL is served on loopback with the contract's password.
    assert_eq!(
        pg.server.url(),
        format!(
            "postgres://bakeoff:bakeoff@127.0.0.1:{}/bakeoff",
            pg.server.port()
        )
    );
    let pid = pg.server.pid();
    assert!(alive(pid));
    pg.server.stop().await.unwrap();
    assert!(!alive(pid), "the postmaster is gone after stop");
    assert!(!pid_file(tmp.path()).exists());
}

#[tokio::test]
async fn an_unchanged_seed_reuses_the_cluster_and_a_drop_stops_it() {
    let tmp = results();
    let first = start(tmp.path()).await;
    let pid = first.server.pid();
    // Dropped, not stopped: the error and Ctrl-C path.
    drop(first);
    assert!(!alive(pid), "dropping the server stops it");
    let again = start(tmp.path()).await;
    assert!(again.server.reused(), "same seed: no initdb");
    assert_eq!(count(&again, "world").await, WORLD_ROWS as usize);
    again.server.stop().await.unwrap();
}

/// `Server::start` in `results` trying `port` first, bounded; its seed.
async fn start_on(
    results: &Path,
    sqlite: &Path,
    port: u16,
) -> (Result<Server, bakeoff::database::DatabaseError>, Seed) {
    let opts = ClusterOptions {
        first_port: Some(port),
        ..ClusterOptions::new(results, 100)
    };
    let bins = binaries::find().unwrap();
    let seed = Seed::from_sqlite(sqlite).unwrap();
    let started = tokio::time::timeout(
        LIMIT,
        Server::start(&bins, &seed, &opts, &CancellationToken::new()),
    )
    .await
    .expect("PostgreSQL starts within the limit");
    (started, seed)
}

/// A port taken between the pick and PostgreSQL's bind (here: held by the test
/// before the start) sends the start to another free port, and the server
/// answers there.
#[tokio::test]
async fn a_port_already_in_use_moves_the_server_to_a_free_one() {
    let tmp = results();
    let data = datagen::ensure(tmp.path()).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().port();
    let (server, seed) = start_on(tmp.path(), &data.sqlite, busy).await;
    let server = server.expect("PostgreSQL starts on another port");
    assert_ne!(server.port(), busy, "not on the port someone else holds");
    let log = std::fs::read_to_string(server.dir().join("server.log")).unwrap();
    assert!(
        log.contains("could not bind") || log.contains("already in use"),
        "the first attempt met the busy port: {log}"
    );
    let pg = Postgres { server, seed };
    assert_eq!(count(&pg, "world").await, WORLD_ROWS as usize);
    pg.server.stop().await.unwrap();
    drop(taken);
}

#[tokio::test]
async fn a_crashed_runs_server_and_stale_pid_file_are_cleaned_up() {
    let tmp = results();
    let port = made_and_stopped(tmp.path()).await;
    // A crashed bakeoff's server: started behind our back, still running.
    let bins = binaries::find().unwrap();
    let data = tmp.path().join("postgres/data");
    let mut pg_ctl = std::process::Command::new(bins.pg_ctl());
    pg_ctl
        .args(["start", "-w", "-t", "60", "-s", "-D"])
        .arg(&data)
        .args(["-o", &format!("-p {port}")])
        .args(["-l"])
        .arg(tmp.path().join("postgres/server.log"));
    let pg_ctl = as_postgres_user(pg_ctl);
    let out = tokio::task::spawn_blocking(move || {
        let mut c = pg_ctl;
        c.output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let leftover: u32 = std::fs::read_to_string(pid_file(tmp.path()))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(alive(leftover));
    let pg = start(tmp.path()).await;
    assert!(!alive(leftover), "the crashed run's server was stopped");
    assert_ne!(pg.server.pid(), leftover);
    pg.server.stop().await.unwrap();
    // A stale pid file whose process is gone.
    std::fs::write(pid_file(tmp.path()), "4194000\n").unwrap();
    let pg = start(tmp.path()).await;
    assert_eq!(count(&pg, "fortune").await, FORTUNES.len());
    pg.server.stop().await.unwrap();
}

/// After a reboot, a crashed run's `postmaster.pid` and socket lock file may
/// name a pid some other process has since: PostgreSQL would take it for a
/// live server and refuse to start ("lock file already exists"), on the same
/// port too. bakeoff clears both, and the server starts on that port.
#[tokio::test]
async fn a_crashed_runs_lock_files_naming_a_reused_pid_do_not_block_the_start() {
    let tmp = results();
    let port = made_and_stopped(tmp.path()).await;
    let mut sleeper = not_postgres();
    let reused = sleeper.id();
    let cluster = tmp.path().join("postgres");
    let data_dir = cluster.join("data");
    std::fs::write(
        pid_file(tmp.path()),
        format!("{reused}\n{}\n", data_dir.display()),
    )
    .unwrap();
    let socket_lock = cluster.join(format!(".s.PGSQL.{port}.lock"));
    std::fs::write(&socket_lock, format!("{reused}\n{}\n", data_dir.display())).unwrap();
    let data = datagen::ensure(tmp.path()).unwrap();
    let (started, seed) = start_on(tmp.path(), &data.sqlite, port).await;
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let server = started.expect("the stale lock files do not stop the start");
    assert_eq!(
        server.port(),
        port,
        "on the port the stale socket lock named"
    );
    let pg = Postgres { server, seed };
    assert_eq!(count(&pg, "fortune").await, FORTUNES.len());
    pg.server.stop().await.unwrap();
}

/// A live process that is not PostgreSQL, owned by the user the server runs as
/// (so that the server's check of a lock file's pid finds it alive).
fn not_postgres() -> std::process::Child {
    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("120");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let id = |flag: &str| -> u32 {
            let out = std::process::Command::new("id")
                .args([flag, "postgres"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        cmd.uid(id("-u")).gid(id("-g"));
    }
    cmd.spawn().unwrap()
}

/// A run that crashed inside initdb or the seeding left a cluster directory
/// without its stamp (written last): it is made again, not reused.
#[tokio::test]
async fn a_cluster_whose_init_never_finished_is_made_again() {
    let tmp = results();
    let data = tmp.path().join("postgres/data");
    std::fs::create_dir_all(data.join("base")).unwrap();
    std::fs::write(data.join("PG_VERSION"), "15\n").unwrap();
    std::fs::write(data.join("base/half-written"), "x").unwrap();
    let pg = start(tmp.path()).await;
    assert!(!pg.server.reused(), "no stamp: initdb again");
    assert_eq!(count(&pg, "world").await, WORLD_ROWS as usize);
    pg.server.stop().await.unwrap();
    // Seeded, stamped; then a crash while seeding a new seed removed the stamp.
    std::fs::remove_file(tmp.path().join("postgres/stamp.json")).unwrap();
    let pg = start(tmp.path()).await;
    assert!(!pg.server.reused());
    assert_eq!(count(&pg, "world").await, WORLD_ROWS as usize);
    pg.server.stop().await.unwrap();
}

/// `cmd` as the `postgres` user when the test runs as root (PostgreSQL refuses root).
fn as_postgres_user(cmd: std::process::Command) -> std::process::Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return cmd;
    }
    let mut wrapped = std::process::Command::new("runuser");
    wrapped
        .args(["-u", "postgres", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    wrapped
}

#[test]
fn missing_binaries_name_the_package() {
    let tmp = results();
    let empty = tmp.path().join("no-postgres-here");
    std::fs::create_dir_all(&empty).unwrap();
    let marker = Marker::new();
    let mut cmd = bakeoff(&tmp.path().join("results"), &marker);
    cmd.args([
        "verify",
        "--database",
        "postgres",
        "--contenders",
        "node-http",
    ])
    .env(binaries::BIN_VAR, &empty);
    let done = run_bounded(&mut cmd, LIMIT);
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    assert!(
        done.stderr.contains("apt-get install postgresql"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains(&empty.display().to_string()),
        "{}",
        done.stderr
    );
}

/// The contender's manifest declares `postgres` (helper B's contenders do).
fn declares_postgres(name: &str) -> bool {
    let dir = crate::run::contenders_dir().join(name);
    let c = bakeoff::contender::Contender::load(&dir).unwrap();
    c.manifest.databases.contains(&Database::Postgres)
}

/// `bakeoff run --contenders node-http --duration-scale 0.1 ARGS` into
/// `results`, bounded; it must succeed. What it printed, and the run stored.
fn small_run(results: &Path, marker: &Marker, args: &[&str]) -> (Finished, Run) {
    let mut cmd = bakeoff(results, marker);
    cmd.args([
        "run",
        "--contenders",
        "node-http",
        "--duration-scale",
        "0.1",
    ])
    .args(args);
    let done = run_bounded(&mut cmd, Duration::from_secs(600));
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let store = bakeoff::store::Store::open(&results.join("bakeoff.db")).unwrap();
    let run = store.load_run(store.resolve("latest").unwrap()).unwrap();
    (done, run)
}

#[test]
fn a_small_postgres_run_measures_the_db_workload_and_stops_the_server() {
    let tmp = results();
    let results = tmp.path().join("results");
    let marker = Marker::new();
    let args = ["--database", "postgres", "--workloads", "db,json", "-q"];
    let (_, run) = small_run(&results, &marker, &args);
    assert_eq!(run.settings.database, Database::Postgres);
    assert!(
        run.environment
            .runtimes
            .get(&bakeoff::model::RuntimeKey::Postgresql)
            .is_some_and(|v| v.contains("max_connections")),
        "{:?}",
        run.environment.runtimes
    );
    let db = run
        .cells
        .iter()
        .find(|c| c.workload == Workload::Db)
        .expect("a db cell");
    assert!(
        declares_postgres("node-http"),
        "every reference app serves PostgreSQL"
    );
    assert!(db.status.is_ok(), "{:?}", db.status);
    // A window on a loaded machine may be voided (machine-noisy); one that
    // was measured carries the server's CPU beside the contender's.
    if let Some(eq) = &db.equal_load {
        assert!(
            eq.database_cpu_ms_per_request.is_some_and(|v| v >= 0.0),
            "{eq:?}"
        );
    }
    // Never on the generator's core: it is recorded where it ran.
    if bakeoff::measure::allowed_cpus().is_ok_and(|c| c.len() >= 2) {
        assert!(
            run.environment.pinning.contains("PostgreSQL: cpu")
                && !run.environment.pinning.contains("beside the generator"),
            "{}",
            run.environment.pinning
        );
    }
    let json = run
        .cells
        .iter()
        .find(|c| c.workload == Workload::Json)
        .unwrap();
    assert!(json.status.is_ok(), "{:?}", json.status);
    assert!(!pid_file(&results).exists(), "PostgreSQL outlived the run");
    crate::run::assert_no_orphans(&marker);
}

/// `--database sqlite,postgres`: one run measures `db` on each database (two
/// cells, two rows) and `json` once; the store, the text, Markdown, JSON and
/// HTML reports all say which database each db row ran on.
#[test]
fn one_run_on_both_databases_has_a_db_row_per_database() {
    let tmp = results();
    let results = tmp.path().join("results");
    let marker = Marker::new();
    let args = [
        "--database",
        "sqlite,postgres",
        "--workloads",
        "db,json",
        "-q",
    ];
    let (done, run) = small_run(&results, &marker, &args);
    let db_file = results.join("bakeoff.db");
    assert_eq!(
        run.settings.databases,
        [Database::Sqlite, Database::Postgres]
    );
    let mut db: Vec<_> = run
        .cells
        .iter()
        .filter(|c| c.workload == Workload::Db)
        .collect();
    db.sort_by_key(|c| c.database);
    let on: Vec<_> = db.iter().map(|c| c.database).collect();
    assert_eq!(on, [Some(Database::Sqlite), Some(Database::Postgres)]);
    for c in &db {
        assert!(c.status.is_ok(), "{:?}: {:?}", c.database, c.status);
    }
    // Only the PostgreSQL row has the server's CPU.
    if let Some(eq) = &db[0].equal_load {
        assert_eq!(eq.database_cpu_ms_per_request, None, "{eq:?}");
    }
    let json: Vec<_> = run
        .cells
        .iter()
        .filter(|c| c.workload == Workload::Json)
        .collect();
    assert_eq!(json.len(), 1, "json runs once");
    assert_eq!(json[0].database, None);
    assert!(!pid_file(&results).exists(), "PostgreSQL outlived the run");

    // The summary printed by `run`, and each report format.
    for text in [&done.stdout, &report(&results, &marker, &db_file, "md")] {
        assert!(text.contains("db (on sqlite)"), "{text}");
        assert!(text.contains("db (on postgres)"), "{text}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&report(&results, &marker, &db_file, "json")).unwrap();
    assert_eq!(
        doc["settings"]["databases"],
        serde_json::json!(["sqlite", "postgres"])
    );
    let on: Vec<&str> = doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["workload"] == "db")
        .filter_map(|c| c["database"].as_str())
        .collect();
    assert_eq!(on.len(), 2, "{on:?}");
    assert!(on.contains(&"sqlite") && on.contains(&"postgres"), "{on:?}");
    let html =
        std::fs::read_to_string(results.join(format!("run-{}/report.html", run.id))).unwrap();
    assert!(html.contains("db (on postgres)") && html.contains("db (on sqlite)"));
    crate::run::assert_no_orphans(&marker);
}

/// `--database postgres` with no database workload starts no server, and the
/// other workloads still run (their launches are on PostgreSQL, without it).
#[test]
fn a_postgres_run_without_database_workloads_runs_the_others() {
    let tmp = results();
    let results = tmp.path().join("results");
    let marker = Marker::new();
    let args = ["--database", "postgres", "--workloads", "json"];
    let (done, run) = small_run(&results, &marker, &args);
    assert!(
        done.stderr.contains("PostgreSQL is not started"),
        "{}",
        done.stderr
    );
    let json = run.cell("node-http", &Workload::Json).unwrap();
    assert!(json.status.is_ok(), "{:?}", json.status);
    assert!(!results.join("postgres").exists());
    crate::run::assert_no_orphans(&marker);
}

/// `bakeoff report latest --format FORMAT` on `db`.
fn report(results: &Path, marker: &Marker, db: &Path, format: &str) -> String {
    let out = bakeoff(results, marker)
        .args(["report", "latest", "--format", format, "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A run on both databases: PostgreSQL's death fails only its own cells;
/// the same workload on SQLite is measured as usual.
#[test]
fn postgres_killed_mid_run_fails_the_db_cells_and_the_run_ends_cleanly() {
    let tmp = results();
    let results = tmp.path().join("results");
    let marker = Marker::new();
    let mut cmd = bakeoff(&results, &marker);
    cmd.args([
        "run",
        "--database",
        "sqlite,postgres",
        "--contenders",
        "node-http",
    ])
    .args(["--workloads", "db,json", "--duration-scale", "0.1", "-q"])
    .process_group(0);
    let child = cmd.spawn().unwrap();
    // Verified on PostgreSQL: measuring starts now. Kill the server (SIGKILL
    // cannot be handled: the crash of a real database).
    let verified = results.join("verified/node-http.postgres.key");
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while !verified.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "node-http was not verified on PostgreSQL in time"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid: u32 = std::fs::read_to_string(pid_file(&results))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    crate::hardening::signal(pid, libc::SIGKILL);
    let done = crate::hardening::wait_bounded(child, Duration::from_secs(600));
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let store = bakeoff::store::Store::open(&results.join("bakeoff.db")).unwrap();
    let run = store.load_run(store.resolve("latest").unwrap()).unwrap();
    let status = |w: &str, on: Option<Database>| {
        run.cells
            .iter()
            .find(|c| c.workload.name() == w && c.database == on)
            .map(|c| format!("{:?}", c.status))
            .unwrap_or_else(|| panic!("no {w} cell on {on:?}: {:#?}", run.cells))
    };
    if declares_postgres("node-http") {
        let db = status("db", Some(Database::Postgres));
        assert!(
            db.contains("Failed") && db.contains("PostgreSQL"),
            "the db cell names the dead server: {db}"
        );
    }
    let sqlite = status("db", Some(Database::Sqlite));
    assert!(sqlite.contains("Ok"), "SQLite's db cell: {sqlite}");
    let json = status("json", None);
    assert!(json.contains("Ok"), "{json}");
    assert!(!alive(pid));
    crate::run::assert_no_orphans(&marker);
}

/// As root, a results directory the `postgres` user cannot reach (root's
/// home, say) gets its cluster under /var/tmp, linked from `<results>/postgres`.
#[tokio::test]
async fn a_results_directory_postgres_cannot_reach_gets_a_linked_cluster() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root runs PostgreSQL as another user");
        return;
    }
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = results();
    let private = tmp.path().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let res = private.join("results");
    let pg = start(&res).await;
    let link = res.join("postgres");
    let target = std::fs::read_link(&link).expect("<results>/postgres is a link");
    assert!(
        target.starts_with("/var/tmp/bakeoff-postgres"),
        "{target:?}"
    );
    assert_eq!(count(&pg, "world").await, WORLD_ROWS as usize);
    let pid = pg.server.pid();
    drop(pg);
    assert!(!alive(pid), "the server stops with its guard");
    let _ = std::fs::remove_dir_all(&target);
}

/// An app whose pool asks PostgreSQL for more than `max_connections` (the
/// `pool-hog` fixture opens 150 connections at start, ignoring its pool size)
/// fails with the refusal explained: the pool size and the limit it must fit.
#[test]
fn a_pool_past_max_connections_is_named_with_its_size() {
    let fx = crate::contender::copy_fixtures(&["pool-hog"]);
    let marker = Marker::new();
    let mut cmd = marker.bakeoff();
    cmd.args(["verify", "--json", "--database", "postgres"])
        .args(["--contenders", "pool-hog", "--contenders-dir"])
        .arg(fx.path())
        .arg("--results-dir")
        .arg(fx.path().join("results"))
        .env("BAKEOFF_CACHE_DIR", fx.path().join("cache"));
    let done = run_bounded(&mut cmd, LIMIT);
    assert_eq!(done.code(), Some(1), "{}\n{}", done.stdout, done.stderr);
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    let err = doc["contenders"][0]["error"].as_str().unwrap_or_default();
    assert!(err.contains("too many clients already"), "{err}");
    let pool = bakeoff::database::pool_size(1);
    assert!(
        err.contains(&format!("pool {pool}")) && err.contains("BAKEOFF_DB_POOL_SIZE"),
        "the explanation names the pool and the variable: {err}"
    );
    crate::run::assert_no_orphans(&marker);
    assert!(!pid_file(&fx.path().join("results")).exists());
}

/// The same app in `bakeoff run`: its db cell fails with the explanation
/// (pool size and limit), and the run still ends cleanly with no server left.
#[test]
fn a_run_names_the_pool_that_exhausted_max_connections() {
    let fx = crate::contender::copy_fixtures(&["pool-hog"]);
    let results = fx.path().join("results");
    let marker = Marker::new();
    let mut cmd = marker.bakeoff();
    cmd.args(["run", "--database", "postgres", "--workloads", "db", "-q"])
        .args(["--duration-scale", "0.1", "--contenders", "pool-hog"])
        .arg("--contenders-dir")
        .arg(fx.path())
        .arg("--results-dir")
        .arg(&results)
        .env("BAKEOFF_CACHE_DIR", fx.path().join("cache"));
    let done = run_bounded(&mut cmd, Duration::from_secs(300));
    // Its only cell failed: the run is stored, and exits 1 saying so.
    assert_eq!(done.code(), Some(1), "{}\n{}", done.stdout, done.stderr);
    assert!(done.stderr.contains("measured no cell"), "{}", done.stderr);
    let store = bakeoff::store::Store::open(&results.join("bakeoff.db")).unwrap();
    let run = store.load_run(store.resolve("latest").unwrap()).unwrap();
    let db = run.cell("pool-hog", &Workload::Db).expect("a db cell");
    let status = format!("{:?}", db.status);
    let pool = bakeoff::database::pool_size(1);
    assert!(
        status.contains("Failed")
            && status.contains("too many clients")
            && status.contains(&format!("pool {pool}")),
        "{status}"
    );
    assert!(!pid_file(&results).exists(), "PostgreSQL outlived the run");
    crate::run::assert_no_orphans(&marker);
}
