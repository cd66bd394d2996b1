//! The target: URL checks, the loopback-only policy, and a connect probe that
//! turns "nothing listens there" into a clear error before any load starts.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use url::Url;

use crate::LoadError;

/// A checked, resolved, reachable target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub addr: SocketAddr,
    /// `host[:port]` as the user wrote it, for the `Host` header.
    pub authority: String,
}

/// Check the scheme and host of `url` and resolve it, applying the loopback policy.
pub(crate) fn resolve(
    url: &Url,
    scheme: &'static str,
    allow_remote: bool,
) -> Result<(Vec<SocketAddr>, String), LoadError> {
    if url.scheme() != scheme {
        return Err(LoadError::UnsupportedScheme {
            scheme: url.scheme().to_string(),
            expected: if scheme == "http" {
                "http:// (TLS is not supported)"
            } else {
                "ws:// (TLS is not supported)"
            },
        });
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| LoadError::InvalidUrl {
            url: url.to_string(),
            reason: "it has no host".into(),
        })?
        .to_string();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| LoadError::InvalidUrl {
            url: url.to_string(),
            reason: "it has no port".into(),
        })?;
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|source| LoadError::Resolve {
            host: host.clone(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        return Err(LoadError::Resolve {
            host,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses"),
        });
    }
    if !allow_remote {
        if let Some(bad) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(LoadError::NotLoopback {
                host,
                addr: bad.ip(),
            });
        }
    }
    Ok((addrs, authority))
}

/// Resolve `url` and find the first address that accepts a TCP connection.
pub(crate) async fn probe(
    url: &Url,
    scheme: &'static str,
    allow_remote: bool,
    timeout: Duration,
) -> Result<Target, LoadError> {
    let (addrs, authority) = resolve(url, scheme, allow_remote)?;
    let mut last = String::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => return Ok(Target { addr, authority }),
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => last = format!("{addr}: no answer within {timeout:?}"),
        }
    }
    Err(LoadError::Unreachable {
        target: authority,
        reason: last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_remote_and_wrong_scheme() {
        let u = Url::parse("http://192.0.2.7:80/").unwrap();
        assert!(matches!(
            resolve(&u, "http", false),
            Err(LoadError::NotLoopback { .. })
        ));
        assert!(resolve(&u, "http", true).is_ok());
        let u = Url::parse("https://127.0.0.1/").unwrap();
        assert!(matches!(
            resolve(&u, "http", false),
            Err(LoadError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn keeps_the_authority_for_the_host_header() {
        let u = Url::parse("http://127.0.0.1:8080/x").unwrap();
        let (addrs, auth) = resolve(&u, "http", false).unwrap();
        assert_eq!(auth, "127.0.0.1:8080");
        assert_eq!(addrs[0].port(), 8080);
        let u = Url::parse("http://[::1]:9/").unwrap();
        assert_eq!(resolve(&u, "http", false).unwrap().1, "[::1]:9");
    }
}
