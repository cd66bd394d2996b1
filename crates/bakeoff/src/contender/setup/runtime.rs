//! The runtime a contender needs, checked before installing: found on PATH, and
//! at least the minimum version for its language; version lines parsed.

use std::process::Stdio;

use tokio::process::Command;

use super::{SetupError, MIN_NODE, MIN_PYTHON, VERSION_TIMEOUT};
use crate::contender::version::{clean_version, parse_version};
use crate::contender::{Contender, SetupKind};

/// Check the runtime the contender needs; returns its version string.
pub(super) async fn check_runtime(c: &Contender) -> Result<String, SetupError> {
    let m = &c.manifest;
    let is_node = m.setup.kind == SetupKind::Npm || m.language == "node";
    let is_python = m.setup.kind == SetupKind::Pip || m.language == "python";
    let (need, how) = if is_node {
        (
            Some(MIN_NODE),
            "install Node.js 20 or newer (https://nodejs.org, or `nvm install 20`)",
        )
    } else if is_python {
        (
            Some(MIN_PYTHON),
            "install Python 3.10 or newer with venv (e.g. `apt install python3 python3-venv`, or https://www.python.org)",
        )
    } else {
        (
            None,
            "install it or fix `runtime` in the contender's bakeoff.toml",
        )
    };
    let missing = |runtime: &str| SetupError::RuntimeMissing {
        name: m.name.clone(),
        runtime: runtime.to_string(),
        how: how.to_string(),
    };
    let raw = version_of(&m.runtime)
        .await
        .map_err(|_| missing(&m.runtime))?;
    if let Some(need) = need {
        let found = parse_version(&raw).unwrap_or((0, 0));
        if found < need {
            return Err(SetupError::RuntimeTooOld {
                name: m.name.clone(),
                runtime: m.runtime.clone(),
                found: raw.trim().to_string(),
                need: format!("{}.{}", need.0, need.1),
                how: how.to_string(),
            });
        }
    }
    if m.setup.kind == SetupKind::Npm {
        version_of("npm").await.map_err(|_| missing("npm"))?;
    }
    Ok(clean_version(&raw))
}

/// `<cmd> --version`, stdout or stderr (old Pythons print there), bounded in time.
pub(super) async fn version_of(cmd: &str) -> Result<String, std::io::Error> {
    let mut command = Command::new(cmd);
    command
        .arg("--version")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(VERSION_TIMEOUT, command.output())
        .await
        .map_err(|_| std::io::Error::other("timed out"))??;
    if !out.status.success() {
        return Err(std::io::Error::other(format!("exit {}", out.status)));
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if text.trim().is_empty() {
        text = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}
