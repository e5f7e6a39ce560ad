//! STARTTLS: the plaintext exchange that upgrades a connection to TLS
//! (smtp, imap, pop3, ftp, xmpp, ldap, postgres, mysql).
//!
//! Each exchange is the one `openssl s_client -starttls` performs. Every
//! reply is bounded in time (`timeout` per reply) and size, quoted
//! sanitized in failures, and the stream is only handed to TLS when no
//! unread plaintext is buffered.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::report::observation::{ConnCode, ConnFailure};
use crate::util::sanitize;

pub use crate::target::Proto;

// ---------------------------------------------------------------------------
// Limits

/// Longest reply line accepted (SMTP, IMAP, POP3, FTP).
const MAX_LINE: usize = 8 * 1024;
/// Most lines in one multi-line reply, or before a tagged IMAP answer.
const MAX_LINES: usize = 100;
/// Largest binary message or XMPP features block accepted.
const MAX_MESSAGE: usize = 64 * 1024;
/// Characters of a server reply quoted in a message.
const QUOTE_CHARS: usize = 300;
/// Bytes asked of the socket at once.
const CHUNK: usize = 4096;

const STEP: &str = "starttls";

/// Run the protocol's plaintext exchange on `stream` so that the next byte
/// is the TLS handshake. `host` is the name the user asked for (for EHLO,
/// the XMPP `to`). Every read is bounded by `timeout`.
///
/// Replies are read through a `Wire`, whose buffer must be empty when the
/// stream is handed back: plaintext that arrived together with the
/// go-ahead is refused rather than passed to TLS (CVE-2011-0411 class).
pub async fn upgrade(
    stream: TcpStream,
    proto: Proto,
    host: &str,
    timeout: Duration,
) -> Result<TcpStream, ConnFailure> {
    let mut w = Wire {
        tcp: stream,
        buf: Vec::new(),
        timeout,
        proto,
    };
    match proto {
        Proto::Smtp => smtp(&mut w, host).await?,
        Proto::Imap => imap(&mut w).await?,
        Proto::Pop3 => pop3(&mut w).await?,
        Proto::Ftp => ftp(&mut w).await?,
        Proto::Xmpp => xmpp(&mut w, host).await?,
        Proto::Ldap => ldap(&mut w).await?,
        Proto::Postgres => postgres(&mut w).await?,
        Proto::Mysql => mysql(&mut w).await?,
    }
    w.finish()
}

// ---------------------------------------------------------------------------
// Failures and quoting

fn failed(message: String, peer_said: Option<String>) -> ConnFailure {
    ConnFailure {
        code: ConnCode::StarttlsFailed,
        step: STEP,
        message,
        alert: None,
        peer_said,
    }
}

/// Sanitized, trimmed, and cut to [`QUOTE_CHARS`] characters.
fn quote(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    let mut out: String = text.chars().take(QUOTE_CHARS).collect();
    if text.chars().nth(QUOTE_CHARS).is_some() {
        out.push('…');
    }
    sanitize::for_terminal(&out)
}

/// A multi-line reply quoted on one line, its lines joined by " / ".
fn quote_lines(lines: &[Vec<u8>]) -> String {
    quote(&lines.join(&b" / "[..]))
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f32())
}

/// The display name of the protocol in messages.
fn label(proto: Proto) -> &'static str {
    match proto {
        Proto::Smtp => "SMTP",
        Proto::Imap => "IMAP",
        Proto::Pop3 => "POP3",
        Proto::Ftp => "FTP",
        Proto::Xmpp => "XMPP",
        Proto::Ldap => "LDAP",
        Proto::Postgres => "PostgreSQL",
        Proto::Mysql => "MySQL",
    }
}

/// A TLS record where a plaintext answer was expected: the port speaks
/// TLS directly.
fn tls_hint(bytes: &[u8]) -> &'static str {
    match bytes {
        [0x15 | 0x16, 0x03, ..] => {
            " (the server answered with TLS: this port expects TLS directly, try without --starttls)"
        }
        _ => "",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn starts_with_ci(line: &[u8], prefix: &[u8]) -> bool {
    line.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

// ---------------------------------------------------------------------------
// The reader

/// The connection during the plaintext exchange. Bytes read from the socket
/// and not yet consumed stay in `buf`; [`Wire::finish`] refuses to hand the
/// stream over unless `buf` is empty, so no byte the server sent before TLS
/// can be taken for part of the TLS session.
struct Wire {
    tcp: TcpStream,
    buf: Vec<u8>,
    timeout: Duration,
    proto: Proto,
}

impl Wire {
    /// The deadline for the next reply: one `timeout` from now.
    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    fn name(&self) -> &'static str {
        label(self.proto)
    }

    /// Read more bytes into `buf`, waiting for `what` until `deadline`.
    async fn fill(&mut self, deadline: Instant, what: &str) -> Result<(), ConnFailure> {
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
                    "connection error while waiting for the {what}: {}",
                    sanitize::for_terminal(&e.to_string())
                ),
                None,
            )),
        }
    }

    /// One line (without its CR LF), at most [`MAX_LINE`] bytes.
    async fn line(&mut self, deadline: Instant, what: &str) -> Result<Vec<u8>, ConnFailure> {
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

    fn too_long(&self, what: &str) -> ConnFailure {
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
    async fn exact(
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
    async fn send(&mut self, bytes: &[u8], what: &str) -> Result<(), ConnFailure> {
        let deadline = self.deadline();
        match tokio::time::timeout_at(deadline, self.tcp.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(failed(
                format!(
                    "cannot send {what}: {}",
                    sanitize::for_terminal(&e.to_string())
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
            }),
        }
    }

    /// Hand the stream to TLS, provided nothing unread is buffered.
    fn finish(self) -> Result<TcpStream, ConnFailure> {
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
    async fn reply(&mut self, what: &str) -> Result<Reply, ConnFailure> {
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
fn reply_code(line: &[u8]) -> Option<u16> {
    match line.get(..3)? {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

struct Reply {
    code: u16,
    lines: Vec<Vec<u8>>,
}

impl Reply {
    fn quoted(&self) -> String {
        quote_lines(&self.lines)
    }

    /// The keyword of each line after the first (the EHLO extensions).
    fn keywords(&self) -> impl Iterator<Item = &[u8]> {
        self.lines.iter().skip(1).filter_map(|l| {
            l.get(4..)?
                .split(|b| b.is_ascii_whitespace())
                .find(|w| !w.is_empty())
        })
    }
}

// ---------------------------------------------------------------------------
// The protocols

/// The EHLO argument: the host, an address literal for IPs, and a neutral
/// name if the host holds anything a command line must not carry.
fn ehlo_name(host: &str) -> String {
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => format!("[{v4}]"),
        Ok(std::net::IpAddr::V6(v6)) => format!("[IPv6:{v6}]"),
        Err(_)
            if !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_') =>
        {
            host.to_string()
        }
        Err(_) => "certscope.invalid".to_string(),
    }
}

/// SMTP (RFC 3207): greeting 220, EHLO with STARTTLS among the extensions,
/// STARTTLS answered by 220.
async fn smtp(w: &mut Wire, host: &str) -> Result<(), ConnFailure> {
    let greeting = w.reply("SMTP greeting").await?;
    if greeting.code != 220 {
        return Err(failed(
            format!(
                "the SMTP server refused the session: its greeting is {:?}",
                greeting.quoted()
            ),
            Some(greeting.quoted()),
        ));
    }
    w.send(format!("EHLO {}\r\n", ehlo_name(host)).as_bytes(), "EHLO")
        .await?;
    let ehlo = w.reply("SMTP reply to EHLO").await?;
    if ehlo.code != 250 {
        return Err(failed(
            format!(
                "the SMTP server rejected EHLO, so it cannot offer STARTTLS: {:?}",
                ehlo.quoted()
            ),
            Some(ehlo.quoted()),
        ));
    }
    if !ehlo.keywords().any(|k| k.eq_ignore_ascii_case(b"STARTTLS")) {
        return Err(failed(
            format!(
                "the SMTP server does not offer STARTTLS (not among its EHLO extensions); its EHLO reply: {:?}",
                ehlo.quoted()
            ),
            Some(ehlo.quoted()),
        ));
    }
    w.send(b"STARTTLS\r\n", "STARTTLS").await?;
    let go = w.reply("SMTP reply to STARTTLS").await?;
    if go.code != 220 {
        return Err(failed(
            format!(
                "the SMTP server did not accept STARTTLS: it answered {:?}",
                go.quoted()
            ),
            Some(go.quoted()),
        ));
    }
    Ok(())
}

/// The status word after an IMAP tag: `OK`, `NO`, `BAD`.
fn imap_status(line: &[u8], tag: &[u8]) -> Option<Vec<u8>> {
    let rest = line.get(tag.len()..)?;
    let word = rest.split(|&b| b == b' ').next()?;
    Some(word.to_ascii_uppercase())
}

/// Read IMAP lines until the one tagged `tag`; returns the untagged lines
/// and the tagged one.
async fn imap_tagged(
    w: &mut Wire,
    tag: &[u8],
    what: &str,
) -> Result<(Vec<Vec<u8>>, Vec<u8>), ConnFailure> {
    let deadline = w.deadline();
    let mut untagged = Vec::new();
    loop {
        let line = w.line(deadline, what).await?;
        if starts_with_ci(&line, tag) {
            return Ok((untagged, line));
        }
        if untagged.len() >= MAX_LINES {
            return Err(failed(
                format!("the {what} goes on for more than {MAX_LINES} lines"),
                Some(quote_lines(&untagged)),
            ));
        }
        untagged.push(line);
    }
}

/// IMAP (RFC 3501): `* OK` greeting, STARTTLS among the capabilities,
/// tagged STARTTLS answered OK.
async fn imap(w: &mut Wire) -> Result<(), ConnFailure> {
    let deadline = w.deadline();
    let greeting = w.line(deadline, "IMAP greeting").await?;
    if !starts_with_ci(&greeting, b"* OK") {
        let why = if starts_with_ci(&greeting, b"* PREAUTH") {
            "the IMAP server pre-authenticated the connection, and STARTTLS is only allowed before authentication"
        } else if starts_with_ci(&greeting, b"* BYE") {
            "the IMAP server refused the session"
        } else {
            "the server did not send an IMAP greeting"
        };
        return Err(failed(
            format!("{why}: {:?}{}", quote(&greeting), tls_hint(&greeting)),
            Some(quote(&greeting)),
        ));
    }
    w.send(b"a001 CAPABILITY\r\n", "CAPABILITY").await?;
    let (untagged, tagged) = imap_tagged(w, b"a001 ", "IMAP reply to CAPABILITY").await?;
    if imap_status(&tagged, b"a001 ").as_deref() != Some(b"OK") {
        return Err(failed(
            format!("the IMAP server rejected CAPABILITY: {:?}", quote(&tagged)),
            Some(quote(&tagged)),
        ));
    }
    let caps: Vec<Vec<u8>> = untagged
        .into_iter()
        .filter(|l| starts_with_ci(l, b"* CAPABILITY "))
        .collect();
    let offered = caps.iter().any(|l| {
        l.split(|b| b.is_ascii_whitespace())
            .any(|w| w.eq_ignore_ascii_case(b"STARTTLS"))
    });
    if !offered {
        let said = if caps.is_empty() {
            quote(&tagged)
        } else {
            quote_lines(&caps)
        };
        return Err(failed(
            format!("the IMAP server does not offer STARTTLS; its capabilities: {said:?}"),
            Some(said),
        ));
    }
    w.send(b"a002 STARTTLS\r\n", "STARTTLS").await?;
    let (_, tagged) = imap_tagged(w, b"a002 ", "IMAP reply to STARTTLS").await?;
    if imap_status(&tagged, b"a002 ").as_deref() != Some(b"OK") {
        return Err(failed(
            format!(
                "the IMAP server did not accept STARTTLS: it answered {:?}",
                quote(&tagged)
            ),
            Some(quote(&tagged)),
        ));
    }
    Ok(())
}

/// POP3 (RFC 2595): `+OK` greeting, STLS answered `+OK`.
async fn pop3(w: &mut Wire) -> Result<(), ConnFailure> {
    let deadline = w.deadline();
    let greeting = w.line(deadline, "POP3 greeting").await?;
    if !starts_with_ci(&greeting, b"+OK") {
        return Err(failed(
            format!(
                "the server did not send a POP3 greeting: {:?}{}",
                quote(&greeting),
                tls_hint(&greeting)
            ),
            Some(quote(&greeting)),
        ));
    }
    w.send(b"STLS\r\n", "STLS").await?;
    let deadline = w.deadline();
    let answer = w.line(deadline, "POP3 reply to STLS").await?;
    if !starts_with_ci(&answer, b"+OK") {
        return Err(failed(
            format!(
                "the POP3 server did not accept STLS: it answered {:?}",
                quote(&answer)
            ),
            Some(quote(&answer)),
        ));
    }
    Ok(())
}

/// FTP (RFC 4217): 220 greeting (after an optional 120), AUTH TLS
/// answered 234.
async fn ftp(w: &mut Wire) -> Result<(), ConnFailure> {
    let mut greeting = w.reply("FTP greeting").await?;
    if greeting.code == 120 {
        greeting = w.reply("FTP greeting").await?;
    }
    if greeting.code != 220 {
        return Err(failed(
            format!(
                "the FTP server refused the session: its greeting is {:?}",
                greeting.quoted()
            ),
            Some(greeting.quoted()),
        ));
    }
    w.send(b"AUTH TLS\r\n", "AUTH TLS").await?;
    let answer = w.reply("FTP reply to AUTH TLS").await?;
    if answer.code != 234 {
        return Err(failed(
            format!(
                "the FTP server did not accept AUTH TLS: it answered {:?}",
                answer.quoted()
            ),
            Some(answer.quoted()),
        ));
    }
    Ok(())
}

const XMPP_TLS_NS: &[u8] = b"urn:ietf:params:xml:ns:xmpp-tls";

/// `s` escaped for an XML attribute in single quotes.
fn xml_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The XMPP stream error or closing tag the server sent, if any.
fn xmpp_error(buf: &[u8]) -> Option<String> {
    let at = find(buf, b"<stream:error")?;
    Some(quote(buf.get(at..).unwrap_or_default()))
}

/// The end of the `<name ...>` element at the start of `buf` (one past its
/// last byte), once it is complete.
fn element_end(buf: &[u8], name: &[u8]) -> Option<usize> {
    let gt = buf.iter().position(|&b| b == b'>')?;
    if gt > 0 && buf.get(gt - 1) == Some(&b'/') {
        return Some(gt + 1);
    }
    let mut close = b"</".to_vec();
    close.extend_from_slice(name);
    close.push(b'>');
    let at = find(buf, &close)?;
    Some(at + close.len())
}

/// XMPP (RFC 6120 §5): client stream header, `<starttls/>` in the stream
/// features, `<proceed/>`. Substring matching as in s_client: no XML parser.
async fn xmpp(w: &mut Wire, host: &str) -> Result<(), ConnFailure> {
    let header = format!(
        "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='{}' version='1.0'>",
        xml_attr(host)
    );
    w.send(header.as_bytes(), "the XMPP stream header").await?;
    let what = "XMPP stream features";
    let deadline = w.deadline();
    let end = loop {
        let full = find(&w.buf, b"</stream:features>").map(|at| at + 18);
        let empty = find(&w.buf, b"<stream:features/>").map(|at| at + 18);
        if let Some(end) = full.or(empty) {
            break end;
        }
        let closed = find(&w.buf, b"</stream:error>").is_some()
            || find(&w.buf, b"</stream:stream>").is_some();
        if closed && let Some(err) = xmpp_error(&w.buf) {
            return Err(failed(
                format!("the XMPP server closed the stream with an error: {err:?}"),
                Some(err),
            ));
        }
        if w.buf.len() > MAX_MESSAGE {
            return Err(failed(
                format!(
                    "the server sent more than {} KiB without XMPP stream features",
                    MAX_MESSAGE / 1024
                ),
                Some(quote(&w.buf)),
            ));
        }
        if w.buf
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b != b'<')
        {
            let said = quote(&w.buf);
            return Err(failed(
                format!(
                    "the server did not answer with an XMPP stream: {said:?}{}",
                    tls_hint(&w.buf)
                ),
                Some(said),
            ));
        }
        w.fill(deadline, what).await?;
    };
    let head: Vec<u8> = w.buf.drain(..end).collect();
    let features = find(&head, b"<stream:features")
        .and_then(|at| head.get(at..))
        .unwrap_or_default();
    let offered = find(features, b"<starttls")
        .and_then(|at| features.get(at..))
        .is_some_and(|rest| find(rest, XMPP_TLS_NS).is_some());
    if !offered {
        let said = quote(features);
        return Err(failed(
            format!("the XMPP server does not offer STARTTLS; its stream features: {said:?}"),
            Some(said),
        ));
    }
    w.send(
        b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        "<starttls/>",
    )
    .await?;
    let what = "XMPP answer to <starttls/>";
    let deadline = w.deadline();
    loop {
        let blank = w.buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        w.buf.drain(..blank);
        if w.buf.starts_with(b"<proceed") {
            if let Some(end) = element_end(&w.buf, b"proceed") {
                w.buf.drain(..end);
                return Ok(());
            }
        } else if w.buf.starts_with(b"<failure") {
            let said = quote(&w.buf);
            return Err(failed(
                format!("the XMPP server refused STARTTLS: it answered {said:?}"),
                Some(said),
            ));
        } else if !w.buf.is_empty()
            && !b"<proceed".starts_with(&w.buf)
            && !b"<failure".starts_with(&w.buf)
        {
            let said = quote(&w.buf);
            return Err(failed(
                format!("the XMPP server did not answer <starttls/> with <proceed/>: {said:?}"),
                Some(said),
            ));
        }
        if w.buf.len() > MAX_MESSAGE {
            return Err(failed(
                format!(
                    "the XMPP answer to <starttls/> exceeds {} KiB",
                    MAX_MESSAGE / 1024
                ),
                Some(quote(&w.buf)),
            ));
        }
        w.fill(deadline, what).await?;
    }
}

/// The LDAP StartTLS ExtendedRequest (RFC 4511 §4.14.1), message ID 1.
const LDAP_STARTTLS: &[u8] = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037";

/// One DER TLV at the start of `b`: (tag, content, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&len0, rest) = rest.split_first()?;
    let (len, rest) = if len0 < 0x80 {
        (usize::from(len0), rest)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = rest.get(..n)?;
        let len = bytes.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x));
        (len, rest.get(n..)?)
    };
    Some((tag, rest.get(..len)?, rest.get(len..)?))
}

fn ldap_result_name(code: u32) -> &'static str {
    match code {
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "unknown",
    }
}

/// The resultCode and diagnosticMessage of an LDAP ExtendedResponse.
fn ldap_response(body: &[u8]) -> Option<(u32, Vec<u8>)> {
    let (tag, _msgid, rest) = tlv(body)?;
    if tag != 0x02 {
        return None;
    }
    let (tag, op, _) = tlv(rest)?;
    if tag != 0x78 {
        return None;
    }
    let (tag, code, rest) = tlv(op)?;
    if tag != 0x0a || code.is_empty() || code.len() > 4 {
        return None;
    }
    let code = code.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x));
    let diag = tlv(rest)
        .and_then(|(_, _, rest)| tlv(rest))
        .filter(|(tag, _, _)| *tag == 0x04)
        .map(|(_, d, _)| d.to_vec())
        .unwrap_or_default();
    Some((code, diag))
}

/// LDAP (RFC 4511 §4.14): StartTLS ExtendedRequest, ExtendedResponse with
/// resultCode success (0).
async fn ldap(w: &mut Wire) -> Result<(), ConnFailure> {
    w.send(LDAP_STARTTLS, "the StartTLS request").await?;
    let what = "LDAP StartTLS response";
    let deadline = w.deadline();
    let head = w.exact(2, deadline, what).await?;
    let not_ldap = |bytes: &[u8]| {
        let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
        failed(
            format!(
                "the server did not answer with an LDAP message: {}{}",
                hex.join(" "),
                tls_hint(bytes)
            ),
            Some(hex.join(" ")),
        )
    };
    let (tag, len0) = match head.as_slice() {
        [t, l] => (*t, *l),
        _ => return Err(not_ldap(&head)),
    };
    if tag != 0x30 {
        let mut seen = head.clone();
        seen.extend_from_slice(&w.buf);
        return Err(not_ldap(&seen));
    }
    let len = if len0 < 0x80 {
        usize::from(len0)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 {
            return Err(not_ldap(&head));
        }
        let bytes = w.exact(n, deadline, what).await?;
        bytes.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x))
    };
    if len > MAX_MESSAGE {
        return Err(failed(
            format!("the LDAP response announces {len} bytes, more than a StartTLS response needs"),
            None,
        ));
    }
    let body = w.exact(len, deadline, what).await?;
    let Some((code, diag)) = ldap_response(&body) else {
        return Err(failed(
            "the LDAP server did not answer the StartTLS request with an ExtendedResponse"
                .to_string(),
            None,
        ));
    };
    if code != 0 {
        let mut said = format!("resultCode {code} ({})", ldap_result_name(code));
        if !diag.is_empty() {
            said.push_str(": ");
            said.push_str(&quote(&diag));
        }
        return Err(failed(
            format!("the LDAP server refused StartTLS: {said}"),
            Some(said),
        ));
    }
    Ok(())
}

/// The `M` (message) field of a PostgreSQL ErrorResponse body.
fn pg_error_message(body: &[u8]) -> Option<&[u8]> {
    body.split(|&b| b == 0)
        .find_map(|field| field.strip_prefix(b"M"))
        .filter(|m| !m.is_empty())
}

/// The message of the ErrorResponse whose tag byte was just read; best
/// effort (Int32 length, then fields).
async fn pg_error(w: &mut Wire, deadline: Instant, what: &str) -> Option<String> {
    let len = w.exact(4, deadline, what).await.ok()?;
    let len = len.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x));
    if !(5..=MAX_LINE).contains(&len) {
        return None;
    }
    let body = w.exact(len - 4, deadline, what).await.ok()?;
    pg_error_message(&body).map(quote)
}

/// PostgreSQL: SSLRequest, answered `S` (go) or `N` (no TLS).
async fn postgres(w: &mut Wire) -> Result<(), ConnFailure> {
    w.send(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], "the SSLRequest")
        .await?;
    let what = "PostgreSQL answer to SSLRequest";
    let deadline = w.deadline();
    let answer = w.exact(1, deadline, what).await?;
    match answer.first().copied() {
        Some(b'S') => Ok(()),
        Some(b'N') => Err(failed(
            "the PostgreSQL server does not accept TLS: it answered 'N' to the SSLRequest (ssl = off in postgresql.conf)".to_string(),
            Some("N".to_string()),
        )),
        Some(b'E') => {
            let detail = pg_error(w, deadline, what).await.unwrap_or_default();
            let message = if detail.is_empty() {
                "the PostgreSQL server answered the SSLRequest with an error".to_string()
            } else {
                format!("the PostgreSQL server answered the SSLRequest with an error: {detail:?}")
            };
            Err(failed(message, Some(detail).filter(|d| !d.is_empty())))
        }
        other => {
            let mut seen: Vec<u8> = other.into_iter().collect();
            seen.extend_from_slice(&w.buf);
            Err(failed(
                format!(
                    "the server did not answer the SSLRequest as PostgreSQL does (S or N): {:?}{}",
                    quote(&seen),
                    tls_hint(&seen)
                ),
                Some(quote(&seen)),
            ))
        }
    }
}

/// MySQL CLIENT_SSL capability flag.
const MYSQL_CLIENT_SSL: u16 = 0x0800;

/// MySQL: Initial Handshake v10 with CLIENT_SSL, then an SSLRequest
/// (capabilities, max packet, charset, 23 zero bytes; s_client's values).
async fn mysql(w: &mut Wire) -> Result<(), ConnFailure> {
    let what = "MySQL greeting";
    let deadline = w.deadline();
    let header = w.exact(4, deadline, what).await?;
    let [l0, l1, l2, seq] = header.as_slice() else {
        return Err(failed("truncated MySQL packet header".to_string(), None));
    };
    let len = usize::from(*l0) | (usize::from(*l1) << 8) | (usize::from(*l2) << 16);
    let seq = *seq;
    if len == 0 || len > MAX_MESSAGE {
        let said = quote(&header);
        return Err(failed(
            format!(
                "the server did not send a MySQL greeting (packet length {len}){}",
                tls_hint(&header)
            ),
            Some(said),
        ));
    }
    let payload = w.exact(len, deadline, what).await?;
    match payload.first() {
        Some(0x0a) => {}
        Some(0xff) => {
            // ERR packet: 0xff, code u16, optional '#' + SQL state, message.
            let code = match payload.get(1..3) {
                Some([a, b]) => u16::from(*a) | (u16::from(*b) << 8),
                _ => 0,
            };
            let mut msg = payload.get(3..).unwrap_or_default();
            if msg.first() == Some(&b'#') {
                msg = msg.get(6..).unwrap_or_default();
            }
            let said = format!("error {code}: {}", quote(msg));
            return Err(failed(
                format!("the MySQL server refused the connection: {said}"),
                Some(said),
            ));
        }
        other => {
            return Err(failed(
                format!(
                    "the server did not send a MySQL protocol 10 greeting (protocol byte {})",
                    other.map(|b| format!("0x{b:02x}")).unwrap_or_default()
                ),
                None,
            ));
        }
    }
    let rest = payload.get(1..).unwrap_or_default();
    let nul = rest.iter().position(|&b| b == 0);
    let version = quote(nul.and_then(|n| rest.get(..n)).unwrap_or_default());
    // After the version: connection id (4), auth data (8), filler (1),
    // capability flags, lower two bytes.
    let caps = nul
        .and_then(|n| rest.get(n + 1 + 4 + 8 + 1..n + 1 + 4 + 8 + 1 + 2))
        .and_then(|c| match c {
            [a, b] => Some(u16::from(*a) | (u16::from(*b) << 8)),
            _ => None,
        });
    let Some(caps) = caps else {
        return Err(failed(
            "the MySQL greeting is truncated (no capability flags)".to_string(),
            Some(version),
        ));
    };
    if caps & MYSQL_CLIENT_SSL == 0 {
        return Err(failed(
            format!(
                "the MySQL server (version {version:?}) does not offer TLS: its greeting lacks the CLIENT_SSL capability"
            ),
            Some(version),
        ));
    }
    let mut request = vec![0x20, 0x00, 0x00, seq.wrapping_add(1)];
    request.extend_from_slice(&[0x85, 0xae, 0x7f, 0x00]); // capabilities (with CLIENT_SSL)
    request.extend_from_slice(&[0x00, 0x00, 0x00, 0x01]); // max packet size
    request.push(0x21); // utf8_general_ci
    request.extend_from_slice(&[0u8; 23]);
    w.send(&request, "the MySQL SSLRequest").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes() {
        assert_eq!(reply_code(b"250-PIPELINING"), Some(250));
        assert_eq!(reply_code(b"220"), Some(220));
        assert_eq!(reply_code(b"22"), None);
        assert_eq!(reply_code(b"2x0 hi"), None);
        assert_eq!(reply_code(b""), None);
    }

    #[test]
    fn ehlo_names() {
        assert_eq!(ehlo_name("mail.example.com"), "mail.example.com");
        assert_eq!(ehlo_name("192.0.2.1"), "[192.0.2.1]");
        assert_eq!(ehlo_name("2001:db8::1"), "[IPv6:2001:db8::1]");
        assert_eq!(ehlo_name("a\r\nRCPT TO:<x>"), "certscope.invalid");
    }

    #[test]
    fn xml_attribute_escaping() {
        assert_eq!(xml_attr("a'b<c>&\""), "a&apos;b&lt;c&gt;&amp;&quot;");
    }

    #[test]
    fn ldap_request_is_31_bytes_with_consistent_lengths() {
        assert_eq!(LDAP_STARTTLS.len(), 31);
        let (tag, body, rest) = tlv(LDAP_STARTTLS).expect("DER");
        assert_eq!((tag, body.len(), rest.len()), (0x30, 29, 0));
    }

    #[test]
    fn ldap_responses() {
        // success, empty matchedDN and diagnosticMessage
        let ok = b"\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00";
        assert_eq!(ldap_response(ok), Some((0, Vec::new())));
        let refused = b"\x02\x01\x01\x78\x0a\x0a\x01\x34\x04\x00\x04\x03no!";
        assert_eq!(ldap_response(refused), Some((52, b"no!".to_vec())));
        // truncated or hostile input never panics
        for cut in 0..refused.len() {
            let _ = ldap_response(&refused[..cut]);
        }
        assert_eq!(
            ldap_response(b"\x02\x01\x01\x78\x85\xff\xff\xff\xff\xff"),
            None
        );
        assert_eq!(tlv(b"\x30\x84\xff\xff\xff\xff"), None);
    }

    #[test]
    fn quotes_are_sanitized_and_cut() {
        let q = quote(b"220 \x1b[31mred\r\n");
        assert!(!q.contains('\u{1b}'), "{q}");
        let long = vec![b'a'; 5000];
        assert!(quote(&long).chars().count() <= QUOTE_CHARS + 1);
    }

    #[test]
    fn xmpp_element_end() {
        assert_eq!(element_end(b"<proceed xmlns='x'/>", b"proceed"), Some(20));
        assert_eq!(
            element_end(b"<proceed xmlns='x'></proceed>rest", b"proceed"),
            Some(29)
        );
        assert_eq!(element_end(b"<proceed xmlns='x'", b"proceed"), None);
        assert_eq!(element_end(b">", b"proceed"), None);
    }

    #[test]
    fn pg_error_fields() {
        assert_eq!(
            pg_error_message(b"SFATAL\0Mno pg_hba.conf entry\0\0"),
            Some(&b"no pg_hba.conf entry"[..])
        );
        assert_eq!(pg_error_message(b"\0\0"), None);
    }
}
