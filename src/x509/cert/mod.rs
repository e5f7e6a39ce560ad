//! Certificate model: everything certscope shows or reasons about, read once
//! from the DER with x509-parser.
//!
//! Certificates are untrusted input. Parsing never panics, malformed or
//! unknown extensions are recorded instead of failing the whole certificate.
//! Strings are kept raw (JSON carries them as they are); whatever writes to
//! a terminal renders `Report::for_terminal`'s copy (`report::terminal`).
//!
//! The module is split by concern: `key` (public-key type and size),
//! `sig` (signature algorithms and checking, with the legacy RSA fallback),
//! `ext` (extension decoding and summaries), `dn` (distinguished names),
//! `general_name` (SAN and other general names) and `pem` (PEM/DER input).

mod dn;
mod ext;
mod general_name;
mod key;
mod pem;
mod sig;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use x509_parser::asn1_rs::Oid;
use x509_parser::prelude::*;

pub use dn::{name_cn, name_to_string};
pub(crate) use key::rsa_modulus_bits;
pub use key::{KeyInfo, KeyKind};
pub use pem::parse_certificates;

use dn::{first_cn, format_name};
use ext::extension_name;
use key::key_info;
use sig::signature_algorithm_info;

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// One subjectAltName entry. Strings are raw (see `report::terminal`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum San {
    Dns(String),
    Ip(IpAddr),
    Email(String),
    Uri(String),
    /// Any other kind of name, already formatted ("DirName:CN=x", "othername:1.2.3", ...).
    Other(String),
}

impl San {
    /// "DNS:a.test", "IP:127.0.0.1", "email:a@b.test", "URI:https://..", or the other text.
    pub fn display(&self) -> String {
        match self {
            San::Dns(d) => format!("DNS:{d}"),
            San::Ip(ip) => format!("IP:{ip}"),
            San::Email(e) => format!("email:{e}"),
            San::Uri(u) => format!("URI:{u}"),
            San::Other(o) => o.clone(),
        }
    }
}

/// The hash used by the certificate's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigHash {
    Md2,
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    /// Ed25519 / Ed448: the hash is part of the signature scheme.
    Intrinsic,
    Other,
}

/// extendedKeyUsage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Eku {
    pub server_auth: bool,
    pub client_auth: bool,
    pub any: bool,
    /// Other purposes: "codeSigning", "emailProtection", "timeStamping",
    /// "OCSPSigning", or the OID text.
    pub others: Vec<String>,
}

impl Eku {
    /// The purposes listed other than serverAuth, by name.
    pub fn other_purposes(&self) -> Vec<String> {
        let mut listed: Vec<String> = Vec::new();
        if self.client_auth {
            listed.push("clientAuth".into());
        }
        if self.any {
            listed.push("anyExtendedKeyUsage".into());
        }
        listed.extend(self.others.iter().cloned());
        listed
    }
}

/// nameConstraints, each entry formatted like a SAN ("DNS:allowed.test",
/// "IP:10.0.0.0/8").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameConstraintsInfo {
    pub permitted: Vec<String>,
    pub excluded: Vec<String>,
}

/// One extension for the detail view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// Dotted OID.
    pub oid: String,
    /// Short name such as "subjectAltName", or the OID.
    pub name: String,
    pub critical: bool,
    /// A readable summary, raw (may be multi-line); "unparsed" when the
    /// extension is unknown or malformed.
    pub value: String,
}

/// Result of checking a signature with a given public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigCheck {
    /// The key verifies the signature.
    Valid,
    /// The signature algorithm is supported and the key does not verify it
    /// (or the key/signature is malformed).
    Invalid,
    /// The signature algorithm (or its combination with the key) cannot be
    /// checked here (e.g. ECDSA P-521, Ed448, DSA, MD2).
    Unsupported,
}

/// Why a blob is not a usable certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// Not a DER X.509 certificate; the text says what the parser found.
    #[error("not a DER X.509 certificate: {0}")]
    NotDer(String),
    /// A certificate followed by this many extra bytes.
    #[error("trailing data after the certificate ({0} bytes)")]
    TrailingData(usize),
}

/// Everything certscope knows about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub der: Vec<u8>,
    /// 1, 2 or 3.
    pub version: u32,
    /// RFC 4514-ish display "CN=a.test, O=Org", raw: a terminal shows
    /// `Report::for_terminal`'s copy.
    pub subject: String,
    pub issuer: String,
    /// First CN, raw.
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// DER of the subject Name (full SEQUENCE incl. tag), for matching.
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    /// Upper-case hex with colons "0A:1B".
    pub serial: String,
    /// The serial's DER INTEGER content octets as encoded (sign byte
    /// included), for the RFC 5280 rules on its sign and length.
    pub serial_raw: Vec<u8>,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub sans: Vec<San>,
    pub has_san_extension: bool,
    pub key: KeyInfo,
    /// Full SubjectPublicKeyInfo DER.
    pub spki_der: Vec<u8>,
    /// "sha256WithRSAEncryption", "ecdsa-with-SHA256", "ED25519", ..., else OID text.
    pub signature_algorithm: String,
    pub signature_hash: SigHash,
    /// basicConstraints cA.
    pub is_ca: bool,
    pub basic_constraints_present: bool,
    pub path_len: Option<u32>,
    /// None = extension absent; names "digitalSignature", "keyEncipherment", ...
    pub key_usage: Option<Vec<String>>,
    /// None = extension absent.
    pub ext_key_usage: Option<Eku>,
    pub aia_ca_issuers: Vec<String>,
    pub aia_ocsp: Vec<String>,
    pub crl_urls: Vec<String>,
    /// Embedded SCTs (extension 1.3.6.1.4.1.11129.2.4.2).
    pub sct_count: usize,
    /// TLS Feature extension lists status_request (5).
    pub must_staple: bool,
    pub name_constraints: Option<NameConstraintsInfo>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    /// subject_raw == issuer_raw.
    pub self_issued: bool,
    /// Every extension, in order.
    pub extensions: Vec<ExtensionInfo>,
    /// Upper-case hex with colons, of the full DER.
    pub sha256: String,
    pub sha1: String,
    /// SHA-256 of the SPKI DER (a pin).
    pub spki_sha256: String,
    /// Signature checks already made on this certificate, by issuer key:
    /// each (certificate, key) pair is verified once however often the
    /// chain is walked. Shared by clones; never part of equality.
    pub(crate) sig_memo: SigMemo,
}

/// Results of [`CertInfo::signature_check`] by issuer SPKI (see `sig_memo`).
#[derive(Clone, Default)]
pub struct SigMemo(std::sync::Arc<std::sync::Mutex<Vec<MemoEntry>>>);

/// (issuer SPKI DER, result).
type MemoEntry = (Vec<u8>, SigCheck);

impl SigMemo {
    pub(crate) fn get(&self, spki: &[u8]) -> Option<SigCheck> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.iter().find(|(k, _)| k == spki).map(|(_, v)| *v)
    }
    pub(crate) fn put(&self, spki: &[u8], v: SigCheck) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // A handful of candidate issuers per certificate; bounded anyway.
        if m.len() < 64 && !m.iter().any(|(k, _)| k == spki) {
            m.push((spki.to_vec(), v));
        }
    }
}

impl std::fmt::Debug for SigMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigMemo")
    }
}

impl PartialEq for SigMemo {
    fn eq(&self, _: &SigMemo) -> bool {
        true
    }
}
impl Eq for SigMemo {}

// ---------------------------------------------------------------------------
// OIDs
// ---------------------------------------------------------------------------

fn oid_text(oid: &Oid) -> String {
    oid.to_id_string()
}

/// Name for an OID that is not an extension or attribute (EKU purpose,
/// policy, ...): the registry short name, else the dotted text.
fn oid_name(oid: &Oid) -> String {
    match oid2sn(oid, oid_registry()) {
        Ok(sn) => sn.to_string(),
        Err(_) => oid_text(oid),
    }
}

// ---------------------------------------------------------------------------
// Small DER helpers (no panics on any input)
// ---------------------------------------------------------------------------

pub(crate) use crate::util::tlv::read_tlv;

/// Total encoded length of the first TLV in `input`.
fn tlv_total_len(input: &[u8]) -> Option<usize> {
    let (_, _, rest) = read_tlv(input)?;
    Some(input.len() - rest.len())
}

fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02X}"));
    }
    s
}

/// Upper-case colon hex "AB:CD:..".
pub fn hex_colon(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// Serial as upper-case colon hex, without the DER sign byte (a leading
/// 0x00 before a byte >= 0x80), like `openssl x509 -serial`.
fn serial_hex(raw: &[u8]) -> String {
    match raw {
        [0, next, ..] if *next >= 0x80 => hex_colon(raw.get(1..).unwrap_or_default()),
        _ => hex_colon(raw),
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex_colon(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

fn sha1_hex(data: &[u8]) -> String {
    hex_colon(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref())
}

// ---------------------------------------------------------------------------
// CertInfo
// ---------------------------------------------------------------------------

fn parse_x509(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    if der.is_empty() {
        return Err(CertError::NotDer("empty input".to_string()));
    }
    match X509Certificate::from_der(der) {
        Ok((rest, cert)) => {
            if rest.is_empty() {
                Ok(cert)
            } else {
                Err(CertError::TrailingData(rest.len()))
            }
        }
        Err(x509_parser::nom::Err::Incomplete(_)) => {
            Err(CertError::NotDer("truncated input".to_string()))
        }
        Err(x509_parser::nom::Err::Error(e)) | Err(x509_parser::nom::Err::Failure(e)) => {
            Err(CertError::NotDer(e.to_string()))
        }
    }
}

impl CertInfo {
    /// Parse one DER certificate. Extra bytes after it are an error.
    pub fn from_der(der: &[u8]) -> Result<CertInfo, CertError> {
        // x509-parser is fuzzed and aims to be panic-free; the unwind guard
        // is defence in depth for untrusted input.
        match std::panic::catch_unwind(|| Self::from_der_inner(der)) {
            Ok(r) => r,
            Err(_) => Err(CertError::NotDer("internal parser error".to_string())),
        }
    }

    fn from_der_inner(der: &[u8]) -> Result<CertInfo, CertError> {
        let x = parse_x509(der)?;
        let subject_raw = x.subject().as_raw().to_vec();
        let issuer_raw = x.issuer().as_raw().to_vec();
        let spki = x.public_key();
        let (signature_algorithm, signature_hash) =
            signature_algorithm_info(&x.signature_algorithm);

        let mut info = CertInfo {
            der: der.to_vec(),
            version: x.version().0.saturating_add(1),
            subject: format_name(x.subject()),
            issuer: format_name(x.issuer()),
            subject_cn: first_cn(x.subject()),
            issuer_cn: first_cn(x.issuer()),
            self_issued: subject_raw == issuer_raw,
            subject_raw,
            issuer_raw,
            serial: serial_hex(x.raw_serial()),
            serial_raw: x.raw_serial().to_vec(),
            not_before: x.validity().not_before.timestamp(),
            not_after: x.validity().not_after.timestamp(),
            sans: Vec::new(),
            has_san_extension: false,
            key: key_info(spki),
            spki_der: spki.raw.to_vec(),
            signature_algorithm,
            signature_hash,
            is_ca: false,
            basic_constraints_present: false,
            path_len: None,
            key_usage: None,
            ext_key_usage: None,
            aia_ca_issuers: Vec::new(),
            aia_ocsp: Vec::new(),
            crl_urls: Vec::new(),
            sct_count: 0,
            must_staple: false,
            name_constraints: None,
            subject_key_id: None,
            authority_key_id: None,
            extensions: Vec::new(),
            sha256: sha256_hex(der),
            sha1: sha1_hex(der),
            spki_sha256: sha256_hex(spki.raw),
            sig_memo: SigMemo::default(),
        };
        for ext in x.extensions() {
            let summary = info.absorb_extension(ext);
            let oid = oid_text(&ext.oid);
            info.extensions.push(ExtensionInfo {
                name: extension_name(&oid),
                oid,
                critical: ext.critical,
                value: summary,
            });
        }
        Ok(info)
    }

    /// Validity length in seconds (RFC 5280: both ends inclusive).
    pub fn lifetime_secs(&self) -> i64 {
        self.not_after
            .saturating_sub(self.not_before)
            .saturating_add(1)
    }

    /// Whole days until notAfter, truncated toward zero like the findings'
    /// words: 10 days and 1 hour after notAfter is -10 ("expired 10 days
    /// ago"), 5 days and 23 hours before it is 5 ("expires in 5 days").
    pub fn days_left(&self, now: i64) -> i64 {
        self.not_after.saturating_sub(now) / 86_400
    }

    /// CN if any, else the subject, else the first SAN.
    pub fn display_name(&self) -> String {
        if let Some(cn) = self.subject_cn.as_ref().filter(|c| !c.is_empty()) {
            return cn.clone();
        }
        if !self.subject.is_empty() {
            return self.subject.clone();
        }
        match self.sans.first() {
            Some(s) => s.display(),
            None => "(no name)".to_string(),
        }
    }

    /// `self`'s subject equals `child`'s issuer (names only, no signature check).
    pub fn could_issue(&self, child: &CertInfo) -> bool {
        self.subject_raw == child.issuer_raw
    }
}
