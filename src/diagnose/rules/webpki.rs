//! The cross-check with webpki: a chain it refuses is never called fine.

use rustls::pki_types::{CertificateDer, ServerName};

use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};

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
