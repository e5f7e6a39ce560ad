//! Servers rustls cannot negotiate with (TLS 1.0/1.1 only, or TLS 1.2 with
//! only a CBC suite), played by real `openssl s_server` processes on
//! loopback: the probe falls back to its raw legacy ClientHello, reports
//! `protocol-unsupported` with the version the server chose, and still
//! diagnoses the certificate chain it captured.
//!
//! The `openssl` binary is required: without it these tests fail rather
//! than silently pass.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use certscope::report::Report;
use certscope::report::finding::Status;
use certscope::report::observation::{ConnCode, Observation};
use common::{CA_SECTIONS, Leaf, OpensslPki as Pki, RSA, findings_text, sorted_codes, x509_sign};

/// Outer bound on a whole probe (rustls attempt plus the legacy retry).
const PROBE_DEADLINE: Duration = Duration::from_secs(20);

/// OpenSSL 3 allows TLS 1.0/1.1 (and plain-RSA suites) only at level 0.
const LEGACY_CIPHERS: &str = "DEFAULT:@SECLEVEL=0";

// ---------------------------------------------------------------------------
// A small RSA PKI (plain-RSA suites such as AES128-SHA need an RSA key)

fn config(sans: &str) -> String {
    format!(
        r#"{CA_SECTIONS}
[ leaf ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = {sans}
"#
    )
}

/// What this file adds to the shared PKI: leaves signed by the root.
impl Pki {
    /// A root CA the tests trust.
    fn new() -> Pki {
        Pki::with_root(&RSA, config, "/CN=certscope Legacy Test Root")
    }

    /// A leaf for `host` signed by the root, valid for 90 days.
    fn issue(&self, label: &str, host: &str) -> Leaf {
        let (cnf, csr, leaf) = self.request(label, host);
        x509_sign(
            self.path(),
            &csr,
            "root.pem",
            "root.key",
            "90",
            &cnf,
            "leaf",
            &leaf.cert,
        );
        leaf
    }
}

// ---------------------------------------------------------------------------
// Probing

struct Outcome {
    obs: Observation,
    report: Report,
    server_stderr: String,
}

impl Outcome {
    fn codes(&self) -> Vec<String> {
        sorted_codes(&self.report)
    }

    fn explain(&self) -> String {
        format!(
            "status {:?}, tls {:?}, {} certificate(s) captured, connection error {:?}\nfindings:\n{}\ns_server stderr:\n{}",
            self.report.status,
            self.obs.tls,
            self.obs.chain.len(),
            self.obs.error,
            findings_text(&self.report),
            self.server_stderr
        )
    }

    /// The connection failure must be `protocol-unsupported` at the
    /// handshake, the chain captured, and the version the one reported.
    fn assert_legacy(&self, version: &str) {
        let err = self
            .obs
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("a connection failure\n{}", self.explain()));
        assert_eq!(
            err.code,
            ConnCode::ProtocolUnsupported,
            "{}",
            self.explain()
        );
        assert_eq!(err.step, "handshake", "{}", self.explain());
        let tls =
            self.obs.tls.as_ref().unwrap_or_else(|| {
                panic!("the legacy hello reports TLS facts\n{}", self.explain())
            });
        assert_eq!(tls.version, version, "{}", self.explain());
        assert_eq!(
            self.obs.chain.len(),
            1,
            "the presented chain is captured\n{}",
            self.explain()
        );
        assert_eq!(
            self.report.chain.first().map(|c| c.info.der.len()),
            self.obs.chain.first().map(|d| d.len()),
            "the report shows the captured chain\n{}",
            self.explain()
        );
        let finding = self
            .report
            .findings
            .iter()
            .find(|f| f.code.as_str() == "protocol-unsupported")
            .unwrap_or_else(|| panic!("a protocol-unsupported finding\n{}", self.explain()));
        assert_eq!(finding.cert, None, "{}", self.explain());
        assert_eq!(self.report.status, Status::Critical, "{}", self.explain());
    }
}

/// Serve `leaf` with `extra` s_server options, probe `host` at that port
/// (through a resolve rule to 127.0.0.1) and diagnose it against the PKI.
async fn run(pki: &Pki, label: &str, host: &str, leaf: &Leaf, extra: &[&str]) -> Outcome {
    let server = leaf.serve(pki.path(), label, extra);
    let context = || format!("s_server stderr:\n{}", server.stderr());
    let (obs, report) =
        common::probe_loopback(host, server.port, &pki.trust(), PROBE_DEADLINE, &context).await;
    let server_stderr = server.stderr();
    drop(server);
    Outcome {
        obs,
        report,
        server_stderr,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls10_only_self_signed_reports_both_problems() {
    let pki = Pki::new();
    let host = "legacy.openssl.test";
    let leaf = pki.self_signed("tls10", host);
    let o = run(
        &pki,
        "tls10",
        host,
        &leaf,
        &["-tls1", "-cipher", LEGACY_CIPHERS],
    )
    .await;
    o.assert_legacy("TLSv1.0");
    assert_eq!(
        o.codes(),
        ["protocol-unsupported", "self-signed"],
        "the protocol problem neither replaces nor hides the certificate problem\n{}",
        o.explain()
    );
    let err = o.obs.error.as_ref().expect("checked above");
    assert!(err.message.contains("TLSv1.0"), "{}", o.explain());
    let self_signed = o
        .report
        .findings
        .iter()
        .find(|f| f.code.as_str() == "self-signed")
        .expect("checked above");
    assert_eq!(self_signed.cert, Some(0), "{}", o.explain());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls12_cbc_only_is_a_cipher_problem_not_a_certificate_problem() {
    let pki = Pki::new();
    let host = "cbc.openssl.test";
    let leaf = pki.issue("cbc", host);
    let o = run(
        &pki,
        "cbc",
        host,
        &leaf,
        &["-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"],
    )
    .await;
    o.assert_legacy("TLSv1.2");
    assert_eq!(
        o.codes(),
        ["protocol-unsupported"],
        "a valid chain gives no certificate finding\n{}",
        o.explain()
    );
    let tls = o.obs.tls.as_ref().expect("checked above");
    assert_eq!(tls.cipher, "0x002F", "AES128-SHA\n{}", o.explain());
    let err = o.obs.error.as_ref().expect("checked above");
    assert!(
        err.message.contains("cipher") && err.message.contains("0x002F"),
        "the failure names the cipher suite\n{}",
        o.explain()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls11_only_names_the_version() {
    let pki = Pki::new();
    let host = "tls11.openssl.test";
    let leaf = pki.issue("tls11", host);
    let o = run(
        &pki,
        "tls11",
        host,
        &leaf,
        &["-tls1_1", "-cipher", LEGACY_CIPHERS],
    )
    .await;
    o.assert_legacy("TLSv1.1");
    assert_eq!(o.codes(), ["protocol-unsupported"], "{}", o.explain());
    let err = o.obs.error.as_ref().expect("checked above");
    assert!(err.message.contains("TLSv1.1"), "{}", o.explain());
    let finding = &o.report.findings[0];
    assert!(
        finding.detail.contains("TLSv1.1"),
        "the finding names the version\n{}",
        o.explain()
    );
}
