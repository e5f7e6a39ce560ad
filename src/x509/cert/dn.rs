//! Distinguished names: attribute labels, value decoding, RFC 4514-style
//! escaping and sanitized display.

use x509_parser::asn1_rs::{Any, Oid, Tag};
use x509_parser::prelude::*;

use super::{hex_upper, oid_text};

const OID_CN: &str = "2.5.4.3";

/// Short name for an attribute type in a Name.
fn attribute_label(oid: &Oid) -> String {
    let text = oid_text(oid);
    let known = match text.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.12" => "title",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => "",
    };
    if known.is_empty() {
        match oid2sn(oid, oid_registry()) {
            Ok(sn) => sn.to_string(),
            Err(_) => text,
        }
    } else {
        known.to_string()
    }
}

/// Decode a directory-string attribute value (lossy, unsanitized).
fn attr_value_text(v: &Any) -> String {
    match v.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::T61String
        | Tag::VideotexString
        | Tag::GraphicString
        | Tag::GeneralString => String::from_utf8_lossy(v.data).into_owned(),
        Tag::BmpString => {
            let units = v
                .data
                .chunks(2)
                .map(|c| match c {
                    [a, b] => u16::from_be_bytes([*a, *b]),
                    _ => 0xfffd,
                })
                .collect::<Vec<u16>>();
            char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        Tag::UniversalString => v
            .data
            .chunks(4)
            .map(|c| match c {
                [a, b, cc, d] => char::from_u32(u32::from_be_bytes([*a, *b, *cc, *d]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
                _ => char::REPLACEMENT_CHARACTER,
            })
            .collect(),
        _ => format!("#{}", hex_upper(v.data)),
    }
}

/// Escape RFC 4514 special characters in a value.
fn escape_rdn_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ',' | '+' | ';' | '"' | '\\' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn format_name(name: &X509Name) -> String {
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    format!(
                        "{}={}",
                        attribute_label(atv.attr_type()),
                        escape_rdn_value(&attr_value_text(atv.attr_value()))
                    )
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    rdns.join(", ")
}

pub(super) fn first_cn(name: &X509Name) -> Option<String> {
    name.iter_attributes()
        .find(|a| oid_text(a.attr_type()) == OID_CN)
        .map(|a| attr_value_text(a.attr_value()))
}

/// Format a DER-encoded Name (with its outer SEQUENCE) for display,
/// sanitized. `None` when it does not parse.
pub fn name_to_string(raw: &[u8]) -> Option<String> {
    let (_, name) = X509Name::from_der(raw).ok()?;
    Some(format_name(&name))
}

/// First CN of a DER-encoded Name, sanitized.
pub fn name_cn(raw: &[u8]) -> Option<String> {
    let (_, name) = X509Name::from_der(raw).ok()?;
    first_cn(&name)
}
