//! The text summary of a `bakeoff load` run (and of `bakeoff merge`'s merged
//! segments): the mode, the rates, each class's latencies and errors, and what
//! held the generator up. Its JSON twin is [`crate::load_doc`].

use bakeoff_load::{Histogram, LoadConfig, LoadReport, Prime, Schedule};

use crate::distributed::merge::Merged;
use crate::suite::live;

/// What the output needs of the whole test's options.
pub struct Shape {
    pub connections: u32,
    pub schedule: Schedule,
    /// The request each connection carried, one at a time, before the clock
    /// (`--prime`), as `GET /health`.
    pub primed_with: Option<String>,
}

impl Shape {
    /// The shape of `cfg`.
    pub fn of(cfg: &LoadConfig) -> Shape {
        Shape {
            connections: cfg.connections,
            schedule: cfg.schedule,
            primed_with: match &cfg.prime {
                Prime::InTurn(r) => Some(format!("{} {}", r.method, r.path)),
                Prime::Off | Prime::Together => None,
            },
        }
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn latency_line(label: &str, h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return format!("  {label:<20} no responses\n");
    }
    let p = live::percentiles(h);
    format!(
        "  {label:<20} p50 {:>8.2}  p90 {:>8.2}  p99 {:>8.2}  p99.9 {:>8.2}  max {:>8.2}  mean {:>8.2}  (ms)\n",
        p.p50, p.p90, p.p99, p.p999, p.max, p.mean
    )
}

/// `label  a: 1, b: 2`, or `none`.
fn counts_line(label: &str, items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    let text = if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    };
    format!("  {label:<20} {text}\n")
}

/// The text summary of merged segments (`bakeoff merge`, `bakeoff k8s run`):
/// the load's, and a line on the segments and their skew.
pub fn merged_summary(m: &Merged) -> String {
    let shape = Shape {
        connections: m.test.connections,
        schedule: Schedule::Uniform,
        primed_with: None,
    };
    let mut text = summary(&m.test.url, &shape, &m.report);
    text += &format!(
        "  {:<20} {} of test {} (start {}), started within {:.1} ms of each other\n",
        "segments",
        m.segments.len(),
        m.test.id,
        m.test.start_at,
        m.skew.as_secs_f64() * 1000.0
    );
    text
}

/// Failures beyond 1% of the measured requests, by kind: the figures are
/// then of a failing server. `None` when at most 1% failed.
pub fn failures(r: &LoadReport) -> Option<String> {
    let failed: u64 = r.errors.values().sum();
    let total = r.successes + failed;
    if total == 0 || (failed as f64) <= 0.01 * total as f64 {
        return None;
    }
    // Non-2xx answers are named by their codes below, not as "status: N".
    let kinds: Vec<String> = r
        .errors
        .iter()
        .filter(|(k, n)| **n > 0 && **k != bakeoff_load::ErrorKind::Status)
        .map(|(k, n)| format!("{}: {n}", k.as_str()))
        .collect();
    let statuses: Vec<String> = r
        .status
        .iter()
        .filter(|(c, _)| !(200..300).contains(*c))
        .map(|(c, n)| format!("status {c}: {n}"))
        .collect();
    let detail = [kinds, statuses].concat().join(", ");
    Some(if r.successes == 0 {
        format!("no request succeeded ({detail}): the server failed every one, so these figures are of its failures")
    } else {
        format!(
            "{:.1}% of the requests failed ({detail}): latency and throughput count the successes only",
            100.0 * failed as f64 / total as f64
        )
    })
}

/// The text summary of a `bakeoff load` (or `bakeoff merge`) run.
pub fn summary(url: &str, cfg: &Shape, r: &LoadReport) -> String {
    let mode = match (r.target_rate, cfg.schedule) {
        (Some(rate), Schedule::Poisson) => format!("open loop at {rate} req/s (Poisson)"),
        (Some(rate), Schedule::Uniform) => format!("open loop at {rate} req/s"),
        (None, _) => "closed loop".to_string(),
    };
    let primed = cfg.primed_with.as_ref().map_or(String::new(), |r| {
        format!(" (each primed in turn with {r})")
    });
    let mut s = format!(
        "bakeoff load {url}: {mode}, {} connections{primed}, {:.2}s measured after {:.1}s warm-up\n",
        cfg.connections,
        r.elapsed.as_secs_f64(),
        r.warmup.as_secs_f64()
    );
    s += &format!(
        "  {:<20} {:.1} req/s ({} 2xx of {} responses by the cutoff)\n",
        "throughput", r.achieved_rate, r.successes, r.requests
    );
    s += &latency_line("latency (corrected)", &r.latency);
    s += &latency_line("service time", &r.service);
    let status = r.status.iter().map(|(c, n)| format!("{c}: {n}"));
    s += &counts_line("status", status);
    let errors = r
        .errors
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{}: {n}", k.as_str()));
    s += &counts_line("errors", errors);
    s += &format!(
        "  {:<20} {} reconnects, {:.1} in flight on average\n",
        "connections", r.reconnects, r.mean_in_flight
    );
    if r.target_rate.is_some() {
        s += &format!(
            "  {:<20} {} late sends ({} held up by the generator), max lag {:.1} ms, {} never sent, {} unanswered at the cutoff\n",
            "schedule",
            r.late_sends,
            r.late_stalled,
            r.max_send_lag.as_secs_f64() * 1000.0,
            r.unsent,
            r.outstanding
        );
        if let Some(t) = &r.trend {
            let thirds: Vec<String> = t
                .thirds
                .iter()
                .map(|x| {
                    format!(
                        "p90 {:.2} ms, {:.1} in flight",
                        ms(x.p90_us),
                        x.mean_in_flight
                    )
                })
                .collect();
            s += &format!("  {:<20} {}\n", "trend (thirds)", thirds.join(" | "));
        }
    }
    let share = 100.0 * r.generator_cpu_share();
    let core = r
        .generator_core_busy
        .map(|c| format!("; its core busy {:.0}%", c * 100.0))
        .unwrap_or_default();
    s += &format!(
        "  {:<20} {:.2} CPU-s ({share:.0}% of a core{core})\n",
        "generator", r.generator_cpu_s
    );
    if let Some(machine) = r.steal {
        // The worst half second beside the average, which hides a burst.
        let burst = r
            .steal_bursts
            .iter()
            .enumerate()
            .max_by_key(|(_, d)| **d)
            .filter(|(_, d)| !d.is_zero())
            .map(|(cpu, d)| {
                format!(
                    "; at most {} ms of cpu {cpu}'s time within {} s",
                    d.as_millis(),
                    bakeoff_load::bursts::SPAN.as_secs_f64()
                )
            })
            .unwrap_or_default();
        s += &format!(
            "  {:<20} {:.1}% of the machine's CPU time taken by the hypervisor{burst}\n",
            "steal",
            machine * 100.0
        );
    }
    if r.classes.len() > 1 {
        s += "  per class:\n";
        for (name, c) in &r.classes {
            let errors: Vec<String> = c
                .errors
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{}: {n}", k.as_str()))
                .collect();
            s += &format!(
                "    {name}: {} answers, {} ok{}\n",
                c.requests,
                c.successes,
                if errors.is_empty() {
                    String::new()
                } else {
                    format!(", errors {}", errors.join(", "))
                }
            );
            s += &latency_line("  latency (corrected)", &c.latency);
        }
    }
    for example in &r.expectation_examples {
        s += &format!("  missed: {example}\n");
    }
    s += &format!("  {:<20} {}\n", "valid", if r.valid { "yes" } else { "NO" });
    for w in r.warnings.iter().cloned().chain(failures(r)) {
        s += &format!("  warning: {w}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::suite::live::tests::empty_report;

    /// The steal line: the machine's average, and the worst half second of
    /// any CPU beside it (the burst the average hides); none where the kernel
    /// reports no steal.
    #[test]
    fn the_summary_gives_the_steal_and_its_worst_half_second() {
        let shape = Shape {
            connections: 4,
            schedule: Schedule::Uniform,
            primed_with: None,
        };
        let r = LoadReport {
            steal: Some(0.004),
            steal_bursts: vec![Duration::from_millis(10), Duration::from_millis(60)],
            ..empty_report()
        };
        let text = summary("http://x/", &shape, &r);
        assert!(
            text.contains("steal                0.4% of the machine's CPU time taken by the hypervisor; at most 60 ms of cpu 1's time within 0.5 s\n"),
            "{text}"
        );
        let quiet = LoadReport {
            steal_bursts: vec![Duration::ZERO; 2],
            ..r.clone()
        };
        let text = summary("http://x/", &shape, &quiet);
        assert!(text.contains("taken by the hypervisor\n"), "{text}");
        let text = summary("http://x/", &shape, &empty_report());
        assert!(!text.contains("steal"), "{text}");
    }
}
