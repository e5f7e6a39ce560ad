//! The response head: the status line and header fields, interim 1xx
//! responses skipped.

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::{MAX_HEAD, READ_BUF, io_text, shown};
use crate::report::observation::FetchError;

/// A parsed status line and header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Head {
    pub(super) code: u16,
    /// Sanitized reason phrase.
    pub(super) reason: String,
    /// (lower-case name, trimmed value), in order.
    headers: Vec<(String, String)>,
}

impl Head {
    pub(super) fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn first(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Read the final response head (skipping interim 1xx responses); returns it
/// with the body bytes already read.
pub(super) async fn read_head(stream: &mut TcpStream) -> Result<(Head, Vec<u8>), FetchError> {
    let mut buf = Vec::new();
    let mut budget = MAX_HEAD;
    let mut scan_from = 0;
    let mut tmp = vec![0u8; READ_BUF];
    loop {
        if let Some(end) = head_end(&buf, scan_from) {
            if end > budget {
                return Err(too_long_head());
            }
            let head = parse_head(buf.get(..end).unwrap_or_default())?;
            let rest = buf.split_off(end);
            if (100..200).contains(&head.code) && head.code != 101 {
                budget -= end;
                buf = rest;
                scan_from = 0;
                continue;
            }
            return Ok((head, rest));
        }
        if buf.len() > budget {
            return Err(too_long_head());
        }
        scan_from = buf.len().saturating_sub(3);
        let n = stream
            .read(&mut tmp)
            .await
            .map_err(|e| FetchError::Io(format!("reading the response failed: {}", io_text(&e))))?;
        if n == 0 {
            return Err(FetchError::Io(if buf.is_empty() {
                "the server closed the connection without answering".into()
            } else {
                "the connection closed in the middle of the response headers".into()
            }));
        }
        buf.extend_from_slice(tmp.get(..n).unwrap_or_default());
    }
}

fn too_long_head() -> FetchError {
    FetchError::Io(format!(
        "the response headers exceed {} KiB",
        MAX_HEAD / 1024
    ))
}

/// Index just past the blank line ending a head (`\n\n` or `\n\r\n`),
/// searching from `from`.
pub(super) fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find_map(|i| {
        if buf.get(i) != Some(&b'\n') {
            return None;
        }
        match (buf.get(i + 1), buf.get(i + 2)) {
            (Some(b'\n'), _) => Some(i + 2),
            (Some(b'\r'), Some(b'\n')) => Some(i + 3),
            _ => None,
        }
    })
}

pub(super) fn parse_head(raw: &[u8]) -> Result<Head, FetchError> {
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let (code, reason) = parse_status(lines.next().unwrap_or_default())?;
    let mut headers = Vec::new();
    for line in lines {
        // Blank lines end the block; obsolete line folding and lines
        // without a colon carry nothing we need.
        if line.is_empty() || line.starts_with(b" ") || line.starts_with(b"\t") {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let value = value.get(1..).unwrap_or_default();
        headers.push((
            String::from_utf8_lossy(name).trim().to_ascii_lowercase(),
            String::from_utf8_lossy(value).trim().to_string(),
        ));
    }
    Ok(Head {
        code,
        reason,
        headers,
    })
}

/// `HTTP/1.x NNN reason`.
fn parse_status(line: &[u8]) -> Result<(u16, String), FetchError> {
    let text = String::from_utf8_lossy(line);
    let bad = || {
        FetchError::Io(if text.is_empty() {
            "the server sent an empty status line".to_string()
        } else {
            format!("not an HTTP/1.x response: {}", shown(&text))
        })
    };
    let rest = text.strip_prefix("HTTP/1.").ok_or_else(bad)?;
    let mut parts = rest.splitn(3, ' ');
    let minor = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default().trim();
    if minor.len() != 1 || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let code: u16 = code.parse().map_err(|_| bad())?;
    if !(100..=599).contains(&code) {
        return Err(bad());
    }
    Ok((code, shown(reason)))
}
