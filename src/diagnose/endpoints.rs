//! A name served by several addresses: one report per address, merged into
//! one. The merged report is the first address's (the first that gave a
//! certificate), its findings are the union, each naming the addresses it
//! concerns, and `inconsistent-endpoints` says what differs between them:
//! the leaf, the chain, the TLS version, or an address that fails.

use crate::diagnose::fix::{self, FixContext};
use crate::report::finding::{Code, Finding, Severity, sort_findings};
use crate::report::{Endpoint, Report, Source, rfc3339};

/// At most this many addresses are spelled out in a message.
const SHOWN: usize = 8;

fn address_of(r: &Report) -> String {
    r.address
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "?".into())
}

fn presented(r: &Report) -> Vec<String> {
    r.chain
        .iter()
        .filter(|e| matches!(e.source, Source::Server | Source::File))
        .map(|e| e.info.sha256.clone())
        .collect()
}

fn endpoint(r: &Report) -> Endpoint {
    let chain = presented(r);
    Endpoint {
        address: address_of(r),
        status: r.status,
        tls_version: r.tls.as_ref().map(|t| t.version.clone()),
        not_after: r
            .chain
            .first()
            .filter(|_| !chain.is_empty())
            .map(|e| rfc3339(e.info.not_after)),
        chain_sha256: chain,
        findings: r.findings.iter().map(|f| f.code).collect(),
        error: r.error.as_ref().map(|e| e.message.clone()),
        local: r.chain.is_empty() && r.error.as_ref().is_some_and(|e| e.local),
    }
}

/// A finding's identity across addresses: its code and the certificate it
/// is about (by fingerprint), so "expired" on two different leaves is two.
fn key(r: &Report, f: &Finding) -> (Code, Option<String>) {
    (
        f.code,
        f.cert
            .and_then(|i| r.chain.get(i))
            .map(|e| e.info.sha256.clone()),
    )
}

/// "a, b and 3 more".
fn list(items: &[String]) -> String {
    crate::util::sanitize::and_more(items, SHOWN, ", ")
}

fn short(sha: &str) -> String {
    let s: String = sha.chars().take(23).collect();
    if sha.len() > 23 { format!("{s}…") } else { s }
}

/// Merge the reports of one target's addresses (in resolution order:
/// `first`, then `others`).
pub fn merge(first: Report, others: Vec<Report>) -> Report {
    if others.is_empty() {
        return first;
    }
    let mut reports = others;
    reports.insert(0, first);
    let endpoints: Vec<Endpoint> = reports.iter().map(endpoint).collect();
    let primary = reports
        .iter()
        .position(|r| !presented(r).is_empty())
        .unwrap_or(0);
    reports.swap(0, primary);
    let addrs: Vec<String> = reports.iter().map(address_of).collect();

    // The union of findings, each with the addresses it was seen at.
    let mut merged: Vec<(Code, Option<String>, Finding)> = Vec::new();
    for (r, addr) in reports.iter().zip(&addrs) {
        let local = r.chain.is_empty() && r.error.as_ref().is_some_and(|e| e.local);
        if local {
            continue;
        }
        for f in &r.findings {
            let (code, sha) = key(r, f);
            match merged.iter_mut().find(|(c, s, _)| *c == code && *s == sha) {
                Some((_, _, m)) => m.addresses.push(addr.clone()),
                None => {
                    let mut f = f.clone();
                    // Certificate indexes refer to the first address's chain.
                    f.cert = sha.as_ref().and_then(|sha| {
                        reports[0].chain.iter().position(|e| e.info.sha256 == *sha)
                    });
                    f.addresses = vec![addr.clone()];
                    merged.push((code, sha, f));
                }
            }
        }
    }
    let mut findings: Vec<Finding> = merged.into_iter().map(|(_, _, f)| f).collect();
    if let Some(f) = inconsistency(&reports[0], &endpoints) {
        findings.push(f);
    }
    sort_findings(&mut findings);
    let mut out = reports.swap_remove(0);
    out.elapsed_ms = reports
        .iter()
        .map(|r| r.elapsed_ms)
        .fold(out.elapsed_ms, u64::max);
    out.status = super::status(&findings, !out.chain.is_empty());
    out.findings = findings;
    out.endpoints = endpoints;
    out
}

/// `inconsistent-endpoints`, when the addresses that answered differ, or
/// some fail while others serve.
fn inconsistency(first: &Report, eps: &[Endpoint]) -> Option<Finding> {
    let considered: Vec<&Endpoint> = eps.iter().filter(|e| !e.local).collect();
    let serving: Vec<&Endpoint> = considered
        .iter()
        .copied()
        .filter(|e| !e.chain_sha256.is_empty())
        .collect();
    if serving.is_empty() {
        return None;
    }
    let failing: Vec<&Endpoint> = considered
        .iter()
        .copied()
        .filter(|e| e.chain_sha256.is_empty())
        .collect();
    let leaf = |e: &Endpoint| e.chain_sha256.first().cloned().unwrap_or_default();
    let leaves_differ = serving.iter().any(|e| leaf(e) != leaf(serving[0]));
    let chains_differ = !leaves_differ
        && serving
            .iter()
            .any(|e| e.chain_sha256 != serving[0].chain_sha256);
    let versions_differ = serving
        .iter()
        .any(|e| e.tls_version != serving[0].tls_version);
    if failing.is_empty() && !leaves_differ && !chains_differ && !versions_differ {
        return None;
    }
    let mut what = Vec::new();
    if !failing.is_empty() {
        let names: Vec<String> = failing.iter().map(|e| e.address.clone()).collect();
        what.push(format!(
            "{} fail{}",
            list(&names),
            if failing.len() == 1 { "s" } else { "" }
        ));
    }
    if leaves_differ {
        what.push("different leaf certificates".to_string());
    }
    if chains_differ {
        what.push("the same leaf with different chains".to_string());
    }
    if versions_differ {
        what.push("different TLS versions".to_string());
    }
    let per_address: Vec<String> = considered
        .iter()
        .map(|e| match (&e.error, e.chain_sha256.first()) {
            (_, Some(sha)) => format!(
                "{}: leaf SHA-256 {}{}{}, {} certificate{} sent",
                e.address,
                short(sha),
                e.not_after
                    .as_ref()
                    .map(|t| format!(", valid until {t}"))
                    .unwrap_or_default(),
                e.tls_version
                    .as_ref()
                    .map(|v| format!(", {v}"))
                    .unwrap_or_default(),
                e.chain_sha256.len(),
                if e.chain_sha256.len() == 1 { "" } else { "s" }
            ),
            (Some(err), None) => format!("{}: fails ({err})", e.address),
            (None, None) => format!("{}: no certificate", e.address),
        })
        .collect();
    let shown: Vec<String> = per_address.iter().take(SHOWN).cloned().collect();
    let more = per_address.len().saturating_sub(SHOWN);
    let severity = if failing.is_empty() {
        Severity::Warning
    } else {
        Severity::Critical
    };
    let name = &first.name;
    let addrs: Vec<String> = considered.iter().map(|e| e.address.clone()).collect();
    let mut ctx = FixContext::new(first.target.host_port(), name.clone());
    ctx.starttls = first.target.starttls;
    Some(Finding {
        code: Code::InconsistentEndpoints,
        severity,
        cert: None,
        title: format!(
            "The {} addresses of {name} do not serve the same: {}",
            considered.len(),
            what.join("; ")
        ),
        detail: format!(
            "Each visitor reaches one of these addresses, so each sees something else. {}{}.",
            shown.join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        ),
        clients: crate::diagnose::clients::clients(Code::InconsistentEndpoints, false),
        fix: fix::endpoints_steps(&ctx, &addrs, first.target.port),
        addresses: addrs,
    })
}
