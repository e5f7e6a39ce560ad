//! The chain tree: leaf, intermediates, anchor, one row per chain entry
//! (row i is `report.chain[i]`), each with a mark when a finding blames it.
//!
//! `✗ leaf.test                2026-01-01 → 2026-04-01  server`
//! `  └─ Example Intermediate  2025-01-01 → 2030-01-01  server`

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, pad, pane_block, safe, spinner, str_width, trunc};
use crate::report::finding::Severity;
use crate::report::{Report, Source, rfc3339};
use crate::tui::model::{Focus, HostState, Model, list_offset, severity_symbol};

/// "2026-01-01 → 2026-04-01".
const SPAN_W: usize = 23;

pub fn render(frame: &mut Frame, area: Rect, model: &Model, theme: &Theme) {
    let focused = model.focus == Focus::Tree;
    let title = match model.selected_report() {
        Some(r) if model.tree_collapsed && r.chain.len() > 1 => "Chain (collapsed)".to_string(),
        Some(r) if !r.chain.is_empty() => format!("Chain ({})", r.chain.len()),
        Some(_) => "Chain".to_string(),
        None => "Chain".to_string(),
    };
    let block = pane_block(title, focused, area.width, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let w = super::text_width(inner.width);
    let lines = match model.selected_host().map(|h| &h.state) {
        None => vec![Line::styled(trunc("No host selected.", w), theme.dim)],
        Some(HostState::Queued) => vec![Line::styled(trunc("Waiting to probe…", w), theme.dim)],
        Some(HostState::Connecting { .. }) => vec![Line::styled(
            trunc(&format!("{} connecting…", spinner(model.now_ms)), w),
            theme.dim,
        )],
        Some(HostState::Failed(_)) => vec![Line::styled(
            trunc("? No chain: the probe failed (see the diagnosis).", w),
            theme.error,
        )],
        Some(HostState::Done(r)) if r.chain.is_empty() => vec![Line::styled(
            trunc("? No certificate was received (see the diagnosis).", w),
            theme.error,
        )],
        Some(HostState::Done(r)) => tree_lines(r, model, focused, w, theme),
    };
    let selected_row = if model.tree_collapsed {
        0
    } else {
        model.tree_selected
    };
    let off = list_offset(selected_row, usize::from(inner.height));
    frame.render_widget(
        Paragraph::new(lines).scroll((u16::try_from(off).unwrap_or(0), 0)),
        inner,
    );
}

fn source_label(s: Source) -> &'static str {
    match s {
        Source::Server => "server",
        Source::File => "file",
        Source::Aia => "fetched (aia)",
        Source::Store => "trust store",
    }
}

/// The tree's branch drawing for row `i`: indented by its place on the
/// path a client builds; a certificate on no path hangs apart (`· `), so a
/// cross-certificate sent before the intermediate is not drawn as its
/// issuer.
fn branch(r: &Report, i: usize) -> String {
    if i == 0 {
        return String::new();
    }
    let depth = if r.path.is_empty() {
        Some(i)
    } else {
        r.path.iter().position(|&p| p == i)
    };
    match depth {
        Some(0) => String::new(),
        Some(k) => format!("{}└─ ", "  ".repeat((k - 1).min(4))),
        None => "·  ".to_string(),
    }
}

/// Worst severity among the findings that blame certificate `i`.
fn blame(r: &Report, i: usize) -> Option<Severity> {
    r.findings
        .iter()
        .filter(|f| f.cert == Some(i))
        .map(|f| f.severity)
        .max()
}

fn date(t: i64) -> String {
    rfc3339(t).chars().take(10).collect()
}

fn tree_lines(
    r: &Report,
    model: &Model,
    focused: bool,
    w: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let shown = if model.tree_collapsed {
        1
    } else {
        r.chain.len()
    };
    let sources: Vec<String> = r
        .chain
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut s = source_label(e.source).to_string();
            if !r.path.is_empty() && !r.path.contains(&i) {
                s.push_str(", unused");
            }
            match &e.revocation {
                Some(crate::diagnose::revocation::RevState::NotChecked { .. }) | None => {}
                Some(state) => {
                    s.push_str(", ");
                    s.push_str(&state.short());
                }
            }
            s
        })
        .collect();
    let src_w = sources
        .iter()
        .take(shown)
        .map(|s| str_width(s))
        .max()
        .unwrap_or(0);
    let names: Vec<String> = r
        .chain
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{}{}", branch(r, i), safe(&e.info.display_name())))
        .collect();
    let longest = names
        .iter()
        .take(shown)
        .map(|s| str_width(s))
        .max()
        .unwrap_or(0);
    // Mark (2) + name + "  " + span + "  " + source; drop the span, then the
    // source, when the pane is too narrow for a readable name.
    let mut show_span = true;
    let mut show_src = true;
    let mut room = w.saturating_sub(2 + 2 + SPAN_W + 2 + src_w);
    if room < 12 {
        show_span = false;
        room = w.saturating_sub(2 + 2 + src_w);
    }
    if room < 8 {
        show_src = false;
        room = w.saturating_sub(2);
    }
    let name_w = longest.min(room);

    let mut lines = Vec::new();
    for (i, e) in r.chain.iter().enumerate().take(shown) {
        let mark = match blame(r, i) {
            Some(s) => Span::styled(severity_symbol(s).to_string(), theme.severity(s)),
            None => Span::raw(" "),
        };
        let mut spans = vec![mark, Span::raw(" "), Span::raw(pad(&names[i], name_w))];
        if show_span {
            let c = &e.info;
            let out_of_date = model.now_unix > c.not_after || model.now_unix < c.not_before;
            let style = if out_of_date {
                theme.critical
            } else {
                Style::new()
            };
            spans.push(Span::raw("  "));
            spans.push(Span::styled(
                format!("{} → {}", date(c.not_before), date(c.not_after)),
                style,
            ));
        }
        if show_src {
            spans.push(Span::raw("  "));
            spans.push(Span::styled(sources[i].clone(), theme.dim));
        }
        let line = Line::from(spans);
        let selected = focused && (i == model.tree_selected || model.tree_collapsed);
        lines.push(if selected {
            line.style(theme.selection)
        } else {
            line
        });
    }
    if model.tree_collapsed && r.chain.len() > 1 {
        lines.push(Line::styled(
            format!("  (+{} more)", r.chain.len() - 1),
            theme.dim,
        ));
    }
    lines.extend(address_lines(r, w, theme));
    lines
}

/// A multi-address target: what each address presents, under the chain
/// (which is the first address's).
fn address_lines(r: &Report, w: usize, theme: &Theme) -> Vec<Line<'static>> {
    if r.endpoints.is_empty() {
        return Vec::new();
    }
    let first_leaf = r.endpoints.first().and_then(|e| e.chain_sha256.first());
    let addr_w = r
        .endpoints
        .iter()
        .map(|e| str_width(&e.address))
        .max()
        .unwrap_or(0);
    let mut lines = vec![
        Line::raw(""),
        Line::styled(
            trunc(
                &format!(
                    "Addresses ({}; the chain above is the first's)",
                    r.endpoints.len()
                ),
                w,
            ),
            theme.dim,
        ),
    ];
    for e in &r.endpoints {
        let (sym, _) = crate::tui::model::status_symbol(Some(e.status));
        let what = match (e.chain_sha256.first(), &e.error) {
            (Some(sha), _) => {
                let fp: String = sha.chars().take(11).collect();
                let same = if Some(sha) == first_leaf && e.address != r.endpoints[0].address {
                    " (same leaf)"
                } else {
                    ""
                };
                let until = e
                    .not_after
                    .as_deref()
                    .map(|t| format!("  until {}", t.chars().take(10).collect::<String>()))
                    .unwrap_or_default();
                let tls = e.tls_version.clone().unwrap_or_default();
                format!("{tls}  leaf {fp}…{same}{until}")
            }
            (None, Some(err)) if e.local => format!("not reachable from here: {}", safe(err)),
            (None, Some(err)) => format!("fails: {}", safe(err)),
            (None, None) => "no certificate".to_string(),
        };
        let text = format!("{} {}  {what}", sym, pad(&e.address, addr_w));
        lines.push(Line::styled(trunc(&text, w), theme.status(Some(e.status))));
    }
    lines
}
