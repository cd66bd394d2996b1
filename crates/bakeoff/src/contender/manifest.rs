//! The manifest (`bakeoff.toml`): parsing and validation of every field.
//!
//! The file is parsed as a TOML table and then walked field by field, so that every
//! error names the file, the dotted field path and the fix; serde's derive messages
//! name neither the path nor the fix. Unknown keys are rejected in every table (the
//! equivalent of `deny_unknown_fields`). Nothing here panics on any input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use toml::{Table, Value};

use crate::database::Database;

/// The contract's endpoint names, as used in `endpoints.supported`.
pub const ENDPOINTS: [&str; 10] = [
    "plaintext",
    "json",
    "db",
    "queries",
    "fortunes",
    "updates",
    "io",
    "cpu",
    "data",
    "ws",
];

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
    /// Contract endpoint names, in manifest order.
    pub supported: Vec<String>,
    /// Endpoint name -> why the stack cannot serve it idiomatically.
    pub unsupported: BTreeMap<String, String>,
    pub disclosures: Vec<String>,
    /// `[[variants]]`: named configurations of the same app, in manifest order.
    pub variants: Vec<Variant>,
    /// `databases`: where the app can read the db workloads' rows (absent:
    /// `["sqlite"]`), in manifest order, each once.
    pub databases: Vec<Database>,
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
    let text = std::fs::read_to_string(file).map_err(|source| ManifestError::Read {
        file: file.to_path_buf(),
        source,
    })?;
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
    Ok(manifest)
}

/// Validate manifest text; `file` is only used in messages.
pub fn parse(file: &Path, text: &str) -> Result<Manifest, ManifestError> {
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ManifestError::Syntax {
            file: file.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
    Walker { file }.manifest(&table)
}

fn invalid(file: &Path, field: &str, message: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        file: file.to_path_buf(),
        field: field.to_string(),
        message: message.into(),
    }
}

fn type_name(v: &Value) -> &'static str {
    v.type_str()
}

/// Walks the table; each accessor names the dotted field in its error.
struct Walker<'f> {
    file: &'f Path,
}

type R<T> = Result<T, ManifestError>;

impl Walker<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> ManifestError {
        invalid(self.file, field, message)
    }

    fn reject_unknown(&self, prefix: &str, table: &Table, allowed: &[&str]) -> R<()> {
        for key in table.keys() {
            if !allowed.contains(&key.as_str()) {
                let field = join(prefix, key);
                return Err(self.err(
                    &field,
                    format!(
                        "unknown key; allowed here: {} (check the spelling against docs/contract.md)",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn string(&self, t: &Table, prefix: &str, key: &str, example: &str) -> R<Option<String>> {
        let field = join(prefix, key);
        match t.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(self.err(
                &field,
                format!("must not be empty, e.g. {key} = \"{example}\""),
            )),
            Some(v) => Err(self.err(
                &field,
                format!(
                    "must be a string, not a {}, e.g. {key} = \"{example}\"",
                    type_name(v)
                ),
            )),
        }
    }

    fn required_string(&self, t: &Table, prefix: &str, key: &str, example: &str) -> R<String> {
        self.string(t, prefix, key, example)?.ok_or_else(|| {
            self.err(
                &join(prefix, key),
                format!("is required, e.g. {key} = \"{example}\""),
            )
        })
    }

    fn table<'t>(&self, t: &'t Table, key: &str, required: bool) -> R<Option<&'t Table>> {
        match t.get(key) {
            None if required => Err(self.err(
                key,
                format!("section is required: add a [{key}] table (see docs/contract.md)"),
            )),
            None => Ok(None),
            Some(Value::Table(inner)) => Ok(Some(inner)),
            Some(v) => Err(self.err(
                key,
                format!("must be a table ([{key}]), not a {}", type_name(v)),
            )),
        }
    }

    /// A list of non-empty strings; `what` describes the fix.
    fn string_list(&self, field: &str, v: &Value, example: &str) -> R<Vec<String>> {
        let fix = format!("must be a list of non-empty strings, e.g. {example}");
        let Value::Array(items) = v else {
            return Err(self.err(field, fix));
        };
        items
            .iter()
            .map(|item| match item {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                _ => Err(self.err(field, fix.clone())),
            })
            .collect()
    }

    fn duration(
        &self,
        t: &Table,
        prefix: &str,
        key: &str,
        default: Duration,
        max: Duration,
    ) -> R<Duration> {
        let field = join(prefix, key);
        let Some(v) = t.get(key) else {
            return Ok(default);
        };
        let Value::String(s) = v else {
            return Err(self.err(
                &field,
                format!(
                    "must be a duration string such as \"30s\" or \"500ms\", not a {}",
                    type_name(v)
                ),
            ));
        };
        let d = humantime::parse_duration(s.trim()).map_err(|e| {
            self.err(
                &field,
                format!("`{s}` is not a duration ({e}); write e.g. \"30s\" or \"500ms\""),
            )
        })?;
        if d.is_zero() || d > max {
            return Err(self.err(
                &field,
                format!(
                    "must be more than 0 and at most {}, got `{s}`",
                    humantime::format_duration(max)
                ),
            ));
        }
        Ok(d)
    }

    fn int(&self, t: &Table, prefix: &str, key: &str, default: u32) -> R<u32> {
        let field = join(prefix, key);
        match t.get(key) {
            None => Ok(default),
            Some(Value::Integer(n)) if (1..=i64::from(MAX_WORKERS)).contains(n) => {
                Ok(u32::try_from(*n).unwrap_or(1))
            }
            Some(v) => Err(self.err(
                &field,
                format!(
                    "must be an integer from 1 to {MAX_WORKERS}, e.g. {key} = {default}; got {v}"
                ),
            )),
        }
    }

    fn manifest(&self, t: &Table) -> R<Manifest> {
        self.reject_unknown(
            "",
            t,
            &[
                "name",
                "language",
                "runtime",
                "framework",
                "server",
                "description",
                "keep_alive",
                "setup",
                "start",
                "workers",
                "endpoints",
                "disclosures",
                "variants",
                "databases",
            ],
        )?;
        let name = self.required_string(t, "", "name", "my-app")?;
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
        let language = self.required_string(t, "", "language", "node")?;
        let runtime = self.required_string(t, "", "runtime", "node")?;
        if runtime.chars().any(char::is_whitespace) {
            return Err(self.err(
                "runtime",
                format!("`{runtime}` must be one command name without spaces, e.g. runtime = \"python3\""),
            ));
        }
        let framework = self.required_string(t, "", "framework", "fastify")?;
        let server = self.required_string(t, "", "server", "node:cluster")?;
        let description = self
            .string(t, "", "description", "Fastify 5 on node:cluster")?
            .unwrap_or_default();
        let keep_alive = self.keep_alive(t)?;
        let setup = self.setup(t)?;
        let start = self.start(t)?;
        let workers = self.workers(t)?;
        let (supported, unsupported) = self.endpoints(t)?;
        let disclosures = self.disclosures(t)?;
        let variants = self.variants(t)?;
        let databases = self.databases(t)?;
        Ok(Manifest {
            name,
            language,
            runtime,
            framework,
            server,
            description,
            keep_alive,
            setup,
            start,
            workers,
            supported,
            unsupported,
            disclosures,
            variants,
            databases,
        })
    }

    /// Top-level `keep_alive`: a boolean, true when absent.
    fn keep_alive(&self, root: &Table) -> R<bool> {
        match root.get("keep_alive") {
            None => Ok(true),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(self.err(
                "keep_alive",
                format!(
                    "must be true or false (no quotes), not a {}; write keep_alive = false only for a server that closes every connection (e.g. gunicorn sync workers), and disclose it",
                    type_name(v)
                ),
            )),
        }
    }

    fn setup(&self, root: &Table) -> R<Setup> {
        let t = self.table(root, "setup", true)?.unwrap_or(root);
        self.reject_unknown("setup", t, &["kind", "lockfile", "lockfiles", "commands"])?;
        let kind = match self.required_string(t, "setup", "kind", "npm")?.as_str() {
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
        let lockfile = self.string(t, "setup", "lockfile", "package-lock.json")?;
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
                let p = PathBuf::from(&l);
                let escapes = p.is_absolute()
                    || p.components()
                        .any(|c| matches!(c, std::path::Component::ParentDir));
                if escapes {
                    return Err(self.err(
                        "setup.lockfile",
                        format!("`{l}` must be a path inside the contender directory, e.g. \"package-lock.json\""),
                    ));
                }
                Some(p)
            }
        };
        let commands = match t.get("commands") {
            None => Vec::new(),
            Some(Value::Array(list)) => {
                let mut out = Vec::new();
                for (i, cmd) in list.iter().enumerate() {
                    let field = format!("setup.commands[{i}]");
                    let argv = self.string_list(&field, cmd, "[\"npm\", \"run\", \"build\"]")?;
                    if argv.is_empty() {
                        return Err(self.err(
                            &field,
                            "must not be empty, e.g. [\"npm\", \"run\", \"build\"]",
                        ));
                    }
                    out.push(argv);
                }
                out
            }
            Some(_) => {
                return Err(self.err(
                    "setup.commands",
                    "must be a list of argv lists, e.g. commands = [[\"npm\", \"run\", \"build\"]]",
                ))
            }
        };
        let lockfiles = self.lockfiles(t, kind)?;
        Ok(Setup {
            kind,
            lockfile,
            commands,
            lockfiles,
        })
    }

    fn start(&self, root: &Table) -> R<Start> {
        let t = self.table(root, "start", true)?.unwrap_or(root);
        self.reject_unknown(
            "start",
            t,
            &["command", "health_path", "start_timeout", "stop_grace"],
        )?;
        let example = "[\"node\", \"server.js\"]";
        let command = match t.get("command") {
            None => {
                return Err(self.err(
                    "start.command",
                    format!(
                    "is required: an argv list (never a shell string), e.g. command = {example}"
                ),
                ))
            }
            Some(v) => self.string_list("start.command", v, example)?,
        };
        self.check_command("start.command", &command)?;
        let health_path = self
            .string(t, "start", "health_path", "/health")?
            .unwrap_or_else(|| "/health".into());
        let path_ok =
            health_path.starts_with('/') && health_path.bytes().all(|b| b.is_ascii_graphic());
        if !path_ok {
            return Err(self.err(
                "start.health_path",
                format!("`{health_path}` must be a URL path starting with '/' without spaces, e.g. \"/health\""),
            ));
        }
        let start_timeout = self.duration(
            t,
            "start",
            "start_timeout",
            Duration::from_secs(30),
            Duration::from_secs(600),
        )?;
        let stop_grace = self.duration(
            t,
            "start",
            "stop_grace",
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

    fn workers(&self, root: &Table) -> R<Workers> {
        let Some(t) = self.table(root, "workers", false)? else {
            return Ok(Workers {
                default: 1,
                max: 64,
            });
        };
        self.reject_unknown("workers", t, &["default", "max"])?;
        let default = self.int(t, "workers", "default", 1)?;
        let max = self.int(t, "workers", "max", 64)?;
        if default > max {
            return Err(self.err(
                "workers.default",
                format!("{default} is above workers.max ({max}); lower it or raise max"),
            ));
        }
        Ok(Workers { default, max })
    }

    fn endpoints(&self, root: &Table) -> R<(Vec<String>, BTreeMap<String, String>)> {
        let t = self.table(root, "endpoints", true)?.unwrap_or(root);
        self.reject_unknown("endpoints", t, &["supported", "unsupported"])?;
        let example = "[\"plaintext\", \"json\"]";
        let supported = match t.get("supported") {
            None => {
                return Err(self.err(
                    "endpoints.supported",
                    format!("is required: the contract endpoints the app serves, e.g. supported = {example}"),
                ))
            }
            Some(v) => self.string_list("endpoints.supported", v, example)?,
        };
        let mut seen = Vec::new();
        for e in &supported {
            self.check_endpoint_name("endpoints.supported", e)?;
            if seen.contains(e) {
                return Err(self.err(
                    "endpoints.supported",
                    format!("`{e}` is listed twice; list it once"),
                ));
            }
            seen.push(e.clone());
        }
        let mut unsupported = BTreeMap::new();
        match t.get("unsupported") {
            None => {}
            Some(Value::Table(u)) => {
                for (e, reason) in u {
                    let field = format!("endpoints.unsupported.{e}");
                    self.check_endpoint_name(&field, e)?;
                    if supported.contains(e) {
                        return Err(self.err(
                            &field,
                            format!("`{e}` is also in endpoints.supported; an endpoint is either supported or not"),
                        ));
                    }
                    match reason {
                        Value::String(s) if !s.trim().is_empty() => {
                            unsupported.insert(e.clone(), s.clone());
                        }
                        _ => {
                            return Err(self.err(
                                &field,
                                format!("must be a non-empty string giving the reason, e.g. {e} = \"Django needs Channels for WebSockets\""),
                            ))
                        }
                    }
                }
            }
            Some(v) => {
                return Err(self.err(
                    "endpoints.unsupported",
                    format!(
                        "must be a table of endpoint = \"reason\", not a {}",
                        type_name(v)
                    ),
                ))
            }
        }
        // Every gap is declared with a reason, so reports can show it honestly.
        for e in ENDPOINTS {
            if !supported.iter().any(|s| s == e) && !unsupported.contains_key(e) {
                return Err(self.err(
                    "endpoints",
                    format!("`{e}` is neither supported nor unsupported; add it to endpoints.supported or give the reason under [endpoints.unsupported]"),
                ));
            }
        }
        Ok((supported, unsupported))
    }

    fn check_endpoint_name(&self, field: &str, e: &str) -> R<()> {
        if ENDPOINTS.contains(&e) {
            Ok(())
        } else {
            Err(self.err(
                field,
                format!(
                    "`{e}` is not a contract endpoint; use one of: {}",
                    ENDPOINTS.join(", ")
                ),
            ))
        }
    }

    fn disclosures(&self, root: &Table) -> R<Vec<String>> {
        let fix = "must be [[disclosures]] tables with text = \"...\"";
        match root.get("disclosures") {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let prefix = format!("disclosures[{i}]");
                    let Value::Table(t) = item else {
                        return Err(self.err(&prefix, fix));
                    };
                    self.reject_unknown(&prefix, t, &["text"])?;
                    out.push(self.required_string(
                        t,
                        &prefix,
                        "text",
                        "gunicorn sync workers close every connection",
                    )?);
                }
                Ok(out)
            }
            Some(_) => Err(self.err("disclosures", fix)),
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
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

#[path = "manifest_variants.rs"]
mod variants;

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
