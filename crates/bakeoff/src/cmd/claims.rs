//! `bakeoff claims`.

use anyhow::Result;

use crate::cli::ClaimsArgs;

pub async fn execute(_args: ClaimsArgs) -> Result<u8> {
    anyhow::bail!("`bakeoff claims` is not built yet")
}
