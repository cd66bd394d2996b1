//! What the WebSocket fan-out reader costs: drives `ws://…` at a message rate
//! with N clients (as `bakeoff run`'s ws search does) and prints one JSON line
//! with the deliveries (per second too), the generator's CPU per measured
//! delivery (its warm-up and close included) and the p99. bench/ws.sh runs it against a contender pinned to the other CPU.
//!
//! `cargo run --release -p bakeoff-load --example ws_cost -- ws://127.0.0.1:3000/ws 1000 100 5 0`
//! (URL, messages/s, clients, seconds, generator CPU)

// A benchmark tool: it prints its figures for the script that runs it.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use bakeoff_load::ws::{run, WsConfig};
use tokio_util::sync::CancellationToken;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, rate, clients, secs, cpu] = args.as_slice() else {
        return Err("usage: ws_cost URL RATE CLIENTS SECONDS CPU".into());
    };
    let cfg = WsConfig {
        clients: clients.parse()?,
        rate: rate.parse()?,
        duration: Duration::from_secs_f64(secs.parse()?),
        warmup: Duration::from_secs(1),
        pin_cpu: Some(cpu.parse()?),
        ..WsConfig::new(url.parse()?)
    };
    let measured = cfg.duration.as_secs_f64();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let r = rt.block_on(run(cfg, CancellationToken::new()))?;
    let per_s = r.deliveries as f64 / measured;
    println!(
        "{{\"deliveries\":{},\"deliveries_per_s\":{per_s:.0},\"missing\":{},\"generator_cpu_s\":{:.3},\"cpu_us_per_delivery\":{:.3},\"p99_ms\":{:.2},\"valid\":{},\"warnings\":{:?}}}",
        r.deliveries,
        r.missing,
        r.generator_cpu_s,
        r.generator_cpu_s * 1e6 / r.deliveries.max(1) as f64,
        r.latency.value_at_quantile(0.99) as f64 / 1e3,
        r.valid,
        r.warnings,
    );
    Ok(())
}
