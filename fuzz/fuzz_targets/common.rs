//! What several fuzz targets share: a leaf and its issuer, and a loopback
//! listener on a current-thread runtime (included with `#[path]`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::OnceLock;

use certscope::testkit::{DAY, T0, TestPki};
use certscope::x509::cert::CertInfo;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// A leaf for fuzz.test and its issuer's subject and key.
pub fn pair() -> &'static (CertInfo, Vec<u8>, Vec<u8>) {
    static P: OnceLock<(CertInfo, Vec<u8>, Vec<u8>)> = OnceLock::new();
    P.get_or_init(|| {
        let pki = TestPki::new();
        let chain = pki.chain(&["fuzz.test"], T0 - DAY, T0 + 90 * DAY, |_| {});
        let leaf = CertInfo::from_der(&chain[0]).expect("leaf");
        let issuer = CertInfo::from_der(&chain[1]).expect("issuer");
        (leaf, issuer.subject_raw.clone(), issuer.spki_der.clone())
    })
}

/// A runtime and a listener on 127.0.0.1, made once.
pub struct Env {
    pub rt: Runtime,
    pub listener: TcpListener,
    pub addr: SocketAddr,
}

pub fn env() -> &'static Env {
    static E: OnceLock<Env> = OnceLock::new();
    E.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        Env { rt, listener, addr }
    })
}
