//! Arbitrary bytes from a server: a loopback listener sends them and
//! closes, and the real probe reads them: the TLS handshake (with the
//! capturing verifier), each STARTTLS dialogue, or the raw legacy hello
//! reader. The first byte picks which.
#![no_main]

#[path = "common.rs"]
mod common;

use std::time::Duration;

use certscope::probe::{ProbeOptions, probe_at};
use certscope::target::{Proto, Target};
use common::env;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serve `data` to each connection the probe makes (it reconnects once
/// for the legacy hello), then close, reading what the client sends
/// meanwhile for a bounded time.
async fn serve(listener: &TcpListener, data: &[u8]) {
    for n in 0..2 {
        let wait = Duration::from_millis(if n == 0 { 1000 } else { 20 });
        let Ok(Ok((mut s, _))) = tokio::time::timeout(wait, listener.accept()).await else {
            return;
        };
        let _ = s.write_all(data).await;
        let _ = s.shutdown().await;
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(50), async {
            while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let e = env();
    let timeout = Duration::from_millis(150);
    e.rt.block_on(async {
        let client = async {
            match mode % 10 {
                9 => {
                    if let Ok(tcp) = tokio::net::TcpStream::connect(e.addr).await {
                        let _ =
                            certscope::probe::legacy::hello(tcp, Some("fuzz.test"), timeout).await;
                    }
                }
                m => {
                    let mut t = Target::parse(&format!("fuzz.test:{}", e.addr.port()), 443)
                        .expect("a target");
                    t.starttls = Proto::ALL.get(usize::from(m)).copied().filter(|_| m < 8);
                    let opts = ProbeOptions::with_timeout(timeout);
                    let _ = probe_at(&t, Some(&[e.addr]), &opts).await;
                }
            }
        };
        tokio::join!(serve(&e.listener, rest), client);
    });
});
