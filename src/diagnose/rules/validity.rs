//! expired, not-yet-valid and expiring-soon for every certificate on the path.
//!
//! When the instant judged is not the time of the check (`--at`), the
//! findings say so and speak of that instant ("On 2027-06-01 the
//! certificate will have been expired for 102 days"), never of now.

use super::{DAY, capital, intermediate, when};
use crate::diagnose::ctx::Ctx;
use crate::report::finding::{Code, Finding, Severity};
use crate::report::rfc3339;

/// An instant for people: `2027-06-01` at midnight UTC (what `--at
/// 2027-06-01` gives), else the full instant.
fn day(t: i64) -> String {
    if t.rem_euclid(DAY) == 0 {
        date(t)
    } else {
        rfc3339(t)
    }
}

/// The calendar day of `t` (UTC): `2027-02-18`.
fn date(t: i64) -> String {
    let full = rfc3339(t);
    full.get(..10).map(str::to_string).unwrap_or(full)
}

/// "10 days", "1 day", "3 hours": a duration without "in" or "ago".
fn span(secs: i64) -> String {
    let w = when(secs.abs());
    w.strip_prefix("in ").map(str::to_string).unwrap_or(w)
}

/// expired, not-yet-valid and expiring-soon for every certificate on the path.
pub fn validity_findings(ctx: &Ctx, out: &mut Vec<Finding>) {
    let hypothetical = ctx.hypothetical();
    let checked = ctx.checked_at();
    // Judged later than the check (else earlier): the tense of the words.
    let later = ctx.now > checked;
    let on = day(ctx.now);
    // "the instant asked for (--at), not the time of the check (...)".
    let asked = format!(
        "{on} is the instant asked for (--at), not the time of the check ({})",
        rfc3339(checked)
    );
    for &i in &ctx.walk.path {
        let c = &ctx.certs[i];
        let label = ctx.label(i);
        let what = if i == 0 {
            "Certificate".to_string()
        } else {
            format!("Intermediate '{}'", c.display_name())
        };
        let subject = if i == 0 {
            "the certificate".to_string()
        } else {
            format!("intermediate '{}'", c.display_name())
        };
        // Still valid when checked: renewing before notAfter avoids it.
        let mut facts = intermediate(i);
        if hypothetical {
            facts.judged_at = Some(on.clone());
            if c.not_after >= checked {
                facts.renew_before = Some(date(c.not_after));
            }
        }
        if ctx.now > c.not_after {
            let expired_for = span(ctx.now - c.not_after);
            let replace = if i == 0 {
                ""
            } else if ctx.obs.origin.file().is_some() {
                " The leaf may be fine: the intermediate in the file must be replaced."
            } else {
                " The leaf may be fine: the intermediate the server sends must be replaced."
            };
            let (title, detail) = if !hypothetical {
                (
                    format!("{what} expired {expired_for} ago"),
                    format!(
                        "{} was valid from {} to {}; at {} it has been expired for {expired_for}.{replace}",
                        capital(&label),
                        rfc3339(c.not_before),
                        rfc3339(c.not_after),
                        rfc3339(ctx.now),
                    ),
                )
            } else {
                let tense = if later { "will have been" } else { "had been" };
                let now_state = if c.not_after >= checked {
                    format!(
                        " When checked it is still valid, with {} left: renew it before {}.",
                        span(c.not_after - checked),
                        date(c.not_after)
                    )
                } else {
                    format!(
                        " When checked it has already been expired for {}.",
                        span(checked - c.not_after)
                    )
                };
                (
                    format!("On {on} {subject} {tense} expired for {expired_for}"),
                    format!(
                        "{} is valid from {} to {}. {asked}: on {on} it {tense} expired for {expired_for}.{now_state}{replace}",
                        capital(&label),
                        rfc3339(c.not_before),
                        rfc3339(c.not_after),
                    ),
                )
            };
            out.push(ctx.finding(
                Code::Expired,
                Severity::Critical,
                Some(i),
                title,
                detail,
                &facts,
            ));
        } else if ctx.now < c.not_before {
            let (title, detail) = if !hypothetical {
                (
                    format!(
                        "{what} is not valid yet (starts {})",
                        when(c.not_before - ctx.now)
                    ),
                    format!(
                        "{} is valid from {} to {}, but this machine's clock reads {}. Either the certificate is post-dated (issued with a notBefore in the future, so every client refuses it until then), or this machine's clock is behind (then clients with a correct clock accept it). The server's clock plays no part: each client judges the dates by its own clock.",
                        capital(&label),
                        rfc3339(c.not_before),
                        rfc3339(c.not_after),
                        rfc3339(ctx.now)
                    ),
                )
            } else {
                let tense = if later { "will not be" } else { "was not" };
                let now_state = if c.not_before <= checked {
                    " When checked it is valid: only the instant asked for lies before its start."
                        .to_string()
                } else {
                    format!(
                        " When checked it is not valid yet either: it starts {} after the check (post-dated, or this machine's clock is behind).",
                        span(c.not_before - checked)
                    )
                };
                (
                    format!(
                        "On {on} {subject} {tense} valid yet (valid from {})",
                        day(c.not_before)
                    ),
                    format!(
                        "{} is valid from {} to {}. {asked}: on {on} it {tense} valid yet.{now_state}",
                        capital(&label),
                        rfc3339(c.not_before),
                        rfc3339(c.not_after),
                    ),
                )
            };
            if hypothetical && c.not_before <= checked {
                facts.starts_after_judged = true;
            }
            out.push(ctx.finding(
                Code::NotYetValid,
                Severity::Critical,
                Some(i),
                title,
                detail,
                &facts,
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
                let below = if critical {
                    " That is below --crit-days."
                } else {
                    ""
                };
                let (title, detail) = if !hypothetical {
                    (
                        format!("{what} expires {}", when(left)),
                        format!(
                            "{} expires on {} ({}), inside the warning window ({rule}).{below}",
                            capital(&label),
                            rfc3339(c.not_after),
                            when(left),
                        ),
                    )
                } else {
                    let tense = if later {
                        "will expire"
                    } else {
                        "was due to expire"
                    };
                    (
                        format!("On {on} {subject} {tense} {}", when(left)),
                        format!(
                            "{} expires on {}. {asked}: on {on} it {tense} {}, inside the warning window ({rule}).{below}",
                            capital(&label),
                            rfc3339(c.not_after),
                            when(left),
                        ),
                    )
                };
                out.push(ctx.finding(
                    Code::ExpiringSoon,
                    if critical {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    Some(i),
                    title,
                    detail,
                    &facts,
                ));
            }
        }
    }
}
