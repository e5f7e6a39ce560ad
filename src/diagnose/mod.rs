//! Diagnosis: a pure function of (observation, trust anchors, instant,
//! options). No I/O and no clock reads, so every rule is table-testable.
//!
//! Order of work: take the parsed chain (or parse what was presented),
//! validate it with webpki once, walk it to the trust store, run the rule
//! families (`rules/`, and `file.rs` for chains read from files), judge
//! revocation, then cross-check with webpki's verdict so certscope never
//! calls "fine" what webpki refuses. The status is decided in one place.
//!
//! Owns: findings, fix steps and what clients show. Never imports `probe`,
//! `fetch`, `run`, a mode, clap or the terminal.

pub mod clients;
pub mod compare;
pub mod ctx;
pub mod endpoints;
pub mod file;
pub mod fix;
pub mod revocation;
pub mod rules;

use crate::diagnose::fix::{Facts, FixContext};
use crate::diagnose::revocation::{IssuerKey, RevState};
use crate::report::finding::{Code, Finding, Severity, Status, sort_findings};
use crate::report::observation::{ConnCode, FetchKind, Observation};
use crate::report::{ChainEntry, Report, Source};
use crate::x509::chain::{Chain, PathEnd};
use crate::x509::trust::TrustStore;

pub use ctx::{Ctx, DiagnoseOptions};

fn conn_code(c: ConnCode) -> Code {
    match c {
        ConnCode::Unreachable => Code::Unreachable,
        ConnCode::Timeout => Code::Timeout,
        ConnCode::NotTls => Code::NotTls,
        ConnCode::ProtocolUnsupported => Code::ProtocolUnsupported,
        ConnCode::StarttlsFailed => Code::StarttlsFailed,
        ConnCode::HandshakeFailed => Code::HandshakeFailed,
    }
}

fn conn_title(c: Code) -> &'static str {
    match c {
        Code::Unreachable => "Cannot connect",
        Code::Timeout => "Timed out",
        Code::NotTls => "The server does not speak TLS on this port",
        Code::ProtocolUnsupported => "Only an outdated TLS version or no common cipher suite",
        Code::StarttlsFailed => "STARTTLS failed",
        _ => "TLS handshake failed",
    }
}

/// A connection failure's message (a clause, so it also reads inside
/// other sentences) as a sentence of its own: capitalised, ending with a
/// period. The step it failed at stays data (`ConnFailure::step`).
pub fn sentence(message: &str) -> String {
    let trimmed = message.trim();
    let mut out = rules::capital(trimmed);
    if out.is_empty() {
        return "The connection failed.".into();
    }
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Diagnose one observation at instant `now` (unix seconds), parsing its
/// certificates (and those its AIA fetches brought) here.
pub fn diagnose(obs: &Observation, trust: &TrustStore, now: i64, opts: &DiagnoseOptions) -> Report {
    let mut chain = chain_of(obs);
    diagnose_chain(obs, &mut chain, trust, now, opts)
}

/// The parsed chain of an observation: what was presented, then the
/// certificates its AIA fetches brought (for observations that did not
/// come through the fetch stage with their chain).
pub fn chain_of(obs: &Observation) -> Chain {
    let mut chain = Chain::parse(&obs.chain);
    if chain.leaf_parsed {
        for f in obs.fetches.iter().filter(|f| f.kind == FetchKind::Aia) {
            if let Ok(body) = &f.result
                && let Ok(ders) = crate::x509::bundle::certs_from_body(body)
            {
                chain.extend_fetched(&ders, &f.url);
            }
        }
    }
    chain
}

/// Diagnose one observation whose certificates are already parsed in
/// `chain` (the runner's path: parsed once, extended by AIA, walked once).
pub fn diagnose_chain(
    obs: &Observation,
    chain: &mut Chain,
    trust: &TrustStore,
    now: i64,
    opts: &DiagnoseOptions,
) -> Report {
    let name = obs.target.verify_name();
    // The address this observation connected to, when it was given.
    let given = obs
        .address
        .map(|a| a.ip())
        .filter(|ip| obs.target.connect_addrs.contains(ip))
        .or(obs.target.connect_addrs.first().copied());
    let connect = match given {
        Some(ip) if ip.is_ipv6() => format!("[{ip}]:{}", obs.target.port),
        Some(ip) => format!("{ip}:{}", obs.target.port),
        None => obs.target.host_port(),
    };
    let mut fix = FixContext::new(connect, name.clone());
    fix.starttls = obs.target.starttls;
    fix.ca_file = trust.anchors.iter().find_map(|a| match &a.origin {
        crate::x509::trust::AnchorOrigin::CaFile(p) => Some(p.display().to_string()),
        _ => None,
    });
    // A chain read from a file: its commands read that file.
    if let Some(f) = obs.origin.file() {
        fix.file = Some(f.path.clone());
        fix.file_pem = f.pem;
        fix.check_name = f.name_given;
        fix.leaf_in_file = f.positions.first().copied().unwrap_or(0);
        fix.key_file = f.key.as_ref().map(|(k, _)| k.clone());
    }
    // Where the certificates came from, as the chain shows it.
    let sent = if obs.origin.file().is_some() {
        Source::File
    } else {
        Source::Server
    };
    let mut findings = Vec::new();

    // Connection failure: one finding, say what happened.
    if let Some(err) = &obs.error {
        let code = conn_code(err.code);
        findings.push(Finding {
            code,
            severity: Severity::Critical,
            cert: None,
            title: conn_title(code).to_string(),
            detail: sentence(&err.message),
            clients: crate::diagnose::clients::connection_clients(code, err.step),
            fix: crate::diagnose::fix::steps(code, &fix, &Facts::default()),
            addresses: Vec::new(),
        });
    }

    // Unparsable certificates are reported and left out.
    for (i, e) in &chain.unparsable {
        let i = *i;
        findings.push(Finding {
            code: Code::VerificationFailed,
            severity: Severity::Critical,
            cert: None,
            title: format!("Certificate #{i} as sent cannot be parsed"),
            detail: format!("Certificate #{i} in the order the server sent them is not a valid X.509 certificate: {e}. No client will accept it."),
            clients: crate::diagnose::clients::clients(Code::VerificationFailed, i > 0),
            fix: crate::diagnose::fix::steps(Code::VerificationFailed, &fix, &Facts::default()),
            addresses: Vec::new(),
        });
    }

    let mut report = Report {
        target: obs.target.clone(),
        label: match obs.origin.file() {
            Some(f) => f.path.clone(),
            None => obs.target.host_port(),
        },
        address: obs.address,
        name: name.clone(),
        status: Status::Error,
        checked_at: obs.started_at,
        evaluated_at: now,
        elapsed_ms: obs.timings.total_ms,
        tls: obs.tls.clone(),
        chain: Vec::new(),
        path: Vec::new(),
        findings: Vec::new(),
        error: obs.error.clone(),
        reproduce: fix.reproduce(),
        endpoints: Vec::new(),
    };
    if chain.certs.is_empty() || !chain.leaf_parsed {
        if obs.error.is_none() && findings.is_empty() {
            findings.push(Finding {
                code: Code::HandshakeFailed,
                severity: Severity::Critical,
                cert: None,
                title: "No certificate was presented".into(),
                detail: "The handshake finished without a server certificate.".into(),
                clients: crate::diagnose::clients::clients(Code::HandshakeFailed, false),
                fix: crate::diagnose::fix::steps(Code::HandshakeFailed, &fix, &Facts::default()),
                addresses: Vec::new(),
            });
        }
        report.status = status(&findings, !obs.chain.is_empty());
        report.chain = std::mem::take(&mut chain.certs)
            .into_iter()
            .map(|info| ChainEntry {
                info,
                source: sent,
                revocation: None,
                fetched_from: None,
            })
            .collect();
        sort_findings(&mut findings);
        report.findings = findings;
        return report;
    }

    // webpki's verdict first: on a valid chain it verifies each link once
    // and hands the results to the walk (no second verification).
    let webpki = chain.webpki_verdict(trust, now);
    let Some(walk) = chain.walk(trust, now).cloned() else {
        return report;
    };
    let presented = chain.presented;
    let certs = &chain.certs;
    let ctx = Ctx {
        certs,
        trust,
        now,
        opts,
        fix,
        name,
        walk,
        presented,
        obs,
    };
    rules::trust_findings(&ctx, &mut findings);
    rules::validity_findings(&ctx, &mut findings);
    rules::name_findings(&ctx, &mut findings);
    rules::leaf_findings(&ctx, &mut findings);
    rules::crypto_findings(&ctx, &mut findings);
    rules::path_findings(&ctx, &mut findings);
    rules::order_findings(&ctx, &mut findings);
    if let Some(f) = obs.origin.file() {
        file::order_finding(&ctx, f, &rules::sent_order(&ctx), &mut findings);
    }
    let revocation = revocation_findings(&ctx, &mut findings);
    rules::webpki_cross_check(&ctx, webpki, &mut findings);
    if let Some(f) = obs.origin.file() {
        file::key_finding(&ctx, f, &mut findings);
    }
    compare::deployed_findings(&ctx, &mut findings);
    compare::sni_findings(&ctx, &mut findings);

    // The chain as the report shows it: what was sent, then the store anchor.
    let mut path: Vec<usize> = ctx.walk.path.clone();
    let mut chain: Vec<ChainEntry> = certs
        .iter()
        .cloned()
        .zip(revocation)
        .enumerate()
        .map(|(i, (info, revocation))| ChainEntry {
            info,
            source: if i < presented { sent } else { Source::Aia },
            revocation,
            fetched_from: i
                .checked_sub(presented)
                .and_then(|k| chain.fetched_from.get(k).cloned()),
        })
        .collect();
    if let PathEnd::Anchored { anchor, sent_as } = &ctx.walk.end {
        match sent_as {
            Some(i) => path.push(*i),
            None => {
                let a = trust.anchors.get(*anchor);
                let already = path.first().is_some_and(|_| {
                    ctx.walk.path.len() == 1 && trust.contains(&certs[0]).is_some()
                });
                if let Some(info) = a.and_then(|a| a.cert())
                    && !already
                {
                    chain.push(ChainEntry {
                        info,
                        source: Source::Store,
                        revocation: None,
                        fetched_from: None,
                    });
                    path.push(chain.len() - 1);
                }
            }
        }
    }
    sort_findings(&mut findings);
    report.status = status(&findings, true);
    report.chain = chain;
    report.path = path;
    report.findings = findings;
    report
}

/// A report's status, decided here only: `error` when no certificate was
/// obtained (nothing could be judged), else the worst finding's severity.
pub(crate) fn status(findings: &[Finding], got_certificates: bool) -> Status {
    if !got_certificates {
        return Status::Error;
    }
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Critical) => Status::Critical,
        Some(Severity::Warning) => Status::Warning,
        _ => Status::Ok,
    }
}

/// Judge revocation for every certificate on the path (and the staple);
/// returns each certificate's state, indexed like `ctx.certs`.
fn revocation_findings(ctx: &Ctx, findings: &mut Vec<Finding>) -> Vec<Option<RevState>> {
    let mut states: Vec<Option<RevState>> = vec![None; ctx.certs.len()];
    let path = &ctx.walk.path;
    let issuer_of = |k: usize| -> Option<IssuerKey<'_>> {
        match path.get(k + 1) {
            Some(&j) => Some(IssuerKey {
                subject_raw: &ctx.certs[j].subject_raw,
                spki_der: &ctx.certs[j].spki_der,
            }),
            None => match &ctx.walk.end {
                PathEnd::Anchored { anchor, .. } => {
                    ctx.trust.anchors.get(*anchor).map(|a| IssuerKey {
                        subject_raw: &a.subject_raw,
                        spki_der: &a.spki_der,
                    })
                }
                _ => None,
            },
        }
    };
    for (k, &i) in path.iter().enumerate() {
        let c = &ctx.certs[i];
        if c.is_self_signed() {
            states[i] = Some(RevState::NotChecked {
                reason: "a self-signed certificate has no issuer to revoke it".into(),
            });
            continue;
        }
        let staple = if i == 0 {
            ctx.obs.ocsp_stapled.as_deref()
        } else {
            None
        };
        let state =
            crate::diagnose::revocation::judge_cert(ctx.obs, c, issuer_of(k), staple, ctx.now);
        crate::diagnose::revocation::findings(ctx, i, &state, findings);
        states[i] = Some(state);
    }
    crate::diagnose::revocation::staple_findings(ctx, ctx.obs, issuer_of(0), findings);
    states
}
