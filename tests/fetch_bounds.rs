//! Revocation fetches are bounded, through the `certscope` binary: a leaf's
//! CRL distribution point serves a never-ending body (fast, or a trickle)
//! or a 100 MB CRL, and `check --timeout 2` still ends well within twice
//! its timeout with a `revocation-unknown` warning that says why. With
//! `--no-revocation` the CRL is not even requested.
//!
//! Everything runs in-process on 127.0.0.1: an rcgen PKI, a tokio-rustls
//! server presenting the leaf, and a tiny tokio HTTP server. Each server is
//! one task (its connections live in a `JoinSet` it owns), aborted at the
//! end of the test, also when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use certscope::testkit::TestPki;
use rcgen::{
    CertificateParams, CrlDistributionPoint, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

const BIN: &str = env!("CARGO_BIN_EXE_certscope");
/// certscope's `--timeout`, in seconds.
const TIMEOUT: &str = "2";
/// A run must end within this: twice the timeout (the handshake, then all
/// revocation lookups) plus slack for process start-up on a busy machine.
const WALL_LIMIT: Duration = Duration::from_secs(8);
/// A run that takes longer than this is killed (and the test fails).
const KILL_AFTER: Duration = Duration::from_secs(60);
/// The size the huge CRL announces and streams: 100 MB.
const HUGE: u64 = 100 * 1024 * 1024;
/// certscope's CRL size cap (`EnrichOptions::default().crl_max`).
const CRL_CAP: usize = 20 << 20;
const DAY: i64 = 86_400;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn at(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).expect("valid instant")
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

// ---------------------------------------------------------------------------
// Servers

/// A server task, aborted on drop (with every connection it owns).
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Paths the HTTP server was asked for, in order.
type Requests = Arc<Mutex<Vec<String>>>;

fn requested(log: &Requests) -> Vec<String> {
    log.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// An HTTP server on 127.0.0.1 serving the bodies below; records paths.
async fn http_server(log: Requests) -> (u16, Task) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let task = tokio::spawn(async move {
        // Dropped (so every connection aborted) when this task is aborted.
        let mut conns = JoinSet::new();
        while let Ok((s, _)) = listener.accept().await {
            conns.spawn(answer(s, log.clone()));
        }
    });
    (port, Task(task))
}

/// Read a request head (bounded) and return its path.
async fn read_path(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    let _method = parts.next()?;
    parts.next().map(str::to_string)
}

const HEAD_TO_EOF: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nConnection: close\r\n\r\n";

/// `/endless.crl`: zeros as fast as possible, never ending (EOF-delimited).
/// `/slow.crl`: one byte every 50 ms, never ending.
/// `/huge.crl`: `Content-Length: 104857600`, then that many zeros.
/// All stop when the client goes away (a write fails).
async fn answer(mut s: TcpStream, log: Requests) {
    let Some(path) = read_path(&mut s).await else {
        return;
    };
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.clone());
    let zeros = vec![0u8; 64 * 1024];
    match path.as_str() {
        "/endless.crl" => {
            if s.write_all(HEAD_TO_EOF).await.is_err() {
                return;
            }
            while s.write_all(&zeros).await.is_ok() {}
        }
        "/slow.crl" => {
            if s.write_all(HEAD_TO_EOF).await.is_err() {
                return;
            }
            loop {
                if s.write_all(b"\0").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        "/huge.crl" => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {HUGE}\r\nConnection: close\r\n\r\n"
            );
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut left = HUGE;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                if s.write_all(&zeros[..n]).await.is_err() {
                    return;
                }
                left -= n as u64;
            }
        }
        _ => {
            let _ = s
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    }
}

/// A leaf for `host` (signed by the PKI's intermediate) whose CRL
/// distribution point is `crl_url`, served with its intermediate by a
/// tokio-rustls server on 127.0.0.1.
async fn tls_server(pki: &TestPki, host: &str, crl_url: &str) -> (u16, Task) {
    let t = now();
    let mut p = CertificateParams::new(vec![host.to_string()]).expect("name");
    p.distinguished_name.push(DnType::CommonName, host);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.not_before = at(t - 30 * DAY);
    p.not_after = at(t + 150 * DAY);
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![crl_url.to_string()],
    }];
    let key = KeyPair::generate().expect("key");
    let leaf = p.signed_by(&key, &pki.int).expect("leaf");
    let chain = vec![
        CertificateDer::from(leaf.der().to_vec()),
        CertificateDer::from(pki.int.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server certificate");
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        while let Ok((s, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            conns.spawn(async move {
                let bound = Duration::from_secs(30);
                if let Ok(Ok(mut tls)) = tokio::time::timeout(bound, acceptor.accept(s)).await {
                    // Hold the session until the client closes it.
                    let mut sink = [0u8; 1024];
                    let _ = tokio::time::timeout(bound, async {
                        while matches!(tls.read(&mut sink).await, Ok(n) if n > 0) {}
                    })
                    .await;
                }
            });
        }
    });
    (port, Task(task))
}

// ---------------------------------------------------------------------------
// certscope

/// A child process killed and reaped on drop.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

struct Run {
    code: Option<i32>,
    elapsed: Duration,
    result: Value,
    stderr: String,
}

/// `certscope check --format json --timeout 2` of `host` at 127.0.0.1:`port`,
/// trusting only `ca_file`, plus `extra` arguments; timed.
fn check(ca_file: &Path, host: &str, port: u16, extra: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(["check", "--format", "json", "--trust-store", "none"])
        .arg("--ca-file")
        .arg(ca_file)
        .args(["--timeout", TIMEOUT])
        .args(["--resolve", &format!("{host}:{port}:127.0.0.1")])
        .args(extra)
        .arg(format!("{host}:{port}"))
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
    let mut guard = ChildGuard(child);
    let out = drain(guard.0.stdout.take());
    let err = drain(guard.0.stderr.take());
    let status = loop {
        match guard.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < KILL_AFTER => thread::sleep(Duration::from_millis(5)),
            Ok(None) => panic!("certscope did not finish within {KILL_AFTER:?} (killed)"),
            Err(e) => panic!("waiting for certscope: {e}"),
        }
    };
    let elapsed = started.elapsed();
    drop(guard);
    let stdout = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    Run {
        code: status.code(),
        elapsed,
        result: doc["results"][0].clone(),
        stderr,
    }
}

fn findings_with(result: &Value, code: &str) -> Vec<Value> {
    result["findings"]
        .as_array()
        .map(|all| all.iter().filter(|f| f["code"] == code).cloned().collect())
        .unwrap_or_default()
}

/// Serve a leaf whose CRL is `path` on the HTTP server, check it, and
/// return the run and the paths the HTTP server was asked for.
fn scenario(path: &str, extra: &[&str]) -> (Run, Vec<String>) {
    let rt = runtime();
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("root.pem");
    std::fs::write(
        &ca_file,
        pem::encode(&pem::Pem::new("CERTIFICATE", pki.root_der.clone())),
    )
    .expect("write root.pem");
    let log = Requests::default();
    let host = format!(
        "{}.bounds.test",
        path.trim_start_matches('/')
            .split('.')
            .next()
            .unwrap_or("x")
    );
    let (http_port, http) = rt.block_on(http_server(log.clone()));
    let url = format!("http://127.0.0.1:{http_port}{path}");
    let (tls_port, tls) = rt.block_on(tls_server(&pki, &host, &url));
    let run = check(&ca_file, &host, tls_port, extra);
    drop(tls);
    drop(http);
    rt.shutdown_timeout(Duration::from_secs(5));
    (run, requested(&log))
}

/// The run ended in time with a `revocation-unknown` warning on the leaf
/// whose detail contains `why`; the CRL was requested exactly once.
fn assert_bounded(path: &str, why: &str) -> Run {
    let (run, requests) = scenario(path, &[]);
    let r = &run.result;
    let context = format!(
        "took {:?}, exit {:?}\n{r:#}\nstderr:\n{}",
        run.elapsed, run.code, run.stderr
    );
    assert!(
        run.elapsed < WALL_LIMIT,
        "the check must end within {WALL_LIMIT:?}: {context}"
    );
    assert_eq!(requests, vec![path.to_string()], "{context}");
    assert_eq!(r["status"], "warning", "{context}");
    assert_eq!(run.code, Some(1), "exit code of a warning: {context}");
    let unknown = findings_with(r, "revocation-unknown");
    assert_eq!(unknown.len(), 1, "one revocation-unknown: {context}");
    let f = &unknown[0];
    assert_eq!(f["cert"], 0, "{context}");
    assert_eq!(f["severity"], "warning", "{context}");
    let detail = f["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(path) && detail.contains(why),
        "the detail names the CRL and says {why:?}: {detail}"
    );
    assert!(findings_with(r, "revoked").is_empty(), "{context}");
    assert_eq!(
        r["chain"][0]["revocation"]["status"], "unknown",
        "{context}"
    );
    run
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn a_never_ending_crl_is_cut_at_the_size_cap() {
    assert_bounded(
        "/endless.crl",
        &format!("the body is larger than the {CRL_CAP}-byte cap"),
    );
}

#[test]
fn a_trickling_never_ending_crl_times_out() {
    let run = assert_bounded("/slow.crl", "timed out");
    // It was the revocation deadline (the whole --timeout) that ended it.
    assert!(
        run.elapsed >= Duration::from_millis(1900),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn a_100_mb_crl_is_refused_by_its_content_length() {
    assert_bounded(
        "/huge.crl",
        &format!("the body is larger than the {CRL_CAP}-byte cap"),
    );
}

#[test]
fn no_revocation_makes_no_fetch() {
    for path in ["/huge.crl", "/endless.crl"] {
        let (run, requests) = scenario(path, &["--no-revocation"]);
        let r = &run.result;
        let context = format!(
            "took {:?}, exit {:?}\n{r:#}\nstderr:\n{}",
            run.elapsed, run.code, run.stderr
        );
        assert!(
            requests.is_empty(),
            "no CRL request: {requests:?}\n{context}"
        );
        assert!(
            findings_with(r, "revocation-unknown").is_empty(),
            "{context}"
        );
        assert_eq!(
            r["chain"][0]["revocation"]["status"], "not-checked",
            "{context}"
        );
        assert_eq!(r["status"], "ok", "{context}");
        assert_eq!(run.code, Some(0), "{context}");
        assert!(run.elapsed < WALL_LIMIT, "{context}");
    }
}
