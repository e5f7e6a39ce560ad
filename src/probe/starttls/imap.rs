//! IMAP (RFC 3501): CAPABILITY, then a tagged STARTTLS.

use super::*;

/// The status word after an IMAP tag: `OK`, `NO`, `BAD`.
pub(super) fn imap_status(line: &[u8], tag: &[u8]) -> Option<Vec<u8>> {
    let rest = line.get(tag.len()..)?;
    let word = rest.split(|&b| b == b' ').next()?;
    Some(word.to_ascii_uppercase())
}

/// Read IMAP lines until the one tagged `tag`; returns the untagged lines
/// and the tagged one.
pub(super) async fn imap_tagged(
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
pub(super) async fn imap(w: &mut Wire) -> Result<(), ConnFailure> {
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
