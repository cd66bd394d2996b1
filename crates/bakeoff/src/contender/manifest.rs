//! The manifest (`bakeoff.toml`): parsing and validation of every field.
//!
//! The file is parsed as TOML, deserialized into structs that mirror its tables
//! (`manifest_toml.rs`: `deny_unknown_fields`, type errors with the dotted field),
//! then checked rule by rule here and in `manifest_variants.rs` (`[[variants]]`,
//! `setup.lockfiles`, `databases`) and `manifest_workloads.rs` (`[[workloads]]`,
//! custom workloads and their scenario files). Every error names the file, the dotted field
//! and the fix. Nothing here panics on any input.
//!
//! A new field: one line in its table's struct in `manifest_toml.rs`, its rule in
//! `Check`, and its place in [`Manifest`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use raw::{RawEndpoints, RawManifest, RawSetup, RawStart, RawWorkers};
use serde::Serialize;
pub use workloads::CustomWorkload;

use crate::database::Database;
use crate::model::Endpoint;

/// Placeholders allowed in `start.command`.
pub const PLACEHOLDERS: [&str; 3] = ["{port}", "{workers}", "{python}"];

const MAX_WORKERS: u32 = 1024;

/// A manifest that passed validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub name: String,
    pub language: String,
    pub runtime: String,
    pub framework: String,
    pub server: String,
    pub description: String,
    /// Whether the server honours HTTP/1.1 keep-alive (default true). `false`
    /// declares a server that closes every connection; `verify` checks the claim.
    pub keep_alive: bool,
    pub setup: Setup,
    pub start: Start,
    pub workers: Workers,
    /// Contract endpoints, in manifest order.
    pub supported: Vec<Endpoint>,
    /// Endpoint -> why the stack cannot serve it idiomatically (for an app
    /// with custom workloads, every endpoint it does not list as supported).
    pub unsupported: BTreeMap<Endpoint, String>,
    pub disclosures: Vec<String>,
    /// `[[variants]]`: named configurations of the same app, in manifest order.
    pub variants: Vec<Variant>,
    /// `databases`: where the app can read the db workloads' rows (absent:
    /// `["sqlite"]`), in manifest order, each once.
    pub databases: Vec<Database>,
    /// `[[workloads]]`: the app's own workloads, in manifest order.
    pub workloads: Vec<CustomWorkload>,
}

/// One `[[variants]]` entry: the same install, started differently.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// `[a-z0-9-]`, unique within the manifest; selected as `<contender>@<name>`.
    pub name: String,
    pub description: String,
    /// Environment overrides for the started process.
    pub env: BTreeMap<String, String>,
    /// Replaces `start.command` when set (same placeholders).
    pub command: Option<Vec<String>>,
    /// Overrides the manifest's top-level `keep_alive` when set.
    pub keep_alive: Option<bool>,
    /// Appended to the base's disclosures.
    pub disclosures: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SetupKind {
    Npm,
    Pip,
    None,
}

impl SetupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SetupKind::Npm => "npm",
            SetupKind::Pip => "pip",
            SetupKind::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setup {
    pub kind: SetupKind,
    /// Relative to the contender directory; `None` only for `kind = "none"`.
    pub lockfile: Option<PathBuf>,
    /// Extra argv lists run after the install, in the contender directory.
    pub commands: Vec<Vec<String>>,
    /// `lockfiles`: Python minor version ("3.12") -> lockfile used instead of
    /// `lockfile` when the venv's interpreter is that version (pip only).
    pub lockfiles: BTreeMap<String, PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Start {
    pub command: Vec<String>,
    pub health_path: String,
    pub start_timeout: Duration,
    pub stop_grace: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Workers {
    pub default: u32,
    pub max: u32,
}

/// Why a manifest was rejected. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}: cannot read: {source} (a contender directory holds a bakeoff.toml; see docs/contract.md)", file = .file.display())]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not valid TOML: {message}", file = .file.display())]
    Syntax { file: PathBuf, message: String },
    #[error("{file}: {field}: {message}", file = .file.display())]
    Invalid {
        file: PathBuf,
        /// Dotted path, e.g. `start.command`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl ManifestError {
    /// The offending field, for `Invalid`.
    pub fn field(&self) -> Option<&str> {
        match self {
            ManifestError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// Read and validate `<dir>/bakeoff.toml`. The lockfile's existence is checked
/// against `dir`.
pub fn load(file: &Path) -> Result<Manifest, ManifestError> {
    let text = crate::input_file::read_to_string(file, crate::input_file::TEXT_LIMIT).map_err(
        |source| ManifestError::Read {
            file: file.to_path_buf(),
            source,
        },
    )?;
    let manifest = parse(file, &text)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    for (minor, lock) in &manifest.setup.lockfiles {
        if !dir.join(lock).is_file() {
            return Err(invalid(
                file,
                &format!("setup.lockfiles.\"{minor}\""),
                format!(
                    "`{}` does not exist in {}; commit it (pin every package, resolved with Python {minor}) or remove the entry",
                    lock.display(),
                    dir.display()
                ),
            ));
        }
    }
    if let Some(lock) = &manifest.setup.lockfile {
        if !dir.join(lock).is_file() {
            return Err(invalid(
                file,
                "setup.lockfile",
                format!(
                    "`{}` does not exist in {}; commit the lockfile (`npm install` writes package-lock.json; pin every package in requirements.txt)",
                    lock.display(),
                    dir.display()
                ),
            ));
        }
    }
    workloads::check_scenarios(file, dir, &manifest)?;
    Ok(manifest)
}

/// Validate manifest text; `file` is only used in messages.
pub fn parse(file: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ManifestError::Syntax {
            file: file.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
    let raw = raw::from_table(table).map_err(|(field, message)| invalid(file, &field, message))?;
    Check { file }.manifest(raw)
}

fn invalid(file: &Path, field: &str, message: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        file: file.to_path_buf(),
        field: field.to_string(),
        message: message.into(),
    }
}

/// The rules between and within fields, on the deserialized manifest; each
/// error names the dotted field and the fix.
struct Check<'f> {
    file: &'f Path,
}

type R<T> = Result<T, ManifestError>;

impl Check<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> ManifestError {
        invalid(self.file, field, message)
    }

    /// A string that, when present, is not blank.
    fn text(&self, field: &str, value: Option<String>, example: &str) -> R<Option<String>> {
        let key = field.rsplit('.').next().unwrap_or(field);
        match value {
            Some(s) if s.trim().is_empty() => Err(self.err(
                field,
                format!("must not be empty, e.g. {key} = \"{example}\""),
            )),
            v => Ok(v),
        }
    }

    fn required(&self, field: &str, value: Option<String>, example: &str) -> R<String> {
        let key = field.rsplit('.').next().unwrap_or(field);
        self.text(field, value, example)?
            .ok_or_else(|| self.err(field, format!("is required, e.g. {key} = \"{example}\"")))
    }

    fn section<T>(&self, key: &str, value: Option<T>) -> R<T> {
        value.ok_or_else(|| {
            self.err(
                key,
                format!("section is required: add a [{key}] table (see docs/contract.md)"),
            )
        })
    }

    fn duration(
        &self,
        field: &str,
        value: Option<String>,
        default: Duration,
        max: Duration,
    ) -> R<Duration> {
        let Some(s) = value else {
            return Ok(default);
        };
        let d = humantime::parse_duration(s.trim()).map_err(|e| {
            self.err(
                field,
                format!("`{s}` is not a duration ({e}); write e.g. \"30s\" or \"500ms\""),
            )
        })?;
        if d.is_zero() || d > max {
            return Err(self.err(
                field,
                format!(
                    "must be more than 0 and at most {}, got `{s}`",
                    humantime::format_duration(max)
                ),
            ));
        }
        Ok(d)
    }

    fn count(&self, field: &str, value: Option<i64>, default: u32) -> R<u32> {
        let key = field.rsplit('.').next().unwrap_or(field);
        match value {
            None => Ok(default),
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_WORKERS).contains(n))
                .ok_or_else(|| {
                    self.err(
                        field,
                        format!("must be an integer from 1 to {MAX_WORKERS}, e.g. {key} = {default}; got {n}"),
                    )
                }),
        }
    }

    fn manifest(&self, raw: RawManifest) -> R<Manifest> {
        let name = self.required("name", raw.name, "my-app")?;
        if name.contains('@') {
            return Err(self.err(
                "name",
                format!("`{name}` must not contain '@', which separates a contender from its variant (`<contender>@<variant>`); declare configurations as [[variants]] instead, e.g. name = \"my-app\""),
            ));
        }
        if !is_slug(&name) {
            return Err(self.err(
                "name",
                format!("`{name}` must use only a-z, 0-9 and '-' (not first), at most 64 characters, e.g. name = \"my-app\""),
            ));
        }
        let language = self.required("language", raw.language, "node")?;
        let runtime = self.required("runtime", raw.runtime, "node")?;
        if runtime.chars().any(char::is_whitespace) {
            return Err(self.err(
                "runtime",
                format!("`{runtime}` must be one command name without spaces, e.g. runtime = \"python3\""),
            ));
        }
        let framework = self.required("framework", raw.framework, "fastify")?;
        let server = self.required("server", raw.server, "node:cluster")?;
        let description = self
            .text("description", raw.description, "Fastify 5 on node:cluster")?
            .unwrap_or_default();
        let setup = self.setup(self.section("setup", raw.setup)?)?;
        let start = self.start(self.section("start", raw.start)?)?;
        let workers = self.workers(raw.workers)?;
        let workloads = self.workloads(raw.workloads)?;
        // An app with its own workloads needs none of the contract's endpoints.
        let endpoints = match (raw.endpoints, workloads.is_empty()) {
            (Some(e), _) => e,
            (None, false) => RawEndpoints::default(),
            (None, true) => self.section("endpoints", None)?,
        };
        let (supported, unsupported) = self.endpoints(endpoints, !workloads.is_empty())?;
        let disclosures = raw
            .disclosures
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                self.required(
                    &format!("disclosures[{i}].text"),
                    d.text,
                    "gunicorn sync workers close every connection",
                )
            })
            .collect::<R<Vec<_>>>()?;
        let variants = self.variants(raw.variants)?;
        let databases = self.databases(raw.databases)?;
        Ok(Manifest {
            name,
            language,
            runtime,
            framework,
            server,
            description,
            keep_alive: raw.keep_alive.unwrap_or(true),
            setup,
            start,
            workers,
            supported,
            unsupported,
            disclosures,
            variants,
            databases,
            workloads,
        })
    }

    fn setup(&self, raw: RawSetup) -> R<Setup> {
        let kind = match self.required("setup.kind", raw.kind, "npm")?.as_str() {
            "npm" => SetupKind::Npm,
            "pip" => SetupKind::Pip,
            "none" => SetupKind::None,
            other => {
                return Err(self.err(
                    "setup.kind",
                    format!("`{other}` is not a setup kind; use \"npm\" (npm ci), \"pip\" (venv + pip install -r) or \"none\""),
                ))
            }
        };
        let lockfile = self.text("setup.lockfile", raw.lockfile, "package-lock.json")?;
        let lockfile = match (kind, lockfile) {
            (SetupKind::None, None) => None,
            (SetupKind::None, Some(_)) => {
                return Err(self.err(
                    "setup.lockfile",
                    "is only used with kind = \"npm\" or \"pip\"; remove it or change setup.kind",
                ))
            }
            (_, None) => {
                let example = if kind == SetupKind::Npm {
                    "package-lock.json"
                } else {
                    "requirements.txt"
                };
                return Err(self.err(
                    "setup.lockfile",
                    format!(
                        "is required for kind = \"{}\", e.g. lockfile = \"{example}\"",
                        kind.as_str()
                    ),
                ));
            }
            (_, Some(l)) => {
                if escapes(&l) {
                    return Err(self.err(
                        "setup.lockfile",
                        format!("`{l}` must be a path inside the contender directory, e.g. \"package-lock.json\""),
                    ));
                }
                Some(PathBuf::from(l))
            }
        };
        for (i, argv) in raw.commands.iter().enumerate() {
            if argv.is_empty() {
                return Err(self.err(
                    &format!("setup.commands[{i}]"),
                    "must not be empty, e.g. [\"npm\", \"run\", \"build\"]",
                ));
            }
        }
        let lockfiles = self.lockfiles(raw.lockfiles, kind)?;
        Ok(Setup {
            kind,
            lockfile,
            commands: raw.commands,
            lockfiles,
        })
    }

    fn start(&self, raw: RawStart) -> R<Start> {
        let Some(command) = raw.command else {
            return Err(self.err(
                "start.command",
                format!(
                    "is required: an argv list (never a shell string), e.g. command = {}",
                    "[\"node\", \"server.js\"]"
                ),
            ));
        };
        self.check_command("start.command", &command)?;
        let health_path = self
            .text("start.health_path", raw.health_path, "/health")?
            .unwrap_or_else(|| "/health".into());
        if !is_url_path(&health_path) {
            return Err(self.err(
                "start.health_path",
                format!("`{health_path}` must be a URL path starting with '/' without spaces, e.g. \"/health\""),
            ));
        }
        let start_timeout = self.duration(
            "start.start_timeout",
            raw.start_timeout,
            Duration::from_secs(30),
            Duration::from_secs(600),
        )?;
        let stop_grace = self.duration(
            "start.stop_grace",
            raw.stop_grace,
            Duration::from_secs(5),
            Duration::from_secs(120),
        )?;
        Ok(Start {
            command,
            health_path,
            start_timeout,
            stop_grace,
        })
    }

    /// A start command: non-empty, only known placeholders.
    fn check_command(&self, field: &str, command: &[String]) -> R<()> {
        if command.is_empty() {
            return Err(self.err(
                field,
                "must be a non-empty list of strings, e.g. [\"node\", \"server.js\"]",
            ));
        }
        for arg in command {
            if let Some(bad) = unknown_placeholder(arg) {
                return Err(self.err(
                    field,
                    format!(
                        "unknown placeholder `{bad}` in `{arg}`; allowed: {}",
                        PLACEHOLDERS.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn workers(&self, raw: Option<RawWorkers>) -> R<Workers> {
        let Some(raw) = raw else {
            return Ok(Workers {
                default: 1,
                max: 64,
            });
        };
        let default = self.count("workers.default", raw.default, 1)?;
        let max = self.count("workers.max", raw.max, 64)?;
        if default > max {
            return Err(self.err(
                "workers.default",
                format!("{default} is above workers.max ({max}); lower it or raise max"),
            ));
        }
        Ok(Workers { default, max })
    }

    /// `custom`: the app declares `[[workloads]]`, so `supported` may be
    /// absent (none) and an endpoint it does not list is unsupported.
    fn endpoints(
        &self,
        mut raw: RawEndpoints,
        custom: bool,
    ) -> R<(Vec<Endpoint>, BTreeMap<Endpoint, String>)> {
        if custom && raw.supported.is_none() {
            raw.supported = Some(Vec::new());
        }
        let Some(supported) = raw.supported else {
            return Err(self.err(
                "endpoints.supported",
                "is required: the contract endpoints the app serves, e.g. supported = [\"plaintext\", \"json\"]",
            ));
        };
        let mut seen = Vec::new();
        for e in &supported {
            let endpoint = self.endpoint("endpoints.supported", e)?;
            if seen.contains(&endpoint) {
                return Err(self.err(
                    "endpoints.supported",
                    format!("`{e}` is listed twice; list it once"),
                ));
            }
            seen.push(endpoint);
        }
        let mut unsupported = BTreeMap::new();
        for (e, reason) in &raw.unsupported {
            let field = format!("endpoints.unsupported.{e}");
            let endpoint = self.endpoint(&field, e)?;
            if seen.contains(&endpoint) {
                return Err(self.err(
                    &field,
                    format!("`{e}` is also in endpoints.supported; an endpoint is either supported or not"),
                ));
            }
            if reason.trim().is_empty() {
                return Err(self.err(
                    &field,
                    format!("must be a non-empty string giving the reason, e.g. {e} = \"Django needs Channels for WebSockets\""),
                ));
            }
            unsupported.insert(endpoint, reason.clone());
        }
        if custom {
            for e in Endpoint::ALL {
                if !seen.contains(&e) {
                    unsupported
                        .entry(e)
                        .or_insert_with(|| "not served: the app has its own [[workloads]]".into());
                }
            }
        }
        // Every gap is declared with a reason, so reports can show it honestly.
        for e in Endpoint::ALL {
            if !seen.contains(&e) && !unsupported.contains_key(&e) {
                return Err(self.err(
                    "endpoints",
                    format!("`{e}` is neither supported nor unsupported; add it to endpoints.supported or give the reason under [endpoints.unsupported]"),
                ));
            }
        }
        Ok((seen, unsupported))
    }

    /// The contract endpoint `e` names, at `field`.
    fn endpoint(&self, field: &str, e: &str) -> R<Endpoint> {
        Endpoint::parse(e).ok_or_else(|| {
            let names: Vec<&str> = Endpoint::ALL.iter().map(|e| e.as_str()).collect();
            self.err(
                field,
                format!(
                    "`{e}` is not a contract endpoint; use one of: {}",
                    names.join(", ")
                ),
            )
        })
    }
}

/// True when `path` is empty, absolute or climbs out with `..`.
fn escapes(path: &str) -> bool {
    let p = Path::new(path);
    path.trim().is_empty()
        || p.is_absolute()
        || p.components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
}

/// A URL path a request line can carry as it is: starting with '/', no
/// spaces or control characters (a health check's, or `load --prime`'s).
pub(crate) fn is_url_path(path: &str) -> bool {
    path.starts_with('/') && path.bytes().all(|b| b.is_ascii_graphic())
}

/// `[a-z0-9-]`, not starting with '-', at most 64 characters.
fn is_slug(name: &str) -> bool {
    name.len() <= 64
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// The first `{...}` in `arg` that is not an allowed placeholder.
fn unknown_placeholder(arg: &str) -> Option<String> {
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let close = after.find('}')?;
        let token = &after[..=close];
        if !PLACEHOLDERS.contains(&token) {
            return Some(token.to_string());
        }
        rest = &after[close + 1..];
    }
    None
}

/// Replace the placeholders in one argv entry.
pub fn substitute(arg: &str, port: u16, workers: u32, python: &str) -> String {
    arg.replace("{port}", &port.to_string())
        .replace("{workers}", &workers.to_string())
        .replace("{python}", python)
}

#[path = "manifest_toml.rs"]
mod raw;
#[path = "manifest_variants.rs"]
mod variants;
#[path = "manifest_workloads.rs"]
mod workloads;

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
