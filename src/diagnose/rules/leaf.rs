//! What only the leaf is judged on: ca-as-leaf, invalid-purpose,
//! long-validity and no-sct.

use super::DAY;
use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, FixStep, Severity};
use crate::report::rfc3339;
use crate::x509::cert::KeyKind;
use crate::x509::chain::PathEnd;

/// ca-as-leaf, invalid-purpose, long-validity and no-sct on the leaf.
pub fn leaf_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    serial_findings(ctx, out);
    let leaf = &ctx.certs[0];
    if leaf.is_ca {
        let (title, instead) = if ctx.obs.origin.file().is_some() {
            (
                "The leaf in the file is a CA certificate",
                "put a certificate issued by the CA first in the file instead",
            )
        } else {
            (
                "A CA certificate is served as the server certificate",
                "serve a certificate issued by the CA instead",
            )
        };
        out.push(ctx.finding(
            Code::CaAsLeaf,
            Severity::Critical,
            Some(0),
            title.into(),
            format!(
                "The leaf '{}' has basicConstraints CA:TRUE. Browsers refuse CA certificates as end-entity certificates; {instead}.",
                leaf.subject
            ),
            &Facts::default(),
        ));
    }
    if let Some(eku) = &leaf.ext_key_usage
        && !eku.server_auth
    {
        let mut listed: Vec<String> = Vec::new();
        if eku.client_auth {
            listed.push("clientAuth".into());
        }
        if eku.any {
            listed.push("anyExtendedKeyUsage".into());
        }
        listed.extend(eku.others.iter().cloned());
        out.push(ctx.finding(
            Code::InvalidPurpose,
            Severity::Critical,
            Some(0),
            "Certificate is not for TLS servers (no serverAuth)".into(),
            format!(
                "The leaf's extendedKeyUsage lists {} but not serverAuth (1.3.6.1.5.5.7.3.1), so clients refuse it for a server.",
                if listed.is_empty() { "nothing".to_string() } else { listed.join(", ") }
            ),
            &Facts::default(),
        ));
    }
    if let Some(ku) = &leaf.key_usage {
        let ds = ku.iter().any(|k| k == "digitalSignature");
        let ke = ku.iter().any(|k| k == "keyEncipherment");
        let rsa = leaf.key.kind == KeyKind::Rsa;
        if !ds && !leaf.is_ca {
            let why = if rsa && ke {
                "It allows only keyEncipherment, usable just for static RSA key exchange, which TLS 1.3 lacks and current browsers disable."
            } else {
                "Without digitalSignature the key may not sign the TLS handshake."
            };
            out.push(ctx.finding(
                Code::InvalidPurpose,
                Severity::Critical,
                Some(0),
                "Key usage forbids the TLS handshake (no digitalSignature)".into(),
                format!("The leaf's keyUsage is {}. {why}", ku.join(", ")),
                &Facts::default(),
            ));
        }
    }
    let span = leaf.not_after - leaf.not_before;
    if span > 398 * DAY {
        let days = span / DAY;
        let critical = span > 825 * DAY;
        out.push(ctx.finding(
            Code::LongValidity,
            if critical { Severity::Critical } else { Severity::Warning },
            Some(0),
            format!("Certificate lifetime of {days} days is too long"),
            format!(
                "The leaf is valid for {days} days ({} to {}). Publicly trusted CAs may not issue more than 398 days{}",
                rfc3339(leaf.not_before),
                rfc3339(leaf.not_after),
                if critical {
                    ", and Apple platforms refuse TLS certificates valid for more than 825 days."
                } else {
                    "; Safari and other Apple clients refuse such certificates from public CAs."
                }
            ),
            &Facts::default(),
        ));
    }
    if let PathEnd::Anchored { anchor, .. } = &ctx.walk.end
        && let Some(anchor) = ctx.trust.anchors.get(*anchor)
        && leaf.sct_count == 0
        && !leaf.is_self_signed()
    {
        let elsewhere = if ctx.obs.origin.file().is_some() {
            "(A server may instead send SCTs in a TLS extension or in its stapled OCSP response, which a file cannot show; embedding them is what every public CA does today.)"
        } else {
            "(A server may instead send SCTs in a TLS extension or in its stapled OCSP response, which certscope does not read; embedding them is what every public CA does today.)"
        };
        if anchor.origin.is_public() {
            out.push(ctx.finding(
                Code::NoSct,
                Severity::Warning,
                Some(0),
                "No Certificate Transparency proof (SCT)".into(),
                format!(
                    "The leaf chains to a public root but carries no embedded Signed Certificate Timestamps. Chrome and Safari require CT for publicly trusted certificates. {elsewhere}"
                ),
                &Facts::default(),
            ));
        } else if ctx.trust.anchors.iter().any(|a| a.origin.is_public()) {
            // A private root beside public ones (a CA file added to the
            // default store): CT does not apply here, but say why this leaf
            // passes where a public one would not. A store of private roots
            // only (--trust-store none) is a private PKI: nothing to say.
            let mut f = ctx.finding(
                Code::NoSct,
                Severity::Info,
                Some(0),
                "No Certificate Transparency proof (SCT), fine under a private root".into(),
                format!(
                    "The leaf carries no embedded Signed Certificate Timestamps. That is fine here: it chains to a private root ({}), and browsers require CT only for publicly trusted certificates. The same certificate issued under a public root would fail in Chrome (NET::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED) and Safari.",
                    anchor.origin.describe()
                ),
                &Facts::default(),
            );
            f.clients = crate::report::finding::Clients {
                chrome: "nothing (CT is not required under a private root)".into(),
                firefox: "nothing".into(),
                openssl: "nothing".into(),
            };
            f.fix = vec![
                FixStep::cmd(
                    if ctx.obs.origin.file().is_some() {
                        "Confirm the leaf in the file carries no SCT list"
                    } else {
                        "Confirm the served certificate carries no SCT list"
                    },
                    format!("{} -noout -ext ct_precert_scts", ctx.fix.leaf_x509()),
                ),
                FixStep::note(
                    "Nothing to do for a private CA. Should this name ever move to a publicly trusted CA, get the certificate from one that embeds SCTs (every public CA does today)",
                ),
            ];
            out.push(f);
        }
    }
}

/// RFC 5280 4.1.2.2: a serial is a positive integer of at most 20 octets.
/// Over 20 octets rustls refuses the certificate; a negative serial Go
/// refuses (since 1.23); zero breaks no client but no CA may issue it.
pub fn serial_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (i, c) in ctx.certs.iter().enumerate().take(ctx.presented) {
        let raw = &c.serial_raw;
        let (severity, why) = if raw.len() > 20 {
            (
                Severity::Critical,
                format!(
                    "its serial number is {} octets long; RFC 5280 allows at most 20, and rustls-based clients refuse it",
                    raw.len()
                ),
            )
        } else if raw.first().is_some_and(|b| b & 0x80 != 0) {
            (
                Severity::Warning,
                "its serial number is negative (the DER integer's sign bit is set); RFC 5280 wants a positive one, and Go programs refuse it".to_string(),
            )
        } else if !raw.is_empty() && raw.iter().all(|b| *b == 0) {
            (
                Severity::Warning,
                "its serial number is zero; RFC 5280 wants a positive one".to_string(),
            )
        } else {
            continue;
        };
        out.push(ctx.finding(
            Code::InvalidSerial,
            severity,
            Some(i),
            format!(
                "{} has an invalid serial number",
                upper_first(&ctx.label(i))
            ),
            format!(
                "{} (serial {}): {why}. The CA that issued it does not follow RFC 5280.",
                upper_first(&ctx.label(i)),
                if c.serial.is_empty() {
                    "empty".to_string()
                } else {
                    c.serial.chars().take(100).collect()
                }
            ),
            &Facts {
                intermediate: i > 0,
                ..Facts::default()
            },
        ));
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
