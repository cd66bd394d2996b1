//! Errors that decide bakeoff's exit status.
//!
//! Library modules return their own `thiserror` types; the commands wrap them in
//! `anyhow` with context. [`exit_code`] looks through that chain: bad input
//! exits 2, an interruption 130, anything else 1.

use thiserror::Error;

/// The user gave a value bakeoff cannot use. The message names the value and the fix.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl InputError {
    pub fn new(msg: impl Into<String>) -> Self {
        InputError(msg.into())
    }
}

/// The run was stopped by SIGINT or SIGTERM.
#[derive(Debug, Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Stdout's reader stopped early (`bakeoff show | head`). Not a failure:
/// bakeoff ends quietly with status 0, as ripgrep does. It travels inside the
/// `io::Error` of the write that found the pipe closed.
#[derive(Debug, Error)]
#[error("stdout was closed by its reader")]
pub struct StdoutClosed;

/// Whether `err` is a write to a closed stdout, however it was wrapped.
pub fn is_stdout_closed(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<StdoutClosed>()
            || cause
                .downcast_ref::<std::io::Error>()
                .and_then(|e| e.get_ref())
                .is_some_and(|inner| inner.is::<StdoutClosed>())
    })
}

/// The process exit status for an error.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if is_stdout_closed(err) {
        return 0;
    }
    for cause in err.chain() {
        if cause.is::<Interrupted>() {
            return 130;
        }
        if cause.is::<InputError>() {
            return 2;
        }
    }
    1
}

/// An error and its sources, joined by ": " (as `{:#}` prints an anyhow chain),
/// for messages that are kept as text (a failed cell's reason, a note).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_closed_stdout_exits_0_however_it_is_wrapped() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, StdoutClosed);
        let wrapped = anyhow::Error::new(io).context("printing the report");
        assert!(is_stdout_closed(&wrapped));
        assert_eq!(exit_code(&wrapped), 0);
        // A broken pipe elsewhere (a socket, a child's stdin) is a real failure.
        let socket = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(!is_stdout_closed(&socket));
        assert_eq!(exit_code(&socket), 1);
    }

    #[test]
    fn exit_codes_follow_the_chain() {
        let e = anyhow::Error::new(InputError::new("bad")).context("while parsing");
        assert_eq!(exit_code(&e), 2);
        let e: anyhow::Result<()> = Err(Interrupted).context("run");
        assert_eq!(exit_code(&e.unwrap_err()), 130);
        assert_eq!(exit_code(&anyhow::anyhow!("boom")), 1);
    }

    #[test]
    fn library_errors_keep_their_source() {
        use crate::suite::{DriveError, LaunchError, SampleError};
        use std::error::Error as _;
        let io = || std::io::Error::other("disk on fire");
        let launch = LaunchError::caused("preparing its data", io());
        let sample = SampleError::caused("sampling task failed", io());
        let drive = DriveError::caused("the load engine failed", io());
        let store = crate::store::StoreError::Sql {
            path: "/r/bakeoff.db".into(),
            source: rusqlite::Error::InvalidQuery,
        };
        let errors: [&(dyn std::error::Error + 'static); 4] = [&launch, &sample, &drive, &store];
        for e in errors {
            assert!(e.source().is_some(), "{e}");
        }
        // The text keeps what the old one-string messages said, source last.
        assert_eq!(chain(&launch), "preparing its data: disk on fire");
        assert_eq!(
            chain(&sample),
            "resource sampling: sampling task failed: disk on fire"
        );
        assert!(chain(&store).starts_with("results database /r/bakeoff.db: "));
        assert!(LaunchError::new("cancelled").source().is_none());
    }
}
