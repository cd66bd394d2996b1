//! The store tests' runs: every field populated, built with the shared builder
//! (`bakeoff::report::fixtures`) and written through the store API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bakeoff::model::{
    Cell, Consistency, ContenderInfo, Endpoint, Environment, EqualLoad, Estimate, Flag, Interval,
    Language, Profile, Run, RunStatus, SearchStep, Settings, Startup, StepPhase, StepVerdict,
    TimelinePoint, TrialOutcome, VariantInfo, WsPoint,
};
use bakeoff::report::fixtures::{self as build, percentiles, step, trial, RunBuilder};
use bakeoff::store::{Store, StoreError};
use bakeoff::workload::Workload;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

pub(crate) fn settings() -> Settings {
    Settings {
        duration_scale: 0.1,
        contenders: vec!["node-fastify".into(), "python-flask".into()],
        workloads: vec![
            Workload::Json,
            Workload::Io,
            Workload::Ws,
            Workload::Startup,
        ],
        workers: vec![1, 2],
        databases: vec![Default::default()],
        // Raised (`--max-steal 8`): the column round-trips.
        max_steal_percent: Some(8.0),
        search_resolution: Some(0.03),
        ..build::settings(Profile::Standard)
    }
}

/// A terabyte of memory: the column holds more than 32 bits.
pub(crate) fn environment() -> Environment {
    Environment {
        memory_bytes: 1 << 40,
        ..build::environment()
    }
}

pub(crate) fn contenders() -> Vec<ContenderInfo> {
    let node = ContenderInfo {
        framework_version: "4.28.1".into(),
        server: "node:http".into(),
        deps_direct: 3,
        deps_total: 61,
        install_bytes: i64::MAX as u64,
        install_secs: 4.25,
        app_loc: 180,
        unsupported: BTreeMap::from([(Endpoint::Ws, "text frames only".into())]),
        disclosures: vec!["uses fast-json-stringify".into(), "cluster module".into()],
        ..build::contender("node-fastify", Language::Node)
    };
    let flask = ContenderInfo {
        framework_version: "3.0.3".into(),
        server: "gunicorn".into(),
        ..build::contender("python-flask", Language::Python)
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

/// Over `n` trials, ±3%, sd 2%; the mean a little off the median so a swapped
/// column shows.
pub(crate) fn estimate(median: f64, n: u32) -> Estimate {
    Estimate {
        mean: median * 1.001,
        ..build::estimate(median, median * 0.03, n)
    }
}

pub(crate) fn equal_load(p99: f64, cpu: f64) -> EqualLoad {
    EqualLoad {
        achieved_rps: 1499.7,
        requests: 44_991,
        errors: 2,
        light: Some(percentiles(1.2)),
        spectrum: vec![[50.0, 0.8], [99.0, 2.4], [99.99, 6.4]],
        service_spectrum: vec![[50.0, 0.6], [99.0, 1.8]],
        cpu_ms_per_request: Some(cpu),
        rss_peak_bytes: Some(81_000_000),
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
        consistency: Some(Consistency {
            check: "upstream calls".into(),
            ok: true,
            detail: "44,989 ≤ 44,990 ≤ 44,991".into(),
        }),
        histograms: vec![
            ("latency".into(), hdr_blob(10)),
            ("service".into(), hdr_blob(7)),
        ],
        ..build::equal_load(1500.0, p99, 78_500_000)
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
    let steps = vec![
        SearchStep {
            achieved_rps: cap / 2.0 - 1.0,
            duration_s: 1.5,
            ..step(0, StepPhase::Ramp, cap / 2.0, 3.0, StepVerdict::Pass)
        },
        SearchStep {
            achieved_rps: cap,
            error_rate: 0.002,
            duration_s: 1.5,
            reasons: vec![
                "p99 250 ms > 100 ms".into(),
                "backlog grew: p50 4 → 38 ms across the window".into(),
            ],
            ..step(1, StepPhase::Bisect, cap * 1.1, 250.0, StepVerdict::Fail)
        },
    ];
    Cell {
        workers,
        capacity: Some(estimate(cap, 3)),
        trials: (0..3)
            .map(|i| trial(i, cap * (0.98 + 0.02 * f64::from(i)), steps.clone()))
            .collect(),
        equal_load: Some(equal_load(p99, cpu)),
        ..build::cell(contender, Workload::from_name(workload))
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
    let failed = build::failed_cell("python-flask", Workload::Io, "crashed mid-run (exit 137)");
    let skipped = build::skipped_cell("python-flask", Workload::Ws, "does not serve /ws");
    let mut ws = ok_cell("node-fastify", "ws", 1, 50_000.0, 1.0, 1.0);
    ws.equal_load = None;
    ws.ws = [100u32, 1000]
        .iter()
        .map(|&clients| {
            let point = build::ws_point(clients, 50.0, 9.25, 41_000.0);
            WsPoint {
                deliveries: point.expected_deliveries - 3,
                missing: 3,
                p50_ms: 1.5,
                rss_idle_bytes: 60_000_000,
                rss_loaded_bytes: 60_000_000 + 41_000 * u64::from(clients),
                ..point
            }
        })
        .collect();
    let mut startup = build::cell("python-flask", Workload::Startup);
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
    let run = RunBuilder::new()
        .times(started, Some("2026-11-28T12:10:00Z"))
        .status(status)
        .settings(settings())
        .environment(environment())
        .contenders(contenders())
        .cells(cells)
        .build();
    Run {
        id: store_run(store, &run),
        ..run
    }
}

/// Write `run` through the store API (begin, each cell, finish); returns its id.
pub(crate) fn store_run(store: &mut Store, run: &Run) -> i64 {
    let id = store
        .begin_run(
            &run.started_at,
            &run.settings,
            &run.environment,
            &run.contenders,
        )
        .unwrap();
    for cell in &run.cells {
        store.record_cell(id, cell).unwrap();
    }
    let finished = run.finished_at.as_deref().expect("a finished run");
    store.finish_run(id, run.status, finished).unwrap();
    id
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
