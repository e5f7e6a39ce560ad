//! LDAP (RFC 4511): the StartTLS extended operation.

use super::*;

/// The LDAP StartTLS ExtendedRequest (RFC 4511 §4.14.1), message ID 1.
pub(super) const LDAP_STARTTLS: &[u8] =
    b"\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037";

use crate::util::tlv::read_tlv;

pub(super) fn ldap_result_name(code: u32) -> &'static str {
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
pub(super) fn ldap_response(body: &[u8]) -> Option<(u32, Vec<u8>)> {
    let (tag, _msgid, rest) = read_tlv(body)?;
    if tag != 0x02 {
        return None;
    }
    let (tag, op, _) = read_tlv(rest)?;
    if tag != 0x78 {
        return None;
    }
    let (tag, code, rest) = read_tlv(op)?;
    if tag != 0x0a || code.is_empty() || code.len() > 4 {
        return None;
    }
    let code = code.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x));
    let diag = read_tlv(rest)
        .and_then(|(_, _, rest)| read_tlv(rest))
        .filter(|(tag, _, _)| *tag == 0x04)
        .map(|(_, d, _)| d.to_vec())
        .unwrap_or_default();
    Some((code, diag))
}

/// LDAP (RFC 4511 §4.14): StartTLS ExtendedRequest, ExtendedResponse with
/// resultCode success (0).
pub(super) async fn ldap(w: &mut Wire) -> Result<(), ConnFailure> {
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
