//! One verification of an installed contender, giving its [`Verdict`]: start it
//! on a fresh database, watch its process group for workers started after it
//! answered healthy (the `ready` check), run the contract checks
//! (`workload::verify`, one per endpoint) on its supported endpoints and one
//! request of each class of its
//! own workloads (`[[workloads]]`, checked against the class's expectation),
//! stop it. A contender that cannot start
//! is a failed verdict carrying the error and log tail, not a crash. The
//! `bakeoff verify` command runs it for each contender, `bakeoff run` before
//! measuring; [`super::verify_stamps`] remembers which passed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use bakeoff_load::RequestSpec;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::datagen::DataFiles;
use super::supervisor::{ContractEnv, Running, SpawnSpec, SuperviseError};
use super::Contender;
use super::Installed;
use crate::database::{Database, Postgres};
use crate::model::Endpoint;
use crate::scenario::Scenario;
use crate::workload::upstream::Upstream;
use crate::workload::verify::{verify_contender, Check, CheckTarget, VerifyContext};
use crate::Interrupted;

/// The outcome of verifying one contender.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub contender: String,
    /// The database its db endpoints were checked on.
    pub database: Database,
    /// Why it could not be checked at all (setup or start failure), with the log tail.
    pub error: Option<String>,
    /// Spawn to healthy, when it started.
    pub startup_ms: Option<f64>,
    /// The contender's log file, when it was started.
    pub log: Option<PathBuf>,
    /// Supported endpoints first (in manifest order), then the common check of
    /// every response ([`CheckTarget::Http`]: Date, keep-alive), the readiness
    /// check ([`CheckTarget::Ready`]), then each class
    /// of each custom workload (`workload/class`), then the unsupported endpoints.
    pub endpoints: Vec<EndpointResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointResult {
    pub endpoint: CheckTarget,
    pub status: EndpointStatus,
    /// Failure reasons, or the reason an endpoint is unsupported.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStatus {
    Pass,
    Fail,
    /// Declared unsupported in the manifest.
    NotApplicable,
}

impl Verdict {
    /// True when it started and every supported endpoint passed.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self
                .endpoints
                .iter()
                .all(|e| e.status != EndpointStatus::Fail)
    }

    /// A contender that could not be checked on `database`.
    pub fn failed(c: &Contender, database: Database, error: String) -> Verdict {
        Verdict {
            contender: c.name().to_string(),
            database,
            error: Some(error),
            startup_ms: None,
            log: None,
            endpoints: unsupported(c),
        }
    }

    /// One line naming what failed.
    pub fn failure_summary(&self) -> String {
        if let Some(e) = &self.error {
            return e.lines().next().unwrap_or_default().to_string();
        }
        self.endpoints
            .iter()
            .filter(|e| e.status == EndpointStatus::Fail)
            .map(|e| {
                format!(
                    "{} ({})",
                    e.endpoint,
                    e.reasons.first().map(String::as_str).unwrap_or("failed")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn unsupported(c: &Contender) -> Vec<EndpointResult> {
    not_applicable(&c.manifest.unsupported)
}

fn not_applicable(gaps: &BTreeMap<Endpoint, String>) -> Vec<EndpointResult> {
    gaps.iter()
        .map(|(e, why)| EndpointResult {
            endpoint: CheckTarget::Endpoint(*e),
            status: EndpointStatus::NotApplicable,
            reasons: vec![why.clone()],
        })
        .collect()
}

/// Start `installed` with its default worker count, check its supported endpoints,
/// stop it. With `postgres`, the database endpoints are checked on it (reset to
/// the seed first); a contender that does not declare `postgres` has them as
/// not applicable. Only cancellation is an error.
pub async fn verify_one(
    installed: &Installed,
    data: &DataFiles,
    upstream: &Upstream,
    postgres: Option<&Postgres>,
    log_dir: PathBuf,
    cancel: &CancellationToken,
) -> Result<Verdict, Interrupted> {
    let c = &installed.contender;
    let database = match postgres {
        Some(_) => Database::Postgres,
        None => Database::Sqlite,
    };
    let gaps = c.unsupported_on(database);
    let supported: Vec<Endpoint> = c
        .manifest
        .supported
        .iter()
        .filter(|e| !gaps.contains_key(*e))
        .copied()
        .collect();
    let postgres = postgres.filter(|_| c.manifest.databases.contains(&Database::Postgres));
    if let Some(pg) = postgres {
        if let Err(e) = pg.reset().await {
            return Ok(Verdict::failed(
                c,
                database,
                format!("resetting PostgreSQL to the seed: {e}"),
            ));
        }
    }
    let custom = match c.custom_scenarios() {
        Ok(m) => m,
        Err(e) => return Ok(Verdict::failed(c, database, e.to_string())),
    };
    let sqlite = match data.working_copy(c.name()) {
        Ok(p) => p,
        Err(e) => return Ok(Verdict::failed(c, database, e.to_string())),
    };
    let env = ContractEnv {
        sqlite: sqlite.clone(),
        data: data.csv.clone(),
        upstream: upstream.base_url(),
        log_dir,
        database_url: postgres.map(|pg| pg.server.url()),
    };
    let workers = c.manifest.workers.default;
    let max_connections = postgres.map(|pg| pg.server.max_connections());
    let explain = |message: String| {
        crate::database::explain_exhaustion(message, c.name(), workers, max_connections)
    };
    let spec = SpawnSpec::new(installed, workers, &env);
    let mut running = match Running::start(&spec, cancel).await {
        Ok(r) => r,
        Err(SuperviseError::Cancelled { .. }) => return Err(Interrupted),
        Err(e) => return Ok(Verdict::failed(c, database, explain(e.to_string()))),
    };
    let Some(ready) = ready_check(&running, cancel).await else {
        running.stop().await;
        return Err(Interrupted);
    };
    let ctx = VerifyContext {
        sqlite,
        data: data.csv.clone(),
        upstream,
        keep_alive: c.manifest.keep_alive,
        health_path: c.manifest.start.health_path.clone(),
        postgres,
    };
    let mut checks = tokio::select! {
        checks = verify_contender(running.base_url(), &supported, &ctx) => checks,
        _ = cancel.cancelled() => {
            running.stop().await;
            return Err(Interrupted);
        }
    };
    let classes = tokio::select! {
        classes = check_custom(running.base_url(), &custom, cancel) => classes,
        _ = cancel.cancelled() => None,
    };
    let Some(classes) = classes else {
        running.stop().await;
        return Err(Interrupted);
    };
    let crashed = running.try_exited();
    let mut verdict = Verdict {
        contender: c.name().to_string(),
        database,
        error: crashed.map(|status| {
            explain(format!(
                "{} exited ({status}) during verification; last lines of {}:\n{}",
                c.name(),
                running.log_path().display(),
                running.log_tail()
            ))
        }),
        startup_ms: Some(running.startup_time().as_secs_f64() * 1e3),
        log: Some(running.log_path().to_path_buf()),
        endpoints: Vec::new(),
    };
    running.stop().await;
    checks.push(ready);
    let targets = supported.iter().map(|&e| CheckTarget::Endpoint(e));
    for endpoint in targets.chain([CheckTarget::Http, CheckTarget::Ready]) {
        // An endpoint the verifier did not report is a failure, never a silent pass.
        let result = match checks.iter().find(|ch| ch.endpoint == endpoint) {
            Some(ch) if ch.passed => EndpointResult {
                endpoint: endpoint.clone(),
                status: EndpointStatus::Pass,
                reasons: Vec::new(),
            },
            Some(ch) => EndpointResult {
                endpoint: endpoint.clone(),
                status: EndpointStatus::Fail,
                reasons: if ch.reasons.is_empty() {
                    vec!["failed (no reason given)".into()]
                } else {
                    ch.reasons.clone()
                },
            },
            None => EndpointResult {
                endpoint: endpoint.clone(),
                status: EndpointStatus::Fail,
                reasons: vec!["the verifier returned no result for this endpoint".into()],
            },
        };
        verdict.endpoints.push(result);
    }
    verdict.endpoints.extend(classes);
    verdict.endpoints.extend(not_applicable(&gaps));
    Ok(verdict)
}

/// How long the process group is watched after `/health` first answered 200:
/// as long as the idle-memory sample taken there (docs/methodology.md).
const READY_WATCH: Duration = Duration::from_millis(500);

/// The readiness check: no process joins the contender's group in the
/// [`READY_WATCH`] after `/health` first answered 200 (compared with the group
/// read at that answer, before bakeoff's own checks of the port). The contract wants 200
/// only once every worker serves; a worker forked later (a gunicorn master
/// forks its workers 0–0.1 s apart, the first answering alone) makes start-up
/// time and idle memory read short. `None` when cancelled.
async fn ready_check(running: &Running, cancel: &CancellationToken) -> Option<Check> {
    let at_health = running.pids_at_healthy();
    tokio::select! {
        _ = tokio::time::sleep(READY_WATCH) => {}
        _ = cancel.cancelled() => return None,
    }
    let late: Vec<String> = running
        .pids()
        .into_iter()
        .filter(|p| !at_health.contains(p))
        .map(|p| p.to_string())
        .collect();
    let reasons = match late.len() {
        0 => Vec::new(),
        n => vec![format!(
            "{n} process(es) joined its group within {READY_WATCH:?} after the health check first \
             answered 200 (pid {}): answer 200 only once every worker serves, or start-up time \
             and idle memory read short (docs/contract.md)",
            late.join(", ")
        )],
    };
    Some(Check {
        endpoint: CheckTarget::Ready,
        passed: reasons.is_empty(),
        reasons,
    })
}

/// How long one custom class's request may take in verification.
const CLASS_TIMEOUT: Duration = Duration::from_secs(10);

/// One request of each class of each custom workload (named `workload/class`),
/// sent by the load engine and judged by the class's expectation (default: a
/// 2xx). `None` when cancelled.
pub async fn check_custom(
    base_url: &str,
    workloads: &BTreeMap<String, Scenario>,
    cancel: &CancellationToken,
) -> Option<Vec<EndpointResult>> {
    let mut out = Vec::new();
    for (workload, scenario) in workloads {
        for r in &scenario.requests {
            let endpoint = CheckTarget::Class {
                workload: workload.clone(),
                class: r.class.clone(),
            };
            let reasons = match check_class(base_url, r, cancel).await {
                Err(bakeoff_load::LoadError::Cancelled) => return None,
                Err(e) => vec![format!("could not send it: {e}")],
                Ok(reasons) => reasons,
            };
            out.push(EndpointResult {
                endpoint,
                status: match reasons.is_empty() {
                    true => EndpointStatus::Pass,
                    false => EndpointStatus::Fail,
                },
                reasons,
            });
        }
    }
    Some(out)
}

/// Why the one request of class `r` failed (empty: it passed).
async fn check_class(
    base_url: &str,
    r: &RequestSpec,
    cancel: &CancellationToken,
) -> Result<Vec<String>, bakeoff_load::LoadError> {
    let target = match bakeoff_load::Url::parse(base_url) {
        Ok(t) => t,
        Err(e) => return Ok(vec![format!("bad contender URL {base_url}: {e}")]),
    };
    let config = bakeoff_load::LoadConfig {
        requests: vec![RequestSpec {
            weight: 1,
            ..r.clone()
        }],
        connections: 1,
        duration: None,
        max_requests: Some(1),
        timeout: CLASS_TIMEOUT,
        ..bakeoff_load::LoadConfig::new(target)
    };
    let report = bakeoff_load::run(config, cancel.child_token(), None).await?;
    if report.successes == 1 {
        return Ok(Vec::new());
    }
    if !report.expectation_examples.is_empty() {
        return Ok(report.expectation_examples.clone());
    }
    let mut why: Vec<String> = report
        .errors
        .iter()
        .map(|(kind, n)| format!("{n} {} error(s)", kind.as_str()))
        .collect();
    why.extend(
        report
            .status
            .keys()
            .filter(|s| !(200..300).contains(*s))
            .map(|s| format!("status {s}, expected a 2xx (or set the class's expect.status)")),
    );
    if why.is_empty() {
        why.push("no answer".into());
    }
    Ok(why)
}
