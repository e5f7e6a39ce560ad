//! What one handshake cannot show, through `certscope check --json` against
//! the lab: every address of a name (127.0.0.1 and 127.0.0.2 on one port),
//! the deployed files against the served certificate, and the answer
//! without SNI. Exact finding codes, the addresses they name, the fix.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::time::Duration;

use certscope::lab::Lab;
use common::{codes, start_lab};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn check(args: Vec<String>) -> Out {
    let what = format!("certscope {args:?}");
    common::off_runtime(&what.clone(), LIMIT, move || {
        let o = common::run_bounded(common::certscope(&args), &what, LIMIT);
        Out {
            code: o.code,
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    })
    .await
}

/// `check --json --ca-file LAB --timeout 3 --resolve RULE TARGET EXTRA...`
/// for scenario `id`; its one result and the exit code.
async fn result(lab: &Lab, id: &str, extra: &[&str]) -> (Value, Option<i32>) {
    let t = lab.get(id).unwrap();
    let mut args = vec![
        "check".to_string(),
        "--json".into(),
        "--timeout".into(),
        "3".into(),
        "--ca-file".into(),
        lab.ca_file.display().to_string(),
        "--resolve".into(),
        t.resolve().unwrap(),
        t.target(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = check(args).await;
    let doc: Value = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("{id}: not JSON ({e}): {}\n{}", o.stdout, o.stderr));
    (doc["results"][0].clone(), o.code)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn finding<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {r:#}"))
}

fn commands(f: &Value) -> String {
    f["fix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} {}\n", s["title"], s["command"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_addresses_one_expired() {
    let lab = start_lab().await;
    let (r, code) = result(&lab, "stale-node", &[]).await;
    assert_eq!(sorted(codes(&r)), ["expired", "inconsistent-endpoints"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        finding(&r, "expired")["addresses"],
        serde_json::json!(["127.0.0.2"])
    );
    let inc = finding(&r, "inconsistent-endpoints");
    assert_eq!(inc["severity"], "warning");
    assert_eq!(
        inc["addresses"],
        serde_json::json!(["127.0.0.1", "127.0.0.2"])
    );
    assert!(
        inc["title"].as_str().unwrap().contains("different leaf"),
        "{inc}"
    );
    assert!(
        commands(inc).contains("for a in 127.0.0.1 127.0.0.2; do"),
        "{}",
        commands(inc)
    );
    let eps = r["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 2);
    assert_eq!(
        (eps[0]["address"].as_str(), eps[0]["status"].as_str()),
        (Some("127.0.0.1"), Some("ok"))
    );
    assert_eq!(
        (eps[1]["address"].as_str(), eps[1]["status"].as_str()),
        (Some("127.0.0.2"), Some("critical"))
    );
    assert_eq!(eps[1]["findings"], serde_json::json!(["expired"]));
    assert_ne!(eps[0]["chain_sha256"][0], eps[1]["chain_sha256"][0]);
    // The fix for the expired leaf connects to the address that serves it.
    assert!(
        commands(finding(&r, "expired")).contains("127.0.0.2:"),
        "{}",
        commands(finding(&r, "expired"))
    );

    // --first-address-only: the old way, one address, no comparison.
    let (r, code) = result(&lab, "stale-node", &["--first-address-only"]).await;
    assert_eq!(codes(&r), Vec::<String>::new());
    assert_eq!(code, Some(0));
    assert!(r.get("endpoints").is_none(), "{r:#}");
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_addresses_two_valid_leaves() {
    let lab = start_lab().await;
    let (r, code) = result(&lab, "split-nodes", &[]).await;
    assert_eq!(codes(&r), ["inconsistent-endpoints"]);
    assert_eq!(code, Some(1), "a warning");
    assert_eq!(r["status"], "warning");
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_fails_is_critical() {
    let lab = start_lab().await;
    let good = lab.get("good").unwrap();
    // 127.0.0.3 listens on nothing at that port.
    let rule = format!("good.lab.test:{}:127.0.0.1,127.0.0.3", good.port);
    let o = check(vec![
        "check".into(),
        "--json".into(),
        "--timeout".into(),
        "3".into(),
        "--ca-file".into(),
        lab.ca_file.display().to_string(),
        "--resolve".into(),
        rule,
        good.target(),
    ])
    .await;
    let doc: Value = serde_json::from_str(&o.stdout).unwrap();
    let r = &doc["results"][0];
    assert_eq!(sorted(codes(r)), ["inconsistent-endpoints", "unreachable"]);
    assert_eq!(
        codes(r)[0],
        "inconsistent-endpoints",
        "the explanation first"
    );
    let inc = finding(r, "inconsistent-endpoints");
    assert_eq!(inc["severity"], "critical");
    assert!(
        inc["title"].as_str().unwrap().contains("127.0.0.3 fails"),
        "{inc}"
    );
    assert_eq!(
        finding(r, "unreachable")["addresses"],
        serde_json::json!(["127.0.0.3"])
    );
    assert_eq!(o.code, Some(2));
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_lists_and_malformed_lists() {
    for bad in [
        "a.test:443:127.0.0.1,",
        "a.test:443:127.0.0.1,,127.0.0.2",
        "a.test:443:127.0.0.1,nope",
    ] {
        let o = check(vec![
            "check".into(),
            "--resolve".into(),
            bad.into(),
            "a.test".into(),
        ])
        .await;
        assert_eq!(o.code, Some(3), "{bad}: {}", o.stderr);
        assert!(
            o.stderr.contains("--resolve") && o.stderr.contains(bad),
            "{bad}: {}",
            o.stderr
        );
        assert_eq!(o.stderr.trim_end().lines().count(), 1, "{}", o.stderr);
    }
    // A hosts file takes the same list.
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("h.toml");
    std::fs::write(
        &hosts,
        "[[target]]\nhost = \"a.test\"\nresolve = \"127.0.0.1,bad\"\n",
    )
    .unwrap();
    let o = check(vec![
        "check".into(),
        "--hosts-file".into(),
        hosts.display().to_string(),
    ])
    .await;
    assert_eq!(o.code, Some(3));
    assert!(
        o.stderr.contains("line 3") && o.stderr.contains("\"bad\" is not an IP address"),
        "{}",
        o.stderr
    );
}

/// A certificate file for `name`, valid from `nb_days` (relative to now).
fn cert_file(
    dir: &Path,
    file: &str,
    name: &str,
    nb_days: i64,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut p = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now + time::Duration::days(nb_days);
    p.not_after = now + time::Duration::days(nb_days + 90);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    let c = dir.join(format!("{file}.pem"));
    let k = dir.join(format!("{file}.key"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_files_against_the_served_certificate() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    // The lab's leaves start 10 days ago.
    let (newer, newer_key) = cert_file(dir.path(), "renewed", "good.lab.test", -1);
    let (older, _) = cert_file(dir.path(), "old", "good.lab.test", -50);
    let s = |p: &Path| p.display().to_string();

    // Renewed on disk, not reloaded: disk-mismatch with the reload step; its
    // key belongs to the renewed file, so no key-mismatch.
    let (r, code) = result(
        &lab,
        "good",
        &["--expect-cert", &s(&newer), "--expect-key", &s(&newer_key)],
    )
    .await;
    assert_eq!(codes(&r), ["disk-mismatch"]);
    assert_eq!(code, Some(1));
    let f = finding(&r, "disk-mismatch");
    assert!(f["title"].as_str().unwrap().contains("not reloaded"), "{f}");
    let fix = commands(f);
    for reload in [
        "systemctl reload nginx",
        "apachectl -k graceful",
        "systemctl reload haproxy",
        "caddy reload",
    ] {
        assert!(fix.contains(reload), "{reload} in {fix}");
    }

    // Older on disk: the deployment missed a copy; no reload step.
    let (r, _) = result(&lab, "good", &["--expect-cert", &s(&older)]).await;
    assert_eq!(codes(&r), ["disk-mismatch"]);
    let f = finding(&r, "disk-mismatch");
    assert!(f["title"].as_str().unwrap().contains("older"), "{f}");
    assert!(
        f["detail"].as_str().unwrap().contains("missed this copy"),
        "{f}"
    );
    assert!(!commands(f).contains("reload nginx"), "{}", commands(f));

    // A key that belongs to nothing served: key-mismatch (critical).
    let (r, code) = result(&lab, "good", &["--expect-key", &s(&newer_key)]).await;
    assert_eq!(codes(&r), ["key-mismatch"]);
    assert_eq!(code, Some(2));
    assert!(commands(finding(&r, "key-mismatch")).contains("openssl pkey -in"));

    // Unreadable files are bad input, named.
    let o = check(vec![
        "check".into(),
        "--expect-cert".into(),
        "/nonexistent/cert.pem".into(),
        "a.test".into(),
    ])
    .await;
    assert_eq!(o.code, Some(3));
    assert!(
        o.stderr.contains("--expect-cert") && o.stderr.contains("/nonexistent/cert.pem"),
        "{}",
        o.stderr
    );
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_without_sni() {
    let lab = start_lab().await;
    let (r, code) = result(&lab, "sni-default", &["--compare-no-sni"]).await;
    assert_eq!(codes(&r), ["sni-default-differs"]);
    assert_eq!(code, Some(0), "information only");
    let f = finding(&r, "sni-default-differs");
    assert_eq!(f["severity"], "info");
    assert!(
        f["detail"].as_str().unwrap().contains("default.lab.test"),
        "{f}"
    );
    assert!(
        f["clients"]["openssl"].as_str().unwrap().contains("Java 6"),
        "{f}"
    );
    assert!(commands(f).contains("-noservername"), "{}", commands(f));
    // Without the flag, or where both answers agree: nothing.
    let (r, _) = result(&lab, "sni-default", &[]).await;
    assert_eq!(codes(&r), Vec::<String>::new());
    let (r, _) = result(&lab, "good", &["--compare-no-sni"]).await;
    assert_eq!(codes(&r), Vec::<String>::new());
    lab.shutdown();
}
