//! The [`Cluster`] of `bakeoff k8s run` on a real API server, through the
//! `kube` client (feature `k8s`): the user's kubeconfig found as kubectl finds
//! it, and the five calls the run makes, their errors kept as status + message.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, LogParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use super::cluster::{Cluster, ClusterError, JOB_NAME_LABEL};

/// Which kubeconfig, context and namespace to use.
#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    /// `--kubeconfig`: this file only.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: instead of the current context.
    pub context: Option<String>,
    /// `--namespace`: instead of the context's (or `default`).
    pub namespace: Option<String>,
}

/// The kubeconfig files to read, as kubectl picks them: `explicit`, else the
/// `KUBECONFIG` list (`env`), else `~/.kube/config` under `home`.
pub fn kubeconfig_paths(
    explicit: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.to_path_buf()];
    }
    let listed: Vec<PathBuf> = env
        .map(|v| {
            std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !listed.is_empty() {
        return listed;
    }
    home.map(|h| vec![h.join(".kube").join("config")])
        .unwrap_or_default()
}

fn kubeconfig_error(
    what: String,
    e: impl std::error::Error + Send + Sync + 'static,
) -> ClusterError {
    ClusterError::Kubeconfig {
        what,
        source: Box::new(e),
    }
}

/// Read and merge `paths` (missing ones skipped, as kubectl does, unless
/// `explicit`); none there is [`ClusterError::NoKubeconfig`].
fn read_kubeconfig(paths: &[PathBuf], explicit: bool) -> Result<Kubeconfig, ClusterError> {
    let shown = || {
        if paths.is_empty() {
            "nothing (no --kubeconfig, KUBECONFIG unset and no HOME)".to_string()
        } else {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let present: Vec<&PathBuf> = paths.iter().filter(|p| p.is_file()).collect();
    if present.is_empty() || (explicit && present.len() != paths.len()) {
        return Err(ClusterError::NoKubeconfig { looked: shown() });
    }
    let mut merged = Kubeconfig::default();
    for p in present {
        let one = Kubeconfig::read_from(p)
            .map_err(|e| kubeconfig_error(format!("reading {}", p.display()), e))?;
        merged = merged
            .merge(one)
            .map_err(|e| kubeconfig_error(format!("reading {}", p.display()), e))?;
    }
    Ok(merged)
}

/// A namespace of the cluster the kubeconfig names.
pub struct KubeCluster {
    jobs: Api<Job>,
    pods: Api<Pod>,
    namespace: String,
    server: String,
}

impl KubeCluster {
    /// Read the kubeconfig (`KUBECONFIG` and `HOME` as given, so tests need
    /// not change the process's environment) and make a client.
    pub async fn connect(
        o: &KubeOptions,
        env_kubeconfig: Option<&OsStr>,
        home: Option<&Path>,
    ) -> Result<KubeCluster, ClusterError> {
        let paths = kubeconfig_paths(o.kubeconfig.as_deref(), env_kubeconfig, home);
        let kubeconfig = read_kubeconfig(&paths, o.kubeconfig.is_some())?;
        let options = KubeConfigOptions {
            context: o.context.clone(),
            ..Default::default()
        };
        let what = match &o.context {
            Some(c) => format!("context `{c}` (`kubectl config get-contexts` lists them)"),
            None => "current context (`kubectl config use-context NAME` sets one)".into(),
        };
        let config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| kubeconfig_error(what, e))?;
        let server = config.cluster_url.to_string();
        let namespace = o
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(|e| ClusterError::Transport {
            action: format!("making a client for {server}"),
            source: Box::new(e),
        })?;
        Ok(KubeCluster {
            jobs: Api::namespaced(client.clone(), &namespace),
            pods: Api::namespaced(client, &namespace),
            namespace,
            server,
        })
    }

    /// The API server's URL.
    pub fn server(&self) -> &str {
        &self.server
    }
}

fn api_error(action: String, e: kube::Error) -> ClusterError {
    match e {
        kube::Error::Api(r) => ClusterError::Api {
            action,
            code: r.code,
            reason: r.reason,
            message: r.message,
        },
        other => ClusterError::Transport {
            action,
            source: Box::new(other),
        },
    }
}

impl Cluster for KubeCluster {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    async fn create_job(&self, job: &Job) -> Result<(), ClusterError> {
        let name = job.metadata.name.clone().unwrap_or_default();
        self.jobs
            .create(&PostParams::default(), job)
            .await
            .map(drop)
            .map_err(|e| api_error(format!("creating Job {name}"), e))
    }

    async fn get_job(&self, name: &str) -> Result<Job, ClusterError> {
        self.jobs
            .get(name)
            .await
            .map_err(|e| api_error(format!("reading Job {name}"), e))
    }

    async fn job_pods(&self, job: &str) -> Result<Vec<Pod>, ClusterError> {
        let lp = ListParams::default().labels(&format!("{JOB_NAME_LABEL}={job}"));
        self.pods
            .list(&lp)
            .await
            .map(|l| l.items)
            .map_err(|e| api_error(format!("listing Job {job}'s pods"), e))
    }

    async fn pod_log(&self, pod: &str, tail: Option<usize>) -> Result<String, ClusterError> {
        let lp = LogParams {
            tail_lines: tail.map(|n| n as i64),
            ..Default::default()
        };
        self.pods
            .logs(pod, &lp)
            .await
            .map_err(|e| api_error(format!("reading pod {pod}'s log"), e))
    }

    async fn delete_job(&self, name: &str) -> Result<(), ClusterError> {
        match self.jobs.delete(name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(r)) if r.code == 404 => Ok(()),
            Err(e) => Err(api_error(format!("deleting Job {name}"), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_looked_for_where_kubectl_looks() {
        let home = Path::new("/home/u");
        let list = OsStr::new("/a:/b::");
        assert_eq!(
            kubeconfig_paths(Some(Path::new("/x")), Some(list), Some(home)),
            vec![PathBuf::from("/x")]
        );
        assert_eq!(
            kubeconfig_paths(None, Some(list), Some(home)),
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(
            kubeconfig_paths(None, Some(OsStr::new("")), Some(home)),
            vec![PathBuf::from("/home/u/.kube/config")]
        );
        assert!(kubeconfig_paths(None, None, None).is_empty());
    }

    #[tokio::test]
    async fn no_kubeconfig_names_where_it_looked_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let o = KubeOptions::default();
        let Err(e) = KubeCluster::connect(&o, None, Some(dir.path())).await else {
            panic!("connected without a kubeconfig");
        };
        let text = e.to_string();
        assert!(
            text.contains(".kube/config") && text.contains("KUBECONFIG"),
            "{text}"
        );
        assert!(matches!(e, ClusterError::NoKubeconfig { .. }));
        // An explicit file that is not there is named too.
        let o = KubeOptions {
            kubeconfig: Some(dir.path().join("nope")),
            ..Default::default()
        };
        let Err(e) = KubeCluster::connect(&o, None, None).await else {
            panic!("connected without a kubeconfig");
        };
        assert!(e.to_string().contains("nope"), "{e}");
        // A context that is not in the file.
        let file = dir.path().join("config");
        std::fs::write(
            &file,
            "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
        )
        .unwrap();
        let o = KubeOptions {
            kubeconfig: Some(file),
            context: Some("prod".into()),
            ..Default::default()
        };
        let Err(e) = KubeCluster::connect(&o, None, None).await else {
            panic!("connected to a context that is not there");
        };
        assert!(e.to_string().contains("context `prod`"), "{e}");
    }
}
