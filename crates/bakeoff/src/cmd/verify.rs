//! `bakeoff verify`.

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::cli::VerifyArgs;

pub async fn execute(_args: VerifyArgs, _cancel: CancellationToken) -> Result<u8> {
    anyhow::bail!("`bakeoff verify` is not built yet")
}
