//! Hand-built runs for the verdict's unit tests: numbers chosen to sit on the
//! boundaries the claims and the advisor decide on.

use std::collections::BTreeMap;

use crate::model::*;
use crate::workload::Workload;

pub(crate) fn est(median: f64, half_width: f64, n: u32) -> Estimate {
    Estimate {
        median,
        mean: median,
        ci_low: median - half_width,
        ci_high: median + half_width,
        cv: 0.02,
        sd: 0.02 * median,
        n,
        noisy: false,
        interval: if n == 1 {
            Interval::Single
        } else {
            Interval::Range
        },
    }
}

pub(crate) fn pct(p99: f64) -> Percentiles {
    Percentiles {
        p50: p99 / 4.0,
        p90: p99 / 2.0,
        p99,
        p999: p99 * 1.5,
        p9999: p99 * 2.0,
        max: p99 * 3.0,
        mean: p99 / 3.0,
    }
}

pub(crate) fn contender(name: &str, language: &str, server: &str, loc: u32) -> ContenderInfo {
    let language = Language::from_name(language);
    let node = language == Language::Node;
    ContenderInfo {
        name: name.into(),
        language,
        runtime: if node { "node" } else { "python3" }.into(),
        runtime_version: if node { "v20.20.2" } else { "3.11.7" }.into(),
        framework: name.split('-').nth(1).unwrap_or(name).into(),
        framework_version: "1.0.0".into(),
        server: server.into(),
        deps_direct: 3,
        deps_total: if node { 60 } else { 20 },
        install_bytes: 30_000_000,
        install_secs: 10.0,
        app_loc: loc,
        unsupported: BTreeMap::new(),
        disclosures: vec![],
        variant: None,
    }
}

pub(crate) fn cell(contender: &str, workload: &str, capacity: Option<Estimate>) -> Cell {
    let workload = Workload::from_name(workload);
    Cell {
        contender: contender.into(),
        database: workload
            .uses_database()
            .then_some(crate::database::Database::Sqlite),
        workload,
        workers: 1,
        status: CellStatus::Ok,
        capacity,
        trials: vec![],
        equal_load: None,
        ws: vec![],
        startup: None,
        scaling_efficiency: None,
        flags: vec![],
        notes: vec![],
    }
}

pub(crate) fn equal_load(p99: f64, light_p99: Option<f64>, rss: u64) -> EqualLoad {
    EqualLoad {
        target_rps: 100.0,
        achieved_rps: 100.0,
        requests: 1000,
        errors: 0,
        latency: pct(p99),
        service: pct(p99 * 0.8),
        light: light_p99.map(pct),
        spectrum: vec![],
        service_spectrum: vec![],
        cpu_ms_per_request: 0.5,
        rss_peak_bytes: rss + rss / 10,
        rss_mean_bytes: rss,
        timeline: vec![],
        idle_cpu_cores: None,
        marginal_cpu_ms_per_request: None,
        database_cpu_ms_per_request: None,
        consistency: None,
        histograms: vec![],
    }
}

pub(crate) fn ws_point(clients: u32, p99: f64, per_conn: f64) -> WsPoint {
    WsPoint {
        clients,
        rate: 50.0,
        sent: 500,
        expected_deliveries: 500 * clients as u64,
        deliveries: 500 * clients as u64,
        missing: 0,
        p50_ms: p99 / 3.0,
        p99_ms: p99,
        rss_idle_bytes: 40_000_000,
        rss_loaded_bytes: 40_000_000 + (per_conn * clients as f64) as u64,
        bytes_per_connection: per_conn,
    }
}

/// A three-trial run of four contenders where Node leads on json, io and ws,
/// Python on data, with clear (non-overlapping) intervals.
pub(crate) fn run() -> Run {
    let mut cells = Vec::new();
    let caps: [(&str, &str, f64); 20] = [
        ("node-fastify", "json", 12000.0),
        ("node-express", "json", 8000.0),
        ("python-fastapi", "json", 6000.0),
        ("python-flask", "json", 2500.0),
        ("node-fastify", "plaintext", 14000.0),
        ("node-express", "plaintext", 9000.0),
        ("python-fastapi", "plaintext", 7000.0),
        ("python-flask", "plaintext", 3000.0),
        ("node-fastify", "io", 3000.0),
        ("node-express", "io", 2500.0),
        ("python-fastapi", "io", 1500.0),
        ("python-flask", "io", 55.0),
        ("node-fastify", "data", 200.0),
        ("node-express", "data", 180.0),
        ("python-fastapi", "data", 400.0),
        ("python-flask", "data", 350.0),
        ("node-fastify", "cpu-mixed", 900.0),
        ("node-express", "cpu-mixed", 800.0),
        ("python-fastapi", "cpu-mixed", 500.0),
        ("python-flask", "cpu-mixed", 450.0),
    ];
    for (name, workload, cap) in caps {
        let mut c = cell(name, workload, Some(est(cap, cap * 0.03, 3)));
        let node = name.starts_with("node");
        let light = (c.workload == Workload::CpuMixed).then_some(if node { 40.0 } else { 12.0 });
        c.equal_load = Some(equal_load(
            if node { 5.0 } else { 9.0 },
            light,
            if node { 60_000_000 } else { 90_000_000 },
        ));
        cells.push(c);
    }
    for (name, p99, per_conn) in [
        ("node-fastify", 8.0, 20_000.0),
        ("node-express", 9.0, 25_000.0),
        ("python-fastapi", 30.0, 60_000.0),
    ] {
        let mut c = cell(name, "ws", None);
        c.ws = vec![
            ws_point(100, p99 / 2.0, per_conn),
            ws_point(1000, p99, per_conn),
        ];
        cells.push(c);
    }
    let mut flask_ws = cell("python-flask", "ws", None);
    flask_ws.status = CellStatus::Skipped {
        reason: "sync workers".into(),
    };
    cells.push(flask_ws);

    let mut runtimes = BTreeMap::new();
    runtimes.insert("node".to_string(), "v20.20.2".to_string());
    runtimes.insert("python".to_string(), "3.11.7".to_string());
    Run {
        id: 7,
        started_at: "2026-11-28T12:00:00Z".into(),
        finished_at: Some("2026-11-28T12:30:00Z".into()),
        status: RunStatus::Complete,
        settings: Settings {
            profile: Profile::Standard,
            slo_p99_ms: 100.0,
            trials: 3,
            duration_scale: 1.0,
            contenders: vec![],
            workloads: vec![],
            workers: vec![1],
            database: Default::default(),
            databases: vec![],
        },
        environment: Environment {
            cpu_model: "Test CPU".into(),
            cores: 2,
            memory_bytes: 24 << 30,
            kernel: "6.1".into(),
            os: "linux".into(),
            bakeoff_version: "0.1.0".into(),
            git_revision: None,
            pinning: "generator: cpu 0; contender: cpu 1".into(),
            runtimes,
        },
        contenders: vec![
            contender("node-fastify", "node", "node:cluster", 150),
            contender("node-express", "node", "node:cluster", 140),
            contender("python-fastapi", "python", "uvicorn", 120),
            contender("python-flask", "python", "gunicorn (sync)", 110),
        ],
        cells,
    }
}

/// [`run`] measured with `--database sqlite,postgres`: `db` cells on both, Node
/// ahead on SQLite (4,000 vs 2,000 req/s) and Python ahead on PostgreSQL
/// (1,000 vs 3,000), so a verdict shows which database it read.
pub(crate) fn run_on_both_databases() -> Run {
    use crate::database::Database;
    let mut r = run();
    r.settings.databases = vec![Database::Sqlite, Database::Postgres];
    for (name, sqlite, postgres) in [
        ("node-fastify", 4000.0, 1000.0),
        ("node-express", 3500.0, 900.0),
        ("python-fastapi", 2000.0, 3000.0),
        ("python-flask", 1500.0, 2500.0),
    ] {
        for (db, cap) in [(Database::Sqlite, sqlite), (Database::Postgres, postgres)] {
            let mut c = cell(name, "db", Some(est(cap, cap * 0.03, 3)));
            c.database = Some(db);
            c.equal_load = Some(equal_load(5.0, None, 70_000_000));
            r.cells.push(c);
        }
    }
    r
}

/// `run` without its PostgreSQL cells, as a SQLite-only run.
pub(crate) fn on_sqlite_only(mut run: Run) -> Run {
    use crate::database::Database;
    run.settings.databases = vec![Database::Sqlite];
    run.cells.retain(|c| c.database != Some(Database::Postgres));
    run
}
