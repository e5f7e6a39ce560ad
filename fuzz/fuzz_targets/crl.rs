//! Arbitrary bytes as a CRL (DER or PEM) for a real certificate and issuer.
#![no_main]

#[path = "common.rs"]
mod common;

use certscope::testkit::T0;
use common::pair;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (leaf, subject, spki) = pair();
    let _ = certscope::x509::crl::check(data, leaf, subject, spki, T0);
    let _ = certscope::x509::crl::summary(data);
});
