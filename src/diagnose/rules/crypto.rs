//! weak-key and weak-signature on every certificate on the path.

use super::{capital, intermediate};
use crate::diagnose::ctx::Ctx;
use crate::report::finding::{Code, Finding, Severity};
use crate::x509::cert::{KeyKind, SigHash};

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
