//! The supervisor: starts one contender process in its own process group on a free
//! port with the contract's environment, logs its output to a file, waits for its
//! health check, knows its process tree, and stops it (SIGTERM, then SIGKILL after
//! the grace period). Dropping a [`Running`] SIGKILLs the group, so nothing outlives
//! an error path or a panic. A port lost to another bakeoff's contender (it
//! bound first, or answered the health check) is retried on another port.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::io::Errno;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use super::logfile::log_tail;
use super::manifest::substitute;
use super::procs::{self, CpuMask, Signal};
use super::Installed;

/// Lines of the log carried by start errors.
const TAIL_LINES: usize = 20;
/// Port races (another process took the port between our probe and the bind).
const PORT_ATTEMPTS: u32 = 3;
/// Health polling interval: also the resolution of [`Running::startup_time`].
const POLL_EVERY: Duration = Duration::from_millis(10);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
const NO_ANSWER_YET: &str = "no attempt yet";
/// Set to a per-start value in every contender's environment: its descendants
/// inherit it, so a child that left the group (`setsid`) is still found and killed.
pub const INSTANCE_VAR: &str = "BAKEOFF_INSTANCE";
/// After SIGKILL: how long to wait for the kernel to tear the group down.
const KILL_WAIT: Duration = Duration::from_secs(3);

/// The environment a contender is started with, shared by all contenders of a run.
#[derive(Debug, Clone)]
pub struct ContractEnv {
    /// `BAKEOFF_SQLITE` (use a fresh working copy per start).
    pub sqlite: PathBuf,
    /// `BAKEOFF_DATA`.
    pub data: PathBuf,
    /// `BAKEOFF_UPSTREAM`, without a trailing slash.
    pub upstream: String,
    /// Where log files go (`<results>/logs`).
    pub log_dir: PathBuf,
    /// `BAKEOFF_DATABASE_URL` when the run's database is PostgreSQL; given,
    /// with `BAKEOFF_DB_POOL_SIZE`, to contenders that declare `postgres`.
    pub database_url: Option<String>,
}

/// Everything needed to start one contender process.
#[derive(Debug, Clone)]
pub struct SpawnSpec {
    pub name: String,
    /// Working directory.
    pub dir: PathBuf,
    /// argv with `{port}`, `{workers}`, `{python}` placeholders.
    pub command: Vec<String>,
    pub workers: u32,
    /// Value of `{python}`.
    pub python: String,
    /// Extra environment (the contract variables except `PORT`/`BAKEOFF_WORKERS`,
    /// then a variant's `env`).
    pub env: Vec<(String, String)>,
    /// Directories prepended to `PATH` (a venv's `bin`, `node_modules/.bin`).
    pub path_dirs: Vec<PathBuf>,
    pub health_path: String,
    pub start_timeout: Duration,
    pub stop_grace: Duration,
    pub log_dir: PathBuf,
    /// Pin the whole process tree to these CPUs.
    pub cpus: Option<Vec<usize>>,
}

impl SpawnSpec {
    /// The spec for an installed contender with `workers` workers.
    pub fn new(installed: &Installed, workers: u32, env: &ContractEnv) -> SpawnSpec {
        let c = &installed.contender;
        let m = &c.manifest;
        // The contract promises absolute paths; the app runs in its own directory.
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let mut vars = vec![
            (
                "BAKEOFF_SQLITE".to_string(),
                abs(&env.sqlite).display().to_string(),
            ),
            ("BAKEOFF_DATA".into(), abs(&env.data).display().to_string()),
            ("BAKEOFF_UPSTREAM".into(), env.upstream.clone()),
        ];
        if let Some(url) = &env.database_url {
            if m.databases.contains(&crate::database::Database::Postgres) {
                use crate::database::{pool_size, POOL_VAR, URL_VAR};
                vars.push((URL_VAR.into(), url.clone()));
                vars.push((POOL_VAR.into(), pool_size(workers).to_string()));
            }
        }
        // A variant's overrides; the manifest forbids the contract's own names.
        vars.extend(c.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        SpawnSpec {
            name: m.name.clone(),
            dir: c.dir.clone(),
            command: m.start.command.clone(),
            workers,
            python: installed.python.clone(),
            env: vars,
            path_dirs: installed.path_dirs.clone(),
            health_path: m.start.health_path.clone(),
            start_timeout: m.start.start_timeout,
            stop_grace: m.start.stop_grace,
            log_dir: abs(&env.log_dir),
            cpus: None,
        }
    }
}

impl SpawnSpec {
    /// Without `BAKEOFF_DATA`: the contract gives the dataset only to launches
    /// that measure or verify `data`, so no other start loads it.
    pub fn without_data(mut self) -> SpawnSpec {
        self.env.retain(|(k, _)| k != "BAKEOFF_DATA");
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SuperviseError {
    #[error("cannot find a free port on 127.0.0.1: {0}")]
    Port(#[source] std::io::Error),
    #[error("cannot open the log file {path}: {source}", path = .path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot pin {name} to CPUs {cpus:?}: {source}")]
    Pin {
        name: String,
        cpus: Vec<usize>,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start {name}: `{program}` in {dir}: {source} (is it installed and on PATH? run `bakeoff setup`)", dir = .dir.display())]
    Spawn {
        name: String,
        program: String,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{name} exited ({status}) {after:.1?} after start, before answering its health check; last lines of {log}:\n{tail}", log = .log.display())]
    ExitedEarly {
        name: String,
        status: String,
        after: Duration,
        log: PathBuf,
        tail: String,
    },
    #[error("{name} did not answer its health check with 200 within {timeout:?} (last attempt: {last}); {hint}; last lines of {log}:\n{tail}", log = .log.display(), hint = unhealthy_hint(.last, *.port))]
    Unhealthy {
        name: String,
        timeout: Duration,
        /// e.g. "GET /health: status 503".
        last: String,
        /// Where it should have listened (for the hint).
        port: u16,
        log: PathBuf,
        tail: String,
    },
    #[error("another bakeoff's contender (pids {pids:?}) listens on 127.0.0.1:{port}, the port {name} was given, the last of {PORT_ATTEMPTS} ports tried: several bakeoffs are starting contenders at once; retry, or run them one after another")]
    PortClash {
        name: String,
        port: u16,
        /// The rival's processes holding the listening socket.
        pids: Vec<u32>,
    },
    #[error("interrupted while starting {name}")]
    Cancelled { name: String },
}

/// How a stop went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopOutcome {
    /// Everything exited on SIGTERM within the grace period.
    pub graceful: bool,
    /// The leader's exit status, if it was reaped.
    pub status: Option<ExitStatus>,
}

/// A started, healthy contender. Its process group dies with it.
#[derive(Debug)]
pub struct Running {
    name: String,
    child: Child,
    pgid: u32,
    port: u16,
    base_url: String,
    log_path: PathBuf,
    startup: Duration,
    /// The group's processes read as the health check first answered 200.
    pids_at_healthy: Vec<u32>,
    stop_grace: Duration,
    stopped: bool,
    /// The value of [`INSTANCE_VAR`] this start was given.
    instance: String,
}

impl Running {
    /// Spawn and wait until healthy, bounded by `spec.start_timeout` (per port attempt).
    /// On any error the process group is killed before returning.
    pub async fn start(
        spec: &SpawnSpec,
        cancel: &CancellationToken,
    ) -> Result<Running, SuperviseError> {
        Running::start_with_ports(spec, cancel, free_port).await
    }

    /// [`Running::start`] with the ports taken from `ports` ([`free_port`] there).
    /// A port is free when picked, not when the child binds it: another
    /// bakeoff's contender may bind it first. The child then dies on the bind
    /// (retried here), or, worse, the rival answers the health check, so after
    /// the first 200 the port's listener is checked too (retried alike).
    pub async fn start_with_ports(
        spec: &SpawnSpec,
        cancel: &CancellationToken,
        mut ports: impl FnMut() -> std::io::Result<u16>,
    ) -> Result<Running, SuperviseError> {
        let mask = match &spec.cpus {
            Some(cpus) => Some(CpuMask::new(cpus).map_err(|source| SuperviseError::Pin {
                name: spec.name.clone(),
                cpus: cpus.clone(),
                source,
            })?),
            None => None,
        };
        std::fs::create_dir_all(&spec.log_dir).map_err(|source| SuperviseError::Log {
            path: spec.log_dir.clone(),
            source,
        })?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = ports().map_err(SuperviseError::Port)?;
            let mut running = spawn(spec, port, mask)?;
            let outcome = match running.wait_healthy(spec, cancel).await {
                Ok(()) => running.rivals_on_port(),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => return Ok(running),
                Err(SuperviseError::ExitedEarly { ref tail, .. })
                    if attempt < PORT_ATTEMPTS && port_taken(tail) =>
                {
                    running.kill_now().await;
                }
                Err(SuperviseError::PortClash { .. }) if attempt < PORT_ATTEMPTS => {
                    running.kill_now().await;
                }
                Err(e) => {
                    running.kill_now().await;
                    return Err(e);
                }
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// e.g. `http://127.0.0.1:40123`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process group id (= the leader's pid).
    pub fn pgid(&self) -> u32 {
        self.pgid
    }

    /// Every process currently in the contender's process group (workers included).
    /// A process that moves itself to another group (setsid) is not seen.
    pub fn pids(&self) -> Vec<u32> {
        procs::live_members(self.pgid)
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Spawn to the first healthy answer.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The group's processes as the health check first answered 200 (verify's
    /// `ready` check compares the group with them).
    pub fn pids_at_healthy(&self) -> &[u32] {
        &self.pids_at_healthy
    }

    /// `Some(status)` once the leader has exited (a crash under load, say).
    pub fn try_exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines of the log file.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log_path, TAIL_LINES)
    }

    /// SIGTERM the group, wait up to the grace period for every member to exit,
    /// then SIGKILL the group; reap the leader. Bounded by grace + a few seconds.
    pub async fn stop(mut self) -> StopOutcome {
        let _ = procs::signal_group(self.pgid, Signal::TERM);
        procs::signal_tagged(INSTANCE_VAR, &self.instance, Signal::TERM);
        let deadline = Instant::now() + self.stop_grace;
        let mut graceful = false;
        loop {
            let leader_done = self.child.try_wait().ok().flatten().is_some();
            if leader_done
                && procs::live_members(self.pgid).is_empty()
                && procs::tagged(INSTANCE_VAR, &self.instance).is_empty()
            {
                graceful = true;
                break;
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if !graceful {
            let _ = procs::signal_group(self.pgid, Signal::KILL);
        }
        let status = self.reap().await;
        self.stopped = true;
        StopOutcome { graceful, status }
    }

    /// SIGKILL the group now and reap (error paths).
    async fn kill_now(&mut self) {
        let _ = procs::signal_group(self.pgid, Signal::KILL);
        self.reap().await;
        self.stopped = true;
    }

    /// Reap the leader and wait (bounded) for the rest of the group to vanish.
    async fn reap(&mut self) -> Option<ExitStatus> {
        let status = tokio::time::timeout(KILL_WAIT, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        let deadline = Instant::now() + KILL_WAIT;
        while !procs::live_members(self.pgid).is_empty() && Instant::now() < deadline {
            // A member that survived (it was forked after the signal): kill again.
            let _ = procs::signal_group(self.pgid, Signal::KILL);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Descendants that left the group (setsid) still carry the instance tag.
        while procs::signal_tagged(INSTANCE_VAR, &self.instance, Signal::KILL) > 0
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        status
    }

    /// An error if another bakeoff's contender (a process tagged with another
    /// [`INSTANCE_VAR`]) holds a socket listening on our port: it may have
    /// answered the health check for ours. Untagged holders pass: a container's
    /// port mapping (docker-proxy) holds the port for a contender legitimately.
    fn rivals_on_port(&self) -> Result<(), SuperviseError> {
        let inodes = procs::listening_inodes(self.port);
        if inodes.is_empty() {
            return Ok(());
        }
        let pids: Vec<u32> = procs::env_values(INSTANCE_VAR)
            .into_iter()
            .filter(|(pid, value)| *value != self.instance && procs::holds_socket(*pid, &inodes))
            .map(|(pid, _)| pid)
            .collect();
        if pids.is_empty() {
            return Ok(());
        }
        Err(SuperviseError::PortClash {
            name: self.name.clone(),
            port: self.port,
            pids,
        })
    }

    async fn wait_healthy(
        &mut self,
        spec: &SpawnSpec,
        cancel: &CancellationToken,
    ) -> Result<(), SuperviseError> {
        let spawned = Instant::now();
        let deadline = spawned + spec.start_timeout;
        let mut last = String::from(NO_ANSWER_YET);
        loop {
            if cancel.is_cancelled() {
                return Err(SuperviseError::Cancelled {
                    name: self.name.clone(),
                });
            }
            if let Some(status) = self.try_exited() {
                return Err(SuperviseError::ExitedEarly {
                    name: self.name.clone(),
                    status: status.to_string(),
                    after: spawned.elapsed(),
                    log: self.log_path.clone(),
                    tail: self.log_tail(),
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(SuperviseError::Unhealthy {
                    name: self.name.clone(),
                    timeout: spec.start_timeout,
                    port: self.port,
                    last,
                    log: self.log_path.clone(),
                    tail: self.log_tail(),
                });
            }
            let budget = left.min(PROBE_TIMEOUT);
            match probe(self.port, &spec.health_path, budget).await {
                Ok(200) => {
                    self.startup = spawned.elapsed();
                    self.pids_at_healthy = self.pids();
                    return Ok(());
                }
                Ok(code) => last = format!("GET {}: status {code}", spec.health_path),
                // A probe cut short by the deadline says nothing about the
                // contender; keep the last real answer for the error.
                Err(_) if budget < PROBE_TIMEOUT && last != NO_ANSWER_YET => {}
                Err(e) => last = format!("GET {}: {e}", spec.health_path),
            }
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = tokio::time::sleep(POLL_EVERY.min(deadline.saturating_duration_since(Instant::now()))) => {}
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.stopped {
            // Last resort (error path, panic, cancelled future): nothing may be orphaned.
            let _ = procs::signal_group(self.pgid, Signal::KILL);
            procs::signal_tagged(INSTANCE_VAR, &self.instance, Signal::KILL);
            let _ = self.child.start_kill();
            let _ = self.child.try_wait();
        }
    }
}

fn spawn(spec: &SpawnSpec, port: u16, mask: Option<CpuMask>) -> Result<Running, SuperviseError> {
    let argv: Vec<String> = spec
        .command
        .iter()
        .map(|a| substitute(a, port, spec.workers, &spec.python))
        .collect();
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let instance = format!("{}-{}-{port}-{stamp}", owner_tag(), spec.name);
    let log_path = spec.log_dir.join(format!(
        "{}-w{}-{stamp}-p{port}.log",
        spec.name, spec.workers
    ));
    let log_err = |source| SuperviseError::Log {
        path: log_path.clone(),
        source,
    };
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(log_err)?;
    let log2 = log.try_clone().map_err(log_err)?;

    let program = argv.first().cloned().unwrap_or_default();
    let mut cmd = Command::new(&program);
    cmd.args(&argv[1..])
        .current_dir(&spec.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .env("PORT", port.to_string())
        .env("BAKEOFF_WORKERS", spec.workers.to_string())
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(INSTANCE_VAR, &instance)
        .process_group(0);
    if !spec.path_dirs.is_empty() {
        let mut dirs: Vec<PathBuf> = spec.path_dirs.clone();
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        if let Ok(joined) = std::env::join_paths(dirs) {
            cmd.env("PATH", joined);
        }
    }
    if let Some(mask) = mask {
        // SAFETY: the closure only calls sched_setaffinity, which is async-signal-safe,
        // on a mask built before fork.
        #[allow(unsafe_code)] // pre_exec: the only way to pin a child before it runs
        unsafe {
            cmd.pre_exec(move || mask.apply());
        }
    }
    let child = cmd
        .spawn()
        .map_err(|source| match (&spec.cpus, source.raw_os_error()) {
            // sched_setaffinity in pre_exec: a CPU that is offline or not ours.
            (Some(cpus), Some(code)) if code == Errno::INVAL.raw_os_error() => {
                SuperviseError::Pin {
                    name: spec.name.clone(),
                    cpus: cpus.clone(),
                    source,
                }
            }
            _ => SuperviseError::Spawn {
                name: spec.name.clone(),
                program: program.clone(),
                dir: spec.dir.clone(),
                source,
            },
        })?;
    let pgid = child.id().unwrap_or(0);
    Ok(Running {
        name: spec.name.clone(),
        child,
        pgid,
        port,
        base_url: format!("http://127.0.0.1:{port}"),
        log_path,
        startup: Duration::ZERO,
        pids_at_healthy: Vec::new(),
        stop_grace: spec.stop_grace,
        stopped: false,
        instance,
    })
}

/// `<pid>-<start ticks>` of this bakeoff: the head of every [`INSTANCE_VAR`] value,
/// so a later bakeoff can tell whose contenders are orphans.
fn owner_tag() -> String {
    let (pid, start) = crate::store::owner::current();
    format!("{pid}-{}", start.unwrap_or(-1))
}

/// SIGKILL the contender processes a bakeoff left behind when it was killed
/// (SIGKILL cannot be handled): processes tagged with [`INSTANCE_VAR`] whose owner
/// is gone. Returns their pids.
pub fn reap_orphans() -> Vec<u32> {
    let orphans: Vec<u32> = procs::env_values(INSTANCE_VAR)
        .into_iter()
        .filter(|(_, value)| {
            let mut parts = value.splitn(3, '-');
            let pid = parts.next().and_then(|p| p.parse::<i64>().ok());
            let start = parts.next().and_then(|s| s.parse::<i64>().ok());
            match pid {
                Some(pid) => !crate::store::owner::is_alive(pid, start.filter(|s| *s >= 0)),
                None => false,
            }
        })
        .map(|(pid, _)| pid)
        .collect();
    procs::signal_pids(&orphans, Signal::KILL);
    orphans
}

/// SIGKILL every contender process this bakeoff started (its tag's owner is
/// this process), for an exit that cannot wait for [`Running::stop`]. Returns
/// their pids.
pub fn kill_own() -> Vec<u32> {
    let mine = format!("{}-", owner_tag());
    let pids: Vec<u32> = procs::env_values(INSTANCE_VAR)
        .into_iter()
        .filter(|(_, value)| value.starts_with(&mine))
        .map(|(pid, _)| pid)
        .collect();
    procs::signal_pids(&pids, Signal::KILL);
    pids
}

/// What to do about a contender that never answered its health check: a
/// refused connection to the end means nothing listened on its port.
fn unhealthy_hint(last: &str, port: u16) -> String {
    let slow = "raise start.start_timeout in its bakeoff.toml if it is just slow";
    if last.contains("connect:") && last.to_ascii_lowercase().contains("refused") {
        format!(
            "nothing listened on 127.0.0.1:{port}: the app must listen on the port bakeoff gives it (the PORT variable, or {{port}} in its start command); {slow}"
        )
    } else {
        slow.to_string()
    }
}

/// Ports this process handed out lately: the kernel may give a released port
/// to the next `bind(0)` while the contender it went to has not bound it yet.
static HANDED_OUT: Mutex<VecDeque<u16>> = Mutex::new(VecDeque::new());
const REMEMBERED_PORTS: usize = 64;

/// An ephemeral port that was free a moment ago (bind, read, release) and that
/// this process has not handed out lately.
pub fn free_port() -> std::io::Result<u16> {
    let mut handed = HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner);
    let mut port = 0;
    for _ in 0..16 {
        port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if !handed.contains(&port) {
            break;
        }
    }
    if handed.len() == REMEMBERED_PORTS {
        handed.pop_front();
    }
    handed.push_back(port);
    Ok(port)
}

fn port_taken(tail: &str) -> bool {
    let t = tail.to_ascii_lowercase();
    t.contains("eaddrinuse") || t.contains("address already in use")
}

/// One bounded `GET path` on 127.0.0.1:port; the status code or why there is none.
pub async fn probe(port: u16, path: &str, timeout: Duration) -> Result<u16, String> {
    let fut = async {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut buf = Vec::with_capacity(256);
        let mut chunk = [0u8; 256];
        while !buf.contains(&b'\n') && buf.len() < 4096 {
            let n = s.read(&mut chunk).await.map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        bakeoff_load::head::status_line(&buf).map_err(|e| e.to_string())
    };
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_races_are_recognised() {
        assert!(port_taken(
            "Error: listen EADDRINUSE: address already in use 127.0.0.1:1"
        ));
        assert!(port_taken("OSError: [Errno 98] Address already in use"));
        assert!(!port_taken("SyntaxError"));
    }

    #[test]
    fn a_port_nobody_listened_on_is_named_with_the_fix() {
        let refused = unhealthy_hint(
            "GET /health: connect: Connection refused (os error 111)",
            4100,
        );
        assert!(
            refused.contains("nothing listened on 127.0.0.1:4100"),
            "{refused}"
        );
        assert!(refused.contains("PORT"), "{refused}");
        let slow = unhealthy_hint("GET /health: status 503", 4100);
        assert!(!slow.contains("nothing listened"), "{slow}");
        assert!(slow.contains("start.start_timeout"), "{slow}");
    }
}
