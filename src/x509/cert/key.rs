//! The subject public key: type, size and (for EC) curve.

use x509_parser::asn1_rs::Tag;
use x509_parser::prelude::*;

use super::{oid_text, read_tlv};

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
pub(super) fn rsa_public_key_parts(key: &[u8]) -> Option<(&[u8], &[u8])> {
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

pub(super) fn key_info(spki: &SubjectPublicKeyInfo) -> KeyInfo {
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
