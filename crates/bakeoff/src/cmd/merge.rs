//! `bakeoff merge A.json B.json …`: read a test's segments, check that they
//! are all of one test exactly once, merge them exactly and print the result
//! as `bakeoff load` does (text, or `--json` with load's schema).

use anyhow::Result;

use crate::cli::MergeArgs;
use crate::distributed::merge::{merge_segments, read_segment};
use crate::distributed::DistError;
use crate::report::load::merged_summary;
use crate::InputError;

pub(super) fn execute(args: MergeArgs) -> Result<u8> {
    let mut parts = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let text = crate::input_file::read_to_string(path, crate::input_file::DATA_LIMIT)
            .map_err(|e| InputError::new(format!("{name}: cannot read the file ({e})")))?;
        parts.push(read_segment(&name, &text).map_err(refusal)?);
    }
    let m = merge_segments(parts).map_err(refusal)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&m.doc())?)?;
    } else {
        out!("{}", merged_summary(&m))?;
    }
    Ok(0)
}

/// Every refusal is the user's input: exit status 2 with the reason.
fn refusal(e: DistError) -> anyhow::Error {
    InputError::new(e.to_string()).into()
}
