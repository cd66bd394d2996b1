//! `bakeoff setup`: install the selected contenders from their lockfiles, generate
//! the data, and print the recorded footprint of each.

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::cli::{ContenderArgs, RuntimeArgs, SetupArgs};
use crate::contender::setup::{self, SetupError, SetupOptions};
use crate::contender::{self, datagen, locate, Contender, ContendersDir, Selection};
use crate::{InputError, Interrupted};

pub async fn execute(args: SetupArgs, cancel: CancellationToken) -> Result<u8> {
    let results_dir = args.contenders.results_dir.clone();
    let contenders = with_runtimes(
        discover(&args.contenders)?,
        &args.runtimes,
        &results_dir,
        false,
        &cancel,
    )
    .await?;
    eprintln!(
        "generating the data in {}",
        results_dir.join("data").display()
    );
    let data = generate_data(&results_dir).await?;
    eprintln!("  {} and {}", data.sqlite.display(), data.csv.display());
    if args.database.database() == crate::database::Database::Postgres {
        // Init and seed now, so the first run only starts the server.
        let max_workers = contenders
            .iter()
            .map(|c| c.manifest.workers.default)
            .max()
            .unwrap_or(1);
        let pg =
            super::run::start_postgres(&results_dir, &data, max_workers, None, &cancel).await?;
        eprintln!(
            "PostgreSQL: {} ({})",
            pg.description(),
            if pg.server.reused() {
                "reused: the seed is unchanged"
            } else {
                "initialized and seeded"
            }
        );
        pg.server.stop().await.context("stopping PostgreSQL")?;
    }
    let opts = SetupOptions::new(&results_dir, args.force);
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for c in &contenders {
        eprintln!(
            "{}: installing ({}) …",
            c.name(),
            c.manifest.setup.kind.as_str()
        );
        match setup::ensure_one(c, &opts, &cancel).await {
            Ok(inst) => {
                eprintln!(
                    "{}: {}",
                    c.name(),
                    if inst.cached {
                        "unchanged, skipped"
                    } else {
                        "installed"
                    }
                );
                let i = &inst.info;
                rows.push(vec![
                    i.name.clone(),
                    // A cached runtime's path is long; its version says which it is.
                    format!(
                        "{} {}",
                        std::path::Path::new(&i.runtime)
                            .file_name()
                            .map_or(i.runtime.clone(), |n| n.to_string_lossy().into_owned()),
                        i.runtime_version
                    ),
                    format!("{} {}", i.framework, i.framework_version),
                    if inst.cached {
                        format!("{:.1}s (cached)", i.install_secs)
                    } else {
                        format!("{:.1}s", i.install_secs)
                    },
                    format!("{}/{}", i.deps_direct, i.deps_total),
                    format!("{:.1} MB", i.install_bytes as f64 / 1e6),
                    i.app_loc.to_string(),
                ]);
            }
            Err(SetupError::Cancelled { .. }) => return Err(Interrupted.into()),
            Err(e) => match e.runtime_skip(c) {
                Some(reason) => eprintln!("{}: skipped: {reason}", c.name()),
                None => {
                    eprintln!("{}: FAILED", c.name());
                    failures.push(format!("{e}"));
                }
            },
        }
    }
    if !rows.is_empty() {
        println!(
            "{}",
            text_table(
                &[
                    "contender",
                    "runtime",
                    "framework",
                    "install",
                    "deps direct/total",
                    "size",
                    "app LOC"
                ],
                &rows
            )
        );
        println!("cache: {}", opts.cache_dir.display());
    }
    for f in &failures {
        eprintln!("error: {f}");
    }
    Ok(if failures.is_empty() { 0 } else { 1 })
}

/// The reference contenders' directory: `given` (the flag or its variable), else
/// the clone's `./contenders`, else the built-in copy ([`locate::resolve`]).
pub(super) fn contenders_dir(given: Option<&std::path::Path>) -> Result<ContendersDir> {
    // A deleted working directory only rules out the clone's copy.
    let cwd = std::env::current_dir().unwrap_or_default();
    Ok(locate::resolve(given, &cwd, locate::data_dir().as_deref())?)
}

/// The selected contenders; a bad selection or manifest is an input error (exit 2).
pub(super) fn discover(args: &ContenderArgs) -> Result<Vec<Contender>> {
    // Only paths: no reference contender is needed, so nothing is unpacked.
    let needs_dir = !args.contenders.is_empty() || args.contender_paths.is_empty();
    let selection = Selection {
        names: args.contenders.clone(),
        paths: args.contender_paths.clone(),
        dir: match needs_dir {
            true => Some(contenders_dir(args.contenders_dir.as_deref())?),
            false => None,
        },
    };
    contender::discover(&selection).map_err(input_unless_io)
}

/// A selection's error is the user's (exit 2) unless the system failed to read
/// or write something that exists (exit 1, with the OS error kept as its source).
/// A missing file is a wrong path: the user's.
fn input_unless_io<E: std::error::Error + Send + Sync + 'static>(e: E) -> anyhow::Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if io.kind() != std::io::ErrorKind::NotFound {
                return anyhow::Error::new(e);
            }
        }
        cause = c.source();
    }
    InputError::new(e.to_string()).into()
}

/// The selection plus the same contenders on the `--python` and `--node` runtimes
/// (Node.js releases are installed into the cache first).
pub(super) async fn with_runtimes(
    contenders: Vec<Contender>,
    args: &RuntimeArgs,
    results_dir: &std::path::Path,
    quiet: bool,
    cancel: &CancellationToken,
) -> Result<Vec<Contender>> {
    let axis = args.axis();
    if !axis.node.is_empty() && !quiet {
        eprintln!(
            "Node.js {}: installing from the npm registry where not cached …",
            axis.node.join(", ")
        );
    }
    let cache = contender::cache::default_dir(results_dir);
    match contender::runtimes::expand(contenders, &axis, &cache, cancel).await {
        Ok(all) => Ok(all),
        Err(e) if e.is_cancelled() => Err(Interrupted.into()),
        Err(e) => Err(input_unless_io(e)),
    }
}

pub(super) async fn generate_data(results_dir: &std::path::Path) -> Result<datagen::DataFiles> {
    let dir = results_dir.to_path_buf();
    tokio::task::spawn_blocking(move || datagen::ensure(&dir))
        .await
        .context("data generation panicked")?
        .context("generating the database and dataset")
}

/// A plain left-aligned text table with a rule under its header.
pub(super) fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    crate::report::table::plain_lines(&headers, rows, |_| false, true).join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_exit_1_and_bad_input_exits_2() {
        use crate::contender::node_versions::NodeError;
        use crate::contender::runtimes::RuntimeError;
        use crate::contender::ContenderError;
        let denied = ContenderError::Io {
            path: "/x/bakeoff.toml".into(),
            source: std::io::ErrorKind::PermissionDenied.into(),
        };
        let e = input_unless_io(denied);
        assert_eq!(crate::exit_code(&e), 1, "{e:#}");
        assert!(e.chain().any(|c| c.is::<std::io::Error>()), "{e:#}");
        let missing = ContenderError::Io {
            path: "/x".into(),
            source: std::io::ErrorKind::NotFound.into(),
        };
        assert_eq!(crate::exit_code(&input_unless_io(missing)), 2);
        let twice = ContenderError::SelectedTwice { name: "a".into() };
        assert_eq!(crate::exit_code(&input_unless_io(twice)), 2);
        let disk = RuntimeError::Node(NodeError::Io {
            spec: "22".into(),
            path: "/cache/node".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(crate::exit_code(&input_unless_io(disk)), 1);
        let bad = RuntimeError::Node(NodeError::BadSpec { spec: "x".into() });
        assert_eq!(crate::exit_code(&input_unless_io(bad)), 2);
    }

    #[test]
    fn table_aligns_columns() {
        let t = super::text_table(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "a    bb\n---  --\nxxx  y");
    }
}
