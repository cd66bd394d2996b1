//! `bakeoff k8s job …`: a distributed test as a Kubernetes Indexed Job
//! manifest on stdout; the explicit target and the shared start on stderr.

use std::time::{Duration, SystemTime};

use anyhow::Result;

use crate::cli::{K8sArgs, K8sCommand, K8sJobArgs};
use crate::distributed::k8s::{to_yaml, JobPlan};
use crate::distributed::{format_time, parse_start_at};
use crate::InputError;

pub(super) fn execute(args: K8sArgs) -> Result<u8> {
    match args.command {
        K8sCommand::Job(a) => job(a),
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
        connections: a.connections.unwrap_or(64 * a.agents.max(1)),
        duration: duration("--duration", &a.duration)?,
        agents: a.agents,
        image: a.image.clone(),
        start_at,
        created: now,
    };
    plan.validate().map_err(|e| input(e.to_string()))?;
    Ok(plan)
}

fn job(a: K8sJobArgs) -> Result<u8> {
    let p = plan(&a, SystemTime::now())?;
    let size = p.pod_size();
    eprintln!(
        "target: {} (remote: each of the {} pods loads it with --allow-remote)\n\
         test {}: {} from {}, {} s measured; per pod {}m CPU, {} MiB, {} thread(s)\n\
         the pods' clocks must agree (NTP); collect each pod's log (its JSON) and run `bakeoff merge`",
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
    );
    out!("{}", to_yaml(&p.job()))?;
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
        let mut few = BASE.to_vec();
        few.extend(["-c", "3"]);
        assert!(args(&few).unwrap_err().to_string().contains("-c 3"));
    }
}
