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

/// Help text lines wrapped to `w` columns: every binding by group, then
/// the legend.
fn lines(w: usize) -> Vec<Line<'static>> {
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
        out.push(Line::styled(trunc(name, w), bold));
        for b in group {
            let keys = format!("  {}  ", pad(&keys_label(b), key_w));
            // On a very narrow overlay the descriptions hang under the keys.
            let hang = " ".repeat(str_width(&keys).min(w / 2));
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
        }
    }
    out.push(Line::styled("Symbols".to_string(), bold));
    out.extend(wrap(LEGEND, w, "  ", "  ").into_iter().map(Line::raw));
    out
}

/// The overlay's box for a screen `area`, and its text (wrapped one
/// column short of the border).
fn geometry(area: Rect) -> (u16, Vec<Line<'static>>, usize) {
    let width = area
        .width
        .saturating_sub(4)
        .min(120)
        .max(area.width.min(20));
    let text_w = usize::from(width.saturating_sub(3)).max(1);
    let room = usize::from(area.height.saturating_sub(2));
    (width, lines(text_w), room)
}

/// Lines shown at once on a screen `area` (one page).
pub fn help_page(area: Rect) -> usize {
    geometry(area).2
}

/// Largest useful scroll of the help on a screen `area`.
pub fn help_max_scroll(area: Rect) -> usize {
    let (_, text, room) = geometry(area);
    text.len().saturating_sub(room)
}

/// The help, scrolled down `scroll` lines; the frame says how much is
/// above and below and how to scroll.
pub fn render(frame: &mut Frame, area: Rect, scroll: usize, theme: &Theme) {
    let (width, text, room) = geometry(area);
    let total = text.len();
    let scroll = scroll.min(total.saturating_sub(room));
    let shown: Vec<Line> = text.into_iter().skip(scroll).take(room).collect();
    let below = total.saturating_sub(scroll + shown.len());
    let height = u16::try_from(shown.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let rect = centered(area, width, height);
    let top = if scroll > 0 {
        format!(" Help: keys · ↑ {scroll} more above ")
    } else {
        " Help: keys ".to_string()
    };
    let bottom = if below > 0 {
        format!(
            " ↓ {below} more below · j/k PgDn scroll · {} closes ",
            closing_keys()
        )
    } else if scroll > 0 {
        format!(" j/k PgUp scroll · {} closes ", closing_keys())
    } else {
        format!(" {} closes ", closing_keys())
    };
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme.focus)
        .title(Line::styled(top, theme.focus))
        .title_bottom(Line::styled(bottom, theme.dim));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(shown).block(block), rect);
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
