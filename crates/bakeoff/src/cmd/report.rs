//! `bakeoff report`: load a stored run and render it as text, Markdown, JSON
//! or the self-contained HTML page.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::{ReportArgs, ReportFormat};
use crate::model::Run;
use crate::report;

pub(super) async fn execute(args: ReportArgs) -> Result<u8> {
    let db = args.db.path();
    let run = super::load_stored_run(&db, &args.run)?;
    match (args.format, &args.out) {
        (ReportFormat::Html, None) => {
            let dir = results_dir(&db);
            let extras = crate::verdict::render::html_extras(&run);
            let path = report::write_html_report_with(&run, &extras, &dir)?;
            outln!("{}", path.display())?;
        }
        (format, Some(out)) => {
            let mut page = Vec::new();
            render(&run, format, false, &mut page).context("rendering the report")?;
            if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(out, page)
                .with_context(|| format!("writing the report to {}", out.display()))?;
            if format == ReportFormat::Html {
                outln!("{}", out.display())?;
            }
        }
        (format, None) => {
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let mut lock = super::stdout();
            render(&run, format, color, &mut lock)
                .and_then(|()| lock.flush())
                .context("writing the report to stdout")?;
        }
    }
    Ok(0)
}

/// Reports live next to the database: `bakeoff-results/run-<id>/report.html`.
fn results_dir(db: &Path) -> PathBuf {
    match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn render(run: &Run, format: ReportFormat, color: bool, w: &mut impl Write) -> std::io::Result<()> {
    match format {
        ReportFormat::Text => report::render_text(run, color, w),
        ReportFormat::Md => report::render_markdown(run, w),
        ReportFormat::Json => report::render_json(run, w),
        ReportFormat::Html => {
            report::render_html(run, &crate::verdict::render::html_extras(run), w)
        }
    }
}
