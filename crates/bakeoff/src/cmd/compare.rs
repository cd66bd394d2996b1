//! `bakeoff compare A B`: per-cell differences between two stored runs; exit 1
//! when `--fail-on-regression PCT` is given and a cell regressed beyond it.

use anyhow::{Context, Result};

use super::{open_existing, resolve};
use crate::cli::{CompareArgs, ReportFormat};
use crate::report::compare::{render, Comparison, Format};
use crate::InputError;

pub(super) async fn execute(args: CompareArgs) -> Result<u8> {
    let format = match args.format {
        ReportFormat::Text => Format::Text,
        ReportFormat::Md => Format::Md,
        ReportFormat::Json => Format::Json,
        ReportFormat::Html => Format::Html,
    };
    if let Some(pct) = args.fail_on_regression {
        if !pct.is_finite() || pct < 0.0 {
            return Err(InputError::new(format!(
                "--fail-on-regression {pct}: give a percentage ≥ 0, e.g. 5"
            ))
            .into());
        }
    }
    let path = args.db.path();
    let store = open_existing(&path)?;
    let a = resolve(&store, &args.a).context("run A")?;
    let b = resolve(&store, &args.b).context("run B")?;
    let run_a = store
        .load_run(a)
        .with_context(|| format!("reading run {a}"))?;
    let run_b = store
        .load_run(b)
        .with_context(|| format!("reading run {b}"))?;
    let comparison = Comparison::new(&run_a, &run_b, args.fail_on_regression);
    let mut out = super::stdout();
    render(&comparison, format, &mut out)?;
    Ok(if comparison.regressed() { 1 } else { 0 })
}
