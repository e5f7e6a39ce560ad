//! Findings: the stable codes of `assets/spec/findings.md`, severities and
//! the finding record every mode (JSON, text, TUI) shows.

use serde::Serialize;
use std::fmt;

/// Severity of one finding (ordered: `Info < Warning < Critical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Overall status of a target (`error` = no certificate could be obtained).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Error => "error",
        }
    }
    /// Nagios plugin exit code: 0 ok, 1 warning, 2 critical, 3 unknown.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Error => 3,
        }
    }
    /// Worst first ordering for exit codes: error > critical > warning > ok.
    pub fn worst(a: Status, b: Status) -> Status {
        a.max(b)
    }
}

macro_rules! codes {
    ($($variant:ident => $s:literal,)*) => {
        /// A stable finding code. Never rename or reuse one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }
        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $s,)* }
            }
            pub fn parse(s: &str) -> Option<Code> {
                match s { $($s => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

// Declaration order is the "root cause first" order used to sort findings of
// equal severity: connection problems, then trust, then time, then names,
// then the rest.
codes! {
    // A name whose addresses differ: the explanation of whatever one of
    // them shows, so it comes first among equals.
    InconsistentEndpoints => "inconsistent-endpoints",
    Unreachable => "unreachable",
    Timeout => "timeout",
    NotTls => "not-tls",
    ProtocolUnsupported => "protocol-unsupported",
    StarttlsFailed => "starttls-failed",
    HandshakeFailed => "handshake-failed",
    SelfSigned => "self-signed",
    IncompleteChain => "incomplete-chain",
    UntrustedRoot => "untrusted-root",
    Revoked => "revoked",
    Expired => "expired",
    NotYetValid => "not-yet-valid",
    HostnameMismatch => "hostname-mismatch",
    CaAsLeaf => "ca-as-leaf",
    KeyMismatch => "key-mismatch",
    DiskMismatch => "disk-mismatch",
    InvalidPurpose => "invalid-purpose",
    IssuerNotCa => "issuer-not-ca",
    PathLength => "path-length",
    NameConstraints => "name-constraints",
    UnknownCriticalExtension => "unknown-critical-extension",
    WeakSignature => "weak-signature",
    WeakKey => "weak-key",
    InvalidSerial => "invalid-serial",
    VerificationFailed => "verification-failed",
    MustStapleMissing => "must-staple-missing",
    LongValidity => "long-validity",
    NoSct => "no-sct",
    ExpiringSoon => "expiring-soon",
    RevocationUnknown => "revocation-unknown",
    AiaFetchFailed => "aia-fetch-failed",
    OcspStapled => "ocsp-stapled",
    ChainOrder => "chain-order",
    OversizedChain => "oversized-chain",
    RootSent => "root-sent",
    SniDefaultDiffers => "sni-default-differs",
    SniRequired => "sni-required",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What real clients show for a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Clients {
    pub chrome: String,
    pub firefox: String,
    pub openssl: String,
}

/// One step of a fix: a title and, where one exists, a copy-able command
/// whose every interpolated value is shell-quoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixStep {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl FixStep {
    pub fn cmd(title: impl Into<String>, command: impl Into<String>) -> Self {
        FixStep {
            title: title.into(),
            command: Some(command.into()),
        }
    }
    pub fn note(title: impl Into<String>) -> Self {
        FixStep {
            title: title.into(),
            command: None,
        }
    }
}

/// One diagnosed problem or notable fact about one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// Index into the report's chain (0 = leaf); `None` for the connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<usize>,
    pub title: String,
    pub detail: String,
    pub clients: Clients,
    pub fix: Vec<FixStep>,
    /// For a target served by several addresses: the ones this finding
    /// concerns (empty for a single address).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

/// Sort findings root cause first: severity (worst first), then code order,
/// then certificate index.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(&b.code))
            .then(a.cert.cmp(&b.cert))
    });
}
