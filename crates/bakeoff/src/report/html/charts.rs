//! The report's charts, built from a [`Run`]: capacity, latency spectra, cost,
//! scalability, fan-out, and each cell's capacity search and timeline. Each
//! function returns one SVG string named by its `data-chart` value.

use std::collections::BTreeMap;

use crate::model::{Cell, Interval, Language, Run, StepVerdict};
use crate::report::summary::{self, Kind, WorkloadSummary};
use crate::report::table::{fmt_bytes, fmt_ms, fmt_rate};
use crate::workload::Workload;

use super::svg::{self, Axis, Bar, BarGroup, Look, Marker, Scale, Series, Size};

/// Each contender's look: hue by language, rank within the language for the rest.
pub fn looks(run: &Run) -> BTreeMap<String, Look> {
    let mut names: Vec<&str> = run.contenders.iter().map(|c| c.name.as_str()).collect();
    for c in &run.cells {
        if !names.contains(&c.contender.as_str()) {
            names.push(&c.contender);
        }
    }
    let mut rank: BTreeMap<&Language, usize> = BTreeMap::new();
    names
        .into_iter()
        .map(|name| {
            let lang = summary::language_of(run, name);
            let r = rank.entry(lang).or_insert(0);
            let look = Look::new(lang, *r);
            *r += 1;
            (name.to_string(), look)
        })
        .collect()
}

fn look_of(looks: &BTreeMap<String, Look>, name: &str) -> Look {
    looks
        .get(name)
        .cloned()
        .unwrap_or_else(|| Look::new(&Language::default(), 0))
}

/// The measured cells of a summary's workload on its database.
fn ok_cells<'a>(run: &'a Run, s: &'a WorkloadSummary<'_>) -> impl Iterator<Item = &'a Cell> + 'a {
    let (workload, database) = (s.workload, s.database);
    run.cells
        .iter()
        .filter(move |c| c.workload == *workload && c.database == database && c.status.is_ok())
}

/// Capacity (or time to healthy) per contender, grouped by worker count, with CI error bars.
pub fn capacity(
    run: &Run,
    s: &WorkloadSummary<'_>,
    looks: &BTreeMap<String, Look>,
) -> Option<String> {
    let (metric, unit) = s.kind.metric();
    let fmt = if s.kind == Kind::Startup {
        fmt_ms
    } else {
        fmt_rate
    };
    let mut workers: Vec<u32> = ok_cells(run, s).map(|c| c.workers).collect();
    workers.sort_unstable();
    workers.dedup();
    let groups: Vec<BarGroup> = workers
        .iter()
        .map(|&w| BarGroup {
            label: if workers.len() > 1 {
                format!("{w} worker{}", if w == 1 { "" } else { "s" })
            } else {
                String::new()
            },
            bars: summary::contenders_of(run, s.workload)
                .into_iter()
                .filter_map(|name| {
                    let cell = ok_cells(run, s).find(|c| c.contender == name && c.workers == w)?;
                    let e = summary::headline_estimate(cell)?;
                    Some(Bar {
                        label: name.to_string(),
                        value: e.center(),
                        // One trial has no interval to draw.
                        interval: (!e.is_single()).then_some((e.ci_low, e.ci_high)),
                        look: look_of(looks, name),
                        value_text: match e.interval {
                            Interval::Single => {
                                format!("{} {unit} (1 trial, indicative)", fmt(e.center()))
                            }
                            _ => format!("{} {unit}", fmt(e.center())),
                        },
                    })
                })
                .collect(),
        })
        .filter(|g| !g.bars.is_empty())
        .collect();
    if groups.is_empty() {
        return None;
    }
    // The whiskers' meaning is the paragraph's above the charts.
    let title = format!("{}: {metric} over trials", s.label);
    Some(svg::bar_chart(
        &format!("capacity-{}", s.slug()),
        &title,
        &format!("{metric} ({unit})"),
        &groups,
    ))
}

/// The latency percentile spectrum at equal load, corrected or service time.
pub fn spectrum(
    s: &WorkloadSummary<'_>,
    looks: &BTreeMap<String, Look>,
    service: bool,
) -> Option<String> {
    let mut series = Vec::new();
    let mut rate = None;
    for row in &s.rows {
        let Some(el) = row.cell.equal_load.as_ref() else {
            continue;
        };
        rate = rate.or(Some(el.target_rps));
        let pts = if service {
            &el.service_spectrum
        } else {
            &el.spectrum
        };
        series.push(Series {
            name: row.cell.contender.clone(),
            look: look_of(looks, &row.cell.contender),
            points: pts.iter().map(|p| (p[0], p[1])).collect(),
            line: true,
            markers: None,
        });
    }
    let rate = rate?;
    let values = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let top_q = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(0.9999, f64::max);
    let (kind, chart) = if service {
        ("service time (from the actual send)", "service")
    } else {
        ("corrected latency (from the intended send)", "spectrum")
    };
    Some(svg::line_chart(
        &format!("{chart}-{}", s.slug()),
        &format!("{}: {kind} at {} req/s", s.label, fmt_rate(rate)),
        &Axis {
            label: "percentile".into(),
            scale: Scale::Nines {
                max_nines: -(1.0 - top_q.min(0.99999)).log10(),
            },
            fmt: percentile_label,
        },
        &Axis {
            label: "latency (ms, log)".into(),
            scale: Scale::log_around(lo, hi),
            fmt: svg::short_number,
        },
        &series,
        Size::Wide,
    ))
}

/// A bar chart of one per-cell cost figure, grouped by workload.
fn cost(
    run: &Run,
    looks: &BTreeMap<String, Look>,
    chart: &str,
    title: &str,
    x_label: &str,
    value: impl Fn(&Cell) -> Option<f64>,
    text: fn(f64) -> String,
) -> Option<String> {
    let groups: Vec<BarGroup> = summary::summarize(run)
        .iter()
        .map(|s| BarGroup {
            label: s.label.clone(),
            bars: s
                .rows
                .iter()
                .filter_map(|r| {
                    let v = value(r.cell)?;
                    Some(Bar {
                        label: r.cell.contender.clone(),
                        value: v,
                        interval: None,
                        look: look_of(looks, &r.cell.contender),
                        value_text: text(v),
                    })
                })
                .collect(),
        })
        .filter(|g| !g.bars.is_empty())
        .collect();
    (!groups.is_empty()).then(|| svg::bar_chart(chart, title, x_label, &groups))
}

/// CPU-ms per request (average, and marginal where measured), peak RSS, and
/// memory per WebSocket connection.
pub fn costs(run: &Run, looks: &BTreeMap<String, Look>) -> Vec<String> {
    let mib = |b: f64| b / (1024.0 * 1024.0);
    [
        cost(
            run,
            looks,
            "cost-cpu",
            "CPU time per request at equal load (average, idle CPU included)",
            "CPU ms per request",
            |c| c.equal_load.as_ref().and_then(|e| e.cpu_ms_per_request),
            |v| format!("{} ms", fmt_ms(v)),
        ),
        cost(
            run,
            looks,
            "cost-cpu-marginal",
            "Marginal CPU time per request at equal load (idle CPU subtracted)",
            "marginal CPU ms per request",
            |c| {
                c.equal_load
                    .as_ref()
                    .and_then(|e| e.marginal_cpu_ms_per_request)
            },
            |v| format!("{} ms", fmt_ms(v)),
        ),
        cost(
            run,
            looks,
            "cost-rss",
            "Peak resident memory at equal load",
            "peak RSS (MiB)",
            |c| {
                c.equal_load
                    .as_ref()
                    .and_then(|e| e.rss_peak_bytes)
                    .map(|b| mib(b as f64))
            },
            |v| fmt_bytes(v * 1024.0 * 1024.0),
        ),
        cost(
            run,
            looks,
            "cost-ws-memory",
            "Memory per WebSocket connection",
            "bytes per connection (KiB)",
            |c| summary::ws_bytes_per_connection(c).map(|b| b / 1024.0),
            |v| fmt_bytes(v * 1024.0),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Capacity against worker count, one line per contender (only with a sweep).
pub fn scaling(
    run: &Run,
    s: &WorkloadSummary<'_>,
    looks: &BTreeMap<String, Look>,
) -> Option<String> {
    let series: Vec<Series> = summary::contenders_of(run, s.workload)
        .into_iter()
        .map(|name| {
            let mut points: Vec<(f64, f64)> = ok_cells(run, s)
                .filter(|c| c.contender == name)
                .filter_map(|c| Some((f64::from(c.workers), c.capacity?.center())))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                name: name.to_string(),
                look: look_of(looks, name),
                points,
                line: true,
                markers: None,
            }
        })
        .filter(|s| s.points.len() > 1)
        .collect();
    if series.is_empty() {
        return None;
    }
    let (max_w, max_c) = top(&series);
    let unit = s.kind.metric().1;
    Some(svg::line_chart(
        &format!("scaling-{}", s.slug()),
        &format!("{}: capacity against workers", s.label),
        &Axis {
            label: "workers".into(),
            scale: Scale::linear_from_zero(max_w),
            fmt: svg::whole_number,
        },
        &Axis {
            label: format!("capacity ({unit})"),
            scale: Scale::linear_from_zero(max_c),
            fmt: svg::short_number,
        },
        &series,
        Size::Wide,
    ))
}

/// The largest x (at least 1) and y (at least 0) of the series' points: the
/// line charts' axes start at zero.
fn top(series: &[Series]) -> (f64, f64) {
    let points = || series.iter().flat_map(|s| s.points.iter());
    (
        points().map(|p| p.0).fold(1.0, f64::max),
        points().map(|p| p.1).fold(0.0, f64::max),
    )
}

/// Fan-out p99 against connected clients for a `ws` workload.
pub fn fanout(s: &WorkloadSummary<'_>, looks: &BTreeMap<String, Look>) -> Option<String> {
    let series: Vec<Series> = s
        .rows
        .iter()
        .filter(|r| !r.cell.ws.is_empty())
        .map(|r| Series {
            name: r.cell.contender.clone(),
            look: look_of(looks, &r.cell.contender),
            points: r
                .cell
                .ws
                .iter()
                .map(|p| (f64::from(p.clients), p.p99_ms))
                .collect(),
            line: true,
            markers: None,
        })
        .collect();
    if series.is_empty() {
        return None;
    }
    let (max_x, max_y) = top(&series);
    Some(svg::line_chart(
        &format!("fanout-{}", s.slug()),
        &format!("{}: broadcast p99 against connected clients", s.label),
        &Axis {
            label: "connected clients".into(),
            scale: Scale::linear_from_zero(max_x),
            fmt: svg::short_number,
        },
        &Axis {
            label: "delivery p99 (ms)".into(),
            scale: Scale::linear_from_zero(max_y),
            fmt: svg::short_number,
        },
        &series,
        Size::Wide,
    ))
}

/// The `data-chart` suffix naming a cell.
pub fn cell_key(cell: &Cell) -> String {
    match cell.database {
        Some(d) => format!("{}-{}-{d}-w{}", cell.contender, cell.workload, cell.workers),
        None => format!("{}-{}-w{}", cell.contender, cell.workload, cell.workers),
    }
}

/// Each trial's capacity search: target rate per step; circle = met the SLO,
/// cross = missed, diamond = not judged (the machine stalled the generator, or it
/// could not send the rate).
pub fn search(cell: &Cell) -> Option<String> {
    let series: Vec<Series> = cell
        .trials
        .iter()
        .filter(|t| !t.steps.is_empty())
        .map(|t| Series {
            name: format!("trial {}", t.index + 1),
            look: Look::new(&Language::default(), t.index as usize),
            points: t
                .steps
                .iter()
                .map(|s| (f64::from(s.index), s.target_rps))
                .collect(),
            line: true,
            markers: Some(
                t.steps
                    .iter()
                    .map(|s| match s.verdict {
                        StepVerdict::Pass => Marker::Circle,
                        StepVerdict::Fail => Marker::Cross,
                        StepVerdict::Stalled | StepVerdict::GeneratorLimited => Marker::Diamond,
                    })
                    .collect(),
            ),
        })
        .collect();
    if series.is_empty() {
        return None;
    }
    let (max_x, max_y) = top(&series);
    Some(svg::line_chart(
        &format!("search-{}", cell_key(cell)),
        // Its markers' legend is the section's paragraph: a small chart's
        // title has room for a few words.
        "capacity search",
        &Axis {
            label: "step".into(),
            scale: Scale::linear_from_zero(max_x),
            fmt: svg::whole_number,
        },
        &Axis {
            label: format!("target rate ({})", cell.workload.rate_unit()),
            scale: Scale::linear_from_zero(max_y),
            fmt: svg::short_number,
        },
        &series,
        Size::Small,
    ))
}

/// Throughput and p99 per second during the equal-load window: two small charts.
pub fn timeline(cell: &Cell, looks: &BTreeMap<String, Look>) -> Vec<String> {
    let Some(el) = cell.equal_load.as_ref().filter(|e| !e.timeline.is_empty()) else {
        return Vec::new();
    };
    let look = look_of(looks, &cell.contender);
    let max_s = el
        .timeline
        .iter()
        .map(|p| f64::from(p.second))
        .fold(1.0, f64::max);
    let one =
        |chart: &str, title: &str, label: &str, y: fn(&crate::model::TimelinePoint) -> f64| {
            let points: Vec<(f64, f64)> = el
                .timeline
                .iter()
                .map(|p| (f64::from(p.second), y(p)))
                .collect();
            let max_y = points.iter().map(|p| p.1).fold(0.0, f64::max);
            svg::line_chart(
                &format!("{chart}-{}", cell_key(cell)),
                title,
                &Axis {
                    label: "second".into(),
                    scale: Scale::linear_from_zero(max_s),
                    fmt: svg::whole_number,
                },
                &Axis {
                    label: label.into(),
                    scale: Scale::linear_from_zero(max_y),
                    fmt: svg::short_number,
                },
                &[Series {
                    name: cell.contender.clone(),
                    look: look.clone(),
                    points,
                    line: true,
                    markers: None,
                }],
                Size::Small,
            )
        };
    vec![
        one(
            "timeline-rps",
            &format!("throughput at {} req/s target", fmt_rate(el.target_rps)),
            "req/s",
            |p| p.rps,
        ),
        one("timeline-p99", "p99 per second", "p99 (ms)", |p| p.p99_ms),
    ]
}

/// "p99.9" for 0.999.
fn percentile_label(q: f64) -> String {
    let s = format!("{:.3}", q * 100.0);
    format!("p{}", s.trim_end_matches('0').trim_end_matches('.'))
}

/// One workload's contenders across runtime versions: a group per base contender,
/// a bar per version (oldest first), with the interval as whiskers.
pub fn runtime_versions(
    rv: &crate::report::runtimes::RuntimeVersions,
    workload: &Workload,
) -> Option<String> {
    let mut unit = "";
    let mut metric = "";
    let groups: Vec<BarGroup> = rv
        .groups
        .iter()
        .filter(|g| g.workload == *workload)
        .map(|g| {
            unit = &g.unit;
            metric = &g.metric;
            let fmt = if g.unit == "ms" { fmt_ms } else { fmt_rate };
            BarGroup {
                label: g.contender.clone(),
                bars: g
                    .versions
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let e = v.estimate?;
                        let ratio = match &v.ratio_to_oldest {
                            Some(r) => format!(" ({:.2}x)", r.value),
                            None => String::new(),
                        };
                        Some(Bar {
                            label: v.runtime.clone(),
                            value: e.center(),
                            interval: (!e.is_single()).then_some((e.ci_low, e.ci_high)),
                            look: Look::new(&g.language, i),
                            value_text: format!("{} {}{ratio}", fmt(e.center()), g.unit),
                        })
                    })
                    .collect(),
            }
        })
        .filter(|g| !g.bars.is_empty())
        .collect();
    if groups.is_empty() {
        return None;
    }
    Some(svg::bar_chart(
        &format!("runtimes-{workload}"),
        &format!("{workload}: {metric} per runtime version"),
        &format!("{metric} ({unit})"),
        &groups,
    ))
}
