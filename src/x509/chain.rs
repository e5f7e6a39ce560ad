//! Walk the presented certificates to the trust store: which path they form,
//! where it ends (a trusted anchor, an untrusted self-signed root, or a
//! missing issuer), and what was sent out of order, twice, or for nothing.
//!
//! webpki answers `UnknownIssuer` for a self-signed leaf, an untrusted root
//! and a missing intermediate alike; this walk tells them apart.

use std::sync::Arc;

use crate::x509::cert::CertInfo;
use crate::x509::trust::TrustStore;

/// Where the path built from the presented certificates ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathEnd {
    /// A trust anchor issued the top of the path (or the top is an anchor).
    /// `anchor` indexes `TrustStore::anchors`; `sent_as` is the presented
    /// index of the anchor's own certificate when the server sent it too.
    Anchored {
        anchor: usize,
        sent_as: Option<usize>,
    },
    /// The top of the path is self-signed and not in the trust store.
    SelfSignedUntrusted { top: usize },
    /// The top's issuer was neither sent nor found in the trust store.
    IssuerMissing { top: usize },
}

/// The result of walking a presented chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainWalk {
    /// Presented indices on the path, leaf first (the sent anchor excluded).
    pub path: Vec<usize>,
    pub end: PathEnd,
    /// Presented certificates that are on no path (extras), excluding
    /// duplicates and a sent anchor.
    pub unused: Vec<usize>,
    /// Presented indices that repeat an earlier certificate byte for byte.
    pub duplicates: Vec<usize>,
    /// The path does not follow the presented order (leaf, its issuer, ...).
    pub out_of_order: bool,
    /// A presented certificate carries the issuer's name but its key does not
    /// verify the child's signature: `(child, claimed_parent)`.
    pub bad_signature: Option<(usize, usize)>,
}

const MAX_DEPTH: usize = 12;

/// Walk `certs` (presented order, leaf first, then any fetched from AIA)
/// against `trust`. The first `presented` were sent by the server: only
/// they count for order, duplicates and extras. `certs` must not be empty.
pub fn walk(certs: &[Arc<CertInfo>], presented: usize, trust: &TrustStore) -> ChainWalk {
    let mut duplicates = Vec::new();
    for i in 0..certs.len() {
        if certs[..i].iter().any(|c| c.der == certs[i].der) {
            duplicates.push(i);
        }
    }
    let mut path = vec![0usize];
    let mut bad_signature = None;
    let end = loop {
        let cur = *path.last().unwrap_or(&0);
        let Some(c) = certs.get(cur) else {
            break PathEnd::IssuerMissing { top: cur };
        };
        // The certificate itself is an anchor (e.g. a trusted self-signed leaf,
        // or a sent root): the path ends here.
        if let Some(a) = trust.contains(c) {
            let anchor = anchor_index(trust, a);
            if cur == 0 {
                break PathEnd::Anchored {
                    anchor,
                    sent_as: None,
                };
            }
            path.pop();
            break PathEnd::Anchored {
                anchor,
                sent_as: Some(cur),
            };
        }
        if let Some(a) = trust.issuers_of(c).first() {
            let anchor = anchor_index(trust, a);
            // If the server also sent that anchor's certificate, note where.
            let sent_as = certs
                .iter()
                .enumerate()
                .find(|(j, s)| {
                    !path.contains(j)
                        && trust
                            .contains(s)
                            .is_some_and(|x| anchor_index(trust, x) == anchor)
                })
                .map(|(j, _)| j);
            break PathEnd::Anchored { anchor, sent_as };
        }
        if c.is_self_signed() {
            break PathEnd::SelfSignedUntrusted { top: cur };
        }
        if path.len() >= MAX_DEPTH {
            break PathEnd::IssuerMissing { top: cur };
        }
        let candidates: Vec<usize> = (0..certs.len())
            .filter(|j| !path.contains(j) && !duplicates.contains(j) && certs[*j].could_issue(c))
            .collect();
        let verified: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|j| c.signature_verified_by(&certs[*j].spki_der))
            .collect();
        let next = path.len();
        let pick = if verified.contains(&next) {
            Some(next)
        } else {
            verified.first().copied()
        };
        match pick {
            Some(j) => path.push(j),
            None => {
                if let Some(j) = candidates.first() {
                    bad_signature = Some((cur, *j));
                }
                break PathEnd::IssuerMissing { top: cur };
            }
        }
    };
    let sent_anchor = match &end {
        PathEnd::Anchored { sent_as, .. } => *sent_as,
        _ => None,
    };
    let unused: Vec<usize> = (0..certs.len().min(presented))
        .filter(|i| !path.contains(i) && !duplicates.contains(i) && Some(*i) != sent_anchor)
        .collect();
    let mut order: Vec<usize> = path.iter().copied().filter(|i| *i < presented).collect();
    if let Some(s) = sent_anchor {
        order.push(s);
    }
    let out_of_order = order.iter().enumerate().any(|(pos, idx)| pos != *idx);
    let duplicates: Vec<usize> = duplicates.into_iter().filter(|i| *i < presented).collect();
    ChainWalk {
        path,
        end,
        unused,
        duplicates,
        out_of_order,
        bad_signature,
    }
}

fn anchor_index(trust: &TrustStore, a: &crate::x509::trust::Anchor) -> usize {
    trust
        .anchors
        .iter()
        .position(|x| std::ptr::eq(x, a))
        .unwrap_or(0)
}

/// Issuer (CA) certificates parsed once per run: a fleet's servers share a
/// few intermediates, while each leaf is its own and is not kept. Bounded.
#[derive(Debug, Default)]
pub struct IssuerCache {
    map: std::sync::Mutex<std::collections::HashMap<Vec<u8>, Arc<CertInfo>>>,
}

impl IssuerCache {
    /// At most this many issuers are kept; later ones are parsed each time.
    const MAX: usize = 1024;

    fn get(&self, der: &[u8]) -> Option<Arc<CertInfo>> {
        let m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        m.get(der).cloned()
    }

    fn put(&self, c: &Arc<CertInfo>) {
        if !c.is_ca {
            return;
        }
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() < Self::MAX {
            m.entry(c.der.clone()).or_insert_with(|| c.clone());
        }
    }
}

/// The certificates of one observation, each parsed once: those presented
/// (in the order sent, unparsable ones left out and listed), then those
/// fetched from AIA, and the path built over them. The fetch stage extends
/// it when AIA brings an issuer; the diagnosis reads it as it is.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    /// Presented certificates that parsed (sent order), then fetched ones.
    pub certs: Vec<Arc<CertInfo>>,
    /// `certs[..presented]` were sent.
    pub presented: usize,
    /// Presented certificates that could not be parsed: (index as sent, why).
    pub unparsable: Vec<(usize, String)>,
    /// Whether the first certificate sent (the leaf) parsed.
    pub leaf_parsed: bool,
    /// The AIA URL each fetched certificate came from (`certs[presented + k]`).
    pub fetched_from: Vec<String>,
    /// The walk over `certs`, made once and again only after an extension.
    walk: Option<ChainWalk>,
    /// webpki's verdict on the presented chain (without the name check)
    /// at an instant, made once: `(instant, result)`.
    webpki: Option<(i64, Result<(), webpki::Error>)>,
}

impl Chain {
    /// Parse what was presented (leaf first), once.
    pub fn parse(ders: &[Vec<u8>]) -> Chain {
        Chain::parse_with(ders, None)
    }

    /// [`Chain::parse`], taking issuer certificates already parsed in this
    /// run from `issuers` (and adding new ones to it).
    pub fn parse_with(ders: &[Vec<u8>], issuers: Option<&IssuerCache>) -> Chain {
        let mut chain = Chain::default();
        for (i, der) in ders.iter().enumerate() {
            let parsed = match issuers.and_then(|c| c.get(der)) {
                Some(c) => Ok(c),
                None => CertInfo::from_der(der).map(Arc::new).inspect(|c| {
                    if let Some(cache) = issuers {
                        cache.put(c);
                    }
                }),
            };
            match parsed {
                Ok(c) => chain.certs.push(c),
                Err(e) => chain.unparsable.push((i, e.to_string())),
            }
        }
        chain.presented = chain.certs.len();
        chain.leaf_parsed =
            !ders.is_empty() && chain.unparsable.first().is_none_or(|(i, _)| *i != 0);
        chain
    }

    /// Add the certificates an AIA URL served (each parsed once; ones
    /// already held are skipped). Returns how many were new.
    pub fn extend_fetched(&mut self, ders: &[Vec<u8>], url: &str) -> usize {
        // A big bundle (a CA's whole PKCS#7) contributes only what could
        // issue a certificate held; a small one is kept whole, so a wrong
        // certificate served is shown and named.
        let keep_all = ders.len() <= 8;
        let mut added = 0;
        for d in ders {
            if self.certs.iter().any(|c| &c.der == d) {
                continue;
            }
            if let Ok(c) = CertInfo::from_der(d) {
                if !keep_all && !self.certs.iter().any(|held| c.could_issue(held)) {
                    continue;
                }
                self.certs.push(Arc::new(c));
                self.fetched_from.push(url.to_string());
                added += 1;
            }
        }
        if added > 0 {
            self.walk = None;
        }
        added
    }

    /// The path over the certificates held, built on first use. `None`
    /// when nothing parsed.
    pub fn walk(&mut self, trust: &TrustStore) -> Option<&ChainWalk> {
        if self.certs.is_empty() {
            return None;
        }
        if self.walk.is_none() {
            self.walk = Some(walk(&self.certs, self.presented, trust));
        }
        self.walk.as_ref()
    }

    /// webpki's path validation of the presented certificates at `now`
    /// (server-auth usage; no name check), made once per instant. On
    /// success the links it verified are recorded on the certificates, so
    /// the walk does not verify those signatures a second time.
    pub fn webpki_verdict(
        &mut self,
        ders: &[Vec<u8>],
        trust: &TrustStore,
        algs: &[&dyn rustls::pki_types::SignatureVerificationAlgorithm],
        now: i64,
    ) -> Result<(), webpki::Error> {
        if let Some((at, r)) = &self.webpki
            && *at == now
        {
            return r.clone();
        }
        let r = self.run_webpki(ders, trust, algs, now);
        self.webpki = Some((now, r.clone()));
        r
    }

    fn run_webpki(
        &self,
        ders: &[Vec<u8>],
        trust: &TrustStore,
        algs: &[&dyn rustls::pki_types::SignatureVerificationAlgorithm],
        now: i64,
    ) -> Result<(), webpki::Error> {
        use rustls::pki_types::{CertificateDer, UnixTime};
        let Some(leaf_der) = ders.first() else {
            return Err(webpki::Error::BadDer);
        };
        let leaf = CertificateDer::from(leaf_der.as_slice());
        let inter: Vec<CertificateDer<'_>> = ders[1..]
            .iter()
            .map(|d| CertificateDer::from(d.as_slice()))
            .collect();
        let anchors = trust.webpki_anchors();
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.max(0) as u64));
        let ee = webpki::EndEntityCert::try_from(&leaf)?;
        let path = ee.verify_for_usage(
            algs,
            anchors,
            &inter,
            time,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )?;
        // Hand the verified links on: child DER -> issuer SPKI.
        let mids: Vec<CertificateDer<'_>> =
            path.intermediate_certificates().map(|c| c.der()).collect();
        let mut links: Vec<&[u8]> = vec![leaf_der.as_slice()];
        links.extend(mids.iter().map(|d| d.as_ref()));
        let anchor_spki = path.anchor().subject_public_key_info.as_ref();
        let spki_of = |der: &[u8]| -> Option<Vec<u8>> {
            self.certs
                .iter()
                .find(|c| c.der == der)
                .map(|c| c.spki_der.clone())
        };
        for (k, child) in links.iter().enumerate() {
            let issuer_spki = match links.get(k + 1) {
                Some(parent) => spki_of(parent),
                None => trust
                    .anchors
                    .iter()
                    .find(|a| a.ta.subject_public_key_info.as_ref() == anchor_spki)
                    .map(|a| a.spki_der.clone()),
            };
            if let (Some(spki), Some(c)) =
                (issuer_spki, self.certs.iter().find(|c| c.der == *child))
            {
                c.note_verified_by(&spki);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestPki;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn issuers_are_parsed_once_per_run_and_leaves_are_not_kept() {
        let pki = TestPki::new();
        let a = pki.chain(&["a.test"], NOW - 86_400, NOW + 86_400, |_| {});
        let b = pki.chain(&["b.test"], NOW - 86_400, NOW + 86_400, |_| {});
        let cache = IssuerCache::default();
        let first = Chain::parse_with(&a, Some(&cache));
        assert_eq!(first.certs, Chain::parse(&a).certs);
        // The intermediate is kept, the leaf is not.
        assert!(cache.get(&a[1]).is_some());
        assert!(cache.get(&a[0]).is_none());
        let second = Chain::parse_with(&b, Some(&cache));
        assert_eq!(second.certs[1], first.certs[1]);
        assert_eq!(second.certs[0].subject_cn.as_deref(), Some("b.test"));
        assert_eq!(second.presented, 2);
        assert!(second.leaf_parsed);
    }

    #[test]
    fn webpki_hands_its_verified_links_to_the_walk() {
        let pki = TestPki::new();
        let ders = pki.chain(&["a.test"], NOW - 86_400, NOW + 86_400, |_| {});
        let trust = pki.trust();
        let mut chain = Chain::parse(&ders);
        let algs = crate::x509::provider()
            .signature_verification_algorithms
            .all;
        assert!(chain.webpki_verdict(&ders, &trust, algs, NOW).is_ok());
        // Both links are now known good without another verification.
        assert_eq!(
            chain.certs[0].sig_memo.get(&chain.certs[1].spki_der),
            Some(crate::x509::cert::SigCheck::Valid)
        );
        assert_eq!(
            chain.certs[1].sig_memo.get(&trust.anchors[0].spki_der),
            Some(crate::x509::cert::SigCheck::Valid)
        );
        let walk = chain.walk(&trust).expect("a walk");
        assert!(matches!(walk.end, PathEnd::Anchored { .. }));
        assert_eq!(walk.path, [0, 1]);
        // An expired leaf: webpki refuses, nothing is recorded as verified.
        let old = pki.chain(&["a.test"], NOW - 9 * 86_400, NOW - 86_400, |_| {});
        let mut chain = Chain::parse(&old);
        assert!(chain.webpki_verdict(&old, &trust, algs, NOW).is_err());
        assert_eq!(chain.certs[0].sig_memo.get(&chain.certs[1].spki_der), None);
    }
}
