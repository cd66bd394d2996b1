//! `bakeoff run`: set up and verify the contenders where needed, measure the
//! plan, store every finished cell, then print the summary and write the HTML report.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use super::{
    databases, generate_data, pin_own_threads, select_config, select_contenders, selection_error,
    start_postgres, stop_postgres,
};
use crate::cli::RunArgs;
use crate::contender::setup::{self, SetupError, SetupOptions};
use crate::contender::verification::verify_one;
use crate::contender::Installed;
use crate::contender::{interpreters, verify_stamps};
use crate::database::{Database, Postgres};
use crate::measure::{self, PinLayout, ProcSampler};
use crate::model::{ContenderInfo, ProbeSite, RunStatus, RuntimeKey};
use crate::store::Store;
use crate::suite::live::{stalls_warning, EngineDriver, SupervisorLauncher};
use crate::suite::plan::default_contenders;
use crate::suite::{
    run_plan, ContenderSpec, Plan, PlanOptions, PreviousRates, Progress, SuiteError,
};
use crate::workload::upstream::Upstream;
use crate::{InputError, Interrupted};

/// Per-request timeout of measured windows: far above any SLO, so a timeout is a
/// failure of the server, not of the generator's patience.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) async fn execute(args: RunArgs, cancel: CancellationToken) -> Result<u8> {
    let began = Instant::now();
    let quiet = args.quiet;
    let say = |msg: &str| {
        if !quiet {
            eprintln!("{msg}");
        }
    };

    // Contenders orphaned by a bakeoff that was SIGKILLed would skew this run.
    let orphans = crate::contender::supervisor::reap_orphans();
    if !orphans.is_empty() {
        say(&format!(
            "killed {} contender process(es) left running by a bakeoff that was killed",
            orphans.len()
        ));
    }

    // A repeated database is bad input: refused before any work.
    let databases = databases(&args.database)?;
    // The profile's contenders, unless named, or the user brought their own.
    let mut selection = select_config(&args.contenders, &args.runtimes);
    if selection.names.is_empty() && selection.paths.is_empty() {
        let available = selection.discover().map_err(selection_error)?;
        selection.names = match default_contenders(args.profile) {
            Some(names) => names.iter().map(|s| s.to_string()).collect(),
            None => available.iter().map(|c| c.name().to_string()).collect(),
        };
    }
    let results_dir = selection.results_dir.clone();
    let contenders = select_contenders(&selection, quiet, &cancel).await?;
    // Each contender's own workloads' mixes, read before anything starts.
    let mut custom = crate::suite::live::CustomRequests::new();
    for c in &contenders {
        let mixes = c
            .custom_scenarios()
            .with_context(|| format!("reading {}'s own workloads", c.name()))?;
        if !mixes.is_empty() {
            custom.insert(c.name().to_string(), mixes);
        }
    }
    let cpus = measure::allowed_cpus().unwrap_or_else(|_| vec![0]);
    let specs: Vec<ContenderSpec> = contenders
        .iter()
        .map(|c| ContenderSpec {
            name: c.name().to_string(),
            default_workers: c.manifest.workers.default,
            max_workers: c.manifest.workers.max,
            unsupported: c.manifest.unsupported.clone(),
            custom: c
                .manifest
                .workloads
                .iter()
                .map(|w| w.name.clone())
                .collect(),
            skipped: None,
            databases_unsupported: databases
                .iter()
                .filter_map(|&d| Some((d, c.database_unsupported(d)?)))
                .collect(),
        })
        .collect();
    let mut plan = Plan::build(
        &PlanOptions {
            profile: args.profile,
            workloads: args.workloads.clone(),
            trials: args.trials,
            workers: args.workers.clone(),
            slo_p99: args.slo_p99.clone(),
            duration_scale: args.duration_scale,
            available_cores: cpus.len() as u32,
            max_steal: args.max_steal,
        },
        specs,
    )
    .map_err(InputError::from)?;
    plan.set_databases(&databases).map_err(InputError::from)?;
    let reads_db = plan.workloads.iter().any(|w| w.uses_database());
    let on_postgres = databases.contains(&Database::Postgres);
    let layout = if on_postgres && reads_db {
        PinLayout::with_database(&cpus)
    } else {
        PinLayout::for_cpus(&cpus)
    };
    plan.contender_cores = layout.contender.len() as u32;

    // Open the store first: a locked or unwritable database fails before any work.
    let db = crate::store::db_path(args.db.as_deref(), &results_dir);
    let mut store = Store::open(&db)
        .with_context(|| format!("opening the results database {}", db.display()))?;
    // Runs of one plan measure CPU and p99 at the same equal-load rates.
    if let Some(earlier) = store
        .previous_equal_rates(&plan.settings())
        .context("reading the equal-load rates of earlier runs")?
    {
        plan.previous_equal_rates = Some(PreviousRates::from_rows(
            &plan,
            earlier.run_id,
            &earlier.rates,
        ));
    }

    say(&format!(
        "bakeoff run: profile {}, {} contender(s), {} workload(s), {} trial(s); {}",
        plan.settings().profile,
        plan.contenders.len(),
        plan.workloads.len(),
        plan.trials,
        layout.description
    ));
    // A machine that holds idle threads up voids windows as its own: say so
    // before minutes of machine-noisy cells do.
    let slo = Duration::from_secs_f64(plan.slo_p99_ms / 1000.0);
    let late = crate::suite::live::stalled_after(slo);
    for (site, cpu) in [
        (ProbeSite::GeneratorCore, layout.generator),
        (ProbeSite::ContenderCore, layout.contender.first().copied()),
    ] {
        if let Some(why) = stalls_warning(site, cpu, late, plan.steal_limit) {
            eprintln!("{why}");
        }
    }
    let data = generate_data(&results_dir).await?;
    // Sized to the largest worker count any cell starts, pinned off the generator's core.
    let postgres = match (on_postgres, reads_db) {
        (false, _) => None,
        (true, false) => {
            say("no database workload in the plan: PostgreSQL is not started");
            None
        }
        (true, true) => {
            let max_workers = plan.cells().iter().map(|k| k.workers).max().unwrap_or(1);
            let pg = start_postgres(
                &results_dir,
                &data,
                max_workers,
                (!layout.database.is_empty()).then(|| layout.database.clone()),
                &cancel,
            )
            .await?;
            say(&format!(
                "PostgreSQL: {} ({})",
                pg.description(),
                if pg.server.reused() {
                    "reused"
                } else {
                    "initialized and seeded"
                }
            ));
            Some(Arc::new(pg))
        }
    };
    let upstream = Upstream::start(cancel.child_token())
        .await
        .context("starting the upstream service")?;
    let log_dir = results_dir.join("logs");

    // Set up and verify; a contender that fails either is measured as failed cells.
    let opts = SetupOptions::new(&results_dir, false);
    let mut installed: Vec<Installed> = Vec::new();
    let mut infos: Vec<ContenderInfo> = Vec::new();
    let mut rejected = BTreeMap::new();
    let mut rejected_on = BTreeMap::new();
    for c in &contenders {
        check_cancel(&cancel)?;
        say(&format!("{}: setting up …", c.name()));
        let inst = match setup::ensure_one(c, &opts, &cancel).await {
            Ok(i) => i,
            Err(SetupError::Cancelled { .. }) => return Err(Interrupted.into()),
            Err(e) => {
                let mut info = c.base_info();
                match e.runtime_skip(c) {
                    // Not this contender's fault: its cells are recorded as skipped.
                    Some(reason) => {
                        say(&format!("{}: skipped: {reason}", c.name()));
                        plan.skip_contender(c.name(), &reason);
                        info.disclosures.push(format!("skipped: {reason}"));
                    }
                    None => {
                        rejected.insert(c.name().to_string(), format!("setup failed: {e}"));
                    }
                }
                infos.push(info);
                continue;
            }
        };
        // Verified on each database its db endpoints are measured on
        // (SQLite alone when no PostgreSQL runs).
        let checked_on = match postgres {
            Some(_) => plan.databases.clone(),
            None => vec![Database::Sqlite],
        };
        let several = checked_on.len() > 1;
        for on in checked_on {
            let (stamp, key) = verify_stamps::key_on(&inst, &data, on);
            let with = match on {
                Database::Sqlite => None,
                Database::Postgres => postgres.as_deref(),
            };
            if verify_stamps::is_verified(&results_dir, &stamp, &key) {
                say(&format!("{}: verified on {on} before, unchanged", c.name()));
                continue;
            }
            say(&format!(
                "{}: verifying the app contract on {on} …",
                c.name()
            ));
            let verdict =
                verify_one(&inst, &data, &upstream, with, log_dir.clone(), &cancel).await?;
            if verdict.passed() {
                verify_stamps::record(&results_dir, &stamp, &key);
            } else {
                let reason = verdict.failure_summary();
                say(&format!(
                    "{}: FAILED verification on {on}: {reason}",
                    c.name()
                ));
                let why = format!("failed verification on {on}: {reason}");
                // On a further database only its own cells fail; on the first,
                // which runs every workload, all of them.
                if !several || on == plan.primary_database() {
                    rejected.insert(c.name().to_string(), why);
                    break;
                }
                rejected_on.insert((c.name().to_string(), on), why);
            }
        }
        infos.push(inst.info.clone());
        installed.push(inst);
    }

    // The machine is read before bakeoff pins itself: its core count is the
    // CPUs the run was given, not the one core bakeoff keeps.
    let mut environment = measure::probe_environment();
    // bakeoff's own threads (the upstream service, the sampler, the runtime)
    // share the generator's core, never the contender's. Pinned before the
    // layout is recorded, so that the run says what was applied.
    let mut pinning = layout.description.clone();
    if let Some(why) = layout.generator.and_then(pin_own_threads) {
        say(&format!("warning: {why}"));
        pinning.push_str(&format!("; {why}"));
    }
    environment.pinning = pinning;
    if let Some(pg) = &postgres {
        environment
            .runtimes
            .insert(RuntimeKey::Postgresql, pg.description());
        environment.runtimes.insert(
            RuntimeKey::PostgresqlPool,
            format!(
                "max(2, ceil({} / workers)); max_connections {}",
                crate::database::CONNECTION_BUDGET,
                pg.server.max_connections()
            ),
        );
    }
    environment.git_revision = git_revision();
    // Raised at start (`cmd::execute`): what the generator's pools fit in.
    let files = bakeoff_load::open_files_limit();
    environment.runtimes.insert(
        RuntimeKey::GeneratorConnections,
        crate::suite::live::pool_rule(files),
    );
    for info in &infos {
        if !info.runtime_version.is_empty() {
            environment
                .runtimes
                .entry(RuntimeKey::Runtime(info.language.clone()))
                .or_insert_with(|| info.runtime_version.clone());
        }
    }
    let found: Vec<String> = interpreters::discover()
        .into_iter()
        .map(|i| match i.pypy {
            Some(_) => format!("{} ({})", i.version, i.implementation()),
            None => i.version,
        })
        .collect();
    if !found.is_empty() {
        environment
            .runtimes
            .insert(RuntimeKey::PythonInterpreters, found.join(", "));
    }
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let run_id = store
        .begin_run(&started_at, &plan.settings(), &environment, &infos)
        .context("recording the run")?;
    say(&format!(
        "run {run_id}: measuring (Ctrl-C stops and keeps the finished cells) …"
    ));

    let mut launcher = SupervisorLauncher::new(
        installed,
        rejected,
        data,
        upstream.base_url(),
        log_dir,
        (!layout.contender.is_empty()).then(|| layout.contender.clone()),
    );
    launcher = launcher.with_rejected_on(rejected_on);
    if let Some(pg) = &postgres {
        launcher = launcher.with_postgres(pg.clone());
    }
    let driver = EngineDriver {
        pin_cpu: layout.generator,
        upstream: Some(upstream.counters()),
        database_down: postgres.clone().map(|pg| {
            Arc::new(move || down_reason(&pg)) as Arc<dyn Fn() -> Option<String> + Send + Sync>
        }),
        database_procs: postgres.as_ref().map(|pg| pg.server.processes()),
        custom,
        threads: crate::suite::live::GeneratorThreads::on(layout.generator_spare.clone()),
        watched_cpus: layout
            .contender
            .iter()
            .chain(&layout.database)
            .copied()
            .collect(),
        steal_limit: plan.steal_limit,
        prime_paths: contenders
            .iter()
            .map(|c| (c.name().to_string(), c.manifest.start.health_path.clone()))
            .collect(),
        files,
        ..EngineDriver::new(slo, REQUEST_TIMEOUT)
    };
    // A late delay counts toward the stall rule from the generator's own bar.
    upstream.set_late_after(driver.stalled_after());
    let sampler = ProcSampler {
        probe_cpu: layout.contender.first().copied(),
        generator_cpu: layout.generator,
        ..ProcSampler::default()
    };
    let bar = progress_bar(quiet);
    let mut last_cell = String::new();
    let mut on_progress = |p: &Progress| {
        if let Some(bar) = &bar {
            bar.set_position((p.done * 1000.0) as u64);
            bar.set_message(progress_line(p));
        } else if !quiet && p.cell != last_cell {
            eprintln!("  {}", progress_line(p));
            last_cell = p.cell.clone();
        }
    };
    let mut sink = |cell: &crate::model::Cell| -> Result<(), crate::suite::runner::BoxError> {
        store
            .record_cell(run_id, cell)
            .map_err(|e| Box::new(e) as _)
    };
    let outcome = run_plan(
        &plan,
        &launcher,
        &driver,
        &sampler,
        &cancel,
        &mut on_progress,
        &mut sink,
    )
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    upstream.shutdown().await;
    drop((launcher, driver));
    stop_postgres(postgres, &say).await;
    let finished_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let outcome = match outcome {
        Ok(o) => o,
        Err(SuiteError::Interrupted { probes, .. }) => {
            // Its finished cells were measured on that machine too.
            store.record_probe_summaries(run_id, &probes)?;
            store.finish_run(run_id, RunStatus::Interrupted, &finished_at)?;
            eprintln!(
                "run {run_id} interrupted; its finished cells are kept in {}",
                db.display()
            );
            return Err(Interrupted.into());
        }
        Err(e) => {
            store.finish_run(run_id, RunStatus::Failed, &finished_at)?;
            return Err(anyhow::Error::new(e).context(format!("run {run_id} failed")));
        }
    };
    store.record_probe_summaries(run_id, &outcome.probes)?;
    store.finish_run(run_id, RunStatus::Complete, &finished_at)?;

    let run = store.load_run(run_id).context("reading the run back")?;
    let mut out = super::stdout();
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    crate::report::render_text(&run, color, &mut out)?;
    let extras = crate::verdict::render::html_extras(&run);
    let html = crate::report::write_html_report_with(&run, &extras, &results_dir)?;
    let wall = began.elapsed();
    writeln!(
        out,
        "\nrun {run_id}: {} in {:.0} s ({:.0} s measuring, {:.0}% outside measured windows and warm-ups)",
        RunStatus::Complete.as_str(),
        wall.as_secs_f64(),
        outcome.measuring.as_secs_f64(),
        overhead_pct(wall, outcome.measuring)
    )?;
    writeln!(out, "HTML report: {}", html.display())?;
    if let Some(why) = nothing_measured(&run) {
        anyhow::bail!("run {run_id} measured no cell: {why}");
    }
    // A run of the user's own workloads is advised on them.
    let mix = match plan.workloads.iter().find_map(|w| w.custom_name()) {
        Some(name) => format!("{name}=100"),
        None => "io=50,api=50".into(),
    };
    writeln!(
        out,
        "Next: `bakeoff claims`, `bakeoff advise --mix {mix} --team js`"
    )?;
    Ok(0)
}

/// Why the run's PostgreSQL cannot serve, if it cannot.
fn down_reason(pg: &Postgres) -> Option<String> {
    (!pg.server.is_running()).then(|| {
        format!(
            "PostgreSQL (pid {}) is no longer running, so the database workloads cannot be measured; last lines of {}:\n{}",
            pg.server.pid(),
            pg.server.log_path().display(),
            crate::contender::logfile::log_tail(pg.server.log_path(), 10)
        )
    })
}

fn check_cancel(cancel: &CancellationToken) -> Result<()> {
    if cancel.is_cancelled() {
        return Err(Interrupted.into());
    }
    Ok(())
}

fn overhead_pct(wall: Duration, measuring: Duration) -> f64 {
    if wall.is_zero() {
        return 0.0;
    }
    100.0 * wall.saturating_sub(measuring).as_secs_f64() / wall.as_secs_f64()
}

fn progress_bar(quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    Some(bar)
}

fn progress_line(p: &Progress) -> String {
    let mut s = format!("{} · {}", p.cell, p.phase);
    if let Some(r) = p.rate {
        s.push_str(&format!(" · {r:.0} {}", p.unit));
    }
    if let Some(p99) = p.p99_ms {
        s.push_str(&format!(" · p99 {p99:.1} ms"));
    }
    s.push_str(&format!(
        " · ETA ≤ {}",
        humantime::format_duration(Duration::from_secs(p.eta.as_secs()))
    ));
    s
}

/// The git revision of the working directory's checkout, if any.
fn git_revision() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Why no cell of the run was measured (each failed or was skipped), with the
/// first reasons and the fix; `None` when one was.
fn nothing_measured(run: &crate::model::Run) -> Option<String> {
    use crate::model::CellStatus;
    if run.cells.iter().any(|c| c.status.is_ok()) {
        return None;
    }
    let mut reasons: Vec<String> = Vec::new();
    for c in &run.cells {
        let why = match &c.status {
            CellStatus::Failed { reason } | CellStatus::Skipped { reason } => reason,
            CellStatus::Ok => continue,
        };
        let line = format!("{} {}: {why}", c.contender, c.workload.name());
        if !reasons.contains(&line) && reasons.len() < 3 {
            reasons.push(line);
        }
    }
    let more = run.cells.len().saturating_sub(reasons.len());
    Some(format!(
        "{}{}; fix the contenders (their logs are named above) or choose workloads they serve (`bakeoff verify` checks each contender against the contract)",
        if reasons.is_empty() { "the plan had no cells".to_string() } else { reasons.join("; ") },
        if more > 0 { format!(" (and {more} more)") } else { String::new() }
    ))
}
