//! Findings only a chain read from a file has: the order inside the file
//! (which certificate is where, and the exact commands that rebuild it),
//! and whether the private key given with `--key` belongs to the leaf.
//!
//! The file's positions travel in the observation's origin, so these are
//! worded right the first time; nothing edits them afterwards.

use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::diagnose::rules::SentOrder;
use crate::report::finding::{Code, Finding, FixStep, Severity};
use crate::report::observation::FileSource;
use crate::util::shell::quote;
use crate::x509::private_key::fingerprint;

/// Ordinal position in the file, 1-based, for people.
fn nth(i: usize) -> String {
    format!("no. {}", i + 1)
}

/// `chain-order` for a file that does not hold exactly the leaf, then each
/// issuer: what is where, and the right order by position in the file.
pub fn order_finding(ctx: &Ctx, file: &FileSource, sent: &SentOrder, out: &mut Vec<Finding>) {
    let positions = &file.positions;
    let leaf_moved = positions.first().is_some_and(|&l| l != 0);
    if sent.problems.is_empty() && !leaf_moved {
        return;
    }
    let blame = if sent.problems.is_empty() {
        Some(0)
    } else {
        sent.first_bad
    };
    let ders = &ctx.obs.chain;
    // The file position of chain entry k, and the certificate at position p.
    let at_pos = |p: usize| positions.iter().position(|&q| q == p);
    let der_at = |p: usize| at_pos(p).and_then(|k| ders.get(k));
    let name_at = |p: usize| -> String {
        at_pos(p)
            .and_then(|k| ctx.certs.get(k))
            .map(|c| c.display_name())
            .unwrap_or_else(|| "(unparsable)".into())
    };
    // The right order: the path (and a sent root), by file position.
    let right: Vec<usize> = sent
        .order
        .iter()
        .filter_map(|&k| positions.get(k).copied())
        .collect();
    let held: Vec<String> = (0..ders.len())
        .map(|p| format!("{} '{}'", nth(p), name_at(p)))
        .collect();
    let mut problems = Vec::new();
    if leaf_moved {
        problems.push(format!(
            "the leaf ('{}') is {}, not first; most servers take the first certificate of the file as their own, so they present the wrong one or refuse to start (nginx: key values mismatch)",
            name_at(positions[0]),
            nth(positions[0])
        ));
    }
    for p in 0..ders.len() {
        if right.contains(&p) {
            continue;
        }
        let this = der_at(p);
        match (0..p).find(|&q| this.is_some() && der_at(q) == this) {
            Some(first) => problems.push(format!("{} repeats {}", nth(p), nth(first))),
            None => problems.push(format!(
                "{} ('{}') belongs to no path from the leaf",
                nth(p),
                name_at(p)
            )),
        }
    }
    if problems.is_empty() {
        problems.push("the certificates are not in issuing order".into());
    }
    let right_text: Vec<String> = right.iter().map(|&p| (p + 1).to_string()).collect();
    let detail = format!(
        "The file holds, in this order: {}. A chain file lists the leaf first, then each issuer, and nothing else: {}. The right order is {}.",
        held.join(", "),
        problems.join("; "),
        right_text.join(", ")
    );
    let mut fix = crate::diagnose::fix::steps(Code::ChainOrder, &ctx.fix, &Facts::default());
    if file.pem {
        let cats: Vec<String> = right
            .iter()
            .map(|p| format!("cert-{}.pem", p + 1))
            .collect();
        let split = FixStep::cmd(
            "Rebuild it from this file: split it into one file per certificate, then join them in the right order",
            format!(
                "awk '/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/{{n++; p=1}} p{{print > (\"cert-\" n \".pem\")}} /-----END (X509 |TRUSTED )?CERTIFICATE-----/{{p=0}}' {} && cat {} > fullchain.pem",
                quote(&file.path),
                cats.join(" ")
            ),
        );
        // It takes the place of the generic "cat leaf.pem intermediate.pem".
        match fix
            .iter()
            .position(|s| s.command.as_deref().is_some_and(|c| c.starts_with("cat ")))
        {
            Some(i) => fix[i] = split,
            None => fix.insert(1.min(fix.len()), split),
        }
    }
    out.push(Finding {
        code: Code::ChainOrder,
        severity: Severity::Warning,
        cert: blame,
        title: "The certificates in the file are out of order or include extra ones".into(),
        detail,
        clients: crate::diagnose::clients::clients(Code::ChainOrder, false),
        fix,
        addresses: Vec::new(),
    });
}

/// `key-mismatch` when the `--key` file's public half is not the leaf's.
pub fn key_finding(ctx: &Ctx, file: &FileSource, out: &mut Vec<Finding>) {
    let (Some((key_shown, key)), Some(leaf)) = (&file.key, ctx.certs.first()) else {
        return;
    };
    if key.matches(&leaf.spki_der) {
        return;
    }
    out.push(ctx.finding(
        Code::KeyMismatch,
        Severity::Critical,
        Some(0),
        "The private key does not belong to the certificate".into(),
        format!(
            "The key in {key_shown} ({}) has the public key SHA-256 {}, the leaf certificate ({}, {}) has {}. A server given this pair refuses to start or fails every handshake.",
            key.kind,
            fingerprint(&key.spki),
            leaf.display_name(),
            leaf.key.describe(),
            fingerprint(&leaf.spki_der)
        ),
        &Facts::default(),
    ));
}
