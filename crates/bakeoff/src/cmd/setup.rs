//! `bakeoff setup`: install the selected contenders from their lockfiles, generate
//! the data, prepare each `--database` (SQLite: the file; PostgreSQL: its
//! cluster, initialised and seeded or reused), and print the recorded
//! footprint of each contender.

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use super::{databases, generate_data, postgres_for, select_config, select_contenders};
use crate::cli::SetupArgs;
use crate::contender::setup::{self, SetupError, SetupOptions};
use crate::database::Database;
use crate::Interrupted;

pub(super) async fn execute(args: SetupArgs, cancel: CancellationToken) -> Result<u8> {
    let databases = databases(&args.database)?;
    let selection = select_config(&args.contenders, &args.runtimes);
    let results_dir = selection.results_dir.clone();
    let contenders = select_contenders(&selection, false, &cancel).await?;
    eprintln!(
        "generating the data in {}",
        results_dir.join("data").display()
    );
    // SQLite needs only the file; PostgreSQL's seed is read from it too.
    let data = generate_data(&results_dir).await?;
    eprintln!("  {} and {}", data.sqlite.display(), data.csv.display());
    if databases.contains(&Database::Sqlite) {
        eprintln!("SQLite: {} (copied into each app)", data.sqlite.display());
    }
    // Init and seed now, so the first run only starts the server.
    if let Some(pg) = postgres_for(&databases, &results_dir, &data, &contenders, &cancel).await? {
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
        outln!(
            "{}",
            crate::report::table::text_table(
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
        )?;
        outln!("cache: {}", opts.cache_dir.display())?;
    }
    for f in &failures {
        eprintln!("error: {f}");
    }
    Ok(if failures.is_empty() { 0 } else { 1 })
}
