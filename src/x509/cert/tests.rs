use super::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P384_SHA384, PKCS_ED25519,
};

use super::ext::tls_features;

mod signature;

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
    // Truncated toward zero, as "expired N days ago" counts.
    assert_eq!(c.days_left(c.not_after + 1), 0);
    assert_eq!(c.days_left(c.not_after + 86_399), 0);
    assert_eq!(c.days_left(c.not_after + 86_400), -1);
    assert_eq!(c.days_left(c.not_after + 86_401), -1);
    assert_eq!(c.days_left(c.not_after + 10 * 86_400 + 3_600), -10);
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
            rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::V4([10, 0, 0, 0], [255, 0, 0, 0])),
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
    // Kept raw (JSON carries it as it is) ...
    assert!(all.contains('\u{1b}'), "{all}");
    assert_eq!(c.subject_cn.as_deref(), Some("red\u{1b}[31mtext\u{7}"));
    // ... and escaped in the copy every terminal output renders.
    let safe = crate::report::terminal::cert(&c);
    let all = format!(
        "{} {} {:?} {:?} {} {:?}",
        safe.subject,
        safe.issuer,
        safe.subject_cn,
        safe.sans,
        safe.display_name(),
        safe.extensions
    );
    assert!(!all.contains('\u{1b}'), "{all}");
    assert!(!all.contains('\u{7}'), "{all}");
    assert_eq!(safe.subject_cn.as_deref(), Some("red\\x1b[31mtext\\x07"));
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
