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

mod body;
mod head;
mod progress;
mod proxy;
mod url;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::report::observation::FetchError;
use crate::util::sanitize::for_terminal;
use body::{body_kind, read_body};
use head::read_head;
use progress::{Progress, Stage};
use proxy::ProxyEnv;
use url::{Url, join, parse_url};

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
mod tests;
