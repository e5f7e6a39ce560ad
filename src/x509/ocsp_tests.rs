use super::*;
use crate::x509::crl::tests::{DAY, NOW, TestCa, ca, issue, leaf, openssl, openssl_pki};
use rcgen::ExtendedKeyUsagePurpose;

struct Lab {
    ca: TestCa,
    cert: CertInfo,
}

fn lab() -> Lab {
    let ca = ca("Test CA");
    let cert = leaf(&ca, &[0x80, 0x01]);
    Lab { ca, cert }
}

fn spec<'a>(lab: &'a Lab, status: BuildStatus) -> ResponseSpec<'a> {
    ResponseSpec {
        cert: &lab.cert,
        issuer_subject_raw: &lab.ca.info.subject_raw,
        issuer_spki_der: &lab.ca.info.spki_der,
        status,
        this_update: NOW - 3600,
        next_update: Some(NOW + DAY),
        signer_pkcs8: &lab.ca.pkcs8,
        responder_cert: None,
    }
}

fn judge(resp: &[u8], cert: &CertInfo, lab: &Lab, now: i64) -> OcspVerdict {
    check(
        resp,
        cert,
        &lab.ca.info.subject_raw,
        &lab.ca.info.spki_der,
        now,
    )
}

fn invalid(v: OcspVerdict) -> String {
    match v {
        OcspVerdict::Invalid(why) => why,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn request_structure() {
    let lab = lab();
    let der = request(&lab.cert, &lab.ca.info.subject_raw, &lab.ca.info.spki_der).expect("request");
    let req = OcspRequest::from_der(&der).expect("parses");
    assert!(req.optional_signature.is_none() && req.tbs_request.request_extensions.is_none());
    let [one] = req.tbs_request.request_list.as_slice() else {
        panic!("one request");
    };
    let id = &one.req_cert;
    assert_eq!(id.hash_algorithm.oid.to_string(), OID_SHA1);
    assert!(id.hash_algorithm.parameters.is_some(), "NULL parameters");
    let sha1 = |d: &[u8]| {
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, d)
            .as_ref()
            .to_vec()
    };
    assert_eq!(
        id.issuer_name_hash.as_bytes(),
        sha1(&lab.ca.info.subject_raw).as_slice()
    );
    let (_, spki) = SubjectPublicKeyInfo::from_der(&lab.ca.info.spki_der).expect("spki");
    assert_eq!(
        id.issuer_key_hash.as_bytes(),
        sha1(&spki.subject_public_key.data).as_slice()
    );
    // Positive: 0x80 0x01 is encoded with its sign byte.
    assert_eq!(id.serial_number.as_bytes(), &[0x00, 0x80, 0x01]);
    // An unparsable issuer key is an error, not a panic.
    assert!(request(&lab.cert, &lab.ca.info.subject_raw, b"junk").is_err());
}

#[test]
fn round_trip_good_revoked_unknown() {
    let lab = lab();
    let good = build_response(&spec(&lab, BuildStatus::Good)).expect("build");
    assert_eq!(
        judge(&good, &lab.cert, &lab, NOW),
        OcspVerdict::Good {
            this_update: NOW - 3600,
            next_update: Some(NOW + DAY),
            produced_at: NOW - 3600
        }
    );
    let revoked = build_response(&spec(
        &lab,
        BuildStatus::Revoked {
            time: NOW - 2 * DAY,
            reason: Some(1),
        },
    ))
    .expect("build");
    assert_eq!(
        judge(&revoked, &lab.cert, &lab, NOW),
        OcspVerdict::Revoked {
            time: NOW - 2 * DAY,
            reason: Some("keyCompromise".into()),
            this_update: NOW - 3600
        }
    );
    let superseded = build_response(&spec(
        &lab,
        BuildStatus::Revoked {
            time: NOW - DAY,
            reason: Some(4),
        },
    ))
    .expect("build");
    assert!(matches!(
        judge(&superseded, &lab.cert, &lab, NOW),
        OcspVerdict::Revoked { reason: Some(r), .. } if r == "superseded"
    ));
    let no_reason = build_response(&spec(
        &lab,
        BuildStatus::Revoked {
            time: NOW - DAY,
            reason: None,
        },
    ))
    .expect("build");
    assert!(matches!(
        judge(&no_reason, &lab.cert, &lab, NOW),
        OcspVerdict::Revoked { reason: None, .. }
    ));
    let unknown = build_response(&spec(&lab, BuildStatus::Unknown)).expect("build");
    assert_eq!(judge(&unknown, &lab.cert, &lab, NOW), OcspVerdict::Unknown);
    // No nextUpdate: fine at any later time.
    let open = build_response(&ResponseSpec {
        next_update: None,
        ..spec(&lab, BuildStatus::Good)
    })
    .expect("build");
    assert!(matches!(
        judge(&open, &lab.cert, &lab, NOW + 400 * DAY),
        OcspVerdict::Good {
            next_update: None,
            ..
        }
    ));
    // Reason 7 does not exist.
    assert!(
        build_response(&spec(
            &lab,
            BuildStatus::Revoked {
                time: NOW,
                reason: Some(7)
            }
        ))
        .is_err()
    );
    // Not an ECDSA P-256 key.
    assert!(
        build_response(&ResponseSpec {
            signer_pkcs8: b"nope",
            ..spec(&lab, BuildStatus::Good)
        })
        .is_err()
    );
}

#[test]
fn wrong_certificate() {
    let lab = lab();
    let resp = build_response(&spec(&lab, BuildStatus::Good)).expect("build");
    let other = leaf(&lab.ca, &[0x07]);
    let why = invalid(judge(&resp, &other, &lab, NOW));
    assert!(why.starts_with("no response for this certificate"), "{why}");
    // Same serial from another CA with the same name: the key hash differs.
    let twin = ca("Test CA");
    let twin_leaf = leaf(&twin, &[0x80, 0x01]);
    let why = invalid(check(
        &resp,
        &twin_leaf,
        &twin.info.subject_raw,
        &twin.info.spki_der,
        NOW,
    ));
    assert!(why.contains("names a different issuer"), "{why}");
}

#[test]
fn tampered() {
    let lab = lab();
    let resp = build_response(&spec(&lab, BuildStatus::Good)).expect("build");
    let mut sig = resp.clone();
    let last = sig.len() - 1;
    sig[last] ^= 0x01;
    let why = invalid(judge(&sig, &lab.cert, &lab, NOW));
    assert!(
        why.contains("does not verify with the issuer's key"),
        "{why}"
    );
    // Flip the Good tag [0] into Unknown [2] inside the signed data.
    let pos = resp
        .windows(2)
        .position(|w| w == [0x80, 0x00])
        .expect("good status");
    let mut status = resp.clone();
    status[pos] = 0x82;
    assert!(invalid(judge(&status, &lab.cert, &lab, NOW)).contains("does not verify"));
    // Signed by an unrelated key, no certificate included.
    let stranger = ca("Stranger");
    let forged = build_response(&ResponseSpec {
        signer_pkcs8: &stranger.pkcs8,
        ..spec(&lab, BuildStatus::Good)
    })
    .expect("build");
    let why = invalid(judge(&forged, &lab.cert, &lab, NOW));
    assert!(
        why.contains("no responder certificate is included"),
        "{why}"
    );
}

#[test]
fn freshness() {
    let lab = lab();
    let resp = build_response(&spec(&lab, BuildStatus::Good)).expect("build");
    let why = invalid(judge(&resp, &lab.cert, &lab, NOW + 2 * DAY));
    assert!(why.starts_with("stale: nextUpdate "), "{why}");
    // thisUpdate one hour ahead of the clock: beyond the 5 minutes of skew.
    let why = invalid(judge(&resp, &lab.cert, &lab, NOW - 2 * 3600));
    assert!(why.contains("in the future"), "{why}");
    // Two minutes ahead is tolerated.
    assert!(matches!(
        judge(&resp, &lab.cert, &lab, NOW - 3600 - 120),
        OcspVerdict::Good { .. }
    ));
}

#[test]
fn delegated_responder() {
    let lab = lab();
    let (responder, responder_key) = issue(
        &lab.ca,
        "Test OCSP",
        &[0x33],
        vec![ExtendedKeyUsagePurpose::OcspSigning],
    );
    let delegated = ResponseSpec {
        signer_pkcs8: &responder_key,
        responder_cert: Some(&responder.der),
        ..spec(
            &lab,
            BuildStatus::Revoked {
                time: NOW - DAY,
                reason: Some(1),
            },
        )
    };
    let resp = build_response(&delegated).expect("build");
    assert!(matches!(
        judge(&resp, &lab.cert, &lab, NOW),
        OcspVerdict::Revoked { reason: Some(r), .. } if r == "keyCompromise"
    ));
    let good = build_response(&ResponseSpec {
        status: BuildStatus::Good,
        ..delegated
    })
    .expect("build");
    assert!(matches!(
        judge(&good, &lab.cert, &lab, NOW),
        OcspVerdict::Good { .. }
    ));

    // Without the OCSPSigning EKU.
    let (plain, plain_key) = issue(
        &lab.ca,
        "Not OCSP",
        &[0x34],
        vec![ExtendedKeyUsagePurpose::ServerAuth],
    );
    let resp = build_response(&ResponseSpec {
        signer_pkcs8: &plain_key,
        responder_cert: Some(&plain.der),
        ..spec(&lab, BuildStatus::Good)
    })
    .expect("build");
    let why = invalid(judge(&resp, &lab.cert, &lab, NOW));
    assert!(
        why.contains("\"Not OCSP\" lacks the OCSPSigning extended key usage"),
        "{why}"
    );

    // OCSPSigning, but issued by another CA.
    let other = ca("Other CA");
    let (foreign, foreign_key) = issue(
        &other,
        "Foreign OCSP",
        &[0x35],
        vec![ExtendedKeyUsagePurpose::OcspSigning],
    );
    let resp = build_response(&ResponseSpec {
        signer_pkcs8: &foreign_key,
        responder_cert: Some(&foreign.der),
        ..spec(&lab, BuildStatus::Good)
    })
    .expect("build");
    let why = invalid(judge(&resp, &lab.cert, &lab, NOW));
    assert!(why.contains("is issued by CN=Other CA"), "{why}");

    // Same issuer name, but signed by an impostor key.
    let impostor = ca("Test CA");
    let (fake, fake_key) = issue(
        &impostor,
        "Fake OCSP",
        &[0x36],
        vec![ExtendedKeyUsagePurpose::OcspSigning],
    );
    let resp = build_response(&ResponseSpec {
        signer_pkcs8: &fake_key,
        responder_cert: Some(&fake.der),
        ..spec(&lab, BuildStatus::Good)
    })
    .expect("build");
    let why = invalid(judge(&resp, &lab.cert, &lab, NOW));
    assert!(why.contains("is not signed by the issuer's key"), "{why}");

    // The included certificate is not the signer.
    let resp = build_response(&ResponseSpec {
        signer_pkcs8: &plain_key,
        responder_cert: Some(&responder.der),
        ..spec(&lab, BuildStatus::Good)
    })
    .expect("build");
    let why = invalid(judge(&resp, &lab.cert, &lab, NOW));
    assert!(
        why.contains("does not verify with the key of the included certificate \"Test OCSP\""),
        "{why}"
    );

    // The responder certificate has expired.
    let why = invalid(judge(&good, &lab.cert, &lab, NOW + 61 * DAY));
    assert!(why.contains("\"Test OCSP\" expired"), "{why}");
}

#[test]
fn unsuccessful_and_garbage() {
    let lab = lab();
    let why = invalid(judge(&[0x30, 0x03, 0x0a, 0x01, 0x06], &lab.cert, &lab, NOW));
    assert!(why.contains("\"unauthorized\""), "{why}");
    let why = invalid(judge(&[0x30, 0x03, 0x0a, 0x01, 0x03], &lab.cert, &lab, NOW));
    assert!(why.contains("\"tryLater\""), "{why}");
    assert!(matches!(
        judge(&[0x30, 0x03, 0x0a, 0x01, 0x00], &lab.cert, &lab, NOW),
        OcspVerdict::Invalid(_)
    ));
    for junk in [
        &b""[..],
        b"garbage",
        &[0x30, 0x82, 0xff, 0xff],
        &lab.cert.der,
    ] {
        assert!(matches!(
            judge(junk, &lab.cert, &lab, NOW),
            OcspVerdict::Invalid(_)
        ));
    }
    let resp = build_response(&spec(&lab, BuildStatus::Good)).expect("build");
    for n in 0..resp.len() {
        assert!(matches!(
            judge(&resp[..n], &lab.cert, &lab, NOW),
            OcspVerdict::Invalid(_)
        ));
    }
    // Every single-bit flip gives some verdict without panicking, and
    // never a wrong "Revoked".
    for i in 0..resp.len() {
        let mut r = resp.clone();
        r[i] ^= 0x10;
        let v = judge(&r, &lab.cert, &lab, NOW);
        assert!(!matches!(v, OcspVerdict::Revoked { .. }), "byte {i}: {v:?}");
    }
}

#[test]
fn openssl_responder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let Some((ca, good, bad)) = openssl_pki(dir) else {
        return;
    };
    let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
    let respond = |name: &str, req: &[u8], signer: &str, key: &str| -> Vec<u8> {
        let (req_file, resp_file) = (format!("{name}.req.der"), format!("{name}.resp.der"));
        std::fs::write(dir.join(&req_file), req).expect("write request");
        openssl(
            dir,
            &[
                "ocsp",
                "-index",
                "demoCA/index.txt",
                "-rsigner",
                signer,
                "-rkey",
                key,
                "-CA",
                "ca.pem",
                "-ndays",
                "1",
                "-reqin",
                &req_file,
                "-respout",
                &resp_file,
            ],
        );
        std::fs::read(dir.join(resp_file)).expect("read response")
    };

    // certscope's request, answered by the delegated responder (OCSPSigning).
    let bad_req = request(&bad, &ca.subject_raw, &ca.spki_der).expect("request");
    let resp = respond("bad", &bad_req, "ocsp.pem", "ocsp.key");
    let v = check(&resp, &bad, &ca.subject_raw, &ca.spki_der, now);
    let OcspVerdict::Revoked { time, reason, .. } = &v else {
        panic!("expected Revoked, got {v:?}");
    };
    assert_eq!(reason.as_deref(), Some("keyCompromise"));
    assert!((time - now).abs() < 600);

    let good_req = request(&good, &ca.subject_raw, &ca.spki_der).expect("request");
    let resp = respond("good", &good_req, "ocsp.pem", "ocsp.key");
    let v = check(&resp, &good, &ca.subject_raw, &ca.spki_der, now);
    assert!(
        matches!(
            v,
            OcspVerdict::Good {
                next_update: Some(_),
                ..
            }
        ),
        "{v:?}"
    );
    // The answer for "good" says nothing about "bad".
    assert!(
        invalid(check(&resp, &bad, &ca.subject_raw, &ca.spki_der, now)).starts_with("no response")
    );
    // Stale a day later.
    assert!(
        invalid(check(
            &resp,
            &good,
            &ca.subject_raw,
            &ca.spki_der,
            now + 2 * DAY
        ))
        .starts_with("stale")
    );

    // Signed by the CA itself.
    let resp = respond("direct", &bad_req, "ca.pem", "ca.key");
    assert!(matches!(
        check(&resp, &bad, &ca.subject_raw, &ca.spki_der, now),
        OcspVerdict::Revoked { reason: Some(r), .. } if r == "keyCompromise"
    ));

    // Our request is byte-for-byte what `openssl ocsp -no_nonce` sends.
    openssl(
        dir,
        &[
            "ocsp",
            "-issuer",
            "ca.pem",
            "-cert",
            "bad.pem",
            "-no_nonce",
            "-reqout",
            "ossl.req.der",
        ],
    );
    assert_eq!(
        std::fs::read(dir.join("ossl.req.der")).expect("read"),
        bad_req
    );

    // A SHA-256 CertID (openssl client with -sha256).
    openssl(
        dir,
        &[
            "ocsp",
            "-issuer",
            "ca.pem",
            "-sha256",
            "-cert",
            "good.pem",
            "-no_nonce",
            "-reqout",
            "sha256.req.der",
        ],
    );
    let req256 = std::fs::read(dir.join("sha256.req.der")).expect("read");
    let resp = respond("sha256", &req256, "ocsp.pem", "ocsp.key");
    let v = check(&resp, &good, &ca.subject_raw, &ca.spki_der, now);
    assert!(matches!(v, OcspVerdict::Good { .. }), "{v:?}");
}
