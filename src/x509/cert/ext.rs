//! Extension decoding: what each extension sets on [`CertInfo`] and its
//! readable summary for the detail view.

use x509_parser::prelude::*;

use super::general_name::{constraint_text, general_name_text, san_from_general_name};
use super::{CertInfo, Eku, NameConstraintsInfo, San, hex_colon, oid_name, oid_text, read_tlv};

const OID_SAN: &str = "2.5.29.17";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EKU: &str = "2.5.29.37";
const OID_NAME_CONSTRAINTS: &str = "2.5.29.30";
const OID_TLS_FEATURE: &str = "1.3.6.1.5.5.7.1.24";
const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const OID_AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";
const OID_AD_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

/// Short name for an extension OID.
pub(super) fn extension_name(oid: &str) -> String {
    let known = match oid {
        "2.5.29.14" => "subjectKeyIdentifier",
        "2.5.29.15" => "keyUsage",
        "2.5.29.16" => "privateKeyUsagePeriod",
        "2.5.29.17" => "subjectAltName",
        "2.5.29.18" => "issuerAltName",
        "2.5.29.19" => "basicConstraints",
        "2.5.29.30" => "nameConstraints",
        "2.5.29.31" => "cRLDistributionPoints",
        "2.5.29.32" => "certificatePolicies",
        "2.5.29.33" => "policyMappings",
        "2.5.29.35" => "authorityKeyIdentifier",
        "2.5.29.36" => "policyConstraints",
        "2.5.29.37" => "extendedKeyUsage",
        "2.5.29.46" => "freshestCRL",
        "2.5.29.54" => "inhibitAnyPolicy",
        "1.3.6.1.5.5.7.1.1" => "authorityInfoAccess",
        "1.3.6.1.5.5.7.1.11" => "subjectInfoAccess",
        "1.3.6.1.5.5.7.1.24" => "tlsFeature",
        "1.3.6.1.5.5.7.48.1.5" => "ocspNoCheck",
        "1.3.6.1.4.1.11129.2.4.2" => "ctPrecertificateSCTs",
        "1.3.6.1.4.1.11129.2.4.3" => "ctPrecertificatePoison",
        "2.16.840.1.113730.1.1" => "nsCertType",
        "2.16.840.1.113730.1.13" => "nsComment",
        "1.3.6.1.4.1.311.20.2" => "msCertificateTemplateName",
        "1.3.6.1.4.1.311.21.7" => "msCertificateTemplate",
        "1.3.6.1.4.1.311.21.10" => "msApplicationPolicies",
        _ => "",
    };
    if known.is_empty() {
        oid.to_string()
    } else {
        known.to_string()
    }
}

// ---------------------------------------------------------------------------
// Extensions
// ---------------------------------------------------------------------------

fn key_usage_names(ku: &KeyUsage) -> Vec<String> {
    let all = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    all.iter()
        .filter(|(set, _)| *set)
        .map(|(_, n)| (*n).to_string())
        .collect()
}

fn eku_info(eku: &ExtendedKeyUsage) -> Eku {
    let mut others = Vec::new();
    for (set, name) in [
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ] {
        if set {
            others.push(name.to_string());
        }
    }
    others.extend(eku.other.iter().map(oid_name));
    Eku {
        server_auth: eku.server_auth,
        client_auth: eku.client_auth,
        any: eku.any,
        others,
    }
}

fn eku_text(e: &Eku) -> String {
    let mut v = Vec::new();
    if e.server_auth {
        v.push("serverAuth".to_string());
    }
    if e.client_auth {
        v.push("clientAuth".to_string());
    }
    if e.any {
        v.push("anyExtendedKeyUsage".to_string());
    }
    v.extend(e.others.iter().cloned());
    v.join(", ")
}

/// TLS Feature values: SEQUENCE OF INTEGER. `None` when malformed.
pub(super) fn tls_features(value: &[u8]) -> Option<Vec<u64>> {
    let (tag, mut seq, _) = read_tlv(value)?;
    if tag != 0x30 {
        return None;
    }
    let mut out = Vec::new();
    while !seq.is_empty() {
        let (t, int, rest) = read_tlv(seq)?;
        if t != 0x02 || int.is_empty() || int.len() > 8 {
            return None;
        }
        let mut n: u64 = 0;
        for b in int {
            n = (n << 8) | u64::from(*b);
        }
        out.push(n);
        seq = rest;
    }
    Some(out)
}

/// Count SCTs in the extension value (OCTET STRING wrapping a TLS
/// SignedCertificateTimestampList) when x509-parser could not.
fn count_scts_raw(value: &[u8]) -> Option<usize> {
    let (tag, list, _) = read_tlv(value)?;
    if tag != 0x04 {
        return None;
    }
    let (len_bytes, mut body) = (list.get(..2)?, list.get(2..)?);
    let total = usize::from(u16::from_be_bytes([
        *len_bytes.first()?,
        *len_bytes.get(1)?,
    ]));
    if total != body.len() {
        return None;
    }
    let mut n = 0;
    while !body.is_empty() {
        let l = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
        body = body.get(2..)?.get(l..)?;
        n += 1;
    }
    Some(n)
}

fn policy_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.29.32.0" => "anyPolicy",
        "2.23.140.1.1" => "CA/B EV",
        "2.23.140.1.2.1" => "CA/B domain-validated",
        "2.23.140.1.2.2" => "CA/B organization-validated",
        "2.23.140.1.2.3" => "CA/B individual-validated",
        "1.3.6.1.4.1.44947.1.1.1" => "ISRG domain-validated",
        _ => return None,
    })
}

impl CertInfo {
    /// Record what one extension says; return its display summary.
    pub(super) fn absorb_extension(&mut self, ext: &X509Extension) -> String {
        let oid = oid_text(&ext.oid);
        match oid.as_str() {
            OID_SAN => self.has_san_extension = true,
            OID_BASIC_CONSTRAINTS => self.basic_constraints_present = true,
            OID_KEY_USAGE if self.key_usage.is_none() => self.key_usage = Some(Vec::new()),
            OID_EKU if self.ext_key_usage.is_none() => self.ext_key_usage = Some(Eku::default()),
            OID_NAME_CONSTRAINTS if self.name_constraints.is_none() => {
                self.name_constraints = Some(NameConstraintsInfo::default())
            }
            _ => {}
        }
        const UNPARSED: &str = "unparsed";
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                let new: Vec<San> = san
                    .general_names
                    .iter()
                    .map(san_from_general_name)
                    .collect();
                let text = new.iter().map(San::display).collect::<Vec<_>>().join(", ");
                self.sans.extend(new);
                text
            }
            ParsedExtension::IssuerAlternativeName(ian) => ian
                .general_names
                .iter()
                .map(general_name_text)
                .collect::<Vec<_>>()
                .join(", "),
            ParsedExtension::BasicConstraints(bc) => {
                // The first occurrence wins (duplicates are malformed anyway).
                if !self
                    .extensions
                    .iter()
                    .any(|e| e.oid == OID_BASIC_CONSTRAINTS)
                {
                    self.is_ca = bc.ca;
                    self.path_len = bc.path_len_constraint;
                }
                match bc.path_len_constraint {
                    Some(n) => format!("CA:{}, pathlen:{n}", if bc.ca { "TRUE" } else { "FALSE" }),
                    None => format!("CA:{}", if bc.ca { "TRUE" } else { "FALSE" }),
                }
            }
            ParsedExtension::KeyUsage(ku) => {
                let names = key_usage_names(ku);
                let text = names.join(", ");
                if self.key_usage.as_ref().is_some_and(|k| k.is_empty())
                    && !self.extensions.iter().any(|e| e.oid == OID_KEY_USAGE)
                {
                    self.key_usage = Some(names);
                }
                text
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let e = eku_info(eku);
                let text = eku_text(&e);
                if !self.extensions.iter().any(|x| x.oid == OID_EKU) {
                    self.ext_key_usage = Some(e);
                }
                text
            }
            ParsedExtension::SubjectKeyIdentifier(KeyIdentifier(id)) => {
                if self.subject_key_id.is_none() {
                    self.subject_key_id = Some(id.to_vec());
                }
                hex_colon(id)
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                let mut parts = Vec::new();
                if let Some(KeyIdentifier(id)) = &aki.key_identifier {
                    if self.authority_key_id.is_none() {
                        self.authority_key_id = Some(id.to_vec());
                    }
                    parts.push(format!("keyid:{}", hex_colon(id)));
                }
                if let Some(names) = &aki.authority_cert_issuer {
                    for n in names {
                        parts.push(format!("issuer:{}", general_name_text(n)));
                    }
                }
                if let Some(serial) = aki.authority_cert_serial {
                    parts.push(format!("serial:{}", hex_colon(serial)));
                }
                parts.join("\n")
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                let mut lines = Vec::new();
                for ad in &aia.accessdescs {
                    let method = oid_text(&ad.access_method);
                    let label = match method.as_str() {
                        OID_AD_OCSP => "OCSP".to_string(),
                        OID_AD_CA_ISSUERS => "CA Issuers".to_string(),
                        _ => oid_name(&ad.access_method),
                    };
                    if let GeneralName::URI(u) = &ad.access_location {
                        let u = u.to_string();
                        match method.as_str() {
                            OID_AD_OCSP => self.aia_ocsp.push(u),
                            OID_AD_CA_ISSUERS => self.aia_ca_issuers.push(u),
                            _ => {}
                        }
                    }
                    lines.push(format!(
                        "{label} - {}",
                        general_name_text(&ad.access_location)
                    ));
                }
                lines.join("\n")
            }
            ParsedExtension::SubjectInfoAccess(sia) => sia
                .accessdescs
                .iter()
                .map(|ad| {
                    format!(
                        "{} - {}",
                        oid_name(&ad.access_method),
                        general_name_text(&ad.access_location)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ParsedExtension::CRLDistributionPoints(dps) => {
                let mut lines = Vec::new();
                for dp in dps.iter() {
                    match &dp.distribution_point {
                        Some(DistributionPointName::FullName(names)) => {
                            for n in names {
                                if let GeneralName::URI(u) = n {
                                    self.crl_urls.push(u.to_string());
                                }
                                lines.push(general_name_text(n));
                            }
                        }
                        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                            lines.push("<name relative to CRL issuer>".to_string())
                        }
                        None => {}
                    }
                    if let Some(issuers) = &dp.crl_issuer {
                        for n in issuers {
                            lines.push(format!("CRL issuer: {}", general_name_text(n)));
                        }
                    }
                }
                lines.join("\n")
            }
            ParsedExtension::SCT(scts) => {
                self.sct_count += scts.len();
                let mut lines = vec![format!("{} SCT(s)", scts.len())];
                for s in scts {
                    let log: &[u8] = s.id.key_id;
                    lines.push(format!(
                        "log {}, timestamp {} ms",
                        hex_colon(log.get(..8).unwrap_or(log)),
                        s.timestamp
                    ));
                }
                lines.join("\n")
            }
            ParsedExtension::NameConstraints(nc) => {
                let permitted: Vec<String> = nc
                    .permitted_subtrees
                    .iter()
                    .flatten()
                    .map(|s| constraint_text(&s.base))
                    .collect();
                let excluded: Vec<String> = nc
                    .excluded_subtrees
                    .iter()
                    .flatten()
                    .map(|s| constraint_text(&s.base))
                    .collect();
                let mut lines = Vec::new();
                if !permitted.is_empty() {
                    lines.push(format!("Permitted: {}", permitted.join(", ")));
                }
                if !excluded.is_empty() {
                    lines.push(format!("Excluded: {}", excluded.join(", ")));
                }
                if let Some(cur) = self.name_constraints.as_mut() {
                    cur.permitted.extend(permitted);
                    cur.excluded.extend(excluded);
                }
                lines.join("\n")
            }
            ParsedExtension::CertificatePolicies(policies) => policies
                .iter()
                .map(|p| {
                    let id = oid_text(&p.policy_id);
                    match policy_name(&id) {
                        Some(n) => format!("{id} ({n})"),
                        None => id,
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ParsedExtension::PolicyMappings(pm) => pm
                .mappings
                .iter()
                .map(|m| {
                    format!(
                        "{} -> {}",
                        oid_text(&m.issuer_domain_policy),
                        oid_text(&m.subject_domain_policy)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ParsedExtension::PolicyConstraints(pc) => {
                let mut v = Vec::new();
                if let Some(n) = pc.require_explicit_policy {
                    v.push(format!("requireExplicitPolicy:{n}"));
                }
                if let Some(n) = pc.inhibit_policy_mapping {
                    v.push(format!("inhibitPolicyMapping:{n}"));
                }
                v.join(", ")
            }
            ParsedExtension::InhibitAnyPolicy(i) => format!("skipCerts:{}", i.skip_certs),
            ParsedExtension::NSCertType(t) => t.to_string(),
            ParsedExtension::NsCertComment(c) => c.to_string(),
            ParsedExtension::UnsupportedExtension { .. }
            | ParsedExtension::ParseError { .. }
            | ParsedExtension::Unparsed => match oid.as_str() {
                OID_TLS_FEATURE => match tls_features(ext.value) {
                    Some(features) => {
                        if features.contains(&5) {
                            self.must_staple = true;
                        }
                        features
                            .iter()
                            .map(|f| match f {
                                5 => "status_request".to_string(),
                                17 => "status_request_v2".to_string(),
                                n => n.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                    None => UNPARSED.to_string(),
                },
                OID_SCT_LIST => match count_scts_raw(ext.value) {
                    Some(n) => {
                        self.sct_count += n;
                        format!("{n} SCT(s)")
                    }
                    None => UNPARSED.to_string(),
                },
                "2.16.840.1.113730.1.13" => match read_tlv(ext.value) {
                    Some((_, text, _)) => String::from_utf8_lossy(text).into_owned(),
                    None => UNPARSED.to_string(),
                },
                "1.3.6.1.5.5.7.48.1.5" | "1.3.6.1.4.1.11129.2.4.3" => "(present)".to_string(),
                _ => UNPARSED.to_string(),
            },
            // CRL-only extensions cannot legitimately appear in certificates.
            _ => UNPARSED.to_string(),
        }
    }
}
