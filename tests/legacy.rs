//! Servers rustls cannot negotiate with (TLS 1.0/1.1 only, or TLS 1.2 with
//! only a CBC suite), played by real `openssl s_server` processes on
//! loopback: the probe falls back to its raw legacy ClientHello, reports
//! `protocol-unsupported` with the version the server chose, and still
//! diagnoses the certificate chain it captured.
//!
//! The `openssl` binary is required: without it these tests fail rather
//! than silently pass.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use certscope::cert::parse_certificates;
use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::finding::Status;
use certscope::model::{ConnCode, Observation};
use certscope::probe::{ProbeOptions, probe};
use certscope::report::Report;
use certscope::target::{LOOPBACK, ResolveRule, Target};
use certscope::trust::{AnchorOrigin, TrustStore};
use tempfile::TempDir;

/// How long `openssl s_server` may take to print its `ACCEPT` line.
const ACCEPT_DEADLINE: Duration = Duration::from_secs(10);
/// How long one `openssl` PKI command may run.
const COMMAND_DEADLINE: Duration = Duration::from_secs(30);
/// certscope's own per-step network timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Outer bound on a whole probe (rustls attempt plus the legacy retry).
const PROBE_DEADLINE: Duration = Duration::from_secs(20);

/// OpenSSL 3 allows TLS 1.0/1.1 (and plain-RSA suites) only at level 0.
const LEGACY_CIPHERS: &str = "DEFAULT:@SECLEVEL=0";

// ---------------------------------------------------------------------------
// Child processes

/// A child process that is killed and reaped when dropped, so that no
/// `openssl` outlives a failing assertion.
struct ChildGuard {
    child: Child,
    /// Held open: `s_server` shuts down when its stdin reaches EOF.
    stdin: Option<ChildStdin>,
}

impl ChildGuard {
    fn new(mut child: Child) -> ChildGuard {
        let stdin = child.stdin.take();
        ChildGuard { child, stdin }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin.take();
    }
}

fn missing_openssl(e: &std::io::Error) -> ! {
    panic!(
        "tests/legacy.rs needs the `openssl` command-line tool, but it could not be started ({e}). \
         Install OpenSSL (e.g. `apt-get install openssl`) and make sure `openssl` is on PATH."
    )
}

/// Read a pipe to its end on a helper thread.
fn drain<R: Read + Send + 'static>(r: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

/// Run `openssl ARGS` in `dir`; panics (with stderr) unless it exits with
/// status 0 within [`COMMAND_DEADLINE`].
fn openssl(dir: &Path, args: &[&str]) {
    let shown = format!("openssl {}", args.join(" "));
    let child = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| missing_openssl(&e));
    let mut guard = ChildGuard::new(child);
    let out = drain(guard.child.stdout.take());
    let err = drain(guard.child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match guard.child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < COMMAND_DEADLINE => {
                thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                drop(guard);
                let err = err.join().unwrap_or_default();
                panic!(
                    "`{shown}` did not finish within {COMMAND_DEADLINE:?}; stderr:\n{}",
                    String::from_utf8_lossy(&err)
                );
            }
            Err(e) => panic!("waiting for `{shown}`: {e}"),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    assert!(
        status.success(),
        "`{shown}` failed ({status}) in {}\nstdout:\n{}\nstderr:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
}

/// A running `openssl s_server` on 127.0.0.1.
struct Server {
    port: u16,
    stderr_path: PathBuf,
    _child: ChildGuard,
}

impl Server {
    /// Start `openssl s_server -accept 127.0.0.1:0 ARGS` in `dir` and wait
    /// (bounded) for its `ACCEPT 127.0.0.1:PORT` line.
    fn start(dir: &Path, label: &str, args: &[&str]) -> Server {
        let stderr_path = dir.join(format!("s_server-{label}.stderr"));
        let stderr = fs::File::create(&stderr_path).expect("create the s_server stderr file");
        let mut full = vec![
            "s_server",
            "-accept",
            "127.0.0.1:0",
            "-no-CAfile",
            "-no-CApath",
            "-no-CAstore",
        ];
        full.extend_from_slice(args);
        let shown = format!("openssl {}", full.join(" "));
        let child = Command::new("openssl")
            .args(&full)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| missing_openssl(&e));
        let mut guard = ChildGuard::new(child);
        let stdout = guard.child.stdout.take().expect("piped stdout");

        // Drain stdout for the server's whole life; hand over the ACCEPT
        // line, or everything seen before EOF.
        let (tx, rx) = mpsc::channel::<Result<String, String>>();
        thread::spawn(move || {
            let mut tx = Some(tx);
            let mut seen = String::new();
            let mut r = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if tx.is_none() {
                    continue;
                }
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                if let Some(addr) = text.strip_prefix("ACCEPT ") {
                    if let Some(t) = tx.take() {
                        let _ = t.send(Ok(addr.to_string()));
                    }
                } else {
                    seen.push_str(&text);
                    seen.push('\n');
                }
            }
            if let Some(t) = tx {
                let _ = t.send(Err(seen));
            }
        });

        let stderr_text = || fs::read_to_string(&stderr_path).unwrap_or_default();
        let addr = match rx.recv_timeout(ACCEPT_DEADLINE) {
            Ok(Ok(addr)) => addr,
            Ok(Err(stdout)) => panic!(
                "`{shown}` exited before printing ACCEPT\nstdout:\n{stdout}\nstderr:\n{}",
                stderr_text()
            ),
            Err(e) => panic!(
                "`{shown}` printed no ACCEPT line within {ACCEPT_DEADLINE:?} ({e})\nstderr:\n{}",
                stderr_text()
            ),
        };
        let port = addr
            .strip_prefix("127.0.0.1:")
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|p| *p != 0)
            .unwrap_or_else(|| panic!("`{shown}`: unexpected ACCEPT address {addr:?}"));
        Server {
            port,
            stderr_path,
            _child: guard,
        }
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------
// A small RSA PKI (plain-RSA suites such as AES128-SHA need an RSA key)

fn config(sans: &str) -> String {
    format!(
        r#"[ req ]
distinguished_name = req_dn

[ req_dn ]
commonName = Common Name

[ v3_root ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash

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

const RSA: [&str; 2] = ["-newkey", "rsa:2048"];

struct Leaf {
    cert: String,
    key: String,
}

struct Pki {
    dir: TempDir,
    root_ca_file: PathBuf,
    root_der: Vec<u8>,
}

impl Pki {
    /// A root CA the tests trust.
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let d = dir.path();
        fs::write(d.join("base.cnf"), config("DNS:unused.openssl.test")).expect("write config");
        let mut args = vec!["req", "-x509", "-new", "-nodes"];
        args.extend_from_slice(&RSA);
        args.extend_from_slice(&[
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "3650",
            "-sha256",
            "-subj",
            "/CN=certscope Legacy Test Root",
            "-config",
            "base.cnf",
            "-extensions",
            "v3_root",
        ]);
        openssl(d, &args);
        let root_ca_file = d.join("root.pem");
        let pem = fs::read(&root_ca_file).expect("read root.pem");
        let mut ders = parse_certificates(&pem).expect("root.pem parses");
        assert_eq!(ders.len(), 1, "root.pem holds one certificate");
        let root_der = ders.remove(0);
        Pki {
            dir,
            root_ca_file,
            root_der,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn trust(&self) -> TrustStore {
        TrustStore::from_ders(
            std::slice::from_ref(&self.root_der),
            AnchorOrigin::CaFile(self.root_ca_file.clone()),
        )
        .expect("the test root is a usable anchor")
    }

    fn write_config(&self, label: &str, host: &str) -> String {
        let name = format!("{label}.cnf");
        fs::write(self.path().join(&name), config(&format!("DNS:{host}")))
            .expect("write leaf config");
        name
    }

    /// A leaf for `host` signed by the root, valid for 90 days.
    fn issue(&self, label: &str, host: &str) -> Leaf {
        let cnf = self.write_config(label, host);
        let (key, csr, cert) = (
            format!("{label}.key"),
            format!("{label}.csr"),
            format!("{label}.pem"),
        );
        let subj = format!("/CN={host}");
        let mut args = vec!["req", "-new", "-nodes"];
        args.extend_from_slice(&RSA);
        args.extend_from_slice(&[
            "-keyout", &key, "-out", &csr, "-subj", &subj, "-config", &cnf,
        ]);
        openssl(self.path(), &args);
        openssl(
            self.path(),
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-days",
                "90",
                "-sha256",
                "-extfile",
                &cnf,
                "-extensions",
                "leaf",
                "-out",
                &cert,
            ],
        );
        Leaf { cert, key }
    }

    /// A self-signed (non-CA) leaf for `host`.
    fn self_signed(&self, label: &str, host: &str) -> Leaf {
        let cnf = self.write_config(label, host);
        let (key, cert) = (format!("{label}.key"), format!("{label}.pem"));
        let subj = format!("/CN={host}");
        let mut args = vec!["req", "-x509", "-new", "-nodes"];
        args.extend_from_slice(&RSA);
        args.extend_from_slice(&[
            "-keyout",
            &key,
            "-out",
            &cert,
            "-days",
            "90",
            "-sha256",
            "-subj",
            &subj,
            "-config",
            &cnf,
            "-extensions",
            "leaf",
        ]);
        openssl(self.path(), &args);
        Leaf { cert, key }
    }

    fn serve(&self, label: &str, leaf: &Leaf, extra: &[&str]) -> Server {
        let mut args = vec!["-cert", leaf.cert.as_str(), "-key", leaf.key.as_str()];
        args.extend_from_slice(extra);
        Server::start(self.path(), label, &args)
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
        let mut v: Vec<String> = self
            .report
            .findings
            .iter()
            .map(|f| f.code.as_str().to_string())
            .collect();
        v.sort();
        v
    }

    fn explain(&self) -> String {
        format!(
            "status {:?}, tls {:?}, {} certificate(s) captured, connection error {:?}\nfindings:\n{}\ns_server stderr:\n{}",
            self.report.status,
            self.obs.tls,
            self.obs.chain.len(),
            self.obs.error,
            self.report
                .findings
                .iter()
                .map(|f| format!(
                    "  {} ({:?}, cert {:?}): {} | {}",
                    f.code, f.severity, f.cert, f.title, f.detail
                ))
                .collect::<Vec<_>>()
                .join("\n"),
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
    let server = pki.serve(label, leaf, extra);
    let mut target = Target::parse(&format!("{host}:{}", server.port), 443).expect("target parses");
    let rule =
        ResolveRule::parse(&format!("{host}:{}:127.0.0.1", server.port)).expect("rule parses");
    ResolveRule::apply(&[rule], &mut target);
    assert_eq!(
        target.connect_addr,
        Some(LOOPBACK),
        "only loopback is probed"
    );
    let opts = ProbeOptions {
        timeout: PROBE_TIMEOUT,
    };
    let obs = tokio::time::timeout(PROBE_DEADLINE, probe(&target, &opts))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "probe of {host} did not finish in {PROBE_DEADLINE:?}\ns_server stderr:\n{}",
                server.stderr()
            )
        });
    let report = diagnose(
        &obs,
        &pki.trust(),
        obs.started_at,
        &DiagnoseOptions::default(),
    );
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
