//! `bakeoff merge`: segments' JSON documents read back into reports, checked
//! (one test, every segment exactly once, sound histograms) and merged exactly
//! with [`bakeoff_load::shard::merge_reports`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bakeoff_load::{ClassStats, LoadReport, Second, Trend, TrendThird};

use crate::load_doc::{ClassHistogramsDoc, HistogramsDoc, LoadDoc, MergedSegmentDoc, SegmentDoc};

use super::{decode_histogram, encode_histogram, DistError, Segment, TestIdentity, SKEW_WARNING};

/// One segment read back.
#[derive(Debug, Clone)]
pub struct SegmentReport {
    pub file: String,
    pub test: TestIdentity,
    pub segment: Segment,
    pub started_at: SystemTime,
    pub report: LoadReport,
}

/// The merged test.
#[derive(Debug, Clone)]
pub struct Merged {
    pub test: TestIdentity,
    pub report: LoadReport,
    /// Per segment, by index: its file, start and how far after the first it started.
    pub segments: Vec<(Segment, String, SystemTime, Duration)>,
    /// The spread of the segments' start times.
    pub skew: Duration,
}

impl Merged {
    /// The merged test as `bakeoff load --json` with the test, its
    /// histograms, the segments and their skew (`bakeoff merge --json`).
    pub fn doc(&self) -> LoadDoc {
        let mut doc = LoadDoc::of(&self.test.url, self.test.connections, &self.report);
        doc.test = Some(self.test.clone());
        doc.histograms = Some(histograms_doc(&self.report));
        doc.segments = Some(
            self.segments
                .iter()
                .map(|(seg, file, at, after)| MergedSegmentDoc {
                    index: seg.index,
                    file: file.clone(),
                    started_at: super::format_time(*at),
                    start_offset_ms: after.as_secs_f64() * 1000.0,
                })
                .collect(),
        );
        doc.skew_ms = Some(self.skew.as_secs_f64() * 1000.0);
        doc
    }
}

fn us(ms: f64) -> u64 {
    (ms * 1000.0).round().max(0.0) as u64
}

/// What a segment adds to its `bakeoff load --json` document: the test, the
/// segment (with the wall-clock time its clock started) and the histograms.
pub fn add_segment(
    doc: &mut LoadDoc,
    test: &TestIdentity,
    segment: Segment,
    started_at: SystemTime,
    r: &LoadReport,
) {
    doc.test = Some(test.clone());
    doc.segment = Some(SegmentDoc {
        index: segment.index,
        count: segment.count,
        started_at: super::format_time(started_at),
    });
    doc.histograms = Some(histograms_doc(r));
}

/// The report's histograms in their wire form.
pub fn histograms_doc(r: &LoadReport) -> HistogramsDoc {
    HistogramsDoc {
        latency: encode_histogram(&r.latency),
        service: encode_histogram(&r.service),
        classes: r
            .classes
            .iter()
            .map(|(name, c)| {
                let doc = ClassHistogramsDoc {
                    requests: c.requests,
                    latency: encode_histogram(&c.latency),
                    service: encode_histogram(&c.service),
                };
                (name.clone(), doc)
            })
            .collect(),
        seconds: rewire(&r.second_latency),
        thirds: rewire(&r.trend_latency),
    }
}

/// The engine's V2 bytes in the document's form (V2 + deflate, base64); a
/// histogram that does not read back is left out, and with it the rest, so a
/// merge falls back to the bounded p99 rather than misalign the seconds.
fn rewire(engine: &[Vec<u8>]) -> Vec<String> {
    engine
        .iter()
        .map(|b| bakeoff_load::shard::histogram_from_bytes(b, "").map(|h| encode_histogram(&h)))
        .collect::<Result<_, _>>()
        .unwrap_or_default()
}

/// Read one segment's document (`file` names it in errors).
pub fn read_segment(file: &str, text: &str) -> Result<SegmentReport, DistError> {
    let bad = |reason: String| DistError::Document {
        file: file.to_string(),
        reason,
    };
    let doc: LoadDoc = serde_json::from_str(text)
        .map_err(|e| bad(format!("not a `bakeoff load --json` document ({e})")))?;
    let (Some(test), Some(seg), Some(hist)) = (doc.test, doc.segment, doc.histograms) else {
        return Err(bad(
            "not a segment's document (no `test`, `segment` or `histograms`); run `bakeoff load … --segment I/N --start-at T --json`".into(),
        ));
    };
    if !test.is_consistent() {
        return Err(bad(format!(
            "its test id {} does not match its test's fields: the document was edited",
            test.id
        )));
    }
    if seg.count != test.segments || seg.index >= seg.count {
        return Err(bad(format!(
            "segment {}/{} does not fit its test of {} segments",
            seg.index, seg.count, test.segments
        )));
    }
    let started_at = humantime::parse_rfc3339_weak(&seg.started_at)
        .map_err(|e| bad(format!("segment.started_at `{}`: {e}", seg.started_at)))?;
    let decode = |what: &str, text: &str| {
        decode_histogram(text).map_err(|reason| DistError::CorruptHistogram {
            file: file.to_string(),
            what: what.to_string(),
            reason,
        })
    };
    let latency = decode("latency", &hist.latency)?;
    let engine_bytes = |what: &str, texts: &[String]| {
        texts
            .iter()
            .map(|t| decode(what, t).map(|h| bakeoff_load::shard::histogram_bytes(&h)))
            .collect::<Result<Vec<_>, _>>()
    };
    let second_latency = engine_bytes("a second's latency", &hist.seconds)?;
    let trend_latency = engine_bytes("a trend third's latency", &hist.thirds)?;
    if !second_latency.is_empty() && second_latency.len() != doc.timeline.len() {
        return Err(bad(format!(
            "it has {} seconds' histograms for {} timeline seconds: the document was edited",
            second_latency.len(),
            doc.timeline.len()
        )));
    }
    let service = decode("service time", &hist.service)?;
    if service.len() > latency.len() {
        return Err(DistError::CorruptHistogram {
            file: file.to_string(),
            what: "service time".into(),
            reason: format!(
                "it holds {} answers, more than the {} of the latency histogram that includes them",
                service.len(),
                latency.len()
            ),
        });
    }
    let mut classes = BTreeMap::new();
    for (name, c) in hist.classes {
        let errors = doc
            .classes
            .get(&name)
            .map(|d| d.errors.to_map())
            .unwrap_or_default();
        classes.insert(name.clone(), {
            let service = decode(&format!("`{name}` service time"), &c.service)?;
            ClassStats {
                requests: c.requests,
                // The service histogram holds exactly the class's successes.
                successes: service.len(),
                errors,
                latency: decode(&format!("`{name}` latency"), &c.latency)?,
                service,
            }
        });
    }
    let errors = doc.errors.to_map();
    let mut status = BTreeMap::new();
    for (code, n) in doc.status {
        let c: u16 = code
            .parse()
            .map_err(|_| bad(format!("status `{code}` is not an HTTP status code")))?;
        status.insert(c, n);
    }
    // A span no clock holds (negative, NaN, 1e300 s) is an edited document.
    let span = |name: &str, s: f64| {
        Duration::try_from_secs_f64(s)
            .ok()
            .filter(|d| *d <= bakeoff_load::MAX_SPAN)
            .ok_or_else(|| {
                bad(format!(
                    "its `{name}` of {s} s is no duration: the document was edited"
                ))
            })
    };
    let elapsed = span("duration_s", doc.duration_s)?;
    let warmup = span("warmup_s", doc.warmup_s)?;
    let report = LoadReport {
        target_rate: doc.target_rate,
        achieved_rate: doc.achieved_rate,
        // The document does not carry it: the achieved rate stands for it.
        delivered_rate: doc.achieved_rate,
        successes: doc.successes,
        requests: doc.requests,
        elapsed,
        measured_from: None,
        errors,
        status,
        latency,
        service,
        classes,
        timeline: doc
            .timeline
            .into_iter()
            .map(|s| Second {
                second: s.second,
                requests: s.requests,
                errors: s.errors,
                p99_us: us(s.p99_ms),
            })
            .collect(),
        second_latency,
        mean_in_flight: doc.mean_in_flight,
        late_sends: doc.late_sends,
        late_stalled: doc.late_stalled,
        max_send_lag: Duration::from_micros(us(doc.max_send_lag_ms)),
        unsent: doc.unsent,
        outstanding: doc.outstanding,
        unanswered: doc.unanswered,
        trend: doc.trend.map(|t| Trend {
            thirds: t.map(|x| TrendThird {
                requests: x.requests,
                p50_us: us(x.p50_ms),
                p90_us: us(x.p90_ms),
                mean_in_flight: x.mean_in_flight,
            }),
        }),
        trend_latency,
        sent_all: doc.sent_all,
        ok_all: doc.ok_all,
        steal: doc.steal,
        cpu_steal: doc.cpu_steal.clone(),
        steal_bursts: doc
            .steal_bursts_ms
            .iter()
            .map(|&ms| Duration::from_micros(us(ms)))
            .collect(),
        generator_cpu_s: doc.generator_cpu_s,
        generator_wall_s: doc.generator_wall_s,
        generator_core_busy: doc.generator_core_busy,
        window_generator_cpu: doc.window_generator_cpu,
        window_core_busy: doc.window_core_busy,
        reconnects: doc.reconnects,
        warmup,
        abandoned: None,
        valid: doc.valid,
        warnings: doc.warnings,
        expectation_examples: doc.expectation_examples,
    };
    if doc.url != test.url {
        return Err(bad(format!(
            "its url {} is not its test's {}",
            doc.url, test.url
        )));
    }
    Ok(SegmentReport {
        file: file.to_string(),
        test,
        segment: Segment {
            index: seg.index,
            count: seg.count,
        },
        started_at,
        report,
    })
}

/// Check that `parts` are every segment of one test exactly once, then merge them.
pub fn merge_segments(parts: Vec<SegmentReport>) -> Result<Merged, DistError> {
    let first = parts.first().ok_or(DistError::Empty)?;
    let test = first.test.clone();
    let mut by_index: BTreeMap<u32, &SegmentReport> = BTreeMap::new();
    for p in &parts {
        let diff = test.differences(&p.test);
        if !diff.is_empty() {
            return Err(DistError::OtherTest {
                file: p.file.clone(),
                first: first.file.clone(),
                diff: diff.join(", "),
            });
        }
        if let Some(other) = by_index.insert(p.segment.index, p) {
            return Err(DistError::Duplicate {
                index: p.segment.index,
                count: test.segments,
                a: other.file.clone(),
                b: p.file.clone(),
            });
        }
    }
    let missing: Vec<String> = (0..test.segments)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(DistError::Missing {
            missing: missing.join(", "),
            count: test.segments,
        });
    }
    let earliest = parts.iter().map(|p| p.started_at).min().expect("not empty");
    let latest = parts.iter().map(|p| p.started_at).max().expect("not empty");
    let skew = latest.duration_since(earliest).unwrap_or_default();
    let segments = by_index
        .values()
        .map(|p| {
            let after = p.started_at.duration_since(earliest).unwrap_or_default();
            (p.segment, p.file.clone(), p.started_at, after)
        })
        .collect();
    let mut report =
        bakeoff_load::shard::merge_reports(parts.into_iter().map(|p| p.report).collect())?;
    if skew > SKEW_WARNING {
        report.warnings.push(format!(
            "the segments started {:.1} ms apart (clock skew over {} ms): their windows overlap less than planned; synchronise the machines' clocks (NTP)",
            skew.as_secs_f64() * 1000.0,
            SKEW_WARNING.as_millis()
        ));
    }
    Ok(Merged {
        test,
        report,
        segments,
        skew,
    })
}
