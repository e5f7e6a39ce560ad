//! What is wrong with one certification path, each fault on the
//! certificate at fault: checks that run on their own (none stops
//! another), used both to choose among candidate paths and to name every
//! fault of the path chosen.
//!
//! The checks are the ones webpki (and browsers) make on the issuers of a
//! server certificate: each issuer is a CA, may sign certificates, allows
//! as many CAs below it as the path has, allows server authentication, and
//! carries no critical extension a client does not understand; the
//! leaf's names fall inside every issuer's name constraints; every
//! certificate is within its dates and signed with a hash that cannot be
//! forged.

use std::net::IpAddr;
use std::sync::Arc;

use crate::x509::cert::{CertInfo, San, SigHash};

/// Critical extensions a client understands (webpki's list): basic
/// constraints, key usage, subjectAltName, name constraints, CRL
/// distribution points, extended key usage, authority information access.
pub const KNOWN_CRITICAL: &[&str] = &[
    "2.5.29.15",
    "2.5.29.17",
    "2.5.29.19",
    "2.5.29.30",
    "2.5.29.31",
    "2.5.29.37",
    "1.3.6.1.5.5.7.1.1",
];

/// Name-constraint comparisons a client makes before it gives up (webpki's
/// budget); certscope stops at the same point.
pub const NAME_BUDGET: usize = 250_000;

/// One fault of a path, on `cert` (an index into the chain's certificates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defect {
    pub cert: usize,
    pub kind: DefectKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefectKind {
    /// An issuer without basicConstraints CA:TRUE.
    NotCa,
    /// An issuer whose keyUsage lacks keyCertSign.
    NoCertSign,
    /// An issuer's pathLenConstraint allows `limit` CAs below it; the path
    /// has `below`.
    PathLength {
        limit: u32,
        below: usize,
    },
    /// An issuer whose extendedKeyUsage does not allow serverAuth.
    IssuerPurpose,
    /// A critical extension clients do not understand (its dotted OID).
    UnknownCritical {
        oid: String,
        name: String,
    },
    /// A name of the leaf outside an issuer's name constraints.
    Name {
        name: String,
        /// The subtree it violates ("DNS:.example.com"), or the permitted
        /// list it falls outside of.
        constraint: String,
        excluded: bool,
    },
    /// Checking the leaf's names against this CA's constraints takes more
    /// comparisons than clients make (webpki stops at 250,000, against
    /// denial of service): they refuse the chain.
    NameBudget {
        names: usize,
        constraints: usize,
    },
    /// Outside its validity dates at the instant judged.
    Expired,
    NotYetValid,
    /// Signed with MD5 or SHA-1 (below a root).
    WeakHash,
}

/// `Defect::cert` of a fault of the trust anchor that ends the path (its
/// name constraints, which clients apply; nothing else of an anchor is
/// judged).
pub const ANCHOR: usize = usize::MAX;

/// Every fault of `path` (indices into `certs`, leaf first) at `now`, and
/// of the name constraints of `anchor`, the trust anchor's certificate
/// when the path ends at one and it is known.
pub fn defects(
    certs: &[Arc<CertInfo>],
    path: &[usize],
    now: i64,
    anchor: Option<&CertInfo>,
) -> Vec<Defect> {
    let mut out = Vec::new();
    let Some(leaf) = path.first().and_then(|&i| certs.get(i)) else {
        return out;
    };
    if let Some(nc) = anchor.and_then(|a| a.name_constraints.as_ref()) {
        name_defects(leaf, nc, ANCHOR, &mut out);
    }
    for (k, &i) in path.iter().enumerate() {
        let Some(c) = certs.get(i) else { continue };
        let mut push = |kind| out.push(Defect { cert: i, kind });
        if now > c.not_after {
            push(DefectKind::Expired);
        } else if now < c.not_before {
            push(DefectKind::NotYetValid);
        }
        if !c.is_self_signed()
            && matches!(
                c.signature_hash,
                SigHash::Md5 | SigHash::Sha1 | SigHash::Md2
            )
        {
            push(DefectKind::WeakHash);
        }
        for e in c.extensions.iter().filter(|e| e.critical) {
            if !KNOWN_CRITICAL.contains(&e.oid.as_str()) {
                push(DefectKind::UnknownCritical {
                    oid: e.oid.clone(),
                    name: e.name.clone(),
                });
            }
        }
        if k == 0 {
            continue;
        }
        if !c.is_ca {
            push(DefectKind::NotCa);
        }
        if let Some(ku) = &c.key_usage
            && !ku.iter().any(|u| u == "keyCertSign")
        {
            push(DefectKind::NoCertSign);
        }
        if let Some(limit) = c.path_len {
            // CAs between this one and the leaf; self-issued ones do not count.
            let below = path[1..k]
                .iter()
                .filter(|&&j| certs.get(j).is_some_and(|x| !x.self_issued))
                .count();
            if below > limit as usize {
                push(DefectKind::PathLength { limit, below });
            }
        }
        if let Some(eku) = &c.ext_key_usage
            && !eku.server_auth
        {
            push(DefectKind::IssuerPurpose);
        }
        if let Some(nc) = &c.name_constraints {
            name_defects(leaf, nc, i, &mut out);
        }
    }
    out
}

/// The leaf's names against one CA's constraints, within the budget.
fn name_defects(
    leaf: &CertInfo,
    nc: &crate::x509::cert::NameConstraintsInfo,
    cert: usize,
    out: &mut Vec<Defect>,
) {
    let constraints = nc.permitted.len() + nc.excluded.len();
    if leaf.sans.len().saturating_mul(constraints) > NAME_BUDGET {
        out.push(Defect {
            cert,
            kind: DefectKind::NameBudget {
                names: leaf.sans.len(),
                constraints,
            },
        });
        return;
    }
    for (name, constraint, excluded) in name_violations(leaf, &nc.permitted, &nc.excluded) {
        out.push(Defect {
            cert,
            kind: DefectKind::Name {
                name,
                constraint,
                excluded,
            },
        });
    }
}

/// The leaf's names that `permitted`/`excluded` (formatted like SANs:
/// "DNS:a.test", "IP:10.0.0.0/8", "email:a.test", "URI:.a.test") forbid:
/// `(name, constraint, excluded)`. A permitted list of a type binds only
/// names of that type; types certscope does not compare are left to webpki.
pub fn name_violations(
    leaf: &CertInfo,
    permitted: &[String],
    excluded: &[String],
) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for san in &leaf.sans {
        let Some((kind, value)) = name_of(san) else {
            continue;
        };
        for e in excluded {
            if let Some(sub) = e.strip_prefix(kind)
                && within(kind, &value, sub)
            {
                out.push((san.display(), e.clone(), true));
            }
        }
        let of_kind: Vec<&String> = permitted.iter().filter(|p| p.starts_with(kind)).collect();
        if !of_kind.is_empty()
            && !of_kind
                .iter()
                .any(|p| within(kind, &value, p.get(kind.len()..).unwrap_or("")))
        {
            let list: Vec<String> = of_kind.iter().map(|s| s.to_string()).collect();
            out.push((
                san.display(),
                crate::util::sanitize::and_more(&list, 5, ", "),
                false,
            ));
        }
    }
    out
}

fn name_of(san: &San) -> Option<(&'static str, String)> {
    match san {
        San::Dns(d) => Some(("DNS:", d.to_ascii_lowercase())),
        San::Ip(ip) => Some(("IP:", ip.to_string())),
        San::Email(e) => Some(("email:", e.to_ascii_lowercase())),
        San::Uri(u) => Some(("URI:", uri_host(u)?.to_ascii_lowercase())),
        San::Other(_) => None,
    }
}

fn uri_host(u: &str) -> Option<&str> {
    let rest = u.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// Is `value` (a name of `kind`) within the subtree `sub`?
fn within(kind: &str, value: &str, sub: &str) -> bool {
    match kind {
        "IP:" => ip_within(value, sub),
        "email:" => {
            if sub.contains('@') {
                value.eq_ignore_ascii_case(sub)
            } else {
                let host = value.rsplit('@').next().unwrap_or("");
                domain_within(host, sub, true)
            }
        }
        "URI:" => domain_within(value, sub, true),
        _ => domain_within(value, sub, false),
    }
}

/// `name` ends with "." and `suffix` (ASCII case aside), without allocating.
fn dot_suffix(name: &str, suffix: &str) -> bool {
    let (n, s) = (name.as_bytes(), suffix.as_bytes());
    n.len() > s.len()
        && n[n.len() - s.len() - 1] == b'.'
        && n[n.len() - s.len()..].eq_ignore_ascii_case(s)
}

/// DNS subtree: "" matches all, "a.test" matches itself and subdomains, and
/// ".a.test" matches subdomains only. For email and URI hosts (`exact`),
/// "a.test" matches only that host.
fn domain_within(name: &str, sub: &str, exact: bool) -> bool {
    let name = name.trim_end_matches('.');
    if sub.is_empty() {
        return true;
    }
    if let Some(suffix) = sub.strip_prefix('.') {
        return dot_suffix(name, suffix);
    }
    name.eq_ignore_ascii_case(sub) || (!exact && dot_suffix(name, sub))
}

fn ip_within(value: &str, sub: &str) -> bool {
    let Ok(ip) = value.parse::<IpAddr>() else {
        return false;
    };
    let Some((addr, prefix)) = sub.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(prefix)) = (addr.parse::<IpAddr>(), prefix.parse::<u32>()) else {
        return false;
    };
    let (a, n, bits): (u128, u128, u32) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a).into(), u32::from(n).into(), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    if prefix > bits {
        return false;
    }
    let shift = bits - prefix;
    if shift >= bits {
        return true;
    }
    (a >> shift) == (n >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtrees() {
        assert!(domain_within("a.example.com", "example.com", false));
        assert!(domain_within("example.com", "example.com", false));
        assert!(!domain_within("badexample.com", "example.com", false));
        assert!(!domain_within("example.com", ".example.com", false));
        assert!(domain_within("a.example.com", ".example.com", false));
        assert!(domain_within("anything.test", "", false));
        assert!(!domain_within("a.example.com", "example.com", true));
        assert!(ip_within("10.1.2.3", "10.0.0.0/8"));
        assert!(!ip_within("11.1.2.3", "10.0.0.0/8"));
        assert!(ip_within("::1", "::/0"));
        assert!(!ip_within("::1", "10.0.0.0/8"));
        assert!(ip_within("2001:db8::1", "2001:db8::/32"));
        assert!(within("email:", "a@mail.test", "mail.test"));
        assert!(!within("email:", "a@x.mail.test", "mail.test"));
        assert!(within("email:", "a@x.mail.test", ".mail.test"));
        assert_eq!(uri_host("https://user@[::1]:8443/x"), Some("::1"));
        assert_eq!(uri_host("https://h.test:1/"), Some("h.test"));
        assert_eq!(uri_host("nonsense"), None);
    }
}
