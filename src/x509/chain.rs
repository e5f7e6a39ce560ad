//! Walk the presented certificates to the trust store: which path they form,
//! where it ends (a trusted anchor, an untrusted self-signed root, or a
//! missing issuer), and what was sent out of order, twice, or for nothing.
//!
//! webpki answers `UnknownIssuer` for a self-signed leaf, an untrusted root
//! and a missing intermediate alike; this walk tells them apart.

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
pub fn walk(certs: &[CertInfo], presented: usize, trust: &TrustStore) -> ChainWalk {
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
