use super::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use std::path::Path;
use std::process::Command;

/// 2027-01-15T08:00:00Z
pub(crate) const NOW: i64 = 1_799_913_600;
pub(crate) const DAY: i64 = 86_400;

pub(crate) fn at(t: i64) -> ::time::OffsetDateTime {
    ::time::OffsetDateTime::from_unix_timestamp(t).expect("valid test time")
}

pub(crate) struct TestCa {
    pub info: CertInfo,
    pub issuer: Issuer<'static, KeyPair>,
    /// PKCS#8 DER of the CA key (ECDSA P-256).
    pub pkcs8: Vec<u8>,
}

pub(crate) fn ca(cn: &str) -> TestCa {
    let key = KeyPair::generate().expect("key");
    let pkcs8 = key.serialize_der();
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.not_before = at(NOW - 365 * DAY);
    p.not_after = at(NOW + 365 * DAY);
    let cert = p.self_signed(&key).expect("self-signed");
    let info = CertInfo::from_der(cert.der()).expect("ca parses");
    TestCa {
        info,
        issuer: Issuer::new(p, key),
        pkcs8,
    }
}

/// A certificate issued by `ca` with this serial and EKUs; also returns
/// the PKCS#8 of its key.
pub(crate) fn issue(
    ca: &TestCa,
    cn: &str,
    serial: &[u8],
    eku: Vec<ExtendedKeyUsagePurpose>,
) -> (CertInfo, Vec<u8>) {
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(vec!["leaf.test".to_string()]).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.serial_number = Some(SerialNumber::from_slice(serial));
    p.extended_key_usages = eku;
    p.not_before = at(NOW - 30 * DAY);
    p.not_after = at(NOW + 60 * DAY);
    let cert = p.signed_by(&key, &ca.issuer).expect("signed");
    (
        CertInfo::from_der(cert.der()).expect("leaf parses"),
        key.serialize_der(),
    )
}

pub(crate) fn leaf(ca: &TestCa, serial: &[u8]) -> CertInfo {
    issue(
        ca,
        "leaf.test",
        serial,
        vec![ExtendedKeyUsagePurpose::ServerAuth],
    )
    .0
}

fn revoked(serial: &[u8], t: i64, reason: Option<RevocationReason>) -> RevokedCertParams {
    RevokedCertParams {
        serial_number: SerialNumber::from_slice(serial),
        revocation_time: at(t),
        reason_code: reason,
        invalidity_date: None,
    }
}

fn make_crl(ca: &TestCa, this: i64, next: i64, revoked_certs: Vec<RevokedCertParams>) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: at(this),
        next_update: at(next),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca.issuer)
    .expect("crl")
    .der()
    .to_vec()
}

fn judge(crl: &[u8], cert: &CertInfo, ca: &TestCa, now: i64) -> CrlVerdict {
    check(crl, cert, &ca.info.subject_raw, &ca.info.spki_der, now)
}

fn standard_crl(ca: &TestCa) -> Vec<u8> {
    make_crl(
        ca,
        NOW - DAY,
        NOW + 6 * DAY,
        vec![
            revoked(
                &[0x80, 0x01],
                NOW - 2 * DAY,
                Some(RevocationReason::KeyCompromise),
            ),
            revoked(&[0x42], NOW - 3 * DAY, Some(RevocationReason::Superseded)),
            revoked(&[0x43], NOW - 4 * DAY, None),
        ],
    )
}

#[test]
fn revoked_with_reason() {
    let ca = ca("Test CA");
    let crl = standard_crl(&ca);
    // A serial with the high bit set: the DER sign byte must not matter.
    let bad = leaf(&ca, &[0x80, 0x01]);
    assert_eq!(
        judge(&crl, &bad, &ca, NOW),
        CrlVerdict::Revoked {
            time: NOW - 2 * DAY,
            reason: Some("keyCompromise".into()),
            this_update: NOW - DAY
        }
    );
    let superseded = leaf(&ca, &[0x42]);
    assert_eq!(
        judge(&crl, &superseded, &ca, NOW),
        CrlVerdict::Revoked {
            time: NOW - 3 * DAY,
            reason: Some("superseded".into()),
            this_update: NOW - DAY
        }
    );
    let no_reason = leaf(&ca, &[0x43]);
    assert_eq!(
        judge(&crl, &no_reason, &ca, NOW),
        CrlVerdict::Revoked {
            time: NOW - 4 * DAY,
            reason: None,
            this_update: NOW - DAY
        }
    );
    // Revoked wins even after nextUpdate.
    assert!(matches!(
        judge(&crl, &bad, &ca, NOW + 30 * DAY),
        CrlVerdict::Revoked { .. }
    ));
}

#[test]
fn not_revoked_is_good() {
    let ca = ca("Test CA");
    let crl = standard_crl(&ca);
    let good = leaf(&ca, &[0x01, 0x02, 0x03]);
    assert_eq!(
        judge(&crl, &good, &ca, NOW),
        CrlVerdict::Good {
            this_update: NOW - DAY,
            next_update: Some(NOW + 6 * DAY)
        }
    );
    // 0x80 0x01 vs 0x01: a different serial, not a prefix match.
    let near = leaf(&ca, &[0x01]);
    assert!(matches!(
        judge(&crl, &near, &ca, NOW),
        CrlVerdict::Good { .. }
    ));
}

#[test]
fn stale_after_next_update() {
    let ca = ca("Test CA");
    let crl = standard_crl(&ca);
    let good = leaf(&ca, &[0x05]);
    assert_eq!(
        judge(&crl, &good, &ca, NOW + 7 * DAY),
        CrlVerdict::Stale {
            this_update: NOW - DAY,
            next_update: NOW + 6 * DAY
        }
    );
}

#[test]
fn wrong_issuer() {
    let ca1 = ca("Test CA");
    let other = ca("Other CA");
    let crl = standard_crl(&other);
    let cert = leaf(&ca1, &[0x80, 0x01]);
    let CrlVerdict::Invalid(why) = judge(&crl, &cert, &ca1, NOW) else {
        panic!("expected Invalid");
    };
    assert_eq!(
        why,
        "the CRL is issued by CN=Other CA, not by the certificate's issuer CN=Test CA"
    );
}

#[test]
fn same_name_other_key_is_a_bad_signature() {
    let ca1 = ca("Test CA");
    let impostor = ca("Test CA");
    let crl = standard_crl(&impostor);
    let cert = leaf(&ca1, &[0x05]);
    let CrlVerdict::Invalid(why) = judge(&crl, &cert, &ca1, NOW) else {
        panic!("expected Invalid");
    };
    assert!(
        why.contains("signature (ecdsa-with-SHA256) does not verify"),
        "{why}"
    );
}

#[test]
fn tampered_signature() {
    let ca = ca("Test CA");
    let mut crl = standard_crl(&ca);
    let last = crl.len() - 1;
    crl[last] ^= 0x01;
    let cert = leaf(&ca, &[0x05]);
    let CrlVerdict::Invalid(why) = judge(&crl, &cert, &ca, NOW) else {
        panic!("expected Invalid");
    };
    assert!(
        why.contains("does not verify with the issuer's key"),
        "{why}"
    );
    // A tampered entry (flip a byte inside the TBS) is caught too.
    let mut crl = standard_crl(&ca);
    crl[40] ^= 0x01;
    assert!(matches!(
        judge(&crl, &cert, &ca, NOW),
        CrlVerdict::Invalid(_)
    ));
}

#[test]
fn garbage_and_truncation() {
    let ca = ca("Test CA");
    let cert = leaf(&ca, &[0x05]);
    for input in [
        &b""[..],
        b"garbage",
        &[0x30, 0x82, 0xff],
        b"-----BEGIN X509 CRL-----\nnope\n-----END X509 CRL-----\n",
    ] {
        assert!(
            matches!(judge(input, &cert, &ca, NOW), CrlVerdict::Invalid(_)),
            "{input:?}"
        );
        assert!(summary(input).is_err());
    }
    let crl = standard_crl(&ca);
    for n in 0..crl.len() {
        assert!(matches!(
            judge(&crl[..n], &cert, &ca, NOW),
            CrlVerdict::Invalid(_)
        ));
    }
    let mut trailing = crl.clone();
    trailing.push(0);
    assert!(matches!(
        judge(&trailing, &cert, &ca, NOW),
        CrlVerdict::Invalid(_)
    ));
    // A certificate is not a CRL.
    assert!(matches!(
        judge(&cert.der, &cert, &ca, NOW),
        CrlVerdict::Invalid(_)
    ));
}

#[test]
fn pem_form_and_summary() {
    let ca = ca("Test CA");
    let der = standard_crl(&ca);
    let pem_text = ::pem::encode(&::pem::Pem::new("X509 CRL", der.clone()));
    let bad = leaf(&ca, &[0x80, 0x01]);
    let with_text = format!("Certificate Revocation List (CRL):\n  junk\n{pem_text}");
    for input in [pem_text.as_bytes(), with_text.as_bytes()] {
        assert_eq!(judge(input, &bad, &ca, NOW), judge(&der, &bad, &ca, NOW));
    }
    assert!(matches!(
        judge(pem_text.as_bytes(), &bad, &ca, NOW),
        CrlVerdict::Revoked { .. }
    ));
    let want = ("CN=Test CA".to_string(), NOW - DAY, Some(NOW + 6 * DAY), 3);
    assert_eq!(summary(&der), Ok(want.clone()));
    assert_eq!(summary(pem_text.as_bytes()), Ok(want));
    // A PEM certificate is not a CRL.
    let cert_pem = ::pem::encode(&::pem::Pem::new("CERTIFICATE", bad.der.clone()));
    assert!(matches!(
        judge(cert_pem.as_bytes(), &bad, &ca, NOW),
        CrlVerdict::Invalid(_)
    ));
}

#[test]
fn reason_names() {
    assert_eq!(reason_name(1), "keyCompromise");
    assert_eq!(reason_name(2), "cACompromise");
    assert_eq!(reason_name(4), "superseded");
    assert_eq!(reason_name(7), "reason 7");
}

// -----------------------------------------------------------------------
// OpenSSL-made PKI (section 3.3 of the research notes)
// -----------------------------------------------------------------------

const CA_CNF: &str = "\
[ca]
default_ca = CA_default
[CA_default]
dir = ./demoCA
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = ./ca.pem
private_key = ./ca.key
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = copy
[policy_any]
commonName = supplied
[req]
distinguished_name = req_dn
[req_dn]
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
[ocsp]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,OCSPSigning
";

/// Run `openssl` in `dir`; panics with its stderr on failure.
pub(crate) fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// An `openssl ca` PKI in `dir`: ca.pem, ocsp.pem (OCSPSigning), good.pem,
/// bad.pem (revoked, keyCompromise), ca.crl (DER). Returns (ca, good,
/// bad) or None when openssl is not installed.
pub(crate) fn openssl_pki(dir: &Path) -> Option<(CertInfo, CertInfo, CertInfo)> {
    if !openssl_available() {
        eprintln!("openssl not found: skipping the OpenSSL interop test");
        return None;
    }
    std::fs::create_dir_all(dir.join("demoCA/newcerts")).expect("mkdir");
    std::fs::write(dir.join("demoCA/index.txt"), "").expect("index");
    std::fs::write(dir.join("demoCA/serial"), "1000\n").expect("serial");
    std::fs::write(dir.join("demoCA/crlnumber"), "1000\n").expect("crlnumber");
    std::fs::write(dir.join("ca.cnf"), CA_CNF).expect("cnf");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "365",
        "-subj",
        "/CN=Test CA",
    ]);
    args.extend(["-config", "ca.cnf", "-extensions", "v3_ca"]);
    openssl(dir, &args);
    for (name, cn, ext) in [
        ("ocsp", "/CN=Test OCSP", "ocsp"),
        ("good", "/CN=localhost", "leaf"),
        ("bad", "/CN=localhost", "leaf"),
    ] {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        let mut args = vec!["req"];
        args.extend(ec);
        args.extend([
            "-keyout", &key, "-out", &csr, "-subj", cn, "-config", "ca.cnf",
        ]);
        openssl(dir, &args);
        openssl(
            dir,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-extensions",
                ext,
                "-in",
                &csr,
                "-out",
                &pem,
            ],
        );
    }
    openssl(
        dir,
        &[
            "ca",
            "-config",
            "ca.cnf",
            "-revoke",
            "bad.pem",
            "-crl_reason",
            "keyCompromise",
        ],
    );
    openssl(
        dir,
        &["ca", "-config", "ca.cnf", "-gencrl", "-out", "ca.crl.pem"],
    );
    openssl(
        dir,
        &[
            "crl",
            "-in",
            "ca.crl.pem",
            "-outform",
            "DER",
            "-out",
            "ca.crl",
        ],
    );
    let load = |name: &str| {
        let der = format!("{name}.der");
        openssl(
            dir,
            &[
                "x509",
                "-in",
                &format!("{name}.pem"),
                "-outform",
                "DER",
                "-out",
                &der,
            ],
        );
        CertInfo::from_der(&std::fs::read(dir.join(der)).expect("read der"))
            .expect("openssl cert parses")
    };
    Some((load("ca"), load("good"), load("bad")))
}

fn unix_now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn openssl_made_crl() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some((ca, good, bad)) = openssl_pki(tmp.path()) else {
        return;
    };
    let der = std::fs::read(tmp.path().join("ca.crl")).expect("crl");
    let pem_text = std::fs::read(tmp.path().join("ca.crl.pem")).expect("crl pem");
    let now = unix_now();
    let verdict = check(&der, &bad, &ca.subject_raw, &ca.spki_der, now);
    let CrlVerdict::Revoked {
        time,
        reason,
        this_update,
    } = verdict
    else {
        panic!("expected Revoked, got {verdict:?}");
    };
    assert_eq!(reason.as_deref(), Some("keyCompromise"));
    assert!((time - now).abs() < 600 && (this_update - now).abs() < 600);
    assert!(matches!(
        check(&pem_text, &good, &ca.subject_raw, &ca.spki_der, now),
        CrlVerdict::Good {
            next_update: Some(_),
            ..
        }
    ));
    assert!(matches!(
        check(&der, &good, &ca.subject_raw, &ca.spki_der, now + 8 * DAY),
        CrlVerdict::Stale { .. }
    ));
    let (issuer, _, next, entries) = summary(&der).expect("summary");
    assert_eq!((issuer.as_str(), entries), ("CN=Test CA", 1));
    assert!(next.is_some());
}
