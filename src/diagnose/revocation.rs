//! Revocation, judged purely from what was fetched (CRLs first, then OCSP)
//! and what the server stapled. "Could not check" is never "revoked" and
//! never "fine": it is `revocation-unknown`, saying what was tried.

use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};
use crate::report::observation::{Checked, Fetch, FetchKind, Observation};
use crate::report::rfc3339;
use crate::x509::cert::CertInfo;
use crate::x509::crl::{self, CrlVerdict};
use crate::x509::ocsp::{self, OcspVerdict};

pub use crate::report::RevState;

/// The issuer a certificate's revocation evidence must be signed by.
pub struct IssuerKey<'a> {
    pub subject_raw: &'a [u8],
    pub spki_der: &'a [u8],
}

/// One piece of evidence and what it said.
struct Evidence {
    source: String,
    verdict: Verdict,
}

enum Verdict {
    Good,
    Revoked { time: i64, reason: Option<String> },
    Unusable(String),
}

fn from_crl(v: CrlVerdict) -> Verdict {
    match v {
        CrlVerdict::Good { .. } => Verdict::Good,
        CrlVerdict::Revoked { time, reason, .. } => Verdict::Revoked { time, reason },
        CrlVerdict::Stale { next_update, .. } => Verdict::Unusable(format!(
            "the CRL is stale (its nextUpdate was {})",
            rfc3339(next_update)
        )),
        CrlVerdict::Invalid(why) => Verdict::Unusable(why),
    }
}

fn from_ocsp(v: OcspVerdict) -> Verdict {
    match v {
        OcspVerdict::Good { .. } => Verdict::Good,
        OcspVerdict::Revoked { time, reason, .. } => Verdict::Revoked { time, reason },
        OcspVerdict::Unknown => {
            Verdict::Unusable("the responder answered \"unknown\" for this certificate".into())
        }
        OcspVerdict::Invalid(why) => Verdict::Unusable(why),
    }
}

fn fetched<'a>(
    obs: &'a Observation,
    kind: FetchKind,
    cert: &CertInfo,
) -> impl Iterator<Item = &'a Fetch> {
    let id = cert.sha256.clone();
    obs.fetches
        .iter()
        .filter(move |f| f.kind == kind && f.for_cert == id)
}

/// Judge one certificate; `staple` is the stapled response (leaf only).
/// Returns the state and the findings it warrants.
pub fn judge_cert(
    obs: &Observation,
    cert: &CertInfo,
    issuer: Option<IssuerKey<'_>>,
    staple: Option<&[u8]>,
    now: i64,
) -> RevState {
    let Some(issuer) = issuer else {
        return RevState::NotChecked {
            reason: "the issuer is unknown, so no CRL or OCSP answer can be verified".into(),
        };
    };
    let mut evidence = Vec::new();
    if let Some(s) = staple {
        evidence.push(Evidence {
            source: "OCSP staple".into(),
            verdict: from_ocsp(match &obs.staple_checked {
                // Checked once by the fetch stage at this instant.
                Some((at, v)) if *at == now => v.clone(),
                _ => ocsp::check(s, cert, issuer.subject_raw, issuer.spki_der, now),
            }),
        });
    }
    for f in fetched(obs, FetchKind::Crl, cert) {
        let verdict = match &f.result {
            Ok(body) => from_crl(match &f.checked {
                // Checked once by the fetch stage at this instant.
                Some((at, Checked::Crl(v))) if *at == now => v.clone(),
                _ => crl::check(body, cert, issuer.subject_raw, issuer.spki_der, now),
            }),
            Err(e) => Verdict::Unusable(format!("fetching it failed: {e}")),
        };
        evidence.push(Evidence {
            source: format!("CRL {}", f.url),
            verdict,
        });
    }
    for f in fetched(obs, FetchKind::Ocsp, cert) {
        let verdict = match &f.result {
            Ok(body) => from_ocsp(match &f.checked {
                Some((at, Checked::Ocsp(v))) if *at == now => v.clone(),
                _ => ocsp::check(body, cert, issuer.subject_raw, issuer.spki_der, now),
            }),
            Err(e) => Verdict::Unusable(format!("the query failed: {e}")),
        };
        evidence.push(Evidence {
            source: format!("OCSP {}", f.url),
            verdict,
        });
    }
    let label = |s: &str| {
        if s == "OCSP staple" {
            s.to_string()
        } else {
            s.split(' ').next().unwrap_or(s).to_string()
        }
    };
    for e in &evidence {
        if let Verdict::Revoked { time, reason } = &e.verdict {
            return RevState::Revoked {
                source: label(&e.source),
                url: e
                    .source
                    .split_once(' ')
                    .map(|(_, u)| u.to_string())
                    .filter(|u| u.contains("://")),
                time: rfc3339(*time),
                reason: reason.clone(),
            };
        }
    }
    if let Some(e) = evidence.iter().find(|e| matches!(e.verdict, Verdict::Good)) {
        return RevState::Good {
            source: label(&e.source),
        };
    }
    if evidence.is_empty() {
        let has_locations = !cert.crl_urls.is_empty() || !cert.aia_ocsp.is_empty();
        return RevState::NotChecked {
            reason: if !obs.revocation_checked {
                "revocation lookups are off (--no-revocation, or a file)".into()
            } else if has_locations {
                "no lookup could be made".into()
            } else {
                "the certificate names no CRL or OCSP location".into()
            },
        };
    }
    let tried: Vec<String> = evidence
        .iter()
        .map(|e| match &e.verdict {
            Verdict::Unusable(why) => format!("{}: {why}", e.source),
            _ => e.source.clone(),
        })
        .collect();
    RevState::Unknown {
        reason: tried.join("; "),
    }
}

/// Findings for a judged certificate at chain index `i`.
pub fn findings(
    ctx: &crate::diagnose::ctx::Ctx,
    i: usize,
    state: &RevState,
    out: &mut Vec<Finding>,
) {
    let facts = Facts {
        intermediate: i > 0,
        ..Facts::default()
    };
    let what = if i == 0 {
        "Certificate".to_string()
    } else {
        format!("Intermediate '{}'", ctx.certs[i].display_name())
    };
    match state {
        RevState::Revoked {
            source,
            url,
            time,
            reason,
        } => out.push(ctx.finding(
            Code::Revoked,
            Severity::Critical,
            Some(i),
            format!(
                "{what} was revoked on {}{}",
                time.get(..10).unwrap_or(time),
                reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
            ),
            format!(
                "{} was revoked at {time}{}, according to the {}. Clients that check revocation refuse it; it must be replaced, not just re-served.",
                crate::diagnose::rules::capital(&ctx.label(i)),
                reason.as_ref().map(|r| format!(" (reason {r})")).unwrap_or_default(),
                match (source.as_str(), url) {
                    ("CRL", Some(u)) => format!("CRL at {u}"),
                    ("OCSP", Some(u)) => format!("OCSP responder at {u}"),
                    (s, _) => s.to_string(),
                }
            ),
            &facts,
        )),
        RevState::Unknown { reason } => out.push(ctx.finding(
            Code::RevocationUnknown,
            Severity::Warning,
            Some(i),
            format!("{what}: revocation status unknown"),
            format!(
                "{} names revocation locations, but none answered usably. Tried: {reason}. This is not a verdict: the certificate may be fine or revoked.",
                crate::diagnose::rules::capital(&ctx.label(i))
            ),
            &facts,
        )),
        RevState::Good { .. } | RevState::NotChecked { .. } => {}
    }
}

/// must-staple-missing and the stapled response's own info finding.
pub fn staple_findings(
    ctx: &crate::diagnose::ctx::Ctx,
    obs: &Observation,
    issuer: Option<IssuerKey<'_>>,
    out: &mut Vec<Finding>,
) {
    let leaf = &ctx.certs[0];
    if obs.tls.is_none() {
        return;
    }
    match &obs.ocsp_stapled {
        None if leaf.must_staple => out.push(ctx.finding(
            Code::MustStapleMissing,
            Severity::Critical,
            Some(0),
            "Must-staple certificate without a stapled OCSP response".into(),
            "The leaf carries the TLS Feature extension (status_request, \"OCSP must-staple\"), so the server must staple an OCSP response to every handshake; it sent none. Firefox refuses the connection.".into(),
            &Facts::default(),
        )),
        None => {}
        Some(staple) => {
            let text = match issuer {
                None => "a stapled OCSP response that cannot be verified (the issuer is unknown)".to_string(),
                Some(k) => match match &obs.staple_checked {
                    Some((at, v)) if *at == ctx.now => v.clone(),
                    _ => ocsp::check(staple, leaf, k.subject_raw, k.spki_der, ctx.now),
                } {
                    OcspVerdict::Good { produced_at, next_update, .. } => format!(
                        "a valid stapled OCSP response: good, produced {}{}",
                        crate::diagnose::rules::when(produced_at - ctx.now),
                        next_update.map(|n| format!(", valid until {}", rfc3339(n))).unwrap_or_default()
                    ),
                    OcspVerdict::Revoked { time, .. } => format!("a stapled OCSP response saying the certificate was revoked at {}", rfc3339(time)),
                    OcspVerdict::Unknown => "a stapled OCSP response saying \"unknown\"".into(),
                    OcspVerdict::Invalid(why) => format!("a stapled OCSP response that is not usable: {why}"),
                },
            };
            out.push(ctx.finding(
                Code::OcspStapled,
                Severity::Info,
                Some(0),
                "The server staples an OCSP response".into(),
                format!("The server sent {text}."),
                &Facts::default(),
            ));
        }
    }
}
