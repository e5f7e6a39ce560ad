//! MySQL: the server greeting, then an SSL request packet.

use super::*;

/// MySQL CLIENT_SSL capability flag.
pub(super) const MYSQL_CLIENT_SSL: u16 = 0x0800;

/// MySQL: Initial Handshake v10 with CLIENT_SSL, then an SSLRequest
/// (capabilities, max packet, charset, 23 zero bytes; s_client's values).
pub(super) async fn mysql(w: &mut Wire) -> Result<(), ConnFailure> {
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
