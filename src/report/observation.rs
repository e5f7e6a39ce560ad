//! What a probe observed on the wire: the raw material `diagnose` judges.
//!
//! An [`Observation`] is plain data (no I/O handles) so that diagnosis is a
//! pure function and tests can build observations by hand.

use serde::Serialize;
use std::net::SocketAddr;

use crate::target::Target;

/// Facts about the negotiated TLS session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsFacts {
    /// e.g. `TLSv1.3`.
    pub version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    pub alpn: Option<String>,
    /// Key exchange group, e.g. `X25519`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kx_group: Option<String>,
    pub ocsp_stapled: bool,
    /// Whether the server's handshake signature verified with the leaf key.
    /// `None` when it could not be checked (e.g. an RSA key below 2048 bits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_signature_ok: Option<bool>,
    /// The size of a Certificate message rustls refused (over 64 KiB):
    /// the chain was then captured over TLS 1.2 with certscope's own reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_message_bytes: Option<usize>,
}

/// Connection-level failure classes (findings.md, "Connection findings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnCode {
    Unreachable,
    Timeout,
    NotTls,
    ProtocolUnsupported,
    StarttlsFailed,
    HandshakeFailed,
}

/// Why no (complete) TLS session was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnFailure {
    pub code: ConnCode,
    /// Which step failed: `resolve`, `connect`, `handshake`, ...
    pub step: &'static str,
    /// Human explanation, sanitized; e.g. "connection refused" or
    /// "the server answered with an HTTP status line: HTTP/1.1 400 Bad Request".
    pub message: String,
    /// The TLS alert name when one was received, e.g. `handshake_failure`.
    pub alert: Option<String>,
    /// What the peer said instead of TLS (sanitized first line), for `not-tls`.
    pub peer_said: Option<String>,
    /// This machine cannot reach the address at all (no route to its
    /// network, e.g. IPv6 without IPv6 connectivity): not the server's fault.
    pub local: bool,
}

/// Milliseconds spent in each step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    pub resolve_ms: u64,
    pub connect_ms: u64,
    pub handshake_ms: u64,
    pub total_ms: u64,
}

/// Why an HTTP fetch (AIA, CRL, OCSP) gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No answer within the timeout (connect, or the whole body).
    #[error("timed out: {0}")]
    Timeout(String),
    /// The body exceeded the size cap (bytes allowed).
    #[error("the body is larger than the {0}-byte cap")]
    TooLarge(usize),
    /// The server answered with a non-success HTTP status (code, reason).
    #[error("HTTP {0} {1}")]
    Status(u16, String),
    /// Not an http:// URL, or a malformed one.
    #[error("unusable URL: {0}")]
    BadUrl(String),
    /// Connection refused, reset, name does not resolve, malformed reply...
    #[error("{0}")]
    Io(String),
}

/// What a fetch was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchKind {
    /// An issuer certificate from an AIA caIssuers URL.
    Aia,
    /// A CRL from a CRL distribution point.
    Crl,
    /// An OCSP response from the certificate's responder.
    Ocsp,
}

/// One HTTP fetch made on a certificate's behalf, kept raw: `diagnose`
/// parses and verifies the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub kind: FetchKind,
    pub url: String,
    /// SHA-256 (colon hex) of the certificate it was fetched for.
    pub for_cert: String,
    pub result: Result<Vec<u8>, FetchError>,
    pub elapsed_ms: u64,
    /// The answer checked once (signature, issuer, times) at an instant,
    /// by the fetch stage; the diagnosis uses it at that same instant.
    pub checked: Option<(i64, Checked)>,
}

/// A CRL or OCSP answer checked against the certificate it was fetched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Crl(crate::x509::crl::CrlVerdict),
    Ocsp(crate::x509::ocsp::OcspVerdict),
}

/// Everything one probe of one target saw.
#[derive(Debug, Clone)]
pub struct Observation {
    pub target: Target,
    /// The address actually connected to (or tried last).
    pub address: Option<SocketAddr>,
    /// DER certificates exactly as presented, leaf first (may be empty).
    pub chain: Vec<Vec<u8>>,
    pub tls: Option<TlsFacts>,
    /// Stapled OCSP response bytes, if the server sent one.
    pub ocsp_stapled: Option<Vec<u8>>,
    pub error: Option<ConnFailure>,
    pub timings: Timings,
    /// Wall-clock start of the probe, unix seconds.
    pub started_at: i64,
    /// Where the chain came from: a server, or a file (with what it held),
    /// so the findings and fix steps are worded right the first time.
    pub origin: Origin,
    /// AIA, CRL and OCSP fetches made after the handshake (empty with
    /// `--no-aia --no-revocation`, or offline).
    pub fetches: Vec<Fetch>,
    /// Whether revocation was looked up (`false` with `--no-revocation`).
    pub revocation_checked: bool,
    /// The stapled response checked once at an instant (see `Fetch::checked`).
    pub staple_checked: Option<(i64, crate::x509::ocsp::OcspVerdict)>,
    /// What the operator deployed, read when the server was probed
    /// (`--expect-cert`, `--expect-key`).
    pub deployed: Option<Deployed>,
    /// The same server probed without SNI (`--compare-no-sni`).
    pub no_sni: Option<NoSni>,
}

/// The deployed certificate and key files, as read at the probe: the
/// file name (for messages) and the leaf's DER or the key, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deployed {
    pub cert: Option<(String, Result<Vec<u8>, String>)>,
    pub key: Option<(String, Result<crate::x509::private_key::PublicKey, String>)>,
}

/// What a handshake without SNI got: the leaf it was shown, or the failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoSni {
    pub leaf: Option<Vec<u8>>,
    pub error: Option<ConnFailure>,
}

/// Where an observation's chain came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origin {
    /// A server reached over the network.
    #[default]
    Network,
    /// Certificates read from a file (`certscope inspect`, `--file`).
    File(FileSource),
}

impl Origin {
    /// The file, for a chain read from one.
    pub fn file(&self) -> Option<&FileSource> {
        match self {
            Origin::File(f) => Some(f),
            Origin::Network => None,
        }
    }
}

/// What a certificate file held, as the diagnosis needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource {
    /// The file as shown in messages and commands (control characters escaped).
    pub path: String,
    /// PEM text (else DER): `openssl crl2pkcs7 -certfile` reads PEM only.
    pub pem: bool,
    /// The file position (0-based) of each certificate in
    /// `Observation::chain`, which lists the leaf first.
    pub positions: Vec<usize>,
    /// A name to check the leaf against was given (`--name`); without one,
    /// no command checks a name either.
    pub name_given: bool,
    /// `--key`: the key file (as shown) and its public half.
    pub key: Option<(String, crate::x509::private_key::PublicKey)>,
}
