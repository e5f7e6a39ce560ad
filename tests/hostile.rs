//! Hostile and odd certificates through the real binary: serial numbers
//! RFC 5280 forbids (served by `openssl s_server`), a leaf with 10,000
//! names, a 10,000-character target, and an AIA URL serving a PKCS#7
//! bundle of 1,500 certificates. Each asserts the exact findings, and that
//! the words stay bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Daemon, openssl, s_server};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

fn check(args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = common::certscope(args);
    cmd.env("XDG_CONFIG_HOME", "/nonexistent-certscope-test");
    let o = common::run_bounded(cmd, &format!("certscope {args:?}"), LIMIT);
    (
        o.code,
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn findings(stdout: &str) -> Vec<(String, String)> {
    let doc: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    doc["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A self-signed server certificate for `name` with serial `serial` (as
/// `openssl -set_serial` takes it), written to `dir/name.{pem,key}`.
fn cert_with_serial(dir: &Path, name: &str, serial: &str) {
    let subj = format!("/CN={name}");
    let san = format!("subjectAltName=DNS:{name}");
    let key = format!("{name}.key");
    let pem = format!("{name}.pem");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-subj",
            &subj,
            "-days",
            "30",
            "-set_serial",
            serial,
            "-addext",
            &san,
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ],
    );
}

#[test]
fn serial_numbers_rfc_5280_forbids() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("0x{}", "7f".repeat(22));
    for (name, serial, want) in [
        ("negative.test", "-5", "warning"),
        ("zero.test", "0", "warning"),
        ("long.test", big.as_str(), "critical"),
    ] {
        cert_with_serial(dir.path(), name, serial);
        let pem = format!("{name}.pem");
        let key = format!("{name}.key");
        let server = s_server(dir.path(), name, &["-cert", &pem, "-key", &key]);
        let target = format!("{name}:{}", server.port);
        let rule = format!("{target}:127.0.0.1");
        let ca = dir.path().join(&pem).display().to_string();
        let (code, out, err) = check(&[
            "check",
            "--json",
            "--timeout",
            "5",
            "--trust-store",
            "none",
            "--ca-file",
            &ca,
            "--resolve",
            &rule,
            &target,
        ]);
        assert_eq!(
            findings(&out),
            [("invalid-serial".to_string(), want.to_string())],
            "{name}: {out}\n{err}"
        );
        assert_eq!(code, Some(if want == "critical" { 2 } else { 1 }));
    }
}

#[test]
fn ten_thousand_names_and_a_mismatch_stay_short() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..10_000).map(|i| format!("h{i}.many.test")).collect();
    let mut p = rcgen::CertificateParams::new(names).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "many.test");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    let file = dir.path().join("many.pem");
    std::fs::write(&file, cert.pem()).unwrap();
    let f = file.display().to_string();
    let (_, out, err) = check(&["inspect", "--json", "--name", "other.test", &f]);
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let mismatch = doc["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "hostname-mismatch")
        .expect("hostname-mismatch")
        .clone();
    let detail = mismatch["detail"].as_str().unwrap();
    assert!(detail.len() < 2048, "{} bytes: {detail}", detail.len());
    assert!(
        detail.contains("and 9990 more (10000 names in all"),
        "{detail}"
    );
    let text = serde_json::to_string(&mismatch).unwrap();
    assert!(
        text.len() < 4096,
        "the whole finding is {} bytes",
        text.len()
    );
    // The text report too.
    let (_, out, _) = check(&["inspect", "--name", "other.test", &f]);
    assert!(out.len() < 16 * 1024, "{} bytes of text", out.len());
}

#[test]
fn a_huge_target_is_echoed_cut() {
    let huge = "a.".repeat(5_000) + "test";
    let (code, out, err) = check(&["check", &huge]);
    assert_eq!(code, Some(3));
    assert!(out.is_empty());
    assert!(err.len() < 600, "{} bytes: {err}", err.len());
    assert!(err.contains('…'), "{err}");
}

/// DER tag-length-value (long lengths).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        v.push(0x80 | bytes.len() as u8);
        v.extend(bytes);
    }
    v.extend_from_slice(content);
    v
}

/// The port of `Serving HTTP on 127.0.0.1 port N ...`.
fn python_port(line: &str) -> Option<u16> {
    let rest = line.split(" port ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// An HTTP server (Python's) for `dir/www`, on a free loopback port.
fn http_www(dir: &Path) -> (Daemon, std::path::PathBuf) {
    let www = dir.join("www");
    std::fs::create_dir(&www).unwrap();
    let http = Daemon::start(
        dir,
        "http",
        "python3",
        &[
            "-u",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            "www",
            "0",
        ],
        python_port,
    );
    (http, www)
}

/// A leaf for `name` issued by `pki`'s intermediate whose AIA caIssuers is
/// `url`, valid for 60 days, written to `dir/leaf.pem` and `dir/leaf.key`
/// beside the root (`dir/root.pem`).
fn aia_leaf_files(dir: &Path, pki: &certscope::testkit::TestPki, name: &str, url: &str) {
    let mut ad = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02]);
    ad.extend(tlv(0x86, url.as_bytes()));
    let aia = tlv(0x30, &tlv(0x30, &ad));
    let mut p = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    p.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 1],
        aia,
    )];
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(60);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = p.signed_by(&key, &pki.int).unwrap();
    std::fs::write(dir.join("leaf.pem"), leaf.pem()).unwrap();
    std::fs::write(dir.join("leaf.key"), key.serialize_pem()).unwrap();
    std::fs::write(
        dir.join("root.pem"),
        pem::encode(&pem::Pem::new("CERTIFICATE", pki.root_der.clone())),
    )
    .unwrap();
}

/// `check --json` of `target` served on loopback, trusting only `dir/root.pem`.
fn check_served(dir: &Path, target: &str) -> (String, String) {
    let rule = format!("{target}:127.0.0.1");
    let root = dir.join("root.pem").display().to_string();
    let (_, out, err) = check(&[
        "check",
        "--json",
        "--timeout",
        "10",
        "--no-revocation",
        "--trust-store",
        "none",
        "--ca-file",
        &root,
        "--resolve",
        &rule,
        target,
    ]);
    (out, err)
}

#[test]
fn an_aia_bundle_of_1500_certificates_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (http, www) = http_www(dir.path());
    let pki = certscope::testkit::TestPki::new();
    // The leaf names the bundle as its caIssuers, and the server sends the
    // leaf alone.
    let url = format!("http://127.0.0.1:{}/bundle.p7c", http.port);
    aia_leaf_files(dir.path(), &pki, "bundle.test", &url);
    // 1,499 unrelated certificates, then the intermediate, as one PKCS#7.
    let filler_key = rcgen::KeyPair::generate().unwrap();
    let mut certs: Vec<Vec<u8>> = (0..1_499)
        .map(|i| {
            rcgen::CertificateParams::new(vec![format!("f{i}.test")])
                .unwrap()
                .self_signed(&filler_key)
                .unwrap()
                .der()
                .to_vec()
        })
        .collect();
    certs.push(pki.int.der().to_vec());
    let set: Vec<u8> = certs.concat();
    let signed_data = tlv(
        0x30,
        &[
            tlv(0x02, &[1]),
            tlv(0x31, &[]),
            tlv(
                0x30,
                &tlv(
                    0x06,
                    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
                ),
            ),
            tlv(0xa0, &set),
            tlv(0x31, &[]),
        ]
        .concat(),
    );
    let p7 = tlv(
        0x30,
        &[
            tlv(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
            ),
            tlv(0xa0, &signed_data),
        ]
        .concat(),
    );
    assert!(
        p7.len() < 1 << 20,
        "within the AIA body cap: {} bytes",
        p7.len()
    );
    std::fs::write(www.join("bundle.p7c"), &p7).unwrap();
    // OpenSSL reads it as 1,500 certificates too.
    openssl(
        dir.path(),
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            "www/bundle.p7c",
            "-print_certs",
            "-out",
            "all.pem",
        ],
    );
    let all = std::fs::read_to_string(dir.path().join("all.pem")).unwrap();
    assert_eq!(all.matches("BEGIN CERTIFICATE").count(), 1_500);

    let server = s_server(
        dir.path(),
        "bundle",
        &["-cert", "leaf.pem", "-key", "leaf.key"],
    );
    let target = format!("bundle.test:{}", server.port);
    let (out, err) = check_served(dir.path(), &target);
    // The intermediate, 1,500th in the bundle, was found: the chain is
    // only incomplete as sent, and nothing says the fetch failed.
    assert_eq!(
        findings(&out),
        [("incomplete-chain".to_string(), "critical".to_string())],
        "{out}\n{err}"
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let sources: Vec<&str> = doc["results"][0]["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["server", "aia", "store"]);
}

/// The `-cert`/`-key` of a leaf for `name` signed by `pki`'s intermediate,
/// written to `dir/NAME.pem` and `dir/NAME.key`.
fn leaf_files(dir: &Path, pki: &certscope::testkit::TestPki, name: &str) {
    let mut p = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(60);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = p.signed_by(&key, &pki.int).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), leaf.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    std::fs::write(
        dir.join("root.pem"),
        pem::encode(&pem::Pem::new("CERTIFICATE", pki.root_der.clone())),
    )
    .unwrap();
}

#[test]
fn a_90_kib_chain_is_captured_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let pki = certscope::testkit::TestPki::new();
    leaf_files(dir.path(), &pki, "big-chain.test");
    // The intermediate, then 11 unrelated certificates of about 8 KB each.
    let mut chain = pem::encode(&pem::Pem::new("CERTIFICATE", pki.int.der().to_vec()));
    let pad_key = rcgen::KeyPair::generate().unwrap();
    for i in 0..11 {
        let names: Vec<String> = (0..500).map(|k| format!("p{i}-{k}.pad.test")).collect();
        let c = rcgen::CertificateParams::new(names)
            .unwrap()
            .self_signed(&pad_key)
            .unwrap();
        chain.push_str(&c.pem());
    }
    std::fs::write(dir.path().join("chain.pem"), &chain).unwrap();
    let server = s_server(
        dir.path(),
        "big-chain",
        &[
            "-cert",
            "big-chain.test.pem",
            "-key",
            "big-chain.test.key",
            "-cert_chain",
            "chain.pem",
        ],
    );
    let target = format!("big-chain.test:{}", server.port);
    let rule = format!("{target}:127.0.0.1");
    let root = dir.path().join("root.pem").display().to_string();
    let (code, out, err) = check(&[
        "check",
        "--json",
        "--timeout",
        "5",
        "--no-revocation",
        "--no-aia",
        "--trust-store",
        "none",
        "--ca-file",
        &root,
        "--resolve",
        &rule,
        &target,
    ]);
    let mut got = findings(&out);
    got.sort();
    assert_eq!(
        got,
        [
            ("chain-order".to_string(), "warning".to_string()),
            ("oversized-chain".to_string(), "warning".to_string())
        ],
        "{out}\n{err}"
    );
    assert_eq!(code, Some(1));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let r = &doc["results"][0];
    let bytes = r["tls"]["certificate_message_bytes"].as_u64().unwrap();
    assert!(
        (64 * 1024..100 * 1024).contains(&(bytes as usize)),
        "{bytes}"
    );
    assert_eq!(r["tls"]["version"], "TLSv1.2", "read over TLS 1.2");
    // 13 certificates sent, then the trust anchor.
    assert_eq!(r["chain"].as_array().unwrap().len(), 14);
}

#[test]
fn a_dsa_leaf_yields_its_chain_and_findings() {
    let dir = tempfile::tempdir().unwrap();
    openssl(dir.path(), &["dsaparam", "-out", "dsap.pem", "2048"]);
    openssl(dir.path(), &["gendsa", "-out", "dsa.key", "dsap.pem"]);
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-key",
            "dsa.key",
            "-out",
            "dsa.pem",
            "-subj",
            "/CN=dsa.test",
            "-addext",
            "subjectAltName=DNS:dsa.test",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-days",
            "30",
        ],
    );
    // Only DHE-DSS suites fit a DSA key: TLS 1.2, security level 0.
    let server = s_server(
        dir.path(),
        "dsa",
        &[
            "-cert",
            "dsa.pem",
            "-key",
            "dsa.key",
            "-cipher",
            "ALL:@SECLEVEL=0",
            "-no_tls1_3",
        ],
    );
    let target = format!("dsa.test:{}", server.port);
    let rule = format!("{target}:127.0.0.1");
    let ca = dir.path().join("dsa.pem").display().to_string();
    let (code, out, err) = check(&[
        "check",
        "--json",
        "--timeout",
        "5",
        "--trust-store",
        "none",
        "--ca-file",
        &ca,
        "--resolve",
        &rule,
        &target,
    ]);
    let mut got = findings(&out);
    got.sort();
    assert_eq!(
        got,
        [
            ("protocol-unsupported".to_string(), "critical".to_string()),
            ("weak-key".to_string(), "critical".to_string())
        ],
        "{out}\n{err}"
    );
    assert_eq!(code, Some(2));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let leaf = &doc["results"][0]["chain"][0];
    assert_eq!(leaf["key"]["type"], "DSA", "{leaf}");
    assert_eq!(leaf["subject"], "CN=dsa.test");
}

/// Certificates over 64 KiB, which webpki does not read: a 100 KiB root in
/// a CA file is still a trust anchor, and `inspect` judges a 1 MB leaf that
/// `openssl verify` accepts, naming its size on it instead of refusing it
/// with a parser's error.
#[test]
fn certificates_over_64_kib_are_read_as_openssl_reads_them() {
    use rcgen::{CertificateParams, CertifiedIssuer, CustomExtension, DnType, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let day = 86_400;
    let filler = |oid_last: u64, n: usize| {
        CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 99999, oid_last],
            tlv(0x04, &vec![0x5a; n]),
        )
    };
    let mut rp = certscope::testkit::ca_params("Big Root", now - 10 * day, now + 1000 * day);
    rp.custom_extensions = vec![filler(2, 100 * 1024)];
    let root = CertifiedIssuer::self_signed(rp, KeyPair::generate().unwrap()).unwrap();
    assert!(root.der().len() > 100 * 1024);
    let leaf = |name: &str, big: Option<usize>| {
        let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        p.not_before = time::OffsetDateTime::from_unix_timestamp(now - day).unwrap();
        p.not_after = time::OffsetDateTime::from_unix_timestamp(now + 60 * day).unwrap();
        if let Some(n) = big {
            p.custom_extensions = vec![filler(3, n)];
        }
        p.signed_by(&KeyPair::generate().unwrap(), &root).unwrap()
    };
    let small = leaf("small.big.test", None);
    let big = leaf("big.big.test", Some(1024 * 1024));
    assert!(big.der().len() > 1024 * 1024);
    std::fs::write(dir.path().join("root.pem"), root.pem()).unwrap();
    std::fs::write(dir.path().join("small.pem"), small.pem()).unwrap();
    std::fs::write(dir.path().join("big.pem"), big.pem()).unwrap();
    // OpenSSL reads all three.
    openssl(dir.path(), &["verify", "-CAfile", "root.pem", "small.pem"]);
    openssl(dir.path(), &["verify", "-CAfile", "root.pem", "big.pem"]);
    let path = |f: &str| dir.path().join(f).display().to_string();
    let (code, out, err) = check(&[
        "inspect",
        &path("small.pem"),
        "--trust-store",
        "none",
        "--ca-file",
        &path("root.pem"),
        "--name",
        "small.big.test",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(findings(&out), Vec::<(String, String)>::new(), "{out}");
    let (code, out, err) = check(&[
        "inspect",
        &path("big.pem"),
        "--trust-store",
        "none",
        "--ca-file",
        &path("root.pem"),
        "--name",
        "big.big.test",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(
        findings(&out),
        vec![("oversized-chain".to_string(), "warning".to_string())],
        "{out}"
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let f = &doc["results"][0]["findings"][0];
    assert_eq!(f["cert"], 0);
    assert!(f["detail"].as_str().unwrap().contains("64 KiB"), "{f}");
}

/// The server sends a certificate with the intermediate's name but another
/// key; the right intermediate is only at the leaf's AIA URL. certscope
/// fetches it as browsers do, builds the path through it, and says both
/// what is missing and what the wrong certificate is.
#[test]
fn the_right_issuer_only_by_aia_with_a_wrong_one_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (http, www) = http_www(dir.path());
    let pki = certscope::testkit::TestPki::new();
    let url = format!("http://127.0.0.1:{}/int.der", http.port);
    std::fs::write(www.join("int.der"), pki.int.der()).unwrap();
    aia_leaf_files(dir.path(), &pki, "wrong-int.test", &url);
    // "Test Intermediate" again, with a key of its own.
    let t = time::OffsetDateTime::now_utc().unix_timestamp();
    let wrong = rcgen::CertifiedIssuer::self_signed(
        certscope::testkit::ca_params("Test Intermediate", t - 86_400, t + 86_400 * 365),
        rcgen::KeyPair::generate().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("wrong.pem"), wrong.pem()).unwrap();
    let server = s_server(
        dir.path(),
        "wrong-int",
        &[
            "-cert",
            "leaf.pem",
            "-key",
            "leaf.key",
            "-cert_chain",
            "wrong.pem",
        ],
    );
    let target = format!("wrong-int.test:{}", server.port);
    let (out, err) = check_served(dir.path(), &target);
    let mut got = findings(&out);
    got.sort();
    assert_eq!(
        got,
        [
            ("chain-order".to_string(), "warning".to_string()),
            ("incomplete-chain".to_string(), "critical".to_string())
        ],
        "{out}\n{err}"
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let r = &doc["results"][0];
    let chain = r["chain"].as_array().unwrap();
    let sources: Vec<&str> = chain
        .iter()
        .map(|c| c["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["server", "server", "aia", "store"]);
    let on_path: Vec<bool> = chain
        .iter()
        .map(|c| c["on_path"].as_bool().unwrap())
        .collect();
    assert_eq!(on_path, [true, false, true, true]);
    let order = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "chain-order")
        .unwrap();
    assert!(
        order["detail"]
            .as_str()
            .unwrap()
            .contains("another issuance"),
        "{order}"
    );
    let inc = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "incomplete-chain")
        .unwrap();
    assert!(
        inc["detail"]
            .as_str()
            .unwrap()
            .contains("the chain verifies"),
        "{inc}"
    );
}
