//! Trust stores: the Mozilla roots (webpki-roots), the operating system's
//! store (rustls-native-certs), and CA files given by the user.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rustls::pki_types::{CertificateDer, TrustAnchor};

use crate::util::sanitize::for_terminal;
use crate::x509::cert::{CertInfo, parse_certificates};

/// Which built-in store to start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Mozilla,
    System,
    None,
}

impl FromStr for StoreKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mozilla" => Ok(StoreKind::Mozilla),
            "system" => Ok(StoreKind::System),
            "none" => Ok(StoreKind::None),
            _ => Err(format!(
                "unknown trust store '{}' (choices: mozilla, system, none)",
                for_terminal(s)
            )),
        }
    }
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreKind::Mozilla => "mozilla",
            StoreKind::System => "system",
            StoreKind::None => "none",
        })
    }
}

/// Where a trust anchor came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorOrigin {
    Mozilla,
    System,
    CaFile(PathBuf),
}

impl AnchorOrigin {
    /// Mozilla or system store (as opposed to a private CA file).
    pub fn is_public(&self) -> bool {
        matches!(self, AnchorOrigin::Mozilla | AnchorOrigin::System)
    }

    /// "Mozilla root store (webpki-roots)", "system store", "CA file /x/ca.pem".
    pub fn describe(&self) -> String {
        match self {
            AnchorOrigin::Mozilla => "Mozilla root store (webpki-roots)".to_string(),
            AnchorOrigin::System => "system store".to_string(),
            AnchorOrigin::CaFile(p) => format!("CA file {}", show_path(p)),
        }
    }
}

/// One trust anchor.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub ta: TrustAnchor<'static>,
    /// The full certificate when known (not for webpki-roots).
    pub der: Option<Vec<u8>>,
    pub origin: AnchorOrigin,
    /// DER Name with its outer SEQUENCE, comparable to
    /// `CertInfo::subject_raw` / `issuer_raw`.
    pub subject_raw: Vec<u8>,
    /// Full SubjectPublicKeyInfo DER with its outer SEQUENCE, comparable to
    /// `CertInfo::spki_der`.
    pub spki_der: Vec<u8>,
    /// `der` parsed, once per run (a report shows the anchor of every path).
    parsed: std::sync::OnceLock<Option<std::sync::Arc<CertInfo>>>,
}

impl Anchor {
    /// Build from a webpki trust anchor (whose subject and SPKI are the
    /// SEQUENCE contents, without the outer tag).
    pub fn from_trust_anchor(
        ta: TrustAnchor<'static>,
        der: Option<Vec<u8>>,
        origin: AnchorOrigin,
    ) -> Anchor {
        let subject_raw = der_sequence(ta.subject.as_ref());
        let spki_der = der_sequence(ta.subject_public_key_info.as_ref());
        Anchor {
            ta,
            der,
            origin,
            subject_raw,
            spki_der,
            parsed: std::sync::OnceLock::new(),
        }
    }

    /// Build from a certificate's DER. A certificate over 64 KiB, which
    /// webpki does not read, still makes an anchor: its subject and key are
    /// taken from certscope's own parse (OpenSSL accepts such roots too).
    /// Such an anchor's own name constraints are not applied.
    pub fn from_cert_der(der: &[u8], origin: AnchorOrigin) -> Result<Anchor, String> {
        let cd = CertificateDer::from(der);
        match webpki::anchor_from_trusted_cert(&cd) {
            Ok(ta) => Ok(Anchor::from_trust_anchor(
                ta.to_owned(),
                Some(der.to_vec()),
                origin,
            )),
            Err(_) if der.len() > 0xffff => {
                let c = CertInfo::from_der(der).map_err(|e| {
                    format!("not usable as a trust anchor: it cannot be parsed ({e})")
                })?;
                let content = |tlv: &[u8]| -> Option<Vec<u8>> {
                    crate::util::tlv::read_tlv(tlv).map(|(_, v, _)| v.to_vec())
                };
                let (Some(subject), Some(spki)) = (content(&c.subject_raw), content(&c.spki_der))
                else {
                    return Err("not usable as a trust anchor: its subject or key cannot be read".into());
                };
                let ta = TrustAnchor {
                    subject: subject.into(),
                    subject_public_key_info: spki.into(),
                    name_constraints: None,
                };
                Ok(Anchor::from_trust_anchor(ta, Some(der.to_vec()), origin))
            }
            Err(_) => Err("not usable as a trust anchor: webpki cannot read it (it breaks the DER encoding rules webpki applies to certificates)".to_string()),
        }
    }

    /// Sanitized subject ("CN=ISRG Root X1, O=Internet Security Research Group, C=US").
    pub fn name(&self) -> String {
        crate::x509::cert::name_to_string(&self.subject_raw)
            .unwrap_or_else(|| "<unparsable name>".to_string())
    }

    /// Sanitized first CN of the subject, if any.
    pub fn cn(&self) -> Option<String> {
        crate::x509::cert::name_cn(&self.subject_raw)
    }

    /// The full certificate parsed, when known.
    pub fn cert(&self) -> Option<std::sync::Arc<CertInfo>> {
        self.parsed
            .get_or_init(|| {
                self.der
                    .as_deref()
                    .and_then(|d| CertInfo::from_der(d).ok())
                    .map(std::sync::Arc::new)
            })
            .clone()
    }
}

/// DER SEQUENCE (tag 0x30) around `content`, with a minimal length.
fn der_sequence(content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(len + 6);
    out.push(0x30);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let sig = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | sig.len() as u8);
        out.extend_from_slice(sig);
    }
    out.extend_from_slice(content);
    out
}

fn show_path(p: &Path) -> String {
    for_terminal(&p.display().to_string())
}

fn short_path(p: &Path) -> String {
    match p.file_name() {
        Some(n) => for_terminal(&n.to_string_lossy()),
        None => show_path(p),
    }
}

/// A set of trust anchors with a label saying where they came from.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub anchors: Vec<Anchor>,
    /// e.g. "mozilla + CA file ca.pem".
    pub kind_label: String,
    /// `anchors` as webpki takes them, built on first use (every target
    /// of a run is verified against the same store).
    webpki: std::sync::OnceLock<Vec<TrustAnchor<'static>>>,
}

impl TrustStore {
    /// Load the chosen store plus every CA file. Errors name the file and
    /// what is wrong with it.
    pub fn load(kind: StoreKind, ca_files: &[PathBuf]) -> Result<TrustStore, String> {
        let mut store = match kind {
            StoreKind::Mozilla => Self::mozilla(),
            StoreKind::System => Self::system()?,
            StoreKind::None => TrustStore::default(),
        };
        for path in ca_files {
            store.extend(Self::from_ca_file(path)?);
        }
        if store.kind_label.is_empty() {
            store.kind_label = "none".to_string();
        }
        Ok(store)
    }

    /// webpki-roots.
    pub fn mozilla() -> TrustStore {
        // webpki-roots holds the anchors; webpki-root-certs the same roots as
        // whole certificates, so reports can show the anchor's details.
        let certs: Vec<(Vec<u8>, Vec<u8>, &[u8])> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| {
                let ta = webpki::anchor_from_trusted_cert(der).ok()?;
                Some((
                    ta.subject.to_vec(),
                    ta.subject_public_key_info.to_vec(),
                    der.as_ref(),
                ))
            })
            .collect();
        TrustStore {
            anchors: webpki_roots::TLS_SERVER_ROOTS
                .iter()
                .map(|ta| {
                    let der = certs
                        .iter()
                        .find(|(s, k, _)| {
                            s.as_slice() == ta.subject.as_ref()
                                && k.as_slice() == ta.subject_public_key_info.as_ref()
                        })
                        .map(|(_, _, d)| d.to_vec());
                    Anchor::from_trust_anchor(ta.to_owned(), der, AnchorOrigin::Mozilla)
                })
                .collect(),
            kind_label: "mozilla".to_string(),
            webpki: Default::default(),
        }
    }

    /// The OS store (honours SSL_CERT_FILE / SSL_CERT_DIR). Certificates it
    /// cannot use are skipped; an empty result is an error.
    pub fn system() -> Result<TrustStore, String> {
        let result = rustls_native_certs::load_native_certs();
        let anchors: Vec<Anchor> = result
            .certs
            .iter()
            .filter_map(|c| Anchor::from_cert_der(c.as_ref(), AnchorOrigin::System).ok())
            .collect();
        if anchors.is_empty() {
            let why = if result.errors.is_empty() {
                if result.certs.is_empty() {
                    "no certificates found (set SSL_CERT_FILE or SSL_CERT_DIR, or use --trust mozilla)"
                        .to_string()
                } else {
                    format!(
                        "none of its {} certificates can be used as a trust anchor",
                        result.certs.len()
                    )
                }
            } else {
                result
                    .errors
                    .iter()
                    .map(|e| for_terminal(&e.to_string()))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return Err(format!("system trust store is empty: {why}"));
        }
        Ok(TrustStore {
            anchors,
            kind_label: "system".to_string(),
            webpki: Default::default(),
        })
    }

    /// Every certificate in a PEM/DER CA file, as anchors.
    pub fn from_ca_file(path: &Path) -> Result<TrustStore, String> {
        let shown = show_path(path);
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read CA file {shown}: {e}"))?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(format!("CA file {shown} is empty"));
        }
        let ders = parse_certificates(&bytes).map_err(|e| format!("CA file {shown}: {e}"))?;
        let origin = AnchorOrigin::CaFile(path.to_path_buf());
        let mut anchors = Vec::with_capacity(ders.len());
        for (i, der) in ders.iter().enumerate() {
            let a = Anchor::from_cert_der(der, origin.clone())
                .map_err(|e| format!("CA file {shown}: certificate {}: {e}", i + 1))?;
            anchors.push(a);
        }
        Ok(TrustStore {
            anchors,
            kind_label: format!("CA file {}", short_path(path)),
            webpki: Default::default(),
        })
    }

    /// Anchors from certificates (for tests and the lab).
    pub fn from_ders(ders: &[Vec<u8>], origin: AnchorOrigin) -> Result<TrustStore, String> {
        let mut anchors = Vec::with_capacity(ders.len());
        for (i, der) in ders.iter().enumerate() {
            anchors.push(
                Anchor::from_cert_der(der, origin.clone())
                    .map_err(|e| format!("certificate {}: {e}", i + 1))?,
            );
        }
        let kind_label = match &origin {
            AnchorOrigin::Mozilla => "mozilla".to_string(),
            AnchorOrigin::System => "system".to_string(),
            AnchorOrigin::CaFile(p) => format!("CA file {}", short_path(p)),
        };
        Ok(TrustStore {
            anchors,
            kind_label,
            webpki: Default::default(),
        })
    }

    /// A store of these anchors, labelled `kind_label`.
    pub fn new(anchors: Vec<Anchor>, kind_label: String) -> TrustStore {
        TrustStore {
            anchors,
            kind_label,
            webpki: Default::default(),
        }
    }

    /// Add `other`'s anchors; labels are joined with " + ".
    pub fn extend(&mut self, other: TrustStore) {
        self.anchors.extend(other.anchors);
        self.webpki = std::sync::OnceLock::new();
        if self.kind_label.is_empty() || self.kind_label == "none" {
            self.kind_label = other.kind_label;
        } else if !other.kind_label.is_empty() {
            self.kind_label = format!("{} + {}", self.kind_label, other.kind_label);
        }
    }

    /// The anchors in the form webpki wants.
    pub fn webpki_anchors(&self) -> &[TrustAnchor<'static>] {
        self.webpki
            .get_or_init(|| self.anchors.iter().map(|a| a.ta.clone()).collect())
    }

    /// Anchors whose subject equals `cert`'s issuer AND whose key verifies
    /// `cert`'s signature.
    pub fn issuers_of(&self, cert: &CertInfo) -> Vec<&Anchor> {
        self.anchors
            .iter()
            .filter(|a| a.subject_raw == cert.issuer_raw && cert.signature_verified_by(&a.spki_der))
            .collect()
    }

    /// Is `cert` the anchor `a` itself: its certificate, or a self-signed
    /// one with its name and key? (A cross-certificate shares name and key
    /// with an anchor but is issued by another CA: it is not the anchor.)
    pub fn anchor_is(&self, a: &Anchor, cert: &CertInfo) -> bool {
        a.subject_raw == cert.subject_raw
            && a.spki_der == cert.spki_der
            && (a.der.as_deref() == Some(cert.der.as_slice()) || cert.self_issued)
    }

    /// The anchor `cert` is itself, if any (see [`TrustStore::anchor_is`]).
    pub fn is_anchor_cert(&self, cert: &CertInfo) -> Option<&Anchor> {
        self.anchors.iter().find(|a| self.anchor_is(a, cert))
    }

    /// Is this exact certificate a trust anchor (same subject and key)?
    pub fn contains(&self, cert: &CertInfo) -> Option<&Anchor> {
        self.anchors
            .iter()
            .find(|a| a.subject_raw == cert.subject_raw && a.spki_der == cert.spki_der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use std::io::Write;

    struct Root {
        params: CertificateParams,
        key: KeyPair,
        der: Vec<u8>,
        pem: String,
    }

    fn root(cn: &str) -> Root {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "certscope tests");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        Root {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            params,
            key,
        }
    }

    fn leaf(root: &Root, name: &str) -> CertInfo {
        let key = KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&root.params, &root.key);
        let cert = CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        CertInfo::from_der(cert.der()).unwrap()
    }

    #[test]
    fn store_kind_parses() {
        assert_eq!("mozilla".parse::<StoreKind>(), Ok(StoreKind::Mozilla));
        assert_eq!("System".parse::<StoreKind>(), Ok(StoreKind::System));
        assert_eq!("none".parse::<StoreKind>(), Ok(StoreKind::None));
        let e = "os".parse::<StoreKind>().unwrap_err();
        assert!(e.contains("mozilla, system, none"), "{e}");
    }

    #[test]
    fn der_sequence_lengths() {
        assert_eq!(der_sequence(&[]), vec![0x30, 0x00]);
        assert_eq!(der_sequence(&[1; 0x7f])[..2], [0x30, 0x7f]);
        assert_eq!(der_sequence(&[1; 0x80])[..3], [0x30, 0x81, 0x80]);
        assert_eq!(der_sequence(&[1; 0x100])[..4], [0x30, 0x82, 0x01, 0x00]);
    }

    #[test]
    fn anchors_from_ders() {
        let a = root("Anchor Root A");
        let b = root("Anchor Root B");
        let store = TrustStore::from_ders(
            std::slice::from_ref(&a.der),
            AnchorOrigin::CaFile("ca.pem".into()),
        )
        .unwrap();
        assert_eq!(store.anchors.len(), 1);
        assert_eq!(store.kind_label, "CA file ca.pem");
        let anchor = &store.anchors[0];
        let a_info = CertInfo::from_der(&a.der).unwrap();
        assert_eq!(anchor.subject_raw, a_info.subject_raw);
        assert_eq!(anchor.spki_der, a_info.spki_der);
        assert_eq!(anchor.der.as_deref(), Some(a.der.as_slice()));
        assert_eq!(anchor.name(), "CN=Anchor Root A, O=certscope tests");
        assert_eq!(anchor.cn().as_deref(), Some("Anchor Root A"));
        assert!(!anchor.origin.is_public());
        assert_eq!(anchor.origin.describe(), "CA file ca.pem");

        let leaf_a = leaf(&a, "a.test");
        let leaf_b = leaf(&b, "b.test");
        let found = store.issuers_of(&leaf_a);
        assert_eq!(found.len(), 1);
        assert!(store.issuers_of(&leaf_b).is_empty());

        // Same name, different key: not an issuer.
        let imposter = root("Anchor Root A");
        let leaf_imp = leaf(&imposter, "a.test");
        assert_eq!(leaf_imp.issuer_raw, anchor.subject_raw);
        assert!(store.issuers_of(&leaf_imp).is_empty());

        assert!(store.contains(&a_info).is_some());
        assert!(store.contains(&leaf_a).is_none());
        assert!(
            store
                .contains(&CertInfo::from_der(&imposter.der).unwrap())
                .is_none()
        );
        assert!(
            store
                .contains(&CertInfo::from_der(&b.der).unwrap())
                .is_none()
        );
        assert_eq!(store.webpki_anchors().len(), 1);

        assert!(TrustStore::from_ders(&[b"junk".to_vec()], AnchorOrigin::System).is_err());
    }

    #[test]
    fn load_ca_files() {
        let a = root("File Root");
        let dir = tempfile::tempdir().unwrap();

        let good = dir.path().join("ca.pem");
        std::fs::File::create(&good)
            .unwrap()
            .write_all(format!("preamble text\n{}", a.pem).as_bytes())
            .unwrap();
        let store = TrustStore::load(StoreKind::None, std::slice::from_ref(&good)).unwrap();
        assert_eq!(store.anchors.len(), 1);
        assert_eq!(store.kind_label, "CA file ca.pem");
        assert_eq!(store.anchors[0].origin, AnchorOrigin::CaFile(good.clone()));
        assert!(store.issuers_of(&leaf(&a, "x.test")).len() == 1);

        let missing = dir.path().join("missing.pem");
        let e = TrustStore::load(StoreKind::None, &[missing]).unwrap_err();
        assert!(
            e.starts_with("cannot read CA file ") && e.contains("missing.pem"),
            "{e}"
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, b"").unwrap();
        let e = TrustStore::load(StoreKind::None, &[empty]).unwrap_err();
        assert!(e.contains("empty.pem") && e.contains("empty"), "{e}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, b"this is not a certificate").unwrap();
        let e = TrustStore::load(StoreKind::None, &[garbage]).unwrap_err();
        assert!(
            e.contains("garbage.pem") && e.contains("no certificate"),
            "{e}"
        );

        let keyfile = dir.path().join("key.pem");
        std::fs::write(&keyfile, a.key.serialize_pem()).unwrap();
        let e = TrustStore::load(StoreKind::None, &[keyfile]).unwrap_err();
        assert!(e.contains("key.pem") && e.contains("PRIVATE KEY"), "{e}");

        let none = TrustStore::load(StoreKind::None, &[]).unwrap();
        assert!(none.anchors.is_empty());
        assert_eq!(none.kind_label, "none");
    }

    #[test]
    fn mozilla_store() {
        let a = root("Extra Root");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("extra.pem");
        std::fs::write(&file, &a.pem).unwrap();
        let store = TrustStore::load(StoreKind::Mozilla, &[file]).unwrap();
        assert!(store.anchors.len() > 100);
        assert_eq!(store.kind_label, "mozilla + CA file extra.pem");
        let isrg: Vec<&Anchor> = store
            .anchors
            .iter()
            .filter(|a| a.name().contains("ISRG"))
            .collect();
        assert!(!isrg.is_empty());
        assert!(isrg.iter().all(|a| a.origin == AnchorOrigin::Mozilla));
        // The whole certificate is known for every Mozilla anchor (from
        // webpki-root-certs), and it is the anchor's own certificate.
        let mozilla: Vec<&Anchor> = store
            .anchors
            .iter()
            .filter(|a| a.origin == AnchorOrigin::Mozilla)
            .collect();
        let missing: Vec<String> = mozilla
            .iter()
            .filter(|a| a.der.is_none())
            .map(|a| a.name())
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {} Mozilla roots lack their certificate: {missing:?}",
            missing.len(),
            mozilla.len()
        );
        for a in &isrg {
            let info = CertInfo::from_der(a.der.as_deref().unwrap()).unwrap();
            assert_eq!(info.subject_raw, a.subject_raw);
            assert_eq!(info.spki_der, a.spki_der);
            assert!(store.contains(&info).is_some());
        }
        assert!(isrg[0].origin.is_public());
        // Re-wrapped SPKIs parse as SubjectPublicKeyInfo and names as Names.
        for anchor in &store.anchors {
            use x509_parser::prelude::FromDer;
            let (rest, _) =
                x509_parser::x509::SubjectPublicKeyInfo::from_der(&anchor.spki_der).unwrap();
            assert!(rest.is_empty());
            assert!(crate::x509::cert::name_to_string(&anchor.subject_raw).is_some());
        }
        assert!(
            store.anchors.last().unwrap().origin
                == AnchorOrigin::CaFile(dir.path().join("extra.pem"))
        );
    }
}
