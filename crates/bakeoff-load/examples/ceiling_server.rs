//! A known-ceiling HTTP server (see `bakeoff_load::testkit`): every request
//! costs a busy spin of `--service` on one thread, so the ceiling is about
//! 1/service. Prints its URL and runs until Ctrl-C, or for `--for`.
//!
//! `cargo run -p bakeoff-load --features testkit --example ceiling_server -- --service 2ms --cpu 1`

// A benchmark tool: it prints its address for the script that runs it.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use bakeoff_load::testkit::FixedServiceServer;

/// `250us`, `2ms`, `1.5s`, `60s`.
fn duration(text: &str) -> Result<Duration, String> {
    let (num, unit) = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| text.split_at(i))
        .ok_or_else(|| format!("`{text}` has no unit; write e.g. 2ms, 250us or 60s"))?;
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 2ms"))?;
    let scale = match unit {
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}`; use us, ms or s"
            ))
        }
    };
    Duration::try_from_secs_f64(value * scale).map_err(|_| format!("`{text}` is out of range"))
}

fn main() -> Result<(), String> {
    let mut service = Duration::from_millis(2);
    let mut cpu = None;
    let mut run_for = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--service" => service = duration(&value()?)?,
            "--cpu" => {
                let v = value()?;
                cpu = Some(
                    v.parse()
                        .map_err(|_| format!("--cpu `{v}` is not a CPU number"))?,
                );
            }
            "--for" => run_for = Some(duration(&value()?)?),
            other => {
                return Err(format!(
                    "unknown option `{other}`; use --service 2ms [--cpu N] [--for 60s]"
                ))
            }
        }
    }
    if service.is_zero() {
        return Err("--service must be greater than zero".into());
    }
    let srv = FixedServiceServer::start(service, cpu).map_err(|e| format!("cannot start: {e}"))?;
    println!("{}", srv.url("/"));
    eprintln!(
        "serving: {service:?} per request, ceiling ~{:.0} req/s; Ctrl-C to stop",
        1.0 / service.as_secs_f64()
    );
    match run_for {
        Some(d) => std::thread::sleep(d),
        None => loop {
            std::thread::park();
        },
    }
    eprintln!("served {} requests", srv.requests());
    Ok(())
}
