//! The lab's revocation and AIA scenarios in detail: where the verdicts
//! come from (CRL, OCSP, staple), the reasons, the chain entry fetched from
//! AIA, what `--no-revocation` / `--no-aia` change, and that a dead
//! responder costs no more than the timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use certscope::cli::config;
use certscope::diagnose::revocation::RevState;
use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::fetch::{EnrichOptions, FetchCache, enrich};
use certscope::lab::{Lab, LabOptions};
use certscope::probe::{ProbeOptions, probe};
use certscope::report::finding::{Severity, Status};
use certscope::report::observation::{FetchKind, Observation};
use certscope::report::{Report, Source};
use certscope::run::Engine;
use certscope::target::{ResolveRule, Target};
use certscope::x509::trust::{AnchorOrigin, TrustStore};

const TIMEOUT: Duration = Duration::from_millis(1500);

async fn start() -> (Lab, TrustStore) {
    let lab = tokio::time::timeout(Duration::from_secs(30), Lab::start(LabOptions::default()))
        .await
        .expect("lab starts in time")
        .expect("lab starts");
    let trust = TrustStore::from_ders(&lab.root_ders(), AnchorOrigin::CaFile(lab.ca_file.clone()))
        .expect("lab roots are usable anchors");
    (lab, trust)
}

fn target(lab: &Lab, id: &str) -> Target {
    let t = lab.get(id).unwrap_or_else(|| panic!("no scenario {id}"));
    let mut target = Target::parse(&t.target(), 443).expect("lab target parses");
    if let Some(rule) = t.resolve() {
        ResolveRule::apply(
            &[ResolveRule::parse(&rule).expect("rule parses")],
            &mut target,
        );
    }
    target
}

/// Probe + enrich (as `Engine::observe`) + diagnose; also returns the
/// observation and how long the enrichment took.
async fn check_with(
    lab: &Lab,
    id: &str,
    trust: &TrustStore,
    opts: &EnrichOptions,
) -> (Report, Observation, Duration) {
    let target = target(lab, id);
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut obs = probe(&target, &ProbeOptions::with_timeout(TIMEOUT)).await;
        let start = Instant::now();
        enrich(&mut obs, trust, opts, &FetchCache::default()).await;
        let took = start.elapsed();
        let report = diagnose(&obs, trust, obs.started_at, &DiagnoseOptions::default());
        (report, obs, took)
    })
    .await
    .unwrap_or_else(|_| panic!("check of {id} hung"))
}

fn on() -> EnrichOptions {
    EnrichOptions {
        timeout: TIMEOUT,
        ..EnrichOptions::default()
    }
}

async fn check(lab: &Lab, id: &str, trust: &TrustStore) -> (Report, Observation) {
    let (r, obs, _) = check_with(lab, id, trust, &on()).await;
    (r, obs)
}

fn codes(r: &Report) -> Vec<(String, Severity, Option<usize>)> {
    let mut v: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.code.to_string(), f.severity, f.cert))
        .collect();
    v.sort();
    v
}

fn text(r: &Report, code: &str) -> String {
    r.findings
        .iter()
        .find(|f| f.code.as_str() == code)
        .map(|f| format!("{} | {}", f.title, f.detail))
        .unwrap_or_else(|| panic!("no {code} in {:?}", codes(r)))
}

fn leaf_state(r: &Report) -> RevState {
    r.chain[0]
        .revocation
        .clone()
        .expect("the leaf's revocation is judged")
}

fn fetch_kinds(obs: &Observation) -> Vec<(FetchKind, String)> {
    obs.fetches
        .iter()
        .map(|f| (f.kind, f.url.clone()))
        .collect()
}

fn url(lab: &Lab, path: &str) -> String {
    format!("{}{path}", lab.http_url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_by_crl_and_by_ocsp() {
    let (lab, trust) = start().await;

    let (r, obs) = check(&lab, "revoked-crl", &trust).await;
    assert_eq!(fetch_kinds(&obs), [(FetchKind::Crl, url(&lab, "lab.crl"))]);
    match leaf_state(&r) {
        RevState::Revoked { source, reason, .. } => {
            assert_eq!(source, "CRL");
            assert_eq!(reason.as_deref(), Some("keyCompromise"));
        }
        other => panic!("revoked-crl: {other:?}"),
    }
    let t = text(&r, "revoked");
    assert!(
        t.contains("(keyCompromise)") && t.contains("according to the CRL"),
        "{t}"
    );
    assert_eq!(r.status, Status::Critical);

    // No CRL distribution point: OCSP is asked.
    let (r, obs) = check(&lab, "revoked-ocsp", &trust).await;
    assert_eq!(
        fetch_kinds(&obs),
        [(FetchKind::Ocsp, url(&lab, "ocsp/revoked-ocsp"))]
    );
    match leaf_state(&r) {
        RevState::Revoked { source, reason, .. } => {
            assert_eq!(source, "OCSP");
            assert_eq!(reason.as_deref(), Some("keyCompromise"));
        }
        other => panic!("revoked-ocsp: {other:?}"),
    }
    assert!(text(&r, "revoked").contains("according to the OCSP"));

    // The intermediate names no locations: not checked, no finding.
    assert!(matches!(
        r.chain[1].revocation,
        Some(RevState::NotChecked { .. })
    ));
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staples_and_must_staple() {
    let (lab, trust) = start().await;

    // A good staple answers the question: nothing is fetched.
    let (r, obs) = check(&lab, "stapled-good", &trust).await;
    assert!(obs.ocsp_stapled.is_some());
    assert_eq!(fetch_kinds(&obs), []);
    assert_eq!(
        leaf_state(&r),
        RevState::Good {
            source: "OCSP staple".into()
        }
    );
    let t = text(&r, "ocsp-stapled");
    assert!(t.contains("a valid stapled OCSP response: good"), "{t}");
    assert_eq!(r.status, Status::Ok);

    let (r, obs) = check(&lab, "stapled-revoked", &trust).await;
    assert_eq!(fetch_kinds(&obs), []);
    match leaf_state(&r) {
        RevState::Revoked { source, reason, .. } => {
            assert_eq!(source, "OCSP staple");
            assert_eq!(reason.as_deref(), Some("keyCompromise"));
        }
        other => panic!("stapled-revoked: {other:?}"),
    }
    assert!(text(&r, "ocsp-stapled").contains("saying the certificate was revoked"));
    assert!(text(&r, "revoked").contains("according to the OCSP staple"));

    // must-staple: no staple, so critical, though OCSP itself says good.
    let (r, obs) = check(&lab, "must-staple", &trust).await;
    assert!(obs.ocsp_stapled.is_none());
    assert_eq!(
        fetch_kinds(&obs),
        [(FetchKind::Ocsp, url(&lab, "ocsp/must-staple"))]
    );
    assert_eq!(
        leaf_state(&r),
        RevState::Good {
            source: "OCSP".into()
        }
    );
    assert!(text(&r, "must-staple-missing").contains("TLS Feature"));
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_intermediate_from_aia() {
    let (lab, trust) = start().await;
    let aia = url(&lab, "lab-intermediate.der");

    let (r, obs) = check(&lab, "aia-missing", &trust).await;
    assert_eq!(obs.chain.len(), 1, "the server sends the leaf only");
    assert_eq!(fetch_kinds(&obs), [(FetchKind::Aia, aia.clone())]);
    let t = text(&r, "incomplete-chain");
    assert!(t.contains(&aia), "{t}");
    assert!(t.contains("the chain verifies"), "{t}");
    assert!(t.contains("certscope Lab Intermediate CA"), "{t}");
    // leaf (server), intermediate (AIA), root (store).
    let sources: Vec<Source> = r.chain.iter().map(|c| c.source).collect();
    assert_eq!(sources, [Source::Server, Source::Aia, Source::Store]);
    assert_eq!(r.chain[1].fetched_from.as_deref(), Some(aia.as_str()));
    assert_eq!(r.path, [0, 1, 2]);

    // Without AIA: the same finding, without a fetched intermediate.
    let opts = EnrichOptions { aia: false, ..on() };
    let (r, obs, _) = check_with(&lab, "aia-missing", &trust, &opts).await;
    assert_eq!(fetch_kinds(&obs), []);
    assert_eq!(
        codes(&r),
        [("incomplete-chain".to_string(), Severity::Critical, Some(0))]
    );
    assert!(r.chain.iter().all(|c| c.source != Source::Aia));
    assert!(text(&r, "incomplete-chain").contains(&aia));

    // The AIA URL serves an unrelated CA certificate.
    let wrong = url(&lab, "wrong.der");
    let (r, obs) = check(&lab, "aia-wrong", &trust).await;
    assert_eq!(fetch_kinds(&obs), [(FetchKind::Aia, wrong.clone())]);
    let t = text(&r, "aia-fetch-failed");
    assert!(
        t.contains(&wrong) && t.contains("certscope Rogue Intermediate CA"),
        "{t}"
    );
    assert!(t.contains("did not issue this certificate"), "{t}");
    assert!(text(&r, "incomplete-chain").contains("does not help"));
    // The fetched certificate is listed, but not on the path.
    assert_eq!(r.chain.len(), 2);
    assert_eq!(r.chain[1].source, Source::Aia);
    assert_eq!(r.chain[1].fetched_from.as_deref(), Some(wrong.as_str()));
    assert!(r.chain[1].info.subject.contains("Rogue"));
    assert_eq!(r.path, [0]);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_crl_and_dead_responder_are_unknown() {
    let (lab, trust) = start().await;

    let (r, obs) = check(&lab, "stale-crl", &trust).await;
    assert_eq!(
        fetch_kinds(&obs),
        [(FetchKind::Crl, url(&lab, "stale.crl"))]
    );
    assert!(matches!(leaf_state(&r), RevState::Unknown { .. }));
    let t = text(&r, "revocation-unknown");
    assert!(t.contains("the CRL is stale"), "{t}");

    let (r, obs, took) = check_with(&lab, "responder-down", &trust, &on()).await;
    // Both locations are tried, CRL first, and both fail.
    let kinds: Vec<FetchKind> = obs.fetches.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FetchKind::Crl, FetchKind::Ocsp]);
    assert!(obs.fetches.iter().all(|f| f.result.is_err()));
    assert!(
        obs.fetches
            .iter()
            .all(|f| !f.url.starts_with(&lab.http_url))
    );
    assert!(took < TIMEOUT + Duration::from_millis(500), "{took:?}");
    assert!(matches!(leaf_state(&r), RevState::Unknown { .. }));
    let t = text(&r, "revocation-unknown");
    assert!(
        t.contains("CRL http://127.0.0.1:") && t.contains("OCSP http://127.0.0.1:"),
        "{t}"
    );
    assert!(
        t.contains("fetching it failed") && t.contains("the query failed"),
        "{t}"
    );
    assert_eq!(r.status, Status::Warning);
    lab.shutdown();
}

/// The real engine (as `certscope check` builds it), with and without
/// `--no-revocation`.
async fn plan_check(lab: &Lab, id: &str, no_revocation: bool) -> Report {
    let t = lab.get(id).expect("scenario");
    let mut args = certscope::cli::demo_probe_args();
    args.ca_file = vec![lab.ca_file.clone()];
    args.timeout = TIMEOUT.as_secs_f64();
    args.no_revocation = no_revocation;
    if let Some(rule) = t.resolve() {
        args.resolve
            .push(ResolveRule::parse(&rule).expect("rule parses"));
    }
    let engine = Engine::new(config(&[t.target()], &args).expect("config"));
    let target = engine.config.targets[0].clone();
    tokio::time::timeout(Duration::from_secs(10), engine.check_index(0, &target))
        .await
        .expect("check in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_revocation_keeps_the_staple() {
    let (lab, _) = start().await;

    let r = plan_check(&lab, "revoked-crl", false).await;
    assert_eq!(
        codes(&r),
        [("revoked".to_string(), Severity::Critical, Some(0))]
    );

    // --no-revocation: the CRL is not fetched, so nothing is known.
    let r = plan_check(&lab, "revoked-crl", true).await;
    assert_eq!(r.status, Status::Ok, "{:?}", codes(&r));
    assert_eq!(codes(&r), []);
    assert!(matches!(leaf_state(&r), RevState::NotChecked { .. }));

    // ...but a stapled answer came with the handshake and still counts.
    let r = plan_check(&lab, "stapled-revoked", true).await;
    assert_eq!(
        codes(&r),
        [
            ("ocsp-stapled".to_string(), Severity::Info, Some(0)),
            ("revoked".to_string(), Severity::Critical, Some(0)),
        ]
    );
    assert!(matches!(
        leaf_state(&r),
        RevState::Revoked { ref source, .. } if source == "OCSP staple"
    ));

    // A dead responder is not looked up at all with --no-revocation.
    let r = plan_check(&lab, "responder-down", true).await;
    assert_eq!(codes(&r), []);
    lab.shutdown();
}
