//! bakeoff's private PostgreSQL cluster under `<results>/postgres/`:
//!
//! - `data/`: the cluster (`initdb -U bakeoff`, scram-sha-256 on TCP, trust
//!   on the Unix socket), reused while `stamp.json` (server version + seed
//!   hash) is unchanged;
//! - `server.log`: the server's log; `bakeoff.lock`: held (flock) while a
//!   bakeoff uses the cluster, so a `postmaster.pid` found with the lock free is
//!   a crashed run's, and that server is stopped (and its pid and socket lock
//!   files removed) before going on.
//!
//! PostgreSQL refuses to run as root: when bakeoff is root, initdb, pg_ctl and
//! the server run as the `postgres` system user (setuid in the child), and the
//! cluster directory is given to it (or, when that user cannot reach the
//! results directory, a directory under /var/tmp that it links to). The server
//! is pinned where it is told (never the generator's core, see
//! `PinLayout::with_database`) through the affinity `pg_ctl` passes on.
//!
//! A [`Server`] is stopped by [`Server::stop`], and by its `Drop` on every other
//! path (error, Ctrl-C, panic), so no postgres process outlives bakeoff.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::seed::Seed;
use super::{config, Binaries, DatabaseError, DB_NAME, PASSWORD, USER};
use crate::contender::procs::CpuMask;

/// Attempts at a free port (another process may take it between pick and bind).
const PORT_ATTEMPTS: u32 = 3;
/// pg_ctl's wait for start and stop, in seconds.
const PG_CTL_WAIT: &str = "60";
/// A statement bakeoff runs may take at most this long.
const STATEMENT_TIMEOUT_MS: u32 = 60_000;
/// The longest socket directory: sun_path holds 107 bytes, with "/.s.PGSQL.65535".
const MAX_SOCKET_DIR: usize = 90;
/// psql's field and record separators: bytes no value contains.
const FIELD_SEP: &str = "\u{1f}";
const RECORD_SEP: &str = "\u{1e}";
const STAMP_FORMAT: u32 = 1;
/// Root's clusters whose results directory the `postgres` user cannot reach.
const RELOCATED: &str = "/var/tmp/bakeoff-postgres";

/// What [`Server::start`] needs.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `<results>/postgres`.
    pub dir: PathBuf,
    pub max_connections: u32,
    /// Pin the server (every backend inherits it) to these CPUs.
    pub cpus: Option<Vec<usize>>,
    /// A port to try before asking the kernel for a free one. When it is taken,
    /// the start goes on as after a port race: on a free port.
    pub first_port: Option<u16>,
}

impl ClusterOptions {
    pub fn new(results_dir: &Path, max_connections: u32) -> ClusterOptions {
        ClusterOptions {
            dir: results_dir.join("postgres"),
            max_connections,
            cpus: None,
            first_port: None,
        }
    }
}

/// The `postgres` system user, when bakeoff runs as root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    uid: u32,
    gid: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Stamp {
    format: u32,
    server: String,
    seed: String,
}

/// A running server. Stopped on drop.
#[derive(Debug)]
pub struct Server {
    bins: Binaries,
    dir: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    pid: u32,
    owner: Option<Owner>,
    max_connections: u32,
    reused: bool,
    version: String,
    stopped: bool,
    /// Held for the server's life (flock is released when the file closes).
    _lock: File,
}

impl Server {
    /// Prepare (init and seed, or reuse) and start the cluster in `opts.dir`.
    pub async fn start(
        bins: &Binaries,
        seed: &Seed,
        opts: &ClusterOptions,
        cancel: &CancellationToken,
    ) -> Result<Server, DatabaseError> {
        let mut dir = std::path::absolute(&opts.dir).map_err(|e| io("resolving", &opts.dir, e))?;
        let owner = match is_root() {
            true => Some(postgres_user().ok_or(DatabaseError::NoPostgresUser)?),
            false => None,
        };
        if let Some(o) = owner {
            if check_reachable(&dir, o).is_err() {
                dir = relocate_for(&dir, o)?;
            }
        }
        std::fs::create_dir_all(&dir).map_err(|e| io("creating", &dir, e))?;
        if let Some(o) = owner {
            check_reachable(&dir, o)?;
            std::os::unix::fs::chown(&dir, Some(o.uid), Some(o.gid))
                .map_err(|e| io("giving the postgres user", &dir, e))?;
        }
        let lock = lock(&dir)?;
        let data = dir.join("data");
        let log = dir.join("server.log");
        let version = bins.version();
        let mut server = Server {
            bins: bins.clone(),
            dir: dir.clone(),
            data: data.clone(),
            log,
            port: 0,
            pid: 0,
            owner,
            max_connections: opts.max_connections,
            reused: false,
            version: version.clone(),
            // Nothing to stop until the server is up.
            stopped: true,
            _lock: lock,
        };
        server.stop_stale().await;
        let want = Stamp {
            format: STAMP_FORMAT,
            server: version,
            seed: seed.hash(),
        };
        let stamp_path = dir.join("stamp.json");
        let current = std::fs::read(&stamp_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Stamp>(&b).ok());
        server.reused = current.as_ref() == Some(&want) && data.join("PG_VERSION").is_file();
        if !server.reused {
            // Invalidate first: a crash from here on must not leave a stamp.
            let _ = std::fs::remove_file(&stamp_path);
            server.initdb().await?;
        }
        check_cancel(cancel)?;
        server.start_server(opts).await?;
        if !server.reused {
            server
                .psql("postgres", &format!("CREATE DATABASE {DB_NAME};"))
                .await?;
            server.reset(seed).await?;
            let text = serde_json::to_vec_pretty(&want).unwrap_or_default();
            std::fs::write(&stamp_path, text).map_err(|e| io("writing", &stamp_path, e))?;
        }
        check_cancel(cancel)?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The contract's `BAKEOFF_DATABASE_URL`.
    pub fn url(&self) -> String {
        super::url(self.port)
    }

    /// The postmaster's pid; its backends are its children (each leads its own
    /// session, so they are found by parent, not by process group).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The server's processes, for CPU sampling with children
    /// ([`crate::measure::ProcSampler::children`]).
    pub fn processes(&self) -> crate::suite::ProcessSet {
        crate::suite::ProcessSet {
            pgid: Some(self.pid),
            pids: vec![self.pid],
        }
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether an existing cluster was reused (no initdb, no seed).
    pub fn reused(&self) -> bool {
        self.reused
    }

    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// e.g. "postgres (PostgreSQL) 15.8".
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether the postmaster is still alive.
    pub fn is_running(&self) -> bool {
        self.pid > 0 && alive(self.pid)
    }

    /// Recreate and reload both tables from the seed (each launch starts from
    /// the same rows, as each SQLite launch gets a fresh copy).
    pub async fn reset(&self, seed: &Seed) -> Result<(), DatabaseError> {
        self.psql(DB_NAME, &seed.script()).await.map(drop)
    }

    /// Run a psql script on `database` as the `bakeoff` user over TCP; its
    /// unaligned output.
    pub async fn psql(&self, database: &str, script: &str) -> Result<String, DatabaseError> {
        let port = self.port.to_string();
        let mut cmd = Command::new(&self.bins.psql);
        cmd.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-F",
            FIELD_SEP,
            "-R",
            RECORD_SEP,
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            USER,
            "-d",
            database,
            "-f",
            "-",
        ])
        .env("PGPASSWORD", PASSWORD)
        .env("PGCONNECT_TIMEOUT", "10")
        .env(
            "PGOPTIONS",
            format!("-c statement_timeout={STATEMENT_TIMEOUT_MS}"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| io("running", &self.bins.psql, e))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .await
                .map_err(|e| io("writing to", &self.bins.psql, e))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| io("running", &self.bins.psql, e))?;
        if !out.status.success() {
            return Err(DatabaseError::Command {
                command: format!("psql -d {database}"),
                status: out.status.to_string(),
                output: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Run one query; its rows, each a list of text fields.
    pub async fn query(&self, sql: &str) -> Result<Vec<Vec<String>>, DatabaseError> {
        let out = self.psql(DB_NAME, sql).await?;
        let out = out.strip_suffix('\n').unwrap_or(&out);
        Ok(out
            .split(RECORD_SEP)
            .filter(|r| !r.is_empty())
            .map(|r| r.split(FIELD_SEP).map(str::to_string).collect())
            .collect())
    }

    /// `pg_ctl stop -m fast`, then `immediate`, then SIGKILL: bounded.
    pub async fn stop(mut self) -> Result<(), DatabaseError> {
        self.stopped = true;
        let fast = self.pg_ctl(&["stop", "-m", "fast"]).await;
        if fast.is_err() && self.is_running() {
            let _ = self.pg_ctl(&["stop", "-m", "immediate"]).await;
        }
        kill_hard(self.pid);
        match fast {
            Err(_) if !self.is_running() => Ok(()),
            other => other.map(drop),
        }
    }

    async fn initdb(&self) -> Result<(), DatabaseError> {
        if self.data.exists() {
            std::fs::remove_dir_all(&self.data).map_err(|e| io("removing", &self.data, e))?;
        }
        let pwfile = self.dir.join("pwfile");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| io("writing", &pwfile, e))?;
        if let Some(o) = self.owner {
            std::os::unix::fs::chown(&pwfile, Some(o.uid), Some(o.gid))
                .map_err(|e| io("giving the postgres user", &pwfile, e))?;
        }
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.data.clone().into(),
            "-U".into(),
            USER.into(),
            format!("--pwfile={}", pwfile.display()).into(),
            "--auth-local=trust".into(),
            "--auth-host=scram-sha-256".into(),
            "--encoding=UTF8".into(),
            "--locale=C".into(),
            // The seed is reloaded at every launch anyway.
            "--no-sync".into(),
        ];
        let result = self.run_owned(&self.bins.initdb(), &args, None).await;
        let _ = std::fs::remove_file(&pwfile);
        result.map(drop)
    }

    /// Write the configuration and start on a free port (retrying on a port race).
    async fn start_server(&mut self, opts: &ClusterOptions) -> Result<(), DatabaseError> {
        let socket_dir = (self.dir.as_os_str().len() <= MAX_SOCKET_DIR).then(|| self.dir.clone());
        let conf = self.data.join("postgresql.conf");
        let mut last_port = 0;
        for attempt in 1..=PORT_ATTEMPTS {
            let port = match opts.first_port.filter(|_| attempt == 1) {
                Some(port) => port,
                None => crate::contender::supervisor::free_port()
                    .map_err(|e| io("finding a free port for", &self.dir, e))?,
            };
            last_port = port;
            let text = config::render(port, opts.max_connections, socket_dir.as_deref());
            std::fs::write(&conf, text).map_err(|e| io("writing", &conf, e))?;
            let log_start = std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
            let mask = match &opts.cpus {
                Some(cpus) => Some(CpuMask::new(cpus).map_err(|e| io("pinning", &self.dir, e))?),
                None => None,
            };
            let args: Vec<OsString> = vec![
                "start".into(),
                "-D".into(),
                self.data.clone().into(),
                "-l".into(),
                self.log.clone().into(),
                "-w".into(),
                "-t".into(),
                PG_CTL_WAIT.into(),
                "-s".into(),
            ];
            let started = self.run_owned(&self.bins.pg_ctl(), &args, mask).await;
            match started {
                Ok(_) => {
                    self.port = port;
                    self.pid = read_pid(&self.data).unwrap_or(0);
                    self.stopped = false;
                    return Ok(());
                }
                Err(e) => {
                    let new = read_from(&self.log, log_start);
                    let raced = new.contains("could not bind") || new.contains("already in use");
                    if !raced || attempt == PORT_ATTEMPTS {
                        // pg_ctl may have timed out with a server half up.
                        self.stopped = false;
                        self.pid = read_pid(&self.data).unwrap_or(0);
                        return Err(match e {
                            DatabaseError::Command { .. } => DatabaseError::Start {
                                port,
                                attempts: attempt,
                                log: self.log.clone(),
                                tail: crate::contender::logfile::log_tail(&self.log, 20),
                            },
                            other => other,
                        });
                    }
                }
            }
        }
        Err(DatabaseError::Start {
            port: last_port,
            attempts: PORT_ATTEMPTS,
            log: self.log.clone(),
            tail: crate::contender::logfile::log_tail(&self.log, 20),
        })
    }

    /// A `postmaster.pid` while we hold the lock is a crashed run's: stop that
    /// server (it may still be running), or drop the stale file. Its socket
    /// lock files go too: one naming a pid reused since would stop a server
    /// that gets the same port ("lock file already exists").
    async fn stop_stale(&mut self) {
        if let Some(pid) = read_pid(&self.data) {
            if alive(pid) && is_postgres(pid) {
                self.pid = pid;
                let _ = self.pg_ctl(&["stop", "-m", "immediate"]).await;
                kill_hard(pid);
                self.pid = 0;
            }
            let _ = std::fs::remove_file(self.data.join("postmaster.pid"));
        }
        remove_sockets(&self.dir);
    }

    async fn pg_ctl(&self, args: &[&str]) -> Result<String, DatabaseError> {
        let mut all: Vec<OsString> = args.iter().map(|a| OsString::from(*a)).collect();
        all.extend([
            "-D".into(),
            self.data.clone().into(),
            "-w".into(),
            "-t".into(),
            PG_CTL_WAIT.into(),
            "-s".into(),
        ]);
        self.run_owned(&self.bins.pg_ctl(), &all, None).await
    }

    /// Run a server program as the cluster's owner; its output, or an error with it.
    async fn run_owned(
        &self,
        program: &Path,
        args: &[OsString],
        mask: Option<CpuMask>,
    ) -> Result<String, DatabaseError> {
        let mut cmd = std::process::Command::new(program);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        prepare_child(&mut cmd, self.owner, mask);
        let mut cmd = Command::from(cmd);
        cmd.kill_on_drop(true);
        let out = cmd.output().await.map_err(|e| io("running", program, e))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            let name = program.file_name().unwrap_or_default().to_string_lossy();
            let shown: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
            Err(DatabaseError::Command {
                command: format!("{name} {}", shown.join(" ")),
                status: out.status.to_string(),
                output: text.trim().to_string(),
            })
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        // Last resort (error path, Ctrl-C, panic): synchronous and bounded; fast
        // (a checkpoint) first, so the next start needs no crash recovery.
        for mode in ["fast", "immediate"] {
            let mut cmd = std::process::Command::new(self.bins.pg_ctl());
            cmd.args(["stop", "-m", mode, "-w", "-t", "10", "-s", "-D"])
                .arg(&self.data)
                .current_dir(&self.dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            prepare_child(&mut cmd, self.owner, None);
            if cmd.status().is_ok_and(|s| s.success()) || !self.is_running() {
                break;
            }
        }
        kill_hard(self.pid);
    }
}

/// Drop to the cluster's owner (std sets the groups, gid and uid), and pin,
/// in the child before exec.
fn prepare_child(cmd: &mut std::process::Command, owner: Option<Owner>, mask: Option<CpuMask>) {
    if let Some(o) = owner {
        // As root, std also drops the supplementary groups before setuid.
        cmd.uid(o.uid).gid(o.gid);
    }
    if let Some(mask) = mask {
        // SAFETY: between fork and exec the closure makes one async-signal-safe
        // syscall (sched_setaffinity) on a mask built before the fork; it
        // allocates nothing.
        #[allow(unsafe_code)] // pre_exec: the only way to pin a child before it runs
        unsafe {
            cmd.pre_exec(move || mask.apply());
        }
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The `postgres` system user's uid and gid (through NSS, as `id postgres` does).
fn postgres_user() -> Option<Owner> {
    let user = nix::unistd::User::from_name("postgres").ok()??;
    Some(Owner {
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    })
}

/// Where the cluster goes when bakeoff is root and the `postgres` user cannot
/// reach `dir` (a results directory under /root, say): under [`RELOCATED`],
/// named by a hash of `dir`, with `dir` made a symbolic link to it so the
/// results directory still shows it. An existing non-empty `dir` is left
/// alone and the cluster is used where the link would point.
fn relocate_for(dir: &Path, owner: Owner) -> Result<PathBuf, DatabaseError> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let base = Path::new(RELOCATED);
    std::fs::create_dir_all(base).map_err(|e| io("creating", base, e))?;
    let target = base.join(name);
    std::fs::create_dir_all(&target).map_err(|e| io("creating", &target, e))?;
    check_reachable(&target, owner)?;
    let is_link = std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
    let empty_dir = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none());
    if !is_link && (empty_dir || !dir.exists()) {
        if empty_dir {
            let _ = std::fs::remove_dir(dir);
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("creating", parent, e))?;
        }
        std::os::unix::fs::symlink(&target, dir).map_err(|e| io("linking", dir, e))?;
    }
    Ok(target)
}

/// Every ancestor of `dir` must let the owner through (search permission).
fn check_reachable(dir: &Path, owner: Owner) -> Result<(), DatabaseError> {
    use std::os::unix::fs::MetadataExt;
    for a in dir.ancestors().skip(1) {
        let Ok(m) = std::fs::metadata(a) else {
            continue;
        };
        let ok = if m.uid() == owner.uid {
            m.mode() & 0o100 != 0
        } else if m.gid() == owner.gid {
            m.mode() & 0o010 != 0
        } else {
            m.mode() & 0o001 != 0
        };
        if !ok {
            return Err(DatabaseError::Unreachable {
                dir: dir.to_path_buf(),
                blocker: a.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Take `<dir>/bakeoff.lock` exclusively, or say who holds it.
fn lock(dir: &Path) -> Result<File, DatabaseError> {
    let path = dir.join("bakeoff.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io("opening", &path, e))?;
    match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(f),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(DatabaseError::Busy {
            dir: dir.to_path_buf(),
        }),
        Err(e) => Err(io("locking", &path, e.into())),
    }
}

/// The Unix sockets in `dir` (`.s.PGSQL.<port>` and its `.lock`): a crashed
/// server's, since no server of this cluster runs while we hold its lock.
fn remove_sockets(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().as_encoded_bytes().starts_with(b".s.PGSQL.") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The postmaster's pid: the first line of `postmaster.pid`.
fn read_pid(data: &Path) -> Option<u32> {
    std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 1)
}

fn alive(pid: u32) -> bool {
    // A zombie has no cmdline and no state worth keeping: treat it as gone.
    crate::measure::procfs::read_stat(pid).is_some_and(|st| st.state != 'Z')
}

fn is_postgres(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| matches!(c.trim(), "postgres" | "postmaster"))
        .unwrap_or(false)
}

/// SIGKILL the server's process group (postmaster and backends), then wait
/// briefly for it to go.
fn kill_hard(pid: u32) {
    if pid <= 1 || !alive(pid) || !is_postgres(pid) {
        return;
    }
    use crate::contender::procs::{signal_group, signal_pids, Signal};
    let _ = signal_group(pid, Signal::KILL);
    signal_pids(&[pid], Signal::KILL);
    for _ in 0..100 {
        if !alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The log's text after byte `from`.
fn read_from(path: &Path, from: u64) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let from = (from as usize).min(bytes.len());
    String::from_utf8_lossy(&bytes[from..]).into_owned()
}

fn check_cancel(cancel: &CancellationToken) -> Result<(), DatabaseError> {
    match cancel.is_cancelled() {
        true => Err(DatabaseError::Cancelled),
        false => Ok(()),
    }
}

fn io(what: &'static str, path: &Path, source: std::io::Error) -> DatabaseError {
    DatabaseError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let _held = lock(dir.path()).unwrap();
        let e = lock(dir.path()).unwrap_err();
        assert!(matches!(e, DatabaseError::Busy { .. }), "{e}");
        assert!(e.to_string().contains("another bakeoff"), "{e}");
    }

    #[test]
    fn pid_files_are_read_defensively() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_pid(dir.path()), None);
        std::fs::write(dir.path().join("postmaster.pid"), "4242\n/data\n").unwrap();
        assert_eq!(read_pid(dir.path()), Some(4242));
        std::fs::write(dir.path().join("postmaster.pid"), "junk\n").unwrap();
        assert_eq!(read_pid(dir.path()), None);
    }

    #[test]
    fn this_process_is_alive_and_not_postgres() {
        assert!(alive(std::process::id()));
        assert!(!is_postgres(std::process::id()));
        assert!(!alive(u32::MAX - 3));
    }
}
