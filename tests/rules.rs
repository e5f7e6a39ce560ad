//! Rule tables over certificates made in-process, judged at fixed instants:
//! clock edges one second either side of notBefore/notAfter, the expiry
//! window, lifetime limits, and the name-matching cases.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::report::Report;
use certscope::report::finding::{Severity, Status};
use certscope::testkit::{DAY, T0, TestPki as Pki, ca_params as ca, observation};
use rcgen::{CertificateParams, CertifiedIssuer, DnType, KeyPair};
use time::OffsetDateTime;

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).expect("valid instant")
}

fn pki() -> Pki {
    Pki::new()
}

fn leaf(
    pki: &Pki,
    sans: &[&str],
    nb: i64,
    na: i64,
    tweak: impl FnOnce(&mut CertificateParams),
) -> Vec<Vec<u8>> {
    pki.chain(sans, nb, na, tweak)
}

fn judge(pki: &Pki, chain: Vec<Vec<u8>>, name: &str, now: i64, opts: &DiagnoseOptions) -> Report {
    let target = if name.contains(':') {
        format!("[{name}]:443")
    } else {
        format!("{name}:443")
    };
    let r = diagnose(&observation(&target, chain, now), &pki.trust(), now, opts);
    // No Rust debug formatting in any message of the rule tables.
    for f in &r.findings {
        for text in [&f.title, &f.detail] {
            assert_eq!(
                certscope::testkit::debug_text(text),
                None,
                "{}: {text}",
                f.code
            );
        }
    }
    r
}

fn codes(r: &Report) -> Vec<(String, Severity)> {
    let mut v: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.code.to_string(), f.severity))
        .collect();
    v.sort();
    v
}

fn c(code: &str, s: Severity) -> (String, Severity) {
    (code.to_string(), s)
}

#[test]
fn clock_edges_around_not_before_and_not_after() {
    let pki = pki();
    // A 90-day leaf from NB to NA.
    let nb = T0;
    let na = T0 + 90 * DAY;
    let chain = leaf(&pki, &["edge.rules.test"], nb, na, |_| {});
    let d = DiagnoseOptions::default();
    let table: &[(i64, Vec<(String, Severity)>)] = &[
        (nb - 1, vec![c("not-yet-valid", Severity::Critical)]),
        (nb, vec![]),
        (nb + 1, vec![]),
        (na - 1, vec![c("expiring-soon", Severity::Warning)]),
        (na, vec![c("expiring-soon", Severity::Warning)]),
        (na + 1, vec![c("expired", Severity::Critical)]),
    ];
    for (now, want) in table {
        let r = judge(&pki, chain.clone(), "edge.rules.test", *now, &d);
        assert_eq!(
            &codes(&r),
            want,
            "at notBefore{:+}s / notAfter{:+}s",
            now - nb,
            now - na
        );
        if let Some(f) = r.findings.first() {
            assert_eq!(f.cert, Some(0));
        }
    }
}

#[test]
fn expired_intermediate_is_blamed_not_the_leaf() {
    let pki = pki();
    let root = CertifiedIssuer::self_signed(
        ca("Edge Root", T0 - 1000 * DAY, T0 + 3000 * DAY),
        KeyPair::generate().unwrap(),
    )
    .unwrap();
    let int_na = T0 + 10 * DAY;
    let int = CertifiedIssuer::signed_by(
        ca("Edge Intermediate", T0 - 100 * DAY, int_na),
        KeyPair::generate().unwrap(),
        &root,
    )
    .unwrap();
    let mut p = CertificateParams::new(vec!["i.rules.test".to_string()]).unwrap();
    p.not_before = at(T0);
    p.not_after = at(T0 + 60 * DAY);
    let key = KeyPair::generate().unwrap();
    let chain = vec![
        p.signed_by(&key, &int).unwrap().der().to_vec(),
        int.der().to_vec(),
    ];
    let trust_root = root.der().to_vec();
    let pki2 = Pki {
        root_der: trust_root,
        int: pki.int,
    };
    for (now, want) in [
        (int_na, vec![c("expiring-soon", Severity::Warning)]),
        (int_na + 1, vec![c("expired", Severity::Critical)]),
    ] {
        let r = judge(
            &pki2,
            chain.clone(),
            "i.rules.test",
            now,
            &DiagnoseOptions::default(),
        );
        assert_eq!(codes(&r), want);
        assert_eq!(r.findings[0].cert, Some(1), "the intermediate is at fault");
    }
}

#[test]
fn expiry_window_follows_the_lifetime_rule() {
    let pki = pki();
    let d = DiagnoseOptions::default();
    // (lifetime days, seconds left, warns?)
    let table = [
        (90, 30 * DAY + 1, false),
        (90, 30 * DAY - 1, true),
        (45, 15 * DAY + 1, false),
        (45, 15 * DAY - 1, true),
        (6, 2 * DAY + 1, false),
        (6, 2 * DAY - 1, true),
        (365, 30 * DAY - 1, true),
        (365, 31 * DAY, false),
    ];
    for (life, left, warns) in table {
        let na = T0 + life * DAY;
        let chain = leaf(&pki, &["w.rules.test"], T0, na, |_| {});
        let r = judge(&pki, chain, "w.rules.test", na - left, &d);
        let got = codes(&r) == vec![c("expiring-soon", Severity::Warning)];
        assert_eq!(
            got,
            warns,
            "lifetime {life}d, {left}s left: {:?}",
            codes(&r)
        );
        if !warns {
            assert_eq!(r.status, Status::Ok);
        }
    }
    // --warn-days and --crit-days override.
    let na = T0 + 90 * DAY;
    let chain = leaf(&pki, &["w.rules.test"], T0, na, |_| {});
    let o = DiagnoseOptions {
        warn_days: Some(10),
        crit_days: None,
        ..Default::default()
    };
    assert!(
        codes(&judge(
            &pki,
            chain.clone(),
            "w.rules.test",
            na - 11 * DAY,
            &o
        ))
        .is_empty()
    );
    assert_eq!(
        codes(&judge(
            &pki,
            chain.clone(),
            "w.rules.test",
            na - 9 * DAY,
            &o
        )),
        vec![c("expiring-soon", Severity::Warning)]
    );
    let o = DiagnoseOptions {
        warn_days: None,
        crit_days: Some(7),
        ..Default::default()
    };
    assert_eq!(
        codes(&judge(
            &pki,
            chain.clone(),
            "w.rules.test",
            na - 6 * DAY,
            &o
        )),
        vec![c("expiring-soon", Severity::Critical)]
    );
    assert_eq!(
        codes(&judge(&pki, chain, "w.rules.test", na - 8 * DAY, &o)),
        vec![c("expiring-soon", Severity::Warning)]
    );
}

#[test]
fn lifetime_limits() {
    let pki = pki();
    let now = T0 + DAY;
    for (span, want) in [
        (398 * DAY, vec![]),
        (398 * DAY + 1, vec![c("long-validity", Severity::Warning)]),
        (825 * DAY, vec![c("long-validity", Severity::Warning)]),
        (825 * DAY + 1, vec![c("long-validity", Severity::Critical)]),
    ] {
        let chain = leaf(&pki, &["l.rules.test"], T0, T0 + span, |_| {});
        assert_eq!(
            codes(&judge(
                &pki,
                chain,
                "l.rules.test",
                now,
                &DiagnoseOptions::default()
            )),
            want,
            "span {span}s"
        );
    }
}

#[test]
#[allow(clippy::type_complexity)]
fn name_matching_cases() {
    let pki = pki();
    let now = T0 + DAY;
    let ok = vec![];
    let bad = vec![c("hostname-mismatch", Severity::Critical)];
    // (SANs, name asked, expected, a phrase the detail must contain)
    let table: &[(&[&str], &str, &Vec<(String, Severity)>, &str)] = &[
        (&["*.w.rules.test"], "a.w.rules.test", &ok, ""),
        (&["*.w.rules.test"], "w.rules.test", &bad, "not among"),
        (
            &["*.w.rules.test"],
            "a.b.w.rules.test",
            &bad,
            "exactly one label",
        ),
        (&["exact.rules.test"], "exact.rules.test", &ok, ""),
        (&["Mixed.Rules.Test"], "mixed.rules.test", &ok, ""),
        (
            &["exact.rules.test"],
            "other.rules.test",
            &bad,
            "DNS:exact.rules.test",
        ),
        (&["127.0.0.1"], "127.0.0.1", &ok, ""),
        (&["::1"], "::1", &ok, ""),
        (&["dns.rules.test"], "127.0.0.1", &bad, "IP address"),
        (&["10.0.0.1"], "127.0.0.1", &bad, "IP:10.0.0.1"),
        (&["127.0.0.1"], "dns.rules.test", &bad, "only IP addresses"),
        (&[], "cn.rules.test", &bad, "no subjectAltName"),
    ];
    for (sans, name, want, phrase) in table {
        let chain = leaf(&pki, sans, T0, T0 + 90 * DAY, |p| {
            if sans.is_empty() {
                p.distinguished_name
                    .push(DnType::CommonName, "cn.rules.test");
            }
        });
        let r = judge(&pki, chain, name, now, &DiagnoseOptions::default());
        assert_eq!(&codes(&r), *want, "{sans:?} asked {name}");
        if !phrase.is_empty() {
            let f = &r.findings[0];
            assert!(
                f.detail.contains(phrase),
                "{sans:?} asked {name}: {}",
                f.detail
            );
        }
    }
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    // An expired self-signed certificate for the wrong name: three findings.
    let mut p = CertificateParams::new(vec!["right.rules.test".to_string()]).unwrap();
    p.not_before = at(T0 - 100 * DAY);
    p.not_after = at(T0 - 10 * DAY);
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    let pki = pki();
    let r = judge(
        &pki,
        vec![cert.der().to_vec()],
        "wrong.rules.test",
        T0,
        &DiagnoseOptions::default(),
    );
    assert_eq!(
        codes(&r),
        vec![
            c("expired", Severity::Critical),
            c("hostname-mismatch", Severity::Critical),
            c("self-signed", Severity::Critical)
        ]
    );
    assert_eq!(
        r.findings[0].code.as_str(),
        "self-signed",
        "root cause first"
    );
    assert!(
        r.findings
            .iter()
            .all(|f| !f.fix.is_empty() && f.fix.iter().any(|s| s.command.is_some()))
    );
}

#[test]
fn untrusted_and_incomplete_and_self_signed_are_told_apart() {
    let pki = pki();
    let other = pki_unrelated();
    let now = T0 + DAY;
    let full = leaf(&pki, &["t.rules.test"], T0, T0 + 90 * DAY, |_| {});
    // Trusted: nothing to say.
    assert!(
        codes(&judge(
            &pki,
            full.clone(),
            "t.rules.test",
            now,
            &DiagnoseOptions::default()
        ))
        .is_empty()
    );
    // Leaf only: incomplete chain.
    let r = judge(
        &pki,
        vec![full[0].clone()],
        "t.rules.test",
        now,
        &DiagnoseOptions::default(),
    );
    assert_eq!(codes(&r), vec![c("incomplete-chain", Severity::Critical)]);
    // Full chain plus its root, judged against a store that lacks it: untrusted root, blamed on the root.
    let mut sent = full.clone();
    sent.push(pki.root_der.clone());
    let r = judge(
        &other,
        sent,
        "t.rules.test",
        now,
        &DiagnoseOptions::default(),
    );
    assert_eq!(codes(&r), vec![c("untrusted-root", Severity::Critical)]);
    assert_eq!(r.findings[0].cert, Some(2));
}

fn pki_unrelated() -> Pki {
    pki()
}

#[test]
fn days_left_agrees_with_expired_n_days_ago() {
    // A leaf that expired 10 days and 1 hour before the instant judged.
    let pki = pki();
    let na = T0 - 10 * DAY - 3600;
    let chain = leaf(&pki, &["late.rules.test"], na - 90 * DAY, na, |_| {});
    let r = judge(
        &pki,
        chain,
        "late.rules.test",
        T0,
        &DiagnoseOptions::default(),
    );
    let f = &r.findings[0];
    assert_eq!(f.code.as_str(), "expired");
    assert_eq!(f.title, "Certificate expired 10 days ago");
    assert!(
        f.detail.contains("it has been expired for 10 days"),
        "{}",
        f.detail
    );
    assert_eq!(r.leaf_days_left(), Some(-10), "the same count as the words");
    assert_eq!(r.to_json().chain[0].days_left, -10);
}
