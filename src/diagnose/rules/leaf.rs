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
        let listed = eku.other_purposes();
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
    lifetime_finding(ctx, out);
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

/// The CA/Browser Forum's maximum lifetimes of a TLS server certificate, by
/// the date it is issued (notBefore): ballots 193, SC-31 and SC-081.
pub const LIFETIME_RULES: &[(i64, i64, &str)] = &[
    (1_519_862_400, 825, "2018-03-01"),
    (1_598_918_400, 398, "2020-09-01"),
    (1_773_532_800, 200, "2026-03-15"),
    (1_805_068_800, 100, "2027-03-15"),
    (1_868_227_200, 47, "2029-03-15"),
];
/// Apple platforms refuse certificates valid over 825 days issued from this
/// date on, whoever issued them.
const APPLE_825_FROM: i64 = 1_561_939_200;
/// ... and over 398 days from public CAs, issued from this date on.
const APPLE_398_FROM: i64 = 1_598_918_400;

/// The rule in force at `t`: (since, max days, since as a date).
pub fn lifetime_rule_at(t: i64) -> Option<(i64, i64, &'static str)> {
    LIFETIME_RULES
        .iter()
        .rev()
        .find(|(from, _, _)| *from <= t)
        .copied()
}

/// long-validity: the leaf's lifetime against the rule in force when it was
/// issued. Critical only where a client refuses it (Apple platforms);
/// a warning otherwise; an info note for leaves issued before any rule.
fn lifetime_finding(ctx: &Ctx, out: &mut Vec<Finding>) {
    let leaf = &ctx.certs[0];
    let span = leaf.not_after - leaf.not_before;
    let days = span / DAY;
    let issued = rfc3339(leaf.not_before);
    let issued = issued.get(..10).unwrap_or(&issued).to_string();
    let public = match &ctx.walk.end {
        PathEnd::Anchored { anchor, .. } => ctx
            .trust
            .anchors
            .get(*anchor)
            .is_some_and(|a| a.origin.is_public()),
        _ => false,
    };
    // What the next certificate must respect: the rule in force at the
    // instant judged, and the next step if one is coming.
    let next = match lifetime_rule_at(ctx.now) {
        Some((_, max, since)) => {
            let coming = LIFETIME_RULES
                .iter()
                .find(|(from, _, _)| *from > ctx.now)
                .map(|(_, m, d)| format!("; from {d}, {m} days"))
                .unwrap_or_default();
            format!(
                " A renewal issued now may be valid for at most {max} days (the limit since {since}{coming})."
            )
        }
        None => String::new(),
    };
    let Some((_, max, since)) = lifetime_rule_at(leaf.not_before) else {
        if span > 825 * DAY {
            out.push(ctx.finding(
                Code::LongValidity,
                Severity::Info,
                Some(0),
                format!("Certificate lifetime of {days} days, issued before any limit"),
                format!(
                    "The leaf is valid for {days} days ({} to {}). It was issued on {issued}, before the CA/Browser Forum's first lifetime limit (825 days, from 2018-03-01), so no client refuses it for its lifetime.{next}",
                    rfc3339(leaf.not_before),
                    rfc3339(leaf.not_after),
                ),
                &Facts {
            max_days: lifetime_rule_at(ctx.now).map(|(_, m, _)| m),
            ..Facts::default()
        },
            ));
        }
        return;
    };
    if span <= max * DAY {
        return;
    }
    let apple = (span > 825 * DAY && leaf.not_before >= APPLE_825_FROM)
        || (span > 398 * DAY && leaf.not_before >= APPLE_398_FROM && public);
    let who = if apple {
        if span > 825 * DAY {
            " Apple platforms (Safari, iOS, macOS) refuse TLS certificates issued after 2019-07-01 that are valid for more than 825 days."
        } else {
            " Apple platforms (Safari, iOS, macOS) refuse certificates from public CAs issued after 2020-09-01 that are valid for more than 398 days."
        }
    } else {
        " Publicly trusted CAs may not issue it; no client refuses it for its lifetime alone today."
    };
    out.push(ctx.finding(
        Code::LongValidity,
        if apple {
            Severity::Critical
        } else {
            Severity::Warning
        },
        Some(0),
        format!("Certificate lifetime of {days} days is too long"),
        format!(
            "The leaf is valid for {days} days ({} to {}). Issued on {issued}, it falls under the CA/Browser Forum's limit of {max} days for certificates issued from {since}.{who}{next}",
            rfc3339(leaf.not_before),
            rfc3339(leaf.not_after),
        ),
        &Facts {
            max_days: lifetime_rule_at(ctx.now).map(|(_, m, _)| m),
            ..Facts::default()
        },
    ));
}
