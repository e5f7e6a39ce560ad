//! The status bar: the message (or the filter prompt) on the left, then the
//! key hints from the binding table. Hints are dropped from the end to fit,
//! except `? help` and `q quit`, which always stay; a message too long for
//! one row wraps onto a second (at most [`MAX_ROWS`]).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, safe, str_width, trunc, wrap};
use crate::tui::keys::{BINDINGS, Command, hints};
use crate::tui::model::{MessageKind, Model};

const GAP: &str = "  ";
/// Rows the bar may take for a long message.
pub const MAX_ROWS: usize = 3;

pub fn render(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    if area.is_empty() {
        return;
    }
    frame.render_widget(
        Paragraph::new(status_lines(model, theme, usize::from(area.width))),
        area,
    );
}

/// Rows the bar takes on a terminal `w` columns wide (1 unless a message
/// needs more).
pub fn status_rows(model: &Model, w: u16) -> u16 {
    let n = status_lines(model, &Theme::new(false), usize::from(w)).len();
    u16::try_from(n).unwrap_or(1)
}

/// The hints that always stay: help and quit, as (key, hint).
fn kept() -> Vec<(String, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| matches!(b.command, Command::Help | Command::Quit))
        .map(|b| (b.keys.first().map(|k| k.name()).unwrap_or_default(), b.hint))
        .collect()
}

fn hint_w(key: &str, hint: &str) -> usize {
    str_width(key) + 1 + str_width(hint)
}

/// The bar's lines for a terminal `w` columns wide.
pub fn status_lines(model: &Model, theme: &Theme, w: usize) -> Vec<Line<'static>> {
    let key_style = theme.focus.add_modifier(Modifier::BOLD);
    let hint = |spans: &mut Vec<Span<'static>>, used: &mut usize, key: &str, h: &str| {
        let gap = if *used == 0 { "" } else { GAP };
        *used += str_width(gap) + hint_w(key, h);
        spans.push(Span::raw(gap));
        spans.push(Span::styled(safe(key), key_style));
        spans.push(Span::styled(format!(" {h}"), theme.dim));
    };
    if model.filter_editing {
        // Typing goes to the filter (`q` and `?` are text): only the keys
        // that end the prompt.
        let mut spans = Vec::new();
        let text = trunc(&format!("/{}", safe(&model.filter)), w.saturating_sub(1));
        let mut used = str_width(&text) + 1;
        spans.push(Span::styled(text, theme.focus));
        spans.push(Span::styled(
            " ",
            Style::new().add_modifier(Modifier::REVERSED),
        ));
        for (key, h) in [("Enter", "done"), ("Esc", "back")] {
            if used + GAP.len() + hint_w(key, h) <= w {
                hint(&mut spans, &mut used, key, h);
            }
        }
        return vec![Line::from(spans)];
    }
    let kept = kept();
    let kept_w: usize = kept
        .iter()
        .map(|(k, h)| GAP.len() + hint_w(k, h))
        .sum::<usize>()
        .saturating_sub(GAP.len());
    // The message, wrapped when it does not fit beside the kept hints.
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut last: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    let mut wrapped = false;
    if let Some(m) = &model.message {
        let (sym, style) = match m.kind {
            MessageKind::Info => ("i", theme.info),
            MessageKind::Error => ("✗", theme.error),
        };
        let text = format!("{sym} {}", safe(&m.text));
        let one_row = w.saturating_sub(GAP.len() + kept_w);
        let rows = if str_width(&text) <= one_row {
            vec![text]
        } else {
            let mut rows = wrap(&text, w, "", "  ");
            if rows
                .last()
                .is_some_and(|l| str_width(l) + GAP.len() + kept_w > w)
            {
                rows.push(String::new());
            }
            if rows.len() > MAX_ROWS {
                // Keep the hints' row; cut the message before it.
                rows.truncate(MAX_ROWS - 1);
                if let Some(l) = rows.last_mut() {
                    *l = trunc(&format!("{l} …"), w);
                }
                rows.push(String::new());
            }
            rows
        };
        let n = rows.len();
        wrapped = n > 1;
        for (k, row) in rows.into_iter().enumerate() {
            if k + 1 < n {
                lines.push(Line::styled(row, style));
            } else if !row.is_empty() {
                used = str_width(&row);
                last.push(Span::styled(row, style));
            }
        }
    }
    // Other hints while they fit with the kept ones after them (none under
    // a message that had to wrap: it is what to read).
    let others = if wrapped {
        Vec::new()
    } else {
        hints(model.detail.is_some())
    };
    for (key, h) in others {
        if kept.iter().any(|(k, kh)| *k == key && *kh == h) {
            continue;
        }
        let gap = if used == 0 { 0 } else { GAP.len() };
        if used + gap + hint_w(&key, h) + GAP.len() + kept_w > w {
            break;
        }
        hint(&mut last, &mut used, &key, h);
    }
    for (key, h) in &kept {
        hint(&mut last, &mut used, key, h);
    }
    lines.push(Line::from(last));
    lines
}
