//! The status bar: the message (or the filter prompt) on the left, then the
//! key hints from the binding table, dropped from the end to fit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, safe, str_width, trunc};
use crate::tui::keys::hints;
use crate::tui::model::{MessageKind, Model};

const GAP: &str = "  ";

pub fn render(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    if area.is_empty() {
        return;
    }
    frame.render_widget(
        Paragraph::new(status_line(model, theme, usize::from(area.width))),
        area,
    );
}

/// The bar's one line for a terminal `w` columns wide.
pub fn status_line(model: &Model, theme: &Theme, w: usize) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    if model.filter_editing {
        let text = trunc(&format!("/{}", safe(&model.filter)), w.saturating_sub(1));
        used += str_width(&text) + 1;
        spans.push(Span::styled(text, theme.focus));
        spans.push(Span::styled(
            " ",
            Style::new().add_modifier(Modifier::REVERSED),
        ));
    } else if let Some(m) = &model.message {
        let (sym, style) = match m.kind {
            MessageKind::Info => ("i", theme.info),
            MessageKind::Error => ("✗", theme.error),
        };
        let text = trunc(&format!("{sym} {}", safe(&m.text)), w);
        used += str_width(&text);
        spans.push(Span::styled(text, style));
    }
    let key_style = theme.focus.add_modifier(Modifier::BOLD);
    let shown: Vec<(String, &str)> = if model.filter_editing {
        // Typing goes to the filter: only the keys that end the prompt.
        vec![("Enter".to_string(), "done"), ("Esc".to_string(), "back")]
    } else {
        hints(model.detail.is_some())
    };
    for (key, hint) in shown {
        let key = safe(&key);
        let gap = if used == 0 { "" } else { GAP };
        let need = str_width(gap) + str_width(&key) + 1 + str_width(hint);
        if used + need > w {
            break;
        }
        used += need;
        spans.push(Span::raw(gap));
        spans.push(Span::styled(key, key_style));
        spans.push(Span::styled(format!(" {hint}"), theme.dim));
    }
    Line::from(spans)
}
