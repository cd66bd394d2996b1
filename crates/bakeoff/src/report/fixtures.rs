//! Runs built in code for tests: the builder every test's run comes from
//! ([`build`], re-exported here), and a rich sample [`Run`] built with it for the
//! renderers' tests, the browser test and the `compare` tests. Deterministic:
//! every figure is a formula of the contender and workload, so snapshots are
//! stable. Not measured data.

use std::collections::BTreeMap;

use crate::model::{
    Cell, Consistency, ContenderInfo, Endpoint, EqualLoad, Estimate, Flag, Language, Profile, Run,
    SearchStep, Settings, Startup, StepPhase, StepVerdict, TimelinePoint, Trial, WsPoint,
};
use crate::workload::Workload;

pub mod build;
pub use build::*;

/// (name, language, relative speed, framework, server)
const CONTENDERS: [(&str, Language, f64, &str, &str); 4] = [
    ("node-fastify", Language::Node, 1.0, "fastify", "node:http"),
    ("node-express", Language::Node, 0.62, "express", "node:http"),
    (
        "python-fastapi",
        Language::Python,
        0.55,
        "fastapi",
        "uvicorn",
    ),
    (
        "python-flask",
        Language::Python,
        0.31,
        "flask",
        "gunicorn (sync)",
    ),
];

/// (workload, base capacity at speed 1.0 in req/s, base p99 at equal load in ms,
/// factor applied to Python's speed so the headlines differ per workload)
const WORKLOADS: [(Workload, f64, f64, f64); 4] = [
    (Workload::Json, 9000.0, 4.0, 1.0),
    (Workload::Io, 2400.0, 58.0, 1.75),
    (Workload::CpuMixed, 700.0, 40.0, 0.8),
    (Workload::Ws, 30000.0, 6.0, 1.1),
];

/// A complete sample run: four contenders (two per language), HTTP workloads
/// with a worker sweep on `json`, a WebSocket fan-out, start-up, one failed and
/// one skipped cell, and noise flags.
pub fn sample_run() -> Run {
    let mut cells = Vec::new();
    for (ci, (name, language, speed, _, _)) in CONTENDERS.iter().enumerate() {
        let (name, python) = (*name, *language == Language::Python);
        for (workload, base, p99, py) in &WORKLOADS {
            let (base, p99) = (*base, *p99);
            let speed = if python { speed * py } else { *speed };
            if *workload == Workload::Ws {
                cells.push(ws_cell(name, speed, base, p99));
                continue;
            }
            if *workload == Workload::CpuMixed && name == "node-express" {
                cells.push(failed_cell(name, workload.clone(), "contender exited during the capacity search: exit status 137 (killed: out of memory?)"));
                continue;
            }
            let workers: &[u32] = if *workload == Workload::Json {
                &[1, 2]
            } else {
                &[1]
            };
            for &w in workers {
                // Python scales with processes better than Node's single loop here.
                let scale = if w == 1 {
                    1.0
                } else if python {
                    1.8
                } else {
                    1.6
                };
                let mut cell = http_cell(name, workload, w, base * speed * scale, p99, ci);
                if w > 1 {
                    cell.scaling_efficiency = Some(scale / f64::from(w));
                }
                cells.push(cell);
            }
        }
        cells.push(startup_cell(name, language, ci));
    }
    RunBuilder::new()
        .times("2026-11-28T14:00:00Z", Some("2026-11-28T14:42:10Z"))
        .settings(Settings {
            contenders: CONTENDERS.iter().map(|c| c.0.to_string()).collect(),
            workloads: vec![
                Workload::Json,
                Workload::Io,
                Workload::CpuMixed,
                Workload::Ws,
                Workload::Startup,
            ],
            workers: vec![1, 2],
            ..settings(Profile::Quick)
        })
        .contenders(
            CONTENDERS
                .iter()
                .enumerate()
                .map(|(i, c)| contender_info(i, c)),
        )
        .cells(cells)
        .build()
}

fn contender_info(
    i: usize,
    (name, language, _, framework, server): &(&str, Language, f64, &str, &str),
) -> ContenderInfo {
    let (name, framework, server) = (*name, *framework, *server);
    let mut unsupported = BTreeMap::new();
    let mut disclosures = vec![format!(
        "{framework} runs with its defaults; no tuning beyond the worker count."
    )];
    if name == "python-flask" {
        unsupported.insert(
            Endpoint::Ws,
            "Flask has no WebSocket support without an extension".to_string(),
        );
        disclosures
            .push("gunicorn sync workers answer `Connection: close`; keep-alive is off.".into());
    }
    if name == "node-express" {
        disclosures
            .push("/data is served by plain JavaScript loops <no dataframe library>.".into());
    }
    let i = i as u32;
    ContenderInfo {
        framework: framework.into(),
        framework_version: format!("{}.{}.0", 4 + i, 10 + i),
        server: server.into(),
        deps_direct: 2 + i,
        deps_total: 40 + 17 * i,
        install_bytes: (12 + 9 * u64::from(i)) << 20,
        install_secs: 3.5 + f64::from(i),
        app_loc: 120 + 15 * i,
        unsupported,
        disclosures,
        ..contender(name, language.clone())
    }
}

/// An estimate over three trials whose spread widens its interval and its cv.
fn spread_estimate(median: f64, spread: f64) -> Estimate {
    let cv = spread / 2.0;
    Estimate {
        mean: median * (1.0 - spread * 0.05),
        sd: cv * median,
        ci_low: median * (1.0 - spread),
        ci_high: median * (1.0 + spread * 0.8),
        cv,
        noisy: cv > 0.10,
        ..estimate(median, 0.0, 3)
    }
}

fn http_cell(
    name: &str,
    workload: &Workload,
    workers: u32,
    capacity: f64,
    base_p99: f64,
    ci: usize,
) -> Cell {
    let slowdown = 1.0 + ci as f64 * 0.45;
    let io = *workload == Workload::Io;
    let mixed = *workload == Workload::CpuMixed;
    let spread = if name == "python-flask" && io {
        0.3
    } else {
        0.04 + 0.01 * ci as f64
    };
    let cap = spread_estimate(capacity.round(), spread);
    let trials = (0..3)
        .map(|t| {
            search_trial(
                t,
                capacity * (0.97 + 0.03 * f64::from(t)),
                base_p99 * slowdown,
            )
        })
        .collect();
    let common = (WORKLOADS
        .iter()
        .find(|w| w.0 == *workload)
        .map_or(100.0, |w| w.1)
        * 0.25)
        .round();
    let mut flags = Vec::new();
    let mut notes = Vec::new();
    if cap.noisy {
        flags.push(Flag::Noisy);
        notes.push(format!(
            "capacity varies {:.0}% across trials",
            cap.cv * 100.0
        ));
    }
    // The upstream's call counter against the engine's counts, on `io` only;
    // python-flask's disagrees.
    let consistency = io.then(|| {
        let ok = name != "python-flask";
        let sent = (common * 10.0) as u64;
        let calls = if ok { sent - 3 } else { sent + 412 };
        Consistency {
            check: "upstream calls".into(),
            ok,
            detail: format!(
                "{calls} upstream calls for {} answered of {sent} sent",
                sent - 3
            ),
        }
    });
    if let Some(c) = consistency.as_ref().filter(|c| !c.ok) {
        flags.push(Flag::Inconsistent);
        notes.push(format!("{} check failed: {}", c.check, c.detail));
    }
    if io && name == "node-fastify" {
        flags.push(Flag::Contended);
        notes.push("the generator used 93% of its core; figures are a lower bound".into());
    }
    let cpu_ms = (0.08 + 0.05 * ci as f64) * if mixed { 12.0 } else { 1.0 };
    let timeline = (0..10)
        .map(|s| TimelinePoint {
            second: s,
            rps: common * (0.98 + 0.004 * f64::from(s % 5)),
            p99_ms: base_p99 * slowdown * (0.9 + 0.05 * f64::from(s % 4)),
            errors: u64::from(s == 7 && ci == 3),
        })
        .collect();
    let rss = |base: u64, per: u64| (base + per * ci as u64 + 8 * u64::from(workers)) << 20;
    Cell {
        workers,
        capacity: Some(cap),
        trials,
        equal_load: Some(EqualLoad {
            achieved_rps: common * 0.995,
            errors: u64::from(ci == 3),
            light: mixed.then(|| percentiles(base_p99 * slowdown * 0.3)),
            cpu_ms_per_request: Some(cpu_ms),
            idle_cpu_cores: Some(0.002 + 0.003 * ci as f64),
            marginal_cpu_ms_per_request: Some(cpu_ms - (0.002 + 0.003 * ci as f64) / common * 1e3),
            rss_peak_bytes: Some(rss(48, 21)),
            timeline,
            consistency,
            ..equal_load(common, base_p99 * slowdown, rss(44, 20))
        }),
        flags,
        notes,
        ..cell(name, workload.clone())
    }
}

/// A ramp that doubles until the SLO breaks, then three bisection steps
/// between the last pass and the first failure.
fn search_trial(index: u32, capacity: f64, p99_at_capacity: f64) -> Trial {
    let mut steps = Vec::new();
    let mut rate = (capacity / 8.0).round();
    let mut i = 0;
    loop {
        let s = search_step(i, StepPhase::Ramp, rate, capacity, p99_at_capacity);
        i += 1;
        let pass = s.pass();
        steps.push(s);
        if !pass {
            break;
        }
        rate *= 2.0;
    }
    let (mut lo, mut hi) = (rate / 2.0, rate);
    for _ in 0..3 {
        let mid = ((lo + hi) / 2.0).round();
        let s = search_step(i, StepPhase::Bisect, mid, capacity, p99_at_capacity);
        if s.pass() {
            lo = mid;
        } else {
            hi = mid;
        }
        steps.push(s);
        i += 1;
    }
    trial(index, lo, steps)
}

fn search_step(
    index: u32,
    phase: StepPhase,
    target: f64,
    capacity: f64,
    p99_at_capacity: f64,
) -> SearchStep {
    let load = target / capacity;
    let pass = load <= 1.0;
    let p99_ms = if pass {
        p99_at_capacity * load.max(0.2)
    } else {
        100.0 * load * load * 2.0
    };
    let verdict = if pass {
        StepVerdict::Pass
    } else {
        StepVerdict::Fail
    };
    SearchStep {
        achieved_rps: target.min(capacity * 1.05),
        error_rate: if pass { 0.0 } else { 0.002 },
        reasons: if pass {
            Vec::new()
        } else {
            vec![format!("p99 {p99_ms:.0} ms > 100 ms")]
        },
        ..step(index, phase, target, p99_ms, verdict)
    }
}

fn ws_cell(name: &str, speed: f64, base: f64, p99: f64) -> Cell {
    if name == "python-flask" {
        return skipped_cell(
            name,
            Workload::Ws,
            "python-flask does not serve ws: Flask has no WebSocket support without an extension",
        );
    }
    let ws = [10u32, 50, 100, 200]
        .iter()
        .map(|&clients| {
            let expected = 20 * u64::from(clients) * 30;
            let lost = if name == "node-express" && clients == 200 {
                12
            } else {
                0
            };
            let idle = 40u64 << 20;
            let per_conn = 30_000.0 / speed;
            WsPoint {
                sent: 600,
                expected_deliveries: expected,
                // node-express drops a few broadcasts at its busiest point.
                deliveries: expected - lost,
                missing: lost,
                p50_ms: p99 / speed * 0.4 * (1.0 + f64::from(clients) / 100.0),
                rss_idle_bytes: idle,
                rss_loaded_bytes: idle + (per_conn * f64::from(clients)) as u64,
                ..ws_point(
                    clients,
                    20.0,
                    p99 / speed * (1.0 + f64::from(clients) / 60.0),
                    per_conn,
                )
            }
        })
        .collect();
    Cell {
        capacity: Some(spread_estimate((base * speed).round(), 0.05)),
        ws,
        ..cell(name, Workload::Ws)
    }
}

fn startup_cell(name: &str, language: &Language, ci: usize) -> Cell {
    let base = if *language == Language::Node {
        180.0
    } else {
        650.0
    };
    Cell {
        startup: Some(Startup {
            to_healthy_ms: spread_estimate(base * (1.0 + 0.2 * ci as f64), 0.06),
            idle_rss_bytes: (35 + 12 * ci as u64) << 20,
        }),
        ..cell(name, Workload::Startup)
    }
}

/// `run` as if every cell had been measured over a single trial: each estimate
/// becomes its center alone (indicative), and each cell keeps its first trial.
pub fn single_trial(mut run: Run) -> Run {
    let one = |e: &Estimate| crate::suite::stats::estimate(&[e.center()]).expect("one sample");
    run.settings.trials = 1;
    for c in &mut run.cells {
        c.capacity = c.capacity.as_ref().map(one);
        c.trials.truncate(1);
        if let Some(s) = c.startup.as_mut() {
            s.to_healthy_ms = one(&s.to_healthy_ms);
        }
        c.flags.retain(|f| *f != Flag::Noisy);
        c.notes.retain(|n| !n.contains("across trials"));
    }
    run
}

/// The sample run with python-fastapi also measured on CPython 3.13.1
/// (`python-fastapi-py313`, `--python 3.13`), its capacities 1.5 times the 3.11 ones.
pub fn run_on_two_pythons() -> Run {
    let mut run = sample_run();
    let base = run
        .contender("python-fastapi")
        .expect("the sample run has python-fastapi")
        .clone();
    let mut derived = base.clone();
    derived.name = "python-fastapi-py313".into();
    derived.runtime = "/usr/local/bin/python3.13".into();
    derived.runtime_version = "3.13.1".into();
    run.contenders.push(derived);
    let cells: Vec<_> = run
        .cells
        .iter()
        .filter(|c| c.contender == "python-fastapi")
        .cloned()
        .collect();
    for mut c in cells {
        c.contender = "python-fastapi-py313".into();
        if let Some(e) = c.capacity.as_mut() {
            for x in [&mut e.median, &mut e.mean, &mut e.ci_low, &mut e.ci_high] {
                *x *= 1.5;
            }
        }
        run.cells.push(c);
    }
    run
}
