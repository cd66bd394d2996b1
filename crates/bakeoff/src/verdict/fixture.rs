//! The run the verdict's unit tests share, built with [`crate::report::fixtures`]:
//! numbers chosen to sit on the boundaries the claims and the advisor decide on.

use crate::model::{Cell, CellStatus, ContenderInfo, Environment, Language, Run};
use crate::report::fixtures::{
    cell, contender, environment, equal_load, estimate, percentiles, ws_point, RunBuilder,
};
use crate::workload::Workload;

/// A contender as the verdict's run lists it: `server`, `loc` lines of app code,
/// Node's dependency tree three times Python's.
pub(crate) fn listed(name: &str, language: Language, server: &str, loc: u32) -> ContenderInfo {
    let node = language == Language::Node;
    ContenderInfo {
        runtime: if node { "node" } else { "python3" }.into(),
        server: server.into(),
        deps_direct: 3,
        deps_total: if node { 60 } else { 20 },
        install_bytes: 30_000_000,
        install_secs: 10.0,
        app_loc: loc,
        ..contender(name, language)
    }
}

/// A three-trial run of four contenders where Node leads on json, io and ws,
/// Python on data, with clear (non-overlapping) intervals.
pub(crate) fn run() -> Run {
    let mut cells = Vec::new();
    let caps: [(&str, Workload, f64); 20] = [
        ("node-fastify", Workload::Json, 12000.0),
        ("node-express", Workload::Json, 8000.0),
        ("python-fastapi", Workload::Json, 6000.0),
        ("python-flask", Workload::Json, 2500.0),
        ("node-fastify", Workload::Plaintext, 14000.0),
        ("node-express", Workload::Plaintext, 9000.0),
        ("python-fastapi", Workload::Plaintext, 7000.0),
        ("python-flask", Workload::Plaintext, 3000.0),
        ("node-fastify", Workload::Io, 3000.0),
        ("node-express", Workload::Io, 2500.0),
        ("python-fastapi", Workload::Io, 1500.0),
        ("python-flask", Workload::Io, 55.0),
        ("node-fastify", Workload::Data, 200.0),
        ("node-express", Workload::Data, 180.0),
        ("python-fastapi", Workload::Data, 400.0),
        ("python-flask", Workload::Data, 350.0),
        ("node-fastify", Workload::CpuMixed, 900.0),
        ("node-express", Workload::CpuMixed, 800.0),
        ("python-fastapi", Workload::CpuMixed, 500.0),
        ("python-flask", Workload::CpuMixed, 450.0),
    ];
    for (name, workload, cap) in caps {
        let node = name.starts_with("node");
        let mixed = workload == Workload::CpuMixed;
        let mut c = cell(name, workload);
        c.capacity = Some(estimate(cap, cap * 0.03, 3));
        let (p99, rss) = if node {
            (5.0, 60_000_000)
        } else {
            (9.0, 90_000_000)
        };
        let mut eq = equal_load(100.0, p99, rss);
        eq.light = mixed.then(|| percentiles(if node { 40.0 } else { 12.0 }));
        c.equal_load = Some(eq);
        cells.push(c);
    }
    for (name, p99, per_conn) in [
        ("node-fastify", 8.0, 20_000.0),
        ("node-express", 9.0, 25_000.0),
        ("python-fastapi", 30.0, 60_000.0),
    ] {
        let mut c = cell(name, Workload::Ws);
        c.ws = vec![
            ws_point(100, 50.0, p99 / 2.0, per_conn),
            ws_point(1000, 50.0, p99, per_conn),
        ];
        cells.push(c);
    }
    let mut flask_ws = cell("python-flask", Workload::Ws);
    flask_ws.status = CellStatus::Skipped {
        reason: "sync workers".into(),
    };
    cells.push(flask_ws);

    RunBuilder::new()
        .environment(Environment {
            cpu_model: "Test CPU".into(),
            memory_bytes: 24 << 30,
            kernel: "6.1".into(),
            os: "linux".into(),
            git_revision: None,
            ..environment()
        })
        .contenders([
            listed("node-fastify", Language::Node, "node:cluster", 150),
            listed("node-express", Language::Node, "node:cluster", 140),
            listed("python-fastapi", Language::Python, "uvicorn", 120),
            listed("python-flask", Language::Python, "gunicorn (sync)", 110),
        ])
        .cells(cells)
        .build()
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
            r.cells.push(Cell {
                database: Some(db),
                capacity: Some(estimate(cap, cap * 0.03, 3)),
                equal_load: Some(equal_load(100.0, 5.0, 70_000_000)),
                ..cell(name, Workload::Db)
            });
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
