//! Signature checking (ring and the legacy RSA fallback, MD5) and
//! robustness against garbage, with openssl-made legacy fixtures.

use super::*;
use crate::x509::cert::sig::legacy;

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
