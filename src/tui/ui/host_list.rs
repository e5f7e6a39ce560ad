//! The host list: one row per shown host, in the model's order.
//!
//! `✓ ok    a.test:443      80d  root-cause title`

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, pad, pad_left, pane_block, safe, spinner, str_width, trunc};
use crate::report::Report;
use crate::tui::model::{Focus, Host, HostState, Model, list_offset, status_symbol};

/// Columns: symbol, word, host, days, title (with single spaces between).
const WORD_W: usize = 5;
const DAYS_W: usize = 5;

pub fn render(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let focused = model.focus == Focus::Hosts;
    let block = pane_block(title(model), focused, area.width, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let w = usize::from(inner.width);
    let lines: Vec<Line> = if model.view.is_empty() {
        let text = if model.hosts.is_empty() {
            "No hosts yet: press a to add one."
        } else {
            "No host matches the filter."
        };
        vec![Line::styled(trunc(text, w), theme.dim)]
    } else {
        let host_w = host_column(model, w);
        let off = list_offset(model.selected, usize::from(inner.height));
        model
            .view
            .iter()
            .enumerate()
            .skip(off)
            .take(usize::from(inner.height))
            .filter_map(|(row, &i)| {
                let line = row_line(model.hosts.get(i)?, model, host_w, w, theme);
                Some(if row == model.selected {
                    line.style(theme.selection)
                } else {
                    line
                })
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), inner);
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

/// Width of the host column: the longest name, within reason.
fn host_column(model: &Model, w: usize) -> usize {
    let longest = model
        .view
        .iter()
        .filter_map(|&i| model.hosts.get(i))
        .map(|h| str_width(&h.label()))
        .max()
        .unwrap_or(0);
    let fixed = 1 + 1 + WORD_W + 1 + 1 + DAYS_W + 1;
    let room = w.saturating_sub(fixed);
    longest.min((room / 2).max(12)).min(room)
}

fn days_label(r: &Report) -> String {
    match r.leaf_days_left() {
        Some(d) => format!("{d}d"),
        None => "—".to_string(),
    }
}

/// One row. Severity reads from the symbol and word; color only repeats it.
fn row_line(h: &Host, model: &Model, host_w: usize, w: usize, theme: &Theme) -> Line<'static> {
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
        HostState::Done(r) => (
            sym,
            word,
            days_label(r),
            r.root_cause().map(|f| f.title.clone()).unwrap_or_default(),
            ratatui::style::Style::new(),
        ),
        HostState::Failed(e) => (sym, word, "—".to_string(), e.clone(), theme.error),
    };
    let style = theme.status(status);
    let host = safe(&h.label());
    if w < 1 + 1 + WORD_W + 1 + 8 {
        // Too narrow for columns: symbol and name only.
        return Line::from(vec![
            Span::styled(sym.to_string(), style),
            Span::raw(" "),
            Span::raw(trunc(&host, w.saturating_sub(2))),
        ]);
    }
    let fixed = 1 + 1 + WORD_W + 1 + host_w + 1 + DAYS_W + 1;
    let title_w = w.saturating_sub(fixed);
    Line::from(vec![
        Span::styled(sym.to_string(), style),
        Span::raw(" "),
        Span::styled(pad(word, WORD_W), style),
        Span::raw(" "),
        Span::raw(pad(&host, host_w)),
        Span::raw(" "),
        Span::raw(pad_left(&days, DAYS_W)),
        Span::raw(" "),
        Span::styled(trunc(&safe(&title), title_w), title_style),
    ])
}
