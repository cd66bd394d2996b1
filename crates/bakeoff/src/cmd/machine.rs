//! `bakeoff machine`: time the run's probes on the cores `run` would pin (the
//! generator's and the contender's) and the loopback between them, idle
//! sleeps on each core between timings, and the steal over the span, and
//! print how steady the machine is (text, or one JSON document with
//! `--json`). Ctrl-C prints what was read so far, then exits 130.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use super::parse_duration;
use crate::cli::MachineArgs;
use crate::measure::survey::{survey, SurveyConfig};
use crate::measure::{self, PinLayout, ProcSampler};
use crate::report::survey::{render_survey, survey_document};
use crate::suite::live::{stalled_after, StealLimit};
use crate::{InputError, Interrupted};

/// The longest survey: a check before a run, not a soak.
const MAX_SPAN: Duration = Duration::from_secs(3600);

pub(super) async fn execute(args: MachineArgs, cancel: CancellationToken) -> Result<u8> {
    let cfg = config(&args)?;
    let cpus = measure::allowed_cpus().unwrap_or_else(|_| vec![0]);
    let layout = PinLayout::for_cpus(&cpus);
    let sampler = ProcSampler {
        probe_cpu: layout.contender.first().copied(),
        generator_cpu: layout.generator,
        ..ProcSampler::default()
    };
    let watched: Vec<usize> = layout
        .generator
        .into_iter()
        .chain(sampler.probe_cpu)
        .collect();
    eprintln!(
        "timing the probes every {} for {} (Ctrl-C prints what was read so far)",
        humantime::format_duration(cfg.interval),
        humantime::format_duration(cfg.span)
    );
    let c = cancel.clone();
    let s = tokio::task::spawn_blocking(move || survey(&sampler, &watched, cfg, &c))
        .await
        .context("the survey's thread")?;
    if args.json {
        let doc = survey_document(&s, &cfg, &layout.description);
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        render_survey(&s, &cfg, &layout.description, &mut super::stdout())?;
    }
    if s.interrupted {
        return Err(Interrupted.into());
    }
    Ok(0)
}

fn config(args: &MachineArgs) -> Result<SurveyConfig> {
    let span = parse_duration("--for", &args.span, false)?;
    if span > MAX_SPAN {
        return Err(InputError::new(format!(
            "--for `{}` is longer than the survey's 1-hour limit; write e.g. 30s or 5m",
            args.span
        ))
        .into());
    }
    let interval = parse_duration("--every", &args.every, false)?;
    if interval > span {
        return Err(InputError::new(format!(
            "--every `{}` is longer than --for `{}`: the survey would time the probes once; give a shorter --every or a longer --for",
            args.every, args.span
        ))
        .into());
    }
    let slo = parse_duration("--slo-p99", &args.slo_p99, false)?;
    Ok(SurveyConfig {
        span,
        interval,
        late: stalled_after(slo),
        steal: StealLimit::default().for_slo(slo),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(span: &str, every: &str) -> MachineArgs {
        MachineArgs {
            span: span.into(),
            every: every.into(),
            slo_p99: "100ms".into(),
            json: false,
        }
    }

    #[test]
    fn bad_spans_are_named() {
        let err = |a: MachineArgs| format!("{:#}", config(&a).unwrap_err());
        assert!(err(args("2h", "1s")).contains("1-hour limit"));
        assert!(err(args("10s", "1m")).contains("--every `1m` is longer than --for `10s`"));
        assert!(err(args("soon", "1s")).contains("--for `soon` is not a duration"));
        assert!(err(args("10s", "0s")).contains("--every must be greater than zero"));
        let ok = config(&args("30s", "400ms")).unwrap();
        assert_eq!(
            (ok.span, ok.interval, ok.late),
            (
                Duration::from_secs(30),
                Duration::from_millis(400),
                Duration::from_millis(5)
            )
        );
        let mut tight = args("30s", "400ms");
        tight.slo_p99 = "20ms".into();
        // A twentieth of 20 ms is under the engine's 2 ms floor.
        assert_eq!(config(&tight).unwrap().late, Duration::from_millis(2));
        // The steal that voids a window follows the SLO too: half of it.
        assert_eq!(ok.steal.burst(), Duration::from_millis(50));
        let mut loose = args("30s", "400ms");
        loose.slo_p99 = "400ms".into();
        assert_eq!(
            config(&loose).unwrap().steal.burst(),
            Duration::from_millis(200)
        );
        tight.slo_p99 = "0ms".into();
        assert!(format!("{:#}", config(&tight).unwrap_err()).contains("--slo-p99"));
    }
}
