//! Real `openssl s_server` processes on loopback, with a PKI made by the
//! `openssl` command-line tool at test time: the diagnosis engine must find
//! the same problems as in its built-in (rustls + rcgen) lab.
//!
//! The `openssl` binary is required: without it these tests fail (CI
//! installs it) rather than silently pass.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use certscope::cert::parse_certificates;
use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::finding::{Severity, Status};
use certscope::lab::{Lab, LabOptions};
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
/// Outer bound on a whole probe (resolve + connect + handshake).
const PROBE_DEADLINE: Duration = Duration::from_secs(15);

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
        // Kill first: closing stdin makes s_server print and exit on its own,
        // which is fine too, but do not rely on it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin.take();
    }
}

fn missing_openssl(e: &std::io::Error) -> ! {
    panic!(
        "tests/openssl.rs needs the `openssl` command-line tool, but it could not be started ({e}). \
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
            // Never complete a chain from the system store behind our back.
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

        // Keep draining stdout for the server's whole life (it logs every
        // connection); hand over the ACCEPT line, or everything seen before EOF.
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
// The OpenSSL PKI: root -> intermediate -> leaves, all EC P-256

/// `openssl ca` / `openssl req` configuration; `sans` fills the `leaf`
/// extension section. Paths are relative to the PKI directory.
fn config(sans: &str) -> String {
    format!(
        r#"[ ca ]
default_ca = inter_ca

[ inter_ca ]
dir             = ./db
database        = $dir/index.txt
new_certs_dir   = $dir/newcerts
serial          = $dir/serial
certificate     = ./inter.pem
private_key     = ./inter.key
default_md      = sha256
default_days    = 90
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no

[ policy_any ]
commonName = supplied

[ req ]
distinguished_name = req_dn

[ req_dn ]
commonName = Common Name

[ v3_root ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash

[ v3_inter ]
basicConstraints       = critical,CA:TRUE,pathlen:0
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ leaf ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
subjectAltName         = {sans}
"#
    )
}

const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// `YYMMDDHHMMSSZ`, `days` from now, for `openssl ca -startdate/-enddate`.
fn ca_date(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    let f = time::macros::format_description!(
        "[year repr:last_two][month][day][hour][minute][second]Z"
    );
    t.format(&f).expect("format an openssl date")
}

/// A certificate file and its private key, inside the PKI directory.
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
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let d = dir.path();
        fs::create_dir_all(d.join("db/newcerts")).expect("create the CA database");
        fs::write(d.join("db/index.txt"), "").expect("write index.txt");
        fs::write(d.join("db/serial"), "1000\n").expect("write serial");
        fs::write(d.join("base.cnf"), config("DNS:unused.openssl.test")).expect("write config");

        let mut args = vec!["req", "-x509", "-new", "-nodes"];
        args.extend_from_slice(&EC);
        args.extend_from_slice(&[
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "3650",
            "-sha256",
            "-subj",
            "/CN=certscope OpenSSL Test Root",
            "-config",
            "base.cnf",
            "-extensions",
            "v3_root",
        ]);
        openssl(d, &args);

        let mut args = vec!["req", "-new", "-nodes"];
        args.extend_from_slice(&EC);
        args.extend_from_slice(&[
            "-keyout",
            "inter.key",
            "-out",
            "inter.csr",
            "-subj",
            "/CN=certscope OpenSSL Test Intermediate",
            "-config",
            "base.cnf",
        ]);
        openssl(d, &args);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "inter.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-days",
                "1825",
                "-sha256",
                "-extfile",
                "base.cnf",
                "-extensions",
                "v3_inter",
                "-out",
                "inter.pem",
            ],
        );

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

    /// Trust exactly the PKI's root, as if from `--ca-file root.pem`.
    fn trust(&self) -> TrustStore {
        TrustStore::from_ders(
            std::slice::from_ref(&self.root_der),
            AnchorOrigin::CaFile(self.root_ca_file.clone()),
        )
        .expect("the OpenSSL root is a usable anchor")
    }

    fn write_config(&self, label: &str, host: &str) -> String {
        let name = format!("{label}.cnf");
        fs::write(self.path().join(&name), config(&format!("DNS:{host}")))
            .expect("write leaf config");
        name
    }

    /// A leaf for `host` issued by the intermediate with `openssl ca`, valid
    /// from `from_days` to `to_days` relative to now.
    fn issue(&self, label: &str, host: &str, from_days: i64, to_days: i64) -> Leaf {
        let cnf = self.write_config(label, host);
        let (key, csr, cert) = (
            format!("{label}.key"),
            format!("{label}.csr"),
            format!("{label}.pem"),
        );
        let subj = format!("/CN={host}");
        let mut args = vec!["req", "-new", "-nodes"];
        args.extend_from_slice(&EC);
        args.extend_from_slice(&[
            "-keyout", &key, "-out", &csr, "-subj", &subj, "-config", &cnf,
        ]);
        openssl(self.path(), &args);
        let (start, end) = (ca_date(from_days), ca_date(to_days));
        openssl(
            self.path(),
            &[
                "ca",
                "-batch",
                "-notext",
                "-config",
                &cnf,
                "-extensions",
                "leaf",
                "-startdate",
                &start,
                "-enddate",
                &end,
                "-in",
                &csr,
                "-out",
                &cert,
            ],
        );
        Leaf { cert, key }
    }

    /// A self-signed (non-CA) leaf for `host` made with `openssl req -x509`.
    fn self_signed(&self, label: &str, host: &str) -> Leaf {
        let cnf = self.write_config(label, host);
        let (key, cert) = (format!("{label}.key"), format!("{label}.pem"));
        let subj = format!("/CN={host}");
        let mut args = vec!["req", "-x509", "-new", "-nodes"];
        args.extend_from_slice(&EC);
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

    fn serve(&self, label: &str, leaf: &Leaf, chain: Option<&str>, extra: &[&str]) -> Server {
        let mut args = vec!["-cert", leaf.cert.as_str(), "-key", leaf.key.as_str()];
        if let Some(c) = chain {
            args.extend_from_slice(&["-cert_chain", c]);
        }
        args.extend_from_slice(extra);
        Server::start(self.path(), label, &args)
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
    let mut target = Target::parse(&format!("{host}:{port}"), 443).expect("target parses");
    let rule = ResolveRule::parse(&format!("{host}:{port}:127.0.0.1")).expect("rule parses");
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
        .unwrap_or_else(|_| panic!("probe of {host}:{port} did not finish in {PROBE_DEADLINE:?}"));
    let report = diagnose(&obs, trust, obs.started_at, &DiagnoseOptions::default());
    (obs, report)
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

fn codes(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings
        .iter()
        .map(|f| f.code.as_str().to_string())
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
        o.report
            .findings
            .iter()
            .map(|f| format!(
                "  {} ({:?}, cert {:?}): {} | {}",
                f.code, f.severity, f.cert, f.title, f.detail
            ))
            .collect::<Vec<_>>()
            .join("\n"),
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
        let (lab_codes, openssl_codes) = (codes(&lab_report), codes(&o.report));
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
