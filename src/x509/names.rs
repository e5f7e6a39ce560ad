//! Does the certificate cover the name asked for, and if not, why not?
//! Modern clients match subjectAltName only: the CN is ignored.

use std::net::IpAddr;

use crate::x509::cert::{CertInfo, San};

/// Why a name does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The certificate has no subjectAltName at all (CN-only).
    NoSan { cn: Option<String> },
    /// The CN names the host, but the SAN list does not: clients ignore CN.
    OnlyInCn { cn: String },
    /// A wildcard SAN would match if the name had one label fewer.
    WildcardOneLabel { wildcard: String },
    /// An IP address was asked for but the certificate lists no IP SANs.
    IpNotListed,
    /// A DNS name was asked for but the certificate only lists IP SANs.
    DnsNotListed,
    /// Plainly not listed.
    NotListed,
}

/// The names a certificate covers, as shown to users ("DNS:a.test").
pub fn covered(cert: &CertInfo) -> Vec<String> {
    cert.sans
        .iter()
        .filter(|s| matches!(s, San::Dns(_) | San::Ip(_)))
        .map(San::display)
        .collect()
}

/// `Ok(())` when `name` (a DNS name or an IP address) is covered.
pub fn check(cert: &CertInfo, name: &str) -> Result<(), Mismatch> {
    let name_lc = name.trim_end_matches('.').to_ascii_lowercase();
    let ip: Option<IpAddr> = name_lc.parse().ok();
    let dns: Vec<&str> = cert
        .sans
        .iter()
        .filter_map(|s| match s {
            San::Dns(d) => Some(d.as_str()),
            _ => None,
        })
        .collect();
    let ips: Vec<IpAddr> = cert
        .sans
        .iter()
        .filter_map(|s| match s {
            San::Ip(i) => Some(*i),
            _ => None,
        })
        .collect();
    if let Some(ip) = ip {
        if ips.contains(&ip) {
            return Ok(());
        }
        if !cert.has_san_extension || (dns.is_empty() && ips.is_empty()) {
            return Err(Mismatch::NoSan {
                cn: cert.subject_cn.clone(),
            });
        }
        return Err(if ips.is_empty() {
            Mismatch::IpNotListed
        } else {
            Mismatch::NotListed
        });
    }
    if dns.iter().any(|d| dns_matches(d, &name_lc)) {
        return Ok(());
    }
    if !cert.has_san_extension || (dns.is_empty() && ips.is_empty()) {
        return Err(Mismatch::NoSan {
            cn: cert.subject_cn.clone(),
        });
    }
    if dns.is_empty() {
        return Err(Mismatch::DnsNotListed);
    }
    // A wildcard that would match with one label fewer: *.example.test vs a.b.example.test.
    if let Some(w) = dns.iter().find(|d| {
        d.starts_with("*.")
            && name_lc
                .split_once('.')
                .is_some_and(|(_, rest)| rest.ends_with(&d[1..]) && rest.len() > d.len() - 1)
    }) {
        return Err(Mismatch::WildcardOneLabel {
            wildcard: (*w).to_string(),
        });
    }
    if let Some(cn) = &cert.subject_cn
        && dns_matches(&cn.to_ascii_lowercase(), &name_lc)
    {
        return Err(Mismatch::OnlyInCn { cn: cn.clone() });
    }
    Err(Mismatch::NotListed)
}

/// RFC 6125 matching as browsers do it: case-insensitive, a wildcard only
/// as the whole leftmost label, covering exactly one label.
pub fn dns_matches(pattern: &str, name: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    if let Some(suffix) = p.strip_prefix("*.") {
        // The wildcard must leave at least two labels (no *.com).
        if !suffix.contains('.') {
            return false;
        }
        match name.split_once('.') {
            Some((first, rest)) => !first.is_empty() && rest == suffix,
            None => false,
        }
    } else {
        p == name
    }
}

/// One plain sentence explaining the mismatch.
pub fn explain(m: &Mismatch, name: &str) -> String {
    match m {
        Mismatch::NoSan { cn } => format!(
            "The certificate has no subjectAltName extension{}. Modern clients (Chrome since 58, Firefox, Go, Python, curl with OpenSSL 1.1+) ignore the Common Name, so it matches no name at all.",
            cn.as_ref()
                .map(|c| format!(" and only names {c} in its Common Name"))
                .unwrap_or_default()
        ),
        Mismatch::OnlyInCn { cn } => format!(
            "{name} appears only in the Common Name ({cn}), which clients ignore; it is not in the subjectAltName list."
        ),
        Mismatch::WildcardOneLabel { wildcard } => format!(
            "The wildcard {wildcard} covers exactly one label: it matches x.{} but not {name}, which has more labels.",
            wildcard.trim_start_matches("*.")
        ),
        Mismatch::IpNotListed => format!(
            "{name} is an IP address, but the certificate lists only DNS names; an IP must appear as an IP subjectAltName."
        ),
        Mismatch::DnsNotListed => {
            format!("The certificate lists only IP addresses, not the DNS name {name}.")
        }
        Mismatch::NotListed => format!("{name} is not among the names the certificate covers."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_rules() {
        let table = [
            ("*.example.test", "a.example.test", true),
            ("*.example.test", "A.Example.Test", false), // caller lower-cases the name
            ("*.example.test", "example.test", false),
            ("*.example.test", "a.b.example.test", false),
            ("*.test", "a.test", false),
            ("a.example.test", "a.example.test", true),
            ("A.EXAMPLE.TEST.", "a.example.test", true),
            ("a*.example.test", "ab.example.test", false),
        ];
        for (p, n, want) in table {
            assert_eq!(dns_matches(p, n), want, "{p} vs {n}");
        }
    }
}
