//! `bakeoff load`.

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::cli::LoadArgs;

pub async fn execute(_args: LoadArgs, _cancel: CancellationToken) -> Result<u8> {
    anyhow::bail!("`bakeoff load` is not built yet")
}
