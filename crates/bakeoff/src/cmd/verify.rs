//! `bakeoff verify`: set up, generate the data, start the upstream, then start,
//! check and stop each contender; print a pass/fail table (or one JSON document)
//! and exit 1 if anything failed.

use anyhow::{Context, Result};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::setup::{discover, generate_data, text_table};
use crate::cli::VerifyArgs;
use crate::contender::check::{verify_one, EndpointStatus, Verdict};
use crate::contender::setup::{self, SetupError, SetupOptions};
use crate::workload::upstream::Upstream;
use crate::Interrupted;

#[derive(Debug, Serialize)]
struct Report<'a> {
    passed: bool,
    contenders: &'a [Verdict],
}

pub async fn execute(args: VerifyArgs, cancel: CancellationToken) -> Result<u8> {
    let contenders = discover(&args.contenders)?;
    let results_dir = args.contenders.results_dir.clone();
    let data = generate_data(&results_dir).await?;
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
                verdicts.push(Verdict::failed(c, format!("setup failed: {e}")));
                continue;
            }
        };
        eprintln!("{}: starting and verifying …", c.name());
        let verdict = verify_one(&installed, &data, &upstream, log_dir.clone(), &cancel).await?;
        eprintln!(
            "{}: {}",
            c.name(),
            if verdict.passed() { "pass" } else { "FAIL" }
        );
        verdicts.push(verdict);
    }
    let passed = verdicts.iter().all(Verdict::passed);
    if args.json {
        let doc = serde_json::to_string_pretty(&Report {
            passed,
            contenders: &verdicts,
        })
        .context("serializing the verify report")?;
        println!("{doc}");
    } else {
        println!("{}", render(&verdicts));
    }
    Ok(if passed { 0 } else { 1 })
}

/// The pass/fail table, then each failure's reasons.
fn render(verdicts: &[Verdict]) -> String {
    let mut rows = Vec::new();
    let mut details = Vec::new();
    for v in verdicts {
        if let Some(err) = &v.error {
            rows.push(vec![v.contender.clone(), "(start)".into(), "FAIL".into()]);
            details.push(format!("{} (start): {err}", v.contender));
        }
        for e in &v.endpoints {
            let result = match e.status {
                EndpointStatus::Pass => "pass".to_string(),
                EndpointStatus::Fail => "FAIL".to_string(),
                EndpointStatus::NotApplicable => format!("n/a ({})", e.reasons.join("; ")),
            };
            rows.push(vec![v.contender.clone(), e.endpoint.clone(), result]);
            if e.status == EndpointStatus::Fail {
                for r in &e.reasons {
                    details.push(format!("{} /{}: {r}", v.contender, e.endpoint));
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
    let passed = verdicts.iter().filter(|v| v.passed()).count();
    out.push_str(&format!(
        "\n\n{passed}/{} contenders passed",
        verdicts.len()
    ));
    out
}
