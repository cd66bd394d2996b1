//! `run_job` against an in-memory cluster: the wait, the collection, the
//! merge and the cleanup on every path. The segments are real: short loads
//! run by the engine against a local server.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use bakeoff_load::testkit::FixedServiceServer;
use k8s_openapi::api::batch::v1::{JobCondition, JobSpec, JobStatus};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateWaiting, ContainerStatus, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;
use crate::distributed::merge::add_segment;
use crate::distributed::{Segment, TestIdentity};
use crate::load_doc::LoadDoc;

/// What the fake's Job reports at each look (the last one repeats).
#[derive(Clone)]
enum Look {
    Running,
    Complete,
    Failed,
}

#[derive(Default)]
struct Fake {
    looks: Mutex<VecDeque<Look>>,
    exists: bool,
    delete_fails: bool,
    delete_hangs: bool,
    pods: Vec<Pod>,
    logs: BTreeMap<String, String>,
    created: Mutex<Vec<Job>>,
    deleted: Mutex<Vec<String>>,
    tails: Mutex<Vec<Option<usize>>>,
}

fn api(code: u16, reason: &str) -> ClusterError {
    ClusterError::Api {
        action: "the fake".into(),
        code,
        reason: reason.into(),
        message: "said so".into(),
    }
}

impl Cluster for Fake {
    fn namespace(&self) -> &str {
        "loadtest"
    }
    async fn create_job(&self, job: &Job) -> Result<(), ClusterError> {
        if self.exists {
            return Err(api(409, "AlreadyExists"));
        }
        self.created.lock().unwrap().push(job.clone());
        Ok(())
    }
    async fn get_job(&self, name: &str) -> Result<Job, ClusterError> {
        let look = {
            let mut looks = self.looks.lock().unwrap();
            if looks.len() > 1 {
                looks.pop_front().unwrap()
            } else {
                looks.front().cloned().unwrap_or(Look::Running)
            }
        };
        let condition = |kind: &str, reason: &str| JobCondition {
            type_: kind.into(),
            status: "True".into(),
            reason: Some(reason.into()),
            message: Some(format!("the Job is {kind}")),
            ..Default::default()
        };
        let conditions = match look {
            Look::Running => vec![],
            Look::Complete => vec![condition("Complete", "CompletionsReached")],
            Look::Failed => vec![condition("Failed", "BackoffLimitExceeded")],
        };
        Ok(Job {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(JobSpec {
                completions: Some(2),
                ..Default::default()
            }),
            status: Some(JobStatus {
                active: Some(1),
                conditions: Some(conditions),
                ..Default::default()
            }),
        })
    }
    async fn job_pods(&self, _job: &str) -> Result<Vec<Pod>, ClusterError> {
        Ok(self.pods.clone())
    }
    async fn pod_log(&self, pod: &str, tail: Option<usize>) -> Result<String, ClusterError> {
        self.tails.lock().unwrap().push(tail);
        self.logs
            .get(pod)
            .cloned()
            .ok_or_else(|| api(404, "NotFound"))
    }
    async fn delete_job(&self, name: &str) -> Result<(), ClusterError> {
        self.deleted.lock().unwrap().push(name.into());
        if self.delete_hangs {
            std::future::pending::<()>().await;
        }
        if self.delete_fails {
            return Err(api(403, "Forbidden"));
        }
        Ok(())
    }
}

fn pod(name: &str, index: u32, phase: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            annotations: Some(BTreeMap::from([(
                INDEX_ANNOTATION.to_string(),
                index.to_string(),
            )])),
            ..Default::default()
        },
        status: Some(PodStatus {
            phase: Some(phase.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The test of the Job's plan, at a fixed start.
fn plan(count: u32) -> TestIdentity {
    TestIdentity::new(
        "http://checkout.shop:8080/json",
        "GET",
        None,
        count,
        Duration::from_secs(1),
        count,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    )
}

/// `count` segments of `test`, each a real short closed loop against a local
/// server (named as the test's target), as `bakeoff load … --segment I/N
/// --json` prints them.
async fn segments_of(test: &TestIdentity, count: u32) -> Vec<String> {
    let srv = FixedServiceServer::start(Duration::from_micros(20), None).unwrap();
    let url = srv.url("/");
    let mut docs = Vec::new();
    for index in 0..count {
        let mut cfg = bakeoff_load::LoadConfig::new(url.clone());
        cfg.connections = 1;
        cfg.duration = None;
        cfg.max_requests = Some(40);
        let report = bakeoff_load::run(cfg, CancellationToken::new(), None)
            .await
            .unwrap();
        let mut doc = LoadDoc::of(&test.url, 1, &report);
        let seg = Segment { index, count };
        add_segment(&mut doc, test, seg, SystemTime::now(), &report);
        docs.push(serde_json::to_string_pretty(&doc).unwrap());
    }
    docs
}

/// `count` segments of the plan's test.
async fn segments(count: u32) -> Vec<String> {
    segments_of(&plan(count), count).await
}

fn job() -> Job {
    Job {
        metadata: ObjectMeta {
            name: Some("checkout-load".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

const FAST: RunConfig = RunConfig {
    timeout: Duration::from_secs(10),
    poll: Duration::from_millis(5),
};

async fn run(fake: &Fake, config: RunConfig) -> (Result<Merged, RunError>, Vec<String>) {
    let said = Mutex::new(Vec::new());
    let say = |s: &str| said.lock().unwrap().push(s.to_string());
    let test = plan(2);
    let r = run_job(
        fake,
        &job(),
        &test,
        &config,
        &CancellationToken::new(),
        &say,
    )
    .await;
    (r, said.into_inner().unwrap())
}

/// Two succeeded pods whose logs hold `docs`, after some stderr lines.
fn done(docs: &[String]) -> Fake {
    let mut fake = Fake {
        looks: Mutex::new([Look::Running, Look::Running, Look::Complete].into()),
        ..Default::default()
    };
    for (i, d) in docs.iter().enumerate() {
        let name = format!("checkout-load-{i}-x");
        fake.pods.push(pod(&name, i as u32, "Succeeded"));
        fake.logs.insert(
            name,
            format!("segment {i}/2 of test …: starting at …\n{{not json}}\n{d}\n"),
        );
    }
    fake
}

#[tokio::test]
async fn a_completed_job_is_merged_from_its_pods_logs_and_deleted() {
    let docs = segments(2).await;
    let fake = done(&docs);
    let (r, said) = run(&fake, FAST).await;
    let m = r.unwrap();
    let requests: u64 = docs
        .iter()
        .map(|d| {
            serde_json::from_str::<serde_json::Value>(d).unwrap()["requests"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(m.report.requests, requests);
    assert_eq!(m.segments.len(), 2);
    assert!(
        m.segments[1].1.contains("pod checkout-load-1-x"),
        "{:?}",
        m.segments
    );
    assert_eq!(fake.created.lock().unwrap().len(), 1);
    assert_eq!(*fake.deleted.lock().unwrap(), ["checkout-load"]);
    // Whole logs for the segments.
    assert!(fake.tails.lock().unwrap().iter().all(Option::is_none));
    assert!(said[0].contains("created Job checkout-load in namespace loadtest"));
    assert!(said
        .iter()
        .any(|s| s.contains("0 of 2 segments done, 1 pods running")));
    // Shown once while it does not change.
    assert_eq!(
        said.iter().filter(|s| s.contains("segments done")).count(),
        1
    );
}

#[tokio::test]
async fn a_failed_job_names_the_segment_and_its_last_log_lines_and_is_deleted() {
    let mut fake = Fake {
        looks: Mutex::new([Look::Running, Look::Failed].into()),
        ..Default::default()
    };
    fake.pods.push(pod("checkout-load-1-y", 1, "Failed"));
    fake.pods.push(pod("checkout-load-0-x", 0, "Succeeded"));
    let log: String = (1..=30).map(|i| format!("line {i}\n")).collect();
    fake.logs.insert("checkout-load-1-y".into(), log);
    let (r, _) = run(&fake, FAST).await;
    let e = r.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, RunError::Failed { .. }), "{text}");
    assert!(text.contains("failed (BackoffLimitExceeded)"), "{text}");
    assert!(
        text.contains("failed segment: 1; segment 1 checkout-load-1-y Failed"),
        "{text}"
    );
    assert!(
        text.contains("| line 30") && text.contains("| line 11"),
        "{text}"
    );
    assert!(!text.contains("| line 10\n"), "{text}");
    assert_eq!(*fake.tails.lock().unwrap(), [Some(TAIL_LINES)]);
    assert_eq!(*fake.deleted.lock().unwrap(), ["checkout-load"]);
}

#[tokio::test]
async fn a_job_that_never_ends_times_out_naming_its_pods_and_is_deleted() {
    let mut fake = Fake::default();
    let mut stuck = pod("checkout-load-0-x", 0, "Pending");
    stuck.status.as_mut().unwrap().container_statuses = Some(vec![ContainerStatus {
        state: Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some("ImagePullBackOff".into()),
                message: Some("no such image".into()),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }]);
    fake.pods.push(stuck);
    let config = RunConfig {
        timeout: Duration::from_millis(60),
        poll: Duration::from_millis(5),
    };
    let (r, _) = run(&fake, config).await;
    let text = r.unwrap_err().to_string();
    assert!(text.contains("did not finish within 60ms"), "{text}");
    assert!(
        text.contains("segment 0 checkout-load-0-x Pending (ImagePullBackOff: no such image)"),
        "{text}"
    );
    assert_eq!(*fake.deleted.lock().unwrap(), ["checkout-load"]);
}

#[tokio::test]
async fn ctrl_c_deletes_the_job() {
    let fake = Fake::default();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(30)).await;
        stop.cancel();
    });
    let e = run_job(&fake, &job(), &plan(2), &FAST, &cancel, &|_| {})
        .await
        .unwrap_err();
    assert!(e.is_interrupted(), "{e}");
    assert_eq!(*fake.deleted.lock().unwrap(), ["checkout-load"]);
}

#[tokio::test]
async fn a_job_already_there_is_named_and_left_alone() {
    let fake = Fake {
        exists: true,
        ..Default::default()
    };
    let (r, _) = run(&fake, FAST).await;
    let text = r.unwrap_err().to_string();
    assert!(
        text.contains("kubectl delete job checkout-load -n loadtest"),
        "{text}"
    );
    assert!(
        fake.deleted.lock().unwrap().is_empty(),
        "not ours to delete"
    );
}

#[tokio::test]
async fn logs_without_a_segment_or_with_a_segment_twice_are_refused_and_deleted() {
    let docs = segments(2).await;
    let mut fake = done(&docs);
    fake.logs.insert(
        "checkout-load-1-x".into(),
        "error: --start-at … is 61.0s in the past\n".into(),
    );
    let (r, _) = run(&fake, FAST).await;
    let e = r.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, RunError::NoSegment { .. }), "{text}");
    assert!(text.contains("pod checkout-load-1-x (segment 1)"), "{text}");
    assert!(text.contains("| error: --start-at"), "{text}");
    assert_eq!(fake.deleted.lock().unwrap().len(), 1);

    // Segment 0's document in both pods: the merge's own refusal.
    let twice = done(&[docs[0].clone(), docs[0].clone()]);
    let (r, _) = run(&twice, FAST).await;
    let text = r.unwrap_err().to_string();
    assert!(text.contains("segment 0/2 appears twice"), "{text}");
    assert_eq!(twice.deleted.lock().unwrap().len(), 1);

    // One pod only: the other segment is missing.
    let mut one = done(&docs);
    one.pods.pop();
    let (r, _) = run(&one, FAST).await;
    let text = r.unwrap_err().to_string();
    assert!(text.contains("segment 1 of 2 is missing"), "{text}");
}

#[tokio::test]
async fn segments_of_another_test_than_the_plan_are_refused_and_deleted() {
    // Consistent with each other, so the merge alone would take them.
    let later = TestIdentity::new(
        "http://checkout.shop:8080/json",
        "GET",
        None,
        2,
        Duration::from_secs(1),
        2,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_060),
    );
    let fake = done(&segments_of(&later, 2).await);
    let (r, _) = run(&fake, FAST).await;
    let e = r.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, RunError::OtherTest { .. }), "{text}");
    assert!(
        text.contains(&format!(
            "pod checkout-load-0-x (segment 0) ran test {}, not the Job's test {}",
            later.id,
            plan(2).id
        )),
        "{text}"
    );
    assert!(
        text.contains("start_at 2027-01-15T08:01:00.000000Z vs 2027-01-15T08:00:00.000000Z"),
        "{text}"
    );
    assert!(
        text.contains(
            "kubectl get pods -l batch.kubernetes.io/job-name=checkout-load -n loadtest`"
        ),
        "{text}"
    );
    assert_eq!(*fake.deleted.lock().unwrap(), ["checkout-load"]);
}

#[tokio::test]
async fn a_failed_deletion_is_reported_with_the_command_to_finish_it() {
    let docs = segments(2).await;
    let mut fake = done(&docs);
    fake.delete_fails = true;
    let (r, _) = run(&fake, FAST).await;
    let e = r.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, RunError::Left { error: None, .. }), "{text}");
    assert!(text.contains("may be left in the cluster"), "{text}");
    assert!(
        text.contains("kubectl delete job checkout-load -n loadtest"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_deletion_without_an_answer_is_bounded() {
    let fake = Fake {
        looks: Mutex::new([Look::Failed].into()),
        delete_hangs: true,
        ..Default::default()
    };
    let began = tokio::time::Instant::now();
    let (r, _) = run(&fake, FAST).await;
    let e = r.unwrap_err();
    assert_eq!(began.elapsed(), CALL_BOUND);
    let RunError::Left {
        error: Some(first),
        delete,
        ..
    } = &e
    else {
        panic!("{e}");
    };
    assert!(matches!(**first, RunError::Failed { .. }), "{first}");
    let why = crate::error::chain(delete);
    assert!(
        why.contains("deleting Job checkout-load: no answer within 30 s"),
        "{why}"
    );
}

#[test]
fn the_segment_is_the_last_json_document_of_the_log() {
    let doc = "{\n  \"a\": {\n    \"b\": \"}\"\n  }\n}";
    let log = format!("{{\"early\": 1}}\nwarning: x\n{doc}\nbye\n");
    assert_eq!(last_json_document(&log), Some(doc));
    // A document cut short: the one before it is the last whole one.
    assert_eq!(
        last_json_document("{\"a\": 1}\n{\"b\": "),
        Some("{\"a\": 1}")
    );
    assert_eq!(
        last_json_document("no json here\n  {\"indented\": 1}"),
        None
    );
    assert_eq!(last_json_document(""), None);
}

#[test]
fn tails_keep_the_last_lines() {
    assert_eq!(tail("a\nb\nc\n", 2), "  | b\n  | c");
    assert_eq!(tail("", 2), "  (the log is empty)");
}
