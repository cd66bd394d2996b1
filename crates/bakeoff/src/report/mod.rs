//! The reports: pure renderers from a stored [`Run`] to text, Markdown, JSON
//! and one self-contained HTML page. Each takes `&Run` and any `io::Write`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::model::{ContenderInfo, Run};

pub mod compare;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod html;
#[cfg(test)]
mod indicative_tests;
pub mod load;
pub mod markdown;
pub mod runtimes;
#[cfg(test)]
mod steal_tests;
pub mod summary;
pub mod survey;
pub mod table;
pub mod text;

pub use html::{
    render_html, write_html_report, write_html_report_with, HtmlExtras, ReportWriteError,
};
pub use markdown::render_markdown;
pub use text::render_text;

/// The run document: the run's own fields, and with `bakeoff report --format
/// json` the "Runtime versions" section ([`runtimes::runtime_versions`]) as
/// `runtime_versions` (absent from `bakeoff show --json`). Its schema is
/// `docs/schema/run.json` ([`run_schema`]).
#[derive(serde::Serialize, schemars::JsonSchema)]
#[schemars(
    title = "bakeoff run",
    description = "One stored `bakeoff run`, as printed by `bakeoff show RUN --json` and `bakeoff report --format json`. Latencies are milliseconds, rates requests (or messages) per second, memory bytes. Optional values are present as null. Serialized HdrHistograms are kept in the database, not in this document.",
    deny_unknown_fields
)]
pub struct RunDocument<'a> {
    #[serde(flatten)]
    pub run: &'a Run,
    /// The report's Runtime versions section (derived from the run, not stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_versions: Option<runtimes::RuntimeVersions>,
}

/// The JSON Schema of [`RunDocument`], as written (a derived field such as
/// `indicative` is required; an `Option` is present as null).
pub fn run_schema() -> serde_json::Value {
    serialized_schema::<RunDocument<'static>>()
}

/// The JSON Schema (draft 2020-12) of a document as it is serialized: every
/// report document's schema comes from here.
pub(crate) fn serialized_schema<T: schemars::JsonSchema>() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    serde_json::to_value(generator.into_root_schema_for::<T>()).expect("a schema is plain JSON")
}

/// The whole run as JSON: `bakeoff show --json`'s document with the "Runtime
/// versions" section as `runtime_versions` (see [`RunDocument`]).
pub fn render_json<W: Write>(run: &Run, w: &mut W) -> io::Result<()> {
    let doc = RunDocument {
        run,
        runtime_versions: Some(runtimes::runtime_versions(run)),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

/// "bakeoff run 7: complete"
fn title(run: &Run) -> String {
    format!("bakeoff run {}: {}", run.id, run.status.as_str())
}

/// Profile, SLO, trials and times in one line (and the databases, when not
/// SQLite alone).
fn subtitle(run: &Run) -> String {
    let s = &run.settings;
    let databases = s.databases();
    let database = match databases.as_slice() {
        [crate::database::Database::Sqlite] => String::new(),
        [db] => format!(", database {db}"),
        all => format!(
            ", databases {}",
            all.iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let steal = s
        .raised_steal_limit()
        .map(|p| format!(", steal tolerated up to {p}% (capacities may read low)"))
        .unwrap_or_default();
    // A capacity is the highest rate that passed, up to this much below the
    // true one: two capacities within it may be the same grid value.
    let resolution = s
        .search_resolution
        .map(|r| format!(", capacities found to {}", fmt_resolution(r)))
        .unwrap_or_default();
    format!(
        "profile {}, SLO p99 <= {} ms, {} trial{}{resolution}{database}{steal}, started {}, finished {}",
        s.profile,
        table::fmt_ms(s.slo_p99_ms),
        s.trials,
        if s.trials == 1 { "" } else { "s" },
        run.started_at,
        run.finished_at.as_deref().unwrap_or("-"),
    )
}

/// A search resolution as a percentage ("8%", "2.5%").
pub(crate) fn fmt_resolution(r: f64) -> String {
    let pct = r * 100.0;
    let digits = if (pct - pct.round()).abs() < 1e-6 {
        0
    } else {
        1
    };
    format!("{pct:.digits$}%")
}

/// A workload's heading: a database workload says its database when the run
/// measured it on PostgreSQL or on several databases, so a figure is never
/// read as the other database's ("db (on postgres)"). `database`: the cells'
/// (none for cells stored without one: the run's).
pub(crate) fn workload_heading(
    run: &Run,
    workload: &crate::workload::Workload,
    database: Option<crate::database::Database>,
) -> String {
    use crate::database::Database;
    let db = database.or(workload.uses_database().then_some(run.settings.database));
    match db {
        Some(db) if run.settings.databases() != [Database::Sqlite] => {
            format!("{workload} (on {db})")
        }
        _ => workload.to_string(),
    }
}

/// A cell's workload as the reports name it: its heading's rule ("db (on
/// postgres)").
pub(crate) fn cell_workload(run: &Run, cell: &crate::model::Cell) -> String {
    workload_heading(run, &cell.workload, cell.database)
}

/// The environment as (label, value) rows, shared by Markdown and HTML.
fn environment_rows(run: &Run) -> Vec<(String, String)> {
    let e = &run.environment;
    let mut rows = vec![
        ("CPU".to_string(), e.cpu_model.clone()),
        ("cores".into(), e.cores.to_string()),
        ("memory".into(), table::fmt_bytes(e.memory_bytes as f64)),
        ("OS".into(), e.os.clone()),
        ("kernel".into(), e.kernel.clone()),
        ("pinning".into(), e.pinning.clone()),
        ("bakeoff".into(), e.bakeoff_version.clone()),
        (
            "git revision".into(),
            e.git_revision.clone().unwrap_or_else(|| "-".into()),
        ),
    ];
    for (name, version) in &e.runtimes {
        rows.push((name.to_string(), version.clone()));
    }
    for (site, speed) in e.probes() {
        let probe = site.probe();
        rows.push((
            format!("{} ({})", site.what(), probe.name()),
            speed.describe(probe),
        ));
    }
    rows
}

/// The machine in one line, and each core's speed where the run kept it:
/// what `show` and the text report print (Markdown and HTML have
/// [`environment_rows`]).
pub(crate) fn machine_lines(e: &crate::model::Environment) -> Vec<String> {
    let mut lines = vec![format!(
        "Machine: {}, {} cores, {}, {} ({}); {}",
        e.cpu_model,
        e.cores,
        table::fmt_bytes(e.memory_bytes as f64),
        e.os,
        e.kernel,
        e.pinning
    )];
    for (site, speed) in e.probes() {
        let (what, probe) = (site.what(), site.probe());
        lines.push(format!(
            "{}{} ({}): {}",
            what[..1].to_uppercase(),
            &what[1..],
            probe.name(),
            speed.describe(probe)
        ));
    }
    lines
}

/// The short methodology paragraph, with this run's SLO and trial count.
fn methodology(run: &Run) -> String {
    let steal = run
        .settings
        .raised_steal_limit()
        .map(|p| {
            format!(
                " This run raised the steal limit to {p}% of the machine's CPU time \
                 (--max-steal; 2% by default): windows the hypervisor took less from \
                 were judged as the server's. Steal only slows what is measured, so \
                 its capacities may read low, never high."
            )
        })
        .unwrap_or_default();
    let text = format!(
        "Load is open-loop at fixed rates, and latency is measured from each request's \
         intended send time, so a stalled server cannot hide its queue (coordinated \
         omission corrected); service time, from the actual send, is shown alongside. \
         Capacity is the highest rate whose p99 stays within {} ms without excess errors, \
         found by a ramp and a bisection in short windows, then held for a longer \
         confirmation window (stepped down while one fails), repeated over {} independent \
         trial(s). One trial \
         is shown alone and is indicative only; two to four trials show their median and \
         range; five or more show the mean with a 95% t-interval. Latency percentiles, CPU \
         time per request (average, and marginal with the idle baseline subtracted) and peak \
         RSS are measured at the same rate for every contender of a workload. \
         Generator and contender run on separate cores when the machine allows it.",
        table::fmt_ms(run.settings.slo_p99_ms),
        run.settings.trials
    );
    text + &steal
}

/// The contenders that have something to say next to their numbers: a variant
/// label or disclosures.
fn disclosed(run: &Run) -> impl Iterator<Item = &ContenderInfo> {
    run.contenders
        .iter()
        .filter(|c| c.variant.is_some() || !c.disclosures.is_empty())
}

/// Where the fairness review lives in the repository.
pub const FAIRNESS_DOC: &str = "docs/fairness.md";

/// `docs/fairness.md` of the bakeoff checkout, when it exists: the sibling of the
/// contenders directory (`$BAKEOFF_CONTENDERS_DIR`, else the clone's `./contenders`,
/// as [`crate::contender::locate::resolve_local`] finds them), else the source
/// tree this binary was built from. Absolute, for a `file://` link.
pub fn fairness_doc() -> Option<PathBuf> {
    let given = std::env::var_os("BAKEOFF_CONTENDERS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let cwd = std::env::current_dir().unwrap_or_default();
    let contenders = crate::contender::locate::resolve_local(given.as_deref(), &cwd)
        .and_then(|d| std::path::absolute(d.path).ok());
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [
        contenders.and_then(|c| c.parent().map(Path::to_path_buf)),
        Some(built_from),
    ]
    .into_iter()
    .flatten()
    .map(|root| root.join(FAIRNESS_DOC))
    .find(|p| p.is_file())
    .and_then(|p| p.canonicalize().ok())
}

#[cfg(test)]
mod tests {
    use super::fixtures::sample_run;
    use super::*;
    use crate::workload::Workload;

    #[test]
    fn each_json_cell_names_its_rate_unit_and_reads_back() {
        let run = sample_run();
        let mut buf = Vec::new();
        render_json(&run, &mut buf).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let cells = doc["cells"].as_array().unwrap();
        let unit = |w: &str| {
            let cell = cells.iter().find(|c| c["workload"] == w).unwrap();
            cell["rate_unit"].as_str().unwrap().to_string()
        };
        assert_eq!(unit("ws"), "msg/s");
        assert_eq!(unit("json"), "req/s");
        // Derived, so a document read back is the run it came from.
        let back: Vec<crate::model::Cell> = serde_json::from_value(doc["cells"].clone()).unwrap();
        let keys = |cells: &[crate::model::Cell]| {
            cells
                .iter()
                .map(|c| {
                    (
                        c.contender.clone(),
                        c.workload.clone(),
                        c.capacity.map(|e| e.n),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&back), keys(&run.cells));
        assert!(back.iter().any(|c| c.workload == Workload::Ws));
    }
}
