//! How steady this machine's CPU speed is: the drift probe the runner uses
//! (`bakeoff::measure::speed::core_speed`, a fixed integer loop) timed on one
//! core at a fixed interval, with nothing else of bakeoff running.
//!
//! Used by `bench/machine.sh` to bound the repeatability any benchmark can
//! reach here: when the core itself runs 10% faster or slower from one second
//! to the next, a server's capacity moves with it.
//!
//! Usage: machine_speed CPU SECONDS [INTERVAL_MS]
//! Prints one line of JSON: the readings (millions of loop iterations per
//! second), their median, range and coefficient of variation.

// A benchmark tool: it prints one JSON line for bench/machine.sh.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, what: &str| -> u64 {
        match args.get(i).map(|v| (v, v.parse::<u64>())) {
            Some((_, Ok(x))) => x,
            Some((v, Err(_))) => fail(&format!("{what} `{v}` must be a whole number")),
            None => fail(&format!("{what} is missing")),
        }
    };
    let cpu = arg(0, "CPU") as usize;
    let seconds = arg(1, "SECONDS");
    let interval = Duration::from_millis(if args.len() > 2 {
        arg(2, "INTERVAL_MS")
    } else {
        250
    });
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut readings = Vec::new();
    while Instant::now() < end {
        let next = Instant::now() + interval;
        match bakeoff::measure::speed::core_speed(Some(cpu)) {
            Ok(speed) => readings.push(speed),
            Err(e) => fail(&format!("probing CPU {cpu}: {e}")),
        }
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    if readings.len() < 2 {
        fail("too few readings: give SECONDS at least twice INTERVAL_MS");
    }
    let n = readings.len() as f64;
    let mean = readings.iter().sum::<f64>() / n;
    let sd = (readings.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let mut sorted = readings.clone();
    sorted.sort_by(f64::total_cmp);
    let json = serde_json::json!({
        "cpu": cpu,
        "readings": readings.len(),
        "median": sorted[sorted.len() / 2],
        "min": sorted[0],
        "max": sorted[sorted.len() - 1],
        "cv": sd / mean,
        "series": readings,
    });
    println!("{json}");
}

fn fail(message: &str) -> ! {
    eprintln!("machine_speed: {message}");
    eprintln!("usage: machine_speed CPU SECONDS [INTERVAL_MS]");
    std::process::exit(2);
}
