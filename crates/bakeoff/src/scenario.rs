//! Scenario files (`docs/scenarios.md`): a TOML description of a service's own
//! requests (named classes with methods, paths, queries, headers, bodies,
//! weights, templates and expectations, and CSV tables their templates read),
//! turned into the engine's [`RequestSpec`]s. Every error names the file, the
//! request or table, and the fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bakeoff_load::expect::Expect;
use bakeoff_load::template::{Context, Order, RequestTemplate, Table, Tables, Text};
use bakeoff_load::{RequestSpec, SessionSpec};
use bytes::Bytes;
use schemars::JsonSchema;
use serde::Deserialize;

mod sessions;

/// The largest body a request may carry (before its templates are rendered).
pub const MAX_BODY: usize = 256 * 1024;

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("scenario {}: {message}", path.display())]
pub struct ScenarioError {
    pub path: PathBuf,
    pub message: String,
}

/// A loaded scenario: its requests, ready for a `LoadConfig`.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The service's base URL, when the file names one.
    pub target: Option<String>,
    pub requests: Vec<RequestSpec>,
    /// `[[session]]`s: when there are any, the mix is theirs.
    pub sessions: Vec<SessionSpec>,
}

impl Scenario {
    /// The class names, in the file's order.
    pub fn classes(&self) -> Vec<&str> {
        self.requests.iter().map(|r| r.class.as_str()).collect()
    }
}

/// A `bakeoff load --scenario` file (TOML): a service's own requests, mixed by
/// weight, with templated values and checks on each response (docs/scenarios.md).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "bakeoff scenario file")]
struct File {
    /// The service's base URL; a URL on the command line wins. Scheme, host and
    /// port are used; every request names its own path.
    target: Option<String>,
    /// Tables a template reads with `{{ csv TABLE.COLUMN }}`.
    #[serde(default)]
    data: BTreeMap<String, DataFile>,
    /// Applied to every request; a request's own headers and expectation win.
    #[serde(default)]
    defaults: Defaults,
    /// The request classes.
    #[serde(default)]
    request: Vec<RequestFile>,
    /// Requests in a fixed order on one connection; when any is given, the mix
    /// is the sessions' (by their weights), not the requests'.
    #[serde(default)]
    session: Vec<SessionFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SessionFile {
    /// Its name, for messages; unique.
    name: String,
    /// Request names, in the order they are sent (a name may repeat).
    steps: Vec<String>,
    /// Share of the sessions' mix (0 = never).
    #[serde(default = "one")]
    weight: u32,
    /// A closed loop's pause after each step, `"1s"` or a range `"500ms..2s"`
    /// (virtual users; refused with a rate).
    think: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DataFile {
    /// A CSV file, relative to the scenario file; its first line names the columns.
    file: String,
    /// Which row each request reads.
    #[serde(default)]
    order: OrderName,
}

#[derive(Debug, Default, Deserialize, Clone, Copy, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum OrderName {
    #[default]
    Sequential,
    Random,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Defaults {
    #[serde(default)]
    headers: BTreeMap<String, String>,
    expect: Option<ExpectFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RequestFile {
    /// The class name in the results; unique.
    name: String,
    #[serde(default = "get")]
    method: String,
    /// The path and query, templated.
    path: String,
    /// Appended to the path; values templated.
    #[serde(default)]
    query: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The body, templated (or `body_file`, relative to the scenario file).
    body: Option<String>,
    body_file: Option<String>,
    /// Share of the mix (0 = never; default 1). Not given with sessions,
    /// whose own weights make the mix.
    weight: Option<u32>,
    expect: Option<ExpectFile>,
}

fn get() -> String {
    "GET".into()
}

fn one() -> u32 {
    1
}

/// What a response must be; a miss is an error of kind `expectation`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ExpectFile {
    /// The accepted statuses (default: any 2xx).
    status: Option<Vec<u16>>,
    /// The body contains this text.
    body_contains: Option<String>,
    /// The body is JSON with this value at this pointer.
    json: Option<JsonFile>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct JsonFile {
    /// An RFC 6901 JSON pointer.
    pointer: String,
    #[schemars(with = "serde_json::Value")]
    equals: toml::Value,
}

/// The scenario file's JSON Schema (`docs/schema/scenario.json`), for editors
/// that check TOML against one.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(File)).expect("a schema is plain JSON")
}

/// Read and check the scenario at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let fail = |message: String| ScenarioError {
        path: path.to_path_buf(),
        message,
    };
    let text = crate::input_file::read_to_string(path, crate::input_file::TEXT_LIMIT)
        .map_err(|e| fail(format!("cannot read it ({e})")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, dir).map_err(fail)
}

/// A body over [`MAX_BODY`], of `len` bytes when known.
fn body_too_large(len: Option<usize>) -> String {
    let is = len.map_or("over".to_string(), |n| format!("{n} bytes, over"));
    format!(
        "the body is {is} the {} KiB limit: every send renders and writes it, so a larger body measures the generator; send a smaller one",
        MAX_BODY / 1024
    )
}

/// Parse a scenario's text; `dir` is where its relative file names start.
pub fn parse(text: &str, dir: &Path) -> Result<Scenario, String> {
    let file: File = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!("line {}: ", text[..s.start].lines().count().max(1)))
            .unwrap_or_default();
        format!("{at}{}; see docs/scenarios.md", e.message().trim_end())
    })?;
    if file.request.is_empty() {
        return Err(
            "no [[request]]: declare at least one, e.g. [[request]] name = \"home\" path = \"/\""
                .into(),
        );
    }
    let tables = Tables(Arc::new(
        file.data
            .iter()
            .map(|(name, d)| {
                table(name, d, dir).map_err(|e| {
                    format!(
                        "{}{e}",
                        at_line(line_of(text, &format!("[data.{name}]"), None))
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    ));
    let mut names = BTreeSet::new();
    let mut requests = Vec::new();
    for r in &file.request {
        if r.name.trim().is_empty() {
            return Err("a [[request]] has an empty name; give each a name".into());
        }
        if !names.insert(r.name.as_str()) {
            return Err(format!(
                "two [[request]]s are named `{}`; names must be unique",
                r.name
            ));
        }
        requests.push(request(r, &file.defaults, &tables, dir).map_err(|e| {
            let line = line_of(text, "[[request]]", Some(&r.name));
            format!("{}request `{}`: {e}", at_line(line), r.name)
        })?);
    }
    let sessions = sessions::sessions(&file)?;
    if sessions.is_empty() && requests.iter().all(|r| r.weight == 0) {
        return Err("every request has weight 0; give at least one a weight above 0".into());
    }
    if let Some(target) = &file.target {
        let url = url::Url::parse(target).map_err(|e| {
            format!("target `{target}` is not a URL ({e}); e.g. http://127.0.0.1:8080")
        })?;
        if url.scheme() != "http" {
            return Err(format!("target `{target}`: only http:// is supported"));
        }
    }
    Ok(Scenario {
        target: file.target,
        requests,
        sessions,
    })
}

/// The line (from 1) of the table headed `header` whose `name` is `name`
/// (any such table when `None`): where a message sends the user.
fn line_of(text: &str, header: &str, name: Option<&str>) -> Option<usize> {
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line == header;
            if in_table && name.is_none() {
                return Some(i + 1);
            }
            continue;
        }
        let Some(name) = name.filter(|_| in_table) else {
            continue;
        };
        let value = line
            .strip_prefix("name")
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix('='))
            .map(|v| {
                v.split('#')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches(['"', '\''])
            });
        if value == Some(name) {
            return Some(i + 1);
        }
    }
    None
}

fn at_line(line: Option<usize>) -> String {
    line.map(|n| format!("line {n}: ")).unwrap_or_default()
}

fn table(name: &str, d: &DataFile, dir: &Path) -> Result<Table, String> {
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid_name {
        return Err(format!(
            "[data.{name}]: a table's name may hold only letters, digits, _ and -"
        ));
    }
    let path = dir.join(&d.file);
    let bad = |why: String| format!("[data.{name}] file {}: {why}", path.display());
    let file = crate::input_file::open(&path, crate::input_file::DATA_LIMIT)
        .map_err(|e| bad(format!("cannot read it ({e})")))?;
    let mut reader = csv::Reader::from_reader(file);
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| bad(format!("no header line ({e})")))?
        .iter()
        .map(|c| c.trim().to_string())
        .collect();
    if columns.iter().any(String::is_empty) {
        return Err(bad("its header line has an empty column name".into()));
    }
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| bad(format!("{e}")))?;
        rows.push(record.iter().map(Bytes::copy_from_slice).collect());
    }
    if rows.is_empty() {
        return Err(bad("no rows after the header line".into()));
    }
    Ok(Table {
        name: name.to_string(),
        columns,
        rows,
        order: match d.order {
            OrderName::Sequential => Order::Sequential,
            OrderName::Random => Order::Random,
        },
    })
}

fn request(
    r: &RequestFile,
    defaults: &Defaults,
    tables: &Tables,
    dir: &Path,
) -> Result<RequestSpec, String> {
    let method = r.method.trim().to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "method `{}` is not an HTTP method; use e.g. GET or POST",
            r.method
        ));
    }
    if !r.path.starts_with('/') {
        return Err(format!("path `{}` must start with /", r.path));
    }
    let mut target = r.path.clone();
    for (i, (key, value)) in r.query.iter().enumerate() {
        target.push(if i == 0 && !r.path.contains('?') {
            '?'
        } else {
            '&'
        });
        target.push_str(&encode_key(key));
        target.push('=');
        target.push_str(value);
    }
    let path = Text::parse(&target, Context::Path, tables).map_err(|e| format!("path: {e}"))?;
    let mut merged = defaults.headers.clone();
    merged.extend(r.headers.clone());
    let mut headers = Vec::new();
    for (name, value) in &merged {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
        if !valid {
            return Err(format!(
                "header name `{name}` is not a valid HTTP header name"
            ));
        }
        if value.contains(['\r', '\n']) {
            return Err(format!("header `{name}` has a line break in its value"));
        }
        // bakeoff frames each rendered body itself: a length of the user's
        // would disagree with a templated body, and chunked framing it cannot send.
        if ["content-length", "transfer-encoding"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            return Err(format!(
                "header `{name}` would break the request's framing: bakeoff sends each rendered body with its own Content-Length; remove the header"
            ));
        }
        let text = Text::parse(value, Context::Header, tables)
            .map_err(|e| format!("header `{name}`: {e}"))?;
        text.check_header_values(tables)
            .map_err(|e| format!("header `{name}`: {e}"))?;
        headers.push((name.clone(), text));
    }
    let body = match (&r.body, &r.body_file) {
        (Some(_), Some(_)) => {
            return Err("give body or body_file, not both".into());
        }
        (Some(b), None) => b.clone(),
        (None, Some(f)) => {
            let p = dir.join(f);
            // One byte past the limit is enough to refuse it below.
            let bytes =
                crate::input_file::read(&p, MAX_BODY as u64 + 1).map_err(|e| match e.kind() {
                    std::io::ErrorKind::InvalidData => body_too_large(None),
                    _ => format!("body_file {}: cannot read it ({e})", p.display()),
                })?;
            String::from_utf8(bytes).map_err(|_| {
                format!(
                    "body_file {}: not UTF-8 text; a body template is text",
                    p.display()
                )
            })?
        }
        (None, None) => String::new(),
    };
    if body.len() > MAX_BODY {
        return Err(body_too_large(Some(body.len())));
    }
    let body = Text::parse(&body, Context::Body, tables).map_err(|e| format!("body: {e}"))?;
    let expect = match r.expect.clone().or_else(|| defaults.expect.clone()) {
        Some(e) => Some(Arc::new(expectation(e)?)),
        None => None,
    };
    Ok(RequestSpec {
        class: r.name.clone(),
        weight: r.weight.unwrap_or(1),
        template: Some(Arc::new(RequestTemplate {
            method: method.clone(),
            path,
            headers,
            body,
            tables: tables.clone(),
        })),
        expect,
        method,
        ..RequestSpec::get(r.path.clone())
    })
}

fn expectation(e: ExpectFile) -> Result<Expect, String> {
    let status = e.status.unwrap_or_default();
    if let Some(bad) = status.iter().find(|s| !(100..=599).contains(*s)) {
        return Err(format!(
            "expect.status {bad} is not an HTTP status (100 to 599)"
        ));
    }
    let json = match e.json {
        Some(j) => {
            if !(j.pointer.is_empty() || j.pointer.starts_with('/')) {
                return Err(format!(
                    "expect.json.pointer `{}` is not a JSON pointer; it starts with /, e.g. /user/id",
                    j.pointer
                ));
            }
            let value =
                serde_json::to_value(&j.equals).map_err(|e| format!("expect.json.equals: {e}"))?;
            Some((j.pointer, value))
        }
        None => None,
    };
    Ok(Expect {
        status,
        body_contains: e.body_contains,
        json,
    })
}

/// A query key as written, with what a query cannot carry percent-encoded.
fn encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SHOP: &str = r#"
target = "http://127.0.0.1:8080"

[data.users]
file = "users.csv"
order = "random"

[defaults]
headers = { Accept = "application/json" }

[[request]]
name = "search"
path = "/search"
query = { q = "{{ pick shoes hats }}", "page no" = "{{ int 1 5 }}" }
headers = { X-User = "{{ csv users.id }}" }
weight = 3
expect = { status = [200], body_contains = "results" }

[[request]]
name = "login"
method = "post"
path = "/login"
body = '{"user": "{{ csv users.name }}"}'
expect = { json = { pointer = "/ok", equals = true } }
"#;

    fn dir_with_users() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("users.csv"), "id,name\n1,ann\n2,bo\n").unwrap();
        dir
    }

    #[test]
    fn a_scenario_becomes_templated_requests() {
        let dir = dir_with_users();
        let s = parse(SHOP, dir.path()).unwrap();
        assert_eq!(s.target.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(s.classes(), ["search", "login"]);
        let search = &s.requests[0];
        assert_eq!(search.weight, 3);
        let t = search.template.as_ref().unwrap();
        assert_eq!(t.method, "GET");
        assert_eq!(t.headers.len(), 2, "the default header and its own");
        let x = search.expect.as_ref().unwrap();
        assert_eq!(x.status, [200]);
        assert_eq!(x.body_contains.as_deref(), Some("results"));
        let login = &s.requests[1];
        assert_eq!(login.template.as_ref().unwrap().method, "POST");
        assert_eq!(
            login.expect.as_ref().unwrap().json,
            Some(("/ok".into(), serde_json::json!(true)))
        );
    }

    #[test]
    fn mistakes_are_named_with_their_fix() {
        let dir = dir_with_users();
        let err = |text: &str| parse(text, dir.path()).unwrap_err();
        assert!(err("").contains("no [[request]]"));
        assert!(err("[[request]]\nname = \"a\"\npath = \"/\"\nspeed = 3\n")
            .contains("unknown field `speed`"));
        assert!(err("[[request]]\nname = \"a\"\npath = \"x\"\n").contains("must start with /"));
        assert!(err(
            "[[request]]\nname = \"a\"\npath = \"/\"\n[[request]]\nname = \"a\"\npath = \"/\"\n"
        )
        .contains("named `a`"));
        assert!(
            err("[[request]]\nname = \"a\"\npath = \"/{{ csv nobody.id }}\"\n")
                .contains("request `a`: path: `{{ csv nobody.id }}`: no table")
        );
        assert!(err("[data.users]\nfile = \"users.csv\"\n[[request]]\nname = \"a\"\npath = \"/{{ csv users.mail }}\"\n")
            .contains("its columns are id, name"));
        assert!(err(
            "[data.users]\nfile = \"none.csv\"\n[[request]]\nname = \"a\"\npath = \"/\"\n"
        )
        .contains("cannot read it"));
        assert!(
            err("[[request]]\nname = \"a\"\npath = \"/\"\nbody = \"x\"\nbody_file = \"y\"\n")
                .contains("not both")
        );
        assert!(
            err("[[request]]\nname = \"a\"\npath = \"/\"\nexpect = { status = [42] }\n")
                .contains("not an HTTP status")
        );
        assert!(err("[[request]]\nname = \"a\"\npath = \"/\"\nweight = 0\n").contains("weight 0"));
        for framing in ["Content-Length", "transfer-encoding"] {
            let bad = err(&format!(
                "[[request]]\nname = \"a\"\npath = \"/\"\nheaders = {{ {framing} = \"3\" }}\n"
            ));
            assert!(bad.contains("break the request's framing"), "{bad}");
        }
        let huge = "x".repeat(MAX_BODY + 1);
        let bad = err(&format!(
            "[[request]]\nname = \"a\"\npath = \"/\"\nbody = \"{huge}\"\n"
        ));
        assert!(
            bad.contains("over the 256 KiB limit"),
            "{}",
            &bad[..200.min(bad.len())]
        );
        assert!(
            err("[[request]]\nname = \"a\"\npath = \"/\"\nmethod = \"GE T\"\n")
                .contains("not an HTTP method")
        );
        assert!(err(
            "[[request]]\nname = \"a\"\npath = \"/\"\nheaders = { \"Bad Name\" = \"1\" }\n"
        )
        .contains("not a valid HTTP header name"));
        assert!(
            err("target = \"ftp://x\"\n[[request]]\nname = \"a\"\npath = \"/\"\n")
                .contains("only http://")
        );
        assert!(err("[[request]]\nname = \"a\"\npath = \"/\"\nexpect = { json = { pointer = \"ok\", equals = 1 } }\n")
            .contains("not a JSON pointer"));
        assert!(
            err("[[request]]\nname = \"a\"\n").contains("line"),
            "{}",
            err("[[request]]\nname = \"a\"\n")
        );
    }

    /// `examples/crud.toml` loads, with the four CRUD classes and their checks.
    #[test]
    fn the_crud_example_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/crud.toml");
        let s = load(&path).unwrap();
        assert_eq!(s.classes(), ["list", "get", "create", "search"]);
        assert!(s.requests.iter().all(|r| r.expect.is_some()));
        let create = s.requests[2].template.as_ref().unwrap();
        assert!(!create.body.is_static(), "a templated JSON body");
        assert!(create
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type")));
    }

    const BROWSE: &str = r#"
[[request]]
name = "list"
path = "/items"

[[request]]
name = "get"
path = "/items/{{ int 1 100 }}"

[[request]]
name = "search"
path = "/search?q=x"

[[session]]
name = "browse"
steps = ["list", "get", "get"]
weight = 3
think = "100ms..2s"

[[session]]
name = "find"
steps = ["search", "get"]
"#;

    #[test]
    fn sessions_name_their_steps_and_think() {
        let s = parse(BROWSE, Path::new(".")).unwrap();
        assert_eq!(s.classes(), ["list", "get", "search"]);
        assert_eq!(s.sessions.len(), 2);
        let browse = &s.sessions[0];
        assert_eq!(
            (browse.steps.as_slice(), browse.weight),
            ([0, 1, 1].as_slice(), 3)
        );
        let think = browse.think.unwrap();
        assert_eq!(
            (think.min, think.max),
            (Duration::from_millis(100), Duration::from_secs(2))
        );
        let find = &s.sessions[1];
        assert_eq!(
            (find.steps.as_slice(), find.weight, find.think),
            ([2, 1].as_slice(), 1, None)
        );
        assert_eq!(
            parse(&BROWSE.replace("100ms..2s", "1s"), Path::new("."))
                .unwrap()
                .sessions[0]
                .think
                .map(|t| (t.min, t.max)),
            Some((Duration::from_secs(1), Duration::from_secs(1)))
        );
    }

    #[test]
    fn session_mistakes_are_named_with_their_fix() {
        let err = |text: &str| parse(text, Path::new(".")).unwrap_err();
        let bad = err(&BROWSE.replace("\"list\", \"get\", \"get\"", "\"list\", \"buy\""));
        assert!(
            bad.contains("step `buy` is not a [[request]] name (there are: list, get, search)"),
            "{bad}"
        );
        let bad = err(&BROWSE.replace("[\"search\", \"get\"]", "[\"get\"]"));
        assert!(
            bad.contains("request `search` is a step of no session"),
            "{bad}"
        );
        let bad = err(&BROWSE.replace("path = \"/items\"\n", "path = \"/items\"\nweight = 2\n"));
        assert!(
            bad.contains("request `list` has a weight") && bad.contains("sessions"),
            "{bad}"
        );
        let bad = err(&BROWSE.replace("100ms..2s", "2s..100ms"));
        assert!(
            bad.contains("session `browse`: think") && bad.contains("shorter"),
            "{bad}"
        );
        let bad = err(&BROWSE.replace("100ms..2s", "soon"));
        assert!(bad.contains("`soon` is not a duration"), "{bad}");
        let bad = err(&BROWSE.replace("[\"search\", \"get\"]", "[]"));
        assert!(bad.contains("session `find` has no steps"), "{bad}");
        let bad = err(&BROWSE.replace("name = \"find\"", "name = \"browse\""));
        assert!(bad.contains("two [[session]]s are named `browse`"), "{bad}");
        let zero = BROWSE.replace("weight = 3", "weight = 0").replace(
            "steps = [\"search\", \"get\"]",
            "steps = [\"search\", \"get\"]\nweight = 0",
        );
        assert!(err(&zero).contains("every session has weight 0"));
    }

    #[test]
    fn request_and_table_mistakes_name_their_line() {
        let err = |text: &str| parse(text, Path::new(".")).unwrap_err();
        let text = "[[request]]\nname = \"ok\"\npath = \"/\"\n\n[[request]]\nname = 'bad'  # the one\npath = \"x\"\n";
        let bad = err(text);
        assert!(
            bad.starts_with("line 6: request `bad`: path `x` must start with /"),
            "{bad}"
        );
        let bad =
            err("[[request]]\nname = \"a\"\npath = \"/\"\n\n[data.users]\nfile = \"none.csv\"\n");
        assert!(bad.starts_with("line 5: [data.users] file"), "{bad}");
    }

    #[test]
    fn query_keys_are_encoded_and_appended() {
        assert_eq!(encode_key("page no"), "page%20no");
        assert_eq!(encode_key("a-b_c"), "a-b_c");
    }

    #[test]
    fn endless_or_huge_files_are_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        // A sparse file: huge to `stat`, nothing on disk.
        let huge = dir.path().join("huge.json");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(4 << 30)
            .unwrap();
        let err = |text: &str| parse(text, dir.path()).unwrap_err();
        let bad = err("[[request]]\nname = \"a\"\npath = \"/\"\nbody_file = \"huge.json\"\n");
        assert!(bad.contains("over the 256 KiB limit"), "{bad}");
        let bad = err("[[request]]\nname = \"a\"\npath = \"/\"\n[data.u]\nfile = \"/dev/zero\"\n");
        assert!(bad.contains("is this the right file?"), "{bad}");
        let bad = load(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(bad.contains("larger than 16 MiB"), "{bad}");
    }
}
