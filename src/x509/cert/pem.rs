//! PEM / DER input: every certificate in a blob, and PEM output.

use x509_parser::prelude::*;

use super::{CertInfo, parse_x509, tlv_total_len};
use crate::util::sanitize::bytes_for_terminal;

impl CertInfo {
    /// PEM text, 64-column base64, LF line endings.
    pub fn pem(&self) -> String {
        ::pem::encode_config(
            &::pem::Pem::new("CERTIFICATE", self.der.clone()),
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        )
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parse every certificate in a PEM or DER blob. PEM: all CERTIFICATE
/// blocks (also "X509 CERTIFICATE" and OpenSSL "TRUSTED CERTIFICATE"),
/// ignoring text around them and other block types. DER: one certificate
/// (or several concatenated).
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("empty input".to_string());
    }
    if find(bytes, b"-----BEGIN").is_some() {
        return parse_pem_blocks(bytes);
    }
    if bytes.first() == Some(&0x30) {
        return parse_der_sequence(bytes);
    }
    Err("no certificate found: the input is neither PEM (no -----BEGIN line) nor DER".to_string())
}

fn parse_der_sequence(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if !out.is_empty() && rest.iter().all(|b| b.is_ascii_whitespace()) {
            break;
        }
        let len = match X509Certificate::from_der(rest) {
            Ok((after, _)) => rest.len() - after.len(),
            Err(_) => {
                let e = match parse_x509(rest) {
                    Err(e) => e.to_string(),
                    Ok(_) => "unknown error".to_string(),
                };
                return Err(if out.is_empty() {
                    e
                } else {
                    format!(
                        "trailing data after DER certificate {} ({} bytes) is not a certificate: {e}",
                        out.len(),
                        rest.len()
                    )
                });
            }
        };
        let (cert, after) = rest.split_at(len);
        out.push(cert.to_vec());
        rest = after;
    }
    Ok(out)
}

fn parse_pem_blocks(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const END: &[u8] = b"-----END ";
    const DASHES: &[u8] = b"-----";
    let mut certs = Vec::new();
    let mut other_labels: Vec<String> = Vec::new();
    let mut pos = 0usize;
    let mut block_no = 0usize;
    while let Some(off) = bytes.get(pos..).and_then(|b| find(b, BEGIN)) {
        let start = pos + off;
        block_no += 1;
        let label_start = start + BEGIN.len();
        let label_len = bytes
            .get(label_start..)
            .and_then(|b| find(b, DASHES))
            .ok_or_else(|| format!("PEM block {block_no}: malformed BEGIN line"))?;
        let label_raw = bytes
            .get(label_start..label_start + label_len)
            .unwrap_or_default();
        let label = bytes_for_terminal(label_raw).trim().to_string();
        let body_start = label_start + label_len + DASHES.len();
        let end_off = bytes
            .get(body_start..)
            .and_then(|b| find(b, END))
            .ok_or_else(|| format!("PEM block {block_no} ({label}) has no END line"))?;
        let end_label_start = body_start + end_off + END.len();
        let close = bytes
            .get(end_label_start..)
            .and_then(|b| find(b, DASHES))
            .ok_or_else(|| format!("PEM block {block_no} ({label}): malformed END line"))?;
        let block_end = end_label_start + close + DASHES.len();
        pos = block_end;

        let trusted = label == "TRUSTED CERTIFICATE";
        if !(label == "CERTIFICATE" || label == "X509 CERTIFICATE" || trusted) {
            other_labels.push(label);
            continue;
        }
        let n = certs.len() + 1;
        let block = bytes.get(start..block_end).unwrap_or_default();
        let parsed = ::pem::parse(block).map_err(|e| {
            format!("certificate {n} (PEM block {block_no}): bad PEM encoding: {e}")
        })?;
        let mut der = parsed.into_contents();
        if trusted {
            // OpenSSL appends trust settings after the certificate.
            if let Some(len) = tlv_total_len(&der) {
                der.truncate(len);
            }
        }
        parse_x509(&der)
            .map_err(|e| format!("certificate {n} (PEM block {block_no}) does not parse: {e}"))?;
        certs.push(der);
    }
    if certs.is_empty() {
        return Err(if other_labels.is_empty() {
            "no certificate found in the PEM input".to_string()
        } else {
            format!(
                "no certificate found (PEM blocks present: {})",
                other_labels.join(", ")
            )
        });
    }
    Ok(certs)
}
