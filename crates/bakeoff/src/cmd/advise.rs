//! `bakeoff advise`.

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use crate::cli::AdviseArgs;

pub async fn execute(_args: AdviseArgs, _cancel: CancellationToken) -> Result<u8> {
    anyhow::bail!("`bakeoff advise` is not built yet")
}
