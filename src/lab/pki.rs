//! The lab PKI: roots, intermediates and one leaf (or chain) per scenario,
//! all generated relative to the current time.

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    CrlDistributionPoint, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, NameConstraints,
    RevocationReason, RevokedCertParams, SerialNumber, SubjectPublicKeyInfo,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::sct;
use crate::x509::cert::CertInfo;
use crate::x509::ocsp::{BuildStatus, ResponseSpec};

pub(crate) const FIXTURE_ROOT_PEM: &str = include_str!("../../assets/fixtures/fixture-root.pem");
pub(crate) const SHA1_INTERMEDIATE_PEM: &str =
    include_str!("../../assets/fixtures/sha1-intermediate.pem");
pub(crate) const SHA1_INTERMEDIATE_KEY: &str =
    include_str!("../../assets/fixtures/sha1-intermediate.key");
pub(crate) const RSA1024_PUB_PEM: &str = include_str!("../../assets/fixtures/rsa1024-pub.pem");

pub(crate) const ROOT_CN: &str = "certscope Lab Root CA";
pub(crate) const INTERMEDIATE_CN: &str = "certscope Lab Intermediate CA";
pub(crate) const EXPIRED_INTERMEDIATE_CN: &str = "certscope Lab Expired Intermediate";
pub(crate) const CONSTRAINED_INTERMEDIATE_CN: &str = "certscope Lab Constrained Intermediate";
pub(crate) const ROGUE_ROOT_CN: &str = "certscope Rogue Root CA";
pub(crate) const ROGUE_INTERMEDIATE_CN: &str = "certscope Rogue Intermediate CA";

/// What a scenario's server does with a connection.
pub(crate) enum Behavior {
    /// A TLS server presenting `chain`, signing the handshake with `key`
    /// (which need not match the leaf). `slow` waits before the handshake;
    /// `ocsp` is stapled to every handshake.
    Tls {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        slow: bool,
        ocsp: Option<Vec<u8>>,
        /// Presented instead to a ClientHello without SNI.
        no_sni: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    },
    /// Plain TCP answering an HTTP 400.
    NotTls,
    /// Accepts and never writes.
    Silent,
    /// Nothing listens on the port.
    Closed,
    /// Reads the ClientHello record and answers with these bytes (a TLS alert).
    Alert(&'static [u8]),
}

/// How a scenario is reached.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HostKind {
    /// `<id>.lab.test` (or the given name).
    Dns(Option<&'static str>),
    /// 127.0.0.1.
    Ip,
}

pub(crate) struct Scenario {
    pub id: &'static str,
    pub host_kind: HostKind,
    pub summary: &'static str,
    pub behavior: Behavior,
    /// Served on 127.0.0.2 at the same port (the name has two addresses).
    pub second: Option<Behavior>,
}

impl Scenario {
    pub(crate) fn host(&self) -> String {
        match self.host_kind {
            HostKind::Dns(Some(name)) => name.to_string(),
            HostKind::Dns(None) => format!("{}.lab.test", self.id),
            HostKind::Ip => "127.0.0.1".to_string(),
        }
    }
}

/// Everything the lab serves.
pub(crate) struct Pki {
    /// PEM of the trusted roots (lab root + fixture root), i.e. `ca.pem`.
    pub ca_pem: String,
    /// DER of the same roots.
    pub root_ders: Vec<Vec<u8>>,
    pub scenarios: Vec<Scenario>,
    /// What the lab's HTTP server answers, by path (any method).
    pub routes: Vec<Route>,
}

/// One resource of the lab's HTTP server (AIA, CRLs, OCSP).
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub path: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Number of scenarios [`build`] returns: the lab needs it to place the
/// HTTP server's port (after the scenario ports) before generating the
/// certificates that name it.
pub(crate) const SCENARIO_COUNT: usize = 42;

/// Where the lab's certificates point their AIA, CRL and OCSP URLs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Urls {
    /// The lab's HTTP server on 127.0.0.1.
    pub http_port: u16,
    /// A port on 127.0.0.1 nothing listens on (`responder-down`).
    pub down_port: u16,
}

impl Urls {
    fn http(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    fn down(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.down_port)
    }
}

pub(crate) const INTERMEDIATE_PATH: &str = "/lab-intermediate.der";
pub(crate) const WRONG_PATH: &str = "/wrong.der";
pub(crate) const CRL_PATH: &str = "/lab.crl";
pub(crate) const STALE_CRL_PATH: &str = "/stale.crl";

/// The OCSP URL path of a scenario's leaf.
pub(crate) fn ocsp_path(id: &str) -> String {
    format!("/ocsp/{id}")
}

pub(crate) const TLS10_ALERT: &[u8] = &[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46];
pub(crate) const HANDSHAKE_FAILURE_ALERT: &[u8] = &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

type CaIssuer = CertifiedIssuer<'static, KeyPair>;

/// Generation state: the clock and a serial-number source.
struct Ctx {
    now: OffsetDateTime,
    serial_prefix: [u8; 8],
    next_serial: u16,
}

impl Ctx {
    fn new() -> Result<Self> {
        let mut serial_prefix = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial_prefix)
            .map_err(|_| anyhow::anyhow!("lab: no randomness for serial numbers"))?;
        serial_prefix[0] &= 0x7f;
        serial_prefix[0] |= 0x01;
        Ok(Self {
            now: OffsetDateTime::now_utc().replace_nanosecond(0)?,
            serial_prefix,
            next_serial: 1,
        })
    }

    fn days(&self, n: i64) -> OffsetDateTime {
        self.now + Duration::days(n)
    }

    fn serial(&mut self) -> SerialNumber {
        let mut bytes = self.serial_prefix.to_vec();
        bytes.extend_from_slice(&self.next_serial.to_be_bytes());
        self.next_serial += 1;
        SerialNumber::from_slice(&bytes)
    }

    fn named(&mut self, cn: &str, sans: Vec<String>) -> Result<CertificateParams> {
        let mut p = CertificateParams::new(sans)
            .with_context(|| format!("lab: bad subject names for {cn}"))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "certscope lab");
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        p.serial_number = Some(self.serial());
        p.use_authority_key_identifier_extension = true;
        Ok(p)
    }

    fn ca_params(
        &mut self,
        cn: &str,
        path_len: Option<u8>,
        from: i64,
        to: i64,
    ) -> Result<CertificateParams> {
        let mut p = self.named(cn, Vec::new())?;
        p.is_ca = IsCa::Ca(match path_len {
            Some(n) => BasicConstraints::Constrained(n),
            None => BasicConstraints::Unconstrained,
        });
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = self.days(from);
        p.not_after = self.days(to);
        Ok(p)
    }

    fn root(&mut self, cn: &str) -> Result<CaIssuer> {
        let p = self.ca_params(cn, None, -365, 3650)?;
        Ok(CertifiedIssuer::self_signed(p, KeyPair::generate()?)?)
    }

    fn intermediate(
        &mut self,
        cn: &str,
        issuer: &CaIssuer,
        from: i64,
        to: i64,
        constraints: Option<NameConstraints>,
    ) -> Result<CaIssuer> {
        let mut p = self.ca_params(cn, Some(0), from, to)?;
        p.name_constraints = constraints;
        Ok(CertifiedIssuer::signed_by(p, KeyPair::generate()?, issuer)?)
    }

    /// Default leaf parameters: CN = first SAN (or `cn`), serverAuth,
    /// digitalSignature, now-10d..now+80d, with an SCT list.
    fn leaf(&mut self, cn: &str, sans: &[&str]) -> Result<CertificateParams> {
        let mut p = self.named(cn, sans.iter().map(|s| s.to_string()).collect())?;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.not_before = self.days(-10);
        p.not_after = self.days(80);
        let ts = (self.days(-10).unix_timestamp() as u64) * 1000 + 1234;
        p.custom_extensions.push(sct::sct_list_extension(ts));
        Ok(p)
    }
}

fn key_der(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

fn pem_der(pem_text: &str, what: &str) -> Result<CertificateDer<'static>> {
    let p = pem::parse(pem_text).with_context(|| format!("lab: bad PEM fixture {what}"))?;
    Ok(CertificateDer::from(p.into_contents()))
}

/// A leaf with a fresh key, signed by `issuer`; returns (leaf DER, key).
fn issue(
    params: &CertificateParams,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.der().clone(), key_der(&key)))
}

fn tls(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Behavior {
    Behavior::Tls {
        chain,
        key,
        slow: false,
        ocsp: None,
        no_sni: None,
    }
}

/// DER tag-length-value.
fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// id-ad-ocsp (1.3.6.1.5.5.7.48.1) and id-ad-caIssuers (1.3.6.1.5.5.7.48.2).
const AD_OCSP: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
const AD_CA_ISSUERS: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];

/// Authority Information Access (1.3.6.1.5.5.7.1.1): a SEQUENCE OF
/// AccessDescription { method, [6] IA5String URI }.
fn aia_extension(ca_issuers: Option<&str>, ocsp: Option<&str>) -> CustomExtension {
    let mut descs = Vec::new();
    for (method, url) in [(AD_CA_ISSUERS, ca_issuers), (AD_OCSP, ocsp)] {
        if let Some(url) = url {
            let mut ad = der_tlv(0x06, method);
            ad.extend(der_tlv(0x86, url.as_bytes()));
            descs.extend(der_tlv(0x30, &ad));
        }
    }
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], der_tlv(0x30, &descs))
}

/// TLS Feature (1.3.6.1.5.5.7.1.24) with status_request: "OCSP must-staple".
fn must_staple_extension() -> CustomExtension {
    CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 24],
        vec![0x30, 0x03, 0x02, 0x01, 0x05],
    )
}

/// Signs OCSP responses for leaves of the lab intermediate.
struct Responder {
    issuer: CertInfo,
    pkcs8: Vec<u8>,
    now: i64,
}

impl Responder {
    fn new(int: &CaIssuer, now: OffsetDateTime) -> Result<Self> {
        let issuer = CertInfo::from_der(int.der())
            .map_err(|e| anyhow::anyhow!("lab: the intermediate does not parse: {e}"))?;
        Ok(Self {
            issuer,
            pkcs8: int.key().serialize_der(),
            now: now.unix_timestamp(),
        })
    }

    /// A response for `leaf`: thisUpdate now-1h, nextUpdate now+7d;
    /// revoked = keyCompromise one day ago.
    fn response(&self, leaf: &CertificateDer<'_>, revoked: bool) -> Result<Vec<u8>> {
        let cert = CertInfo::from_der(leaf)
            .map_err(|e| anyhow::anyhow!("lab: a leaf does not parse: {e}"))?;
        let status = if revoked {
            BuildStatus::Revoked {
                time: self.now - 86_400,
                reason: Some(1),
            }
        } else {
            BuildStatus::Good
        };
        crate::x509::ocsp::build_response(&ResponseSpec {
            cert: &cert,
            issuer_subject_raw: &self.issuer.subject_raw,
            issuer_spki_der: &self.issuer.spki_der,
            status,
            this_update: self.now - 3600,
            next_update: Some(self.now + 7 * 86_400),
            signer_pkcs8: &self.pkcs8,
            responder_cert: None,
        })
        .map_err(|e| anyhow::anyhow!("lab: cannot build an OCSP response: {e}"))
    }
}

/// A CRL signed by `issuer` revoking `revoked` (keyCompromise, a day ago).
fn crl(
    cx: &Ctx,
    issuer: &CaIssuer,
    number: u8,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked: &[SerialNumber],
) -> Result<Vec<u8>> {
    let params = CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: SerialNumber::from_slice(&[number]),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: serial.clone(),
                revocation_time: cx.days(-1),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params
        .signed_by(issuer)
        .context("lab: cannot sign a CRL")?
        .der()
        .to_vec())
}

/// Builds the whole PKI and the scenario list (in the documented order);
/// the revocation scenarios' certificates point at `urls`.
pub(crate) fn build(urls: &Urls) -> Result<Pki> {
    let mut cx = Ctx::new()?;

    let root = cx.root(ROOT_CN)?;
    let int = cx.intermediate(INTERMEDIATE_CN, &root, -365, 1825, None)?;
    let expired_int = cx.intermediate(EXPIRED_INTERMEDIATE_CN, &root, -400, -5, None)?;
    let constrained_int = cx.intermediate(
        CONSTRAINED_INTERMEDIATE_CN,
        &root,
        -365,
        1825,
        Some(NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DnsName("allowed.test".into())],
            excluded_subtrees: vec![],
        }),
    )?;
    let rogue_root = cx.root(ROGUE_ROOT_CN)?;
    let rogue_int = cx.intermediate(ROGUE_INTERMEDIATE_CN, &rogue_root, -365, 1825, None)?;

    let fixture_root = pem_der(FIXTURE_ROOT_PEM, "fixture-root.pem")?;
    let sha1_int_der = pem_der(SHA1_INTERMEDIATE_PEM, "sha1-intermediate.pem")?;
    let sha1_key = KeyPair::from_pem(SHA1_INTERMEDIATE_KEY)
        .context("lab: cannot load sha1-intermediate.key")?;
    let sha1_int = Issuer::from_ca_cert_pem(SHA1_INTERMEDIATE_PEM, sha1_key)
        .context("lab: cannot load sha1-intermediate.pem as an issuer")?;
    let rsa1024 = SubjectPublicKeyInfo::from_pem(RSA1024_PUB_PEM)
        .context("lab: cannot load rsa1024-pub.pem")?;

    let root_der = root.der().clone();
    let int_der = int.der().clone();

    let mut out = Vec::new();
    let mut add = |id: &'static str, host_kind: HostKind, summary: &'static str, b: Behavior| {
        out.push(Scenario {
            id,
            host_kind,
            summary,
            behavior: b,
            second: None,
        })
    };
    let dns = HostKind::Dns(None);

    // 1. good
    let p = cx.leaf("good.lab.test", &["good.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "good",
        dns,
        "valid chain [leaf, intermediate] from the lab root, with embedded SCTs",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 2. expired
    let mut p = cx.leaf("expired.lab.test", &["expired.lab.test"])?;
    p.not_before = cx.days(-100);
    p.not_after = cx.days(-10);
    let (leaf, key) = issue(&p, &int)?;
    add(
        "expired",
        dns,
        "leaf expired 10 days ago",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 3. expired-intermediate
    let p = cx.leaf(
        "expired-intermediate.lab.test",
        &["expired-intermediate.lab.test"],
    )?;
    let (leaf, key) = issue(&p, &expired_int)?;
    add(
        "expired-intermediate",
        dns,
        "valid leaf, but its intermediate expired 5 days ago",
        tls(vec![leaf, expired_int.der().clone()], key),
    );

    // 4. not-yet-valid
    let mut p = cx.leaf("not-yet-valid.lab.test", &["not-yet-valid.lab.test"])?;
    p.not_before = cx.days(5);
    p.not_after = cx.days(95);
    let (leaf, key) = issue(&p, &int)?;
    add(
        "not-yet-valid",
        dns,
        "leaf only becomes valid in 5 days",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 5. expiring-soon
    let mut p = cx.leaf("expiring-soon.lab.test", &["expiring-soon.lab.test"])?;
    p.not_before = cx.days(-85);
    p.not_after = cx.days(5);
    let (leaf, key) = issue(&p, &int)?;
    add(
        "expiring-soon",
        dns,
        "leaf expires in 5 days",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 6. wrong-host
    let p = cx.leaf("other.lab.test", &["other.lab.test", "www.other.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "wrong-host",
        dns,
        "leaf is for other.lab.test and www.other.lab.test only",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 7. cn-only
    let p = cx.leaf("cn-only.lab.test", &[])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "cn-only",
        dns,
        "leaf has no subjectAltName, only CN=cn-only.lab.test",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 8. wildcard-deep
    let p = cx.leaf("*.lab.test", &["*.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "wildcard-deep",
        HostKind::Dns(Some("deep.wildcard-deep.lab.test")),
        "leaf *.lab.test presented for a name two labels deeper",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 9. ip-mismatch
    let p = cx.leaf("ip-mismatch.lab.test", &["ip-mismatch.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "ip-mismatch",
        HostKind::Ip,
        "IP target; leaf only names DNS ip-mismatch.lab.test",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 10. ip-ok
    let p = cx.leaf("ip-ok.lab.test", &["127.0.0.1", "ip-ok.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "ip-ok",
        HostKind::Ip,
        "IP target; leaf has IP SAN 127.0.0.1 (clean)",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 11. self-signed
    let p = cx.leaf("self-signed.lab.test", &["self-signed.lab.test"])?;
    let key = KeyPair::generate()?;
    let leaf = p.self_signed(&key)?.der().clone();
    add(
        "self-signed",
        dns,
        "self-signed leaf (not a CA), no chain",
        tls(vec![leaf], key_der(&key)),
    );

    // 12. expired-self-signed-wrong-name
    let mut p = cx.leaf("unrelated.lab.test", &["unrelated.lab.test"])?;
    p.not_before = cx.days(-100);
    p.not_after = cx.days(-10);
    let key = KeyPair::generate()?;
    let leaf = p.self_signed(&key)?.der().clone();
    add(
        "expired-self-signed-wrong-name",
        dns,
        "self-signed, expired leaf for unrelated.lab.test",
        tls(vec![leaf], key_der(&key)),
    );

    // 13. untrusted-root
    let p = cx.leaf("untrusted-root.lab.test", &["untrusted-root.lab.test"])?;
    let (leaf, key) = issue(&p, &rogue_int)?;
    add(
        "untrusted-root",
        dns,
        "full chain [leaf, intermediate, root] to a rogue root not in the CA file",
        tls(
            vec![leaf, rogue_int.der().clone(), rogue_root.der().clone()],
            key,
        ),
    );

    // 14. incomplete-chain
    let p = cx.leaf("incomplete-chain.lab.test", &["incomplete-chain.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "incomplete-chain",
        dns,
        "leaf only; the intermediate is missing",
        tls(vec![leaf], key),
    );

    // 15. chain-order
    let p = cx.leaf("chain-order.lab.test", &["chain-order.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "chain-order",
        dns,
        "chain sent out of order: [leaf, root, intermediate]",
        tls(vec![leaf, root_der.clone(), int_der.clone()], key),
    );

    // 16. root-sent
    let p = cx.leaf("root-sent.lab.test", &["root-sent.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "root-sent",
        dns,
        "chain [leaf, intermediate, root]: the root is sent needlessly",
        tls(vec![leaf, int_der.clone(), root_der.clone()], key),
    );

    // 16b. cross-signed: a cross-certificate of the intermediate (its name
    // and key, issued by a root no store holds) sent before the real one.
    // A client that builds paths takes the real one; one that follows the
    // order sent takes the cross-certificate and fails.
    let cross = {
        let mut cp = cx.ca_params(INTERMEDIATE_CN, Some(0), -365, 1825)?;
        cp.name_constraints = None;
        let k = KeyPair::from_pem(&int.key().serialize_pem())?;
        CertifiedIssuer::signed_by(cp, k, &rogue_root)?
    };
    let p = cx.leaf("cross-signed.lab.test", &["cross-signed.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "cross-signed",
        dns,
        "chain [leaf, cross-certificate of the intermediate, intermediate]: the path clients build skips the cross-certificate",
        tls(vec![leaf, cross.der().clone(), int_der.clone()], key),
    );

    // 17. weak-signature
    let p = cx.leaf("weak-signature.lab.test", &["weak-signature.lab.test"])?;
    let (leaf, key) = issue(&p, &sha1_int)?;
    add(
        "weak-signature",
        dns,
        "intermediate signed with SHA-1 (sha1WithRSAEncryption)",
        tls(vec![leaf, sha1_int_der], key),
    );

    // 18. weak-key: the leaf holds an RSA-1024 public key; the handshake is
    // signed with an unrelated P-256 key.
    let p = cx.leaf("weak-key.lab.test", &["weak-key.lab.test"])?;
    let leaf = p.signed_by(&rsa1024, &int)?.der().clone();
    let handshake_key = KeyPair::generate()?;
    add(
        "weak-key",
        dns,
        "leaf has an RSA-1024 public key",
        tls(vec![leaf, int_der.clone()], key_der(&handshake_key)),
    );

    // 19. invalid-purpose
    let mut p = cx.leaf("invalid-purpose.lab.test", &["invalid-purpose.lab.test"])?;
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let (leaf, key) = issue(&p, &int)?;
    add(
        "invalid-purpose",
        dns,
        "leaf EKU is clientAuth only (no serverAuth)",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 20. ca-as-leaf
    let mut p = cx.leaf("ca-as-leaf.lab.test", &["ca-as-leaf.lab.test"])?;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let (leaf, key) = issue(&p, &int)?;
    add(
        "ca-as-leaf",
        dns,
        "leaf has basicConstraints CA:TRUE",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 21. name-constraints
    let p = cx.leaf("name-constraints.lab.test", &["name-constraints.lab.test"])?;
    let (leaf, key) = issue(&p, &constrained_int)?;
    add(
        "name-constraints",
        dns,
        "intermediate's name constraints only permit allowed.test",
        tls(vec![leaf, constrained_int.der().clone()], key),
    );

    // 22. long-validity
    let mut p = cx.leaf("long-validity.lab.test", &["long-validity.lab.test"])?;
    p.not_after = cx.days(490);
    let (leaf, key) = issue(&p, &int)?;
    add(
        "long-validity",
        dns,
        "leaf lifetime is 500 days",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 23. no-sct
    let mut p = cx.leaf("no-sct.lab.test", &["no-sct.lab.test"])?;
    p.custom_extensions.clear();
    let (leaf, key) = issue(&p, &int)?;
    add(
        "no-sct",
        dns,
        "valid chain, but the leaf has no embedded SCTs",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 24. slow
    let p = cx.leaf("slow.lab.test", &["slow.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "slow",
        dns,
        "valid chain; the handshake starts only after a delay",
        Behavior::Tls {
            chain: vec![leaf, int_der.clone()],
            key,
            slow: true,
            ocsp: None,
            no_sni: None,
        },
    );

    // 25-29. connection scenarios
    add(
        "not-tls",
        dns,
        "plain TCP: answers HTTP 400 to the ClientHello",
        Behavior::NotTls,
    );
    add(
        "silent",
        dns,
        "accepts the connection, never answers",
        Behavior::Silent,
    );
    add(
        "closed",
        dns,
        "nothing listening: connection refused",
        Behavior::Closed,
    );
    add(
        "tls10-only",
        dns,
        "TLS 1.0 only: rejects the ClientHello with a protocol_version alert",
        Behavior::Alert(TLS10_ALERT),
    );
    add(
        "handshake-failure",
        dns,
        "rejects the ClientHello with a handshake_failure alert",
        Behavior::Alert(HANDSHAKE_FAILURE_ALERT),
    );

    // 30-38. revocation and AIA, served by the lab's HTTP server. Every
    // other scenario's certificates name no CRL, OCSP or AIA URL.
    let responder = Responder::new(&int, cx.now)?;
    let mut routes = Vec::new();
    let mut ocsp_route = |id: &str, body: &[u8]| {
        routes.push(Route {
            path: ocsp_path(id),
            content_type: "application/ocsp-response",
            body: body.to_vec(),
        })
    };

    // 30. revoked-crl
    let mut p = cx.leaf("revoked-crl.lab.test", &["revoked-crl.lab.test"])?;
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![urls.http(CRL_PATH)],
    }];
    let revoked_serial = p
        .serial_number
        .clone()
        .context("lab: the revoked-crl leaf has no serial")?;
    let (leaf, key) = issue(&p, &int)?;
    add(
        "revoked-crl",
        dns,
        "leaf listed as revoked (keyCompromise) on the CRL its distribution point names",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 31. revoked-ocsp
    let ocsp_url = urls.http(&ocsp_path("revoked-ocsp"));
    let mut p = cx.leaf("revoked-ocsp.lab.test", &["revoked-ocsp.lab.test"])?;
    p.custom_extensions
        .push(aia_extension(None, Some(&ocsp_url)));
    let (leaf, key) = issue(&p, &int)?;
    ocsp_route("revoked-ocsp", &responder.response(&leaf, true)?);
    add(
        "revoked-ocsp",
        dns,
        "leaf names only an OCSP responder, which answers revoked",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 32-33. stapled-good, stapled-revoked
    for (id, revoked, summary) in [
        (
            "stapled-good",
            false,
            "staples a valid OCSP response saying good",
        ),
        (
            "stapled-revoked",
            true,
            "staples a valid OCSP response saying revoked",
        ),
    ] {
        let host = format!("{id}.lab.test");
        let ocsp_url = urls.http(&ocsp_path(id));
        let mut p = cx.leaf(&host, &[host.as_str()])?;
        p.custom_extensions
            .push(aia_extension(None, Some(&ocsp_url)));
        let (leaf, key) = issue(&p, &int)?;
        let response = responder.response(&leaf, revoked)?;
        ocsp_route(id, &response);
        add(
            id,
            dns,
            summary,
            Behavior::Tls {
                chain: vec![leaf, int_der.clone()],
                key,
                slow: false,
                ocsp: Some(response),
                no_sni: None,
            },
        );
    }

    // 34. must-staple
    let ocsp_url = urls.http(&ocsp_path("must-staple"));
    let mut p = cx.leaf("must-staple.lab.test", &["must-staple.lab.test"])?;
    p.custom_extensions
        .push(aia_extension(None, Some(&ocsp_url)));
    p.custom_extensions.push(must_staple_extension());
    let (leaf, key) = issue(&p, &int)?;
    ocsp_route("must-staple", &responder.response(&leaf, false)?);
    add(
        "must-staple",
        dns,
        "leaf demands OCSP stapling (TLS Feature), but nothing is stapled",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 35. aia-missing
    let mut p = cx.leaf("aia-missing.lab.test", &["aia-missing.lab.test"])?;
    p.custom_extensions
        .push(aia_extension(Some(&urls.http(INTERMEDIATE_PATH)), None));
    let (leaf, key) = issue(&p, &int)?;
    add(
        "aia-missing",
        dns,
        "leaf only; its AIA caIssuers URL serves the missing intermediate",
        tls(vec![leaf], key),
    );

    // 36. aia-wrong
    let mut p = cx.leaf("aia-wrong.lab.test", &["aia-wrong.lab.test"])?;
    p.custom_extensions
        .push(aia_extension(Some(&urls.http(WRONG_PATH)), None));
    let (leaf, key) = issue(&p, &int)?;
    add(
        "aia-wrong",
        dns,
        "leaf only; its AIA caIssuers URL serves an unrelated CA certificate",
        tls(vec![leaf], key),
    );

    // 37. stale-crl
    let mut p = cx.leaf("stale-crl.lab.test", &["stale-crl.lab.test"])?;
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![urls.http(STALE_CRL_PATH)],
    }];
    let (leaf, key) = issue(&p, &int)?;
    add(
        "stale-crl",
        dns,
        "leaf's only revocation source is a CRL past its nextUpdate",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 38. responder-down
    let mut p = cx.leaf("responder-down.lab.test", &["responder-down.lab.test"])?;
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![urls.down(CRL_PATH)],
    }];
    p.custom_extensions.push(aia_extension(
        None,
        Some(&urls.down(&ocsp_path("responder-down"))),
    ));
    let (leaf, key) = issue(&p, &int)?;
    add(
        "responder-down",
        dns,
        "leaf's CRL and OCSP URLs point at a port nothing listens on",
        tls(vec![leaf, int_der.clone()], key),
    );

    // 39. sni-default: another certificate for clients without SNI.
    let p = cx.leaf("sni-default.lab.test", &["sni-default.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    let d = cx.leaf("default.lab.test", &["default.lab.test"])?;
    let (default_leaf, default_key) = issue(&d, &int)?;
    add(
        "sni-default",
        dns,
        "valid chain for the name; clients without SNI get a default certificate for default.lab.test",
        Behavior::Tls {
            chain: vec![leaf, int_der.clone()],
            key,
            slow: false,
            ocsp: None,
            no_sni: Some((vec![default_leaf, int_der.clone()], default_key)),
        },
    );

    // 40. stale-node: two addresses, one still on an expired leaf.
    let p = cx.leaf("stale-node.lab.test", &["stale-node.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    let mut old = cx.leaf("stale-node.lab.test", &["stale-node.lab.test"])?;
    old.not_before = cx.days(-100);
    old.not_after = cx.days(-10);
    let (old_leaf, old_key) = issue(&old, &int)?;
    out.push(Scenario {
        id: "stale-node",
        host_kind: dns,
        summary: "two addresses (127.0.0.1, 127.0.0.2): the second still serves an expired leaf",
        behavior: tls(vec![leaf, int_der.clone()], key),
        second: Some(tls(vec![old_leaf, int_der.clone()], old_key)),
    });

    // 41. split-nodes: two addresses, two different valid leaves.
    let p = cx.leaf("split-nodes.lab.test", &["split-nodes.lab.test"])?;
    let (leaf, key) = issue(&p, &int)?;
    let p2 = cx.leaf("split-nodes.lab.test", &["split-nodes.lab.test"])?;
    let (leaf2, key2) = issue(&p2, &int)?;
    out.push(Scenario {
        id: "split-nodes",
        host_kind: dns,
        summary: "two addresses (127.0.0.1, 127.0.0.2) serving different valid leaves for the name",
        behavior: tls(vec![leaf, int_der.clone()], key),
        second: Some(tls(vec![leaf2, int_der.clone()], key2)),
    });

    let lab_crl = crl(
        &cx,
        &int,
        1,
        cx.now - Duration::hours(1),
        cx.days(7),
        &[revoked_serial],
    )?;
    let stale_crl = crl(&cx, &int, 2, cx.days(-8), cx.days(-1), &[])?;
    for (path, content_type, body) in [
        (INTERMEDIATE_PATH, "application/pkix-cert", int_der.to_vec()),
        (
            WRONG_PATH,
            "application/pkix-cert",
            rogue_int.der().to_vec(),
        ),
        (CRL_PATH, "application/pkix-crl", lab_crl),
        (STALE_CRL_PATH, "application/pkix-crl", stale_crl),
    ] {
        routes.push(Route {
            path: path.to_string(),
            content_type,
            body,
        });
    }

    if out.len() != SCENARIO_COUNT {
        return Err(anyhow::anyhow!(
            "lab: built {} scenarios, expected {SCENARIO_COUNT}",
            out.len()
        ));
    }
    let ca_pem = format!("{}{}", root.pem(), ensure_newline(FIXTURE_ROOT_PEM));
    Ok(Pki {
        ca_pem,
        root_ders: vec![root_der.to_vec(), fixture_root.to_vec()],
        scenarios: out,
        routes,
    })
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}
