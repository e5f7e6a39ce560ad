//! chain-order (wrong order, duplicates, unrelated certificates) and
//! root-sent: the sent certificates against the path a client builds.

use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};
use crate::x509::chain::PathEnd;

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
        let after_path = order.iter().all(|&p| p < u);
        if w.alternates.contains(&u) && after_path {
            problems.push(format!(
                "certificate #{u} ('{}') is another issuer of a certificate on the path (a cross-certificate or an older copy) that clients building this path do not use: harmless, but it costs bytes in every handshake",
                ctx.certs[u].display_name()
            ));
        } else if w.alternates.contains(&u) {
            problems.push(format!(
                "certificate #{u} ('{}') is another issuer of a certificate on the path (a cross-certificate or an older copy), sent before the one clients use: clients that take the certificates in the order sent pick it and fail, so send it after the path or not at all",
                ctx.certs[u].display_name()
            ));
        } else if let Some(&p) = w
            .path
            .iter()
            .find(|&&p| ctx.certs[u].could_issue(&ctx.certs[p]))
        {
            problems.push(format!(
                "certificate #{u} ('{}') has the name of the issuer of #{p} but not its key (a certificate from another issuance), so it issued nothing sent",
                ctx.certs[u].display_name()
            ));
        } else {
            problems.push(format!(
                "certificate #{u} ('{}') belongs to no path from the leaf",
                ctx.certs[u].display_name()
            ));
        }
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
    size_finding(ctx, out);
    let w = &ctx.walk;
    let sent = sent_order(ctx);
    // A file is judged by its own order instead (diagnose::file).
    if ctx.obs.origin.file().is_none() && !sent.problems.is_empty() {
        let listed: Vec<String> = ctx.certs[..ctx.presented]
            .iter()
            .enumerate()
            .map(|(i, c)| format!("#{i} {}", c.display_name()))
            .collect();
        // Only harmless extras after the path, in order: information.
        let harmless = !w.out_of_order
            && w.duplicates.is_empty()
            && w.unused
                .iter()
                .all(|u| w.alternates.contains(u) && sent.order.iter().all(|p| p < u));
        out.push(ctx.finding(
            Code::ChainOrder,
            if harmless {
                Severity::Info
            } else {
                Severity::Warning
            },
            sent.first_bad,
            "Chain is sent out of order or with extra certificates".into(),
            format!(
                "{} [{}]: {}. {}",
                ctx.sender(),
                crate::util::sanitize::and_more(&listed, 12, ", "),
                crate::util::sanitize::and_more(&sent.problems, 6, "; "),
                if harmless {
                    "Clients build the path without them; old clients may use a cross-certificate to reach an older root."
                } else {
                    "Browsers tolerate this; older and stricter clients fail."
                }
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
            if ctx.obs.origin.file().is_some() {
                format!(
                    "Certificate #{s} '{}' is the trust anchor itself. Clients use their own copy, so a server given this file would only waste bytes sending it in every handshake.",
                    ctx.certs[*s].display_name()
                )
            } else {
                format!(
                    "Certificate #{s} '{}' is the trust anchor itself. Clients use their own copy, so sending it only wastes bytes in every handshake.",
                    ctx.certs[*s].display_name()
                )
            },
            &Facts::default(),
        ));
    }
}

/// oversized-chain: a Certificate message rustls refused (over 64 KiB),
/// captured over TLS 1.2 by certscope's own reader.
fn size_finding(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(n) = ctx
        .obs
        .tls
        .as_ref()
        .and_then(|t| t.certificate_message_bytes)
    else {
        return;
    };
    // OpenSSL (and so curl) refuses certificate lists over 100 KiB.
    let severity = if n > 100 * 1024 {
        Severity::Critical
    } else {
        Severity::Warning
    };
    out.push(ctx.finding(
        Code::OversizedChain,
        severity,
        None,
        format!(
            "The certificate chain is too large for some clients ({} KiB)",
            n.div_ceil(1024)
        ),
        format!(
            "The server's Certificate message is {n} bytes with {} certificates. rustls-based clients refuse handshake messages over 64 KiB and OpenSSL (curl) refuses certificate lists over 100 KiB; certscope read it over TLS 1.2 with its own reader. Send only the leaf and the intermediates it needs, and keep the leaf's name list short.",
            ctx.presented
        ),
        &Facts::default(),
    ));
}
