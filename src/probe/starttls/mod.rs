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

mod ftp;
mod imap;
mod ldap;
mod mysql;
mod pop3;
mod postgres;
mod smtp;
mod wire;
mod xmpp;

use ftp::ftp;
use imap::imap;
use ldap::ldap;
use mysql::mysql;
use pop3::pop3;
use postgres::postgres;
use smtp::smtp;
use wire::Wire;
use xmpp::xmpp;

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
        local: false,
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

#[cfg(test)]
mod tests {
    use super::*;
    use super::{ldap::*, postgres::*, smtp::*, wire::*, xmpp::*};

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
        let (tag, body, rest) = crate::util::tlv::read_tlv(LDAP_STARTTLS).expect("DER");
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
        assert_eq!(
            crate::util::tlv::read_tlv(b"\x30\x84\xff\xff\xff\xff"),
            None
        );
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
