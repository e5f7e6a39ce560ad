//! The offline probe: what a certificate file presents. A file is not a
//! handshake, so nothing says which certificate is the leaf: it is the one
//! that issues no other certificate in the file (the one matching the name
//! asked for, when several qualify), and it is listed first; where each
//! certificate sat in the file travels in the observation's origin.
//!
//! Files are untrusted input: sizes are capped and every error names the
//! file. Owns: reading files into observations. Never imports a mode.

use std::io::Read;
use std::path::Path;

use crate::report::observation::{FileSource, Observation, Origin, Timings};
use crate::target::{Host, Target};
use crate::x509::cert::CertInfo;
use crate::x509::private_key::{PublicKey, public_key_of};

/// Certificate and key files larger than this are refused (a chain is a few
/// kilobytes; this also stops `inspect /dev/zero`).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The name used when there is no name and the leaf names nothing usable.
pub const PLACEHOLDER: &str = "inspect.invalid";

/// What to check a file against, besides the run's trust store.
#[derive(Debug, Clone, Default)]
pub struct FileOptions {
    /// The name to check the leaf against; `None` = check no name.
    pub name: Option<Target>,
    /// The private key file (as shown) and its public half.
    pub key: Option<(String, PublicKey)>,
}

/// A path for messages and labels (control characters escaped).
pub fn show(p: &Path) -> String {
    crate::util::sanitize::for_terminal(&p.display().to_string())
}

/// Validate a host name or IP address to check the leaf against.
pub fn parse_name(s: &str) -> Result<Target, String> {
    let host = Host::parse(s.trim()).map_err(|e| format!("invalid --name: {e}"))?;
    let text = match &host {
        Host::Ip(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
        h => h.to_string(),
    };
    Target::parse(&text, 443).map_err(|e| format!("invalid --name: {e}"))
}

/// Read the private key at `path`: its name as shown and its public half.
pub fn load_key(path: &Path) -> Result<(String, PublicKey), String> {
    let shown = show(path);
    let bytes = read_limited(path, "key file")?;
    let key = public_key_of(&bytes).map_err(|e| format!("key file {shown}: {e}"))?;
    Ok((shown, key))
}

/// Read the deployed files a target names (`expect_cert`, `expect_key`):
/// the leaf of the certificate file (the certificate for the target's
/// name, else the first that issues none of the others) and the key.
pub fn read_deployed(target: &Target) -> Option<crate::report::observation::Deployed> {
    if target.expect_cert.is_none() && target.expect_key.is_none() {
        return None;
    }
    let cert = target
        .expect_cert
        .as_deref()
        .map(|p| (show(p), load_leaf(p, target)));
    let key = target
        .expect_key
        .as_deref()
        .map(|p| (show(p), load_key(p).map(|(_, k)| k)));
    Some(crate::report::observation::Deployed { cert, key })
}

/// The leaf certificate (DER) of a certificate file, for `name`.
pub fn load_leaf(path: &Path, name: &Target) -> Result<Vec<u8>, String> {
    let shown = show(path);
    let bytes = read_limited(path, "certificate file")?;
    let ders = crate::x509::cert::parse_certificates(&bytes)
        .map_err(|e| format!("certificate file {shown}: {e}"))?;
    let infos: Vec<Option<CertInfo>> = ders.iter().map(|d| CertInfo::from_der(d).ok()).collect();
    let leaf = find_leaf(&infos, Some(name));
    ders.into_iter()
        .nth(leaf)
        .ok_or_else(|| format!("certificate file {shown} holds no certificate"))
}

/// Read the certificates in `path` (PEM chains and bundles, or DER) into
/// an observation made at `now`, the leaf first.
pub fn observe_file(path: &Path, opts: &FileOptions, now: i64) -> Result<Observation, String> {
    let shown = show(path);
    let bytes = read_limited(path, "certificate file")?;
    observe_bytes(&bytes, &shown, opts, now)
}

/// [`observe_file`] on bytes already read (`shown` names them in messages):
/// what the fuzz targets call.
pub fn observe_bytes(
    bytes: &[u8],
    shown: &str,
    opts: &FileOptions,
    now: i64,
) -> Result<Observation, String> {
    let shown = shown.to_string();
    let bytes = bytes.to_vec();
    let ders = crate::x509::cert::parse_certificates(&bytes)
        .map_err(|e| format!("certificate file {shown}: {e}"))?;
    let pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    let infos: Vec<Option<CertInfo>> = ders.iter().map(|d| CertInfo::from_der(d).ok()).collect();
    let leaf = find_leaf(&infos, opts.name.as_ref());
    // The leaf first; `positions[k]` is the file position of chain entry k.
    let mut positions: Vec<usize> = vec![leaf];
    positions.extend((0..ders.len()).filter(|i| *i != leaf));
    let chain: Vec<Vec<u8>> = positions.iter().map(|&i| ders[i].clone()).collect();
    let target = match &opts.name {
        Some(t) => t.clone(),
        None => match infos.get(leaf).and_then(Option::as_ref).and_then(name_of) {
            Some(t) => t,
            None => Target::parse(PLACEHOLDER, 443)?,
        },
    };
    Ok(Observation {
        target,
        address: None,
        chain,
        tls: None,
        ocsp_stapled: None,
        error: None,
        timings: Timings::default(),
        started_at: now,
        origin: Origin::File(FileSource {
            path: shown,
            pem,
            positions,
            name_given: opts.name.is_some(),
            key: opts.key.clone(),
        }),
        // Offline: no AIA, CRL or OCSP fetches.
        fetches: Vec::new(),
        revocation_checked: false,
        staple_checked: None,
        deployed: None,
        no_sni: None,
    })
}

/// Read a whole file, refusing huge ones; errors name the file.
fn read_limited(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    let shown = show(path);
    let cannot = |e: std::io::Error| format!("cannot read {what} {shown}: {e}");
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!(
            "{what} {shown} is larger than {} MiB: not a certificate or key file",
            MAX_FILE / (1024 * 1024)
        ));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(format!("{what} {shown} is empty"));
    }
    Ok(bytes)
}

/// A name the leaf covers, for fix commands when no `--name` was given:
/// the first plain DNS name, else an IP address, else a wildcard's base,
/// else the CN.
fn name_of(leaf: &CertInfo) -> Option<Target> {
    use crate::x509::cert::San;
    let dns = leaf.sans.iter().filter_map(|s| match s {
        San::Dns(d) if !d.starts_with("*.") => Some(d.clone()),
        _ => None,
    });
    let ips = leaf.sans.iter().filter_map(|s| match s {
        San::Ip(ip) => Some(ip.to_string()),
        _ => None,
    });
    let wild = leaf.sans.iter().filter_map(|s| match s {
        San::Dns(d) => d.strip_prefix("*.").map(str::to_string),
        _ => None,
    });
    dns.chain(ips)
        .chain(wild)
        .chain(leaf.subject_cn.clone())
        .find_map(|n| parse_name(&n).ok())
}

/// The leaf: a certificate that issues no other one in the file, preferring
/// one that matches `name`, then the first certificate, then any non-CA.
fn find_leaf(infos: &[Option<CertInfo>], name: Option<&Target>) -> usize {
    let issues_another = |i: usize| {
        let Some(Some(c)) = infos.get(i) else {
            return false;
        };
        infos.iter().enumerate().any(|(j, d)| {
            j != i
                && d.as_ref().is_some_and(|d| {
                    d.der != c.der && c.could_issue(d) && d.signature_verified_by(&c.spki_der)
                })
        })
    };
    let candidates: Vec<usize> = (0..infos.len())
        .filter(|&i| {
            infos
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|c| !c.is_ca)
                && !issues_another(i)
        })
        .collect();
    if let Some(t) = name {
        let n = t.verify_name();
        if let Some(&i) = candidates.iter().find(|&&i| {
            infos
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|c| crate::x509::names::check(c, &n).is_ok())
        }) {
            return i;
        }
    }
    if candidates.first() == Some(&0) || candidates.is_empty() {
        return 0;
    }
    candidates[0]
}
