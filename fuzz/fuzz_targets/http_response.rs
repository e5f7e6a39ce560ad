//! Arbitrary bytes as an HTTP response to an AIA, CRL or OCSP fetch: the
//! status line, headers, chunked or sized bodies, redirects.
#![no_main]

#[path = "common.rs"]
mod common;

use std::time::Duration;

use certscope::fetch::http::{Limits, get};
use common::env;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn serve(listener: &TcpListener, data: &[u8]) {
    // A redirect to elsewhere makes the client connect again: answer up
    // to four connections the same way.
    for n in 0..4 {
        let wait = Duration::from_millis(if n == 0 { 400 } else { 30 });
        let Ok(Ok((mut s, _))) = tokio::time::timeout(wait, listener.accept()).await else {
            return;
        };
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await;
        let _ = s.write_all(data).await;
        let _ = s.shutdown().await;
        // Only a redirect brings the client back.
        if !data
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"location:"))
        {
            return;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let e = env();
    let url = format!("http://127.0.0.1:{}/fuzz.crl", e.addr.port());
    let limits = Limits {
        timeout: Duration::from_millis(300),
        max_bytes: 1 << 20,
    };
    e.rt.block_on(async {
        tokio::join!(serve(&e.listener, data), async {
            let _ = get(&url, &limits).await;
        });
    });
});
