//! `bakeoff report`.

use anyhow::Result;

use crate::cli::ReportArgs;

pub async fn execute(_args: ReportArgs) -> Result<u8> {
    anyhow::bail!("`bakeoff report` is not built yet")
}
