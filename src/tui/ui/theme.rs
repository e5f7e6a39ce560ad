//! Named style slots. Every color on screen comes from here, so NO_COLOR
//! (`Model::color == false`) only has to blank the slots: what is left are
//! modifiers (bold, reverse), and severity still reads by symbol and word.

use ratatui::style::{Color, Modifier, Style};

use crate::report::finding::{Severity, Status};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub ok: Style,
    pub warning: Style,
    pub critical: Style,
    pub error: Style,
    pub info: Style,
    pub dim: Style,
    /// Border and title of the focused pane.
    pub focus: Style,
    /// The row or command under the cursor.
    pub selection: Style,
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        if !color {
            return Theme {
                ok: Style::new(),
                warning: bold,
                critical: bold,
                error: bold,
                info: Style::new(),
                dim: Style::new(),
                focus: bold,
                selection: Style::new().add_modifier(Modifier::REVERSED),
            };
        }
        Theme {
            ok: Style::new().fg(Color::Green),
            warning: Style::new().fg(Color::Yellow),
            critical: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            error: Style::new().fg(Color::Red),
            info: Style::new().fg(Color::Cyan),
            dim: Style::new().fg(Color::DarkGray),
            focus: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            selection: Style::new().add_modifier(Modifier::REVERSED),
        }
    }

    /// Style of a host status (`None` = still pending).
    pub fn status(&self, s: Option<Status>) -> Style {
        match s {
            Some(Status::Ok) => self.ok,
            Some(Status::Warning) => self.warning,
            Some(Status::Critical) => self.critical,
            Some(Status::Error) => self.error,
            None => self.dim,
        }
    }

    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Info => self.info,
            Severity::Warning => self.warning,
            Severity::Critical => self.critical,
        }
    }
}
