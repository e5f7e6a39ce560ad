use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::*;

const TEST_LIMIT: Duration = Duration::from_secs(60);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts everything and records the presented chain.
#[derive(Debug)]
struct AcceptAll {
    seen: Mutex<Vec<Vec<u8>>>,
    staple: Mutex<Vec<u8>>,
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for AcceptAll {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.staple.lock().unwrap() = ocsp_response.to_vec();
        let mut seen = self.seen.lock().unwrap();
        seen.push(end_entity.to_vec());
        seen.extend(intermediates.iter().map(|c| c.to_vec()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

fn server_name(t: &LabTarget) -> ServerName<'static> {
    ServerName::try_from(t.host.clone()).unwrap()
}

/// Handshakes, sends a GET, and returns (presented chain, response).
async fn fetch(t: &LabTarget) -> Result<(Vec<Vec<u8>>, Vec<u8>), String> {
    fetch_with_staple(t)
        .await
        .map(|(chain, response, _)| (chain, response))
}

/// [`fetch`], plus the stapled OCSP response (empty when none).
async fn fetch_with_staple(t: &LabTarget) -> Result<(Vec<Vec<u8>>, Vec<u8>, Vec<u8>), String> {
    let provider = provider();
    let verifier = Arc::new(AcceptAll {
        seen: Mutex::new(Vec::new()),
        staple: Mutex::new(Vec::new()),
        schemes: provider
            .signature_verification_algorithms
            .supported_schemes(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", t.port))
        .await
        .map_err(|e| format!("{}: connect: {e}", t.id))?;
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(server_name(t), tcp)
        .await
        .map_err(|e| format!("{}: handshake: {e}", t.id))?;
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        t.host
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let chain = verifier.seen.lock().unwrap().clone();
    let staple = verifier.staple.lock().unwrap().clone();
    Ok((chain, response, staple))
}

fn cn(cert: &X509Certificate<'_>) -> String {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// (DNS SANs, IP SANs as text); `None` when there is no SAN extension.
fn sans(cert: &X509Certificate<'_>) -> Option<(Vec<String>, Vec<String>)> {
    let san = cert.subject_alternative_name().unwrap()?;
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for name in &san.value.general_names {
        match name {
            GeneralName::DNSName(d) => dns.push(d.to_string()),
            GeneralName::IPAddress(b) if b.len() == 4 => {
                ips.push(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string())
            }
            other => panic!("unexpected SAN {other:?}"),
        }
    }
    Some((dns, ips))
}

fn sct_count(cert: &X509Certificate<'_>) -> Option<usize> {
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SCT(list) => {
                assert!(!e.critical);
                Some(list.len())
            }
            _ => None,
        })
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    cert.basic_constraints()
        .unwrap()
        .is_some_and(|bc| bc.value.ca)
}

struct Expect {
    id: &'static str,
    count: usize,
    cn: &'static str,
    dns: Option<&'static [&'static str]>,
    ips: &'static [&'static str],
}

const fn exp(
    id: &'static str,
    count: usize,
    cn: &'static str,
    dns: Option<&'static [&'static str]>,
) -> Expect {
    Expect {
        id,
        count,
        cn,
        dns,
        ips: &[],
    }
}

const TLS_SCENARIOS: &[Expect] = &[
    exp("good", 2, "good.lab.test", Some(&["good.lab.test"])),
    exp(
        "expired",
        2,
        "expired.lab.test",
        Some(&["expired.lab.test"]),
    ),
    exp(
        "expired-intermediate",
        2,
        "expired-intermediate.lab.test",
        Some(&["expired-intermediate.lab.test"]),
    ),
    exp(
        "not-yet-valid",
        2,
        "not-yet-valid.lab.test",
        Some(&["not-yet-valid.lab.test"]),
    ),
    exp(
        "expiring-soon",
        2,
        "expiring-soon.lab.test",
        Some(&["expiring-soon.lab.test"]),
    ),
    exp(
        "wrong-host",
        2,
        "other.lab.test",
        Some(&["other.lab.test", "www.other.lab.test"]),
    ),
    exp("cn-only", 2, "cn-only.lab.test", None),
    exp("wildcard-deep", 2, "*.lab.test", Some(&["*.lab.test"])),
    exp(
        "ip-mismatch",
        2,
        "ip-mismatch.lab.test",
        Some(&["ip-mismatch.lab.test"]),
    ),
    Expect {
        id: "ip-ok",
        count: 2,
        cn: "ip-ok.lab.test",
        dns: Some(&["ip-ok.lab.test"]),
        ips: &["127.0.0.1"],
    },
    exp(
        "self-signed",
        1,
        "self-signed.lab.test",
        Some(&["self-signed.lab.test"]),
    ),
    exp(
        "expired-self-signed-wrong-name",
        1,
        "unrelated.lab.test",
        Some(&["unrelated.lab.test"]),
    ),
    exp(
        "untrusted-root",
        3,
        "untrusted-root.lab.test",
        Some(&["untrusted-root.lab.test"]),
    ),
    exp(
        "incomplete-chain",
        1,
        "incomplete-chain.lab.test",
        Some(&["incomplete-chain.lab.test"]),
    ),
    exp(
        "chain-order",
        3,
        "chain-order.lab.test",
        Some(&["chain-order.lab.test"]),
    ),
    exp(
        "root-sent",
        3,
        "root-sent.lab.test",
        Some(&["root-sent.lab.test"]),
    ),
    exp(
        "weak-signature",
        2,
        "weak-signature.lab.test",
        Some(&["weak-signature.lab.test"]),
    ),
    exp(
        "weak-key",
        2,
        "weak-key.lab.test",
        Some(&["weak-key.lab.test"]),
    ),
    exp(
        "invalid-purpose",
        2,
        "invalid-purpose.lab.test",
        Some(&["invalid-purpose.lab.test"]),
    ),
    exp(
        "ca-as-leaf",
        2,
        "ca-as-leaf.lab.test",
        Some(&["ca-as-leaf.lab.test"]),
    ),
    exp(
        "name-constraints",
        2,
        "name-constraints.lab.test",
        Some(&["name-constraints.lab.test"]),
    ),
    exp(
        "long-validity",
        2,
        "long-validity.lab.test",
        Some(&["long-validity.lab.test"]),
    ),
    exp("no-sct", 2, "no-sct.lab.test", Some(&["no-sct.lab.test"])),
    exp(
        "sni-default",
        2,
        "sni-default.lab.test",
        Some(&["sni-default.lab.test"]),
    ),
    exp(
        "stale-node",
        2,
        "stale-node.lab.test",
        Some(&["stale-node.lab.test"]),
    ),
    exp(
        "split-nodes",
        2,
        "split-nodes.lab.test",
        Some(&["split-nodes.lab.test"]),
    ),
    exp("slow", 2, "slow.lab.test", Some(&["slow.lab.test"])),
    exp(
        "revoked-crl",
        2,
        "revoked-crl.lab.test",
        Some(&["revoked-crl.lab.test"]),
    ),
    exp(
        "revoked-ocsp",
        2,
        "revoked-ocsp.lab.test",
        Some(&["revoked-ocsp.lab.test"]),
    ),
    exp(
        "stapled-good",
        2,
        "stapled-good.lab.test",
        Some(&["stapled-good.lab.test"]),
    ),
    exp(
        "stapled-revoked",
        2,
        "stapled-revoked.lab.test",
        Some(&["stapled-revoked.lab.test"]),
    ),
    exp(
        "must-staple",
        2,
        "must-staple.lab.test",
        Some(&["must-staple.lab.test"]),
    ),
    exp(
        "aia-missing",
        1,
        "aia-missing.lab.test",
        Some(&["aia-missing.lab.test"]),
    ),
    exp(
        "aia-wrong",
        1,
        "aia-wrong.lab.test",
        Some(&["aia-wrong.lab.test"]),
    ),
    exp(
        "stale-crl",
        2,
        "stale-crl.lab.test",
        Some(&["stale-crl.lab.test"]),
    ),
    exp(
        "responder-down",
        2,
        "responder-down.lab.test",
        Some(&["responder-down.lab.test"]),
    ),
];

const ALL_IDS: &[&str] = &[
    "good",
    "expired",
    "expired-intermediate",
    "not-yet-valid",
    "expiring-soon",
    "wrong-host",
    "cn-only",
    "wildcard-deep",
    "ip-mismatch",
    "ip-ok",
    "self-signed",
    "expired-self-signed-wrong-name",
    "untrusted-root",
    "incomplete-chain",
    "chain-order",
    "root-sent",
    "cross-signed",
    "weak-signature",
    "weak-key",
    "invalid-purpose",
    "ca-as-leaf",
    "name-constraints",
    "long-validity",
    "no-sct",
    "slow",
    "not-tls",
    "silent",
    "closed",
    "tls10-only",
    "handshake-failure",
    "revoked-crl",
    "revoked-ocsp",
    "stapled-good",
    "stapled-revoked",
    "must-staple",
    "aia-missing",
    "aia-wrong",
    "stale-crl",
    "responder-down",
    "sni-default",
    "stale-node",
    "split-nodes",
];

fn days_from_now(t: x509_parser::time::ASN1Time) -> i64 {
    let secs = t.timestamp() - time::OffsetDateTime::now_utc().unix_timestamp();
    (secs as f64 / 86_400.0).round() as i64
}

#[tokio::test]
async fn every_tls_scenario_presents_its_chain() {
    timeout(TEST_LIMIT, async {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let ids: Vec<_> = lab.targets.iter().map(|t| t.id).collect();
        assert_eq!(ids, ALL_IDS);
        let roots = lab.root_ders();

        for e in TLS_SCENARIOS {
            let t = lab.get(e.id).unwrap();
            let (chain, response) = fetch(t).await.unwrap();
            assert_eq!(chain.len(), e.count, "{}: chain length", e.id);
            let text = String::from_utf8_lossy(&response);
            assert!(text.starts_with("HTTP/1.1 200 OK"), "{}: {text}", e.id);
            assert!(text.contains(e.id), "{}: {text}", e.id);

            let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
            assert_eq!(cn(&leaf), e.cn, "{}: CN", e.id);
            match (e.dns, sans(&leaf)) {
                (None, None) => {}
                (Some(dns), Some((got_dns, got_ips))) => {
                    assert_eq!(got_dns, dns, "{}: DNS SANs", e.id);
                    assert_eq!(got_ips, e.ips, "{}: IP SANs", e.id);
                }
                (want, got) => panic!("{}: SAN want {want:?} got {got:?}", e.id),
            }
            let scts = sct_count(&leaf);
            if e.id == "no-sct" {
                assert_eq!(scts, None);
            } else {
                assert_eq!(scts, Some(2), "{}: SCTs", e.id);
            }
            // No served cert is a trusted root except where one is sent on purpose.
            let root_sent = chain[1..].iter().any(|der| roots.contains(der));
            assert_eq!(
                root_sent,
                matches!(e.id, "chain-order" | "root-sent"),
                "{}: root in chain",
                e.id
            );

            let validity = leaf.validity();
            let (from, to) = (
                days_from_now(validity.not_before),
                days_from_now(validity.not_after),
            );
            match e.id {
                "expired" | "expired-self-signed-wrong-name" => {
                    assert_eq!((from, to), (-100, -10), "{}", e.id)
                }
                "not-yet-valid" => assert_eq!((from, to), (5, 95)),
                "expiring-soon" => assert_eq!((from, to), (-85, 5)),
                "long-validity" => assert_eq!((from, to), (-10, 490)),
                _ => assert_eq!((from, to), (-10, 80), "{}", e.id),
            }
            assert_eq!(is_ca(&leaf), e.id == "ca-as-leaf", "{}: CA flag", e.id);
            let eku = leaf.extended_key_usage().unwrap().unwrap().value;
            assert_eq!(eku.server_auth, e.id != "invalid-purpose", "{}", e.id);
            assert_eq!(eku.client_auth, e.id == "invalid-purpose", "{}", e.id);
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn special_certificates_look_right() {
    timeout(TEST_LIMIT, async {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let chain_of = |id: &'static str| {
            let t = lab.get(id).unwrap().clone();
            async move { fetch(&t).await.unwrap().0 }
        };

        // weak-key: RSA-1024 leaf key.
        let chain = chain_of("weak-key").await;
        let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
        match leaf.public_key().parsed().unwrap() {
            x509_parser::public_key::PublicKey::RSA(rsa) => assert_eq!(rsa.key_size(), 1024),
            other => panic!("weak-key: {other:?}"),
        }

        // weak-signature: the intermediate is signed with sha1WithRSAEncryption.
        let chain = chain_of("weak-signature").await;
        let (_, int) = X509Certificate::from_der(&chain[1]).unwrap();
        assert_eq!(
            int.signature_algorithm.algorithm.to_id_string(),
            "1.2.840.113549.1.1.5"
        );
        assert_eq!(cn(&int), "certscope Fixture SHA-1 Intermediate");
        let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
        assert_eq!(leaf.issuer(), int.subject());

        // expired-intermediate: the served intermediate is expired.
        let chain = chain_of("expired-intermediate").await;
        let (_, int) = X509Certificate::from_der(&chain[1]).unwrap();
        assert_eq!(cn(&int), pki::EXPIRED_INTERMEDIATE_CN);
        assert_eq!(days_from_now(int.validity().not_after), -5);

        // name-constraints: permitted subtree allowed.test.
        let chain = chain_of("name-constraints").await;
        let (_, int) = X509Certificate::from_der(&chain[1]).unwrap();
        assert_eq!(cn(&int), pki::CONSTRAINED_INTERMEDIATE_CN);
        let nc = int.name_constraints().unwrap().unwrap().value;
        let permitted = nc.permitted_subtrees.as_ref().unwrap();
        assert!(matches!(
            permitted[0].base,
            GeneralName::DNSName("allowed.test")
        ));

        // chain-order: [leaf, root, intermediate]; untrusted-root's root is rogue.
        let chain = chain_of("chain-order").await;
        let (_, c1) = X509Certificate::from_der(&chain[1]).unwrap();
        let (_, c2) = X509Certificate::from_der(&chain[2]).unwrap();
        assert_eq!(cn(&c1), pki::ROOT_CN);
        assert_eq!(cn(&c2), pki::INTERMEDIATE_CN);
        let chain = chain_of("untrusted-root").await;
        let (_, rogue) = X509Certificate::from_der(&chain[2]).unwrap();
        assert_eq!(cn(&rogue), pki::ROGUE_ROOT_CN);
        assert!(!lab.root_ders().contains(&chain[2]));

        // self-signed: issuer == subject, not a CA.
        let chain = chain_of("self-signed").await;
        let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
        assert_eq!(leaf.issuer(), leaf.subject());
        assert!(!is_ca(&leaf));

        // Serial numbers are distinct across the scenarios.
        let mut serials = std::collections::HashSet::new();
        for e in TLS_SCENARIOS {
            let chain = chain_of(e.id).await;
            let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
            assert!(serials.insert(leaf.raw_serial().to_vec()), "{}", e.id);
        }
    })
    .await
    .unwrap();
}

/// The PKI is coherent: webpki accepts the clean chains and rejects the
/// broken ones for the expected reason.
#[tokio::test]
async fn webpki_agrees_with_the_scenarios() {
    timeout(TEST_LIMIT, async {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let mut store = rustls::RootCertStore::empty();
        for der in lab.root_ders() {
            store.add(CertificateDer::from(der)).unwrap();
        }
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(store),
            provider(),
        )
        .build()
        .unwrap();
        for e in TLS_SCENARIOS {
            let t = lab.get(e.id).unwrap();
            let chain = fetch(t).await.unwrap().0;
            let ders: Vec<CertificateDer<'_>> = chain
                .iter()
                .map(|d| CertificateDer::from(d.as_slice()))
                .collect();
            let result = verifier.verify_server_cert(
                &ders[0],
                &ders[1..],
                &server_name(t),
                &[],
                UnixTime::now(),
            );
            let clean = matches!(
                e.id,
                "good"
                    | "ip-ok"
                    | "no-sct"
                    | "slow"
                    | "chain-order"
                    | "root-sent"
                    | "long-validity"
                    | "expiring-soon"
                    | "weak-key"
                    // webpki checks no revocation here
                    | "revoked-crl"
                    | "revoked-ocsp"
                    | "stapled-good"
                    | "stapled-revoked"
                    | "must-staple"
                    | "stale-crl"
                    | "responder-down"
                    // valid at 127.0.0.1 (with SNI); the differences are elsewhere
                    | "sni-default"
                    | "stale-node"
                    | "split-nodes"
            );
            assert_eq!(result.is_ok(), clean, "{}: {result:?}", e.id);
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn connection_scenarios_misbehave_as_documented() {
    timeout(TEST_LIMIT, async {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let port = |id| lab.get(id).unwrap().port;
        let hello = {
            // A plausible ClientHello record header + junk body.
            let mut v = vec![0x16, 0x03, 0x01, 0x00, 0x40];
            v.extend([0x01; 0x40]);
            v
        };

        // not-tls: HTTP 400 to a ClientHello and to a real request.
        for payload in [hello.clone(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()] {
            let mut s = TcpStream::connect(("127.0.0.1", port("not-tls")))
                .await
                .unwrap();
            s.write_all(&payload).await.unwrap();
            let mut buf = Vec::new();
            timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(buf.starts_with(b"HTTP/1.1 400"), "{buf:?}");
            assert!(buf.ends_with(b"not TLS :-)"));
        }
        // not-tls through a TLS client: the handshake fails.
        assert!(fetch(lab.get("not-tls").unwrap()).await.is_err());

        // tls10-only and handshake-failure: exact alert bytes.
        for (id, alert) in [
            ("tls10-only", pki::TLS10_ALERT),
            ("handshake-failure", pki::HANDSHAKE_FAILURE_ALERT),
        ] {
            let mut s = TcpStream::connect(("127.0.0.1", port(id))).await.unwrap();
            s.write_all(&hello).await.unwrap();
            let mut buf = Vec::new();
            timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(buf, alert, "{id}");
        }
        let err = fetch(lab.get("tls10-only").unwrap()).await.unwrap_err();
        assert!(err.contains("ProtocolVersion"), "{err}");
        let err = fetch(lab.get("handshake-failure").unwrap())
            .await
            .unwrap_err();
        assert!(err.contains("HandshakeFailure"), "{err}");

        // closed: refused.
        let r = timeout(
            Duration::from_secs(5),
            TcpStream::connect(("127.0.0.1", port("closed"))),
        )
        .await
        .unwrap();
        assert!(r.is_err());

        // silent: nothing within 300 ms, even after a ClientHello.
        let mut s = TcpStream::connect(("127.0.0.1", port("silent")))
            .await
            .unwrap();
        s.write_all(&hello).await.unwrap();
        let mut buf = [0u8; 16];
        assert!(
            timeout(Duration::from_millis(300), s.read(&mut buf))
                .await
                .is_err()
        );

        // slow: the handshake waits for slow_delay.
        let start = Instant::now();
        fetch(lab.get("slow").unwrap()).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(90));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn ca_file_and_sct_extension() {
    timeout(TEST_LIMIT, async {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let text = std::fs::read_to_string(&lab.ca_file).unwrap();
        let pems = pem::parse_many(&text).unwrap();
        assert_eq!(pems.len(), 2);
        let ders: Vec<Vec<u8>> = pems.iter().map(|p| p.contents().to_vec()).collect();
        assert_eq!(ders, lab.root_ders());
        let names: Vec<String> = ders
            .iter()
            .map(|d| cn(&X509Certificate::from_der(d).unwrap().1))
            .collect();
        assert_eq!(names, [pki::ROOT_CN, "certscope Fixture Root CA"]);

        // The SCT extension on its own.
        let mut p = rcgen::CertificateParams::new(vec!["sct.lab.test".to_string()]).unwrap();
        p.custom_extensions
            .push(sct::sct_list_extension(1_700_000_000_000));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        let (_, x) = X509Certificate::from_der(cert.der()).unwrap();
        let ext = x
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "1.3.6.1.4.1.11129.2.4.2")
            .unwrap();
        assert!(!ext.critical);
        let ParsedExtension::SCT(list) = ext.parsed_extension() else {
            panic!("not parsed as SCT: {:?}", ext.parsed_extension());
        };
        assert_eq!(list.len(), sct::SCT_COUNT);
        assert_eq!(list[0].version.0, 0);
        assert_eq!(list[0].timestamp, 1_700_000_000_000);
        assert_eq!(list[1].signature.hash_alg_id, 4);
        assert_eq!(list[1].signature.sign_alg_id, 3);
        assert_ne!(list[0].id.key_id, list[1].id.key_id);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn commands_and_description() {
    timeout(TEST_LIMIT, async {
        let mut lab = Lab::start(LabOptions::default()).await.unwrap();
        let t = lab.get("expired").unwrap().clone();
        assert_eq!(
            t.resolve(),
            Some(format!("expired.lab.test:{}:127.0.0.1", t.port))
        );
        assert_eq!(t.target(), format!("expired.lab.test:{}", t.port));
        let ip = lab.get("ip-ok").unwrap().clone();
        assert_eq!(ip.resolve(), None);
        assert_eq!(ip.target(), format!("127.0.0.1:{}", ip.port));
        assert_eq!(
            lab.get("wildcard-deep").unwrap().host,
            "deep.wildcard-deep.lab.test"
        );

        let ca = lab.ca_file.display().to_string();
        assert_eq!(
            lab.check_command(&t),
            format!(
                "certscope check --ca-file '{ca}' --resolve 'expired.lab.test:{p}:127.0.0.1' 'expired.lab.test:{p}'",
                p = t.port
            )
        );
        assert_eq!(
            lab.check_command(&ip),
            format!("certscope check --ca-file '{ca}' '127.0.0.1:{}'", ip.port)
        );

        let text = describe(&lab);
        for t in &lab.targets {
            assert!(text.contains(t.id));
            assert!(text.contains(&lab.check_command(t)));
        }

        let real = std::mem::replace(&mut lab.ca_file, PathBuf::from("/tmp/it's here/ca.pem"));
        assert!(
            lab.check_command(&t)
                .starts_with(r"certscope check --ca-file '/tmp/it'\''s here/ca.pem' ")
        );
        lab.ca_file = real;
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote(""), "''");
    })
    .await
    .unwrap();
}

async fn refused_within(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        match timeout(
            Duration::from_millis(500),
            TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        {
            Ok(Err(_)) => return true,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    false
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_servers() {
    timeout(TEST_LIMIT, async {
        // shutdown(): listeners close, open connections are cut, temp dir goes.
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let dir = lab.ca_file.parent().unwrap().to_path_buf();
        assert!(dir.starts_with(std::env::temp_dir()));
        let ports: Vec<u16> = ["good", "silent", "not-tls", "tls10-only", "slow"]
            .iter()
            .map(|id| lab.get(id).unwrap().port)
            .collect();
        let mut held = TcpStream::connect(("127.0.0.1", lab.get("silent").unwrap().port))
            .await
            .unwrap();
        lab.shutdown();
        for port in ports {
            assert!(
                refused_within(port, Duration::from_secs(5)).await,
                "port {port}"
            );
        }
        let mut buf = [0u8; 8];
        let r = timeout(Duration::from_secs(5), held.read(&mut buf)).await;
        assert!(matches!(r, Ok(Ok(0)) | Ok(Err(_))), "silent conn: {r:?}");
        assert!(!dir.exists());

        // Drop with an explicit dir: servers stop, the dir and ca.pem stay.
        let keep = tempfile::tempdir().unwrap();
        let lab = Lab::start(LabOptions {
            dir: Some(keep.path().join("sub")),
            ..LabOptions::default()
        })
        .await
        .unwrap();
        assert_eq!(lab.ca_file, keep.path().join("sub").join("ca.pem"));
        let port = lab.get("good").unwrap().port;
        drop(lab);
        assert!(refused_within(port, Duration::from_secs(5)).await);
        assert!(keep.path().join("sub").join("ca.pem").exists());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn busy_port_is_named() {
    timeout(TEST_LIMIT, async {
        let blocker = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = blocker.local_addr().unwrap().port();
        // `good` is scenario 0, so it wants exactly the blocked port.
        let err = Lab::start(LabOptions {
            port_base: Some(port),
            ..LabOptions::default()
        })
        .await
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
        assert!(msg.contains("good"), "{msg}");

        let err = Lab::start(LabOptions {
            port_base: Some(u16::MAX - 3),
            ..LabOptions::default()
        })
        .await
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("does not leave room"),
            "{err:#}"
        );
    })
    .await
    .unwrap();
}

/// Leaves of the scenarios whose certificates name CRL, OCSP or AIA URLs.
const REVOCATION_SCENARIOS: &[&str] = &[
    "revoked-crl",
    "revoked-ocsp",
    "stapled-good",
    "stapled-revoked",
    "must-staple",
    "aia-missing",
    "aia-wrong",
    "stale-crl",
    "responder-down",
];

#[tokio::test]
async fn http_server_serves_aia_crls_and_ocsp() {
    use crate::fetch::http::{self, Limits};
    use crate::report::observation::FetchError;
    use crate::x509::cert::CertInfo;
    use crate::x509::crl::{self, CrlVerdict};
    use crate::x509::ocsp::{self, OcspVerdict};

    timeout(TEST_LIMIT, async {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let base = lab.http_url.trim_end_matches('/').to_string();
        let limits = Limits {
            timeout: Duration::from_secs(5),
            max_bytes: 1 << 20,
        };
        let get = |path: &str| {
            let url = format!("{base}{path}");
            async move { http::get(&url, &limits).await }
        };
        let info = |der: &[u8]| CertInfo::from_der(der).unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();

        // Which leaves name which URLs; nothing else names any.
        let mut leaves = std::collections::HashMap::new();
        for e in TLS_SCENARIOS {
            let (chain, _, staple) = fetch_with_staple(lab.get(e.id).unwrap()).await.unwrap();
            let leaf = info(&chain[0]);
            let urls = (
                leaf.crl_urls.clone(),
                leaf.aia_ocsp.clone(),
                leaf.aia_ca_issuers.clone(),
            );
            if !REVOCATION_SCENARIOS.contains(&e.id) {
                assert_eq!(urls, Default::default(), "{}", e.id);
            }
            for der in &chain[1..] {
                let c = info(der);
                assert!(c.crl_urls.is_empty() && c.aia_ocsp.is_empty(), "{}", e.id);
            }
            assert_eq!(leaf.must_staple, e.id == "must-staple", "{}", e.id);
            assert_eq!(
                !staple.is_empty(),
                matches!(e.id, "stapled-good" | "stapled-revoked"),
                "{}: staple",
                e.id
            );
            leaves.insert(e.id, (leaf, urls, staple));
        }
        let url = |path: &str| format!("{base}{path}");
        let down = |path: &str| {
            let (crl, _, _) = &leaves["responder-down"].1;
            let port = crl[0]
                .rsplit(':')
                .next()
                .unwrap()
                .split('/')
                .next()
                .unwrap();
            format!("http://127.0.0.1:{port}{path}")
        };
        let expect_urls = [
            ("revoked-crl", vec![url("/lab.crl")], vec![], vec![]),
            (
                "revoked-ocsp",
                vec![],
                vec![url("/ocsp/revoked-ocsp")],
                vec![],
            ),
            (
                "stapled-good",
                vec![],
                vec![url("/ocsp/stapled-good")],
                vec![],
            ),
            (
                "stapled-revoked",
                vec![],
                vec![url("/ocsp/stapled-revoked")],
                vec![],
            ),
            (
                "must-staple",
                vec![],
                vec![url("/ocsp/must-staple")],
                vec![],
            ),
            (
                "aia-missing",
                vec![],
                vec![],
                vec![url("/lab-intermediate.der")],
            ),
            ("aia-wrong", vec![], vec![], vec![url("/wrong.der")]),
            ("stale-crl", vec![url("/stale.crl")], vec![], vec![]),
            (
                "responder-down",
                vec![down("/lab.crl")],
                vec![down("/ocsp/responder-down")],
                vec![],
            ),
        ];
        for (id, crl_urls, ocsp_urls, ca_issuers) in expect_urls {
            assert_eq!(leaves[id].1, (crl_urls, ocsp_urls, ca_issuers), "{id}");
        }
        assert_ne!(down(""), url(""));

        // AIA: the intermediate, and an unrelated CA certificate.
        let good_chain = fetch(lab.get("good").unwrap()).await.unwrap().0;
        let int = info(&good_chain[1]);
        assert_eq!(get("/lab-intermediate.der").await.unwrap(), int.der);
        let wrong = info(&get("/wrong.der").await.unwrap());
        assert!(
            wrong.subject.contains(pki::ROGUE_INTERMEDIATE_CN),
            "{}",
            wrong.subject
        );

        // CRLs.
        let judge_crl = |body: &[u8], id: &str| {
            crl::check(body, &leaves[id].0, &int.subject_raw, &int.spki_der, now)
        };
        let lab_crl = get("/lab.crl").await.unwrap();
        match judge_crl(&lab_crl, "revoked-crl") {
            CrlVerdict::Revoked { reason, time, .. } => {
                assert_eq!(reason.as_deref(), Some("keyCompromise"));
                assert!((now - 86_400 - time).abs() < 120, "{time}");
            }
            other => panic!("revoked-crl: {other:?}"),
        }
        assert!(matches!(
            judge_crl(&lab_crl, "stale-crl"),
            CrlVerdict::Good { .. }
        ));
        let stale = get("/stale.crl").await.unwrap();
        assert!(matches!(
            judge_crl(&stale, "stale-crl"),
            CrlVerdict::Stale { .. }
        ));

        // OCSP, answered per path; the staples are the same answers.
        for (id, revoked) in [
            ("revoked-ocsp", true),
            ("stapled-good", false),
            ("stapled-revoked", true),
            ("must-staple", false),
        ] {
            let (leaf, _, staple) = &leaves[id];
            let req = ocsp::request(leaf, &int.subject_raw, &int.spki_der).unwrap();
            let body = http::post(
                &url(&pki::ocsp_path(id)),
                "application/ocsp-request",
                &req,
                &limits,
            )
            .await
            .unwrap();
            let verdict = ocsp::check(&body, leaf, &int.subject_raw, &int.spki_der, now);
            match (revoked, verdict) {
                (true, OcspVerdict::Revoked { reason, .. }) => {
                    assert_eq!(reason.as_deref(), Some("keyCompromise"), "{id}")
                }
                (false, OcspVerdict::Good { .. }) => {}
                (_, other) => panic!("{id}: {other:?}"),
            }
            if !staple.is_empty() {
                assert_eq!(staple, &body, "{id}: the staple is the responder's answer");
            }
        }

        // Unknown paths and methods; responder-down's port is closed.
        assert!(matches!(
            get("/nope").await,
            Err(FetchError::Status(404, _))
        ));
        assert!(http::get(&down("/lab.crl"), &limits).await.is_err());
    })
    .await
    .unwrap();
}

/// The second address of the two-address scenarios, and the default
/// certificate for clients without SNI, as the probe sees them.
#[tokio::test]
async fn second_addresses_and_the_no_sni_default() {
    use crate::probe::{ProbeOptions, probe_at};
    use crate::x509::cert::CertInfo;
    timeout(TEST_LIMIT, async {
        let lab = Lab::start(LabOptions::default()).await.unwrap();
        let opts = ProbeOptions::with_timeout(std::time::Duration::from_secs(3));
        let leaf_at = |id: &'static str, ip: [u8; 4], opts: ProbeOptions| {
            let t = lab.get(id).unwrap().clone();
            async move {
                let target = crate::target::Target::parse(&t.target(), 443).unwrap();
                let addr = std::net::SocketAddr::from((ip, t.port));
                let obs = probe_at(&target, Some(&[addr]), &opts).await;
                assert!(obs.error.is_none(), "{id} at {addr}: {:?}", obs.error);
                CertInfo::from_der(&obs.chain[0]).unwrap()
            }
        };
        let now = crate::report::time::now_unix();
        let first = leaf_at("stale-node", [127, 0, 0, 1], opts.clone()).await;
        let second = leaf_at("stale-node", [127, 0, 0, 2], opts.clone()).await;
        assert!(first.not_after > now && second.not_after < now);
        let a = leaf_at("split-nodes", [127, 0, 0, 1], opts.clone()).await;
        let b = leaf_at("split-nodes", [127, 0, 0, 2], opts.clone()).await;
        assert_ne!(a.sha256, b.sha256);
        assert!(a.not_after > now && b.not_after > now);
        assert_eq!(
            lab.get("stale-node").unwrap().resolve().unwrap(),
            format!(
                "stale-node.lab.test:{}:127.0.0.1,127.0.0.2",
                lab.get("stale-node").unwrap().port
            )
        );
        let with = leaf_at("sni-default", [127, 0, 0, 1], opts.clone()).await;
        let mut no_sni = opts.clone();
        no_sni.send_sni = false;
        let without = leaf_at("sni-default", [127, 0, 0, 1], no_sni).await;
        assert_eq!(with.subject_cn.as_deref(), Some("sni-default.lab.test"));
        assert_eq!(without.subject_cn.as_deref(), Some("default.lab.test"));
    })
    .await
    .unwrap();
}
