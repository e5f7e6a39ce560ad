//! Path building and the path rules over chains made in-process (rcgen):
//! a cross-certificate or an expired copy sent before the right issuer, a
//! loop of cross-certificates, 50 candidate issuers with one name, the
//! right issuer only by AIA, root-sent only for the anchor itself; and a
//! table with each path code firing once and not firing once. No message
//! may carry Rust debug formatting.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::report::Report;
use certscope::report::finding::Severity;
use certscope::report::observation::{Fetch, FetchKind};
use certscope::testkit::{DAY, T0, ca_params, observation};
use certscope::x509::chain::{Chain, PathEnd};
use certscope::x509::trust::{AnchorOrigin, TrustStore};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CidrSubnet, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints,
    SanType,
};

type Ca = CertifiedIssuer<'static, KeyPair>;
/// A finding as compared: code, severity, certificate at fault.
type Seen = (String, Severity, Option<usize>);

fn at(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap()
}

fn key() -> KeyPair {
    KeyPair::generate().unwrap()
}

fn copy(k: &KeyPair) -> KeyPair {
    KeyPair::from_pem(&k.serialize_pem()).unwrap()
}

fn root(cn: &str) -> Ca {
    CertifiedIssuer::self_signed(ca_params(cn, T0 - 1000 * DAY, T0 + 3000 * DAY), key()).unwrap()
}

fn ca(cn: &str, k: KeyPair, by: &Ca, tweak: impl FnOnce(&mut CertificateParams)) -> Ca {
    let mut p = ca_params(cn, T0 - 500 * DAY, T0 + 2000 * DAY);
    tweak(&mut p);
    CertifiedIssuer::signed_by(p, k, by).unwrap()
}

fn leaf_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.not_before = at(T0 - 10 * DAY);
    p.not_after = at(T0 + 80 * DAY);
    p
}

fn leaf(by: &Ca, tweak: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
    let mut p = leaf_params("a.paths.test");
    tweak(&mut p);
    p.signed_by(&key(), by).unwrap().der().to_vec()
}

fn der(c: &Ca) -> Vec<u8> {
    c.der().to_vec()
}

fn store(roots: &[&Ca]) -> TrustStore {
    let ders: Vec<Vec<u8>> = roots.iter().map(|r| der(r)).collect();
    TrustStore::from_ders(&ders, AnchorOrigin::CaFile("paths-roots.pem".into())).unwrap()
}

fn judge_at(chain: Vec<Vec<u8>>, trust: &TrustStore, now: i64) -> Report {
    let r = diagnose(
        &observation("a.paths.test:443", chain, now),
        trust,
        now,
        &DiagnoseOptions::default(),
    );
    no_debug_text(&r);
    r
}

fn judge(chain: Vec<Vec<u8>>, trust: &TrustStore) -> Report {
    judge_at(chain, trust, T0)
}

fn codes(r: &Report) -> Vec<Seen> {
    let mut v: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.code.to_string(), f.severity, f.cert))
        .collect();
    v.sort();
    v
}

fn c(code: &str, s: Severity, cert: Option<usize>) -> Seen {
    (code.to_string(), s, cert)
}

fn no_debug_text(r: &Report) {
    for f in &r.findings {
        for text in [&f.title, &f.detail] {
            assert_eq!(
                certscope::testkit::debug_text(text),
                None,
                "debug formatting in {}: {text}",
                f.code
            );
        }
    }
}

#[test]
fn the_debug_scan_catches_what_it_should() {
    use certscope::testkit::debug_text;
    assert!(
        debug_text("refuses: RequiredEkuNotFoundContext(RequiredEkuNotFoundContext { x })")
            .is_some()
    );
    assert!(debug_text("value Some(3)").is_some());
    assert!(debug_text("UnknownIssuer { a }").is_some());
    assert!(debug_text("Let's Encrypt (R3) issued it").is_none());
    assert!(debug_text("the intermediate 'CN=DigiCert TLS RSA SHA256 2020 CA1' (#1)").is_none());
}

#[test]
fn a_cross_certificate_sent_before_the_right_intermediate() {
    let r = root("Paths Root");
    let old = root("Paths Old Root");
    let ik = key();
    let int = ca("Paths Intermediate", copy(&ik), &r, |_| {});
    // The same name and key, issued by a root the store does not hold.
    let cross = ca("Paths Intermediate", ik, &old, |_| {});
    let l = leaf(&int, |_| {});
    let trust = store(&[&r]);
    let rep = judge(vec![l.clone(), der(&cross), der(&int)], &trust);
    assert_eq!(
        rep.path,
        vec![0, 2, 3],
        "leaf, the right intermediate, the store's root"
    );
    // Before the right one, it is what clients taking the sent order pick.
    assert_eq!(
        codes(&rep),
        vec![c("chain-order", Severity::Warning, Some(1))]
    );
    let d = &rep.findings[0].detail;
    assert!(d.contains("send it after"), "{d}");
    assert!(!d.contains("belongs to no path"), "{d}");
    // After it: harmless, and said so.
    let rep = judge(vec![l, der(&int), der(&cross)], &trust);
    assert_eq!(rep.path, vec![0, 1, 3]);
    assert_eq!(codes(&rep), vec![c("chain-order", Severity::Info, Some(2))]);
    let d = &rep.findings[0].detail;
    assert!(d.contains("harmless"), "{d}");
}

#[test]
fn an_expired_copy_of_the_intermediate_sent_before_the_valid_one() {
    let r = root("Paths Root");
    let ik = key();
    let int = ca("Paths Intermediate", copy(&ik), &r, |_| {});
    let stale = ca("Paths Intermediate", ik, &r, |p| {
        p.not_before = at(T0 - 900 * DAY);
        p.not_after = at(T0 - 100 * DAY);
    });
    let l = leaf(&int, |_| {});
    let rep = judge(vec![l.clone(), der(&stale), der(&int)], &store(&[&r]));
    assert_eq!(rep.path, vec![0, 2, 3]);
    assert_eq!(
        codes(&rep),
        vec![c("chain-order", Severity::Warning, Some(1))]
    );
    assert!(!rep.findings.iter().any(|f| f.code.as_str() == "expired"));
    // Only the expired copy: its expiry is named on it.
    let rep = judge(vec![l, der(&stale)], &store(&[&r]));
    assert_eq!(codes(&rep), vec![c("expired", Severity::Critical, Some(1))]);
}

#[test]
fn a_loop_of_cross_certificates_ends() {
    let a_key = key();
    let b_key = key();
    let self_signed = |cn: &str, k: &KeyPair| -> Ca {
        CertifiedIssuer::self_signed(ca_params(cn, T0 - 1000 * DAY, T0 + 3000 * DAY), copy(k))
            .unwrap()
    };
    let a = self_signed("Paths Loop A", &a_key);
    let b = self_signed("Paths Loop B", &b_key);
    // A's name and key issued by B, and B's issued by A: each issues the
    // other, and neither is trusted.
    let a_by_b = ca("Paths Loop A", copy(&a_key), &b, |_| {});
    let b_by_a = ca("Paths Loop B", copy(&b_key), &a, |_| {});
    let l = leaf(&a, |_| {});
    let certs = vec![l, der(&a_by_b), der(&b_by_a)];
    let trust = store(&[&root("Paths Unrelated Root")]);
    let mut chain = Chain::parse(&certs);
    let walk = chain.walk(&trust, T0).unwrap().clone();
    assert!(walk.considered <= 64, "{}", walk.considered);
    assert!(!matches!(walk.end, PathEnd::Anchored { .. }));
    let rep = judge(certs, &trust);
    assert!(
        rep.findings
            .iter()
            .any(|f| f.severity == Severity::Critical && f.code.as_str() == "untrusted-root"),
        "{:?}",
        codes(&rep)
    );
}

#[test]
fn fifty_candidate_issuers_with_one_name() {
    let r = root("Paths Root");
    let ik = key();
    let int = ca("Paths Intermediate", copy(&ik), &r, |_| {});
    let l = leaf(&int, |_| {});
    // 50 certificates named like the issuer, with the issuer's key, each
    // issued by a root nobody has: 50 dead ends before the right one.
    let mut chain = vec![l.clone()];
    for n in 0..50 {
        let lost = root(&format!("Paths Lost Root {n}"));
        chain.push(der(&ca("Paths Intermediate", copy(&ik), &lost, |_| {})));
    }
    chain.push(der(&int));
    let trust = store(&[&r]);
    let rep = judge(chain.clone(), &trust);
    assert_eq!(rep.path, vec![0, 51, 52]);
    // The 50 are named as issuers sent before the right one, in one finding.
    assert_eq!(
        codes(&rep),
        vec![c("chain-order", Severity::Warning, Some(1))]
    );
    assert!(
        rep.findings[0].detail.len() < 2_048,
        "{}",
        rep.findings[0].detail
    );
    // Without the right one: the search stops within its bounds and names
    // the missing root of the path it got furthest with.
    chain.pop();
    let mut parsed = Chain::parse(&chain);
    let walk = parsed.walk(&trust, T0).unwrap().clone();
    assert!(walk.considered <= 64);
    let rep = judge(chain, &trust);
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code.as_str() == "untrusted-root" && f.cert == Some(1)),
        "{:?}",
        codes(&rep)
    );
    // 50 with the issuer's name but other keys: a bad signature, named.
    let mut chain = vec![l];
    for n in 0..50 {
        let other = root(&format!("Paths Other Root {n}"));
        chain.push(der(&ca("Paths Intermediate", key(), &other, |_| {})));
    }
    let rep = judge(chain, &trust);
    assert!(
        rep.findings
            .iter()
            .any(|f| f.code.as_str() == "verification-failed" && f.cert == Some(0)),
        "{:?}",
        codes(&rep)
    );
}

#[test]
fn the_right_issuer_only_by_aia() {
    let r = root("Paths Root");
    let int = ca("Paths Intermediate", key(), &r, |_| {});
    let wrong = ca(
        "Paths Intermediate",
        key(),
        &root("Paths Other Root"),
        |_| {},
    );
    let l = leaf(&int, |p| {
        p.custom_extensions = vec![];
    });
    // The server sends a wrong certificate with the issuer's name; AIA
    // serves the right one.
    let mut obs = observation("a.paths.test:443", vec![l.clone(), der(&wrong)], T0);
    let info = certscope::x509::cert::CertInfo::from_der(&l).unwrap();
    obs.fetches.push(Fetch {
        kind: FetchKind::Aia,
        url: "http://aia.paths.test/int.der".into(),
        for_cert: info.sha256.clone(),
        result: Ok(der(&int)),
        elapsed_ms: 1,
        checked: None,
    });
    let rep = diagnose(&obs, &store(&[&r]), T0, &DiagnoseOptions::default());
    no_debug_text(&rep);
    assert_eq!(
        rep.path,
        vec![0, 2, 3],
        "leaf, the fetched intermediate, the root"
    );
    let inc = rep
        .findings
        .iter()
        .find(|f| f.code.as_str() == "incomplete-chain")
        .expect("incomplete-chain");
    assert!(inc.detail.contains("the chain verifies"), "{}", inc.detail);
    assert!(
        !rep.findings
            .iter()
            .any(|f| f.code.as_str() == "verification-failed"),
        "{:?}",
        codes(&rep)
    );
}

#[test]
fn root_sent_only_for_the_anchor_itself() {
    let r = root("Paths Root");
    let other = root("Paths Other Root");
    let int = ca("Paths Intermediate", key(), &r, |_| {});
    let l = leaf(&int, |_| {});
    let trust = store(&[&r]);
    let rep = judge(vec![l.clone(), der(&int), der(&r)], &trust);
    assert_eq!(codes(&rep), vec![c("root-sent", Severity::Info, Some(2))]);
    // A cross-certificate of the root (its name and key, issued by another
    // CA) is not the anchor: an alternate, not root-sent.
    let rk = KeyPair::from_pem(&r.key().serialize_pem()).unwrap();
    let cross = ca("Paths Root", rk, &other, |_| {});
    let rep = judge(vec![l, der(&int), der(&cross)], &trust);
    assert!(
        !rep.findings.iter().any(|f| f.code.as_str() == "root-sent"),
        "{:?}",
        codes(&rep)
    );
    assert_eq!(codes(&rep), vec![c("chain-order", Severity::Info, Some(2))]);
}

/// Each path code once firing and once not, on the certificate at fault.
#[test]
fn path_rules_fire_on_the_certificate_at_fault_and_only_then() {
    let r = root("Paths Root");
    let trust = store(&[&r]);
    let crit = Severity::Critical;
    type Tweak = fn(&mut CertificateParams);
    let table: Vec<(&str, Tweak, Tweak, Vec<Seen>)> = vec![
        (
            "issuer-not-ca",
            |p| p.is_ca = IsCa::ExplicitNoCa,
            |_| {},
            vec![c("issuer-not-ca", crit, Some(1))],
        ),
        (
            "no keyCertSign",
            |p| p.key_usages = vec![KeyUsagePurpose::DigitalSignature],
            |_| {},
            vec![c("issuer-not-ca", crit, Some(1))],
        ),
        (
            "intermediate EKU",
            |p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth],
            |p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth],
            vec![c("invalid-purpose", crit, Some(1))],
        ),
        (
            "unknown critical extension",
            |p| {
                let mut e =
                    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
                e.set_criticality(true);
                p.custom_extensions = vec![e];
            },
            |p| {
                let e =
                    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
                p.custom_extensions = vec![e];
            },
            vec![c("unknown-critical-extension", crit, Some(1))],
        ),
        (
            "DNS name constraints",
            |p| {
                p.name_constraints = Some(NameConstraints {
                    permitted_subtrees: vec![GeneralSubtree::DnsName("other.test".into())],
                    excluded_subtrees: vec![],
                })
            },
            |p| {
                p.name_constraints = Some(NameConstraints {
                    permitted_subtrees: vec![GeneralSubtree::DnsName("paths.test".into())],
                    excluded_subtrees: vec![],
                })
            },
            vec![c("name-constraints", crit, Some(1))],
        ),
        (
            "excluded IP subtree",
            |p| {
                p.name_constraints = Some(NameConstraints {
                    permitted_subtrees: vec![],
                    excluded_subtrees: vec![GeneralSubtree::IpAddress(CidrSubnet::V4(
                        [192, 0, 2, 0],
                        [255, 255, 255, 0],
                    ))],
                })
            },
            |p| {
                p.name_constraints = Some(NameConstraints {
                    permitted_subtrees: vec![],
                    excluded_subtrees: vec![GeneralSubtree::IpAddress(CidrSubnet::V4(
                        [10, 0, 0, 0],
                        [255, 0, 0, 0],
                    ))],
                })
            },
            vec![c("name-constraints", crit, Some(1))],
        ),
    ];
    for (what, bad, good, want) in table {
        for (tweak, expect) in [(bad, want.clone()), (good, Vec::new())] {
            let int = ca("Paths Intermediate", key(), &r, tweak);
            let l = leaf(&int, |p| {
                p.subject_alt_names
                    .push(SanType::IpAddress("192.0.2.7".parse().unwrap()));
            });
            let rep = judge(vec![l, der(&int)], &trust);
            assert_eq!(codes(&rep), expect, "{what}");
        }
    }
    // Path length: the root's child allows no CA below it; one follows.
    for (limit, want) in [
        (0u8, vec![c("path-length", crit, Some(2))]),
        (1, Vec::new()),
    ] {
        let top = ca("Paths Top", key(), &r, |p| {
            p.is_ca = IsCa::Ca(BasicConstraints::Constrained(limit))
        });
        let mid = ca("Paths Mid", key(), &top, |_| {});
        let l = leaf(&mid, |_| {});
        let rep = judge(vec![l, der(&mid), der(&top)], &trust);
        assert_eq!(codes(&rep), want, "pathlen {limit}");
    }
}

/// long-validity by the rule in force when the leaf was issued.
#[test]
fn lifetime_by_issuance_date() {
    let r = root("Paths Root");
    let trust = store(&[&r]);
    let int = ca("Paths Intermediate", key(), &r, |p| {
        p.not_before = at(T0 - 4000 * DAY);
        p.not_after = at(T0 + 4000 * DAY);
    });
    let day = |s: &str| certscope::cli::parse_at(s).unwrap();
    // (notBefore, lifetime in days, judged at, expected)
    let table: Vec<(i64, i64, i64, Vec<Seen>)> = vec![
        // SC-081: 200 days from 2026-03-15.
        (
            day("2026-06-01"),
            250,
            day("2026-07-01"),
            vec![c("long-validity", Severity::Warning, Some(0))],
        ),
        (day("2026-06-01"), 199, day("2026-07-01"), vec![]),
        // Before SC-081: 398 days.
        (day("2026-01-10"), 300, day("2026-07-01"), vec![]),
        // 100 days from 2027-03-15.
        (
            day("2027-04-01"),
            120,
            day("2027-05-01"),
            vec![c("long-validity", Severity::Warning, Some(0))],
        ),
        // 47 days from 2029-03-15.
        (
            day("2029-04-01"),
            60,
            day("2029-04-15"),
            vec![c("long-validity", Severity::Warning, Some(0))],
        ),
        (day("2029-04-01"), 46, day("2029-04-15"), vec![]),
        // Apple refuses over 825 days issued from 2019-07-01, whoever issued it.
        (
            day("2025-06-01"),
            900,
            day("2026-07-01"),
            vec![c("long-validity", Severity::Critical, Some(0))],
        ),
        // Issued before any rule: an info note only.
        (
            day("2016-01-01"),
            4000,
            day("2026-07-01"),
            vec![c("long-validity", Severity::Info, Some(0))],
        ),
    ];
    for (nb, days, now, want) in table {
        let l = leaf(&int, |p| {
            p.not_before = at(nb);
            p.not_after = at(nb + days * DAY);
        });
        let rep = judge_at(vec![l, der(&int)], &trust, now);
        let got: Vec<_> = codes(&rep)
            .into_iter()
            .filter(|(code, _, _)| code == "long-validity")
            .collect();
        assert_eq!(got, want, "issued {nb}, {days} days");
        if let Some(f) = rep
            .findings
            .iter()
            .find(|f| f.code.as_str() == "long-validity")
        {
            assert!(
                f.detail
                    .contains("A renewal issued now may be valid for at most"),
                "{}",
                f.detail
            );
            // The fix issues for the limit in force when judged.
            let max = if now >= day("2029-03-15") {
                47
            } else if now >= day("2027-03-15") {
                100
            } else {
                200
            };
            let cmd = f
                .fix
                .iter()
                .find_map(|s| s.command.clone())
                .unwrap_or_default();
            assert!(cmd.contains(&format!("-days {} ", max - 1)), "{cmd}");
        }
    }
}
