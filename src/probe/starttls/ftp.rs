//! FTP (RFC 4217): AUTH TLS.

use super::*;

/// FTP (RFC 4217): 220 greeting (after an optional 120), AUTH TLS
/// answered 234.
pub(super) async fn ftp(w: &mut Wire) -> Result<(), ConnFailure> {
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
