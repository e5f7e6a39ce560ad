//! hostname-mismatch: the name asked for against the names the leaf covers.

use crate::diagnose::ctx::Ctx;
use crate::diagnose::fix::Facts;
use crate::report::finding::{Code, Finding, Severity};
use crate::x509::names;

/// hostname-mismatch, with the reason and the names the certificate covers.
pub fn name_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    if ctx.opts.skip_name {
        return;
    }
    let leaf = &ctx.certs[0];
    if let Err(m) = names::check(leaf, &ctx.name) {
        let covered = names::covered(leaf);
        // A certificate may carry thousands of names: at most SHOWN here.
        const SHOWN: usize = 10;
        let list = match covered.len() {
            0 => "none".to_string(),
            n if n <= SHOWN => covered.join(", "),
            n => format!(
                "{} and {} more ({n} names in all; the first command lists them)",
                covered[..SHOWN].join(", "),
                n - SHOWN
            ),
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
