//! The real `certscope` binary against the built-in lab (started in-process):
//! exit codes, the JSON / JSONL / text contracts of `assets/spec/cli.md`,
//! `--at`, trust stores, and bad input. Every child process is bounded in
//! time and killed when it overruns.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use certscope::lab::Lab;
use common::{Run, codes, start_lab};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Upper bound for one run of the binary against the lab.
const RUN_LIMIT: Duration = Duration::from_secs(30);
/// Bad input must be rejected quickly.
const BAD_INPUT_LIMIT: Duration = Duration::from_secs(5);

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of {:?} is not one JSON document: {e}\nstdout:\n{}\nstderr:\n{}",
                self.args, self.stdout, self.stderr
            )
        })
    }

    fn results(&self) -> Vec<Value> {
        let doc = self.json();
        assert_eq!(doc["version"], 1, "version in {doc:#}");
        doc["results"]
            .as_array()
            .unwrap_or_else(|| panic!("results is not an array: {doc:#}"))
            .clone()
    }

    fn assert_no_panic(&self) {
        for s in [&self.stdout, &self.stderr] {
            assert!(
                !s.contains("panicked") && !s.contains("RUST_BACKTRACE"),
                "{:?} panicked:\n{s}",
                self.args
            );
        }
    }
}

/// Run the binary with stdin null, killing it if it exceeds `limit`.
fn run_blocking(args: Vec<String>, envs: Vec<(String, String)>, limit: Duration) -> Run {
    let mut cmd = common::certscope(&args);
    for (k, v) in &envs {
        cmd.env(k, v);
    }
    let o = common::run_bounded(cmd, &format!("certscope {args:?}"), limit);
    let stdout = String::from_utf8(o.stdout)
        .unwrap_or_else(|e| panic!("stdout of {args:?} is not UTF-8: {e}"));
    Run {
        code: o.code,
        stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: o.elapsed,
        args,
    }
}

/// Run the binary off the runtime's worker threads (the lab keeps serving).
async fn run_env(args: Vec<String>, envs: Vec<(String, String)>, limit: Duration) -> Run {
    let what = format!("certscope {args:?}");
    common::off_runtime(&what, limit, move || run_blocking(args, envs, limit)).await
}

async fn run(args: Vec<String>) -> Run {
    run_env(args, Vec::new(), RUN_LIMIT).await
}

fn s(v: &str) -> String {
    v.to_string()
}

/// `check [--ca-file lab] [--timeout 3] [--resolve ...] TARGET...` plus `extra`.
fn check_args(lab: &Lab, ids: &[&str], with_ca: bool, extra: &[&str]) -> Vec<String> {
    let mut a = vec![s("check"), s("--timeout"), s("3")];
    if with_ca {
        a.push(s("--ca-file"));
        a.push(lab.ca_file.to_string_lossy().into_owned());
    }
    a.extend(extra.iter().map(|x| s(x)));
    for id in ids {
        let t = lab
            .get(id)
            .unwrap_or_else(|| panic!("no lab scenario {id}"));
        if let Some(rule) = t.resolve() {
            a.push(s("--resolve"));
            a.push(rule);
        }
    }
    for id in ids {
        a.push(lab.get(id).expect("scenario").target());
    }
    a
}

fn target_of(lab: &Lab, id: &str) -> String {
    lab.get(id).expect("scenario").target()
}

fn parse_time(v: &Value, what: &str) -> OffsetDateTime {
    let text = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"));
    OffsetDateTime::parse(text, &Rfc3339)
        .unwrap_or_else(|e| panic!("{what} {text:?} is not RFC 3339: {e}"))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .expect("zero nanoseconds")
        .format(&Rfc3339)
        .expect("RFC 3339 formatting")
}

fn field<'a>(obj: &'a Value, key: &str, ctx: &str) -> &'a Value {
    obj.as_object()
        .unwrap_or_else(|| panic!("{ctx} is not an object: {obj}"))
        .get(key)
        .unwrap_or_else(|| panic!("{ctx} lacks the field {key:?}: {obj:#}"))
}

fn string_field<'a>(obj: &'a Value, key: &str, ctx: &str) -> &'a str {
    field(obj, key, ctx)
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}.{key} is not a string: {obj:#}"))
}

fn opt_string_field(obj: &Value, key: &str, ctx: &str) {
    let v = field(obj, key, ctx);
    assert!(
        v.is_null() || v.is_string(),
        "{ctx}.{key} is neither null nor a string: {v}"
    );
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "info" => 0,
        "warning" => 1,
        "critical" => 2,
        other => panic!("unknown severity {other:?}"),
    }
}

const CONNECTION_CODES: &[&str] = &[
    "unreachable",
    "timeout",
    "not-tls",
    "protocol-unsupported",
    "starttls-failed",
    "handshake-failed",
];

/// Every field of cli.md's example, with the right types and consistent
/// values (status vs. findings, chain indices, blamed certificates).
fn check_result_shape(r: &Value) {
    let ctx = format!("result {}", r.get("target").unwrap_or(&Value::Null));
    let ctx = ctx.as_str();
    let target = string_field(r, "target", ctx);
    let host = string_field(r, "host", ctx);
    let port = field(r, "port", ctx)
        .as_u64()
        .unwrap_or_else(|| panic!("{ctx}.port is not a number"));
    assert!((1..=65535).contains(&port), "{ctx}.port {port}");
    assert_eq!(
        target,
        format!("{host}:{port}"),
        "{ctx}: target vs host/port"
    );
    opt_string_field(r, "address", ctx);
    opt_string_field(r, "sni", ctx);
    opt_string_field(r, "starttls", ctx);
    let status = string_field(r, "status", ctx);
    assert!(
        ["ok", "warning", "critical", "error"].contains(&status),
        "{ctx}.status {status:?}"
    );
    parse_time(field(r, "checked_at", ctx), &format!("{ctx}.checked_at"));
    assert!(
        field(r, "elapsed_ms", ctx).is_u64(),
        "{ctx}.elapsed_ms is not a non-negative integer"
    );

    let tls = field(r, "tls", ctx);
    if status == "error" {
        assert!(
            tls.is_null() || tls.is_object(),
            "{ctx}.tls is neither null nor an object"
        );
    } else {
        let tctx = format!("{ctx}.tls");
        let version = string_field(tls, "version", &tctx);
        assert!(version.starts_with("TLSv1."), "{tctx}.version {version:?}");
        assert!(
            !string_field(tls, "cipher", &tctx).is_empty(),
            "{tctx}.cipher"
        );
        opt_string_field(tls, "alpn", &tctx);
        assert!(
            field(tls, "ocsp_stapled", &tctx).is_boolean(),
            "{tctx}.ocsp_stapled is not a boolean"
        );
    }

    let chain = field(r, "chain", ctx)
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}.chain is not an array"));
    for (i, c) in chain.iter().enumerate() {
        let cctx = format!("{ctx}.chain[{i}]");
        let cctx = cctx.as_str();
        assert_eq!(
            field(c, "index", cctx).as_u64(),
            Some(i as u64),
            "{cctx}.index"
        );
        for k in ["subject", "issuer", "serial", "signature_algorithm"] {
            assert!(!string_field(c, k, cctx).is_empty(), "{cctx}.{k} is empty");
        }
        let nb = parse_time(field(c, "not_before", cctx), &format!("{cctx}.not_before"));
        let na = parse_time(field(c, "not_after", cctx), &format!("{cctx}.not_after"));
        assert!(
            nb < na,
            "{cctx}: not_before {nb} is not before not_after {na}"
        );
        assert!(
            field(c, "days_left", cctx).is_i64(),
            "{cctx}.days_left is not an integer"
        );
        let sans = field(c, "sans", cctx)
            .as_array()
            .unwrap_or_else(|| panic!("{cctx}.sans is not an array"));
        for san in sans {
            let san = san
                .as_str()
                .unwrap_or_else(|| panic!("{cctx}.sans has a non-string {san}"));
            assert!(
                san.starts_with("DNS:") || san.starts_with("IP:") || san.contains(':'),
                "{cctx}: SAN {san:?} has no type prefix"
            );
        }
        let key = field(c, "key", cctx);
        let kctx = format!("{cctx}.key");
        let ktype = string_field(key, "type", &kctx);
        assert!(!ktype.is_empty(), "{kctx}.type is empty");
        let bits = field(key, "bits", &kctx);
        assert!(
            bits.is_null() || bits.is_u64(),
            "{kctx}.bits is neither null nor a number"
        );
        if ktype == "EC" {
            assert!(
                !string_field(key, "curve", &kctx).is_empty(),
                "{kctx}.curve is empty"
            );
        }
        assert!(field(c, "is_ca", cctx).is_boolean(), "{cctx}.is_ca");
        assert!(
            field(c, "self_signed", cctx).is_boolean(),
            "{cctx}.self_signed"
        );
        let sha = string_field(c, "sha256", cctx);
        let bytes: Vec<&str> = sha.split(':').collect();
        assert!(
            bytes.len() == 32
                && bytes
                    .iter()
                    .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit())),
            "{cctx}.sha256 {sha:?} is not 32 colon-separated hex bytes"
        );
        let source = string_field(c, "source", cctx);
        assert!(
            ["server", "aia", "store"].contains(&source),
            "{cctx}.source {source:?}"
        );
    }

    let findings = field(r, "findings", ctx)
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}.findings is not an array"));
    let mut worst = 0u8;
    let mut connection = false;
    for (i, f) in findings.iter().enumerate() {
        let fctx = format!("{ctx}.findings[{i}]");
        let fctx = fctx.as_str();
        let code = string_field(f, "code", fctx);
        assert!(
            !code.is_empty()
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{fctx}.code {code:?} is not kebab-case"
        );
        let sev = string_field(f, "severity", fctx);
        let rank = severity_rank(sev);
        worst = worst.max(rank);
        let is_conn = CONNECTION_CODES.contains(&code);
        connection |= is_conn;
        match f.get("cert") {
            None | Some(Value::Null) => assert!(
                is_conn,
                "{fctx}: certificate finding {code:?} names no certificate"
            ),
            Some(v) => {
                let idx = v
                    .as_u64()
                    .unwrap_or_else(|| panic!("{fctx}.cert is not an index: {v}"));
                assert!(
                    (idx as usize) < chain.len(),
                    "{fctx}.cert {idx} is outside the chain of {}",
                    chain.len()
                );
            }
        }
        assert!(!string_field(f, "title", fctx).is_empty(), "{fctx}.title");
        assert!(!string_field(f, "detail", fctx).is_empty(), "{fctx}.detail");
        let clients = field(f, "clients", fctx);
        for k in ["chrome", "firefox", "openssl"] {
            string_field(clients, k, &format!("{fctx}.clients"));
        }
        let fix = field(f, "fix", fctx)
            .as_array()
            .unwrap_or_else(|| panic!("{fctx}.fix is not an array"));
        if rank > 0 {
            assert!(
                !fix.is_empty(),
                "{fctx}: a {sev} finding ({code}) carries no fix steps (findings.md)"
            );
        }
        for (k, step) in fix.iter().enumerate() {
            let sctx = format!("{fctx}.fix[{k}]");
            assert!(
                !string_field(step, "title", &sctx).is_empty(),
                "{sctx}.title"
            );
            if let Some(cmd) = step.get("command") {
                assert!(
                    cmd.is_null() || cmd.as_str().is_some_and(|c| !c.trim().is_empty()),
                    "{sctx}.command is neither absent nor a command: {cmd}"
                );
            }
        }
    }
    // findings.md: status is error when no certificate could be obtained,
    // else the worst severity (ok when nothing is above info).
    let want = if connection {
        "error"
    } else {
        ["ok", "warning", "critical"][worst as usize]
    };
    assert_eq!(status, want, "{ctx}: status vs findings {findings:#?}");
    if status == "error" {
        assert!(
            findings
                .iter()
                .any(|f| CONNECTION_CODES.contains(&f["code"].as_str().unwrap_or(""))),
            "{ctx}: an error result carries its connection finding"
        );
    } else {
        assert!(!chain.is_empty(), "{ctx}: a diagnosed result has a chain");
    }
}

fn find_result<'a>(results: &'a [Value], target: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["target"] == target)
        .unwrap_or_else(|| panic!("no result for {target} in {results:#?}"))
}

fn assert_code(run: &Run, want: i32) {
    run.assert_no_panic();
    assert_eq!(
        run.code,
        Some(want),
        "exit code of certscope {:?}\nstdout:\n{}\nstderr:\n{}",
        run.args,
        run.stdout,
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_follow_nagios_and_the_worst_target_wins() {
    let lab = start_lab().await;
    let cases: &[(&[&str], i32)] = &[
        (&["good"], 0),
        (&["expiring-soon"], 1),
        (&["expired"], 2),
        (&["closed"], 3),
        (&["good", "expired"], 2),
        (&["expired", "good"], 2),
        (&["good", "closed"], 3),
        (&["closed", "good"], 3),
        (&["good", "expiring-soon"], 1),
        (&["expiring-soon", "expired"], 2),
        (&["expired", "closed", "expiring-soon", "good"], 3),
    ];
    for (ids, want) in cases {
        for format in ["text", "json", "jsonl"] {
            let r = run(check_args(&lab, ids, true, &["--format", format])).await;
            assert_code(&r, *want);
        }
    }
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_document_has_every_contract_field_with_real_values() {
    let lab = start_lab().await;
    let ids = ["good", "expired", "expiring-soon", "closed", "ip-ok"];
    let r = run(check_args(&lab, &ids, true, &["--format", "json"])).await;
    assert_code(&r, 3);
    let doc = r.json();
    let top: BTreeSet<&str> = doc
        .as_object()
        .expect("the document is an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        top.contains("version") && top.contains("results"),
        "top-level keys {top:?}"
    );
    let results = r.results();
    assert_eq!(results.len(), ids.len(), "one result per target");
    for res in &results {
        check_result_shape(res);
    }
    // Input order is kept.
    let got: Vec<&str> = results
        .iter()
        .map(|x| x["target"].as_str().unwrap_or(""))
        .collect();
    let want: Vec<String> = ids.iter().map(|id| target_of(&lab, id)).collect();
    assert_eq!(got, want, "results in input order");

    // The good target.
    let good_t = target_of(&lab, "good");
    let good = find_result(&results, &good_t);
    let good_lab = lab.get("good").expect("good");
    assert_eq!(good["status"], "ok");
    assert_eq!(good["host"], good_lab.host.as_str());
    assert_eq!(good["port"], good_lab.port);
    assert_eq!(good["address"], "127.0.0.1");
    assert_eq!(good["sni"], "good.lab.test");
    assert!(good["starttls"].is_null());
    assert_eq!(good["tls"]["ocsp_stapled"], false);
    assert!(
        good["findings"]
            .as_array()
            .is_some_and(|f| f.iter().all(|f| f["severity"] == "info")),
        "the good target has no problem: {:#}",
        good["findings"]
    );
    let chain = good["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 3, "leaf, intermediate, store anchor");
    assert_eq!(chain[0]["source"], "server");
    assert_eq!(chain[1]["source"], "server");
    assert_eq!(
        chain.last().expect("anchor")["source"],
        "store",
        "the good chain ends with the trust anchor"
    );
    let leaf = &chain[0];
    assert!(
        leaf["subject"]
            .as_str()
            .is_some_and(|s| s.contains("CN=good.lab.test")),
        "leaf subject {}",
        leaf["subject"]
    );
    assert_eq!(leaf["sans"], serde_json::json!(["DNS:good.lab.test"]));
    assert_eq!(
        leaf["issuer"], chain[1]["subject"],
        "leaf issued by chain[1]"
    );
    assert_eq!(chain[1]["issuer"], chain[2]["subject"]);
    assert_eq!(leaf["is_ca"], false);
    assert_eq!(leaf["self_signed"], false);
    assert_eq!(chain[1]["is_ca"], true);
    assert_eq!(chain[2]["is_ca"], true);
    assert_eq!(chain[2]["self_signed"], true);
    assert_eq!(leaf["key"]["type"], "EC");
    assert_eq!(leaf["key"]["bits"], 256);
    assert_eq!(leaf["key"]["curve"], "P-256");
    assert_eq!(leaf["signature_algorithm"], "ecdsa-with-SHA256");
    let days = leaf["days_left"].as_i64().expect("days_left");
    assert!(
        (78..=80).contains(&days),
        "good leaf has ~80 days left: {days}"
    );
    let na = parse_time(&leaf["not_after"], "not_after");
    let nb = parse_time(&leaf["not_before"], "not_before");
    let now = OffsetDateTime::now_utc();
    assert!(nb < now && now < na, "the good leaf is valid now");
    let checked = parse_time(&good["checked_at"], "checked_at");
    assert!(
        (checked - now).whole_seconds().abs() < 120,
        "checked_at {checked} is the probe time (now {now})"
    );

    // The expired target.
    let exp_t = target_of(&lab, "expired");
    let exp = find_result(&results, &exp_t);
    assert_eq!(exp["status"], "critical");
    assert_eq!(exp["sni"], "expired.lab.test");
    let f0 = &exp["findings"][0];
    assert_eq!(
        f0["code"], "expired",
        "root cause first: {:#}",
        exp["findings"]
    );
    assert_eq!(f0["severity"], "critical");
    assert_eq!(f0["cert"], 0, "the leaf is the expired one");
    assert!(
        exp["chain"][0]["days_left"].as_i64().expect("days_left") < 0,
        "an expired leaf has negative days_left"
    );
    assert!(
        f0["title"].as_str().is_some_and(|t| t.contains("expired")),
        "title {}",
        f0["title"]
    );
    assert!(
        f0["clients"]["chrome"]
            .as_str()
            .is_some_and(|c| c.contains("ERR_CERT_DATE_INVALID")),
        "chrome says {}",
        f0["clients"]["chrome"]
    );
    assert!(
        f0["clients"]["firefox"]
            .as_str()
            .is_some_and(|c| c.contains("SEC_ERROR_EXPIRED_CERTIFICATE")),
        "firefox says {}",
        f0["clients"]["firefox"]
    );
    assert!(
        f0["clients"]["openssl"]
            .as_str()
            .is_some_and(|c| c.contains("certificate has expired")),
        "openssl says {}",
        f0["clients"]["openssl"]
    );
    let fix = f0["fix"].as_array().expect("fix steps");
    assert!(
        fix.iter().any(|s| s["command"]
            .as_str()
            .is_some_and(|c| c.contains("expired.lab.test"))),
        "a fix command names the target: {fix:#?}"
    );
    assert!(
        fix.iter().any(|s| s["command"]
            .as_str()
            .is_some_and(|c| c.contains("openssl s_client"))),
        "a fix step confirms with openssl s_client: {fix:#?}"
    );

    // The expiring-soon target.
    let soon = find_result(&results, &target_of(&lab, "expiring-soon"));
    assert_eq!(soon["status"], "warning");
    assert_eq!(soon["findings"][0]["code"], "expiring-soon");
    assert_eq!(soon["findings"][0]["severity"], "warning");
    assert_eq!(soon["findings"][0]["cert"], 0);
    let d = soon["chain"][0]["days_left"].as_i64().expect("days_left");
    assert!((4..=5).contains(&d), "expiring-soon has ~5 days left: {d}");

    // The closed port: still a result, status error, the connection finding.
    let closed = find_result(&results, &target_of(&lab, "closed"));
    assert_eq!(closed["status"], "error");
    assert_eq!(closed["findings"][0]["code"], "unreachable");
    assert!(
        closed["findings"][0].get("cert").is_none_or(Value::is_null),
        "a connection finding names no certificate"
    );
    assert!(closed["chain"].as_array().is_some_and(Vec::is_empty));

    // An IP target: the IP SAN is listed.
    let ip = find_result(&results, &target_of(&lab, "ip-ok"));
    assert_eq!(ip["status"], "ok");
    assert_eq!(ip["host"], "127.0.0.1");
    assert!(
        ip["chain"][0]["sans"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "IP:127.0.0.1")),
        "IP SAN listed: {}",
        ip["chain"][0]["sans"]
    );

    // `--json` is the same document.
    let r2 = run(check_args(&lab, &["expired"], true, &["--json"])).await;
    assert_code(&r2, 2);
    let results2 = r2.results();
    assert_eq!(results2.len(), 1);
    check_result_shape(&results2[0]);
    assert_eq!(results2[0]["target"], exp_t.as_str());
    assert_eq!(results2[0]["status"], "critical");
    assert_eq!(results2[0]["findings"][0]["code"], "expired");
    assert_eq!(results2[0]["findings"][0]["cert"], 0);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_prints_one_result_per_line() {
    let lab = start_lab().await;
    let ids = ["good", "expired", "closed"];
    let r = run(check_args(&lab, &ids, true, &["--format", "jsonl"])).await;
    assert_code(&r, 3);
    assert!(r.stdout.ends_with('\n'), "lines end with a newline");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "exactly 3 lines:\n{}", r.stdout);
    let mut targets = BTreeSet::new();
    for line in &lines {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line is not JSON: {e}\n{line}"));
        assert!(v.is_object(), "each line is an object: {line}");
        check_result_shape(&v);
        targets.insert(v["target"].as_str().expect("target").to_string());
    }
    let want: BTreeSet<String> = ids.iter().map(|id| target_of(&lab, id)).collect();
    assert_eq!(targets, want, "one line per distinct target");
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_report_is_plain_when_not_a_terminal() {
    let lab = start_lab().await;
    // The title to expect, from the JSON output.
    let j = run(check_args(&lab, &["expired"], true, &["--json"])).await;
    assert_code(&j, 2);
    let title = j.results()[0]["findings"][0]["title"]
        .as_str()
        .expect("title")
        .to_string();

    let no_color = vec![(s("NO_COLOR"), s("1"))];
    let args = check_args(&lab, &["expired"], true, &["--format", "text"]);
    let with_env = run_env(args.clone(), no_color, RUN_LIMIT).await;
    // stdout is a pipe here: no color even without NO_COLOR.
    let piped = run(args).await;
    // The default format (stdout not a terminal) is readable too.
    let default = run(check_args(&lab, &["expired", "good"], true, &[])).await;
    for r in [&with_env, &piped] {
        assert_code(r, 2);
        assert!(r.stdout.contains("CRITICAL"), "status word:\n{}", r.stdout);
        assert!(
            r.stdout.contains(&title),
            "finding title {title:?}:\n{}",
            r.stdout
        );
        assert!(r.stdout.contains("expired"), "the code:\n{}", r.stdout);
        assert!(
            r.stdout.contains(&target_of(&lab, "expired")),
            "the target:\n{}",
            r.stdout
        );
        assert!(
            !r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'),
            "no ESC bytes without a terminal:\n{:?}",
            r.stdout
        );
    }
    assert_code(&default, 2);
    assert!(!default.stdout.contains('\x1b'), "{:?}", default.stdout);
    assert!(
        default.stdout.contains("CRITICAL") && default.stdout.contains("OK"),
        "{}",
        default.stdout
    );
    assert!(
        serde_json::from_str::<Value>(&default.stdout).is_err(),
        "without --format the report is text, not JSON"
    );
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_judges_validity_at_another_instant() {
    let lab = start_lab().await;
    let now = OffsetDateTime::now_utc();

    // 200 days ahead: the good leaf (80 days left) has expired.
    let future = rfc3339(now + time::Duration::days(200));
    let r = run(check_args(
        &lab,
        &["good"],
        true,
        &["--json", "--at", &future],
    ))
    .await;
    assert_code(&r, 2);
    let res = &r.results()[0];
    check_result_shape(res);
    assert_eq!(res["status"], "critical");
    assert_eq!(
        res["findings"][0]["code"], "expired",
        "{:#}",
        res["findings"]
    );
    assert_eq!(res["findings"][0]["cert"], 0);
    let d = res["chain"][0]["days_left"].as_i64().expect("days_left");
    assert!(
        (-122..=-118).contains(&d),
        "days_left is judged at --at: {d}"
    );

    // 30 days back: before the leaf's notBefore (10 days ago).
    let past = rfc3339(now - time::Duration::days(30));
    let r = run(check_args(
        &lab,
        &["good"],
        true,
        &["--json", "--at", &past],
    ))
    .await;
    assert_code(&r, 2);
    let res = &r.results()[0];
    check_result_shape(res);
    assert_eq!(res["status"], "critical");
    assert_eq!(
        res["findings"][0]["code"], "not-yet-valid",
        "{:#}",
        res["findings"]
    );
    assert_eq!(res["findings"][0]["cert"], 0);
    assert!(!codes(res).contains(&s("expired")), "{:?}", codes(res));

    // A plain date is accepted too (midnight UTC).
    let date = (now + time::Duration::days(200)).date().to_string();
    let r = run(check_args(
        &lab,
        &["good"],
        true,
        &["--json", "--at", &date],
    ))
    .await;
    assert_code(&r, 2);
    assert_eq!(r.results()[0]["findings"][0]["code"], "expired");

    // Tomorrow the good target is still fine.
    let soon = rfc3339(now + time::Duration::days(1));
    let r = run(check_args(
        &lab,
        &["good"],
        true,
        &["--json", "--at", &soon],
    ))
    .await;
    assert_code(&r, 0);
    assert_eq!(r.results()[0]["status"], "ok");
    lab.shutdown();
}

fn assert_bad_input(r: &Run, names: &str) {
    r.assert_no_panic();
    assert_eq!(
        r.code,
        Some(3),
        "bad input {:?} exits 3; stderr:\n{}",
        r.args,
        r.stderr
    );
    assert!(
        r.stdout.is_empty(),
        "bad input {:?} prints nothing on stdout, got:\n{}",
        r.args,
        r.stdout
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "bad input {:?} gives exactly one line on stderr, got:\n{}",
        r.args,
        r.stderr
    );
    assert!(
        lines[0].contains(names),
        "the error for {:?} names {names:?}: {}",
        r.args,
        lines[0]
    );
    assert!(
        r.elapsed < BAD_INPUT_LIMIT,
        "bad input {:?} took {:?}",
        r.args,
        r.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_and_exit_3() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, b"").expect("write empty.pem");
    let blank = dir.path().join("blank.pem");
    std::fs::write(&blank, b"  \n\n").expect("write blank.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, b"this is not a certificate\n\x00\x01\x02").expect("write garbage");
    let bad_pem = dir.path().join("bad-body.pem");
    std::fs::write(
        &bad_pem,
        b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    )
    .expect("write bad-body.pem");
    let missing = dir.path().join("does-not-exist.pem");
    let path = |p: &Path| p.to_string_lossy().into_owned();

    let good = target_of(&lab, "good");
    let good_resolve = lab.get("good").and_then(|t| t.resolve()).expect("rule");
    let ca = path(&lab.ca_file);

    // (args after `check`, what the message must name)
    let cases: Vec<(Vec<String>, String)> = vec![
        (vec![s("a..test")], s("a..test")),
        (vec![s("host:99999")], s("host:99999")),
        (vec![s("ftp://x.test")], s("ftp://x.test")),
        (vec![s("[::1")], s("[::1")),
        (vec![good.clone(), s("a..test")], s("a..test")),
        (
            vec![s("--ca-file"), path(&missing), good.clone()],
            path(&missing),
        ),
        (
            vec![s("--ca-file"), path(&empty), good.clone()],
            path(&empty),
        ),
        (
            vec![s("--ca-file"), path(&blank), good.clone()],
            path(&blank),
        ),
        (
            vec![s("--ca-file"), path(&garbage), good.clone()],
            path(&garbage),
        ),
        (
            vec![s("--ca-file"), path(&bad_pem), good.clone()],
            path(&bad_pem),
        ),
        (
            vec![s("--ca-file"), path(dir.path()), good.clone()],
            path(dir.path()),
        ),
        (
            vec![s("--at"), s("yesterday"), good.clone()],
            s("yesterday"),
        ),
        (
            vec![s("--resolve"), s("nonsense"), good.clone()],
            s("nonsense"),
        ),
        (vec![s("--timeout"), s("0"), good.clone()], s("--timeout")),
        (vec![s("--timeout=-1"), good.clone()], s("--timeout")),
        (vec![s("--timeout"), s("-1"), good.clone()], s("-1")),
        (vec![s("--no-such-flag"), good.clone()], s("--no-such-flag")),
        (
            vec![s("--trust-store"), s("bogus"), good.clone()],
            s("bogus"),
        ),
        (vec![s("--format"), s("yaml"), good.clone()], s("yaml")),
    ];
    for (rest, names) in cases {
        let mut args = vec![
            s("check"),
            s("--ca-file"),
            ca.clone(),
            s("--resolve"),
            good_resolve.clone(),
        ];
        args.extend(rest);
        let r = run_env(args, Vec::new(), BAD_INPUT_LIMIT).await;
        assert_bad_input(&r, &names);
    }
    // No target at all.
    let r = run_env(vec![s("check")], Vec::new(), BAD_INPUT_LIMIT).await;
    r.assert_no_panic();
    assert_eq!(r.code, Some(3), "check without targets: {}", r.stderr);
    assert!(r.stdout.is_empty());
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_store_none_and_system() {
    let lab = start_lab().await;

    // No base store and no CA file: nothing is trusted.
    let r = run(check_args(
        &lab,
        &["good"],
        false,
        &["--json", "--trust-store", "none"],
    ))
    .await;
    assert_code(&r, 2);
    let res = &r.results()[0];
    check_result_shape(res);
    assert_eq!(res["status"], "critical");
    let code = res["findings"][0]["code"].as_str().unwrap_or("");
    assert!(
        ["untrusted-root", "incomplete-chain"].contains(&code),
        "without anchors the good chain is untrusted: {:#}",
        res["findings"]
    );
    assert!(
        !res["chain"]
            .as_array()
            .expect("chain")
            .iter()
            .any(|c| c["source"] == "store"),
        "no store anchor without a store"
    );

    // The lab root in the "OS store": trusted, and publicly so (CT applies).
    let env = vec![(
        s("SSL_CERT_FILE"),
        lab.ca_file.to_string_lossy().into_owned(),
    )];
    let r = run_env(
        check_args(
            &lab,
            &["good", "no-sct"],
            false,
            &["--json", "--trust-store", "system"],
        ),
        env,
        RUN_LIMIT,
    )
    .await;
    assert_code(&r, 1);
    let results = r.results();
    for res in &results {
        check_result_shape(res);
    }
    let good = find_result(&results, &target_of(&lab, "good"));
    assert_eq!(good["status"], "ok", "{:#}", good["findings"]);
    assert_eq!(
        good["chain"]
            .as_array()
            .and_then(|c| c.last())
            .map(|c| &c["source"]),
        Some(&Value::from("store"))
    );
    let nosct = find_result(&results, &target_of(&lab, "no-sct"));
    assert_eq!(nosct["status"], "warning", "{:#}", nosct["findings"]);
    assert_eq!(codes(nosct), vec![s("no-sct")]);
    assert_eq!(nosct["findings"][0]["severity"], "warning");
    assert_eq!(nosct["findings"][0]["cert"], 0);

    // With the lab CA given as a private CA file, CT does not apply: an
    // info finding says so (the leaf would fail under a public root).
    let r = run(check_args(&lab, &["no-sct"], true, &["--json"])).await;
    assert_code(&r, 0);
    let res = &r.results()[0];
    assert_eq!(res["status"], "ok");
    assert_eq!(codes(res), vec![s("no-sct")]);
    assert_eq!(res["findings"][0]["severity"], "info");
    assert_eq!(res["findings"][0]["cert"], 0);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_never_reaches_stdout() {
    let lab = start_lab().await;
    let ids = [
        "good",
        "expired",
        "expired-intermediate",
        "not-yet-valid",
        "expiring-soon",
        "wrong-host",
        "cn-only",
        "self-signed",
        "untrusted-root",
        "incomplete-chain",
        "no-sct",
        "closed",
    ];
    assert_eq!(ids.len(), 12);
    let want: BTreeSet<String> = ids.iter().map(|id| target_of(&lab, id)).collect();

    let r = run(check_args(&lab, &ids, true, &["--format", "json"])).await;
    assert_code(&r, 3);
    let results = r.results();
    assert_eq!(results.len(), 12);
    for res in &results {
        check_result_shape(res);
    }
    let got: BTreeSet<String> = results
        .iter()
        .map(|x| x["target"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(got, want);

    let r = run(check_args(&lab, &ids, true, &["--format", "jsonl"])).await;
    assert_code(&r, 3);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 12, "12 lines:\n{}", r.stdout);
    let mut got = BTreeSet::new();
    for line in lines {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a non-JSON line on stdout ({e}): {line}"));
        got.insert(v["target"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(got, want);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_text_keep_input_order_while_streaming() {
    let lab = start_lab().await;
    // `slow` answers last; the document still lists it first.
    let ids = ["slow", "good", "expired"];
    let r = run(check_args(&lab, &ids, true, &["--json"])).await;
    let order: Vec<String> = r
        .results()
        .iter()
        .map(|v| v["target"].as_str().expect("target").to_string())
        .collect();
    let want: Vec<String> = ids.iter().map(|id| target_of(&lab, id)).collect();
    assert_eq!(order, want);
    let r = run(check_args(&lab, &ids, true, &[])).await;
    let pos: Vec<usize> = want
        .iter()
        .map(|t| r.stdout.find(t.as_str()).expect("each target in the text"))
        .collect();
    assert!(
        pos[0] < pos[1] && pos[1] < pos[2],
        "input order:\n{}",
        r.stdout
    );
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_reach_stderr_only_when_asked() {
    let lab = start_lab().await;
    let quiet = run(check_args(&lab, &["good"], true, &["--format", "jsonl"])).await;
    assert!(!quiet.stderr.contains("checked"), "{}", quiet.stderr);
    let verbose = run(check_args(
        &lab,
        &["good"],
        true,
        &["--format", "jsonl", "-vv"],
    ))
    .await;
    assert_eq!(
        verbose.stdout.lines().count(),
        1,
        "stdout keeps one JSON line"
    );
    for want in ["handshake done", "checked status=Ok", "check{target="] {
        assert!(
            verbose.stderr.contains(want),
            "{want:?} in:\n{}",
            verbose.stderr
        );
    }
    let env = run_env(
        check_args(&lab, &["good"], true, &["--format", "jsonl"]),
        vec![(s("RUST_LOG"), s("info"))],
        RUN_LIMIT,
    )
    .await;
    assert!(env.stderr.contains("checked status=Ok"), "{}", env.stderr);
    assert!(!env.stderr.contains("handshake done"), "info hides debug");
    lab.shutdown();
}

/// `--format csv` is an inventory that any CSV reader gets back exactly:
/// parsed here by Python's csv module (not the writer's crate), with a
/// server whose subject holds commas, quotes, a newline and an escape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_rows_round_trip_through_a_csv_parser() {
    let lab = common::start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    // A self-signed certificate with hostile subject text.
    let hostile_cn = "evil, \"quoted\"\n=cmd|' \u{1b}[31m red";
    let mut p = rcgen::CertificateParams::new(vec!["hostile.test".to_string()]).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, hostile_cn);
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "a,b;\"c\"");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    std::fs::write(dir.path().join("c.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("k.pem"), key.serialize_pem()).unwrap();
    let server = common::s_server(dir.path(), "hostile", &["-cert", "c.pem", "-key", "k.pem"]);
    let hostile = format!("hostile.test:{}", server.port);

    let mut args = check_args(&lab, &["good", "closed"], true, &[]);
    args.push(s(&hostile));
    args.push(s("--resolve"));
    args.push(format!("{hostile}:127.0.0.1"));
    // Both runs judged at one instant, so days_left cannot differ between
    // them by a second crossing a day boundary.
    let at = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    args.push(s("--at"));
    args.push(at);
    let mut csv_args = args.clone();
    csv_args.extend([s("--format"), s("csv")]);
    let csv_run = run(csv_args).await;
    csv_run.assert_no_panic();
    assert_eq!(csv_run.code, Some(3), "{}", csv_run.stderr);
    let mut json_args = args;
    json_args.push(s("--json"));
    let json = run(json_args).await.results();

    let file = dir.path().join("out.csv");
    std::fs::write(&file, &csv_run.stdout).unwrap();
    let mut cmd = std::process::Command::new("python3");
    cmd.args([
        "-c",
        "import csv, json, sys; json.dump(list(csv.reader(open(sys.argv[1], newline=''))), sys.stdout)",
    ])
    .arg(&file);
    let o = common::run_bounded(cmd, "python3 csv reader", Duration::from_secs(30));
    assert_eq!(o.code, Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<Vec<String>> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        rows[0],
        [
            "target",
            "address",
            "status",
            "subject",
            "sans",
            "issuer",
            "not_before",
            "not_after",
            "days_left",
            "key",
            "signature",
            "serial",
            "sha256",
            "findings"
        ]
    );
    assert_eq!(rows.len(), 4, "a header and a row per target: {rows:?}");
    for (row, r) in rows[1..].iter().zip(&json) {
        assert_eq!(row.len(), 14, "{row:?}");
        assert_eq!(row[0], r["target"].as_str().unwrap());
        assert_eq!(row[2], r["status"].as_str().unwrap());
        let codes: Vec<String> = codes(r);
        assert_eq!(row[13], codes.join(" "));
        match r["chain"].get(0) {
            None => assert!(row[3..13].iter().all(String::is_empty), "{row:?}"),
            Some(leaf) => {
                assert_eq!(row[1], r["address"].as_str().unwrap());
                // JSON carries the raw text; CSV, read in terminals, the
                // escaped form.
                let safe = |v: &Value| certscope::util::sanitize::for_terminal(v.as_str().unwrap());
                assert_eq!(row[3], safe(&leaf["subject"]));
                assert_eq!(row[5], safe(&leaf["issuer"]));
                assert_eq!(row[6], leaf["not_before"].as_str().unwrap());
                assert_eq!(row[7], leaf["not_after"].as_str().unwrap());
                assert_eq!(row[8], leaf["days_left"].to_string());
                assert_eq!(row[11], leaf["serial"].as_str().unwrap());
                assert_eq!(row[12], leaf["sha256"].as_str().unwrap());
                let sans: Vec<&str> = leaf["sans"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                assert_eq!(
                    row[4],
                    certscope::util::sanitize::for_terminal(&sans.join(" "))
                );
            }
        }
    }
    let hostile_row = rows
        .iter()
        .find(|r| r[0] == hostile)
        .expect("the hostile row");
    // RFC 4514 escaping in the subject, then CSV quoting around it: both
    // survive, and the commas and quotes did not split the field.
    assert!(
        hostile_row[3].starts_with("CN=evil\\, \\\"quoted\\\""),
        "{hostile_row:?}"
    );
    assert!(hostile_row[3].contains("O=a\\,b"), "{hostile_row:?}");
    assert!(
        !csv_run.stdout.contains('\u{1b}'),
        "no raw escape reaches the output"
    );
    // JSON keeps the raw value, escaped by JSON itself.
    let raw = json
        .iter()
        .find(|r| r["target"] == hostile.as_str())
        .expect("the hostile result");
    assert!(
        raw["chain"][0]["subject"]
            .as_str()
            .unwrap()
            .contains("\n=cmd|' \u{1b}[31m red"),
        "{raw}"
    );
    assert!(hostile_row[13].contains("self-signed"), "{hostile_row:?}");
    lab.shutdown();
}
