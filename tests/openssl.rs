//! Real `openssl s_server` processes on loopback, with a PKI made by the
//! `openssl` command-line tool at test time: the diagnosis engine must find
//! the same problems as in its built-in (rustls + rcgen) lab.
//!
//! The `openssl` binary is required: without it these tests fail (CI
//! installs it) rather than silently pass.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use certscope::lab::{Lab, LabOptions};
use certscope::report::Report;
use certscope::report::finding::{Severity, Status};
use certscope::report::observation::{ConnCode, Observation};
use certscope::x509::trust::{AnchorOrigin, TrustStore};
use common::{
    Daemon, EC, Leaf, OpensslPki as Pki, ca_config, ca_database, ca_sign, findings_text, req_csr,
    sorted_codes, x509_sign,
};

/// Outer bound on a whole probe (resolve + connect + handshake).
const PROBE_DEADLINE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------
// The OpenSSL PKI: root -> intermediate -> leaves, all EC P-256

/// `openssl ca` / `openssl req` configuration; `sans` fills the `leaf`
/// extension section. Paths are relative to the PKI directory.
fn config(sans: &str) -> String {
    format!(
        r#"{}
[ leaf ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
subjectAltName         = {sans}
"#,
        ca_config("inter_ca", "inter.pem", "inter.key", "")
    )
}

/// `YYMMDDHHMMSSZ`, `days` from now, for `openssl ca -startdate/-enddate`.
fn ca_date(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    let f = time::macros::format_description!(
        "[year repr:last_two][month][day][hour][minute][second]Z"
    );
    t.format(&f).expect("format an openssl date")
}

/// What this file adds to the shared PKI: an intermediate that issues the
/// leaves with `openssl ca`, and serving them.
impl Pki {
    fn new() -> Pki {
        let pki = Pki::with_root(&EC, config, "/CN=certscope OpenSSL Test Root");
        let d = pki.path();
        ca_database(d);
        req_csr(
            d,
            &EC,
            "inter.key",
            "inter.csr",
            "/CN=certscope OpenSSL Test Intermediate",
            "base.cnf",
        );
        x509_sign(
            d,
            "inter.csr",
            "root.pem",
            "root.key",
            "1825",
            "base.cnf",
            "v3_inter",
            "inter.pem",
        );
        pki
    }

    /// A leaf for `host` issued by the intermediate with `openssl ca`, valid
    /// from `from_days` to `to_days` relative to now.
    fn issue(&self, label: &str, host: &str, from_days: i64, to_days: i64) -> Leaf {
        let (cnf, csr, leaf) = self.request(label, host);
        let (start, end) = (ca_date(from_days), ca_date(to_days));
        ca_sign(
            self.path(),
            &cnf,
            "leaf",
            &["-startdate", &start, "-enddate", &end],
            &csr,
            &leaf.cert,
        );
        leaf
    }

    fn serve(&self, label: &str, leaf: &Leaf, chain: Option<&str>, extra: &[&str]) -> Daemon {
        let mut args = Vec::new();
        if let Some(c) = chain {
            args.extend_from_slice(&["-cert_chain", c]);
        }
        args.extend_from_slice(extra);
        leaf.serve(self.path(), label, &args)
    }
}

// ---------------------------------------------------------------------------
// Scenarios

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Expired,
    LeafOnly,
    SelfSigned,
    WrongName,
    Tls10Only,
}

impl Scenario {
    /// The matching scenario of the built-in lab, for certificate problems.
    fn lab_id(self) -> Option<&'static str> {
        match self {
            Scenario::Expired => Some("expired"),
            Scenario::LeafOnly => Some("incomplete-chain"),
            Scenario::SelfSigned => Some("self-signed"),
            Scenario::WrongName => Some("wrong-host"),
            Scenario::Tls10Only => None,
        }
    }
}

type Summary = Vec<(String, Severity, Option<usize>)>;

/// What each scenario must produce (order-insensitive), and how many
/// certificates the server must present.
fn expectation(s: Scenario) -> (Status, Summary, usize) {
    use Severity::Critical as C;
    let one = |code: &str, sev, cert| vec![(code.to_string(), sev, cert)];
    match s {
        Scenario::Expired => (Status::Critical, one("expired", C, Some(0)), 2),
        Scenario::LeafOnly => (Status::Critical, one("incomplete-chain", C, Some(0)), 1),
        Scenario::SelfSigned => (Status::Critical, one("self-signed", C, Some(0)), 1),
        Scenario::WrongName => (Status::Critical, one("hostname-mismatch", C, Some(0)), 2),
        // The legacy ClientHello still captures the (valid) chain: the
        // protocol problem is reported, and nothing is wrong with the chain.
        Scenario::Tls10Only => (Status::Critical, one("protocol-unsupported", C, None), 2),
    }
}

struct Outcome {
    obs: Observation,
    report: Report,
    server_stderr: String,
}

/// Probe `host` at 127.0.0.1:`port` (through a resolve rule, like the lab)
/// and diagnose it against `trust`.
async fn check(host: &str, port: u16, trust: &TrustStore) -> (Observation, Report) {
    common::probe_loopback(host, port, trust, PROBE_DEADLINE, &String::new).await
}

/// Build what `s` needs in `pki`, serve it with `openssl s_server`, probe
/// and diagnose it. The server is stopped before this returns.
async fn run(pki: &Pki, s: Scenario) -> Outcome {
    let (host, server) = match s {
        Scenario::Expired => {
            let leaf = pki.issue("expired", "expired.openssl.test", -100, -10);
            let srv = pki.serve("expired", &leaf, Some("inter.pem"), &[]);
            ("expired.openssl.test", srv)
        }
        Scenario::LeafOnly => {
            let leaf = pki.issue("leaf-only", "leaf-only.openssl.test", -1, 89);
            let srv = pki.serve("leaf-only", &leaf, None, &[]);
            ("leaf-only.openssl.test", srv)
        }
        Scenario::SelfSigned => {
            let leaf = pki.self_signed("self-signed", "self-signed.openssl.test");
            let srv = pki.serve("self-signed", &leaf, None, &[]);
            ("self-signed.openssl.test", srv)
        }
        Scenario::WrongName => {
            let leaf = pki.issue("other", "other.openssl.test", -1, 89);
            let srv = pki.serve("wrong-name", &leaf, Some("inter.pem"), &[]);
            ("wrong.openssl.test", srv)
        }
        Scenario::Tls10Only => {
            let leaf = pki.issue("tls10", "tls10.openssl.test", -1, 89);
            let srv = pki.serve(
                "tls10",
                &leaf,
                Some("inter.pem"),
                &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            );
            ("tls10.openssl.test", srv)
        }
    };
    let (obs, report) = check(host, server.port, &pki.trust()).await;
    let server_stderr = server.stderr();
    drop(server);
    Outcome {
        obs,
        report,
        server_stderr,
    }
}

fn summary(r: &Report) -> Summary {
    let mut v: Summary = r
        .findings
        .iter()
        .map(|f| (f.code.as_str().to_string(), f.severity, f.cert))
        .collect();
    v.sort();
    v
}

fn explain(o: &Outcome) -> String {
    format!(
        "status {:?}, {} certificate(s) presented, connection error {:?}\nfindings:\n{}\ns_server stderr:\n{}",
        o.report.status,
        o.obs.chain.len(),
        o.obs.error,
        findings_text(&o.report),
        o.server_stderr
    )
}

async fn assert_scenario(s: Scenario) -> Outcome {
    let pki = Pki::new();
    let o = run(&pki, s).await;
    let (status, mut want, presented) = expectation(s);
    want.sort();
    assert_eq!(
        o.obs.chain.len(),
        presented,
        "{s:?}: s_server presented an unexpected chain\n{}",
        explain(&o)
    );
    assert_eq!(summary(&o.report), want, "{s:?}: findings\n{}", explain(&o));
    assert_eq!(o.report.status, status, "{s:?}: status\n{}", explain(&o));
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_expired_leaf() {
    let o = assert_scenario(Scenario::Expired).await;
    let tls = o.obs.tls.as_ref().expect("a TLS session was established");
    assert!(tls.version.starts_with("TLSv1."), "{tls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_leaf_only_chain() {
    assert_scenario(Scenario::LeafOnly).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_self_signed() {
    assert_scenario(Scenario::SelfSigned).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_wrong_name() {
    let o = assert_scenario(Scenario::WrongName).await;
    assert_eq!(o.report.name, "wrong.openssl.test");
    let f = &o.report.findings[0];
    assert!(
        f.detail.contains("DNS:other.openssl.test"),
        "the mismatch names what the certificate covers\n{}",
        explain(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_tls10_only() {
    let o = assert_scenario(Scenario::Tls10Only).await;
    let err = o.obs.error.as_ref().expect("a connection failure");
    assert_eq!(err.code, ConnCode::ProtocolUnsupported, "{}", explain(&o));
    assert_eq!(err.step, "handshake", "{}", explain(&o));
    assert_eq!(
        o.obs.tls.as_ref().map(|t| t.version.as_str()),
        Some("TLSv1.0"),
        "the legacy probe names the version the server chose"
    );
}

/// The built-in lab and a real OpenSSL server agree on every certificate
/// scenario they share (finding codes only: names and indices may differ).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_and_openssl_agree() {
    let lab = Lab::start(LabOptions::default()).await.expect("lab starts");
    let lab_trust =
        TrustStore::from_ders(&lab.root_ders(), AnchorOrigin::CaFile(lab.ca_file.clone()))
            .expect("lab roots are usable anchors");
    let pki = Pki::new();
    let mut failures = Vec::new();
    for s in [
        Scenario::Expired,
        Scenario::LeafOnly,
        Scenario::SelfSigned,
        Scenario::WrongName,
    ] {
        let id = s.lab_id().expect("a certificate scenario");
        let t = lab
            .get(id)
            .unwrap_or_else(|| panic!("lab has no scenario {id}"));
        let (_, lab_report) = check(&t.host, t.port, &lab_trust).await;
        let o = run(&pki, s).await;
        let (lab_codes, openssl_codes) = (sorted_codes(&lab_report), sorted_codes(&o.report));
        if lab_codes.is_empty() || lab_codes != openssl_codes {
            failures.push(format!(
                "{s:?} (lab {id}): lab {lab_codes:?} ({:?}), openssl {openssl_codes:?}\n{}",
                lab_report.status,
                explain(&o)
            ));
        }
    }
    lab.shutdown();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
