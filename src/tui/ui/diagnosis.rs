//! The diagnosis pane: for each shown finding its title, the plain-words
//! detail, what Chrome, Firefox and curl/OpenSSL show, and numbered fix
//! steps with their commands. Text is wrapped here (not by the widget) so
//! the line count, and so the scroll range, is exact.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, layout, pane_block, safe, spinner, str_width, wrap};
use crate::report::Report;
use crate::report::finding::{Code, Finding, Severity, Status};
use crate::tui::keys::{BINDINGS, Command, keys_label};
use crate::tui::model::{Focus, HostState, Model, severity_symbol, status_symbol};

pub fn render(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let focused = model.focus == Focus::Diagnosis;
    let block = pane_block(title(model), focused, area.width, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let (lines, _) = build(model, theme, super::text_width(inner.width));
    let max = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(inner.height);
    let scroll = model.diag_scroll.min(max);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

/// Wrapped line count of the pane's text for a pane `width` columns wide
/// (outer width, borders included, as in [`super::Panes::diagnosis`]).
pub fn diagnosis_line_count(model: &Model, width: u16) -> u16 {
    let (lines, _) = build(
        model,
        &Theme::new(false),
        super::text_width(width.saturating_sub(2)),
    );
    u16::try_from(lines.len()).unwrap_or(u16::MAX)
}

/// Line (from the top of the text) of the selected fix command, for
/// scrolling it into view; `None` when the pane has no command or no focus.
pub fn diagnosis_selected_line(model: &Model, width: u16) -> Option<u16> {
    let (_, sel) = build(
        model,
        &Theme::new(false),
        super::text_width(width.saturating_sub(2)),
    );
    sel.and_then(|s| u16::try_from(s).ok())
}

/// Largest useful `diag_scroll` for the current terminal size (`model.size`).
pub fn diagnosis_max_scroll(model: &Model) -> u16 {
    let size = Rect::new(0, 0, model.size.0, model.size.1);
    let pane = layout(size, model).diagnosis;
    diagnosis_line_count(model, pane.width).saturating_sub(pane.height.saturating_sub(2))
}

fn title(model: &Model) -> String {
    let Some(h) = model.selected_host() else {
        return "Diagnosis".to_string();
    };
    if model.focus == Focus::Tree
        && let Some(e) = h.report().and_then(|r| r.chain.get(model.tree_selected))
    {
        return format!("Diagnosis · certificate {}", e.info.display_name());
    }
    format!("Diagnosis · {}", h.label())
}

/// Which fix command is highlighted: `fix_selected`, or the first when out
/// of range (as `Model::selected_fix_command`), and only with focus.
fn selected_command(model: &Model) -> Option<(usize, usize)> {
    if model.focus != Focus::Diagnosis {
        return None;
    }
    let cmds = model.fix_commands();
    cmds.get(model.fix_selected)
        .or_else(|| cmds.first())
        .map(|(f, s, _)| (*f, *s))
}

fn plain(lines: Vec<String>, style: Style) -> impl Iterator<Item = Line<'static>> {
    lines.into_iter().map(move |l| Line::styled(l, style))
}

/// The pane's lines wrapped to `w`, and the line of the selected command.
fn build(model: &Model, theme: &Theme, w: usize) -> (Vec<Line<'static>>, Option<usize>) {
    let w = w.max(1);
    let mut out: Vec<Line<'static>> = Vec::new();
    let Some(host) = model.selected_host() else {
        out.push(Line::styled("No host selected.", theme.dim));
        return (out, None);
    };
    let hp = safe(&host.label());
    match &host.state {
        HostState::Queued => {
            out.extend(plain(
                wrap(&format!("Waiting to probe {hp}."), w, "", ""),
                theme.dim,
            ));
            (out, None)
        }
        HostState::Connecting { .. } => {
            let t = format!("{} Connecting to {hp}…", spinner(model.now_ms));
            out.extend(plain(wrap(&t, w, "", ""), theme.dim));
            (out, None)
        }
        HostState::Failed(e) => {
            out.extend(plain(
                wrap(&format!("? The probe of {hp} failed."), w, "", ""),
                theme.error,
            ));
            out.extend(plain(wrap(&safe(e), w, "  ", "  "), Style::new()));
            let key = BINDINGS
                .iter()
                .find(|b| b.command == Command::Reprobe)
                .map(keys_label)
                .unwrap_or_default();
            out.push(Line::raw(""));
            out.extend(plain(
                wrap(&format!("Press {key} to try again."), w, "", ""),
                theme.dim,
            ));
            (out, None)
        }
        HostState::Done(r) => {
            out.extend(watch_lines(host, model, theme, w));
            let (mut out, sel) = report_lines(r, model, theme, w, out);
            out.extend(history_lines(host, theme, w));
            (out, sel)
        }
    }
}

/// "hh:mm:ss" of unix seconds (UTC).
fn clock(t: i64) -> String {
    let s = crate::report::rfc3339(t);
    s.get(11..19).unwrap_or(&s).to_string()
}

/// "in 4m 10s" / "now".
fn until(secs: i64) -> String {
    if secs <= 0 {
        return "now".into();
    }
    let (m, s) = (secs / 60, secs % 60);
    match (m / 60, m % 60) {
        (0, 0) => format!("in {s}s"),
        (0, m) => format!("in {m}m {s}s"),
        (h, m) => format!("in {h}h {m}m"),
    }
}

/// When the host was checked and will be next, and what its latest result
/// changed (only once there is something to say).
fn watch_lines(
    host: &crate::tui::model::Host,
    model: &Model,
    theme: &Theme,
    w: usize,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(at) = host.checked_at() else {
        return out;
    };
    if model.interval.is_none() && host.history.len() < 2 {
        return out;
    }
    let mut t = format!("Checked {} UTC", clock(at));
    if host.rechecking {
        t.push_str(" · checking again now");
    } else if let Some(next) = host.next_at {
        t.push_str(&format!(" · next {}", until(next - model.now_unix)));
    }
    out.extend(plain(wrap(&t, w, "", ""), theme.dim));
    if !host.changes.is_empty() {
        let list: Vec<String> = host
            .changes
            .iter()
            .map(|c| format!("{} {}", c.mark(), c.describe()))
            .collect();
        let t = format!(
            "Changed at {}: {}",
            clock(host.changed_at.unwrap_or(at)),
            list.join("; ")
        );
        out.extend(plain(wrap(&safe(&t), w, "", "  "), theme.focus));
    }
    out.push(Line::raw(""));
    out
}

/// The host's last results, newest first: time, status, leaf fingerprint
/// (shortened), findings.
fn history_lines(host: &crate::tui::model::Host, theme: &Theme, w: usize) -> Vec<Line<'static>> {
    if host.history.len() < 2 {
        return Vec::new();
    }
    let mut out = vec![
        Line::raw(""),
        Line::styled("History (newest first):", theme.dim),
    ];
    for s in host.history.iter().rev() {
        let leaf = s
            .leaf
            .as_deref()
            .map(|f| f.get(..11).unwrap_or(f).to_string() + "…")
            .unwrap_or_else(|| "no certificate".into());
        let codes = if s.codes.is_empty() {
            "no finding".to_string()
        } else {
            s.codes.join(", ")
        };
        let (_, word) = crate::tui::model::status_symbol(Some(s.status));
        let t = format!("{}  {word:<5} {leaf}  {codes}", clock(s.at));
        out.extend(plain(wrap(&safe(&t), w, "  ", "    "), Style::new()));
    }
    out
}

fn report_lines(
    r: &Report,
    model: &Model,
    theme: &Theme,
    w: usize,
    mut out: Vec<Line<'static>>,
) -> (Vec<Line<'static>>, Option<usize>) {
    let findings = model.shown_findings();
    let sel = selected_command(model);
    let mut sel_line = None;
    if findings.is_empty() {
        let text = if model.focus == Focus::Tree {
            match r.chain.get(model.tree_selected) {
                Some(e) => format!("✓ No finding blames {}.", safe(&e.info.display_name())),
                None => "✓ No finding blames this certificate.".to_string(),
            }
        } else {
            let days = r
                .leaf_days_left()
                .map(|d| format!(" The leaf has {d} days left."))
                .unwrap_or_default();
            format!(
                "✓ No problems found: the chain is trusted and matches {}.{days}",
                safe(&r.name)
            )
        };
        out.extend(plain(wrap(&text, w, "", ""), theme.ok));
    }
    for (fi, f) in findings.iter().enumerate() {
        if fi > 0 {
            out.push(Line::raw(""));
        }
        finding_head(f, r, theme, w, &mut out);
        out.extend(plain(wrap(&safe(&f.detail), w, "  ", "  "), Style::new()));
        clients(f, theme, w, &mut out);
        if !f.fix.is_empty() {
            out.push(Line::styled(
                "  Fix:",
                Style::new().add_modifier(Modifier::BOLD),
            ));
        }
        for (si, step) in f.fix.iter().enumerate() {
            let num = format!("  {}. ", si + 1);
            let hang = " ".repeat(str_width(&num));
            out.extend(plain(
                wrap(&safe(&step.title), w, &num, &hang),
                Style::new(),
            ));
            let Some(cmd) = &step.command else { continue };
            let selected = sel == Some((fi, si));
            if selected {
                sel_line = Some(out.len());
            }
            let (first, style) = if selected {
                (
                    format!("{}▶ $ ", &hang[..hang.len().saturating_sub(2)]),
                    theme.selection,
                )
            } else {
                (format!("{hang}$ "), theme.info)
            };
            let cont = format!("{hang}  ");
            for (li, part) in cmd.split('\n').enumerate() {
                let lead = if li == 0 {
                    first.as_str()
                } else {
                    cont.as_str()
                };
                for (k, l) in wrap(&safe(part), w, lead, &cont).into_iter().enumerate() {
                    // Only the command text takes the highlight, not the indent.
                    let indent = if k == 0 {
                        str_width(lead)
                    } else {
                        str_width(&cont)
                    };
                    let (a, b) = split_at_width(&l, indent);
                    out.push(Line::from(vec![Span::raw(a), Span::styled(b, style)]));
                }
            }
        }
    }
    if let Some(tls) = r.tls.as_ref().filter(|t| !t.version.is_empty()) {
        out.push(Line::raw(""));
        let t = format!("TLS: {} · {}", safe(&tls.version), safe(&tls.cipher));
        out.extend(plain(wrap(&t, w, "", "  "), theme.dim));
    }
    (out, sel_line)
}

/// Split `s` after its first `cols` columns (indents are ASCII spaces).
fn split_at_width(s: &str, cols: usize) -> (String, String) {
    let mut a = String::new();
    let mut used = 0;
    let mut rest = s.chars().peekable();
    while let Some(&c) = rest.peek() {
        if used >= cols {
            break;
        }
        used += str_width(c.encode_utf8(&mut [0u8; 4]));
        a.push(c);
        rest.next();
    }
    (a, rest.collect())
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Info => "INFO",
        Severity::Warning => "WARNING",
        Severity::Critical => "CRITICAL",
    }
}

/// A finding that says why no certificate could be obtained.
fn is_connection(code: Code) -> bool {
    matches!(
        code,
        Code::Unreachable
            | Code::Timeout
            | Code::NotTls
            | Code::ProtocolUnsupported
            | Code::StarttlsFailed
            | Code::HandshakeFailed
    )
}

/// Symbol, word and style a finding is headed with: its severity, except
/// that the connection failure of a report with status error reads
/// "? ERROR", as in the host list and `certscope check` (its severity in
/// JSON stays critical).
fn head_of(f: &Finding, r: &Report, theme: &Theme) -> (&'static str, &'static str, Style) {
    if r.status == Status::Error && is_connection(f.code) {
        let (sym, _) = status_symbol(Some(Status::Error));
        return (sym, "ERROR", theme.error);
    }
    (
        severity_symbol(f.severity),
        severity_word(f.severity),
        theme.severity(f.severity),
    )
}

/// "✗ CRITICAL  Title" and "  code · blamed certificate".
fn finding_head(f: &Finding, r: &Report, theme: &Theme, w: usize, out: &mut Vec<Line<'static>>) {
    let (sym, word, sev) = head_of(f, r, theme);
    let head = format!("{sym} {word} ");
    let hw = str_width(&head);
    let title = wrap(&safe(&f.title), w, &head, "  ");
    for (k, l) in title.into_iter().enumerate() {
        if k == 0 {
            let (a, b) = split_at_width(&l, hw);
            out.push(Line::from(vec![
                Span::styled(a, sev),
                Span::styled(b, Style::new().add_modifier(Modifier::BOLD)),
            ]));
        } else {
            out.push(Line::styled(l, Style::new().add_modifier(Modifier::BOLD)));
        }
    }
    // A name with several addresses: where the finding was seen.
    let multi = !r.endpoints.is_empty() && !f.addresses.is_empty();
    let addrs = || safe(&crate::util::sanitize::and_more(&f.addresses, 4, ", "));
    let blamed = match f.cert {
        None if multi && f.addresses.len() == r.endpoints.len() => {
            format!("all {} addresses", f.addresses.len())
        }
        None if multi => addrs(),
        None => "the connection".to_string(),
        Some(0) => match r.chain.first() {
            Some(e) => format!("the leaf, {}", safe(&e.info.display_name())),
            None => "the leaf".to_string(),
        },
        Some(i) => match r.chain.get(i) {
            Some(e) => format!("certificate #{i}, {}", safe(&e.info.display_name())),
            None => format!("certificate #{i}"),
        },
    };
    let at = if multi && f.cert.is_some() && f.addresses.len() < r.endpoints.len() {
        format!(" · at {}", addrs())
    } else {
        String::new()
    };
    let meta = format!("{} · on {blamed}{at}", f.code);
    out.extend(plain(wrap(&meta, w, "  ", "  "), theme.dim));
}

/// What each client shows, labels aligned (hanging indent under the text).
fn clients(f: &Finding, theme: &Theme, w: usize, out: &mut Vec<Line<'static>>) {
    let c = &f.clients;
    let rows = [
        ("Chrome:", &c.chrome),
        ("Firefox:", &c.firefox),
        ("curl/OpenSSL:", &c.openssl),
    ];
    if rows.iter().all(|(_, t)| t.is_empty()) {
        return;
    }
    let label_w = 2 + 13 + 1;
    let hang = if w >= 40 {
        " ".repeat(label_w)
    } else {
        "    ".to_string()
    };
    for (label, text) in rows {
        if text.is_empty() {
            continue;
        }
        let first = format!("  {label:<13} ");
        for (k, l) in wrap(&safe(text), w, &first, &hang).into_iter().enumerate() {
            if k == 0 {
                let (a, b) = split_at_width(&l, label_w);
                out.push(Line::from(vec![Span::styled(a, theme.dim), Span::raw(b)]));
            } else {
                out.push(Line::raw(l));
            }
        }
    }
}
