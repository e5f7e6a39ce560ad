//! The "floor" for `scripts/bench-check.sh`: a bare rustls handshake loop to
//! compare `certscope check` against, and the TLS server both talk to.
//!
//! ```text
//! tls_floor serve  --dir DIR [--port 0]
//! tls_floor client --ca DIR/root.pem --port P --count N --concurrency C
//! ```
//!
//! `serve` generates (rcgen, ECDSA P-256) a root CA, an intermediate CA and a
//! leaf for `*.bench.test`, writes `DIR/root.pem`, listens on 127.0.0.1 and
//! serves the chain [leaf, intermediate] to every SNI with full handshakes
//! (no tickets, no session cache), then writes the port to `DIR/port`. It
//! runs until killed.
//!
//! `client` does N full, verified handshakes (SNI `h1.bench.test` ..
//! `hN.bench.test`, the root as the only trust anchor, no resumption), at
//! most C at once, copies each peer chain and closes. It prints
//! `ok=N failed=M` and exits non-zero if any failed.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::NoServerSessionStorage;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Bound on each connection (connect + handshake + close).
const CONN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(about = "Bare rustls handshake loop (the floor) and its bench server")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate the bench PKI and serve it on 127.0.0.1 until killed.
    Serve {
        /// Where to write root.pem and port.
        #[arg(long)]
        dir: PathBuf,
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Do N verified full handshakes against the bench server.
    Client {
        /// The root CA (PEM): the only trust anchor.
        #[arg(long)]
        ca: PathBuf,
        #[arg(long)]
        port: u16,
        #[arg(long, default_value_t = 1000)]
        count: u32,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tls_floor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    match cli.cmd {
        Cmd::Serve { dir, port } => rt.block_on(serve(dir, port)),
        Cmd::Client {
            ca,
            port,
            count,
            concurrency,
        } => {
            let (ok, failed) = rt.block_on(client(ca, port, count, concurrency))?;
            println!("ok={ok} failed={failed}");
            if failed > 0 {
                bail!("{failed} of {count} handshakes failed");
            }
            Ok(())
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn ca_params(cn: &str, path_len: Option<u8>, now: OffsetDateTime) -> Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "certscope bench");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(3650);
    Ok(p)
}

/// The bench PKI: (root PEM, [leaf, intermediate], leaf key).
fn make_pki() -> Result<(String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let now = OffsetDateTime::now_utc();
    let key = || KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256);
    let root =
        CertifiedIssuer::self_signed(ca_params("certscope Bench Root CA", None, now)?, key()?)
            .context("cannot make the root CA")?;
    let int = CertifiedIssuer::signed_by(
        ca_params("certscope Bench Intermediate CA", Some(0), now)?,
        key()?,
        &root,
    )
    .context("cannot make the intermediate CA")?;

    let mut p = CertificateParams::new(vec!["*.bench.test".to_string()])?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "*.bench.test");
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(90);
    let leaf_key = key()?;
    let leaf = p
        .signed_by(&leaf_key, &int)
        .context("cannot make the leaf")?;

    let chain = vec![leaf.der().clone(), int.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    Ok((root.pem(), chain, key))
}

async fn serve(dir: PathBuf, port: u16) -> Result<()> {
    let (root_pem, chain, key) = make_pki()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let root_path = dir.join("root.pem");
    std::fs::write(&root_path, root_pem)
        .with_context(|| format!("cannot write {}", root_path.display()))?;

    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the server rejects the bench chain")?;
    // Full handshakes only: no session cache, no TLS 1.3 tickets, and the
    // builder's default ticketer (which never produces tickets).
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    if config.ticketer.enabled() {
        bail!("the default ticketer produces tickets");
    }
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let bound = listener.local_addr()?.port();
    // Write then rename, so a reader never sees a partial file.
    let tmp = dir.join("port.tmp");
    std::fs::write(&tmp, format!("{bound}\n"))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, dir.join("port")).context("cannot write the port file")?;
    eprintln!("tls_floor: serving *.bench.test on 127.0.0.1:{bound}");

    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => {
                // E.g. out of file descriptors: back off briefly.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(CONN_TIMEOUT, async move {
                let _ = tcp.set_nodelay(true);
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.shutdown().await;
                }
            })
            .await;
        });
    }
}

async fn client(ca: PathBuf, port: u16, count: u32, concurrency: usize) -> Result<(u32, u32)> {
    let text =
        std::fs::read_to_string(&ca).with_context(|| format!("cannot read {}", ca.display()))?;
    let mut roots = RootCertStore::empty();
    for p in pem::parse_many(&text).with_context(|| format!("bad PEM in {}", ca.display()))? {
        if p.tag() == "CERTIFICATE" {
            roots
                .add(CertificateDer::from(p.into_contents()))
                .with_context(|| format!("bad root certificate in {}", ca.display()))?;
        }
    }
    if roots.is_empty() {
        bail!("no certificate in {}", ca.display());
    }
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = Resumption::disabled();
    let connector = TlsConnector::from(Arc::new(config));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));

    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = JoinSet::new();
    for i in 1..=count {
        let permit = sem.clone().acquire_owned().await?;
        let connector = connector.clone();
        set.spawn(async move {
            let r = tokio::time::timeout(CONN_TIMEOUT, handshake(&connector, addr, i)).await;
            drop(permit);
            match r {
                Ok(r) => r,
                Err(_) => Err(anyhow!("h{i}.bench.test: timed out")),
            }
        });
    }
    let (mut ok, mut failed) = (0u32, 0u32);
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(_chain)) => ok += 1,
            Ok(Err(e)) => {
                if failed < 5 {
                    eprintln!("tls_floor: {e:#}");
                }
                failed += 1;
            }
            Err(e) => {
                eprintln!("tls_floor: task failed: {e}");
                failed += 1;
            }
        }
    }
    Ok((ok, failed))
}

/// One full verified handshake; returns the peer's chain (DER).
async fn handshake(connector: &TlsConnector, addr: SocketAddr, i: u32) -> Result<Vec<Vec<u8>>> {
    let name = format!("h{i}.bench.test");
    let server_name = ServerName::try_from(name.clone())?;
    let tcp = TcpStream::connect(addr)
        .await
        .with_context(|| format!("{name}: connect to {addr}"))?;
    let _ = tcp.set_nodelay(true);
    let mut tls = connector
        .connect(server_name, tcp)
        .await
        .with_context(|| format!("{name}: handshake"))?;
    let chain: Vec<Vec<u8>> = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.to_vec()).collect())
        .unwrap_or_default();
    if chain.is_empty() {
        bail!("{name}: no peer certificates");
    }
    let _ = tls.shutdown().await;
    Ok(chain)
}
