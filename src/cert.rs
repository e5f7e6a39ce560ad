//! Certificate model: everything certscope shows or reasons about, read once
//! from the DER with x509-parser.
//!
//! Certificates are untrusted input. Parsing never panics, malformed or
//! unknown extensions are recorded instead of failing the whole certificate,
//! and every string that comes from a certificate is passed through
//! [`crate::sanitize::for_terminal`] before it is stored.

use std::fmt;
use std::net::IpAddr;

use x509_parser::asn1_rs::{Any, Oid, Tag};
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::*;

use crate::sanitize::{bytes_for_terminal, for_terminal};

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// One subjectAltName entry. Strings are sanitized.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum KeyKind {
    Rsa,
    Ec,
    Ed25519,
    Ed448,
    Dsa,
    Unknown,
}

/// The subject public key: type, size and (for EC) curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kind: KeyKind,
    pub bits: Option<u32>,
    /// "P-256", "P-384", "P-521", "P-224", "P-192", "secp256k1", the curve OID
    /// text, or "explicit parameters".
    pub curve: Option<String>,
}

impl KeyInfo {
    /// "RSA 2048 bits", "EC P-256", "Ed25519", "DSA 1024 bits", ...
    pub fn describe(&self) -> String {
        match (self.kind, self.bits, &self.curve) {
            (KeyKind::Rsa, Some(b), _) => format!("RSA {b} bits"),
            (KeyKind::Rsa, None, _) => "RSA (unknown size)".to_string(),
            (KeyKind::Ec, _, Some(c)) => format!("EC {c}"),
            (KeyKind::Ec, _, None) => "EC (unknown curve)".to_string(),
            (KeyKind::Ed25519, _, _) => "Ed25519".to_string(),
            (KeyKind::Ed448, _, _) => "Ed448".to_string(),
            (KeyKind::Dsa, Some(b), _) => format!("DSA {b} bits"),
            (KeyKind::Dsa, None, _) => "DSA".to_string(),
            (KeyKind::Unknown, _, _) => "unknown key type".to_string(),
        }
    }

    /// "RSA", "EC", "Ed25519", "Ed448", "DSA" or "unknown".
    pub fn type_str(&self) -> &'static str {
        match self.kind {
            KeyKind::Rsa => "RSA",
            KeyKind::Ec => "EC",
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::Ed448 => "Ed448",
            KeyKind::Dsa => "DSA",
            KeyKind::Unknown => "unknown",
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
    /// A readable, sanitized summary (may be multi-line); "unparsed" when the
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertError {
    /// Not a DER X.509 certificate; the text says what the parser found.
    NotDer(String),
    /// A certificate followed by this many extra bytes.
    TrailingData(usize),
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::NotDer(m) => write!(f, "not a DER X.509 certificate: {m}"),
            CertError::TrailingData(n) => {
                write!(f, "trailing data after the certificate ({n} bytes)")
            }
        }
    }
}

impl std::error::Error for CertError {}

/// Everything certscope knows about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub der: Vec<u8>,
    /// 1, 2 or 3.
    pub version: u32,
    /// Sanitized RFC 4514-ish display "CN=a.test, O=Org".
    pub subject: String,
    pub issuer: String,
    /// Sanitized first CN.
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// DER of the subject Name (full SEQUENCE incl. tag), for matching.
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    /// Upper-case hex with colons "0A:1B".
    pub serial: String,
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
}

// ---------------------------------------------------------------------------
// OIDs
// ---------------------------------------------------------------------------

const OID_SAN: &str = "2.5.29.17";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EKU: &str = "2.5.29.37";
const OID_NAME_CONSTRAINTS: &str = "2.5.29.30";
const OID_TLS_FEATURE: &str = "1.3.6.1.5.5.7.1.24";
const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const OID_AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";
const OID_AD_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";
const OID_CN: &str = "2.5.4.3";

fn oid_text(oid: &Oid) -> String {
    oid.to_id_string()
}

/// Short name for an extension OID.
fn extension_name(oid: &str) -> String {
    let known = match oid {
        "2.5.29.14" => "subjectKeyIdentifier",
        "2.5.29.15" => "keyUsage",
        "2.5.29.16" => "privateKeyUsagePeriod",
        "2.5.29.17" => "subjectAltName",
        "2.5.29.18" => "issuerAltName",
        "2.5.29.19" => "basicConstraints",
        "2.5.29.30" => "nameConstraints",
        "2.5.29.31" => "cRLDistributionPoints",
        "2.5.29.32" => "certificatePolicies",
        "2.5.29.33" => "policyMappings",
        "2.5.29.35" => "authorityKeyIdentifier",
        "2.5.29.36" => "policyConstraints",
        "2.5.29.37" => "extendedKeyUsage",
        "2.5.29.46" => "freshestCRL",
        "2.5.29.54" => "inhibitAnyPolicy",
        "1.3.6.1.5.5.7.1.1" => "authorityInfoAccess",
        "1.3.6.1.5.5.7.1.11" => "subjectInfoAccess",
        "1.3.6.1.5.5.7.1.24" => "tlsFeature",
        "1.3.6.1.5.5.7.48.1.5" => "ocspNoCheck",
        "1.3.6.1.4.1.11129.2.4.2" => "ctPrecertificateSCTs",
        "1.3.6.1.4.1.11129.2.4.3" => "ctPrecertificatePoison",
        "2.16.840.1.113730.1.1" => "nsCertType",
        "2.16.840.1.113730.1.13" => "nsComment",
        "1.3.6.1.4.1.311.20.2" => "msCertificateTemplateName",
        "1.3.6.1.4.1.311.21.7" => "msCertificateTemplate",
        "1.3.6.1.4.1.311.21.10" => "msApplicationPolicies",
        _ => "",
    };
    if known.is_empty() {
        oid.to_string()
    } else {
        known.to_string()
    }
}

/// Short name for an attribute type in a Name.
fn attribute_label(oid: &Oid) -> String {
    let text = oid_text(oid);
    let known = match text.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.12" => "title",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => "",
    };
    if known.is_empty() {
        match oid2sn(oid, oid_registry()) {
            Ok(sn) => sn.to_string(),
            Err(_) => text,
        }
    } else {
        known.to_string()
    }
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

/// Read one DER TLV with a single-byte tag: (tag, content, rest).
pub(crate) fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags are not used where we call this
    }
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len_bytes = rest.get(..n)?;
        let mut len: usize = 0;
        for b in len_bytes {
            len = len.checked_mul(256)?.checked_add(usize::from(*b))?;
        }
        (len, rest.get(n..)?)
    };
    let content = rest.get(..len)?;
    let after = rest.get(len..)?;
    Some((tag, content, after))
}

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
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02X}"));
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

/// Bit length of a big-endian unsigned integer (leading zero bytes ignored).
/// x509-parser's `key_size()` counts whole bytes, so a 2047-bit modulus
/// would come out as 2040.
pub(crate) fn rsa_modulus_bits(modulus: &[u8]) -> Option<u32> {
    let start = modulus.iter().position(|b| *b != 0)?;
    let significant = modulus.get(start..)?;
    let first = significant.first()?;
    let len = u32::try_from(significant.len()).ok()?;
    len.checked_mul(8)?.checked_sub(first.leading_zeros())
}

fn sha256_hex(data: &[u8]) -> String {
    hex_colon(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

fn sha1_hex(data: &[u8]) -> String {
    hex_colon(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref())
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// Decode a directory-string attribute value (lossy, unsanitized).
fn attr_value_text(v: &Any) -> String {
    match v.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::T61String
        | Tag::VideotexString
        | Tag::GraphicString
        | Tag::GeneralString => String::from_utf8_lossy(v.data).into_owned(),
        Tag::BmpString => {
            let units = v
                .data
                .chunks(2)
                .map(|c| match c {
                    [a, b] => u16::from_be_bytes([*a, *b]),
                    _ => 0xfffd,
                })
                .collect::<Vec<u16>>();
            char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        Tag::UniversalString => v
            .data
            .chunks(4)
            .map(|c| match c {
                [a, b, cc, d] => char::from_u32(u32::from_be_bytes([*a, *b, *cc, *d]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
                _ => char::REPLACEMENT_CHARACTER,
            })
            .collect(),
        _ => format!("#{}", hex_upper(v.data)),
    }
}

/// Escape RFC 4514 special characters in a value.
fn escape_rdn_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ',' | '+' | ';' | '"' | '\\' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn format_name(name: &X509Name) -> String {
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    format!(
                        "{}={}",
                        attribute_label(atv.attr_type()),
                        escape_rdn_value(&attr_value_text(atv.attr_value()))
                    )
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    for_terminal(&rdns.join(", "))
}

fn first_cn(name: &X509Name) -> Option<String> {
    name.iter_attributes()
        .find(|a| oid_text(a.attr_type()) == OID_CN)
        .map(|a| for_terminal(&attr_value_text(a.attr_value())))
}

/// Format a DER-encoded Name (with its outer SEQUENCE) for display,
/// sanitized. `None` when it does not parse.
pub fn name_to_string(raw: &[u8]) -> Option<String> {
    let (_, name) = X509Name::from_der(raw).ok()?;
    Some(format_name(&name))
}

/// First CN of a DER-encoded Name, sanitized.
pub fn name_cn(raw: &[u8]) -> Option<String> {
    let (_, name) = X509Name::from_der(raw).ok()?;
    first_cn(&name)
}

// ---------------------------------------------------------------------------
// General names
// ---------------------------------------------------------------------------

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        Some(IpAddr::from(a))
    } else if let Ok(a) = <[u8; 16]>::try_from(b) {
        Some(IpAddr::from(a))
    } else {
        None
    }
}

fn invalid_general_name(tag: Tag, bytes: &[u8]) -> String {
    let kind = match tag.0 {
        0 => "otherName",
        1 => "email",
        2 => "DNS",
        3 => "X400Name",
        4 => "DirName",
        5 => "EdiPartyName",
        6 => "URI",
        7 => "IP",
        8 => "RID",
        _ => "name",
    };
    format!("invalid {kind}: {}", bytes_for_terminal(bytes))
}

fn san_from_general_name(gn: &GeneralName) -> San {
    match gn {
        GeneralName::DNSName(s) => San::Dns(for_terminal(s)),
        GeneralName::IPAddress(b) => match ip_from_bytes(b) {
            Some(ip) => San::Ip(ip),
            None => San::Other(format!("IP:<invalid, {} bytes: {}>", b.len(), hex_colon(b))),
        },
        GeneralName::RFC822Name(s) => San::Email(for_terminal(s)),
        GeneralName::URI(s) => San::Uri(for_terminal(s)),
        other => San::Other(general_name_text(other)),
    }
}

/// Display text for any general name (sanitized).
fn general_name_text(gn: &GeneralName) -> String {
    match gn {
        GeneralName::DNSName(s) => format!("DNS:{}", for_terminal(s)),
        GeneralName::RFC822Name(s) => format!("email:{}", for_terminal(s)),
        GeneralName::URI(s) => format!("URI:{}", for_terminal(s)),
        GeneralName::IPAddress(b) => match ip_from_bytes(b) {
            Some(ip) => format!("IP:{ip}"),
            None => format!("IP:<invalid, {} bytes: {}>", b.len(), hex_colon(b)),
        },
        GeneralName::DirectoryName(n) => format!("DirName:{}", format_name(n)),
        GeneralName::OtherName(oid, _) => format!("othername:{}", oid_name(oid)),
        GeneralName::RegisteredID(oid) => format!("RID:{}", oid_text(oid)),
        GeneralName::X400Address(_) => "X400Name:<unsupported>".to_string(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".to_string(),
        GeneralName::Invalid(tag, bytes) => invalid_general_name(*tag, bytes),
    }
}

/// Name-constraint subtree text: IP entries are address + mask.
fn constraint_text(gn: &GeneralName) -> String {
    if let GeneralName::IPAddress(b) = gn {
        let (addr, mask) = match b.len() {
            8 => (ip_from_bytes(b.get(..4).unwrap_or_default()), b.get(4..)),
            32 => (ip_from_bytes(b.get(..16).unwrap_or_default()), b.get(16..)),
            _ => (None, None),
        };
        if let (Some(addr), Some(mask)) = (addr, mask) {
            let ones: u32 = mask.iter().map(|m| m.count_ones()).sum();
            let contiguous = mask
                .iter()
                .flat_map(|m| (0..8).rev().map(move |i| (m >> i) & 1 == 1))
                .skip_while(|bit| *bit)
                .all(|bit| !bit);
            return if contiguous {
                format!("IP:{addr}/{ones}")
            } else {
                format!("IP:{addr}/{}", hex_colon(mask))
            };
        }
        return format!("IP:<invalid, {} bytes: {}>", b.len(), hex_colon(b));
    }
    general_name_text(gn)
}

// ---------------------------------------------------------------------------
// Keys and signature algorithms
// ---------------------------------------------------------------------------

fn curve_name(oid: &str) -> Option<(&'static str, u32)> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => ("P-256", 256),
        "1.3.132.0.34" => ("P-384", 384),
        "1.3.132.0.35" => ("P-521", 521),
        "1.3.132.0.33" => ("P-224", 224),
        "1.2.840.10045.3.1.1" => ("P-192", 192),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        _ => return None,
    })
}

/// (modulus, exponent) of an RSAPublicKey (the SPKI BIT STRING contents).
fn rsa_public_key_parts(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, seq, _) = read_tlv(key)?;
    if tag != 0x30 {
        return None;
    }
    let (t1, n, rest) = read_tlv(seq)?;
    let (t2, e, _) = read_tlv(rest)?;
    if t1 != 0x02 || t2 != 0x02 {
        return None;
    }
    Some((n, e))
}

fn key_info(spki: &SubjectPublicKeyInfo) -> KeyInfo {
    let alg = oid_text(&spki.algorithm.algorithm);
    let key_bytes: &[u8] = &spki.subject_public_key.data;
    match alg.as_str() {
        // rsaEncryption, RSASSA-PSS, RSAES-OAEP
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" | "1.2.840.113549.1.1.7" => KeyInfo {
            kind: KeyKind::Rsa,
            bits: rsa_public_key_parts(key_bytes).and_then(|(n, _)| rsa_modulus_bits(n)),
            curve: None,
        },
        "1.2.840.10045.2.1" => {
            let (curve, bits) = match spki.algorithm.parameters.as_ref() {
                Some(p) => match p.as_oid() {
                    Ok(oid) => {
                        let t = oid_text(&oid);
                        match curve_name(&t) {
                            Some((name, bits)) => (Some(name.to_string()), Some(bits)),
                            None => (Some(t), None),
                        }
                    }
                    Err(_) => (Some("explicit parameters".to_string()), None),
                },
                None => (None, None),
            };
            KeyInfo {
                kind: KeyKind::Ec,
                bits,
                curve,
            }
        }
        "1.3.101.112" => KeyInfo {
            kind: KeyKind::Ed25519,
            bits: Some(256),
            curve: None,
        },
        "1.3.101.113" => KeyInfo {
            kind: KeyKind::Ed448,
            bits: Some(448),
            curve: None,
        },
        "1.2.840.10040.4.1" => {
            // Dss-Parms ::= SEQUENCE { p, q, g }: size is the bit length of p.
            let bits = spki
                .algorithm
                .parameters
                .as_ref()
                .filter(|p| p.tag() == Tag::Sequence)
                .and_then(|p| read_tlv(p.data))
                .filter(|(tag, _, _)| *tag == 0x02)
                .and_then(|(_, pv, _)| rsa_modulus_bits(pv));
            KeyInfo {
                kind: KeyKind::Dsa,
                bits,
                curve: None,
            }
        }
        _ => KeyInfo {
            kind: KeyKind::Unknown,
            bits: None,
            curve: None,
        },
    }
}

const OID_SHA1: &str = "1.3.14.3.2.26";
const OID_SHA224: &str = "2.16.840.1.101.3.4.2.4";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA384: &str = "2.16.840.1.101.3.4.2.2";
const OID_SHA512: &str = "2.16.840.1.101.3.4.2.3";

/// Hash named in RSASSA-PSS parameters (SHA-1 when absent, per RFC 4055).
fn pss_hash(params: Option<&Any>) -> SigHash {
    use x509_parser::signature_algorithm::RsaSsaPssParams;
    let Some(p) = params else {
        return SigHash::Sha1;
    };
    let Ok(pss) = RsaSsaPssParams::try_from(p) else {
        // Unreadable parameters: the usual case is SHA-256.
        return SigHash::Sha256;
    };
    match oid_text(pss.hash_algorithm_oid()).as_str() {
        OID_SHA1 => SigHash::Sha1,
        OID_SHA224 => SigHash::Sha224,
        OID_SHA256 => SigHash::Sha256,
        OID_SHA384 => SigHash::Sha384,
        OID_SHA512 => SigHash::Sha512,
        _ => SigHash::Other,
    }
}

fn signature_algorithm_info(alg: &AlgorithmIdentifier) -> (String, SigHash) {
    let oid = oid_text(&alg.algorithm);
    let (name, hash) = match oid.as_str() {
        "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", SigHash::Md2),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", SigHash::Md5),
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => ("sha1WithRSAEncryption", SigHash::Sha1),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", SigHash::Sha256),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", SigHash::Sha384),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", SigHash::Sha512),
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", SigHash::Sha224),
        "1.2.840.113549.1.1.10" => ("rsassaPss", pss_hash(alg.parameters.as_ref())),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", SigHash::Sha1),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", SigHash::Sha224),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", SigHash::Sha256),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", SigHash::Sha384),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", SigHash::Sha512),
        "1.2.840.10040.4.3" => ("dsa-with-sha1", SigHash::Sha1),
        "2.16.840.1.101.3.4.3.1" => ("dsa-with-sha224", SigHash::Sha224),
        "2.16.840.1.101.3.4.3.2" => ("dsa-with-sha256", SigHash::Sha256),
        "1.3.101.112" => ("ED25519", SigHash::Intrinsic),
        "1.3.101.113" => ("ED448", SigHash::Intrinsic),
        _ => ("", SigHash::Other),
    };
    if name.is_empty() {
        (oid_name(&alg.algorithm), hash)
    } else {
        (name.to_string(), hash)
    }
}

// ---------------------------------------------------------------------------
// Extensions
// ---------------------------------------------------------------------------

fn key_usage_names(ku: &KeyUsage) -> Vec<String> {
    let all = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    all.iter()
        .filter(|(set, _)| *set)
        .map(|(_, n)| (*n).to_string())
        .collect()
}

fn eku_info(eku: &ExtendedKeyUsage) -> Eku {
    let mut others = Vec::new();
    for (set, name) in [
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ] {
        if set {
            others.push(name.to_string());
        }
    }
    others.extend(eku.other.iter().map(oid_name));
    Eku {
        server_auth: eku.server_auth,
        client_auth: eku.client_auth,
        any: eku.any,
        others,
    }
}

fn eku_text(e: &Eku) -> String {
    let mut v = Vec::new();
    if e.server_auth {
        v.push("serverAuth".to_string());
    }
    if e.client_auth {
        v.push("clientAuth".to_string());
    }
    if e.any {
        v.push("anyExtendedKeyUsage".to_string());
    }
    v.extend(e.others.iter().cloned());
    v.join(", ")
}

/// TLS Feature values: SEQUENCE OF INTEGER. `None` when malformed.
fn tls_features(value: &[u8]) -> Option<Vec<u64>> {
    let (tag, mut seq, _) = read_tlv(value)?;
    if tag != 0x30 {
        return None;
    }
    let mut out = Vec::new();
    while !seq.is_empty() {
        let (t, int, rest) = read_tlv(seq)?;
        if t != 0x02 || int.is_empty() || int.len() > 8 {
            return None;
        }
        let mut n: u64 = 0;
        for b in int {
            n = (n << 8) | u64::from(*b);
        }
        out.push(n);
        seq = rest;
    }
    Some(out)
}

/// Count SCTs in the extension value (OCTET STRING wrapping a TLS
/// SignedCertificateTimestampList) when x509-parser could not.
fn count_scts_raw(value: &[u8]) -> Option<usize> {
    let (tag, list, _) = read_tlv(value)?;
    if tag != 0x04 {
        return None;
    }
    let (len_bytes, mut body) = (list.get(..2)?, list.get(2..)?);
    let total = usize::from(u16::from_be_bytes([
        *len_bytes.first()?,
        *len_bytes.get(1)?,
    ]));
    if total != body.len() {
        return None;
    }
    let mut n = 0;
    while !body.is_empty() {
        let l = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
        body = body.get(2..)?.get(l..)?;
        n += 1;
    }
    Some(n)
}

fn policy_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.29.32.0" => "anyPolicy",
        "2.23.140.1.1" => "CA/B EV",
        "2.23.140.1.2.1" => "CA/B domain-validated",
        "2.23.140.1.2.2" => "CA/B organization-validated",
        "2.23.140.1.2.3" => "CA/B individual-validated",
        "1.3.6.1.4.1.44947.1.1.1" => "ISRG domain-validated",
        _ => return None,
    })
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

    /// Record what one extension says; return its display summary.
    fn absorb_extension(&mut self, ext: &X509Extension) -> String {
        let oid = oid_text(&ext.oid);
        match oid.as_str() {
            OID_SAN => self.has_san_extension = true,
            OID_BASIC_CONSTRAINTS => self.basic_constraints_present = true,
            OID_KEY_USAGE if self.key_usage.is_none() => self.key_usage = Some(Vec::new()),
            OID_EKU if self.ext_key_usage.is_none() => self.ext_key_usage = Some(Eku::default()),
            OID_NAME_CONSTRAINTS if self.name_constraints.is_none() => {
                self.name_constraints = Some(NameConstraintsInfo::default())
            }
            _ => {}
        }
        const UNPARSED: &str = "unparsed";
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                let new: Vec<San> = san
                    .general_names
                    .iter()
                    .map(san_from_general_name)
                    .collect();
                let text = new.iter().map(San::display).collect::<Vec<_>>().join(", ");
                self.sans.extend(new);
                text
            }
            ParsedExtension::IssuerAlternativeName(ian) => ian
                .general_names
                .iter()
                .map(general_name_text)
                .collect::<Vec<_>>()
                .join(", "),
            ParsedExtension::BasicConstraints(bc) => {
                // The first occurrence wins (duplicates are malformed anyway).
                if !self
                    .extensions
                    .iter()
                    .any(|e| e.oid == OID_BASIC_CONSTRAINTS)
                {
                    self.is_ca = bc.ca;
                    self.path_len = bc.path_len_constraint;
                }
                match bc.path_len_constraint {
                    Some(n) => format!("CA:{}, pathlen:{n}", if bc.ca { "TRUE" } else { "FALSE" }),
                    None => format!("CA:{}", if bc.ca { "TRUE" } else { "FALSE" }),
                }
            }
            ParsedExtension::KeyUsage(ku) => {
                let names = key_usage_names(ku);
                let text = names.join(", ");
                if self.key_usage.as_ref().is_some_and(|k| k.is_empty())
                    && !self.extensions.iter().any(|e| e.oid == OID_KEY_USAGE)
                {
                    self.key_usage = Some(names);
                }
                text
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let e = eku_info(eku);
                let text = eku_text(&e);
                if !self.extensions.iter().any(|x| x.oid == OID_EKU) {
                    self.ext_key_usage = Some(e);
                }
                text
            }
            ParsedExtension::SubjectKeyIdentifier(KeyIdentifier(id)) => {
                if self.subject_key_id.is_none() {
                    self.subject_key_id = Some(id.to_vec());
                }
                hex_colon(id)
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                let mut parts = Vec::new();
                if let Some(KeyIdentifier(id)) = &aki.key_identifier {
                    if self.authority_key_id.is_none() {
                        self.authority_key_id = Some(id.to_vec());
                    }
                    parts.push(format!("keyid:{}", hex_colon(id)));
                }
                if let Some(names) = &aki.authority_cert_issuer {
                    for n in names {
                        parts.push(format!("issuer:{}", general_name_text(n)));
                    }
                }
                if let Some(serial) = aki.authority_cert_serial {
                    parts.push(format!("serial:{}", hex_colon(serial)));
                }
                parts.join("\n")
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                let mut lines = Vec::new();
                for ad in &aia.accessdescs {
                    let method = oid_text(&ad.access_method);
                    let label = match method.as_str() {
                        OID_AD_OCSP => "OCSP".to_string(),
                        OID_AD_CA_ISSUERS => "CA Issuers".to_string(),
                        _ => oid_name(&ad.access_method),
                    };
                    if let GeneralName::URI(u) = &ad.access_location {
                        let u = for_terminal(u);
                        match method.as_str() {
                            OID_AD_OCSP => self.aia_ocsp.push(u),
                            OID_AD_CA_ISSUERS => self.aia_ca_issuers.push(u),
                            _ => {}
                        }
                    }
                    lines.push(format!(
                        "{label} - {}",
                        general_name_text(&ad.access_location)
                    ));
                }
                lines.join("\n")
            }
            ParsedExtension::SubjectInfoAccess(sia) => sia
                .accessdescs
                .iter()
                .map(|ad| {
                    format!(
                        "{} - {}",
                        oid_name(&ad.access_method),
                        general_name_text(&ad.access_location)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ParsedExtension::CRLDistributionPoints(dps) => {
                let mut lines = Vec::new();
                for dp in dps.iter() {
                    match &dp.distribution_point {
                        Some(DistributionPointName::FullName(names)) => {
                            for n in names {
                                if let GeneralName::URI(u) = n {
                                    self.crl_urls.push(for_terminal(u));
                                }
                                lines.push(general_name_text(n));
                            }
                        }
                        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                            lines.push("<name relative to CRL issuer>".to_string())
                        }
                        None => {}
                    }
                    if let Some(issuers) = &dp.crl_issuer {
                        for n in issuers {
                            lines.push(format!("CRL issuer: {}", general_name_text(n)));
                        }
                    }
                }
                lines.join("\n")
            }
            ParsedExtension::SCT(scts) => {
                self.sct_count += scts.len();
                let mut lines = vec![format!("{} SCT(s)", scts.len())];
                for s in scts {
                    let log: &[u8] = s.id.key_id;
                    lines.push(format!(
                        "log {}, timestamp {} ms",
                        hex_colon(log.get(..8).unwrap_or(log)),
                        s.timestamp
                    ));
                }
                lines.join("\n")
            }
            ParsedExtension::NameConstraints(nc) => {
                let permitted: Vec<String> = nc
                    .permitted_subtrees
                    .iter()
                    .flatten()
                    .map(|s| constraint_text(&s.base))
                    .collect();
                let excluded: Vec<String> = nc
                    .excluded_subtrees
                    .iter()
                    .flatten()
                    .map(|s| constraint_text(&s.base))
                    .collect();
                let mut lines = Vec::new();
                if !permitted.is_empty() {
                    lines.push(format!("Permitted: {}", permitted.join(", ")));
                }
                if !excluded.is_empty() {
                    lines.push(format!("Excluded: {}", excluded.join(", ")));
                }
                if let Some(cur) = self.name_constraints.as_mut() {
                    cur.permitted.extend(permitted);
                    cur.excluded.extend(excluded);
                }
                lines.join("\n")
            }
            ParsedExtension::CertificatePolicies(policies) => policies
                .iter()
                .map(|p| {
                    let id = oid_text(&p.policy_id);
                    match policy_name(&id) {
                        Some(n) => format!("{id} ({n})"),
                        None => id,
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ParsedExtension::PolicyMappings(pm) => pm
                .mappings
                .iter()
                .map(|m| {
                    format!(
                        "{} -> {}",
                        oid_text(&m.issuer_domain_policy),
                        oid_text(&m.subject_domain_policy)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ParsedExtension::PolicyConstraints(pc) => {
                let mut v = Vec::new();
                if let Some(n) = pc.require_explicit_policy {
                    v.push(format!("requireExplicitPolicy:{n}"));
                }
                if let Some(n) = pc.inhibit_policy_mapping {
                    v.push(format!("inhibitPolicyMapping:{n}"));
                }
                v.join(", ")
            }
            ParsedExtension::InhibitAnyPolicy(i) => format!("skipCerts:{}", i.skip_certs),
            ParsedExtension::NSCertType(t) => t.to_string(),
            ParsedExtension::NsCertComment(c) => for_terminal(c),
            ParsedExtension::UnsupportedExtension { .. }
            | ParsedExtension::ParseError { .. }
            | ParsedExtension::Unparsed => match oid.as_str() {
                OID_TLS_FEATURE => match tls_features(ext.value) {
                    Some(features) => {
                        if features.contains(&5) {
                            self.must_staple = true;
                        }
                        features
                            .iter()
                            .map(|f| match f {
                                5 => "status_request".to_string(),
                                17 => "status_request_v2".to_string(),
                                n => n.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                    None => UNPARSED.to_string(),
                },
                OID_SCT_LIST => match count_scts_raw(ext.value) {
                    Some(n) => {
                        self.sct_count += n;
                        format!("{n} SCT(s)")
                    }
                    None => UNPARSED.to_string(),
                },
                "2.16.840.1.113730.1.13" => match read_tlv(ext.value) {
                    Some((_, text, _)) => bytes_for_terminal(text),
                    None => UNPARSED.to_string(),
                },
                "1.3.6.1.5.5.7.48.1.5" | "1.3.6.1.4.1.11129.2.4.3" => "(present)".to_string(),
                _ => UNPARSED.to_string(),
            },
            // CRL-only extensions cannot legitimately appear in certificates.
            _ => UNPARSED.to_string(),
        }
    }

    /// Validity length in seconds (RFC 5280: both ends inclusive).
    pub fn lifetime_secs(&self) -> i64 {
        self.not_after
            .saturating_sub(self.not_before)
            .saturating_add(1)
    }

    /// Whole days until notAfter (floor); negative once expired.
    pub fn days_left(&self, now: i64) -> i64 {
        self.not_after.saturating_sub(now).div_euclid(86_400)
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

    /// PEM text, 64-column base64, LF line endings.
    pub fn pem(&self) -> String {
        ::pem::encode_config(
            &::pem::Pem::new("CERTIFICATE", self.der.clone()),
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        )
    }

    /// Check this certificate's signature with the key in `issuer_spki_der`
    /// (a full SubjectPublicKeyInfo). Uses x509-parser's ring verifier, plus
    /// a fallback for legacy RSA PKCS#1 v1.5 signatures ring refuses (MD5,
    /// keys under 2048 bits, 2047-bit moduli).
    pub fn signature_check(&self, issuer_spki_der: &[u8]) -> SigCheck {
        std::panic::catch_unwind(|| self.signature_check_inner(issuer_spki_der))
            .unwrap_or(SigCheck::Invalid)
    }

    fn signature_check_inner(&self, issuer_spki_der: &[u8]) -> SigCheck {
        let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(issuer_spki_der) else {
            return SigCheck::Invalid;
        };
        let Ok((_, cert)) = X509Certificate::from_der(&self.der) else {
            return SigCheck::Invalid;
        };
        let first = cert.verify_signature(Some(&spki));
        if first.is_ok() {
            return SigCheck::Valid;
        }
        match legacy::rsa_pkcs1_verify(
            &cert.signature_algorithm,
            &spki,
            cert.tbs_certificate.as_ref(),
            &cert.signature_value.data,
        ) {
            Some(true) => SigCheck::Valid,
            Some(false) => SigCheck::Invalid,
            None => match first {
                Err(X509Error::SignatureUnsupportedAlgorithm)
                    if key_fits_algorithm(&cert.signature_algorithm, &spki) =>
                {
                    SigCheck::Unsupported
                }
                _ => SigCheck::Invalid,
            },
        }
    }

    /// Does `issuer`'s public key verify this certificate's signature?
    /// Never panics; false on any error or unsupported algorithm.
    pub fn signature_verified_by(&self, issuer_spki_der: &[u8]) -> bool {
        self.signature_check(issuer_spki_der) == SigCheck::Valid
    }

    /// Self-issued and its own key verifies its signature.
    pub fn is_self_signed(&self) -> bool {
        self.self_issued && self.signature_verified_by(&self.spki_der)
    }

    /// `self`'s subject equals `child`'s issuer (names only, no signature check).
    pub fn could_issue(&self, child: &CertInfo) -> bool {
        self.subject_raw == child.issuer_raw
    }
}

/// Could a key of this type have made a signature with this algorithm at
/// all? (An RSA key never verifies an ECDSA signature: that is a mismatch,
/// not an unsupported algorithm.) Unknown algorithms are given the benefit
/// of the doubt.
fn key_fits_algorithm(sig_alg: &AlgorithmIdentifier, spki: &SubjectPublicKeyInfo) -> bool {
    let alg = oid_text(&sig_alg.algorithm);
    let kind = key_info(spki).kind;
    let needed = if alg.starts_with("1.2.840.113549.1.1.") || alg == "1.3.14.3.2.29" {
        KeyKind::Rsa
    } else if alg.starts_with("1.2.840.10045.4.") {
        KeyKind::Ec
    } else if alg == "1.2.840.10040.4.3" || alg.starts_with("2.16.840.1.101.3.4.3.") {
        KeyKind::Dsa
    } else if alg == "1.3.101.112" {
        KeyKind::Ed25519
    } else if alg == "1.3.101.113" {
        KeyKind::Ed448
    } else {
        return true;
    };
    kind == needed || kind == KeyKind::Unknown
}

// ---------------------------------------------------------------------------
// Legacy RSA verification (raw RSA with num-bigint, hashes from ring + MD5)
// ---------------------------------------------------------------------------

mod legacy {
    use super::*;

    const MD5_PREFIX: &[u8] = &[
        0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05,
        0x00, 0x04, 0x10,
    ];
    const MD5_PREFIX_NO_NULL: &[u8] = &[
        0x30, 0x1e, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x04,
        0x10,
    ];
    const SHA1_PREFIX: &[u8] = &[
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    const SHA1_PREFIX_NO_NULL: &[u8] = &[
        0x30, 0x1f, 0x30, 0x07, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x04, 0x14,
    ];
    const SHA256_PREFIX: &[u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    const SHA384_PREFIX: &[u8] = &[
        0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
        0x05, 0x00, 0x04, 0x30,
    ];
    const SHA512_PREFIX: &[u8] = &[
        0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
        0x05, 0x00, 0x04, 0x40,
    ];

    /// Largest modulus we are willing to exponentiate with.
    const MAX_MODULUS_BITS: u32 = 16_384;

    /// Verify an RSA PKCS#1 v1.5 signature. `None` when the algorithm/key is
    /// not RSA PKCS#1 v1.5 with a hash we can compute.
    pub(super) fn rsa_pkcs1_verify(
        sig_alg: &AlgorithmIdentifier,
        spki: &SubjectPublicKeyInfo,
        message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        let (digest, prefixes): (Vec<u8>, &[&[u8]]) = match oid_text(&sig_alg.algorithm).as_str() {
            "1.2.840.113549.1.1.4" => (md5(message).to_vec(), &[MD5_PREFIX, MD5_PREFIX_NO_NULL]),
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => (
                hash(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, message),
                &[SHA1_PREFIX, SHA1_PREFIX_NO_NULL],
            ),
            "1.2.840.113549.1.1.11" => (hash(&ring::digest::SHA256, message), &[SHA256_PREFIX]),
            "1.2.840.113549.1.1.12" => (hash(&ring::digest::SHA384, message), &[SHA384_PREFIX]),
            "1.2.840.113549.1.1.13" => (hash(&ring::digest::SHA512, message), &[SHA512_PREFIX]),
            _ => return None,
        };
        if oid_text(&spki.algorithm.algorithm) != "1.2.840.113549.1.1.1" {
            return None;
        }
        let Some((n, e)) = rsa_public_key_parts(&spki.subject_public_key.data) else {
            return Some(false);
        };
        let Some(bits) = rsa_modulus_bits(n) else {
            return Some(false);
        };
        if !(256..=MAX_MODULUS_BITS).contains(&bits) {
            return Some(false);
        }
        let n_int = BigUint::from_bytes_be(n);
        let e_int = BigUint::from_bytes_be(e);
        let s_int = BigUint::from_bytes_be(signature);
        let zero = BigUint::from(0u32);
        if e_int == zero || n_int == zero || s_int >= n_int {
            return Some(false);
        }
        // Refuse absurd exponents (cost control); real keys use 3 or 65537.
        if e_int.bits() > u64::from(bits) {
            return Some(false);
        }
        let k = usize::try_from(bits.div_ceil(8)).ok()?;
        let m = s_int.modpow(&e_int, &n_int).to_bytes_be();
        if m.len() > k {
            return Some(false);
        }
        let mut em = vec![0u8; k - m.len()];
        em.extend_from_slice(&m);
        Some(
            prefixes.iter().any(|prefix| {
                expected_em(k, prefix, &digest).is_some_and(|expected| expected == em)
            }),
        )
    }

    fn hash(alg: &'static ring::digest::Algorithm, data: &[u8]) -> Vec<u8> {
        ring::digest::digest(alg, data).as_ref().to_vec()
    }

    /// EMSA-PKCS1-v1_5: 00 01 FF..FF 00 || DigestInfo.
    fn expected_em(k: usize, prefix: &[u8], digest: &[u8]) -> Option<Vec<u8>> {
        let t_len = prefix.len() + digest.len();
        let ps_len = k.checked_sub(t_len)?.checked_sub(3)?;
        if ps_len < 8 {
            return None;
        }
        let mut em = Vec::with_capacity(k);
        em.push(0x00);
        em.push(0x01);
        em.extend(std::iter::repeat_n(0xffu8, ps_len));
        em.push(0x00);
        em.extend_from_slice(prefix);
        em.extend_from_slice(digest);
        Some(em)
    }

    const MD5_S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    const MD5_K: [u32; 64] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391,
    ];

    /// MD5 (RFC 1321). Only used to check legacy md5WithRSAEncryption
    /// signatures, never for anything security-relevant.
    pub(super) fn md5(data: &[u8]) -> [u8; 16] {
        let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
        let bit_len = (data.len() as u64).wrapping_mul(8);
        let mut msg = data.to_vec();
        msg.push(0x80);
        while msg.len() % 64 != 56 {
            msg.push(0);
        }
        msg.extend_from_slice(&bit_len.to_le_bytes());
        for chunk in msg.chunks_exact(64) {
            let mut m = [0u32; 16];
            for (slot, w) in m.iter_mut().zip(chunk.chunks_exact(4)) {
                let mut b = [0u8; 4];
                b.copy_from_slice(w);
                *slot = u32::from_le_bytes(b);
            }
            let [mut a, mut b, mut c, mut d] = state;
            for i in 0..64 {
                let (f, g) = match i / 16 {
                    0 => ((b & c) | (!b & d), i),
                    1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                    2 => (b ^ c ^ d, (3 * i + 5) % 16),
                    _ => (c ^ (b | !d), (7 * i) % 16),
                };
                let f = f.wrapping_add(a).wrapping_add(MD5_K[i]).wrapping_add(m[g]);
                a = d;
                d = c;
                c = b;
                b = b.wrapping_add(f.rotate_left(MD5_S[i]));
            }
            state[0] = state[0].wrapping_add(a);
            state[1] = state[1].wrapping_add(b);
            state[2] = state[2].wrapping_add(c);
            state[3] = state[3].wrapping_add(d);
        }
        let mut out = [0u8; 16];
        for (dst, word) in out.chunks_exact_mut(4).zip(state.iter()) {
            dst.copy_from_slice(&word.to_le_bytes());
        }
        out
    }
}

// ---------------------------------------------------------------------------
// PEM / DER input
// ---------------------------------------------------------------------------

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parse every certificate in a PEM or DER blob. PEM: all CERTIFICATE
/// blocks (also "X509 CERTIFICATE" and OpenSSL "TRUSTED CERTIFICATE"),
/// ignoring text around them and other block types. DER: one certificate
/// (or several concatenated).
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("empty input".to_string());
    }
    if find(bytes, b"-----BEGIN").is_some() {
        return parse_pem_blocks(bytes);
    }
    if bytes.first() == Some(&0x30) {
        return parse_der_sequence(bytes);
    }
    Err("no certificate found: the input is neither PEM (no -----BEGIN line) nor DER".to_string())
}

fn parse_der_sequence(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if !out.is_empty() && rest.iter().all(|b| b.is_ascii_whitespace()) {
            break;
        }
        let len = match X509Certificate::from_der(rest) {
            Ok((after, _)) => rest.len() - after.len(),
            Err(_) => {
                let e = match parse_x509(rest) {
                    Err(e) => e.to_string(),
                    Ok(_) => "unknown error".to_string(),
                };
                return Err(if out.is_empty() {
                    e
                } else {
                    format!(
                        "trailing data after DER certificate {} ({} bytes) is not a certificate: {e}",
                        out.len(),
                        rest.len()
                    )
                });
            }
        };
        let (cert, after) = rest.split_at(len);
        out.push(cert.to_vec());
        rest = after;
    }
    Ok(out)
}

fn parse_pem_blocks(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const END: &[u8] = b"-----END ";
    const DASHES: &[u8] = b"-----";
    let mut certs = Vec::new();
    let mut other_labels: Vec<String> = Vec::new();
    let mut pos = 0usize;
    let mut block_no = 0usize;
    while let Some(off) = bytes.get(pos..).and_then(|b| find(b, BEGIN)) {
        let start = pos + off;
        block_no += 1;
        let label_start = start + BEGIN.len();
        let label_len = bytes
            .get(label_start..)
            .and_then(|b| find(b, DASHES))
            .ok_or_else(|| format!("PEM block {block_no}: malformed BEGIN line"))?;
        let label_raw = bytes
            .get(label_start..label_start + label_len)
            .unwrap_or_default();
        let label = bytes_for_terminal(label_raw).trim().to_string();
        let body_start = label_start + label_len + DASHES.len();
        let end_off = bytes
            .get(body_start..)
            .and_then(|b| find(b, END))
            .ok_or_else(|| format!("PEM block {block_no} ({label}) has no END line"))?;
        let end_label_start = body_start + end_off + END.len();
        let close = bytes
            .get(end_label_start..)
            .and_then(|b| find(b, DASHES))
            .ok_or_else(|| format!("PEM block {block_no} ({label}): malformed END line"))?;
        let block_end = end_label_start + close + DASHES.len();
        pos = block_end;

        let trusted = label == "TRUSTED CERTIFICATE";
        if !(label == "CERTIFICATE" || label == "X509 CERTIFICATE" || trusted) {
            other_labels.push(label);
            continue;
        }
        let n = certs.len() + 1;
        let block = bytes.get(start..block_end).unwrap_or_default();
        let parsed = ::pem::parse(block).map_err(|e| {
            format!("certificate {n} (PEM block {block_no}): bad PEM encoding: {e}")
        })?;
        let mut der = parsed.into_contents();
        if trusted {
            // OpenSSL appends trust settings after the certificate.
            if let Some(len) = tlv_total_len(&der) {
                der.truncate(len);
            }
        }
        parse_x509(&der)
            .map_err(|e| format!("certificate {n} (PEM block {block_no}) does not parse: {e}"))?;
        certs.push(der);
    }
    if certs.is_empty() {
        return Err(if other_labels.is_empty() {
            "no certificate found in the PEM input".to_string()
        } else {
            format!(
                "no certificate found (PEM blocks present: {})",
                other_labels.join(", ")
            )
        });
    }
    Ok(certs)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, PKCS_ECDSA_P384_SHA384, PKCS_ED25519,
    };

    /// RSA-1024 root, self-signed with md5WithRSAEncryption (openssl).
    const MD5_ROOT: &str = "-----BEGIN CERTIFICATE-----
MIICMTCCAZqgAwIBAgIBATANBgkqhkiG9w0BAQQFADAzMRgwFgYDVQQDDA9MZWdh
Y3kgTUQ1IFJvb3QxFzAVBgNVBAoMDmNlcnRzY29wZSB0ZXN0MCAXDTI2MTEyNzA0
NTAyNloYDzIxMjYxMTAzMDQ1MDI2WjAzMRgwFgYDVQQDDA9MZWdhY3kgTUQ1IFJv
b3QxFzAVBgNVBAoMDmNlcnRzY29wZSB0ZXN0MIGfMA0GCSqGSIb3DQEBAQUAA4GN
ADCBiQKBgQDXp8Gud+I25SC0Zih/ykLS20mIMh8SD7L1EoW3uSFiZTxxWf6EyXQP
6uNDQNWqcMKT3TfZIwRaFGnV4zdiJ0skpH04982MERXJ7jQrKDrUbUuvCUTiYX0+
a1FO+mo8t4fnffDzcItAi4gblkB38JduH5p8g1P8xxIxnQkJOjxQRQIDAQABo1Mw
UTAdBgNVHQ4EFgQUORoaBRZOaLs6kqdd+7AcEx8abxIwHwYDVR0jBBgwFoAUORoa
BRZOaLs6kqdd+7AcEx8abxIwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQQF
AAOBgQAKdbsvAnNz0157SQenbh+enktkHxZzHuj+TKB6YJlPe31Ej7Adgro9t0Ja
vSEAq+sVKeQjI3je1UKvrefCpI3nYUQSkGw5F5PtrJMfLkg6UJFx8TWBZfCIkHen
LuAKrTTLTR7/AJc4Cpd9LCqDR6TzKH2gok2vdZ8XhXE/8Epgig==
-----END CERTIFICATE-----
";
    /// EC P-256 leaf signed by MD5_ROOT with sha1WithRSAEncryption.
    const SHA1_LEAF: &str = "-----BEGIN CERTIFICATE-----
MIIB1DCCAT2gAwIBAgIBAjANBgkqhkiG9w0BAQUFADAzMRgwFgYDVQQDDA9MZWdh
Y3kgTUQ1IFJvb3QxFzAVBgNVBAoMDmNlcnRzY29wZSB0ZXN0MCAXDTI2MTEyNzA0
NTAyNloYDzIxMjYxMTAzMDQ1MDI2WjAWMRQwEgYDVQQDDAtsZWdhY3kudGVzdDBZ
MBMGByqGSM49AgEGCCqGSM49AwEHA0IABI7FGe1HCo/8VLBE9bei+hj9898BYGc/
rO2SK+DPC/u4QjEOhCbIGWSLl4ONt1Cu34RUzvbonFyMHW6eDB3wbXyjWjBYMBYG
A1UdEQQPMA2CC2xlZ2FjeS50ZXN0MB0GA1UdDgQWBBQIH55sjy75Wg9JXw7oEi8I
VQ1I1zAfBgNVHSMEGDAWgBQ5GhoFFk5ouzqSp137sBwTHxpvEjANBgkqhkiG9w0B
AQUFAAOBgQDMnEppLTQSiTSDH4mh86iFwANavVqsp6LR7G3erCYN2qGGNbGpNcfo
q2feipxbuv1BET+S/gdCB8HdeQ+3HWUiQAI8m6uFTDY0Uvh/cUylLBDGaQ/JbaHt
lwOeVY3JcTwoIJYF1ZEhnYkIrNKZ6eegEAzL1dbYYEN4/yWv7Iw4qw==
-----END CERTIFICATE-----
";
    /// Same leaf, signed by MD5_ROOT (RSA-1024) with sha256WithRSAEncryption.
    const SHA256_LEAF_RSA1024: &str = "-----BEGIN CERTIFICATE-----
MIIB1DCCAT2gAwIBAgIBAzANBgkqhkiG9w0BAQsFADAzMRgwFgYDVQQDDA9MZWdh
Y3kgTUQ1IFJvb3QxFzAVBgNVBAoMDmNlcnRzY29wZSB0ZXN0MCAXDTI2MTEyNzA0
NTAyNloYDzIxMjYxMTAzMDQ1MDI2WjAWMRQwEgYDVQQDDAtsZWdhY3kudGVzdDBZ
MBMGByqGSM49AgEGCCqGSM49AwEHA0IABI7FGe1HCo/8VLBE9bei+hj9898BYGc/
rO2SK+DPC/u4QjEOhCbIGWSLl4ONt1Cu34RUzvbonFyMHW6eDB3wbXyjWjBYMBYG
A1UdEQQPMA2CC2xlZ2FjeS50ZXN0MB0GA1UdDgQWBBQIH55sjy75Wg9JXw7oEi8I
VQ1I1zAfBgNVHSMEGDAWgBQ5GhoFFk5ouzqSp137sBwTHxpvEjANBgkqhkiG9w0B
AQsFAAOBgQCgOnmXUwgp0A10b/K6NkQCfW89Zyw/Wo7HAgvaRu0x6ZXsNCQfq2N5
IwbnCYXhPRj1CN2vmlCBbUVxLgvOjpHKYpWG47OahmBWQo+conPqds8SGoCZVLEb
C2EyqcsIjoiLFcd4jJxY20eTnYPb/eJp7Tj+xQZdy0BsVVPMICf6Ig==
-----END CERTIFICATE-----
";
    /// Self-signed RSA root with a 2047-bit modulus, sha256WithRSAEncryption.
    const RSA2047_ROOT: &str = "-----BEGIN CERTIFICATE-----
MIIC9TCCAd2gAwIBAgIBBzANBgkqhkiG9w0BAQsFADATMREwDwYDVQQDDAhSU0Eg
MjA0NzAgFw0yNjExMjcwNDUwMjhaGA8yMTI2MTEwMzA0NTAyOFowEzERMA8GA1UE
AwwIUlNBIDIwNDcwggEhMA0GCSqGSIb3DQEBAQUAA4IBDgAwggEJAoIBAHABNh8n
CTMRD3VvP9SrJ76ps2n7Kuc9iGjlbYzsceB6mrXg+4etDSeaKKVgnAqyXJ3rUljy
ol+gN/RGley7Am9AFP8HG2z5YIxmAWv+FjDlmbV8GPn1XCfM5wH5VQHNMpNidLOJ
cw5X4SOqNvM24vtUPXFEMLzse+//AMyjkXr9ysItwL99wkJOjhxjW1/q1zhMp5nZ
LHLTNKqkSsPbKvJlhWzMWoPHnlMejFn4lqOoMnreAXQsWYDt7L23xxRrlv2nQlTt
JyWmhwGfOttRtvx4yHb+w0G1UwZC52afOmrTI8PVQy66Oy2U4DEHylNHWW3M4mzU
ezub8njK6HZGWO8CAwEAAaNTMFEwHQYDVR0OBBYEFJS/y4nJeT8M8PbdkIgE/cOc
6snZMB8GA1UdIwQYMBaAFJS/y4nJeT8M8PbdkIgE/cOc6snZMA8GA1UdEwEB/wQF
MAMBAf8wDQYJKoZIhvcNAQELBQADggEBABw1PK0T1cTKwzj8q17/G1IOeFihu5rH
PT983AzcVy/Wu+Zhuxpc50xYVoPc/aOOCClfVbFUFWU+r1E8A1DBUvXsiuc7FF4u
7n8JJCroTJQDfj+Z/1OTgH3jeF4ZsFNt/gdgwHnem1rNhv9vShnPs1pioDtbIj0c
UXF9F0mJhTAFjMmIjf3cJdBqBAFR3aXMkOvXk3FT9DFV5/9aN+z4byaTvEK1ZBbf
vBGcMCIr5TDA16iwswnX4Q8Dj911gsK3FVhH1cwkXdilxtP0Z01ys4lIf/7/UqoN
zVGy3O+0TjiGv4HNlPA3EjHUvXv++dBPp4UZbHzquWDZne1/tRw1bok=
-----END CERTIFICATE-----
";

    fn info_of_pem(p: &str) -> CertInfo {
        let ders = parse_certificates(p.as_bytes()).expect("fixture parses");
        CertInfo::from_der(&ders[0]).expect("fixture is a certificate")
    }

    struct Pki {
        root_params: CertificateParams,
        root_key: KeyPair,
        root_der: Vec<u8>,
    }

    fn root(cn: &str) -> Pki {
        let root_key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = p.self_signed(&root_key).unwrap();
        Pki {
            root_der: cert.der().to_vec(),
            root_params: p,
            root_key,
        }
    }

    fn leaf_of(pki: &Pki, params: CertificateParams) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&pki.root_params, &pki.root_key);
        params.signed_by(&key, &issuer).unwrap().der().to_vec()
    }

    #[test]
    fn sans_dns_and_ip() {
        let pki = root("Test Root");
        let mut p =
            CertificateParams::new(vec!["a.test".to_string(), "127.0.0.1".to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "a.test");
        let c = CertInfo::from_der(&leaf_of(&pki, p)).unwrap();
        assert!(c.has_san_extension);
        assert_eq!(
            c.sans,
            vec![
                San::Dns("a.test".into()),
                San::Ip("127.0.0.1".parse().unwrap())
            ]
        );
        assert_eq!(c.sans[0].display(), "DNS:a.test");
        assert_eq!(c.sans[1].display(), "IP:127.0.0.1");
        assert_eq!(c.subject_cn.as_deref(), Some("a.test"));
        assert_eq!(c.issuer_cn.as_deref(), Some("Test Root"));
        assert_eq!(c.issuer, "CN=Test Root");
        assert_eq!(c.version, 3);
        assert!(!c.self_issued);
        let ext = c
            .extensions
            .iter()
            .find(|e| e.name == "subjectAltName")
            .unwrap();
        assert_eq!(ext.oid, "2.5.29.17");
        assert_eq!(ext.value, "DNS:a.test, IP:127.0.0.1");
        assert_eq!(c.display_name(), "a.test");
    }

    #[test]
    fn cn_only_has_no_san_extension() {
        let pki = root("Test Root");
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CommonName, "cn-only.test");
        p.distinguished_name
            .push(DnType::OrganizationName, "Org, Inc.");
        let c = CertInfo::from_der(&leaf_of(&pki, p)).unwrap();
        assert!(!c.has_san_extension);
        assert!(c.sans.is_empty());
        assert_eq!(c.subject_cn.as_deref(), Some("cn-only.test"));
        assert_eq!(c.subject, "CN=cn-only.test, O=Org\\, Inc.");
        assert_eq!(c.display_name(), "cn-only.test");
    }

    #[test]
    fn ec_keys_and_ed25519() {
        let k = KeyPair::generate().unwrap(); // P-256
        let c = CertInfo::from_der(
            CertificateParams::new(vec!["a.test".to_string()])
                .unwrap()
                .self_signed(&k)
                .unwrap()
                .der(),
        )
        .unwrap();
        assert_eq!(c.key.kind, KeyKind::Ec);
        assert_eq!(c.key.curve.as_deref(), Some("P-256"));
        assert_eq!(c.key.bits, Some(256));
        assert_eq!(c.key.describe(), "EC P-256");
        assert_eq!(c.key.type_str(), "EC");
        assert_eq!(c.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(c.signature_hash, SigHash::Sha256);

        let k = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let c = CertInfo::from_der(
            CertificateParams::new(vec!["a.test".to_string()])
                .unwrap()
                .self_signed(&k)
                .unwrap()
                .der(),
        )
        .unwrap();
        assert_eq!(c.key.curve.as_deref(), Some("P-384"));
        assert_eq!(c.key.bits, Some(384));
        assert_eq!(c.key.describe(), "EC P-384");
        assert_eq!(c.signature_algorithm, "ecdsa-with-SHA384");
        assert_eq!(c.signature_hash, SigHash::Sha384);
        assert!(c.is_self_signed());

        let k = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let c = CertInfo::from_der(
            CertificateParams::new(vec!["a.test".to_string()])
                .unwrap()
                .self_signed(&k)
                .unwrap()
                .der(),
        )
        .unwrap();
        assert_eq!(c.key.kind, KeyKind::Ed25519);
        assert_eq!(c.key.describe(), "Ed25519");
        assert_eq!(c.signature_algorithm, "ED25519");
        assert_eq!(c.signature_hash, SigHash::Intrinsic);
        assert!(c.is_self_signed());
    }

    #[test]
    fn validity_seconds_and_days() {
        let k = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec!["a.test".to_string()]).unwrap();
        p.not_before = rcgen::date_time_ymd(2024, 1, 1);
        p.not_after = rcgen::date_time_ymd(2024, 1, 31);
        let c = CertInfo::from_der(p.self_signed(&k).unwrap().der()).unwrap();
        assert_eq!(c.not_before, 1_704_067_200);
        assert_eq!(c.not_after, 1_704_067_200 + 30 * 86_400);
        assert_eq!(c.lifetime_secs(), 30 * 86_400 + 1);
        assert_eq!(c.days_left(c.not_before), 30);
        assert_eq!(c.days_left(c.not_after - 1), 0);
        assert_eq!(c.days_left(c.not_after), 0);
        assert_eq!(c.days_left(c.not_after + 1), -1);
        assert_eq!(c.days_left(c.not_after + 86_400), -1);
        assert_eq!(c.days_left(c.not_after + 86_401), -2);
    }

    #[test]
    fn ca_flags_key_usage_and_eku() {
        let pki = root("Root CA");
        let r = CertInfo::from_der(&pki.root_der).unwrap();
        assert!(r.is_ca);
        assert!(r.basic_constraints_present);
        assert_eq!(r.path_len, None);
        assert!(r.self_issued);
        assert!(r.is_self_signed());
        assert_eq!(
            r.key_usage,
            Some(vec!["keyCertSign".to_string(), "cRLSign".to_string()])
        );
        assert_eq!(r.ext_key_usage, None);
        assert!(r.could_issue(&r));
        let bc = r
            .extensions
            .iter()
            .find(|e| e.name == "basicConstraints")
            .unwrap();
        assert!(bc.critical);
        assert_eq!(bc.value, "CA:TRUE");

        let mut p = CertificateParams::new(vec!["a.test".to_string()]).unwrap();
        p.is_ca = IsCa::ExplicitNoCa;
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::CodeSigning,
        ];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let leaf = CertInfo::from_der(&leaf_of(&pki, p)).unwrap();
        assert!(!leaf.is_ca);
        assert!(leaf.basic_constraints_present);
        let eku = leaf.ext_key_usage.clone().unwrap();
        assert!(eku.server_auth);
        assert!(!eku.client_auth);
        assert!(!eku.any);
        assert_eq!(eku.others, vec!["codeSigning".to_string()]);
        assert_eq!(leaf.key_usage, Some(vec!["digitalSignature".to_string()]));
        assert!(r.could_issue(&leaf));
        assert!(!leaf.could_issue(&r));

        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let sub = CertInfo::from_der(&leaf_of(&pki, p)).unwrap();
        assert!(sub.is_ca);
        assert_eq!(sub.path_len, Some(0));
    }

    #[test]
    fn name_constraints_and_key_ids() {
        let k = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.name_constraints = Some(rcgen::NameConstraints {
            permitted_subtrees: vec![
                rcgen::GeneralSubtree::DnsName("allowed.test".into()),
                rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::V4(
                    [10, 0, 0, 0],
                    [255, 0, 0, 0],
                )),
            ],
            excluded_subtrees: vec![rcgen::GeneralSubtree::DnsName("bad.allowed.test".into())],
        });
        let c = CertInfo::from_der(p.self_signed(&k).unwrap().der()).unwrap();
        let nc = c.name_constraints.clone().unwrap();
        assert_eq!(nc.permitted, vec!["DNS:allowed.test", "IP:10.0.0.0/8"]);
        assert_eq!(nc.excluded, vec!["DNS:bad.allowed.test"]);
        assert!(c.subject_key_id.is_some());
    }

    #[test]
    fn signature_verification() {
        let pki = root("Root A");
        let other = root("Root A"); // same name, different key
        let leaf = CertInfo::from_der(&leaf_of(
            &pki,
            CertificateParams::new(vec!["a.test".to_string()]).unwrap(),
        ))
        .unwrap();
        let ra = CertInfo::from_der(&pki.root_der).unwrap();
        let rb = CertInfo::from_der(&other.root_der).unwrap();
        assert!(ra.could_issue(&leaf) && rb.could_issue(&leaf));
        assert!(leaf.signature_verified_by(&ra.spki_der));
        assert!(!leaf.signature_verified_by(&rb.spki_der));
        assert_eq!(leaf.signature_check(&rb.spki_der), SigCheck::Invalid);
        assert!(!leaf.signature_verified_by(&[]));
        assert!(!leaf.signature_verified_by(b"garbage"));
        assert!(!leaf.is_self_signed());
        assert!(ra.is_self_signed());
        assert!(rb.is_self_signed());
        assert!(!rb.signature_verified_by(&ra.spki_der));

        // ECDSA signature, RSA key: a mismatch, not "unsupported".
        let rsa_root = info_of_pem(MD5_ROOT);
        assert_eq!(leaf.signature_check(&rsa_root.spki_der), SigCheck::Invalid);

        // ecdsa-with-SHA512 (not in ring) on a P-256 key: unsupported.
        let ecdsa_sha256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
        let mut der = leaf.der.clone();
        let mut replaced = 0;
        for i in 0..der.len().saturating_sub(ecdsa_sha256.len()) {
            if der[i..i + ecdsa_sha256.len()] == ecdsa_sha256 {
                der[i + ecdsa_sha256.len() - 1] = 0x04;
                replaced += 1;
            }
        }
        assert_eq!(replaced, 2);
        let sha512 = CertInfo::from_der(&der).unwrap();
        assert_eq!(sha512.signature_algorithm, "ecdsa-with-SHA512");
        assert_eq!(sha512.signature_hash, SigHash::Sha512);
        assert_eq!(sha512.signature_check(&ra.spki_der), SigCheck::Unsupported);
        assert!(!sha512.signature_verified_by(&ra.spki_der));
    }

    #[test]
    fn legacy_rsa_fixtures() {
        let root = info_of_pem(MD5_ROOT);
        assert_eq!(root.signature_algorithm, "md5WithRSAEncryption");
        assert_eq!(root.signature_hash, SigHash::Md5);
        assert_eq!(root.key.kind, KeyKind::Rsa);
        assert_eq!(root.key.bits, Some(1024));
        assert_eq!(root.key.describe(), "RSA 1024 bits");
        assert_eq!(root.subject, "CN=Legacy MD5 Root, O=certscope test");
        assert_eq!(root.serial, "01");
        assert!(root.is_self_signed(), "MD5 self-signature verifies");

        let sha1 = info_of_pem(SHA1_LEAF);
        assert_eq!(sha1.signature_algorithm, "sha1WithRSAEncryption");
        assert_eq!(sha1.signature_hash, SigHash::Sha1);
        assert!(sha1.signature_verified_by(&root.spki_der));
        assert_eq!(sha1.sans, vec![San::Dns("legacy.test".into())]);
        assert_eq!(sha1.authority_key_id, root.subject_key_id);

        let sha256 = info_of_pem(SHA256_LEAF_RSA1024);
        assert!(
            sha256.signature_verified_by(&root.spki_der),
            "RSA-1024 + SHA-256"
        );
        assert!(!sha256.signature_verified_by(&sha1.spki_der));

        let r2047 = info_of_pem(RSA2047_ROOT);
        assert_eq!(r2047.key.bits, Some(2047));
        assert!(r2047.is_self_signed());
        assert!(!sha1.signature_verified_by(&r2047.spki_der));

        // A flipped signature byte is rejected by the legacy path too.
        let mut bad = root.der.clone();
        if let Some(last) = bad.last_mut() {
            *last ^= 1;
        }
        let bad = CertInfo::from_der(&bad).unwrap();
        assert!(!bad.is_self_signed());
        assert_eq!(bad.signature_check(&bad.spki_der), SigCheck::Invalid);
    }

    #[test]
    fn md5_vectors() {
        let cases: [(&str, &str); 5] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            let got = hex_upper(&legacy::md5(input.as_bytes())).to_lowercase();
            assert_eq!(got, want, "md5({input:?})");
        }
    }

    #[test]
    fn escape_sequences_are_sanitized() {
        let k = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec!["evil\u{1b}[31m.test".to_string()]).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CommonName, "red\u{1b}[31mtext\u{7}");
        let c = CertInfo::from_der(p.self_signed(&k).unwrap().der()).unwrap();
        let all = format!(
            "{} {} {:?} {:?} {} {:?}",
            c.subject,
            c.issuer,
            c.subject_cn,
            c.sans,
            c.display_name(),
            c.extensions
        );
        assert!(!all.contains('\u{1b}'), "{all}");
        assert!(!all.contains('\u{7}'), "{all}");
        assert_eq!(c.subject_cn.as_deref(), Some("red\\x1b[31mtext\\x07"));
    }

    #[test]
    fn garbage_and_truncations_are_errors() {
        assert!(CertInfo::from_der(&[]).is_err());
        assert!(CertInfo::from_der(b"hello world").is_err());
        assert!(CertInfo::from_der(&[0x30, 0x82, 0xff, 0xff, 0x01]).is_err());
        let pki = root("Trunc Root");
        let der = leaf_of(
            &pki,
            CertificateParams::new(vec!["a.test".to_string()]).unwrap(),
        );
        for n in 0..der.len() {
            let e = CertInfo::from_der(&der[..n]);
            assert!(e.is_err(), "truncated at {n} parsed");
            assert!(
                e.unwrap_err()
                    .to_string()
                    .starts_with("not a DER X.509 certificate")
            );
        }
        // Corruptions either parse or fail cleanly (never panic).
        let exercise = |d: &[u8], issuer_spki: &[u8]| {
            let _ = parse_certificates(d);
            if let Ok(c) = CertInfo::from_der(d) {
                let _ = c.signature_check(issuer_spki);
                let _ = c.is_self_signed();
                let _ = (c.display_name(), c.key.describe(), c.pem());
            }
        };
        let root_info = CertInfo::from_der(&pki.root_der).unwrap();
        let legacy_root = info_of_pem(MD5_ROOT);
        let samples = [
            (der.clone(), root_info.spki_der.clone()),
            (legacy_root.der.clone(), legacy_root.spki_der.clone()),
            (info_of_pem(SHA1_LEAF).der, legacy_root.spki_der.clone()),
            (info_of_pem(RSA2047_ROOT).der, legacy_root.spki_der.clone()),
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (sample, spki) in &samples {
            for i in 0..sample.len() {
                for v in [0x00, 0x80, 0xff] {
                    let mut d = sample.clone();
                    d[i] = v;
                    exercise(&d, spki);
                }
            }
            for _ in 0..500 {
                let mut d = sample.clone();
                for _ in 0..(next() % 4 + 1) {
                    let i = (next() % d.len() as u64) as usize;
                    d[i] = next() as u8;
                }
                exercise(&d, spki);
                exercise(&d, &d);
            }
        }
        let mut trailing = der.clone();
        trailing.extend_from_slice(b"xx");
        let e = CertInfo::from_der(&trailing).unwrap_err();
        assert_eq!(e, CertError::TrailingData(2));
        assert_eq!(
            e.to_string(),
            "trailing data after the certificate (2 bytes)"
        );
    }

    #[test]
    fn parse_certificates_inputs() {
        let a = root("Root One");
        let b = root("Root Two");
        let pem_a = ::pem::encode(&::pem::Pem::new("CERTIFICATE", a.root_der.clone()));
        let pem_b = CertInfo::from_der(&b.root_der).unwrap().pem();
        let bundle = format!(
            "Certificate:\n    Data: (openssl ca preamble)\n{pem_a}\nsome text\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n{pem_b}"
        );
        let got = parse_certificates(bundle.as_bytes()).unwrap();
        assert_eq!(got, vec![a.root_der.clone(), b.root_der.clone()]);

        assert_eq!(
            parse_certificates(&a.root_der).unwrap(),
            vec![a.root_der.clone()]
        );
        let mut two = a.root_der.clone();
        two.extend_from_slice(&b.root_der);
        assert_eq!(parse_certificates(&two).unwrap().len(), 2);

        assert_eq!(parse_certificates(b"").unwrap_err(), "empty input");
        assert_eq!(parse_certificates(b" \n").unwrap_err(), "empty input");
        assert!(
            parse_certificates(b"garbage")
                .unwrap_err()
                .contains("no certificate found")
        );
        assert!(
            parse_certificates(&[0x30, 0x03, 1, 2, 3])
                .unwrap_err()
                .contains("not a DER")
        );
        let keys_only = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let e = parse_certificates(keys_only.as_bytes()).unwrap_err();
        assert!(
            e.contains("no certificate found") && e.contains("PRIVATE KEY"),
            "{e}"
        );

        let bad_second =
            format!("{pem_a}-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n");
        let e = parse_certificates(bad_second.as_bytes()).unwrap_err();
        assert!(e.starts_with("certificate 2 "), "{e}");
        let unterminated = "-----BEGIN CERTIFICATE-----\nMIIB\n";
        let e = parse_certificates(unterminated.as_bytes()).unwrap_err();
        assert!(e.contains("no END line"), "{e}");
        let bad_b64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let e = parse_certificates(bad_b64.as_bytes()).unwrap_err();
        assert!(e.contains("certificate 1") && e.contains("PEM"), "{e}");
    }

    #[test]
    fn pem_roundtrip_and_fingerprints() {
        let pki = root("Pem Root");
        let c = CertInfo::from_der(&pki.root_der).unwrap();
        let p = c.pem();
        assert!(p.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(p.trim_end().ends_with("-----END CERTIFICATE-----"));
        assert!(p.lines().all(|l| l.len() <= 64));
        assert_eq!(
            parse_certificates(p.as_bytes()).unwrap(),
            vec![pki.root_der.clone()]
        );
        assert_eq!(c.sha256.len(), 32 * 3 - 1);
        assert_eq!(c.sha1.len(), 20 * 3 - 1);
        assert_eq!(c.spki_sha256.len(), 32 * 3 - 1);
        assert_eq!(c.sha256, c.sha256.to_uppercase());
        assert_eq!(hex_colon(&[0x0a, 0x1b, 0xff]), "0A:1B:FF");
        assert_eq!(hex_colon(&[]), "");
        assert_eq!(serial_hex(&[0x00, 0xff, 0x10]), "FF:10");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[0x00, 0x01]), "00:01");
        assert_eq!(serial_hex(&[0x7f, 0x01]), "7F:01");
    }

    #[test]
    fn rsa_bits_from_crafted_moduli() {
        let mut m = vec![0x00, 0x7f];
        m.extend(std::iter::repeat_n(0xff, 255));
        assert_eq!(m.len(), 257);
        assert_eq!(rsa_modulus_bits(&m[1..]), Some(2047)); // 0x7f ff.. (256 bytes)
        assert_eq!(rsa_modulus_bits(&m), Some(2047)); // with the sign byte
        let mut m = vec![0x00, 0x80];
        m.extend(std::iter::repeat_n(0x00, 255));
        assert_eq!(rsa_modulus_bits(&m), Some(2048));
        assert_eq!(rsa_modulus_bits(&[0x00, 0x00, 0x01]), Some(1));
        assert_eq!(rsa_modulus_bits(&[0x00, 0x00]), None);
        assert_eq!(rsa_modulus_bits(&[]), None);
    }

    #[test]
    fn must_staple_and_tls_feature() {
        let k = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec!["a.test".to_string()]).unwrap();
        // TLS Feature: SEQUENCE { INTEGER 5 }
        p.custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 24],
                vec![0x30, 0x03, 0x02, 0x01, 0x05],
            ));
        // An extension with a malformed value must not fail the parse.
        p.custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[2, 5, 29, 35],
                vec![0x30, 0x05, 0xff],
            ));
        let c = CertInfo::from_der(p.self_signed(&k).unwrap().der()).unwrap();
        assert!(c.must_staple);
        let tf = c
            .extensions
            .iter()
            .find(|e| e.name == "tlsFeature")
            .unwrap();
        assert_eq!(tf.value, "status_request");
        let aki = c
            .extensions
            .iter()
            .find(|e| e.name == "authorityKeyIdentifier")
            .unwrap();
        assert_eq!(aki.value, "unparsed");
        assert_eq!(tls_features(&[0x30, 0x00]), Some(vec![]));
        assert_eq!(tls_features(&[0x30, 0x03, 0x02, 0x01]), None);
    }
}
