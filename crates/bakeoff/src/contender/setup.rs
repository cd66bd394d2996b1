//! `setup`: installs each contender's dependencies from its lockfile into a cache
//! and records its footprint ([`ContenderInfo`]).
//!
//! - `npm`: `npm ci --no-audit --no-fund` in `<cache>/npm/<name>-<key>/` (a copy of
//!   package.json and the lockfile), then `<contender>/node_modules` becomes a
//!   symlink to it, so a fresh clone with a warm cache skips the native builds.
//!   Like `npm ci`, this replaces an existing `node_modules` directory.
//! - `pip`: `python -m venv` + `pip install -r <lockfile>` in `<cache>/pip/<name>-<key>/venv`;
//!   the lockfile is `setup.lockfiles["3.N"]` for the interpreter's minor version
//!   when listed, else `setup.lockfile`.
//! - `none`: nothing to install.
//!
//! A variant (`base@variant`) shares its base's entry: `<name>` is the base's name.
//! The key is a SHA-256 of the lockfile used (plus package.json, the extra commands and
//! the runtime version, which native modules depend on). A stamp in the install
//! directory holds the key and the measured figures, so an unchanged contender is
//! skipped and still reported; its mtime records the entry's last use ([`super::cache`]).
//! The cache is [`super::cache::default_dir`]: `$BAKEOFF_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/bakeoff`, else `~/.cache/bakeoff`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::footprint;
use super::node_versions::NodeRuntime;
use super::{Contender, SetupKind};
use crate::model::ContenderInfo;

const MIN_NODE: (u32, u32) = (20, 0);
const MIN_PYTHON: (u32, u32) = (3, 10);
const VERSION_TIMEOUT: Duration = Duration::from_secs(20);
const TAIL_LINES: usize = 25;

#[derive(Debug, Clone)]
pub struct SetupOptions {
    pub results_dir: PathBuf,
    pub cache_dir: PathBuf,
    /// Reinstall even when the key is unchanged.
    pub force: bool,
    /// Bound on each installer command.
    pub install_timeout: Duration,
}

impl SetupOptions {
    /// The cache at [`super::cache::default_dir`].
    pub fn new(results_dir: &Path, force: bool) -> SetupOptions {
        SetupOptions {
            results_dir: results_dir.to_path_buf(),
            cache_dir: super::cache::default_dir(results_dir),
            force,
            install_timeout: Duration::from_secs(20 * 60),
        }
    }
}

/// An installed contender, ready for the supervisor.
#[derive(Debug, Clone)]
pub struct Installed {
    pub contender: Contender,
    pub info: ContenderInfo,
    /// Value of the `{python}` placeholder: the venv's interpreter, else the runtime.
    pub python: String,
    /// Prepended to `PATH` when the contender starts.
    pub path_dirs: Vec<PathBuf>,
    /// True when the install was skipped (key unchanged).
    pub cached: bool,
    /// Keeps `bakeoff cache prune` off the install while this (or a clone) lives.
    pub in_use: Option<std::sync::Arc<super::cache::InUse>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{name}: `{runtime}` was not found on PATH; {how}")]
    RuntimeMissing {
        name: String,
        runtime: String,
        how: String,
    },
    #[error("{name}: `{runtime}` is version {found}, but {need} or newer is required; {how}")]
    RuntimeTooOld {
        name: String,
        runtime: String,
        found: String,
        need: String,
        how: String,
    },
    #[error("{name}: {path}: {source}", path = .path.display())]
    Io {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: `{command}` failed ({status}); last lines of {log}:\n{tail}", log = .log.display())]
    Command {
        name: String,
        command: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{name}: `{command}` did not finish within {timeout:?}; last lines of {log}:\n{tail}", log = .log.display())]
    Timeout {
        name: String,
        command: String,
        timeout: Duration,
        log: PathBuf,
        tail: String,
    },
    #[error("interrupted while setting up {name}")]
    Cancelled { name: String },
}

impl SetupError {
    /// Why `contender`, derived for another runtime (`--python`, `--node`), is
    /// skipped rather than failed: that runtime is below the floor, or its
    /// dependencies do not install there (no wheel, a build that fails). None for
    /// any other error, and for every error of a contender on the runtime on PATH.
    pub fn runtime_skip(&self, contender: &Contender) -> Option<String> {
        super::runtimes::split_name(contender.name()).1?;
        match self {
            SetupError::RuntimeTooOld {
                runtime,
                found,
                need,
                ..
            } => {
                // "Python 3.9.16 (7.3.11+dfsg…)\n[PyPy …]": the language version only.
                let found: Vec<&str> = found.split_whitespace().take(2).collect();
                Some(format!(
                    "{runtime} is {}, below the {need} bakeoff's contenders need",
                    found.join(" ")
                ))
            }
            SetupError::Command {
                command,
                status,
                log,
                tail,
                ..
            } => {
                let last = tail
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                Some(format!(
                    "its dependencies do not install on {}: `{command}` failed ({status}): {} (log: {})",
                    contender.manifest.runtime,
                    last.trim().trim_start_matches('|').trim(),
                    log.display()
                ))
            }
            _ => None,
        }
    }
}

/// The figures persisted with a finished install.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stamp {
    key: String,
    runtime_version: String,
    framework_version: String,
    deps_direct: u32,
    deps_total: u32,
    install_bytes: u64,
    install_secs: f64,
    /// The runtime exactly (Python's `sys.version` with its implementation), and
    /// the direct dependencies' installed versions; None in stamps from before
    /// they were recorded (filled in on the next use).
    #[serde(default)]
    runtime_detail: Option<String>,
    #[serde(default)]
    libraries: Option<Vec<(String, String)>>,
}

use super::cache::STAMP;

mod record;
mod runner;
use record::{measure, runtime_and_libraries, runtime_note};
use runner::Runner;

/// Install (or reuse) every contender, in order; stops at the first error.
pub async fn ensure(
    contenders: &[Contender],
    opts: &SetupOptions,
    cancel: &CancellationToken,
) -> Result<Vec<Installed>, SetupError> {
    let mut out = Vec::new();
    for c in contenders {
        out.push(ensure_one(c, opts, cancel).await?);
    }
    Ok(out)
}

/// Install (or reuse) one contender and measure its footprint.
pub async fn ensure_one(
    c: &Contender,
    opts: &SetupOptions,
    cancel: &CancellationToken,
) -> Result<Installed, SetupError> {
    let m = &c.manifest;
    let name = m.name.clone();
    let runtime_version = check_runtime(c).await?;
    let io = |path: &Path| {
        let name = name.clone();
        let path = path.to_path_buf();
        move |source| SetupError::Io { name, path, source }
    };
    let (lockfile, lock_note) = choose_lockfile(m, &runtime_version);
    let lock_text = match &lockfile {
        Some(l) => std::fs::read(c.dir.join(l)).map_err(io(&c.dir.join(l)))?,
        None => Vec::new(),
    };
    let package_json = if m.setup.kind == SetupKind::Npm {
        let p = c.dir.join("package.json");
        std::fs::read(&p).map_err(io(&p))?
    } else {
        Vec::new()
    };
    let key = install_key(c, &lock_text, &package_json, &runtime_version);
    let kind = m.setup.kind.as_str();
    let cache_dir = std::path::absolute(&opts.cache_dir).map_err(io(&opts.cache_dir))?;
    let install_dir = cache_dir
        .join(kind)
        .join(format!("{}-{}", c.install_name(), &key[..16]));
    // Another bakeoff (or a parallel test) may be installing the same entry.
    let _lock = CacheLock::acquire(&install_dir, opts.install_timeout, cancel)
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::Interrupted => SetupError::Cancelled { name: name.clone() },
            _ => io(&install_dir)(source),
        })?;
    let mut in_use = super::cache::InUse::acquire(&install_dir).map_err(io(&install_dir))?;
    let stamp_path = install_dir.join(STAMP);
    let stamp = std::fs::read(&stamp_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Stamp>(&b).ok())
        .filter(|s| s.key == key && !opts.force);
    let venv = install_dir.join("venv");
    // A Node.js from bakeoff's cache (`--node`): first on PATH for npm, node-gyp
    // (with its headers) and the app, which runs from a copy beside its own
    // node_modules, so that the contender on PATH's node keeps its own.
    let node_home = match m.setup.kind {
        SetupKind::Npm => NodeRuntime::home_of(&m.runtime),
        _ => None,
    };
    let app_dir = match &node_home {
        Some(_) => install_dir.join("app"),
        None => c.dir.clone(),
    };
    let runtime_dirs: Vec<PathBuf> = node_home.iter().map(|h| h.join("bin")).collect();
    // `bakeoff cache prune` leaves that Node.js alone while the install is in use.
    if let Some(entry) = node_home.as_deref().and_then(NodeRuntime::entry_of) {
        in_use.also(&entry).map_err(io(&entry))?;
    }
    let (python, path_dirs) = match m.setup.kind {
        SetupKind::Pip => (
            venv.join("bin/python").display().to_string(),
            vec![venv.join("bin")],
        ),
        SetupKind::Npm => (
            m.runtime.clone(),
            [
                runtime_dirs.clone(),
                vec![app_dir.join("node_modules/.bin")],
            ]
            .concat(),
        ),
        SetupKind::None => (m.runtime.clone(), Vec::new()),
    };
    let install_env: Vec<(String, String)> = node_home
        .iter()
        .map(|h| ("npm_config_nodedir".to_string(), h.display().to_string()))
        .collect();
    let cached = stamp.is_some();
    let stamp = match stamp {
        // An older stamp: record the runtime and libraries now, from the install.
        Some(mut s) if s.libraries.is_none() => {
            let log = install_dir.join("install.log");
            let run = Runner {
                name: &name,
                log: &log,
                timeout: opts.install_timeout,
                cancel,
                env: &install_env,
            };
            let (detail, libs) =
                runtime_and_libraries(c, &install_dir, &venv, &lock_text, &package_json, &run)
                    .await;
            s.runtime_detail = Some(detail.unwrap_or_else(|| s.runtime_version.clone()));
            s.libraries = Some(libs);
            let bytes = serde_json::to_vec_pretty(&s).unwrap_or_default();
            let _ = std::fs::write(&stamp_path, bytes);
            s
        }
        Some(s) => s,
        None => {
            let started = Instant::now();
            let _ = std::fs::remove_dir_all(&install_dir);
            std::fs::create_dir_all(&install_dir).map_err(io(&install_dir))?;
            let log = install_dir.join("install.log");
            let run = Runner {
                name: &name,
                log: &log,
                timeout: opts.install_timeout,
                cancel,
                env: &install_env,
            };
            match m.setup.kind {
                SetupKind::Npm => install_npm(c, &install_dir, &runtime_dirs, &run).await?,
                SetupKind::Pip => {
                    let lock = c.dir.join(lockfile.clone().unwrap_or_default());
                    install_pip(c, &lock, &venv, &run).await?
                }
                SetupKind::None => {}
            }
            if m.setup.kind == SetupKind::Npm {
                if node_home.is_some() {
                    copy_app(c, &app_dir)?;
                }
                link_node_modules(c, &app_dir, &install_dir)?;
            }
            for argv in &m.setup.commands {
                run.run(argv, &app_dir, &path_dirs).await?;
            }
            let install_secs = started.elapsed().as_secs_f64();
            let (detail, libs) =
                runtime_and_libraries(c, &install_dir, &venv, &lock_text, &package_json, &run)
                    .await;
            let mut stamp = measure(
                c,
                &install_dir,
                &venv,
                &lock_text,
                &package_json,
                &runtime_version,
                key,
                install_secs,
                &run,
            )
            .await?;
            stamp.runtime_detail = Some(detail.unwrap_or_else(|| stamp.runtime_version.clone()));
            stamp.libraries = Some(libs);
            let bytes = serde_json::to_vec_pretty(&stamp).unwrap_or_default();
            std::fs::write(&stamp_path, bytes).map_err(io(&stamp_path))?;
            stamp
        }
    };
    super::cache::touch(&stamp_path);
    if cached && m.setup.kind == SetupKind::Npm {
        // The app's own files may have changed since; the copy follows them.
        if node_home.is_some() {
            copy_app(c, &app_dir)?;
        }
        // A fresh clone with a warm cache: only the link is missing.
        link_node_modules(c, &app_dir, &install_dir)?;
    }
    let mut base = c.base_info();
    // The install's own notes first, so a variant's disclosures still begin with its base's.
    let notes: Vec<String> = runtime_note(m, &stamp)
        .into_iter()
        .chain(lock_note)
        .collect();
    base.disclosures.splice(0..0, notes);
    let info = ContenderInfo {
        runtime_version: stamp.runtime_version.clone(),
        framework_version: stamp.framework_version.clone(),
        deps_direct: stamp.deps_direct,
        deps_total: stamp.deps_total,
        install_bytes: stamp.install_bytes,
        install_secs: stamp.install_secs,
        app_loc: footprint::app_loc(&c.dir),
        ..base
    };
    let mut contender = c.clone();
    contender.dir = app_dir;
    Ok(Installed {
        contender,
        info,
        python,
        path_dirs,
        cached,
        in_use: Some(std::sync::Arc::new(in_use)),
    })
}

/// An exclusive `flock` on `<entry>.lock`, held while an install entry is checked
/// or built; released when dropped (the file closes).
pub(crate) struct CacheLock(std::fs::File);

impl CacheLock {
    pub(crate) async fn acquire(
        entry: &Path,
        wait: Duration,
        cancel: &CancellationToken,
    ) -> std::io::Result<CacheLock> {
        let path = entry.with_extension("lock");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        let deadline = Instant::now() + wait;
        loop {
            let locked =
                rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive);
            if locked.is_ok() {
                return Ok(CacheLock(file));
            }
            if Instant::now() >= deadline {
                return Err(std::io::Error::other(format!(
                    "{} is held by another bakeoff for over {}s",
                    path.display(),
                    wait.as_secs()
                )));
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(std::io::ErrorKind::Interrupted.into()),
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    }
}

impl Drop for CacheLock {
    fn drop(&mut self) {
        // Closing would release it anyway.
        let _ = rustix::fs::flock(&self.0, rustix::fs::FlockOperation::Unlock);
    }
}

/// The lockfile for this runtime version: `setup.lockfiles["3.N"]` when listed
/// for the interpreter's minor version, else `setup.lockfile`; with a disclosure
/// line naming the choice whenever per-version lockfiles exist.
fn choose_lockfile(
    m: &super::Manifest,
    runtime_version: &str,
) -> (Option<PathBuf>, Option<String>) {
    let locks = &m.setup.lockfiles;
    if locks.is_empty() {
        return (m.setup.lockfile.clone(), None);
    }
    let minor = parse_version(runtime_version).map(|(a, b)| format!("{a}.{b}"));
    let fallback = m.setup.lockfile.clone().unwrap_or_default();
    match minor.as_ref().and_then(|v| locks.get(v).map(|l| (v, l))) {
        Some((v, lock)) => (
            Some(lock.clone()),
            Some(format!(
                "dependencies installed from {}, the lockfile resolved for Python {v} (setup.lockfiles)",
                lock.display()
            )),
        ),
        None => (
            m.setup.lockfile.clone(),
            Some(format!(
                "dependencies installed from {}: setup.lockfiles lists no lockfile for Python {} (it has {})",
                fallback.display(),
                minor.as_deref().unwrap_or(runtime_version),
                locks.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        ),
    }
}

fn install_key(c: &Contender, lock: &[u8], package_json: &[u8], runtime_version: &str) -> String {
    let m = &c.manifest;
    let mut h = Sha256::new();
    for part in [
        m.setup.kind.as_str().as_bytes(),
        lock,
        package_json,
        serde_json::to_string(&m.setup.commands)
            .unwrap_or_default()
            .as_bytes(),
        runtime_version.as_bytes(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn install_npm(
    c: &Contender,
    install_dir: &Path,
    runtime_dirs: &[PathBuf],
    run: &Runner<'_>,
) -> Result<(), SetupError> {
    let lock = c.manifest.setup.lockfile.clone().unwrap_or_default();
    for (from, to) in [
        (c.dir.join("package.json"), install_dir.join("package.json")),
        (c.dir.join(&lock), install_dir.join("package-lock.json")),
        (c.dir.join(".npmrc"), install_dir.join(".npmrc")),
    ] {
        if from.is_file() {
            std::fs::copy(&from, &to).map_err(|source| SetupError::Io {
                name: run.name.to_string(),
                path: from.clone(),
                source,
            })?;
        }
    }
    let argv = ["npm", "ci", "--no-audit", "--no-fund"].map(String::from);
    run.run(&argv, install_dir, runtime_dirs).await?;
    // npm creates no node_modules for a package without dependencies.
    let nm = install_dir.join("node_modules");
    std::fs::create_dir_all(&nm).map_err(|source| SetupError::Io {
        name: run.name.to_string(),
        path: nm,
        source,
    })
}

async fn install_pip(
    c: &Contender,
    lock: &Path,
    venv: &Path,
    run: &Runner<'_>,
) -> Result<(), SetupError> {
    let m = &c.manifest;
    let create = [
        m.runtime.clone(),
        "-m".into(),
        "venv".into(),
        venv.display().to_string(),
    ];
    run.run(&create, &c.dir, &[]).await?;
    let install = [
        venv.join("bin/python").display().to_string(),
        "-m".into(),
        "pip".into(),
        "install".into(),
        "--disable-pip-version-check".into(),
        "--no-input".into(),
        "-r".into(),
        lock.display().to_string(),
    ];
    // The venv path is long and the shown command is cut: name the lockfile instead.
    let shown = format!("pip install -r {}", lock.display());
    run.run(&install, &c.dir, &[]).await.map_err(|mut e| {
        if let SetupError::Command { command, .. } | SetupError::Timeout { command, .. } = &mut e {
            *command = shown;
        }
        e
    })
}

/// The app's files (all but `node_modules`) copied into `app_dir`, replacing an
/// older copy: a real copy, since Node resolves a symlinked main module to its
/// real directory and would load the `node_modules` beside the original.
fn copy_app(c: &Contender, app_dir: &Path) -> Result<(), SetupError> {
    let io = |path: &Path| {
        let name = c.manifest.name.clone();
        let path = path.to_path_buf();
        move |source| SetupError::Io { name, path, source }
    };
    let _ = std::fs::remove_dir_all(app_dir);
    fn copy(from: &Path, to: &Path, top: bool) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            let name = e.file_name();
            if top && name == "node_modules" {
                continue;
            }
            let kind = e.file_type()?;
            if kind.is_dir() {
                copy(&e.path(), &to.join(&name), false)?;
            } else if kind.is_file() {
                std::fs::copy(e.path(), to.join(&name))?;
            }
        }
        Ok(())
    }
    copy(&c.dir, app_dir, true).map_err(io(&c.dir))
}

/// `<app_dir>/node_modules` -> `<install_dir>/node_modules`.
fn link_node_modules(c: &Contender, app_dir: &Path, install_dir: &Path) -> Result<(), SetupError> {
    let link = app_dir.join("node_modules");
    let target = install_dir.join("node_modules");
    let io = |source| SetupError::Io {
        name: c.manifest.name.clone(),
        path: link.clone(),
        source,
    };
    match link.symlink_metadata() {
        Ok(meta) if meta.file_type().is_symlink() => {
            if std::fs::read_link(&link).ok().as_deref() == Some(target.as_path()) {
                return Ok(());
            }
            std::fs::remove_file(&link).map_err(io)?;
        }
        // What `npm ci` does too: a previous node_modules is replaced.
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&link).map_err(io)?,
        Ok(_) => std::fs::remove_file(&link).map_err(io)?,
        Err(_) => {}
    }
    std::os::unix::fs::symlink(&target, &link).map_err(io)
}

/// Check the runtime the contender needs; returns its version string.
async fn check_runtime(c: &Contender) -> Result<String, SetupError> {
    let m = &c.manifest;
    let is_node = m.setup.kind == SetupKind::Npm || m.language == "node";
    let is_python = m.setup.kind == SetupKind::Pip || m.language == "python";
    let (need, how) = if is_node {
        (
            Some(MIN_NODE),
            "install Node.js 20 or newer (https://nodejs.org, or `nvm install 20`)",
        )
    } else if is_python {
        (
            Some(MIN_PYTHON),
            "install Python 3.10 or newer with venv (e.g. `apt install python3 python3-venv`, or https://www.python.org)",
        )
    } else {
        (
            None,
            "install it or fix `runtime` in the contender's bakeoff.toml",
        )
    };
    let missing = |runtime: &str| SetupError::RuntimeMissing {
        name: m.name.clone(),
        runtime: runtime.to_string(),
        how: how.to_string(),
    };
    let raw = version_of(&m.runtime)
        .await
        .map_err(|_| missing(&m.runtime))?;
    if let Some(need) = need {
        let found = parse_version(&raw).unwrap_or((0, 0));
        if found < need {
            return Err(SetupError::RuntimeTooOld {
                name: m.name.clone(),
                runtime: m.runtime.clone(),
                found: raw.trim().to_string(),
                need: format!("{}.{}", need.0, need.1),
                how: how.to_string(),
            });
        }
    }
    if m.setup.kind == SetupKind::Npm {
        version_of("npm").await.map_err(|_| missing("npm"))?;
    }
    Ok(clean_version(&raw))
}

/// `<cmd> --version`, stdout or stderr (old Pythons print there), bounded in time.
async fn version_of(cmd: &str) -> Result<String, std::io::Error> {
    let mut command = Command::new(cmd);
    command
        .arg("--version")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(VERSION_TIMEOUT, command.output())
        .await
        .map_err(|_| std::io::Error::other("timed out"))??;
    if !out.status.success() {
        return Err(std::io::Error::other(format!("exit {}", out.status)));
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if text.trim().is_empty() {
        text = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}

/// The first `major.minor` in a version line: "v20.20.2" -> (20, 20), "Python 3.11.7" -> (3, 11).
pub fn parse_version(s: &str) -> Option<(u32, u32)> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find_map(|tok| {
            let mut parts = tok.split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next()?.parse().ok()?;
            Some((major, minor))
        })
}

/// "Python 3.11.7" -> "3.11.7"; "v20.20.2" stays (node's own spelling).
fn clean_version(s: &str) -> String {
    s.trim()
        .strip_prefix("Python ")
        .unwrap_or(s.trim())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("v20.20.2"), Some((20, 20)));
        assert_eq!(parse_version("Python 3.11.7"), Some((3, 11)));
        assert_eq!(parse_version("v18.1.0"), Some((18, 1)));
        assert!(parse_version("v18.1.0").unwrap() < MIN_NODE);
        assert!(parse_version("Python 3.9.2").unwrap() < MIN_PYTHON);
        assert_eq!(parse_version("nothing"), None);
        assert_eq!(clean_version("Python 3.11.7\n"), "3.11.7");
    }

    #[test]
    fn the_lockfile_matches_the_interpreters_minor_version() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contenders/python-flask");
        let mut m = super::super::manifest::load(&dir.join("bakeoff.toml")).unwrap();
        let base = m.setup.lockfile.clone().unwrap();
        // The reference contender locks 3.10 apart (pandas 3 needs 3.11).
        assert_eq!(
            choose_lockfile(&m, "3.10.13").0,
            Some(PathBuf::from("requirements-py310.txt"))
        );
        // No per-version lockfiles: the lockfile, and nothing to disclose.
        m.setup.lockfiles.clear();
        assert_eq!(choose_lockfile(&m, "3.12.1"), (Some(base.clone()), None));
        m.setup.lockfiles = [("3.12".to_string(), PathBuf::from("requirements-py312.txt"))].into();
        let (lock, note) = choose_lockfile(&m, "3.12.1");
        assert_eq!(lock, Some(PathBuf::from("requirements-py312.txt")));
        assert!(note
            .unwrap()
            .contains("requirements-py312.txt, the lockfile resolved for Python 3.12"));
        let (lock, note) = choose_lockfile(&m, "3.10.12");
        assert_eq!(lock, Some(base.clone()));
        let note = note.unwrap();
        assert!(
            note.contains(&format!("from {}", base.display()))
                && note.contains("no lockfile for Python 3.10 (it has 3.12)"),
            "{note}"
        );
    }
}
