//! Whether to colour output: `--color auto|always|never` (the settings
//! file's `color`), then the conventions of other tools: `NO_COLOR` turns
//! colour off, `CLICOLOR_FORCE` turns it on even when not a terminal, and
//! `TERM=dumb` turns it off in `auto`. Also `--quiet`.

use std::sync::OnceLock;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl std::str::FromStr for ColorChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(ColorChoice::Auto),
            "always" => Ok(ColorChoice::Always),
            "never" => Ok(ColorChoice::Never),
            _ => Err(format!(
                "{:?} is not a colour choice: auto, always or never",
                crate::util::sanitize::for_terminal(s)
            )),
        }
    }
}

static CHOICE: OnceLock<ColorChoice> = OnceLock::new();
static QUIET: OnceLock<bool> = OnceLock::new();

/// `--quiet`: no progress, no warnings (set once, at start-up).
pub fn set_quiet(q: bool) {
    let _ = QUIET.set(q);
}

/// Whether progress and warnings are to be left out.
pub fn quiet() -> bool {
    QUIET.get().copied().unwrap_or(false)
}

/// Record the run's choice (once, at start-up).
pub fn set_choice(c: ColorChoice) {
    let _ = CHOICE.set(c);
}

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Colour for an output that is (`tty`) or is not a terminal.
pub fn color_enabled(tty: bool) -> bool {
    decide(
        CHOICE.get().copied().unwrap_or_default(),
        tty,
        env_set("NO_COLOR"),
        env_set("CLICOLOR_FORCE"),
        std::env::var("TERM").is_ok_and(|t| t == "dumb"),
    )
}

/// The rule, without the environment.
pub fn decide(choice: ColorChoice, tty: bool, no_color: bool, force: bool, dumb: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if no_color => false,
        ColorChoice::Auto if force => true,
        ColorChoice::Auto => tty && !dumb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conventions() {
        use ColorChoice::*;
        assert!(decide(Auto, true, false, false, false));
        assert!(!decide(Auto, false, false, false, false), "not a terminal");
        assert!(!decide(Auto, true, true, false, false), "NO_COLOR");
        assert!(decide(Auto, false, false, true, false), "CLICOLOR_FORCE");
        assert!(
            !decide(Auto, true, true, true, false),
            "NO_COLOR beats CLICOLOR_FORCE"
        );
        assert!(!decide(Auto, true, false, false, true), "TERM=dumb");
        assert!(decide(Always, false, true, false, true), "always is always");
        assert!(!decide(Never, true, false, true, false), "never is never");
        assert_eq!("ALWAYS".parse::<ColorChoice>(), Ok(Always));
        assert!("sometimes".parse::<ColorChoice>().is_err());
    }
}
