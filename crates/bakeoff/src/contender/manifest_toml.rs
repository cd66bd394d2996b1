//! The manifest as written: `#[derive(Deserialize)]` structs that mirror the TOML
//! tables, with `deny_unknown_fields` everywhere. Type errors are caught here,
//! with the dotted path of the field (`serde_path_to_error`) and a message saying
//! what the field must be ([`rephrase`]); the rules between fields (required,
//! ranges, names) are checked afterwards, in `manifest.rs`.
//!
//! A new field is one line in the struct of its table, plus its rule where the
//! manifest is validated.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::MAX_WORKERS;

/// The top-level table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManifest {
    pub name: Option<String>,
    pub language: Option<String>,
    pub runtime: Option<String>,
    pub framework: Option<String>,
    pub server: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    pub keep_alive: Option<bool>,
    pub setup: Option<RawSetup>,
    pub start: Option<RawStart>,
    pub workers: Option<RawWorkers>,
    pub endpoints: Option<RawEndpoints>,
    #[serde(default, deserialize_with = "disclosures")]
    pub disclosures: Vec<RawDisclosure>,
    #[serde(default, deserialize_with = "variants")]
    pub variants: Vec<RawVariant>,
    #[serde(default, deserialize_with = "strings")]
    pub databases: Option<Vec<String>>,
    #[serde(default, deserialize_with = "workloads")]
    pub workloads: Vec<RawWorkload>,
}

/// `[setup]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSetup {
    pub kind: Option<String>,
    pub lockfile: Option<String>,
    #[serde(default, deserialize_with = "lockfiles")]
    pub lockfiles: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "commands")]
    pub commands: Vec<Vec<String>>,
}

/// `[start]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStart {
    #[serde(default, deserialize_with = "argv")]
    pub command: Option<Vec<String>>,
    pub health_path: Option<String>,
    #[serde(default, deserialize_with = "duration")]
    pub start_timeout: Option<String>,
    #[serde(default, deserialize_with = "duration")]
    pub stop_grace: Option<String>,
}

/// `[workers]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkers {
    #[serde(default, deserialize_with = "count")]
    pub default: Option<i64>,
    #[serde(default, deserialize_with = "count")]
    pub max: Option<i64>,
}

/// `[endpoints]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEndpoints {
    #[serde(default, deserialize_with = "strings")]
    pub supported: Option<Vec<String>>,
    #[serde(default, deserialize_with = "unsupported")]
    pub unsupported: BTreeMap<String, String>,
}

/// One `[[disclosures]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDisclosure {
    pub text: Option<String>,
}

/// One `[[variants]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVariant {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "env")]
    pub env: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "argv")]
    pub command: Option<Vec<String>>,
    #[serde(default, deserialize_with = "flag")]
    pub keep_alive: Option<bool>,
    #[serde(default, deserialize_with = "strings")]
    pub disclosures: Option<Vec<String>>,
}

/// One `[[workloads]]` entry: a custom workload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkload {
    pub name: Option<String>,
    pub scenario: Option<String>,
}

/// What a start command must be.
pub(super) const ARGV: &str =
    "a list of non-empty strings, e.g. [\"node\", \"server.js\"] (an argv list, never a shell string)";

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(Flag).map(Some)
}

fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(Count).map(Some)
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Text("a duration string such as \"30s\" or \"500ms\""))
        .map(Some)
}

fn argv<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    d.deserialize_any(List(ARGV)).map(Some)
}

fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    d.deserialize_any(List("a list of non-empty strings"))
        .map(Some)
}

fn commands<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<String>>, D::Error> {
    d.deserialize_any(Lists)
}

fn env<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    d.deserialize_any(Table {
        expecting: "a table of NAME = \"value\", e.g. env = { WORKER_CLASS = \"sync\" }",
        value: "a string, e.g. NAME = \"1\" (quote numbers and booleans)",
    })
}

fn lockfiles<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    d.deserialize_any(Table {
        expecting: "a table of \"3.N\" = \"file\", e.g. lockfiles = { \"3.12\" = \"requirements-py312.txt\" }",
        value: "a file name string, e.g. \"requirements-py312.txt\"",
    })
}

fn unsupported<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    d.deserialize_any(Table {
        expecting: "a table of endpoint = \"reason\", e.g. ws = \"Django needs Channels for WebSockets\"",
        value: "a non-empty string giving the reason, e.g. ws = \"Django needs Channels for WebSockets\"",
    })
}

fn disclosures<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RawDisclosure>, D::Error> {
    d.deserialize_any(Tables::new("[[disclosures]] tables with text = \"...\""))
}

fn variants<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RawVariant>, D::Error> {
    d.deserialize_any(Tables::new(
        "[[variants]] tables with name = \"...\" and description = \"...\"",
    ))
}

fn workloads<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RawWorkload>, D::Error> {
    d.deserialize_any(Tables::new(
        "[[workloads]] tables with name = \"...\" and scenario = \"file.toml\"",
    ))
}

/// A boolean.
struct Flag;

impl Visitor<'_> for Flag {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false (no quotes)")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
}

/// A worker count; the range is checked with the other rules.
struct Count;

impl Visitor<'_> for Count {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an integer from 1 to {MAX_WORKERS}")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
}

/// A string, described by `.0`.
#[derive(Clone, Copy)]
struct Text(&'static str);

impl Visitor<'_> for Text {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl<'de> DeserializeSeed<'de> for Text {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

/// A list of non-empty strings, described by `.0`. A bad item is an error of
/// the list (the fix is the list's), not of `list[i]`.
#[derive(Clone, Copy)]
struct List(&'static str);

impl<'de> Visitor<'de> for List {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<toml::Value>()? {
            match item {
                toml::Value::String(s) if !s.is_empty() => out.push(s),
                other => {
                    let got = match &other {
                        toml::Value::String(_) => "an empty string".to_string(),
                        v => with_article(v.type_str()),
                    };
                    return Err(de::Error::custom(format!(
                        "must be {}; item {} is {got}",
                        self.0,
                        out.len() + 1
                    )));
                }
            }
        }
        Ok(out)
    }
}

impl<'de> DeserializeSeed<'de> for List {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_any(self)
    }
}

/// `setup.commands`: a list of argv lists.
struct Lists;

impl<'de> Visitor<'de> for Lists {
    type Value = Vec<Vec<String>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of argv lists, e.g. commands = [[\"npm\", \"run\", \"build\"]]")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let item = List("a list of non-empty strings, e.g. [\"npm\", \"run\", \"build\"]");
        let mut out = Vec::new();
        while let Some(argv) = seq.next_element_seed(item)? {
            out.push(argv);
        }
        Ok(out)
    }
}

/// A table of strings: `expecting` describes the table, `value` each entry.
struct Table {
    expecting: &'static str,
    value: &'static str,
}

impl<'de> Visitor<'de> for Table {
    type Value = BTreeMap<String, String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Text(self.value))?;
            out.insert(key, value);
        }
        Ok(out)
    }
}

/// An array of tables (`[[name]]`).
struct Tables<T> {
    expecting: &'static str,
    item: std::marker::PhantomData<T>,
}

impl<T> Tables<T> {
    fn new(expecting: &'static str) -> Tables<T> {
        Tables {
            expecting,
            item: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Tables<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element()? {
            out.push(item);
        }
        Ok(out)
    }
}

/// Deserialize the parsed table; an error is `(dotted field, message)`.
pub(super) fn from_table(table: toml::Table) -> Result<RawManifest, (String, String)> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let field = dotted(e.path());
        let last = e.path().iter().rev().find_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            _ => None,
        });
        (field, rephrase(e.inner().message(), last.as_deref()))
    })
}

/// `variants[0].env.NAME`, with keys that are not bare TOML keys quoted
/// (`setup.lockfiles."3.12"`).
fn dotted(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                match bare {
                    true => out.push_str(key),
                    false => out.push_str(&format!("{key:?}")),
                }
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    if out.is_empty() {
        out.push_str("(top level)");
    }
    out
}

/// serde's messages in the manifest's words: an unknown key lists the allowed
/// ones, a wrong type says what the field must be. `key` is the field's name.
pub(super) fn rephrase(message: &str, key: Option<&str>) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let expected = rest.split_once(", ").map_or("", |(_, e)| e);
        let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let allowed = match allowed.is_empty() {
            true => "nothing".to_string(),
            false => allowed.join(", "),
        };
        return format!(
            "unknown key; allowed here: {allowed} (check the spelling against docs/contract.md)"
        );
    }
    let wrong = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.rsplit_once(", expected "));
    let Some((got, want)) = wrong else {
        return message.to_string();
    };
    let want = match want {
        w if w.starts_with("struct ") => match key {
            Some(k) => format!("a table ([{k}])"),
            None => "a table".to_string(),
        },
        "a sequence" => "a list".to_string(),
        "a map" => "a table".to_string(),
        w => w.to_string(),
    };
    let got = match got {
        "sequence" => "a list".to_string(),
        "map" => "a table".to_string(),
        g => with_article(g),
    };
    format!("must be {want}, not {got}")
}

/// "an integer", "a string".
fn with_article(noun: &str) -> String {
    match noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        true => format!("an {noun}"),
        false => format!("a {noun}"),
    }
}
