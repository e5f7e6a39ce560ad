//! The reader of the plaintext exchange: bounded lines, replies and
//! messages, and the guard that hands the stream to TLS only when no
//! unread byte is buffered.

use super::*;

/// The connection during the plaintext exchange. Bytes read from the socket
/// and not yet consumed stay in `buf`; [`Wire::finish`] refuses to hand the
/// stream over unless `buf` is empty, so no byte the server sent before TLS
/// can be taken for part of the TLS session.
pub(super) struct Wire {
    pub(super) tcp: TcpStream,
    pub(super) buf: Vec<u8>,
    pub(super) timeout: Duration,
    pub(super) proto: Proto,
}

impl Wire {
    /// The deadline for the next reply: one `timeout` from now.
    pub(super) fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    pub(super) fn name(&self) -> &'static str {
        label(self.proto)
    }

    /// Read more bytes into `buf`, waiting for `what` until `deadline`.
    pub(super) async fn fill(&mut self, deadline: Instant, what: &str) -> Result<(), ConnFailure> {
        let mut chunk = [0u8; CHUNK];
        match tokio::time::timeout_at(deadline, self.tcp.read(&mut chunk)).await {
            Err(_) => {
                let mut message = format!("no {what} within {}", secs(self.timeout));
                if self.buf.is_empty() && what.ends_with("greeting") {
                    message.push_str(
                        " (the server accepted the connection but sent nothing: if this port expects TLS directly, try without --starttls)",
                    );
                }
                Err(ConnFailure {
                    code: ConnCode::Timeout,
                    step: STEP,
                    message,
                    alert: None,
                    peer_said: (!self.buf.is_empty()).then(|| quote(&self.buf)),
                    local: false,
                })
            }
            Ok(Ok(0)) => Err(failed(
                format!("the server closed the connection while certscope waited for the {what}"),
                (!self.buf.is_empty()).then(|| quote(&self.buf)),
            )),
            Ok(Ok(n)) => {
                self.buf
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                Ok(())
            }
            Ok(Err(e)) => Err(failed(
                format!(
                    "the connection failed while certscope waited for the {what}: {}",
                    crate::probe::io_words(&e)
                ),
                None,
            )),
        }
    }

    /// One line (without its CR LF), at most [`MAX_LINE`] bytes.
    pub(super) async fn line(
        &mut self,
        deadline: Instant,
        what: &str,
    ) -> Result<Vec<u8>, ConnFailure> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > MAX_LINE {
                    return Err(self.too_long(what));
                }
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(self.too_long(what));
            }
            self.fill(deadline, what).await?;
        }
    }

    pub(super) fn too_long(&self, what: &str) -> ConnFailure {
        failed(
            format!(
                "the {what} has a line longer than {} KiB: this does not look like {}{}",
                MAX_LINE / 1024,
                self.name(),
                tls_hint(&self.buf)
            ),
            Some(quote(&self.buf)),
        )
    }

    /// Exactly `n` bytes (`n` is bounded by the caller).
    pub(super) async fn exact(
        &mut self,
        n: usize,
        deadline: Instant,
        what: &str,
    ) -> Result<Vec<u8>, ConnFailure> {
        while self.buf.len() < n {
            self.fill(deadline, what).await?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Send `bytes`, bounded by the timeout.
    pub(super) async fn send(&mut self, bytes: &[u8], what: &str) -> Result<(), ConnFailure> {
        let deadline = self.deadline();
        match tokio::time::timeout_at(deadline, self.tcp.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(failed(
                format!(
                    "cannot send {what} to the {} server: {}",
                    self.name(),
                    crate::probe::io_words(&e)
                ),
                None,
            )),
            Err(_) => Err(ConnFailure {
                code: ConnCode::Timeout,
                step: STEP,
                message: format!(
                    "could not send {what} within {} (the server does not read)",
                    secs(self.timeout)
                ),
                alert: None,
                peer_said: None,
                local: false,
            }),
        }
    }

    /// Hand the stream to TLS, provided nothing unread is buffered.
    pub(super) fn finish(self) -> Result<TcpStream, ConnFailure> {
        if self.buf.is_empty() {
            return Ok(self.tcp);
        }
        Err(failed(
            format!(
                "the {} server sent {} byte(s) of plaintext right after its STARTTLS go-ahead, before the TLS handshake: plaintext was injected after the STARTTLS reply (the CVE-2011-0411 class of bug, often a broken middlebox or an attack); certscope refuses to start TLS on this connection",
                self.name(),
                self.buf.len()
            ),
            Some(quote(&self.buf)),
        ))
    }

    /// A numbered reply (SMTP, FTP): `NNN-text` lines continue it, a line
    /// starting with the same `NNN` and no `-` ends it.
    pub(super) async fn reply(&mut self, what: &str) -> Result<Reply, ConnFailure> {
        let deadline = self.deadline();
        let first = self.line(deadline, what).await?;
        let Some(code) = reply_code(&first) else {
            return Err(failed(
                format!(
                    "the {what} is not a {} reply: {:?}{}",
                    self.name(),
                    quote(&first),
                    tls_hint(&first)
                ),
                Some(quote(&first)),
            ));
        };
        let mut more = first.get(3) == Some(&b'-');
        let mut lines = vec![first];
        let mut total = 0usize;
        while more {
            if lines.len() >= MAX_LINES || total > MAX_MESSAGE {
                return Err(failed(
                    format!(
                        "the {what} goes on for more than {MAX_LINES} lines or {} KiB",
                        MAX_MESSAGE / 1024
                    ),
                    Some(quote_lines(&lines)),
                ));
            }
            let line = self.line(deadline, what).await?;
            total += line.len();
            more = !(reply_code(&line) == Some(code) && line.get(3) != Some(&b'-'));
            lines.push(line);
        }
        Ok(Reply { code, lines })
    }
}

/// The three-digit code that starts a numbered reply.
pub(super) fn reply_code(line: &[u8]) -> Option<u16> {
    match line.get(..3)? {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

pub(super) struct Reply {
    pub(super) code: u16,
    pub(super) lines: Vec<Vec<u8>>,
}

impl Reply {
    pub(super) fn quoted(&self) -> String {
        quote_lines(&self.lines)
    }

    /// The keyword of each line after the first (the EHLO extensions).
    pub(super) fn keywords(&self) -> impl Iterator<Item = &[u8]> {
        self.lines.iter().skip(1).filter_map(|l| {
            l.get(4..)?
                .split(|b| b.is_ascii_whitespace())
                .find(|w| !w.is_empty())
        })
    }
}
