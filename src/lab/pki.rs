//! The lab PKI: roots, intermediates and one leaf (or chain) per scenario,
//! all generated relative to the current time.

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SerialNumber, SubjectPublicKeyInfo,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::sct;

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
    /// (which need not match the leaf). `slow` waits before the handshake.
    Tls {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        slow: bool,
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
    }
}

/// Builds the whole PKI and the scenario list (in the documented order).
pub(crate) fn build() -> Result<Pki> {
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

    let ca_pem = format!("{}{}", root.pem(), ensure_newline(FIXTURE_ROOT_PEM));
    Ok(Pki {
        ca_pem,
        root_ders: vec![root_der.to_vec(), fixture_root.to_vec()],
        scenarios: out,
    })
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}
