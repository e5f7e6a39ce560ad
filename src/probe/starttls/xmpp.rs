//! XMPP (RFC 6120): the stream header, the starttls feature, proceed.

use super::*;

pub(super) const XMPP_TLS_NS: &[u8] = b"urn:ietf:params:xml:ns:xmpp-tls";

/// `s` escaped for an XML attribute in single quotes.
pub(super) fn xml_attr(s: &str) -> String {
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
pub(super) fn xmpp_error(buf: &[u8]) -> Option<String> {
    let at = find(buf, b"<stream:error")?;
    Some(quote(buf.get(at..).unwrap_or_default()))
}

/// The end of the `<name ...>` element at the start of `buf` (one past its
/// last byte), once it is complete.
pub(super) fn element_end(buf: &[u8], name: &[u8]) -> Option<usize> {
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
pub(super) async fn xmpp(w: &mut Wire, host: &str) -> Result<(), ConnFailure> {
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
