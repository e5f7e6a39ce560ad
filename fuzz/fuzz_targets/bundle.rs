//! Arbitrary bytes as what an AIA caIssuers URL serves: DER, PEM or a
//! PKCS#7 bundle (BER lengths included).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(certs) = certscope::x509::bundle::certs_from_body(data) {
        for c in certs.iter().take(64) {
            let _ = certscope::x509::cert::CertInfo::from_der(c);
        }
    }
});
