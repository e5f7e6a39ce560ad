//! The faults of the issuers on the path a client builds, each on the
//! certificate at fault: issuer-not-ca, path-length, invalid-purpose on an
//! intermediate, unknown-critical-extension and name-constraints (every
//! name type). Each is found on its own (`x509::path`); none stops another.

use super::capital;
use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};
use crate::util::sanitize::and_more;
use crate::x509::chain::PathEnd;
use crate::x509::path::{ANCHOR, DefectKind};

pub fn path_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let defects = &ctx.walk.defects;
    // The certificate each issuer signed on the path: "the leaf", "'X' (#2)".
    let child_of = |i: usize| -> String {
        let path = &ctx.walk.path;
        match path.iter().position(|&p| p == i) {
            Some(k) if k > 0 => ctx.label(path[k - 1]),
            _ => "the certificate below it".into(),
        }
    };
    let mut named_cas: Vec<usize> = Vec::new();
    // The anchor's own certificate, for faults of its name constraints.
    let anchor = match &ctx.walk.end {
        PathEnd::Anchored { anchor, .. } => ctx.trust.anchors.get(*anchor).and_then(|a| a.cert()),
        _ => None,
    };
    for d in defects {
        let i = d.cert;
        let c = if i == ANCHOR {
            match &anchor {
                Some(a) => a.clone(),
                None => continue,
            }
        } else {
            match ctx.certs.get(i) {
                Some(c) => c.clone(),
                None => continue,
            }
        };
        let who = if i == ANCHOR {
            format!("The trust anchor '{}'", c.display_name())
        } else {
            capital(&ctx.label(i))
        };
        let at = (i != ANCHOR).then_some(i);
        let facts = Facts {
            intermediate: i > 0 && i != ANCHOR,
            ..Facts::default()
        };
        match &d.kind {
            DefectKind::NotCa => out.push(ctx.finding(
                Code::IssuerNotCa,
                Severity::Critical,
                at,
                format!("'{}' is not a CA but issued {}", c.display_name(), child_of(i)),
                format!(
                    "{who} signed {}, but it is not a CA certificate ({}). Clients refuse every certificate it signs: only a certificate with basicConstraints CA:TRUE may issue others.",
                    child_of(i),
                    if c.basic_constraints_present {
                        "basicConstraints CA:FALSE"
                    } else {
                        "it has no basicConstraints extension"
                    }
                ),
                &facts,
            )),
            DefectKind::NoCertSign => out.push(ctx.finding(
                Code::IssuerNotCa,
                Severity::Critical,
                at,
                format!("'{}' may not sign certificates (no keyCertSign)", c.display_name()),
                format!(
                    "{who} signed {}, but its keyUsage ({}) does not include keyCertSign, so it may not issue certificates. OpenSSL and browsers refuse the chain; webpki (rustls) does not check this.",
                    child_of(i),
                    c.key_usage.as_deref().unwrap_or_default().join(", ")
                ),
                &facts,
            )),
            DefectKind::PathLength { limit, below } => out.push(ctx.finding(
                Code::PathLength,
                Severity::Critical,
                at,
                format!("Too many CAs below '{}' (path length {limit})", c.display_name()),
                format!(
                    "{who} has basicConstraints pathLenConstraint {limit}: at most {limit} intermediate CA certificate{} may follow it before the leaf, and this path has {below}. Clients refuse the chain.",
                    if *limit == 1 { "" } else { "s" }
                ),
                &facts,
            )),
            DefectKind::IssuerPurpose => {
                let listed = c
                    .ext_key_usage
                    .as_ref()
                    .map(|e| e.other_purposes())
                    .unwrap_or_default();
                out.push(ctx.finding(
                    Code::InvalidPurpose,
                    Severity::Critical,
                    at,
                    format!("Intermediate '{}' is not for TLS servers (no serverAuth)", c.display_name()),
                    format!(
                        "{who} restricts what it may issue for with extendedKeyUsage {}, which lacks serverAuth (1.3.6.1.5.5.7.3.1). Clients refuse TLS server certificates below it, whatever the leaf says.",
                        if listed.is_empty() { "(empty)".to_string() } else { and_more(&listed, 5, ", ") }
                    ),
                    &facts,
                ));
            }
            DefectKind::UnknownCritical { oid, name } => out.push(ctx.finding(
                Code::UnknownCriticalExtension,
                Severity::Critical,
                at,
                format!("Unknown critical extension in '{}'", c.display_name()),
                format!(
                    "{who} carries the extension {}{oid} marked critical. A client must refuse a certificate with a critical extension it does not process, and TLS clients do not process this one.",
                    if name.is_empty() || name == oid { String::new() } else { format!("{name} ") }
                ),
                &facts,
            )),
            DefectKind::Name { .. } => {
                if named_cas.contains(&i) {
                    continue;
                }
                named_cas.push(i);
                let names: Vec<String> = defects
                    .iter()
                    .filter(|x| x.cert == i)
                    .filter_map(|x| match &x.kind {
                        DefectKind::Name {
                            name,
                            constraint,
                            excluded,
                        } => Some(if *excluded {
                            format!("{name} (excluded by {constraint})")
                        } else {
                            format!("{name} (not within {constraint})")
                        }),
                        _ => None,
                    })
                    .collect();
                let nc = c.name_constraints.clone().unwrap_or_default();
                out.push(ctx.finding(
                    Code::NameConstraints,
                    Severity::Critical,
                    at,
                    format!("'{}' may not issue for the leaf's names", c.display_name()),
                    format!(
                        "{who} is name-constrained (permitted: {}; excluded: {}), and the leaf's names fall outside: {}.",
                        if nc.permitted.is_empty() { "any".into() } else { and_more(&nc.permitted, 6, ", ") },
                        if nc.excluded.is_empty() { "none".into() } else { and_more(&nc.excluded, 6, ", ") },
                        and_more(&names, 5, "; ")
                    ),
                    &facts,
                ));
            }
            DefectKind::NameBudget { names, constraints } => out.push(ctx.finding(
                Code::NameConstraints,
                Severity::Critical,
                at,
                format!("Too many names to check against '{}'", c.display_name()),
                format!(
                    "{who} has {constraints} name constraints and the leaf {names} names: checking them takes more than {} comparisons, where clients stop and refuse the chain (a guard against denial of service). Issue the leaf with fewer names, or from a CA with fewer constraints.",
                    crate::x509::path::NAME_BUDGET
                ),
                &facts,
            )),
            // Dates and weak hashes are the validity and crypto rules' findings.
            DefectKind::Expired | DefectKind::NotYetValid | DefectKind::WeakHash => {}
        }
    }
}
