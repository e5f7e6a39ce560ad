//! Hostile servers: whatever bytes a peer sends, the probe ends within its
//! timeout with a classified result, and diagnosis never panics.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::probe::{ProbeOptions, probe};
use certscope::target::Target;
use certscope::x509::trust::TrustStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Replies a server can give to a ClientHello: random bytes, and random
/// bytes behind plausible TLS record and handshake headers.
fn replies(seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|i| {
            let len = (rng.next() % 600) as usize;
            let body = rng.bytes(len);
            match i % 4 {
                0 => body,
                1 => [&[0x16, 0x03, 0x03][..], &(len as u16).to_be_bytes(), &body].concat(),
                2 => {
                    // A ServerHello-looking handshake message with a lying length.
                    let mut v = vec![
                        0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00, 0xff, 0xff, 0x03, 0x03,
                    ];
                    v.extend(body);
                    v
                }
                _ => [&[0x15, 0x03, 0x01, 0x00, 0x02][..], &rng.bytes(2)].concat(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_server_bytes_never_panic_or_hang() {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("port").port();
    let blobs = replies(0x5eed_cafe_f00d_0001, 120);
    let count = blobs.len();
    let server = tokio::spawn(async move {
        for blob in blobs {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await;
            let _ = s.write_all(&blob).await;
            let _ = s.shutdown().await;
        }
    });
    let trust = TrustStore::default();
    let opts = ProbeOptions::with_timeout(Duration::from_millis(800));
    for i in 0..count {
        let target = Target::parse(&format!("127.0.0.1:{port}"), 443).expect("target");
        let obs = tokio::time::timeout(Duration::from_secs(10), probe(&target, &opts))
            .await
            .unwrap_or_else(|_| panic!("probe {i} hung"));
        assert!(
            obs.error.is_some() || !obs.chain.is_empty(),
            "reply {i}: neither an error nor a certificate"
        );
        if let Some(e) = &obs.error {
            assert!(
                !e.message.contains('\u{1b}'),
                "reply {i}: unsanitized message {:?}",
                e.message
            );
        }
        let report = diagnose(&obs, &trust, obs.started_at, &DiagnoseOptions::default());
        assert!(
            !report.findings.is_empty(),
            "reply {i}: a failed probe must say why"
        );
    }
    server.abort();
}
