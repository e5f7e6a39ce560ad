//! One TLV reader for the raw structures certscope walks by hand: LDAP
//! replies, PKCS#7 bundles, OCSP and certificate extension internals.
//!
//! Lenient on purpose (BER-style non-minimal lengths are accepted: LDAP
//! servers and PKCS#7 bundles from CAs use them), so it is not the strict
//! DER of the `der` crate, which certscope uses where DER is required
//! (private keys); bounded, and never panics on any input.

/// Read one TLV with a single-byte tag and a definite length of at most 4
/// bytes: (tag, content, rest). `None` for anything else or too short.
pub fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags are not used where we call this
    }
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len_bytes = rest.get(..n)?;
        let mut len: usize = 0;
        for b in len_bytes {
            len = len.checked_mul(256)?.checked_add(usize::from(*b))?;
        }
        (len, rest.get(n..)?)
    };
    let content = rest.get(..len)?;
    let after = rest.get(len..)?;
    Some((tag, content, after))
}

#[cfg(test)]
mod tests {
    use super::read_tlv;

    #[test]
    fn short_long_and_bad_forms() {
        assert_eq!(read_tlv(b"\x04\x02ab!"), Some((4, &b"ab"[..], &b"!"[..])));
        // A non-minimal long form, as BER allows and LDAP servers send.
        assert_eq!(
            read_tlv(b"\x30\x84\x00\x00\x00\x01x"),
            Some((0x30, &b"x"[..], &b""[..]))
        );
        assert_eq!(read_tlv(b"\x30\x84\xff\xff\xff\xff"), None);
        assert_eq!(
            read_tlv(b"\x1f\x01\x00"),
            None,
            "multi-byte tags are refused"
        );
        assert_eq!(read_tlv(b"\x30\x80"), None, "indefinite length is refused");
        assert_eq!(read_tlv(b"\x30\x85\x01\x01\x01\x01\x01"), None);
        assert_eq!(read_tlv(b"\x30"), None);
        assert_eq!(read_tlv(b""), None);
    }
}
