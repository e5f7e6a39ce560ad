//! SMTP (RFC 3207): EHLO, STARTTLS, 220.

use super::*;

/// The EHLO argument: the host, an address literal for IPs, and a neutral
/// name if the host holds anything a command line must not carry.
pub(super) fn ehlo_name(host: &str) -> String {
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
pub(super) async fn smtp(w: &mut Wire, host: &str) -> Result<(), ConnFailure> {
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
