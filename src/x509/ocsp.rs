//! OCSP: build a request, and parse and verify a response (queried or
//! stapled): the signature by the issuer or its delegated responder, the
//! CertID, thisUpdate/nextUpdate. Pure functions over bytes; never panics on
//! input. `build_response` makes signed responses for the built-in lab.

use std::time::Duration;

use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::{Decode, Encode};
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, Request, ResponderId, ResponseData, RevokedInfo, SingleResponse,
    TbsRequest, Version,
};
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo, X509Certificate};

use crate::x509::cert::{CertInfo, name_to_string, read_tlv};
use crate::x509::crl::{oid_display, reason_name, strip_zeros};

/// What an OCSP response says about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspVerdict {
    Good {
        this_update: i64,
        next_update: Option<i64>,
        produced_at: i64,
    },
    Revoked {
        time: i64,
        reason: Option<String>,
        this_update: i64,
    },
    /// The responder does not know the certificate.
    Unknown,
    /// Unusable: unsuccessful status, bad signature, wrong CertID, stale... (why)
    Invalid(String),
}

/// Tolerated clock skew for a thisUpdate in the future.
const MAX_SKEW_SECS: i64 = 300;

const OID_SHA1: &str = "1.3.14.3.2.26";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA384: &str = "2.16.840.1.101.3.4.2.2";
const OID_SHA512: &str = "2.16.840.1.101.3.4.2.3";
const OID_OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";

/// AlgorithmIdentifier sha1 with NULL parameters.
const ALG_SHA1: &[u8] = &[
    0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00,
];
/// AlgorithmIdentifier ecdsa-with-SHA256 (no parameters).
const ALG_ECDSA_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];

/// A DER OCSPRequest for `cert` (SHA-1 CertID, no nonce), issued by the CA
/// with `issuer_subject_raw` (full Name DER) and `issuer_spki_der` (full SPKI DER).
pub fn request(
    cert: &CertInfo,
    issuer_subject_raw: &[u8],
    issuer_spki_der: &[u8],
) -> Result<Vec<u8>, String> {
    let ids = CertIdParts::new(cert, issuer_subject_raw, issuer_spki_der)?;
    let req_cert = CertId {
        hash_algorithm: decode(ALG_SHA1)?,
        issuer_name_hash: octets(ids.name_hash(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY))?,
        issuer_key_hash: octets(ids.key_hash(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY))?,
        serial_number: decode(&ids.serial_integer()?)?,
    };
    let req = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert,
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    req.to_der()
        .map_err(|e| format!("cannot encode the OCSP request: {e}"))
}

/// Judge `cert` by the DER OCSPResponse `resp` at instant `now`.
pub fn check(
    resp: &[u8],
    cert: &CertInfo,
    issuer_subject_raw: &[u8],
    issuer_spki_der: &[u8],
    now: i64,
) -> OcspVerdict {
    std::panic::catch_unwind(|| check_inner(resp, cert, issuer_subject_raw, issuer_spki_der, now))
        .unwrap_or_else(|_| Err("internal error while reading the OCSP response".into()))
        .unwrap_or_else(OcspVerdict::Invalid)
}

/// The status `build_response` puts in its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildStatus {
    Good,
    /// Revoked at `time` (unix seconds); `reason` is an RFC 5280 CRLReason
    /// code (1 = keyCompromise, 4 = superseded, ...; 7 is not allowed).
    Revoked {
        time: i64,
        reason: Option<u8>,
    },
    Unknown,
}

/// Everything `build_response` needs.
#[derive(Debug, Clone, Copy)]
pub struct ResponseSpec<'a> {
    /// The certificate the response is about.
    pub cert: &'a CertInfo,
    /// Its issuer's subject Name DER and full SPKI DER (for the CertID).
    pub issuer_subject_raw: &'a [u8],
    pub issuer_spki_der: &'a [u8],
    pub status: BuildStatus,
    /// Unix seconds; thisUpdate is also used as producedAt.
    pub this_update: i64,
    pub next_update: Option<i64>,
    /// PKCS#8 DER of the ECDSA P-256 signing key (the issuer's, or the
    /// delegated responder's).
    pub signer_pkcs8: &'a [u8],
    /// A responder certificate DER to include in `certs` (delegated responder).
    pub responder_cert: Option<&'a [u8]>,
}

/// A signed DER OCSPResponse (successful, BasicOCSPResponse with one
/// SingleResponse, SHA-1 CertID, responderID byKey, ecdsa-with-SHA256).
pub fn build_response(spec: &ResponseSpec<'_>) -> Result<Vec<u8>, String> {
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    let rng = ring::rand::SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, spec.signer_pkcs8, &rng)
        .map_err(|e| format!("the signing key is not an ECDSA P-256 PKCS#8 key: {e}"))?;
    let sha1 = &ring::digest::SHA1_FOR_LEGACY_USE_ONLY;
    let ids = CertIdParts::new(spec.cert, spec.issuer_subject_raw, spec.issuer_spki_der)?;
    let cert_id = CertId {
        hash_algorithm: decode(ALG_SHA1)?,
        issuer_name_hash: octets(ids.name_hash(sha1))?,
        issuer_key_hash: octets(ids.key_hash(sha1))?,
        serial_number: decode(&ids.serial_integer()?)?,
    };
    let cert_status = match spec.status {
        BuildStatus::Good => CertStatus::good(),
        BuildStatus::Unknown => CertStatus::unknown(),
        BuildStatus::Revoked { time, reason } => CertStatus::Revoked(RevokedInfo {
            revocation_time: gen_time(time)?,
            revocation_reason: match reason {
                Some(code) => Some(
                    decode(&[0x0a, 0x01, code])
                        .map_err(|_| format!("{code} is not a CRLReason code"))?,
                ),
                None => None,
            },
        }),
    };
    let single = SingleResponse {
        cert_id,
        cert_status,
        this_update: gen_time(spec.this_update)?,
        next_update: spec.next_update.map(gen_time).transpose()?,
        single_extensions: None,
    };
    let key_hash = ring::digest::digest(sha1, key.public_key().as_ref());
    let tbs = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(octets(key_hash.as_ref().to_vec())?),
        produced_at: gen_time(spec.this_update)?,
        responses: vec![single],
        response_extensions: None,
    };
    let tbs_der = tbs
        .to_der()
        .map_err(|e| format!("cannot encode the response data: {e}"))?;
    let sig = key
        .sign(&rng, &tbs_der)
        .map_err(|_| "signing failed".to_string())?;
    let certs = match spec.responder_cert {
        Some(der) => Some(vec![
            decode(der).map_err(|e| format!("the responder certificate: {e}"))?,
        ]),
        None => None,
    };
    let basic = BasicOcspResponse {
        tbs_response_data: tbs,
        signature_algorithm: decode(ALG_ECDSA_SHA256)?,
        signature: BitString::from_bytes(sig.as_ref()).map_err(|e| e.to_string())?,
        certs,
    };
    OcspResponse::successful(basic)
        .and_then(|r| r.to_der())
        .map_err(|e| format!("cannot encode the OCSP response: {e}"))
}

// ---------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------

fn check_inner(
    resp: &[u8],
    cert: &CertInfo,
    issuer_subject_raw: &[u8],
    issuer_spki_der: &[u8],
    now: i64,
) -> Result<OcspVerdict, String> {
    if resp.is_empty() {
        return Err("the OCSP response is empty".into());
    }
    let outer = OcspResponse::from_der(resp)
        .map_err(|e| format!("the OCSP response does not parse: {e}"))?;
    if outer.response_status != OcspResponseStatus::Successful {
        return Err(format!(
            "the responder answered \"{}\" instead of a successful response",
            status_name(outer.response_status)
        ));
    }
    let bytes = outer
        .response_bytes
        .ok_or("a successful OCSP response without responseBytes")?;
    let kind = bytes.response_type.to_string();
    if kind != OID_OCSP_BASIC {
        return Err(format!(
            "unsupported OCSP response type {kind} (not id-pkix-ocsp-basic)"
        ));
    }
    let basic_der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der)
        .map_err(|e| format!("the BasicOCSPResponse does not parse: {e}"))?;
    let raw = RawBasic::split(basic_der).ok_or("the BasicOCSPResponse does not parse")?;

    let single = find_single(&basic, cert, issuer_subject_raw, issuer_spki_der)?;
    verify_signer(&raw, issuer_subject_raw, issuer_spki_der, now)?;

    let this_update = unix(&single.this_update);
    let next_update = single.next_update.as_ref().map(unix);
    if this_update > now.saturating_add(MAX_SKEW_SECS) {
        return Err(format!(
            "thisUpdate {} is in the future (more than 5 minutes of clock skew)",
            fmt_time(this_update)
        ));
    }
    if let Some(next) = next_update.filter(|n| *n < now) {
        return Err(format!(
            "stale: nextUpdate {} is in the past",
            fmt_time(next)
        ));
    }
    Ok(match &single.cert_status {
        CertStatus::Good(_) => OcspVerdict::Good {
            this_update,
            next_update,
            produced_at: unix(&basic.tbs_response_data.produced_at),
        },
        CertStatus::Revoked(info) => OcspVerdict::Revoked {
            time: unix(&info.revocation_time),
            reason: info.revocation_reason.map(|r| {
                // CrlReason is a fieldless `repr(u32)` enum with values <= 10.
                reason_name(u8::try_from(r as u32).unwrap_or(u8::MAX))
            }),
            this_update,
        },
        CertStatus::Unknown(_) => OcspVerdict::Unknown,
    })
}

fn status_name(s: OcspResponseStatus) -> &'static str {
    match s {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

/// The SingleResponse whose CertID names `cert` (SHA-1, SHA-256, SHA-384
/// or SHA-512 CertIDs).
fn find_single<'r>(
    basic: &'r BasicOcspResponse,
    cert: &CertInfo,
    issuer_subject_raw: &[u8],
    issuer_spki_der: &[u8],
) -> Result<&'r SingleResponse, String> {
    let ids = CertIdParts::new(cert, issuer_subject_raw, issuer_spki_der)?;
    let mut same_serial_other_issuer = false;
    let mut unsupported_hash = None;
    for sr in &basic.tbs_response_data.responses {
        let id = &sr.cert_id;
        if strip_zeros(id.serial_number.as_bytes()) != ids.serial.as_slice() {
            continue;
        }
        let oid = id.hash_algorithm.oid.to_string();
        let Some(alg) = hash_alg(&oid) else {
            unsupported_hash = Some(oid);
            continue;
        };
        if id.issuer_name_hash.as_bytes() == ids.name_hash(alg).as_slice()
            && id.issuer_key_hash.as_bytes() == ids.key_hash(alg).as_slice()
        {
            return Ok(sr);
        }
        same_serial_other_issuer = true;
    }
    let n = basic.tbs_response_data.responses.len();
    Err(if same_serial_other_issuer {
        format!(
            "no response for this certificate: the response for serial {} names a different issuer (name or key hash)",
            crate::x509::cert::hex_colon(&ids.serial)
        )
    } else if let Some(oid) = unsupported_hash {
        format!("no response for this certificate: its CertID uses an unsupported hash ({oid})")
    } else {
        format!("no response for this certificate (the response covers {n} other certificate(s))")
    })
}

fn hash_alg(oid: &str) -> Option<&'static ring::digest::Algorithm> {
    match oid {
        OID_SHA1 => Some(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
        OID_SHA256 => Some(&ring::digest::SHA256),
        OID_SHA384 => Some(&ring::digest::SHA384),
        OID_SHA512 => Some(&ring::digest::SHA512),
        _ => None,
    }
}

/// Check that the response is signed by the issuer, or by an included
/// responder certificate that the issuer signed for OCSP signing.
fn verify_signer(
    raw: &RawBasic<'_>,
    issuer_subject_raw: &[u8],
    issuer_spki_der: &[u8],
    now: i64,
) -> Result<(), String> {
    let alg = x509_parser::prelude::AlgorithmIdentifier::from_der(raw.sig_alg)
        .map(|(_, a)| oid_display(&a.algorithm))
        .unwrap_or_else(|_| "unreadable algorithm".into());
    let issuer_err = match raw.verify_with(issuer_spki_der) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if raw.certs.is_empty() {
        return Err(format!(
            "the response signature ({alg}) {} the issuer's key, and no responder certificate is included",
            issuer_err.describe()
        ));
    }
    let mut problems = Vec::new();
    for der in &raw.certs {
        let Ok(info) = CertInfo::from_der(der) else {
            problems.push("an included responder certificate does not parse".to_string());
            continue;
        };
        let name = info.display_name();
        if let Err(e) = raw.verify_with(&info.spki_der) {
            problems.push(format!(
                "the response signature ({alg}) {} the key of the included certificate \"{name}\"",
                e.describe()
            ));
            continue;
        }
        let problem = if info.issuer_raw != issuer_subject_raw {
            format!(
                "the responder certificate \"{name}\" is issued by {}, not by the certificate's issuer",
                name_to_string(&info.issuer_raw).unwrap_or_else(|| "(unreadable name)".into())
            )
        } else if !info.signature_verified_by(issuer_spki_der) {
            format!("the responder certificate \"{name}\" is not signed by the issuer's key")
        } else if !info
            .ext_key_usage
            .as_ref()
            .is_some_and(|e| e.others.iter().any(|p| p == "OCSPSigning"))
        {
            format!("the responder certificate \"{name}\" lacks the OCSPSigning extended key usage")
        } else if now > info.not_after {
            format!(
                "the responder certificate \"{name}\" expired {}",
                fmt_time(info.not_after)
            )
        } else if now < info.not_before {
            format!(
                "the responder certificate \"{name}\" is not valid before {}",
                fmt_time(info.not_before)
            )
        } else {
            return Ok(());
        };
        problems.push(problem);
    }
    Err(format!(
        "the response signature ({alg}) {} the issuer's key; {}",
        issuer_err.describe(),
        problems.join("; ")
    ))
}

/// Why a signature did not verify.
enum SigFail {
    Unsupported,
    Mismatch,
    BadKey,
}

impl SigFail {
    fn describe(&self) -> &'static str {
        match self {
            SigFail::Unsupported => "cannot be checked with",
            SigFail::Mismatch => "does not verify with",
            SigFail::BadKey => "cannot be checked with the unreadable key of",
        }
    }
}

/// The raw pieces of a BasicOCSPResponse, sliced from the DER (the signed
/// bytes are the TBS exactly as received).
struct RawBasic<'a> {
    tbs: &'a [u8],
    sig_alg: &'a [u8],
    /// BIT STRING contents (unused-bits byte first).
    sig: &'a [u8],
    certs: Vec<&'a [u8]>,
}

impl<'a> RawBasic<'a> {
    fn split(der: &'a [u8]) -> Option<Self> {
        let (tag, body, _) = read_tlv(der)?;
        if tag != 0x30 {
            return None;
        }
        let (tbs, rest) = take_tlv(body)?;
        let (sig_alg, rest) = take_tlv(rest)?;
        let (tag, sig, rest) = read_tlv(rest)?;
        if tag != 0x03 {
            return None;
        }
        let mut certs = Vec::new();
        if let Some((0xa0, explicit, _)) = read_tlv(rest) {
            let (0x30, mut list, _) = read_tlv(explicit)? else {
                return None;
            };
            while !list.is_empty() {
                let (c, more) = take_tlv(list)?;
                certs.push(c);
                list = more;
            }
        }
        Some(RawBasic {
            tbs,
            sig_alg,
            sig,
            certs,
        })
    }

    fn verify_with(&self, spki_der: &[u8]) -> Result<(), SigFail> {
        let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der).map_err(|_| SigFail::BadKey)?;
        let (_, alg) = x509_parser::prelude::AlgorithmIdentifier::from_der(self.sig_alg)
            .map_err(|_| SigFail::Unsupported)?;
        let (&unused, bits) = self.sig.split_first().ok_or(SigFail::Mismatch)?;
        let sig = x509_parser::asn1_rs::BitString::new(unused, bits);
        x509_parser::verify::verify_signature(&spki, &alg, &sig, self.tbs).map_err(|e| match e {
            x509_parser::error::X509Error::SignatureUnsupportedAlgorithm => SigFail::Unsupported,
            _ => SigFail::Mismatch,
        })
    }
}

/// Split off the first TLV of `input` whole: (tlv, rest).
fn take_tlv(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, _, rest) = read_tlv(input)?;
    let len = input.len().checked_sub(rest.len())?;
    Some((input.get(..len)?, rest))
}

// ---------------------------------------------------------------------------
// CertID parts
// ---------------------------------------------------------------------------

/// What a CertID is computed from.
struct CertIdParts<'a> {
    issuer_name: &'a [u8],
    /// The issuer's subjectPublicKey BIT STRING contents (no unused-bits byte).
    issuer_key: Vec<u8>,
    /// The certificate's serial, leading zero bytes removed.
    serial: Vec<u8>,
}

impl<'a> CertIdParts<'a> {
    fn new(
        cert: &CertInfo,
        issuer_subject_raw: &'a [u8],
        issuer_spki_der: &[u8],
    ) -> Result<Self, String> {
        let (_, spki) = SubjectPublicKeyInfo::from_der(issuer_spki_der)
            .map_err(|_| "the issuer's public key does not parse".to_string())?;
        let (_, x) = X509Certificate::from_der(&cert.der)
            .map_err(|_| "the certificate does not parse".to_string())?;
        Ok(CertIdParts {
            issuer_name: issuer_subject_raw,
            issuer_key: spki.subject_public_key.data.to_vec(),
            serial: strip_zeros(x.raw_serial()).to_vec(),
        })
    }

    fn name_hash(&self, alg: &'static ring::digest::Algorithm) -> Vec<u8> {
        ring::digest::digest(alg, self.issuer_name)
            .as_ref()
            .to_vec()
    }

    fn key_hash(&self, alg: &'static ring::digest::Algorithm) -> Vec<u8> {
        ring::digest::digest(alg, &self.issuer_key)
            .as_ref()
            .to_vec()
    }

    /// The serial as a positive DER INTEGER.
    fn serial_integer(&self) -> Result<Vec<u8>, String> {
        let mut content = Vec::with_capacity(self.serial.len() + 1);
        if self.serial.first().is_none_or(|b| *b >= 0x80) {
            content.push(0);
        }
        content.extend_from_slice(&self.serial);
        let len = u8::try_from(content.len())
            .ok()
            .filter(|l| *l < 0x80)
            .ok_or("the certificate's serial number is too long")?;
        let mut der = vec![0x02, len];
        der.extend_from_slice(&content);
        Ok(der)
    }
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

fn decode<'a, T: Decode<'a>>(der: &'a [u8]) -> Result<T, String> {
    T::from_der(der).map_err(|e| e.to_string())
}

fn octets(bytes: Vec<u8>) -> Result<OctetString, String> {
    OctetString::new(bytes).map_err(|e| e.to_string())
}

fn gen_time(t: i64) -> Result<OcspGeneralizedTime, String> {
    let secs = u64::try_from(t).map_err(|_| format!("time {t} is before 1970"))?;
    GeneralizedTime::from_unix_duration(Duration::from_secs(secs))
        .map(OcspGeneralizedTime)
        .map_err(|e| format!("time {t}: {e}"))
}

fn unix(t: &OcspGeneralizedTime) -> i64 {
    i64::try_from(t.0.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn fmt_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
#[path = "ocsp_tests.rs"]
mod tests;
