//! PostgreSQL: the SSLRequest message.

use super::*;

/// The `M` (message) field of a PostgreSQL ErrorResponse body.
pub(super) fn pg_error_message(body: &[u8]) -> Option<&[u8]> {
    body.split(|&b| b == 0)
        .find_map(|field| field.strip_prefix(b"M"))
        .filter(|m| !m.is_empty())
}

/// The message of the ErrorResponse whose tag byte was just read; best
/// effort (Int32 length, then fields).
pub(super) async fn pg_error(w: &mut Wire, deadline: Instant, what: &str) -> Option<String> {
    let len = w.exact(4, deadline, what).await.ok()?;
    let len = len.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x));
    if !(5..=MAX_LINE).contains(&len) {
        return None;
    }
    let body = w.exact(len - 4, deadline, what).await.ok()?;
    pg_error_message(&body).map(quote)
}

/// PostgreSQL: SSLRequest, answered `S` (go) or `N` (no TLS).
pub(super) async fn postgres(w: &mut Wire) -> Result<(), ConnFailure> {
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
