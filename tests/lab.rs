//! Real handshakes against the built-in lab, each followed by the AIA and
//! revocation fetches `certscope check` makes: every scenario must produce
//! exactly the expected findings (code, severity, blamed certificate).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use certscope::diagnose::DiagnoseOptions;
use certscope::fetch::EnrichOptions;
use certscope::lab::{Lab, LabOptions};
use certscope::probe::ProbeOptions;
use certscope::report::Report;
use certscope::report::finding::{Severity, Status};
use certscope::target::{ResolveRule, Target};
use certscope::x509::trust::{AnchorOrigin, TrustStore};

use Severity::{Critical as C, Info as I, Warning as W};

/// (scenario, status, [(code, severity, cert)]) — order-insensitive.
#[allow(clippy::type_complexity)]
const EXPECT: &[(&str, Status, &[(&str, Severity, Option<usize>)])] = &[
    ("good", Status::Ok, &[]),
    // Path building: the cross-certificate sent first is skipped, and named.
    (
        "cross-signed",
        Status::Warning,
        &[("chain-order", W, Some(1))],
    ),
    ("slow", Status::Ok, &[]),
    ("ip-ok", Status::Ok, &[]),
    // The lab root alone, as a private PKI: CT does not apply, nothing to
    // say (beside public roots it is an info: see below).
    ("no-sct", Status::Ok, &[]),
    ("expired", Status::Critical, &[("expired", C, Some(0))]),
    (
        "expired-intermediate",
        Status::Critical,
        &[("expired", C, Some(1))],
    ),
    (
        "not-yet-valid",
        Status::Critical,
        &[("not-yet-valid", C, Some(0))],
    ),
    (
        "expiring-soon",
        Status::Warning,
        &[("expiring-soon", W, Some(0))],
    ),
    (
        "wrong-host",
        Status::Critical,
        &[("hostname-mismatch", C, Some(0))],
    ),
    (
        "cn-only",
        Status::Critical,
        &[("hostname-mismatch", C, Some(0))],
    ),
    (
        "wildcard-deep",
        Status::Critical,
        &[("hostname-mismatch", C, Some(0))],
    ),
    (
        "ip-mismatch",
        Status::Critical,
        &[("hostname-mismatch", C, Some(0))],
    ),
    (
        "self-signed",
        Status::Critical,
        &[("self-signed", C, Some(0))],
    ),
    (
        "expired-self-signed-wrong-name",
        Status::Critical,
        &[
            ("self-signed", C, Some(0)),
            ("expired", C, Some(0)),
            ("hostname-mismatch", C, Some(0)),
        ],
    ),
    (
        "untrusted-root",
        Status::Critical,
        &[("untrusted-root", C, Some(2))],
    ),
    (
        "incomplete-chain",
        Status::Critical,
        &[("incomplete-chain", C, Some(0))],
    ),
    (
        "chain-order",
        Status::Warning,
        &[("chain-order", W, Some(1)), ("root-sent", I, Some(1))],
    ),
    ("root-sent", Status::Ok, &[("root-sent", I, Some(2))]),
    (
        "weak-signature",
        Status::Critical,
        &[("weak-signature", C, Some(1))],
    ),
    ("weak-key", Status::Critical, &[("weak-key", C, Some(0))]),
    (
        "invalid-purpose",
        Status::Critical,
        &[("invalid-purpose", C, Some(0))],
    ),
    (
        "ca-as-leaf",
        Status::Critical,
        &[("ca-as-leaf", C, Some(0))],
    ),
    (
        "name-constraints",
        Status::Critical,
        &[("name-constraints", C, Some(1))],
    ),
    (
        "long-validity",
        Status::Warning,
        &[("long-validity", W, Some(0))],
    ),
    ("not-tls", Status::Error, &[("not-tls", C, None)]),
    ("silent", Status::Error, &[("timeout", C, None)]),
    ("closed", Status::Error, &[("unreachable", C, None)]),
    (
        "tls10-only",
        Status::Error,
        &[("protocol-unsupported", C, None)],
    ),
    (
        "handshake-failure",
        Status::Error,
        &[("handshake-failed", C, None)],
    ),
    ("revoked-crl", Status::Critical, &[("revoked", C, Some(0))]),
    ("revoked-ocsp", Status::Critical, &[("revoked", C, Some(0))]),
    ("stapled-good", Status::Ok, &[("ocsp-stapled", I, Some(0))]),
    (
        "stapled-revoked",
        Status::Critical,
        &[("revoked", C, Some(0)), ("ocsp-stapled", I, Some(0))],
    ),
    (
        "must-staple",
        Status::Critical,
        &[("must-staple-missing", C, Some(0))],
    ),
    (
        "aia-missing",
        Status::Critical,
        &[("incomplete-chain", C, Some(0))],
    ),
    (
        "aia-wrong",
        Status::Critical,
        &[
            ("incomplete-chain", C, Some(0)),
            ("aia-fetch-failed", W, Some(0)),
        ],
    ),
    (
        "stale-crl",
        Status::Warning,
        &[("revocation-unknown", W, Some(0))],
    ),
    (
        "responder-down",
        Status::Warning,
        &[("revocation-unknown", W, Some(0))],
    ),
    // Valid with SNI; the default without SNI differs (only with
    // --compare-no-sni, see tests/endpoints.rs).
    ("sni-default", Status::Ok, &[]),
    // The leaf at 127.0.0.2 expired: not in the first address's chain.
    (
        "stale-node",
        Status::Critical,
        &[("expired", C, None), ("inconsistent-endpoints", W, None)],
    ),
    (
        "split-nodes",
        Status::Warning,
        &[("inconsistent-endpoints", W, None)],
    ),
];

async fn check(lab: &Lab, id: &str, trust: &TrustStore) -> Report {
    let t = lab
        .get(id)
        .unwrap_or_else(|| panic!("lab has no scenario {id}"));
    let mut target = Target::parse(&t.target(), 443).expect("lab target parses");
    if let Some(rule) = t.resolve() {
        ResolveRule::apply(
            &[ResolveRule::parse(&rule).expect("lab resolve rule parses")],
            &mut target,
        );
    }
    // The engine every mode uses: probe (every address), fetch AIA, CRLs
    // and OCSP, diagnose.
    let mut config = certscope::config::Config::offline(
        std::sync::Arc::new(trust.clone()),
        DiagnoseOptions::default(),
        None,
    );
    config.probe = ProbeOptions::with_timeout(Duration::from_millis(1500));
    config.enrich = EnrichOptions {
        timeout: Duration::from_millis(1500),
        ..EnrichOptions::default()
    };
    let engine = certscope::run::Engine::new(config);
    tokio::time::timeout(Duration::from_secs(10), engine.check(&target, trust))
        .await
        .unwrap_or_else(|_| panic!("probe of {id} hung"))
}

fn lab_trust(lab: &Lab, origin: AnchorOrigin) -> TrustStore {
    TrustStore::from_ders(&lab.root_ders(), origin).expect("lab roots are usable anchors")
}

fn summary(r: &Report) -> Vec<(String, Severity, Option<usize>)> {
    let mut v: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.code.to_string(), f.severity, f.cert))
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lab_scenario_gets_exactly_its_findings() {
    let lab = Lab::start(LabOptions::default()).await.expect("lab starts");
    let trust = lab_trust(&lab, AnchorOrigin::CaFile(lab.ca_file.clone()));
    let mut failures = Vec::new();
    for (id, status, want) in EXPECT {
        let r = check(&lab, id, &trust).await;
        let mut want: Vec<(String, Severity, Option<usize>)> = want
            .iter()
            .map(|(c, s, i)| (c.to_string(), *s, *i))
            .collect();
        want.sort();
        let got = summary(&r);
        if got != want || r.status != *status {
            failures.push(format!(
                "{id}: want {status:?} {want:?}\n   got {:?} {got:?}\n   {:#?}",
                r.status,
                r.findings
                    .iter()
                    .map(|f| format!("{}: {}", f.title, f.detail))
                    .collect::<Vec<_>>()
            ));
        }
    }
    // Every scenario of the lab is covered by this table.
    for t in &lab.targets {
        if !EXPECT.iter().any(|(id, _, _)| *id == t.id) {
            failures.push(format!("scenario {} has no expectation", t.id));
        }
    }
    lab.shutdown();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_name_the_reason() {
    let lab = Lab::start(LabOptions::default()).await.expect("lab starts");
    let trust = lab_trust(&lab, AnchorOrigin::CaFile(lab.ca_file.clone()));
    let detail = |r: &Report, code: &str| {
        r.findings
            .iter()
            .find(|f| f.code.as_str() == code)
            .map(|f| format!("{} {}", f.title, f.detail))
            .unwrap_or_else(|| panic!("no {code} in {:?}", summary(r)))
    };
    let r = check(&lab, "cn-only", &trust).await;
    assert!(detail(&r, "hostname-mismatch").contains("no subjectAltName"));
    let r = check(&lab, "wildcard-deep", &trust).await;
    let d = detail(&r, "hostname-mismatch");
    assert!(d.contains("*.lab.test") && d.contains("one label"), "{d}");
    let r = check(&lab, "ip-mismatch", &trust).await;
    let d = detail(&r, "hostname-mismatch");
    assert!(
        d.contains("IP") && d.contains("DNS:ip-mismatch.lab.test"),
        "{d}"
    );
    let r = check(&lab, "wrong-host", &trust).await;
    let d = detail(&r, "hostname-mismatch");
    assert!(
        d.contains("DNS:other.lab.test") && d.contains("DNS:www.other.lab.test"),
        "{d}"
    );
    let r = check(&lab, "expired-intermediate", &trust).await;
    assert!(
        detail(&r, "expired").contains("Intermediate"),
        "an expired intermediate is not an expired leaf"
    );
    let r = check(&lab, "not-tls", &trust).await;
    assert!(detail(&r, "not-tls").contains("HTTP/1.1 400 Bad Request"));
    let r = check(&lab, "handshake-failure", &trust).await;
    assert!(detail(&r, "handshake-failed").contains("handshake_failure"));
    let r = check(&lab, "tls10-only", &trust).await;
    assert!(detail(&r, "protocol-unsupported").contains("protocol_version"));
    let r = check(&lab, "good", &trust).await;
    let tls = r.tls.as_ref().expect("tls facts");
    assert!(tls.version.starts_with("TLSv1."), "{tls:?}");
    assert!(!tls.cipher.is_empty());
    assert_eq!(r.chain.len(), 3, "leaf, intermediate and the store anchor");
    assert_eq!(r.path, vec![0, 1, 2]);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publicly_trusted_chains_need_scts() {
    let lab = Lab::start(LabOptions::default()).await.expect("lab starts");
    // Pretend the lab root is in the OS store: then CT applies.
    let trust = lab_trust(&lab, AnchorOrigin::System);
    let r = check(&lab, "no-sct", &trust).await;
    assert_eq!(summary(&r), vec![("no-sct".to_string(), W, Some(0))]);
    let r = check(&lab, "good", &trust).await;
    assert_eq!(summary(&r), vec![], "the good leaf embeds SCTs");
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_root_beside_public_ones_says_why_no_sct_is_fine() {
    let lab = Lab::start(LabOptions::default()).await.expect("lab starts");
    // What `certscope lab` prints: the lab's CA file added to the default
    // (Mozilla) store. CT does not apply to the lab root, and an info
    // finding says so rather than a bare "ok".
    let mut trust = TrustStore::mozilla();
    trust.extend(lab_trust(&lab, AnchorOrigin::CaFile(lab.ca_file.clone())));
    let r = check(&lab, "no-sct", &trust).await;
    assert_eq!(r.status, Status::Ok);
    assert_eq!(summary(&r), vec![("no-sct".to_string(), I, Some(0))]);
    let f = &r.findings[0];
    assert!(f.detail.contains("private root"), "{}", f.detail);
    assert!(
        f.detail.contains("Chrome") && f.detail.contains("Safari"),
        "{}",
        f.detail
    );
    assert!(
        !f.clients
            .chrome
            .contains("ERR_CERTIFICATE_TRANSPARENCY_REQUIRED"),
        "Chrome shows nothing under a private root: {:?}",
        f.clients
    );
    let r = check(&lab, "good", &trust).await;
    assert_eq!(summary(&r), vec![], "the good leaf embeds SCTs");
    lab.shutdown();
}

/// Every finding code fires somewhere with an exact expectation: in the
/// lab table above (where `good` shows each one not firing), or in the
/// test file named here, which asserts it on chains made in-process.
#[test]
fn every_finding_code_has_a_rule_table() {
    const ELSEWHERE: &[(&str, &str)] = &[
        ("issuer-not-ca", "tests/paths.rs"),
        ("path-length", "tests/paths.rs"),
        ("unknown-critical-extension", "tests/paths.rs"),
        ("long-validity", "tests/paths.rs"),
        ("chain-order", "tests/paths.rs"),
        ("root-sent", "tests/paths.rs"),
        ("inconsistent-endpoints", "tests/endpoints.rs"),
        ("disk-mismatch", "tests/endpoints.rs"),
        ("sni-default-differs", "tests/endpoints.rs"),
        ("sni-required", "tests/lab.rs"),
        ("no-sct", "tests/lab.rs"),
        ("verification-failed", "tests/paths.rs"),
        ("oversized-chain", "tests/hostile.rs"),
        ("invalid-serial", "tests/hostile.rs"),
        ("key-mismatch", "tests/inspect.rs"),
        ("starttls-failed", "tests/cli.rs"),
        ("revoked", "tests/lab_revocation.rs"),
        ("revocation-unknown", "tests/lab_revocation.rs"),
        ("ocsp-stapled", "tests/lab_revocation.rs"),
        ("must-staple-missing", "tests/lab_revocation.rs"),
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    for code in certscope::report::finding::Code::ALL {
        let s = code.as_str();
        let in_lab = EXPECT
            .iter()
            .any(|(_, _, want)| want.iter().any(|(c, _, _)| *c == s));
        let elsewhere = ELSEWHERE
            .iter()
            .find(|(c, _)| *c == s)
            .is_some_and(|(_, file)| {
                std::fs::read_to_string(root.join(file))
                    .is_ok_and(|text| text.contains(&format!("\"{s}\"")))
            });
        if !in_lab && !elsewhere {
            missing.push(s);
        }
    }
    assert!(missing.is_empty(), "codes no table asserts: {missing:?}");
}
