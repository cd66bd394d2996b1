//! Checks of the contract's rules for every response that a single request
//! cannot see, run once per contender alongside the endpoint checks: the
//! `Date` header must advance across a second boundary (a Date frozen at
//! start-up is inside the 60 s window during a short verify), and keep-alive
//! must behave as the manifest's `keep_alive` declares.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::http::{self, Conn, FetchError};
use super::{VerifyContext, VerifyOptions};
use crate::model::Endpoint;

/// The name of this check in reports: it belongs to no single endpoint.
pub const COMMON: &str = "http";

/// Longest wait for the Date to advance: a correct server's Date moves within
/// ~1 s; servers that refresh a cached Date once a second add at most 1 s.
const DATE_ADVANCE_WITHIN: Duration = Duration::from_secs(3);
/// Pause between Date samples.
const DATE_POLL: Duration = Duration::from_millis(250);

/// The path the common checks request: a measured endpoint when the contender
/// serves one without side effects, else its health check.
pub(super) fn probe_path<'a>(endpoints: &[Endpoint], ctx: &'a VerifyContext<'_>) -> &'a str {
    [Endpoint::Plaintext, Endpoint::Json]
        .into_iter()
        .find(|e| endpoints.contains(e))
        .map_or(ctx.health_path.as_str(), |e| match e {
            Endpoint::Plaintext => "/plaintext",
            _ => "/json",
        })
}

/// Both checks, concurrently; returns the reasons for failure.
pub(super) async fn check(
    target: &http::Target,
    path: &str,
    keep_alive: bool,
    opts: &VerifyOptions,
) -> Vec<String> {
    let (mut date, alive) = tokio::join!(
        date_advances(target, path, opts),
        keep_alive_as_declared(target, path, keep_alive, opts)
    );
    date.extend(alive);
    date
}

/// The Date of one fresh `GET path`.
async fn sample_date(
    target: &http::Target,
    path: &str,
    opts: &VerifyOptions,
) -> Result<SystemTime, String> {
    let resp = http::get(target, path, opts.request_timeout, opts.max_body)
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    let v = resp
        .header("date")
        .ok_or_else(|| format!("GET {path}: expected a Date header, got none"))?;
    httpdate::parse_http_date(v.trim()).map_err(|_| {
        format!(
            "GET {path}: expected an RFC 7231 Date header, got Date: {}",
            super::snippet(v)
        )
    })
}

/// The Date must move forward within [`DATE_ADVANCE_WITHIN`].
async fn date_advances(target: &http::Target, path: &str, opts: &VerifyOptions) -> Vec<String> {
    // A missing or malformed Date is reported by every endpoint's own check.
    let Ok(first) = sample_date(target, path, opts).await else {
        return Vec::new();
    };
    let started = Instant::now();
    let mut last = first;
    while started.elapsed() < DATE_ADVANCE_WITHIN {
        tokio::time::sleep(DATE_POLL).await;
        match sample_date(target, path, opts).await {
            Ok(d) if d > first => return Vec::new(),
            Ok(d) => last = d,
            Err(e) => return vec![e],
        }
    }
    vec![format!(
        "GET {path}: expected the Date header to advance (the current time, per response), got `{}` for {:.1} s (first `{}`): a Date fixed at start-up or never refreshed",
        httpdate::fmt_http_date(last),
        started.elapsed().as_secs_f64(),
        httpdate::fmt_http_date(first),
    )]
}

/// What the server did with two requests on one connection.
#[derive(Debug, PartialEq, Eq)]
enum Reuse {
    /// Both answered on the same connection.
    Kept,
    /// The first answer said `Connection: close` (or was framed by closing).
    Announced,
    /// The first answer kept quiet, then the connection ended before a second.
    Silent(String),
}

async fn reuse(target: &http::Target, path: &str, opts: &VerifyOptions) -> Result<Reuse, String> {
    let attempt = async {
        let mut conn = Conn::open(target).await?;
        conn.request(path, false, opts.max_body).await?;
        if conn.closed_by_server() {
            return Ok(Reuse::Announced);
        }
        Ok(match conn.request(path, false, opts.max_body).await {
            Ok(_) => Reuse::Kept,
            Err(e @ (FetchError::Truncated(_) | FetchError::Io(_))) => Reuse::Silent(e.to_string()),
            Err(e) => return Err(e),
        })
    };
    // Both requests share one request's deadline, so the check never outlasts
    // the endpoint checks it runs beside.
    match tokio::time::timeout(opts.request_timeout, attempt).await {
        Ok(r) => r.map_err(|e| format!("GET {path} twice on one connection: {e}")),
        Err(_) => Err(format!(
            "GET {path} twice on one connection: no complete answers within {:?} (the server hangs, or neither answers nor closes)",
            opts.request_timeout
        )),
    }
}

async fn keep_alive_as_declared(
    target: &http::Target,
    path: &str,
    declared: bool,
    opts: &VerifyOptions,
) -> Vec<String> {
    let fix_true = "enable HTTP/1.1 keep-alive in the server, or declare `keep_alive = false` in bakeoff.toml and disclose it";
    let outcome = match reuse(target, path, opts).await {
        Ok(o) => o,
        Err(e) if declared => return vec![format!("keep-alive: {e}; {fix_true}")],
        // A server declared to close may end the exchange any way it likes.
        Err(_) => return Vec::new(),
    };
    match (declared, outcome) {
        (true, Reuse::Kept) | (false, Reuse::Announced) | (false, Reuse::Silent(_)) => Vec::new(),
        (true, Reuse::Announced) => vec![format!(
            "keep-alive: the manifest declares keep_alive = true (the default), but GET {path} without `Connection: close` was answered with `Connection: close`; {fix_true}"
        )],
        (true, Reuse::Silent(e)) => vec![format!(
            "keep-alive: the manifest declares keep_alive = true (the default), but the server closed the connection after one answer to GET {path} without announcing it ({e}); {fix_true}"
        )],
        (false, Reuse::Kept) => vec![format!(
            "keep-alive: the manifest declares keep_alive = false, but the server answered two GET {path} on one connection (it keeps connections alive); remove `keep_alive = false` from bakeoff.toml"
        )],
    }
}
