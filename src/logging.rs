//! Logs through `tracing`: the engine opens spans (check, resolve, connect,
//! handshake, each fetch) and events; this sets where they go. `check`,
//! `inspect` and `lab` write to stderr, only when asked (`-v`, `RUST_LOG`);
//! the TUI always writes to `$XDG_STATE_HOME/certscope/certscope.log`
//! (info by default), never to the screen it draws on.

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

/// Where logs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Stderr,
    /// The log file (for the TUI).
    File,
}

/// The level `-v` asks for: none on stderr by default, info in the file.
fn level(verbose: u8, sink: Sink) -> &'static str {
    match (verbose, sink) {
        (0, Sink::Stderr) => "off",
        (0, Sink::File) | (1, _) => "info",
        (2, _) => "debug",
        _ => "trace",
    }
}

/// The log file's directory: `$XDG_STATE_HOME/certscope`, else
/// `~/.local/state/certscope`.
pub fn state_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })
        .map(|d| d.join("certscope"))
}

/// Install the subscriber. Keep the returned guard until exit: it flushes
/// the file writer. Logging that cannot be set up is skipped silently (a
/// tool must not fail because its log directory is read-only).
pub fn init(verbose: u8, sink: Sink) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(spec).ok()?,
        _ => EnvFilter::new(level(verbose, sink)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_target(false);
    match sink {
        Sink::Stderr => {
            let _ = builder.with_writer(std::io::stderr).try_init();
            None
        }
        Sink::File => {
            let dir = state_dir()?;
            std::fs::create_dir_all(&dir).ok()?;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("certscope.log"))
                .ok()?;
            let (writer, guard) = tracing_appender::non_blocking(file);
            let _ = builder.with_writer(writer).try_init();
            Some(guard)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_levels() {
        assert_eq!(level(0, Sink::Stderr), "off");
        assert_eq!(level(0, Sink::File), "info");
        assert_eq!(level(1, Sink::Stderr), "info");
        assert_eq!(level(2, Sink::File), "debug");
        assert_eq!(level(7, Sink::Stderr), "trace");
    }
}
