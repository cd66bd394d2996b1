//! `bakeoff claims`: the blog's claims checked against a stored run.

use std::io::Write;

use anyhow::Result;

use super::load_stored_run;
use crate::cli::ClaimsArgs;
use crate::verdict::{claims, render};

pub(super) async fn execute(args: ClaimsArgs) -> Result<u8> {
    let run = load_stored_run(&args.db.path(), &args.run)?;
    let results = claims::check_all(&run);
    let mut out = super::stdout();
    if args.json {
        let doc = serde_json::json!({ "run_id": run.id, "claims": results });
        // Through a string: serde_json's error would hide the closed pipe.
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        render::claims_text(&results, &mut out)?;
    }
    Ok(0)
}
