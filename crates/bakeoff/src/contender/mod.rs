//! Contenders: the manifest ([`manifest`]), discovery from the command line
//! ([`discover`]), installs ([`setup`]), the generated data ([`datagen`]) and the
//! supervisor that runs them ([`supervisor`], with [`procs`] for process groups).
//! [`check`] ties them to the contract verifier.
//!
//! The flow a command follows:
//!
//! ```no_run
//! # async fn f(args: bakeoff::cli::ContenderArgs, upstream_url: String) -> anyhow::Result<()> {
//! use bakeoff::contender::{self, datagen, setup, supervisor};
//! let cancel = tokio_util::sync::CancellationToken::new();
//! let contenders = contender::discover(&args)?;
//! let opts = setup::SetupOptions::new(&args.results_dir, false);
//! let installed = setup::ensure(&contenders, &opts, &cancel).await?; // info: ContenderInfo
//! let data = datagen::ensure(&args.results_dir)?;
//! for inst in &installed {
//!     let env = supervisor::ContractEnv {
//!         sqlite: data.working_copy(inst.contender.name())?, // fresh per start
//!         data: data.csv.clone(),
//!         upstream: upstream_url.clone(),
//!         log_dir: args.results_dir.join("logs"),
//!     };
//!     let spec = supervisor::SpawnSpec::new(inst, 2, &env); // 2 workers
//!     let running = supervisor::Running::start(&spec, &cancel).await?;
//!     let (_url, _pids, _t) = (running.base_url(), running.pids(), running.startup_time());
//!     running.stop().await;
//! }
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use crate::cli::ContenderArgs;
use crate::model::ContenderInfo;

pub mod check;
pub mod datagen;
pub mod footprint;
pub mod interpreters;
pub mod manifest;
pub mod procs;
pub mod setup;
pub mod supervisor;
pub mod verified;

pub use manifest::{Manifest, ManifestError, SetupKind};

/// The manifest file name inside a contender directory.
pub const MANIFEST: &str = "bakeoff.toml";

/// One contender: its directory and its validated manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Contender {
    /// Absolute path of the contender directory.
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Contender {
    /// Load `<dir>/bakeoff.toml`.
    pub fn load(dir: &Path) -> Result<Contender, ContenderError> {
        let dir = std::path::absolute(dir).map_err(|source| ContenderError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let manifest = manifest::load(&dir.join(MANIFEST))?;
        Ok(Contender { dir, manifest })
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The identity part of [`ContenderInfo`]; setup fills in the measured footprint.
    pub fn base_info(&self) -> ContenderInfo {
        let m = &self.manifest;
        ContenderInfo {
            name: m.name.clone(),
            language: m.language.clone(),
            runtime: m.runtime.clone(),
            framework: m.framework.clone(),
            server: m.server.clone(),
            unsupported: m.unsupported.clone(),
            disclosures: m.disclosures.clone(),
            ..ContenderInfo::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ContenderError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("unknown contender `{name}` in {dir}; available: {available}", dir = .dir.display())]
    Unknown {
        name: String,
        dir: PathBuf,
        available: String,
    },
    #[error("no contenders found in {dir} (no */bakeoff.toml); pass --contenders-dir DIR or --contender PATH", dir = .dir.display())]
    NoneFound { dir: PathBuf },
    #[error("contender name `{name}` is used by both {a} and {b}; names must be unique (change `name` in one bakeoff.toml)", a = .a.display(), b = .b.display())]
    Duplicate {
        name: String,
        a: PathBuf,
        b: PathBuf,
    },
}

/// The contenders the command line selects: each `--contenders` name from the
/// contenders directory, then each `--contender PATH`; all of the contenders
/// directory when neither is given.
pub fn discover(args: &ContenderArgs) -> Result<Vec<Contender>, ContenderError> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if args.contenders.is_empty() && args.contender_paths.is_empty() {
        dirs = available(&args.contenders_dir)?;
        if dirs.is_empty() {
            return Err(ContenderError::NoneFound {
                dir: args.contenders_dir.clone(),
            });
        }
    }
    for name in &args.contenders {
        let dir = args.contenders_dir.join(name);
        let plain = !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..";
        if !plain || !dir.join(MANIFEST).is_file() {
            let names: Vec<String> = available(&args.contenders_dir)
                .unwrap_or_default()
                .iter()
                .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            return Err(ContenderError::Unknown {
                name: name.clone(),
                dir: args.contenders_dir.clone(),
                available: if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
            });
        }
        dirs.push(dir);
    }
    for path in &args.contender_paths {
        // Accept the directory or its bakeoff.toml.
        let dir = if path.file_name().is_some_and(|n| n == MANIFEST) {
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            path.clone()
        };
        dirs.push(dir);
    }
    let mut out: Vec<Contender> = Vec::new();
    for dir in dirs {
        let c = Contender::load(&dir)?;
        if let Some(prev) = out.iter().find(|p| p.name() == c.name()) {
            return Err(ContenderError::Duplicate {
                name: c.name().to_string(),
                a: prev.dir.clone(),
                b: c.dir.clone(),
            });
        }
        out.push(c);
    }
    Ok(out)
}

/// Sub-directories of `dir` holding a bakeoff.toml, sorted by name.
fn available(dir: &Path) -> Result<Vec<PathBuf>, ContenderError> {
    let entries = std::fs::read_dir(dir).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ContenderError::NoneFound {
            dir: dir.to_path_buf(),
        },
        _ => ContenderError::Io {
            path: dir.to_path_buf(),
            source,
        },
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST).is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}
