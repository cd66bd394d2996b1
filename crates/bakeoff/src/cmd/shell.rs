//! `bakeoff completions SHELL` and `bakeoff man`: generated from the clap
//! definitions, so they never drift from the real command line.

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub(super) fn completions(args: CompletionsArgs) -> Result<u8> {
    // Into a buffer first: clap_complete panics on a write error (a closed pipe).
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "bakeoff", &mut buf);
    print(&buf).context("writing the completion script")
}

pub(super) fn man() -> Result<u8> {
    let mut buf = Vec::new();
    man_page(&mut buf).context("rendering the man page")?;
    print(&buf).context("writing the man page")
}

/// Write to stdout; a reader that stopped early (`| head`) is not an error.
fn print(bytes: &[u8]) -> std::io::Result<u8> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        other => other.map(|()| 0),
    }
}

/// The roff man page of `bakeoff` and its subcommands' one-line summaries.
pub(super) fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_and_the_man_page_generate() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "bakeoff", &mut buf);
            let text = String::from_utf8(buf).unwrap();
            assert!(
                text.contains("contenders-dir") && text.contains("prune"),
                "{shell}: {text}"
            );
        }
        let mut buf = Vec::new();
        man_page(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.starts_with(".ie") || text.contains(".TH bakeoff"),
            "{text}"
        );
        assert!(
            text.contains("completions") && text.contains("verify"),
            "{text}"
        );
    }
}
