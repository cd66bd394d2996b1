//! `bakeoff k8s run`'s logic, apart from the API client: create the Job, wait
//! for it (bounded), collect each pod's segment from its log, merge them, and
//! delete the Job on every path (success, failure, timeout, Ctrl-C).
//!
//! The cluster's side effects are the [`Cluster`] trait (the kube client is
//! `kube_cluster`, feature `k8s`); the tests drive this logic with a fake.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use tokio_util::sync::CancellationToken;

use super::merge::{merge_segments, read_segment, Merged};
use super::{DistError, TestIdentity};

/// The label Kubernetes sets on a Job's pods (the selector of `job_pods`).
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";

/// The annotation (and label) holding a pod's completion index.
pub const INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";

/// Log lines shown of a failed pod or of a log without a segment.
pub const TAIL_LINES: usize = 20;

/// What `k8s run` needs of a Kubernetes API, in one namespace.
pub trait Cluster {
    /// The namespace everything happens in (for messages).
    fn namespace(&self) -> &str;
    /// Create the Job; a Job of that name already there is an API error 409.
    fn create_job(&self, job: &Job) -> impl Future<Output = Result<(), ClusterError>> + Send;
    /// The Job as the API server has it now (with its status).
    fn get_job(&self, name: &str) -> impl Future<Output = Result<Job, ClusterError>> + Send;
    /// The pods carrying [`JOB_NAME_LABEL`] = `job`.
    fn job_pods(&self, job: &str) -> impl Future<Output = Result<Vec<Pod>, ClusterError>> + Send;
    /// A pod's log, or its last `tail` lines.
    fn pod_log(
        &self,
        pod: &str,
        tail: Option<usize>,
    ) -> impl Future<Output = Result<String, ClusterError>> + Send;
    /// Delete the Job and its pods (propagation Background); one already gone is `Ok`.
    fn delete_job(&self, name: &str) -> impl Future<Output = Result<(), ClusterError>> + Send;
}

/// A failed call to the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("no kubeconfig: looked at {looked}; point KUBECONFIG or --kubeconfig at one (`kubectl config view` shows what kubectl uses), or run where ~/.kube/config exists")]
    NoKubeconfig { looked: String },
    #[error("the kubeconfig: {what}")]
    Kubeconfig {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{action}: the API server answered {code} {reason}: {message}{hint}", hint = if *.code == 403 { " (the user needs create/get/delete on jobs, list on pods and get on pods/log in the namespace; see docs/distributed.md)" } else { "" })]
    Api {
        action: String,
        code: u16,
        reason: String,
        message: String,
    },
    #[error("{action}")]
    Transport {
        action: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ClusterError {
    fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Why `k8s run` gave no merged result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("a Job named {name} already exists in namespace {namespace} (a run still going, or one left behind); delete it with `kubectl delete job {name} -n {namespace}`, or give another --name")]
    Exists { name: String, namespace: String },
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("Job {name} failed ({reason}); {detail}")]
    Failed {
        name: String,
        reason: String,
        detail: String,
    },
    #[error("Job {name} did not finish within {after} (--timeout); its pods: {pods}")]
    Timeout {
        name: String,
        after: String,
        pods: String,
    },
    #[error("pod {pod} (segment {index}): its log has no segment JSON (the last JSON document of `bakeoff load … --json`); its last lines:\n{tail}")]
    NoSegment {
        pod: String,
        index: String,
        tail: String,
    },
    #[error("pod {pod} (segment {index}) ran test {got}, not the Job's test {want} ({diff}; the pod's value first): a pod of an earlier Job of this name, or a Job changed after it was created, so its segment is refused; run again once `kubectl get pods -l {JOB_NAME_LABEL}={job} -n {namespace}` lists none")]
    OtherTest {
        pod: String,
        index: String,
        job: String,
        namespace: String,
        got: String,
        want: String,
        diff: String,
    },
    #[error("the pods' segments do not merge: {0}")]
    Merge(#[from] DistError),
    #[error("interrupted")]
    Interrupted,
    #[error("{first}deleting Job {name} failed, so it may be left in the cluster: delete it with `kubectl delete job {name} -n {namespace}` (NotFound means nothing was left)", first = .error.as_deref().map(|e| format!("{}\nand ", crate::error::chain(e))).unwrap_or_default())]
    Left {
        /// What went wrong first; `None` when the run itself succeeded.
        error: Option<Box<RunError>>,
        name: String,
        namespace: String,
        #[source]
        delete: ClusterError,
    },
}

impl RunError {
    /// Whether Ctrl-C (or SIGTERM) ended the run.
    pub fn is_interrupted(&self) -> bool {
        match self {
            RunError::Interrupted => true,
            RunError::Left { error: Some(e), .. } => e.is_interrupted(),
            _ => false,
        }
    }
}

/// How long to wait and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    /// The whole run's bound, from the Job's creation to its segments merged.
    pub timeout: Duration,
    /// Between two looks at the Job.
    pub poll: Duration,
}

/// The Job's state, read from its conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Running { succeeded: i32, active: i32 },
    Complete,
    Failed { reason: String, message: String },
}

/// The state of `job` from its status's conditions.
pub fn job_state(job: &Job) -> JobState {
    let Some(status) = &job.status else {
        return JobState::Running {
            succeeded: 0,
            active: 0,
        };
    };
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let holds = |kind: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == kind && c.status == "True")
    };
    // `Complete` comes once every pod has ended, so their logs are final.
    if holds("Complete").is_some() {
        return JobState::Complete;
    }
    if let Some(c) = holds("Failed").or_else(|| holds("FailureTarget")) {
        return JobState::Failed {
            reason: c.reason.clone().unwrap_or_else(|| "no reason given".into()),
            message: c.message.clone().unwrap_or_default(),
        };
    }
    JobState::Running {
        succeeded: status.succeeded.unwrap_or(0),
        active: status.active.unwrap_or(0),
    }
}

/// A pod's completion index, from its annotation (or label).
pub fn pod_index(pod: &Pod) -> Option<u32> {
    let m = &pod.metadata;
    m.annotations
        .as_ref()
        .and_then(|a| a.get(INDEX_ANNOTATION))
        .or_else(|| m.labels.as_ref().and_then(|l| l.get(INDEX_ANNOTATION)))
        .and_then(|v| v.parse().ok())
}

fn pod_name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

fn pod_phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown")
}

/// One line of what a pod is doing: its phase, and why it waits or how it ended.
pub fn pod_state(pod: &Pod) -> String {
    let index = pod_index(pod).map_or("?".into(), |i| i.to_string());
    let mut text = format!("segment {index} {} {}", pod_name(pod), pod_phase(pod));
    let state = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.state.as_ref());
    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        text += &format!(" ({}", w.reason.as_deref().unwrap_or("waiting"));
        if let Some(m) = w.message.as_deref().filter(|m| !m.is_empty()) {
            text += &format!(": {m}");
        }
        text += ")";
    }
    if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
        text += &format!(
            " (exit code {}{})",
            t.exit_code,
            t.reason
                .as_deref()
                .map(|r| format!(", {r}"))
                .unwrap_or_default()
        );
    }
    text
}

/// The last JSON document in a log: the last line opening with `{` from which
/// a whole JSON value parses (stderr's lines may come before it).
pub fn last_json_document(log: &str) -> Option<&str> {
    let starts = log
        .match_indices('{')
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || log.as_bytes()[i - 1] == b'\n');
    let starts: Vec<usize> = starts.collect();
    starts.into_iter().rev().find_map(|at| {
        let mut values =
            serde_json::Deserializer::from_str(&log[at..]).into_iter::<serde::de::IgnoredAny>();
        match values.next() {
            Some(Ok(_)) => Some(&log[at..at + values.byte_offset()]),
            _ => None,
        }
    })
}

/// The last `n` lines of `text`, indented.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let shown = &lines[lines.len().saturating_sub(n)..];
    if shown.is_empty() {
        return "  (the log is empty)".into();
    }
    shown
        .iter()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Create `job`, wait for it within `config.timeout`, merge its pods'
/// segments (each must be of `test`, the Job's plan), and delete it whatever
/// happened (a Job already there is not ours: it is named, never deleted).
/// `say` gets progress lines.
pub async fn run_job<C: Cluster>(
    cluster: &C,
    job: &Job,
    test: &TestIdentity,
    config: &RunConfig,
    cancel: &CancellationToken,
    say: &dyn Fn(&str),
) -> Result<Merged, RunError> {
    let name = job.metadata.name.clone().unwrap_or_default();
    let namespace = cluster.namespace().to_string();
    match cluster.create_job(job).await {
        Ok(()) => {}
        Err(e) if e.code() == Some(409) => return Err(RunError::Exists { name, namespace }),
        // The request may have reached the server before the connection broke.
        Err(e @ ClusterError::Transport { .. }) => {
            return cleanup(cluster, &name, &namespace, Err(e.into())).await
        }
        Err(e) => return Err(e.into()),
    }
    say(&format!("created Job {name} in namespace {namespace}"));
    let outcome = tokio::select! {
        r = tokio::time::timeout(config.timeout, wait_and_collect(cluster, &name, test, config.poll, say)) => match r {
            Ok(r) => r,
            Err(_) => Err(timeout(cluster, &name, config.timeout).await),
        },
        _ = cancel.cancelled() => Err(RunError::Interrupted),
    };
    say(&format!("deleting Job {name} and its pods"));
    cleanup(cluster, &name, &namespace, outcome).await
}

/// Delete the Job, keeping `outcome` unless the deletion fails.
async fn cleanup<C: Cluster>(
    cluster: &C,
    name: &str,
    namespace: &str,
    outcome: Result<Merged, RunError>,
) -> Result<Merged, RunError> {
    match bounded(format!("deleting Job {name}"), cluster.delete_job(name)).await {
        Ok(()) => outcome,
        Err(delete) => Err(RunError::Left {
            error: outcome.err().map(Box::new),
            name: name.to_string(),
            namespace: namespace.to_string(),
            delete,
        }),
    }
}

/// The bound of each call made once the run is over (the deletion, the
/// timeout's look at the pods): cleanup must not hang on a silent server.
pub const CALL_BOUND: Duration = Duration::from_secs(30);

async fn bounded<T>(
    action: String,
    call: impl Future<Output = Result<T, ClusterError>>,
) -> Result<T, ClusterError> {
    match tokio::time::timeout(CALL_BOUND, call).await {
        Ok(r) => r,
        Err(_) => Err(ClusterError::Transport {
            action,
            source: format!("no answer within {} s", CALL_BOUND.as_secs()).into(),
        }),
    }
}

async fn timeout<C: Cluster>(cluster: &C, name: &str, after: Duration) -> RunError {
    let pods = match bounded(format!("listing Job {name}'s pods"), cluster.job_pods(name)).await {
        Ok(p) if p.is_empty() => "none was created".to_string(),
        Ok(mut p) => {
            p.sort_by_key(pod_index);
            p.iter().map(pod_state).collect::<Vec<_>>().join("; ")
        }
        Err(e) => format!("unknown ({e})"),
    };
    RunError::Timeout {
        name: name.to_string(),
        after: humantime::format_duration(after).to_string(),
        pods,
    }
}

/// Transport errors in a row tolerated while polling (an API server blip).
const POLL_RETRIES: u32 = 3;

async fn wait_and_collect<C: Cluster>(
    cluster: &C,
    name: &str,
    test: &TestIdentity,
    poll: Duration,
    say: &dyn Fn(&str),
) -> Result<Merged, RunError> {
    let mut shown = None;
    let mut blips = 0;
    loop {
        let job = match cluster.get_job(name).await {
            Ok(j) => {
                blips = 0;
                j
            }
            Err(ClusterError::Transport { .. }) if blips < POLL_RETRIES => {
                blips += 1;
                tokio::time::sleep(poll).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        match job_state(&job) {
            JobState::Complete => {
                let total = job.spec.as_ref().and_then(|s| s.completions).unwrap_or(0);
                return collect(cluster, name, test, total.max(0) as u32).await;
            }
            JobState::Failed { reason, message } => {
                return Err(failed(cluster, name, reason, message).await)
            }
            JobState::Running { succeeded, active } => {
                let total = job.spec.as_ref().and_then(|s| s.completions).unwrap_or(0);
                if shown != Some((succeeded, active)) {
                    shown = Some((succeeded, active));
                    say(&format!(
                        "{succeeded} of {total} segments done, {active} pods running"
                    ));
                }
            }
        }
        tokio::time::sleep(poll).await;
    }
}

/// The error of a failed Job: its reason, the failed segments, and the first
/// one's last log lines.
async fn failed<C: Cluster>(cluster: &C, name: &str, reason: String, message: String) -> RunError {
    let mut detail = if message.is_empty() {
        String::new()
    } else {
        format!("{message}; ")
    };
    match cluster.job_pods(name).await {
        Ok(mut pods) => {
            pods.sort_by_key(pod_index);
            let bad: Vec<&Pod> = pods.iter().filter(|p| pod_phase(p) == "Failed").collect();
            if let Some(first) = bad.first() {
                let indexes: Vec<String> = bad
                    .iter()
                    .map(|p| pod_index(p).map_or("?".into(), |i| i.to_string()))
                    .collect();
                detail += &format!(
                    "failed segment{}: {}; {}; its last log lines:\n",
                    if bad.len() > 1 { "s" } else { "" },
                    indexes.join(", "),
                    pod_state(first)
                );
                detail += &match cluster.pod_log(&pod_name(first), Some(TAIL_LINES)).await {
                    Ok(log) => tail(&log, TAIL_LINES),
                    Err(e) => format!("  (its log is unavailable: {e})"),
                };
            } else if pods.is_empty() {
                detail += "no pod was created (`kubectl describe job` shows why)";
            } else {
                detail += &format!(
                    "no pod failed itself; the pods: {}",
                    pods.iter().map(pod_state).collect::<Vec<_>>().join("; ")
                );
            }
        }
        Err(e) => detail += &format!("its pods are unknown ({e})"),
    }
    RunError::Failed {
        name: name.to_string(),
        reason,
        detail,
    }
}

/// Every succeeded pod's segment, checked to be of `test` and merged (the
/// merge checks that each segment is there exactly once).
async fn collect<C: Cluster>(
    cluster: &C,
    name: &str,
    test: &TestIdentity,
    count: u32,
) -> Result<Merged, RunError> {
    let mut pods = cluster.job_pods(name).await?;
    pods.retain(|p| pod_phase(p) == "Succeeded");
    if pods.is_empty() {
        // Pods removed already (a TTL controller): merge's own words for it.
        let missing: Vec<String> = (0..count).map(|i| i.to_string()).collect();
        return Err(DistError::Missing {
            missing: missing.join(", "),
            count,
        }
        .into());
    }
    pods.sort_by_key(pod_index);
    let mut parts = Vec::with_capacity(pods.len());
    for pod in &pods {
        let pod_name = pod_name(pod);
        let index = pod_index(pod).map_or("?".into(), |i| i.to_string());
        let log = cluster.pod_log(&pod_name, None).await?;
        let doc = last_json_document(&log).ok_or_else(|| RunError::NoSegment {
            pod: pod_name.clone(),
            index: index.clone(),
            tail: tail(&log, TAIL_LINES),
        })?;
        let part = read_segment(&format!("pod {pod_name} (segment {index})"), doc)?;
        // The merge compares the segments with each other only: all could be another test's.
        if part.test.id != test.id {
            return Err(RunError::OtherTest {
                pod: pod_name,
                index,
                job: name.to_string(),
                namespace: cluster.namespace().to_string(),
                got: part.test.id.clone(),
                want: test.id.clone(),
                diff: test.differences(&part.test).join(", "),
            });
        }
        parts.push(part);
    }
    Ok(merge_segments(parts)?)
}

#[cfg(test)]
mod tests;
