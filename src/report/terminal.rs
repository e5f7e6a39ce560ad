//! The one place a report's text is made safe for a terminal.
//!
//! Certificates are parsed into their raw text (a subject holding an escape
//! sequence keeps it), so JSON and JSONL carry the values as they are,
//! escaped by JSON itself, and a consumer can recover them. Everything that
//! writes to a terminal or a plain-text stream (the text report, the TUI,
//! CSV, the Nagios line) renders the copy made here instead, in which every
//! control character and bidi override is shown as a visible escape
//! (`\x1b`).

use std::sync::Arc;

use crate::report::finding::Finding;
use crate::report::{ChainEntry, Endpoint, Report, RevState};
use crate::util::sanitize::for_terminal as t;
use crate::x509::cert::{CertInfo, San};

impl Report {
    /// This report with every text safe for a terminal (see the module).
    pub fn for_terminal(&self) -> Report {
        let mut r = self.clone();
        r.label = t(&r.label);
        r.name = t(&r.name);
        r.reproduce = t(&r.reproduce);
        r.findings = r.findings.iter().map(finding).collect();
        r.chain = r.chain.iter().map(entry).collect();
        r.endpoints = r.endpoints.iter().map(endpoint).collect();
        if let Some(e) = r.error.as_mut() {
            e.message = t(&e.message);
            e.alert = e.alert.as_deref().map(t);
            e.peer_said = e.peer_said.as_deref().map(t);
        }
        if let Some(tls) = r.tls.as_mut() {
            tls.version = t(&tls.version);
            tls.cipher = t(&tls.cipher);
            tls.alpn = tls.alpn.as_deref().map(t);
            tls.kx_group = tls.kx_group.as_deref().map(t);
        }
        r
    }
}

fn finding(f: &Finding) -> Finding {
    let mut f = f.clone();
    f.title = t(&f.title);
    f.detail = t(&f.detail);
    f.clients.chrome = t(&f.clients.chrome);
    f.clients.firefox = t(&f.clients.firefox);
    f.clients.openssl = t(&f.clients.openssl);
    for step in &mut f.fix {
        step.title = t(&step.title);
        step.command = step.command.as_deref().map(t);
    }
    f.addresses = f.addresses.iter().map(|a| t(a)).collect();
    f
}

fn entry(e: &ChainEntry) -> ChainEntry {
    ChainEntry {
        info: Arc::new(cert(&e.info)),
        source: e.source,
        revocation: e.revocation.as_ref().map(revocation),
        fetched_from: e.fetched_from.as_deref().map(t),
    }
}

fn endpoint(e: &Endpoint) -> Endpoint {
    let mut e = e.clone();
    e.address = t(&e.address);
    e.tls_version = e.tls_version.as_deref().map(t);
    e.error = e.error.as_deref().map(t);
    e
}

fn revocation(r: &RevState) -> RevState {
    match r {
        RevState::Good { source } => RevState::Good { source: t(source) },
        RevState::Revoked {
            source,
            url,
            time,
            reason,
        } => RevState::Revoked {
            source: t(source),
            url: url.as_deref().map(t),
            time: t(time),
            reason: reason.as_deref().map(t),
        },
        RevState::Unknown { reason } => RevState::Unknown { reason: t(reason) },
        RevState::NotChecked { reason } => RevState::NotChecked { reason: t(reason) },
    }
}

/// A certificate's text safe for a terminal (its bytes, keys and memo of
/// verified signatures are kept).
pub fn cert(c: &CertInfo) -> CertInfo {
    let mut c = c.clone();
    c.subject = t(&c.subject);
    c.issuer = t(&c.issuer);
    c.subject_cn = c.subject_cn.as_deref().map(t);
    c.issuer_cn = c.issuer_cn.as_deref().map(t);
    c.signature_algorithm = t(&c.signature_algorithm);
    c.key.curve = c.key.curve.as_deref().map(t);
    c.sans = c
        .sans
        .iter()
        .map(|s| match s {
            San::Dns(d) => San::Dns(t(d)),
            San::Ip(ip) => San::Ip(*ip),
            San::Email(e) => San::Email(t(e)),
            San::Uri(u) => San::Uri(t(u)),
            San::Other(o) => San::Other(t(o)),
        })
        .collect();
    let all = |v: &[String]| v.iter().map(|s| t(s)).collect::<Vec<_>>();
    c.aia_ca_issuers = all(&c.aia_ca_issuers);
    c.aia_ocsp = all(&c.aia_ocsp);
    c.crl_urls = all(&c.crl_urls);
    if let Some(ku) = c.key_usage.as_mut() {
        *ku = all(ku);
    }
    if let Some(eku) = c.ext_key_usage.as_mut() {
        eku.others = all(&eku.others);
    }
    if let Some(nc) = c.name_constraints.as_mut() {
        nc.permitted = all(&nc.permitted);
        nc.excluded = all(&nc.excluded);
    }
    for e in &mut c.extensions {
        e.name = t(&e.name);
        e.value = t(&e.value);
    }
    c
}

#[cfg(test)]
mod tests {
    use crate::testkit::{T0, TestPki};

    #[test]
    fn raw_certificate_text_is_kept_and_the_terminal_copy_is_escaped() {
        let pki = TestPki::new();
        let chain = pki.chain(&["raw.test"], T0 - 86_400, T0 + 86_400 * 30, |p| {
            p.distinguished_name
                .push(rcgen::DnType::OrganizationName, "Evil\u{1b}[2J Org");
        });
        let r = pki.report("raw.test:443", chain, T0);
        let leaf = &r.chain[0].info;
        assert!(
            leaf.subject.contains("Evil\u{1b}[2J Org"),
            "{}",
            leaf.subject
        );
        let json = crate::report::json_line(&r);
        assert!(json.contains("Evil\\u001b[2J Org"), "{json}");
        let safe = r.for_terminal();
        assert!(!safe.chain[0].info.subject.contains('\u{1b}'));
        assert!(safe.chain[0].info.subject.contains("Evil\\x1b[2J Org"));
        let text = crate::report::text::render(&r, false);
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
