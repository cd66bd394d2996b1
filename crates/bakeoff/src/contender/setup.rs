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
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::cache::CacheLock;
use super::footprint;
use super::node_versions::NodeRuntime;
use super::{Contender, Installed, SetupKind};
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
    #[error("the install cache {dir} cannot be used: {source}; set BAKEOFF_CACHE_DIR to a writable directory", dir = .dir.display())]
    Cache {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
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

mod installer;
mod record;
mod runtime;
use super::version::parse_version;
use installer::Installer;
use record::{measure, runtime_and_libraries, runtime_note};
use runtime::{check_runtime, version_of};

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

/// Install (or reuse) one contender and measure its footprint. The steps: check
/// the runtime, read what the install depends on (`Inputs`), lock its cache
/// entry (`Entry`), reuse or build the install (`Entry::stamp`), link
/// `node_modules`, and describe the result ([`ContenderInfo`]).
pub async fn ensure_one(
    c: &Contender,
    opts: &SetupOptions,
    cancel: &CancellationToken,
) -> Result<Installed, SetupError> {
    writable_cache(&opts.cache_dir)?;
    let runtime_version = check_runtime(c).await?;
    let inputs = Inputs::read(c, runtime_version)?;
    let entry = Entry::lock(c, &inputs.key, opts, cancel).await?;
    let (stamp, cached) = entry.stamp(c, &inputs, opts, cancel).await?;
    super::cache::touch(&entry.dir.join(STAMP));
    if cached && c.manifest.setup.kind == SetupKind::Npm {
        // The app's own files may have changed since; the copy follows them.
        if entry.node_home.is_some() {
            copy_app(c, &entry.app_dir)?;
        }
        // A fresh clone with a warm cache: only the link is missing.
        link_node_modules(c, &entry.app_dir, &entry.dir)?;
    }
    let info = contender_info(c, &stamp, inputs.lock_note);
    let mut contender = c.clone();
    contender.dir = entry.app_dir;
    Ok(Installed {
        contender,
        info,
        python: entry.python,
        path_dirs: entry.path_dirs,
        cached,
        in_use: Some(std::sync::Arc::new(entry.in_use)),
    })
}

/// The cache directory exists (or is made) and takes a file: a cache that is a
/// file, or read-only, is named as the cache with its fix, not as one
/// contender's path.
fn writable_cache(dir: &Path) -> Result<(), SetupError> {
    let err = |source| SetupError::Cache {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(format!(".bakeoff-write-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(err)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// `SetupError::Io` for `path`, naming the contender.
fn io_error(name: &str, path: &Path) -> impl FnOnce(std::io::Error) -> SetupError {
    let (name, path) = (name.to_string(), path.to_path_buf());
    move |source| SetupError::Io { name, path, source }
}

/// What an install depends on, read from the contender directory; `key` hashes it.
struct Inputs {
    runtime_version: String,
    /// The lockfile for this runtime ([`choose_lockfile`]) and the disclosure naming it.
    lockfile: Option<PathBuf>,
    lock_note: Option<String>,
    lock_text: Vec<u8>,
    /// Empty unless `setup.kind` is npm.
    package_json: Vec<u8>,
    key: String,
}

impl Inputs {
    fn read(c: &Contender, runtime_version: String) -> Result<Inputs, SetupError> {
        let m = &c.manifest;
        let read = |path: PathBuf| std::fs::read(&path).map_err(io_error(&m.name, &path));
        let (lockfile, lock_note) = choose_lockfile(m, &runtime_version);
        let lock_text = match &lockfile {
            Some(l) => read(c.dir.join(l))?,
            None => Vec::new(),
        };
        let package_json = match m.setup.kind {
            SetupKind::Npm => read(c.dir.join("package.json"))?,
            _ => Vec::new(),
        };
        let key = install_key(c, &lock_text, &package_json, &runtime_version);
        Ok(Inputs {
            runtime_version,
            lockfile,
            lock_note,
            lock_text,
            package_json,
            key,
        })
    }
}

/// One locked cache entry and the paths the contender runs with from it.
struct Entry {
    /// `<cache>/<kind>/<name>-<key>`.
    dir: PathBuf,
    /// Held until the install is checked or built.
    _lock: CacheLock,
    in_use: super::cache::InUse,
    venv: PathBuf,
    /// A Node.js from bakeoff's cache (`--node`), when the runtime is one.
    node_home: Option<PathBuf>,
    /// Where the app runs: the contender directory, or a copy beside the
    /// install's `node_modules` for a cached Node.js.
    app_dir: PathBuf,
    /// The cached Node.js's `bin`, first on PATH for npm and node-gyp.
    runtime_dirs: Vec<PathBuf>,
    /// The `{python}` placeholder and the PATH prefix of [`Installed`].
    python: String,
    path_dirs: Vec<PathBuf>,
    /// Set on every installer command.
    install_env: Vec<(String, String)>,
}

impl Entry {
    /// Lock the entry for `key`: another bakeoff (or a parallel test) may be
    /// installing it, and `bakeoff cache prune` must leave it alone while in use.
    async fn lock(
        c: &Contender,
        key: &str,
        opts: &SetupOptions,
        cancel: &CancellationToken,
    ) -> Result<Entry, SetupError> {
        let m = &c.manifest;
        let io = |path: &Path| io_error(&m.name, path);
        let cache_dir = std::path::absolute(&opts.cache_dir).map_err(io(&opts.cache_dir))?;
        let dir = cache_dir.join(m.setup.kind.as_str()).join(format!(
            "{}-{}",
            c.install_name(),
            &key[..16]
        ));
        let lock = CacheLock::acquire(&dir, opts.install_timeout, cancel)
            .await
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::Interrupted => SetupError::Cancelled {
                    name: m.name.clone(),
                },
                _ => io(&dir)(source),
            })?;
        let mut in_use = super::cache::InUse::acquire(&dir).map_err(io(&dir))?;
        // The app runs from a copy beside its own node_modules, so that the
        // contender on PATH's node keeps its own.
        let node_home = match m.setup.kind {
            SetupKind::Npm => NodeRuntime::home_of(&m.runtime),
            _ => None,
        };
        if let Some(entry) = node_home.as_deref().and_then(NodeRuntime::entry_of) {
            in_use.also(&entry).map_err(io(&entry))?;
        }
        let app_dir = match &node_home {
            Some(_) => dir.join("app"),
            None => c.dir.clone(),
        };
        let venv = dir.join("venv");
        let runtime_dirs: Vec<PathBuf> = node_home.iter().map(|h| h.join("bin")).collect();
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
        // node-gyp builds native modules against the cached Node.js's headers.
        let install_env = node_home
            .iter()
            .map(|h| ("npm_config_nodedir".to_string(), h.display().to_string()))
            .collect();
        Ok(Entry {
            dir,
            _lock: lock,
            in_use,
            venv,
            node_home,
            app_dir,
            runtime_dirs,
            python,
            path_dirs,
            install_env,
        })
    }

    fn installer<'a>(
        &'a self,
        name: &'a str,
        log: &'a Path,
        opts: &SetupOptions,
        cancel: &'a CancellationToken,
    ) -> Installer<'a> {
        Installer {
            name,
            log,
            timeout: opts.install_timeout,
            cancel,
            env: &self.install_env,
        }
    }

    /// The entry's stamp: the one on disk when its key matches (and `--force`
    /// is off), completed if it predates the runtime and libraries record; else
    /// a fresh install's. True when the install was reused.
    async fn stamp(
        &self,
        c: &Contender,
        inputs: &Inputs,
        opts: &SetupOptions,
        cancel: &CancellationToken,
    ) -> Result<(Stamp, bool), SetupError> {
        let stamp_path = self.dir.join(STAMP);
        let found = std::fs::read(&stamp_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Stamp>(&b).ok())
            .filter(|s| s.key == inputs.key && !opts.force);
        let log = self.dir.join("install.log");
        let run = self.installer(&c.manifest.name, &log, opts, cancel);
        match found {
            // An older stamp: record the runtime and libraries now, from the install.
            Some(mut s) if s.libraries.is_none() => {
                let (detail, libs) = self.runtime_and_libraries(c, inputs, &run).await;
                s.runtime_detail = Some(detail.unwrap_or_else(|| s.runtime_version.clone()));
                s.libraries = Some(libs);
                let bytes = serde_json::to_vec_pretty(&s).unwrap_or_default();
                let _ = std::fs::write(&stamp_path, bytes);
                Ok((s, true))
            }
            Some(s) => Ok((s, true)),
            None => {
                let _ = std::fs::remove_dir_all(&self.dir);
                let io = |path: &Path| io_error(&c.manifest.name, path);
                std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
                let stamp = self.install(c, inputs, &run).await?;
                let bytes = serde_json::to_vec_pretty(&stamp).unwrap_or_default();
                std::fs::write(&stamp_path, bytes).map_err(io(&stamp_path))?;
                Ok((stamp, false))
            }
        }
    }

    /// Install into the (empty) entry, run the extra commands, and measure.
    async fn install(
        &self,
        c: &Contender,
        inputs: &Inputs,
        run: &Installer<'_>,
    ) -> Result<Stamp, SetupError> {
        let m = &c.manifest;
        let started = Instant::now();
        match m.setup.kind {
            SetupKind::Npm => install_npm(c, &self.dir, &self.runtime_dirs, run).await?,
            SetupKind::Pip => {
                let lock = c.dir.join(inputs.lockfile.clone().unwrap_or_default());
                install_pip(c, &lock, &self.venv, run).await?
            }
            SetupKind::None => {}
        }
        if m.setup.kind == SetupKind::Npm {
            if self.node_home.is_some() {
                copy_app(c, &self.app_dir)?;
            }
            link_node_modules(c, &self.app_dir, &self.dir)?;
        }
        for argv in &m.setup.commands {
            run.run(argv, &self.app_dir, &self.path_dirs).await?;
        }
        let install_secs = started.elapsed().as_secs_f64();
        let (detail, libs) = self.runtime_and_libraries(c, inputs, run).await;
        let mut stamp = measure(
            c,
            &self.dir,
            &self.venv,
            &inputs.lock_text,
            &inputs.package_json,
            &inputs.runtime_version,
            inputs.key.clone(),
            install_secs,
            run,
        )
        .await?;
        stamp.runtime_detail = Some(detail.unwrap_or_else(|| stamp.runtime_version.clone()));
        stamp.libraries = Some(libs);
        Ok(stamp)
    }

    /// The exact runtime and the direct dependencies' installed versions.
    async fn runtime_and_libraries(
        &self,
        c: &Contender,
        inputs: &Inputs,
        run: &Installer<'_>,
    ) -> (Option<String>, Vec<(String, String)>) {
        runtime_and_libraries(
            c,
            &self.dir,
            &self.venv,
            &inputs.lock_text,
            &inputs.package_json,
            run,
        )
        .await
    }
}

/// The run's record of the contender: its identity, the install's figures, and
/// the install's notes before the manifest's disclosures (so a variant's still
/// begin with its base's).
fn contender_info(c: &Contender, stamp: &Stamp, lock_note: Option<String>) -> ContenderInfo {
    let mut base = c.base_info();
    let notes: Vec<String> = runtime_note(&c.manifest, stamp)
        .into_iter()
        .chain(lock_note)
        .collect();
    base.disclosures.splice(0..0, notes);
    ContenderInfo {
        runtime_version: stamp.runtime_version.clone(),
        framework_version: stamp.framework_version.clone(),
        deps_direct: stamp.deps_direct,
        deps_total: stamp.deps_total,
        install_bytes: stamp.install_bytes,
        install_secs: stamp.install_secs,
        app_loc: footprint::app_loc(&c.dir),
        ..base
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
                "dependencies installed from {}, the default lockfile (setup.lockfile), for Python {}: setup.lockfiles has others only for {}",
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
    run: &Installer<'_>,
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
    run: &Installer<'_>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_versions_are_below_the_floors() {
        assert!(parse_version("v18.1.0").unwrap() < MIN_NODE);
        assert!(parse_version("Python 3.9.2").unwrap() < MIN_PYTHON);
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
                && note.contains("the default lockfile (setup.lockfile), for Python 3.10: setup.lockfiles has others only for 3.12"),
            "{note}"
        );
    }

    #[test]
    fn a_cache_that_is_a_file_is_named_with_its_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let e = writable_cache(&file).unwrap_err().to_string();
        assert!(e.contains("the install cache"), "{e}");
        assert!(
            e.contains("set BAKEOFF_CACHE_DIR to a writable directory"),
            "{e}"
        );
        writable_cache(&tmp.path().join("new/cache")).unwrap();
        assert!(tmp.path().join("new/cache").is_dir());
    }
}
