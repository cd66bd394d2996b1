//! One module per subcommand. Each validates its arguments into a config, calls the
//! library, prints, and returns the exit status. Ctrl-C and SIGTERM cancel the
//! token every command receives.

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, Command};
use crate::error::StdoutClosed;

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
mod load_capacity;
mod merge;
mod report;
mod run;
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

/// Open an existing results store and load one run ("latest" or an id).
pub(crate) fn load_stored_run(
    db: Option<&std::path::Path>,
    run: &str,
) -> Result<crate::model::Run> {
    use anyhow::Context;
    let path = show::db_path(db.map(std::path::Path::to_path_buf));
    let store = show::open_existing(&path)?;
    let id = show::resolve(&store, run)?;
    store
        .load_run(id)
        .with_context(|| format!("reading run {id} from {}", path.display()))
}

/// Run one parsed command line; returns the process exit status.
pub async fn execute(cli: Cli) -> Result<u8> {
    let cancel = CancellationToken::new();
    spawn_signal_watcher(cancel.clone());
    match cli.command {
        Command::Load(args) => load::execute(args, cancel).await,
        Command::Merge(args) => merge::execute(args),
        Command::K8s(args) => k8s::execute(args),
        Command::Setup(args) => setup::execute(args, cancel).await,
        Command::Verify(args) => verify::execute(args, cancel).await,
        Command::Run(args) => run::execute(args, cancel).await,
        Command::Runs(args) => show::runs(args).await,
        Command::Show(args) => show::show(args).await,
        Command::Report(args) => report::execute(args).await,
        Command::Compare(args) => compare::execute(args).await,
        Command::Claims(args) => claims::execute(args).await,
        Command::Advise(args) => advise::execute(args, cancel).await,
        Command::Cache(args) => cache::execute(args),
        Command::Completions(args) => shell::completions(args),
        Command::Man => shell::man(),
    }
}

/// Cancel on the first SIGINT or SIGTERM. Commands then stop their load, reap their
/// children and return [`crate::Interrupted`].
fn spawn_signal_watcher(cancel: CancellationToken) {
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        cancel.cancel();
    });
}
