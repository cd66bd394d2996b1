//! The Kubernetes Indexed Job that runs a test's segments, one per pod, built
//! from typed `k8s-openapi` structs (valid by construction) and printed as YAML.
//!
//! Each pod runs `bakeoff load URL … --segment $(JOB_COMPLETION_INDEX)/N
//! --start-at T --allow-remote --json`: its share of the load from a shared
//! wall-clock start, its JSON on stdout (the pod's log) for `bakeoff merge`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvVar, EnvVarSource, ObjectFieldSelector, PodAffinityTerm,
    PodAntiAffinity, PodSpec, PodTemplateSpec, ResourceRequirements, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{format_time, TestIdentity, MAX_SEGMENTS};

/// What one generator core sustains, requests per second, for sizing pods
/// (about 130k req/s measured on one core; planned with headroom).
pub const RATE_PER_CORE: f64 = 100_000.0;

/// The label every pod of one Job carries (its anti-affinity selects on it).
pub const JOB_LABEL: &str = "bakeoff.dev/job";

/// Why a Job cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    #[error("--name `{0}` is not a Kubernetes name: use 1 to 52 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit")]
    Name(String),
    #[error("--namespace `{0}` is not a Kubernetes namespace: use 1 to 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit")]
    Namespace(String),
    #[error("--target `{url}`: {reason}")]
    Target { url: String, reason: String },
    #[error("--agents {0}: give between 1 and {max} pods", max = MAX_SEGMENTS)]
    Agents(u32),
    #[error("-c {connections} cannot be split over {agents} agents; give at least one connection per agent")]
    Connections { connections: u32, agents: u32 },
    #[error("--image `{0}` is empty or has whitespace; give the image that holds bakeoff, e.g. ghcr.io/you/bakeoff:0.1")]
    Image(String),
    #[error(
        "--rate must be a number of requests per second from {min} to {max} per agent (got {0})",
        min = bakeoff_load::MIN_RATE,
        max = bakeoff_load::MAX_RATE
    )]
    Rate(f64),
    #[error("--duration must be between 1 s and 24 h")]
    Duration,
}

/// A distributed test as a Job.
#[derive(Debug, Clone)]
pub struct JobPlan {
    pub name: String,
    pub namespace: Option<String>,
    /// The target, as every pod reaches it (remote by nature).
    pub target: url::Url,
    /// The whole test's rate (all pods), or a closed loop.
    pub rate: Option<f64>,
    /// The whole test's connections.
    pub connections: u32,
    pub duration: Duration,
    pub agents: u32,
    pub image: String,
    pub start_at: SystemTime,
    /// When the manifest is made (the Job's deadline counts from it).
    pub created: SystemTime,
}

/// A pod's resource requests, sized from its share of the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodSize {
    pub cpu_millis: u32,
    pub memory_mib: u32,
    /// Generator threads per pod (`--threads`).
    pub threads: u32,
}

/// A DNS label of at most `max` bytes (RFC 1123, as Kubernetes names are),
/// starting with a letter.
fn dns_label(n: &str, max: usize) -> bool {
    !n.is_empty()
        && n.len() <= max
        && n.starts_with(|c: char| c.is_ascii_lowercase())
        && n.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl JobPlan {
    pub fn validate(&self) -> Result<(), K8sError> {
        if !dns_label(&self.name, 52) {
            return Err(K8sError::Name(self.name.clone()));
        }
        if let Some(ns) = self.namespace.as_ref().filter(|ns| !dns_label(ns, 63)) {
            return Err(K8sError::Namespace(ns.clone()));
        }
        let bad = |reason: &str| K8sError::Target {
            url: self.target.to_string(),
            reason: reason.to_string(),
        };
        if self.target.scheme() != "http" {
            return Err(bad("bakeoff load speaks plain http://"));
        }
        match self.target.host() {
            None => return Err(bad("it has no host")),
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                return Err(bad("localhost inside a pod is the pod itself; give the target's address or Service name as the pods reach it"))
            }
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() || ip.is_unspecified() => {
                return Err(bad("a loopback address inside a pod is the pod itself; give the target's address or Service name as the pods reach it"))
            }
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() || ip.is_unspecified() => {
                return Err(bad("a loopback address inside a pod is the pod itself; give the target's address or Service name as the pods reach it"))
            }
            Some(_) => {}
        }
        if self.agents == 0 || self.agents > MAX_SEGMENTS {
            return Err(K8sError::Agents(self.agents));
        }
        if self.connections < self.agents {
            return Err(K8sError::Connections {
                connections: self.connections,
                agents: self.agents,
            });
        }
        if let Some(r) = self.rate {
            let agents = f64::from(self.agents);
            let (min, max) = (
                bakeoff_load::MIN_RATE * agents,
                bakeoff_load::MAX_RATE * agents,
            );
            if !(r.is_finite() && (min..=max).contains(&r)) {
                return Err(K8sError::Rate(r));
            }
        }
        if self.duration < Duration::from_secs(1) || self.duration > Duration::from_secs(86_400) {
            return Err(K8sError::Duration);
        }
        if self.image.is_empty() || self.image.contains(char::is_whitespace) {
            return Err(K8sError::Image(self.image.clone()));
        }
        Ok(())
    }

    /// The test every pod runs a segment of.
    pub fn test(&self) -> TestIdentity {
        TestIdentity::new(
            self.target.as_str(),
            "GET",
            self.rate,
            self.connections,
            self.duration,
            self.agents,
            self.start_at,
        )
    }

    /// Per pod: a core per [`RATE_PER_CORE`] of its rate (at least a quarter
    /// core, one whole core for a closed loop), 64 MiB plus 64 KiB of socket
    /// buffers per connection.
    pub fn pod_size(&self) -> PodSize {
        let conns = self.connections.div_ceil(self.agents);
        let cores = match self.rate {
            Some(r) => (r / f64::from(self.agents) / RATE_PER_CORE).max(0.25),
            None => 1.0,
        };
        let cpu_millis = ((cores * 1000.0 / 50.0).ceil() * 50.0) as u32;
        PodSize {
            cpu_millis,
            memory_mib: 64 + conns.div_ceil(16),
            threads: cpu_millis.div_ceil(1000).clamp(1, conns),
        }
    }

    /// The Job's `activeDeadlineSeconds`, from its creation: the lead to the
    /// start, 60 s of lateness, the window, and a margin for the grace and exit.
    pub fn active_deadline(&self) -> Duration {
        let lead = self
            .start_at
            .duration_since(self.created)
            .unwrap_or_default()
            .as_secs();
        Duration::from_secs(
            lead + bakeoff_load::MAX_START_LATE.as_secs() + self.duration.as_secs() + 120,
        )
    }

    /// The container's arguments after `bakeoff`.
    pub fn args(&self) -> Vec<String> {
        let mut a = vec!["load".to_string(), self.target.to_string()];
        if let Some(r) = self.rate {
            a.extend(["--rate".into(), format!("{r}")]);
        }
        a.extend([
            "-c".into(),
            self.connections.to_string(),
            "-d".into(),
            humantime::format_duration(self.duration)
                .to_string()
                .replace(' ', ""),
            "--threads".into(),
            self.pod_size().threads.to_string(),
            "--segment".into(),
            format!("$(JOB_COMPLETION_INDEX)/{}", self.agents),
            "--start-at".into(),
            format_time(self.start_at),
            "--allow-remote".into(),
            "--json".into(),
        ]);
        a
    }

    /// The Job: Indexed, N completions and N in parallel, no retries (a
    /// retried segment would start late), pods spread over nodes.
    pub fn job(&self) -> Job {
        let labels = BTreeMap::from([
            (
                "app.kubernetes.io/name".to_string(),
                "bakeoff-load".to_string(),
            ),
            (JOB_LABEL.to_string(), self.name.clone()),
        ]);
        let size = self.pod_size();
        let q = |s: String| Quantity(s);
        let resources = ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_string(), q(format!("{}m", size.cpu_millis))),
                ("memory".to_string(), q(format!("{}Mi", size.memory_mib))),
            ])),
            // No CPU limit: throttling would stall the generator's sends.
            limits: Some(BTreeMap::from([(
                "memory".to_string(),
                q(format!("{}Mi", size.memory_mib * 2)),
            )])),
            ..Default::default()
        };
        let index_env = EnvVar {
            name: "JOB_COMPLETION_INDEX".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.annotations['batch.kubernetes.io/job-completion-index']"
                        .into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let spread = PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: PodAffinityTerm {
                        label_selector: Some(LabelSelector {
                            match_labels: Some(BTreeMap::from([(
                                JOB_LABEL.to_string(),
                                self.name.clone(),
                            )])),
                            ..Default::default()
                        }),
                        topology_key: "kubernetes.io/hostname".into(),
                        ..Default::default()
                    },
                },
            ]),
            ..Default::default()
        };
        let deadline = self.active_deadline().as_secs();
        Job {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: self.namespace.clone(),
                labels: Some(labels.clone()),
                annotations: Some(BTreeMap::from([
                    ("bakeoff.dev/test".to_string(), self.test().id),
                    ("bakeoff.dev/target".to_string(), self.target.to_string()),
                    (
                        "bakeoff.dev/start-at".to_string(),
                        format_time(self.start_at),
                    ),
                ])),
                ..Default::default()
            },
            spec: Some(JobSpec {
                completion_mode: Some("Indexed".into()),
                completions: Some(self.agents as i32),
                parallelism: Some(self.agents as i32),
                backoff_limit: Some(0),
                active_deadline_seconds: Some(deadline as i64),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        restart_policy: Some("Never".into()),
                        affinity: Some(Affinity {
                            pod_anti_affinity: Some(spread),
                            ..Default::default()
                        }),
                        containers: vec![Container {
                            name: "bakeoff".into(),
                            image: Some(self.image.clone()),
                            command: Some(vec!["bakeoff".into()]),
                            args: Some(self.args()),
                            env: Some(vec![index_env]),
                            resources: Some(resources),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The Job as YAML (`kubectl apply -f -`).
pub fn to_yaml(job: &Job) -> String {
    serde_yaml::to_string(job).expect("a typed Job serializes")
}
