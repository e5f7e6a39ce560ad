//! The `?` overlay, generated from the binding table, grouped by context.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::popup::centered;
use super::{Theme, pad, str_width, trunc, wrap};
use crate::tui::keys::{BINDINGS, Command, Context, keys_label};

const GROUPS: [(Context, &str); 3] = [
    (Context::Global, "Everywhere"),
    (Context::Panes, "In the panes"),
    (Context::Detail, "In the certificate detail"),
];

const LEGEND: &str = "✓ ok   ! warning   ✗ critical   ? error   … pending";

/// Help text lines for an inner width `w`; `wrapped` = wrap long
/// descriptions (else truncate them, one line per binding).
fn lines(w: usize, wrapped: bool, legend: bool) -> Vec<Line<'static>> {
    let key_w = BINDINGS
        .iter()
        .map(|b| str_width(&keys_label(b)))
        .max()
        .unwrap_or(0);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut out = Vec::new();
    for (ctx, name) in GROUPS {
        let group: Vec<_> = BINDINGS.iter().filter(|b| b.context == ctx).collect();
        if group.is_empty() {
            continue;
        }
        out.push(Line::styled(name.to_string(), bold));
        for b in group {
            let keys = format!("  {}  ", pad(&keys_label(b), key_w));
            let kw = str_width(&keys);
            if wrapped {
                let hang = " ".repeat(kw);
                for (k, l) in wrap(b.description, w, &keys, &hang).into_iter().enumerate() {
                    if k == 0 {
                        let desc: String = l.chars().skip(keys.chars().count()).collect();
                        out.push(Line::from(vec![
                            Span::styled(keys.clone(), bold),
                            Span::raw(desc),
                        ]));
                    } else {
                        out.push(Line::raw(l));
                    }
                }
            } else {
                out.push(Line::from(vec![
                    Span::styled(keys, bold),
                    Span::raw(trunc(b.description, w.saturating_sub(kw))),
                ]));
            }
        }
    }
    if legend {
        out.push(Line::styled("Symbols".to_string(), bold));
        out.push(Line::raw(format!(
            "  {}",
            trunc(LEGEND, w.saturating_sub(2))
        )));
    }
    out
}

pub fn render(frame: &mut Frame, area: Rect, theme: &Theme) {
    let width = area
        .width
        .saturating_sub(4)
        .min(120)
        .max(area.width.min(20));
    let iw = usize::from(width.saturating_sub(2));
    let room = usize::from(area.height.saturating_sub(2));
    // Prefer wrapped text with the legend; fall back to shorter forms.
    let mut text = [(true, true), (true, false), (false, true), (false, false)]
        .into_iter()
        .map(|(wrapped, legend)| lines(iw, wrapped, legend))
        .find(|l| l.len() <= room)
        .unwrap_or_else(|| two_columns(lines(iw.saturating_sub(2) / 2, false, false), iw));
    if text.len() > room && room > 0 {
        // Say what is missing rather than cutting silently.
        let hidden = text.len() - (room - 1);
        text.truncate(room - 1);
        text.push(Line::styled(
            trunc(&format!("… {hidden} more lines: enlarge the terminal"), iw),
            theme.dim,
        ));
    }
    let height = u16::try_from(text.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let rect = centered(area, width, height);
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme.focus)
        .title(Line::styled(" Help: keys ", theme.focus))
        .title_bottom(Line::styled(
            format!(" {} closes ", closing_keys()),
            theme.dim,
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(text).block(block), rect);
}

/// `text` (one line per binding, cut to half the width) in two columns,
/// for a terminal too short for one: every binding keeps its row.
fn two_columns(text: Vec<Line<'static>>, w: usize) -> Vec<Line<'static>> {
    let half = text.len().div_ceil(2);
    let col = w.saturating_sub(2) / 2;
    let (left, right) = text.split_at(half.min(text.len()));
    left.iter()
        .enumerate()
        .map(|(k, l)| {
            let used: usize = l.spans.iter().map(|s| str_width(&s.content)).sum();
            let mut spans = l.spans.clone();
            spans.push(Span::raw(" ".repeat(col.saturating_sub(used) + 2)));
            if let Some(r) = right.get(k) {
                spans.extend(r.spans.iter().cloned());
            }
            Line::from(spans)
        })
        .collect()
}

/// "?/Esc": the keys that close this overlay, from the table.
fn closing_keys() -> String {
    BINDINGS
        .iter()
        .filter(|b| matches!(b.command, Command::Help | Command::Back))
        .map(keys_label)
        .collect::<Vec<_>>()
        .join(" or ")
}
