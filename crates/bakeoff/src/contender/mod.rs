//! Contenders: the manifest ([`manifest`]), where the reference ones are
//! ([`locate`]), discovery of a selection ([`discover`], and [`select`] for the
//! steps every command shares: the selection from a config, other runtimes, the
//! data), installs ([`setup`], giving an [`Installed`]) and their cache
//! ([`cache`]), the same contenders on other runtime versions ([`runtimes`], with
//! [`interpreters`], [`node_versions`], [`eol`], and [`version`] for version
//! lines), the generated data ([`datagen`]) and the supervisor that runs them
//! ([`supervisor`], with [`procs`] for process groups and [`logfile`] for the
//! log tails errors carry).
//!
//! Verifying the contract: [`verification`] starts one installed contender, runs
//! the endpoint checks of `workload::verify` and gives its verdict;
//! [`verify_stamps`] remembers which passed, so `bakeoff run` verifies again only
//! what changed. The `bakeoff verify` command runs both for a selection.
//!
//! The flow a command follows:
//!
//! ```no_run
//! # async fn f(results_dir: std::path::PathBuf, upstream_url: String) -> anyhow::Result<()> {
//! use bakeoff::contender::{select, setup, supervisor};
//! let cancel = tokio_util::sync::CancellationToken::new();
//! let config = select::SelectConfig {
//!     names: vec!["node-http".into()], // the reference contenders' directory is found
//!     results_dir: results_dir.clone(),
//!     ..Default::default()
//! };
//! let contenders = config.select(&|note| eprintln!("{note}"), &cancel).await?;
//! let opts = setup::SetupOptions::new(&results_dir, false);
//! let installed = setup::ensure(&contenders, &opts, &cancel).await?; // info: ContenderInfo
//! let data = select::generate_data(&results_dir).await?;
//! for inst in &installed {
//!     let env = supervisor::ContractEnv {
//!         sqlite: data.working_copy(inst.contender.name())?, // fresh per start
//!         data: data.csv.clone(),
//!         upstream: upstream_url.clone(),
//!         log_dir: results_dir.join("logs"),
//!         database_url: None, // or the PostgreSQL server's URL
//!     };
//!     let spec = supervisor::SpawnSpec::new(inst, 2, &env); // 2 workers
//!     let running = supervisor::Running::start(&spec, &cancel).await?;
//!     let (_url, _pids, _t) = (running.base_url(), running.pids(), running.startup_time());
//!     running.stop().await;
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::{ContenderInfo, VariantInfo};

pub mod cache;
pub mod datagen;
pub mod eol;
pub mod footprint;
pub mod interpreters;
pub mod locate;
pub mod logfile;
pub mod manifest;
pub mod node_versions;
pub mod procs;
pub mod runtimes;
pub mod select;
pub mod setup;
pub mod supervisor;
pub mod verification;
pub mod verify_stamps;
pub mod version;

pub use locate::ContendersDir;
pub use manifest::{Manifest, ManifestError, SetupKind};

/// The manifest file name inside a contender directory.
pub const MANIFEST: &str = "bakeoff.toml";

/// One contender: its directory and its validated manifest. A variant
/// (`<base>@<variant>`) is a contender too: its manifest is the base's with the
/// variant's command and disclosures merged in, and its name is `base@variant`.
#[derive(Debug, Clone, PartialEq)]
pub struct Contender {
    /// Absolute path of the contender directory.
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Environment overrides passed to the process (a variant's `env`).
    pub env: BTreeMap<String, String>,
    /// Set when this contender is a `[[variants]]` entry of another.
    pub variant: Option<VariantOf>,
}

/// Which variant of which contender a [`Contender`] is.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantOf {
    /// The base contender's name, e.g. `python-flask`.
    pub base: String,
    /// The variant's name, e.g. `sync`.
    pub name: String,
    pub description: String,
    /// The variant's `keep_alive` override, if any (the manifest's otherwise).
    pub keep_alive: Option<bool>,
}

impl Contender {
    /// The manifest's unsupported endpoints, plus the database endpoints when
    /// the contender does not declare `database` in its `databases`.
    pub fn unsupported_on(
        &self,
        database: crate::database::Database,
    ) -> BTreeMap<crate::model::Endpoint, String> {
        let mut out = self.manifest.unsupported.clone();
        if let Some(why) = self.database_unsupported(database) {
            let db_endpoints = crate::workload::Workload::ALL
                .into_iter()
                .filter(|w| w.uses_database())
                .flat_map(|w| w.endpoints().iter());
            for ep in db_endpoints {
                out.entry(*ep).or_insert_with(|| why.clone());
            }
        }
        out
    }

    /// The scenario (requests and sessions) of each of its own workloads
    /// (`[[workloads]]`) by name, read from their files; their paths are
    /// relative to the contender's base URL, their `target` unused.
    pub fn custom_scenarios(
        &self,
    ) -> Result<BTreeMap<String, crate::scenario::Scenario>, crate::scenario::ScenarioError> {
        self.manifest
            .workloads
            .iter()
            .map(|w| {
                let scenario = crate::scenario::load(&self.dir.join(&w.scenario))?;
                Ok((w.name.clone(), scenario))
            })
            .collect()
    }

    /// Why the database workloads cannot run on `database`, if they cannot:
    /// the manifest's `databases` does not declare it.
    pub fn database_unsupported(&self, database: crate::database::Database) -> Option<String> {
        (!self.manifest.databases.contains(&database)).then(|| {
            format!(
                "{} does not declare `{database}` in its manifest's `databases`",
                self.name()
            )
        })
    }

    /// Load `<dir>/bakeoff.toml`.
    pub fn load(dir: &Path) -> Result<Contender, ContenderError> {
        let dir = std::path::absolute(dir).map_err(|source| ContenderError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let manifest = manifest::load(&dir.join(MANIFEST))?;
        Ok(Contender {
            dir,
            manifest,
            env: BTreeMap::new(),
            variant: None,
        })
    }

    /// `base@variant` for a variant.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The contender whose install this one uses: the base of a variant, else itself.
    pub fn install_name(&self) -> &str {
        self.variant
            .as_ref()
            .map_or(self.manifest.name.as_str(), |v| v.base.as_str())
    }

    /// The variant `name` of this contender: the base's manifest with the
    /// variant's command, environment and disclosures (appended to the base's).
    pub fn variant(&self, name: &str) -> Result<Contender, ContenderError> {
        let m = &self.manifest;
        let Some(v) = m.variants.iter().find(|v| v.name == name) else {
            let names: Vec<&str> = m.variants.iter().map(|v| v.name.as_str()).collect();
            return Err(ContenderError::UnknownVariant {
                name: format!("{}@{name}", m.name),
                manifest: self.dir.join(MANIFEST),
                available: if names.is_empty() {
                    "none (add [[variants]] to its bakeoff.toml)".into()
                } else {
                    names
                        .iter()
                        .map(|n| format!("{}@{n}", m.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            });
        };
        let mut out = self.clone();
        out.manifest.name = format!("{}@{}", m.name, v.name);
        if let Some(command) = &v.command {
            out.manifest.start.command = command.clone();
        }
        out.manifest
            .disclosures
            .extend(v.disclosures.iter().cloned());
        out.manifest.variants.clear();
        out.manifest.keep_alive = v.keep_alive.unwrap_or(m.keep_alive);
        out.env.extend(v.env.clone());
        out.variant = Some(VariantOf {
            base: m.name.clone(),
            name: v.name.clone(),
            description: v.description.clone(),
            keep_alive: v.keep_alive,
        });
        Ok(out)
    }

    /// The identity part of [`ContenderInfo`]; setup fills in the measured footprint.
    pub fn base_info(&self) -> ContenderInfo {
        let m = &self.manifest;
        ContenderInfo {
            name: m.name.clone(),
            language: crate::model::Language::from_name(&m.language),
            runtime: m.runtime.clone(),
            framework: m.framework.clone(),
            server: m.server.clone(),
            unsupported: m.unsupported.clone(),
            disclosures: m.disclosures.clone(),
            variant: self.variant.as_ref().map(|v| VariantInfo {
                of: v.base.clone(),
                name: v.name.clone(),
                description: v.description.clone(),
            }),
            ..ContenderInfo::default()
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
    pub in_use: Option<std::sync::Arc<cache::InUse>>,
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
    #[error(
        "unknown contender `{name}`: bakeoff looked in {dir} and found {found}; {HOW_TO_POINT}"
    )]
    Unknown {
        name: String,
        dir: ContendersDir,
        found: String,
    },
    #[error("unknown variant `{name}` ({manifest} declares no such [[variants]] name); available: {available}", manifest = .manifest.display())]
    UnknownVariant {
        name: String,
        manifest: PathBuf,
        available: String,
    },
    #[error("`{name}` names a variant of `{base}`, but bakeoff looked for `{base}` in {dir} and found {found}; {HOW_TO_POINT}")]
    VariantOfMissing {
        name: String,
        base: String,
        dir: ContendersDir,
        found: String,
    },
    #[error("`{name}` is selected twice; name each contender (and each variant) once")]
    SelectedTwice { name: String },
    #[error("no contenders directory to look names up in; {HOW_TO_POINT}")]
    NoDir,
    #[error("no contenders found in {dir}: {found}; {HOW_TO_POINT}")]
    NoneFound { dir: ContendersDir, found: String },
    #[error("contender name `{name}` is used by both {a} and {b}; names must be unique (change `name` in one bakeoff.toml)", a = .a.display(), b = .b.display())]
    Duplicate {
        name: String,
        a: PathBuf,
        b: PathBuf,
    },
}

/// How to point bakeoff at other contenders; the end of every lookup error.
const HOW_TO_POINT: &str = "pass --contenders-dir DIR (or set BAKEOFF_CONTENDERS_DIR) for bakeoff's reference contenders elsewhere, or --contender PATH for an app with its own bakeoff.toml";

/// Which contenders a command acts on: names from the reference directory and
/// paths of the user's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Names in [`Selection::dir`], each optionally `name@variant`.
    pub names: Vec<String>,
    /// Contender directories (or their bakeoff.toml), each optionally `PATH@variant`.
    pub paths: Vec<PathBuf>,
    /// The reference contenders' directory ([`locate::resolve`]); consulted only
    /// for names, or when neither names nor paths are given.
    pub dir: Option<ContendersDir>,
}

/// The contenders a selection names: each name from the contenders directory,
/// then each path; all of the contenders directory when neither is given.
pub fn discover(sel: &Selection) -> Result<Vec<Contender>, ContenderError> {
    // (directory, variant name)
    let mut dirs: Vec<(PathBuf, Option<String>)> = Vec::new();
    let needs_dir = !sel.names.is_empty() || sel.paths.is_empty();
    let sel_dir = match &sel.dir {
        Some(d) => d.clone(),
        None if needs_dir => return Err(ContenderError::NoDir),
        // Only paths: the directory is never consulted.
        None => ContendersDir::given(""),
    };
    let root = sel_dir.path.as_path();
    if sel.names.is_empty() && sel.paths.is_empty() {
        dirs = available(root)?.into_iter().map(|d| (d, None)).collect();
        if dirs.is_empty() {
            return Err(ContenderError::NoneFound {
                dir: sel_dir.clone(),
                found: found_in(root),
            });
        }
    }
    for selected in &sel.names {
        let (name, variant) = match selected.split_once('@') {
            Some((base, v)) => (base, Some(v.to_string())),
            None => (selected.as_str(), None),
        };
        let dir = root.join(name);
        let plain = !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..";
        if !plain || !dir.join(MANIFEST).is_file() {
            let found = found_in(root);
            return Err(match variant {
                Some(_) => ContenderError::VariantOfMissing {
                    name: selected.clone(),
                    base: name.to_string(),
                    dir: sel_dir.clone(),
                    found,
                },
                None => ContenderError::Unknown {
                    name: name.to_string(),
                    dir: sel_dir.clone(),
                    found,
                },
            });
        }
        dirs.push((dir, variant));
    }
    for path in &sel.paths {
        // `PATH@variant` selects a variant, unless PATH itself exists with an '@'.
        let (path, variant) = match path.to_str().and_then(|s| s.rsplit_once('@')) {
            Some((p, v)) if !path.exists() => (PathBuf::from(p), Some(v.to_string())),
            _ => (path.clone(), None),
        };
        // Accept the directory or its bakeoff.toml.
        let dir = if path.file_name().is_some_and(|n| n == MANIFEST) {
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            path
        };
        dirs.push((dir, variant));
    }
    let mut out: Vec<Contender> = Vec::new();
    for (dir, variant) in dirs {
        let mut c = Contender::load(&dir)?;
        if let Some(v) = variant {
            c = c.variant(&v)?;
        }
        if let Some(prev) = out.iter().find(|p| p.name() == c.name()) {
            if prev.dir == c.dir && c.variant.is_some() {
                return Err(ContenderError::SelectedTwice {
                    name: c.name().to_string(),
                });
            }
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

/// Sub-directories of `dir` holding a bakeoff.toml, sorted by name; none when
/// `dir` does not exist.
fn available(dir: &Path) -> Result<Vec<PathBuf>, ContenderError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ContenderError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST).is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// What a contenders directory holds, for an error: its contenders, or why it
/// has none (missing, empty, or foreign: entries but no `*/bakeoff.toml`).
fn found_in(dir: &Path) -> String {
    let names = |paths: Vec<PathBuf>| -> Vec<String> {
        paths
            .iter()
            .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect()
    };
    match available(dir) {
        Ok(c) if !c.is_empty() => return format!("these contenders: {}", names(c).join(", ")),
        Err(e) => return format!("nothing readable ({e})"),
        Ok(_) => {}
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return "no such directory".into();
    };
    let mut other: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if other.is_empty() {
        return "an empty directory".into();
    }
    other.sort();
    let shown = other.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    let more = if other.len() > 5 { ", …" } else { "" };
    let n = other.len();
    let entries = if n == 1 { "entry" } else { "entries" };
    format!(
        "no contender in it (no */bakeoff.toml among its {n} {entries}: {shown}{more}); it is not a contenders directory"
    )
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod layout_tests;

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped reference contenders.
    fn reference() -> ContendersDir {
        ContendersDir::given(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contenders"))
    }

    fn select(names: &[&str]) -> Result<Vec<Contender>, ContenderError> {
        discover(&Selection {
            names: names.iter().map(|s| s.to_string()).collect(),
            paths: Vec::new(),
            dir: Some(reference()),
        })
    }

    #[test]
    fn a_variant_is_its_own_contender_on_its_base_install() {
        let both = select(&["python-flask", "python-flask@sync"]).unwrap();
        let (base, sync) = (&both[0], &both[1]);
        assert_eq!(sync.name(), "python-flask@sync");
        assert_eq!(sync.install_name(), "python-flask");
        assert_eq!(base.install_name(), "python-flask");
        assert_eq!(sync.dir, base.dir);
        assert_eq!(sync.env["WORKER_CLASS"], "sync");
        assert!(base.env.is_empty() && base.variant.is_none());
        let v = sync.variant.as_ref().unwrap();
        assert_eq!((v.base.as_str(), v.name.as_str()), ("python-flask", "sync"));
        assert_eq!(v.keep_alive, Some(false));
        // The base's disclosures, then the variant's own.
        let n = base.manifest.disclosures.len();
        assert_eq!(
            sync.manifest.disclosures[..n],
            base.manifest.disclosures[..]
        );
        assert!(sync.manifest.disclosures.len() > n);
        let info = sync.base_info();
        assert_eq!(info.name, "python-flask@sync");
        assert_eq!(info.variant.as_ref().unwrap().of, "python-flask");
        assert!(info
            .label()
            .starts_with("python-flask@sync — variant of python-flask: "));
        assert_eq!(base.base_info().variant, None);
    }

    #[test]
    fn every_shipped_variant_resolves() {
        for name in [
            "python-flask@sync",
            "python-django@sync",
            "python-fastapi@orm",
            "python-fastapi@aiohttp",
            "node-express@defaults",
        ] {
            let c = select(&[name]).unwrap();
            assert_eq!(c[0].name(), name);
            assert!(!c[0].env.is_empty(), "{name} sets its switch");
        }
    }

    #[test]
    fn an_unknown_variant_lists_the_available_ones() {
        let msg = select(&["python-flask@gthread"]).unwrap_err().to_string();
        assert!(
            msg.contains("unknown variant `python-flask@gthread`")
                && msg.contains("bakeoff.toml")
                && msg.contains("available: python-flask@sync"),
            "{msg}"
        );
        let msg = select(&["node-http@x"]).unwrap_err().to_string();
        assert!(msg.contains("available: node-http@v8-pool-1"), "{msg}");
        // An app without variants says how to add one.
        let app = tempfile::tempdir().unwrap();
        let manifest =
            std::fs::read_to_string(reference().path.join("node-http/bakeoff.toml")).unwrap();
        let without = manifest.split("\n[[variants]]").next().unwrap();
        std::fs::write(app.path().join("bakeoff.toml"), without).unwrap();
        for file in ["package.json", "package-lock.json"] {
            let from = reference().path.join("node-http").join(file);
            std::fs::copy(from, app.path().join(file)).unwrap();
        }
        let msg = discover(&Selection {
            names: Vec::new(),
            paths: vec![PathBuf::from(format!("{}@x", app.path().display()))],
            dir: Some(reference()),
        })
        .unwrap_err()
        .to_string();
        assert!(msg.contains("available: none (add [[variants]]"), "{msg}");
    }

    #[test]
    fn a_variant_of_a_missing_contender_names_the_base() {
        let msg = select(&["python-nope@sync"]).unwrap_err().to_string();
        assert!(
            msg.contains("`python-nope@sync` names a variant of `python-nope`")
                && msg.contains("looked for `python-nope`")
                && msg.contains("python-flask"),
            "{msg}"
        );
        let msg = select(&["@sync"]).unwrap_err().to_string();
        assert!(msg.contains("looked for ``"), "{msg}");
    }

    /// An install record for spawn-spec tests (nothing is installed).
    fn installed(c: &Contender) -> Installed {
        Installed {
            contender: c.clone(),
            info: c.base_info(),
            python: "python3".into(),
            path_dirs: Vec::new(),
            cached: true,
            in_use: None,
        }
    }

    #[test]
    fn the_variant_env_reaches_the_process_and_its_own_verification_key() {
        use super::datagen::{DataFiles, DataSpec};
        use super::supervisor::{ContractEnv, SpawnSpec};
        let both = select(&["python-flask", "python-flask@sync"]).unwrap();
        let env = ContractEnv {
            sqlite: "/d/db.sqlite".into(),
            data: "/d/data.csv".into(),
            upstream: "http://127.0.0.1:9".into(),
            log_dir: "/d/logs".into(),
            database_url: None,
        };
        let base = SpawnSpec::new(&installed(&both[0]), 1, &env);
        let sync = SpawnSpec::new(&installed(&both[1]), 1, &env);
        let has = |s: &SpawnSpec| {
            s.env
                .iter()
                .any(|(k, v)| k == "WORKER_CLASS" && v == "sync")
        };
        assert!(has(&sync) && !has(&base), "{:?}", sync.env);
        assert!(sync.env.iter().any(|(k, _)| k == "BAKEOFF_SQLITE"));
        assert_eq!(sync.name, "python-flask@sync");
        let data = DataFiles {
            dir: "/d".into(),
            sqlite: "/d/db.sqlite".into(),
            csv: "/d/data.csv".into(),
            spec: DataSpec::default(),
        };
        assert_ne!(
            verify_stamps::key(&installed(&both[0]), &data),
            verify_stamps::key(&installed(&both[1]), &data)
        );
    }

    #[test]
    fn only_a_postgres_contender_gets_the_url_and_its_pool() {
        use super::supervisor::{ContractEnv, SpawnSpec};
        use crate::database::{pool_size, Database, POOL_VAR, URL_VAR};
        let mut c = select(&["node-http"]).unwrap().remove(0);
        c.manifest.databases = vec![Database::Sqlite];
        let env = ContractEnv {
            sqlite: "/d/db.sqlite".into(),
            data: "/d/data.csv".into(),
            upstream: "http://127.0.0.1:9".into(),
            log_dir: "/d/logs".into(),
            database_url: Some(crate::database::url(5999)),
        };
        let get = |s: &SpawnSpec, k: &str| {
            s.env
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
        };
        let sqlite_only = SpawnSpec::new(&installed(&c), 4, &env);
        assert_eq!(get(&sqlite_only, URL_VAR), None);
        c.manifest.databases.push(Database::Postgres);
        let both = SpawnSpec::new(&installed(&c), 4, &env);
        assert_eq!(get(&both, URL_VAR), env.database_url);
        assert_eq!(get(&both, POOL_VAR), Some(pool_size(4).to_string()));
        assert!(get(&both, "BAKEOFF_SQLITE").is_some());
    }

    #[test]
    fn selecting_a_variant_twice_is_refused() {
        let msg = select(&["python-flask@sync", "python-flask@sync"])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("`python-flask@sync` is selected twice"),
            "{msg}"
        );
    }

    #[test]
    fn a_path_may_select_a_variant() {
        let dir = reference().path.join("python-flask");
        let c = discover(&Selection {
            names: Vec::new(),
            paths: vec![PathBuf::from(format!("{}@sync", dir.display()))],
            dir: Some(reference()),
        })
        .unwrap();
        assert_eq!(c[0].name(), "python-flask@sync");
    }
}
