//! bakeoff: Node.js or Python for your backend, settled with measurements.
//!
//! # Layout
//!
//! - [`cli`]: the clap-derive command line, as typed.
//! - [`cmd`]: one module per subcommand; turns arguments into validated configs
//!   and calls the library. The only place that prints.
//! - [`contender`]: the manifest (`bakeoff.toml`), where the reference contenders
//!   are (`locate`: the clone's, or the copy built into the binary), `setup`
//!   (installs, their `cache`, and data generation), other runtime versions
//!   (`runtimes`: `--python` interpreters, `--node` releases from the npm registry,
//!   end-of-life dates in `eol`) and the supervisor (processes, health, logs, teardown).
//! - [`distributed`]: a test split into segments run on many machines, their
//!   exact merge, and the Kubernetes Indexed Job that runs them.
//! - [`database`]: SQLite or a private PostgreSQL server for the db workloads.
//! - [`scenario`]: scenario files (a service's own requests, templates and
//!   expectations) turned into the engine's request mix.
//! - [`workload`]: the workloads, the upstream service, and `verify`.
//! - [`suite`]: the plan, the capacity search, trials and statistics.
//! - [`measure`]: resource sampling of a process tree from `/proc`.
//! - [`store`]: the SQLite results store (the only module that speaks SQL).
//! - [`report`]: pure renderers from [`model`] to text, Markdown, JSON and HTML.
//! - [`verdict`]: the blog's claims checked, and the advisor.
//! - [`model`]: the results as plain data, shared by all of the above. Its kinds
//!   (workload, language, flag, status, outcome, phase, verdict) are enums, each
//!   mapped to and from its text in one place (`model::text` and the kind's own
//!   `name`), so strings appear only in SQLite columns, JSON and the CLI.
//!
//! The load engine itself is the `bakeoff-load` crate.

pub mod cli;
pub mod cmd;
pub mod contender;
pub mod database;
pub mod distributed;
pub mod error;
pub mod measure;
pub mod model;
pub mod report;
pub mod scenario;
pub mod store;
pub mod suite;
pub mod verdict;
pub mod workload;

pub use error::{exit_code, InputError, Interrupted};
