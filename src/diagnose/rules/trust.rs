//! self-signed, untrusted-root and incomplete-chain: where the walk to the
//! trust store ended, and what AIA fetching found on the way.

use super::capital;
use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};
use crate::x509::chain::PathEnd;

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
                        ..Facts::default()
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
                        ..Facts::default()
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
                ..Facts::default()
            },
        ));
    }
}
