//! `bakeoff k8s job …`: a distributed test as a Kubernetes Indexed Job
//! manifest on stdout; `bakeoff k8s run …`: that Job run through the API (the
//! library's `distributed::cluster`), its merged result on stdout. The
//! explicit target, the shared start and the progress go to stderr.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::cli::{K8sArgs, K8sCommand, K8sJobArgs, K8sRunArgs};
use crate::distributed::cluster::{run_job, Cluster as _, ClusterError, RunConfig, RunError};
use crate::distributed::k8s::{to_yaml, JobPlan};
use crate::distributed::kube_cluster::{KubeCluster, KubeOptions};
use crate::distributed::{format_time, parse_start_at};
use crate::report::load::merged_summary;
use crate::{InputError, Interrupted};

/// How often `k8s run` reads the Job's status.
const POLL: Duration = Duration::from_secs(1);

/// `k8s run`'s default bound past the Job's own deadline, so that Kubernetes
/// fails a late Job first (with its reason).
const TIMEOUT_MARGIN: Duration = Duration::from_secs(30);

pub(super) async fn execute(args: K8sArgs, cancel: CancellationToken) -> Result<u8> {
    match args.command {
        K8sCommand::Job(a) => job(a),
        K8sCommand::Run(a) => run(a, cancel).await,
    }
}

fn input(msg: impl Into<String>) -> anyhow::Error {
    InputError::new(msg).into()
}

fn duration(option: &str, text: &str) -> Result<Duration> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        input(format!(
            "{option} `{text}` is not a duration ({e}); write e.g. 60s or 2m"
        ))
    })
}

/// The checked plan of a Job made at `now`.
pub(crate) fn plan(a: &K8sJobArgs, now: SystemTime) -> Result<JobPlan> {
    let target = url::Url::parse(&a.target).map_err(|e| {
        input(format!(
            "--target `{}` is not a URL ({e}); give it as the pods reach it, e.g. http://my-service.default:8080/json",
            a.target
        ))
    })?;
    let start_at = match &a.start_at {
        Some(t) => parse_start_at(t, now, Duration::ZERO).map_err(|e| input(e.to_string()))?,
        None => now + duration("--start-in", &a.start_in)?,
    };
    let plan = JobPlan {
        name: a.name.clone(),
        namespace: a.namespace.clone(),
        target,
        rate: a.rate,
        connections: a
            .connections
            .unwrap_or(64u32.saturating_mul(a.agents.max(1))),
        duration: duration("--duration", &a.duration)?,
        agents: a.agents,
        image: a.image.clone(),
        start_at,
        created: now,
    };
    plan.validate().map_err(|e| input(e.to_string()))?;
    Ok(plan)
}

/// The plan in words, for stderr: the explicit target, the test, the pods.
fn describe(p: &JobPlan) -> String {
    let size = p.pod_size();
    format!(
        "target: {} (remote: each of the {} pods loads it with --allow-remote)\n\
         test {}: {} from {}, {} s measured; per pod {}m CPU, {} MiB, {} thread(s)\n\
         the pods' clocks must agree (NTP)",
        p.target,
        p.agents,
        p.test().id,
        p.rate
            .map(|r| format!("{r} req/s in all"))
            .unwrap_or_else(|| format!("a closed loop over {} connections", p.connections)),
        format_time(p.start_at),
        p.duration.as_secs_f64(),
        size.cpu_millis,
        size.memory_mib,
        size.threads,
    )
}

fn job(a: K8sJobArgs) -> Result<u8> {
    let p = plan(&a, SystemTime::now())?;
    eprintln!(
        "{}; collect each pod's log (its JSON) and run `bakeoff merge`, or use `bakeoff k8s run`",
        describe(&p)
    );
    out!("{}", to_yaml(&p.job()))?;
    Ok(0)
}

/// A kubeconfig that is missing or unusable is the user's to fix (exit 2).
fn connect_error(e: ClusterError) -> anyhow::Error {
    match e {
        ClusterError::NoKubeconfig { .. } | ClusterError::Kubeconfig { .. } => {
            input(crate::error::chain(&e))
        }
        other => anyhow::Error::new(other),
    }
}

async fn run(a: K8sRunArgs, cancel: CancellationToken) -> Result<u8> {
    let mut p = plan(&a.job, SystemTime::now())?;
    let timeout = match &a.timeout {
        Some(t) => match duration("--timeout", t)? {
            Duration::ZERO => return Err(input("--timeout must be above zero, e.g. 10m")),
            d => d,
        },
        None => p.active_deadline() + TIMEOUT_MARGIN,
    };
    let options = KubeOptions {
        kubeconfig: a.kubeconfig.clone(),
        context: a.context.clone(),
        namespace: p.namespace.clone(),
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let env = std::env::var_os("KUBECONFIG");
    let cluster = KubeCluster::connect(&options, env.as_deref(), home.as_deref())
        .await
        .map_err(connect_error)?;
    p.namespace = Some(cluster.namespace().to_string());
    eprintln!(
        "{}\nAPI server {}, namespace {}; waiting at most {} (--timeout)",
        describe(&p),
        cluster.server(),
        cluster.namespace(),
        humantime::format_duration(timeout)
    );
    let config = RunConfig {
        timeout,
        poll: POLL,
    };
    let say = |s: &str| eprintln!("{s}");
    let m = match run_job(&cluster, &p.job(), &p.test(), &config, &cancel, &say).await {
        Ok(m) => m,
        Err(RunError::Interrupted) => return Err(Interrupted.into()),
        Err(e) if e.is_interrupted() => {
            // The Job may be left: say so before the usual "interrupted".
            eprintln!("error: {}", crate::error::chain(&e));
            return Err(Interrupted.into());
        }
        Err(e @ RunError::Exists { .. }) => return Err(input(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&m.doc())?)?;
    } else {
        out!("{}", merged_summary(&m))?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use k8s_openapi::api::batch::v1::Job;

    fn args(extra: &[&str]) -> Result<JobPlan> {
        let mut argv = vec!["bakeoff", "k8s", "job"];
        argv.extend_from_slice(extra);
        let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
        let crate::cli::Command::K8s(K8sArgs {
            command: K8sCommand::Job(a),
        }) = cli.command
        else {
            unreachable!()
        };
        plan(
            &a,
            humantime::parse_rfc3339("2026-12-01T10:00:00Z").unwrap(),
        )
    }

    const BASE: [&str; 12] = [
        "--name",
        "checkout-load",
        "--target",
        "http://checkout.shop:8080/json",
        "--rate",
        "400000",
        "--duration",
        "60s",
        "--agents",
        "4",
        "--image",
        "ghcr.io/example/bakeoff:0.1",
    ];

    #[test]
    fn the_manifest_is_an_indexed_job_of_n_segments() {
        let p = args(&BASE).unwrap();
        let yaml = to_yaml(&p.job());
        insta::assert_snapshot!(yaml);
        // Read back into the typed struct: the fields are where Kubernetes reads them.
        let job: Job = serde_yaml::from_str(&yaml).unwrap();
        let spec = job.spec.unwrap();
        assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
        assert_eq!((spec.completions, spec.parallelism), (Some(4), Some(4)));
        assert_eq!(spec.backoff_limit, Some(0));
        let pod = spec.template.spec.unwrap();
        let c = &pod.containers[0];
        let a = c.args.clone().unwrap();
        let at = |flag: &str| a[a.iter().position(|x| x == flag).unwrap() + 1].clone();
        assert_eq!(at("--segment"), "$(JOB_COMPLETION_INDEX)/4");
        assert_eq!(at("--start-at"), "2026-12-01T10:02:00.000000Z");
        assert_eq!(at("--rate"), "400000");
        assert!(a.contains(&"--allow-remote".to_string()) && a.contains(&"--json".to_string()));
        assert_eq!(c.env.as_ref().unwrap()[0].name, "JOB_COMPLETION_INDEX");
        // 100k req/s per pod: one core each, one thread.
        let req = c.resources.as_ref().unwrap().requests.clone().unwrap();
        assert_eq!(req["cpu"].0, "1000m");
        let anti = pod.affinity.unwrap().pod_anti_affinity.unwrap();
        let term = &anti
            .preferred_during_scheduling_ignored_during_execution
            .unwrap()[0];
        assert_eq!(
            term.pod_affinity_term.topology_key,
            "kubernetes.io/hostname"
        );
        // The Job's test is the one each segment computes from its own arguments.
        let ann = job.metadata.annotations.unwrap();
        assert_eq!(ann["bakeoff.dev/test"], p.test().id);
    }

    #[test]
    fn pods_are_sized_from_their_share_of_the_rate() {
        let mut base = BASE.to_vec();
        base[5] = "1000000";
        let p = args(&base).unwrap();
        let s = p.pod_size();
        assert_eq!((s.cpu_millis, s.threads), (2500, 3));
        base[5] = "100";
        let s = args(&base).unwrap().pod_size();
        assert_eq!((s.cpu_millis, s.threads), (250, 1));
        assert_eq!(s.memory_mib, 64 + 4, "64 connections per pod");
    }

    #[test]
    fn bad_jobs_are_refused_with_the_reason() {
        let with = |i: usize, v: &'static str| {
            let mut a = BASE.to_vec();
            a[i] = v;
            args(&a).unwrap_err().to_string()
        };
        assert!(with(1, "Checkout").contains("not a Kubernetes name"));
        assert!(with(3, "http://127.0.0.1:8080/").contains("the pod itself"));
        assert!(with(3, "http://localhost:8080/").contains("the pod itself"));
        assert!(with(3, "https://checkout/").contains("plain http"));
        assert!(with(3, "checkout").contains("not a URL"));
        assert!(with(5, "0").contains("--rate"));
        assert!(with(7, "0s").contains("--duration"));
        assert!(with(9, "0").contains("--agents"));
        assert!(with(11, "a b").contains("--image"));
        let mut past = BASE.to_vec();
        past.extend(["--start-at", "2026-12-01T09:00:00Z"]);
        assert!(args(&past).unwrap_err().to_string().contains("in the past"));
        let mut ns = BASE.to_vec();
        ns.extend(["--namespace", "BAD NS"]);
        assert!(args(&ns)
            .unwrap_err()
            .to_string()
            .contains("not a Kubernetes namespace"));
        let mut few = BASE.to_vec();
        few.extend(["-c", "3"]);
        assert!(args(&few).unwrap_err().to_string().contains("-c 3"));
    }
}
