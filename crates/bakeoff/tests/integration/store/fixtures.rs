//! Runs built in code with every field populated, written through the store API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bakeoff::model::{
    Cell, CellStatus, Consistency, ContenderInfo, Environment, EqualLoad, Estimate, Flag, Interval,
    Language, Percentiles, Run, RunStatus, SearchStep, Settings, Startup, StepPhase, StepVerdict,
    TimelinePoint, Trial, TrialOutcome, VariantInfo, WsPoint,
};
use bakeoff::store::{Store, StoreError};
use bakeoff::workload::Workload;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

pub(crate) fn settings() -> Settings {
    Settings {
        profile: bakeoff::model::Profile::Standard,
        slo_p99_ms: 100.0,
        trials: 3,
        duration_scale: 0.1,
        contenders: vec!["node-fastify".into(), "python-flask".into()],
        workloads: vec![
            Workload::Json,
            Workload::Io,
            Workload::Ws,
            Workload::Startup,
        ],
        workers: vec![1, 2],
        database: Default::default(),
        databases: vec![Default::default()],
    }
}

pub(crate) fn environment() -> Environment {
    Environment {
        cpu_model: "Test CPU @ 3.0GHz".into(),
        cores: 2,
        memory_bytes: 1 << 40,
        kernel: "6.1.0-test".into(),
        os: "Debian GNU/Linux 12".into(),
        bakeoff_version: "0.1.0".into(),
        git_revision: Some("e0f0793".into()),
        pinning: "generator: cpu 0; contender: cpu 1".into(),
        runtimes: BTreeMap::from([
            ("node".into(), "v20.20.2".into()),
            ("python".into(), "3.11.7".into()),
        ]),
    }
}

pub(crate) fn contenders() -> Vec<ContenderInfo> {
    let node = ContenderInfo {
        name: "node-fastify".into(),
        language: Language::Node,
        runtime: "node".into(),
        runtime_version: "v20.20.2".into(),
        framework: "fastify".into(),
        framework_version: "4.28.1".into(),
        server: "node:http".into(),
        deps_direct: 3,
        deps_total: 61,
        install_bytes: i64::MAX as u64,
        install_secs: 4.25,
        app_loc: 180,
        unsupported: BTreeMap::from([("ws-binary".into(), "text frames only".into())]),
        disclosures: vec!["uses fast-json-stringify".into(), "cluster module".into()],
        variant: None,
    };
    let flask = ContenderInfo {
        name: "python-flask".into(),
        language: Language::Python,
        runtime: "python".into(),
        runtime_version: "3.11.7".into(),
        framework: "flask".into(),
        framework_version: "3.0.3".into(),
        server: "gunicorn".into(),
        ..ContenderInfo::default()
    };
    // A configuration variant: its identity must round-trip too.
    let flask_sync = ContenderInfo {
        name: "python-flask@sync".into(),
        disclosures: vec!["gunicorn sync workers: no keep-alive".into()],
        variant: Some(VariantInfo {
            of: "python-flask".into(),
            name: "sync".into(),
            description: "gunicorn sync workers (2N+1), no keep-alive".into(),
        }),
        ..flask.clone()
    };
    vec![node, flask, flask_sync]
}

pub(crate) fn hdr_blob(scale: u64) -> Vec<u8> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for v in 1..=1000u64 {
        h.record(v * scale).unwrap();
    }
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(&h, &mut buf).unwrap();
    buf
}

pub(crate) fn percentiles(base: f64) -> Percentiles {
    Percentiles {
        p50: base,
        p90: base * 1.5,
        p99: base * 3.0,
        p999: base * 5.0,
        p9999: base * 8.0,
        max: base * 10.0,
        mean: base * 1.1,
    }
}

pub(crate) fn estimate(median: f64, n: u32) -> Estimate {
    Estimate {
        median,
        mean: median * 1.001,
        sd: median * 0.021,
        ci_low: median * 0.97,
        ci_high: median * 1.03,
        cv: 0.021,
        n,
        noisy: false,
        interval: if n >= 5 {
            Interval::TInterval95
        } else {
            Interval::Range
        },
    }
}

pub(crate) fn equal_load(p99: f64, cpu: f64) -> EqualLoad {
    EqualLoad {
        target_rps: 1500.0,
        achieved_rps: 1499.7,
        requests: 44_991,
        errors: 2,
        latency: percentiles(p99 / 3.0),
        service: percentiles(p99 / 4.0),
        light: Some(percentiles(0.4)),
        spectrum: vec![[50.0, 0.8], [99.0, 2.4], [99.99, 6.4]],
        service_spectrum: vec![[50.0, 0.6], [99.0, 1.8]],
        cpu_ms_per_request: cpu,
        rss_peak_bytes: 81_000_000,
        rss_mean_bytes: 78_500_000,
        timeline: vec![
            TimelinePoint {
                second: 0,
                rps: 1498.0,
                p99_ms: 2.3,
                errors: 0,
            },
            TimelinePoint {
                second: 1,
                rps: 1501.5,
                p99_ms: 2.5,
                errors: 2,
            },
        ],
        idle_cpu_cores: Some(0.004),
        marginal_cpu_ms_per_request: Some(cpu * 0.97),
        database_cpu_ms_per_request: None,
        consistency: Some(Consistency {
            check: "upstream calls".into(),
            ok: true,
            detail: "44,989 ≤ 44,990 ≤ 44,991".into(),
        }),
        histograms: vec![
            ("latency".into(), hdr_blob(10)),
            ("service".into(), hdr_blob(7)),
        ],
    }
}

pub(crate) fn ok_cell(
    contender: &str,
    workload: &str,
    workers: u32,
    cap: f64,
    p99: f64,
    cpu: f64,
) -> Cell {
    let workload = Workload::from_name(workload);
    Cell {
        contender: contender.into(),
        database: workload.uses_database().then_some(Default::default()),
        workload,
        workers,
        status: CellStatus::Ok,
        capacity: Some(estimate(cap, 3)),
        trials: (0..3)
            .map(|i| Trial {
                index: i,
                capacity_rps: Some(cap * (0.98 + 0.02 * i as f64)),
                outcome: TrialOutcome::Confirmed,
                note: None,
                steps: vec![
                    SearchStep {
                        index: 0,
                        phase: StepPhase::Ramp,
                        target_rps: cap / 2.0,
                        achieved_rps: cap / 2.0 - 1.0,
                        p99_ms: 3.0,
                        error_rate: 0.0,
                        verdict: StepVerdict::Pass,
                        duration_s: 1.5,
                        reasons: Vec::new(),
                    },
                    SearchStep {
                        index: 1,
                        phase: StepPhase::Bisect,
                        target_rps: cap * 1.1,
                        achieved_rps: cap,
                        p99_ms: 250.0,
                        error_rate: 0.002,
                        verdict: StepVerdict::Fail,
                        duration_s: 1.5,
                        reasons: vec![
                            "p99 250 ms > 100 ms".into(),
                            "backlog grew: p50 4 → 38 ms across the window".into(),
                        ],
                    },
                ],
            })
            .collect(),
        equal_load: Some(equal_load(p99, cpu)),
        ws: Vec::new(),
        startup: None,
        scaling_efficiency: None,
        flags: Vec::new(),
        notes: Vec::new(),
    }
}

/// Every kind of cell, with every optional part populated somewhere.
pub(crate) fn rich_cells() -> Vec<Cell> {
    let mut json1 = ok_cell("node-fastify", "json", 1, 12_000.0, 2.4, 0.081);
    json1.flags = vec![Flag::Noisy, Flag::Truncated];
    json1.notes = vec!["cv 12% over 3 trials".into()];
    json1.trials[1].capacity_rps = None;
    json1.trials[1].outcome = TrialOutcome::NoCapacity;
    json1.trials[2].outcome = TrialOutcome::Truncated;
    json1.trials[2].note = Some("stopped at the search's time cap".into());
    json1.trials[2].steps[1].verdict = StepVerdict::Stalled;
    json1.trials[2].steps[1].phase = StepPhase::Retest;
    json1.trials[2].steps.push(SearchStep {
        index: 2,
        phase: StepPhase::Confirm,
        target_rps: 11_800.0,
        achieved_rps: 11_790.0,
        p99_ms: 41.0,
        error_rate: 0.0,
        verdict: StepVerdict::GeneratorLimited,
        duration_s: 5.0,
        reasons: vec!["2.4% of sends late through the generator".into()],
    });
    json1.equal_load.as_mut().unwrap().consistency = Some(Consistency {
        check: "upstream calls".into(),
        ok: false,
        detail: "45,400 calls > 44,991 sent".into(),
    });
    json1.equal_load.as_mut().unwrap().idle_cpu_cores = None;
    let mut json2 = ok_cell("node-fastify", "json", 2, 21_000.0, 2.1, 0.09);
    json2.scaling_efficiency = Some(0.875);
    json2.flags = vec![Flag::Contended];
    let failed = Cell {
        status: CellStatus::Failed {
            reason: "crashed mid-run (exit 137)".into(),
        },
        capacity: None,
        equal_load: None,
        trials: Vec::new(),
        ..ok_cell("python-flask", "io", 1, 1.0, 1.0, 1.0)
    };
    let skipped = Cell {
        status: CellStatus::Skipped {
            reason: "does not serve /ws".into(),
        },
        capacity: None,
        equal_load: None,
        trials: Vec::new(),
        ..ok_cell("python-flask", "ws", 1, 1.0, 1.0, 1.0)
    };
    let mut ws = ok_cell("node-fastify", "ws", 1, 50_000.0, 1.0, 1.0);
    ws.equal_load = None;
    ws.ws = [100u32, 1000]
        .iter()
        .map(|&clients| WsPoint {
            clients,
            rate: 50.0,
            sent: 500,
            expected_deliveries: 500 * clients as u64,
            deliveries: 500 * clients as u64 - 3,
            missing: 3,
            p50_ms: 1.5,
            p99_ms: 9.25,
            rss_idle_bytes: 60_000_000,
            rss_loaded_bytes: 60_000_000 + 41_000 * clients as u64,
            bytes_per_connection: 41_000.0,
        })
        .collect();
    let mut startup = ok_cell("python-flask", "startup", 1, 1.0, 1.0, 1.0);
    startup.capacity = None;
    startup.trials = Vec::new();
    startup.equal_load = None;
    startup.startup = Some(Startup {
        to_healthy_ms: Estimate {
            median: 412.0,
            mean: 415.5,
            sd: 29.0,
            ci_low: 380.5,
            ci_high: 455.0,
            cv: 0.07,
            n: 5,
            noisy: false,
            interval: Interval::TInterval95,
        },
        idle_rss_bytes: 31_000_000,
    });
    vec![json1, json2, failed, skipped, ws, startup]
}

/// Write a run with these cells; returns the Run as it should read back.
pub(crate) fn write_run(
    store: &mut Store,
    started: &str,
    cells: Vec<Cell>,
    status: RunStatus,
) -> Run {
    let id = begin(store, started);
    for cell in &cells {
        store.record_cell(id, cell).unwrap();
    }
    let finished = "2026-11-28T12:10:00Z";
    store.finish_run(id, status, finished).unwrap();
    Run {
        id,
        started_at: started.into(),
        finished_at: Some(finished.into()),
        status,
        settings: settings(),
        environment: environment(),
        contenders: contenders(),
        cells,
    }
}

pub(crate) fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results").join("bakeoff.db");
    (dir, path)
}

pub(crate) fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

pub(crate) fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

pub(crate) fn open_message(result: Result<Store, StoreError>) -> String {
    match result {
        Ok(_) => panic!("the store opened a file it should refuse"),
        Err(e) => e.to_string(),
    }
}

/// A run begun (status `running`) with the standard settings.
pub(crate) fn begin(store: &mut Store, started: &str) -> i64 {
    store
        .begin_run(started, &settings(), &environment(), &contenders())
        .unwrap()
}

/// A complete run of [`rich_cells`] in a new store at `path`.
pub(crate) fn stored_rich_run(path: &Path) -> Run {
    let mut store = Store::open(path).unwrap();
    write_run(
        &mut store,
        "2026-11-28T12:00:00Z",
        rich_cells(),
        RunStatus::Complete,
    )
}
