//! `bakeoff run`.

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::cli::RunArgs;

pub async fn execute(_args: RunArgs, _cancel: CancellationToken) -> Result<u8> {
    anyhow::bail!("`bakeoff run` is not built yet")
}
