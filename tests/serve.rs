//! `certscope serve` as Prometheus uses it: the real binary on 127.0.0.1
//! port 0 against the in-process lab, asked over HTTP. Metrics are
//! checked by name, labels and value, and by `promtool check metrics`; a
//! real Prometheus scrapes it with the shipped configuration.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use certscope::lab::Lab;
use common::{BIN, Daemon, start_lab};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bound on one HTTP exchange with the exporter.
const HTTP_LIMIT: Duration = Duration::from_secs(30);

/// The port of `certscope serve: listening on http://127.0.0.1:PORT/`.
fn listening_line(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("certscope serve: listening on http://127.0.0.1:")?;
    rest.trim_end_matches('/').parse().ok()
}

/// `--resolve` for every lab target.
fn resolve_args(lab: &Lab) -> Vec<String> {
    lab.targets
        .iter()
        .filter_map(|t| t.resolve())
        .flat_map(|r| ["--resolve".to_string(), r])
        .collect()
}

/// Start `certscope serve` trusting the lab, allowing `*.lab.test`, with
/// `extra` arguments.
fn serve(lab: &Lab, dir: &Path, extra: &[&str]) -> Daemon {
    let mut args: Vec<String> = vec![
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--ca-file".into(),
        lab.ca_file.display().to_string(),
    ];
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout".to_string(), "3".to_string()]);
    }
    args.extend(resolve_args(lab));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Daemon::start(dir, "serve", BIN, &args, listening_line)
}

struct Answer {
    status: u16,
    headers: String,
    body: String,
}

/// `GET path` with extra header lines, bounded in time.
async fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Answer {
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect to certscope serve");
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await.expect("send the request");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.expect("read the answer");
        let text = String::from_utf8(buf).expect("a UTF-8 answer");
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("a status code");
        Answer {
            status,
            headers: head.to_ascii_lowercase(),
            body: body.to_string(),
        }
    };
    tokio::time::timeout(HTTP_LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("GET {path} took longer than {HTTP_LIMIT:?}"))
}

fn probe_path(lab: &Lab, id: &str) -> String {
    let t = lab
        .targets
        .iter()
        .find(|t| t.id == id)
        .expect("a lab scenario");
    format!("/probe?target={}", t.target())
}

/// One sample: the metric name and its labels.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parse the exposition (enough of it for these tests: label values
/// without escaped quotes).
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("name and value");
            let (name, labels) = match series.split_once('{') {
                None => (series.to_string(), BTreeMap::new()),
                Some((n, rest)) => {
                    let inner = rest.strip_suffix('}').expect("closing brace");
                    let mut m = BTreeMap::new();
                    for kv in inner.split("\",") {
                        let (k, v) = kv.split_once("=\"").expect("label=value");
                        m.insert(k.to_string(), v.trim_end_matches('"').to_string());
                    }
                    (n.to_string(), m)
                }
            };
            Sample {
                name,
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

fn one<'a>(s: &'a [Sample], name: &str) -> &'a Sample {
    let found: Vec<_> = s.iter().filter(|x| x.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} in {s:#?}");
    found[0]
}

fn all<'a>(s: &'a [Sample], name: &str) -> Vec<&'a Sample> {
    s.iter().filter(|x| x.name == name).collect()
}

fn finding_codes(s: &[Sample]) -> Vec<String> {
    let mut c: Vec<String> = all(s, "certscope_finding")
        .iter()
        .map(|x| x.labels["code"].clone())
        .collect();
    c.sort();
    c
}

/// `promtool check metrics` accepts the text.
fn promtool_accepts(text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs (CI installs Debian's prometheus package)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics refused:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_say_why_for_each_kind_of_target() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let d = serve(&lab, dir.path(), &["--allow", "*.lab.test"]);

    // good: status 0, a leaf and an intermediate with future notAfter.
    let a = get(d.port, &probe_path(&lab, "good"), &[]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.headers
            .contains("content-type: application/openmetrics-text"),
        "{}",
        a.headers
    );
    promtool_accepts(&a.body);
    let s = samples(&a.body);
    assert_eq!(one(&s, "certscope_probe_success").value, 1.0);
    assert_eq!(one(&s, "certscope_probe_status").value, 0.0);
    assert!(one(&s, "certscope_probe_duration_seconds").value >= 0.0);
    assert_eq!(finding_codes(&s), Vec::<String>::new());
    let na = all(&s, "certscope_cert_not_after_timestamp_seconds");
    let leaf = na
        .iter()
        .find(|x| x.labels["index"] == "0")
        .expect("the leaf");
    assert_eq!(leaf.labels["position"], "leaf");
    assert_eq!(leaf.labels["subject_cn"], "good.lab.test");
    assert_eq!(leaf.labels["issuer_cn"], "certscope Lab Intermediate CA");
    assert_eq!(leaf.labels["sha256"].len(), 95, "colon hex SHA-256");
    assert!(!leaf.labels["serial"].is_empty());
    assert!(leaf.value > now(), "the good leaf expires in the future");
    assert!(na.iter().any(|x| x.labels["position"] == "intermediate"));
    let nb = all(&s, "certscope_cert_not_before_timestamp_seconds");
    assert_eq!(nb.len(), na.len());
    assert!(nb.iter().all(|x| x.value < now()));
    let expiry = one(&s, "certscope_chain_expiry_timestamp_seconds").value;
    let min_na = na.iter().map(|x| x.value).fold(f64::MAX, f64::min);
    assert_eq!(expiry, min_na, "the earliest notAfter on the path");
    assert_eq!(
        one(&s, "certscope_tls_version_info").labels["version"],
        "TLSv1.3"
    );
    assert_eq!(one(&s, "certscope_ocsp_stapled").value, 0.0);

    // expired: the certificate metrics are there, in the past, and say why.
    let a = get(d.port, &probe_path(&lab, "expired"), &[]).await;
    promtool_accepts(&a.body);
    let s = samples(&a.body);
    assert_eq!(one(&s, "certscope_probe_success").value, 1.0);
    assert_eq!(one(&s, "certscope_probe_status").value, 2.0);
    let leaf = all(&s, "certscope_cert_not_after_timestamp_seconds")
        .into_iter()
        .find(|x| x.labels["index"] == "0")
        .cloned()
        .unwrap();
    assert!(
        leaf.value < now(),
        "the expired leaf's notAfter is in the past"
    );
    assert!(one(&s, "certscope_chain_expiry_timestamp_seconds").value < now());
    let f = one(&s, "certscope_finding");
    assert_eq!(
        (
            f.labels["code"].as_str(),
            f.labels["severity"].as_str(),
            f.labels["cert"].as_str()
        ),
        ("expired", "critical", "0")
    );
    assert_eq!(f.value, 1.0);

    // revoked (CRL): the leaf's revocation status says so.
    let a = get(d.port, &probe_path(&lab, "revoked-crl"), &[]).await;
    promtool_accepts(&a.body);
    let s = samples(&a.body);
    assert_eq!(one(&s, "certscope_probe_status").value, 2.0);
    assert!(
        finding_codes(&s).contains(&"revoked".to_string()),
        "{:?}",
        finding_codes(&s)
    );
    let rev = all(&s, "certscope_cert_revocation_status");
    let leaf_rev = rev
        .iter()
        .find(|x| x.labels["index"] == "0")
        .expect("leaf revocation");
    assert_eq!(leaf_rev.labels["status"], "revoked");
    assert_eq!(leaf_rev.value, 1.0);

    // untrusted root: a chain, and the reason.
    let a = get(d.port, &probe_path(&lab, "untrusted-root"), &[]).await;
    let s = samples(&a.body);
    assert_eq!(one(&s, "certscope_probe_success").value, 1.0);
    assert_eq!(one(&s, "certscope_probe_status").value, 2.0);
    assert!(
        finding_codes(&s).contains(&"untrusted-root".to_string()),
        "{:?}",
        finding_codes(&s)
    );
    assert_eq!(
        all(&s, "certscope_cert_not_after_timestamp_seconds").len(),
        3
    );

    // unreachable: no chain, status 3, the connection finding.
    let a = get(d.port, &probe_path(&lab, "closed"), &[]).await;
    assert_eq!(
        a.status, 200,
        "a failed probe is still a scrape: {}",
        a.body
    );
    promtool_accepts(&a.body);
    let s = samples(&a.body);
    assert_eq!(one(&s, "certscope_probe_success").value, 0.0);
    assert_eq!(one(&s, "certscope_probe_status").value, 3.0);
    assert_eq!(finding_codes(&s), vec!["unreachable".to_string()]);
    assert!(all(&s, "certscope_cert_not_after_timestamp_seconds").is_empty());
    assert!(all(&s, "certscope_chain_expiry_timestamp_seconds").is_empty());

    // The exporter counted them.
    let m = get(d.port, "/metrics", &[]).await;
    assert_eq!(m.status, 200);
    let s = samples(&m.body);
    let count = |r: &str| {
        all(&s, "certscope_exporter_probes_total")
            .iter()
            .find(|x| x.labels["result"] == r)
            .map(|x| x.value)
            .unwrap()
    };
    assert_eq!(
        (count("ok"), count("critical"), count("error")),
        (1.0, 3.0, 1.0)
    );
    assert_eq!(
        one(&s, "certscope_exporter_probe_duration_seconds_count").value,
        5.0
    );
    assert_eq!(
        one(&s, "certscope_build_info").labels["version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(one(&s, "certscope_exporter_probes_in_flight").value, 0.0);
    assert!(
        all(&s, "certscope_exporter_fetch_cache_misses_total")[0].value >= 1.0,
        "the CRL was fetched"
    );

    // The page lists them, linking each JSON report.
    let page = get(d.port, "/", &[]).await;
    assert!(page.headers.contains("text/html"));
    let expired = lab.targets.iter().find(|t| t.id == "expired").unwrap();
    let link = format!("/report?target=expired.lab.test%3A{}", expired.port);
    assert!(page.body.contains(&link), "{}", page.body);
    let r = get(d.port, &link, &[]).await;
    assert_eq!(r.status, 200);
    let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["results"][0]["findings"][0]["code"], "expired");
    let r = get(d.port, "/report?target=never.lab.test:1", &[]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("never.lab.test:1"), "{}", r.body);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_requests_get_one_line_naming_them() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let d = serve(&lab, dir.path(), &["--allow", "*.lab.test"]);
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: &[Case] = &[
        (
            "/probe?target=example.com:443",
            &[],
            403,
            "example.com:443 is not allowed",
        ),
        (
            "/probe?target=127.0.0.1:443",
            &[],
            403,
            "127.0.0.1:443 is not allowed",
        ),
        ("/probe", &[], 400, "missing the target parameter"),
        ("/probe?target=", &[], 400, "missing the target parameter"),
        (
            "/probe?target=a.lab.test:99999",
            &[],
            400,
            "bad target parameter",
        ),
        (
            "/probe?target=a.lab.test&target=b.lab.test",
            &[],
            400,
            "target parameter is given twice",
        ),
        (
            "/probe?target=a.lab.test&module=nope",
            &[],
            400,
            "unknown module \"nope\"",
        ),
        (
            "/probe?target=a.lab.test",
            &[("X-Prometheus-Scrape-Timeout-Seconds", "soon")],
            400,
            "X-Prometheus-Scrape-Timeout-Seconds",
        ),
        ("/nothing-here", &[], 404, "/probe?target=HOST:PORT"),
    ];
    for (path, headers, code, says) in cases {
        let a = get(d.port, path, headers).await;
        assert_eq!(a.status, *code, "{path}: {}", a.body);
        assert!(a.body.contains(says), "{path}: {:?} lacks {says:?}", a.body);
        assert_eq!(
            a.body.trim_end().lines().count(),
            1,
            "{path}: one line: {:?}",
            a.body
        );
    }
    // A hostile target is echoed escaped and cut, never raw.
    let long = format!("/probe?target=%1b%5b31m{}", "a".repeat(5000));
    let a = get(d.port, &long, &[]).await;
    assert_eq!(a.status, 400);
    assert!(
        !a.body.contains('\u{1b}') && a.body.len() < 600,
        "{:?}",
        a.body
    );
    // Garbage, an oversized header and a client that never finishes its
    // request: each gets an error or is cut off, and nobody else waits.
    let mut idle = tokio::net::TcpStream::connect(("127.0.0.1", d.port))
        .await
        .unwrap();
    idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    for raw in [
        b"\x16\x03\x01\x00\x05hello\r\n\r\n".to_vec(),
        format!(
            "GET / HTTP/1.1\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
            "a".repeat(100_000)
        )
        .into_bytes(),
    ] {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", d.port))
            .await
            .unwrap();
        let _ = s.write_all(&raw).await;
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(HTTP_LIMIT, s.read_to_end(&mut buf))
            .await
            .expect("a bad request is answered or closed at once");
        let head = String::from_utf8_lossy(&buf);
        assert!(
            head.is_empty() || head.starts_with("HTTP/1.1 4"),
            "{head:?}"
        );
    }
    // The exporter counted them, and still answers.
    let m = get(d.port, "/metrics", &[]).await;
    let s = samples(&m.body);
    let forbidden = all(&s, "certscope_exporter_probes_total")
        .into_iter()
        .find(|x| x.labels["result"] == "forbidden")
        .unwrap()
        .value;
    assert_eq!(forbidden, 2.0);
    assert!(d.stderr().find("panicked").is_none(), "{}", d.stderr());
    drop(idle);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scrape_timeout_bounds_a_probe_and_silent_targets_stall_nobody() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    // A per-step timeout far beyond any scrape's.
    let d = serve(
        &lab,
        dir.path(),
        &["--allow", "*.lab.test", "--timeout", "60"],
    );
    let silent = probe_path(&lab, "silent");

    // The header bounds the probe: answered before 2 s, as a timeout.
    let t0 = Instant::now();
    let a = get(
        d.port,
        &silent,
        &[("X-Prometheus-Scrape-Timeout-Seconds", "2")],
    )
    .await;
    let took = t0.elapsed();
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        took < Duration::from_secs(2),
        "answered after {took:?}, past the scrape timeout"
    );
    let s = samples(&a.body);
    assert_eq!(one(&s, "certscope_probe_status").value, 3.0);
    assert_eq!(finding_codes(&s), vec!["timeout".to_string()]);

    // 200 scrapes of the silent target in flight, then a good one: it is
    // answered while every silent one is still waiting.
    let mut pending = Vec::new();
    for _ in 0..200 {
        let (port, path) = (d.port, silent.clone());
        pending.push(tokio::spawn(async move {
            get(
                port,
                &path,
                &[("X-Prometheus-Scrape-Timeout-Seconds", "25")],
            )
            .await
        }));
    }
    // Until all 200 are in flight.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = get(d.port, "/metrics", &[]).await;
        let v = one(&samples(&m.body), "certscope_exporter_probes_in_flight").value;
        if v >= 200.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {v} silent probes in flight"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = get(
        d.port,
        &probe_path(&lab, "good"),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "25")],
    )
    .await;
    assert_eq!(one(&samples(&a.body), "certscope_probe_status").value, 0.0);
    assert!(
        pending.iter().all(|p| !p.is_finished()),
        "the good probe waited for a silent one"
    );
    for p in pending {
        p.abort();
    }
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn excess_probes_wait_within_their_deadline_then_get_503() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let d = serve(
        &lab,
        dir.path(),
        &[
            "--allow",
            "*.lab.test",
            "--concurrency",
            "1",
            "--timeout",
            "60",
        ],
    );
    let silent = probe_path(&lab, "silent");
    let (port, path) = (d.port, silent.clone());
    let hold = tokio::spawn(async move {
        get(
            port,
            &path,
            &[("X-Prometheus-Scrape-Timeout-Seconds", "20")],
        )
        .await
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = get(d.port, "/metrics", &[]).await;
        if one(&samples(&m.body), "certscope_exporter_probes_in_flight").value >= 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "the first probe never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = get(
        d.port,
        &probe_path(&lab, "good"),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")],
    )
    .await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(a.body.contains("busy"), "{}", a.body);
    hold.abort();
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hosts_file_allows_its_targets_with_their_options_and_is_watched() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let good = lab.targets.iter().find(|t| t.id == "good").unwrap();
    let expired = lab.targets.iter().find(|t| t.id == "expired").unwrap();
    // Named by a name nothing resolves: the hosts file's resolve and sni
    // make the probe reach the lab.
    let hosts = dir.path().join("hosts.toml");
    std::fs::write(
        &hosts,
        format!(
            "[[target]]\nhost = \"alias.test:{}\"\nsni = \"good.lab.test\"\nresolve = \"127.0.0.1\"\nlabels = [\"web\", \"prod\"]\n\n\
             [[target]]\nhost = \"expired.lab.test:{}\"\nresolve = \"127.0.0.1\"\n",
            good.port, expired.port
        ),
    )
    .unwrap();
    let hosts_s = hosts.display().to_string();
    // No --allow: the hosts file is the allowlist.
    let d = serve(
        &lab,
        dir.path(),
        &["--hosts-file", &hosts_s, "--interval", "10s"],
    );
    let a = get(
        d.port,
        &format!("/probe?target=alias.test:{}", good.port),
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let s = samples(&a.body);
    assert_eq!(one(&s, "certscope_probe_status").value, 0.0, "{}", a.body);
    assert_eq!(
        one(&s, "certscope_target_info").labels["labels"],
        "web,prod"
    );
    let a = get(d.port, &probe_path(&lab, "good"), &[]).await;
    assert_eq!(a.status, 403, "not in the hosts file: {}", a.body);

    // The watch probed both at once; /metrics carries them by target.
    let deadline = Instant::now() + Duration::from_secs(15);
    let s = loop {
        let m = get(d.port, "/metrics", &[]).await;
        let s = samples(&m.body);
        if all(&s, "certscope_probe_status").len() == 2 {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the watch did not report both targets:\n{}",
            m.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let status: BTreeMap<String, f64> = all(&s, "certscope_probe_status")
        .iter()
        .map(|x| (x.labels["target"].clone(), x.value))
        .collect();
    assert_eq!(status[&format!("alias.test:{}", good.port)], 0.0);
    assert_eq!(status[&format!("expired.lab.test:{}", expired.port)], 2.0);
    let f = one(&s, "certscope_finding");
    assert_eq!(f.labels["code"], "expired");
    assert_eq!(
        f.labels["target"],
        format!("expired.lab.test:{}", expired.port)
    );
    lab.shutdown();
}

#[test]
fn bad_command_lines_exit_3_naming_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("serve.toml");
    std::fs::write(&cfg, "[module.x]\nwarn-dayz = 3\n").unwrap();
    let cfg_s = cfg.display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["serve", "--allow", "10.0.0.0/40"], "10.0.0.0/40"),
        (
            &["serve", "--interval", "1m"],
            "--interval needs --hosts-file",
        ),
        (&["serve", "--config", &cfg_s], "warn-dayz"),
        (&["serve", "--listen", "nowhere"], "nowhere"),
    ];
    for (args, says) in cases {
        let o = common::run_bounded(
            common::certscope(args),
            "certscope serve",
            Duration::from_secs(10),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.code, Some(3), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err:?} lacks {says:?}");
    }
}

/// The shipped assets directory.
fn assets() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/prometheus")
}

fn promtool(args: &[&str]) -> String {
    let mut cmd = std::process::Command::new("promtool");
    cmd.args(args).current_dir(assets());
    let o = common::run_bounded(cmd, &format!("promtool {args:?}"), Duration::from_secs(60));
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.code, Some(0), "promtool {args:?} failed:\n{out}");
    out
}

#[test]
fn the_shipped_rules_and_configs_pass_promtool() {
    let out = promtool(&["check", "rules", "certscope-rules.yml"]);
    assert!(out.contains("SUCCESS"), "{out}");
    let out = promtool(&["test", "rules", "certscope-rules.test.yml"]);
    assert!(out.contains("SUCCESS"), "{out}");
    for cfg in ["prometheus.yml", "prometheus-sharded.yml"] {
        let out = promtool(&["check", "config", cfg]);
        assert!(out.contains("SUCCESS"), "{out}");
    }
    let dash = std::fs::read_to_string(assets().join("grafana-dashboard.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&dash).expect("the dashboard is JSON");
    let exprs = v.to_string();
    for m in [
        "certscope_chain_expiry_timestamp_seconds",
        "certscope_finding",
    ] {
        assert!(exprs.contains(m), "the dashboard uses {m}");
    }
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Percent-encode a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Ask Prometheus for an instant vector: each series' labels and value.
async fn prom_query(port: u16, q: &str) -> Vec<(serde_json::Value, f64)> {
    let a = get(port, &format!("/api/v1/query?query={}", enc(q)), &[]).await;
    assert_eq!(a.status, 200, "{q}: {}", a.body);
    // Prometheus may answer chunked: the JSON object is between the braces.
    let start = a.body.find('{').expect("a JSON answer");
    let end = a.body.rfind('}').expect("a JSON answer");
    let v: serde_json::Value = serde_json::from_str(&a.body[start..=end]).unwrap();
    assert_eq!(v["status"], "success", "{v}");
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let val: f64 = r["value"][1].as_str().unwrap().parse().unwrap();
            (r["metric"].clone(), val)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_real_prometheus_scrapes_it_with_the_shipped_config() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let d = serve(&lab, dir.path(), &["--allow", "*.lab.test"]);
    let good = lab
        .targets
        .iter()
        .find(|t| t.id == "good")
        .unwrap()
        .target();
    let expired = lab
        .targets
        .iter()
        .find(|t| t.id == "expired")
        .unwrap()
        .target();

    // The shipped configuration, pointed at this exporter and the lab, with
    // the intervals cut to seconds.
    let cfg = std::fs::read_to_string(assets().join("prometheus.yml")).unwrap();
    let mut out = Vec::new();
    let mut next_is_targets = false;
    for line in cfg.lines() {
        let line = line
            .replace("127.0.0.1:9259", &format!("127.0.0.1:{}", d.port))
            .replace("60s", "2s")
            .replace("15s", "2s");
        if next_is_targets {
            assert!(line.trim_start().starts_with("- targets:"), "{line}");
            out.push(format!("      - targets: [\"{good}\", \"{expired}\"]"));
            next_is_targets = false;
            continue;
        }
        next_is_targets = line.trim() == "# certscope targets";
        out.push(line);
    }
    let cfg = out.join("\n");
    assert!(cfg.contains(&expired), "the targets line was found");
    std::fs::write(dir.path().join("prometheus.yml"), cfg).unwrap();
    std::fs::copy(
        assets().join("certscope-rules.yml"),
        dir.path().join("certscope-rules.yml"),
    )
    .unwrap();

    let port = free_port();
    let stderr = std::fs::File::create(dir.path().join("prometheus.stderr")).unwrap();
    let child = std::process::Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("prometheus runs (CI installs Debian's prometheus package)");
    let _guard = common::ChildGuard::new(child);
    let log = || std::fs::read_to_string(dir.path().join("prometheus.stderr")).unwrap_or_default();

    // Wait (bounded) for a scrape of the expired host to be queryable.
    let deadline = Instant::now() + Duration::from_secs(60);
    let q = format!(
        "certscope_cert_not_after_timestamp_seconds{{instance=\"{expired}\",position=\"leaf\"}}"
    );
    let leaf = loop {
        let ready = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        .is_ok_and(|c| c.is_ok());
        if ready {
            let r = prom_query(port, &q).await;
            if !r.is_empty() {
                break r;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus stored no scrape of {expired} within 60 s; its log:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(leaf.len(), 1, "{leaf:?}");
    assert!(
        leaf[0].1 < now(),
        "the expired leaf's notAfter is in the past: {leaf:?}"
    );
    assert_eq!(leaf[0].0["job"], "certscope");
    assert_eq!(leaf[0].0["subject_cn"], "expired.lab.test");

    let f = prom_query(
        port,
        &format!("certscope_finding{{code=\"expired\",instance=\"{expired}\"}}"),
    )
    .await;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].1, 1.0);
    assert_eq!(f[0].0["severity"], "critical");

    // The good host has no finding; both probes succeeded.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = prom_query(port, "certscope_probe_success").await;
        if s.len() == 2 {
            assert!(s.iter().all(|(_, v)| *v == 1.0), "{s:?}");
            break;
        }
        assert!(Instant::now() < deadline, "both targets scraped: {s:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let good_findings =
        prom_query(port, &format!("certscope_finding{{instance=\"{good}\"}}")).await;
    assert!(good_findings.is_empty(), "{good_findings:?}");

    // The exporter's own /metrics (OpenMetrics counters) is scraped too.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = prom_query(port, "certscope_exporter_probes_total{result=\"critical\"}").await;
        // Counted once a scrape of /metrics follows the expired probe.
        if s.first().is_some_and(|(_, v)| *v >= 1.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the exporter job was not scraped: {s:?}\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The shipped rules loaded and evaluate without error.
    let a = get(port, "/api/v1/rules", &[]).await;
    assert!(a.body.contains("CertificateExpired"), "{}", a.body);
    assert!(!a.body.contains("\"health\":\"err\""), "{}", a.body);
    lab.shutdown();
}
