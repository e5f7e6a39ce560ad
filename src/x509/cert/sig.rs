//! Signature algorithms and signature checking: x509-parser's ring
//! verifier first, then a fallback for legacy RSA PKCS#1 v1.5 signatures
//! (with its own MD5) that ring refuses.

use x509_parser::asn1_rs::Any;
use x509_parser::prelude::*;

use super::key::key_info;
use super::{CertInfo, KeyKind, SigCheck, SigHash, oid_name, oid_text};

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

pub(super) fn signature_algorithm_info(alg: &AlgorithmIdentifier) -> (String, SigHash) {
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

impl CertInfo {
    /// Check this certificate's signature with the key in `issuer_spki_der`
    /// (a full SubjectPublicKeyInfo). Uses x509-parser's ring verifier, plus
    /// a fallback for legacy RSA PKCS#1 v1.5 signatures ring refuses (MD5,
    /// keys under 2048 bits, 2047-bit moduli).
    pub fn signature_check(&self, issuer_spki_der: &[u8]) -> SigCheck {
        if let Some(v) = self.sig_memo.get(issuer_spki_der) {
            return v;
        }
        let v = std::panic::catch_unwind(|| self.signature_check_inner(issuer_spki_der))
            .unwrap_or(SigCheck::Invalid);
        self.sig_memo.put(issuer_spki_der, v);
        v
    }

    /// Record that `issuer_spki_der` verifies this certificate's signature,
    /// as established by another verifier (webpki) over the same bytes.
    pub fn note_verified_by(&self, issuer_spki_der: &[u8]) {
        self.sig_memo.put(issuer_spki_der, SigCheck::Valid);
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

pub(super) mod legacy {
    use super::*;
    use crate::x509::cert::key::rsa_public_key_parts;
    use crate::x509::cert::rsa_modulus_bits;
    use x509_parser::num_bigint::BigUint;

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
    pub(in crate::x509::cert) fn md5(data: &[u8]) -> [u8; 16] {
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
