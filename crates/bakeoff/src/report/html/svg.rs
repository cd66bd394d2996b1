//! Hand-drawn SVG charts: horizontal grouped bars with error bars, and line
//! charts on linear, log or "nines" axes. Every chart carries `data-chart`
//! and every data mark `class="mark"`, so a browser test can count them.
//! All text is escaped here.
//!
//! Hand-written rather than plotters: we need attributes on the root and on
//! each data mark, `<title>` tooltips, and control over escaping.

use std::fmt::Write as _;

use super::esc;
use crate::model::Language;

/// How a contender is drawn: hue by language, lightness, dash and marker by
/// its rank within the language, so charts still read in greyscale.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    pub color: &'static str,
    /// SVG `stroke-dasharray`, empty for solid.
    pub dash: &'static str,
    pub marker: Marker,
    /// Python bars are hatched and its markers hollow, Node's solid.
    pub hatched: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

const NODE: [&str; 4] = ["#7a3300", "#d9730d", "#a0522d", "#f2b366"];
const PYTHON: [&str; 4] = ["#0b3d91", "#4a86d8", "#27548f", "#9cc3f5"];
const OTHER: [&str; 4] = ["#333333", "#777777", "#555555", "#aaaaaa"];
const DASH_SOLID: [&str; 4] = ["", "10 3", "10 3 2 3", "2 2"];
const DASH_PY: [&str; 4] = ["6 4", "2 3", "8 3 2 3 2 3", "12 4"];
const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
];

impl Look {
    /// The look of the `rank`-th contender of `language`.
    pub fn new(language: &Language, rank: usize) -> Look {
        let i = rank % 4;
        let (palette, dashes, hatched) = match language {
            Language::Node => (NODE, DASH_SOLID, false),
            Language::Python => (PYTHON, DASH_PY, true),
            Language::Other(_) => (OTHER, DASH_SOLID, false),
        };
        Look {
            color: palette[i],
            dash: dashes[i],
            marker: MARKERS[i],
            hatched,
        }
    }
}

/// Axis scales. `Nines` maps a quantile q to -log10(1-q): p50, p90, p99… evenly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear { min: f64, max: f64 },
    Log { min: f64, max: f64 },
    Nines { max_nines: f64 },
}

impl Scale {
    /// A linear scale from 0 to a round number above `max`.
    pub fn linear_from_zero(max: f64) -> Scale {
        let max = if max > 0.0 && max.is_finite() {
            max
        } else {
            1.0
        };
        let step = nice_step(max / 5.0);
        Scale::Linear {
            min: 0.0,
            max: (max / step).ceil() * step,
        }
    }

    /// A log scale covering whole decades around the data.
    pub fn log_around(min: f64, max: f64) -> Scale {
        let min = if min > 0.0 && min.is_finite() {
            min
        } else {
            0.1
        };
        let max = if max > min && max.is_finite() {
            max
        } else {
            min * 10.0
        };
        Scale::Log {
            min: 10f64.powf(min.log10().floor()),
            max: 10f64.powf(max.log10().ceil()),
        }
    }

    fn norm(&self, v: f64) -> f64 {
        let t = match *self {
            Scale::Linear { min, max } => (v - min) / (max - min),
            Scale::Log { min, max } => {
                (v.max(min * 1e-3).log10() - min.log10()) / (max.log10() - min.log10())
            }
            Scale::Nines { max_nines } => (nines(v) - nines(0.5)) / (max_nines - nines(0.5)),
        };
        if t.is_finite() {
            t
        } else {
            0.0
        }
    }

    fn ticks(&self, fmt: fn(f64) -> String) -> Vec<(f64, String)> {
        match *self {
            Scale::Linear { min, max } => {
                let step = nice_step((max - min) / 5.0);
                let mut out = Vec::new();
                let mut v = (min / step).ceil() * step;
                while v <= max + step * 1e-9 {
                    out.push((v, fmt(v)));
                    v += step;
                }
                out
            }
            Scale::Log { min, max } => {
                let (lo, hi) = (min.log10().round() as i32, max.log10().round() as i32);
                (lo..=hi)
                    .map(|e| (10f64.powi(e), fmt(10f64.powi(e))))
                    .collect()
            }
            Scale::Nines { max_nines } => [
                (0.5, "p50"),
                (0.9, "p90"),
                (0.99, "p99"),
                (0.999, "p99.9"),
                (0.9999, "p99.99"),
                (0.99999, "p99.999"),
            ]
            .into_iter()
            .filter(|(q, _)| nines(*q) <= max_nines + 1e-9)
            .map(|(q, l)| (q, l.to_string()))
            .collect(),
        }
    }
}

fn nines(q: f64) -> f64 {
    -(1.0 - q.min(0.999_999_9)).log10()
}

fn nice_step(raw: f64) -> f64 {
    if !(raw > 0.0 && raw.is_finite()) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick labels: short numbers (1.5k, 20, 0.5).
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}").replace(".0", "")
    } else {
        format!("{v:.2}")
    };
    s.replace(".0k", "k").replace(".0M", "M")
}

/// Tick labels for counts (workers, steps, seconds): whole numbers only.
pub fn whole_number(v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

/// Unique, attribute-safe id fragment from a chart name.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Error bar (confidence interval), if known.
    pub interval: Option<(f64, f64)>,
    pub look: Look,
    /// Shown after the bar, e.g. "9,000 req/s".
    pub value_text: String,
}

pub struct BarGroup {
    pub label: String,
    pub bars: Vec<Bar>,
}

/// About how wide `s` sets in the charts' 12 px type, in px.
fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * 7.0
}

/// Horizontal grouped bars, one row per bar, labelled on the left.
pub fn bar_chart(chart: &str, title: &str, x_label: &str, groups: &[BarGroup]) -> String {
    const LEFT: f64 = 170.0;
    const PLOT: f64 = 400.0;
    const ROW: f64 = 22.0;
    const TOP: f64 = 34.0;
    // Room after the plot for the longest value ("86,672 req/s (1 trial,
    // indicative)") and across for the title, at ~7 px a glyph of 12–13 px
    // type, so neither is cut off at the chart's edge.
    let right = groups
        .iter()
        .flat_map(|g| &g.bars)
        .map(|b| text_width(&b.value_text) + 12.0)
        .fold(110.0, f64::max);
    let w = (LEFT + PLOT + right).max(text_width(title) * 1.1 + 16.0);
    let max = groups
        .iter()
        .flat_map(|g| &g.bars)
        .map(|b| b.interval.map_or(b.value, |(_, hi)| hi.max(b.value)))
        .fold(0.0, f64::max);
    let scale = Scale::linear_from_zero(max);
    let plot_w = PLOT;
    let x = |v: f64| LEFT + scale.norm(v) * plot_w;
    let show_groups = groups.len() > 1 || groups.first().is_some_and(|g| !g.label.is_empty());
    let mut body = String::new();
    let mut defs = String::new();
    let mut y = TOP;
    let mut pattern = 0;
    for g in groups {
        if show_groups {
            y += 4.0;
            let _ = write!(
                body,
                r#"<text class="group" x="8" y="{:.1}">{}</text>"#,
                y + 11.0,
                esc(&g.label)
            );
            y += ROW - 4.0;
        }
        for b in &g.bars {
            let fill = if b.look.hatched {
                pattern += 1;
                let id = format!("hatch-{}-{pattern}", slug(chart));
                let _ = write!(
                    defs,
                    r##"<pattern id="{id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="{c}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2.5"/></pattern>"##,
                    c = b.look.color
                );
                format!("url(#{id})")
            } else {
                b.look.color.to_string()
            };
            let cy = y + ROW / 2.0;
            let _ = write!(
                body,
                r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                cy + 4.0,
                esc(&b.label)
            );
            let _ = write!(
                body,
                r#"<rect class="mark" x="{LEFT:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="{c}"><title>{}: {}</title></rect>"#,
                y + 3.0,
                (x(b.value) - LEFT).max(0.5),
                ROW - 6.0,
                esc(&b.label),
                esc(&b.value_text),
                c = b.look.color
            );
            let mut end = x(b.value);
            if let Some((lo, hi)) = b.interval {
                let (x1, x2) = (x(lo), x(hi));
                end = end.max(x2);
                let _ = write!(
                    body,
                    r##"<g class="errorbar" stroke="#000" stroke-width="1.3"><line x1="{x1:.1}" y1="{cy:.1}" x2="{x2:.1}" y2="{cy:.1}"/><line x1="{x1:.1}" y1="{:.1}" x2="{x1:.1}" y2="{:.1}"/><line x1="{x2:.1}" y1="{:.1}" x2="{x2:.1}" y2="{:.1}"/></g>"##,
                    cy - 5.0,
                    cy + 5.0,
                    cy - 5.0,
                    cy + 5.0
                );
            }
            let _ = write!(
                body,
                r#"<text class="value" x="{:.1}" y="{:.1}">{}</text>"#,
                end + 5.0,
                cy + 4.0,
                esc(&b.value_text)
            );
            y += ROW;
        }
    }
    let plot_bottom = y + 4.0;
    let mut axis = String::new();
    for (v, label) in scale.ticks(short_number) {
        let tx = x(v);
        let _ = write!(
            axis,
            r#"<line class="grid" x1="{tx:.1}" y1="{TOP:.1}" x2="{tx:.1}" y2="{plot_bottom:.1}"/><text class="tick" x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            plot_bottom + 14.0,
            esc(&label)
        );
    }
    let h = plot_bottom + 40.0;
    format!(
        r#"<svg class="chart" data-chart="{chart}" role="img" aria-label="{t}" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}"><defs>{defs}</defs><text class="title" x="8" y="18">{t}</text>{axis}<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{plot_bottom:.1}"/>{body}<text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{xl}</text></svg>"#,
        LEFT + plot_w / 2.0,
        h - 8.0,
        chart = esc(chart),
        t = esc(title),
        xl = esc(x_label),
    )
}

pub struct Series {
    pub name: String,
    pub look: Look,
    pub points: Vec<(f64, f64)>,
    /// Draw the connecting line (else markers only).
    pub line: bool,
    /// Override the look's marker per point (e.g. pass/fail), same length as points.
    pub markers: Option<Vec<Marker>>,
}

pub struct Axis {
    pub label: String,
    pub scale: Scale,
    pub fmt: fn(f64) -> String,
}

/// Chart size: full-width with a legend, or a small multiple without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Wide,
    Small,
}

/// A line chart with markers at every data point.
pub fn line_chart(
    chart: &str,
    title: &str,
    x_axis: &Axis,
    y_axis: &Axis,
    series: &[Series],
    size: Size,
) -> String {
    let (w, h, right) = match size {
        Size::Wide => (680.0, 320.0, 170.0),
        Size::Small => (340.0, 210.0, 12.0),
    };
    let (left, top, bottom) = (58.0, 30.0, 44.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let px = |v: f64| left + x_axis.scale.norm(v).clamp(-0.02, 1.02) * pw;
    let py = |v: f64| top + ph - y_axis.scale.norm(v).clamp(-0.02, 1.02) * ph;
    let mut out = String::new();
    for (v, label) in x_axis.scale.ticks(x_axis.fmt) {
        let tx = px(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{tx:.1}" y1="{top}" x2="{tx:.1}" y2="{:.1}"/><text class="tick" x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            top + ph,
            top + ph + 14.0,
            esc(&label)
        );
    }
    for (v, label) in y_axis.scale.ticks(y_axis.fmt) {
        let ty = py(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{left}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            left + pw,
            left - 5.0,
            ty + 4.0,
            esc(&label)
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{b:.1}"/><line class="axis" x1="{left}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}"/>"#,
        b = top + ph,
        r = left + pw
    );
    for (i, s) in series.iter().enumerate() {
        // (index into the data, pixel x, pixel y) of the drawable points.
        let pts: Vec<(usize, f64, f64)> = s
            .points
            .iter()
            .enumerate()
            .filter(|(_, (a, b))| a.is_finite() && b.is_finite())
            .map(|(j, &(a, b))| (j, px(a), py(b)))
            .collect();
        if s.line && pts.len() > 1 {
            let path: Vec<String> = pts
                .iter()
                .map(|(_, a, b)| format!("{a:.1},{b:.1}"))
                .collect();
            let _ = write!(
                out,
                r#"<polyline class="series" points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>"#,
                path.join(" "),
                s.look.color,
                s.look.dash
            );
        }
        for &(j, a, b) in &pts {
            let marker = s
                .markers
                .as_ref()
                .and_then(|m| m.get(j).copied())
                .unwrap_or(s.look.marker);
            let (dx, dy) = s.points[j];
            let tip = format!("{}: {}, {}", s.name, (x_axis.fmt)(dx), (y_axis.fmt)(dy));
            out.push_str(&marker_svg(marker, a, b, &s.look, &tip));
        }
        if size == Size::Wide {
            let ly = top + 6.0 + i as f64 * 18.0;
            let lx = left + pw + 14.0;
            let _ = write!(
                out,
                r#"<g class="legend"><line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>{}<text x="{:.1}" y="{:.1}">{}</text></g>"#,
                lx + 28.0,
                s.look.color,
                s.look.dash,
                marker_shape(s.look.marker, lx + 14.0, ly, &s.look),
                lx + 34.0,
                ly + 4.0,
                esc(&s.name)
            );
        }
    }
    format!(
        r#"<svg class="chart" data-chart="{c}" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><text class="title" x="8" y="18">{t}</text>{out}<text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{xl}</text><text class="axis-label" transform="translate(13 {:.1}) rotate(-90)" text-anchor="middle">{yl}</text></svg>"#,
        left + pw / 2.0,
        h - 8.0,
        top + ph / 2.0,
        c = esc(chart),
        t = esc(title),
        xl = esc(&x_axis.label),
        yl = esc(&y_axis.label),
    )
}

fn marker_svg(marker: Marker, x: f64, y: f64, look: &Look, tip: &str) -> String {
    let shape = marker_shape(marker, x, y, look);
    // The class goes on a group so every shape counts once, with its tooltip.
    format!(r#"<g class="mark">{shape}<title>{}</title></g>"#, esc(tip))
}

fn marker_shape(marker: Marker, x: f64, y: f64, look: &Look) -> String {
    let fill = if look.hatched { "#fff" } else { look.color };
    let c = look.color;
    let r = 4.0;
    match marker {
        Marker::Circle => format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{fill}" stroke="{c}" stroke-width="1.6"/>"#
        ),
        Marker::Square => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="{c}" stroke-width="1.6"/>"#,
            x - r,
            y - r,
            2.0 * r,
            2.0 * r
        ),
        Marker::Triangle => format!(
            r#"<polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="{fill}" stroke="{c}" stroke-width="1.6"/>"#,
            x,
            y - r - 1.0,
            x - r - 1.0,
            y + r,
            x + r + 1.0,
            y + r
        ),
        Marker::Diamond => format!(
            r#"<polygon points="{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" fill="{fill}" stroke="{c}" stroke-width="1.6"/>"#,
            y - r - 1.0,
            x + r + 1.0,
            y + r + 1.0,
            x - r - 1.0
        ),
        Marker::Cross => format!(
            r#"<path d="M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}" stroke="{c}" stroke-width="2"/>"#,
            x - r,
            y - r,
            x + r,
            y + r,
            x - r,
            y + r,
            x + r,
            y - r
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_to_unit_interval() {
        let lin = Scale::linear_from_zero(9.3);
        assert_eq!(
            lin,
            Scale::Linear {
                min: 0.0,
                max: 10.0
            }
        );
        assert!((lin.norm(5.0) - 0.5).abs() < 1e-9);
        let log = Scale::log_around(0.7, 350.0);
        assert_eq!(
            log,
            Scale::Log {
                min: 0.1,
                max: 1000.0
            }
        );
        assert!((log.norm(10.0) - 0.5).abs() < 1e-9);
        let n = Scale::Nines { max_nines: 4.0 };
        assert!(n.norm(0.5).abs() < 1e-9);
        assert!((n.norm(0.9999) - 1.0).abs() < 1e-6);
        let labels: Vec<String> = n.ticks(short_number).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["p50", "p90", "p99", "p99.9", "p99.99"]);
    }

    #[test]
    fn looks_differ_within_and_across_languages() {
        let looks = [
            Look::new(&Language::Node, 0),
            Look::new(&Language::Node, 1),
            Look::new(&Language::Python, 0),
            Look::new(&Language::Python, 1),
        ];
        for (i, a) in looks.iter().enumerate() {
            for b in &looks[i + 1..] {
                assert_ne!((a.color, a.dash), (b.color, b.dash));
            }
        }
        assert!(!looks[0].hatched && looks[2].hatched);
    }

    /// The longest value after a bar and a long title stay inside the
    /// chart: its width grows with them, the plot's does not.
    #[test]
    fn bar_values_and_titles_fit_the_chart() {
        let bar = |value: f64, text: &str| Bar {
            label: "node-fastify".into(),
            value,
            interval: None,
            look: Look::new(&Language::Node, 0),
            value_text: text.into(),
        };
        let width = |svg: &str| -> f64 {
            let w = svg.split("width=\"").nth(1).unwrap();
            w[..w.find('"').unwrap()].parse().unwrap()
        };
        let group = |text: &str| {
            vec![BarGroup {
                label: String::new(),
                bars: vec![bar(86_672.0, text), bar(5_712.0, "5,712 req/s")],
            }]
        };
        let short = bar_chart("c", "json", "req/s", &group("86,672 req/s"));
        assert_eq!(width(&short), 680.0);
        let long = "86,672 req/s (1 trial, indicative)";
        let svg = bar_chart("c", "json", "req/s", &group(long));
        // The top bar ends at the plot's right edge; its text starts 5 px on.
        assert!(
            width(&svg) >= 170.0 + 400.0 + 5.0 + text_width(long),
            "{svg}"
        );
        let title = "json: capacity at SLO over trials, with a title longer than the plot is wide";
        let svg = bar_chart("c", title, "req/s", &group("1"));
        assert!(width(&svg) >= 8.0 + text_width(title), "{svg}");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(short_number(2500.0), "2.5k");
        assert_eq!(short_number(20000.0), "20k");
        assert_eq!(short_number(0.5), "0.50");
        assert_eq!(short_number(2.0), "2");
        assert_eq!(short_number(2.5), "2.5");
        assert_eq!(whole_number(0.5), "");
        assert_eq!(whole_number(3.0), "3");
        let t: Vec<f64> = Scale::linear_from_zero(9300.0)
            .ticks(short_number)
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(t, [0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10000.0]);
    }
}
