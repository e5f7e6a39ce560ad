//! Arbitrary bytes as an OCSP response (fetched or stapled) for a real
//! certificate and issuer.
#![no_main]

#[path = "common.rs"]
mod common;

use certscope::testkit::T0;
use common::pair;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (leaf, subject, spki) = pair();
    let _ = certscope::x509::ocsp::check(data, leaf, subject, spki, T0);
});
