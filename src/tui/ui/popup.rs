//! Modal popups: the copy menu and the two one-line prompts (add host,
//! save chain).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::{Theme, chunk, pad, safe, str_width, trunc, wrap};
use crate::tui::model::CopyItem;

/// A `w`×`h` rectangle centered in `area` (clipped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn popup_block<'a>(title: &str, bottom: &str, theme: &Theme) -> Block<'a> {
    Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme.focus)
        .title(Line::styled(format!(" {title} "), theme.focus))
        .title_bottom(Line::styled(format!(" {bottom} "), theme.dim))
}

/// The text area of the copy menu: the full text of the selected item, cut
/// by characters at `width` so joining the lines of one paragraph gives it
/// back exactly. Newlines in the text start a new line.
pub fn copy_text_lines(text: &str, width: usize) -> Vec<String> {
    safe_keep_newlines(text)
        .split('\n')
        .flat_map(|p| chunk(p, width))
        .collect()
}

fn safe_keep_newlines(s: &str) -> String {
    s.split('\n').map(safe).collect::<Vec<_>>().join("\n")
}

/// The copy menu: a wide popup with the labels, the selected one
/// highlighted, and below them the full text that will be copied.
pub fn render_copy_menu(
    frame: &mut Frame,
    area: Rect,
    items: &[CopyItem],
    selected: usize,
    theme: &Theme,
) {
    let width = area
        .width
        .saturating_sub(4)
        .min(120)
        .max(area.width.min(24));
    let iw = usize::from(width.saturating_sub(2));
    // Text keeps one column clear of the right border.
    let tw = iw.saturating_sub(1).max(1);
    let selected = selected.min(items.len().saturating_sub(1));
    let mut lines: Vec<Line> = Vec::new();
    if items.is_empty() {
        lines.push(Line::styled(
            "Nothing to copy for this host yet.",
            theme.dim,
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let label = safe(&item.label);
        if i == selected {
            lines.push(Line::styled(
                pad(&trunc(&format!("▶ {label}"), tw), iw),
                theme.selection,
            ));
        } else {
            lines.push(Line::raw(trunc(&format!("  {label}"), tw)));
        }
    }
    let text = items
        .get(selected)
        .map(|it| copy_text_lines(&it.text, tw))
        .unwrap_or_default();
    if !text.is_empty() {
        lines.push(Line::styled("─".repeat(iw), theme.dim));
    }
    let want = lines.len() + text.len() + 2;
    let height = u16::try_from(want).unwrap_or(u16::MAX).min(area.height);
    let room = usize::from(height.saturating_sub(2)).saturating_sub(lines.len());
    let hidden = text.len().saturating_sub(room);
    // No indent and no styling that could change the text: the rows are
    // meant to be read back (and rebuilt) as they are.
    lines.extend(text.into_iter().take(room).map(Line::raw));
    let bottom = if hidden > 0 {
        format!("Enter copy · Esc close · {hidden} more lines not shown")
    } else {
        "Enter copy · Esc close".to_string()
    };
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(popup_block("Copy", &bottom, theme)),
        rect,
    );
}

/// A one-line prompt: a help line, the input with a cursor, and the error
/// (red, "✗ " first) when there is one.
pub fn render_prompt(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    help: &str,
    input: &str,
    error: Option<&str>,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(72).max(area.width.min(24));
    // Text keeps one column clear of the right border.
    let iw = usize::from(width.saturating_sub(3)).max(1);
    let mut lines: Vec<Line> = wrap(help, iw, "", "")
        .into_iter()
        .map(|l| Line::styled(l, theme.dim))
        .collect();
    // Show the end of a long input, where the cursor is.
    let input = safe(input);
    let room = iw.saturating_sub(3);
    let shown = if str_width(&input) > room {
        let tail: String = input
            .chars()
            .rev()
            .scan(0usize, |w, c| {
                *w += str_width(c.encode_utf8(&mut [0u8; 4]));
                (*w < room).then_some(c)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    } else {
        input
    };
    let input_row = lines.len();
    let cursor_x = 2 + str_width(&shown);
    lines.push(Line::from(vec![
        Span::styled("> ", theme.focus),
        Span::raw(shown),
        Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
    ]));
    if let Some(e) = error {
        for l in wrap(&format!("✗ {}", safe(e)), iw, "", "  ") {
            lines.push(Line::styled(l, theme.error));
        }
    }
    let height = u16::try_from(lines.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(popup_block(title, "Enter ok · Esc cancel", theme)),
        rect,
    );
    let x =
        u16::try_from(cursor_x).map_or(u16::MAX, |c| rect.x.saturating_add(1).saturating_add(c));
    let y =
        u16::try_from(input_row).map_or(u16::MAX, |r| rect.y.saturating_add(1).saturating_add(r));
    if x < rect.right().saturating_sub(1) && y < rect.bottom().saturating_sub(1) {
        frame.set_cursor_position((x, y));
    }
}

/// "`path` exists. Overwrite it?" with the answers: `y` overwrites, `n`
/// (the default) goes back to the file name.
pub fn render_confirm_overwrite(
    frame: &mut Frame,
    area: Rect,
    path: &std::path::Path,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(72).max(area.width.min(24));
    let tw = usize::from(width.saturating_sub(3)).max(1);
    let shown = safe(&path.display().to_string());
    let mut lines: Vec<Line> = wrap(&format!("{shown} already exists."), tw, "", "")
        .into_iter()
        .map(Line::raw)
        .collect();
    lines.push(Line::from(vec![
        Span::styled("Overwrite it? ", Style::new().add_modifier(Modifier::BOLD)),
        Span::styled("y/N", theme.focus),
    ]));
    let height = u16::try_from(lines.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(popup_block(
            "Save chain",
            "y overwrite · n another name · Esc cancel",
            theme,
        )),
        rect,
    );
}

/// The summary of changes since start, newest first: when, which host,
/// what changed. `scroll` skips that many of the newest.
pub fn render_changes(
    frame: &mut Frame,
    area: Rect,
    model: &crate::tui::model::Model,
    scroll: usize,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).clamp(area.width.min(24), 110);
    let height = area.height.saturating_sub(2).max(3);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let n = model.change_log.len();
    let block = popup_block(
        &format!("Changes since start ({n})"),
        "j/k scroll · Esc close",
        theme,
    );
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let w = super::text_width(inner.width);
    let lines: Vec<Line> = if n == 0 {
        vec![Line::styled(
            trunc(
                "No change yet: each re-probe (r, R, --interval) is compared with the result before.",
                w,
            ),
            theme.dim,
        )]
    } else {
        model
            .change_log
            .iter()
            .rev()
            .skip(scroll)
            .take(usize::from(inner.height))
            .map(|e| {
                let host = model
                    .hosts
                    .get(e.host)
                    .map(|h| safe(&h.label()))
                    .unwrap_or_default();
                let when = crate::report::rfc3339(e.at);
                let when = when.get(11..19).unwrap_or(&when).to_string();
                let text = format!(
                    "{when}  {} {}  {}",
                    e.change.mark(),
                    host,
                    safe(&e.change.describe())
                );
                Line::raw(trunc(&text, w))
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), inner);
}
