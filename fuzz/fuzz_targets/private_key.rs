//! Arbitrary bytes as a private key file (`--key`, `--expect-key`): PKCS#8,
//! PKCS#1, SEC1, PEM or DER.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = certscope::x509::private_key::public_key_of(data) {
        let _ = certscope::x509::private_key::fingerprint(&k.spki);
    }
});
