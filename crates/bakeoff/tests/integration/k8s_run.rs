//! `bakeoff k8s run` against a fake Kubernetes API server at the HTTP level
//! (there is no cluster here): a hyper server on 127.0.0.1 that answers the
//! calls the kube client makes (create, get and delete a Job; list its pods;
//! read a pod's log), with a kubeconfig pointing at it. The pods' logs are
//! real: the output of real `bakeoff load --segment I/N` processes.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bakeoff::distributed::TestIdentity;
use bakeoff_load::testkit::FixedServiceServer;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::batch::v1::Job;
use serde_json::{json, Value};

use super::distributed::{assert_valid, read_docs, rfc3339, run_segments};

const NS: &str = "loadtest";
const NAME: &str = "checkout-load";

/// How the fake's Job ends.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `Complete` at the second look.
    Complete,
    /// `Failed` (BackoffLimitExceeded) at the second look.
    Fail,
    /// Never ends.
    Never,
}

/// A pod the fake lists once the Job exists.
struct FakePod {
    name: String,
    index: u32,
    phase: &'static str,
    waiting: Option<&'static str>,
    log: String,
}

/// One request the fake received.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: String,
    body: String,
    auth: String,
}

struct State {
    mode: Mode,
    pods: Vec<FakePod>,
    job: Mutex<Option<Value>>,
    looks: AtomicU32,
    seen: Mutex<Vec<Seen>>,
}

type Resp = Response<Full<Bytes>>;

fn reply(code: StatusCode, body: Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = code;
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r
}

fn status(code: u16, reason: &str, message: &str) -> Resp {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code});
    reply(StatusCode::from_u16(code).unwrap(), body)
}

fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn pod_json(p: &FakePod) -> Value {
    let mut state = json!({});
    if let Some(reason) = p.waiting {
        state = json!({"waiting": {"reason": reason, "message": "Back-off pulling image"}});
    }
    json!({
        "metadata": {"name": p.name, "namespace": NS,
            "labels": {"batch.kubernetes.io/job-name": NAME},
            "annotations": {"batch.kubernetes.io/job-completion-index": p.index.to_string()}},
        "status": {"phase": p.phase,
            "containerStatuses": [{"name": "bakeoff", "image": "x", "imageID": "",
                "ready": false, "restartCount": 0, "state": state}]}
    })
}

fn route(st: &State, method: &Method, path: &str, query: &str, body: &str) -> Resp {
    let jobs = format!("/apis/batch/v1/namespaces/{NS}/jobs");
    let pods = format!("/api/v1/namespaces/{NS}/pods");
    let mut job = st.job.lock().unwrap();
    if *method == Method::POST && path == jobs {
        let posted: Value = serde_json::from_str(body).unwrap();
        if job.is_some() {
            let msg = format!("jobs.batch \"{NAME}\" already exists");
            return status(409, "AlreadyExists", &msg);
        }
        st.looks.store(0, Ordering::SeqCst);
        *job = Some(posted.clone());
        return reply(StatusCode::CREATED, posted);
    }
    if let Some(name) = path.strip_prefix(&format!("{jobs}/")) {
        let Some(current) = job.clone() else {
            return status(404, "NotFound", &format!("jobs.batch \"{name}\" not found"));
        };
        if *method == Method::DELETE {
            *job = None;
            let body =
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"});
            return reply(StatusCode::OK, body);
        }
        let look = st.looks.fetch_add(1, Ordering::SeqCst);
        let condition = |kind: &str, reason: &str| {
            json!([{"type": kind, "status": "True", "reason": reason,
                "message": format!("Job has reached the specified {reason}")}])
        };
        let status = match st.mode {
            Mode::Complete if look >= 1 => {
                json!({"succeeded": 2, "conditions": condition("Complete", "CompletionsReached")})
            }
            Mode::Fail if look >= 1 => {
                json!({"succeeded": 1, "failed": 1, "conditions": condition("Failed", "BackoffLimitExceeded")})
            }
            _ => json!({"active": 2}),
        };
        let mut with = current;
        with["status"] = status;
        return reply(StatusCode::OK, with);
    }
    if *method == Method::GET && path == pods {
        let selector = query_param(query, "labelSelector").unwrap_or_default();
        let items: Vec<Value> =
            if job.is_some() && selector == format!("batch.kubernetes.io/job-name={NAME}") {
                st.pods.iter().map(pod_json).collect()
            } else {
                Vec::new()
            };
        let list = json!({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items});
        return reply(StatusCode::OK, list);
    }
    if let Some(rest) = path.strip_prefix(&format!("{pods}/")) {
        if let Some(pod) = rest
            .strip_suffix("/log")
            .and_then(|n| st.pods.iter().find(|p| p.name == n))
        {
            let log = match query_param(query, "tailLines").and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => {
                    let lines: Vec<&str> = pod.log.lines().collect();
                    lines[lines.len().saturating_sub(n)..].join("\n") + "\n"
                }
                None => pod.log.clone(),
            };
            return Response::new(Full::new(Bytes::from(log)));
        }
    }
    status(
        404,
        "NotFound",
        &format!("the fake does not serve {method} {path}"),
    )
}

/// The fake API server; it stops when dropped.
struct FakeApi {
    state: Arc<State>,
    addr: std::net::SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FakeApi {
    fn start(mode: Mode, pods: Vec<FakePod>) -> FakeApi {
        let state = Arc::new(State {
            mode,
            pods,
            job: Mutex::new(None),
            looks: AtomicU32::new(0),
            seen: Mutex::new(Vec::new()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let stream = tokio::select! {
                        _ = &mut stopped => return,
                        r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => continue },
                    };
                    let st = st.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                            let st = st.clone();
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let seen = Seen {
                                    method: parts.method.clone(),
                                    path: parts.uri.path().to_string(),
                                    query: parts.uri.query().unwrap_or_default().to_string(),
                                    body: String::from_utf8_lossy(&body).into_owned(),
                                    auth: parts
                                        .headers
                                        .get("authorization")
                                        .map(|v| v.to_str().unwrap_or_default().to_string())
                                        .unwrap_or_default(),
                                };
                                st.seen.lock().unwrap().push(seen.clone());
                                Ok::<_, Infallible>(route(
                                    &st,
                                    &seen.method,
                                    &seen.path,
                                    &seen.query,
                                    &seen.body,
                                ))
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        FakeApi {
            state,
            addr,
            _stop: stop,
        }
    }

    fn seen(&self, method: Method) -> Vec<Seen> {
        let seen = self.state.seen.lock().unwrap();
        seen.iter()
            .filter(|s| s.method == method)
            .cloned()
            .collect()
    }

    /// The reads of pods' logs.
    fn log_reads(&self) -> Vec<Seen> {
        let mut reads = self.seen(Method::GET);
        reads.retain(|s| s.path.ends_with("/log"));
        reads
    }

    fn job_left(&self) -> bool {
        self.state.job.lock().unwrap().is_some()
    }

    /// A kubeconfig whose current context is this server, namespace [`NS`].
    fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\n\
             clusters:\n- name: fake\n  cluster:\n    server: http://{}\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: tester\n    namespace: {NS}\n\
             users:\n- name: tester\n  user:\n    token: fake-token\n",
            self.addr
        );
        std::fs::write(&path, text).unwrap();
        path
    }
}

const TARGET: &str = "http://checkout.shop:8080/json";

const PLAN: [&str; 12] = [
    "--name",
    NAME,
    "--target",
    TARGET,
    "--rate",
    "400000",
    "--duration",
    "60s",
    "--agents",
    "2",
    "--image",
    "ghcr.io/example/bakeoff:0.1",
];

fn k8s_run(kubeconfig: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["k8s", "run"])
        .args(PLAN)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(extra)
        .output()
        .expect("run bakeoff")
}

/// The test of the Job that `k8s run` makes of [`PLAN`] starting at `start`:
/// what each of its pods computes from the arguments the Job gives it.
fn plan_test(start: &str) -> TestIdentity {
    let start = humantime::parse_rfc3339_weak(start).unwrap();
    let connections = 64 * 2;
    let duration = Duration::from_secs(60);
    TestIdentity::new(
        TARGET,
        "GET",
        Some(400000.0),
        connections,
        duration,
        2,
        start,
    )
}

/// Two real segments against a local server (started 4 s from now), as two
/// pods' logs: a stderr line, then the JSON; `test` stands for the test they
/// ran (the Job's pods load `TARGET`, which does not resolve here).
fn segment_pods(test: Option<&TestIdentity>) -> (Vec<FakePod>, Vec<Value>) {
    let srv = FixedServiceServer::start(Duration::from_micros(20), None).unwrap();
    let url = srv.url("/").to_string();
    let dir = tempfile::tempdir().unwrap();
    let start = rfc3339(SystemTime::now() + Duration::from_secs(4));
    let files = run_segments(&url, 2, &start, dir.path());
    let mut docs = read_docs(&files);
    let pods = docs
        .iter_mut()
        .enumerate()
        .map(|(i, doc)| {
            if let Some(test) = test {
                doc["url"] = json!(test.url);
                doc["test"] = serde_json::to_value(test).unwrap();
            }
            let log = format!("segment {i}/2 of test …: starting at {start}\n{doc:#}\n");
            pod(i as u32, "Succeeded", log)
        })
        .collect();
    (pods, docs)
}

fn pod(index: u32, phase: &'static str, log: String) -> FakePod {
    FakePod {
        name: format!("{NAME}-{index}-x{index}"),
        index,
        phase,
        waiting: None,
        log,
    }
}

#[test]
fn k8s_run_creates_the_job_merges_the_pods_segments_and_deletes_it() {
    // The Job's start, given so that the pods' test is known beforehand.
    let start = rfc3339(SystemTime::now() + Duration::from_secs(3600));
    let test = plan_test(&start);
    let (pods, docs) = segment_pods(Some(&test));
    let api = FakeApi::start(Mode::Complete, pods);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = api.kubeconfig(dir.path());
    let out = k8s_run(&kubeconfig, &["--json", "--start-at", &start]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("target: http://checkout.shop:8080/json"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("API server http://{}/, namespace {NS}", api.addr)),
        "{stderr}"
    );
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&merged);
    let sum = |k: &str| docs.iter().map(|d| d[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(merged["requests"].as_u64().unwrap(), sum("requests"));
    assert_eq!(merged["successes"].as_u64().unwrap(), sum("successes"));
    assert_eq!(merged["test"]["id"], test.id);
    let segs = merged["segments"].as_array().unwrap();
    assert_eq!(segs[1]["file"], format!("pod {NAME}-1-x1 (segment 1)"));

    // The Job posted is the manifest `k8s job` writes for the same plan and start.
    let posts = api.seen(Method::POST);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].auth, "Bearer fake-token", "the kubeconfig's user");
    let posted: Job = serde_json::from_str(&posts[0].body).unwrap();
    let annotations = posted.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations["bakeoff.dev/test"], test.id);
    let at = annotations["bakeoff.dev/start-at"].clone();
    let manifest = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["k8s", "job"])
        .args(PLAN)
        .args(["--namespace", NS, "--start-at", &at])
        .output()
        .unwrap();
    assert_eq!(manifest.status.code(), Some(0));
    let expected: Job = serde_yaml::from_slice(&manifest.stdout).unwrap();
    let (mut a, mut b) = (
        serde_json::to_value(&posted).unwrap(),
        serde_json::to_value(&expected).unwrap(),
    );
    // The deadline counts from each one's creation, a moment apart.
    let deadline = |v: &mut Value| v["spec"]["activeDeadlineSeconds"].take().as_i64().unwrap();
    assert!((deadline(&mut a) - deadline(&mut b)).abs() <= 2);
    assert_eq!(a, b);
    assert_eq!(posted.metadata.namespace.as_deref(), Some(NS));

    // Deleted with its pods, once; nothing left.
    let deletes = api.seen(Method::DELETE);
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(
        deletes[0].path,
        format!("/apis/batch/v1/namespaces/{NS}/jobs/{NAME}")
    );
    assert!(
        deletes[0]
            .body
            .contains("\"propagationPolicy\":\"Background\""),
        "{:?}",
        deletes[0]
    );
    assert!(!api.job_left());
    let logs = api.log_reads();
    assert_eq!(logs.len(), 2);

    // The text output, from a second run of the same Job name.
    let out = k8s_run(&kubeconfig, &["--start-at", &start]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("bakeoff load {TARGET}")),
        "{stdout}"
    );
    assert!(stdout.contains("2 of test"), "{stdout}");
    assert!(!api.job_left());
}

#[test]
fn segments_of_another_test_than_the_jobs_are_refused_and_the_job_deleted() {
    // Whole and consistent with each other, but loaded with other arguments
    // than the Job's (another target and start): the merge alone takes them.
    let (pods, docs) = segment_pods(None);
    let theirs = docs[0]["test"]["id"].as_str().unwrap().to_string();
    let api = FakeApi::start(Mode::Complete, pods);
    let dir = tempfile::tempdir().unwrap();
    let start = rfc3339(SystemTime::now() + Duration::from_secs(3600));
    let out = k8s_run(
        &api.kubeconfig(dir.path()),
        &["--json", "--start-at", &start],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    let ours = plan_test(&start).id;
    assert!(
        stderr.contains(&format!(
            "pod {NAME}-0-x0 (segment 0) ran test {theirs}, not the Job's test {ours}"
        )),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("vs {TARGET}")), "{stderr}");
    assert_eq!(api.seen(Method::DELETE).len(), 1);
    assert!(!api.job_left());
}

#[test]
fn a_failed_job_names_the_segment_and_its_log_and_is_deleted() {
    // Segment 1's real log: a `bakeoff load` refusing a start in the past.
    let past = rfc3339(SystemTime::now() - Duration::from_secs(90));
    let refused = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args([
            "load",
            "http://127.0.0.1:9/",
            "--segment",
            "1/2",
            "--start-at",
            &past,
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let log = String::from_utf8_lossy(&refused.stderr).into_owned();
    let pods = vec![pod(0, "Succeeded", String::new()), pod(1, "Failed", log)];
    let api = FakeApi::start(Mode::Fail, pods);
    let dir = tempfile::tempdir().unwrap();
    let out = k8s_run(&api.kubeconfig(dir.path()), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(&format!("Job {NAME} failed (BackoffLimitExceeded)")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("failed segment: 1; segment 1 {NAME}-1-x1 Failed")),
        "{stderr}"
    );
    assert!(
        stderr.contains("| error: --start-at") && stderr.contains("in the past"),
        "{stderr}"
    );
    let tails = api.log_reads();
    assert_eq!(tails.len(), 1);
    assert!(tails[0].query.contains("tailLines=20"), "{:?}", tails[0]);
    assert_eq!(api.seen(Method::DELETE).len(), 1);
    assert!(!api.job_left());
}

#[test]
fn a_job_that_does_not_finish_in_time_is_deleted() {
    let mut stuck = pod(0, "Pending", String::new());
    stuck.waiting = Some("ImagePullBackOff");
    let api = FakeApi::start(Mode::Never, vec![stuck, pod(1, "Running", String::new())]);
    let dir = tempfile::tempdir().unwrap();
    let began = Instant::now();
    let out = k8s_run(&api.kubeconfig(dir.path()), &["--timeout", "2s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(began.elapsed() < Duration::from_secs(20));
    assert!(
        stderr.contains(&format!("Job {NAME} did not finish within 2s (--timeout)")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "segment 0 {NAME}-0-x0 Pending (ImagePullBackOff: Back-off pulling image)"
        )),
        "{stderr}"
    );
    assert_eq!(api.seen(Method::DELETE).len(), 1);
    assert!(!api.job_left());
    // A bad --timeout is refused before anything reaches the cluster.
    let out = k8s_run(&api.kubeconfig(dir.path()), &["--timeout", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--timeout `soon`"));
    assert_eq!(api.seen(Method::POST).len(), 1);
}

#[test]
fn ctrl_c_deletes_the_job() {
    let api = FakeApi::start(Mode::Never, vec![]);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["k8s", "run"])
        .args(PLAN)
        .arg("--kubeconfig")
        .arg(api.kubeconfig(dir.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.seen(Method::GET).is_empty() {
        assert!(Instant::now() < deadline, "the Job was never read");
        std::thread::sleep(Duration::from_millis(20));
    }
    super::hardening::signal(child.id(), libc::SIGINT);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "k8s run did not end on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    assert_eq!(api.seen(Method::DELETE).len(), 1);
    assert!(!api.job_left());
}

#[test]
fn a_job_already_there_is_named_and_not_deleted() {
    let api = FakeApi::start(Mode::Never, vec![]);
    *api.state.job.lock().unwrap() = Some(json!({"metadata": {"name": NAME}}));
    let dir = tempfile::tempdir().unwrap();
    let out = k8s_run(&api.kubeconfig(dir.path()), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("kubectl delete job {NAME} -n {NS}")),
        "{stderr}"
    );
    assert!(
        api.seen(Method::DELETE).is_empty(),
        "another's Job is left alone"
    );
    assert!(api.job_left());
}

#[test]
fn no_kubeconfig_names_where_it_looked() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bakeoff"))
        .args(["k8s", "run"])
        .args(PLAN)
        .env_remove("KUBECONFIG")
        .env("HOME", home.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let looked = home.path().join(".kube/config");
    assert!(
        stderr.contains(&format!("no kubeconfig: looked at {}", looked.display())),
        "{stderr}"
    );
    assert!(stderr.contains("KUBECONFIG or --kubeconfig"), "{stderr}");
    // A kubeconfig whose server is not listening: the connection error, exit 1.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let api = FakeApi {
        addr: dead,
        ..FakeApi::start(Mode::Never, vec![])
    };
    let out = k8s_run(&api.kubeconfig(home.path()), &["--timeout", "5s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("creating Job {NAME}")), "{stderr}");
}
