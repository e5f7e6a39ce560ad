//! name-constraints: a CA on the path whose DNS constraints the leaf violates.

use super::capital;
use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};

fn constraint_matches(constraint: &str, name: &str) -> bool {
    let c = constraint.trim_start_matches("DNS:").to_ascii_lowercase();
    if c.is_empty() {
        return true;
    }
    if let Some(suffix) = c.strip_prefix('.') {
        name.ends_with(&format!(".{suffix}"))
    } else {
        name == c || name.ends_with(&format!(".{c}"))
    }
}

/// name-constraints: a CA on the path whose DNS constraints the leaf violates.
pub fn constraint_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let leaf = &ctx.certs[0];
    let dns: Vec<String> = leaf
        .sans
        .iter()
        .filter_map(|s| match s {
            crate::x509::cert::San::Dns(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    for &i in ctx.walk.path.iter().skip(1) {
        let ca = &ctx.certs[i];
        let Some(nc) = &ca.name_constraints else {
            continue;
        };
        let permitted: Vec<&String> = nc
            .permitted
            .iter()
            .filter(|p| p.starts_with("DNS:"))
            .collect();
        let excluded: Vec<&String> = nc
            .excluded
            .iter()
            .filter(|p| p.starts_with("DNS:"))
            .collect();
        let bad: Vec<&String> = dns
            .iter()
            .filter(|d| {
                (!permitted.is_empty() && !permitted.iter().any(|p| constraint_matches(p, d)))
                    || excluded.iter().any(|e| constraint_matches(e, d))
            })
            .collect();
        if !bad.is_empty() {
            out.push(ctx.finding(
                Code::NameConstraints,
                Severity::Critical,
                Some(i),
                format!("'{}' may not issue for {}", ca.display_name(), bad.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
                format!(
                    "{} is name-constrained (permitted: {}; excluded: {}), and the leaf's names {} fall outside.",
                    capital(&ctx.label(i)),
                    if nc.permitted.is_empty() { "any".into() } else { nc.permitted.join(", ") },
                    if nc.excluded.is_empty() { "none".into() } else { nc.excluded.join(", ") },
                    bad.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
                &Facts::default(),
            ));
        }
    }
}
