//! `bakeoff load URL` (or `--scenario FILE`): validate the options into a
//! [`LoadConfig`], drive the load with a live progress line on stderr, then
//! print a text summary (per class, with a scenario) or one JSON document
//! (schema: `docs/schema/load.json`).

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use bakeoff_load::shard::{self, run_sharded, ShardInfo};
use bakeoff_load::{LoadConfig, LoadError, RequestSpec, Schedule, Warmup};
use tokio_util::sync::CancellationToken;

use crate::cli::LoadArgs;
use crate::distributed::merge::add_segment;
use crate::distributed::{format_time, parse_start_at, Segment, TestIdentity};
use crate::load_doc::{LoadDoc, ShardDoc};
use crate::report::load::{summary, Shape};
use crate::{InputError, Interrupted};

mod capacity;

/// The adaptive warm-up's cap (`--warmup auto`).
const AUTO_WARMUP_CAP: Duration = Duration::from_secs(30);

/// The time bound of a run given only `--requests`.
const REQUESTS_ONLY_CAP: Duration = Duration::from_secs(600);

pub(super) async fn execute(args: LoadArgs, cancel: CancellationToken) -> Result<u8> {
    let config = config_from_args(&args)?;
    if args.find_capacity {
        return capacity::execute(&args, config, cancel).await;
    }
    let shown_url = config.target.to_string();
    let plan = plan_from_args(&args, &config, SystemTime::now())?;
    let json_out = args.json;
    let (tx, rx) = tokio::sync::watch::channel(bakeoff_load::Progress::default());
    let bar = progress_line(rx);
    if let Some(seg) = &plan.segment {
        // On stderr, so a pod's log shows what it waits for.
        eprintln!(
            "segment {}/{} of test {} against {}: starting at {}",
            seg.segment.index, seg.segment.count, seg.test.id, shown_url, seg.test.start_at
        );
    }
    let result = run_sharded(plan.config.clone(), plan.pins.clone(), cancel, Some(tx)).await;
    bar.finish_and_clear();
    let out = match result {
        Ok(r) => r,
        Err(LoadError::Cancelled) => return Err(Interrupted.into()),
        Err(e @ LoadError::Pin { .. }) => return Err(InputError::new(format!("--pin: {e}")).into()),
        Err(e) if e.is_input() => return Err(InputError::new(e.to_string()).into()),
        Err(e) => return Err(e).context("the load run failed"),
    };
    let shape = Shape::of(&config);
    if json_out {
        let mut doc = LoadDoc::of(&shown_url, shape.connections, &out.report);
        doc.threads = Some(out.shards.len());
        doc.primed_with = shape.primed_with.clone();
        doc.shards = Some(out.shards.iter().map(ShardDoc::of).collect());
        if let Some(seg) = &plan.segment {
            add_segment(
                &mut doc,
                &seg.test,
                seg.segment,
                out.started_at,
                &out.report,
            );
        }
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        let mut text = summary(&shown_url, &shape, &out.report);
        text += &shards_line(&out.shards);
        if let Some(seg) = &plan.segment {
            text += &format!(
                "  {:<20} {}/{} of test {}, started {}\n",
                "segment",
                seg.segment.index,
                seg.segment.count,
                seg.test.id,
                format_time(out.started_at)
            );
        }
        out!("{text}")?;
    }
    if out.report.successes == 0 {
        // The report above says why; a script must not read it as a result.
        eprintln!("bakeoff load: no request succeeded against {shown_url}; exiting 1");
        return Ok(1);
    }
    Ok(0)
}

/// A segment of a distributed test.
struct SegmentPlan {
    segment: Segment,
    test: TestIdentity,
}

/// How the run is split: its threads' pins, its segment, and the config
/// they share (the segment's share, starting at `--start-at`).
struct RunPlan {
    config: LoadConfig,
    pins: Vec<Option<usize>>,
    segment: Option<SegmentPlan>,
}

fn plan_from_args(args: &LoadArgs, whole: &LoadConfig, now: SystemTime) -> Result<RunPlan> {
    let online = shard::online_cpus();
    let threads = match args.threads.trim() {
        t if t.eq_ignore_ascii_case("auto") => shard::auto_threads(online),
        t => match t.parse::<u32>() {
            Ok(n) if (1..=shard::MAX_SHARDS).contains(&n) => n,
            _ => {
                return Err(input(format!(
                    "--threads `{}` must be a number from 1 to {} or `auto`",
                    args.threads,
                    shard::MAX_SHARDS
                )))
            }
        },
    };
    let pins =
        shard::plan_pins(threads, args.pin, online).map_err(|e| input(format!("--pin: {e}")))?;
    let mut config = whole.clone();
    let mut segment = None;
    if let (Some(seg), Some(at)) = (&args.segment, &args.start_at) {
        let seg = Segment::parse(seg).map_err(|e| input(e.to_string()))?;
        let start = parse_start_at(at, now, bakeoff_load::MAX_START_LATE)
            .map_err(|e| input(e.to_string()))?;
        if whole.connections < seg.count {
            return Err(input(format!(
                "--segment {}/{}: {} connections cannot be split over {} segments; -c is the whole test's, give at least {}",
                seg.index, seg.count, whole.connections, seg.count, seg.count
            )));
        }
        if whole.duration.is_none() || args.requests.is_some() {
            return Err(input(
                "--segment runs need --duration and no --requests, so that every segment measures the same window".into(),
            ));
        }
        config = shard::shard_config(whole, seg.index, seg.count)
            .map_err(|e| input(format!("--segment: {e}")))?;
        config.start_at = Some(start);
        let test = TestIdentity::new(
            whole.target.as_str(),
            &whole.requests[0].method,
            whole.rate,
            whole.connections,
            whole.duration.unwrap_or_default(),
            seg.count,
            start,
        );
        segment = Some(SegmentPlan { segment: seg, test });
    }
    if config.connections < threads {
        return Err(input(format!(
            "--threads {threads}: {} connections cannot be split over {threads} threads; give -c {} or more",
            config.connections,
            threads * segment.as_ref().map_or(1, |s| s.segment.count)
        )));
    }
    Ok(RunPlan {
        config,
        pins,
        segment,
    })
}

/// One line per run of several threads: each one's CPU, pin and share.
fn shards_line(shards: &[ShardInfo]) -> String {
    if shards.len() < 2 {
        return String::new();
    }
    let each: Vec<String> = shards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let pin = s
                .cpu
                .map(|c| format!("CPU {c}"))
                .unwrap_or("unpinned".into());
            format!(
                "#{i} {pin} {:.0}% of a core, {:.0} req/s",
                100.0 * s.cpu_share(),
                s.achieved_rate
            )
        })
        .collect();
    let note = if shards.iter().all(|s| s.cpu.is_none()) {
        " (not pinned: --pin FIRST puts thread i on CPU FIRST+i)"
    } else {
        ""
    };
    format!(
        "  {:<20} {} threads{note}: {}\n",
        "threads",
        shards.len(),
        each.join("; ")
    )
}

pub(super) fn input(msg: String) -> anyhow::Error {
    InputError::new(msg).into()
}

pub(super) use super::parse_duration;

/// Turn the command line into a checked config; every error names the option.
fn config_from_args(args: &LoadArgs) -> Result<LoadConfig> {
    let scenario = match &args.scenario {
        Some(path) => Some(crate::scenario::load(path).map_err(|e| input(e.to_string()))?),
        None => None,
    };
    let text = match (&args.url, scenario.as_ref().and_then(|s| s.target.as_ref())) {
        (Some(url), _) | (None, Some(url)) => url.clone(),
        (None, None) => {
            return Err(input(
                "no target: give the service's URL, or a `target` in the scenario file".into(),
            ))
        }
    };
    let url = url::Url::parse(&text).map_err(|e| {
        input(format!(
            "malformed URL `{text}` ({e}); expected e.g. http://127.0.0.1:8080/json"
        ))
    })?;
    if url.scheme() != "http" {
        return Err(input(format!(
            "unsupported scheme `{}` in `{text}`; bakeoff load speaks plain http://",
            url.scheme(),
        )));
    }
    if let Some(rate) = args.rate {
        if !(rate.is_finite() && (bakeoff_load::MIN_RATE..=bakeoff_load::MAX_RATE).contains(&rate))
        {
            return Err(input(format!(
                "--rate must be a number of requests per second from {} to {} (got {})",
                bakeoff_load::MIN_RATE,
                bakeoff_load::MAX_RATE,
                // 1e308 as typed, not its 309 digits.
                if rate.abs() < 1e12 {
                    format!("{rate}")
                } else {
                    format!("{rate:e}")
                }
            )));
        }
    }
    if args.connections == 0 || args.connections > bakeoff_load::MAX_CONNECTIONS {
        return Err(input(format!(
            "--connections must be between 1 and {} (got {})",
            bakeoff_load::MAX_CONNECTIONS,
            args.connections
        )));
    }
    if args.requests == Some(0) {
        return Err(input("--requests must be at least 1".into()));
    }
    let duration = match (&args.duration, args.requests) {
        (Some(d), _) => Some(parse_duration("--duration", d, false)?),
        // A count alone still gets a time bound, so a stalled server cannot hold the run.
        (None, Some(_)) => Some(REQUESTS_ONLY_CAP),
        (None, None) => Some(Duration::from_secs(10)),
    };
    let warmup = if args.warmup.trim().eq_ignore_ascii_case("auto") {
        Warmup::Adaptive {
            max: AUTO_WARMUP_CAP,
        }
    } else {
        Warmup::Fixed(parse_duration("--warmup", &args.warmup, true)?)
    };
    let timeout = parse_duration("--timeout", &args.timeout, false)?;
    let prime = match args.prime.as_deref() {
        None => bakeoff_load::Prime::Off,
        Some(p) if crate::contender::manifest::is_url_path(p) => {
            bakeoff_load::Prime::InTurn(RequestSpec::get(p.to_string()))
        }
        Some(p) => {
            return Err(input(format!(
                "--prime `{p}` must be a URL path starting with '/' without spaces: a cheap GET such as /health"
            )))
        }
    };
    let method = args.method.trim().to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(input(format!(
            "--method `{}` is not an HTTP method; use e.g. GET or POST",
            args.method
        )));
    }
    let mut headers = Vec::new();
    for h in &args.headers {
        let Some((name, value)) = h.split_once(':') else {
            return Err(input(format!(
                "-H `{h}` is not a header; write it as 'Name: value'"
            )));
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(input(format!("-H `{h}` has an invalid header name")));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let body = match args.body.as_deref() {
        None => bytes::Bytes::new(),
        Some(b) => match b.strip_prefix('@') {
            Some(path) => bytes::Bytes::from(
                crate::input_file::read(std::path::Path::new(path), crate::input_file::DATA_LIMIT)
                    .map_err(|e| input(format!("--body @{path}: cannot read the file ({e})")))?,
            ),
            None => bytes::Bytes::from(b.to_string()),
        },
    };
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let spec = RequestSpec {
        class: path.clone(),
        method,
        path,
        headers,
        body,
        weight: 1,
        template: None,
        expect: None,
    };
    let (requests, sessions) = match scenario {
        Some(s) => (s.requests, s.sessions),
        None => (vec![spec], Vec::new()),
    };
    Ok(LoadConfig {
        target: url,
        requests,
        sessions,
        connections: args.connections,
        rate: args.rate,
        schedule: if args.poisson {
            Schedule::Poisson
        } else {
            Schedule::Uniform
        },
        duration,
        max_requests: args.requests,
        warmup,
        timeout,
        grace: None,
        preconnect: true,
        prime,
        abandon: None,
        pin_cpu: args.pin,
        allow_remote: args.allow_remote,
        start_at: None,
        stalled_after: bakeoff_load::LATE_SEND,
    })
}

/// A spinner on stderr fed by the engine's progress (hidden when stderr is not a terminal).
fn progress_line(
    mut rx: tokio::sync::watch::Receiver<bakeoff_load::Progress>,
) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(250));
    let b = bar.clone();
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let p = rx.borrow_and_update().clone();
            let phase = if p.warming_up {
                "warming up"
            } else {
                "measuring"
            };
            b.set_message(format!(
                "{phase} {:.1}s · {:.0} req/s · {} responses · {} errors",
                p.elapsed.as_secs_f64(),
                p.current_rate,
                p.requests,
                p.errors
            ));
        }
    });
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<LoadConfig> {
        let mut argv = vec!["bakeoff", "load"];
        argv.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
        let crate::cli::Command::Load(a) = cli.command else {
            unreachable!()
        };
        config_from_args(&a)
    }

    fn is_input(r: Result<LoadConfig>) -> bool {
        r.err().is_some_and(|e| crate::exit_code(&e) == 2)
    }

    #[test]
    fn options_become_a_config() {
        let c = parse(&[
            "http://127.0.0.1:8080/q?a=1",
            "--rate",
            "100",
            "--poisson",
            "-c",
            "8",
            "--warmup",
            "auto",
            "-m",
            "post",
            "-H",
            "X-Key: v:1",
            "--body",
            "hi",
        ])
        .unwrap();
        assert_eq!(c.rate, Some(100.0));
        assert_eq!(c.schedule, Schedule::Poisson);
        assert_eq!(c.connections, 8);
        assert_eq!(c.duration, Some(Duration::from_secs(10)));
        assert!(matches!(c.warmup, Warmup::Adaptive { .. }));
        let r = &c.requests[0];
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/q?a=1");
        assert_eq!(r.headers, vec![("X-Key".to_string(), "v:1".to_string())]);
        assert_eq!(&r.body[..], b"hi");
        let c = parse(&["http://127.0.0.1:1/", "-n", "5"]).unwrap();
        assert_eq!(
            (c.duration, c.max_requests),
            (Some(REQUESTS_ONLY_CAP), Some(5))
        );
    }

    #[test]
    fn bad_values_are_input_errors() {
        assert!(is_input(parse(&["not a url"])));
        assert!(is_input(parse(&["ftp://127.0.0.1/"])));
        assert!(is_input(parse(&["http://127.0.0.1/", "--rate=0"])));
        assert!(is_input(parse(&["http://127.0.0.1/", "--rate=-3"])));
        // A huge rate is echoed as typed, not as its 301 digits.
        let e = parse(&["http://127.0.0.1/", "--rate=1e300"]).unwrap_err();
        assert!(e.to_string().ends_with("(got 1e300)"), "{e}");
        assert!(is_input(parse(&["http://127.0.0.1/", "-d", "0s"])));
        assert!(is_input(parse(&["http://127.0.0.1/", "--duration=-1s"])));
        assert!(is_input(parse(&["http://127.0.0.1/", "--timeout", "soon"])));
        assert!(is_input(parse(&["http://127.0.0.1/", "-H", "nocolon"])));
        assert!(is_input(parse(&[
            "http://127.0.0.1/",
            "--body",
            "@/nonexistent/x"
        ])));
    }
}
