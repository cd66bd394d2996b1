//! The SQLite results store: the only module that speaks SQL.
//!
//! (Interface fixed; implementation in progress.)

use std::path::{Path, PathBuf};

use crate::model::{Cell, ContenderInfo, Environment, Run, RunStatus, Settings};

/// The default database path, relative to the working directory.
pub const DEFAULT_DB: &str = "bakeoff-results/bakeoff.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("results database {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("no run {0} in the results database; `bakeoff runs` lists them")]
    NoSuchRun(String),
    #[error("the results database has no runs yet; `bakeoff run` makes one")]
    Empty,
    #[error("results database: {0}")]
    Sql(String),
}

/// One line of `bakeoff runs`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub profile: String,
    pub contenders: Vec<String>,
    pub workloads: Vec<String>,
    pub cells_ok: u32,
    pub cells_failed: u32,
}

pub struct Store {
    _path: PathBuf,
}

impl Store {
    /// Open (creating directories and the file if needed), migrate, and mark runs
    /// left `running` by a dead process as `interrupted`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Err(StoreError::Open {
            path: path.to_path_buf(),
            message: "store not built yet".into(),
        })
    }

    /// Insert a new run in state `running`; returns its id.
    pub fn begin_run(
        &mut self,
        started_at: &str,
        settings: &Settings,
        environment: &Environment,
        contenders: &[ContenderInfo],
    ) -> Result<i64, StoreError> {
        let _ = (started_at, settings, environment, contenders);
        Err(StoreError::Sql("store not built yet".into()))
    }

    /// Write one finished cell (with trials, steps, metrics, timeline and
    /// histograms) in one transaction.
    pub fn record_cell(&mut self, run_id: i64, cell: &Cell) -> Result<(), StoreError> {
        let _ = (run_id, cell);
        Err(StoreError::Sql("store not built yet".into()))
    }

    pub fn finish_run(
        &mut self,
        run_id: i64,
        status: RunStatus,
        finished_at: &str,
    ) -> Result<(), StoreError> {
        let _ = (run_id, status, finished_at);
        Err(StoreError::Sql("store not built yet".into()))
    }

    pub fn list_runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        Err(StoreError::Sql("store not built yet".into()))
    }

    pub fn load_run(&self, id: i64) -> Result<Run, StoreError> {
        Err(StoreError::NoSuchRun(id.to_string()))
    }

    /// "latest" or a run id.
    pub fn resolve(&self, run: &str) -> Result<i64, StoreError> {
        Err(StoreError::NoSuchRun(run.to_string()))
    }
}
