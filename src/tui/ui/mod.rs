//! Rendering: a pure function of the [`Model`]; one file per pane.
//!
//! ```text
//!  narrow (< 120 columns)          wide (>= 120 columns)
//! ┌ Hosts ─────────────────┐      ┌ Hosts ─────┐┌ Chain ────────────┐
//! │✓ ok   a.test:443  80d  │      │            ││leaf → int → anchor│
//! ├ Chain ─────────────────┤      │  half      │└───────────────────┘
//! │leaf → int → anchor     │      │           │┌ Diagnosis ─────────┐
//! ├ Diagnosis ─────────────┤      │           ││findings, clients,  │
//! │findings, clients, fixes│      │           ││numbered fix steps  │
//! └────────────────────────┘      └────────────┘└───────────────────┘
//!  message · key hints (status bar: one row, more for a long message)
//! ```
//!
//! Text keeps one column clear of a pane's right border (see
//! [`text_width`]).
//!
//! The certificate detail covers the three panes; overlays (help, copy
//! menu, prompts) are drawn last, over everything.

mod chain_tree;
mod detail;
mod diagnosis;
mod help;
mod host_list;
mod popup;
mod status_bar;
pub mod theme;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};

use crate::tui::model::{HostState, Model, Overlay};

pub use detail::{detail_line_count, detail_lines, detail_max_scroll};
pub use diagnosis::{diagnosis_line_count, diagnosis_max_scroll, diagnosis_selected_line};
pub use help::{help_max_scroll, help_page};
pub use theme::Theme;

/// From this many columns on, the host list sits left of the other panes.
pub const WIDE: u16 = 120;

/// Where each pane goes (outer rectangles, borders included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub hosts: Rect,
    pub tree: Rect,
    pub diagnosis: Rect,
    pub status: Rect,
}

impl Panes {
    /// The area the certificate detail covers: all three panes.
    pub fn body(&self) -> Rect {
        self.hosts.union(self.tree).union(self.diagnosis)
    }
}

/// Split the screen. Pure and deterministic: `update` uses it for mouse
/// hit-testing and page sizes.
pub fn layout(size: Rect, model: &Model) -> Panes {
    let status_h = status_bar::status_rows(model, size.width)
        .min(size.height)
        .min(size.height.saturating_sub(3).max(1));
    let body_h = size.height - status_h;
    let status = Rect::new(size.x, size.y + body_h, size.width, status_h);
    let tree_want = tree_rows(model).saturating_add(2);
    if size.width >= WIDE {
        let left_w = hosts_width(size.width);
        let right_w = size.width - left_w;
        let hosts = Rect::new(size.x, size.y, left_w, body_h);
        let tree_h = tree_want.min(body_h / 2).max(3.min(body_h));
        let tree = Rect::new(size.x + left_w, size.y, right_w, tree_h);
        let diagnosis = Rect::new(size.x + left_w, size.y + tree_h, right_w, body_h - tree_h);
        Panes {
            hosts,
            tree,
            diagnosis,
            status,
        }
    } else {
        let rows = u16::try_from(model.view.len())
            .unwrap_or(u16::MAX)
            .saturating_add(2);
        let hosts_h = rows.min(two_fifths(body_h)).max(3).min(body_h);
        let rest = body_h - hosts_h;
        let tree_h = tree_want.min(rest / 2).max(3.min(rest));
        let hosts = Rect::new(size.x, size.y, size.width, hosts_h);
        let tree = Rect::new(size.x, size.y + hosts_h, size.width, tree_h);
        let diagnosis = Rect::new(size.x, size.y + hosts_h + tree_h, size.width, rest - tree_h);
        Panes {
            hosts,
            tree,
            diagnosis,
            status,
        }
    }
}

fn two_fifths(n: u16) -> u16 {
    u16::try_from(u32::from(n) * 2 / 5).unwrap_or(u16::MAX)
}

/// Width of the host list on a wide terminal: half of it (names and
/// problems side by side want the room), at most 100 columns, and never
/// under two fifths.
fn hosts_width(width: u16) -> u16 {
    (width / 2).min(100).max(two_fifths(width))
}

/// Columns text may use in a pane whose inner area is `inner` columns
/// wide: one short of it, so text never touches the right border.
pub(crate) fn text_width(inner: u16) -> usize {
    usize::from(inner.saturating_sub(1)).max(1)
}

/// Rows the chain tree wants for the selected host (without borders).
fn tree_rows(model: &Model) -> u16 {
    match model.selected_host().map(|h| &h.state) {
        Some(HostState::Done(r)) if !r.chain.is_empty() => {
            if model.tree_collapsed {
                if r.chain.len() > 1 { 2 } else { 1 }
            } else {
                // The chain, then a blank line, a heading and one row per
                // address for a name with several.
                let extra = if r.endpoints.is_empty() {
                    0
                } else {
                    r.endpoints.len() + 2
                };
                u16::try_from(r.chain.len() + extra).unwrap_or(u16::MAX)
            }
        }
        _ => 1,
    }
}

/// Draw the whole screen.
pub fn render(frame: &mut Frame, model: &Model) {
    let area = frame.area();
    let theme = Theme::new(model.color);
    let panes = layout(area, model);
    if model.detail.is_some() {
        detail::render(frame, panes.body(), model, &theme);
    } else {
        host_list::render(frame, panes.hosts, model, &theme);
        chain_tree::render(frame, panes.tree, model, &theme);
        diagnosis::render(frame, panes.diagnosis, model, &theme);
    }
    status_bar::render(frame, panes.status, model, &theme);
    match &model.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => help::render(frame, area, *scroll, &theme),
        Overlay::Changes { scroll } => popup::render_changes(frame, area, model, *scroll, &theme),
        Overlay::CopyMenu { items, selected } => {
            popup::render_copy_menu(frame, area, items, *selected, &theme)
        }
        Overlay::AddHost { input, error } => popup::render_prompt(
            frame,
            area,
            "Add host",
            "host, host:port, [v6]:port or https URL",
            input,
            error.as_deref(),
            &theme,
        ),
        Overlay::SaveChain { input, error } => popup::render_prompt(
            frame,
            area,
            "Save chain",
            "file to write the chain to, as PEM",
            input,
            error.as_deref(),
            &theme,
        ),
        Overlay::ConfirmOverwrite { path, .. } => {
            popup::render_confirm_overwrite(frame, area, path, &theme)
        }
    }
    scrub(frame.buffer_mut());
}

/// The spinner frame for a connecting host.
pub fn spinner(now_ms: u64) -> &'static str {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    FRAMES[usize::try_from(now_ms / 100 % 10).unwrap_or(0)]
}

// ---------------------------------------------------------------------------
// Text helpers shared by the panes.
// ---------------------------------------------------------------------------

/// Defence in depth: the engine already escapes control characters, but
/// nothing that reaches the screen may carry one.
pub fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if is_unsafe(c) { '?' } else { c })
        .collect()
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

/// Replace any cell whose symbol carries a control character (last pass).
fn scrub(buf: &mut Buffer) {
    for cell in &mut buf.content {
        if cell.symbol().chars().any(is_unsafe) {
            cell.set_symbol("?");
        }
    }
}

/// Display width in terminal columns.
pub(crate) fn str_width(s: &str) -> usize {
    Span::raw(s).width()
}

fn char_width(c: char) -> usize {
    let mut b = [0u8; 4];
    str_width(c.encode_utf8(&mut b))
}

/// `s` cut to `w` columns, with "…" when something was cut.
pub(crate) fn trunc(s: &str, w: usize) -> String {
    if str_width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if used + cw > w - 1 {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// `s` cut or padded with spaces to exactly `w` columns.
pub(crate) fn pad(s: &str, w: usize) -> String {
    let mut t = trunc(s, w);
    let n = w.saturating_sub(str_width(&t));
    t.extend(std::iter::repeat_n(' ', n));
    t
}

/// `s` right-aligned in `w` columns.
pub(crate) fn pad_left(s: &str, w: usize) -> String {
    let t = trunc(s, w);
    let n = w.saturating_sub(str_width(&t));
    let mut out: String = std::iter::repeat_n(' ', n).collect();
    out.push_str(&t);
    out
}

/// Word-wrap one paragraph (no newlines) to `width` columns: the first line
/// starts with `first`, the others with `rest`; words longer than a line are
/// broken by characters.
pub(crate) fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = first.to_string();
    let mut start_w = str_width(first);
    let mut cur_w = start_w;
    let mut has_word = false;
    for word in text.split(' ') {
        let ww = str_width(word);
        // A word longer than a whole line is broken where it stands.
        let fits_a_line = ww <= width.saturating_sub(str_width(rest));
        if has_word && cur_w + 1 + ww > width && fits_a_line {
            lines.push(std::mem::replace(&mut cur, rest.to_string()));
            start_w = str_width(rest);
            cur_w = start_w;
            has_word = false;
        }
        if has_word {
            cur.push(' ');
            cur_w += 1;
        }
        for c in word.chars() {
            let cw = char_width(c);
            if cur_w + cw > width && cur_w > start_w {
                lines.push(std::mem::replace(&mut cur, rest.to_string()));
                start_w = str_width(rest);
                cur_w = start_w;
            }
            cur.push(c);
            cur_w += cw;
        }
        has_word = true;
    }
    lines.push(cur);
    lines
}

/// Cut `text` into lines of at most `width` columns by characters, so that
/// joining the lines gives `text` back exactly (one paragraph, no newlines).
pub(crate) fn chunk(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    for c in text.chars() {
        let cw = char_width(c);
        if cur_w + cw > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0;
        }
        cur.push(c);
        cur_w += cw;
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A pane's frame: thick and highlighted when focused, so focus reads
/// without color too.
pub(crate) fn pane_block<'a>(title: String, focused: bool, width: u16, theme: &Theme) -> Block<'a> {
    let title = format!(
        " {} ",
        trunc(&safe(&title), usize::from(width.saturating_sub(4)))
    );
    let block = Block::bordered();
    if focused {
        block
            .border_type(BorderType::Thick)
            .border_style(theme.focus)
            .title(Line::styled(title, theme.focus))
    } else {
        block
            .border_type(BorderType::Plain)
            .border_style(theme.dim)
            .title(Line::styled(title, Style::new()))
    }
}
