//! Load beyond one machine: a test split into N segments, each run by its own
//! `bakeoff load … --segment I/N --start-at T --json` (on any machine, e.g. a
//! Kubernetes Indexed Job's pods), then merged exactly by `bakeoff merge`.
//!
//! - this file: a segment's identity (`I/N`, the shared start, the test's
//!   hash) and the histograms' wire form (HdrHistogram V2 + deflate, base64);
//! - `merge`: reading segments' JSON back and merging them, with the checks;
//! - `k8s`: the Indexed Job manifest from typed Kubernetes structs;
//! - `cluster`: `k8s run`'s create/wait/collect/merge/delete, behind the
//!   `Cluster` trait; `kube_cluster` (feature `k8s`): that trait on the kube client.
//!
//! The flow and its rules are in `docs/distributed.md`.

use std::time::{Duration, SystemTime};

use bakeoff_load::Histogram;
use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod cluster;
pub mod k8s;
#[cfg(feature = "k8s")]
pub mod kube_cluster;
pub mod merge;

/// Why a segment's options, document or merge was refused.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    #[error("--segment `{0}` is not I/N; write e.g. 0/4 for the first of four segments")]
    SegmentSyntax(String),
    #[error("--segment {index}/{count}: the index must be below the count (0..{count}) and the count between 1 and {max}", max = MAX_SEGMENTS)]
    SegmentRange { index: u32, count: u32 },
    #[error(
        "--start-at `{text}` is not an RFC 3339 time ({reason}); write e.g. 2026-12-01T10:00:00Z"
    )]
    StartSyntax { text: String, reason: String },
    #[error("--start-at {text} is {ago:.1?} in the past; the segments must share a start in the future (e.g. two minutes from now), and one more than 60 s late refuses to run")]
    StartPast { text: String, ago: Duration },
    #[error("--start-at {text} is {ahead} away; a segment waits at most a day for its start (a typo in the date?): give a start minutes from now")]
    StartFar { text: String, ahead: String },
    #[error("{file}: {reason}")]
    Document { file: String, reason: String },
    #[error("{file}: the {what} histogram is corrupt ({reason})")]
    CorruptHistogram {
        file: String,
        what: String,
        reason: String,
    },
    #[error(
        "{file} belongs to another test than {first}: {diff}; merge only the segments of one run"
    )]
    OtherTest {
        file: String,
        first: String,
        diff: String,
    },
    #[error("segment {index}/{count} appears twice ({a} and {b}); give each segment's JSON once")]
    Duplicate {
        index: u32,
        count: u32,
        a: String,
        b: String,
    },
    #[error("segment{s} {missing} of {count} {verb} missing; merge needs every segment's JSON", s = if .missing.contains(',') { "s" } else { "" }, verb = if .missing.contains(',') { "are" } else { "is" })]
    Missing { missing: String, count: u32 },
    #[error("no segment to merge; give the JSON files of `bakeoff load … --segment I/N --json`")]
    Empty,
    #[error(transparent)]
    Merge(#[from] bakeoff_load::shard::MergeError),
}

/// The most segments one test has.
pub const MAX_SEGMENTS: u32 = 10_000;

/// Start times of segments further apart than this are named (clock skew).
pub const SKEW_WARNING: Duration = Duration::from_millis(10);

/// Segment `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub index: u32,
    pub count: u32,
}

impl Segment {
    /// Parse `I/N`, with `I` in `0..N`.
    pub fn parse(text: &str) -> Result<Segment, DistError> {
        let syntax = || DistError::SegmentSyntax(text.to_string());
        let (i, n) = text.trim().split_once('/').ok_or_else(syntax)?;
        let index: u32 = i.trim().parse().map_err(|_| syntax())?;
        let count: u32 = n.trim().parse().map_err(|_| syntax())?;
        if count == 0 || count > MAX_SEGMENTS || index >= count {
            return Err(DistError::SegmentRange { index, count });
        }
        Ok(Segment { index, count })
    }
}

/// Parse an RFC 3339 start time that is ahead of `now`, or at most `late` behind
/// it (a segment's pod may be scheduled a little after the shared start).
pub fn parse_start_at(
    text: &str,
    now: SystemTime,
    late: Duration,
) -> Result<SystemTime, DistError> {
    let at = humantime::parse_rfc3339_weak(text.trim()).map_err(|e| DistError::StartSyntax {
        text: text.to_string(),
        reason: e.to_string(),
    })?;
    match now.duration_since(at) {
        Ok(ago) if ago > late => Err(DistError::StartPast {
            text: text.to_string(),
            ago,
        }),
        Err(ahead) if ahead.duration() > MAX_START_AHEAD => Err(DistError::StartFar {
            text: text.to_string(),
            ahead: humantime::format_duration(Duration::from_secs(ahead.duration().as_secs()))
                .to_string(),
        }),
        _ => Ok(at),
    }
}

/// The longest a segment waits for its start: a load test is never planned
/// days ahead, and a wrong year would otherwise wait for it.
pub const MAX_START_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// RFC 3339 with microseconds, UTC.
pub fn format_time(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

/// What makes two segments parts of the same test: everything that sets its
/// load, the segment count and the shared start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestIdentity {
    /// A hash of the fields below (16 hex digits).
    pub id: String,
    pub url: String,
    pub method: String,
    /// The whole test's rate (all segments), or null for a closed loop.
    pub rate: Option<f64>,
    /// The whole test's connections.
    pub connections: u32,
    pub duration_s: f64,
    pub segments: u32,
    /// RFC 3339, UTC.
    pub start_at: String,
}

impl TestIdentity {
    pub fn new(
        url: &str,
        method: &str,
        rate: Option<f64>,
        connections: u32,
        duration: Duration,
        segments: u32,
        start_at: SystemTime,
    ) -> TestIdentity {
        let mut t = TestIdentity {
            id: String::new(),
            url: url.to_string(),
            method: method.to_string(),
            rate,
            connections,
            duration_s: duration.as_secs_f64(),
            segments,
            start_at: format_time(start_at),
        };
        t.id = t.hash();
        t
    }

    fn hash(&self) -> String {
        let canon = format!(
            "{}\n{}\n{:?}\n{}\n{:?}\n{}\n{}",
            self.url,
            self.method,
            self.rate,
            self.connections,
            self.duration_s,
            self.segments,
            self.start_at
        );
        let digest = Sha256::digest(canon.as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The fields in which `other` differs from `self`, named, or its id's
    /// mismatch with its own fields (an edited document).
    pub fn differences(&self, other: &TestIdentity) -> Vec<String> {
        let mut d = Vec::new();
        let mut field = |name: &str, a: String, b: String| {
            if a != b {
                d.push(format!("{name} {b} vs {a}"));
            }
        };
        field("url", self.url.clone(), other.url.clone());
        field("method", self.method.clone(), other.method.clone());
        field(
            "rate",
            format!("{:?}", self.rate),
            format!("{:?}", other.rate),
        );
        field(
            "connections",
            self.connections.to_string(),
            other.connections.to_string(),
        );
        field(
            "duration_s",
            self.duration_s.to_string(),
            other.duration_s.to_string(),
        );
        field(
            "segments",
            self.segments.to_string(),
            other.segments.to_string(),
        );
        field("start_at", self.start_at.clone(), other.start_at.clone());
        if d.is_empty() && self.id != other.id {
            d.push(format!("id {} vs {}", other.id, self.id));
        }
        d
    }

    /// Whether `id` is the hash of the other fields.
    pub fn is_consistent(&self) -> bool {
        self.id == self.hash()
    }
}

/// A histogram as HdrHistogram V2 with deflate, in standard base64.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("a histogram serializes into memory");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The inverse of [`encode_histogram`]; `Err` says what is wrong.
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    let mut cursor = std::io::Cursor::new(bytes);
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut cursor)
        .map_err(|e| format!("not an HdrHistogram V2: {e:?}"))?;
    if (cursor.position() as usize) != cursor.get_ref().len() {
        return Err("trailing bytes after the histogram".into());
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_parse_and_refuse_out_of_range() {
        assert_eq!(
            Segment::parse("2/4").unwrap(),
            Segment { index: 2, count: 4 }
        );
        assert!(matches!(
            Segment::parse("4/4"),
            Err(DistError::SegmentRange { .. })
        ));
        assert!(matches!(
            Segment::parse("0/0"),
            Err(DistError::SegmentRange { .. })
        ));
        for bad in ["3", "a/4", "1/", "-1/4", "1/4/5"] {
            assert!(
                matches!(Segment::parse(bad), Err(DistError::SegmentSyntax(_))),
                "{bad}"
            );
        }
        let e = Segment::parse("5/3").unwrap_err().to_string();
        assert!(e.contains("0..3"), "{e}");
    }

    #[test]
    fn start_times_must_be_rfc3339_and_ahead() {
        let now = humantime::parse_rfc3339("2026-12-01T10:00:00Z").unwrap();
        let z = Duration::ZERO;
        let at = parse_start_at("2026-12-01T10:00:30Z", now, z).unwrap();
        assert_eq!(at.duration_since(now).unwrap(), Duration::from_secs(30));
        let e = parse_start_at("2026-12-01T09:59:00Z", now, z).unwrap_err();
        assert!(matches!(e, DistError::StartPast { .. }), "{e}");
        assert!(e.to_string().contains("60.0s in the past"), "{e}");
        // A segment scheduled a little late still runs, at once.
        let late = Duration::from_secs(60);
        assert!(parse_start_at("2026-12-01T09:59:00Z", now, late).is_ok());
        assert!(parse_start_at("2026-12-01T09:58:59Z", now, late).is_err());
        // A start beyond a day ahead is a typo, not a plan.
        assert!(parse_start_at("2026-12-02T10:00:00Z", now, z).is_ok());
        let far = parse_start_at("2099-01-01T00:00:00Z", now, z).unwrap_err();
        assert!(matches!(far, DistError::StartFar { .. }), "{far}");
        assert!(far.to_string().contains("at most a day"), "{far}");
        assert!(matches!(
            parse_start_at("tomorrow", now, z),
            Err(DistError::StartSyntax { .. })
        ));
        assert_eq!(format_time(at), "2026-12-01T10:00:30.000000Z");
    }

    #[test]
    fn the_identity_hashes_every_field_that_sets_the_load() {
        let at = humantime::parse_rfc3339("2026-12-01T10:00:30Z").unwrap();
        let d = Duration::from_secs(30);
        let t = TestIdentity::new("http://10.0.0.5/", "GET", Some(1e5), 400, d, 4, at);
        assert!(t.is_consistent());
        assert_eq!(t.id.len(), 16);
        let other = [
            TestIdentity::new("http://10.0.0.6/", "GET", Some(1e5), 400, d, 4, at),
            TestIdentity::new("http://10.0.0.5/", "POST", Some(1e5), 400, d, 4, at),
            TestIdentity::new("http://10.0.0.5/", "GET", Some(2e5), 400, d, 4, at),
            TestIdentity::new("http://10.0.0.5/", "GET", None, 400, d, 4, at),
            TestIdentity::new("http://10.0.0.5/", "GET", Some(1e5), 401, d, 4, at),
            TestIdentity::new("http://10.0.0.5/", "GET", Some(1e5), 400, d * 2, 4, at),
            TestIdentity::new("http://10.0.0.5/", "GET", Some(1e5), 400, d, 5, at),
            TestIdentity::new("http://10.0.0.5/", "GET", Some(1e5), 400, d, 4, at + d),
        ];
        for o in &other {
            assert_ne!(o.id, t.id);
            assert_eq!(t.differences(o).len(), 1, "{:?}", t.differences(o));
        }
        let mut edited = t.clone();
        edited.connections = 1;
        assert!(!edited.is_consistent());
    }

    #[test]
    fn histograms_survive_the_wire_and_corruption_is_named() {
        let mut h = bakeoff_load::shard::new_histogram();
        for v in [1, 50, 999, 12_345, 600_000_000] {
            h.record(v).unwrap();
        }
        let text = encode_histogram(&h);
        let back = decode_histogram(&text).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.high(), h.high());
        assert!(decode_histogram("!!!").unwrap_err().contains("base64"));
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .unwrap();
        bytes[10] ^= 0xff;
        let broken = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert!(decode_histogram(&broken).is_err());
        let truncated = base64::engine::general_purpose::STANDARD.encode(&bytes[..bytes.len() / 2]);
        assert!(decode_histogram(&truncated).is_err());
    }
}
