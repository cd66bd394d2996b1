//! `bakeoff serve`, the command: start one contender exactly as `bakeoff run`
//! starts it (installed from its lockfile, a fresh copy of the seeded
//! database, the dataset, the upstream service, PostgreSQL when asked, pinned
//! off the generator's core) and keep it up for another tool (wrk, oha, a
//! browser, `bench/launches.sh`) until Ctrl-C, SIGTERM or `--for`.
//!
//! A contender on another runtime is named as a run's report names it
//! (`node-fastify-node24`, `python-flask-py313@sync`): that runtime is
//! installed or found as `run --node`/`--python` would.
//!
//! Its base URL is the one line on stdout, once it answers its health check,
//! so a script can read it; everything else goes to stderr. It exits 0 when
//! stopped so, 1 when the contender exits on its own (with its log's tail).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use super::{
    generate_data, parse_duration, pin_own_threads, select_config, select_contenders,
    start_postgres, stop_postgres,
};
use crate::cli::{RuntimeArgs, ServeArgs};
use crate::contender::runtimes::{split_name, RuntimeAxis};
use crate::contender::setup::{self, SetupError, SetupOptions};
use crate::database::Database;
use crate::measure::{self, PinLayout};
use crate::suite::live::SupervisorLauncher;
use crate::suite::Launcher;
use crate::workload::upstream::Upstream;
use crate::{InputError, Interrupted};

/// How often the wait looks for a contender that exited on its own.
const EXIT_POLL: Duration = Duration::from_millis(200);

pub(super) async fn execute(args: ServeArgs, cancel: CancellationToken) -> Result<u8> {
    let serve_for = args
        .serve_for
        .as_deref()
        .map(|t| parse_duration("--for", t, false))
        .transpose()?;
    let env = parse_env(&args.env)?;
    let database = args.database.database();
    let mut contender_args = args.contenders;
    contender_args.contenders.extend(args.name);
    // A name a run's report gives a contender on another runtime
    // (node-fastify-node24, python-flask-py313@sync) is its base on that runtime.
    let asked = contender_args.contenders.clone();
    let (bases, axis) = RuntimeAxis::of_names(&asked);
    let derived = axis != RuntimeAxis::default();
    contender_args.contenders = bases.clone();
    let mut selection = select_config(&contender_args, &RuntimeArgs::default());
    selection.runtimes = axis;
    let results_dir = selection.results_dir.clone();
    let mut contenders = select_contenders(&selection, false, &cancel).await?;
    if derived {
        // Only what was named: not the bases of derived names, nor their
        // other runtimes (`--contender DIR` apps are neither).
        contenders.retain(|c| {
            let name = c.name();
            asked.iter().any(|a| a == name)
                || (split_name(name).1.is_none() && !bases.iter().any(|b| b == name))
        });
    }
    let contender = match contenders.len() {
        1 => contenders.remove(0),
        0 => {
            let named = asked.join(", ");
            let plain = bases.join(", ");
            return Err(InputError::new(format!(
                "{named}: no such contender: a contender on another runtime is `<name>-node<major>` (a Node.js one, on a major other than PATH's) or `<name>-py<version>` (a Python one); on the runtime on PATH it goes by its plain name: `bakeoff serve {plain}`"
            ))
            .into());
        }
        n => {
            return Err(InputError::new(format!(
                "bakeoff serve starts one contender, and {n} were named ({}): name one",
                contenders
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into())
        }
    };
    let name = contender.name().to_string();
    let limits = &contender.manifest.workers;
    let workers = args.workers.unwrap_or(limits.default);
    if workers == 0 || workers > limits.max {
        return Err(InputError::new(format!(
            "--workers {workers}: {name} runs 1 to {} workers (its manifest's `workers.max`)",
            limits.max
        ))
        .into());
    }
    if let Some(why) = contender.database_unsupported(database) {
        return Err(InputError::new(format!("{name} cannot serve on {database}: {why}")).into());
    }

    let cpus = measure::allowed_cpus().unwrap_or_else(|_| vec![0]);
    let layout = match database {
        Database::Postgres => PinLayout::with_database(&cpus),
        Database::Sqlite => PinLayout::for_cpus(&cpus),
    };
    let data = generate_data(&results_dir).await?;
    // Sized and pinned as `run` sizes and pins it.
    let postgres = match database {
        Database::Sqlite => None,
        Database::Postgres => Some(Arc::new(
            start_postgres(
                &results_dir,
                &data,
                workers,
                (!layout.database.is_empty()).then(|| layout.database.clone()),
                &cancel,
            )
            .await?,
        )),
    };
    eprintln!("{name}: setting up …");
    let installed =
        match setup::ensure_one(&contender, &SetupOptions::new(&results_dir, false), &cancel).await
        {
            Ok(i) => i,
            Err(SetupError::Cancelled { .. }) => return Err(Interrupted.into()),
            Err(e) => return Err(anyhow::Error::new(e).context(format!("setting up {name}"))),
        };
    let upstream = Upstream::start(cancel.child_token())
        .await
        .context("starting the upstream service")?;
    let mut pinning = layout.description.clone();
    if let Some(why) = layout.generator.and_then(pin_own_threads) {
        eprintln!("warning: {why}");
        pinning.push_str(&format!("; {why}"));
    }
    let mut launcher = SupervisorLauncher::new(
        vec![installed],
        BTreeMap::new(),
        data,
        upstream.base_url(),
        results_dir.join("logs"),
        (!layout.contender.is_empty()).then(|| layout.contender.clone()),
    )
    .with_env(env);
    if let Some(pg) = &postgres {
        launcher = launcher.with_postgres(pg.clone());
    }
    eprintln!(
        "{name}: starting {workers} worker(s) on {database}{} …",
        if args.data { ", with the dataset" } else { "" }
    );
    let started = launcher
        .launch(&name, workers, args.data, database, &cancel)
        .await;
    let mut running = match started {
        Ok(r) => r,
        Err(_) if cancel.is_cancelled() => {
            stop_postgres(postgres, &|m| eprintln!("{m}")).await;
            return Err(Interrupted.into());
        }
        Err(e) => {
            stop_postgres(postgres, &|m| eprintln!("{m}")).await;
            return Err(anyhow::Error::new(e).context(format!("starting {name}")));
        }
    };
    let url = running.base_url().to_string();
    // Only a pinned layout has a generator's core to point an outside tool at.
    let drive = layout.generator.map_or(String::new(), |c| {
        format!("drive it from the generator's core (e.g. `taskset -c {c} wrk …`); ")
    });
    eprintln!(
        "{name}: serving at {url} (healthy {:.2} s after spawn); {pinning}; its upstream at {}; {drive}{}",
        running.startup_time().as_secs_f64(),
        upstream.base_url(),
        match serve_for {
            Some(d) => format!("stops in {}", humantime::format_duration(d)),
            None => "Ctrl-C stops it".to_string(),
        }
    );
    // The one line a script reads; a closed stdout is no reason to stop serving.
    let _ = outln!("{url}").and_then(|()| {
        use std::io::Write as _;
        super::stdout().flush()
    });

    let deadline = serve_for.map(|d| tokio::time::Instant::now() + d);
    let exited = loop {
        if let Some(why) = running.exited() {
            break Some(why);
        }
        let tick = tokio::time::sleep(EXIT_POLL);
        tokio::select! {
            _ = cancel.cancelled() => break None,
            _ = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => break None,
            _ = tick => {}
        }
    };
    let stopped = running.stop().await;
    upstream.shutdown().await;
    stop_postgres(postgres, &|m| eprintln!("{m}")).await;
    if let Some(why) = exited {
        eprintln!("{why}");
        return Ok(1);
    }
    stopped.with_context(|| format!("stopping {name}"))?;
    eprintln!("{name}: stopped");
    Ok(0)
}

/// `KEY=VALUE` pairs, in order; a pair without `=` or with an empty or
/// malformed key is bad input.
fn parse_env(pairs: &[String]) -> Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or(("", ""));
            let valid = key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            if valid {
                Ok((key.to_string(), value.to_string()))
            } else {
                Err(InputError::new(format!(
                    "--env `{pair}` is not KEY=VALUE with a variable name for KEY (letters, digits, _); e.g. --env NODE_OPTIONS=--max-semi-space-size=32"
                ))
                .into())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_pairs_keep_their_order_and_any_value() {
        let env = parse_env(&[
            "NODE_OPTIONS=--v8-pool-size=1".into(),
            "EMPTY=".into(),
            "A_1=x=y".into(),
        ])
        .unwrap();
        assert_eq!(
            env,
            [
                ("NODE_OPTIONS".into(), "--v8-pool-size=1".into()),
                ("EMPTY".into(), String::new()),
                ("A_1".into(), "x=y".into()),
            ]
        );
    }

    #[test]
    fn a_malformed_env_pair_names_itself_and_the_form() {
        for bad in ["NOEQUALS", "=value", "1X=a", "A-B=c", "A B=c"] {
            let e = parse_env(&[bad.to_string()]).unwrap_err();
            assert!(e.downcast_ref::<InputError>().is_some(), "{bad}: {e}");
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("`{bad}`")) && msg.contains("KEY=VALUE"),
                "{msg}"
            );
        }
    }
}
