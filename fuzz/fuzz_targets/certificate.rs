//! Arbitrary bytes as a certificate file (PEM chain, bundle or DER), through
//! to the diagnosis, as `certscope inspect` reads one.
#![no_main]

use std::sync::OnceLock;

use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::probe::file::{FileOptions, observe_bytes};
use certscope::x509::trust::{StoreKind, TrustStore};
use libfuzzer_sys::fuzz_target;

fn trust() -> &'static TrustStore {
    static T: OnceLock<TrustStore> = OnceLock::new();
    T.get_or_init(|| TrustStore::load(StoreKind::Mozilla, &[]).expect("the built-in roots load"))
}

fuzz_target!(|data: &[u8]| {
    // 2026-01-01: a fixed instant, so runs reproduce.
    let now = 1_767_225_600;
    let opts = FileOptions::default();
    if let Ok(obs) = observe_bytes(data, "fuzz.pem", &opts, now) {
        let r = diagnose(&obs, trust(), now, &DiagnoseOptions::default());
        let _ = certscope::report::json_line(&r);
        let _ = certscope::report::text::render(&r, false);
    }
});
