//! The log file in the XDG state dir: the TUI never logs to the screen.

use std::io::Write;

/// Append a line to the log file in the XDG state dir (never the screen).
pub fn log(msg: &str) {
    let dir = std::env::var_os("XDG_STATE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".local/state"))
        });
    let Some(dir) = dir.map(|d| d.join("certscope")) else {
        return;
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("certscope.log"))
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let _ = writeln!(
            f,
            "{} {}",
            crate::report::rfc3339(now),
            crate::util::sanitize::for_terminal(msg)
        );
    }
}
