//! The diagnosis rules. Each function looks at one aspect of the chain and
//! pushes every finding it sees, each blaming the certificate at fault.

use rustls::pki_types::{CertificateDer, ServerName};

use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};
use crate::report::rfc3339;
use crate::x509::cert::{KeyKind, SigHash};
use crate::x509::chain::PathEnd;
use crate::x509::names;

const DAY: i64 = 86_400;

/// "in 5 days", "3 days ago", "in 2 hours", "today".
pub fn when(delta_secs: i64) -> String {
    let abs = delta_secs.unsigned_abs() as i64;
    let amount = if abs >= 2 * DAY {
        format!("{} days", abs / DAY)
    } else if abs >= DAY {
        "1 day".to_string()
    } else if abs >= 2 * 3600 {
        format!("{} hours", abs / 3600)
    } else if abs >= 120 {
        format!("{} minutes", abs / 60)
    } else {
        format!("{abs} seconds")
    };
    if delta_secs >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

fn intermediate(i: usize) -> Facts {
    Facts {
        intermediate: i > 0,
        ..Facts::default()
    }
}

/// self-signed, untrusted-root, incomplete-chain (and a signature that does
/// not verify), from where the walk to the trust store ended.
pub fn trust_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let certs = ctx.certs;
    let store = &ctx.trust.kind_label;
    aia_completed(ctx, out);
    match &ctx.walk.end {
        PathEnd::Anchored { .. } => {}
        PathEnd::SelfSignedUntrusted { top: 0 } => {
            let leaf = &certs[0];
            out.push(ctx.finding(
                Code::SelfSigned,
                Severity::Critical,
                Some(0),
                format!("Self-signed certificate ({})", leaf.display_name()),
                format!(
                    "The leaf certificate '{}' is signed by its own key and is not in the trust store ({store}), so nothing vouches for it. SHA-256 {}.",
                    leaf.subject, leaf.sha256
                ),
                &Facts::default(),
            ));
        }
        PathEnd::SelfSignedUntrusted { top } => {
            let root = &certs[*top];
            out.push(ctx.finding(
                Code::UntrustedRoot,
                Severity::Critical,
                Some(*top),
                format!("Untrusted root '{}'", root.display_name()),
                format!(
                    "The chain is complete but ends in the root '{}' (SHA-256 {}), which the trust store ({store}) does not hold: a private or corporate CA, an interception proxy, or a distrusted CA.",
                    root.subject, root.sha256
                ),
                &Facts::default(),
            ));
        }
        PathEnd::IssuerMissing { top } => {
            let top_cert = &certs[*top];
            if let Some((child, parent)) = ctx.walk.bad_signature {
                out.push(ctx.finding(
                    Code::VerificationFailed,
                    Severity::Critical,
                    Some(child),
                    format!("Bad signature on {}", ctx.label(child)),
                    format!(
                        "Certificate #{parent} '{}' carries the issuer's name of {}, but its key does not verify that certificate's signature: the chain file mixes certificates from different issuances, or a certificate is corrupt.",
                        certs[parent].subject,
                        ctx.label(child)
                    ),
                    &Facts::default(),
                ));
                return;
            }
            let aia = top_cert.aia_ca_issuers.first().cloned();
            let sent = ctx.presented;
            let failed = aia_failure(ctx, *top);
            let aia_text = match (&aia, &failed) {
                (Some(url), Some(why)) => format!(
                    " Its AIA caIssuers URL {url} does not help: {why}. So even browsers that fetch AIA fail, as do curl, OpenSSL, Python, Java, Go and Android apps."
                ),
                (Some(url), None) => format!(
                    " Its AIA caIssuers URL {url} names where it can be fetched: browsers that fetch AIA (Chrome, Safari, Edge) hide this error, while curl, OpenSSL, Python, Java, Go and Android apps fail."
                ),
                (None, _) => " The certificate names no AIA caIssuers URL, so no client can fetch the missing issuer.".to_string(),
            };
            if let (Some(url), Some(why)) = (&aia, &failed) {
                out.push(ctx.finding(
                    Code::AiaFetchFailed,
                    Severity::Warning,
                    Some(*top),
                    "The AIA URL does not serve the missing intermediate".into(),
                    format!(
                        "{} names {url} as where its issuer can be fetched, but {why}. Clients that complete chains from AIA cannot repair this one.",
                        capital(&ctx.label(*top))
                    ),
                    &Facts {
                        intermediate: false,
                        aia_url: Some(url.clone()),
                    },
                ));
            }
            if *top == 0 || aia.is_some() {
                out.push(ctx.finding(
                    Code::IncompleteChain,
                    Severity::Critical,
                    Some(*top),
                    format!(
                        "Incomplete chain: intermediate '{}' is not sent",
                        top_cert.issuer_cn.clone().unwrap_or_else(|| top_cert.issuer.clone())
                    ),
                    format!(
                        "{} {sent} certificate{} and the issuer of {} ('{}') is neither among them nor in the trust store ({store}).{aia_text}",
                        ctx.sender(),
                        if sent == 1 { "" } else { "s" },
                        ctx.label(*top),
                        top_cert.issuer
                    ),
                    &Facts {
                        intermediate: false,
                        aia_url: aia,
                    },
                ));
            } else {
                out.push(ctx.finding(
                    Code::UntrustedRoot,
                    Severity::Critical,
                    Some(*top),
                    format!(
                        "Unknown issuer '{}'",
                        top_cert.issuer_cn.clone().unwrap_or_else(|| top_cert.issuer.clone())
                    ),
                    format!(
                        "The chain ends at {}, issued by '{}', which is neither sent nor in the trust store ({store}). Most likely a private or corporate root this store lacks; if a public CA issued it, another intermediate is missing.{aia_text}",
                        ctx.label(*top),
                        top_cert.issuer
                    ),
                    &Facts::default(),
                ));
            }
        }
    }
}

/// What went wrong fetching the issuer of `certs[top]` from AIA, if
/// certscope tried: nothing served, not a certificate, or the wrong one.
fn aia_failure(ctx: &Ctx, top: usize) -> Option<String> {
    let c = &ctx.certs[top];
    let f =
        ctx.obs.fetches.iter().find(|f| {
            f.kind == crate::report::observation::FetchKind::Aia && f.for_cert == c.sha256
        })?;
    Some(match &f.result {
        Err(e) => format!("fetching it failed ({e})"),
        Ok(body) => match crate::x509::bundle::certs_from_body(body) {
            Err(e) => e,
            Ok(ders) => {
                let names: Vec<String> = ders
                    .iter()
                    .filter_map(|d| crate::x509::cert::CertInfo::from_der(d).ok())
                    .map(|x| format!("'{}'", x.subject))
                    .collect();
                format!(
                    "it serves {}, which did not issue this certificate",
                    if names.is_empty() {
                        "an unparsable certificate".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            }
        },
    })
}

/// The server omitted intermediates that certscope fetched from AIA URLs:
/// `incomplete-chain`, naming each one and where it came from.
fn aia_completed(ctx: &Ctx, out: &mut Vec<Finding>) {
    let path = &ctx.walk.path;
    for (k, &i) in path.iter().enumerate().skip(1) {
        if i < ctx.presented {
            continue;
        }
        let Some(&child) = path.get(k - 1) else {
            continue;
        };
        if child >= ctx.presented {
            continue; // a second fetched hop is reported with the first
        }
        let fetched = &ctx.certs[i];
        let url = ctx.certs[child]
            .aia_ca_issuers
            .first()
            .cloned()
            .unwrap_or_default();
        let verifies = matches!(ctx.walk.end, PathEnd::Anchored { .. });
        out.push(ctx.finding(
            Code::IncompleteChain,
            Severity::Critical,
            Some(child),
            format!("Incomplete chain: intermediate '{}' is not sent", fetched.display_name()),
            format!(
                "{} {} certificate{} and left out the issuer of {}: '{}' (SHA-256 {}). certscope fetched it from the AIA caIssuers URL {url}{}. Browsers that fetch AIA themselves (Chrome, Safari, Edge) hide this error; OpenSSL, curl, Python, Java, Go and Android apps fail with \"unable to verify the first certificate\".",
                ctx.sender(),
                ctx.presented,
                if ctx.presented == 1 { "" } else { "s" },
                ctx.label(child),
                fetched.subject,
                fetched.sha256,
                if verifies { ", and with it the chain verifies: serving it fixes this" } else { "" }
            ),
            &Facts {
                intermediate: false,
                aia_url: Some(url),
            },
        ));
    }
}

/// expired, not-yet-valid and expiring-soon for every certificate on the path.
pub fn validity_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    for &i in &ctx.walk.path {
        let c = &ctx.certs[i];
        let label = ctx.label(i);
        let what = if i == 0 {
            "Certificate".to_string()
        } else {
            format!("Intermediate '{}'", c.display_name())
        };
        if ctx.now > c.not_after {
            out.push(ctx.finding(
                Code::Expired,
                Severity::Critical,
                Some(i),
                format!("{what} expired {}", when(c.not_after - ctx.now).trim_end_matches(" ago").to_string() + " ago"),
                format!(
                    "{} was valid from {} to {}; at {} it has been expired for {}.{}",
                    capital(&label),
                    rfc3339(c.not_before),
                    rfc3339(c.not_after),
                    rfc3339(ctx.now),
                    when(ctx.now - c.not_after).trim_start_matches("in "),
                    if i > 0 { " The leaf may be fine: the intermediate the server sends must be replaced." } else { "" }
                ),
                &intermediate(i),
            ));
        } else if ctx.now < c.not_before {
            out.push(ctx.finding(
                Code::NotYetValid,
                Severity::Critical,
                Some(i),
                format!("{what} is not valid yet (starts {})", when(c.not_before - ctx.now)),
                format!(
                    "{} is valid from {} to {}, and it is {} now (as judged). A server or client clock in the past, or a post-dated certificate, causes this.",
                    capital(&label),
                    rfc3339(c.not_before),
                    rfc3339(c.not_after),
                    rfc3339(ctx.now)
                ),
                &intermediate(i),
            ));
        } else {
            let left = c.not_after - ctx.now;
            let lifetime = (c.not_after - c.not_before).max(0);
            let (window, rule) = match ctx.opts.warn_days {
                Some(d) => (i64::from(d) * DAY, format!("--warn-days {d}")),
                None => {
                    let w = (30 * DAY).min(lifetime / 3);
                    (
                        w,
                        format!(
                            "the smaller of 30 days and a third of its {}-day lifetime",
                            lifetime / DAY
                        ),
                    )
                }
            };
            let crit = ctx.opts.crit_days.map(|d| i64::from(d) * DAY);
            let critical = crit.is_some_and(|c| left < c);
            if left < window || critical {
                out.push(ctx.finding(
                    Code::ExpiringSoon,
                    if critical {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    Some(i),
                    format!("{what} expires {}", when(left)),
                    format!(
                        "{} expires on {} ({}), inside the warning window ({rule}).{}",
                        capital(&label),
                        rfc3339(c.not_after),
                        when(left),
                        if critical {
                            " That is below --crit-days."
                        } else {
                            ""
                        }
                    ),
                    &intermediate(i),
                ));
            }
        }
    }
}

pub fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// hostname-mismatch, with the reason and the names the certificate covers.
pub fn name_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    if ctx.opts.skip_name {
        return;
    }
    let leaf = &ctx.certs[0];
    if let Err(m) = names::check(leaf, &ctx.name) {
        let covered = names::covered(leaf);
        let list = if covered.is_empty() {
            "none".to_string()
        } else {
            covered.join(", ")
        };
        out.push(ctx.finding(
            Code::HostnameMismatch,
            Severity::Critical,
            Some(0),
            format!("Certificate is not valid for {}", ctx.name),
            format!("{} Names covered: {list}.", names::explain(&m, &ctx.name)),
            &Facts::default(),
        ));
    }
}

/// ca-as-leaf, invalid-purpose, long-validity and no-sct on the leaf.
pub fn leaf_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let leaf = &ctx.certs[0];
    if leaf.is_ca {
        out.push(ctx.finding(
            Code::CaAsLeaf,
            Severity::Critical,
            Some(0),
            "A CA certificate is served as the server certificate".into(),
            format!(
                "The leaf '{}' has basicConstraints CA:TRUE. Browsers refuse CA certificates as end-entity certificates; serve a certificate issued by the CA instead.",
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
        && ctx
            .trust
            .anchors
            .get(*anchor)
            .is_some_and(|a| a.origin.is_public())
        && leaf.sct_count == 0
        && !leaf.is_self_signed()
    {
        out.push(ctx.finding(
            Code::NoSct,
            Severity::Warning,
            Some(0),
            "No Certificate Transparency proof (SCT)".into(),
            "The leaf chains to a public root but carries no embedded Signed Certificate Timestamps. Chrome and Safari require CT for publicly trusted certificates. (A server may instead send SCTs in a TLS extension or in its stapled OCSP response, which certscope does not read; embedding them is what every public CA does today.)".into(),
            &Facts::default(),
        ));
    }
}

/// weak-key and weak-signature on every certificate on the path.
pub fn crypto_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    for &i in &ctx.walk.path {
        let c = &ctx.certs[i];
        let weak_key = match c.key.kind {
            KeyKind::Rsa => c.key.bits.is_some_and(|b| b < 2048),
            KeyKind::Ec => c.key.bits.is_some_and(|b| b < 256),
            KeyKind::Dsa => true,
            _ => false,
        };
        if weak_key {
            out.push(ctx.finding(
                Code::WeakKey,
                Severity::Critical,
                Some(i),
                format!("Weak key: {} on {}", c.key.describe(), if i == 0 { "the leaf".to_string() } else { format!("'{}'", c.display_name()) }),
                format!(
                    "{} has a {} key. Clients require RSA of at least 2048 bits or ECDSA on P-256 or stronger; DSA is no longer accepted.",
                    capital(&ctx.label(i)),
                    c.key.describe()
                ),
                &intermediate(i),
            ));
        }
        let weak_sig = matches!(
            c.signature_hash,
            SigHash::Md5 | SigHash::Md2 | SigHash::Sha1
        );
        if weak_sig && !c.is_self_signed() {
            out.push(ctx.finding(
                Code::WeakSignature,
                Severity::Critical,
                Some(i),
                format!(
                    "{} is signed with {}",
                    if i == 0 { "Certificate".to_string() } else { format!("Intermediate '{}'", c.display_name()) },
                    c.signature_algorithm
                ),
                format!(
                    "{} is signed with {}, which can be forged; clients reject SHA-1 and MD5 signatures on every certificate below the root.",
                    capital(&ctx.label(i)),
                    c.signature_algorithm
                ),
                &intermediate(i),
            ));
        }
    }
}

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

/// chain-order (wrong order, duplicates, unrelated certificates) and root-sent.
/// How the sent certificates stand against the path a client builds.
pub struct SentOrder {
    /// The sent certificates on the path, in path order, then a sent anchor.
    pub order: Vec<usize>,
    /// What is wrong with the sent order, in words (empty: nothing).
    pub problems: Vec<String>,
    /// The first position where the sent order goes wrong.
    pub first_bad: Option<usize>,
}

pub fn sent_order(ctx: &Ctx) -> SentOrder {
    let w = &ctx.walk;
    let mut order: Vec<usize> = w
        .path
        .iter()
        .copied()
        .filter(|i| *i < ctx.presented)
        .collect();
    if let PathEnd::Anchored {
        sent_as: Some(s), ..
    } = &w.end
    {
        order.push(*s);
    }
    let mut problems = Vec::new();
    if w.out_of_order {
        problems.push(format!(
            "the certificates are not in issuing order (sent order of the path: {}; expected the leaf, then each issuer)",
            order.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(" → ")
        ));
    }
    for &d in &w.duplicates {
        problems.push(format!(
            "certificate #{d} ('{}') is sent twice",
            ctx.certs[d].display_name()
        ));
    }
    for &u in &w.unused {
        problems.push(format!(
            "certificate #{u} ('{}') belongs to no path from the leaf",
            ctx.certs[u].display_name()
        ));
    }
    let first_bad = w
        .duplicates
        .iter()
        .chain(w.unused.iter())
        .copied()
        .chain(
            order
                .iter()
                .enumerate()
                .filter(|(pos, i)| pos != *i)
                .map(|(pos, _)| pos),
        )
        .min();
    SentOrder {
        order,
        problems,
        first_bad,
    }
}

pub fn order_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let w = &ctx.walk;
    let sent = sent_order(ctx);
    // A file is judged by its own order instead (diagnose::file).
    if ctx.obs.origin.file().is_none() && !sent.problems.is_empty() {
        let listed: Vec<String> = ctx.certs[..ctx.presented]
            .iter()
            .enumerate()
            .map(|(i, c)| format!("#{i} {}", c.display_name()))
            .collect();
        out.push(ctx.finding(
            Code::ChainOrder,
            Severity::Warning,
            sent.first_bad,
            "Chain is sent out of order or with extra certificates".into(),
            format!(
                "{} [{}]: {}. Browsers tolerate this; older and stricter clients fail.",
                ctx.sender(),
                listed.join(", "),
                sent.problems.join("; ")
            ),
            &Facts::default(),
        ));
    }
    if let PathEnd::Anchored {
        sent_as: Some(s), ..
    } = &w.end
    {
        out.push(ctx.finding(
            Code::RootSent,
            Severity::Info,
            Some(*s),
            if ctx.obs.origin.file().is_some() {
                "The file also holds the root certificate".into()
            } else {
                "The server also sends the root certificate".into()
            },
            format!(
                "Certificate #{s} '{}' is the trust anchor itself. Clients use their own copy, so sending it only wastes bytes in every handshake.",
                ctx.certs[*s].display_name()
            ),
            &Facts::default(),
        ));
    }
}

/// Cross-check with webpki: if it refuses the chain and no critical finding
/// explains why, say so rather than report "ok".
pub fn webpki_cross_check(
    ctx: &Ctx,
    ders: &[Vec<u8>],
    path: Result<(), webpki::Error>,
    out: &mut Vec<Finding>,
) {
    if out.iter().any(|f| f.severity == Severity::Critical) {
        return;
    }
    let Some(leaf_der) = ders.first() else { return };
    let leaf = CertificateDer::from(leaf_der.as_slice());
    let result = path.and_then(|()| {
        if ctx.opts.skip_name {
            return Ok(());
        }
        let ee = webpki::EndEntityCert::try_from(&leaf)?;
        let name = ServerName::try_from(ctx.name.as_str())
            .map_err(|_| webpki::Error::MalformedDnsIdentifier)?;
        ee.verify_is_valid_for_subject_name(&name)
    });
    if let Err(e) = result {
        out.push(ctx.finding(
            Code::VerificationFailed,
            Severity::Critical,
            Some(0),
            "The chain does not verify".into(),
            format!(
                "Path validation (webpki) refuses this chain: {}.",
                crate::util::sanitize::for_terminal(&format!("{e:?}"))
            ),
            &Facts::default(),
        ));
    }
}
