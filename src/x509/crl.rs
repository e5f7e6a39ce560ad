//! CRLs: parse, check the issuer's signature and freshness, look up a
//! serial. Pure functions over bytes; never panics on input.

use x509_parser::prelude::*;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::x509::cert::{CertInfo, name_to_string};

/// What a CRL says about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlVerdict {
    /// Not listed; the CRL is signed by the issuer and fresh.
    Good {
        this_update: i64,
        next_update: Option<i64>,
    },
    /// Listed: revoked at `time` (unix seconds) for `reason` (e.g. "keyCompromise").
    Revoked {
        time: i64,
        reason: Option<String>,
        this_update: i64,
    },
    /// Signed and well-formed, but past its nextUpdate at the instant judged.
    Stale { this_update: i64, next_update: i64 },
    /// Unusable: does not parse, wrong issuer, bad signature... (why)
    Invalid(String),
}

/// Judge `cert` by the CRL in `crl` (DER or PEM) issued by the CA with
/// `issuer_subject_raw` (full Name DER) and `issuer_spki_der` (full SPKI
/// DER), at instant `now` (unix seconds).
pub fn check(
    crl: &[u8],
    cert: &CertInfo,
    issuer_subject_raw: &[u8],
    issuer_spki_der: &[u8],
    now: i64,
) -> CrlVerdict {
    std::panic::catch_unwind(|| check_inner(crl, cert, issuer_subject_raw, issuer_spki_der, now))
        .unwrap_or_else(|_| CrlVerdict::Invalid("internal error while reading the CRL".into()))
}

/// Issuer (display), thisUpdate, nextUpdate (unix seconds) and number of
/// entries of a CRL (DER or PEM), for display. No signature check.
pub fn summary(crl: &[u8]) -> Result<(String, i64, Option<i64>, usize), String> {
    std::panic::catch_unwind(|| {
        let der = crl_der(crl)?;
        let parsed = parse(&der)?;
        Ok((
            display_name(parsed.issuer().as_raw()),
            parsed.last_update().timestamp(),
            parsed.next_update().map(|t| t.timestamp()),
            parsed.iter_revoked_certificates().count(),
        ))
    })
    .unwrap_or_else(|_| Err("internal error while reading the CRL".into()))
}

/// RFC 5280 name of a CRLReason code ("keyCompromise", "superseded", ...).
pub fn reason_name(code: u8) -> String {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        other => return format!("reason {other}"),
    }
    .to_string()
}

fn check_inner(
    crl: &[u8],
    cert: &CertInfo,
    issuer_subject_raw: &[u8],
    issuer_spki_der: &[u8],
    now: i64,
) -> CrlVerdict {
    let der = match crl_der(crl) {
        Ok(d) => d,
        Err(e) => return CrlVerdict::Invalid(e),
    };
    let parsed = match parse(&der) {
        Ok(p) => p,
        Err(e) => return CrlVerdict::Invalid(e),
    };

    let crl_issuer = parsed.issuer().as_raw();
    if crl_issuer != issuer_subject_raw {
        return CrlVerdict::Invalid(format!(
            "the CRL is issued by {}, not by the certificate's issuer {}",
            display_name(crl_issuer),
            display_name(issuer_subject_raw)
        ));
    }

    let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(issuer_spki_der) else {
        return CrlVerdict::Invalid("the issuer's public key does not parse".into());
    };
    if let Err(e) = parsed.verify_signature(&spki) {
        let alg = oid_display(&parsed.signature_algorithm.algorithm);
        return CrlVerdict::Invalid(match e {
            X509Error::SignatureUnsupportedAlgorithm => {
                format!("the CRL signature ({alg}) cannot be checked with the issuer's key")
            }
            _ => format!("the CRL signature ({alg}) does not verify with the issuer's key"),
        });
    }

    let this_update = parsed.last_update().timestamp();
    let next_update = parsed.next_update().map(|t| t.timestamp());

    let Some(serial) = cert_serial(cert) else {
        return CrlVerdict::Invalid("the certificate's serial number cannot be read".into());
    };
    if let Some(entry) = parsed
        .iter_revoked_certificates()
        .find(|r| strip_zeros(r.raw_serial()) == serial.as_slice())
    {
        return CrlVerdict::Revoked {
            time: entry.revocation_date.timestamp(),
            reason: entry.reason_code().map(|(_, code)| reason_name(code.0)),
            this_update,
        };
    }

    match next_update {
        Some(next) if next < now => CrlVerdict::Stale {
            this_update,
            next_update: next,
        },
        _ => CrlVerdict::Good {
            this_update,
            next_update,
        },
    }
}

/// The DER of a CRL given as DER or PEM ("X509 CRL").
fn crl_der(input: &[u8]) -> Result<Vec<u8>, String> {
    if input.is_empty() {
        return Err("the CRL is empty".into());
    }
    if !contains(input, b"-----BEGIN") {
        return Ok(input.to_vec());
    }
    let blocks =
        ::pem::parse_many(input).map_err(|e| format!("the CRL PEM does not parse: {e}"))?;
    blocks
        .into_iter()
        .find(|p| p.tag() == "X509 CRL")
        .map(|p| p.into_contents())
        .ok_or_else(|| "no \"X509 CRL\" PEM block found".to_string())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn parse(der: &[u8]) -> Result<CertificateRevocationList<'_>, String> {
    match parse_x509_crl(der) {
        Ok(([], crl)) => Ok(crl),
        Ok((rest, _)) => Err(format!(
            "the CRL is followed by {} bytes of trailing data",
            rest.len()
        )),
        Err(x509_parser::nom::Err::Incomplete(_)) => Err("the CRL is truncated".into()),
        Err(x509_parser::nom::Err::Error(e)) | Err(x509_parser::nom::Err::Failure(e)) => {
            Err(format!("the CRL does not parse: {e}"))
        }
    }
}

fn display_name(raw: &[u8]) -> String {
    match name_to_string(raw) {
        Some(s) if !s.is_empty() => s,
        Some(_) => "(empty name)".into(),
        None => "(unreadable name)".into(),
    }
}

/// The certificate's serial as raw INTEGER content bytes, leading zero
/// bytes removed (so DER sign bytes compare equal).
fn cert_serial(cert: &CertInfo) -> Option<Vec<u8>> {
    let (_, x) = X509Certificate::from_der(&cert.der).ok()?;
    Some(strip_zeros(x.raw_serial()).to_vec())
}

pub(crate) fn oid_display(oid: &x509_parser::asn1_rs::Oid) -> String {
    match oid2sn(oid, oid_registry()) {
        Ok(sn) => sn.to_string(),
        Err(_) => oid.to_id_string(),
    }
}

pub(crate) fn strip_zeros(raw: &[u8]) -> &[u8] {
    let n = raw.iter().take_while(|b| **b == 0).count();
    raw.get(n..).unwrap_or_default()
}

#[cfg(test)]
#[path = "crl_tests.rs"]
pub(crate) mod tests;
