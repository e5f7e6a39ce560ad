//! What an AIA caIssuers URL serves: a DER certificate, PEM, or a
//! "certs-only" PKCS#7 bundle (.p7c, RFC 5280 §4.2.2.1).

use crate::x509::cert::read_tlv;

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

/// At most this many certificates are read from a PKCS#7 bundle (a 1 MiB
/// AIA body holds about 1,500 small ones).
pub const MAX_BUNDLE: usize = 2_000;

/// The certificates in an AIA response body, or why there are none.
pub fn certs_from_body(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if body.is_empty() {
        return Err("the URL served an empty body".into());
    }
    if let Some(certs) = pkcs7_certs(body) {
        return if certs.is_empty() {
            Err("the URL served a PKCS#7 bundle with no certificate".into())
        } else if certs.len() > MAX_BUNDLE {
            Err(format!(
                "the URL served a PKCS#7 bundle of more than {MAX_BUNDLE} certificates; certscope reads at most {MAX_BUNDLE}, and no CA needs more"
            ))
        } else {
            Ok(certs)
        };
    }
    crate::x509::cert::parse_certificates(body)
        .map_err(|e| format!("the URL served no certificate ({e})"))
}

/// The certificates of a DER PKCS#7 SignedData, or `None` if `der` is not one.
fn pkcs7_certs(der: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (tag, content_info, _) = read_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, rest) = read_tlv(content_info)?;
    if tag != 0x06 || oid != OID_SIGNED_DATA {
        return None;
    }
    let (tag, explicit, _) = read_tlv(rest)?;
    if tag != 0xa0 {
        return None;
    }
    let (tag, signed_data, _) = read_tlv(explicit)?;
    if tag != 0x30 {
        return None;
    }
    // version, digestAlgorithms, encapContentInfo, then [0] certificates.
    let mut rest = signed_data;
    for want in [0x02u8, 0x31, 0x30] {
        let (tag, _, r) = read_tlv(rest)?;
        if tag != want {
            return None;
        }
        rest = r;
    }
    let mut certs = Vec::new();
    if let Some((0xa0, mut list, _)) = read_tlv(rest) {
        while !list.is_empty() {
            let (tag, _, after) = read_tlv(list)?;
            let whole = &list[..list.len() - after.len()];
            if tag == 0x30 {
                certs.push(whole.to_vec());
            }
            list = after;
            // One more than the cap, so the caller can say it bit.
            if certs.len() > MAX_BUNDLE {
                break;
            }
        }
    }
    Some(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend([0x81, n as u8]);
        } else {
            v.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    fn p7(certs: &[Vec<u8>]) -> Vec<u8> {
        let mut sd = tlv(0x02, &[1]);
        sd.extend(tlv(0x31, &[]));
        sd.extend(tlv(
            0x30,
            &tlv(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
            ),
        ));
        sd.extend(tlv(0xa0, &certs.concat()));
        sd.extend(tlv(0x31, &[]));
        let mut ci = tlv(0x06, OID_SIGNED_DATA);
        ci.extend(tlv(0xa0, &tlv(0x30, &sd)));
        tlv(0x30, &ci)
    }

    #[test]
    fn der_pem_and_pkcs7_bodies() {
        let pki = crate::testkit::TestPki::new();
        let chain = pki.chain(
            &["aia.test"],
            crate::testkit::T0,
            crate::testkit::T0 + 86_400,
            |_| {},
        );
        let int = chain[1].clone();
        assert_eq!(certs_from_body(&int).unwrap(), vec![int.clone()]);
        let pem = pem::encode(&pem::Pem::new("CERTIFICATE", int.clone()));
        assert_eq!(certs_from_body(pem.as_bytes()).unwrap(), vec![int.clone()]);
        assert_eq!(
            certs_from_body(&p7(&[int.clone(), chain[0].clone()])).unwrap(),
            vec![int.clone(), chain[0].clone()]
        );
        assert!(
            certs_from_body(&p7(&[]))
                .unwrap_err()
                .contains("no certificate")
        );
        assert!(certs_from_body(b"<html>not found</html>").is_err());
        assert!(certs_from_body(b"").is_err());
        // Truncations never panic.
        let bundle = p7(&[int]);
        for n in 0..bundle.len() {
            let _ = certs_from_body(&bundle[..n]);
        }
    }
}
