//! The diagnosis of one target, and its JSON form (cli.md's contract).
//!
//! `Report` is the engine's output for every mode; the `Json*` DTOs are the
//! stable wire shape, kept apart so internal changes cannot break scripts.
//!
//! Owns: observation and report types, findings, JSON, text, time
//! formatting. Never imports `probe`, `fetch`, `diagnose`, `run` or a mode.

pub mod finding;
pub mod observation;
pub mod terminal;
pub mod text;
pub mod time;

pub use time::rfc3339;

use std::net::SocketAddr;

use serde::Serialize;

use crate::report::finding::{Finding, Status};
use crate::report::observation::{ConnFailure, TlsFacts};
use crate::target::Target;
use crate::x509::cert::CertInfo;

/// Where a chain entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Sent by the server.
    Server,
    /// Read from a file (`certscope inspect`, `certscope --file`).
    File,
    /// Fetched from an AIA caIssuers URL.
    Aia,
    /// The trust anchor, from the trust store.
    Store,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    /// Shared: a fleet's reports hold the same issuer certificates.
    pub info: std::sync::Arc<CertInfo>,
    pub source: Source,
    /// Revocation state (certificates on the path; `None` elsewhere).
    pub revocation: Option<RevState>,
    /// The AIA URL a fetched certificate came from.
    pub fetched_from: Option<String>,
}

/// Everything certscope concluded about one target.
#[derive(Debug, Clone)]
pub struct Report {
    pub target: Target,
    /// `host:port`, or the file name for chains read from disk.
    pub label: String,
    pub address: Option<SocketAddr>,
    /// The name checked against the certificate.
    pub name: String,
    pub status: Status,
    /// Wall-clock time of the probe, unix seconds.
    pub checked_at: i64,
    /// The instant validity was judged at (`--at`, or the probe time).
    pub evaluated_at: i64,
    pub elapsed_ms: u64,
    pub tls: Option<TlsFacts>,
    /// Presented certificates in the order sent, then fetched or store ones.
    pub chain: Vec<ChainEntry>,
    /// Indices into `chain` of the path from the leaf to the anchor.
    pub path: Vec<usize>,
    /// Root cause first.
    pub findings: Vec<Finding>,
    pub error: Option<ConnFailure>,
    /// The `openssl s_client` line that reproduces the verdict.
    pub reproduce: String,
    /// For a name served by several addresses, each address's result (the
    /// report itself is the first address's, its findings the union).
    pub endpoints: Vec<Endpoint>,
}

/// What one address of a multi-address target presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub address: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    /// SHA-256 of each certificate the address presented, leaf first.
    pub chain_sha256: Vec<String>,
    /// The leaf's notAfter (RFC 3339), when it presented one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// The codes of this address's own findings, root cause first.
    pub findings: Vec<crate::report::finding::Code>,
    /// Why no certificate was obtained from this address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure is on this machine's side (no route to the address
    /// family), not the server's; it is not counted as a difference.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub local: bool,
}

impl Report {
    /// The finding that explains the target best (the first), if any.
    pub fn root_cause(&self) -> Option<&Finding> {
        self.findings.first()
    }
    /// Days left on the leaf at the evaluation instant.
    pub fn leaf_days_left(&self) -> Option<i64> {
        self.chain
            .first()
            .map(|c| c.info.days_left(self.evaluated_at))
    }
}

/// Revocation state of one certificate, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum RevState {
    /// A valid CRL or OCSP answer says it is not revoked.
    Good { source: String },
    Revoked {
        source: String,
        /// The CRL or responder URL (absent for a staple).
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        time: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Locations were tried; none answered usably.
    Unknown { reason: String },
    /// Not looked up (`--no-revocation`, a file, a root, or no locations).
    NotChecked { reason: String },
}

impl RevState {
    /// A few words for the chain tree.
    pub fn short(&self) -> String {
        match self {
            RevState::Good { source } => format!("not revoked ({source})"),
            RevState::Revoked { source, .. } => format!("REVOKED ({source})"),
            RevState::Unknown { .. } => "revocation unknown".into(),
            RevState::NotChecked { .. } => "revocation not checked".into(),
        }
    }
}

#[derive(Serialize)]
pub struct JsonResult<'a> {
    pub target: String,
    pub host: String,
    /// `null` for a chain read from a file: no port was connected to.
    pub port: Option<u16>,
    pub address: Option<String>,
    pub sni: Option<String>,
    pub starttls: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    pub status: Status,
    pub checked_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluated_at: Option<String>,
    pub elapsed_ms: u64,
    pub tls: Option<&'a TlsFacts>,
    pub chain: Vec<JsonCert<'a>>,
    pub findings: &'a [Finding],
    /// Per-address results, for a target served by several addresses.
    #[serde(skip_serializing_if = "<[Endpoint]>::is_empty")]
    pub endpoints: &'a [Endpoint],
}

#[derive(Serialize)]
pub struct JsonKey {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub bits: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
}

#[derive(Serialize)]
pub struct JsonCert<'a> {
    pub index: usize,
    pub subject: &'a str,
    pub issuer: &'a str,
    pub serial: &'a str,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub sans: Vec<String>,
    pub key: JsonKey,
    pub signature_algorithm: &'a str,
    pub is_ca: bool,
    pub self_signed: bool,
    pub sha256: &'a str,
    pub sha1: &'a str,
    pub source: Source,
    pub on_path: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation: Option<&'a RevState>,
}

impl Report {
    pub fn to_json(&self) -> JsonResult<'_> {
        let name_is_host = self.name == self.target.host.to_string();
        // A chain read from a file was not served: no port, no SNI sent.
        let from_file = self.chain.iter().any(|e| e.source == Source::File);
        JsonResult {
            target: self.label.clone(),
            host: self.target.host.to_string(),
            port: (!from_file).then_some(self.target.port),
            address: self.address.map(|a| a.ip().to_string()),
            sni: if from_file || (self.target.host.is_ip() && name_is_host) {
                None
            } else {
                Some(self.name.clone())
            },
            starttls: self.target.starttls.map(|p| p.name()),
            labels: self.target.labels.clone(),
            status: self.status,
            checked_at: rfc3339(self.checked_at),
            evaluated_at: (self.evaluated_at != self.checked_at)
                .then(|| rfc3339(self.evaluated_at)),
            elapsed_ms: self.elapsed_ms,
            tls: self.tls.as_ref(),
            chain: self
                .chain
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let c = &e.info;
                    JsonCert {
                        index: i,
                        subject: &c.subject,
                        issuer: &c.issuer,
                        serial: &c.serial,
                        not_before: rfc3339(c.not_before),
                        not_after: rfc3339(c.not_after),
                        days_left: c.days_left(self.evaluated_at),
                        sans: c.sans.iter().map(|s| s.display()).collect(),
                        key: JsonKey {
                            kind: c.key.type_str(),
                            bits: c.key.bits,
                            curve: c.key.curve.clone(),
                        },
                        signature_algorithm: &c.signature_algorithm,
                        is_ca: c.is_ca,
                        self_signed: c.is_self_signed(),
                        sha256: &c.sha256,
                        sha1: &c.sha1,
                        source: e.source,
                        on_path: self.path.contains(&i),
                        fetched_from: e.fetched_from.as_deref(),
                        revocation: e.revocation.as_ref(),
                    }
                })
                .collect(),
            findings: &self.findings,
            endpoints: &self.endpoints,
        }
    }
}

/// One result of a `--format json` document (`{"version": 1, "results":
/// [...]}`, which `check` writes as the results arrive), pretty-printed.
pub fn json_pretty(report: &Report) -> String {
    serde_json::to_string_pretty(&report.to_json())
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// One `--format jsonl` line.
pub fn json_line(report: &Report) -> String {
    serde_json::to_string(&report.to_json()).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
