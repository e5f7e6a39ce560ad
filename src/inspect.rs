//! `certscope inspect FILE...`: diagnose certificate files on disk (PEM
//! chains and bundles, or DER) with the same engine, findings and output
//! formats as `check`, and the `--file` rows of the TUI.
//!
//! A file is not a handshake: nothing says which certificate is the leaf.
//! The leaf is the certificate that issues no other one in the file (the
//! one matching `--name` when several qualify); it is diagnosed first, and a
//! file that does not start with it, or holds extra certificates, gets a
//! `chain-order` finding that names the right order by position in the file.
//! `--key` adds `key-mismatch` when the private key is not the leaf's.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::cli::{Format, InspectArgs};
use crate::config::{Config, InputError};
use crate::diagnose::fix::{Facts, FixContext};
use crate::diagnose::{DiagnoseOptions, diagnose};
use crate::report::finding::{Code, Finding, FixStep, Severity, Status, sort_findings};
use crate::report::observation::{Observation, Timings};
use crate::report::{Report, Source};
use crate::target::{Host, Target};
use crate::util::shell::quote;
use crate::x509::cert::{CertInfo, read_tlv};
use crate::x509::trust::TrustStore;

/// Certificate and key files larger than this are refused (a chain is a few
/// kilobytes; this also stops `inspect /dev/zero`).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The name used when there is no `--name` and the leaf names nothing usable.
pub(crate) const PLACEHOLDER: &str = "inspect.invalid";

/// How files are diagnosed: everything but the file itself.
#[derive(Debug, Clone)]
pub struct Settings {
    pub trust: Arc<TrustStore>,
    /// Thresholds; `skip_name` is set from `name`.
    pub diagnose: DiagnoseOptions,
    /// `--at`: judge validity at this instant instead of now.
    pub at: Option<i64>,
    /// `--name`, validated; `None` = do not check a name.
    pub name: Option<Target>,
    /// `--key`: the key file (as shown) and its public half.
    pub key: Option<(String, PublicKey)>,
}

impl Settings {
    /// Settings for `--file` rows of the TUI: the plan's trust store,
    /// thresholds and `--at`, checking `name` when given.
    pub fn from_plan(plan: &Config, name: Option<Target>) -> Settings {
        let mut diagnose = plan.diagnose.clone();
        diagnose.skip_name = name.is_none();
        Settings {
            trust: plan.trust.clone(),
            diagnose,
            at: plan.at,
            name,
            key: None,
        }
    }

    /// Validate `certscope inspect`'s options and load the trust store and key.
    pub fn from_args(args: &InspectArgs) -> Result<Settings, InputError> {
        let name = args.name.as_deref().map(parse_name).transpose()?;
        let trust = TrustStore::load(args.trust_store, &args.ca_file).map_err(InputError)?;
        let key = match &args.key {
            None => None,
            Some(p) => Some((show(p), load_key(p)?)),
        };
        Ok(Settings {
            trust: Arc::new(trust),
            diagnose: DiagnoseOptions {
                warn_days: args.warn_days,
                crit_days: args.crit_days,
                skip_name: name.is_none(),
            },
            at: args.at,
            name,
            key,
        })
    }
}

/// Validate a host name or IP address to check the leaf against.
pub fn parse_name(s: &str) -> Result<Target, InputError> {
    let host = Host::parse(s.trim()).map_err(|e| InputError(format!("invalid --name: {e}")))?;
    let text = match &host {
        Host::Ip(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
        h => h.to_string(),
    };
    Target::parse(&text, 443).map_err(|e| InputError(format!("invalid --name: {e}")))
}

/// Run `certscope inspect`; returns the exit code. Every file is read and
/// diagnosed before anything is printed, so bad input prints nothing on
/// stdout.
pub fn run(args: InspectArgs) -> Result<i32, InputError> {
    let settings = Settings::from_args(&args)?;
    let format = if args.json { Format::Json } else { args.format };
    let now = now_unix();
    let reports = args
        .files
        .iter()
        .map(|f| inspect_file(f, &settings, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::check::print_reports(
        &reports,
        args.files.len(),
        format,
    ))
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A path for messages and labels (control characters escaped).
fn show(p: &Path) -> String {
    crate::util::sanitize::for_terminal(&p.display().to_string())
}

/// Read a whole file, refusing huge ones; errors name the file.
fn read_limited(path: &Path, what: &str) -> Result<Vec<u8>, InputError> {
    let shown = show(path);
    let cannot = |e: std::io::Error| InputError(format!("cannot read {what} {shown}: {e}"));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(InputError(format!(
            "{what} {shown} is larger than {} MiB: not a certificate or key file",
            MAX_FILE / (1024 * 1024)
        )));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(InputError(format!("{what} {shown} is empty")));
    }
    Ok(bytes)
}

/// Read, parse and diagnose one certificate file at wall-clock `now` (or
/// `--at`). Errors (unreadable, empty, no certificate) name the file.
pub fn inspect_file(path: &Path, s: &Settings, now: i64) -> Result<Report, InputError> {
    let shown = show(path);
    let bytes = read_limited(path, "certificate file")?;
    let ders = crate::x509::cert::parse_certificates(&bytes)
        .map_err(|e| InputError(format!("certificate file {shown}: {e}")))?;
    let is_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    let infos: Vec<Option<CertInfo>> = ders.iter().map(|d| CertInfo::from_der(d).ok()).collect();
    let leaf = find_leaf(&infos, s.name.as_ref());
    // Diagnose leaf first; `order[k]` is the file position of chain entry k.
    let mut order: Vec<usize> = vec![leaf];
    order.extend((0..ders.len()).filter(|i| *i != leaf));
    let chain: Vec<Vec<u8>> = order.iter().map(|&i| ders[i].clone()).collect();

    let target = match &s.name {
        Some(t) => t.clone(),
        None => match infos.get(leaf).and_then(Option::as_ref).and_then(name_of) {
            Some(t) => t,
            None => Target::parse(PLACEHOLDER, 443).map_err(InputError)?,
        },
    };
    let obs = Observation {
        target,
        address: None,
        chain,
        tls: None,
        ocsp_stapled: None,
        error: None,
        timings: Timings::default(),
        started_at: now,
        label: Some(shown.clone()),
        // Offline: no AIA, CRL or OCSP fetches.
        fetches: Vec::new(),
        revocation_checked: false,
        staple_checked: None,
    };
    let at = s.at.unwrap_or(now);
    let mut report = diagnose(&obs, &s.trust, at, &s.diagnose);
    let ctx = fix_context(&report, s, &shown);
    if s.name.is_none() {
        // No name was asked for: the commands should not check one either.
        let strip = if ctx.name_is_ip {
            format!(" -verify_ip {}", quote(&ctx.name))
        } else {
            format!(" -verify_hostname {}", quote(&ctx.name))
        };
        report.reproduce = report.reproduce.replace(&strip, "");
        for f in &mut report.findings {
            for step in &mut f.fix {
                if let Some(c) = &mut step.command {
                    *c = c.replace(&strip, "");
                }
            }
        }
    }
    if !is_pem {
        // `openssl crl2pkcs7 -certfile` reads PEM only; `openssl x509` reads DER too.
        let show = ctx.show_chain();
        let der = format!("openssl x509 -in {} -noout -subject -issuer", quote(&shown));
        for f in &mut report.findings {
            for step in &mut f.fix {
                if step.command.as_deref() == Some(show.as_str()) {
                    step.command = Some(der.clone());
                }
            }
        }
    }
    if report.status == Status::Error || report.chain.is_empty() {
        return Ok(report);
    }
    file_order(&mut report, &order, &ders, &ctx, is_pem);
    if let Some((key_shown, key)) = &s.key
        && let Some(mut f) = key_finding(&report, key_shown, key, &ctx)
    {
        // `openssl x509 -in FILE` reads the first certificate: when the leaf
        // is elsewhere, hash that one.
        if leaf != 0
            && is_pem
            && let Some(c) = f.fix.first_mut().and_then(|s| s.command.as_mut())
        {
            *c = format!(
                "awk '/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/{{n++; p=(n=={})}} p{{print}} /-----END (X509 |TRUSTED )?CERTIFICATE-----/{{p=0}}' {} | openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl sha256",
                leaf + 1,
                quote(&shown)
            );
        }
        report.findings.push(f);
    }
    sort_findings(&mut report.findings);
    report.status = match report.findings.iter().map(|f| f.severity).max() {
        Some(Severity::Critical) => Status::Critical,
        Some(Severity::Warning) => Status::Warning,
        _ => Status::Ok,
    };
    // These certificates came from the file, not from a server.
    for e in &mut report.chain {
        if e.source == Source::Server {
            e.source = Source::File;
        }
    }
    Ok(report)
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

/// The fix context `diagnose` used, for findings added here.
fn fix_context(report: &Report, s: &Settings, file: &str) -> FixContext {
    let mut ctx = FixContext::new(report.target.host_port(), report.name.clone());
    ctx.ca_file = s.trust.anchors.iter().find_map(|a| match &a.origin {
        crate::x509::trust::AnchorOrigin::CaFile(p) => Some(p.display().to_string()),
        _ => None,
    });
    ctx.file = Some(file.to_string());
    ctx.key_file = s.key.as_ref().map(|(k, _)| k.clone());
    ctx
}

/// Ordinal position in the file, 1-based, for people.
fn nth(i: usize) -> String {
    format!("no. {}", i + 1)
}

/// Replace the engine's `chain-order` (which judges the leaf-first order
/// diagnosed) with one about the order inside the file, when the file does
/// not hold exactly the leaf, then each issuer.
fn file_order(
    report: &mut Report,
    order: &[usize],
    ders: &[Vec<u8>],
    ctx: &FixContext,
    is_pem: bool,
) {
    let engine = report
        .findings
        .iter()
        .position(|f| f.code == Code::ChainOrder);
    let leaf_moved = order.first().is_some_and(|&l| l != 0);
    if engine.is_none() && !leaf_moved {
        return;
    }
    let blame = match engine {
        Some(i) => report.findings.remove(i).cert,
        None => Some(0),
    };
    // The right order: the path (and a sent root), by file position.
    let right: Vec<usize> = report
        .path
        .iter()
        .filter(|&&k| {
            report
                .chain
                .get(k)
                .is_some_and(|e| e.source == Source::Server)
        })
        .filter_map(|&k| order.get(k).copied())
        .collect();
    let name_at = |pos: usize| -> String {
        order
            .iter()
            .position(|&p| p == pos)
            .and_then(|k| report.chain.get(k))
            .map(|e| e.info.display_name())
            .unwrap_or_else(|| "(unparsable)".into())
    };
    let held: Vec<String> = (0..ders.len())
        .map(|p| format!("{} '{}'", nth(p), name_at(p)))
        .collect();
    let mut problems = Vec::new();
    if leaf_moved {
        problems.push(format!(
            "the leaf ('{}') is {}, not first; most servers take the first certificate of the file as their own, so they present the wrong one or refuse to start (nginx: key values mismatch)",
            name_at(order[0]),
            nth(order[0])
        ));
    }
    for p in 0..ders.len() {
        if right.contains(&p) {
            continue;
        }
        if let Some(first) = ders[..p].iter().position(|d| *d == ders[p]) {
            problems.push(format!("{} repeats {}", nth(p), nth(first)));
        } else {
            problems.push(format!(
                "{} ('{}') belongs to no path from the leaf",
                nth(p),
                name_at(p)
            ));
        }
    }
    let right_text: Vec<String> = right.iter().map(|&p| (p + 1).to_string()).collect();
    if problems.is_empty() {
        problems.push("the certificates are not in issuing order".into());
    }
    let detail = format!(
        "The file holds, in this order: {}. A chain file lists the leaf first, then each issuer, and nothing else: {}. The right order is {}.",
        held.join(", "),
        problems.join("; "),
        right_text.join(", ")
    );
    let mut fix = crate::diagnose::fix::steps(Code::ChainOrder, ctx, &Facts::default());
    if is_pem && let Some(file) = &ctx.file {
        let cats: Vec<String> = right
            .iter()
            .map(|p| format!("cert-{}.pem", p + 1))
            .collect();
        let split = FixStep::cmd(
            "Rebuild it from this file: split it into one file per certificate, then join them in the right order",
            format!(
                "awk '/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/{{n++; p=1}} p{{print > (\"cert-\" n \".pem\")}} /-----END (X509 |TRUSTED )?CERTIFICATE-----/{{p=0}}' {} && cat {} > fullchain.pem",
                quote(file),
                cats.join(" ")
            ),
        );
        // It replaces the generic "cat leaf.pem intermediate.pem" step.
        match fix
            .iter()
            .position(|s| s.command.as_deref().is_some_and(|c| c.starts_with("cat ")))
        {
            Some(i) => fix[i] = split,
            None => fix.insert(1.min(fix.len()), split),
        }
    }
    report.findings.push(Finding {
        code: Code::ChainOrder,
        severity: Severity::Warning,
        cert: blame,
        title: "The certificates in the file are out of order or include extra ones".into(),
        detail,
        clients: crate::diagnose::clients::clients(Code::ChainOrder, false),
        fix,
    });
}

// ---------------------------------------------------------------------------
// Private keys

/// The public half of a private key, as a certificate would carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// "RSA", "EC" or "Ed25519".
    pub kind: &'static str,
    /// The subjectPublicKey bits (RSAPublicKey DER, an EC point, 32 bytes).
    pub bits: Vec<u8>,
    /// The full SubjectPublicKeyInfo DER (for the fingerprint).
    pub spki: Vec<u8>,
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

fn load_key(path: &Path) -> Result<PublicKey, InputError> {
    let shown = show(path);
    let bytes = read_limited(path, "key file")?;
    public_key_of(&bytes).map_err(|e| InputError(format!("key file {shown}: {e}")))
}

/// The public half of the first private key in a PEM (PKCS#8 "PRIVATE KEY",
/// SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY") or DER blob.
pub fn public_key_of(bytes: &[u8]) -> Result<PublicKey, String> {
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return pkcs8(bytes)
            .or_else(|_| pkcs1(bytes))
            .or_else(|_| sec1(bytes, None))
            .map_err(|_| {
                "no private key found: expected a PEM private key (-----BEGIN PRIVATE KEY-----) or a DER one".to_string()
            });
    }
    let blocks = ::pem::parse_many(bytes).map_err(|e| format!("bad PEM encoding: {e}"))?;
    let mut seen = Vec::new();
    for b in &blocks {
        let encrypted = b
            .headers()
            .get("Proc-Type")
            .is_some_and(|v| v.contains("ENCRYPTED"));
        let label = crate::util::sanitize::for_terminal(b.tag());
        match b.tag() {
            "ENCRYPTED PRIVATE KEY" => return Err(encrypted_error()),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" if encrypted => return Err(encrypted_error()),
            "PRIVATE KEY" => return pkcs8(b.contents()).map_err(|e| format!("{label}: {e}")),
            "RSA PRIVATE KEY" => return pkcs1(b.contents()).map_err(|e| format!("{label}: {e}")),
            "EC PRIVATE KEY" => {
                return sec1(b.contents(), None).map_err(|e| format!("{label}: {e}"));
            }
            "OPENSSH PRIVATE KEY" => {
                return Err(
                    "an OpenSSH key: convert it with `ssh-keygen -p -m PKCS8 -f KEY` first".into(),
                );
            }
            _ => seen.push(label),
        }
    }
    Err(if seen.is_empty() {
        "no private key found in the PEM input".into()
    } else {
        format!(
            "no private key found (PEM blocks present: {})",
            seen.join(", ")
        )
    })
}

fn encrypted_error() -> String {
    "the private key is encrypted; decrypt a copy first: openssl pkey -in KEY -out plain.key".into()
}

/// Read one TLV with the given tag: (content, rest).
fn take(input: &[u8], tag: u8, what: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    match read_tlv(input) {
        Some((t, content, rest)) if t == tag => Ok((content.to_vec(), rest.to_vec())),
        Some((t, _, _)) => Err(format!(
            "malformed key: expected {what}, found tag 0x{t:02x}"
        )),
        None => Err(format!("malformed key: {what} is truncated")),
    }
}

/// DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let be = n.to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (be.len() - skip) as u8);
        out.extend_from_slice(&be[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn spki(alg: &[u8], bits: &[u8]) -> Vec<u8> {
    let mut bs = vec![0u8];
    bs.extend_from_slice(bits);
    let mut body = tlv(0x30, alg);
    body.extend(tlv(0x03, &bs));
    tlv(0x30, &body)
}

/// PKCS#8 PrivateKeyInfo / OneAsymmetricKey.
fn pkcs8(der: &[u8]) -> Result<PublicKey, String> {
    let (body, _) = take(der, 0x30, "a PrivateKeyInfo SEQUENCE")?;
    let (_, rest) = take(&body, 0x02, "the version")?;
    let (alg, rest) = take(&rest, 0x30, "the AlgorithmIdentifier")?;
    let (key, _) = take(&rest, 0x04, "the private key OCTET STRING")?;
    let (oid, params) = take(&alg, 0x06, "the algorithm OID")?;
    if oid == OID_RSA || oid == OID_RSA_PSS {
        pkcs1(&key)
    } else if oid == OID_EC {
        let curve = take(&params, 0x06, "the curve OID").ok().map(|(c, _)| c);
        sec1(&key, curve)
    } else if oid == OID_ED25519 {
        let (seed, _) = take(&key, 0x04, "the Ed25519 seed")?;
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|_| "malformed Ed25519 key".to_string())?;
        let bits = ring::signature::KeyPair::public_key(&pair)
            .as_ref()
            .to_vec();
        Ok(PublicKey {
            kind: "Ed25519",
            spki: spki(&tlv(0x06, OID_ED25519), &bits),
            bits,
        })
    } else {
        let oid_text = x509_parser::der_parser::oid::Oid::new(oid.into()).to_id_string();
        Err(format!(
            "unsupported key algorithm {oid_text} (RSA, EC and Ed25519 keys can be checked)"
        ))
    }
}

/// PKCS#1 RSAPrivateKey: the public key is (n, e), its second and third
/// INTEGERs.
fn pkcs1(der: &[u8]) -> Result<PublicKey, String> {
    let (body, _) = take(der, 0x30, "an RSAPrivateKey SEQUENCE")?;
    let (_, rest) = take(&body, 0x02, "the version")?;
    let (n, rest) = take(&rest, 0x02, "the modulus")?;
    let (e, rest) = take(&rest, 0x02, "the public exponent")?;
    take(&rest, 0x02, "the private exponent")?;
    let mut seq = tlv(0x02, &n);
    seq.extend(tlv(0x02, &e));
    let bits = tlv(0x30, &seq);
    let mut alg = tlv(0x06, OID_RSA);
    alg.extend([0x05, 0x00]);
    Ok(PublicKey {
        kind: "RSA",
        spki: spki(&alg, &bits),
        bits,
    })
}

/// SEC1 ECPrivateKey: the public point is the optional `[1]` field; the
/// curve is `[0]` or, in PKCS#8, the algorithm's parameter.
fn sec1(der: &[u8], curve: Option<Vec<u8>>) -> Result<PublicKey, String> {
    let (body, _) = take(der, 0x30, "an ECPrivateKey SEQUENCE")?;
    let (_, rest) = take(&body, 0x02, "the version")?;
    let (_, mut rest) = take(&rest, 0x04, "the private key OCTET STRING")?;
    let mut curve = curve;
    let mut point = None;
    while let Some((tag, content, after)) = read_tlv(&rest) {
        match tag {
            0xa0 => {
                if let Ok((c, _)) = take(content, 0x06, "the curve OID") {
                    curve = Some(c);
                }
            }
            0xa1 => {
                let (bs, _) = take(content, 0x03, "the public key BIT STRING")?;
                point = bs.get(1..).map(<[u8]>::to_vec);
            }
            _ => {}
        }
        rest = after.to_vec();
    }
    let bits = point.filter(|p| !p.is_empty()).ok_or_else(|| {
        "the EC private key does not include its public key; rewrite it with: openssl ec -in KEY -out full.key"
            .to_string()
    })?;
    let mut alg = tlv(0x06, OID_EC);
    if let Some(c) = &curve {
        alg.extend(tlv(0x06, c));
    }
    Ok(PublicKey {
        kind: "EC",
        spki: spki(&alg, &bits),
        bits,
    })
}

/// The subjectPublicKey bits of a certificate's SPKI.
fn spki_bits(spki_der: &[u8]) -> Option<Vec<u8>> {
    let (_, body, _) = read_tlv(spki_der)?;
    let (_, _, rest) = read_tlv(body)?;
    let (tag, bs, _) = read_tlv(rest)?;
    (tag == 0x03).then(|| bs.get(1..).map(<[u8]>::to_vec))?
}

/// SHA-256 of an SPKI in lower-case hex, as `openssl sha256` prints it.
fn fingerprint(spki: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, spki)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `key-mismatch` when the key's public half is not the leaf's.
fn key_finding(
    report: &Report,
    key_shown: &str,
    key: &PublicKey,
    ctx: &FixContext,
) -> Option<Finding> {
    let leaf = &report.chain.first()?.info;
    if spki_bits(&leaf.spki_der).as_deref() == Some(key.bits.as_slice()) {
        return None;
    }
    Some(Finding {
        code: Code::KeyMismatch,
        severity: Severity::Critical,
        cert: Some(0),
        title: "The private key does not belong to the certificate".into(),
        detail: format!(
            "The key in {key_shown} ({}) has the public key SHA-256 {}, the leaf certificate ({}, {}) has {}. A server given this pair refuses to start or fails every handshake.",
            key.kind,
            fingerprint(&key.spki),
            leaf.display_name(),
            leaf.key.describe(),
            fingerprint(&leaf.spki_der)
        ),
        clients: crate::diagnose::clients::clients(Code::KeyMismatch, false),
        fix: crate::diagnose::fix::steps(Code::KeyMismatch, ctx, &Facts::default()),
    })
}

// ---------------------------------------------------------------------------
// The TUI's `--file` rows

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(long.len(), 304);
    }

    #[test]
    fn garbage_keys_are_errors_not_panics() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x82\xff\xff",
            b"hello",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ] {
            assert!(public_key_of(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn rcgen_keys_match_their_certificates() {
        for alg in [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
            &rcgen::PKCS_ED25519,
        ] {
            let key = rcgen::KeyPair::generate_for(alg).expect("key");
            let got = public_key_of(key.serialize_pem().as_bytes()).expect("parses");
            let want = ::pem::parse(key.public_key_pem()).expect("public key PEM");
            assert_eq!(got.spki, want.contents(), "{alg:?}");
        }
    }

    #[test]
    fn file_fix_commands_read_the_file() {
        let mut ctx = FixContext::new("a.test:443".into(), "a.test".into());
        ctx.file = Some("my chain.pem".into());
        assert_eq!(
            ctx.reproduce(),
            "openssl verify -untrusted 'my chain.pem' -verify_hostname a.test 'my chain.pem'"
        );
        let steps = crate::diagnose::fix::steps(Code::ChainOrder, &ctx, &Facts::default());
        let cmds: Vec<&str> = steps.iter().filter_map(|s| s.command.as_deref()).collect();
        assert!(cmds[0].contains("-certfile 'my chain.pem'"), "{cmds:?}");
        assert!(!cmds.iter().any(|c| c.contains("s_client")), "{cmds:?}");
    }
}
