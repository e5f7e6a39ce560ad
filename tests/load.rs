//! Load: 1,000 targets that accept a connection and never answer, checked
//! by the real binary with `--concurrency 256 --timeout 2`, finish in
//! about ceil(1000/256) x 2 s (bounded here at 40 s), each with its
//! timeout finding. (200 silent scrapes of `serve` against a good one:
//! tests/serve.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_silent_targets_finish_in_waves_of_the_concurrency() {
    // A server that accepts everything and says nothing, holding every
    // connection until the test ends.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("silent.toml");
    let mut text = String::new();
    for i in 0..1_000 {
        let _ = writeln!(
            text,
            "[[target]]\nhost = \"s{i}.load.test:{port}\"\nresolve = \"127.0.0.1\"\n"
        );
    }
    std::fs::write(&hosts, text).unwrap();
    let args: Vec<String> = [
        "check",
        "--format",
        "jsonl",
        "--concurrency",
        "256",
        "--timeout",
        "2",
        "--no-revocation",
        "--no-aia",
        "--hosts-file",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([hosts.display().to_string()])
    .collect();
    let limit = Duration::from_secs(40);
    let t0 = Instant::now();
    let o = common::off_runtime("certscope check (load)", limit, move || {
        let mut cmd = common::certscope(&args);
        cmd.env("XDG_CONFIG_HOME", "/nonexistent-certscope-test");
        common::run_bounded(cmd, "certscope check (load)", limit)
    })
    .await;
    let took = t0.elapsed();
    holder.abort();
    assert_eq!(o.code, Some(3), "every target is an error");
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1_000);
    for l in &lines {
        assert_eq!(l["status"], "error", "{l}");
        assert_eq!(l["findings"][0]["code"], "timeout", "{l}");
    }
    // Four waves of 2 s; far less than one target after another (2,000 s).
    eprintln!("1,000 silent targets: {took:?}");
    assert!(took < limit, "{took:?}");
}
