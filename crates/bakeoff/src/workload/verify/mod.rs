//! `verify`: checks a running contender against the app contract, endpoint by
//! endpoint, the way TechEmpower's verifier does — status, headers (`Server`,
//! a current `Date`, `Content-Type`), body shape and values against bakeoff's
//! own references (the SQLite db, the upstream's call counter, a Rust prime
//! count and a Rust aggregation of the dataset), clamping, escaping,
//! persistence and WebSocket broadcast — plus, once per contender, the rules no
//! single request can see (a `Date` that advances, keep-alive as declared).
//!
//! Submodules: [`http`] (the bounded client), `basic` (plaintext, json, io,
//! cpu), `db` (db, queries, updates), `fortunes`, `data`, `ws`, `common`
//! (Date and keep-alive, reported as the check named [`COMMON`]). Each result
//! names what it is about with a [`CheckTarget`].
//! Every network step is bounded in time; a lying server yields a failed
//! [`Check`] with reasons, never a panic or a hang. See docs/verification.md.

use std::fmt::Display;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::upstream::Upstream;
use crate::model::Endpoint;

mod basic;
mod common;
mod data;
mod db;
mod fortunes;
pub mod http;
mod truth;
mod ws;

pub use common::COMMON;

/// The name of the readiness check in reports.
pub const READY: &str = "ready";
pub use data::{reference_aggregation, ProductAggregate, RegionAggregates};
pub use fortunes::{decode_entities, parse_fortunes, FortuneRow, FortunesPage};

use http::{Response, Target};

/// What the verifier needs besides the contender's URL.
pub struct VerifyContext<'a> {
    /// The SQLite database the contender was started with (to check persistence).
    pub sqlite: PathBuf,
    /// The sales dataset CSV the contender was started with (for the reference aggregation).
    pub data: PathBuf,
    /// The upstream service the contender was started with (to check its call counter).
    pub upstream: &'a Upstream,
    /// The manifest's `keep_alive` declaration, checked against the server.
    pub keep_alive: bool,
    /// The manifest's health path, for the common checks when the contender
    /// serves neither `/plaintext` nor `/json`.
    pub health_path: String,
    /// The PostgreSQL server the contender was started on, if it was: the
    /// database checks then read and change it instead of `sqlite`.
    pub postgres: Option<&'a crate::database::Postgres>,
}

/// What one verification result is about. Its text (`Display`, and serde
/// through it) is the one table of the labels in `verify`'s table and JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckTarget {
    /// A contract endpoint: its name ("json", "fortunes", ...).
    Endpoint(Endpoint),
    /// The rules of every response (Date, keep-alive), named [`COMMON`].
    Http,
    /// `/health` answered 200 only with every worker up, named [`READY`]
    /// (checked on the process group, `contender::verification`).
    Ready,
    /// One request class of a contender's own workload: `workload/class`.
    Class { workload: String, class: String },
}

impl CheckTarget {
    /// How a failure's reasons name it: `/json` for an endpoint, `(http)` for
    /// the common check, `shop/new` for a class (neither is a path).
    pub fn failure_label(&self) -> String {
        match self {
            CheckTarget::Endpoint(e) => format!("/{e}"),
            CheckTarget::Http => format!("({COMMON})"),
            CheckTarget::Ready => format!("({READY})"),
            CheckTarget::Class { .. } => self.to_string(),
        }
    }
}

impl Display for CheckTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckTarget::Endpoint(e) => f.write_str(e.as_str()),
            CheckTarget::Http => f.write_str(COMMON),
            CheckTarget::Ready => f.write_str(READY),
            CheckTarget::Class { workload, class } => write!(f, "{workload}/{class}"),
        }
    }
}

impl serde::Serialize for CheckTarget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<Endpoint> for CheckTarget {
    fn from(e: Endpoint) -> Self {
        CheckTarget::Endpoint(e)
    }
}

/// The outcome of checking one endpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    /// The endpoint checked, or the common check ([`CheckTarget::Http`]).
    pub endpoint: CheckTarget,
    pub passed: bool,
    /// Why it failed (empty when it passed). Names what was expected and what came.
    pub reasons: Vec<String>,
}

/// Time and size bounds of the verifier.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Deadline of one HTTP exchange (connect, request, whole response).
    pub request_timeout: Duration,
    /// Deadline of one endpoint's whole check.
    pub endpoint_timeout: Duration,
    /// How long WebSocket clients wait for the broadcasts.
    pub ws_timeout: Duration,
    /// Largest response body accepted.
    pub max_body: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            request_timeout: Duration::from_secs(10),
            endpoint_timeout: Duration::from_secs(60),
            ws_timeout: Duration::from_secs(5),
            max_body: 4 * 1024 * 1024,
        }
    }
}

/// Check each of `endpoints` on the contender at `base_url`,
/// then the rules of every response (the check named [`COMMON`], last).
/// Never panics on a lying server; every network step is bounded in time.
pub async fn verify_contender(
    base_url: &str,
    endpoints: &[Endpoint],
    ctx: &VerifyContext<'_>,
) -> Vec<Check> {
    verify_contender_with(base_url, endpoints, ctx, &VerifyOptions::default()).await
}

/// [`verify_contender`] with explicit bounds. Endpoints are checked one after
/// the other (the upstream counter and the database must not see other
/// traffic); the common check, which touches neither, runs alongside them.
pub async fn verify_contender_with(
    base_url: &str,
    endpoints: &[Endpoint],
    ctx: &VerifyContext<'_>,
    opts: &VerifyOptions,
) -> Vec<Check> {
    let target = match Target::parse(base_url) {
        Ok(t) => t,
        Err(e) => {
            return endpoints
                .iter()
                .map(|&ep| CheckTarget::Endpoint(ep))
                .chain([CheckTarget::Http])
                .map(|ep| Check {
                    endpoint: ep,
                    passed: false,
                    reasons: vec![e.to_string()],
                })
                .collect()
        }
    };
    let path = common::probe_path(endpoints, ctx);
    let common = async {
        let run = common::check(&target, path, ctx.keep_alive, opts);
        let reasons = match tokio::time::timeout(opts.endpoint_timeout, run).await {
            Ok(reasons) => reasons,
            Err(_) => vec![format!(
                "{COMMON}: the check did not finish within {:?}; the server is too slow or hangs",
                opts.endpoint_timeout
            )],
        };
        Check {
            endpoint: CheckTarget::Http,
            passed: reasons.is_empty(),
            reasons,
        }
    };
    let (mut checks, common) = tokio::join!(check_endpoints(&target, endpoints, ctx, opts), common);
    checks.push(common);
    checks
}

async fn check_endpoints(
    target: &Target,
    endpoints: &[Endpoint],
    ctx: &VerifyContext<'_>,
    opts: &VerifyOptions,
) -> Vec<Check> {
    let mut checks = Vec::with_capacity(endpoints.len() + 1);
    for ep in endpoints {
        let mut probe = Probe::new(target, opts);
        let run = check_endpoint(*ep, &mut probe, ctx);
        if tokio::time::timeout(opts.endpoint_timeout, run)
            .await
            .is_err()
        {
            probe.reasons.push(format!(
                "{ep}: the check did not finish within {:?}; the server is too slow or hangs",
                opts.endpoint_timeout
            ));
        }
        let mut reasons = probe.reasons;
        if reasons.len() > MAX_REASONS {
            let more = reasons.len() - MAX_REASONS;
            reasons.truncate(MAX_REASONS);
            reasons.push(format!("{ep}: ... and {more} more failures"));
        }
        checks.push(Check {
            endpoint: CheckTarget::Endpoint(*ep),
            passed: reasons.is_empty(),
            reasons,
        });
    }
    checks
}

async fn check_endpoint(ep: Endpoint, p: &mut Probe<'_>, ctx: &VerifyContext<'_>) {
    match ep {
        Endpoint::Plaintext => basic::plaintext(p).await,
        Endpoint::Json => basic::json(p).await,
        Endpoint::Db => db::db(p, ctx).await,
        Endpoint::Queries => db::queries(p, ctx).await,
        Endpoint::Fortunes => fortunes::check(p, ctx).await,
        Endpoint::Updates => db::updates(p, ctx).await,
        Endpoint::Io => basic::io(p, ctx).await,
        Endpoint::Cpu => basic::cpu(p).await,
        Endpoint::Data => data::check(p, ctx).await,
        Endpoint::Ws => ws::check(p).await,
    }
}

/// Reasons kept per endpoint; a broken endpoint needs a few, not hundreds.
const MAX_REASONS: usize = 12;

/// Longest excerpt of a server's answer quoted in a reason.
const SNIPPET_CHARS: usize = 200;

/// `s` cut to ~200 characters, control characters escaped, for reasons.
pub(crate) fn snippet(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    for c in chars.by_ref().take(SNIPPET_CHARS) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// The kind of body an endpoint answers, for the Content-Type check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Json,
    Html,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::Text => "text/plain (optionally ; charset=utf-8)",
            Kind::Json => "application/json (optionally ; charset=utf-8)",
            Kind::Html => "text/html; charset=utf-8",
        }
    }
}

/// Whether a Content-Type value is right for `kind`.
pub(crate) fn content_type_ok(value: &str, kind: Kind) -> bool {
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let mut charset = None;
    for param in parts {
        if let Some((k, v)) = param.split_once('=') {
            if k.trim().eq_ignore_ascii_case("charset") {
                charset = Some(v.trim().trim_matches('"').to_ascii_lowercase());
            }
        }
    }
    let utf8_or_none = charset.as_deref().is_none_or(|c| c == "utf-8");
    match kind {
        Kind::Text => mime == "text/plain" && utf8_or_none,
        Kind::Json => mime == "application/json" && utf8_or_none,
        Kind::Html => mime == "text/html" && charset.as_deref() == Some("utf-8"),
    }
}

/// Largest accepted difference between a response's `Date` and now.
const DATE_SKEW: Duration = Duration::from_secs(60);

/// One endpoint's check in progress: issues requests, checks the common
/// headers and collects the reasons for failure.
pub(crate) struct Probe<'a> {
    pub target: &'a Target,
    pub opts: &'a VerifyOptions,
    pub reasons: Vec<String>,
    /// The server did not answer at all (timeout, refused): skip further requests.
    dead: bool,
}

impl<'a> Probe<'a> {
    fn new(target: &'a Target, opts: &'a VerifyOptions) -> Self {
        Probe {
            target,
            opts,
            reasons: Vec::new(),
            dead: false,
        }
    }

    /// The server stopped answering; further requests are skipped.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead
    }

    /// Record "GET path: expected X, got Y" with Y cut to a snippet.
    pub(crate) fn fail(&mut self, path: &str, expected: impl Display, got: impl Display) {
        self.reasons.push(format!(
            "GET {path}: expected {expected}, got {}",
            snippet(&got.to_string())
        ));
    }

    /// GET `path`, expecting `status` and a `kind` body. Checks the common
    /// headers (failures are recorded, the response still returned). Returns
    /// `None` when the exchange failed or the status was wrong.
    pub(crate) async fn get(&mut self, path: &str, status: u16, kind: Kind) -> Option<Response> {
        if self.dead {
            return None;
        }
        let resp = match http::get(
            self.target,
            path,
            self.opts.request_timeout,
            self.opts.max_body,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                if matches!(
                    e,
                    http::FetchError::Timeout(_) | http::FetchError::Connect(..)
                ) {
                    self.dead = true;
                }
                self.reasons.push(format!("GET {path}: {e}"));
                return None;
            }
        };
        if resp.status != status {
            self.fail(
                path,
                format!("status {status}"),
                format!("status {} with body {}", resp.status, resp.body_text()),
            );
            return None;
        }
        self.check_headers(path, &resp, kind);
        Some(resp)
    }

    /// [`Probe::get`] and parse the body as JSON.
    pub(crate) async fn get_json(
        &mut self,
        path: &str,
        status: u16,
    ) -> Option<(Response, serde_json::Value)> {
        let resp = self.get(path, status, Kind::Json).await?;
        match serde_json::from_slice(&resp.body) {
            Ok(v) => Some((resp, v)),
            Err(e) => {
                self.fail(
                    path,
                    "a JSON body",
                    format!("unparseable JSON ({e}): {}", resp.body_text()),
                );
                None
            }
        }
    }

    fn check_headers(&mut self, path: &str, resp: &Response, kind: Kind) {
        match resp.header("server") {
            Some(v) if !v.trim().is_empty() => {}
            _ => self.fail(path, "a Server header", "none"),
        }
        match resp.header("date") {
            None => self.fail(path, "a Date header", "none"),
            Some(v) => match httpdate::parse_http_date(v.trim()) {
                Err(_) => self.fail(path, "an RFC 7231 Date header", format!("Date: {v}")),
                Ok(date) => {
                    let now = SystemTime::now();
                    let skew = now
                        .duration_since(date)
                        .or_else(|_| date.duration_since(now))
                        .unwrap_or_default();
                    if skew > DATE_SKEW {
                        self.fail(
                            path,
                            format!("a current Date header (within {}s)", DATE_SKEW.as_secs()),
                            format!("Date: {v} ({}s off)", skew.as_secs()),
                        );
                    }
                }
            },
        }
        match resp.header("content-type") {
            None => self.fail(
                path,
                format!("Content-Type: {}", kind.expected()),
                "no Content-Type",
            ),
            Some(v) if !content_type_ok(v, kind) => self.fail(
                path,
                format!("Content-Type: {}", kind.expected()),
                format!("Content-Type: {v}"),
            ),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_follow_the_contract() {
        assert!(content_type_ok("text/plain", Kind::Text));
        assert!(content_type_ok("text/plain; charset=UTF-8", Kind::Text));
        assert!(!content_type_ok("text/html", Kind::Text));
        assert!(content_type_ok("application/json", Kind::Json));
        assert!(content_type_ok(
            "application/json;charset=\"utf-8\"",
            Kind::Json
        ));
        assert!(!content_type_ok(
            "application/json; charset=latin1",
            Kind::Json
        ));
        assert!(!content_type_ok("text/json", Kind::Json));
        assert!(content_type_ok("text/html; charset=utf-8", Kind::Html));
        assert!(content_type_ok("Text/HTML;Charset=UTF-8", Kind::Html));
        assert!(!content_type_ok("text/html", Kind::Html));
    }

    fn headers(list: &[(&str, String)]) -> Response {
        Response {
            status: 200,
            headers: list
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            body: Vec::new(),
        }
    }

    fn header_reasons(resp: &Response, kind: Kind) -> Vec<String> {
        let target = Target::parse("http://127.0.0.1:1").unwrap();
        let opts = VerifyOptions::default();
        let mut p = Probe::new(&target, &opts);
        p.check_headers("/x", resp, kind);
        p.reasons
    }

    #[test]
    fn common_headers_are_required_and_dates_current() {
        let now = httpdate::fmt_http_date(SystemTime::now());
        let good = headers(&[
            ("Server", "s".into()),
            ("date", now.clone()),
            ("Content-Type", "application/json".into()),
        ]);
        assert!(header_reasons(&good, Kind::Json).is_empty());

        let r = header_reasons(&good, Kind::Html);
        assert_eq!(r.len(), 1);
        assert!(r[0].starts_with("GET /x: expected Content-Type: text/html; charset=utf-8, got Content-Type: application/json"), "{r:?}");

        let stale = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(120));
        let r = header_reasons(
            &headers(&[("date", stale), ("content-type", "text/plain".into())]),
            Kind::Text,
        );
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].contains("expected a Server header, got none"), "{r:?}");
        assert!(
            r[1].contains("a current Date") && r[1].contains("s off"),
            "{r:?}"
        );

        let r = header_reasons(
            &headers(&[("Server", "s".into()), ("Date", "yesterday".into())]),
            Kind::Text,
        );
        assert!(
            r[0].contains("RFC 7231") && r[0].contains("yesterday"),
            "{r:?}"
        );
        assert!(r[1].contains("no Content-Type"), "{r:?}");
    }

    #[test]
    fn check_targets_have_one_text() {
        let shop = CheckTarget::Class {
            workload: "shop".into(),
            class: "new".into(),
        };
        let cases = [
            (CheckTarget::from(Endpoint::Json), "json", "/json"),
            (CheckTarget::Http, "http", "(http)"),
            (shop, "shop/new", "shop/new"),
        ];
        for (target, text, label) in cases {
            assert_eq!(target.to_string(), text);
            assert_eq!(serde_json::to_value(&target).unwrap(), text);
            assert_eq!(target.failure_label(), label);
        }
    }

    #[test]
    fn snippets_are_short_and_escaped() {
        let long = "x".repeat(500);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet("a\nb\0"), "a\\nb\\u{0}");
        assert_eq!(snippet("フレーム"), "フレーム");
    }
}
