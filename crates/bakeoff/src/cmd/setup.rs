//! `bakeoff setup`.

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::cli::SetupArgs;

pub async fn execute(_args: SetupArgs, _cancel: CancellationToken) -> Result<u8> {
    anyhow::bail!("`bakeoff setup` is not built yet")
}
