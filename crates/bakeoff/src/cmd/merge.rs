//! `bakeoff merge A.json B.json …`: read a test's segments, check that they
//! are all of one test exactly once, merge them exactly and print the result
//! as `bakeoff load` does (text, or `--json` with load's schema).

use anyhow::Result;

use crate::cli::MergeArgs;
use crate::distributed::merge::{histograms_doc, merge_segments, read_segment};
use crate::distributed::{format_time, DistError};
use crate::load_doc::{LoadDoc, MergedSegmentDoc};
use crate::report::load::{summary, Shape};
use crate::InputError;

pub(super) fn execute(args: MergeArgs) -> Result<u8> {
    let mut parts = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::new(format!("{name}: cannot read the file ({e})")))?;
        parts.push(read_segment(&name, &text).map_err(refusal)?);
    }
    let m = merge_segments(parts).map_err(refusal)?;
    let shape = Shape {
        connections: m.test.connections,
        schedule: bakeoff_load::Schedule::Uniform,
    };
    if args.json {
        let mut doc = LoadDoc::of(&m.test.url, shape.connections, &m.report);
        doc.test = Some(m.test.clone());
        doc.histograms = Some(histograms_doc(&m.report));
        doc.segments = Some(
            m.segments
                .iter()
                .map(|(seg, file, at, after)| MergedSegmentDoc {
                    index: seg.index,
                    file: file.clone(),
                    started_at: format_time(*at),
                    start_offset_ms: after.as_secs_f64() * 1000.0,
                })
                .collect(),
        );
        doc.skew_ms = Some(m.skew.as_secs_f64() * 1000.0);
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        let mut text = summary(&m.test.url, &shape, &m.report);
        text += &format!(
            "  {:<20} {} of test {} (start {}), started within {:.1} ms of each other\n",
            "segments",
            m.segments.len(),
            m.test.id,
            m.test.start_at,
            m.skew.as_secs_f64() * 1000.0
        );
        out!("{text}")?;
    }
    Ok(0)
}

/// Every refusal is the user's input: exit status 2 with the reason.
fn refusal(e: DistError) -> anyhow::Error {
    InputError::new(e.to_string()).into()
}
