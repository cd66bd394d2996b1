//! The manifest's `[[variants]]`, `setup.lockfiles` and `databases`, walked in
//! the same style as the rest of the manifest (every error names the dotted
//! field and the fix).

use std::collections::BTreeMap;
use std::path::PathBuf;

use toml::{Table, Value};

use super::{is_slug, type_name, SetupKind, Variant, Walker, R};
use crate::database::Database;

/// Environment names bakeoff sets itself; a variant cannot override them.
const RESERVED_ENV: [&str; 3] = ["PORT", "PATH", "BAKEOFF_"];

impl Walker<'_> {
    /// Top-level `databases`: a non-empty list of known names, each once.
    pub(super) fn databases(&self, root: &Table) -> R<Vec<Database>> {
        let names: Vec<&str> = Database::ALL.iter().map(|d| d.as_str()).collect();
        let example = "databases = [\"sqlite\", \"postgres\"]";
        let Some(v) = root.get("databases") else {
            return Ok(vec![Database::Sqlite]);
        };
        let list = self.string_list("databases", v, example)?;
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

    pub(super) fn variants(&self, root: &Table) -> R<Vec<Variant>> {
        let fix = "must be [[variants]] tables with name = \"...\" and description = \"...\"";
        let items = match root.get("variants") {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(self.err("variants", fix)),
        };
        let mut out: Vec<Variant> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let prefix = format!("variants[{i}]");
            let Value::Table(t) = item else {
                return Err(self.err(&prefix, fix));
            };
            let v = self.variant(&prefix, t)?;
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

    fn variant(&self, prefix: &str, t: &Table) -> R<Variant> {
        self.reject_unknown(
            prefix,
            t,
            &[
                "name",
                "description",
                "env",
                "command",
                "keep_alive",
                "disclosures",
            ],
        )?;
        let name = self.required_string(t, prefix, "name", "sync")?;
        if !is_slug(&name) {
            return Err(self.err(
                &format!("{prefix}.name"),
                format!("`{name}` must use only a-z, 0-9 and '-' (not first), at most 64 characters; it is selected as <contender>@<name>, e.g. name = \"sync\""),
            ));
        }
        let description = self.required_string(
            t,
            prefix,
            "description",
            "gunicorn sync workers, no keep-alive",
        )?;
        let env = self.env(prefix, t)?;
        let command = match t.get("command") {
            None => None,
            Some(v) => {
                let field = format!("{prefix}.command");
                let argv = self.string_list(&field, v, "[\"node\", \"server.js\"]")?;
                self.check_command(&field, &argv)?;
                Some(argv)
            }
        };
        let keep_alive = match t.get("keep_alive") {
            None => None,
            Some(Value::Boolean(b)) => Some(*b),
            Some(v) => {
                return Err(self.err(
                    &format!("{prefix}.keep_alive"),
                    format!(
                        "must be true or false, not a {}, e.g. keep_alive = false",
                        type_name(v)
                    ),
                ))
            }
        };
        let disclosures = match t.get("disclosures") {
            None => Vec::new(),
            Some(v) => {
                let field = format!("{prefix}.disclosures");
                let list =
                    self.string_list(&field, v, "[\"sync workers close every connection\"]")?;
                if list.iter().any(|d| d.trim().is_empty()) {
                    return Err(self.err(
                        &field,
                        "must be a list of non-empty strings, e.g. [\"sync workers close every connection\"]",
                    ));
                }
                list
            }
        };
        Ok(Variant {
            name,
            description,
            env,
            command,
            keep_alive,
            disclosures,
        })
    }

    fn env(&self, prefix: &str, t: &Table) -> R<BTreeMap<String, String>> {
        let field = format!("{prefix}.env");
        let env = match t.get("env") {
            None => return Ok(BTreeMap::new()),
            Some(Value::Table(env)) => env,
            Some(v) => {
                return Err(self.err(
                    &field,
                    format!(
                        "must be a table of NAME = \"value\", not a {}, e.g. env = {{ WORKER_CLASS = \"sync\" }}",
                        type_name(v)
                    ),
                ))
            }
        };
        let mut out = BTreeMap::new();
        for (k, v) in env {
            let key_field = format!("{field}.{k}");
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
            match v {
                Value::String(s) if !s.contains('\0') => {
                    out.insert(k.clone(), s.clone());
                }
                _ => {
                    return Err(self.err(
                        &key_field,
                        format!("must be a string, e.g. {k} = \"1\" (quote numbers and booleans)"),
                    ))
                }
            }
        }
        Ok(out)
    }

    pub(super) fn lockfiles(&self, t: &Table, kind: SetupKind) -> R<BTreeMap<String, PathBuf>> {
        let example = "lockfiles = { \"3.12\" = \"requirements-py312.txt\" }";
        let locks = match t.get("lockfiles") {
            None => return Ok(BTreeMap::new()),
            Some(Value::Table(locks)) => locks,
            Some(v) => {
                return Err(self.err(
                    "setup.lockfiles",
                    format!(
                        "must be a table of \"3.N\" = \"file\", not a {}, e.g. {example}",
                        type_name(v)
                    ),
                ))
            }
        };
        if kind != SetupKind::Pip && !locks.is_empty() {
            return Err(self.err(
                "setup.lockfiles",
                "per-Python-version lockfiles are only used with kind = \"pip\"; remove them or change setup.kind",
            ));
        }
        let mut out = BTreeMap::new();
        for (minor, file) in locks {
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
            let Value::String(path) = file else {
                return Err(self.err(
                    &field,
                    format!("must be a file name string, e.g. {example}"),
                ));
            };
            let p = PathBuf::from(path);
            let escapes = path.trim().is_empty()
                || p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir));
            if escapes {
                return Err(self.err(
                    &field,
                    format!(
                        "`{path}` must be a path inside the contender directory, e.g. {example}"
                    ),
                ));
            }
            out.insert(minor.clone(), p);
        }
        Ok(out)
    }
}
