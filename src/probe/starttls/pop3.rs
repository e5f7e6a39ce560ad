//! POP3 (RFC 2595): STLS.

use super::*;

/// POP3 (RFC 2595): `+OK` greeting, STLS answered `+OK`.
pub(super) async fn pop3(w: &mut Wire) -> Result<(), ConnFailure> {
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
