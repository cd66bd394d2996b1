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

/// The process exit status for an error.
pub fn exit_code(err: &anyhow::Error) -> u8 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn exit_codes_follow_the_chain() {
        let e = anyhow::Error::new(InputError::new("bad")).context("while parsing");
        assert_eq!(exit_code(&e), 2);
        let e: anyhow::Result<()> = Err(Interrupted).context("run");
        assert_eq!(exit_code(&e.unwrap_err()), 130);
        assert_eq!(exit_code(&anyhow::anyhow!("boom")), 1);
    }
}
