//! Build the path a client builds from the presented certificates (and
//! those fetched by AIA) to the trust store: which path they form, where it
//! ends (a trusted anchor, an untrusted self-signed root, or a missing
//! issuer), and what was sent out of order, twice, or for nothing.
//!
//! Path building: webpki first (it builds paths with backtracking, within
//! its own budget); when it finds a valid path, that is the path. When it
//! finds none, certscope searches every candidate issuer itself, depth
//! first with backtracking, bounded in depth, paths and steps, and keeps
//! the path with the fewest faults, so each fault is named on the
//! certificate at fault of the path a client gets closest with.
//!
//! webpki answers `UnknownIssuer` for a self-signed leaf, an untrusted root
//! and a missing intermediate alike; the search tells them apart.

use std::sync::Arc;

use crate::x509::cert::CertInfo;
use crate::x509::path::{Defect, defects};
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

impl PathEnd {
    fn rank(&self) -> u8 {
        match self {
            PathEnd::Anchored { .. } => 0,
            PathEnd::SelfSignedUntrusted { .. } => 1,
            PathEnd::IssuerMissing { .. } => 2,
        }
    }
}

/// The result of building a path over a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainWalk {
    /// Indices on the path, leaf first (the anchor excluded).
    pub path: Vec<usize>,
    pub end: PathEnd,
    /// Presented certificates on no path (extras), excluding duplicates
    /// and a sent anchor.
    pub unused: Vec<usize>,
    /// The extras that are issuers of a certificate on the path all the
    /// same (a cross-certificate, another copy of an intermediate): a
    /// client that builds this path ignores them.
    pub alternates: Vec<usize>,
    /// Presented indices that repeat an earlier certificate byte for byte.
    pub duplicates: Vec<usize>,
    /// The path does not follow the presented order (leaf, its issuer, ...).
    pub out_of_order: bool,
    /// A presented certificate carries the issuer's name but its key does not
    /// verify the child's signature: `(child, claimed_parent)`.
    pub bad_signature: Option<(usize, usize)>,
    /// The faults of this path (none when `valid`, except what webpki does
    /// not check).
    pub defects: Vec<Defect>,
    /// Complete candidate paths the search weighed (0: webpki's own path).
    pub considered: usize,
}

/// Longest path searched (leaf and intermediates), as webpki's limit.
const MAX_DEPTH: usize = 8;
/// Complete candidate paths kept.
const MAX_PATHS: usize = 64;
/// Search steps (a certificate tried at a position) before giving up.
const MAX_STEPS: usize = 4096;

/// Build the path over `certs` (presented order, leaf first, then any
/// fetched from AIA) to `trust` at `now`, without webpki's help. The first
/// `presented` were sent by the server: only they count for order,
/// duplicates and extras. `certs` must not be empty.
pub fn walk(certs: &[Arc<CertInfo>], presented: usize, trust: &TrustStore, now: i64) -> ChainWalk {
    let duplicates = duplicates(certs);
    let mut s = Search {
        certs,
        trust,
        presented,
        duplicates: &duplicates,
        steps: 0,
        found: Vec::new(),
    };
    s.dfs(&mut vec![0]);
    let considered = s.found.len();
    let best = s
        .found
        .into_iter()
        .map(|(path, end, bad)| {
            let d = defects(certs, &path, now, anchor_cert(trust, &end).as_deref());
            (path, end, bad, d)
        })
        .min_by_key(|(path, end, _, d)| {
            let fetched = path.iter().filter(|&&i| i >= presented).count();
            let disorder = path.iter().enumerate().filter(|(k, i)| k != *i).count();
            let depth = if end.rank() == 0 {
                0
            } else {
                usize::MAX - path.len()
            };
            (end.rank(), d.len(), fetched, depth, disorder)
        });
    let (path, end, bad_signature, defects) =
        best.unwrap_or((vec![0], PathEnd::IssuerMissing { top: 0 }, None, Vec::new()));
    finish(
        certs,
        presented,
        trust,
        duplicates,
        Built {
            path,
            end,
            bad_signature,
            defects,
            considered,
        },
    )
}

/// The path webpki validated (`path`: indices, leaf first; `anchor`: index
/// into the store).
fn walk_valid(
    certs: &[Arc<CertInfo>],
    presented: usize,
    trust: &TrustStore,
    path: Vec<usize>,
    anchor: usize,
    now: i64,
) -> ChainWalk {
    let duplicates = duplicates(certs);
    let end = PathEnd::Anchored {
        anchor,
        sent_as: None,
    };
    let defects = defects(certs, &path, now, anchor_cert(trust, &end).as_deref());
    finish(
        certs,
        presented,
        trust,
        duplicates,
        Built {
            path,
            end,
            bad_signature: None,
            defects,
            considered: 0,
        },
    )
}

/// The certificate of the anchor a path ends at, when known.
fn anchor_cert(trust: &TrustStore, end: &PathEnd) -> Option<Arc<CertInfo>> {
    match end {
        PathEnd::Anchored { anchor, .. } => trust.anchors.get(*anchor).and_then(|a| a.cert()),
        _ => None,
    }
}

fn duplicates(certs: &[Arc<CertInfo>]) -> Vec<usize> {
    (0..certs.len())
        .filter(|&i| certs[..i].iter().any(|c| c.der == certs[i].der))
        .collect()
}

/// The path chosen, before the certificates around it are sorted out.
struct Built {
    path: Vec<usize>,
    end: PathEnd,
    bad_signature: Option<(usize, usize)>,
    defects: Vec<Defect>,
    considered: usize,
}

/// The walk around a chosen path: the sent anchor, extras, alternates,
/// duplicates and order.
fn finish(
    certs: &[Arc<CertInfo>],
    presented: usize,
    trust: &TrustStore,
    duplicates: Vec<usize>,
    built: Built,
) -> ChainWalk {
    let Built {
        path,
        mut end,
        bad_signature,
        defects,
        considered,
    } = built;
    // A sent certificate that is the anchor itself (not merely one with
    // its name and key, such as a cross-certificate).
    if let PathEnd::Anchored { anchor, sent_as } = &mut end
        && let Some(a) = trust.anchors.get(*anchor)
        && !(path.len() == 1 && trust.is_anchor_cert(&certs[0]).is_some())
    {
        *sent_as = (0..certs.len().min(presented))
            .find(|j| !path.contains(j) && trust.anchor_is(a, &certs[*j]));
    }
    let sent_anchor = match &end {
        PathEnd::Anchored { sent_as, .. } => *sent_as,
        _ => None,
    };
    let unused: Vec<usize> = (0..certs.len().min(presented))
        .filter(|i| !path.contains(i) && !duplicates.contains(i) && Some(*i) != sent_anchor)
        .collect();
    let alternates: Vec<usize> = unused
        .iter()
        .copied()
        .filter(|&u| {
            path.iter().any(|&p| {
                p != u
                    && certs[u].could_issue(&certs[p])
                    && certs[p].signature_verified_by(&certs[u].spki_der)
            })
        })
        .collect();
    let mut order: Vec<usize> = path.iter().copied().filter(|i| *i < presented).collect();
    if let Some(s) = sent_anchor {
        order.push(s);
    }
    // Out of order: the path's certificates are not sent leaf first, each
    // after the one it issued (extras between them are named on their own).
    let out_of_order =
        order.first().is_some_and(|&f| f != 0) || order.windows(2).any(|w| w[0] > w[1]);
    let duplicates: Vec<usize> = duplicates.into_iter().filter(|i| *i < presented).collect();
    ChainWalk {
        path,
        end,
        unused,
        alternates,
        duplicates,
        out_of_order,
        bad_signature,
        defects,
        considered,
    }
}

type Found = (Vec<usize>, PathEnd, Option<(usize, usize)>);

struct Search<'a> {
    certs: &'a [Arc<CertInfo>],
    trust: &'a TrustStore,
    presented: usize,
    duplicates: &'a [usize],
    steps: usize,
    found: Vec<Found>,
}

impl Search<'_> {
    fn full(&self) -> bool {
        self.found.len() >= MAX_PATHS || self.steps >= MAX_STEPS
    }

    fn dfs(&mut self, path: &mut Vec<usize>) {
        if self.full() {
            return;
        }
        self.steps += 1;
        let cur = *path.last().unwrap_or(&0);
        let Some(c) = self.certs.get(cur) else {
            return;
        };
        let c = c.clone();
        // The leaf is itself an anchor (a trusted self-signed certificate).
        if path.len() == 1
            && let Some(a) = self.trust.contains(&c)
        {
            let anchor = anchor_index(self.trust, a);
            self.found.push((
                path.clone(),
                PathEnd::Anchored {
                    anchor,
                    sent_as: None,
                },
                None,
            ));
            return;
        }
        let anchors: Vec<usize> = self
            .trust
            .issuers_of(&c)
            .into_iter()
            .map(|a| anchor_index(self.trust, a))
            .collect();
        let anchored = !anchors.is_empty();
        for anchor in &anchors {
            self.found.push((
                path.clone(),
                PathEnd::Anchored {
                    anchor: *anchor,
                    sent_as: None,
                },
                None,
            ));
        }
        if c.is_self_signed() {
            if anchors.is_empty() {
                self.found.push((
                    path.clone(),
                    PathEnd::SelfSignedUntrusted { top: cur },
                    None,
                ));
            }
            return;
        }
        if path.len() >= MAX_DEPTH {
            if anchors.is_empty() {
                self.found
                    .push((path.clone(), PathEnd::IssuerMissing { top: cur }, None));
            }
            return;
        }
        // Candidate issuers: by name, not already on the path (nor the same
        // name and key as one on it: a loop of cross-certificates), the
        // next one sent first, then the rest sent, then those fetched.
        let next = path.len();
        let mut candidates: Vec<usize> = (0..self.certs.len())
            .filter(|j| {
                !path.contains(j)
                    && !self.duplicates.contains(j)
                    && self.certs[*j].could_issue(&c)
                    && (!anchored || self.trust.contains(&self.certs[*j]).is_none())
                    && !path.iter().any(|&p| {
                        self.certs[p].subject_raw == self.certs[*j].subject_raw
                            && self.certs[p].spki_der == self.certs[*j].spki_der
                    })
            })
            .collect();
        candidates.sort_by_key(|&j| (j != next, j >= self.presented, j));
        let mut verified = Vec::new();
        for &j in &candidates {
            if self.full() {
                break;
            }
            self.steps += 1;
            if c.signature_verified_by(&self.certs[j].spki_der) {
                verified.push(j);
            }
        }
        if verified.is_empty() {
            if anchors.is_empty() {
                let bad = candidates.first().map(|&j| (cur, j));
                self.found
                    .push((path.clone(), PathEnd::IssuerMissing { top: cur }, bad));
            }
            return;
        }
        for j in verified {
            if self.full() {
                break;
            }
            path.push(j);
            self.dfs(path);
            path.pop();
        }
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
    /// The walk over `certs` at an instant, made once per instant and
    /// again only after an extension.
    walk: Option<(i64, ChainWalk)>,
    /// webpki's verdict on the certificates held (without the name check)
    /// at an instant, made once: `(instant, result)`.
    webpki: Option<(i64, Result<Verified, webpki::Error>)>,
}

/// The path webpki validated: indices into `Chain::certs` (leaf first) and
/// the anchor's index in the store.
#[derive(Debug, Clone)]
struct Verified {
    path: Vec<usize>,
    anchor: usize,
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
            self.webpki = None;
        }
        added
    }

    /// The path over the certificates held at `now`, built on first use
    /// for that instant. `None` when nothing parsed.
    pub fn walk(&mut self, trust: &TrustStore, now: i64) -> Option<&ChainWalk> {
        if self.certs.is_empty() {
            return None;
        }
        if self.walk.as_ref().is_none_or(|(at, _)| *at != now) {
            let w = match self.verdict(trust, now) {
                Ok(v) => walk_valid(&self.certs, self.presented, trust, v.path, v.anchor, now),
                Err(_) => walk(&self.certs, self.presented, trust, now),
            };
            self.walk = Some((now, w));
        }
        self.walk.as_ref().map(|(_, w)| w)
    }

    /// webpki's path validation of the certificates held (those sent, then
    /// those fetched) at `now`, with server-auth usage and no name check;
    /// made once per instant. On success the links it verified are recorded
    /// on the certificates, so no signature is verified a second time.
    pub fn webpki_verdict(&mut self, trust: &TrustStore, now: i64) -> Result<(), webpki::Error> {
        self.verdict(trust, now).map(|_| ())
    }

    fn verdict(&mut self, trust: &TrustStore, now: i64) -> Result<Verified, webpki::Error> {
        if let Some((at, r)) = &self.webpki
            && *at == now
        {
            return r.clone();
        }
        let r = self.run_webpki(trust, now);
        self.webpki = Some((now, r.clone()));
        r
    }

    fn run_webpki(&self, trust: &TrustStore, now: i64) -> Result<Verified, webpki::Error> {
        use rustls::pki_types::{CertificateDer, UnixTime};
        let algs = crate::x509::provider()
            .signature_verification_algorithms
            .all;
        if !self.leaf_parsed {
            return Err(webpki::Error::BadDer);
        }
        let Some(leaf_info) = self.certs.first() else {
            return Err(webpki::Error::BadDer);
        };
        let leaf = CertificateDer::from(leaf_info.der.as_slice());
        let inter: Vec<CertificateDer<'_>> = self.certs[1..]
            .iter()
            .map(|c| CertificateDer::from(c.der.as_slice()))
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
        // The path as indices, and each verified link handed on: child ->
        // issuer SPKI.
        let index_of = |der: &[u8]| self.certs.iter().position(|c| c.der == der);
        let mut indices = vec![0usize];
        for c in path.intermediate_certificates() {
            if let Some(i) = index_of(c.der().as_ref()) {
                indices.push(i);
            }
        }
        let anchor_spki = path.anchor().subject_public_key_info.as_ref();
        let anchor_subject = path.anchor().subject.as_ref();
        let anchor = trust
            .webpki_anchors()
            .iter()
            .position(|a| {
                a.subject_public_key_info.as_ref() == anchor_spki
                    && a.subject.as_ref() == anchor_subject
            })
            .unwrap_or(0);
        for (k, &child) in indices.iter().enumerate() {
            let issuer_spki = match indices.get(k + 1) {
                Some(&parent) => Some(self.certs[parent].spki_der.clone()),
                None => trust.anchors.get(anchor).map(|a| a.spki_der.clone()),
            };
            if let Some(spki) = issuer_spki {
                self.certs[child].note_verified_by(&spki);
            }
        }
        Ok(Verified {
            path: indices,
            anchor,
        })
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
        assert!(chain.webpki_verdict(&trust, NOW).is_ok());
        // Both links are now known good without another verification.
        assert_eq!(
            chain.certs[0].sig_memo.get(&chain.certs[1].spki_der),
            Some(crate::x509::cert::SigCheck::Valid)
        );
        assert_eq!(
            chain.certs[1].sig_memo.get(&trust.anchors[0].spki_der),
            Some(crate::x509::cert::SigCheck::Valid)
        );
        let walk = chain.walk(&trust, NOW).expect("a walk");
        assert!(matches!(walk.end, PathEnd::Anchored { .. }));
        assert_eq!(walk.path, [0, 1]);
        // An expired leaf: webpki refuses, nothing is recorded as verified.
        let old = pki.chain(&["a.test"], NOW - 9 * 86_400, NOW - 86_400, |_| {});
        let mut chain = Chain::parse(&old);
        assert!(chain.webpki_verdict(&trust, NOW).is_err());
        assert_eq!(chain.certs[0].sig_memo.get(&chain.certs[1].spki_der), None);
    }
}
