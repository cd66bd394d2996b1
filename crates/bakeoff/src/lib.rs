//! bakeoff: Node.js or Python for your backend, settled with measurements.
//!
//! # Layout
//!
//! - [`cli`]: the clap-derive command line, as typed (feature `cli`, on by
//!   default; the rest of the library builds without clap).
//! - [`cmd`]: one module per subcommand; turns arguments into validated configs
//!   the library owns and calls the library. The only place that prints
//!   (feature `cli`).
//! - [`contender`]: the manifest (`bakeoff.toml`; a new field goes in its table's
//!   struct in `manifest_toml.rs` and its rule in `manifest.rs`), where the
//!   reference contenders are (`locate`: the clone's, or the copy built into the
//!   binary), `select` (the selection every command starts from), `setup`
//!   (installs, their `cache`, and data generation), other runtime versions
//!   (`runtimes`: `--python` interpreters, `--node` releases from the npm registry,
//!   end-of-life dates in `eol`), the supervisor (processes, health, logs,
//!   teardown), and the contract's `verification` with its `verify_stamps`.
//! - [`distributed`]: a test split into segments run on many machines, their
//!   exact merge, the Kubernetes Indexed Job that runs them, and `k8s run`'s
//!   create/wait/collect/delete behind the `Cluster` trait (its kube client
//!   in `kube_cluster`, feature `k8s`).
//! - [`database`]: SQLite or a private PostgreSQL server for the db workloads.
//! - [`load_doc`]: the `bakeoff load --json` document as serde structs, and
//!   the schema generated from them.
//! - [`schema`]: every JSON Schema checked in under `docs/schema/`, generated
//!   from serde structs; a new document's schema is one line there.
//! - [`input_file`]: reading a file the user names, with a size limit.
//! - [`scenario`]: scenario files (a service's own requests, templates and
//!   expectations) turned into the engine's request mix.
//! - [`workload`]: the workloads, the upstream service, and `verify`.
//! - [`suite`]: the plan, the capacity search, trials and statistics.
//! - [`measure`]: resource sampling of a process tree from `/proc`, the
//!   machine probes (`speed`), pinning, and `bakeoff machine`'s `survey`.
//! - [`store`]: the SQLite results store (the only module that speaks SQL).
//! - [`report`]: pure renderers from [`model`] to text, Markdown, JSON and HTML;
//!   and `report::fixtures` (tests and feature `fixtures`), the one builder of
//!   runs for tests, with the sample run the renderers are snapshot-tested on.
//! - [`verdict`]: the blog's claims checked, and the advisor.
//! - [`model`]: the results as plain data, shared by all of the above. Its kinds
//!   (workload, language, flag, status, outcome, phase, verdict, endpoint, runtime
//!   entry) are enums, each
//!   mapped to and from its text in one place (`model::text` and the kind's own
//!   `name`), so strings appear only in SQLite columns, JSON and the CLI.
//!
//! The load engine itself is the `bakeoff-load` crate.
//!
//! # Where a change goes
//!
//! - **A workload**: a variant of [`workload::Workload`] with its name, requests
//!   and contract endpoints in `workload/mod.rs` (a new endpoint is a
//!   `model::Endpoint` variant, its check in `workload/verify`), and an entry in
//!   `Workload::ALL` (without it `--workloads` refuses its name and `full` skips
//!   it). The compiler then names each exhaustive match that must decide about
//!   it: its start rate (`suite::search::config`) and its report kind
//!   (`report::summary`). Two lists it cannot check: the profiles that run it
//!   (`suite::plan`'s workload arrays) and the advisor's category that it
//!   measures (`verdict::profile`'s `Category::workloads`). A name bakeoff does
//!   not define reads back as `Workload::Custom`, so stores stay readable.
//! - **A user's own workload** needs no code: a contender's `[[workloads]]`
//!   (`contender/manifest_workloads.rs`) names a scenario file, measured as
//!   `Workload::Custom(name)` with the scenario's mix (`suite::live::CustomRequests`).
//! - **A contender field**: its table's struct in `contender/manifest_toml.rs`
//!   (serde names it in errors), its rule in `contender/manifest.rs`, and what
//!   the run records of it in `model::ContenderInfo`; stored, that is a column
//!   in a new `store/schema_vN.sql` with its step in `store/migrations.rs`, the
//!   INSERT in `store/write.rs` and the read in `store/read.rs` (SQL the compiler
//!   does not check; the store's round-trip test does), and the run document's
//!   schema regenerated (`BAKEOFF_UPDATE_SCHEMAS=1 cargo test -p bakeoff --lib schema`).
//! - **A report format**: a pure `render_*(run, w: impl Write)` in `report/`
//!   with a snapshot test, a `ReportFormat` value in `cli.rs`, and its arm in
//!   `cmd/report.rs` (and in `report/compare/render.rs`, for `bakeoff compare`).
//! - **A claim**: a function returning `ClaimResult` in `verdict/claims.rs` (or
//!   a module beside it, as `claims/versions.rs`), listed in `check_all`, with
//!   tests in `verdict/claims/tests.rs` on runs built with `report::fixtures`
//!   (the verdict's boundary run is `verdict/fixture.rs`).
//! - **A JSON document**: serde structs deriving `JsonSchema`, and one line in
//!   [`schema::all`]; the schema test writes `docs/schema/` on request.

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod cmd;
pub mod contender;
pub mod database;
pub mod distributed;
pub mod error;
pub mod input_file;
pub mod load_doc;
pub mod measure;
pub mod model;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod store;
pub mod suite;
pub mod verdict;
pub mod workload;

#[cfg(test)]
mod unused_deps;

pub use error::{exit_code, InputError, Interrupted};
