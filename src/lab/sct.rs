//! A syntactically valid (but unsigned) embedded SCT list extension
//! (RFC 6962 §3.3), so lab leaves look like publicly logged certificates.

use rcgen::CustomExtension;

/// OID of the embedded SignedCertificateTimestampList extension.
pub(crate) const OID_SCT_LIST: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// Number of SCTs put in each list.
pub(crate) const SCT_COUNT: usize = 2;

/// The non-critical SCT list extension carrying [`SCT_COUNT`] fake SCTs whose
/// timestamps are `timestamp_ms` (and one minute later).
pub(crate) fn sct_list_extension(timestamp_ms: u64) -> CustomExtension {
    let list = sct_list(timestamp_ms);
    // extnValue contains the DER of an OCTET STRING wrapping the TLS encoding.
    let mut content = vec![0x04];
    der_len(&mut content, list.len());
    content.extend_from_slice(&list);
    let mut ext = CustomExtension::from_oid_content(OID_SCT_LIST, content);
    ext.set_criticality(false);
    ext
}

/// The TLS-encoded SignedCertificateTimestampList.
fn sct_list(timestamp_ms: u64) -> Vec<u8> {
    let mut entries = Vec::new();
    for i in 0..SCT_COUNT {
        let sct = sct(i as u8, timestamp_ms + 60_000 * i as u64);
        push_u16(&mut entries, sct.len());
        entries.extend_from_slice(&sct);
    }
    let mut list = Vec::with_capacity(entries.len() + 2);
    push_u16(&mut list, entries.len());
    list.extend_from_slice(&entries);
    list
}

/// One SCT: v1, a 32-byte log id, timestamp, no extensions, an
/// ECDSA/SHA-256 "signature" shaped like a DER ECDSA-Sig-Value.
fn sct(index: u8, timestamp_ms: u64) -> Vec<u8> {
    let log_id = ring::digest::digest(
        &ring::digest::SHA256,
        format!("certscope lab CT log {index}").as_bytes(),
    );
    let mut out = vec![0u8]; // version v1
    out.extend_from_slice(log_id.as_ref());
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    push_u16(&mut out, 0); // no CtExtensions
    out.push(4); // hash: sha256
    out.push(3); // signature: ecdsa
    let mut sig = vec![0x30, 0x44, 0x02, 0x20];
    sig.extend((0..32u8).map(|b| b.wrapping_mul(7).wrapping_add(index + 1) & 0x7f));
    sig.extend_from_slice(&[0x02, 0x20]);
    sig.extend((0..32u8).map(|b| b.wrapping_mul(13).wrapping_add(index + 3) & 0x7f));
    push_u16(&mut out, sig.len());
    out.extend_from_slice(&sig);
    out
}

fn push_u16(out: &mut Vec<u8>, n: usize) {
    let n = u16::try_from(n).unwrap_or(u16::MAX);
    out.extend_from_slice(&n.to_be_bytes());
}

/// Appends a DER length.
fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        let mut v = Vec::new();
        der_len(&mut v, 5);
        der_len(&mut v, 0x80);
        der_len(&mut v, 0x1234);
        assert_eq!(v, [5, 0x81, 0x80, 0x82, 0x12, 0x34]);
    }

    #[test]
    fn list_is_well_formed() {
        let list = sct_list(1_700_000_000_000);
        let total = u16::from_be_bytes([list[0], list[1]]) as usize;
        assert_eq!(total, list.len() - 2);
    }
}
