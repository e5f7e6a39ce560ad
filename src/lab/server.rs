//! The per-scenario servers: an accept loop per port, a bounded task per
//! connection. Dropping the accept-loop task drops its `JoinSet`, which
//! aborts every connection task too.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout};
use tokio_rustls::TlsAcceptor;

use super::pki::{Behavior, Route};

/// Upper bound for one connection (TLS scenarios and raw responders).
const CONNECTION_LIMIT: Duration = Duration::from_secs(10);
/// How long the `silent` server holds a connection.
const SILENT_HOLD: Duration = Duration::from_secs(30);
/// Largest request we read.
const MAX_REQUEST: usize = 16 * 1024;

/// A resolver that presents the same chain and key whatever the SNI (so
/// mismatched names are served, unlike `ResolvesServerCertUsingSni`), and
/// optionally another one to a ClientHello without SNI.
#[derive(Debug)]
struct FixedCert {
    cert: Arc<CertifiedKey>,
    no_sni: Option<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match (&self.no_sni, client_hello.server_name()) {
            (Some(other), None) => Some(Arc::clone(other)),
            _ => Some(Arc::clone(&self.cert)),
        }
    }
}

/// What a running server needs per connection.
#[derive(Clone)]
pub(crate) enum Handler {
    Tls {
        id: &'static str,
        acceptor: TlsAcceptor,
        delay: Duration,
    },
    NotTls,
    Silent,
    Alert(&'static [u8]),
    /// The lab's HTTP/1.1 server: AIA certificates, CRLs, OCSP answers.
    Http(Arc<Vec<Route>>),
}

/// Prepares the handler of a scenario (`None` for `Closed`).
pub(crate) fn handler(
    id: &'static str,
    behavior: &Behavior,
    slow_delay: Duration,
) -> Result<Option<Handler>> {
    Ok(Some(match behavior {
        Behavior::Tls {
            chain,
            key,
            slow,
            ocsp,
            no_sni,
        } => {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let load = |key: &rustls::pki_types::PrivateKeyDer<'static>| {
                provider
                    .key_provider
                    .load_private_key(key.clone_key())
                    .with_context(|| format!("lab: cannot load the key of scenario {id}"))
            };
            let mut certified = CertifiedKey::new(chain.clone(), load(key)?);
            certified.ocsp = ocsp.clone();
            let certified = FixedCert {
                cert: Arc::new(certified),
                no_sni: match no_sni {
                    Some((chain, key)) => {
                        Some(Arc::new(CertifiedKey::new(chain.clone(), load(key)?)))
                    }
                    None => None,
                },
            };
            let config = ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
                .context("lab: TLS versions")?
                .with_no_client_auth()
                .with_cert_resolver(Arc::new(certified));
            Handler::Tls {
                id,
                acceptor: TlsAcceptor::from(Arc::new(config)),
                delay: if *slow { slow_delay } else { Duration::ZERO },
            }
        }
        Behavior::NotTls => Handler::NotTls,
        Behavior::Silent => Handler::Silent,
        Behavior::Alert(bytes) => Handler::Alert(bytes),
        Behavior::Closed => return Ok(None),
    }))
}

/// The handler of the lab's HTTP server.
pub(crate) fn http_handler(routes: Vec<Route>) -> Handler {
    Handler::Http(Arc::new(routes))
}

/// The accept loop of one scenario. Runs until its task is aborted.
pub(crate) async fn serve(listener: TcpListener, handler: Handler) {
    let mut conns = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // e.g. too many open files: back off instead of spinning.
                sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        while conns.try_join_next().is_some() {}
        let handler = handler.clone();
        conns.spawn(async move {
            let limit = match handler {
                Handler::Silent => SILENT_HOLD,
                _ => CONNECTION_LIMIT,
            };
            let _ = timeout(limit, handle(handler, stream)).await;
        });
    }
}

async fn handle(handler: Handler, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    match handler {
        Handler::Tls {
            id,
            acceptor,
            delay,
        } => {
            if !delay.is_zero() {
                sleep(delay).await;
            }
            let Ok(mut tls) = acceptor.accept(stream).await else {
                return;
            };
            if read_request(&mut tls).await.is_err() {
                return;
            }
            let body = format!("certscope lab: scenario {id}\n");
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if tls.write_all(response.as_bytes()).await.is_ok() {
                let _ = tls.shutdown().await;
            }
        }
        Handler::NotTls => {
            let Ok(Some(first)) = timeout(Duration::from_secs(5), read_some(&mut stream)).await
            else {
                return;
            };
            // Something that looks like HTTP: read up to the end of the headers.
            if first.first().is_some_and(u8::is_ascii_uppercase) && !has_header_end(&first) {
                let _ = timeout(
                    Duration::from_secs(2),
                    read_request_rest(&mut stream, first),
                )
                .await;
            }
            let response = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 11\r\n\r\nnot TLS :-)";
            close_after(&mut stream, response).await;
        }
        Handler::Silent => {
            // Keep the socket open; swallow whatever arrives.
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    // The peer closed its side: hold ours until the time limit.
                    sleep(SILENT_HOLD).await;
                    return;
                }
            }
        }
        Handler::Alert(bytes) => {
            if timeout(Duration::from_secs(5), read_tls_record(&mut stream))
                .await
                .is_err()
            {
                return;
            }
            close_after(&mut stream, bytes).await;
        }
        Handler::Http(routes) => {
            let Ok(Some(request)) =
                timeout(Duration::from_secs(5), read_http_request(&mut stream)).await
            else {
                return;
            };
            let response = http_response(&routes, &request);
            close_after(&mut stream, &response).await;
        }
    }
}

/// Reads a request head and up to `Content-Length` bytes of body (both
/// bounded); `None` when the peer sends nothing.
async fn read_http_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let first = read_some(stream).await?;
    let mut buf = read_request_rest(stream, first).await;
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)?;
    let want = head_end.saturating_add(content_length(&buf[..head_end]).min(MAX_REQUEST));
    while buf.len() < want {
        match read_some(stream).await {
            Some(more) => buf.extend_from_slice(&more),
            None => break,
        }
    }
    Some(buf)
}

/// The `Content-Length` of a request head (0 when absent or unreadable).
fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The answer to one request: the route's body for GET and POST (the OCSP
/// responders answer per path, whatever the request asks), else 404 / 405.
fn http_response(routes: &[Route], request: &[u8]) -> Vec<u8> {
    let line = request
        .split(|&b| b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .unwrap_or_default();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    let (status, content_type, body): (&str, &str, &[u8]) =
        match routes.iter().find(|r| r.path == path) {
            _ if method != "GET" && method != "POST" => (
                "405 Method Not Allowed",
                "text/plain",
                b"GET or POST only\n",
            ),
            Some(r) => ("200 OK", r.content_type, &r.body),
            None => ("404 Not Found", "text/plain", b"not in the certscope lab\n"),
        };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Writes `bytes`, half-closes, and drains briefly so that the close is a
/// FIN rather than a reset that could discard the answer.
async fn close_after(stream: &mut TcpStream, bytes: &[u8]) {
    if stream.write_all(bytes).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let _ = timeout(Duration::from_secs(1), async {
        let mut buf = [0u8; 4096];
        let mut total = 0usize;
        while let Ok(n) = stream.read(&mut buf).await {
            total += n;
            if n == 0 || total > MAX_REQUEST {
                break;
            }
        }
    })
    .await;
}

/// One read; `None` on EOF or error.
async fn read_some<S: AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    match s.read(&mut buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.truncate(n);
            Some(buf)
        }
    }
}

fn has_header_end(buf: &[u8]) -> bool {
    buf.windows(4).any(|w| w == b"\r\n\r\n")
}

async fn read_request_rest<S: AsyncRead + Unpin>(s: &mut S, mut buf: Vec<u8>) -> Vec<u8> {
    while !has_header_end(&buf) && buf.len() < MAX_REQUEST {
        match read_some(s).await {
            Some(more) => buf.extend_from_slice(&more),
            None => break,
        }
    }
    buf
}

/// Reads an HTTP request head (bounded). Errors when the peer sends nothing.
async fn read_request<S: AsyncRead + Unpin>(s: &mut S) -> Result<Vec<u8>, ()> {
    let first = read_some(s).await.ok_or(())?;
    Ok(read_request_rest(s, first).await)
}

/// Reads one TLS record (the ClientHello), bounded by the record length.
async fn read_tls_record(s: &mut TcpStream) -> std::io::Result<()> {
    let mut header = [0u8; 5];
    s.read_exact(&mut header).await?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]])).min(MAX_REQUEST + 2048);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await?;
    Ok(())
}
