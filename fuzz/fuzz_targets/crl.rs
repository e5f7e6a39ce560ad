//! Arbitrary bytes as a CRL (DER or PEM) for a real certificate and issuer.
#![no_main]

use std::sync::OnceLock;

use certscope::testkit::{DAY, T0, TestPki};
use certscope::x509::cert::CertInfo;
use libfuzzer_sys::fuzz_target;

fn pair() -> &'static (CertInfo, Vec<u8>, Vec<u8>) {
    static P: OnceLock<(CertInfo, Vec<u8>, Vec<u8>)> = OnceLock::new();
    P.get_or_init(|| {
        let pki = TestPki::new();
        let chain = pki.chain(&["fuzz.test"], T0 - DAY, T0 + 90 * DAY, |_| {});
        let leaf = CertInfo::from_der(&chain[0]).expect("leaf");
        let issuer = CertInfo::from_der(&chain[1]).expect("issuer");
        (leaf, issuer.subject_raw.clone(), issuer.spki_der.clone())
    })
}

fuzz_target!(|data: &[u8]| {
    let (leaf, subject, spki) = pair();
    let _ = certscope::x509::crl::check(data, leaf, subject, spki, T0);
    let _ = certscope::x509::crl::summary(data);
});
