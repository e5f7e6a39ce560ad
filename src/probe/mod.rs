//! The network side: resolve, connect, handshake with a capturing verifier
//! so the presented chain is kept even when it is invalid, and classify
//! failures into the connection codes of the finding catalog.
//!
//! Every step is bounded by `ProbeOptions::timeout`. Nothing here judges the
//! certificates: that is `diagnose`'s job. `file.rs` is the offline probe
//! (what a certificate file presents).
//!
//! Owns: getting observations. Never imports `fetch`, `diagnose`, `run`, a
//! mode, clap or the terminal.

pub mod file;
pub mod legacy;
pub mod starttls;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tracing::Instrument;

use crate::report::observation::{ConnCode, ConnFailure, Observation, Timings, TlsFacts};
use crate::target::{Host, Target};
use crate::util::sanitize;

/// Options for one probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Bound on each network step (resolve, connect, handshake).
    pub timeout: Duration,
    /// Probe every address the name resolves to (else the first that
    /// connects: `--first-address-only`).
    pub every_address: bool,
    /// Also probe without SNI and compare (`--compare-no-sni`).
    pub compare_no_sni: bool,
    /// Send SNI (the no-SNI comparison turns it off).
    pub send_sni: bool,
}

impl ProbeOptions {
    /// The defaults with another step timeout.
    pub fn with_timeout(timeout: Duration) -> ProbeOptions {
        ProbeOptions {
            timeout,
            ..ProbeOptions::default()
        }
    }
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_secs(10),
            every_address: true,
            compare_no_sni: false,
            send_sni: true,
        }
    }
}

/// At most this many addresses of one name are probed.
pub const MAX_ADDRESSES: usize = 16;

pub use crate::x509::provider;

#[derive(Debug, Default)]
struct Captured {
    chain: Vec<Vec<u8>>,
    ocsp: Vec<u8>,
    /// `None` = not checked or not checkable, `Some(ok)` otherwise.
    signature_ok: Option<bool>,
}

/// Records what the server presents and accepts it: diagnosis happens
/// afterwards, offline. Handshake signatures are checked and the result
/// recorded, but a failure does not abort the handshake (certscope sends no
/// secrets, and a server with an RSA-1024 key must still be diagnosed).
#[derive(Debug)]
struct CapturingVerifier {
    provider: Arc<CryptoProvider>,
    seen: Arc<Mutex<Captured>>,
}

impl CapturingVerifier {
    fn record_sig(
        &self,
        r: Result<HandshakeSignatureValid, rustls::Error>,
    ) -> HandshakeSignatureValid {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.signature_ok = Some(r.is_ok());
        HandshakeSignatureValid::assertion()
    }
}

impl ServerCertVerifier for CapturingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        seen.ocsp = ocsp_response.to_vec();
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let r = verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        );
        Ok(self.record_sig(r))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let r = verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        );
        Ok(self.record_sig(r))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // Offer every scheme the provider knows plus the legacy ones, so the
        // server can pick its real key type even when we cannot verify it.
        let mut v = self
            .provider
            .signature_verification_algorithms
            .supported_schemes();
        for s in [
            SignatureScheme::RSA_PKCS1_SHA1,
            SignatureScheme::ECDSA_SHA1_Legacy,
            SignatureScheme::ECDSA_NISTP521_SHA512,
        ] {
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v
    }
}

/// Wraps the TCP stream and keeps the first bytes the server sent, so a
/// non-TLS answer ("HTTP/1.1 400", "220 mail ESMTP") can be quoted.
struct Recorder<S> {
    inner: S,
    first: Arc<Mutex<Vec<u8>>>,
}

const RECORD_LIMIT: usize = 512;

impl<S: AsyncRead + Unpin> AsyncRead for Recorder<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            let new = &buf.filled()[before..];
            let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
            let room = RECORD_LIMIT.saturating_sub(first.len());
            first.extend_from_slice(&new[..new.len().min(room)]);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorder<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// An I/O error in words: what happened, from its kind, without the
/// operating system's own text or error number ("connection refused", not
/// "Connection refused (os error 111)").
pub fn io_words(e: &io::Error) -> String {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "the connection was refused".into(),
        K::ConnectionReset => "the connection was reset".into(),
        K::ConnectionAborted => "the connection was aborted".into(),
        K::NotConnected => "the connection is not established".into(),
        K::BrokenPipe => "the connection was closed while certscope was writing".into(),
        K::UnexpectedEof => "the connection was closed early".into(),
        K::TimedOut => "the operation timed out".into(),
        K::HostUnreachable => "host unreachable".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::NetworkDown => "this machine's network is down".into(),
        K::AddrNotAvailable => "no local address can reach it".into(),
        K::AddrInUse => "no free local port".into(),
        K::PermissionDenied => {
            "this machine does not permit the connection (a local firewall or policy)".into()
        }
        K::Interrupted => "the operation was interrupted".into(),
        // ErrorKind's own description: a few plain words, no OS text.
        other => other.to_string(),
    }
}

/// Why a name did not resolve, in words. The resolver's message (the C
/// library's gai text) is kept without Rust's prefix or an OS error number.
fn resolve_words(e: &io::Error) -> String {
    let text = e.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => text,
    };
    let lower = text.to_ascii_lowercase();
    if lower.contains("not known") || lower.contains("no address associated") {
        "no DNS record for it".into()
    } else if lower.contains("temporary failure") {
        "the DNS server did not answer (temporary failure in name resolution)".into()
    } else if text.trim().is_empty() {
        io_words(e)
    } else {
        let t = sanitize::for_terminal(text.trim());
        let mut c = t.chars();
        match c.next() {
            Some(f) => f.to_lowercase().chain(c).collect(),
            None => t,
        }
    }
}

fn fail(code: ConnCode, step: &'static str, message: impl Into<String>) -> ConnFailure {
    ConnFailure {
        code,
        step,
        message: message.into(),
        alert: None,
        peer_said: None,
        local: false,
    }
}

use crate::report::time::now_unix;

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

/// Resolve the target to the addresses to try, honouring `--resolve`.
async fn resolve(target: &Target, timeout: Duration) -> Result<Vec<SocketAddr>, ConnFailure> {
    if !target.connect_addrs.is_empty() {
        return Ok(target
            .connect_addrs
            .iter()
            .map(|ip| SocketAddr::new(*ip, target.port))
            .collect());
    }
    let name = match &target.host {
        Host::Ip(ip) => return Ok(vec![SocketAddr::new(*ip, target.port)]),
        Host::Dns(d) => d.clone(),
    };
    match tokio::time::timeout(
        timeout,
        tokio::net::lookup_host((name.as_str(), target.port)),
    )
    .await
    {
        Err(_) => Err(fail(
            ConnCode::Timeout,
            "resolve",
            format!(
                "resolving {name} took longer than {}s",
                timeout.as_secs_f32()
            ),
        )),
        Ok(Err(e)) => Err(fail(
            ConnCode::Unreachable,
            "resolve",
            format!("the name {name} does not resolve: {}", resolve_words(&e)),
        )),
        Ok(Ok(addrs)) => {
            let mut v: Vec<SocketAddr> = Vec::new();
            for a in addrs {
                if !v.contains(&a) && v.len() < MAX_ADDRESSES {
                    v.push(a);
                }
            }
            if v.is_empty() {
                Err(fail(
                    ConnCode::Unreachable,
                    "resolve",
                    format!("the name {name} has no addresses"),
                ))
            } else {
                Ok(v)
            }
        }
    }
}

async fn connect(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), (ConnFailure, SocketAddr)> {
    let mut last: Option<(ConnFailure, SocketAddr)> = None;
    for addr in addrs.iter().take(4) {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((s, *addr));
            }
            Ok(Err(e)) => {
                let message = match e.kind() {
                    io::ErrorKind::ConnectionRefused => {
                        format!("nothing listens on {addr}: the connection was refused")
                    }
                    io::ErrorKind::HostUnreachable => {
                        format!("no route to {} (host unreachable)", addr.ip())
                    }
                    io::ErrorKind::NetworkUnreachable => format!(
                        "no route to {} (network unreachable from this machine)",
                        addr.ip()
                    ),
                    io::ErrorKind::AddrNotAvailable => format!(
                        "this machine cannot connect to {addr}: it has no local address of that family"
                    ),
                    io::ErrorKind::TimedOut => {
                        format!("no TCP connection to {addr}: the attempt timed out")
                    }
                    io::ErrorKind::ConnectionReset => {
                        format!("{addr} reset the connection as it was being made")
                    }
                    _ => format!("cannot connect to {addr}: {}", io_words(&e)),
                };
                let mut f = fail(ConnCode::Unreachable, "connect", message);
                // No route to that network from here (IPv6 on an IPv4-only
                // machine): this machine's limit, not the server's fault.
                f.local = matches!(
                    e.kind(),
                    io::ErrorKind::NetworkUnreachable | io::ErrorKind::AddrNotAvailable
                );
                last = Some((f, *addr));
            }
            Err(_) => {
                last = Some((
                    fail(
                        ConnCode::Timeout,
                        "connect",
                        format!(
                            "{addr} did not accept a TCP connection within {}s (a firewall dropping packets, or the host is down)",
                            timeout.as_secs_f32()
                        ),
                    ),
                    *addr,
                ));
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        let a = SocketAddr::new(IpAddr::from([0, 0, 0, 0]), 0);
        (
            fail(ConnCode::Unreachable, "connect", "no address to connect to"),
            a,
        )
    }))
}

/// `alpn`: offer h2 and http/1.1 (not for STARTTLS protocols, whose
/// servers may refuse unknown ALPN names).
fn client_config(
    seen: Arc<Mutex<Captured>>,
    alpn: bool,
    send_sni: bool,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = provider();
    let verifier = Arc::new(CapturingVerifier {
        provider: provider.clone(),
        seen,
    });
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // Every probe is a full handshake with its own config: no session
    // cache to allocate (rustls' default holds 256 entries per config).
    cfg.resumption = rustls::client::Resumption::disabled();
    cfg.enable_sni = send_sni;
    if alpn {
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    }
    Ok(cfg)
}

/// The addresses a probe of `target` would try (`--resolve`'s, or DNS's;
/// duplicates dropped, at most [`MAX_ADDRESSES`]).
pub async fn addresses(
    target: &Target,
    opts: &ProbeOptions,
) -> Result<Vec<SocketAddr>, ConnFailure> {
    resolve(target, opts.timeout)
        .instrument(tracing::debug_span!("resolve"))
        .await
}

/// An observation of `target` that failed before any address was tried.
pub fn failed(target: &Target, f: ConnFailure, started_at: i64, elapsed: Duration) -> Observation {
    let mut obs = blank(target, started_at);
    obs.error = Some(f);
    obs.timings.total_ms = ms(elapsed);
    obs
}

fn blank(target: &Target, started_at: i64) -> Observation {
    Observation {
        target: target.clone(),
        address: None,
        chain: Vec::new(),
        tls: None,
        ocsp_stapled: None,
        error: None,
        timings: Timings::default(),
        started_at,
        origin: Default::default(),
        fetches: Vec::new(),
        revocation_checked: false,
        staple_checked: None,
        deployed: None,
        no_sni: None,
    }
}

/// Probe one target at the first of `addrs` that connects (resolving the
/// name when `addrs` is `None`). Never panics, never hangs longer than a
/// few times the timeout; every failure becomes a classified [`ConnFailure`].
pub async fn probe_at(
    target: &Target,
    addrs: Option<&[SocketAddr]>,
    opts: &ProbeOptions,
) -> Observation {
    let started_at = now_unix();
    let t0 = Instant::now();
    let resolved;
    let addrs = match addrs {
        Some(a) => a,
        None => match addresses(target, opts).await {
            Ok(a) => {
                resolved = a;
                &resolved[..]
            }
            Err(f) => {
                tracing::debug!(error = %f.message, "resolve failed");
                return failed(target, f, started_at, t0.elapsed());
            }
        },
    };
    let mut obs = blank(target, started_at);
    obs.timings.resolve_ms = ms(t0.elapsed());
    probe_connect(target, addrs, opts, &mut obs, t0).await;
    obs
}

/// Probe one target (resolving its name, connecting to the first address
/// that answers).
pub async fn probe(target: &Target, opts: &ProbeOptions) -> Observation {
    probe_at(target, None, opts).await
}

async fn probe_connect(
    target: &Target,
    addrs: &[SocketAddr],
    opts: &ProbeOptions,
    obs: &mut Observation,
    t0: Instant,
) {
    let t1 = Instant::now();
    let tcp = match connect(addrs, opts.timeout)
        .instrument(tracing::debug_span!("connect", addresses = addrs.len()))
        .await
    {
        Ok((s, a)) => {
            tracing::debug!(address = %a, "connected");
            obs.address = Some(a);
            s
        }
        Err((f, a)) => {
            tracing::debug!(address = %a, error = %f.message, "connect failed");
            obs.address = Some(a);
            obs.error = Some(f);
            obs.timings.connect_ms = ms(t1.elapsed());
            obs.timings.total_ms = ms(t0.elapsed());
            return;
        }
    };
    obs.timings.connect_ms = ms(t1.elapsed());
    let tcp = match starttls(tcp, target, opts).await {
        Ok(s) => s,
        Err(f) => {
            obs.error = Some(f);
            obs.timings.total_ms = ms(t0.elapsed());
            return;
        }
    };
    handshake(tcp, target, opts, obs)
        .instrument(tracing::debug_span!("handshake"))
        .await;
    match (&obs.error, &obs.tls) {
        (Some(f), _) => tracing::debug!(step = f.step, error = %f.message, "handshake failed"),
        (None, Some(tls)) => tracing::debug!(
            version = %tls.version,
            certificates = obs.chain.len(),
            "handshake done"
        ),
        (None, None) => {}
    }
    if needs_legacy(obs)
        && let Some(addr) = obs.address
    {
        legacy(addr, target, opts, obs).await;
    }
    obs.timings.total_ms = ms(t0.elapsed());
}

/// Run the STARTTLS exchange when the target asks for one.
async fn starttls(
    tcp: TcpStream,
    target: &Target,
    opts: &ProbeOptions,
) -> Result<TcpStream, ConnFailure> {
    match target.starttls {
        Some(proto) => {
            crate::probe::starttls::upgrade(tcp, proto, &target.verify_name(), opts.timeout).await
        }
        None => Ok(tcp),
    }
}

/// How a handshake message too large for rustls is described (and known).
const TOO_LARGE: &str = "the server's handshake message is larger than";

/// rustls could not negotiate, or refused a Certificate message over
/// 64 KiB, and saw no certificate: worth one legacy ClientHello to learn
/// the version and capture the chain.
fn needs_legacy(obs: &Observation) -> bool {
    obs.chain.is_empty()
        && obs.error.as_ref().is_some_and(|e| {
            e.code == ConnCode::ProtocolUnsupported
                || (e.code == ConnCode::HandshakeFailed
                    && (e.alert.as_deref() == Some("handshake_failure")
                        || e.message.starts_with(TOO_LARGE)))
        })
}

/// Reconnect and send a TLS 1.0-1.2 ClientHello with a wide cipher list;
/// on an answer, keep the chain and say which version the server chose.
async fn legacy(addr: SocketAddr, target: &Target, opts: &ProbeOptions, obs: &mut Observation) {
    let Ok((tcp, _)) = connect(&[addr], opts.timeout).await else {
        return;
    };
    let Ok(tcp) = starttls(tcp, target, opts).await else {
        return;
    };
    let name = target.verify_name();
    let sni = (opts.send_sni && name.parse::<IpAddr>().is_err()).then_some(name.as_str());
    let Ok(hello) = crate::probe::legacy::hello(tcp, sni, opts.timeout).await else {
        return;
    };
    let version = crate::probe::legacy::version_name(hello.version);
    let modern = hello.version >= 0x0303;
    let suite_known = provider()
        .cipher_suites
        .iter()
        .any(|s| u16::from(s.suite()) == hello.cipher);
    let too_large = obs
        .error
        .as_ref()
        .is_some_and(|e| e.message.starts_with(TOO_LARGE));
    obs.chain = hello.chain;
    obs.tls = Some(TlsFacts {
        version: version.clone(),
        cipher: format!("0x{:04X}", hello.cipher),
        ..TlsFacts::default()
    });
    if too_large {
        // The handshake works; only rustls' 64 KiB limit stopped it. The
        // chain as captured is diagnosed, and its size is a finding.
        let bytes = 3 + obs.chain.iter().map(|c| c.len() + 3).sum::<usize>();
        if let Some(t) = obs.tls.as_mut() {
            t.certificate_message_bytes = Some(bytes);
        }
        obs.error = None;
        return;
    }
    let message = if modern && suite_known {
        format!(
            "the server negotiates {version} with cipher suite 0x{:04X}, yet refused the modern handshake: no key exchange group or signature algorithm in common (offer X25519 or P-256 and RSA-PSS or ECDSA signatures)",
            hello.cipher
        )
    } else if modern {
        format!(
            "the server negotiates {version} only with a cipher suite modern clients no longer offer (it chose 0x{:04X}); offer ECDHE with AES-GCM or ChaCha20-Poly1305",
            hello.cipher
        )
    } else {
        format!(
            "the server only speaks {version}; browsers, curl, Python and Java require TLS 1.2 or 1.3 (TLS 1.0 and 1.1 are deprecated by RFC 8996)"
        )
    };
    let alert = obs.error.as_ref().and_then(|e| e.alert.clone());
    obs.error = Some(ConnFailure {
        code: ConnCode::ProtocolUnsupported,
        step: "handshake",
        message,
        alert,
        peer_said: None,
        local: false,
    });
}

/// Run the TLS handshake over an already connected (and, for STARTTLS,
/// already upgraded) stream and fill in `obs`.
pub async fn handshake(
    tcp: TcpStream,
    target: &Target,
    opts: &ProbeOptions,
    obs: &mut Observation,
) {
    let t2 = Instant::now();
    let seen = Arc::new(Mutex::new(Captured::default()));
    let first = Arc::new(Mutex::new(Vec::new()));
    let cfg = match client_config(seen.clone(), target.starttls.is_none(), opts.send_sni) {
        Ok(c) => c,
        Err(e) => {
            obs.error = Some(fail(
                ConnCode::HandshakeFailed,
                "handshake",
                format!("TLS client setup failed: {e}"),
            ));
            return;
        }
    };
    let server_name = match server_name(target) {
        Ok(n) => n,
        Err(e) => {
            obs.error = Some(fail(ConnCode::HandshakeFailed, "handshake", e));
            return;
        }
    };
    let stream = Recorder {
        inner: tcp,
        first: first.clone(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let result = tokio::time::timeout(opts.timeout, connector.connect(server_name, stream)).await;
    obs.timings.handshake_ms = ms(t2.elapsed());
    {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        obs.chain = std::mem::take(&mut seen.chain);
        if !seen.ocsp.is_empty() {
            obs.ocsp_stapled = Some(std::mem::take(&mut seen.ocsp));
        }
    }
    let signature_ok = seen.lock().unwrap_or_else(|e| e.into_inner()).signature_ok;
    match result {
        Err(_) => {
            let peer = first.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let at = obs.address.map(|a| format!(" at {a}")).unwrap_or_default();
            let secs = opts.timeout.as_secs_f32();
            let mut f = fail(
                ConnCode::Timeout,
                "handshake",
                format!("the server{at} did not finish the TLS handshake within {secs}s"),
            );
            if !peer.is_empty() && peer[0] != 0x16 && peer[0] != 0x15 {
                f = classify_plaintext(&peer);
            } else if peer.is_empty() {
                f.message = format!(
                    "the server{at} accepted the connection but sent nothing within {secs}s: no answer to the TLS ClientHello"
                );
            }
            obs.error = Some(f);
        }
        Ok(Err(e)) => {
            let peer = first.lock().unwrap_or_else(|e| e.into_inner()).clone();
            obs.error = Some(classify_tls_error(&e, &peer));
        }
        Ok(Ok(mut tls)) => {
            let (_, conn) = tls.get_ref();
            let version = conn
                .protocol_version()
                .map(|v| match v {
                    rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                    rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            let cipher = conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default();
            let alpn = conn.alpn_protocol().map(sanitize::bytes_for_terminal);
            let kx_group = conn
                .negotiated_key_exchange_group()
                .map(|g| format!("{:?}", g.name()));
            obs.tls = Some(TlsFacts {
                version,
                cipher,
                alpn,
                kx_group,
                ocsp_stapled: obs.ocsp_stapled.is_some(),
                handshake_signature_ok: signature_ok,
                certificate_message_bytes: None,
            });
            // Close politely, bounded.
            let _ = tokio::time::timeout(Duration::from_millis(200), tls.shutdown()).await;
        }
    }
}

fn server_name(target: &Target) -> Result<ServerName<'static>, String> {
    let name = target.verify_name();
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(name.clone()).map_err(|_| {
        format!(
            "{:?} is not a valid server name",
            sanitize::for_terminal(&name)
        )
    })
}

/// `ProtocolVersion` -> `protocol_version`.
fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn classify_tls_error(e: &io::Error, peer: &[u8]) -> ConnFailure {
    let rustls_err = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    // The peer answered, but not with a TLS record: quote it.
    if !peer.is_empty() && !matches!(peer[0], 0x14..=0x18) {
        return classify_plaintext(peer);
    }
    let Some(re) = rustls_err else {
        let msg = match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                if peer.is_empty() {
                    "the server closed the connection without answering the ClientHello (often: SNI name not configured, a firewall, or a non-TLS service)".to_string()
                } else {
                    "the server closed the connection during the handshake".to_string()
                }
            }
            io::ErrorKind::ConnectionReset => {
                "the server reset the connection during the handshake".to_string()
            }
            _ => format!(
                "the connection failed during the TLS handshake: {}",
                io_words(e)
            ),
        };
        return fail(ConnCode::HandshakeFailed, "handshake", msg);
    };
    use rustls::{AlertDescription, Error as E, PeerIncompatible};
    match re {
        E::AlertReceived(AlertDescription::ProtocolVersion) => ConnFailure {
            alert: Some("protocol_version".into()),
            ..fail(
                ConnCode::ProtocolUnsupported,
                "handshake",
                "the server refused TLS 1.2 and TLS 1.3 (fatal alert protocol_version): it only speaks an older, deprecated protocol version",
            )
        },
        E::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13) => fail(
            ConnCode::ProtocolUnsupported,
            "handshake",
            "the server answered with TLS 1.1 or older; modern clients require TLS 1.2 or 1.3",
        ),
        E::PeerIncompatible(p) => fail(
            ConnCode::ProtocolUnsupported,
            "handshake",
            format!(
                "no common ground with the server: {}",
                snake(&format!("{p:?}")).replace('_', " ")
            ),
        ),
        E::AlertReceived(a) => {
            let name = snake(&format!("{a:?}"));
            let hint = match a {
                AlertDescription::HandshakeFailure => {
                    " (no cipher suite, group or signature scheme in common, or a client certificate is required)"
                }
                AlertDescription::UnrecognisedName => {
                    " (the server does not know the SNI name sent)"
                }
                AlertDescription::CertificateRequired => {
                    " (the server requires a client certificate)"
                }
                _ => "",
            };
            ConnFailure {
                alert: Some(name.clone()),
                ..fail(
                    ConnCode::HandshakeFailed,
                    "handshake",
                    format!("the server sent the fatal TLS alert {name}{hint}"),
                )
            }
        }
        E::InvalidMessage(_) if peer.first().is_some_and(|b| !matches!(b, 0x14..=0x18)) => {
            classify_plaintext(peer)
        }
        E::InvalidMessage(rustls::InvalidMessage::HandshakePayloadTooLarge) => fail(
            ConnCode::HandshakeFailed,
            "handshake",
            format!("{TOO_LARGE} rustls reads (64 KiB)"),
        ),
        other => fail(
            ConnCode::HandshakeFailed,
            "handshake",
            format!(
                "TLS handshake failed: {}",
                sanitize::for_terminal(&other.to_string())
            ),
        ),
    }
}

/// The peer spoke something other than TLS: say what.
pub fn classify_plaintext(peer: &[u8]) -> ConnFailure {
    let text = String::from_utf8_lossy(peer);
    let first_line = text.lines().next().unwrap_or("").trim();
    let line = sanitize::for_terminal(&first_line.chars().take(120).collect::<String>());
    let what = if first_line.starts_with("HTTP/") {
        format!(
            "the server answered with plain HTTP: {line:?} (is this the HTTP port rather than HTTPS?)"
        )
    } else if first_line.starts_with("220") && first_line.to_ascii_uppercase().contains("FTP") {
        format!(
            "the server sent an FTP greeting: {line:?} (use --starttls ftp, or port 990 for implicit FTPS)"
        )
    } else if first_line.starts_with("220") {
        format!(
            "the server sent a mail (SMTP) banner: {line:?} (use --starttls smtp, or port 465 for implicit TLS)"
        )
    } else if first_line.starts_with("* OK") {
        format!("the server sent an IMAP greeting: {line:?} (use --starttls imap, or port 993)")
    } else if first_line.starts_with("+OK") {
        format!("the server sent a POP3 greeting: {line:?} (use --starttls pop3, or port 995)")
    } else if first_line.starts_with("SSH-") {
        format!("the server is an SSH server: {line:?}")
    } else if peer.len() > 4 && peer[4] == 0x0a && peer[3] == 0 {
        "the server sent a MySQL greeting (use --starttls mysql)".to_string()
    } else {
        let hex: Vec<String> = peer.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("the server answered with non-TLS bytes: {}", hex.join(" "))
    };
    ConnFailure {
        code: ConnCode::NotTls,
        step: "handshake",
        message: what,
        alert: None,
        peer_said: Some(line),
        local: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_in_words_without_os_text() {
        // 111 and 113 are ECONNREFUSED and EHOSTUNREACH on Linux.
        for (errno, words) in [
            (111, "the connection was refused"),
            (113, "host unreachable"),
        ] {
            let e = io::Error::from_raw_os_error(errno);
            if cfg!(target_os = "linux") {
                assert!(e.to_string().contains("os error"), "{e}");
                assert_eq!(io_words(&e), words);
            }
            assert!(!io_words(&e).contains("os error"), "{}", io_words(&e));
        }
        let e = io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(resolve_words(&e), "no DNS record for it");
    }

    #[test]
    fn alert_names() {
        assert_eq!(snake("ProtocolVersion"), "protocol_version");
        assert_eq!(snake("HandshakeFailure"), "handshake_failure");
    }

    #[test]
    fn plaintext_classes() {
        let f = classify_plaintext(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        assert_eq!(f.code, ConnCode::NotTls);
        assert!(
            f.message.contains("HTTP/1.1 400 Bad Request"),
            "{}",
            f.message
        );
        assert!(
            classify_plaintext(b"220 mx.test ESMTP\r\n")
                .message
                .contains("--starttls smtp")
        );
        assert!(
            classify_plaintext(b"220 FTP server ready\r\n")
                .message
                .contains("--starttls ftp")
        );
        assert!(
            classify_plaintext(b"* OK IMAP4rev1\r\n")
                .message
                .contains("--starttls imap")
        );
        assert!(
            classify_plaintext(b"+OK POP3\r\n")
                .message
                .contains("--starttls pop3")
        );
        let f = classify_plaintext(b"\x1b[2J evil\r\n");
        assert!(!f.message.contains('\u{1b}'));
    }
}
