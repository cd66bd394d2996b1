//! The rules of the manifest's `[[variants]]`, `setup.lockfiles` and `databases`,
//! in the same style as the rest of the manifest (every error names the dotted
//! field and the fix).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::raw::RawVariant;
use super::{escapes, is_slug, Check, SetupKind, Variant, R};
use crate::database::Database;

/// Environment names bakeoff sets itself; a variant cannot override them.
const RESERVED_ENV: [&str; 3] = ["PORT", "PATH", "BAKEOFF_"];

impl Check<'_> {
    /// Top-level `databases`: a non-empty list of known names, each once.
    pub(super) fn databases(&self, raw: Option<Vec<String>>) -> R<Vec<Database>> {
        let names: Vec<&str> = Database::ALL.iter().map(|d| d.as_str()).collect();
        let example = "databases = [\"sqlite\", \"postgres\"]";
        let Some(list) = raw else {
            return Ok(vec![Database::Sqlite]);
        };
        if list.is_empty() {
            return Err(self.err(
                "databases",
                format!("must name at least one database, e.g. {example}; remove the key to mean [\"sqlite\"]"),
            ));
        }
        let mut out = Vec::new();
        for name in list {
            let Some(d) = Database::parse(&name) else {
                return Err(self.err(
                    "databases",
                    format!(
                        "`{name}` is not a database bakeoff runs; use {}",
                        names.join(" or ")
                    ),
                ));
            };
            if out.contains(&d) {
                return Err(self.err(
                    "databases",
                    format!("`{name}` is listed twice; name each database once"),
                ));
            }
            out.push(d);
        }
        Ok(out)
    }

    pub(super) fn variants(&self, raw: Vec<RawVariant>) -> R<Vec<Variant>> {
        let mut out: Vec<Variant> = Vec::new();
        for (i, raw) in raw.into_iter().enumerate() {
            let prefix = format!("variants[{i}]");
            let v = self.variant(&prefix, raw)?;
            if out.iter().any(|o| o.name == v.name) {
                return Err(self.err(
                    &format!("{prefix}.name"),
                    format!(
                        "`{}` is already the name of another variant; variant names must be unique within the manifest",
                        v.name
                    ),
                ));
            }
            out.push(v);
        }
        Ok(out)
    }

    fn variant(&self, prefix: &str, raw: RawVariant) -> R<Variant> {
        let name = self.required(&format!("{prefix}.name"), raw.name, "sync")?;
        if !is_slug(&name) {
            return Err(self.err(
                &format!("{prefix}.name"),
                format!("`{name}` must use only a-z, 0-9 and '-' (not first), at most 64 characters; it is selected as <contender>@<name>, e.g. name = \"sync\""),
            ));
        }
        let description = self.required(
            &format!("{prefix}.description"),
            raw.description,
            "gunicorn sync workers, no keep-alive",
        )?;
        self.env(prefix, &raw.env)?;
        if let Some(argv) = &raw.command {
            self.check_command(&format!("{prefix}.command"), argv)?;
        }
        let disclosures = raw.disclosures.unwrap_or_default();
        if disclosures.iter().any(|d| d.trim().is_empty()) {
            return Err(self.err(
                &format!("{prefix}.disclosures"),
                "must be a list of non-empty strings, e.g. [\"sync workers close every connection\"]",
            ));
        }
        Ok(Variant {
            name,
            description,
            env: raw.env,
            command: raw.command,
            keep_alive: raw.keep_alive,
            disclosures,
        })
    }

    fn env(&self, prefix: &str, env: &BTreeMap<String, String>) -> R<()> {
        for (k, v) in env {
            let key_field = format!("{prefix}.env.{k}");
            let valid = k
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(self.err(
                    &key_field,
                    format!("`{k}` is not an environment variable name; use letters, digits and '_' (not a digit first), e.g. WORKER_CLASS"),
                ));
            }
            let reserved = RESERVED_ENV
                .iter()
                .any(|r| k == r || (r.ends_with('_') && k.starts_with(r)));
            if reserved {
                return Err(self.err(
                    &key_field,
                    format!("`{k}` is set by bakeoff (PORT, PATH and BAKEOFF_* are the contract's); use a name of your own, e.g. WORKER_CLASS"),
                ));
            }
            if v.contains('\0') {
                return Err(self.err(
                    &key_field,
                    format!("must be a string without NUL characters, e.g. {k} = \"1\""),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn lockfiles(
        &self,
        raw: BTreeMap<String, String>,
        kind: SetupKind,
    ) -> R<BTreeMap<String, PathBuf>> {
        let example = "lockfiles = { \"3.12\" = \"requirements-py312.txt\" }";
        if kind != SetupKind::Pip && !raw.is_empty() {
            return Err(self.err(
                "setup.lockfiles",
                "per-Python-version lockfiles are only used with kind = \"pip\"; remove them or change setup.kind",
            ));
        }
        let mut out = BTreeMap::new();
        for (minor, path) in raw {
            let field = format!("setup.lockfiles.\"{minor}\"");
            let version_ok = minor.strip_prefix("3.").is_some_and(|m| {
                !m.is_empty() && m.len() <= 3 && m.bytes().all(|b| b.is_ascii_digit())
            });
            if !version_ok {
                return Err(self.err(
                    &field,
                    format!(
                        "`{minor}` is not a Python minor version; keys are \"3.N\", e.g. {example}"
                    ),
                ));
            }
            if escapes(&path) {
                return Err(self.err(
                    &field,
                    format!(
                        "`{path}` must be a path inside the contender directory, e.g. {example}"
                    ),
                ));
            }
            out.insert(minor, PathBuf::from(path));
        }
        Ok(out)
    }
}
