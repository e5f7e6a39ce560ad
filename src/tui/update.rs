//! `update(&mut Model, Action) -> Vec<Effect>`: the only place the TUI's
//! state changes. Pure: no I/O, no clock reads, so every key is testable
//! without a terminal.

use std::path::PathBuf;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::keys::{self, Command};
use super::model::{ChangeEvent, CopyItem, Detail, Focus, HostState, MessageKind, Model, Overlay};
use super::watch::{self, Snapshot};
use crate::report::Report;
use crate::target::{ResolveRule, Target};

/// Everything that can happen to the TUI.
#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// The clock moved (spinners, days left).
    Tick {
        now_ms: u64,
        now_unix: i64,
    },
    /// A probe got its turn and is connecting.
    ProbeStarted {
        host: usize,
        generation: u64,
    },
    ProbeFinished {
        host: usize,
        generation: u64,
        report: Box<Report>,
    },
    /// The probe task died (a bug or a panic in it, not a TLS failure).
    ProbeFailed {
        host: usize,
        generation: u64,
        error: String,
    },
    /// Result of a copy: Ok(how it was delivered) or Err(why not).
    Copied(Result<String, String>),
    /// Result of saving a file: Ok(path) or Err(why not).
    Saved(Result<String, String>),
    /// The file to save to exists: ask before overwriting it.
    SaveExists {
        path: PathBuf,
        contents: String,
    },
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Start probing `hosts[host]`; results carry `generation`.
    Probe {
        host: usize,
        generation: u64,
        target: Target,
        /// Also probe without SNI and compare (`n`).
        compare_no_sni: bool,
    },
    /// Re-read and re-diagnose the certificate file of `hosts[host]`
    /// (`--file`); the result arrives as `ProbeFinished` / `ProbeFailed`.
    Inspect {
        host: usize,
        generation: u64,
        path: PathBuf,
    },
    /// Abort the running probe of `hosts[host]`, if any.
    Cancel {
        host: usize,
    },
    Copy(String),
    /// Write `contents` to `path`; an existing file is only replaced with
    /// `overwrite` (else the answer is `Action::SaveExists`).
    Save {
        path: PathBuf,
        contents: String,
        overwrite: bool,
    },
    Quit,
    /// Results replaced by a re-probe, to be freed off the event loop
    /// (10,000 reports take long enough to free to delay a key press).
    Release(Released),
}

/// Host states a re-probe replaced: nothing to act on, only to free, so
/// any two compare equal.
#[derive(Debug, Clone, Default)]
pub struct Released(pub Vec<HostState>);

impl PartialEq for Released {
    fn eq(&self, _: &Released) -> bool {
        true
    }
}

impl Eq for Released {}

/// Probe every host: the effects to start with. Files opened with `--file`
/// arrive already diagnosed and are not read again.
pub fn start(model: &mut Model) -> Vec<Effect> {
    let effects = (0..model.hosts.len())
        .filter(|&i| {
            let h = &model.hosts[i];
            !(h.file.is_some() && matches!(h.state, HostState::Done(_)))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|i| requeue(model, i))
        .collect::<Vec<_>>();
    model.refresh_view();
    effects
}

/// Probe every host again (files are re-read).
fn reprobe_all(model: &mut Model) -> Vec<Effect> {
    let mut old = Vec::with_capacity(model.hosts.len());
    for h in &mut model.hosts {
        old.push(std::mem::replace(&mut h.state, HostState::Queued));
    }
    let mut effects: Vec<Effect> = (0..model.hosts.len())
        .flat_map(|i| requeue(model, i))
        .collect();
    model.refresh_view();
    effects.push(Effect::Release(Released(old)));
    effects
}

fn reprobe(model: &mut Model, i: usize) -> Vec<Effect> {
    let effects = requeue(model, i);
    model.refresh_host(i);
    effects
}

/// A result for `host` arrived: keep it in the host's history, note what
/// it changed, and, when watching, when the host is due again.
fn record(model: &mut Model, host: usize, snap: Snapshot) {
    let now = model.now_unix;
    let interval = model.interval;
    let Some(h) = model.hosts.get_mut(host) else {
        return;
    };
    h.rechecking = false;
    let changes = h
        .history
        .back()
        .map(|prev| watch::diff(prev, &snap))
        .unwrap_or_default();
    // The last change stays marked until another one (a result that
    // changes nothing keeps it), so "renewed at 03:12" is still there later.
    if !changes.is_empty() {
        h.changes = changes;
        h.changed_at = Some(now);
        for c in &h.changes {
            if model.change_log.len() >= watch::CHANGES {
                model.change_log.pop_front();
            }
            model.change_log.push_back(ChangeEvent {
                at: now,
                host,
                change: c.clone(),
            });
        }
    }
    if h.history.len() >= watch::HISTORY {
        h.history.pop_front();
    }
    h.history.push_back(snap);
    h.next_at = interval.map(|iv| watch::next_due(now, iv, host));
}

/// Watching: probe again every host whose time has come. Its last result
/// stays shown until the new one arrives; the prober keeps at most
/// `--concurrency` running.
fn due(model: &mut Model) -> Vec<Effect> {
    if model.interval.is_none() {
        return Vec::new();
    }
    let now = model.now_unix;
    let mut effects = Vec::new();
    for (i, h) in model.hosts.iter_mut().enumerate() {
        if h.next_at.is_some_and(|t| t <= now)
            && matches!(h.state, HostState::Done(_) | HostState::Failed(_))
        {
            h.next_at = None;
            h.generation += 1;
            effects.push(match &h.file {
                Some(path) => Effect::Inspect {
                    host: i,
                    generation: h.generation,
                    path: path.clone(),
                },
                None => Effect::Probe {
                    host: i,
                    generation: h.generation,
                    target: h.target.clone(),
                    compare_no_sni: false,
                },
            });
        }
    }
    effects
}

/// Queue host `i` again (its running probe is cancelled); the caller
/// updates the view.
fn requeue(model: &mut Model, i: usize) -> Vec<Effect> {
    requeue_with(model, i, false)
}

fn requeue_with(model: &mut Model, i: usize, compare_no_sni: bool) -> Vec<Effect> {
    let Some(h) = model.hosts.get_mut(i) else {
        return Vec::new();
    };
    h.generation += 1;
    h.state = HostState::Queued;
    let run = match &h.file {
        Some(path) => Effect::Inspect {
            host: i,
            generation: h.generation,
            path: path.clone(),
        },
        None => Effect::Probe {
            host: i,
            generation: h.generation,
            target: h.target.clone(),
            compare_no_sni,
        },
    };
    vec![Effect::Cancel { host: i }, run]
}

pub fn update(model: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(k) => on_key(model, k),
        Action::Mouse(m) => on_mouse(model, m),
        Action::Resize(w, h) => {
            model.size = (w, h);
            Vec::new()
        }
        Action::Tick { now_ms, now_unix } => {
            model.now_ms = now_ms;
            model.now_unix = now_unix;
            model.expire_message();
            due(model)
        }
        Action::ProbeStarted { host, generation } => {
            let now = model.now_ms;
            if let Some(h) = model.hosts.get_mut(host)
                && h.generation == generation
            {
                if matches!(h.state, HostState::Done(_) | HostState::Failed(_)) {
                    // A watch re-probe: the last result stays shown.
                    h.rechecking = true;
                } else {
                    h.state = HostState::Connecting { since_ms: now };
                }
            }
            Vec::new()
        }
        Action::ProbeFinished {
            host,
            generation,
            report,
        } => {
            if let Some(h) = model.hosts.get_mut(host)
                && h.generation == generation
            {
                // Certificate text is raw in reports: the TUI keeps the
                // terminal-safe copy, so nothing it draws or copies escapes.
                let report = Box::new(report.for_terminal());
                let snap = Snapshot::of(&report, model.now_unix);
                h.state = HostState::Done(report);
                record(model, host, snap);
                model.refresh_host(host);
                clamp(model);
            }
            Vec::new()
        }
        Action::ProbeFailed {
            host,
            generation,
            error,
        } => {
            if let Some(h) = model.hosts.get_mut(host)
                && h.generation == generation
            {
                h.state = HostState::Failed(crate::util::sanitize::for_terminal(&error));
                record(model, host, Snapshot::failed(model.now_unix));
                model.refresh_host(host);
            }
            Vec::new()
        }
        Action::Copied(r) => {
            match r {
                Ok(how) => model.set_message(how, MessageKind::Info),
                Err(e) => model.set_message(format!("copy failed: {e}"), MessageKind::Error),
            }
            Vec::new()
        }
        Action::Saved(r) => {
            match r {
                Ok(path) => {
                    model.set_message(format!("saved the chain to {path}"), MessageKind::Info)
                }
                Err(e) => model.set_message(format!("save failed: {e}"), MessageKind::Error),
            }
            Vec::new()
        }
        Action::SaveExists { path, contents } => {
            model.overlay = Overlay::ConfirmOverwrite { path, contents };
            Vec::new()
        }
    }
}

fn on_key(model: &mut Model, k: KeyEvent) -> Vec<Effect> {
    if k.kind != KeyEventKind::Press {
        return Vec::new();
    }
    if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
        model.quit = true;
        return vec![Effect::Quit];
    }
    if model.filter_editing {
        match k.code {
            KeyCode::Enter => model.filter_editing = false,
            KeyCode::Esc => {
                model.filter_editing = false;
                model.filter.clear();
            }
            KeyCode::Backspace => {
                model.filter.pop();
            }
            KeyCode::Char(c) if !c.is_control() && model.filter.len() < 200 => model.filter.push(c),
            _ => {}
        }
        model.refresh_view();
        return Vec::new();
    }
    match model.overlay.clone() {
        Overlay::None => {}
        Overlay::Changes { scroll } => {
            let n = model.change_log.len();
            model.overlay = match k.code {
                KeyCode::Esc | KeyCode::Char('C') | KeyCode::Char('q') | KeyCode::Enter => {
                    Overlay::None
                }
                KeyCode::Char('j') | KeyCode::Down => Overlay::Changes {
                    scroll: (scroll + 1).min(n.saturating_sub(1)),
                },
                KeyCode::Char('k') | KeyCode::Up => Overlay::Changes {
                    scroll: scroll.saturating_sub(1),
                },
                _ => Overlay::Changes { scroll },
            };
            return Vec::new();
        }
        Overlay::Help { scroll } => {
            help_key(model, k, scroll);
            return Vec::new();
        }
        Overlay::ConfirmOverwrite { path, contents } => {
            return confirm_overwrite_key(model, k, path, contents);
        }
        Overlay::CopyMenu { items, selected } => return copy_menu_key(model, k, items, selected),
        Overlay::AddHost { input, .. } => return add_host_key(model, k, input),
        Overlay::SaveChain { input, .. } => return save_key(model, k, input),
    }
    let Some(cmd) = keys::lookup(&k, model.detail.is_some()) else {
        return Vec::new();
    };
    command(model, cmd)
}

/// Carry out a command from the binding table.
pub fn command(model: &mut Model, cmd: Command) -> Vec<Effect> {
    let page = i64::from(model.size.1.saturating_sub(6).max(1));
    // Acting on the selected host (moving, opening, copying, saving,
    // re-probing it) pins the cursor to that host: from then on it stays
    // on it as results arrive, instead of following the worst.
    if !matches!(
        cmd,
        Command::Help
            | Command::Changes
            | Command::Quit
            | Command::Filter
            | Command::ReprobeAll
            | Command::Collapse
            | Command::Back
    ) {
        model.follow_top = false;
    }
    match cmd {
        Command::Up => move_by(model, -1),
        Command::Down => move_by(model, 1),
        Command::PageUp => move_by(model, -page),
        Command::PageDown => move_by(model, page),
        Command::Top => move_by(model, i64::MIN / 2),
        Command::Bottom => move_by(model, i64::MAX / 2),
        Command::NextPane | Command::PrevPane => {
            let pos = Focus::ORDER
                .iter()
                .position(|f| *f == model.focus)
                .unwrap_or(0);
            let n = Focus::ORDER.len();
            let next = if cmd == Command::NextPane {
                (pos + 1) % n
            } else {
                (pos + n - 1) % n
            };
            model.focus = Focus::ORDER[next];
            model.fix_selected = 0;
            model.diag_scroll = 0;
        }
        Command::Enter => match model.focus {
            Focus::Hosts => {
                if model.selected_report().is_some_and(|r| !r.chain.is_empty()) {
                    model.focus = Focus::Tree;
                }
            }
            Focus::Tree => {
                if model
                    .selected_report()
                    .is_some_and(|r| model.tree_selected < r.chain.len())
                {
                    model.detail = Some(Detail {
                        cert: model.tree_selected,
                        scroll: 0,
                    });
                }
            }
            Focus::Diagnosis => return command(model, Command::CopyMenu),
        },
        Command::Collapse => model.tree_collapsed = !model.tree_collapsed,
        Command::Back => {
            if model.detail.is_some() {
                model.detail = None;
            } else if !model.filter.is_empty() {
                model.filter.clear();
                model.refresh_view();
            } else {
                model.focus = Focus::Hosts;
            }
        }
        Command::Filter => model.filter_editing = true,
        Command::Sort => {
            model.sort = model.sort.next();
            model.refresh_view();
            model.set_message(
                format!("sorted by {}", model.sort.label()),
                MessageKind::Info,
            );
        }
        Command::Reprobe => {
            if let Some(i) = model.selected_index() {
                return reprobe(model, i);
            }
        }
        Command::ReprobeNoSni => {
            if let Some(i) = model.selected_index() {
                let effects = requeue_with(model, i, true);
                model.refresh_host(i);
                return effects;
            }
        }
        Command::ReprobeAll => return reprobe_all(model),
        Command::AddHost => {
            model.overlay = Overlay::AddHost {
                input: String::new(),
                error: None,
            }
        }
        Command::CopyMenu => {
            let items = copy_items(model);
            if items.is_empty() {
                model.set_message(
                    "nothing to copy yet: the host has no result",
                    MessageKind::Error,
                );
            } else {
                model.overlay = Overlay::CopyMenu { items, selected: 0 };
            }
        }
        Command::Save => match model.selected_report() {
            Some(r)
                if r.chain
                    .iter()
                    .any(|c| c.source != crate::report::Source::Store) =>
            {
                let stem = crate::diagnose::fix::file_stem(&r.name);
                model.overlay = Overlay::SaveChain {
                    input: format!("{stem}-chain.pem"),
                    error: None,
                };
            }
            _ => model.set_message("no chain to save for this host", MessageKind::Error),
        },
        Command::Help => model.overlay = Overlay::Help { scroll: 0 },
        Command::Changes => model.overlay = Overlay::Changes { scroll: 0 },
        Command::Quit => {
            model.quit = true;
            return vec![Effect::Quit];
        }
    }
    Vec::new()
}

fn move_by(model: &mut Model, delta: i64) {
    let step = |cur: usize, len: usize| -> usize {
        if len == 0 {
            return 0;
        }
        (cur as i64).saturating_add(delta).clamp(0, len as i64 - 1) as usize
    };
    if model.detail.is_some() {
        let max = i64::from(super::ui::detail_max_scroll(model));
        if let Some(d) = &mut model.detail {
            d.scroll = (i64::from(d.scroll) + delta).clamp(0, max) as u16;
        }
        return;
    }
    match model.focus {
        Focus::Hosts => {
            let before = model.selected;
            model.selected = step(model.selected, model.view.len());
            if model.selected != before {
                model.tree_selected = 0;
                model.fix_selected = 0;
                model.diag_scroll = 0;
            }
        }
        Focus::Tree => {
            let len = model.selected_report().map(|r| r.chain.len()).unwrap_or(0);
            model.tree_selected = step(model.tree_selected, len);
            model.fix_selected = 0;
        }
        Focus::Diagnosis => {
            let len = model.fix_commands().len();
            if len > 0 {
                model.fix_selected = step(model.fix_selected, len);
                scroll_to_selected_fix(model);
            } else {
                scroll_diagnosis(model, delta);
            }
        }
    }
}

fn scroll_diagnosis(model: &mut Model, delta: i64) {
    let max = i64::from(super::ui::diagnosis_max_scroll(model));
    model.diag_scroll = (i64::from(model.diag_scroll) + delta).clamp(0, max) as u16;
}

/// Scroll the diagnosis pane so the selected fix command is on screen.
fn scroll_to_selected_fix(model: &mut Model) {
    let size = ratatui::layout::Rect::new(0, 0, model.size.0, model.size.1);
    let pane = super::ui::layout(size, model).diagnosis;
    let visible = pane.height.saturating_sub(2).max(1);
    if let Some(line) = super::ui::diagnosis_selected_line(model, pane.width) {
        if line < model.diag_scroll {
            model.diag_scroll = line.saturating_sub(1);
        } else if line >= model.diag_scroll + visible {
            model.diag_scroll = line + 1 - visible;
        }
    }
}

/// Keep selections inside their lists after the data changed.
fn clamp(model: &mut Model) {
    let len = model.selected_report().map(|r| r.chain.len()).unwrap_or(0);
    model.tree_selected = model.tree_selected.min(len.saturating_sub(1));
    if let Some(d) = model.detail
        && d.cert >= len
    {
        model.detail = None;
    }
    model.fix_selected = model
        .fix_selected
        .min(model.fix_commands().len().saturating_sub(1));
}

/// The copy menu: exactly the texts that will be copied.
pub fn copy_items(model: &Model) -> Vec<CopyItem> {
    let Some(r) = model.selected_report() else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let cmds = model.fix_commands();
    if let Some((fi, si, cmd)) = cmds.get(model.fix_selected).or_else(|| cmds.first()) {
        // Named by the step it belongs to: "Fix step 2 for expired: Renew
        // it", so the confirm step never reads as "the fix".
        let findings = model.shown_findings();
        let label = match findings
            .get(*fi)
            .and_then(|f| f.fix.get(*si).map(|s| (f, s)))
        {
            Some((f, s)) => format!("Fix step {} for {}: {}", si + 1, f.code, s.title),
            None => format!("Fix step {}", si + 1),
        };
        items.push(CopyItem {
            label,
            text: cmd.clone(),
        });
    }
    items.push(CopyItem {
        label: "openssl s_client line that reproduces the problem".into(),
        text: r.reproduce.clone(),
    });
    let cert = model.detail.map(|d| d.cert).unwrap_or(model.tree_selected);
    if let Some(c) = r.chain.get(cert) {
        items.push(CopyItem {
            label: format!("PEM of certificate #{cert} ({})", c.info.display_name()),
            text: c.info.pem(),
        });
    }
    items.push(CopyItem {
        label: "The whole diagnosis as text".into(),
        text: crate::report::text::render(r, false),
    });
    items
}

fn copy_menu_key(
    model: &mut Model,
    k: KeyEvent,
    items: Vec<CopyItem>,
    selected: usize,
) -> Vec<Effect> {
    let chosen = match k.code {
        KeyCode::Esc | KeyCode::Char('q') => {
            model.overlay = Overlay::None;
            return Vec::new();
        }
        KeyCode::Up | KeyCode::Char('k') => {
            model.overlay = Overlay::CopyMenu {
                selected: selected.saturating_sub(1),
                items,
            };
            return Vec::new();
        }
        KeyCode::Down | KeyCode::Char('j') => {
            model.overlay = Overlay::CopyMenu {
                selected: (selected + 1).min(items.len().saturating_sub(1)),
                items,
            };
            return Vec::new();
        }
        KeyCode::Enter | KeyCode::Char('c') => selected,
        KeyCode::Char(d @ '1'..='9') => (d as usize) - ('1' as usize),
        _ => return Vec::new(),
    };
    let Some(item) = items.get(chosen) else {
        return Vec::new();
    };
    model.overlay = Overlay::None;
    vec![Effect::Copy(item.text.clone())]
}

fn edit(input: &mut String, k: &KeyEvent) {
    match k.code {
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Char(c) if !c.is_control() && input.len() < 1000 => input.push(c),
        _ => {}
    }
}

/// Validate a typed target and the defaults; the error names the input.
pub fn parse_new_host(model: &Model, input: &str) -> Result<Target, String> {
    let mut t = Target::parse(input.trim(), 443)?;
    t.sni = model.add_defaults.sni.clone();
    ResolveRule::apply(&model.add_defaults.resolve, &mut t);
    if model.hosts.iter().any(|h| {
        h.file.is_none()
            && h.target.host == t.host
            && h.target.port == t.port
            && h.target.sni == t.sni
    }) {
        return Err(format!("{} is already in the list", t.host_port()));
    }
    Ok(t)
}

fn add_host_key(model: &mut Model, k: KeyEvent, mut input: String) -> Vec<Effect> {
    match k.code {
        KeyCode::Esc => model.overlay = Overlay::None,
        KeyCode::Enter => match parse_new_host(model, &input) {
            Ok(t) => {
                model.overlay = Overlay::None;
                model.follow_top = false;
                let shown = t.host_port();
                model.hosts.push(super::model::Host::new(t));
                let i = model.hosts.len() - 1;
                model.refresh_view();
                if let Some(pos) = model.view.iter().position(|v| *v == i) {
                    model.selected = pos;
                }
                model.set_message(format!("added {shown}"), MessageKind::Info);
                return reprobe(model, i);
            }
            Err(e) => {
                model.overlay = Overlay::AddHost {
                    input,
                    error: Some(e),
                }
            }
        },
        _ => {
            edit(&mut input, &k);
            model.overlay = Overlay::AddHost { input, error: None };
        }
    }
    Vec::new()
}

/// PEM of every certificate the server sent (and any fetched), leaf first.
pub fn chain_pem(r: &Report) -> String {
    r.chain
        .iter()
        .filter(|c| c.source != crate::report::Source::Store)
        .map(|c| c.info.pem())
        .collect()
}

fn save_key(model: &mut Model, k: KeyEvent, mut input: String) -> Vec<Effect> {
    match k.code {
        KeyCode::Esc => model.overlay = Overlay::None,
        KeyCode::Enter => {
            let path = input.trim();
            let err = if path.is_empty() {
                Some("type a file name".to_string())
            } else if path.ends_with('/') {
                Some(format!("{path:?} is a directory; add a file name"))
            } else {
                None
            };
            if let Some(e) = err {
                model.overlay = Overlay::SaveChain {
                    input,
                    error: Some(e),
                };
                return Vec::new();
            }
            let Some(r) = model.selected_report() else {
                model.overlay = Overlay::None;
                return Vec::new();
            };
            let contents = chain_pem(r);
            let path = PathBuf::from(path);
            model.overlay = Overlay::None;
            return vec![Effect::Save {
                path,
                contents,
                overwrite: false,
            }];
        }
        _ => {
            edit(&mut input, &k);
            model.overlay = Overlay::SaveChain { input, error: None };
        }
    }
    Vec::new()
}

/// "`path` exists. Overwrite it? y/N": `y` writes over it; `n`, Enter or
/// any other key goes back to the file name prompt; Esc cancels.
fn confirm_overwrite_key(
    model: &mut Model,
    k: KeyEvent,
    path: PathBuf,
    contents: String,
) -> Vec<Effect> {
    match k.code {
        KeyCode::Char('y') | KeyCode::Char('Y') => {
            model.overlay = Overlay::None;
            vec![Effect::Save {
                path,
                contents,
                overwrite: true,
            }]
        }
        KeyCode::Esc => {
            model.overlay = Overlay::None;
            model.set_message(
                format!("not saved: {} exists", path.display()),
                MessageKind::Info,
            );
            Vec::new()
        }
        _ => {
            let shown = path.display().to_string();
            model.overlay = Overlay::SaveChain {
                error: Some(format!("{shown} exists and was kept; type another name")),
                input: shown,
            };
            Vec::new()
        }
    }
}

/// The help overlay: scroll keys move it, the closing keys close it.
fn help_key(model: &mut Model, k: KeyEvent, scroll: usize) {
    let area = ratatui::layout::Rect::new(0, 0, model.size.0, model.size.1);
    let max = super::ui::help_max_scroll(area);
    let page = super::ui::help_page(area).max(1);
    let scroll = scroll.min(max);
    let to = match k.code {
        KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
            model.overlay = Overlay::None;
            return;
        }
        KeyCode::Down | KeyCode::Char('j') => scroll + 1,
        KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => scroll + page,
        KeyCode::PageUp => scroll.saturating_sub(page),
        KeyCode::Home | KeyCode::Char('g') => 0,
        KeyCode::End | KeyCode::Char('G') => max,
        _ => scroll,
    };
    model.overlay = Overlay::Help {
        scroll: to.min(max),
    };
}

fn inside(r: ratatui::layout::Rect, x: u16, y: u16) -> bool {
    x >= r.x && x < r.x.saturating_add(r.width) && y >= r.y && y < r.y.saturating_add(r.height)
}

fn on_mouse(model: &mut Model, m: MouseEvent) -> Vec<Effect> {
    // The wheel scrolls the help, three lines a notch.
    if matches!(model.overlay, Overlay::Help { .. }) {
        let code = match m.kind {
            MouseEventKind::ScrollDown => KeyCode::Down,
            MouseEventKind::ScrollUp => KeyCode::Up,
            _ => return Vec::new(),
        };
        for _ in 0..3 {
            if let Overlay::Help { scroll } = model.overlay {
                help_key(model, KeyEvent::new(code, KeyModifiers::NONE), scroll);
            }
        }
        return Vec::new();
    }
    if model.overlay != Overlay::None || model.filter_editing {
        return Vec::new();
    }
    if model.detail.is_some() {
        match m.kind {
            MouseEventKind::ScrollDown => move_by(model, 3),
            MouseEventKind::ScrollUp => move_by(model, -3),
            _ => {}
        }
        return Vec::new();
    }
    let area = ratatui::layout::Rect::new(0, 0, model.size.0, model.size.1);
    let panes = super::ui::layout(area, model);
    let pane = if inside(panes.hosts, m.column, m.row) {
        Focus::Hosts
    } else if inside(panes.tree, m.column, m.row) {
        Focus::Tree
    } else if inside(panes.diagnosis, m.column, m.row) {
        Focus::Diagnosis
    } else {
        return Vec::new();
    };
    if matches!(
        m.kind,
        MouseEventKind::Down(MouseButton::Left)
            | MouseEventKind::ScrollDown
            | MouseEventKind::ScrollUp
    ) {
        model.follow_top = false;
    }
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            model.focus = pane;
            let rect = match pane {
                Focus::Hosts => panes.hosts,
                Focus::Tree => panes.tree,
                Focus::Diagnosis => panes.diagnosis,
            };
            // Rows inside the border; lists keep the selection in view the
            // same way the renderer does (see model::list_offset).
            let inner_h = rect.height.saturating_sub(2) as usize;
            let row = m.row.saturating_sub(rect.y + 1) as usize;
            match pane {
                Focus::Hosts => {
                    // Below the fleet header (see model::header_rows).
                    let header = super::model::header_rows(inner_h);
                    let offset = super::model::list_offset(model.selected, inner_h - header);
                    let target = offset + row.saturating_sub(header);
                    if m.row > rect.y && row >= header && target < model.view.len() {
                        if target != model.selected {
                            model.tree_selected = 0;
                            model.fix_selected = 0;
                            model.diag_scroll = 0;
                        }
                        model.selected = target;
                    }
                }
                Focus::Tree => {
                    let len = model.selected_report().map(|r| r.chain.len()).unwrap_or(0);
                    let offset = super::model::list_offset(model.tree_selected, inner_h);
                    let target = offset + row;
                    if m.row > rect.y && target < len && !model.tree_collapsed {
                        model.tree_selected = target;
                    }
                }
                Focus::Diagnosis => {}
            }
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let before = model.focus;
            model.focus = pane;
            let d = if m.kind == MouseEventKind::ScrollDown {
                1
            } else {
                -1
            };
            if pane == Focus::Diagnosis {
                scroll_diagnosis(model, 3 * d);
            } else {
                move_by(model, d);
            }
            model.focus = before;
        }
        _ => {}
    }
    Vec::new()
}
