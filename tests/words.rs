//! The words a newcomer reads: `certscope check` over every lab target and
//! `certscope inspect` on files, through the real binary. Connection
//! findings are sentences without `(step: ...)` or OS error numbers; every
//! text line fits the width it was rendered for; not-yet-valid blames a
//! post-dated certificate or this machine's clock (never the server's);
//! `--at` speaks of that instant; a file is not a server.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::time::Duration;

use certscope::lab::Lab;
use common::{Run, codes, start_lab};
use serde_json::Value;
use time::OffsetDateTime;

/// One run of the binary over every lab target (the silent one waits out
/// its 3 s timeout).
const LIMIT: Duration = Duration::from_secs(60);

const CONNECTION_CODES: &[&str] = &[
    "unreachable",
    "timeout",
    "not-tls",
    "protocol-unsupported",
    "starttls-failed",
    "handshake-failed",
];

fn s(x: &str) -> String {
    x.to_string()
}

/// `certscope check` over `ids` with the lab's CA file and `--resolve`
/// rules, as `certscope lab` prints them.
fn check_args(lab: &Lab, ids: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        s("check"),
        s("--timeout"),
        s("3"),
        s("--ca-file"),
        lab.ca_file.to_string_lossy().into_owned(),
    ];
    a.extend(extra.iter().map(|x| s(x)));
    for id in ids {
        if let Some(rule) = lab.get(id).expect("scenario").resolve() {
            a.push(s("--resolve"));
            a.push(rule);
        }
    }
    for id in ids {
        a.push(lab.get(id).expect("scenario").target());
    }
    a
}

/// Run the binary off the runtime's threads (the lab keeps serving).
async fn run(args: Vec<String>, envs: Vec<(String, String)>) -> Run {
    let what = format!("certscope {args:?}");
    common::off_runtime(&what, LIMIT, move || {
        let mut cmd = common::certscope(&args);
        cmd.env_remove("COLUMNS");
        for (k, v) in &envs {
            cmd.env(k, v);
        }
        common::run_bounded(cmd, &format!("certscope {args:?}"), LIMIT).into_run(args)
    })
    .await
}

fn results(r: &Run) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout of {:?} is not JSON: {e}\n{}\n{}",
            r.args, r.stdout, r.stderr
        )
    });
    doc["results"].as_array().expect("results").clone()
}

fn find<'a>(results: &'a [Value], target: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["target"] == target)
        .unwrap_or_else(|| panic!("no result for {target}"))
}

fn finding<'a>(result: &'a Value, code: &str) -> &'a Value {
    result["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} finding in {:#}", result["findings"]))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Columns a line takes on a terminal (colour codes take none).
fn columns(line: &str) -> usize {
    let mut n = 0;
    let mut esc = false;
    for c in line.chars() {
        if esc {
            esc = c != 'm';
        } else if c == '\x1b' {
            esc = true;
        } else {
            n += 1;
        }
    }
    n
}

fn day(t: OffsetDateTime) -> String {
    t.date().to_string()
}

fn parse(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(text(v), &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{v} is not RFC 3339: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_text_over_every_lab_target_reads_as_sentences_and_fits() {
    let lab = start_lab().await;
    let ids: Vec<&str> = lab.targets.iter().map(|t| t.id).collect();
    assert!(ids.len() > 30, "every lab target: {ids:?}");
    for width in [80usize, 120] {
        let r = run(
            check_args(&lab, &ids, &["--format", "text"]),
            vec![(s("COLUMNS"), width.to_string())],
        )
        .await;
        assert!(
            r.stdout.lines().count() > ids.len() * 3,
            "a report per target:\n{}\n{}",
            r.stdout,
            r.stderr
        );
        let mut bad = Vec::new();
        for line in r.stdout.lines() {
            if line.contains("(os error") || line.contains("(step:") {
                bad.push(format!("error-chain words: {line:?}"));
            }
            if columns(line) > width {
                bad.push(format!("{} > {width} columns: {line:?}", columns(line)));
            }
        }
        assert!(
            bad.is_empty(),
            "at COLUMNS={width}:\n{}\n\nthe output:\n{}",
            bad.join("\n"),
            r.stdout
        );
        // The wrapping is real: at 80 columns long details span lines.
        assert!(
            r.stdout.lines().any(|l| columns(l) > width - 15),
            "lines use the width"
        );
        // A wrapped command continues with a trailing backslash.
        let continued: Vec<&str> = r.stdout.lines().filter(|l| l.ends_with(" \\")).collect();
        assert!(!continued.is_empty(), "long commands wrap:\n{}", r.stdout);
    }

    // The connection findings themselves, in JSON (no wrapping there).
    let r = run(check_args(&lab, &ids, &["--format", "json"]), Vec::new()).await;
    let results = results(&r);
    let mut seen = 0;
    for res in &results {
        for f in res["findings"].as_array().expect("findings") {
            let code = text(&f["code"]);
            // No Rust debug formatting in any message of any lab target.
            for field in ["title", "detail"] {
                let t = text(&f[field]);
                assert_eq!(
                    certscope::testkit::debug_text(t),
                    None,
                    "{code}: debug formatting in its {field}: {t}"
                );
            }
            if !CONNECTION_CODES.contains(&code) {
                continue;
            }
            seen += 1;
            let d = text(&f["detail"]);
            assert!(
                d.chars().next().is_some_and(|c| c.is_uppercase()),
                "{code}: a sentence starts with a capital: {d:?}"
            );
            assert!(d.ends_with('.'), "{code}: ends with a period: {d:?}");
            assert!(
                !d.contains("(step:") && !d.contains("os error"),
                "{code}: {d:?}"
            );
        }
    }
    assert!(seen >= 5, "the lab's connection scenarios: {seen}");
    let closed = lab.get("closed").expect("closed");
    let f = finding(find(&results, &closed.target()), "unreachable");
    assert_eq!(
        text(&f["detail"]),
        format!(
            "Nothing listens on 127.0.0.1:{}: the connection was refused.",
            closed.port
        )
    );
    let silent = lab.get("silent").expect("silent");
    let d = text(&finding(find(&results, &silent.target()), "timeout")["detail"]).to_string();
    assert!(
        d.starts_with(&format!("The server at 127.0.0.1:{}", silent.port)),
        "where it happened: {d}"
    );
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_yet_valid_blames_a_post_dated_certificate_or_this_clock() {
    let lab = start_lab().await;
    let r = run(
        check_args(&lab, &["not-yet-valid"], &["--format", "json"]),
        Vec::new(),
    )
    .await;
    let res = &results(&r)[0];
    let f = finding(res, "not-yet-valid");
    let d = text(&f["detail"]);
    assert!(d.contains("post-dated"), "{d}");
    assert!(d.contains("this machine's clock"), "{d}");
    assert!(d.contains("The server's clock plays no part"), "{d}");
    assert!(!d.contains("server or client clock"), "{d}");
    let steps = f["fix"].as_array().expect("fix");
    for step in steps {
        let title = text(&step["title"]);
        assert!(
            !title.contains("server's clock"),
            "no step sends the operator to the server's clock: {title}"
        );
    }
    let ntp = steps
        .iter()
        .find(|st| text(&st["command"]).contains("set-ntp true"))
        .expect("a time-synchronisation step");
    assert!(
        text(&ntp["title"]).contains("this machine"),
        "{}",
        ntp["title"]
    );
    assert!(
        steps
            .iter()
            .any(|st| text(&st["title"]).contains("post-dated")),
        "{steps:#?}"
    );
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_speaks_of_that_instant_not_of_now() {
    let lab = start_lab().await;
    let now = OffsetDateTime::now_utc();
    let date = day(now + time::Duration::days(200));
    let r = run(
        check_args(&lab, &["good"], &["--format", "json", "--at", &date]),
        Vec::new(),
    )
    .await;
    let res = &results(&r)[0];
    let not_after = parse(&res["chain"][0]["not_after"]);
    let at = parse(&Value::from(format!("{date}T00:00:00Z")));
    let days = (at - not_after).whole_days();
    let f = finding(res, "expired");
    assert_eq!(
        text(&f["title"]),
        format!("On {date} the certificate will have been expired for {days} days")
    );
    let d = text(&f["detail"]);
    assert!(
        d.contains("(--at)"),
        "says the instant is the one asked for: {d}"
    );
    assert!(d.contains("will have been expired"), "{d}");
    assert!(!d.contains("has been expired"), "{d}");
    let renew = format!("Renew it before {}", day(not_after));
    assert!(
        f["fix"]
            .as_array()
            .expect("fix")
            .iter()
            .any(|st| text(&st["title"]).starts_with(&renew)),
        "{renew}: {:#}",
        f["fix"]
    );

    // The text report says the instant is hypothetical, in the future tense.
    let r = run(
        check_args(&lab, &["good"], &["--format", "text", "--at", &date]),
        Vec::new(),
    )
    .await;
    let flat = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!("judged as of {date}")),
        "{}",
        r.stdout
    );
    assert!(flat.contains("will have been expired"), "{}", r.stdout);
    assert!(!flat.contains("days ago"), "{}", r.stdout);
    assert!(flat.contains(&renew), "{}", r.stdout);

    // Before its start, at a past instant: no clock to fix.
    let past = day(now - time::Duration::days(30));
    let r = run(
        check_args(&lab, &["good"], &["--format", "json", "--at", &past]),
        Vec::new(),
    )
    .await;
    let res = &results(&r)[0];
    let f = finding(res, "not-yet-valid");
    assert!(
        text(&f["title"]).starts_with(&format!("On {past} the certificate was not valid yet")),
        "{}",
        f["title"]
    );
    assert!(
        !f["fix"]
            .as_array()
            .expect("fix")
            .iter()
            .any(|st| text(&st["command"]).contains("set-ntp")),
        "the certificate is valid today: {:#}",
        f["fix"]
    );
    lab.shutdown();
}

/// A leaf for `inspect.words.test` under its own root: (dir with
/// `chain.pem` and `root.pem`).
fn chain_files(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let now = OffsetDateTime::now_utc();
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "Words Test Root");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = now - time::Duration::days(100);
    ca.not_after = now + time::Duration::days(1000);
    let root = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut p = CertificateParams::new(vec![s("inspect.words.test")]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "inspect.words.test");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.not_before = now - time::Duration::days(10);
    p.not_after = now + time::Duration::days(80);
    let leaf = p.signed_by(&KeyPair::generate().unwrap(), &root).unwrap();
    std::fs::write(dir.join("chain.pem"), leaf.pem()).unwrap();
    std::fs::write(dir.join("root.pem"), root.pem()).unwrap();
}

fn inspect(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = common::certscope(args);
    cmd.current_dir(dir).env_remove("COLUMNS");
    common::run_bounded(cmd, &format!("certscope {args:?}"), LIMIT)
        .into_run(args.iter().map(|a| s(a)).collect())
}

#[test]
fn inspect_json_of_a_file_has_no_port_and_no_sni() {
    let dir = tempfile::tempdir().unwrap();
    chain_files(dir.path());
    for extra in [&[][..], &["--name", "inspect.words.test"][..]] {
        let mut args = vec!["inspect", "--json", "--ca-file", "root.pem"];
        args.extend_from_slice(extra);
        args.push("chain.pem");
        let r = inspect(dir.path(), &args);
        assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
        let res = &results(&r)[0];
        assert_eq!(res["chain"][0]["source"], "file");
        for key in ["port", "sni"] {
            assert!(
                res.as_object().expect("object").contains_key(key),
                "{key} is still in the contract: {res:#}"
            );
            assert_eq!(res[key], Value::Null, "{key} of a file: {res:#}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_certificate_in_a_file_is_worded_for_the_file() {
    // The lab's CA file read as a chain: its first certificate, a root,
    // takes the leaf's place.
    let lab = start_lab().await;
    let ca = lab.ca_file.to_string_lossy().into_owned();
    let dir = lab
        .ca_file
        .parent()
        .expect("the lab's directory")
        .to_path_buf();
    let r = common::off_runtime("inspect", LIMIT, move || {
        inspect(&dir, &["inspect", "--json", "--ca-file", &ca, &ca])
    })
    .await;
    let res = &results(&r)[0];
    assert!(
        codes(res).contains(&s("ca-as-leaf")),
        "{:#}",
        res["findings"]
    );
    let f = finding(res, "ca-as-leaf");
    assert_eq!(
        text(&f["title"]),
        "The leaf in the file is a CA certificate"
    );
    for f in res["findings"].as_array().expect("findings") {
        for field in ["title", "detail"] {
            let t = text(&f[field]);
            assert!(
                !t.contains("served as") && !t.contains("the server sends"),
                "{}: {t}",
                f["code"]
            );
        }
    }
    assert_eq!(res["port"], Value::Null);
    assert_eq!(res["sni"], Value::Null);
    lab.shutdown();
}
