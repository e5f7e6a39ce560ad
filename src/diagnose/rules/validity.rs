//! expired, not-yet-valid and expiring-soon for every certificate on the path.

use super::{DAY, capital, intermediate, when};
use crate::diagnose::ctx::Ctx;
use crate::report::finding::{Code, Finding, Severity};
use crate::report::rfc3339;

/// expired, not-yet-valid and expiring-soon for every certificate on the path.
pub fn validity_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    for &i in &ctx.walk.path {
        let c = &ctx.certs[i];
        let label = ctx.label(i);
        let what = if i == 0 {
            "Certificate".to_string()
        } else {
            format!("Intermediate '{}'", c.display_name())
        };
        if ctx.now > c.not_after {
            out.push(ctx.finding(
                Code::Expired,
                Severity::Critical,
                Some(i),
                format!("{what} expired {}", when(c.not_after - ctx.now).trim_end_matches(" ago").to_string() + " ago"),
                format!(
                    "{} was valid from {} to {}; at {} it has been expired for {}.{}",
                    capital(&label),
                    rfc3339(c.not_before),
                    rfc3339(c.not_after),
                    rfc3339(ctx.now),
                    when(ctx.now - c.not_after).trim_start_matches("in "),
                    if i > 0 { " The leaf may be fine: the intermediate the server sends must be replaced." } else { "" }
                ),
                &intermediate(i),
            ));
        } else if ctx.now < c.not_before {
            out.push(ctx.finding(
                Code::NotYetValid,
                Severity::Critical,
                Some(i),
                format!("{what} is not valid yet (starts {})", when(c.not_before - ctx.now)),
                format!(
                    "{} is valid from {} to {}, and it is {} now (as judged). A server or client clock in the past, or a post-dated certificate, causes this.",
                    capital(&label),
                    rfc3339(c.not_before),
                    rfc3339(c.not_after),
                    rfc3339(ctx.now)
                ),
                &intermediate(i),
            ));
        } else {
            let left = c.not_after - ctx.now;
            let lifetime = (c.not_after - c.not_before).max(0);
            let (window, rule) = match ctx.opts.warn_days {
                Some(d) => (i64::from(d) * DAY, format!("--warn-days {d}")),
                None => {
                    let w = (30 * DAY).min(lifetime / 3);
                    (
                        w,
                        format!(
                            "the smaller of 30 days and a third of its {}-day lifetime",
                            lifetime / DAY
                        ),
                    )
                }
            };
            let crit = ctx.opts.crit_days.map(|d| i64::from(d) * DAY);
            let critical = crit.is_some_and(|c| left < c);
            if left < window || critical {
                out.push(ctx.finding(
                    Code::ExpiringSoon,
                    if critical {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    Some(i),
                    format!("{what} expires {}", when(left)),
                    format!(
                        "{} expires on {} ({}), inside the warning window ({rule}).{}",
                        capital(&label),
                        rfc3339(c.not_after),
                        when(left),
                        if critical {
                            " That is below --crit-days."
                        } else {
                            ""
                        }
                    ),
                    &intermediate(i),
                ));
            }
        }
    }
}
