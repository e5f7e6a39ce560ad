//! STARTTLS through the real `probe`: for each protocol a loopback server
//! speaks the plaintext exchange and then a rustls TLS accept; failures
//! (no STARTTLS offered, refused, plaintext injected after the go-ahead,
//! silence) become `starttls-failed` or `timeout`. One test runs a real
//! mail server (Python's aiosmtpd) through the `certscope` binary.
//!
//! Python's aiosmtpd is required: without it that test fails (CI installs
//! `python3-aiosmtpd`) rather than silently passes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::probe::{ProbeOptions, probe};
use certscope::report::finding::Status;
use certscope::report::observation::{ConnCode, Observation};
use certscope::target::Proto;
use certscope::target::{LOOPBACK, Target};
use certscope::testkit::TestPki;
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

const NAME: &str = "mail.starttls.test";
const DAY: i64 = 86_400;
/// certscope's per-step timeout in these tests.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// Outer bound on one whole probe.
const PROBE_DEADLINE: Duration = Duration::from_secs(20);

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn at(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).expect("valid instant")
}

/// A leaf for [`NAME`] signed by the PKI's intermediate, valid `nb..na`.
struct Leaf {
    /// `[leaf, intermediate]`, DER.
    chain: Vec<Vec<u8>>,
    key: KeyPair,
}

fn leaf(pki: &TestPki, nb: i64, na: i64) -> Leaf {
    let mut p = CertificateParams::new(vec![NAME.to_string()]).expect("name");
    p.distinguished_name.push(DnType::CommonName, NAME);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.not_before = at(nb);
    p.not_after = at(na);
    let key = KeyPair::generate().expect("key");
    let cert = p.signed_by(&key, &pki.int).expect("leaf");
    Leaf {
        chain: vec![cert.der().to_vec(), pki.int.der().to_vec()],
        key,
    }
}

fn acceptor(leaf: &Leaf) -> TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = leaf
        .chain
        .iter()
        .map(|d| CertificateDer::from(d.clone()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate");
    TlsAcceptor::from(Arc::new(config))
}

// ---------------------------------------------------------------------------
// Loopback servers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Smtp {
    Good,
    NoStarttls,
    Refuse454,
    Inject,
}

#[derive(Debug, Clone, Copy)]
enum Script {
    Smtp(Smtp),
    Imap,
    Pop3,
    Ftp,
    Xmpp { refuse: bool },
    Ldap { result: u8 },
    Postgres { answer: u8 },
    Mysql { ssl: bool },
    Silent,
    Flood,
}

/// A loopback server handling one connection at a time; aborted on drop,
/// so it never outlives a failing test.
struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
    /// What the client sent in plaintext, line by line.
    seen: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn stop(self) {
        self.task.abort();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(script: Script, acceptor: TlsAcceptor) -> Server {
    let listener = TcpListener::bind((LOOPBACK, 0)).await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let _ = run(script, s, &acceptor, &log).await;
        }
    });
    Server { addr, task, seen }
}

type Log = Arc<Mutex<Vec<String>>>;

fn note(log: &Log, line: impl Into<String>) {
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(line.into());
}

/// One line, read byte by byte so nothing is buffered past it.
async fn read_line(s: &mut TcpStream, log: &Log) -> std::io::Result<String> {
    let mut line = Vec::new();
    loop {
        let b = s.read_u8().await?;
        if b == b'\n' || line.len() > 4096 {
            break;
        }
        line.push(b);
    }
    let text = String::from_utf8_lossy(&line).trim_end().to_string();
    note(log, text.clone());
    Ok(text)
}

/// Read until `needle` has arrived (XMPP has no lines).
async fn read_until(s: &mut TcpStream, needle: &str, log: &Log) -> std::io::Result<()> {
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains(needle) {
        got.push(s.read_u8().await?);
        if got.len() > 16 * 1024 {
            return Err(std::io::Error::other("too much"));
        }
    }
    note(log, String::from_utf8_lossy(&got).to_string());
    Ok(())
}

/// Run the TLS server side, then wait for the client to go away.
async fn tls(s: TcpStream, acceptor: &TlsAcceptor) -> std::io::Result<()> {
    let mut tls = acceptor.accept(s).await?;
    let mut buf = [0u8; 256];
    while tls.read(&mut buf).await? > 0 {}
    Ok(())
}

async fn run(
    script: Script,
    mut s: TcpStream,
    acceptor: &TlsAcceptor,
    log: &Log,
) -> std::io::Result<()> {
    match script {
        Script::Smtp(mode) => {
            s.write_all(b"220-mail.starttls.test ESMTP\r\n220 test server\r\n")
                .await?;
            read_line(&mut s, log).await?;
            if mode == Smtp::NoStarttls {
                s.write_all(b"250-mail.starttls.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                    .await?;
                read_line(&mut s, log).await?;
                return Ok(());
            }
            s.write_all(
                b"250-mail.starttls.test greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
            )
            .await?;
            read_line(&mut s, log).await?;
            match mode {
                Smtp::Refuse454 => {
                    s.write_all(b"454 4.7.0 TLS not available due to local problem\r\n")
                        .await?;
                    read_line(&mut s, log).await?;
                    Ok(())
                }
                Smtp::Inject => {
                    // One write: the go-ahead and the injected command arrive together.
                    s.write_all(b"220 Ready\r\nINJECTED").await?;
                    read_line(&mut s, log).await?;
                    Ok(())
                }
                _ => {
                    s.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
                    tls(s, acceptor).await
                }
            }
        }
        Script::Imap => {
            s.write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n")
                .await?;
            let cmd = read_line(&mut s, log).await?;
            let tag = cmd.split(' ').next().unwrap_or("*").to_string();
            s.write_all(
                format!(
                    "* CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED\r\n{tag} OK Capability completed.\r\n"
                )
                .as_bytes(),
            )
            .await?;
            let cmd = read_line(&mut s, log).await?;
            let tag = cmd.split(' ').next().unwrap_or("*").to_string();
            s.write_all(format!("{tag} OK Begin TLS negotiation now.\r\n").as_bytes())
                .await?;
            tls(s, acceptor).await
        }
        Script::Pop3 => {
            s.write_all(b"+OK POP3 server ready\r\n").await?;
            read_line(&mut s, log).await?;
            s.write_all(b"+OK Begin TLS negotiation\r\n").await?;
            tls(s, acceptor).await
        }
        Script::Ftp => {
            // Continuation lines of an FTP reply need not carry the code.
            s.write_all(b"220-Welcome to the test FTP server\r\n   please behave\r\n220 ready\r\n")
                .await?;
            read_line(&mut s, log).await?;
            s.write_all(b"234 AUTH TLS OK.\r\n").await?;
            tls(s, acceptor).await
        }
        Script::Xmpp { refuse } => {
            read_until(&mut s, "version='1.0'>", log).await?;
            s.write_all(
                b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='4242' from='mail.starttls.test' version='1.0' xml:lang='en'>",
            )
            .await?;
            s.write_all(
                b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
            )
            .await?;
            read_until(&mut s, "/>", log).await?;
            if refuse {
                s.write_all(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
                    .await?;
                return Ok(());
            }
            s.write_all(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                .await?;
            tls(s, acceptor).await
        }
        Script::Ldap { result } => {
            let mut req = [0u8; 31];
            s.read_exact(&mut req).await?;
            note(log, format!("{req:02x?}"));
            // ExtendedResponse: resultCode, matchedDN "", diagnosticMessage, responseName.
            let diag: &[u8] = if result == 0 {
                b""
            } else {
                b"TLS not configured"
            };
            let oid = b"1.3.6.1.4.1.1466.20037";
            let mut op = vec![0x0a, 0x01, result, 0x04, 0x00, 0x04, diag.len() as u8];
            op.extend_from_slice(diag);
            op.extend_from_slice(&[0x8a, oid.len() as u8]);
            op.extend_from_slice(oid);
            let mut msg = vec![0x02, 0x01, 0x01, 0x78, op.len() as u8];
            msg.extend_from_slice(&op);
            let mut out = vec![0x30, msg.len() as u8];
            out.extend_from_slice(&msg);
            s.write_all(&out).await?;
            if result != 0 {
                let _ = s.read_u8().await;
                return Ok(());
            }
            tls(s, acceptor).await
        }
        Script::Postgres { answer } => {
            let mut req = [0u8; 8];
            s.read_exact(&mut req).await?;
            note(log, format!("{req:02x?}"));
            s.write_all(&[answer]).await?;
            if answer != b'S' {
                let _ = s.read_u8().await;
                return Ok(());
            }
            tls(s, acceptor).await
        }
        Script::Mysql { ssl } => {
            let caps: u16 = if ssl { 0xffff } else { !0x0800 };
            let mut p = vec![0x0a];
            p.extend_from_slice(b"8.0.36\0");
            p.extend_from_slice(&[7, 0, 0, 0]); // connection id
            p.extend_from_slice(b"abcdefgh"); // auth data part 1
            p.push(0);
            p.extend_from_slice(&caps.to_le_bytes());
            p.push(0xff); // charset
            p.extend_from_slice(&[2, 0]); // status
            p.extend_from_slice(&[0xff, 0xdf]); // upper capabilities
            p.push(21);
            p.extend_from_slice(&[0; 10]);
            p.extend_from_slice(b"ijklmnopqrst\0");
            p.extend_from_slice(b"caching_sha2_password\0");
            let len = p.len() as u32;
            let mut out = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, 0];
            out.extend_from_slice(&p);
            s.write_all(&out).await?;
            if !ssl {
                let _ = s.read_u8().await;
                return Ok(());
            }
            let mut req = [0u8; 36];
            s.read_exact(&mut req).await?;
            note(log, format!("{req:02x?}"));
            tls(s, acceptor).await
        }
        Script::Silent => {
            let _ = s.read_u8().await;
            Ok(())
        }
        Script::Flood => {
            let junk = vec![b'x'; 64 * 1024];
            s.write_all(&junk).await?;
            let _ = s.read_u8().await;
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------
// Probing

async fn probe_with(server: &Server, proto: Proto, timeout: Duration) -> Observation {
    let mut t = Target::parse(&format!("{NAME}:{}", server.addr.port()), 443).expect("target");
    t.connect_addrs = vec![LOOPBACK];
    t.starttls = Some(proto);
    let opts = ProbeOptions::with_timeout(timeout);
    tokio::time::timeout(PROBE_DEADLINE, probe(&t, &opts))
        .await
        .expect("the probe finishes within its deadline")
}

/// STARTTLS succeeds: the chain is captured, TLS facts are present and a
/// valid certificate diagnoses as ok.
async fn assert_upgrades(script: Script, proto: Proto) -> Vec<String> {
    let pki = TestPki::new();
    let t = now();
    let leaf = leaf(&pki, t - 30 * DAY, t + 90 * DAY);
    let server = serve(script, acceptor(&leaf)).await;
    let obs = probe_with(&server, proto, STEP_TIMEOUT).await;
    let seen = server.seen();
    server.stop();
    assert!(
        obs.error.is_none(),
        "{proto}: unexpected failure {:?}",
        obs.error
    );
    assert_eq!(obs.chain, leaf.chain, "{proto}: the presented chain");
    let facts = obs.tls.as_ref().expect("TLS facts");
    assert!(facts.version.starts_with("TLSv1."), "{facts:?}");
    assert!(!facts.cipher.is_empty(), "{facts:?}");
    let report = diagnose(&obs, &pki.trust(), now(), &DiagnoseOptions::default());
    assert_eq!(
        report.status,
        Status::Ok,
        "{proto}: findings {:#?}",
        report.findings
    );
    seen
}

/// The exchange fails before TLS with `code`; returns the failure.
async fn assert_fails(script: Script, proto: Proto, timeout: Duration) -> (String, Option<String>) {
    let pki = TestPki::new();
    let t = now();
    let leaf = leaf(&pki, t - 30 * DAY, t + 90 * DAY);
    let server = serve(script, acceptor(&leaf)).await;
    let obs = probe_with(&server, proto, timeout).await;
    server.stop();
    let e = obs.error.expect("the probe fails");
    assert_eq!(e.code, ConnCode::StarttlsFailed, "{e:?}");
    assert_eq!(e.step, "starttls", "{e:?}");
    assert!(obs.chain.is_empty() && obs.tls.is_none());
    (e.message, e.peer_said)
}

#[tokio::test]
async fn smtp_upgrades() {
    let seen = assert_upgrades(Script::Smtp(Smtp::Good), Proto::Smtp).await;
    assert_eq!(seen, [format!("EHLO {NAME}"), "STARTTLS".to_string()]);
}

#[tokio::test]
async fn imap_upgrades() {
    let seen = assert_upgrades(Script::Imap, Proto::Imap).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].ends_with(" CAPABILITY"), "{seen:?}");
    assert!(seen[1].ends_with(" STARTTLS"), "{seen:?}");
}

#[tokio::test]
async fn pop3_upgrades() {
    let seen = assert_upgrades(Script::Pop3, Proto::Pop3).await;
    assert_eq!(seen, ["STLS"]);
}

#[tokio::test]
async fn ftp_upgrades_after_a_multi_line_greeting() {
    let seen = assert_upgrades(Script::Ftp, Proto::Ftp).await;
    assert_eq!(seen, ["AUTH TLS"]);
}

#[tokio::test]
async fn xmpp_upgrades() {
    let seen = assert_upgrades(Script::Xmpp { refuse: false }, Proto::Xmpp).await;
    assert!(
        seen.first()
            .is_some_and(|h| h.contains("to='mail.starttls.test'")),
        "{seen:?}"
    );
    assert!(
        seen.get(1)
            .is_some_and(|s| s.contains("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn ldap_upgrades() {
    let seen = assert_upgrades(Script::Ldap { result: 0 }, Proto::Ldap).await;
    assert!(
        seen.first()
            .is_some_and(|r| r.starts_with("[30, 1d, 02, 01, 01, 77, 18, 80, 16, 31, 2e")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn postgres_upgrades() {
    let seen = assert_upgrades(Script::Postgres { answer: b'S' }, Proto::Postgres).await;
    assert_eq!(seen, ["[00, 00, 00, 08, 04, d2, 16, 2f]"]);
}

#[tokio::test]
async fn mysql_upgrades() {
    let seen = assert_upgrades(Script::Mysql { ssl: true }, Proto::Mysql).await;
    // SSLRequest: 32-byte payload, sequence 1, CLIENT_SSL set.
    assert!(
        seen.first()
            .is_some_and(|r| r.starts_with("[20, 00, 00, 01, 85, ae")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn smtp_without_starttls_quotes_the_ehlo_reply() {
    let (message, said) =
        assert_fails(Script::Smtp(Smtp::NoStarttls), Proto::Smtp, STEP_TIMEOUT).await;
    assert!(message.contains("does not offer STARTTLS"), "{message}");
    assert!(message.contains("250 8BITMIME"), "{message}");
    let said = said.expect("the EHLO reply is quoted");
    assert!(said.contains("250-PIPELINING"), "{said}");
}

#[tokio::test]
async fn smtp_454_to_starttls_is_starttls_failed() {
    let (message, said) =
        assert_fails(Script::Smtp(Smtp::Refuse454), Proto::Smtp, STEP_TIMEOUT).await;
    assert!(message.contains("454 4.7.0 TLS not available"), "{message}");
    assert_eq!(
        said.as_deref(),
        Some("454 4.7.0 TLS not available due to local problem")
    );
}

#[tokio::test]
async fn plaintext_injected_after_the_go_ahead_is_refused() {
    let (message, said) = assert_fails(Script::Smtp(Smtp::Inject), Proto::Smtp, STEP_TIMEOUT).await;
    assert!(message.contains("injected"), "{message}");
    assert!(message.contains("CVE-2011-0411"), "{message}");
    assert_eq!(said.as_deref(), Some("INJECTED"));
}

#[tokio::test]
async fn postgres_n_is_starttls_failed() {
    let (message, said) = assert_fails(
        Script::Postgres { answer: b'N' },
        Proto::Postgres,
        STEP_TIMEOUT,
    )
    .await;
    assert!(message.contains("'N'"), "{message}");
    assert_eq!(said.as_deref(), Some("N"));
}

#[tokio::test]
async fn xmpp_failure_is_starttls_failed() {
    let (message, _) = assert_fails(Script::Xmpp { refuse: true }, Proto::Xmpp, STEP_TIMEOUT).await;
    assert!(message.contains("refused STARTTLS"), "{message}");
    assert!(message.contains("<failure"), "{message}");
}

#[tokio::test]
async fn ldap_non_zero_result_is_starttls_failed_with_the_code() {
    let (message, said) =
        assert_fails(Script::Ldap { result: 52 }, Proto::Ldap, STEP_TIMEOUT).await;
    assert!(message.contains("resultCode 52 (unavailable)"), "{message}");
    assert!(
        said.is_some_and(|s| s.contains("TLS not configured")),
        "{message}"
    );
}

#[tokio::test]
async fn mysql_without_client_ssl_is_starttls_failed() {
    let (message, said) =
        assert_fails(Script::Mysql { ssl: false }, Proto::Mysql, STEP_TIMEOUT).await;
    assert!(message.contains("CLIENT_SSL"), "{message}");
    assert_eq!(said.as_deref(), Some("8.0.36"));
}

#[tokio::test]
async fn an_endless_line_is_refused_not_buffered() {
    let (message, _) = assert_fails(Script::Flood, Proto::Smtp, STEP_TIMEOUT).await;
    assert!(message.contains("longer than 8 KiB"), "{message}");
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_bound() {
    let pki = TestPki::new();
    let t = now();
    let leaf = leaf(&pki, t - 30 * DAY, t + 90 * DAY);
    let server = serve(Script::Silent, acceptor(&leaf)).await;
    let started = Instant::now();
    let obs = probe_with(&server, Proto::Smtp, Duration::from_secs(1)).await;
    let elapsed = started.elapsed();
    server.stop();
    let e = obs.error.expect("the probe fails");
    assert_eq!(e.code, ConnCode::Timeout, "{e:?}");
    assert_eq!(e.step, "starttls");
    assert!(
        e.message.contains("no SMTP greeting within 1s"),
        "{}",
        e.message
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "took {elapsed:?}"
    );
}

// ---------------------------------------------------------------------------
// A real mail server: Python's aiosmtpd, through the certscope binary

const BIN: &str = env!("CARGO_BIN_EXE_certscope");

const AIOSMTPD_SCRIPT: &str = r#"
import ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
controller = Controller(Sink(), hostname="127.0.0.1", port=port,
                        tls_context=ctx, require_starttls=False)
controller.start()
print("READY", flush=True)
sys.stdin.read()  # runs until the test closes stdin or kills us
controller.stop()
"#;

/// A child process killed and reaped on drop, even when a test fails.
struct ChildGuard {
    child: Child,
    /// Held open: the script exits when its stdin reaches EOF.
    stdin: Option<ChildStdin>,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin.take();
    }
}

/// Run `cmd` to completion within `limit`; `None` if it cannot start.
fn run_bounded(mut cmd: Command, limit: Duration) -> Option<(Option<i32>, String, String)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().ok()?;
    let mut guard = ChildGuard { child, stdin: None };
    let out = drain(guard.child.stdout.take());
    let err = drain(guard.child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match guard.child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                drop(guard);
                panic!("{cmd:?} did not finish within {limit:?} (killed)");
            }
        }
    };
    let out = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let err = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    Some((status.code(), out, err))
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

/// The first Python that can import aiosmtpd: `python3` on PATH, then the
/// system one (Debian's python3-aiosmtpd installs there, which a pyenv or
/// venv `python3` on PATH does not see).
fn python_with_aiosmtpd() -> String {
    for python in ["python3", "/usr/bin/python3"] {
        let mut cmd = Command::new(python);
        cmd.args(["-c", "import aiosmtpd"]);
        if let Some((Some(0), _, _)) = run_bounded(cmd, Duration::from_secs(30)) {
            return python.to_string();
        }
    }
    panic!(
        "this test needs Python's aiosmtpd, but neither `python3` nor /usr/bin/python3 can import it \
         (checked with `python3 -c 'import aiosmtpd'`). Install it: `apt-get install -y python3-aiosmtpd` \
         (Debian/Ubuntu) or `pip install aiosmtpd`."
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind((LOOPBACK, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Start aiosmtpd on a free port; waits for its READY line. `Err` carries
/// the script's stderr when it exited early (e.g. the port was taken).
fn start_aiosmtpd(python: &str, dir: &Path, port: u16) -> Result<ChildGuard, String> {
    let script = dir.join("smtpd.py");
    std::fs::write(&script, AIOSMTPD_SCRIPT).expect("write the script");
    let child = Command::new(python)
        .arg(&script)
        .arg(port.to_string())
        .arg(dir.join("chain.pem"))
        .arg(dir.join("key.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    let mut guard = ChildGuard { child, stdin: None };
    guard.stdin = guard.child.stdin.take();
    let stdout = guard.child.stdout.take().expect("piped stdout");
    let stderr = drain(guard.child.stderr.take());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.trim() == "READY" => return Ok(guard),
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // stdout closed: the script exited.
                drop(guard);
                let err = stderr.join().unwrap_or_default();
                return Err(String::from_utf8_lossy(&err).into_owned());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                drop(guard);
                panic!("aiosmtpd did not print READY within 20s");
            }
        }
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    ::pem::encode(&::pem::Pem::new(label, der.to_vec()))
}

#[test]
fn aiosmtpd_with_an_expired_certificate_is_reported_expired() {
    let python = python_with_aiosmtpd();
    let pki = TestPki::new();
    let t = now();
    let leaf = leaf(&pki, t - 400 * DAY, t - 20 * DAY);
    let dir = tempfile::tempdir().expect("tempdir");
    let chain: String = leaf.chain.iter().map(|d| pem("CERTIFICATE", d)).collect();
    std::fs::write(dir.path().join("chain.pem"), chain).expect("write chain");
    std::fs::write(dir.path().join("key.pem"), leaf.key.serialize_pem()).expect("write key");
    let ca = dir.path().join("root.pem");
    std::fs::write(&ca, pem("CERTIFICATE", &pki.root_der)).expect("write root");

    // Pick a port by binding 0 and closing it; retry once on a bind race.
    let mut attempt = 0;
    let (port, _server) = loop {
        let port = free_port();
        match start_aiosmtpd(&python, dir.path(), port) {
            Ok(guard) => break (port, guard),
            Err(stderr) if attempt == 0 => {
                eprintln!("aiosmtpd failed on port {port}, retrying once:\n{stderr}");
                attempt += 1;
            }
            Err(stderr) => panic!("aiosmtpd did not start:\n{stderr}"),
        }
    };

    let target = format!("{NAME}:{port}");
    let mut cmd = Command::new(BIN);
    cmd.args(["check", "--json", "--timeout", "5", "--starttls", "smtp"])
        .args(["--trust-store", "none", "--ca-file"])
        .arg(&ca)
        .args(["--resolve", &format!("{NAME}:{port}:127.0.0.1"), &target])
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG");
    let (code, stdout, stderr) =
        run_bounded(cmd, Duration::from_secs(60)).expect("the certscope binary starts");
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    let result = &doc["results"][0];
    let findings = result["findings"].as_array().cloned().unwrap_or_default();
    assert!(
        findings
            .iter()
            .any(|f| f["code"] == "expired" && f["cert"] == 0),
        "no `expired` finding on cert 0:\n{result:#}\nstderr:\n{stderr}"
    );
    assert_eq!(result["status"], "critical", "{result:#}");
    assert_eq!(code, Some(2), "exit code; stderr:\n{stderr}");
    let served = result["chain"].as_array().map(Vec::len).unwrap_or(0);
    assert!(served >= 2, "the chain from aiosmtpd: {result:#}");
}
