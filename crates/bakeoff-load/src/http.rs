//! HTTP/1.1 on the wire: requests serialized once up front, and a response reader
//! built on `httparse` that handles Content-Length, chunked and close-delimited
//! bodies while reusing one buffer per connection (bodies are skipped, or kept for a
//! class whose expectation reads them).

use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::expect::MAX_BODY;
use crate::head::{Fields, Framing};
use crate::ticked::{TickedStream, Ticker};
use crate::{LoadError, RequestSpec};

const MAX_HEAD: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;
/// The shortest window [`Conn::keep_alive_race`] allows.
const KEEP_ALIVE_RACE: Duration = Duration::from_millis(10);

/// Whether `method` is HEAD, whose answers have headers and no body (RFC 9110
/// §9.3.2), however long their `Content-Length`.
pub(crate) fn is_head(method: &str) -> bool {
    method.eq_ignore_ascii_case("HEAD")
}

/// Serialize one request with a `Host` header and, when there is a body or the
/// method usually carries one, a `Content-Length`.
pub(crate) fn serialize(spec: &RequestSpec, authority: &str) -> Result<Bytes, LoadError> {
    let bad = |what: &str| LoadError::InvalidConfig(format!("request `{}`: {what}", spec.class));
    if spec.method.is_empty() || !spec.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad("the method must be letters only, e.g. GET"));
    }
    if !spec.path.starts_with('/') || spec.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(bad("the path must start with / and contain no spaces"));
    }
    let mut out = Vec::with_capacity(128 + spec.body.len());
    out.extend_from_slice(spec.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(spec.path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let has = |name: &str| {
        spec.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    if !has("host") {
        out.extend_from_slice(format!("Host: {authority}\r\n").as_bytes());
    }
    for (k, v) in &spec.headers {
        let name_ok = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_graphic() && b != b':' && b != b'(' && b != b')');
        if !name_ok {
            return Err(bad(&format!("invalid header name `{k}`")));
        }
        if v.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(bad(&format!("header `{k}` has a line break in its value")));
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    let wants_length = !spec.body.is_empty()
        || matches!(
            spec.method.to_ascii_uppercase().as_str(),
            "POST" | "PUT" | "PATCH"
        );
    if wants_length && !has("content-length") && !has("transfer-encoding") {
        out.extend_from_slice(format!("Content-Length: {}\r\n", spec.body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&spec.body);
    Ok(Bytes::from(out))
}

/// How one exchange went wrong.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    /// The peer closed before sending any byte of the response: on a reused
    /// connection this is a keep-alive close race, and the request may be retried.
    ClosedBeforeResponse,
    /// Broken mid-response, or an I/O error.
    Reset,
    /// Not valid HTTP/1.1.
    Parse,
}

/// A complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    /// The server will close (or has closed) the connection after this response.
    pub close: bool,
    /// When the kernel received its last bytes (tick-harvested connections).
    pub arrived: Option<Instant>,
}

/// A socket in tokio's reactor (woken per event) or in a [`Ticker`]'s set.
enum Stream {
    Reactor(TcpStream),
    Ticked(TickedStream),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Reactor(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Ticked(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Reactor(s) => Pin::new(s).poll_write(cx, data),
            Stream::Ticked(s) => Pin::new(s).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Reactor(s) => Pin::new(s).poll_flush(cx),
            Stream::Ticked(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Reactor(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Ticked(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// One keep-alive connection with its reusable read buffer.
pub(crate) struct Conn {
    stream: Stream,
    buf: BytesMut,
    /// The last response's body (its first [`MAX_BODY`] bytes), when the
    /// exchange asked to keep it.
    pub body: Vec<u8>,
    keep_body: bool,
    /// Responses completed on this connection.
    pub served: u64,
    /// How long the TCP handshake took: about one round trip.
    handshake: Duration,
}

impl Conn {
    /// Connect; with a `ticker`, the socket is read on its ticks (open loop).
    pub(crate) async fn connect(
        addr: SocketAddr,
        ticker: Option<&Rc<Ticker>>,
    ) -> std::io::Result<Conn> {
        let start = tokio::time::Instant::now();
        let stream = TcpStream::connect(addr).await?;
        let handshake = start.elapsed();
        stream.set_nodelay(true)?;
        let conn = Conn {
            stream: Stream::Reactor(stream),
            buf: BytesMut::with_capacity(READ_CHUNK),
            body: Vec::new(),
            keep_body: false,
            served: 0,
            handshake,
        };
        match ticker {
            Some(t) => conn.into_ticked(t),
            None => Ok(conn),
        }
    }

    /// How soon after a request is sent a close still counts as the
    /// keep-alive race, the server closing an idle connection as the request
    /// was on its way: within a few round trips (the close was already
    /// coming), at least [`KEEP_ALIVE_RACE`] for a tick's harvest and a busy
    /// event loop. A close later than that met a request the server held: a
    /// worker that died, not an idle timeout, and the request failed.
    pub(crate) fn keep_alive_race(&self) -> Duration {
        (self.handshake * 4).max(KEEP_ALIVE_RACE)
    }

    /// Move a connection opened without a ticker into `ticker`'s set, so the
    /// open loop reads it on its ticks from here on (one already there stays).
    pub(crate) fn into_ticked(self, ticker: &Rc<Ticker>) -> std::io::Result<Conn> {
        let stream = match self.stream {
            Stream::Reactor(s) => Stream::Ticked(TickedStream::new(s, ticker)?),
            ticked @ Stream::Ticked(_) => ticked,
        };
        Ok(Conn { stream, ..self })
    }

    /// Send one pre-serialized request and read its response. `head` says the
    /// request was a HEAD (no body follows); with `keep_body`, the body is
    /// kept in [`Conn::body`] instead of skipped.
    pub(crate) async fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
        keep_body: bool,
    ) -> Result<Response, ExchangeError> {
        self.keep_body = keep_body;
        self.body.clear();
        if self.stream.write_all(request).await.is_err() {
            return Err(if self.served > 0 {
                ExchangeError::ClosedBeforeResponse
            } else {
                ExchangeError::Reset
            });
        }
        let mut resp = self.read_response(head).await?;
        if let Stream::Ticked(s) = &mut self.stream {
            resp.arrived = s.take_last_rx();
        }
        self.served += 1;
        Ok(resp)
    }

    /// Read more bytes; `Ok(false)` at end of stream.
    async fn fill(&mut self) -> Result<bool, ExchangeError> {
        if self.buf.is_empty() {
            self.buf.clear();
        }
        self.buf.reserve(READ_CHUNK);
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Ok(false),
            Ok(_) => Ok(true),
            Err(_) => Err(ExchangeError::Reset),
        }
    }

    async fn read_response(&mut self, head_request: bool) -> Result<Response, ExchangeError> {
        let mut got_any = !self.buf.is_empty();
        loop {
            let (status, fields) = loop {
                if !self.buf.is_empty() {
                    if let Some(parsed) = parse_head(&mut self.buf)? {
                        break parsed;
                    }
                    if self.buf.len() > MAX_HEAD {
                        return Err(ExchangeError::Parse);
                    }
                }
                // EOF or a reset before any byte of the response: the peer had
                // closed the connection (a keep-alive race), not broken a response.
                let more = match self.fill().await {
                    Err(_) if !got_any => false,
                    other => other?,
                };
                if !more {
                    return Err(if got_any {
                        ExchangeError::Reset
                    } else {
                        ExchangeError::ClosedBeforeResponse
                    });
                }
                got_any = true;
            };
            if (100..200).contains(&status) {
                continue; // an interim response; the real one follows
            }
            let close = fields.close();
            let close = match fields.framing(status, head_request) {
                Framing::Empty => close,
                Framing::Length(n) => {
                    self.skip(n).await?;
                    close
                }
                Framing::Chunked => {
                    self.skip_chunked().await?;
                    close
                }
                Framing::UntilClose => {
                    loop {
                        self.keep(self.buf.len());
                        self.buf.clear();
                        if !self.fill().await? {
                            break;
                        }
                    }
                    true
                }
            };
            return Ok(Response {
                status,
                close,
                arrived: None,
            });
        }
    }

    /// Keep the first `n` buffered bytes as body, when asked to.
    fn keep(&mut self, n: usize) {
        if self.keep_body && self.body.len() < MAX_BODY {
            let room = MAX_BODY - self.body.len();
            self.body.extend_from_slice(&self.buf[..n.min(room)]);
        }
    }

    /// Consume `n` body bytes (kept when asked to, else discarded).
    async fn skip(&mut self, mut n: u64) -> Result<(), ExchangeError> {
        loop {
            let take = (self.buf.len() as u64).min(n);
            self.keep(take as usize);
            self.buf.advance(take as usize);
            n -= take;
            if n == 0 {
                return Ok(());
            }
            if !self.fill().await? {
                return Err(ExchangeError::Reset);
            }
        }
    }

    /// Ensure at least `n` bytes are buffered.
    async fn need(&mut self, n: usize) -> Result<(), ExchangeError> {
        while self.buf.len() < n {
            if !self.fill().await? {
                return Err(ExchangeError::Reset);
            }
        }
        Ok(())
    }

    async fn skip_chunked(&mut self) -> Result<(), ExchangeError> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.buf.advance(used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) if self.buf.len() < 1024 => {
                        if !self.fill().await? {
                            return Err(ExchangeError::Reset);
                        }
                    }
                    _ => return Err(ExchangeError::Parse),
                }
            };
            if size == 0 {
                return self.skip_trailers().await;
            }
            self.skip(size).await?;
            self.need(2).await?;
            if &self.buf[..2] != b"\r\n" {
                return Err(ExchangeError::Parse);
            }
            self.buf.advance(2);
        }
    }

    /// After the last chunk: optional trailer lines, then an empty line.
    async fn skip_trailers(&mut self) -> Result<(), ExchangeError> {
        loop {
            match self.buf.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.buf.advance(2);
                    return Ok(());
                }
                Some(i) => self.buf.advance(i + 2),
                None if self.buf.len() > MAX_HEAD => return Err(ExchangeError::Parse),
                None => {
                    if !self.fill().await? {
                        return Err(ExchangeError::Reset);
                    }
                }
            }
        }
    }
}

/// Parse a response head from the front of `buf`, consuming it when complete.
fn parse_head(buf: &mut BytesMut) -> Result<Option<(u16, Fields)>, ExchangeError> {
    // Uninitialized header slots: zeroing 64 of them per response showed in profiles.
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; 64];
    let mut resp = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut resp,
        buf,
        &mut headers,
    );
    let used = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ExchangeError::Parse),
    };
    let status = resp.code.ok_or(ExchangeError::Parse)?;
    let mut fields = Fields::new(resp.version == Some(0));
    for h in resp.headers.iter() {
        fields
            .add(h.name, h.value)
            .map_err(|_| ExchangeError::Parse)?;
    }
    buf.advance(used);
    Ok(Some((status, fields)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_host_and_length() {
        let mut spec = RequestSpec::get("/x?y=1");
        spec.method = "POST".into();
        spec.body = Bytes::from_static(b"abc");
        spec.headers.push(("X-A".into(), "1".into()));
        let b = serialize(&spec, "127.0.0.1:80").unwrap();
        assert_eq!(
            &b[..],
            b"POST /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:80\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nabc"
        );
        let get = serialize(&RequestSpec::get("/"), "h").unwrap();
        assert_eq!(&get[..], b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    }

    #[test]
    fn rejects_header_injection() {
        let mut spec = RequestSpec::get("/");
        spec.headers.push(("X".into(), "a\r\nEvil: 1".into()));
        assert!(serialize(&spec, "h").is_err());
        spec.headers[0] = ("Bad Name".into(), "v".into());
        assert!(serialize(&spec, "h").is_err());
    }

    #[test]
    fn parses_heads() {
        let mut b = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..]);
        let (status, f) = parse_head(&mut b).unwrap().unwrap();
        assert_eq!(
            (status, f.framing(status, false), f.close()),
            (200, Framing::Length(5), false)
        );
        assert_eq!(&b[..], b"hello");
        let mut b = BytesMut::from(
            &b"HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"[..],
        );
        let (status, f) = parse_head(&mut b).unwrap().unwrap();
        assert_eq!(
            (status, f.framing(status, false), f.close()),
            (503, Framing::Chunked, true)
        );
        let mut b =
            BytesMut::from(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"[..]);
        let (status, f) = parse_head(&mut b).unwrap().unwrap();
        assert_eq!(f.framing(status, false), Framing::Chunked);
        let mut b = BytesMut::from(
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 3\r\n\r\n"[..],
        );
        let (status, f) = parse_head(&mut b).unwrap().unwrap();
        assert_eq!(f.framing(status, false), Framing::UntilClose);
        let mut b = BytesMut::from(&b"HTTP/1.0 200 OK\r\n"[..]);
        assert_eq!(parse_head(&mut b).unwrap(), None);
        let mut b = BytesMut::from(&b"garbage\r\n\r\n"[..]);
        assert!(parse_head(&mut b).is_err());
    }
}
