//! `bakeoff runs` and `bakeoff show`.

use anyhow::Result;

use crate::cli::{ShowArgs, StoreArgs};

pub async fn runs(_args: StoreArgs) -> Result<u8> {
    anyhow::bail!("`bakeoff runs` is not built yet")
}

pub async fn show(_args: ShowArgs) -> Result<u8> {
    anyhow::bail!("`bakeoff show` is not built yet")
}
