//! The host list: one row per shown host, in the model's order.
//!
//! `✗ crit  a.test:443      80d hostname-mismatch (wildcard too deep)`
//!
//! The problem column names the root cause by its finding code, with the
//! reason where one code covers several problems; when it does not fit,
//! the reason alone (`wildcard too deep`), so rows never differ only past
//! the cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, pad, pad_left, pane_block, safe, spinner, str_width, trunc};
use crate::report::Report;
use crate::report::finding::Status;
use crate::tui::model::{
    Focus, Host, HostState, Model, Problem, fleet_counts, header_rows, list_offset, problem,
    status_symbol,
};

/// Columns: symbol, word, host, days, problem (with single spaces between).
const WORD_W: usize = 5;
const DAYS_W: usize = 5;
/// Everything in a row but the host and problem columns.
const FIXED: usize = 1 + 1 + WORD_W + 1 + 1 + DAYS_W + 1;

pub fn render(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let focused = model.focus == Focus::Hosts;
    let block = pane_block(title(model), focused, area.width, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let w = super::text_width(inner.width);
    let header = header_rows(usize::from(inner.height));
    let mut lines: Vec<Line> = fleet_header(model, w, header, theme);
    let rows = usize::from(inner.height) - header;
    lines.extend(if model.view.is_empty() {
        let text = if model.hosts.is_empty() {
            "No hosts yet: press a to add one."
        } else {
            "No host matches the filter."
        };
        vec![Line::styled(trunc(text, w), theme.dim)]
    } else {
        let (host_w, _) = columns(model, w);
        let off = list_offset(model.selected, rows);
        model
            .view
            .iter()
            .enumerate()
            .skip(off)
            .take(rows)
            .filter_map(|(row, &i)| {
                let line = row_line(model.hosts.get(i)?, model, host_w, w, theme);
                Some(if row == model.selected {
                    line.style(theme.selection)
                } else {
                    line
                })
            })
            .collect()
    });
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The lines over the list: hosts per status, and the fleet's leaves by
/// time left drawn as bars (their lengths in proportion, at least one
/// block for any count). Two lines, or one compact line (`rows` = 1):
///
/// `✓ 812 ok  ! 12 warn  ✗ 6 crit  ? 2 error  … 0 pending`
/// `expired ██ 3  <7d █ 1  <30d ████ 40  later ██████████ 767`
///
/// `✓812 !12 ✗6 ?2 …0 · expired █ 3  <7d █ 1  <30d ██ 40  later ████ 767`
fn fleet_header(model: &Model, w: usize, rows: usize, theme: &Theme) -> Vec<Line<'static>> {
    if rows == 0 {
        return Vec::new();
    }
    let (status, expiry) = fleet_counts(&model.hosts);
    let compact = rows == 1;
    // Words when they fit, else symbols and numbers only.
    let long_w: usize = status.iter().map(|n| n.to_string().len()).sum::<usize>() + 46;
    let terse = compact || long_w > w;
    let mut spans = Vec::new();
    let words = [
        (Some(Status::Ok), "ok"),
        (Some(Status::Warning), "warn"),
        (Some(Status::Critical), "crit"),
        (Some(Status::Error), "error"),
        (None, "pending"),
    ];
    for (k, (s, word)) in words.iter().enumerate() {
        let (sym, _) = status_symbol(*s);
        if terse {
            if k > 0 {
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(
                format!("{sym}{}", status[k]),
                theme.status(*s),
            ));
        } else {
            if k > 0 {
                spans.push(Span::raw("  "));
            }
            spans.push(Span::styled(
                format!("{sym} {} {word}", status[k]),
                theme.status(*s),
            ));
        }
    }
    let counts = Line::from(spans);
    let counts_w: usize = counts.spans.iter().map(|s| str_width(&s.content)).sum();
    let labels = ["expired", "<7d", "<30d", "later"];
    let styles = [
        theme.status(Some(Status::Critical)),
        theme.status(Some(Status::Critical)),
        theme.status(Some(Status::Warning)),
        theme.status(Some(Status::Ok)),
    ];
    let text_w: usize = labels
        .iter()
        .zip(expiry)
        .map(|(l, n)| str_width(l) + 2 + n.to_string().len() + 2)
        .sum();
    let used = if compact { counts_w + 3 } else { 0 };
    let room = w.saturating_sub(text_w + used) / 4;
    let max = expiry.iter().copied().max().unwrap_or(0).max(1);
    let mut spans = Vec::new();
    for (k, label) in labels.iter().enumerate() {
        let n = expiry[k];
        let bar = if n == 0 {
            0
        } else {
            (n * room).div_ceil(max).max(1)
        };
        if k > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::raw(format!("{label} ")));
        spans.push(Span::styled("█".repeat(bar), styles[k]));
        spans.push(Span::raw(format!(" {n}")));
    }
    if compact {
        let mut all = counts.spans;
        all.push(Span::raw(" · "));
        all.extend(spans);
        return vec![clip(Line::from(all), w)];
    }
    let bars = Line::from(spans);
    vec![clip(counts, w), clip(bars, w)]
}

/// Cut a line of spans at `w` columns.
fn clip(line: Line<'static>, w: usize) -> Line<'static> {
    let mut left = w;
    let mut out = Vec::new();
    for s in line.spans {
        if left == 0 {
            break;
        }
        let t = trunc(&s.content, left);
        left = left.saturating_sub(str_width(&t));
        out.push(Span::styled(t, s.style));
    }
    Line::from(out)
}

/// "Hosts (3/7) · sort: severity · filter: foo".
fn title(model: &Model) -> String {
    let count = if model.view.len() == model.hosts.len() {
        format!("{}", model.hosts.len())
    } else {
        format!("{}/{}", model.view.len(), model.hosts.len())
    };
    let mut t = format!("Hosts ({count}) · sort: {}", model.sort.label());
    if !model.filter.is_empty() {
        t.push_str(&format!(" · filter: {}", model.filter));
    }
    t
}

/// Widths of the host and problem columns in rows `w` columns wide: every
/// name whole when names and the problems' short forms fit side by side
/// (problems get the rest, and show in full where it fits); else the
/// problems keep their short forms up to two fifths of the room and the
/// names are cut.
pub(super) fn columns(model: &Model, w: usize) -> (usize, usize) {
    let room = w.saturating_sub(FIXED);
    let (mut host, mut short) = (0, 0);
    for h in model.view.iter().filter_map(|&i| model.hosts.get(i)) {
        host = host.max(str_width(&h.row_label()));
        short = short.max(short_width(h));
    }
    let host_w = if host + 1 + short <= room {
        host
    } else {
        let problem = short.min((room * 2 / 5).max(20));
        room.saturating_sub(problem + 1).max(host.min(12)).min(host)
    }
    .min(room);
    (host_w, room.saturating_sub(host_w + 1))
}

/// A host label in `w` columns: whole, else without its port
/// ("name.test:…", "127.0.0.1 (name on its certificate)"), else cut.
fn fit_label(label: &str, w: usize) -> String {
    if str_width(label) <= w {
        return label.to_string();
    }
    let without_port = |s: &str| -> Option<String> {
        let (host, port) = s.rsplit_once(':')?;
        (!port.is_empty() && port.chars().all(|c| c.is_ascii_digit())).then(|| host.to_string())
    };
    // An IP target with the name its certificate gives: the name matters
    // more than the port.
    if let Some((addr, name)) = label.split_once(" (")
        && let Some(host) = without_port(addr)
    {
        return trunc(&format!("{host} ({name}"), w);
    }
    match without_port(label) {
        Some(host) if str_width(&host) + 2 <= w => format!("{host}:…"),
        _ => trunc(label, w),
    }
}

/// Width of a row's problem cell in its short form (0 when there is none
/// worth making room for: a failed probe's message is cut instead).
fn short_width(h: &Host) -> usize {
    match &h.state {
        HostState::Queued => str_width("queued"),
        HostState::Connecting { .. } => str_width("connecting"),
        HostState::Failed(_) => 0,
        HostState::Done(r) => problem(r)
            .map(|p| str_width(&marks(h)) + str_width(&p.short()))
            .unwrap_or(0),
    }
}

/// What precedes the problem: "⟳ " while re-checking, then the marks of
/// what the last result changed.
fn marks(h: &Host) -> String {
    format!(
        "{}{}",
        if h.rechecking { "⟳ " } else { "" },
        change_marks(h)
    )
}

/// The problem as it fits in `w` columns: full, else short, else cut.
fn problem_cell(p: &Problem, w: usize) -> String {
    let full = p.full();
    if str_width(&full) <= w {
        full
    } else {
        trunc(&p.short(), w)
    }
}

fn days_label(r: &Report) -> String {
    match r.leaf_days_left() {
        Some(d) => format!("{d}d"),
        None => "—".to_string(),
    }
}

/// The marks of what the last result changed, e.g. "↻ renewed ▲ " or
/// "+ expired ": the first change in words, the others as marks.
fn change_marks(h: &Host) -> String {
    let Some(first) = h.changes.first() else {
        return String::new();
    };
    let mut s = format!("{} {} ", first.mark(), first.describe());
    for c in &h.changes[1..] {
        s.push_str(c.mark());
    }
    if h.changes.len() > 1 {
        s.push(' ');
    }
    s.push_str("· ");
    s
}

/// One row. Severity reads from the symbol and word; color only repeats it.
fn row_line(h: &Host, model: &Model, host_w: usize, w: usize, theme: &Theme) -> Line<'static> {
    let problem_w = w.saturating_sub(FIXED + host_w);
    let status = h.status();
    let (sym, word) = status_symbol(status);
    let (sym, word, days, title, title_style) = match &h.state {
        HostState::Queued => (sym, "", String::new(), "queued".to_string(), theme.dim),
        HostState::Connecting { .. } => (
            spinner(model.now_ms),
            "",
            String::new(),
            "connecting".to_string(),
            theme.dim,
        ),
        HostState::Done(r) => {
            let marks = marks(h);
            let room = problem_w.saturating_sub(str_width(&marks));
            let p = problem(r)
                .map(|p| problem_cell(&p, room))
                .unwrap_or_default();
            (
                sym,
                word,
                days_label(r),
                format!("{marks}{p}"),
                ratatui::style::Style::new(),
            )
        }
        HostState::Failed(e) => (sym, word, "—".to_string(), e.clone(), theme.error),
    };
    let style = theme.status(status);
    let host = safe(&h.row_label());
    if w < 1 + 1 + WORD_W + 1 + 8 {
        // Too narrow for columns: symbol and name only.
        return Line::from(vec![
            Span::styled(sym.to_string(), style),
            Span::raw(" "),
            Span::raw(trunc(&host, w.saturating_sub(2))),
        ]);
    }
    let title_w = problem_w;
    Line::from(vec![
        Span::styled(sym.to_string(), style),
        Span::raw(" "),
        Span::styled(pad(word, WORD_W), style),
        Span::raw(" "),
        Span::raw(pad(&fit_label(&host, host_w), host_w)),
        Span::raw(" "),
        Span::raw(pad_left(&days, DAYS_W)),
        Span::raw(" "),
        Span::styled(trunc(&safe(&title), title_w), title_style),
    ])
}
