//! The full-screen certificate detail: every field, every extension, the
//! fingerprints and the PEM, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::{Theme, layout, safe, str_width, trunc, wrap};
use crate::report::{Report, Source, rfc3339};
use crate::tui::model::{Model, severity_symbol};

/// Width of the "Label:" column.
const LABEL_W: usize = 14;

fn field(label: &str, value: &str) -> String {
    format!("{:<LABEL_W$}{}", format!("{label}:"), safe(value))
}

/// One more value of the field above, aligned under its first value.
fn more(value: &str) -> String {
    format!("{:LABEL_W$}{}", "", safe(value))
}

/// A field with one value per line: the label on the first only.
fn fields(v: &mut Vec<String>, label: &str, values: impl IntoIterator<Item = String>) {
    for (i, value) in values.into_iter().enumerate() {
        v.push(if i == 0 {
            field(label, &value)
        } else {
            more(&value)
        });
    }
}

/// Continuation lines of a "Label:  value" line (or of a value aligned
/// under one) go under the value; others indent by two.
fn hang(line: &str, w: usize) -> usize {
    let lead = line.len() - line.trim_start().len();
    let body = &line[lead..];
    let field = body.len() > LABEL_W
        && body.is_char_boundary(LABEL_W)
        && body[..LABEL_W].ends_with(' ')
        && body[..LABEL_W].contains(':');
    let h = if field {
        lead + LABEL_W
    } else if lead == LABEL_W {
        LABEL_W
    } else {
        lead + 2
    };
    h.min(w / 2)
}

/// The OID of the embedded SCT list (certificate transparency).
const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";

/// An SCT line with its timestamp, given in milliseconds since the epoch
/// ("log AB:CD, timestamp 1767225600123 ms"), as RFC 3339 UTC
/// ("log AB:CD, timestamp 2026-01-01T00:00:00.123Z"); other lines as
/// they are.
fn sct_time(line: &str) -> String {
    let Some(at) = line.find("timestamp ") else {
        return line.to_string();
    };
    let rest = &line[at + "timestamp ".len()..];
    let Some(ms) = rest
        .strip_suffix(" ms")
        .and_then(|n| n.trim().parse::<i64>().ok())
    else {
        return line.to_string();
    };
    let secs = rfc3339(ms.div_euclid(1000));
    let frac = ms.rem_euclid(1000);
    let when = match secs.strip_suffix('Z') {
        Some(s) if frac != 0 => format!("{s}.{frac:03}Z"),
        _ => secs,
    };
    format!("{}timestamp {when}", &line[..at])
}

/// The detail view's text as plain, unwrapped lines (already safe for the
/// terminal). Empty when `cert` is out of range.
pub fn detail_lines(report: &Report, cert: usize, now_unix: i64) -> Vec<String> {
    let Some(entry) = report.chain.get(cert) else {
        return Vec::new();
    };
    let c = &entry.info;
    let mut v = Vec::new();
    let role = if cert == 0 {
        "leaf"
    } else if c.is_self_signed() {
        "root"
    } else {
        "intermediate"
    };
    let from = match entry.source {
        Source::Server => "sent by the server",
        Source::File => "read from the file",
        Source::Aia => "fetched from the issuer URL (AIA)",
        Source::Store => "from the trust store",
    };
    let path = if report.path.contains(&cert) {
        "on the verified path"
    } else {
        "not on the path"
    };
    v.push(format!(
        "Certificate #{cert} of {} ({role}), {from}, {path}",
        report.chain.len()
    ));
    v.push(String::new());
    v.push(field("Subject", &c.subject));
    v.push(field("Issuer", &c.issuer));
    v.push(field("Serial", &c.serial));
    v.push(field("Not before", &rfc3339(c.not_before)));
    v.push(field("Not after", &rfc3339(c.not_after)));
    let days = c.days_left(now_unix);
    let left = if now_unix < c.not_before {
        let n = (c.not_before - now_unix).div_euclid(86_400);
        format!("not valid yet (starts in {n} days)")
    } else if now_unix > c.not_after {
        format!(
            "expired {} days ago",
            (now_unix - c.not_after).div_euclid(86_400)
        )
    } else {
        format!("{days} days left")
    };
    v.push(field("Days left", &left));
    if c.sans.is_empty() {
        v.push(field("SANs", "(none)"));
    }
    fields(&mut v, "SANs", c.sans.iter().map(|s| s.display()));
    v.push(field("Key", &c.key.describe()));
    v.push(field("Signature", &c.signature_algorithm));
    let ca = match (c.is_ca, c.path_len) {
        (true, Some(n)) => format!("yes (path length {n})"),
        (true, None) => "yes".to_string(),
        (false, _) => "no".to_string(),
    };
    v.push(field("CA", &ca));
    v.push(field(
        "Self-signed",
        if c.is_self_signed() { "yes" } else { "no" },
    ));
    let blamed: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.cert == Some(cert))
        .collect();
    if blamed.is_empty() {
        v.push(field("Findings", "none"));
    }
    fields(
        &mut v,
        "Findings",
        blamed
            .iter()
            .map(|f| format!("{} {} ({})", severity_symbol(f.severity), f.title, f.code)),
    );
    v.push(String::new());
    v.push(format!("Extensions ({}):", c.extensions.len()));
    for e in &c.extensions {
        let crit = if e.critical {
            "critical"
        } else {
            "not critical"
        };
        v.push(format!("  {} ({}), {crit}", safe(&e.name), safe(&e.oid)));
        for part in e.value.split('\n') {
            let part = if e.oid == OID_SCT_LIST {
                sct_time(part)
            } else {
                part.to_string()
            };
            v.push(format!("      {}", safe(&part)));
        }
    }
    v.push(String::new());
    v.push("Fingerprints:".to_string());
    v.push(format!("  {:<LABEL_W$}{}", "SHA-256:", safe(&c.sha256)));
    v.push(format!("  {:<LABEL_W$}{}", "SHA-1:", safe(&c.sha1)));
    v.push(format!(
        "  {:<LABEL_W$}{}",
        "SPKI SHA-256:",
        safe(&c.spki_sha256)
    ));
    v.push(String::new());
    v.push("PEM:".to_string());
    v.extend(c.pem().lines().map(safe));
    v
}

/// Wrapped lines of the detail text for an inner width `w`.
fn wrapped(report: &Report, cert: usize, now_unix: i64, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut out = Vec::new();
    for line in detail_lines(report, cert, now_unix) {
        if str_width(&line) <= w {
            out.push(line);
            continue;
        }
        let h = " ".repeat(hang(&line, w));
        // Keep the line's own indent on its first row.
        let lead = line.len() - line.trim_start().len();
        let first = " ".repeat(lead);
        out.extend(wrap(line.trim_start(), w, &first, &h));
    }
    out
}

/// Rows of the detail text once wrapped for a view `width` columns wide
/// (outer width, borders included).
pub fn detail_line_count(report: &Report, cert: usize, now_unix: i64, width: u16) -> u16 {
    let n = wrapped(
        report,
        cert,
        now_unix,
        super::text_width(width.saturating_sub(2)),
    )
    .len();
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Largest useful `Detail::scroll` for the current terminal size.
pub fn detail_max_scroll(model: &Model) -> u16 {
    let (Some(d), Some(r)) = (model.detail, model.selected_report()) else {
        return 0;
    };
    let size = Rect::new(0, 0, model.size.0, model.size.1);
    let body = layout(size, model).body();
    detail_line_count(r, d.cert, model.now_unix, body.width)
        .saturating_sub(body.height.saturating_sub(2))
}

pub fn render(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let (Some(d), Some(r)) = (model.detail, model.selected_report()) else {
        let block = Block::bordered().border_style(theme.focus);
        let text = Line::styled("No certificate to show.", theme.dim);
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let name = r
        .chain
        .get(d.cert)
        .map(|e| safe(&e.info.display_name()))
        .unwrap_or_default();
    let title = format!(" Certificate #{} · {name} ", d.cert);
    let title = trunc(&title, usize::from(area.width.saturating_sub(2)));
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme.focus)
        .title(Line::styled(title, theme.focus));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let text = wrapped(r, d.cert, model.now_unix, super::text_width(inner.width));
    let lines: Vec<Line> = if text.is_empty() {
        vec![Line::styled(
            "No such certificate in the chain.",
            theme.error,
        )]
    } else {
        text.into_iter()
            .map(|l| {
                let heading = !l.starts_with(' ') && l.ends_with(':');
                if heading {
                    Line::styled(l, Style::new().add_modifier(Modifier::BOLD))
                } else {
                    Line::raw(l)
                }
            })
            .collect()
    };
    let max = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(inner.height);
    frame.render_widget(Paragraph::new(lines).scroll((d.scroll.min(max), 0)), inner);
}
