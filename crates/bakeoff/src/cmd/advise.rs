//! `bakeoff advise`: a team's profile from flags, a TOML file or prompts, turned
//! into a ranked recommendation with a capacity plan.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use super::{load_stored_run, open_existing, selection_error};
use crate::cli::{AdviseArgs, ContenderArgs, RunArgs, RuntimeArgs};
use crate::contender::runtimes::RuntimeAxis;
use crate::contender::select::SelectConfig;
use crate::database::Database;
use crate::model::Run;
use crate::suite::Profile;
use crate::verdict::advice::{advise, Ecosystem};
use crate::verdict::profile::{parse_pairs, Category, Inputs, ProfileFile};
use crate::verdict::render;
use crate::workload::Workload;
use crate::InputError;

/// The newest complete PostgreSQL run with measured database cells, when `run`
/// has none of its own (a SQLite run): a real service reaches its data over a
/// socket, so the advisor prefers those figures. A run that measured both
/// databases already has them (the advisor reads its postgres cells).
fn postgres_run(path: &std::path::Path, run: &Run) -> Result<Option<Run>> {
    if run.settings.databases().contains(&Database::Postgres) {
        return Ok(None);
    }
    let store = open_existing(path)?;
    let Some(id) = store.latest_complete_on(Database::Postgres)? else {
        return Ok(None);
    };
    let pg = store.load_run(id)?;
    Ok(pg
        .cells
        .iter()
        .any(|c| is_database_cell(c) && c.status.is_ok())
        .then_some(pg))
}

fn is_database_cell(c: &crate::model::Cell) -> bool {
    c.workload.uses_database()
}

/// `run` with its database-workload cells replaced by `pg`'s (all of them, so a
/// category compares contenders measured together) and its database set to `pg`'s.
fn with_database_cells(mut run: Run, pg: &Run) -> Run {
    run.cells.retain(|c| !is_database_cell(c));
    run.cells
        .extend(pg.cells.iter().filter(|c| is_database_cell(c)).cloned());
    for info in &pg.contenders {
        if !run.contenders.iter().any(|c| c.name == info.name) {
            run.contenders.push(info.clone());
        }
    }
    run.settings.database = pg.settings.database;
    run.settings.databases = pg.settings.databases();
    run
}

/// `measure` is `bakeoff run`, called with `--measure` for the missing cells.
pub(super) async fn execute(
    args: AdviseArgs,
    cancel: CancellationToken,
    measure: impl AsyncFnOnce(RunArgs, CancellationToken) -> Result<u8>,
) -> Result<u8> {
    let eco = Ecosystem::builtin();
    let mut inputs = Inputs {
        mix: args
            .mix
            .as_deref()
            .map(|m| parse_pairs(m, "--mix"))
            .transpose()
            .map_err(input)?,
        team: args.team.clone(),
        needs: args.needs.clone(),
        peak_rps: args.peak_rps,
        slo_p99: args.slo_p99.clone(),
        weights: args
            .weights
            .as_deref()
            .map(|w| parse_pairs(w, "--weights"))
            .transpose()
            .map_err(input)?,
    };
    if let Some(path) = &args.profile {
        let text = crate::input_file::read_to_string(path, crate::input_file::TEXT_LIMIT)
            .map_err(|e| {
                InputError::new(format!(
                    "--profile {}: {e}; give a TOML file of the team's profile, with any of the keys mix, team, needs, peak_rps, slo_p99, weights (e.g. `mix = {{ io = 60, api = 40 }}` and `team = \"js\"`)",
                    path.display()
                ))
            })?;
        let file = ProfileFile::parse(&text)
            .map_err(|e| InputError::new(format!("--profile {}: {e}", path.display())))?;
        inputs = inputs.or_file(file);
    }
    if inputs.mix.is_none() && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        prompt(&mut inputs, &eco)?;
    }

    let db = args.db.path();
    let mut run = load_stored_run(&db, &args.run)?;
    if let Some(pg) = postgres_run(&db, &run)? {
        eprintln!(
            "database workloads: the figures of run {} (PostgreSQL) replace run {}'s (SQLite)",
            pg.id, run.id
        );
        run = with_database_cells(run, &pg);
    }
    let measured = Category::measured(&run);
    let profile = inputs
        .validate(&measured, &eco.need_names())
        .map_err(flag_input)?;
    let mut advice = advise(&run, &profile, &eco);

    if args.measure {
        if let Some(cmd) = &advice.measure_command {
            eprintln!("measuring the missing cells: {cmd}");
            let stored: Vec<String> = run.contenders.iter().map(|c| c.name.clone()).collect();
            // A contender on another runtime is its base on that runtime again.
            let (names, axis) = RuntimeAxis::of_names(&stored);
            // A contender the run took from a user's directory is found there again.
            let selection = SelectConfig {
                paths: args.contender_paths.clone(),
                contenders_dir: args.contenders_dir.clone(),
                results_dir: args.db.results_dir.clone(),
                ..SelectConfig::default()
            }
            .remeasure(run.id, &names)
            .map_err(selection_error)?;
            let run_args = RunArgs {
                contenders: ContenderArgs {
                    contenders: selection.names,
                    contender_paths: selection.paths,
                    contenders_dir: selection.contenders_dir,
                    results_dir: selection.results_dir,
                },
                profile: Profile::Quick,
                workloads: advice
                    .missing_workloads
                    .iter()
                    .map(Workload::to_string)
                    .collect(),
                // Measure on the database the advice rests on.
                database: run.settings.databases().into(),
                slo_p99: format!("{}ms", run.settings.slo_p99_ms),
                trials: None,
                workers: Vec::new(),
                runtimes: RuntimeArgs {
                    pythons: axis.python,
                    nodes: axis.node,
                },
                // The run's own scale: the new cells compare with its others.
                duration_scale: run.settings.duration_scale,
                // The run's steal limit: its new cells are judged alike.
                max_steal: run.settings.raised_steal_limit(),
                db: args.db.db.clone(),
                quiet: false,
            };
            measure(run_args, cancel)
                .await
                .context("measuring the missing cells")?;
            run = load_stored_run(&db, "latest")?;
            advice = advise(&run, &profile, &eco);
        }
    }

    let mut out = super::stdout();
    if args.json {
        // Through a string: serde_json's error would hide the closed pipe.
        writeln!(out, "{}", serde_json::to_string_pretty(&advice)?)?;
    } else {
        render::advice_text(&advice, &mut out)?;
    }
    Ok(0)
}

fn input(e: crate::verdict::profile::ProfileError) -> InputError {
    InputError::new(e.to_string())
}

/// A validation error names the flag as well as the profile key, whichever the
/// value came from.
fn flag_input(e: crate::verdict::profile::ProfileError) -> InputError {
    if e.key.starts_with("--") {
        return input(e);
    }
    let flag = e.key.replace('_', "-");
    InputError::new(format!(
        "--{flag} ({} in a profile file): {}",
        e.key, e.message
    ))
}

/// Ask for what the flags did not give, when a person is at the terminal.
fn prompt(inputs: &mut Inputs, eco: &Ecosystem) -> Result<()> {
    use dialoguer::{Input, Select};
    let mix: String = Input::new()
        .with_prompt("Workload mix in percent (api, crud, io, cpu, data, realtime)")
        .default("api=40,crud=30,io=30".into())
        .validate_with(|s: &String| parse_pairs(s, "mix").map(|_| ()).map_err(|e| e.to_string()))
        .interact_text()?;
    inputs.mix = Some(parse_pairs(&mix, "mix").map_err(input)?);
    if inputs.team.is_none() {
        let teams = ["js", "python", "both"];
        let i = Select::new()
            .with_prompt("Your team's skills")
            .items(&teams)
            .default(2)
            .interact()?;
        inputs.team = Some(teams[i].into());
    }
    if inputs.needs.is_empty() {
        let needs: String = Input::new()
            .with_prompt(format!(
                "Domain needs, comma-separated ({}), or empty",
                eco.need_names().join(", ")
            ))
            .allow_empty(true)
            .interact_text()?;
        inputs.needs = needs
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }
    if inputs.peak_rps.is_none() {
        let peak: String = Input::new()
            .with_prompt("Expected peak requests per second")
            .default("1000".into())
            .interact_text()?;
        inputs.peak_rps = Some(
            peak.trim()
                .parse()
                .map_err(|_| InputError::new(format!("peak `{peak}` is not a number")))?,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cell;
    use crate::report::fixtures::{cell, estimate};
    use crate::verdict::fixture::run;

    fn db_cell(capacity: f64) -> Cell {
        Cell {
            capacity: Some(estimate(capacity, 10.0, 3)),
            ..cell("node-http", Workload::Db)
        }
    }

    #[test]
    fn postgres_cells_replace_the_database_workloads_only() {
        let mut sqlite = run();
        sqlite.cells.push(db_cell(900.0));
        let mut pg = run();
        pg.id = sqlite.id + 1;
        pg.settings.database = Database::Postgres;
        pg.cells = vec![db_cell(400.0)];
        let others_before = sqlite
            .cells
            .iter()
            .filter(|c| c.workload != Workload::Db)
            .count();
        let merged = with_database_cells(sqlite, &pg);
        let db: Vec<_> = merged
            .cells
            .iter()
            .filter(|c| c.workload == Workload::Db)
            .collect();
        assert_eq!(db.len(), 1);
        assert_eq!(db[0].capacity.unwrap().median, 400.0);
        assert_eq!(
            merged
                .cells
                .iter()
                .filter(|c| c.workload != Workload::Db)
                .count(),
            others_before
        );
        assert_eq!(merged.settings.database, Database::Postgres);
    }
}
