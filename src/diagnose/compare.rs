//! What one handshake alone cannot show: the served certificate against the
//! deployed files (`--expect-cert`, `--expect-key`), and the server's
//! answer with SNI against its answer without (`--compare-no-sni`).

use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix;
use crate::report::finding::{Code, Finding, Severity};
use crate::x509::cert::CertInfo;
use crate::x509::private_key::fingerprint;

/// A finding on the leaf (the callers return early without one).
fn finding(
    code: Code,
    severity: Severity,
    title: String,
    detail: String,
    steps: Vec<crate::report::finding::FixStep>,
) -> Finding {
    Finding {
        code,
        severity,
        cert: Some(0),
        title,
        detail,
        clients: crate::diagnose::clients::clients(code, false),
        fix: steps,
        addresses: Vec::new(),
    }
}

/// Which of two certificates is newer: by notBefore, then by serial (a
/// longer serial, then the larger one, counts as later only as a tiebreak).
fn newer(a: &CertInfo, b: &CertInfo) -> std::cmp::Ordering {
    a.not_before
        .cmp(&b.not_before)
        .then_with(|| a.serial.len().cmp(&b.serial.len()))
        .then_with(|| a.serial.cmp(&b.serial))
}

fn describe(c: &CertInfo) -> String {
    format!(
        "{} (serial {}, valid {} to {}, SHA-256 {})",
        c.display_name(),
        c.serial,
        crate::report::rfc3339(c.not_before),
        crate::report::rfc3339(c.not_after),
        c.sha256
    )
}

/// `disk-mismatch` and `key-mismatch` against the deployed files.
pub fn deployed_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(d) = &ctx.obs.deployed else { return };
    let Some(leaf) = ctx.certs.first() else {
        return;
    };
    if let Some((file, read)) = &d.cert {
        match read {
            Err(e) => out.push(finding(
                Code::DiskMismatch,
                Severity::Warning,
                "The deployed certificate file cannot be read".into(),
                format!("{e}; the served certificate could not be compared with it."),
                Vec::new(),
            )),
            Ok(der) if *der != leaf.der => {
                let disk = CertInfo::from_der(der);
                let (title, detail, disk_newer) = match &disk {
                    Err(e) => (
                        "The deployed certificate file holds no readable certificate".to_string(),
                        format!("{file}: {e}."),
                        false,
                    ),
                    Ok(disk) if newer(disk, leaf).is_gt() => (
                        "The server still serves the old certificate: it was not reloaded"
                            .to_string(),
                        format!(
                            "{file} holds {}, newer than the served {}. The certificate was renewed on disk but the server still has the old one in memory: reload it.",
                            describe(disk),
                            describe(leaf)
                        ),
                        true,
                    ),
                    Ok(disk) => (
                        "The deployed certificate file is older than what the server serves"
                            .to_string(),
                        format!(
                            "{file} holds {}, while the server serves the newer {}. The deployment missed this copy, or the server reads another file.",
                            describe(disk),
                            describe(leaf)
                        ),
                        false,
                    ),
                };
                out.push(finding(
                    Code::DiskMismatch,
                    Severity::Warning,
                    title,
                    detail,
                    fix::disk_steps(&ctx.fix, file, disk_newer),
                ));
            }
            Ok(_) => {}
        }
    }
    if let Some((file, read)) = &d.key {
        // The deployed certificate, when it was read.
        let disk = d.cert.as_ref().and_then(|(f, r)| {
            let der = r.as_ref().ok()?;
            Some((f, CertInfo::from_der(der).ok()?))
        });
        let (title, detail) = match read {
            Err(e) => (
                "The deployed key file cannot be read".to_string(),
                format!("{e}; it could not be compared with the served certificate."),
            ),
            // The key of the served certificate, or of the deployed one
            // (renewed together, not yet reloaded: disk-mismatch says so).
            Ok(key)
                if key.matches(&leaf.spki_der)
                    || disk.as_ref().is_some_and(|(_, c)| key.matches(&c.spki_der)) =>
            {
                return;
            }
            Ok(key) => {
                let against = match &disk {
                    Some((f, c)) if c.der != leaf.der => format!(
                        "neither the served leaf ({}, public key SHA-256 {}) nor the certificate in {f} ({})",
                        leaf.display_name(),
                        fingerprint(&leaf.spki_der),
                        fingerprint(&c.spki_der)
                    ),
                    _ => format!(
                        "the served leaf ({}, {}) has {}",
                        leaf.display_name(),
                        leaf.key.describe(),
                        fingerprint(&leaf.spki_der)
                    ),
                };
                (
                    "The deployed private key does not belong to the certificate".to_string(),
                    format!(
                        "The key in {file} ({}) has the public key SHA-256 {}; {against}. A server given this key with that certificate refuses to start or fails every handshake: the next reload fails.",
                        key.kind,
                        fingerprint(&key.spki),
                    ),
                )
            }
        };
        out.push(finding(
            Code::KeyMismatch,
            Severity::Critical,
            title,
            detail,
            fix::key_steps(&ctx.fix, file),
        ));
    }
}

/// `sni-default-differs` / `sni-required` from the handshake without SNI.
pub fn sni_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(n) = &ctx.obs.no_sni else { return };
    let Some(leaf) = ctx.certs.first() else {
        return;
    };
    match (&n.leaf, &n.error) {
        (Some(der), _) if *der == leaf.der => {}
        (Some(der), _) => {
            let other = CertInfo::from_der(der)
                .map(|c| describe(&c))
                .unwrap_or_else(|e| format!("an unparsable certificate ({e})"));
            out.push(finding(
                Code::SniDefaultDiffers,
                Severity::Info,
                "Clients without SNI get another certificate".into(),
                format!(
                    "With SNI {} the server presents {}; without SNI it presents its default, {}. Browsers always send SNI; clients that do not (Android 2.x, Java 6, IE on Windows XP, monitoring by IP address) see the default.",
                    ctx.name,
                    describe(leaf),
                    other
                ),
                fix::sni_steps(&ctx.fix),
            ));
        }
        (None, err) => {
            let why = err
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| "no certificate was presented".into());
            out.push(finding(
                Code::SniRequired,
                Severity::Info,
                "Clients without SNI cannot connect".into(),
                format!(
                    "Without SNI the handshake fails: {why}. Browsers always send SNI; clients that do not (Android 2.x, Java 6, IE on Windows XP, monitoring by IP address) fail."
                ),
                fix::sni_steps(&ctx.fix),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnose::{DiagnoseOptions, diagnose};
    use crate::report::observation::{ConnCode, ConnFailure, NoSni};
    use crate::testkit::{DAY, T0, TestPki, observation};

    fn codes(r: &crate::report::Report) -> Vec<&'static str> {
        r.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn a_failure_without_sni_says_which_clients_break() {
        let pki = TestPki::new();
        let chain = pki.chain(&["a.test"], T0 - 10 * DAY, T0 + 80 * DAY, |_| {});
        let mut obs = observation("a.test:443", chain.clone(), T0);
        obs.no_sni = Some(NoSni {
            leaf: None,
            error: Some(ConnFailure {
                code: ConnCode::HandshakeFailed,
                step: "handshake",
                message: "the server sent the alert unrecognized_name".into(),
                alert: Some("unrecognized_name".into()),
                peer_said: None,
                local: false,
            }),
        });
        let r = diagnose(&obs, &pki.trust(), T0, &DiagnoseOptions::default());
        assert_eq!(codes(&r), ["sni-required"]);
        let f = &r.findings[0];
        assert!(
            f.detail.contains("unrecognized_name") && f.detail.contains("Java 6"),
            "{}",
            f.detail
        );
        assert_eq!(
            r.status,
            crate::report::finding::Status::Ok,
            "information only"
        );

        // The same leaf without SNI: nothing to say.
        obs.no_sni = Some(NoSni {
            leaf: chain.first().cloned(),
            error: None,
        });
        let r = diagnose(&obs, &pki.trust(), T0, &DiagnoseOptions::default());
        assert!(codes(&r).is_empty(), "{:?}", codes(&r));
    }
}
