//! The upstream service that `/io` calls: `GET /delay?ms=M` answers
//! `{"ms":M,"seq":S}` after M ms and counts its calls. Binds 127.0.0.1 only.
//!
//! (Interface fixed; implementation in progress.)

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("cannot bind the upstream service on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
}

/// A running upstream service; stops when dropped or when its token is cancelled.
pub struct Upstream {
    addr: SocketAddr,
    _cancel: CancellationToken,
}

impl Upstream {
    /// Start on 127.0.0.1 with an ephemeral port.
    pub async fn start(cancel: CancellationToken) -> Result<Upstream, UpstreamError> {
        let _ = cancel;
        Err(UpstreamError::Bind(std::io::Error::other("not built yet")))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL without a trailing slash, for `BAKEOFF_UPSTREAM`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Number of `/delay` calls received so far.
    pub fn calls(&self) -> u64 {
        0
    }
}
