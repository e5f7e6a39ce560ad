//! Building blocks for tests and benchmarks: a small in-process PKI and
//! reports made by the real engine from it. Not part of the stable API.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test harness only (doc-hidden)

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::diagnose::{DiagnoseOptions, diagnose};
use crate::report::Report;
use crate::report::observation::{ConnCode, ConnFailure, Observation, Timings, TlsFacts};
use crate::target::Target;
use crate::x509::trust::{AnchorOrigin, TrustStore};

pub const DAY: i64 = 86_400;
/// 2026-01-01T00:00:00Z, a fixed clock for tests.
pub const T0: i64 = 1_767_225_600;

fn at(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// CA certificate parameters valid from `nb` to `na` (unix seconds).
pub fn ca_params(cn: &str, nb: i64, na: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = at(nb);
    p.not_after = at(na);
    p
}

/// A root and an intermediate, valid for years around [`T0`].
pub struct TestPki {
    pub root_der: Vec<u8>,
    pub int: CertifiedIssuer<'static, KeyPair>,
}

impl TestPki {
    pub fn new() -> TestPki {
        let root = CertifiedIssuer::self_signed(
            ca_params("Test Root", T0 - 1000 * DAY, T0 + 3000 * DAY),
            KeyPair::generate().expect("key generation works"),
        )
        .expect("root");
        let int = CertifiedIssuer::signed_by(
            ca_params("Test Intermediate", T0 - 900 * DAY, T0 + 2000 * DAY),
            KeyPair::generate().expect("key generation works"),
            &root,
        )
        .expect("intermediate");
        TestPki {
            root_der: root.der().to_vec(),
            int,
        }
    }

    /// A store holding only the root, as if from a CA file.
    pub fn trust(&self) -> TrustStore {
        TrustStore::from_ders(
            std::slice::from_ref(&self.root_der),
            AnchorOrigin::CaFile("test-root.pem".into()),
        )
        .expect("the root is a usable anchor")
    }

    /// `[leaf, intermediate]` for `sans`, valid from `nb` to `na`; `tweak`
    /// may change any parameter before signing.
    pub fn chain(
        &self,
        sans: &[&str],
        nb: i64,
        na: i64,
        tweak: impl FnOnce(&mut CertificateParams),
    ) -> Vec<Vec<u8>> {
        let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("names");
        p.distinguished_name.push(
            DnType::CommonName,
            sans.first().copied().unwrap_or("cn.test"),
        );
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.not_before = at(nb);
        p.not_after = at(na);
        tweak(&mut p);
        let key = KeyPair::generate().expect("key generation works");
        let cert = p.signed_by(&key, &self.int).expect("leaf");
        vec![cert.der().to_vec(), self.int.der().to_vec()]
    }

    /// Diagnose `chain` as presented by `target` (host:port) at `now`.
    pub fn report(&self, target: &str, chain: Vec<Vec<u8>>, now: i64) -> Report {
        diagnose(
            &observation(target, chain, now),
            &self.trust(),
            now,
            &DiagnoseOptions::default(),
        )
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// An observation of `target` that presented `chain` over TLS 1.3.
pub fn observation(target: &str, chain: Vec<Vec<u8>>, now: i64) -> Observation {
    Observation {
        target: Target::parse(target, 443).expect("test target parses"),
        address: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 443))),
        chain,
        tls: Some(TlsFacts {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            ..TlsFacts::default()
        }),
        ocsp_stapled: None,
        error: None,
        timings: Timings {
            total_ms: 12,
            ..Timings::default()
        },
        started_at: now,
        origin: Default::default(),
        fetches: Vec::new(),
        revocation_checked: false,
        staple_checked: None,
        deployed: None,
        no_sni: None,
    }
}

/// The report of a target that could not be reached at all.
pub fn connection_failure(target: &str, code: ConnCode, message: &str, now: i64) -> Report {
    let mut obs = observation(target, Vec::new(), now);
    obs.tls = None;
    obs.error = Some(ConnFailure {
        code,
        step: "connect",
        message: message.into(),
        alert: None,
        peer_said: None,
        local: false,
    });
    diagnose(
        &obs,
        &TrustStore::default(),
        now,
        &DiagnoseOptions::default(),
    )
}

/// Rust debug output in a message: `Some(`, `Ok(`, `Err(`, `Error::`, or a
/// CamelCase identifier followed by `(` or ` {`.
pub fn debug_text(s: &str) -> Option<String> {
    for pat in ["Some(", "Ok(", "Err(", "Error::", "None)", "{ "] {
        if s.contains(pat) {
            return Some(pat.to_string());
        }
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_uppercase() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let word = &s[start..i];
            let humps = word.bytes().filter(|c| c.is_ascii_uppercase()).count();
            let lower = word.bytes().any(|c| c.is_ascii_lowercase());
            if humps >= 2 && lower && (s[i..].starts_with('(') || s[i..].starts_with(" {")) {
                return Some(word.to_string());
            }
        } else {
            i += 1;
        }
    }
    None
}
