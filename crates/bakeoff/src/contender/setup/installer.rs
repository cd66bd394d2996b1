//! Installer commands in their own process group, logged to one file, bounded
//! in time and cancellable.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::{SetupError, TAIL_LINES};
use crate::contender::logfile::log_tail;
use crate::contender::procs::GroupGuard;

/// Runs installer commands in their own process group, logging to one file.
pub(super) struct Installer<'a> {
    pub(super) name: &'a str,
    pub(super) log: &'a Path,
    pub(super) timeout: Duration,
    pub(super) cancel: &'a CancellationToken,
    /// Set on every command (e.g. node-gyp's `nodedir` for a cached Node.js).
    pub(super) env: &'a [(String, String)],
}

impl Installer<'_> {
    pub(super) async fn run(
        &self,
        argv: &[String],
        dir: &Path,
        path_dirs: &[PathBuf],
    ) -> Result<(), SetupError> {
        let log = self.log()?;
        let log2 = log.try_clone().map_err(|e| self.log_error(e))?;
        let mut cmd = self.command(argv, dir, path_dirs);
        cmd.stdout(Stdio::from(log)).stderr(Stdio::from(log2));
        self.finish(argv, cmd).await.map(|_| ())
    }

    /// Run and return stdout (stderr goes to the log).
    pub(super) async fn output(&self, argv: &[String], dir: &Path) -> Result<Vec<u8>, SetupError> {
        let log = self.log()?;
        let mut cmd = self.command(argv, dir, &[]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::from(log));
        self.finish(argv, cmd).await
    }

    /// The install log, opened for appending.
    fn log(&self) -> Result<std::fs::File, SetupError> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log)
            .map_err(|e| self.log_error(e))
    }

    fn log_error(&self, source: std::io::Error) -> SetupError {
        SetupError::Io {
            name: self.name.to_string(),
            path: self.log.to_path_buf(),
            source,
        }
    }

    fn command(&self, argv: &[String], dir: &Path, path_dirs: &[PathBuf]) -> Command {
        let mut cmd = Command::new(argv.first().map(String::as_str).unwrap_or(""));
        cmd.args(argv.iter().skip(1))
            .current_dir(dir)
            .stdin(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        if !path_dirs.is_empty() {
            let mut dirs = path_dirs.to_vec();
            if let Some(p) = std::env::var_os("PATH") {
                dirs.extend(std::env::split_paths(&p));
            }
            if let Ok(joined) = std::env::join_paths(dirs) {
                cmd.env("PATH", joined);
            }
        }
        cmd
    }

    async fn finish(&self, argv: &[String], mut cmd: Command) -> Result<Vec<u8>, SetupError> {
        let shown = shown(argv);
        let child = cmd.spawn().map_err(|e| SetupError::Command {
            name: self.name.to_string(),
            command: shown.clone(),
            status: format!("cannot start: {e}"),
            log: self.log.to_path_buf(),
            tail: String::new(),
        })?;
        let guard = GroupGuard(child.id().unwrap_or(0));
        let out = tokio::select! {
            r = tokio::time::timeout(self.timeout, child.wait_with_output()) => r,
            _ = self.cancel.cancelled() => return Err(SetupError::Cancelled { name: self.name.to_string() }),
        };
        let tail = || log_tail(self.log, TAIL_LINES);
        let out = match out {
            Err(_) => {
                return Err(SetupError::Timeout {
                    name: self.name.to_string(),
                    command: shown,
                    timeout: self.timeout,
                    log: self.log.to_path_buf(),
                    tail: tail(),
                })
            }
            Ok(r) => r.map_err(|source| SetupError::Io {
                name: self.name.to_string(),
                path: self.log.to_path_buf(),
                source,
            })?,
        };
        // The installer is done; kill anything it left behind in its group.
        drop(guard);
        if !out.status.success() {
            return Err(SetupError::Command {
                name: self.name.to_string(),
                command: shown,
                status: out.status.to_string(),
                log: self.log.to_path_buf(),
                tail: tail(),
            });
        }
        Ok(out.stdout)
    }
}

fn shown(argv: &[String]) -> String {
    let s = argv.join(" ");
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}
