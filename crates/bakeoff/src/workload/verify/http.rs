//! A small, suspicious HTTP/1.1 client for the verifier: one request per
//! connection (or, for the keep-alive check, several in turn on a [`Conn`]),
//! a deadline on the whole exchange, capped header and body sizes, no byte
//! allowed beyond the announced body, and typed errors for every way a server
//! can lie (garbage, bad framing, hanging, an endless body).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use bakeoff_load::head;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

/// Where the contender listens, from its base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("`{0}` is not a valid base URL: {1}")]
    Invalid(String, String),
    #[error("`{0}` must be an http:// URL (the contender serves plain HTTP on 127.0.0.1)")]
    Scheme(String),
}

impl Target {
    pub fn parse(base_url: &str) -> Result<Target, TargetError> {
        let url = url::Url::parse(base_url)
            .map_err(|e| TargetError::Invalid(base_url.into(), e.to_string()))?;
        if url.scheme() != "http" {
            return Err(TargetError::Scheme(base_url.into()));
        }
        let host = url
            .host_str()
            .ok_or_else(|| TargetError::Invalid(base_url.into(), "no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        Ok(Target { host, port })
    }

    /// `host:port` for the Host header and WebSocket URLs.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("no complete response within {0:?} (the server hangs or is too slow)")]
    Timeout(Duration),
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
    #[error("response larger than the {0}-byte limit")]
    TooLarge(usize),
    #[error("connection closed before the response was complete ({0})")]
    Truncated(&'static str),
    #[error("the server sent {0} bytes after the body its Content-Length or chunked framing announced (a Content-Length that counts characters instead of UTF-8 bytes, or a body written twice?)")]
    Overlong(usize),
}

/// `GET path` on a new connection that the request asks to close, with a
/// deadline on the whole exchange and a body size cap. The server must then
/// close after exactly the body its framing announced: bytes beyond it (a
/// Content-Length that counts characters, a body written twice) are an error.
pub async fn get(
    target: &Target,
    path: &str,
    timeout: Duration,
    max_body: usize,
) -> Result<Response, FetchError> {
    let exchange = async {
        let mut conn = Conn::open(target).await?;
        let resp = conn.request(path, true, max_body).await?;
        conn.expect_close().await?;
        Ok(resp)
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(FetchError::Timeout(timeout)),
    }
}

/// How long a server that was asked to close may take to do so before its
/// silence counts as "no more bytes" (it kept the connection: not our concern).
const CLOSE_GRACE: Duration = Duration::from_millis(100);

/// One connection carrying requests in turn, for the keep-alive check.
pub struct Conn {
    stream: TcpStream,
    authority: String,
    /// Bytes read past the last response (the start of the next one).
    buf: Vec<u8>,
    /// The server announced or did an end of the connection.
    closed: bool,
}

impl Conn {
    pub async fn open(target: &Target) -> Result<Conn, FetchError> {
        let stream = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| FetchError::Connect(target.authority(), e))?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            authority: target.authority(),
            buf: Vec::new(),
            closed: false,
        })
    }

    /// `GET path` on this connection; `close` adds `Connection: close`. No
    /// deadline of its own: wrap it in one.
    pub async fn request(
        &mut self,
        path: &str,
        close: bool,
        max_body: usize,
    ) -> Result<Response, FetchError> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: bakeoff-verify\r\nAccept: */*\r\n{}\r\n",
            self.authority,
            if close { "Connection: close\r\n" } else { "" }
        );
        self.stream.write_all(request.as_bytes()).await?;
        let (resp, announces_close) = self.read_response(max_body).await?;
        self.closed |= announces_close;
        Ok(resp)
    }

    /// The server sent `Connection: close` or framed a body by closing.
    pub fn closed_by_server(&self) -> bool {
        self.closed
    }

    /// After a `Connection: close` exchange: no byte may follow the body.
    async fn expect_close(&mut self) -> Result<(), FetchError> {
        let mut extra = std::mem::take(&mut self.buf).len();
        let mut chunk = [0u8; 4096];
        loop {
            match tokio::time::timeout(CLOSE_GRACE, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Err(_) => break,
                // A reset after the response is how some servers close.
                Ok(Err(_)) => break,
                Ok(Ok(n)) => {
                    extra += n;
                    if extra > MAX_HEAD {
                        break;
                    }
                }
            }
        }
        if extra > 0 {
            return Err(FetchError::Overlong(extra));
        }
        Ok(())
    }

    /// The response, and whether the server will close the connection after it.
    async fn read_response(&mut self, max_body: usize) -> Result<(Response, bool), FetchError> {
        let mut buf = std::mem::take(&mut self.buf);
        let mut chunk = vec![0u8; 16 * 1024];
        // Read the head.
        let (status, headers, head_len, fields) = loop {
            if let Some(head) = parse_head(&buf)? {
                // Skip interim 1xx responses (e.g. 100 Continue).
                if (100..200).contains(&head.0) && head.0 != 101 {
                    buf.drain(..head.2);
                    continue;
                }
                break head;
            }
            if buf.len() > MAX_HEAD {
                return Err(FetchError::Malformed(format!(
                    "no end of headers within {MAX_HEAD} bytes"
                )));
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                self.closed = true;
                return Err(if buf.is_empty() {
                    FetchError::Truncated("no response at all")
                } else {
                    FetchError::Truncated("inside the headers")
                });
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        buf.drain(..head_len);

        let framing = match fields.framing(status, false) {
            head::Framing::Empty => Framing::Empty,
            head::Framing::Chunked => Framing::Chunked(ChunkedDecoder::default()),
            head::Framing::Length(len) => {
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                if len > max_body {
                    return Err(FetchError::TooLarge(max_body));
                }
                Framing::Length(len)
            }
            head::Framing::UntilClose => {
                self.closed = true;
                Framing::UntilClose
            }
        };

        let (body, rest) = read_body(&mut self.stream, buf, framing, max_body, &mut chunk).await?;
        self.buf = rest;
        let response = Response {
            status,
            headers,
            body,
        };
        Ok((response, fields.close()))
    }
}

enum Framing {
    Empty,
    Length(usize),
    Chunked(ChunkedDecoder),
    UntilClose,
}

async fn read_body(
    stream: &mut TcpStream,
    mut buf: Vec<u8>,
    mut framing: Framing,
    max_body: usize,
    chunk: &mut [u8],
) -> Result<(Vec<u8>, Vec<u8>), FetchError> {
    loop {
        match &mut framing {
            Framing::Empty => return Ok((Vec::new(), buf)),
            Framing::Length(len) => {
                if buf.len() >= *len {
                    let rest = buf.split_off(*len);
                    return Ok((buf, rest));
                }
            }
            Framing::Chunked(dec) => {
                if dec.feed(&buf, max_body)? {
                    let rest = buf.split_off(dec.pos);
                    return Ok((std::mem::take(&mut dec.body), rest));
                }
            }
            Framing::UntilClose => {
                if buf.len() > max_body {
                    return Err(FetchError::TooLarge(max_body));
                }
            }
        }
        let n = stream.read(chunk).await?;
        if n == 0 {
            return match framing {
                Framing::UntilClose => Ok((buf, Vec::new())),
                Framing::Chunked(_) => Err(FetchError::Truncated("inside a chunked body")),
                _ => Err(FetchError::Truncated("before Content-Length bytes arrived")),
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Status, headers, head length, and what the framing headers say.
type Head = (u16, Vec<(String, String)>, usize, head::Fields);

/// Parse a response head; `None` while incomplete.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, FetchError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete(len)) => {
            let status = resp.code.unwrap_or(0);
            let mut fields = head::Fields::new(resp.version == Some(0));
            for h in resp.headers.iter() {
                fields
                    .add(h.name, h.value)
                    .map_err(|e| FetchError::Malformed(e.to_string()))?;
            }
            let headers = resp
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            Ok(Some((status, headers, len, fields)))
        }
        Err(e) => Err(FetchError::Malformed(format!(
            "{e} (first bytes: {})",
            super::snippet(&String::from_utf8_lossy(&buf[..buf.len().min(60)]))
        ))),
    }
}

/// Incremental chunked-transfer decoder: `feed` is called with the whole
/// buffer so far and resumes where it stopped.
#[derive(Debug, Default)]
struct ChunkedDecoder {
    pos: usize,
    /// Bytes of the current chunk's data still to copy.
    in_chunk: usize,
    /// A chunk's data ended; its CRLF is pending.
    need_crlf: bool,
    /// The last chunk was seen; trailers follow.
    trailers: bool,
    body: Vec<u8>,
}

impl ChunkedDecoder {
    /// Returns true once the body is complete.
    fn feed(&mut self, buf: &[u8], max_body: usize) -> Result<bool, FetchError> {
        loop {
            let rest = &buf[self.pos..];
            if self.in_chunk > 0 {
                let take = self.in_chunk.min(rest.len());
                self.body.extend_from_slice(&rest[..take]);
                self.pos += take;
                self.in_chunk -= take;
                if self.in_chunk > 0 {
                    return Ok(false);
                }
                self.need_crlf = true;
                continue;
            }
            if self.need_crlf {
                if rest.len() < 2 {
                    return Ok(false);
                }
                if &rest[..2] != b"\r\n" {
                    return Err(FetchError::Malformed(
                        "chunk data not followed by CRLF".into(),
                    ));
                }
                self.pos += 2;
                self.need_crlf = false;
                continue;
            }
            if self.trailers {
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(false);
                };
                self.pos += end + 2;
                if end == 0 {
                    return Ok(true);
                }
                continue;
            }
            match httparse::parse_chunk_size(rest) {
                Ok(httparse::Status::Partial) => return Ok(false),
                Ok(httparse::Status::Complete((used, size))) => {
                    self.pos += used;
                    if size == 0 {
                        self.trailers = true;
                        continue;
                    }
                    let size = usize::try_from(size).unwrap_or(usize::MAX);
                    if self.body.len().saturating_add(size) > max_body {
                        return Err(FetchError::TooLarge(max_body));
                    }
                    self.in_chunk = size;
                }
                Err(_) => {
                    return Err(FetchError::Malformed(format!(
                        "bad chunk size line: {}",
                        super::snippet(&String::from_utf8_lossy(&rest[..rest.len().min(40)]))
                    )))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_from_base_urls() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.authority(), "127.0.0.1:8080");
        assert!(matches!(
            Target::parse("https://x"),
            Err(TargetError::Scheme(_))
        ));
        assert!(Target::parse("not a url").is_err());
    }

    #[test]
    fn chunked_bodies_decode_across_partial_feeds() {
        let wire = b"5\r\nHello\r\n8;ext=1\r\n, World!\r\n0\r\nX-T: 1\r\n\r\n";
        let mut dec = ChunkedDecoder::default();
        let mut done = false;
        for end in 1..=wire.len() {
            done = dec.feed(&wire[..end], 1024).unwrap();
            if done {
                assert_eq!(end, wire.len());
            }
        }
        assert!(done);
        assert_eq!(dec.body, b"Hello, World!");
    }

    #[test]
    fn chunked_bodies_are_capped_and_validated() {
        let mut dec = ChunkedDecoder::default();
        assert!(matches!(
            dec.feed(b"ffffff\r\n", 1024),
            Err(FetchError::TooLarge(1024))
        ));
        let mut dec = ChunkedDecoder::default();
        assert!(matches!(
            dec.feed(b"zz\r\n", 1024),
            Err(FetchError::Malformed(_))
        ));
        let mut dec = ChunkedDecoder::default();
        assert!(matches!(
            dec.feed(b"2\r\nabXX", 1024),
            Err(FetchError::Malformed(_))
        ));
    }

    #[test]
    fn framing_follows_the_shared_head_rules() {
        let framing = |head: &[u8]| {
            let (status, _, _, fields) = parse_head(head).unwrap().unwrap();
            fields.framing(status, false)
        };
        let gzip_chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert_eq!(framing(gzip_chunked), head::Framing::Chunked);
        // Chunked not last: the body runs to the close, Content-Length ignored.
        let chunked_gzip =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(framing(chunked_gzip), head::Framing::UntilClose);
        let two = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n";
        assert!(
            matches!(parse_head(two), Err(FetchError::Malformed(m)) if m.contains("conflicting"))
        );
        let http10 = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert!(parse_head(http10).unwrap().unwrap().3.close());
    }

    #[test]
    fn heads_parse_or_fail_cleanly() {
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nA: b").unwrap().is_none());
        let (status, headers, len, _) = parse_head(b"HTTP/1.1 404 Not Found\r\nA: b\r\n\r\nbody")
            .unwrap()
            .unwrap();
        assert_eq!((status, len), (404, 32));
        assert_eq!(headers, vec![("A".to_string(), "b".to_string())]);
        assert!(matches!(
            parse_head(b"\x00\xffgarbage\r\n\r\n"),
            Err(FetchError::Malformed(_))
        ));
    }
}
