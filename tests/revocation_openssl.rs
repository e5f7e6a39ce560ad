//! Revocation against real OpenSSL pieces, through the `certscope` binary:
//! an `openssl ca` PKI revokes leaves (reason keyCompromise) and makes a DER
//! CRL that `python3 -m http.server` serves on 127.0.0.1, `openssl ocsp` is
//! the responder, and `openssl s_server` presents each leaf. certscope must
//! say `revoked` from the CRL and from OCSP, and `good` for leaves that are
//! not revoked.
//!
//! The `openssl` and `python3` commands are required: without them these
//! tests fail (CI installs both) rather than silently pass. Every child
//! process is killed and reaped by a guard, and every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{
    Daemon, EC, accept_line, ca_config, ca_database, ca_sign, codes, openssl, req_csr,
    req_self_signed,
};
use serde_json::Value;
use tempfile::TempDir;

/// How long one `certscope check` run may take (its own timeout is 5 s).
const CHECK_DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Servers

/// The port of python's `Serving HTTP on 127.0.0.1 port PORT (…) ...` line.
fn python_serving_line(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("Serving HTTP on 127.0.0.1 port ")?;
    rest.split_whitespace()
        .next()?
        .parse()
        .ok()
        .filter(|&p| p != 0)
}

/// A loopback port that was free a moment ago (bound to port 0, then
/// closed). Only for `openssl ocsp`, which cannot report a port 0 it got
/// before the certificates naming it are issued.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

// ---------------------------------------------------------------------------
// The OpenSSL PKI: one EC P-256 root issuing the leaves and the OCSP signer

/// `openssl ca` / `openssl req` configuration; `sans` and `extra` fill the
/// `leaf` extension section. Paths are relative to the PKI directory.
fn config(sans: &str, extra: &str) -> String {
    format!(
        r#"{}
[ ocsp_signer ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = critical,OCSPSigning
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ leaf ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = {sans}
{extra}
"#,
        ca_config(
            "root_ca",
            "ca.pem",
            "ca.key",
            "crlnumber       = $dir/crlnumber\ndefault_crl_days = 7\n",
        )
    )
}

/// What a leaf names as its revocation source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A CRL distribution point on the HTTP server (and no OCSP).
    Crl,
    /// An OCSP responder (and no CRL distribution point).
    Ocsp,
}

/// A leaf certificate file and its private key, inside the PKI directory.
struct Leaf {
    host: String,
    cert: String,
    key: String,
}

struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let d = dir.path();
        ca_database(d);
        fs::create_dir_all(d.join("www")).expect("create the web root");
        fs::write(d.join("db/crlnumber"), "1000\n").expect("write crlnumber");
        fs::write(d.join("base.cnf"), config("DNS:unused.revoke.test", "")).expect("config");
        req_self_signed(
            d,
            &EC,
            "ca.key",
            "ca.pem",
            "3650",
            "/CN=certscope Revocation Test Root",
            "base.cnf",
            Some("v3_root"),
        );
        Pki { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn ca_file(&self) -> PathBuf {
        self.path().join("ca.pem")
    }

    /// Issue `label.pem` for CN `subject` with the extension section
    /// `section` of a config whose leaf section carries `extra`.
    fn issue(&self, label: &str, subject: &str, section: &str, sans: &str, extra: &str) {
        let cnf = format!("{label}.cnf");
        fs::write(self.path().join(&cnf), config(sans, extra)).expect("write a config");
        let (key, csr, cert) = (
            format!("{label}.key"),
            format!("{label}.csr"),
            format!("{label}.pem"),
        );
        let subj = format!("/CN={subject}");
        req_csr(self.path(), &EC, &key, &csr, &subj, &cnf);
        ca_sign(self.path(), &cnf, section, &[], &csr, &cert);
    }

    /// A leaf for `host` whose only revocation location is `url` (`source`).
    fn leaf(&self, label: &str, host: &str, source: Source, url: &str) -> Leaf {
        let extra = match source {
            Source::Crl => format!("crlDistributionPoints = URI:{url}"),
            Source::Ocsp => format!("authorityInfoAccess = OCSP;URI:{url}"),
        };
        self.issue(label, host, "leaf", &format!("DNS:{host}"), &extra);
        Leaf {
            host: host.to_string(),
            cert: format!("{label}.pem"),
            key: format!("{label}.key"),
        }
    }

    fn revoke(&self, leaf: &Leaf) {
        openssl(
            self.path(),
            &[
                "ca",
                "-config",
                "base.cnf",
                "-revoke",
                &leaf.cert,
                "-crl_reason",
                "keyCompromise",
            ],
        );
    }

    /// Write the CA's current CRL, DER, to `www/ca.crl`.
    fn publish_crl(&self) {
        openssl(
            self.path(),
            &["ca", "-config", "base.cnf", "-gencrl", "-out", "ca.crl.pem"],
        );
        openssl(
            self.path(),
            &[
                "crl",
                "-in",
                "ca.crl.pem",
                "-outform",
                "DER",
                "-out",
                "www/ca.crl",
            ],
        );
    }

    /// `python3 -m http.server` for `www/` on 127.0.0.1, on a port of its
    /// own choosing (it prints it; `-u` so the line is not buffered).
    fn http_server(&self) -> Daemon {
        Daemon::start(
            self.path(),
            "http-server",
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
            python_serving_line,
        )
    }

    /// `openssl ocsp` answering for the CA's index on `port`, signing with a
    /// delegated responder certificate (OCSPSigning). Start it after the
    /// revocations: OpenSSL 3.0's responder reads the index once.
    ///
    /// OpenSSL 3.0's `ocsp -port` takes a number only and binds `[::]:PORT`,
    /// i.e. all interfaces (checked with `ss -ltnp`); only the loopback
    /// client of this test connects to it, and it dies with the test.
    fn ocsp_responder(&self, port: u16) -> Daemon {
        self.issue(
            "ocsp",
            "certscope Revocation Test OCSP Responder",
            "ocsp_signer",
            "DNS:ocsp.revoke.test",
            "",
        );
        let port_arg = port.to_string();
        let d = Daemon::start(
            self.path(),
            "ocsp-responder",
            "openssl",
            &[
                "ocsp",
                "-index",
                "db/index.txt",
                "-port",
                &port_arg,
                "-rsigner",
                "ocsp.pem",
                "-rkey",
                "ocsp.key",
                "-CA",
                "ca.pem",
                "-ndays",
                "1",
                "-ignore_err",
            ],
            accept_line,
        );
        assert_eq!(
            d.port, port,
            "openssl ocsp listens on another port than asked"
        );
        d
    }

    /// `openssl s_server` presenting `leaf` (without the root) on 127.0.0.1.
    fn serve(&self, label: &str, leaf: &Leaf) -> Daemon {
        common::s_server(
            self.path(),
            label,
            &["-cert", &leaf.cert, "-key", &leaf.key],
        )
    }
}

// ---------------------------------------------------------------------------
// certscope

/// `certscope check --format json` of every (leaf, s_server) pair at once,
/// trusting only the PKI's root: the parsed results, in input order.
fn check(pki: &Pki, served: &[(&Leaf, &Daemon)], context: &dyn Fn() -> String) -> Vec<Value> {
    let mut cmd = common::certscope(&["check", "--format", "json", "--trust-store", "none"]);
    cmd.arg("--ca-file")
        .arg(pki.ca_file())
        .args(["--timeout", "5"]);
    for (leaf, server) in served {
        cmd.arg("--resolve")
            .arg(format!("{}:{}:127.0.0.1", leaf.host, server.port));
    }
    for (leaf, server) in served {
        cmd.arg(format!("{}:{}", leaf.host, server.port));
    }
    let o = common::run_bounded(cmd, "certscope check", CHECK_DEADLINE);
    let (code, stdout, stderr) = (
        o.code,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "certscope printed no JSON ({e}), exit {code:?}:\n{stdout}\nstderr:\n{stderr}\n{}",
            context()
        )
    });
    let results = doc["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        results.len(),
        served.len(),
        "one result per target:\n{doc:#}\n{}",
        context()
    );
    for (r, (leaf, server)) in results.iter().zip(served) {
        assert_eq!(
            r["target"],
            format!("{}:{}", leaf.host, server.port),
            "results in input order"
        );
    }
    results
}

fn findings(result: &Value) -> Vec<Value> {
    result["findings"].as_array().cloned().unwrap_or_default()
}

/// The result says `revoked` for the leaf, according to `source`.
fn assert_revoked(result: &Value, source: &str, context: &str) {
    let all = findings(result);
    let revoked = all
        .iter()
        .find(|f| f["code"] == "revoked" && f["cert"] == 0)
        .unwrap_or_else(|| panic!("no `revoked` finding on cert 0:\n{result:#}\n{context}"));
    assert_eq!(revoked["severity"], "critical", "{revoked:#}");
    let detail = revoked["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("according to the {source}")),
        "the detail names the source {source}: {detail}"
    );
    assert!(
        detail.contains("reason keyCompromise"),
        "the detail names the reason: {detail}"
    );
    let title = revoked["title"].as_str().unwrap_or_default();
    assert!(title.contains("(keyCompromise)"), "{title}");
    assert_eq!(result["status"], "critical", "{result:#}\n{context}");
    let rev = &result["chain"][0]["revocation"];
    assert_eq!(rev["status"], "revoked", "{rev:#}");
    assert_eq!(rev["source"], source, "{rev:#}");
    assert_eq!(rev["reason"], "keyCompromise", "{rev:#}");
    assert!(
        !codes(result).contains(&"revocation-unknown".to_string()),
        "{result:#}"
    );
}

/// The result says the leaf is not revoked, according to `source`.
fn assert_good(result: &Value, source: &str, context: &str) {
    let codes = codes(result);
    assert!(
        !codes
            .iter()
            .any(|c| c == "revoked" || c == "revocation-unknown"),
        "no revocation finding for a good leaf: {codes:?}\n{result:#}\n{context}"
    );
    let rev = &result["chain"][0]["revocation"];
    assert_eq!(rev["status"], "good", "{result:#}\n{context}");
    assert_eq!(rev["source"], source, "{rev:#}");
    assert_eq!(result["status"], "ok", "{result:#}\n{context}");
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn crl_from_openssl_ca_says_revoked() {
    let pki = Pki::new();
    let http = pki.http_server();
    let url = format!("http://127.0.0.1:{}/ca.crl", http.port);
    let revoked = pki.leaf("crl-revoked", "crl.revoke.test", Source::Crl, &url);
    let good = pki.leaf("crl-good", "crl-good.revoke.test", Source::Crl, &url);
    pki.revoke(&revoked);
    pki.publish_crl();
    let s_revoked = pki.serve("crl-revoked", &revoked);
    let s_good = pki.serve("crl-good", &good);

    let context = || format!("python3 http.server stderr:\n{}", http.stderr());
    let results = check(&pki, &[(&revoked, &s_revoked), (&good, &s_good)], &context);
    assert_revoked(&results[0], "CRL", &context());
    assert_good(&results[1], "CRL", &context());
    // The CRL was fetched once for both targets (one cache per run).
    let log = http.stderr();
    assert_eq!(
        log.matches("\"GET /ca.crl HTTP/1.1\" 200").count(),
        1,
        "one CRL download:\n{log}"
    );
}

#[test]
fn openssl_ocsp_responder_says_revoked() {
    let pki = Pki::new();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let revoked = pki.leaf("ocsp-revoked", "ocsp.revoke.test", Source::Ocsp, &url);
    let good = pki.leaf("ocsp-good", "ocsp-good.revoke.test", Source::Ocsp, &url);
    pki.revoke(&revoked);
    let responder = pki.ocsp_responder(port);
    let s_revoked = pki.serve("ocsp-revoked", &revoked);
    let s_good = pki.serve("ocsp-good", &good);

    let context = || format!("openssl ocsp stderr:\n{}", responder.stderr());
    let results = check(&pki, &[(&revoked, &s_revoked), (&good, &s_good)], &context);
    assert_revoked(&results[0], "OCSP", &context());
    assert_good(&results[1], "OCSP", &context());
    let log = responder.stderr();
    assert!(
        log.matches("Received request").count() >= 2,
        "the responder was asked about both leaves:\n{log}"
    );
}
