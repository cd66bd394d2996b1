//! Request templates: a path, header values and a body with placeholders that
//! change per request (a random id, a pick from a list, a CSV row, a sequence
//! number, a UUID), rendered by the engine into a connection's own buffers, so
//! a templated send allocates nothing once the buffers have grown.
//!
//! Placeholders are `{{ name args… }}`:
//! - `{{ int LO HI }}`: a uniform integer in `LO..=HI`;
//! - `{{ pick A B C }}`: one of the words, uniformly;
//! - `{{ csv TABLE.COLUMN }}`: a column of a [`Table`]'s row; every placeholder
//!   of one request reads the same row (sequential or random, per table);
//! - `{{ seq }}`: 0, 1, 2… per engine (per shard);
//! - `{{ uuid }}`: a random (version 4) UUID.
//!
//! In a path, rendered values are percent-encoded where a request line cannot
//! carry them as they are (spaces, controls, non-ASCII, `#`…); in a query
//! value, `&`, `=`, `+` and `%` are encoded too. Header values may not contain
//! line breaks (checked when the table is loaded).

use std::cell::Cell;
use std::sync::Arc;

use bytes::Bytes;

use crate::rng::Rng;

/// Why a template or a table cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{` with no `}}` after it; the byte offset of the `{{` in the source.
    #[error("`{{{{` at byte {0} is never closed with `}}}}`")]
    Unclosed(usize),
    /// A placeholder name that is none of the five; the name.
    #[error("unknown placeholder `{{{{ {0} }}}}`: use int, pick, csv, seq or uuid")]
    Unknown(String),
    /// A known placeholder with wrong arguments.
    #[error("`{{{{ {placeholder} }}}}`: {why}")]
    Arguments {
        /// The placeholder's text between the braces.
        placeholder: String,
        /// What is wrong and an example of the right form.
        why: String,
    },
    /// A `csv` placeholder names a table the scenario does not declare.
    #[error("`{{{{ csv {reference} }}}}`: no table `{table}`; declare it under [data.{table}]")]
    NoTable {
        /// The `table.column` as written.
        reference: String,
        /// The table's name.
        table: String,
    },
    /// A `csv` placeholder names a column its table does not have.
    #[error("`{{{{ csv {table}.{column} }}}}`: the table has no column `{column}`; its columns are {columns}")]
    NoColumn {
        /// The table's name.
        table: String,
        /// The missing column's name.
        column: String,
        /// The table's columns, comma-separated.
        columns: String,
    },
    /// A header template reads a table value that contains a line break.
    #[error(
        "table `{table}`, row {row}: column `{column}` has a line break and is used in a header"
    )]
    LineBreak {
        /// The table's name.
        table: String,
        /// The row's number, from 1.
        row: usize,
        /// The column's name.
        column: String,
    },
}

/// Where a template's text goes: what its rendered values must be encoded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The request target (path and query), up to the first `?`; then a query.
    Path,
    /// A query value: `&`, `=`, `+` and `%` are encoded too.
    Query,
    /// A header value: as is (line breaks are refused when the table loads).
    Header,
    /// The body: as is.
    Body,
}

/// How a table's rows are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Row 0, 1, 2…, wrapping around.
    Sequential,
    /// A uniform random row per request.
    Random,
}

/// Rows of named columns (a CSV file's), read by `{{ csv name.column }}`.
#[derive(Debug, PartialEq)]
pub struct Table {
    /// The name `csv` placeholders use (`{{ csv name.column }}`).
    pub name: String,
    /// The column names, in order.
    pub columns: Vec<String>,
    /// The rows, each one value per column in `columns`' order.
    pub rows: Vec<Vec<Bytes>>,
    /// How rows are handed out.
    pub order: Order,
}

/// The tables a scenario declares, shared by every template that reads them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tables(pub Arc<Vec<Table>>);

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(Bytes),
    Int { lo: i64, span: u64 },
    Pick(Vec<Bytes>),
    Column { table: usize, column: usize },
    Seq,
    Uuid,
}

/// One templated string: literal pieces and placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    parts: Vec<Part>,
    context: Context,
}

impl Text {
    /// Parse `source` for `context`, resolving `csv` placeholders in `tables`.
    pub fn parse(source: &str, context: Context, tables: &Tables) -> Result<Text, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Lit(Bytes::copy_from_slice(&rest.as_bytes()[..open])));
            }
            let inner_start = open + 2;
            let Some(close) = rest[inner_start..].find("}}") else {
                return Err(TemplateError::Unclosed(offset + open));
            };
            let inner = rest[inner_start..inner_start + close].trim();
            parts.push(placeholder(inner, tables)?);
            let used = inner_start + close + 2;
            offset += used;
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(Bytes::copy_from_slice(rest.as_bytes())));
        }
        Ok(Text { parts, context })
    }

    /// No placeholders: the same bytes every time.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The literal text of a static template.
    pub fn literal(&self) -> Option<Vec<u8>> {
        self.is_static().then(|| {
            self.parts
                .iter()
                .flat_map(|p| match p {
                    Part::Lit(b) => b.to_vec(),
                    _ => Vec::new(),
                })
                .collect()
        })
    }

    /// Append one rendering to `out`.
    pub(crate) fn render(&self, out: &mut Vec<u8>, r: &mut Render<'_>) {
        let mut context = self.context;
        for part in &self.parts {
            match part {
                Part::Lit(b) => {
                    // The literal text of a path switches it to query encoding
                    // after its `?`.
                    if context == Context::Path && b.contains(&b'?') {
                        context = Context::Query;
                    }
                    out.extend_from_slice(b);
                }
                Part::Int { lo, span } => {
                    let value = lo.wrapping_add(r.below(span.saturating_add(1)) as i64);
                    let mut digits = [0u8; 20];
                    let text = format_int(value, &mut digits);
                    out.extend_from_slice(text);
                }
                Part::Pick(words) => {
                    let word = &words[r.below(words.len() as u64) as usize];
                    encode(out, word, context);
                }
                Part::Column { table, column } => {
                    let row = r.row(*table);
                    encode(out, &r.tables.0[*table].rows[row][*column], context);
                }
                Part::Seq => {
                    let mut digits = [0u8; 20];
                    out.extend_from_slice(format_int(r.seq as i64, &mut digits));
                }
                Part::Uuid => {
                    let (a, b) = (r.rng.next_u64(), r.rng.next_u64());
                    uuid(out, a, b);
                }
            }
        }
    }

    /// Every table.column a `Header` template reads must have no line breaks.
    pub fn check_header_values(&self, tables: &Tables) -> Result<(), TemplateError> {
        for part in &self.parts {
            if let Part::Column { table, column } = part {
                let t = &tables.0[*table];
                if let Some(row) = t
                    .rows
                    .iter()
                    .position(|r| r[*column].iter().any(|b| *b == b'\r' || *b == b'\n'))
                {
                    return Err(TemplateError::LineBreak {
                        table: t.name.clone(),
                        row: row + 1,
                        column: t.columns[*column].clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

fn placeholder(inner: &str, tables: &Tables) -> Result<Part, TemplateError> {
    let mut words = inner.split_whitespace();
    let name = words.next().unwrap_or("");
    let args: Vec<&str> = words.collect();
    let bad = |why: &str| TemplateError::Arguments {
        placeholder: inner.to_string(),
        why: why.to_string(),
    };
    match name {
        "int" => {
            let [lo, hi] = args[..] else {
                return Err(bad("give two integers, e.g. {{ int 1 10000 }}"));
            };
            let (Ok(lo), Ok(hi)) = (lo.parse::<i64>(), hi.parse::<i64>()) else {
                return Err(bad("both bounds must be integers"));
            };
            if lo > hi {
                return Err(bad("the low bound is above the high one"));
            }
            Ok(Part::Int {
                lo,
                span: hi.abs_diff(lo),
            })
        }
        "pick" => {
            if args.is_empty() {
                return Err(bad("give at least one word, e.g. {{ pick red green }}"));
            }
            Ok(Part::Pick(
                args.iter()
                    .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                    .collect(),
            ))
        }
        "csv" => {
            let [reference] = args[..] else {
                return Err(bad("give one table.column, e.g. {{ csv users.name }}"));
            };
            let Some((table, column)) = reference.split_once('.') else {
                return Err(bad("give table.column, e.g. {{ csv users.name }}"));
            };
            let Some(t) = tables.0.iter().position(|t| t.name == table) else {
                return Err(TemplateError::NoTable {
                    reference: reference.to_string(),
                    table: table.to_string(),
                });
            };
            let found = &tables.0[t];
            let Some(c) = found.columns.iter().position(|c| c == column) else {
                return Err(TemplateError::NoColumn {
                    table: table.to_string(),
                    column: column.to_string(),
                    columns: found.columns.join(", "),
                });
            };
            Ok(Part::Column {
                table: t,
                column: c,
            })
        }
        "seq" | "uuid" if !args.is_empty() => Err(bad("takes no arguments")),
        "seq" => Ok(Part::Seq),
        "uuid" => Ok(Part::Uuid),
        other => Err(TemplateError::Unknown(other.to_string())),
    }
}

/// What a rendering reads: the engine's RNG, the request's sequence number, and
/// the request's row of each table (chosen at its first use).
pub(crate) struct Render<'a> {
    pub rng: &'a mut Rng,
    pub seq: u64,
    pub tables: &'a Tables,
    /// Each table's next sequential row (the engine's, shared by connections).
    pub cursors: &'a [Cell<usize>],
    /// This request's row per table, once chosen.
    pub rows: &'a mut Vec<Option<usize>>,
}

impl Render<'_> {
    /// Uniform in `0..n` (n ≥ 1).
    fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        // Multiply-shift: no modulo bias worth measuring at 64 bits.
        ((u128::from(self.rng.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn row(&mut self, table: usize) -> usize {
        if self.rows.len() < self.tables.0.len() {
            self.rows.resize(self.tables.0.len(), None);
        }
        if let Some(row) = self.rows[table] {
            return row;
        }
        let t = &self.tables.0[table];
        let row = match t.order {
            Order::Sequential => {
                let c = &self.cursors[table];
                let row = c.get() % t.rows.len();
                c.set(row + 1);
                row
            }
            Order::Random => self.below(t.rows.len() as u64) as usize,
        };
        self.rows[table] = Some(row);
        row
    }
}

/// A request whose path, header values or body are templates.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTemplate {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path and query, parsed for [`Context::Path`].
    pub path: Text,
    /// Header names and their value templates ([`Context::Header`]).
    pub headers: Vec<(String, Text)>,
    /// The body template ([`Context::Body`]).
    pub body: Text,
    /// The tables its `csv` placeholders read.
    pub tables: Tables,
}

impl RequestTemplate {
    /// Render the whole request into `out` (cleared first), with `body` as the
    /// body's scratch buffer. Same framing as the static requests.
    pub(crate) fn render(
        &self,
        authority: &str,
        out: &mut Vec<u8>,
        body: &mut Vec<u8>,
        r: &mut Render<'_>,
    ) {
        out.clear();
        body.clear();
        r.rows.iter_mut().for_each(|row| *row = None);
        self.body.render(body, r);
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        self.path.render(out, r);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        if !has("host") {
            out.extend_from_slice(b"Host: ");
            out.extend_from_slice(authority.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            value.render(out, r);
            out.extend_from_slice(b"\r\n");
        }
        let wants_length = !body.is_empty()
            || ["POST", "PUT", "PATCH"]
                .iter()
                .any(|m| self.method.eq_ignore_ascii_case(m));
        if wants_length && !has("content-length") && !has("transfer-encoding") {
            let mut digits = [0u8; 20];
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(format_int(body.len() as i64, &mut digits));
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
    }
}

/// `value` in decimal, written into the end of `buf`.
fn format_int(value: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = value.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// 128 random bits as a version 4, variant 1 UUID.
fn uuid(out: &mut Vec<u8>, a: u64, b: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0x0f)]);
    }
}

/// Append `value` encoded for `context`.
fn encode(out: &mut Vec<u8>, value: &[u8], context: Context) {
    let unsafe_byte = |b: u8| match context {
        Context::Header | Context::Body => false,
        Context::Path => b <= b' ' || b >= 0x7f || b"\"#<>\\^`{|}%".contains(&b),
        Context::Query => b <= b' ' || b >= 0x7f || b"\"#<>\\^`{|}%&=+".contains(&b),
    };
    if !value.iter().any(|&b| unsafe_byte(b)) {
        out.extend_from_slice(value);
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value {
        if unsafe_byte(b) {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]);
        } else {
            out.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Tables {
        let row = |n: &str, p: &str| vec![Bytes::from(n.to_string()), Bytes::from(p.to_string())];
        Tables(Arc::new(vec![Table {
            name: "users".into(),
            columns: vec!["name".into(), "pass".into()],
            rows: vec![row("ann", "a1"), row("bo b", "b&2"), row("cy", "c3")],
            order: Order::Sequential,
        }]))
    }

    fn render_all(t: &Text, tables: &Tables, n: usize) -> Vec<String> {
        let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
        let cursors: Vec<Cell<usize>> = tables.0.iter().map(|_| Cell::new(0)).collect();
        let mut rows = Vec::new();
        (0..n)
            .map(|i| {
                let mut out = Vec::new();
                rows.iter_mut().for_each(|r| *r = None);
                let mut r = Render {
                    rng: &mut rng,
                    seq: i as u64,
                    tables,
                    cursors: &cursors,
                    rows: &mut rows,
                };
                t.render(&mut out, &mut r);
                String::from_utf8(out).unwrap()
            })
            .collect()
    }

    #[test]
    fn placeholders_render_in_their_ranges() {
        let tables = users();
        let t = Text::parse(
            "/w/{{ int -3 3 }}/{{pick a b}}/{{ seq }}",
            Context::Path,
            &tables,
        )
        .unwrap();
        assert!(!t.is_static());
        let all = render_all(&t, &tables, 2000);
        let mut ints = std::collections::BTreeSet::new();
        for (i, s) in all.iter().enumerate() {
            let parts: Vec<&str> = s.split('/').collect();
            let v: i64 = parts[2].parse().unwrap();
            assert!((-3..=3).contains(&v), "{s}");
            ints.insert(v);
            assert!(["a", "b"].contains(&parts[3]), "{s}");
            assert_eq!(parts[4], i.to_string());
        }
        assert_eq!(ints.len(), 7, "every value of the range comes up: {ints:?}");
    }

    #[test]
    fn one_request_reads_one_row_and_rows_go_in_order() {
        let tables = users();
        let t = Text::parse(
            "{{csv users.name}}:{{csv users.pass}}",
            Context::Body,
            &tables,
        )
        .unwrap();
        assert_eq!(
            render_all(&t, &tables, 4),
            ["ann:a1", "bo b:b&2", "cy:c3", "ann:a1"]
        );
    }

    #[test]
    fn values_are_encoded_for_the_path_and_the_query() {
        let tables = users();
        let path = Text::parse("/u/{{csv users.pass}}", Context::Path, &tables).unwrap();
        let query = Text::parse(
            "/u?name={{csv users.name}}&p={{csv users.pass}}",
            Context::Path,
            &tables,
        )
        .unwrap();
        assert_eq!(render_all(&path, &tables, 2)[1], "/u/b&2");
        assert_eq!(render_all(&query, &tables, 2)[1], "/u?name=bo%20b&p=b%262");
    }

    #[test]
    fn uuids_are_version_4_and_differ() {
        let t = Text::parse("{{uuid}}", Context::Body, &Tables::default()).unwrap();
        let all = render_all(&t, &Tables::default(), 50);
        for u in &all {
            assert_eq!(u.len(), 36, "{u}");
            assert_eq!(&u[14..15], "4", "{u}");
            assert!("89ab".contains(&u[19..20]), "{u}");
        }
        let distinct: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), all.len());
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        let tables = users();
        let err = |s: &str| {
            Text::parse(s, Context::Path, &tables)
                .unwrap_err()
                .to_string()
        };
        assert!(err("/{{ int 1").contains("never closed"));
        assert!(err("/{{ rand }}").contains("unknown placeholder `{{ rand }}`"));
        assert!(err("/{{ int 5 1 }}").contains("low bound is above"));
        assert!(err("/{{ int a 1 }}").contains("integers"));
        assert!(err("/{{ pick }}").contains("at least one word"));
        assert!(err("/{{ csv orders.id }}")
            .contains("no table `orders`; declare it under [data.orders]"));
        assert!(err("/{{ csv users.mail }}").contains("its columns are name, pass"));
        assert!(err("/{{ seq 1 }}").contains("no arguments"));
        let literal = Text::parse("/plain", Context::Path, &tables).unwrap();
        assert_eq!(literal.literal().unwrap(), b"/plain");
    }

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        let mut t = users();
        Arc::get_mut(&mut t.0).unwrap()[0].rows[2][0] = Bytes::from_static(b"c\r\ny");
        let h = Text::parse("{{csv users.name}}", Context::Header, &t).unwrap();
        let e = h.check_header_values(&t).unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("`name`"), "{e}");
    }

    #[test]
    fn integers_format_like_display() {
        for v in [0i64, 7, -7, 10, 99_999, i64::MIN, i64::MAX] {
            let mut buf = [0u8; 20];
            assert_eq!(format_int(v, &mut buf), v.to_string().as_bytes());
        }
    }
}
