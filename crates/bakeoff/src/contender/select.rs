//! The steps every command that installs or starts contenders takes first
//! (`bakeoff setup`, `verify`, `run`): find the reference contenders' directory,
//! discover the selection, add the same contenders on the other runtimes asked
//! for ([`super::runtimes`]), and generate the data ([`super::datagen`]). The CLI
//! fills a [`SelectConfig`] from its flags; nothing here knows about them.

use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::datagen::{self, DataError, DataFiles};
use super::locate::{self, ContendersDir, LocateError};
use super::node_versions;
use super::runtimes::{self, RuntimeAxis, RuntimeError};
use super::{Contender, ContenderError, Selection};

/// Which contenders a command works on, and where its results go.
#[derive(Debug, Clone, Default)]
pub struct SelectConfig {
    /// Reference contenders by name, each optionally `name@variant`.
    pub names: Vec<String>,
    /// Contender directories, each optionally `PATH@variant`.
    pub paths: Vec<PathBuf>,
    /// The reference contenders' directory; None: the clone's `./contenders`,
    /// else the built-in copy ([`locate::resolve`]).
    pub contenders_dir: Option<PathBuf>,
    /// The other Python and Node.js runtimes to add the contenders on.
    pub runtimes: RuntimeAxis,
    /// Where the data, the logs and (without `$BAKEOFF_CACHE_DIR`) the cache go.
    pub results_dir: PathBuf,
}

/// Why the contenders could not be selected.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The reference contenders' directory could not be found or unpacked.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// A name, path or manifest of the selection is wrong (bad input).
    #[error(transparent)]
    Contender(#[from] ContenderError),
    /// A runtime asked for is not available (bad input), or its install was cancelled.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A directory given to measure a stored run's contenders again holds none of them.
    #[error("--contender {path}: `{name}` is not a contender of run {run}, whose contenders are {names}", path = .path.display())]
    NotInRun {
        path: PathBuf,
        name: String,
        run: i64,
        names: String,
    },
}

impl SelectError {
    /// True when the input (a name, a path, a manifest, a runtime) is at fault:
    /// not when the system failed to read or write something that exists (an
    /// I/O error other than a missing file, kept as the source). A missing
    /// file is a wrong path: the user's.
    pub fn is_input(&self) -> bool {
        match self {
            SelectError::Locate(_) => false,
            SelectError::Contender(e) => !system_failure(e),
            SelectError::Runtime(e) => !e.is_cancelled() && !system_failure(e),
            SelectError::NotInRun { .. } => true,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self, SelectError::Runtime(e) if e.is_cancelled())
    }
}

/// An I/O error other than "not found" in `e`'s chain.
fn system_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if io.kind() != std::io::ErrorKind::NotFound {
                return true;
            }
        }
        cause = c.source();
    }
    false
}

impl SelectConfig {
    /// The reference contenders' directory: the configured one, else the
    /// clone's `./contenders`, else the built-in copy.
    pub fn contenders_dir(&self) -> Result<ContendersDir, LocateError> {
        // A deleted working directory only rules out the clone's copy.
        let cwd = std::env::current_dir().unwrap_or_default();
        locate::resolve(
            self.contenders_dir.as_deref(),
            &cwd,
            locate::data_dir().as_deref(),
        )
    }

    /// The selected contenders, on the runtimes on PATH only.
    pub fn discover(&self) -> Result<Vec<Contender>, SelectError> {
        // Only paths: no reference contender is needed, so nothing is unpacked.
        let needs_dir = !self.names.is_empty() || self.paths.is_empty();
        let selection = Selection {
            names: self.names.clone(),
            paths: self.paths.clone(),
            dir: match needs_dir {
                true => Some(self.contenders_dir()?),
                false => None,
            },
        };
        Ok(super::discover(&selection)?)
    }

    /// The selection that measures run `run`'s `contenders` (stored by name)
    /// again: those that `paths` hold (a user's directories, as `run` takes
    /// them) from there, the others by name from the reference directory.
    /// A path holding none of them is refused: it was not in the run.
    pub fn remeasure(&self, run: i64, contenders: &[String]) -> Result<SelectConfig, SelectError> {
        let given = match self.paths.is_empty() {
            // No names and no paths would discover every reference contender.
            true => Vec::new(),
            false => SelectConfig {
                names: Vec::new(),
                ..self.clone()
            }
            .discover()?,
        };
        if let Some(c) = given
            .iter()
            .find(|c| !contenders.iter().any(|n| n == c.name()))
        {
            return Err(SelectError::NotInRun {
                path: c.dir.clone(),
                name: c.name().to_string(),
                run,
                names: contenders.join(", "),
            });
        }
        Ok(SelectConfig {
            names: contenders
                .iter()
                .filter(|n| !given.iter().any(|c| c.name() == n.as_str()))
                .cloned()
                .collect(),
            ..self.clone()
        })
    }

    /// The selection plus the same contenders on the other runtimes; Node.js
    /// releases are installed into the cache first, and `notify` is told so.
    pub async fn select(
        &self,
        notify: &dyn Fn(&str),
        cancel: &CancellationToken,
    ) -> Result<Vec<Contender>, SelectError> {
        let contenders = self.discover()?;
        let axis = &self.runtimes;
        // A bad --node value is refused before "installing" is announced.
        for spec in &axis.node {
            node_versions::parse_spec(spec).map_err(RuntimeError::Node)?;
        }
        if !axis.node.is_empty() {
            notify(&format!(
                "Node.js {}: installing from the npm registry where not cached …",
                axis.node.join(", ")
            ));
        }
        let cache = super::cache::default_dir(&self.results_dir);
        Ok(runtimes::expand(contenders, axis, &cache, cancel).await?)
    }
}

/// [`datagen::ensure`] off the async runtime's threads: the first generation
/// writes a database and a dataset.
pub async fn generate_data(results_dir: &Path) -> Result<DataFiles, DataError> {
    let dir = results_dir.to_path_buf();
    match tokio::task::spawn_blocking(move || datagen::ensure(&dir)).await {
        Ok(result) => result,
        // A panic in the generator is a bug: it stays a panic.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_failures_are_the_systems_and_bad_input_the_users() {
        use crate::contender::node_versions::NodeError;
        let denied = SelectError::Contender(ContenderError::Io {
            path: "/x/bakeoff.toml".into(),
            source: std::io::ErrorKind::PermissionDenied.into(),
        });
        assert!(!denied.is_input(), "{denied}");
        let missing = SelectError::Contender(ContenderError::Io {
            path: "/x".into(),
            source: std::io::ErrorKind::NotFound.into(),
        });
        assert!(missing.is_input());
        let twice = SelectError::Contender(ContenderError::SelectedTwice { name: "a".into() });
        assert!(twice.is_input());
        let disk = SelectError::Runtime(RuntimeError::Node(NodeError::Io {
            spec: "22".into(),
            path: "/cache/node".into(),
            source: std::io::Error::other("disk full"),
        }));
        assert!(!disk.is_input());
        let bad = SelectError::Runtime(RuntimeError::Node(NodeError::BadSpec { spec: "x".into() }));
        assert!(bad.is_input());
    }

    fn reference() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contenders")
    }

    /// The names of what `cfg` selects.
    fn discovered(cfg: &SelectConfig) -> Vec<String> {
        let found = cfg.discover().unwrap();
        found.iter().map(|c| c.name().to_string()).collect()
    }

    #[test]
    fn a_config_discovers_names_and_paths() {
        let cfg = SelectConfig {
            names: vec!["node-http".into()],
            paths: vec![reference().join("python-flask")],
            contenders_dir: Some(reference()),
            ..SelectConfig::default()
        };
        assert_eq!(discovered(&cfg), ["node-http", "python-flask"]);
    }

    #[test]
    fn an_unknown_name_is_an_input_error_and_not_a_cancellation() {
        let cfg = SelectConfig {
            names: vec!["no-such-contender".into()],
            contenders_dir: Some(reference()),
            ..SelectConfig::default()
        };
        let e = cfg.discover().unwrap_err();
        assert!(e.is_input() && !e.is_cancelled(), "{e}");
        assert!(e.to_string().contains("no-such-contender"), "{e}");
    }

    #[tokio::test]
    async fn a_bad_node_major_is_refused_before_any_install_is_announced() {
        let cfg = SelectConfig {
            names: vec!["node-http".into()],
            contenders_dir: Some(reference()),
            runtimes: RuntimeAxis {
                node: vec!["24".into(), "3".into()],
                ..RuntimeAxis::default()
            },
            results_dir: std::env::temp_dir(),
            ..SelectConfig::default()
        };
        let said = std::sync::Mutex::new(Vec::<String>::new());
        let notify = |m: &str| said.lock().unwrap().push(m.to_string());
        let e = cfg
            .select(&notify, &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(e.is_input() && e.to_string().contains("--node 3"), "{e}");
        let said = said.lock().unwrap();
        assert!(said.is_empty(), "{said:?}");
    }

    #[test]
    fn a_remeasure_takes_the_given_directories_and_the_rest_by_name() {
        let flask = reference().join("python-flask");
        let flask_sync = PathBuf::from(format!("{}@sync", flask.display()));
        let cfg = SelectConfig {
            paths: vec![flask.clone(), flask_sync],
            contenders_dir: Some(reference()),
            ..SelectConfig::default()
        };
        let run: Vec<String> = ["node-http", "python-flask", "python-flask@sync"]
            .map(String::from)
            .into();
        let again = cfg.remeasure(7, &run).unwrap();
        assert_eq!(again.names, ["node-http"]);
        assert_eq!(again.paths, cfg.paths);
        assert_eq!(
            discovered(&again),
            ["node-http", "python-flask", "python-flask@sync"]
        );

        // Without paths, the names as they are.
        let by_name = SelectConfig::default().remeasure(7, &run).unwrap();
        assert_eq!(by_name.names, run);

        // A directory of a contender the run did not measure is refused.
        let other = SelectConfig {
            paths: vec![flask],
            ..SelectConfig::default()
        };
        let e = other.remeasure(7, &run[..1]).unwrap_err();
        assert!(e.is_input(), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("`python-flask` is not a contender of run 7") && msg.contains("node-http"),
            "{msg}"
        );
    }
}
