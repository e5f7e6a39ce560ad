//! The cross-check with webpki: a chain it refuses is never called fine.
//!
//! It runs after every other rule and masks none of them: webpki's verdict
//! is compared with the findings the rules made on their own. When one of
//! them explains it (webpki's "certificate expired" beside an `expired`
//! finding), nothing is added; when none does, its refusal becomes a
//! finding in plain words, under the code that names it when there is one
//! and `verification-failed` only when nothing else fits.

use rustls::pki_types::{CertificateDer, ServerName};

use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};

/// What webpki's refusal means: the codes whose findings explain it, the
/// code to report it under when none was found, the certificate at fault
/// when webpki's error names one, and the reason in words.
pub struct Meaning {
    pub explained_by: &'static [Code],
    pub code: Code,
    pub cert: Option<usize>,
    pub words: &'static str,
}

/// Every trust-path code: webpki's "unknown issuer" is its answer when no
/// path worked, whatever the reason on each candidate.
const PATH_CODES: &[Code] = &[
    Code::SelfSigned,
    Code::IncompleteChain,
    Code::UntrustedRoot,
    Code::VerificationFailed,
    Code::IssuerNotCa,
    Code::PathLength,
    Code::InvalidPurpose,
    Code::NameConstraints,
    Code::UnknownCriticalExtension,
    Code::Expired,
    Code::NotYetValid,
    Code::WeakSignature,
    Code::WeakKey,
];

/// webpki's refusal in words (never its debug text).
pub fn meaning(e: &webpki::Error) -> Meaning {
    use webpki::Error as E;
    let m = |explained_by: &'static [Code], code, cert, words| Meaning {
        explained_by,
        code,
        cert,
        words,
    };
    match e {
        E::CertExpired { .. } | E::InvalidCertValidity => m(
            &[Code::Expired],
            Code::Expired,
            None,
            "a certificate on the path is past its notAfter date, or its dates are inverted",
        ),
        E::CertNotValidYet { .. } => m(
            &[Code::NotYetValid],
            Code::NotYetValid,
            None,
            "a certificate on the path is not valid yet",
        ),
        E::CaUsedAsEndEntity => m(
            &[Code::CaAsLeaf],
            Code::CaAsLeaf,
            Some(0),
            "the leaf is a CA certificate, which may not serve as an end-entity certificate",
        ),
        E::EndEntityUsedAsCa => m(
            &[Code::IssuerNotCa],
            Code::IssuerNotCa,
            None,
            "a certificate that is not a CA issued another certificate on the path",
        ),
        E::PathLenConstraintViolated => m(
            &[Code::PathLength],
            Code::PathLength,
            None,
            "a CA's path length constraint allows fewer CAs below it than the path has",
        ),
        E::UnsupportedCriticalExtension => m(
            &[Code::UnknownCriticalExtension],
            Code::UnknownCriticalExtension,
            None,
            "a certificate on the path has a critical extension webpki does not process",
        ),
        E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => m(
            &[Code::InvalidPurpose],
            Code::InvalidPurpose,
            None,
            "a certificate on the path does not allow server authentication (its extendedKeyUsage lacks serverAuth)",
        ),
        E::NameConstraintViolation | E::UnsupportedNameType => m(
            &[Code::NameConstraints],
            Code::NameConstraints,
            None,
            "a name in the leaf falls outside the name constraints of a CA on the path (or is of a type the constraints do not allow)",
        ),
        E::MalformedNameConstraint | E::InvalidNetworkMaskConstraint => m(
            &[Code::NameConstraints],
            Code::NameConstraints,
            None,
            "a CA on the path has a malformed name constraint, which binds nothing clients can check",
        ),
        E::CertNotValidForName(_) | E::MalformedDnsIdentifier => m(
            &[Code::HostnameMismatch],
            Code::HostnameMismatch,
            Some(0),
            "the leaf is not valid for the name asked for",
        ),
        E::CertRevoked => m(
            &[Code::Revoked],
            Code::Revoked,
            None,
            "a certificate on the path is revoked",
        ),
        E::InvalidSerialNumber => m(
            &[Code::InvalidSerial],
            Code::InvalidSerial,
            None,
            "a certificate's serial number breaks RFC 5280's rules",
        ),
        E::UnknownIssuer => m(
            PATH_CODES,
            Code::VerificationFailed,
            None,
            "no path from the leaf reaches a trust anchor",
        ),
        E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => m(
            PATH_CODES,
            Code::VerificationFailed,
            None,
            "a signature on the path does not verify with its issuer's key",
        ),
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => m(
            &[Code::WeakSignature, Code::WeakKey, Code::VerificationFailed],
            Code::WeakSignature,
            None,
            "a certificate on the path is signed with an algorithm (or key) webpki does not accept",
        ),
        E::MaximumNameConstraintComparisonsExceeded => m(
            &[Code::NameConstraints],
            Code::NameConstraints,
            None,
            "checking the leaf's names against the name constraints on the path takes more comparisons than webpki makes (its guard against denial of service)",
        ),
        E::MaximumSignatureChecksExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumPathDepthExceeded => m(
            &[],
            Code::VerificationFailed,
            None,
            "the certificates offer more candidate paths, or a longer one, than webpki will try (its limits on signature checks, path-building steps and depth guard against hostile chains)",
        ),
        E::UnsupportedCertVersion => m(
            &[Code::VerificationFailed],
            Code::VerificationFailed,
            None,
            "a certificate on the path is not an X.509 version 3 certificate",
        ),
        E::CertDistrusted => m(
            &[],
            Code::UntrustedRoot,
            None,
            "the trust store marks the anchor as distrusted",
        ),
        E::BadDer
        | E::BadDerTime
        | E::TrailingData(_)
        | E::MalformedExtensions
        | E::ExtensionValueInvalid => m(
            &[Code::VerificationFailed],
            Code::VerificationFailed,
            None,
            "a certificate breaks the DER encoding rules (webpki reads certificates strictly, and only up to 64 KiB)",
        ),
        _ => m(
            &[],
            Code::VerificationFailed,
            None,
            "webpki refuses the chain for a reason it reports about revocation or encoding",
        ),
    }
}

/// The first certificate on the path webpki cannot read, and why in words:
/// the certificate itself, or (for the leaf) the names it lists.
fn malformed(ctx: &Ctx) -> Option<(usize, &'static str)> {
    for &i in &ctx.walk.path {
        let der = CertificateDer::from(ctx.certs.get(i)?.der.as_slice());
        match webpki::EndEntityCert::try_from(&der) {
            Err(_) => {
                return Some((
                    i,
                    "one of its extensions (or its encoding) breaks the DER rules webpki reads certificates by",
                ));
            }
            Ok(ee) if i == 0 && !ctx.opts.skip_name => {
                if let Ok(name) = ServerName::try_from(ctx.name.as_str())
                    && let Err(
                        webpki::Error::BadDer
                        | webpki::Error::TrailingData(_)
                        | webpki::Error::MalformedExtensions
                        | webpki::Error::ExtensionValueInvalid,
                    ) = ee.verify_is_valid_for_subject_name(&name)
                {
                    return Some((
                        0,
                        "its subjectAltName is malformed, so webpki cannot read the names it lists",
                    ));
                }
            }
            Ok(_) => {}
        }
    }
    None
}

/// Cross-check with webpki: if it refuses the chain (with the name check)
/// and no finding explains why, say so in words rather than report "ok".
pub fn webpki_cross_check(ctx: &Ctx, path: Result<(), webpki::Error>, out: &mut Vec<Finding>) {
    let Some(leaf) = ctx.certs.first() else {
        return;
    };
    let leaf = CertificateDer::from(leaf.der.as_slice());
    let result = path.and_then(|()| {
        if ctx.opts.skip_name {
            return Ok(());
        }
        let ee = webpki::EndEntityCert::try_from(&leaf)?;
        let name = ServerName::try_from(ctx.name.as_str())
            .map_err(|_| webpki::Error::MalformedDnsIdentifier)?;
        ee.verify_is_valid_for_subject_name(&name)
    });
    let Err(e) = result else { return };
    // webpki reads certificates of at most 64 KiB; OpenSSL reads larger
    // ones. Its refusal then says nothing about the chain itself, which
    // certscope's own checks judged: name the size, on that certificate.
    if let Some(&big) = ctx
        .walk
        .path
        .iter()
        .find(|&&i| ctx.certs.get(i).is_some_and(|c| c.der.len() > 0xffff))
    {
        let c = &ctx.certs[big];
        out.push(ctx.finding(
            Code::OversizedChain,
            Severity::Warning,
            Some(big),
            format!(
                "{} is too large for rustls-based clients ({} KiB)",
                crate::diagnose::rules::capital(&ctx.label(big)),
                c.der.len().div_ceil(1024)
            ),
            format!(
                "{} is {} bytes. webpki, which rustls-based clients verify with, reads certificates of at most 64 KiB and refuses the chain; OpenSSL reads it, and certscope judged the chain with its own checks. Keep certificates small: a short name list and no large extensions.",
                crate::diagnose::rules::capital(&ctx.label(big)),
                c.der.len()
            ),
            &Facts::default(),
        ));
        return;
    }
    let mut m = meaning(&e);
    if matches!(m.code, Code::VerificationFailed) && m.explained_by == [Code::VerificationFailed] {
        // An encoding error: find the certificate webpki cannot read.
        if let Some((i, words)) = malformed(ctx) {
            m.cert = Some(i);
            m.words = words;
        }
    }
    if out
        .iter()
        .any(|f| f.severity == Severity::Critical && m.explained_by.contains(&f.code))
    {
        return;
    }
    let (title, detail) = match (m.code, m.cert) {
        (_, Some(i)) => (
            format!(
                "{} cannot be read by path validation",
                crate::diagnose::rules::capital(&ctx.label(i))
            ),
            format!(
                "Path validation (webpki, as in rustls-based clients) refuses this chain: in {}, {}. Have it reissued correctly encoded.",
                ctx.label(i),
                m.words
            ),
        ),
        (Code::VerificationFailed, None) => (
            "The chain does not verify".to_string(),
            format!(
                "Path validation (webpki, as in rustls-based clients) refuses this chain: {}. certscope's own checks found nothing that explains it, so it cannot name the certificate at fault.",
                m.words
            ),
        ),
        (_, None) => (
            "Path validation refuses the chain".to_string(),
            format!(
                "Path validation (webpki, as in rustls-based clients) refuses this chain: {}. certscope's own checks did not find which certificate.",
                m.words
            ),
        ),
    };
    out.push(ctx.finding(
        m.code,
        Severity::Critical,
        m.cert,
        title,
        detail,
        &Facts::default(),
    ));
}
