//! `bakeoff load --find-capacity`: the capacity at a latency SLO of any
//! target (a URL, or a scenario's request mix), found with the capacity search
//! `bakeoff run` uses (suite::search): open-loop windows that ramp, bisect and
//! confirm, judged on the corrected p99, errors, the achieved rate and a
//! growing backlog. Each window is a line on stderr; the result on stdout.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bakeoff_load::LoadConfig;
use tokio_util::sync::CancellationToken;

use super::{input, parse_duration};
use crate::cli::LoadArgs;
use crate::load_doc::CapacityDoc;
use crate::model::{SearchStep, TrialOutcome};
use crate::suite::live::EngineDriver;
use crate::suite::search::STANDALONE_MIN_TIME;
use crate::suite::windows::HttpWindows;
use crate::suite::{search_capacity, DriveError, SearchConfig};
use crate::workload::Workload;
use crate::Interrupted;

/// The first rate tried: the search ramps ×4 from it.
const START_RPS: f64 = 50.0;

/// The target's name in the search's windows (a suite's contender name).
const TARGET: &str = "load";

pub(super) async fn execute(
    args: &LoadArgs,
    config: LoadConfig,
    cancel: CancellationToken,
) -> Result<u8> {
    let slo = parse_duration("--slo-p99", &args.slo_p99, false)?;
    if slo < Duration::from_millis(1) || slo > Duration::from_secs(60) {
        return Err(input(format!(
            "--slo-p99 `{}` must be between 1ms and 60s",
            args.slo_p99
        )));
    }
    if let Some(s) = config.sessions.iter().find(|s| s.think.is_some()) {
        return Err(input(format!(
            "--find-capacity searches with an open loop, whose rate alone sets when requests are sent; session `{}` has a think time, which only virtual users (-c N, no --find-capacity) have: remove its think for a capacity search",
            s.name
        )));
    }
    let max_time = parse_duration("--max-time", &args.max_time, false)?;
    if max_time < STANDALONE_MIN_TIME || max_time > Duration::from_secs(3600) {
        return Err(input(format!(
            "--max-time `{}` must be between {}s (a warm-up, a confirmation window and the search's own) and 1h",
            args.max_time,
            STANDALONE_MIN_TIME.as_secs()
        )));
    }
    let slo_ms = slo.as_secs_f64() * 1000.0;
    let search = SearchConfig::standalone(slo_ms, START_RPS, max_time);
    let url = config.target.to_string();
    let driver = EngineDriver {
        pin_cpu: config.pin_cpu,
        requests: Some(config.requests.clone()),
        sessions: config.sessions.clone(),
        // One thread, as the suite's windows start with (`--threads` is
        // refused with --find-capacity); the server's CPUs are not known
        // here: the machine's steal and the generator's own CPU are watched.
        steal_limit: crate::suite::plan::steal_limit(args.max_steal, slo)
            .map_err(|e| input(e.to_string()))?,
        // `--prime PATH`: in turn, as `run` primes a contender's; without
        // it, together with the URL's own request.
        prime_paths: match &config.prime {
            bakeoff_load::Prime::InTurn(spec) => [(TARGET.to_string(), spec.path.clone())].into(),
            _ => Default::default(),
        },
        ..EngineDriver::new(slo, config.timeout)
    };
    let windows = HttpWindows {
        driver: &driver,
        contender: TARGET,
        base_url: &url,
        // The driver sends the requests given; a custom workload has no
        // built-in requests, database or upstream checks.
        workload: Workload::Custom("load".into()),
        database: None,
    };
    let started = Instant::now();
    let mut on_step = |s: &SearchStep| eprintln!("{}", step_line(s));
    let out = match search_capacity(&windows, &search, &cancel, &mut on_step).await {
        Ok(out) => out,
        Err(DriveError::Cancelled) => return Err(Interrupted.into()),
        Err(e) => return Err(e).context("the capacity search failed"),
    };
    let doc = CapacityDoc::of(&url, slo_ms, &out, started.elapsed(), driver.steal_limit);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        out!("{}", summary(&doc, &out.outcome))?;
    }
    if out.outcome == TrialOutcome::Failing {
        // Like a run where no request succeeded: a script must not read it
        // as a capacity of 0.
        eprintln!(
            "bakeoff load: {url} answered mostly with errors at every rate: it is failing, not slow; check the server's log and the URL; exiting 1"
        );
        return Ok(1);
    }
    Ok(0)
}

/// One window, as the search finished it.
fn step_line(s: &SearchStep) -> String {
    let reasons = if s.reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", s.reasons.join("; "))
    };
    format!(
        "  {:>2} {:<7} {:>10.0} req/s  achieved {:>10.0}  p99 {:>9.2} ms  {:.1}s  {}{reasons}",
        s.index + 1,
        s.phase.as_str(),
        s.target_rps,
        s.achieved_rps,
        s.p99_ms,
        s.duration_s,
        s.verdict.as_str(),
    )
}

fn summary(doc: &CapacityDoc, outcome: &TrialOutcome) -> String {
    let rate = |r: Option<f64>| {
        r.map_or("-".to_string(), |r| {
            format!("{} req/s", crate::report::table::fmt_rate(r))
        })
    };
    let headline = match outcome {
        TrialOutcome::Confirmed => format!(
            "capacity at p99 ≤ {} ms: {} (held a {:.0}s confirmation window)",
            doc.slo_p99_ms,
            rate(doc.capacity_rps),
            doc.steps
                .iter()
                .rev()
                .find(|s| s.phase == "confirm" && s.verdict == "pass")
                .map_or(0.0, |s| s.duration_s)
        ),
        TrialOutcome::NoCapacity => format!(
            "no capacity at p99 ≤ {} ms: even the lowest rate failed",
            doc.slo_p99_ms
        ),
        TrialOutcome::Failing => format!(
            "no capacity at p99 ≤ {} ms: the server is failing, not slow (the reason below)",
            doc.slo_p99_ms
        ),
        TrialOutcome::Truncated | TrialOutcome::GeneratorLimited => format!(
            "capacity at p99 ≤ {} ms: at least {} ({}; not a capacity)",
            doc.slo_p99_ms,
            rate(doc.capacity_rps),
            outcome.as_str().replace('_', " ")
        ),
        TrialOutcome::MachineNoisy => {
            "no capacity: every retry of a window was the machine's (held-up sends or steal, below); run when the host is quieter, or, if its steal never falls, raise --max-steal".to_string()
        }
    };
    let mut text = format!("{}\n  {headline}\n", doc.url);
    if let Some(note) = &doc.note {
        text += &format!("  {note}\n");
    }
    if crate::suite::live::StealLimit::is_raised(doc.max_steal_percent) {
        text += &format!(
            "  steal tolerated up to {}% of the machine (--max-steal), over the default in {} of its windows: the capacity may read low\n",
            doc.max_steal_percent, doc.steal_tolerated_windows
        );
    }
    text += &format!(
        "  {} windows in {:.1}s; a single search is indicative: repeat it to see its spread\n",
        doc.steps.len(),
        doc.elapsed_s
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_doc::StepDoc;

    /// The headline's rate as the reports write one: "4,829 req/s".
    #[test]
    fn the_headline_reads_as_the_reports() {
        let confirm = StepDoc {
            index: 0,
            phase: "confirm".into(),
            target_rps: 4829.4,
            achieved_rps: 4826.0,
            p99_ms: 77.0,
            error_rate: 0.0,
            verdict: "pass".into(),
            duration_s: 10.0,
            reasons: Vec::new(),
        };
        let doc = CapacityDoc {
            url: "http://127.0.0.1:8080/json".into(),
            slo_p99_ms: 100.0,
            outcome: "confirmed".into(),
            capacity_rps: Some(4829.4),
            note: None,
            elapsed_s: 29.1,
            max_steal_percent: 2.0,
            steal_tolerated_windows: 0,
            steps: vec![confirm],
        };
        let text = summary(&doc, &TrialOutcome::Confirmed);
        assert!(
            text.contains("capacity at p99 ≤ 100 ms: 4,829 req/s (held a 10s confirmation window)"),
            "{text}"
        );
    }
}
