//! The certificate side, pure and offline: the certificate model (each
//! certificate parsed once, `cert`), PKCS#7/PEM bundles (`bundle`), chain
//! building against a trust store (`chain`, `trust`), host-name matching
//! (`names`), and parsing and verifying CRLs and OCSP responses (`crl`,
//! `ocsp`).
//!
//! Owns: X.509 structures and their verification. Never imports the
//! network (`probe`, `fetch`), the diagnosis, reports or any mode.

pub mod bundle;
pub mod cert;
pub mod chain;
pub mod crl;
pub mod names;
pub mod ocsp;
pub mod path;
pub mod private_key;
pub mod trust;

/// The one crypto provider certscope uses (ring), built once per process.
/// Kept in one place: rustls 0.24 moves providers into their own crates.
pub fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: std::sync::OnceLock<std::sync::Arc<rustls::crypto::CryptoProvider>> =
        std::sync::OnceLock::new();
    PROVIDER
        .get_or_init(|| std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}
