//! The `/fortunes` check: parse the HTML table (tolerant of whitespace,
//! attributes and entity forms), require every cell to be escaped, and compare
//! the rows with the database's fortunes plus the one added at request time,
//! sorted by message in code-point order. Just before the request the verifier
//! rewrites one fortune with a fresh marker (restored after), so a page that
//! was not read from the database per request fails.

use super::{Kind, Probe, VerifyContext};

/// The fortune every app adds at request time.
pub(super) const ADDED_FORTUNE: &str = "Additional fortune added at request time.";

/// One `<tr><td>id</td><td>message</td></tr>` of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FortuneRow {
    pub id: i64,
    /// The message with entities decoded.
    pub message: String,
}

/// Decode HTML character references: `&lt; &gt; &amp; &quot; &apos;` and
/// numeric ones (`&#39;`, `&#x27;`). Unknown references are kept as written.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&end| end <= 12).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse::<u32>().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Byte offset just past the opening tag `<name ...>` found at or after
/// `from` in `lower` (the lowercased document), and the tag's start.
fn find_open_tag(lower: &str, from: usize, name: &str) -> Option<(usize, usize)> {
    let pat = format!("<{name}");
    let mut at = from;
    while let Some(i) = lower[at..].find(&pat) {
        let start = at + i;
        let after = start + pat.len();
        match lower.as_bytes().get(after) {
            Some(b'>') => return Some((start, after + 1)),
            Some(b) if b.is_ascii_whitespace() => {
                let close = lower[after..].find('>')?;
                return Some((start, after + close + 1));
            }
            _ => at = after,
        }
    }
    None
}

/// The raw contents of the `tag` cells (`td` or `th`) of one row.
fn cells<'h>(
    html: &'h str,
    lower: &str,
    row_start: usize,
    row_end: usize,
    tag: &str,
) -> Vec<&'h str> {
    let close = format!("</{tag}");
    let mut out = Vec::new();
    let mut at = row_start;
    while let Some((_, cell_start)) = find_open_tag(&lower[..row_end], at, tag) {
        let cell_end = lower[cell_start..row_end]
            .find(&close)
            .map_or(row_end, |e| cell_start + e);
        out.push(html[cell_start..cell_end].trim());
        at = cell_end;
    }
    out
}

fn cells_text(html: &str, lower: &str, row_start: usize, row_end: usize, tag: &str) -> Vec<String> {
    cells(html, lower, row_start, row_end, tag)
        .into_iter()
        .map(|c| decode_entities(c).trim().to_string())
        .collect()
}

/// A parsed fortunes page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FortunesPage {
    /// The first header row's `<th>` texts, e.g. `["id", "message"]`.
    pub header: Vec<String>,
    pub rows: Vec<FortuneRow>,
}

/// The table of a fortunes page. Header rows (`<th>`) are kept apart; a
/// data row must have exactly two cells, an integer id and a message with no
/// raw `<` or `>` (which would mean the message was not escaped).
pub fn parse_fortunes(html: &str) -> Result<FortunesPage, String> {
    // ASCII lowercasing keeps byte offsets, so indexes carry over to `html`.
    let lower = html.to_ascii_lowercase();
    let mut page = FortunesPage::default();
    let rows = &mut page.rows;
    let mut pos = 0;
    while let Some((_, row_start)) = find_open_tag(&lower, pos, "tr") {
        let row_end = [
            lower[row_start..].find("</tr"),
            find_open_tag(&lower, row_start, "tr").map(|(s, _)| s - row_start),
            lower[row_start..].find("</table"),
        ]
        .into_iter()
        .flatten()
        .min()
        .map_or(lower.len(), |e| row_start + e);
        let cells = cells(html, &lower, row_start, row_end, "td");
        pos = row_end;
        if cells.is_empty() {
            if page.header.is_empty() {
                page.header = cells_text(html, &lower, row_start, row_end, "th");
            }
            continue;
        }
        let n = rows.len() + 1;
        if cells.len() != 2 {
            return Err(format!(
                "data row {n} has {} cells instead of 2 (id, message): {}",
                cells.len(),
                super::snippet(&html[row_start..row_end])
            ));
        }
        for cell in &cells {
            if cell.contains(['<', '>']) {
                return Err(format!(
                    "data row {n} holds unescaped HTML (a raw `<` or `>`): {}",
                    super::snippet(cell)
                ));
            }
        }
        let id = decode_entities(cells[0])
            .trim()
            .parse::<i64>()
            .map_err(|_| {
                format!(
                    "data row {n} has a non-integer id `{}`",
                    super::snippet(cells[0])
                )
            })?;
        rows.push(FortuneRow {
            id,
            message: decode_entities(cells[1]),
        });
    }
    Ok(page)
}

/// The rows `/fortunes` must show: the database's plus the added one,
/// sorted by message in code-point order (Rust's `str` order is byte order,
/// which equals code-point order for UTF-8).
pub(super) fn expected_rows(db: Vec<(i64, String)>) -> Vec<FortuneRow> {
    let mut rows: Vec<FortuneRow> = db
        .into_iter()
        .map(|(id, message)| FortuneRow { id, message })
        .collect();
    rows.push(FortuneRow {
        id: 0,
        message: ADDED_FORTUNE.to_string(),
    });
    rows.sort_by(|a, b| a.message.cmp(&b.message));
    rows
}

fn show(r: &FortuneRow) -> String {
    format!("({}, {:?})", r.id, r.message)
}

/// Reasons why `got` differs from `want`.
pub(super) fn compare_rows(want: &[FortuneRow], got: &[FortuneRow]) -> Vec<String> {
    let mut reasons = Vec::new();
    if want.len() != got.len() {
        reasons.push(format!(
            "expected {} fortune rows (the database's {} plus the one added at request time), got {}",
            want.len(),
            want.len() - 1,
            got.len()
        ));
    }
    let mut sorted = got.to_vec();
    sorted.sort_by(|a, b| a.message.cmp(&b.message));
    if sorted != got {
        let at = sorted
            .iter()
            .zip(got)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        reasons.push(format!(
            "expected rows sorted by message (code-point order); row {} is {} where {} belongs",
            at + 1,
            super::snippet(&show(&got[at])),
            super::snippet(&show(&sorted[at]))
        ));
    }
    for w in want {
        if !got.contains(w) {
            reasons.push(format!(
                "expected the fortune {} (as the database holds it at request time), it is missing or altered",
                super::snippet(&show(w))
            ));
        }
    }
    for g in got {
        if !want.contains(g) {
            reasons.push(format!(
                "unexpected fortune row {}",
                super::snippet(&show(g))
            ));
        }
    }
    reasons
}

/// The fortune whose message the check marks (its sort position is kept).
const MARKED_ID: i64 = 1;

/// `message` with a fresh marker that also needs escaping.
fn marked(message: &str) -> String {
    format!(
        "{message} [bakeoff-verify {:08x} <&>]",
        bakeoff_load::rng::Rng::unseeded().next_u64() as u32
    )
}

pub(super) async fn check(p: &mut Probe<'_>, ctx: &VerifyContext<'_>) {
    let path = "/fortunes";
    let original = match super::truth::fortunes(ctx).await {
        Ok(rows) => rows,
        Err(e) => return p.reasons.push(format!("fortunes: {e}")),
    };
    let restore = original
        .iter()
        .find(|(id, _)| *id == MARKED_ID)
        .map(|(_, m)| m.clone());
    if let Some(m) = &restore {
        if let Err(e) = super::truth::set_fortune(ctx, MARKED_ID, marked(m)).await {
            return p.reasons.push(format!("fortunes: {e}"));
        }
    }
    page(p, ctx, path).await;
    if let Some(m) = restore {
        if let Err(e) = super::truth::set_fortune(ctx, MARKED_ID, m).await {
            p.reasons
                .push(format!("fortunes: restoring fortune {MARKED_ID}: {e}"));
        }
    }
}

async fn page(p: &mut Probe<'_>, ctx: &VerifyContext<'_>, path: &str) {
    let Some(resp) = p.get(path, 200, Kind::Html).await else {
        return;
    };
    let Ok(html) = std::str::from_utf8(&resp.body) else {
        p.fail(path, "a UTF-8 body", resp.body_text());
        return;
    };
    if !html
        .trim_start()
        .get(..15)
        .is_some_and(|s| s.eq_ignore_ascii_case("<!doctype html>"))
    {
        p.fail(path, "an HTML document starting with <!DOCTYPE html>", html);
    }
    let page = match parse_fortunes(html) {
        Ok(page) => page,
        Err(e) => {
            p.reasons.push(format!("GET {path}: {e}"));
            return;
        }
    };
    if page.header != ["id", "message"] {
        p.fail(
            path,
            "a header row <tr><th>id</th><th>message</th></tr>",
            format!("header cells {:?}", page.header),
        );
    }
    let got = page.rows;
    let db = match super::truth::fortunes(ctx).await {
        Ok(rows) => rows,
        Err(e) => {
            p.reasons.push(format!("fortunes: {e}"));
            return;
        }
    };
    for reason in compare_rows(&expected_rows(db), &got) {
        p.reasons.push(format!("GET {path}: {reason}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_decode_in_every_accepted_form() {
        assert_eq!(
            decode_entities("&lt;script&gt;alert(&quot;x&quot;);&lt;/script&gt;"),
            "<script>alert(\"x\");</script>"
        );
        assert_eq!(decode_entities("a &amp; b"), "a & b");
        assert_eq!(
            decode_entities("it&#39;s it&#x27;s it&#X27;s it&apos;s"),
            "it's it's it's it's"
        );
        assert_eq!(decode_entities("&#12501;&#x30EC;"), "フレ");
        assert_eq!(decode_entities("&amp;lt;"), "&lt;");
        // Unknown or broken references stay as written.
        assert_eq!(decode_entities("&nope; & &#xZZ; &"), "&nope; & &#xZZ; &");
        assert_eq!(decode_entities("フレームワーク"), "フレームワーク");
    }

    const PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Fortunes</title></head><body>\n<table>\n  <tr><th>id</th><th>message</th></tr>\n  <tr>\n    <td>11</td>\n    <td>&lt;script&gt;alert(&#34;hi&#34;);&lt;/script&gt;</td>\n  </tr>\n  <TR><TD class=\"x\"> 0 </TD><TD>Additional fortune added at request time.</TD></TR>\n  <tr><td>12</td><td>フレームワークのベンチマーク</td></tr>\n</table></body></html>";

    #[test]
    fn rows_parse_tolerantly() {
        let page = parse_fortunes(PAGE).unwrap();
        assert_eq!(page.header, ["id", "message"]);
        assert_eq!(
            page.rows,
            vec![
                FortuneRow {
                    id: 11,
                    message: "<script>alert(\"hi\");</script>".into()
                },
                FortuneRow {
                    id: 0,
                    message: ADDED_FORTUNE.into()
                },
                FortuneRow {
                    id: 12,
                    message: "フレームワークのベンチマーク".into()
                },
            ]
        );
    }

    #[test]
    fn unescaped_and_malformed_rows_are_rejected() {
        let raw = "<table><tr><td>11</td><td><script>alert(\"hi\");</script></td></tr></table>";
        let err = parse_fortunes(raw).unwrap_err();
        assert!(err.contains("unescaped"), "{err}");
        let err = parse_fortunes("<tr><td>1</td></tr>").unwrap_err();
        assert!(err.contains("1 cells"), "{err}");
        let err = parse_fortunes("<tr><td>one</td><td>x</td></tr>").unwrap_err();
        assert!(err.contains("non-integer id"), "{err}");
        // <tbody> or <title> must not be taken for rows or cells.
        assert_eq!(
            parse_fortunes("<title>t</title><tbody></tbody>").unwrap(),
            FortunesPage::default()
        );
    }

    #[test]
    fn expected_rows_sort_by_code_point() {
        let want = expected_rows(vec![
            (2, "b".into()),
            (1, "フ".into()),
            (3, "<s>".into()),
            (4, "B".into()),
        ]);
        let msgs: Vec<_> = want.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(msgs, ["<s>", ADDED_FORTUNE, "B", "b", "フ"]);
    }

    #[test]
    fn comparison_names_order_missing_and_extra_rows() {
        let want = expected_rows(vec![(1, "a".into()), (2, "b".into())]);
        assert!(compare_rows(&want, &want).is_empty());
        let mut reversed = want.clone();
        reversed.reverse();
        let r = compare_rows(&want, &reversed);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].contains("sorted"), "{r:?}");
        let altered = vec![
            want[0].clone(),
            want[1].clone(),
            FortuneRow {
                id: 2,
                message: "c".into(),
            },
        ];
        let r = compare_rows(&want, &altered);
        assert!(r.iter().any(|m| m.contains("missing")), "{r:?}");
        assert!(r.iter().any(|m| m.contains("unexpected")), "{r:?}");
        let r = compare_rows(&want, &want[..2]);
        assert!(r[0].contains("expected 3 fortune rows"), "{r:?}");
    }
}
