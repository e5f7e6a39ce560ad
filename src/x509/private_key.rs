//! Private keys (`inspect --key`, `expect_key` later): the public half of a
//! PKCS#8, PKCS#1 or SEC1 key, to compare with a certificate's, read with
//! the RustCrypto `pkcs8`, `pkcs1`, `sec1` and `spki` crates. Comparing
//! public keys (not RSA moduli) works for every key type.

use der::asn1::{AnyRef, BitStringRef, Null, ObjectIdentifier};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

/// The public half of a private key, as a certificate would carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// "RSA", "EC" or "Ed25519".
    pub kind: &'static str,
    /// The subjectPublicKey bits (RSAPublicKey DER, an EC point, 32 bytes).
    pub bits: Vec<u8>,
    /// The full SubjectPublicKeyInfo DER (for the fingerprint).
    pub spki: Vec<u8>,
}

impl PublicKey {
    /// Whether the certificate whose SubjectPublicKeyInfo is `spki_der`
    /// carries this key.
    pub fn matches(&self, spki_der: &[u8]) -> bool {
        spki_bits(spki_der).as_deref() == Some(self.bits.as_slice())
    }
}

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// The public half of the first private key in a PEM (PKCS#8 "PRIVATE KEY",
/// SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY") or DER blob.
pub fn public_key_of(bytes: &[u8]) -> Result<PublicKey, String> {
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return pkcs8(bytes)
            .or_else(|_| pkcs1(bytes))
            .or_else(|_| sec1(bytes, None))
            .map_err(|_| {
                "no private key found: expected a PEM private key (-----BEGIN PRIVATE KEY-----) or a DER one".to_string()
            });
    }
    let blocks = ::pem::parse_many(bytes).map_err(|e| format!("bad PEM encoding: {e}"))?;
    let mut seen = Vec::new();
    for b in &blocks {
        let encrypted = b
            .headers()
            .get("Proc-Type")
            .is_some_and(|v| v.contains("ENCRYPTED"));
        let label = crate::util::sanitize::for_terminal(b.tag());
        match b.tag() {
            "ENCRYPTED PRIVATE KEY" => return Err(encrypted_error()),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" if encrypted => return Err(encrypted_error()),
            "PRIVATE KEY" => return pkcs8(b.contents()).map_err(|e| format!("{label}: {e}")),
            "RSA PRIVATE KEY" => return pkcs1(b.contents()).map_err(|e| format!("{label}: {e}")),
            "EC PRIVATE KEY" => {
                return sec1(b.contents(), None).map_err(|e| format!("{label}: {e}"));
            }
            "OPENSSH PRIVATE KEY" => {
                return Err(
                    "an OpenSSH key: convert it with `ssh-keygen -p -m PKCS8 -f KEY` first".into(),
                );
            }
            _ => seen.push(label),
        }
    }
    Err(if seen.is_empty() {
        "no private key found in the PEM input".into()
    } else {
        format!(
            "no private key found (PEM blocks present: {})",
            seen.join(", ")
        )
    })
}

fn encrypted_error() -> String {
    "the private key is encrypted; decrypt a copy first: openssl pkey -in KEY -out plain.key".into()
}

fn malformed(what: &str, e: der::Error) -> String {
    format!("malformed key: {what}: {e}")
}

/// A SubjectPublicKeyInfo for `bits` under algorithm `oid` (`parameters`).
fn public_key(
    kind: &'static str,
    oid: ObjectIdentifier,
    parameters: Option<AnyRef<'_>>,
    bits: Vec<u8>,
) -> Result<PublicKey, String> {
    let spki = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef { oid, parameters },
        subject_public_key: BitStringRef::from_bytes(&bits)
            .map_err(|e| malformed("the public key", e))?,
    }
    .to_der()
    .map_err(|e| malformed("the public key", e))?;
    Ok(PublicKey { kind, bits, spki })
}

/// PKCS#8 PrivateKeyInfo / OneAsymmetricKey.
fn pkcs8(der: &[u8]) -> Result<PublicKey, String> {
    let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|e| malformed("PKCS#8", e))?;
    let oid = info.algorithm.oid;
    if oid == OID_RSA || oid == OID_RSA_PSS {
        pkcs1(info.private_key)
    } else if oid == OID_EC {
        sec1(info.private_key, info.algorithm.parameters_oid().ok())
    } else if oid == OID_ED25519 {
        let seed = der::asn1::OctetStringRef::from_der(info.private_key)
            .map_err(|e| malformed("the Ed25519 seed", e))?;
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed.as_bytes())
            .map_err(|_| "malformed Ed25519 key".to_string())?;
        let bits = ring::signature::KeyPair::public_key(&pair)
            .as_ref()
            .to_vec();
        public_key("Ed25519", OID_ED25519, None, bits)
    } else {
        Err(format!(
            "unsupported key algorithm {oid} (RSA, EC and Ed25519 keys can be checked)"
        ))
    }
}

/// PKCS#1 RSAPrivateKey: the public key is (n, e).
fn pkcs1(der: &[u8]) -> Result<PublicKey, String> {
    let key = pkcs1::RsaPrivateKey::from_der(der).map_err(|e| malformed("PKCS#1", e))?;
    let bits = pkcs1::RsaPublicKey {
        modulus: key.modulus,
        public_exponent: key.public_exponent,
    }
    .to_der()
    .map_err(|e| malformed("the RSA public key", e))?;
    public_key("RSA", OID_RSA, Some(AnyRef::from(Null)), bits)
}

/// SEC1 ECPrivateKey: the public point is its optional `publicKey`; the
/// curve is its `parameters` or, in PKCS#8, the algorithm's parameter.
fn sec1(der: &[u8], curve: Option<ObjectIdentifier>) -> Result<PublicKey, String> {
    let key = sec1::EcPrivateKey::from_der(der).map_err(|e| malformed("SEC1", e))?;
    let curve = key.parameters.and_then(|p| p.named_curve()).or(curve);
    let bits = key
        .public_key
        .filter(|p| !p.is_empty())
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            "the EC private key does not include its public key; rewrite it with: openssl ec -in KEY -out full.key"
                .to_string()
        })?;
    public_key("EC", OID_EC, curve.as_ref().map(AnyRef::from), bits)
}

/// The subjectPublicKey bits of a SubjectPublicKeyInfo.
pub fn spki_bits(spki_der: &[u8]) -> Option<Vec<u8>> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der).ok()?;
    spki.subject_public_key.as_bytes().map(<[u8]>::to_vec)
}

/// SHA-256 of an SPKI in lower-case hex, as `openssl sha256` prints it.
pub fn fingerprint(spki: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, spki)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_keys_are_errors_not_panics() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x82\xff\xff",
            b"hello",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ] {
            assert!(public_key_of(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn rcgen_keys_match_their_certificates() {
        for alg in [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
            &rcgen::PKCS_ED25519,
        ] {
            let key = rcgen::KeyPair::generate_for(alg).expect("key");
            let got = public_key_of(key.serialize_pem().as_bytes()).expect("parses");
            let want = ::pem::parse(key.public_key_pem()).expect("public key PEM");
            assert_eq!(got.spki, want.contents(), "{alg:?}");
            assert!(got.matches(want.contents()));
            // The same key as DER.
            let der = public_key_of(key.serialize_der().as_slice()).expect("DER parses");
            assert_eq!(der, got);
        }
    }
}
