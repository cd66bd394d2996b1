//! `bakeoff compare`.

use anyhow::Result;

use crate::cli::CompareArgs;

pub async fn execute(_args: CompareArgs) -> Result<u8> {
    anyhow::bail!("`bakeoff compare` is not built yet")
}
