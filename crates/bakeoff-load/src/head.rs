//! The rules of a response head that decide how to read what follows: the
//! status line, `Content-Length`, `Transfer-Encoding` and `Connection`
//! (RFC 9112 §6 and §9). The engine, bakeoff's verifier and its health probe
//! each read responses their own way (the engine's hot path reuses one buffer
//! and skips bodies), but they read heads by these rules, so they cannot disagree.

/// How a response's body ends (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all: a 1xx, 204 or 304 status, or the answer to `HEAD`.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding, ended by a zero-size chunk.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// A head that cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// `Content-Length` is not a decimal number.
    #[error("bad Content-Length `{0}`")]
    BadLength(String),
    /// Two `Content-Length` values that differ.
    #[error("conflicting Content-Length headers: {0} and {1}")]
    ConflictingLength(u64, u64),
}

/// The framing headers of one response, fed one header at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    length: Option<u64>,
    /// `Some(last coding is chunked)` once a `Transfer-Encoding` was seen.
    chunked: Option<bool>,
    http10: bool,
    close_token: bool,
    keep_alive_token: bool,
}

impl Fields {
    /// Before any header: an HTTP/1.0 response closes unless it says keep-alive.
    #[inline]
    pub fn new(http10: bool) -> Self {
        Fields {
            length: None,
            chunked: None,
            http10,
            close_token: false,
            keep_alive_token: false,
        }
    }

    /// Take one header into account (names are case-insensitive; others are ignored).
    #[inline]
    pub fn add(&mut self, name: &str, value: &[u8]) -> Result<(), HeadError> {
        if name.eq_ignore_ascii_case("content-length") {
            let bad = || HeadError::BadLength(String::from_utf8_lossy(value).into_owned());
            let text = std::str::from_utf8(value).map_err(|_| bad())?.trim();
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let n: u64 = text.parse().map_err(|_| bad())?;
            match self.length {
                Some(m) if m != n => return Err(HeadError::ConflictingLength(m, n)),
                _ => self.length = Some(n),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Several headers form one list; the last coding of the last decides.
            if value
                .split(|&b| b == b',')
                .any(|c| !c.trim_ascii().is_empty())
            {
                self.chunked = Some(chunked_last(value));
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                self.close_token |= token.eq_ignore_ascii_case(b"close");
                self.keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
        Ok(())
    }

    /// How the body ends, for `status` to a request that was (not) `HEAD`.
    /// With a `Transfer-Encoding` whose last coding is not chunked, a response
    /// is read until close and any `Content-Length` is ignored (RFC 9112 §6.3).
    #[inline]
    pub fn framing(&self, status: u16, head_request: bool) -> Framing {
        if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
            Framing::Empty
        } else {
            match (self.chunked, self.length) {
                (Some(true), _) => Framing::Chunked,
                (Some(false), _) | (None, None) => Framing::UntilClose,
                (None, Some(n)) => Framing::Length(n),
            }
        }
    }

    /// The server will close the connection after this response: it said
    /// `close` (which wins over `keep-alive`), or it is HTTP/1.0 without `keep-alive`.
    #[inline]
    pub fn close(&self) -> bool {
        self.close_token || (self.http10 && !self.keep_alive_token)
    }

    /// The `Content-Length`, if one was given.
    #[inline]
    pub fn content_length(&self) -> Option<u64> {
        self.length
    }
}

/// Whether a `Transfer-Encoding` value ends with `chunked` (RFC 9112 §6.1: only
/// the final coding may be chunked; `gzip, chunked` is chunked, `chunked, gzip` is not).
#[inline]
pub fn chunked_last(value: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .rfind(|c| !c.is_empty())
        .is_some_and(|last| last.eq_ignore_ascii_case(b"chunked"))
}

/// A status line that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusLineError {
    /// The peer sent nothing.
    #[error("connection closed without a response")]
    Empty,
    /// The first line is not `HTTP/x.y NNN …`.
    #[error("not an HTTP response: {0:?}")]
    NotHttp(String),
}

/// The status code from the first line of `buf` (`HTTP/1.1 200 OK\r\n`).
pub fn status_line(buf: &[u8]) -> Result<u16, StatusLineError> {
    let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_ascii_whitespace();
    let version = parts.next().filter(|v| v.starts_with("HTTP/"));
    let code = parts
        .next()
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u16>().ok());
    match (version, code) {
        (Some(_), Some(code)) => Ok(code),
        _ if buf.is_empty() => Err(StatusLineError::Empty),
        _ => Err(StatusLineError::NotHttp(line.trim_end().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(http10: bool, headers: &[(&str, &str)]) -> Result<Fields, HeadError> {
        let mut f = Fields::new(http10);
        for (k, v) in headers {
            f.add(k, v.as_bytes())?;
        }
        Ok(f)
    }

    #[test]
    fn chunked_must_be_the_last_coding() {
        let f = fields(false, &[("Transfer-Encoding", "gzip, chunked")]).unwrap();
        assert_eq!(f.framing(200, false), Framing::Chunked);
        // Not chunked last: read until close, whatever Content-Length says.
        let f = fields(
            false,
            &[
                ("Transfer-Encoding", "chunked, gzip"),
                ("Content-Length", "5"),
            ],
        )
        .unwrap();
        assert_eq!(f.framing(200, false), Framing::UntilClose);
        let f = fields(false, &[("transfer-encoding", " CHUNKED ")]).unwrap();
        assert_eq!(f.framing(200, false), Framing::Chunked);
        // Two headers are one list: the last one's last coding decides.
        let f = fields(
            false,
            &[
                ("Transfer-Encoding", "chunked"),
                ("Transfer-Encoding", "gzip"),
            ],
        )
        .unwrap();
        assert_eq!(f.framing(200, false), Framing::UntilClose);
        assert!(chunked_last(b"gzip,chunked,"));
        assert!(!chunked_last(b"xchunked"));
        assert!(!chunked_last(b""));
    }

    #[test]
    fn lengths_and_bodiless_statuses() {
        let f = fields(false, &[("Content-Length", "12")]).unwrap();
        assert_eq!(f.framing(200, false), Framing::Length(12));
        assert_eq!(f.framing(200, true), Framing::Empty);
        assert_eq!(f.framing(204, false), Framing::Empty);
        assert_eq!(f.framing(304, false), Framing::Empty);
        assert_eq!(f.content_length(), Some(12));
        assert_eq!(
            fields(false, &[]).unwrap().framing(200, false),
            Framing::UntilClose
        );
        // The same length twice is one length; two lengths are an error.
        assert!(fields(false, &[("Content-Length", "3"), ("content-length", " 3")]).is_ok());
        assert_eq!(
            fields(false, &[("Content-Length", "3"), ("Content-Length", "4")]),
            Err(HeadError::ConflictingLength(3, 4))
        );
        for bad in ["", "-1", "+3", "3x", "1 2"] {
            assert!(
                matches!(
                    fields(false, &[("Content-Length", bad)]),
                    Err(HeadError::BadLength(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn connection_close_and_the_http10_default() {
        assert!(!fields(false, &[]).unwrap().close());
        assert!(fields(true, &[]).unwrap().close());
        assert!(!fields(true, &[("Connection", "Keep-Alive")])
            .unwrap()
            .close());
        assert!(fields(false, &[("Connection", "upgrade, close")])
            .unwrap()
            .close());
        assert!(fields(false, &[("Connection", "close, keep-alive")])
            .unwrap()
            .close());
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_line(b"HTTP/1.1 200 OK\r\n"), Ok(200));
        assert_eq!(status_line(b"HTTP/1.0 503 Nope\r\nX: y"), Ok(503));
        assert_eq!(status_line(b""), Err(StatusLineError::Empty));
        assert!(matches!(
            status_line(b"SSH-2.0\r\n"),
            Err(StatusLineError::NotHttp(_))
        ));
        assert!(status_line(b"HTTP/1.1 2000 OK\r\n").is_err());
    }
}
