//! General names (subjectAltName entries, name-constraint subtrees, AIA
//! locations, ...) as sanitized display text.

use std::net::IpAddr;

use x509_parser::asn1_rs::Tag;
use x509_parser::prelude::*;

use super::dn::format_name;
use super::{San, hex_colon, oid_name, oid_text};

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        Some(IpAddr::from(a))
    } else if let Ok(a) = <[u8; 16]>::try_from(b) {
        Some(IpAddr::from(a))
    } else {
        None
    }
}

fn invalid_general_name(tag: Tag, bytes: &[u8]) -> String {
    let kind = match tag.0 {
        0 => "otherName",
        1 => "email",
        2 => "DNS",
        3 => "X400Name",
        4 => "DirName",
        5 => "EdiPartyName",
        6 => "URI",
        7 => "IP",
        8 => "RID",
        _ => "name",
    };
    format!("invalid {kind}: {}", String::from_utf8_lossy(bytes))
}

pub(super) fn san_from_general_name(gn: &GeneralName) -> San {
    match gn {
        GeneralName::DNSName(s) => San::Dns(s.to_string()),
        GeneralName::IPAddress(b) => match ip_from_bytes(b) {
            Some(ip) => San::Ip(ip),
            None => San::Other(format!("IP:<invalid, {} bytes: {}>", b.len(), hex_colon(b))),
        },
        GeneralName::RFC822Name(s) => San::Email(s.to_string()),
        GeneralName::URI(s) => San::Uri(s.to_string()),
        other => San::Other(general_name_text(other)),
    }
}

/// Display text for any general name (raw: see `report::terminal`).
pub(super) fn general_name_text(gn: &GeneralName) -> String {
    match gn {
        GeneralName::DNSName(s) => format!("DNS:{}", s),
        GeneralName::RFC822Name(s) => format!("email:{}", s),
        GeneralName::URI(s) => format!("URI:{}", s),
        GeneralName::IPAddress(b) => match ip_from_bytes(b) {
            Some(ip) => format!("IP:{ip}"),
            None => format!("IP:<invalid, {} bytes: {}>", b.len(), hex_colon(b)),
        },
        GeneralName::DirectoryName(n) => format!("DirName:{}", format_name(n)),
        GeneralName::OtherName(oid, _) => format!("othername:{}", oid_name(oid)),
        GeneralName::RegisteredID(oid) => format!("RID:{}", oid_text(oid)),
        GeneralName::X400Address(_) => "X400Name:<unsupported>".to_string(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".to_string(),
        GeneralName::Invalid(tag, bytes) => invalid_general_name(*tag, bytes),
    }
}

/// Name-constraint subtree text: IP entries are address + mask.
pub(super) fn constraint_text(gn: &GeneralName) -> String {
    if let GeneralName::IPAddress(b) = gn {
        let (addr, mask) = match b.len() {
            8 => (ip_from_bytes(b.get(..4).unwrap_or_default()), b.get(4..)),
            32 => (ip_from_bytes(b.get(..16).unwrap_or_default()), b.get(16..)),
            _ => (None, None),
        };
        if let (Some(addr), Some(mask)) = (addr, mask) {
            let ones: u32 = mask.iter().map(|m| m.count_ones()).sum();
            let contiguous = mask
                .iter()
                .flat_map(|m| (0..8).rev().map(move |i| (m >> i) & 1 == 1))
                .skip_while(|bit| *bit)
                .all(|bit| !bit);
            return if contiguous {
                format!("IP:{addr}/{ones}")
            } else {
                format!("IP:{addr}/{}", hex_colon(mask))
            };
        }
        return format!("IP:<invalid, {} bytes: {}>", b.len(), hex_colon(b));
    }
    general_name_text(gn)
}
