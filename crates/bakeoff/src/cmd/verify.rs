//! `bakeoff verify`, the command: set up, generate the data, start the upstream
//! (and PostgreSQL when `--database` names it), then verify each contender on
//! each database (start, check, stop: [`crate::contender::verification`]) and
//! stamp each pass per database ([`crate::contender::verify_stamps`]); print a
//! pass/fail table naming the database of every check (or one JSON document)
//! and exit 1 if anything failed.

use anyhow::{Context, Result};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{
    databases, generate_data, postgres_for, select_config, select_contenders, stop_postgres,
};
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
    /// As `--database` named them; each verdict says its own.
    databases: &'a [Database],
    contenders: &'a [Verdict],
}

pub(super) async fn execute(args: VerifyArgs, cancel: CancellationToken) -> Result<u8> {
    let databases = databases(&args.database)?;
    let selection = select_config(&args.contenders, &args.runtimes);
    let results_dir = selection.results_dir.clone();
    let contenders = select_contenders(&selection, false, &cancel).await?;
    let data = generate_data(&results_dir).await?;
    let postgres = postgres_for(&databases, &results_dir, &data, &contenders, &cancel)
        .await?
        .map(Arc::new);
    if let Some(pg) = &postgres {
        eprintln!("PostgreSQL: {}", pg.description());
    }
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
                // Checked on no database: a failure on each asked.
                for &on in &databases {
                    verdicts.push(Verdict::failed(c, on, format!("setup failed: {e}")));
                }
                continue;
            }
        };
        for &on in &databases {
            if cancel.is_cancelled() {
                return Err(Interrupted.into());
            }
            eprintln!("{}: starting and verifying on {on} …", c.name());
            let with = postgres.as_deref().filter(|_| on == Database::Postgres);
            let verdict =
                verify_one(&installed, &data, &upstream, with, log_dir.clone(), &cancel).await?;
            if verdict.passed() {
                // `bakeoff run` skips verifying what passed on this database
                // and has not changed since.
                let (stamp, key) = verify_stamps::key_on(&installed, &data, on);
                verify_stamps::record(&results_dir, &stamp, &key);
            }
            eprintln!(
                "{}: {} on {on}",
                c.name(),
                if verdict.passed() { "pass" } else { "FAIL" }
            );
            verdicts.push(verdict);
        }
    }
    stop_postgres(postgres, &|m: &str| eprintln!("{m}")).await;
    let passed = verdicts.iter().all(Verdict::passed);
    if args.json {
        let doc = serde_json::to_string_pretty(&Report {
            passed,
            databases: &databases,
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

/// The pass/fail table (a row per contender, database and endpoint), then
/// each failure's reasons under the database it happened on.
fn render(verdicts: &[Verdict]) -> String {
    // The databases in the order checked.
    let mut databases: Vec<Database> = Vec::new();
    for v in verdicts {
        if !databases.contains(&v.database) {
            databases.push(v.database);
        }
    }
    let mut rows = Vec::new();
    let mut details: Vec<(Database, String)> = Vec::new();
    let mut unsupported = Vec::new();
    for v in verdicts {
        let on = v.database.to_string();
        if let Some(err) = &v.error {
            rows.push(vec![
                v.contender.clone(),
                on.clone(),
                "(start)".into(),
                "FAIL".into(),
            ]);
            details.push((v.database, format!("{} (start): {err}", v.contender)));
        }
        for e in &v.endpoints {
            let result = match e.status {
                EndpointStatus::Pass => "pass".to_string(),
                EndpointStatus::Fail => "FAIL".to_string(),
                EndpointStatus::NotApplicable => {
                    let why = e.reasons.join("; ");
                    let label = e.endpoint.failure_label();
                    let line = format!("{} {label}: {why}", v.contender);
                    // The same manifest gap on each database: listed once.
                    if why.chars().count() > REASON_WIDTH && !unsupported.contains(&line) {
                        unsupported.push(line);
                    }
                    format!("n/a ({})", shorten(&why, REASON_WIDTH))
                }
            };
            rows.push(vec![
                v.contender.clone(),
                on.clone(),
                e.endpoint.to_string(),
                result,
            ]);
            if e.status == EndpointStatus::Fail {
                let label = e.endpoint.failure_label();
                for r in &e.reasons {
                    details.push((v.database, format!("{} {label}: {r}", v.contender)));
                }
            }
        }
    }
    let mut out = text_table(&["contender", "database", "endpoint", "result"], &rows);
    for &d in &databases {
        let lines: Vec<String> = details
            .iter()
            .filter(|(on, _)| *on == d)
            .map(|(_, l)| format!("- {l}"))
            .collect();
        if !lines.is_empty() {
            out.push_str(&format!("\n\nfailures on {d}:\n{}", lines.join("\n")));
        }
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
    let tallies: Vec<String> = databases
        .iter()
        .map(|&d| {
            let on: Vec<&Verdict> = verdicts.iter().filter(|v| v.database == d).collect();
            let passed = on.iter().filter(|v| v.passed()).count();
            format!("{passed}/{} contenders passed on {d}", on.len())
        })
        .collect();
    if tallies.is_empty() {
        out.push_str("\n\n0/0 contenders passed");
    } else {
        out.push_str(&format!("\n\n{}", tallies.join("; ")));
    }
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

    /// The table's row for these cells, as text_table spaces them.
    fn row(out: &str, cells: &[&str]) -> bool {
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>().starts_with(cells))
    }

    #[test]
    fn table_shows_failures_reasons_and_gaps() {
        let long = "x".repeat(80);
        let verdicts = vec![
            Verdict {
                contender: "a".into(),
                database: Database::Sqlite,
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
                database: Database::Sqlite,
                error: Some("b exited (exit status: 3)".into()),
                startup_ms: None,
                log: None,
                endpoints: vec![],
            },
        ];
        let out = render(&verdicts);
        assert!(row(&out, &["a", "sqlite", "json", "FAIL"]), "{out}");
        assert!(
            row(&out, &["a", "sqlite", "ws", "n/a", "(no", "broker)"]),
            "{out}"
        );
        assert!(out.contains("failures on sqlite:\n- a /json: expected {\"message\":..}"));
        assert!(out.contains("- a (http): keep-alive: declared"), "{out}");
        assert!(out.contains("- a shop/new: JSON /ok is false"), "{out}");
        assert!(row(&out, &["b", "sqlite", "(start)", "FAIL"]), "{out}");
        assert!(
            out.contains("- b (start): b exited (exit status: 3)"),
            "{out}"
        );
        assert!(out.contains(&format!("- a /io: {long}")), "{out}");
        assert!(out.ends_with("0/2 contenders passed on sqlite"), "{out}");
    }

    /// On two databases every row and failure names its database, a gap the
    /// manifest declares is listed once, and each database has its tally.
    #[test]
    fn each_check_names_its_database() {
        let long = "y".repeat(80);
        let on = |database, db: EndpointStatus, reasons: &[&str]| Verdict {
            contender: "a".into(),
            database,
            error: None,
            startup_ms: Some(10.0),
            log: None,
            endpoints: vec![
                endpoint(Endpoint::Json, EndpointStatus::Pass, &[]),
                endpoint(Endpoint::Db, db, reasons),
                endpoint(Endpoint::Io, EndpointStatus::NotApplicable, &[&long]),
            ],
        };
        let verdicts = vec![
            on(Database::Sqlite, EndpointStatus::Pass, &[]),
            on(Database::Postgres, EndpointStatus::Fail, &["row 7 differs"]),
        ];
        let out = render(&verdicts);
        assert!(row(&out, &["a", "sqlite", "db", "pass"]), "{out}");
        assert!(row(&out, &["a", "postgres", "db", "FAIL"]), "{out}");
        assert!(
            out.contains("failures on postgres:\n- a /db: row 7 differs"),
            "{out}"
        );
        assert!(!out.contains("failures on sqlite"), "{out}");
        assert_eq!(out.matches(&format!("- a /io: {long}")).count(), 1, "{out}");
        assert!(
            out.ends_with("1/1 contenders passed on sqlite; 0/1 contenders passed on postgres"),
            "{out}"
        );
    }
}
