//! Raw UTF-8 in the request line.
//!
//! Clients should percent-encode a query (`q=%E7%A6%8F…`), but many send the UTF-8 bytes as
//! they are (`curl 'http://…/v1/geocode?q=福州路12号'`, scripts that build the URL by string
//! concatenation). The `http` crate under actix refuses a request target with a byte above
//! 0x7F, and actix answers that with an empty `400` before any handler runs, so the caller
//! learns nothing (actix/actix-web#3102). nginx, Node and AMap's own web service take such
//! requests.
//!
//! This module sits between the socket and the HTTP/1 codec. It follows the framing of the
//! connection's requests (request line, headers, a body by `Content-Length` or chunked) and
//! percent-encodes the bytes above 0x7F of each request line's target, nothing else: headers
//! and bodies pass byte for byte. Where the framing is not understood (a malformed length, a
//! line over [`MAX_LINE`], `CONNECT`, an upgrade), it stops rewriting for the rest of the
//! connection and passes everything through, so the codec sees exactly what was sent and
//! answers as it did before.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Longest request, header or chunk-size line the framer buffers (actix refuses longer
/// request heads anyway).
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// before or inside a request line
    RequestLine,
    Headers,
    /// body bytes still to come (Content-Length)
    Body(u64),
    ChunkSize,
    ChunkData(u64),
    /// the CRLF after a chunk's data
    ChunkEnd,
    Trailers,
    /// framing not understood: everything passes unchanged
    Passthrough,
}

/// The byte-level state machine: `feed` takes bytes read from the socket and appends what the
/// HTTP codec should see.
#[derive(Debug)]
pub struct Framer {
    state: State,
    line: Vec<u8>,
    content_length: Option<u64>,
    chunked: bool,
    /// the request's method is CONNECT or it asks for an upgrade
    tunnel: bool,
    /// request lines rewritten so far
    pub rewritten: u64,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            state: State::RequestLine,
            line: Vec::new(),
            content_length: None,
            chunked: false,
            tunnel: false,
            rewritten: 0,
        }
    }
}

impl Framer {
    /// Takes `input`, appends the bytes for the codec to `out`. A line is held back until its
    /// end arrives.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.state {
                State::Passthrough => {
                    out.extend_from_slice(input);
                    return;
                }
                State::Body(n) | State::ChunkData(n) => {
                    let k = (n.min(input.len() as u64)) as usize;
                    out.extend_from_slice(&input[..k]);
                    input = &input[k..];
                    let left = n - k as u64;
                    self.state = match (self.state, left) {
                        (State::Body(_), 0) => State::RequestLine,
                        (State::Body(_), l) => State::Body(l),
                        (_, 0) => State::ChunkEnd,
                        (_, l) => State::ChunkData(l),
                    };
                }
                _ => {
                    // a line: held until its '\n'
                    let (part, end) = match input.iter().position(|&b| b == b'\n') {
                        Some(i) => (&input[..=i], true),
                        None => (input, false),
                    };
                    input = &input[part.len()..];
                    self.line.extend_from_slice(part);
                    if self.line.len() > MAX_LINE {
                        self.give_up(out);
                        continue;
                    }
                    if end {
                        let line = std::mem::take(&mut self.line);
                        self.end_line(&line, out);
                        // keep the allocation
                        self.line = line;
                        self.line.clear();
                    }
                }
            }
        }
    }

    /// The connection ended: whatever is held back goes out as it is.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.line);
    }

    fn give_up(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.line);
        self.state = State::Passthrough;
    }

    fn end_line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let text = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        match self.state {
            State::RequestLine => {
                out.extend_from_slice(line);
                if text.is_empty() {
                    // (empty lines before a request are allowed)
                    return;
                }
                if let Some(rewritten) = encode_request_line(text) {
                    out.truncate(out.len() - line.len());
                    out.extend_from_slice(&rewritten);
                    out.extend_from_slice(&line[text.len()..]);
                    self.rewritten += 1;
                }
                self.tunnel = text.starts_with(b"CONNECT ");
                self.content_length = None;
                self.chunked = false;
                self.state = State::Headers;
            }
            State::Headers => {
                out.extend_from_slice(line);
                if !text.is_empty() {
                    if !self.header(text) {
                        self.state = State::Passthrough;
                    }
                    return;
                }
                // (both a length and chunked: ambiguous framing, RFC 9112 §6.3)
                self.state = if self.tunnel || (self.chunked && self.content_length.is_some()) {
                    State::Passthrough
                } else if self.chunked {
                    State::ChunkSize
                } else {
                    match self.content_length {
                        Some(n) if n > 0 => State::Body(n),
                        _ => State::RequestLine,
                    }
                };
            }
            State::ChunkSize => {
                out.extend_from_slice(line);
                let digits = text.split(|&b| b == b';').next().unwrap_or_default();
                let size = std::str::from_utf8(digits)
                    .ok()
                    .map(str::trim)
                    .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|d| u64::from_str_radix(d, 16).ok());
                self.state = match size {
                    Some(0) => State::Trailers,
                    Some(n) => State::ChunkData(n),
                    None => State::Passthrough,
                };
            }
            State::ChunkEnd => {
                out.extend_from_slice(line);
                self.state = if text.is_empty() {
                    State::ChunkSize
                } else {
                    State::Passthrough
                };
            }
            State::Trailers => {
                out.extend_from_slice(line);
                if text.is_empty() {
                    self.state = State::RequestLine;
                }
            }
            State::Body(_) | State::ChunkData(_) | State::Passthrough => {
                out.extend_from_slice(line)
            }
        }
    }

    /// Reads one header line; false where the framing can no longer be followed.
    fn header(&mut self, text: &[u8]) -> bool {
        let Some(colon) = text.iter().position(|&b| b == b':') else {
            return false;
        };
        let name = &text[..colon];
        let value = String::from_utf8_lossy(&text[colon + 1..]);
        let value = value.trim();
        if name.eq_ignore_ascii_case(b"content-length") {
            // digits only (`parse` would take `+5`, which a codec may read otherwise)
            let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            match value.parse::<u64>() {
                Ok(n) if digits && self.content_length.is_none_or(|m| m == n) => {
                    self.content_length = Some(n)
                }
                _ => return false,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("chunked"));
            if !self.chunked {
                return false;
            }
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            self.tunnel = true;
        }
        true
    }
}

/// `METHOD target HTTP/1.x` with bytes above 0x7F in the target: the line with those bytes
/// percent-encoded; None for anything else (left to the codec).
fn encode_request_line(text: &[u8]) -> Option<Vec<u8>> {
    if text.is_ascii() {
        return None;
    }
    let sp1 = text.iter().position(|&b| b == b' ')?;
    let sp2 = text.iter().rposition(|&b| b == b' ')?;
    if sp2 <= sp1 {
        return None;
    }
    let (method, target, version) = (&text[..sp1], &text[sp1 + 1..sp2], &text[sp2 + 1..]);
    let token = |s: &[u8]| !s.is_empty() && s.iter().all(|b| b.is_ascii_uppercase());
    if !token(method)
        || !(version == b"HTTP/1.1" || version == b"HTTP/1.0")
        || target.is_empty()
        || target.iter().any(|&b| b <= b' ' || b == 0x7F)
    {
        return None;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(text.len() * 2);
    out.extend_from_slice(&text[..=sp1]);
    for &b in target {
        if b > 0x7F {
            out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(&text[sp2..]);
    Some(out)
}

/// A socket whose reads go through a [`Framer`]; writes pass unchanged.
pub struct EncodeRequestLine<S> {
    inner: S,
    framer: Framer,
    /// bytes for the codec not yet read, from `at`
    pending: Vec<u8>,
    at: usize,
    scratch: Box<[u8]>,
    eof: bool,
}

impl<S> EncodeRequestLine<S> {
    pub fn new(inner: S) -> Self {
        EncodeRequestLine {
            inner,
            framer: Framer::default(),
            pending: Vec::new(),
            at: 0,
            scratch: vec![0; 16 * 1024].into_boxed_slice(),
            eof: false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for EncodeRequestLine<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        loop {
            if me.at < me.pending.len() {
                let k = (me.pending.len() - me.at).min(buf.remaining());
                buf.put_slice(&me.pending[me.at..me.at + k]);
                me.at += k;
                if me.at == me.pending.len() {
                    me.pending.clear();
                    me.at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if me.eof {
                return Poll::Ready(Ok(()));
            }
            let mut rb = ReadBuf::new(&mut me.scratch);
            match Pin::new(&mut me.inner).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                    me.eof = true;
                    me.framer.finish(&mut me.pending);
                }
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    me.framer.feed(&me.scratch[..n], &mut me.pending);
                }
                other => return other,
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EncodeRequestLine<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The framer's output for `input` fed in pieces of `step` bytes.
    fn run(input: &[u8], step: usize) -> (Vec<u8>, u64) {
        let mut f = Framer::default();
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            f.feed(piece, &mut out);
        }
        f.finish(&mut out);
        (out, f.rewritten)
    }

    fn every_split(input: &str, want: &str, rewritten: u64) {
        for step in [1, 2, 3, 7, 64, input.len()] {
            let (out, n) = run(input.as_bytes(), step);
            assert_eq!(String::from_utf8_lossy(&out), want, "step {step}");
            assert_eq!(n, rewritten, "step {step}");
        }
    }

    #[test]
    fn request_targets_are_percent_encoded_and_nothing_else() {
        // 福 is E7 A6 8F; the header and the body keep their UTF-8
        every_split(
            "GET /v1/geocode?q=福州路12号&city=上海 HTTP/1.1\r\nHost: x\r\nX-Note: 福\r\n\r\n",
            "GET /v1/geocode?q=%E7%A6%8F%E5%B7%9E%E8%B7%AF12%E5%8F%B7&city=%E4%B8%8A%E6%B5%B7 \
             HTTP/1.1\r\nHost: x\r\nX-Note: 福\r\n\r\n",
            1,
        );
        // already encoded or ASCII: unchanged
        let plain = "GET /v1/parse?q=%E7%A6%8F HTTP/1.1\r\nHost: x\r\n\r\n";
        every_split(plain, plain, 0);
    }

    #[test]
    fn bodies_pass_unchanged_and_the_next_request_is_found() {
        // a body by length that holds a line looking like a request line, then a pipelined GET
        let body = "q\nGET /x?q=福 HTTP/1.1\n";
        let input = format!(
            "POST /v1/geocode/batch HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}\
             GET /v1/parse?q=黄浦 HTTP/1.1\r\n\r\n",
            body.len()
        );
        let want = format!(
            "POST /v1/geocode/batch HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}\
             GET /v1/parse?q=%E9%BB%84%E6%B5%A6 HTTP/1.1\r\n\r\n",
            body.len()
        );
        every_split(&input, &want, 1);
        // chunked, with an extension and a trailer
        let input = "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                     6;x=1\r\n福州\r\n3\r\n路\r\n0\r\nX-T: 号\r\n\r\n\
                     GET /p?q=路 HTTP/1.1\r\n\r\n";
        let want = "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                    6;x=1\r\n福州\r\n3\r\n路\r\n0\r\nX-T: 号\r\n\r\n\
                    GET /p?q=%E8%B7%AF HTTP/1.1\r\n\r\n";
        every_split(input, want, 1);
    }

    #[test]
    fn framing_it_cannot_follow_is_passed_through_unchanged() {
        // a bad length: everything after passes as sent (the codec answers 400 as before)
        let input = "POST /b HTTP/1.1\r\nContent-Length: x\r\n\r\nGET /p?q=路 HTTP/1.1\r\n\r\n";
        every_split(input, input, 0);
        // a signed length, a signed chunk size, a length and chunked together
        for input in [
            "POST /b HTTP/1.1\r\nContent-Length: +2\r\n\r\nabGET /p?q=路 HTTP/1.1\r\n\r\n",
            "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nab\r\n0\r\n\r\n\
             GET /p?q=路 HTTP/1.1\r\n\r\n",
            "POST /b HTTP/1.1\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n\
             2\r\nab\r\n0\r\n\r\nGET /p?q=路 HTTP/1.1\r\n\r\n",
        ] {
            every_split(input, input, 0);
        }
        // two different lengths
        let input = "POST /b HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab\
                     GET /p?q=路 HTTP/1.1\r\n\r\n";
        every_split(input, input, 0);
        // not a request line (no version, lower-case method): left to the codec
        for line in ["GET /p?q=路\r\n\r\n", "get /p?q=路 HTTP/1.1\r\n\r\n"] {
            every_split(line, line, 0);
        }
        // an over-long line
        let long = format!("GET /p?q={} HTTP/1.1\r\n\r\n", "路".repeat(MAX_LINE));
        assert_eq!(run(long.as_bytes(), 4096).0, long.as_bytes());
        // an unfinished line at the end of the connection comes out as it is
        assert_eq!(run("GET /p?q=路".as_bytes(), 1).0, "GET /p?q=路".as_bytes());
    }

    /// Random connections of pipelined requests (raw and encoded targets; bodies by length and
    /// chunked that hold UTF-8 and lines looking like request lines), cut at random places:
    /// the output is each request with only its target encoded.
    #[test]
    fn random_pipelines_cut_anywhere() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let words = [
            "福州路",
            "12号",
            "a",
            "%E7%A6%8F",
            "&x=黄浦",
            "\r\nGET /q?福 HTTP/1.1\r\n",
        ];
        let text = |rng: &mut rand_chacha::ChaCha8Rng, body: bool| {
            let n = rng.gen_range(0..6);
            (0..n)
                .map(|_| words[rng.gen_range(0..if body { 6 } else { 5 })])
                .collect::<String>()
        };
        for _ in 0..300 {
            let (mut input, mut want) = (Vec::new(), Vec::new());
            for _ in 0..rng.gen_range(1..6) {
                let q = text(&mut rng, false);
                let enc: String = q
                    .bytes()
                    .map(|b| {
                        if b > 0x7F {
                            format!("%{b:02X}")
                        } else {
                            (b as char).to_string()
                        }
                    })
                    .collect();
                let body = text(&mut rng, true);
                let head = |target: &str, kind: u32| match kind {
                    0 => format!("GET /v1/parse?q={target} HTTP/1.1\r\nHost: h\r\n\r\n"),
                    1 => format!(
                        "POST /v1/geocode/batch?q={target} HTTP/1.1\r\nX: 福\r\n\
                         Content-Length: {}\r\n\r\n{body}",
                        body.len()
                    ),
                    _ => {
                        let mut h = format!(
                            "POST /b?q={target} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        );
                        let third = (0..=body.len() / 3)
                            .rev()
                            .find(|&k| body.is_char_boundary(k))
                            .unwrap_or(0);
                        let mut at = 0;
                        for (k, cut) in [third, body.len()].into_iter().enumerate() {
                            if cut > at {
                                h += &format!("{:x}{}\r\n", cut - at, [";e", ""][k]);
                                h += &body[at..cut];
                                h += "\r\n";
                                at = cut;
                            }
                        }
                        h + "0\r\n\r\n"
                    }
                };
                let kind = rng.gen_range(0..3);
                let (i, w) = (head(&q, kind), head(&enc, kind));
                input.extend_from_slice(i.as_bytes());
                want.extend_from_slice(w.as_bytes());
            }
            for step in [1, 5, 17, rng.gen_range(1..200)] {
                let (out, _) = run(&input, step);
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&want),
                    "step {step}"
                );
            }
        }
    }
}
