//! One module per subcommand. Each validates its arguments into a config, calls the
//! library, prints, and returns the exit status. Ctrl-C and SIGTERM cancel the
//! token every command receives.
//!
//! Command modules do not import each other: what several share is in the
//! library; here are only the flags' translation into its configs, its errors'
//! into exit statuses (bad input 2, an interruption 130: `crate::error`), and
//! the opening of an existing results store.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, Command, ContenderArgs, RuntimeArgs};
use crate::contender::datagen::DataFiles;
use crate::contender::select::{self, SelectConfig, SelectError};
use crate::contender::Contender;
use crate::database::{Database, DatabaseError, Postgres};
use crate::error::StdoutClosed;
use crate::store::{Store, StoreError};
use crate::{InputError, Interrupted};

/// `println!` through [`stdout`]: returns the write's error instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!($crate::cmd::stdout(), $($arg)*)
    }};
}

/// `print!` through [`stdout`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!($crate::cmd::stdout(), $($arg)*)
    }};
}

mod advise;
mod cache;
mod claims;
mod compare;
mod k8s;
mod load;
mod machine;
mod merge;
mod report;
mod run;
mod serve;
mod setup;
mod shell;
mod show;
mod verify;

/// Stdout for a command's output. When its reader stops early (`| head`), a
/// write fails with [`StdoutClosed`] inside the `io::Error`, and `main` ends
/// quietly with status 0; `println!` would panic.
pub(crate) struct Stdout(std::io::StdoutLock<'static>);

pub(crate) fn stdout() -> Stdout {
    Stdout(std::io::stdout().lock())
}

fn closed(e: std::io::Error) -> std::io::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::io::Error::new(std::io::ErrorKind::BrokenPipe, StdoutClosed)
    } else {
        e
    }
}

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(closed)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().map_err(closed)
    }
}

/// The library's selection from the contender and runtime flags.
fn select_config(args: &ContenderArgs, runtimes: &RuntimeArgs) -> SelectConfig {
    SelectConfig {
        names: args.contenders.clone(),
        paths: args.contender_paths.clone(),
        contenders_dir: args.contenders_dir.clone(),
        runtimes: runtimes.axis(),
        results_dir: args.results_dir.clone(),
    }
}

/// A bad selection, manifest or runtime is an input error (exit 2).
fn selection_error(e: SelectError) -> anyhow::Error {
    if e.is_cancelled() {
        Interrupted.into()
    } else if e.is_input() {
        InputError::new(e.to_string()).into()
    } else {
        e.into()
    }
}

/// The selected contenders with the same ones on the other runtimes; `quiet`
/// keeps the Node.js install notice off stderr.
async fn select_contenders(
    config: &SelectConfig,
    quiet: bool,
    cancel: &CancellationToken,
) -> Result<Vec<Contender>> {
    let notify = |msg: &str| {
        if !quiet {
            eprintln!("{msg}");
        }
    };
    config
        .select(&notify, cancel)
        .await
        .map_err(selection_error)
}

/// A duration flag (`10s`, `500ms`, `2m`), at most [`bakeoff_load::MAX_SPAN`];
/// a malformed one, or zero where `allow_zero` is false, is bad input naming
/// the option.
pub(crate) fn parse_duration(option: &str, text: &str, allow_zero: bool) -> Result<Duration> {
    let bad = |msg: String| anyhow::Error::new(InputError::new(msg));
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        bad(format!(
            "{option} `{text}` is not a duration ({e}); write e.g. 10s, 500ms or 2m"
        ))
    })?;
    if d.is_zero() && !allow_zero {
        return Err(bad(format!("{option} must be greater than zero")));
    }
    if d > bakeoff_load::MAX_SPAN {
        return Err(bad(format!(
            "{option} `{text}` is longer than the 7-day limit; write e.g. 10s, 500ms or 2m"
        )));
    }
    Ok(d)
}

/// Pin bakeoff's own threads (the runtime, the upstream service, the sampler)
/// to the generator's `cpu`, never the contender's; what could not be pinned,
/// as a warning to print and record.
fn pin_own_threads(cpu: usize) -> Option<String> {
    let me = crate::suite::ProcessSet {
        pgid: None,
        pids: vec![std::process::id()],
    };
    crate::measure::pin_processes(&me, &[cpu])
        .err()
        .map(|e| format!("bakeoff's own threads NOT pinned to cpu {cpu} ({e})"))
}

async fn generate_data(results_dir: &Path) -> Result<DataFiles> {
    select::generate_data(results_dir)
        .await
        .context("generating the database and dataset")
}

/// Start the command's PostgreSQL with `max_connections` for `max_workers`; a
/// machine without a usable PostgreSQL is an input error (the message says how
/// to fix it).
async fn start_postgres(
    results_dir: &Path,
    data: &DataFiles,
    max_workers: u32,
    cpus: Option<Vec<usize>>,
    cancel: &CancellationToken,
) -> Result<Postgres> {
    let max_connections = crate::database::max_connections(max_workers);
    match Postgres::start(results_dir, &data.sqlite, max_connections, cpus, cancel).await {
        Ok(pg) => Ok(pg),
        Err(DatabaseError::Cancelled) => Err(Interrupted.into()),
        Err(
            e @ (DatabaseError::Missing { .. }
            | DatabaseError::NoPostgresUser
            | DatabaseError::Unreachable { .. }
            | DatabaseError::Busy { .. }),
        ) => Err(InputError::new(e.to_string()).into()),
        Err(e) => Err(anyhow::Error::new(e).context("starting PostgreSQL")),
    }
}

/// The databases `--database` names, each once (a repeat is bad input).
fn databases(args: &crate::cli::DatabaseArgs) -> Result<Vec<Database>> {
    Ok(crate::database::distinct(&args.list()).map_err(InputError::from)?)
}

/// The server `setup` and `verify` start when postgres is among `databases`,
/// sized to the contenders' default worker counts (those they start).
async fn postgres_for(
    databases: &[Database],
    results_dir: &Path,
    data: &DataFiles,
    contenders: &[Contender],
    cancel: &CancellationToken,
) -> Result<Option<Postgres>> {
    if !databases.contains(&Database::Postgres) {
        return Ok(None);
    }
    let max_workers = contenders
        .iter()
        .map(|c| c.manifest.workers.default)
        .max()
        .unwrap_or(1);
    let pg = start_postgres(results_dir, data, max_workers, None, cancel).await?;
    Ok(Some(pg))
}

/// Stop the server (`pg_ctl stop -m fast`); a clone still alive stops it on drop.
async fn stop_postgres(postgres: Option<Arc<Postgres>>, say: &dyn Fn(&str)) {
    if let Some(pg) = postgres.and_then(|pg| Arc::try_unwrap(pg).ok()) {
        if let Err(e) = pg.server.stop().await {
            say(&format!("warning: stopping PostgreSQL: {e}"));
        }
    }
}

/// Open a database that must already exist (reading never creates one).
fn open_existing(path: &Path) -> Result<Store> {
    if !path.exists() {
        anyhow::bail!(
            "no results database at {}; `bakeoff run` makes one, or pass --results-dir DIR (the one `bakeoff run` was given) or --db PATH",
            path.display()
        );
    }
    // A file bakeoff may not write (a read-only mount, another user's) is
    // still read: only the opening for writing failed.
    match Store::open(path) {
        Ok(store) => Ok(store),
        Err(e) => Store::open_read_only(path).map_err(|_| e.into()),
    }
}

/// "latest" or an id. A malformed or unknown reference is bad input (exit 2).
fn resolve(store: &Store, run: &str) -> Result<i64> {
    store.resolve(run).map_err(|e| match e {
        StoreError::BadRunRef(_) | StoreError::NoSuchRun(_) => {
            anyhow::Error::new(InputError::new(e.to_string()))
        }
        other => other.into(),
    })
}

/// Open an existing results store and load one run ("latest" or an id).
pub(crate) fn load_stored_run(path: &Path, run: &str) -> Result<crate::model::Run> {
    let store = open_existing(path)?;
    let id = resolve(&store, run)?;
    store
        .load_run(id)
        .with_context(|| format!("reading run {id} from {}", path.display()))
}

/// Run one parsed command line; returns the process exit status.
pub async fn execute(cli: Cli) -> Result<u8> {
    // Before any contender starts, so it inherits the limit: `io` holds
    // two descriptors a connection in bakeoff and in the contender.
    bakeoff_load::raise_open_files_limit();
    let cancel = CancellationToken::new();
    spawn_signal_watcher(cancel.clone());
    match cli.command {
        Command::Load(args) => load::execute(args, cancel).await,
        Command::Merge(args) => merge::execute(args),
        Command::K8s(args) => k8s::execute(args, cancel).await,
        Command::Setup(args) => setup::execute(args, cancel).await,
        Command::Verify(args) => verify::execute(args, cancel).await,
        Command::Serve(args) => serve::execute(args, cancel).await,
        Command::Run(args) => run::execute(args, cancel).await,
        Command::Machine(args) => machine::execute(args, cancel).await,
        Command::Runs(args) => show::runs(args).await,
        Command::Show(args) => show::show(args).await,
        Command::Report(args) => report::execute(args).await,
        Command::Compare(args) => compare::execute(args).await,
        Command::Claims(args) => claims::execute(args).await,
        // `--measure` runs `bakeoff run` for the missing cells.
        Command::Advise(args) => advise::execute(args, cancel, run::execute).await,
        Command::Cache(args) => cache::execute(args),
        Command::Completions(args) => shell::completions(args),
        Command::Man => shell::man(),
    }
}

/// How long a second signal waits for the first's cleanup before exiting.
const FORCED_EXIT_AFTER: Duration = Duration::from_secs(15);

/// Stderr may be gone (SIGHUP: the terminal closed); that is no reason to panic.
fn eprint_quietly(s: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), s.as_bytes());
}

/// Cancel on the first SIGINT, SIGTERM, SIGHUP (the terminal closed) or
/// SIGQUIT. Commands then stop their load, reap their children and return
/// [`crate::Interrupted`]. A second signal gives that cleanup a bounded while
/// (a command blocked reading a pipe never sees the first), a third none;
/// then bakeoff SIGKILLs its contenders and exits 130.
fn spawn_signal_watcher(cancel: CancellationToken) {
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let kinds = [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
            SignalKind::quit(),
        ];
        let Ok(mut signals) = kinds.into_iter().map(signal).collect::<Result<Vec<_>, _>>() else {
            return;
        };
        async fn any(signals: &mut [tokio::signal::unix::Signal]) {
            futures_util::future::select_all(signals.iter_mut().map(|s| Box::pin(s.recv()))).await;
        }
        any(&mut signals).await;
        cancel.cancel();
        any(&mut signals).await;
        // Cleanup after the first is bounded and usually done by now; give it
        // a little longer unless a third signal insists.
        eprint_quietly(&format!(
            "bakeoff: stopping; exiting in {} s at the latest (a third signal exits now)\n",
            FORCED_EXIT_AFTER.as_secs()
        ));
        tokio::select! {
            _ = any(&mut signals) => {}
            _ = tokio::time::sleep(FORCED_EXIT_AFTER) => {}
        }
        let left = crate::contender::supervisor::kill_own();
        eprint_quietly(&format!(
            "bakeoff: stopped without cleaning up ({} contender process(es) killed)\n",
            left.len()
        ));
        std::process::exit(130);
    });
}
