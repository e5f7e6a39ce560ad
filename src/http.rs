//! A small, bounded HTTP/1.1 client for AIA, CRL and OCSP: plain http://
//! only, the whole fetch (redirects included) within one timeout, bodies
//! capped.
//!
//! Requests carry `Connection: close`. Bodies are read by `Content-Length`,
//! `Transfer-Encoding: chunked` or until EOF. `http_proxy` / `HTTP_PROXY` is
//! honoured with an absolute-URI request line, except for hosts listed in
//! `no_proxy` / `NO_PROXY` (suffixes, or `*`) and loopback hosts.
//! Everything the server sends is untrusted: nothing here panics on it, and
//! text from it is sanitized before it reaches an error message.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::model::FetchError;
use crate::sanitize::for_terminal;

/// Bounds for one fetch.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bound on the whole fetch: resolve, connect, request, body.
    pub timeout: Duration,
    /// Largest body accepted; more is `FetchError::TooLarge`.
    pub max_bytes: usize,
}

/// Redirects followed at most (the next one is an error).
const MAX_REDIRECTS: usize = 3;
/// Status line plus headers (all interim 1xx responses included).
const MAX_HEAD: usize = 64 * 1024;
/// One chunk-size line, extensions included.
const MAX_CHUNK_LINE: usize = 4096;
/// All trailer fields after the last chunk.
const MAX_TRAILERS: usize = 64 * 1024;
/// Longest URL accepted.
const MAX_URL: usize = 8 * 1024;
/// Bytes read from the socket at a time.
const READ_BUF: usize = 16 * 1024;
/// Longest piece of server or user text quoted in an error message.
const MAX_SHOWN: usize = 200;

/// GET `url`, following at most 3 redirects.
pub async fn get(url: &str, limits: &Limits) -> Result<Vec<u8>, FetchError> {
    fetch(url, Method::Get, limits, &ProxyEnv::from_env()).await
}

/// POST `body` to `url` with `content_type` (OCSP). A 303 redirect turns it
/// into a GET; the other redirects repeat the POST.
pub async fn post(
    url: &str,
    content_type: &str,
    body: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>, FetchError> {
    let method = Method::Post { content_type, body };
    fetch(url, method, limits, &ProxyEnv::from_env()).await
}

#[derive(Debug, Clone, Copy)]
enum Method<'a> {
    Get,
    Post {
        content_type: &'a str,
        body: &'a [u8],
    },
}

/// Parse, then run the whole exchange (redirects included) under one timeout.
async fn fetch(
    url: &str,
    method: Method<'_>,
    limits: &Limits,
    env: &ProxyEnv,
) -> Result<Vec<u8>, FetchError> {
    let start = parse_url(url)?;
    if let Method::Post { content_type, .. } = method
        && (content_type.is_empty()
            || !content_type
                .bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b)))
    {
        return Err(FetchError::Io(format!(
            "unusable Content-Type {}",
            shown(content_type)
        )));
    }
    let mut progress = Progress::new(&start);
    let outcome = tokio::time::timeout(
        limits.timeout,
        follow(start, method, limits, env, &mut progress),
    )
    .await;
    match outcome {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout(progress.describe(limits.timeout))),
    }
}

/// One exchange after another until a body, an error or too many redirects.
async fn follow(
    mut url: Url,
    mut method: Method<'_>,
    limits: &Limits,
    env: &ProxyEnv,
    progress: &mut Progress,
) -> Result<Vec<u8>, FetchError> {
    let mut redirects = 0;
    loop {
        progress.at(&url, redirects);
        match exchange(&url, method, limits, env, progress).await {
            Ok(Reply::Body(body)) => return Ok(body),
            Ok(Reply::Redirect { code, location }) => {
                if redirects == MAX_REDIRECTS {
                    return Err(FetchError::Io(format!(
                        "more than {MAX_REDIRECTS} redirects from {} (the last: HTTP {code} from {url} to {})",
                        progress.first,
                        shown(&location)
                    )));
                }
                url = join(&url, &location)?;
                if code == 303 {
                    method = Method::Get;
                }
                redirects += 1;
            }
            Err(FetchError::Io(m)) => return Err(FetchError::Io(format!("{url}: {m}"))),
            Err(e) => return Err(e),
        }
    }
}

enum Reply {
    Body(Vec<u8>),
    Redirect { code: u16, location: String },
}

/// One request and its response on a fresh connection.
async fn exchange(
    url: &Url,
    method: Method<'_>,
    limits: &Limits,
    env: &ProxyEnv,
    progress: &mut Progress,
) -> Result<Reply, FetchError> {
    let proxy = env.proxy_for(url)?;
    let mut stream = match &proxy {
        Some(p) => connect(p, "the proxy ", progress).await?,
        None => connect(url, "", progress).await?,
    };
    progress.stage = Stage::Request;
    let request = build_request(url, method, proxy.is_some());
    stream
        .write_all(&request)
        .await
        .map_err(|e| FetchError::Io(format!("sending the request failed: {}", io_text(&e))))?;
    progress.stage = Stage::Head;
    let (head, rest) = read_head(&mut stream).await?;
    match head.code {
        200..=299 => {}
        301 | 302 | 303 | 307 | 308 => {
            return match head.first("location") {
                Some(location) if !location.is_empty() => Ok(Reply::Redirect {
                    code: head.code,
                    location: location.to_string(),
                }),
                _ => Err(FetchError::Status(head.code, head.reason)),
            };
        }
        _ => return Err(FetchError::Status(head.code, head.reason)),
    }
    let kind = body_kind(&head)?;
    progress.stage = Stage::Body;
    read_body(&mut stream, rest, kind, limits.max_bytes, progress)
        .await
        .map(Reply::Body)
}

/// Resolve `to` and connect to the first address that answers.
async fn connect(to: &Url, what: &str, progress: &mut Progress) -> Result<TcpStream, FetchError> {
    progress.stage = Stage::Resolve(format!("{what}{}", shown(&to.host)));
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((to.host.as_str(), to.port))
        .await
        .map_err(|e| {
            FetchError::Io(format!(
                "cannot resolve {what}{}: {}",
                shown(&to.host),
                io_text(&e)
            ))
        })?
        .collect();
    let mut failure = format!("{what}{} resolves to no address", shown(&to.host));
    for addr in addrs {
        progress.stage = Stage::Connect(format!("{what}{addr}"));
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Only a latency hint; the fetch works without it.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => failure = format!("cannot connect to {what}{addr}: {}", io_text(&e)),
        }
    }
    Err(FetchError::Io(failure))
}

fn build_request(url: &Url, method: Method<'_>, absolute: bool) -> Vec<u8> {
    let target = if absolute {
        url.to_string()
    } else {
        url.target.clone()
    };
    let verb = match method {
        Method::Get => "GET",
        Method::Post { .. } => "POST",
    };
    let mut head = format!(
        "{verb} {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: certscope/{}\r\nAccept: */*\r\nConnection: close\r\n",
        url.authority(),
        env!("CARGO_PKG_VERSION")
    );
    match method {
        Method::Get => {
            head.push_str("\r\n");
            head.into_bytes()
        }
        Method::Post { content_type, body } => {
            let _ = write!(
                head,
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let mut out = head.into_bytes();
            out.extend_from_slice(body);
            out
        }
    }
}

// ---------------------------------------------------------------- response

/// A parsed status line and header block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    code: u16,
    /// Sanitized reason phrase.
    reason: String,
    /// (lower-case name, trimmed value), in order.
    headers: Vec<(String, String)>,
}

impl Head {
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Read the final response head (skipping interim 1xx responses); returns it
/// with the body bytes already read.
async fn read_head(stream: &mut TcpStream) -> Result<(Head, Vec<u8>), FetchError> {
    let mut buf = Vec::new();
    let mut budget = MAX_HEAD;
    let mut scan_from = 0;
    let mut tmp = vec![0u8; READ_BUF];
    loop {
        if let Some(end) = head_end(&buf, scan_from) {
            if end > budget {
                return Err(too_long_head());
            }
            let head = parse_head(buf.get(..end).unwrap_or_default())?;
            let rest = buf.split_off(end);
            if (100..200).contains(&head.code) && head.code != 101 {
                budget -= end;
                buf = rest;
                scan_from = 0;
                continue;
            }
            return Ok((head, rest));
        }
        if buf.len() > budget {
            return Err(too_long_head());
        }
        scan_from = buf.len().saturating_sub(3);
        let n = stream
            .read(&mut tmp)
            .await
            .map_err(|e| FetchError::Io(format!("reading the response failed: {}", io_text(&e))))?;
        if n == 0 {
            return Err(FetchError::Io(if buf.is_empty() {
                "the server closed the connection without answering".into()
            } else {
                "the connection closed in the middle of the response headers".into()
            }));
        }
        buf.extend_from_slice(tmp.get(..n).unwrap_or_default());
    }
}

fn too_long_head() -> FetchError {
    FetchError::Io(format!(
        "the response headers exceed {} KiB",
        MAX_HEAD / 1024
    ))
}

/// Index just past the blank line ending a head (`\n\n` or `\n\r\n`),
/// searching from `from`.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find_map(|i| {
        if buf.get(i) != Some(&b'\n') {
            return None;
        }
        match (buf.get(i + 1), buf.get(i + 2)) {
            (Some(b'\n'), _) => Some(i + 2),
            (Some(b'\r'), Some(b'\n')) => Some(i + 3),
            _ => None,
        }
    })
}

fn parse_head(raw: &[u8]) -> Result<Head, FetchError> {
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let (code, reason) = parse_status(lines.next().unwrap_or_default())?;
    let mut headers = Vec::new();
    for line in lines {
        // Blank lines end the block; obsolete line folding and lines
        // without a colon carry nothing we need.
        if line.is_empty() || line.starts_with(b" ") || line.starts_with(b"\t") {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let value = value.get(1..).unwrap_or_default();
        headers.push((
            String::from_utf8_lossy(name).trim().to_ascii_lowercase(),
            String::from_utf8_lossy(value).trim().to_string(),
        ));
    }
    Ok(Head {
        code,
        reason,
        headers,
    })
}

/// `HTTP/1.x NNN reason`.
fn parse_status(line: &[u8]) -> Result<(u16, String), FetchError> {
    let text = String::from_utf8_lossy(line);
    let bad = || {
        FetchError::Io(if text.is_empty() {
            "the server sent an empty status line".to_string()
        } else {
            format!("not an HTTP/1.x response: {}", shown(&text))
        })
    };
    let rest = text.strip_prefix("HTTP/1.").ok_or_else(bad)?;
    let mut parts = rest.splitn(3, ' ');
    let minor = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default().trim();
    if minor.len() != 1 || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let code: u16 = code.parse().map_err(|_| bad())?;
    if !(100..=599).contains(&code) {
        return Err(bad());
    }
    Ok((code, shown(reason)))
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Empty,
    Length(u64),
    Chunked,
    ToEof,
}

fn body_kind(head: &Head) -> Result<BodyKind, FetchError> {
    if head.code == 204 || head.code == 304 {
        return Ok(BodyKind::Empty);
    }
    let codings: Vec<String> = head
        .values("transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    if let Some(other) = codings.iter().find(|c| *c != "chunked" && *c != "identity") {
        return Err(FetchError::Io(format!(
            "unsupported transfer coding {}",
            shown(other)
        )));
    }
    if codings.last().is_some_and(|c| c == "chunked") {
        return Ok(BodyKind::Chunked);
    }
    if !codings.is_empty() {
        return Ok(BodyKind::ToEof);
    }
    let mut length = None;
    for part in head.values("content-length").flat_map(|v| v.split(',')) {
        let part = part.trim();
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FetchError::Io(format!(
                "malformed Content-Length {}",
                shown(part)
            )));
        }
        // All digits: only overflow can fail, and that is more than any cap.
        let n = part.parse::<u64>().unwrap_or(u64::MAX);
        match length {
            Some(m) if m != n => {
                return Err(FetchError::Io("conflicting Content-Length values".into()));
            }
            _ => length = Some(n),
        }
    }
    Ok(length.map_or(BodyKind::ToEof, BodyKind::Length))
}

async fn read_body(
    stream: &mut TcpStream,
    already: Vec<u8>,
    kind: BodyKind,
    max: usize,
    progress: &mut Progress,
) -> Result<Vec<u8>, FetchError> {
    let mut tmp = vec![0u8; READ_BUF];
    let read_err =
        |e: std::io::Error| FetchError::Io(format!("reading the body failed: {}", io_text(&e)));
    match kind {
        BodyKind::Empty => Ok(Vec::new()),
        BodyKind::Length(n) => {
            // Announced too much: fail without reading any of it.
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n <= max)
                .ok_or(FetchError::TooLarge(max))?;
            progress.expected = Some(n);
            let mut body = already;
            body.truncate(n);
            body.reserve(n.saturating_sub(body.len()).min(1 << 20));
            while body.len() < n {
                progress.got = body.len();
                let k = stream.read(&mut tmp).await.map_err(read_err)?;
                if k == 0 {
                    return Err(FetchError::Io(format!(
                        "the connection closed after {} of {n} body bytes",
                        body.len()
                    )));
                }
                let take = k.min(n - body.len());
                body.extend_from_slice(tmp.get(..take).unwrap_or_default());
            }
            Ok(body)
        }
        BodyKind::ToEof => {
            let mut body = already;
            loop {
                progress.got = body.len();
                if body.len() > max {
                    return Err(FetchError::TooLarge(max));
                }
                let k = stream.read(&mut tmp).await.map_err(read_err)?;
                if k == 0 {
                    return Ok(body);
                }
                body.extend_from_slice(tmp.get(..k).unwrap_or_default());
            }
        }
        BodyKind::Chunked => {
            let mut decoder = Chunked::new(max);
            let mut body = Vec::new();
            let mut done = decoder.feed(&already, &mut body)?;
            while !done {
                progress.got = body.len();
                let k = stream.read(&mut tmp).await.map_err(read_err)?;
                if k == 0 {
                    return Err(FetchError::Io(format!(
                        "the connection closed in the middle of the chunked body (after {} bytes)",
                        body.len()
                    )));
                }
                done = decoder.feed(tmp.get(..k).unwrap_or_default(), &mut body)?;
            }
            Ok(body)
        }
    }
}

/// Incremental decoder for `Transfer-Encoding: chunked` (RFC 9112 §7.1).
/// Chunk sizes are checked against the cap before their data is read;
/// size lines and trailers are bounded; a bare LF is accepted for CRLF.
#[derive(Debug)]
struct Chunked {
    state: ChunkState,
    max: usize,
    /// Bytes of the current chunk-size line.
    line: usize,
    /// Bytes of trailer fields.
    trailer: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// In a chunk-size line: the size so far, whether a hex digit was seen,
    /// whether in extensions (ignored), whether a CR was just seen.
    Size {
        size: u64,
        digits: bool,
        ext: bool,
        cr: bool,
    },
    /// In chunk data: bytes left.
    Data(u64),
    /// After chunk data: expecting CRLF.
    DataEnd {
        cr: bool,
    },
    /// After the last chunk: trailer lines until a blank one.
    Trailer {
        cr: bool,
        blank: bool,
    },
    Done,
}

const SIZE_START: ChunkState = ChunkState::Size {
    size: 0,
    digits: false,
    ext: false,
    cr: false,
};

impl Chunked {
    fn new(max: usize) -> Self {
        Chunked {
            state: SIZE_START,
            max,
            line: 0,
            trailer: 0,
        }
    }

    /// Decode `input`, appending chunk data to `out`. `Ok(true)` once the
    /// last chunk and the trailers are complete; anything after is ignored.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<bool, FetchError> {
        let mut rest = input;
        while !rest.is_empty() {
            match self.state {
                ChunkState::Done => break,
                ChunkState::Data(left) => {
                    let take = usize::try_from(left).map_or(rest.len(), |l| l.min(rest.len()));
                    let (data, after) = rest.split_at(take);
                    out.extend_from_slice(data);
                    rest = after;
                    let left = left.saturating_sub(take as u64);
                    self.state = if left == 0 {
                        ChunkState::DataEnd { cr: false }
                    } else {
                        ChunkState::Data(left)
                    };
                }
                state => {
                    let Some((&b, after)) = rest.split_first() else {
                        break;
                    };
                    rest = after;
                    self.state = self.step(state, b, out.len())?;
                }
            }
        }
        Ok(self.state == ChunkState::Done)
    }

    fn step(&mut self, state: ChunkState, b: u8, have: usize) -> Result<ChunkState, FetchError> {
        let bad = |why: &str| FetchError::Io(format!("malformed chunked body: {why}"));
        Ok(match state {
            ChunkState::Size {
                size,
                digits,
                ext,
                cr,
            } => {
                self.line += 1;
                if self.line > MAX_CHUNK_LINE {
                    return Err(bad("chunk-size line too long"));
                }
                if cr && b != b'\n' {
                    return Err(bad("CR without LF in a chunk-size line"));
                }
                match b {
                    b'\n' if !digits => return Err(bad("missing chunk size")),
                    b'\n' => {
                        self.line = 0;
                        if size == 0 {
                            ChunkState::Trailer {
                                cr: false,
                                blank: true,
                            }
                        } else {
                            ChunkState::Data(size)
                        }
                    }
                    b'\r' => ChunkState::Size {
                        size,
                        digits,
                        ext,
                        cr: true,
                    },
                    _ if ext => state,
                    b';' | b' ' | b'\t' if digits => ChunkState::Size {
                        size,
                        digits,
                        ext: true,
                        cr,
                    },
                    _ => {
                        let d = char::from(b)
                            .to_digit(16)
                            .ok_or_else(|| bad("invalid chunk size"))?;
                        let allowed =
                            u64::try_from(self.max.saturating_sub(have)).unwrap_or(u64::MAX);
                        let size = size
                            .checked_mul(16)
                            .and_then(|s| s.checked_add(u64::from(d)))
                            .filter(|&s| s <= allowed)
                            .ok_or(FetchError::TooLarge(self.max))?;
                        ChunkState::Size {
                            size,
                            digits: true,
                            ext,
                            cr,
                        }
                    }
                }
            }
            ChunkState::DataEnd { cr } => match b {
                b'\r' if !cr => ChunkState::DataEnd { cr: true },
                b'\n' => SIZE_START,
                _ => return Err(bad("no CRLF after chunk data")),
            },
            ChunkState::Trailer { cr, blank } => {
                self.trailer += 1;
                if self.trailer > MAX_TRAILERS {
                    return Err(bad("trailers too long"));
                }
                match b {
                    b'\n' if blank => ChunkState::Done,
                    b'\n' => ChunkState::Trailer {
                        cr: false,
                        blank: true,
                    },
                    _ if cr => return Err(bad("CR without LF in the trailers")),
                    b'\r' => ChunkState::Trailer { cr: true, blank },
                    _ => ChunkState::Trailer {
                        cr: false,
                        blank: false,
                    },
                }
            }
            // Handled by `feed`.
            ChunkState::Data(_) | ChunkState::Done => state,
        })
    }
}

// ---------------------------------------------------------------- progress

/// How far a fetch got, for the timeout message.
#[derive(Debug)]
struct Progress {
    first: String,
    url: String,
    redirects: usize,
    stage: Stage,
    got: usize,
    expected: Option<usize>,
}

#[derive(Debug)]
enum Stage {
    Resolve(String),
    Connect(String),
    Request,
    Head,
    Body,
}

impl Progress {
    fn new(url: &Url) -> Self {
        Progress {
            first: url.to_string(),
            url: url.to_string(),
            redirects: 0,
            stage: Stage::Request,
            got: 0,
            expected: None,
        }
    }

    fn at(&mut self, url: &Url, redirects: usize) {
        self.url = url.to_string();
        self.redirects = redirects;
        self.got = 0;
        self.expected = None;
    }

    fn describe(&self, limit: Duration) -> String {
        let (url, d) = (&self.url, fmt_duration(limit));
        let mut s = match &self.stage {
            Stage::Resolve(host) => {
                format!("no response from {url} within {d}: resolving {host} did not finish")
            }
            Stage::Connect(addr) => {
                format!("no response from {url} within {d}: connecting to {addr} did not finish")
            }
            Stage::Request => {
                format!("no response from {url} within {d}: sending the request did not finish")
            }
            Stage::Head => format!(
                "no response from {url} within {d}: connected, but no complete response headers"
            ),
            Stage::Body => match self.expected {
                Some(n) => format!(
                    "no complete response from {url} within {d} (got {} of {n} bytes)",
                    self.got
                ),
                None => format!(
                    "no complete response from {url} within {d} (got {} bytes)",
                    self.got
                ),
            },
        };
        if self.redirects > 0 {
            let plural = if self.redirects == 1 { "" } else { "s" };
            let _ = write!(
                s,
                ", after {} redirect{plural} from {}",
                self.redirects, self.first
            );
        }
        s
    }
}

/// `2s`, `1.5s`, `250ms`.
fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        let frac = format!("{:03}", ms % 1000);
        format!("{}.{}s", ms / 1000, frac.trim_end_matches('0'))
    }
}

// ---------------------------------------------------------------- URLs

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    /// Lower-case host name or IP address (IPv6 without brackets).
    host: String,
    port: u16,
    /// Path and query, starting with `/`; no fragment.
    target: String,
}

impl Url {
    /// `host[:port]` as in the Host header (port 80 left out).
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.target)
    }
}

/// `scheme` and what follows its colon, when `s` starts with a valid scheme.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    (first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .then_some((scheme, rest))
}

/// Why `s` cannot go on a request line, if it cannot.
fn unusable_chars(s: &str) -> Option<&'static str> {
    let c = s.chars().find(|c| !c.is_ascii_graphic())?;
    Some(if c.is_whitespace() {
        "contains whitespace"
    } else if c.is_control() {
        "contains a control character"
    } else {
        "contains non-ASCII characters"
    })
}

/// Parse `http://host[:port][/path][?query][#fragment]`.
fn parse_url(input: &str) -> Result<Url, FetchError> {
    let bad = |why: &str| FetchError::BadUrl(format!("{} ({why})", shown(input)));
    if input.len() > MAX_URL {
        return Err(bad("longer than 8 KiB"));
    }
    let Some((scheme, rest)) = split_scheme(input) else {
        return Err(bad("not an absolute http:// URL"));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(bad("only plain http:// URLs are fetched"));
    }
    if let Some(why) = unusable_chars(input) {
        return Err(bad(why));
    }
    let rest = rest
        .strip_prefix("//")
        .ok_or_else(|| bad("no //host after http:"))?;
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (authority, target) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(bad("user names in URLs are not supported"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in the host"))?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| bad("not an IPv6 address inside [ ]"))?;
        (ip.to_string(), after)
    } else {
        let (host, port) = authority.split_at(authority.find(':').unwrap_or(authority.len()));
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(bad("invalid character in the host name"));
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => 80,
        None => return Err(bad("unexpected text after the host")),
        Some("") => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad("invalid port")),
        },
    };
    let target = if target.is_empty() {
        "/".to_string()
    } else if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_string()
    };
    Ok(Url { host, port, target })
}

/// Resolve a `Location` value against the URL it came from.
fn join(base: &Url, location: &str) -> Result<Url, FetchError> {
    let loc = location.trim();
    if loc.starts_with("//") {
        return parse_url(&format!("http:{loc}"));
    }
    if split_scheme(loc).is_some() {
        return parse_url(loc);
    }
    if let Some(why) = unusable_chars(loc) {
        return Err(FetchError::BadUrl(format!(
            "redirect from {base} to {} ({why})",
            shown(loc)
        )));
    }
    let loc = loc.split_once('#').map_or(loc, |(l, _)| l);
    let path = base
        .target
        .split_once('?')
        .map_or(base.target.as_str(), |(p, _)| p);
    let target = if loc.is_empty() {
        base.target.clone()
    } else if loc.starts_with('/') {
        loc.to_string()
    } else if loc.starts_with('?') {
        format!("{path}{loc}")
    } else {
        let dir = path
            .get(..path.rfind('/').map_or(0, |i| i + 1))
            .unwrap_or("/");
        format!("{dir}{loc}")
    };
    Ok(Url {
        host: base.host.clone(),
        port: base.port,
        target: remove_dot_segments(&target),
    })
}

/// RFC 3986 §5.2.4 for a target starting with `/` (the query is kept).
fn remove_dot_segments(target: &str) -> String {
    let (path, query) = target.split_at(target.find('?').unwrap_or(target.len()));
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {}
            ".." => {
                out.pop();
            }
            s => {
                out.push(s);
                continue;
            }
        }
        if last {
            out.push("");
        }
    }
    format!("/{}{query}", out.join("/"))
}

// ---------------------------------------------------------------- proxy

/// The proxy settings from the environment.
#[derive(Debug, Clone, Default)]
struct ProxyEnv {
    http_proxy: Option<String>,
    no_proxy: Option<String>,
}

impl ProxyEnv {
    fn from_env() -> Self {
        let var = |lower: &str, upper: &str| {
            std::env::var(lower)
                .ok()
                .or_else(|| std::env::var(upper).ok())
                .filter(|v| !v.trim().is_empty())
        };
        ProxyEnv {
            http_proxy: var("http_proxy", "HTTP_PROXY"),
            no_proxy: var("no_proxy", "NO_PROXY"),
        }
    }

    /// The proxy to use for `url`, if any. Loopback hosts never go through
    /// a proxy.
    fn proxy_for(&self, url: &Url) -> Result<Option<Url>, FetchError> {
        let Some(setting) = self
            .http_proxy
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        else {
            return Ok(None);
        };
        if is_loopback(&url.host)
            || self
                .no_proxy
                .as_deref()
                .is_some_and(|np| no_proxy_matches(np, &url.host))
        {
            return Ok(None);
        }
        let full = if setting.contains("://") {
            setting.to_string()
        } else {
            format!("http://{setting}")
        };
        // The setting may hold credentials: never quote it.
        parse_url(&full).map(Some).map_err(|_| {
            FetchError::BadUrl(
                "the http_proxy setting is not a usable http://host:port proxy URL".into(),
            )
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `no_proxy`: comma-separated host names or suffixes (`example.com`,
/// `.example.com`, `*.example.com`), IP addresses, or `*` for everything.
fn no_proxy_matches(list: &str, host: &str) -> bool {
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches('*').trim_start_matches('.');
        let entry = entry
            .strip_prefix('[')
            .and_then(|e| e.strip_suffix(']'))
            .unwrap_or(entry)
            .to_ascii_lowercase();
        !entry.is_empty()
            && (host == entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|p| p.ends_with('.')))
    })
}

// ---------------------------------------------------------------- text

/// Sanitized and shortened text for an error message.
fn shown(s: &str) -> String {
    let clean = for_terminal(s);
    match clean.char_indices().nth(MAX_SHOWN) {
        Some((i, _)) => format!("{}…", clean.get(..i).unwrap_or_default()),
        None => clean,
    }
}

fn io_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::ConnectionReset => "connection reset by the peer".into(),
        ErrorKind::ConnectionAborted => "connection aborted".into(),
        ErrorKind::BrokenPipe => "the peer closed the connection".into(),
        _ => shown(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        parse_url(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn bad_url(s: &str) -> String {
        match parse_url(s) {
            Err(FetchError::BadUrl(m)) => m,
            other => panic!("{s}: expected BadUrl, got {other:?}"),
        }
    }

    #[test]
    fn parses_http_urls() {
        let u = url("http://ca.example.com/ca.der");
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("ca.example.com", 80, "/ca.der")
        );
        assert_eq!(u.authority(), "ca.example.com");
        let u = url("HTTP://CA.Example.COM:8080");
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("ca.example.com", 8080, "/")
        );
        assert_eq!(u.to_string(), "http://ca.example.com:8080/");
        let u = url("http://10.0.0.1:80?x=1#frag");
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("10.0.0.1", 80, "/?x=1")
        );
        let u = url("http://[2001:DB8::1]:8888/ocsp/MEow?a=b#f");
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("2001:db8::1", 8888, "/ocsp/MEow?a=b")
        );
        assert_eq!(u.authority(), "[2001:db8::1]:8888");
        assert_eq!(url("http://[::1]").to_string(), "http://[::1]/");
        assert_eq!(url("http://h:/p").port, 80);
        assert_eq!(url("http://under_score.example/p%20q").target, "/p%20q");
    }

    #[test]
    fn rejects_other_urls() {
        assert!(bad_url("https://ca.example/ca.der").contains("https://ca.example/ca.der"));
        assert!(bad_url("https://ca.example/").contains("only plain http://"));
        for s in [
            "ldap://ldap.example/cn=CA",
            "ftp://x/y",
            "",
            "ca.example/ca.der",
            "/relative",
            "http:ca.example",
            "http://",
            "http:///path",
            "http://:80/",
            "http://user:pw@host/",
            "http://host:0/",
            "http://host:65536/",
            "http://host:+80/",
            "http://host:8x/",
            "http://ho st/",
            "http://host/a b",
            "http://host/\r\nX-Injected: 1",
            "http://hüst/",
            "http://host/ü",
            "http://[::1/",
            "http://[nonsense]/",
            "http://[::1]x/",
            "http://1.2.3.4]/",
            "http://host%41/",
        ] {
            bad_url(s);
        }
        assert!(bad_url(&format!("http://h/{}", "a".repeat(MAX_URL))).contains("longer"));
        // Control characters are shown escaped.
        let m = bad_url("http://host/\u{1b}[31m");
        assert!(m.contains("\\x1b") && !m.contains('\u{1b}'), "{m}");
    }

    #[test]
    fn resolves_redirect_locations() {
        let base = url("http://ca.example:8080/a/b/c.crt?q=1");
        let j = |l: &str| join(&base, l).map(|u| u.to_string());
        assert_eq!(
            j("http://other.example/x").unwrap(),
            "http://other.example/x"
        );
        assert_eq!(
            j("//other.example:81/x").unwrap(),
            "http://other.example:81/x"
        );
        assert_eq!(j("/root.crt").unwrap(), "http://ca.example:8080/root.crt");
        assert_eq!(j("d.crt").unwrap(), "http://ca.example:8080/a/b/d.crt");
        assert_eq!(j("../d.crt#x").unwrap(), "http://ca.example:8080/a/d.crt");
        assert_eq!(
            j("./../../../d.crt").unwrap(),
            "http://ca.example:8080/d.crt"
        );
        assert_eq!(j("?z=2").unwrap(), "http://ca.example:8080/a/b/c.crt?z=2");
        assert_eq!(j("  /spaced  ").unwrap(), "http://ca.example:8080/spaced");
        assert!(matches!(
            j("https://ca.example/x"),
            Err(FetchError::BadUrl(_))
        ));
        assert!(matches!(j("/a b"), Err(FetchError::BadUrl(_))));
        assert!(matches!(j("/\u{7f}"), Err(FetchError::BadUrl(_))));
        assert_eq!(remove_dot_segments("/a/b/.."), "/a/");
        assert_eq!(remove_dot_segments("/a/./b/"), "/a/b/");
        assert_eq!(remove_dot_segments("/"), "/");
        assert_eq!(remove_dot_segments("/../x?../y"), "/x?../y");
    }

    fn decode(input: &[u8], max: usize) -> Result<(bool, Vec<u8>), FetchError> {
        let mut d = Chunked::new(max);
        let mut out = Vec::new();
        let done = d.feed(input, &mut out)?;
        Ok((done, out))
    }

    fn decode_bytewise(input: &[u8], max: usize) -> Result<(bool, Vec<u8>), FetchError> {
        let mut d = Chunked::new(max);
        let mut out = Vec::new();
        let mut done = false;
        for b in input {
            done = d.feed(std::slice::from_ref(b), &mut out)?;
        }
        Ok((done, out))
    }

    #[test]
    fn decodes_chunked_bodies() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
            (b"0\r\n\r\n", b""),
            (
                b"A;name=value\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
                b"0123456789",
            ),
            (b"3 ; ext\r\nabc\r\n00\r\n\r\n", b"abc"),
            (b"3\nabc\n0\n\n", b"abc"),
            (b"00000001\r\n\x00\r\n0\r\n\r\n", b"\x00"),
            (b"2\r\n\r\n\r\n0\r\n\r\n", b"\r\n"),
        ];
        for (input, want) in cases {
            for result in [decode(input, 1 << 20), decode_bytewise(input, 1 << 20)] {
                let (done, out) = result.unwrap_or_else(|e| panic!("{input:?}: {e}"));
                assert!(done, "{input:?}");
                assert_eq!(&out, want, "{input:?}");
            }
        }
        // Bytes after the end are ignored; incomplete input is not done.
        assert_eq!(
            decode(b"1\r\nx\r\n0\r\n\r\nGARBAGE", 10).unwrap(),
            (true, b"x".to_vec())
        );
        assert_eq!(decode(b"5\r\nhel", 10).unwrap(), (false, b"hel".to_vec()));
        assert_eq!(
            decode(b"0\r\nTrailer: x\r\n", 10).unwrap(),
            (false, Vec::new())
        );
        // Exactly the cap is fine.
        assert!(decode(b"4\r\nabcd\r\n0\r\n\r\n", 4).unwrap().0);
    }

    #[test]
    fn rejects_malformed_chunked_bodies() {
        for input in [
            &b"\r\n"[..],
            b"x\r\n",
            b";ext\r\n",
            b"-1\r\n",
            b"+1\r\n",
            b"0x10\r\n",
            b"5\rhello",
            b"5\r\nhelloXX",
            b"5\r\nhello\r\r",
            b"0\r\nTrailer\rX",
            b"1 2 3\r\nx\r\r",
        ] {
            for result in [decode(input, 1 << 20), decode_bytewise(input, 1 << 20)] {
                match result {
                    Err(FetchError::Io(m)) => assert!(m.contains("chunked"), "{m}"),
                    other => panic!("{input:?}: {other:?}"),
                }
            }
        }
        let long_line = [b"1;".as_slice(), &vec![b'a'; MAX_CHUNK_LINE]].concat();
        assert!(matches!(decode(&long_line, 100), Err(FetchError::Io(_))));
        let long_trailers = [b"0\r\n".as_slice(), &vec![b'a'; MAX_TRAILERS + 1]].concat();
        assert!(matches!(
            decode(&long_trailers, 100),
            Err(FetchError::Io(_))
        ));
        let many_zeros = [&vec![b'0'; MAX_CHUNK_LINE + 1][..], b"1\r\n"].concat();
        assert!(matches!(decode(&many_zeros, 100), Err(FetchError::Io(_))));
    }

    #[test]
    fn bounds_chunk_sizes() {
        // Announced sizes over the cap fail before any data arrives.
        assert_eq!(decode(b"5\r\n", 4), Err(FetchError::TooLarge(4)));
        assert_eq!(
            decode(b"3\r\nabc\r\n2\r\n", 4),
            Err(FetchError::TooLarge(4))
        );
        assert_eq!(
            decode(b"ffffffffffffffffffff\r\n", usize::MAX),
            Err(FetchError::TooLarge(usize::MAX))
        );
        assert_eq!(
            decode(b"10000000000000000\r\n", usize::MAX),
            Err(FetchError::TooLarge(usize::MAX))
        );
    }

    #[test]
    fn parses_heads() {
        let h = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length:  12 \r\nX-Odd\r\n folded\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        assert_eq!((h.code, h.reason.as_str()), (200, "OK"));
        assert_eq!(h.first("content-length"), Some("12"));
        assert_eq!(body_kind(&h), Ok(BodyKind::Chunked));
        let h = parse_head(b"HTTP/1.0 404 Not \x1b[31mFound\n\n").unwrap();
        assert_eq!((h.code, h.reason.as_str()), (404, "Not \\x1b[31mFound"));
        assert_eq!(parse_head(b"HTTP/1.1 204\r\n\r\n").unwrap().code, 204);
        for bad in [
            &b""[..],
            b"HTTP/2 200 OK",
            b"HTTP/1.1 20 OK",
            b"HTTP/1.1 2000 OK",
            b"HTTP/1.1 099 X",
            b"SSH-2.0-x",
            b"HTTP/1.x 200 OK",
            b"\xff\xfe",
        ] {
            assert!(matches!(parse_head(bad), Err(FetchError::Io(_))), "{bad:?}");
        }
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r\nbody", 0), Some(19));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\n\nbody", 0), Some(17));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r", 0), None);
    }

    fn kind(head: &str) -> Result<BodyKind, FetchError> {
        body_kind(&parse_head(head.as_bytes()).unwrap())
    }

    #[test]
    fn chooses_the_body_framing() {
        assert_eq!(
            kind("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
            Ok(BodyKind::Length(5))
        );
        assert_eq!(
            kind("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n"),
            Ok(BodyKind::Length(5))
        );
        assert_eq!(kind("HTTP/1.1 200 OK\r\n\r\n"), Ok(BodyKind::ToEof));
        assert_eq!(
            kind("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
            Ok(BodyKind::Empty)
        );
        assert_eq!(
            kind("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(BodyKind::Chunked)
        );
        assert_eq!(
            kind("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n"),
            Ok(BodyKind::ToEof)
        );
        assert_eq!(
            kind("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            Ok(BodyKind::Length(u64::MAX))
        );
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        ] {
            assert!(matches!(kind(bad), Err(FetchError::Io(_))), "{bad}");
        }
    }

    #[test]
    fn builds_requests() {
        let u = url("http://ca.example:8080/x?y");
        let get = String::from_utf8(build_request(&u, Method::Get, false)).unwrap();
        assert_eq!(
            get,
            format!(
                "GET /x?y HTTP/1.1\r\nHost: ca.example:8080\r\nUser-Agent: certscope/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        let post = Method::Post {
            content_type: "application/ocsp-request",
            body: b"\x30\x03abc",
        };
        let req = build_request(&u, post, true);
        let text = String::from_utf8_lossy(&req);
        assert!(
            text.starts_with("POST http://ca.example:8080/x?y HTTP/1.1\r\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "\r\nContent-Type: application/ocsp-request\r\nContent-Length: 5\r\n\r\n"
            )
        );
        assert!(req.ends_with(b"\r\n\r\n\x30\x03abc"));
    }

    #[test]
    fn picks_the_proxy() {
        let env = |p: Option<&str>, np: Option<&str>| ProxyEnv {
            http_proxy: p.map(String::from),
            no_proxy: np.map(String::from),
        };
        let target = url("http://ca.example.com/ca.der");
        assert_eq!(env(None, None).proxy_for(&target), Ok(None));
        let via = env(Some("proxy.corp:3128"), None)
            .proxy_for(&target)
            .unwrap()
            .unwrap();
        assert_eq!((via.host.as_str(), via.port), ("proxy.corp", 3128));
        let via = env(Some("http://proxy.corp/"), Some("other.com"))
            .proxy_for(&target)
            .unwrap()
            .unwrap();
        assert_eq!((via.host.as_str(), via.port), ("proxy.corp", 80));
        for np in [
            "*",
            "example.com",
            ".example.com",
            "*.example.com",
            " x , CA.EXAMPLE.COM ",
            "ca.example.com",
        ] {
            assert_eq!(
                env(Some("proxy:1"), Some(np)).proxy_for(&target),
                Ok(None),
                "{np}"
            );
        }
        for np in ["le.com", "ca.example.com.evil", "", ",", "."] {
            assert!(
                env(Some("proxy:1"), Some(np))
                    .proxy_for(&target)
                    .unwrap()
                    .is_some(),
                "{np}"
            );
        }
        for local in [
            "http://127.0.0.1:9/",
            "http://[::1]/",
            "http://localhost/",
            "http://a.localhost/",
        ] {
            assert_eq!(
                env(Some("proxy:1"), None).proxy_for(&url(local)),
                Ok(None),
                "{local}"
            );
        }
        assert!(no_proxy_matches("[2001:db8::1]", "2001:db8::1"));
        match env(Some("https://user:secret@proxy:1"), None).proxy_for(&target) {
            Err(FetchError::BadUrl(m)) => assert!(!m.contains("secret"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn describes_timeouts() {
        assert_eq!(fmt_duration(Duration::from_secs(2)), "2s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(fmt_duration(Duration::from_millis(1250)), "1.25s");
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250ms");
        let mut p = Progress::new(&url("http://a.example/x"));
        p.at(&url("http://b.example/y"), 2);
        p.stage = Stage::Body;
        p.got = 1_048_576;
        assert_eq!(
            p.describe(Duration::from_secs(2)),
            "no complete response from http://b.example/y within 2s (got 1048576 bytes), after 2 redirects from http://a.example/x"
        );
    }

    #[tokio::test]
    async fn goes_through_an_http_proxy() {
        use tokio::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while head_end(&req, 0).is_none() {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0);
                req.extend_from_slice(&buf[..n]);
            }
            let req = String::from_utf8(req).unwrap();
            let ok = req.starts_with("GET http://ca.invalid:8080/ca.der HTTP/1.1\r\n")
                && req.contains("\r\nHost: ca.invalid:8080\r\n");
            let reply: &[u8] = if ok {
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\x30\x01\x00"
            } else {
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
            };
            s.write_all(reply).await.unwrap();
        });
        let env = ProxyEnv {
            http_proxy: Some(format!("http://127.0.0.1:{port}")),
            no_proxy: None,
        };
        let limits = Limits {
            timeout: Duration::from_secs(5),
            max_bytes: 1024,
        };
        let got = tokio::time::timeout(
            Duration::from_secs(10),
            fetch("http://ca.invalid:8080/ca.der", Method::Get, &limits, &env),
        )
        .await
        .expect("bounded");
        server.abort();
        assert_eq!(got, Ok(vec![0x30, 0x01, 0x00]));
    }
}
