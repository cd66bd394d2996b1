//! `bakeoff verify`, the command: set up, generate the data, start the upstream,
//! then verify each contender (start, check, stop: [`crate::contender::verification`])
//! and stamp those that pass ([`crate::contender::verify_stamps`]); print a
//! pass/fail table (or one JSON document) and exit 1 if anything failed.

use anyhow::{Context, Result};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{generate_data, select_config, select_contenders, start_postgres, stop_postgres};
use crate::cli::VerifyArgs;
use crate::contender::setup::{self, SetupError, SetupOptions};
use crate::contender::verification::{verify_one, EndpointStatus, Verdict};
use crate::contender::verify_stamps;
use crate::database::Database;
use crate::report::table::text_table;
use crate::workload::upstream::Upstream;
use crate::Interrupted;
use std::sync::Arc;

#[derive(Debug, Serialize)]
struct Report<'a> {
    passed: bool,
    contenders: &'a [Verdict],
}

pub(super) async fn execute(args: VerifyArgs, cancel: CancellationToken) -> Result<u8> {
    let selection = select_config(&args.contenders, &args.runtimes);
    let results_dir = selection.results_dir.clone();
    let contenders = select_contenders(&selection, false, &cancel).await?;
    let data = generate_data(&results_dir).await?;
    let database = args.database.database();
    let postgres = match database {
        Database::Sqlite => None,
        Database::Postgres => {
            let max_workers = contenders
                .iter()
                .map(|c| c.manifest.workers.default)
                .max()
                .unwrap_or(1);
            let pg = start_postgres(&results_dir, &data, max_workers, None, &cancel).await?;
            eprintln!("PostgreSQL: {}", pg.description());
            Some(Arc::new(pg))
        }
    };
    let upstream = Upstream::start(cancel.child_token())
        .await
        .context("starting the upstream service")?;
    let opts = SetupOptions::new(&results_dir, false);
    let log_dir = results_dir.join("logs");
    let mut verdicts = Vec::new();
    for c in &contenders {
        if cancel.is_cancelled() {
            return Err(Interrupted.into());
        }
        eprintln!("{}: setting up …", c.name());
        let installed = match setup::ensure_one(c, &opts, &cancel).await {
            Ok(i) => i,
            Err(SetupError::Cancelled { .. }) => return Err(Interrupted.into()),
            Err(e) => {
                if let Some(reason) = e.runtime_skip(c) {
                    eprintln!("{}: skipped: {reason}", c.name());
                    continue;
                }
                verdicts.push(Verdict::failed(c, format!("setup failed: {e}")));
                continue;
            }
        };
        eprintln!("{}: starting and verifying …", c.name());
        let verdict = verify_one(
            &installed,
            &data,
            &upstream,
            postgres.as_deref(),
            log_dir.clone(),
            &cancel,
        )
        .await?;
        if verdict.passed() {
            // `bakeoff run` skips verifying what passed and has not changed since.
            let (stamp, key) = verify_stamps::key_on(&installed, &data, database);
            verify_stamps::record(&results_dir, &stamp, &key);
        }
        eprintln!(
            "{}: {}",
            c.name(),
            if verdict.passed() { "pass" } else { "FAIL" }
        );
        verdicts.push(verdict);
    }
    stop_postgres(postgres, &|m: &str| eprintln!("{m}")).await;
    let passed = verdicts.iter().all(Verdict::passed);
    if args.json {
        let doc = serde_json::to_string_pretty(&Report {
            passed,
            contenders: &verdicts,
        })
        .context("serializing the verify report")?;
        outln!("{doc}")?;
    } else {
        outln!("{}", render(&verdicts))?;
    }
    Ok(if passed { 0 } else { 1 })
}

/// Unsupported-endpoint reasons longer than this are shortened in the table and
/// given in full below it.
const REASON_WIDTH: usize = 60;

fn shorten(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(width - 1).collect::<String>())
    }
}

/// The pass/fail table, then each failure's reasons.
fn render(verdicts: &[Verdict]) -> String {
    let mut rows = Vec::new();
    let mut details = Vec::new();
    let mut unsupported = Vec::new();
    for v in verdicts {
        if let Some(err) = &v.error {
            rows.push(vec![v.contender.clone(), "(start)".into(), "FAIL".into()]);
            details.push(format!("{} (start): {err}", v.contender));
        }
        for e in &v.endpoints {
            let result = match e.status {
                EndpointStatus::Pass => "pass".to_string(),
                EndpointStatus::Fail => "FAIL".to_string(),
                EndpointStatus::NotApplicable => {
                    let why = e.reasons.join("; ");
                    if why.chars().count() > REASON_WIDTH {
                        let label = e.endpoint.failure_label();
                        unsupported.push(format!("{} {label}: {why}", v.contender));
                    }
                    format!("n/a ({})", shorten(&why, REASON_WIDTH))
                }
            };
            rows.push(vec![v.contender.clone(), e.endpoint.to_string(), result]);
            if e.status == EndpointStatus::Fail {
                let label = e.endpoint.failure_label();
                for r in &e.reasons {
                    details.push(format!("{} {label}: {r}", v.contender));
                }
            }
        }
    }
    let mut out = text_table(&["contender", "endpoint", "result"], &rows);
    if !details.is_empty() {
        out.push_str("\n\nfailures:\n");
        out.push_str(
            &details
                .iter()
                .map(|d| format!("- {d}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    if !unsupported.is_empty() {
        out.push_str("\n\nnot applicable (from the manifests):\n");
        out.push_str(
            &unsupported
                .iter()
                .map(|d| format!("- {d}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    let passed = verdicts.iter().filter(|v| v.passed()).count();
    out.push_str(&format!(
        "\n\n{passed}/{} contenders passed",
        verdicts.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contender::verification::EndpointResult;
    use crate::model::Endpoint;
    use crate::workload::verify::CheckTarget;

    fn endpoint(
        target: impl Into<CheckTarget>,
        status: EndpointStatus,
        reasons: &[&str],
    ) -> EndpointResult {
        EndpointResult {
            endpoint: target.into(),
            status,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn table_shows_failures_reasons_and_gaps() {
        let long = "x".repeat(80);
        let verdicts = vec![
            Verdict {
                contender: "a".into(),
                error: None,
                startup_ms: Some(10.0),
                log: None,
                endpoints: vec![
                    endpoint(
                        Endpoint::Json,
                        EndpointStatus::Fail,
                        &["expected {\"message\":..}"],
                    ),
                    endpoint(Endpoint::Db, EndpointStatus::Pass, &[]),
                    endpoint(
                        CheckTarget::Http,
                        EndpointStatus::Fail,
                        &["keep-alive: declared"],
                    ),
                    endpoint(
                        CheckTarget::Class {
                            workload: "shop".into(),
                            class: "new".into(),
                        },
                        EndpointStatus::Fail,
                        &["JSON /ok is false"],
                    ),
                    endpoint(Endpoint::Ws, EndpointStatus::NotApplicable, &["no broker"]),
                    endpoint(Endpoint::Io, EndpointStatus::NotApplicable, &[&long]),
                ],
            },
            Verdict {
                contender: "b".into(),
                error: Some("b exited (exit status: 3)".into()),
                startup_ms: None,
                log: None,
                endpoints: vec![],
            },
        ];
        let out = render(&verdicts);
        assert!(out.contains("a          json      FAIL"), "{out}");
        assert!(
            out.contains("a          ws        n/a (no broker)"),
            "{out}"
        );
        assert!(
            out.contains("- a /json: expected {\"message\":..}"),
            "{out}"
        );
        assert!(out.contains("- a (http): keep-alive: declared"), "{out}");
        assert!(out.contains("- a shop/new: JSON /ok is false"), "{out}");
        assert!(out.contains("b          (start)   FAIL"), "{out}");
        assert!(
            out.contains("- b (start): b exited (exit status: 3)"),
            "{out}"
        );
        assert!(out.contains(&format!("- a /io: {long}")), "{out}");
        assert!(out.ends_with("0/2 contenders passed"), "{out}");
    }
}
