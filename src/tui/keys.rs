//! The one binding table: it drives key dispatch, the `?` help overlay and
//! the status-bar hints, so the three can never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    NextPane,
    PrevPane,
    Enter,
    Collapse,
    Back,
    Filter,
    Sort,
    Reprobe,
    ReprobeNoSni,
    ReprobeAll,
    AddHost,
    CopyMenu,
    Changes,
    Save,
    Help,
    Quit,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere outside text prompts.
    Global,
    /// The three panes.
    Panes,
    /// The full-screen certificate detail.
    Detail,
}

/// A key as written in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Tab,
    BackTab,
    Enter,
    Esc,
    CtrlC,
}

impl Key {
    pub fn name(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Home => "Home".into(),
            Key::End => "End".into(),
            Key::Tab => "Tab".into(),
            Key::BackTab => "S-Tab".into(),
            Key::Enter => "Enter".into(),
            Key::Esc => "Esc".into(),
            Key::CtrlC => "Ctrl-C".into(),
        }
    }

    fn matches(self, ev: &KeyEvent) -> bool {
        match self {
            Key::Char(c) => {
                ev.code == KeyCode::Char(c)
                    && !ev
                        .modifiers
                        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            }
            Key::Up => ev.code == KeyCode::Up,
            Key::Down => ev.code == KeyCode::Down,
            Key::PageUp => ev.code == KeyCode::PageUp,
            Key::PageDown => ev.code == KeyCode::PageDown,
            Key::Home => ev.code == KeyCode::Home,
            Key::End => ev.code == KeyCode::End,
            Key::Tab => ev.code == KeyCode::Tab && !ev.modifiers.contains(KeyModifiers::SHIFT),
            Key::BackTab => {
                ev.code == KeyCode::BackTab
                    || (ev.code == KeyCode::Tab && ev.modifiers.contains(KeyModifiers::SHIFT))
            }
            Key::Enter => ev.code == KeyCode::Enter,
            Key::Esc => ev.code == KeyCode::Esc,
            Key::CtrlC => {
                ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL)
            }
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub command: Command,
    pub keys: &'static [Key],
    /// One or two words for the status-bar hint.
    pub hint: &'static str,
    /// The sentence in the help overlay.
    pub description: &'static str,
    pub context: Context,
    /// Shown in the status bar (most important first).
    pub in_hints: bool,
}

const fn b(
    command: Command,
    keys: &'static [Key],
    hint: &'static str,
    description: &'static str,
    context: Context,
    in_hints: bool,
) -> Binding {
    Binding {
        command,
        keys,
        hint,
        description,
        context,
        in_hints,
    }
}

use Context::{Detail, Global, Panes};
use Key::*;

/// The bindings, in help-overlay order.
pub const BINDINGS: &[Binding] = &[
    b(
        Command::Up,
        &[Char('k'), Up],
        "up",
        "Move up",
        Global,
        false,
    ),
    b(
        Command::Down,
        &[Char('j'), Down],
        "down",
        "Move down",
        Global,
        false,
    ),
    b(
        Command::Top,
        &[Char('g'), Home],
        "top",
        "Go to the first item",
        Global,
        false,
    ),
    b(
        Command::Bottom,
        &[Char('G'), End],
        "bottom",
        "Go to the last item",
        Global,
        false,
    ),
    b(
        Command::PageUp,
        &[PageUp],
        "page up",
        "Move or scroll one page up",
        Global,
        false,
    ),
    b(
        Command::PageDown,
        &[PageDown],
        "page down",
        "Move or scroll one page down",
        Global,
        false,
    ),
    b(
        Command::NextPane,
        &[Tab],
        "pane",
        "Focus the next pane (hosts → chain → diagnosis)",
        Panes,
        true,
    ),
    b(
        Command::PrevPane,
        &[BackTab],
        "prev pane",
        "Focus the previous pane",
        Panes,
        false,
    ),
    b(
        Command::Enter,
        &[Enter],
        "open",
        "Open: a host's chain, a certificate's full detail, or the copy menu (diagnosis pane)",
        Panes,
        true,
    ),
    b(
        Command::Collapse,
        &[Char(' ')],
        "fold",
        "Collapse or expand the chain tree",
        Panes,
        false,
    ),
    b(
        Command::Back,
        &[Esc],
        "back",
        "Close the detail view, a menu or the filter",
        Global,
        false,
    ),
    b(
        Command::Filter,
        &[Char('/')],
        "filter",
        "Filter hosts by name or problem",
        Panes,
        true,
    ),
    b(
        Command::Sort,
        &[Char('o')],
        "sort",
        "Sort hosts by severity, name or expiry",
        Panes,
        false,
    ),
    b(
        Command::Reprobe,
        &[Char('r')],
        "re-probe",
        "Probe the selected host again",
        Panes,
        true,
    ),
    b(
        Command::ReprobeNoSni,
        &[Char('n')],
        "no-SNI",
        "Probe the selected host again, also without SNI, and compare",
        Panes,
        false,
    ),
    b(
        Command::ReprobeAll,
        &[Char('R')],
        "all",
        "Probe every host again",
        Panes,
        false,
    ),
    b(
        Command::AddHost,
        &[Char('a')],
        "add",
        "Add a host (host, host:port, [v6]:port or https URL)",
        Panes,
        true,
    ),
    b(
        Command::CopyMenu,
        &[Char('c')],
        "copy",
        "Copy: the fix command, the openssl line that reproduces the problem, the PEM, or the diagnosis",
        Global,
        true,
    ),
    b(
        Command::Changes,
        &[Char('C')],
        "changes",
        "Show what changed since start (renewals, new and gone findings, status)",
        Panes,
        false,
    ),
    b(
        Command::Save,
        &[Char('s')],
        "save",
        "Save the chain as PEM to a file",
        Global,
        true,
    ),
    b(
        Command::Help,
        &[Char('?')],
        "help",
        "Show or hide this help",
        Global,
        true,
    ),
    b(
        Command::Quit,
        &[Char('q'), CtrlC],
        "quit",
        "Quit (Ctrl-C always quits)",
        Global,
        true,
    ),
];

/// Is the binding active in this context?
fn applies(binding: &Binding, in_detail: bool) -> bool {
    match binding.context {
        Global => true,
        Panes => !in_detail,
        Detail => in_detail,
    }
}

/// The command a key triggers, if any.
pub fn lookup(ev: &KeyEvent, in_detail: bool) -> Option<Command> {
    BINDINGS
        .iter()
        .filter(|b| applies(b, in_detail))
        .find(|b| b.keys.iter().any(|k| k.matches(ev)))
        .map(|b| b.command)
}

/// Keys of a binding as shown to the user, e.g. "j/↓".
pub fn keys_label(b: &Binding) -> String {
    b.keys
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join("/")
}

/// Status-bar hints for the context, as (keys, hint) pairs, most important
/// first; the caller drops from the end what does not fit.
pub fn hints(in_detail: bool) -> Vec<(String, &'static str)> {
    let mut v: Vec<(String, &'static str)> = Vec::new();
    if in_detail {
        v.push(("Esc".into(), "back"));
        v.push(("j/k".into(), "scroll"));
    }
    v.extend(
        BINDINGS
            .iter()
            .filter(|b| b.in_hints && applies(b, in_detail))
            .map(|b| (b.keys.first().map(|k| k.name()).unwrap_or_default(), b.hint)),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                let overlap = a.context == b.context || a.context == Global || b.context == Global;
                if overlap {
                    for k in a.keys {
                        assert!(
                            !b.keys.contains(k),
                            "{k:?} bound to {:?} and {:?}",
                            a.command,
                            b.command
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lookup_finds_commands() {
        assert_eq!(lookup(&key(KeyCode::Char('j')), false), Some(Command::Down));
        assert_eq!(lookup(&key(KeyCode::Down), false), Some(Command::Down));
        assert_eq!(
            lookup(&key(KeyCode::BackTab), false),
            Some(Command::PrevPane)
        );
        assert_eq!(
            lookup(
                &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
                true
            ),
            Some(Command::Quit)
        );
        assert_eq!(
            lookup(&key(KeyCode::Char('c')), false),
            Some(Command::CopyMenu)
        );
        assert_eq!(
            lookup(&key(KeyCode::Char('a')), true),
            None,
            "no adding hosts from the detail view"
        );
        assert_eq!(lookup(&key(KeyCode::Char('x')), false), None);
    }
}
