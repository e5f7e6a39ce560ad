//! The clipboard as a service with honest feedback: arboard when a display
//! is there (kept alive for the whole run, as X11 requires), OSC 52 when
//! there is none or over SSH (also wrapped for tmux passthrough).

use std::io::Write;

/// The de-facto limit for one OSC 52 sequence is 100,000 bytes; base64
/// makes 4 bytes of 3, so about 74,994 bytes of text fit.
pub const OSC52_MAX_TEXT: usize = 74_994;

/// How text reaches the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The system clipboard through arboard (X11/Wayland, macOS, Windows).
    System,
    /// An OSC 52 escape sequence written to the terminal.
    Osc52,
}

/// Pick the method from the environment: OSC 52 over SSH or without a
/// display, else the system clipboard.
pub fn choose(env: &dyn Fn(&str) -> Option<String>) -> Method {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    if set("SSH_CONNECTION") || set("SSH_TTY") {
        return Method::Osc52;
    }
    if cfg!(target_os = "linux") && !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
        return Method::Osc52;
    }
    Method::System
}

/// Standard base64 with padding, as OSC 52 wants it (the base64 crate
/// crossterm already builds on).
fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The bytes to write for an OSC 52 copy. Inside tmux, the plain sequence
/// (taken by tmux when `set-clipboard` is on) is followed by the same
/// sequence in a DCS passthrough (reaching the outer terminal when
/// `allow-passthrough` is on).
pub fn osc52(text: &str, in_tmux: bool) -> Result<String, String> {
    if text.len() > OSC52_MAX_TEXT {
        return Err(format!(
            "{} bytes is too much for OSC 52 (at most {OSC52_MAX_TEXT}); save it with s instead",
            text.len()
        ));
    }
    let seq = format!("\x1b]52;c;{}\x07", base64(text.as_bytes()));
    if in_tmux {
        let wrapped = format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"));
        Ok(format!("{seq}{wrapped}"))
    } else {
        Ok(seq)
    }
}

/// The clipboard service. Keep one for the whole run.
pub struct Clipboard {
    method: Method,
    system: Option<arboard::Clipboard>,
    in_tmux: bool,
}

impl Clipboard {
    pub fn from_env() -> Clipboard {
        let env = |k: &str| std::env::var(k).ok();
        let method = choose(&env);
        let system = match method {
            Method::System => arboard::Clipboard::new().ok(),
            Method::Osc52 => None,
        };
        Clipboard {
            method: if system.is_some() {
                Method::System
            } else {
                Method::Osc52
            },
            system,
            in_tmux: env("TMUX").is_some_and(|v| !v.is_empty()),
        }
    }

    pub fn method(&self) -> Method {
        self.method
    }

    /// Copy `text`; on success say how it was delivered. `term` is where
    /// OSC 52 goes (the terminal). A failing system clipboard falls back to
    /// OSC 52.
    pub fn copy(&mut self, text: &str, term: &mut dyn Write) -> Result<String, String> {
        if let Some(cb) = &mut self.system {
            match cb.set_text(text.to_string()) {
                Ok(()) => {
                    return Ok(format!(
                        "copied {} ({} bytes)",
                        preview(text, 40),
                        text.len()
                    ));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "system clipboard failed, using OSC 52");
                }
            }
        }
        let seq = osc52(text, self.in_tmux)?;
        term.write_all(seq.as_bytes())
            .and_then(|_| term.flush())
            .map_err(|e| format!("cannot write to the terminal: {e}"))?;
        Ok(osc52_sent(text))
    }
}

/// What the status bar says after an OSC 52 copy: short enough to stay
/// whole on one row beside `? help  q quit` from 120 columns on (the bar
/// wraps it below that).
pub fn osc52_sent(text: &str) -> String {
    format!(
        "copied via OSC 52: {} (won't paste? your terminal ignores OSC 52; s saves)",
        preview(text, 24)
    )
}

/// The first line of `text`, cut to `n` characters, quoted.
fn preview(text: &str, n: usize) -> String {
    let first = text.lines().next().unwrap_or("");
    let short: String = first.chars().take(n).collect();
    if short.len() < text.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{short}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn osc52_forms() {
        assert_eq!(osc52("hi", false).unwrap(), "\x1b]52;c;aGk=\x07");
        let t = osc52("hi", true).unwrap();
        assert!(
            t.starts_with("\x1b]52;c;aGk=\x07\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"),
            "{t:?}"
        );
        assert!(osc52(&"x".repeat(OSC52_MAX_TEXT + 1), false).is_err());
    }

    #[test]
    fn method_from_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            choose(&env(&[("SSH_TTY", "/dev/pts/1"), ("DISPLAY", ":0")])),
            Method::Osc52
        );
        if cfg!(target_os = "linux") {
            assert_eq!(choose(&env(&[])), Method::Osc52);
            assert_eq!(choose(&env(&[("DISPLAY", ":0")])), Method::System);
        }
    }
}
