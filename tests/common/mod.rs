//! Test harness shared by the integration tests that start processes:
//! bounded child processes (`openssl`, `python3`, `sh`, the `certscope`
//! binary) that are killed and reaped on drop, long-running servers that
//! announce their port on stdout (`openssl s_server`, `openssl ocsp`,
//! `python3 -m http.server`), the `openssl` commands that build test PKIs,
//! and a loopback probe + diagnosis.
//!
//! Each test file includes it with `mod common;` and uses what it needs.
//!
//! The commands are required: a test that cannot start one fails (CI
//! installs `openssl` and `python3`) rather than silently passes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::lab::{Lab, LabOptions};
use certscope::probe::{ProbeOptions, probe};
use certscope::report::Report;
use certscope::report::observation::Observation;
use certscope::target::{LOOPBACK, ResolveRule, Target};
use certscope::x509::cert::parse_certificates;
use certscope::x509::trust::{AnchorOrigin, TrustStore};
use serde_json::Value;
use tempfile::TempDir;

/// The `certscope` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_certscope");
/// How long one `openssl` PKI command may run.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(30);
/// How long a server may take to say it is listening.
pub const READY_DEADLINE: Duration = Duration::from_secs(15);
/// certscope's own per-step network timeout, for in-process probes.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------
// Child processes

/// A child process that is killed and reaped when dropped, so that none
/// outlives a failing assertion.
pub struct ChildGuard {
    pub child: Child,
    /// Held open: `s_server` shuts down when its stdin reaches EOF.
    stdin: Option<ChildStdin>,
}

impl ChildGuard {
    /// Guard `child`, keeping its stdin (if piped) open until the drop.
    pub fn new(mut child: Child) -> ChildGuard {
        let stdin = child.stdin.take();
        ChildGuard { child, stdin }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Kill first: closing stdin makes s_server exit on its own, which
        // is fine too, but do not rely on it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin.take();
    }
}

fn cannot_start(program: &str, e: &std::io::Error) -> ! {
    panic!(
        "these tests need the `{program}` command, but it could not be started ({e}). \
         Install it (e.g. `apt-get install openssl python3`) and make sure `{program}` is on PATH."
    )
}

/// Read a pipe to its end on a helper thread.
pub fn drain<R: Read + Send + 'static>(r: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

/// What a finished process left behind.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// From just before the spawn to the exit.
    pub elapsed: Duration,
}

impl Output {
    /// The output as text (lossy), labelled with the arguments it ran with.
    pub fn into_run(self, args: Vec<String>) -> Run {
        Run {
            code: self.code,
            stdout: String::from_utf8_lossy(&self.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr).into_owned(),
            elapsed: self.elapsed,
            args,
        }
    }
}

/// A finished run, as text.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub args: Vec<String>,
}

/// Run `cmd` to completion within `limit`, stdin closed and both outputs
/// captured. Panics if it cannot start or does not finish in time (it is
/// killed; the stderr it wrote is shown). `what` names it in panics.
pub fn run_bounded(mut cmd: Command, what: &str, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let program = cmd.get_program().to_string_lossy().into_owned();
    let started = Instant::now();
    let child = cmd.spawn().unwrap_or_else(|e| cannot_start(&program, &e));
    let mut guard = ChildGuard::new(child);
    let out = drain(guard.child.stdout.take());
    let err = drain(guard.child.stderr.take());
    let status = loop {
        match guard.child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                drop(guard);
                let err = err.join().unwrap_or_default();
                panic!(
                    "`{what}` did not finish within {limit:?} (killed); stderr:\n{}",
                    String::from_utf8_lossy(&err)
                );
            }
            Err(e) => panic!("waiting for `{what}`: {e}"),
        }
    };
    let elapsed = started.elapsed();
    Output {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed,
    }
}

/// Run `f` (which runs a process) on a blocking thread, so that an
/// in-process lab keeps serving meanwhile; its panics are the caller's.
/// Panics if it is still running `limit` + 5 s later.
pub async fn off_runtime<T, F>(what: &str, limit: Duration, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let task = tokio::task::spawn_blocking(f);
    match tokio::time::timeout(limit + Duration::from_secs(5), task).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Err(_) => panic!("{what} hung past {limit:?}"),
    }
}

/// `certscope ARGS` in a predictable environment: no color switch, no OS
/// store override, no proxy, no backtraces or logs that could hide a panic
/// message's shape.
pub fn certscope<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY");
    cmd
}

/// Start the built-in lab, within 30 s.
pub async fn start_lab() -> Lab {
    tokio::time::timeout(Duration::from_secs(30), Lab::start(LabOptions::default()))
        .await
        .expect("the lab starts in time")
        .expect("the lab starts")
}

/// The finding codes of one JSON result, in report order.
pub fn codes(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Servers

/// A long-running server process that announced its port on stdout.
pub struct Daemon {
    pub port: u16,
    stderr_path: PathBuf,
    _child: ChildGuard,
}

impl Daemon {
    /// Start `program ARGS` in `dir` and wait (bounded) for a stdout line
    /// from which `ready` extracts the listening port. stdout keeps being
    /// drained for the process's whole life (s_server logs every
    /// connection); stderr goes to `dir/LABEL.stderr`.
    pub fn start(
        dir: &Path,
        label: &str,
        program: &str,
        args: &[&str],
        ready: fn(&str) -> Option<u16>,
    ) -> Daemon {
        let shown = format!("{program} {}", args.join(" "));
        let stderr_path = dir.join(format!("{label}.stderr"));
        let stderr = fs::File::create(&stderr_path).expect("create a stderr file");
        let child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| cannot_start(program, &e));
        let mut guard = ChildGuard::new(child);
        let stdout = guard.child.stdout.take().expect("piped stdout");

        // Hand over the port, or everything seen before EOF.
        let (tx, rx) = mpsc::channel::<Result<u16, String>>();
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
                let Some(t) = tx.as_ref() else { continue };
                let text = String::from_utf8_lossy(&line);
                match ready(text.trim()) {
                    Some(port) => {
                        let _ = t.send(Ok(port));
                        tx = None;
                    }
                    None => {
                        seen.push_str(text.trim_end());
                        seen.push('\n');
                    }
                }
            }
            if let Some(t) = tx {
                let _ = t.send(Err(seen));
            }
        });
        let stderr_text = || fs::read_to_string(&stderr_path).unwrap_or_default();
        let port = match rx.recv_timeout(READY_DEADLINE) {
            Ok(Ok(port)) => port,
            Ok(Err(stdout)) => panic!(
                "`{shown}` exited before it was listening\nstdout:\n{stdout}\nstderr:\n{}",
                stderr_text()
            ),
            Err(e) => panic!(
                "`{shown}` was not listening within {READY_DEADLINE:?} ({e})\nstderr:\n{}",
                stderr_text()
            ),
        };
        Daemon {
            port,
            stderr_path,
            _child: guard,
        }
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

/// The port of an `ACCEPT 127.0.0.1:PORT` / `ACCEPT [::]:PORT PID=…` line
/// (`openssl s_server` and `openssl ocsp`).
pub fn accept_line(line: &str) -> Option<u16> {
    let addr = line.strip_prefix("ACCEPT ")?.split_whitespace().next()?;
    addr.rsplit_once(':')?.1.parse().ok().filter(|&p| p != 0)
}

/// The port of an `ACCEPT 127.0.0.1:PORT` line, and only of a loopback one.
fn loopback_accept_line(line: &str) -> Option<u16> {
    if line.starts_with("ACCEPT 127.0.0.1:") {
        accept_line(line)
    } else {
        None
    }
}

/// `openssl s_server -accept 127.0.0.1:0 ARGS` in `dir`, once it printed
/// its `ACCEPT 127.0.0.1:PORT` line; stderr goes to
/// `dir/s_server-LABEL.stderr`.
pub fn s_server(dir: &Path, label: &str, args: &[&str]) -> Daemon {
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
    Daemon::start(
        dir,
        &format!("s_server-{label}"),
        "openssl",
        &full,
        loopback_accept_line,
    )
}

// ---------------------------------------------------------------------------
// OpenSSL PKI commands

/// The configuration sections every test PKI shares: the request DN and
/// the extensions of a root (`v3_root`) and of an intermediate (`v3_inter`).
/// Each test appends its own `[ ca ]` and leaf sections.
pub const CA_SECTIONS: &str = r#"[ req ]
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
"#;

/// `-newkey` options for an EC P-256 key.
pub const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
/// `-newkey` options for an RSA 2048 key.
pub const RSA: [&str; 2] = ["-newkey", "rsa:2048"];

/// Run `openssl ARGS` in `dir`; panics (with its output) unless it exits
/// with status 0 within [`COMMAND_DEADLINE`].
pub fn openssl(dir: &Path, args: &[&str]) {
    let shown = format!("openssl {}", args.join(" "));
    let mut cmd = Command::new("openssl");
    cmd.args(args).current_dir(dir);
    let o = run_bounded(cmd, &shown, COMMAND_DEADLINE);
    assert_eq!(
        o.code,
        Some(0),
        "`{shown}` failed in {}\nstdout:\n{}\nstderr:\n{}",
        dir.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A self-signed certificate `cert` with a new `newkey` key `key`, valid
/// for `days`: `openssl req -x509 -new -nodes … -sha256 -subj SUBJ -config
/// CNF [-extensions EXT]`.
#[allow(clippy::too_many_arguments)]
pub fn req_self_signed(
    dir: &Path,
    newkey: &[&str],
    key: &str,
    cert: &str,
    days: &str,
    subj: &str,
    cnf: &str,
    ext: Option<&str>,
) {
    let mut args = vec!["req", "-x509", "-new", "-nodes"];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&[
        "-keyout", key, "-out", cert, "-days", days, "-sha256", "-subj", subj, "-config", cnf,
    ]);
    if let Some(ext) = ext {
        args.extend_from_slice(&["-extensions", ext]);
    }
    openssl(dir, &args);
}

/// A new `newkey` key `key` and a request `csr` for `subj`: `openssl req
/// -new -nodes … -config CNF`.
pub fn req_csr(dir: &Path, newkey: &[&str], key: &str, csr: &str, subj: &str, cnf: &str) {
    let mut args = vec!["req", "-new", "-nodes"];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&["-keyout", key, "-out", csr, "-subj", subj, "-config", cnf]);
    openssl(dir, &args);
}

/// Sign `csr` into `cert` with `ca_pem`/`ca_key`, without a CA database:
/// `openssl x509 -req … -days DAYS -sha256 -extfile CNF -extensions EXT`.
#[allow(clippy::too_many_arguments)]
pub fn x509_sign(
    dir: &Path,
    csr: &str,
    ca_pem: &str,
    ca_key: &str,
    days: &str,
    cnf: &str,
    ext: &str,
    cert: &str,
) {
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca_pem,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-days",
            days,
            "-sha256",
            "-extfile",
            cnf,
            "-extensions",
            ext,
            "-out",
            cert,
        ],
    );
}

/// The configuration of `openssl ca` as `[ NAME ]`, over the database that
/// [`ca_database`] makes, signing with `./CERT` and `./KEY` (`extra` adds
/// settings to `[ NAME ]`), followed by [`CA_SECTIONS`].
pub fn ca_config(name: &str, cert: &str, key: &str, extra: &str) -> String {
    format!(
        r#"[ ca ]
default_ca = {name}

[ {name} ]
dir             = ./db
database        = $dir/index.txt
new_certs_dir   = $dir/newcerts
serial          = $dir/serial
certificate     = ./{cert}
private_key     = ./{key}
default_md      = sha256
default_days    = 90
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no
{extra}
[ policy_any ]
commonName = supplied

{CA_SECTIONS}"#
    )
}

/// The empty `openssl ca` database of a config with `dir = ./db`:
/// `db/newcerts/`, `db/index.txt` and `db/serial` (1000).
pub fn ca_database(dir: &Path) {
    fs::create_dir_all(dir.join("db/newcerts")).expect("create the CA database");
    fs::write(dir.join("db/index.txt"), "").expect("write index.txt");
    fs::write(dir.join("db/serial"), "1000\n").expect("write serial");
}

/// Sign `csr` into `cert` with the CA of `cnf` and its database: `openssl
/// ca -batch -notext -config CNF -extensions EXT EXTRA…`.
pub fn ca_sign(dir: &Path, cnf: &str, ext: &str, extra: &[&str], csr: &str, cert: &str) {
    let mut args = vec![
        "ca",
        "-batch",
        "-notext",
        "-config",
        cnf,
        "-extensions",
        ext,
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-in", csr, "-out", cert]);
    openssl(dir, &args);
}

/// A certificate file and its private key, relative to the PKI directory.
pub struct Leaf {
    pub cert: String,
    pub key: String,
}

impl Leaf {
    /// `openssl s_server` in `dir` presenting this leaf, with `extra`
    /// options.
    pub fn serve(&self, dir: &Path, label: &str, extra: &[&str]) -> Daemon {
        let mut args = vec!["-cert", self.cert.as_str(), "-key", self.key.as_str()];
        args.extend_from_slice(extra);
        s_server(dir, label, &args)
    }
}

/// A root certificate the tests trust, as if from `--ca-file`.
pub struct Root {
    pub ca_file: PathBuf,
    pub der: Vec<u8>,
}

impl Root {
    /// Read the one certificate of the PEM file `ca_file`.
    pub fn load(ca_file: PathBuf) -> Root {
        let pem = fs::read(&ca_file).expect("read the root PEM");
        let mut ders = parse_certificates(&pem).expect("the root PEM parses");
        assert_eq!(ders.len(), 1, "the root PEM holds one certificate");
        let der = ders.remove(0);
        Root { ca_file, der }
    }

    /// Trust exactly this root.
    pub fn trust(&self) -> TrustStore {
        TrustStore::from_ders(
            std::slice::from_ref(&self.der),
            AnchorOrigin::CaFile(self.ca_file.clone()),
        )
        .expect("the test root is a usable anchor")
    }
}

/// A PKI made with the `openssl` command in a temporary directory: a
/// trusted root (`root.pem`, `root.key`) and leaves with keys of one type,
/// each with its own config from `config(SANS)` (with a `leaf` section).
/// Test files add the issuing (and serving) they need in their own
/// `impl OpensslPki` blocks.
pub struct OpensslPki {
    dir: TempDir,
    newkey: &'static [&'static str],
    config: fn(&str) -> String,
    root: Root,
}

impl OpensslPki {
    /// A new directory with `base.cnf` and a self-signed root for `subj`
    /// (`v3_root`, valid for ten years).
    pub fn with_root(
        newkey: &'static [&'static str],
        config: fn(&str) -> String,
        subj: &str,
    ) -> OpensslPki {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let d = dir.path();
        fs::write(d.join("base.cnf"), config("DNS:unused.openssl.test")).expect("write config");
        req_self_signed(
            d,
            newkey,
            "root.key",
            "root.pem",
            "3650",
            subj,
            "base.cnf",
            Some("v3_root"),
        );
        let root = Root::load(d.join("root.pem"));
        OpensslPki {
            dir,
            newkey,
            config,
            root,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Trust exactly the PKI's root, as if from `--ca-file root.pem`.
    pub fn trust(&self) -> TrustStore {
        self.root.trust()
    }

    /// Write `LABEL.cnf` for a leaf naming `host`; returns its name.
    pub fn write_config(&self, label: &str, host: &str) -> String {
        let name = format!("{label}.cnf");
        fs::write(
            self.path().join(&name),
            (self.config)(&format!("DNS:{host}")),
        )
        .expect("write leaf config");
        name
    }

    /// A new key `LABEL.key` and request `LABEL.csr` for `host`, with the
    /// config `LABEL.cnf`: (config, request, the leaf once `LABEL.pem` is
    /// issued).
    pub fn request(&self, label: &str, host: &str) -> (String, String, Leaf) {
        let cnf = self.write_config(label, host);
        let (key, csr, cert) = (
            format!("{label}.key"),
            format!("{label}.csr"),
            format!("{label}.pem"),
        );
        req_csr(
            self.path(),
            self.newkey,
            &key,
            &csr,
            &format!("/CN={host}"),
            &cnf,
        );
        (cnf, csr, Leaf { cert, key })
    }

    /// A self-signed (non-CA) leaf for `host` made with `openssl req -x509`,
    /// valid for 90 days.
    pub fn self_signed(&self, label: &str, host: &str) -> Leaf {
        let cnf = self.write_config(label, host);
        let (key, cert) = (format!("{label}.key"), format!("{label}.pem"));
        req_self_signed(
            self.path(),
            self.newkey,
            &key,
            &cert,
            "90",
            &format!("/CN={host}"),
            &cnf,
            Some("leaf"),
        );
        Leaf { cert, key }
    }
}

// ---------------------------------------------------------------------------
// Probing in process

/// Probe `host` at 127.0.0.1:`port` (through a resolve rule, like the lab)
/// within `deadline`, and diagnose it against `trust`. `context` is shown
/// if the probe overruns.
pub async fn probe_loopback(
    host: &str,
    port: u16,
    trust: &TrustStore,
    deadline: Duration,
    context: &dyn Fn() -> String,
) -> (Observation, Report) {
    let mut target = Target::parse(&format!("{host}:{port}"), 443).expect("target parses");
    let rule = ResolveRule::parse(&format!("{host}:{port}:127.0.0.1")).expect("rule parses");
    ResolveRule::apply(&[rule], &mut target);
    assert_eq!(
        target.connect_addrs,
        vec![LOOPBACK],
        "only loopback is probed"
    );
    let opts = ProbeOptions::with_timeout(PROBE_TIMEOUT);
    let obs = tokio::time::timeout(deadline, probe(&target, &opts))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "probe of {host}:{port} did not finish in {deadline:?}\n{}",
                context()
            )
        });
    let report = diagnose(&obs, trust, obs.started_at, &DiagnoseOptions::default());
    (obs, report)
}

/// The report's finding codes, sorted.
pub fn sorted_codes(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings
        .iter()
        .map(|f| f.code.as_str().to_string())
        .collect();
    v.sort();
    v
}

/// The report's findings, one indented line each, for failure messages.
pub fn findings_text(r: &Report) -> String {
    r.findings
        .iter()
        .map(|f| {
            format!(
                "  {} ({:?}, cert {:?}): {} | {}",
                f.code, f.severity, f.cert, f.title, f.detail
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
