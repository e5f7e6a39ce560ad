//! `certscope serve --config FILE`: the probe modules and the target
//! allowlist (TOML, kebab-case keys like the hosts file; unknown keys are
//! an error naming the file).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::cli::ProbeArgs;
use crate::config::settings::{OneOrMany, line_of};
use crate::diagnose::DiagnoseOptions;
use crate::fetch::EnrichOptions;
use crate::probe::ProbeOptions;
use crate::run::CheckOptions;
use crate::target::{Host, Proto, validate_dns_name};
use crate::util::sanitize::for_terminal;
use crate::x509::trust::{StoreKind, TrustStore};

/// A commented example, printed by `certscope example-serve`.
pub const EXAMPLE: &str = r#"# certscope serve configuration (TOML): probe modules and the target allowlist.
#
#   certscope serve --config serve.toml [--hosts-file hosts.toml]
#
# Unknown keys are an error. Relative paths are relative to this file.

# Which targets /probe may connect to. Without an allowlist (here, --allow
# or a hosts file), every target is refused with 403: the exporter would
# otherwise let anyone who reaches it make connections from its network.
# Targets listed in --hosts-file are always allowed.
[allow]
hosts = ["example.com", "*.example.com"]   # exact names; "*." allows every name below
networks = ["192.0.2.0/24", "2001:db8::/32"]  # IP targets in these networks

# Modules: GET /probe?target=HOST:PORT&module=NAME. A key left out takes the
# command line's value (--timeout, --trust-store, --ca-file, ...).
# `default` is used when the request names no module.
[module.default]
# timeout = 10                # seconds per network step (also capped by the scrape timeout)
# trust-store = "mozilla"     # mozilla, system or none
# ca-file = ["/etc/ssl/private-ca.pem"]   # extra trust anchors (PEM); a file or a list
# no-revocation = false       # skip CRL and OCSP lookups
# no-aia = false              # do not fetch missing intermediates
# warn-days = 30
# crit-days = 7

[module.smtp]
starttls = "smtp"             # smtp, imap, pop3, ftp, xmpp, ldap, postgres or mysql
timeout = 5

# Servers of a private CA: trust only its root (uncomment with your file).
[module.internal]
no-revocation = true
# trust-store = "none"
# ca-file = "corp-root.pem"
# sni = "portal.example.test" # the name to send and verify (default: the target's host)
"#;

/// Config files larger than this are refused.
const MAX_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileSpec {
    allow: Option<AllowSpec>,
    #[serde(default)]
    module: BTreeMap<String, ModuleSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AllowSpec {
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    networks: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ModuleSpec {
    sni: Option<String>,
    starttls: Option<String>,
    #[serde(default)]
    ca_file: OneOrMany,
    trust_store: Option<String>,
    timeout: Option<f64>,
    no_revocation: Option<bool>,
    no_aia: Option<bool>,
    warn_days: Option<u32>,
    crit_days: Option<u32>,
}

/// One probe module, ready to use.
#[derive(Clone)]
pub struct Module {
    pub name: String,
    pub opts: CheckOptions,
    pub trust: Arc<TrustStore>,
    pub sni: Option<String>,
    pub starttls: Option<Proto>,
    /// Per network step.
    pub timeout: Duration,
}

impl Module {
    /// The port a target without one gets.
    pub fn default_port(&self) -> u16 {
        self.starttls.map_or(443, |p| p.default_port())
    }
}

/// Which targets `/probe` may connect to.
#[derive(Debug, Clone, Default)]
pub struct Allow {
    /// Exact lower-case names.
    names: Vec<String>,
    /// `*.suffix`: the suffix with its leading dot (`.example.com`).
    suffixes: Vec<String>,
    networks: Vec<ipnet::IpNet>,
}

impl Allow {
    /// Add a host pattern (`name`, `*.name`), an IP address or a network
    /// (`10.0.0.0/8`); the error names the pattern.
    pub fn add(&mut self, pattern: &str) -> Result<(), String> {
        let p = pattern.trim();
        let shown = for_terminal(pattern);
        if p.contains('/') {
            let net: ipnet::IpNet = p.parse().map_err(|_| {
                format!("invalid network {shown:?} in the allowlist: expected e.g. 10.0.0.0/8")
            })?;
            self.networks.push(net.trunc());
            return Ok(());
        }
        if let Ok(ip) = p
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            self.networks.push(ipnet::IpNet::from(ip));
            return Ok(());
        }
        let (wild, name) = match p.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        let name = validate_dns_name(name).map_err(|e| {
            format!(
                "invalid host pattern {shown:?} in the allowlist ({e}); expected a name or *.name"
            )
        })?;
        if wild {
            self.suffixes.push(format!(".{name}"));
        } else {
            self.names.push(name);
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.suffixes.is_empty() && self.networks.is_empty()
    }

    /// Whether `host` may be probed.
    pub fn allows(&self, host: &Host) -> bool {
        match host {
            Host::Ip(ip) => self.networks.iter().any(|n| n.contains(ip)),
            Host::Dns(name) => {
                self.names.iter().any(|n| n == name)
                    || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
            }
        }
    }
}

/// The modules (by name; `default` always exists) and the allowlist.
pub struct ServeConfig {
    pub modules: BTreeMap<String, Module>,
    pub allow: Allow,
}

/// Build the modules from the command line's probe options and, when
/// given, the config file (whose keys win); `allow` adds `--allow`
/// patterns. Errors name the file and the bad key or value.
pub fn load(
    path: Option<&Path>,
    args: &ProbeArgs,
    allow: &[String],
) -> Result<ServeConfig, String> {
    let (spec, shown, dir) = match path {
        None => (FileSpec::default(), String::new(), PathBuf::new()),
        Some(p) => {
            let shown = for_terminal(&p.display().to_string());
            let meta = std::fs::metadata(p)
                .map_err(|e| format!("cannot read config file {shown}: {e}"))?;
            if meta.len() > MAX_BYTES {
                return Err(format!(
                    "config file {shown} is larger than {MAX_BYTES} bytes"
                ));
            }
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read config file {shown}: {e}"))?;
            let spec: FileSpec = toml::from_str(&text).map_err(|e| {
                let msg = e.message().trim().to_string();
                match e.span().map(|s| line_of(&text, s.start)) {
                    Some(line) => format!("config file {shown}, line {line}: {msg}"),
                    None => format!("config file {shown}: {msg}"),
                }
            })?;
            let dir = p.parent().unwrap_or(Path::new("")).to_path_buf();
            (spec, shown, dir)
        }
    };
    let mut a = Allow::default();
    if let Some(spec) = &spec.allow {
        for p in spec.hosts.iter().chain(&spec.networks) {
            a.add(p).map_err(|e| format!("config file {shown}: {e}"))?;
        }
    }
    for p in allow {
        a.add(p).map_err(|e| format!("--allow: {e}"))?;
    }
    // The command line's store, shared by modules that keep it.
    let base = Arc::new(TrustStore::load(args.trust_store, &args.ca_file)?);
    let mut modules = BTreeMap::new();
    let mut specs = spec.module;
    specs.entry("default".to_string()).or_default();
    for (name, m) in specs {
        let module = build_module(&name, &m, args, &base, &dir)
            .map_err(|e| format!("config file {shown}, [module.{}]: {e}", for_terminal(&name)))?;
        modules.insert(name, module);
    }
    Ok(ServeConfig { modules, allow: a })
}

fn build_module(
    name: &str,
    m: &ModuleSpec,
    args: &ProbeArgs,
    base: &Arc<TrustStore>,
    dir: &Path,
) -> Result<Module, String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("module names are 1 to 64 letters, digits, - or _".into());
    }
    let sni = match m.sni.as_deref().or(args.sni.as_deref()) {
        None => None,
        Some(s) => Some(
            Host::parse(s)
                .map_err(|e| format!("invalid sni: {e}"))?
                .to_string(),
        ),
    };
    let starttls = match &m.starttls {
        Some(s) => Some(s.parse::<Proto>().map_err(|e| format!("starttls: {e}"))?),
        None => args.starttls,
    };
    let timeout = m.timeout.unwrap_or(args.timeout);
    if !(timeout.is_finite() && timeout > 0.0 && timeout <= 3600.0) {
        return Err("timeout: expected a number of seconds between 0 and 3600".into());
    }
    let timeout = Duration::from_secs_f64(timeout);
    let ca_files: Vec<PathBuf> = m.ca_file.paths(dir);
    let trust = match (&m.trust_store, ca_files.is_empty()) {
        (None, true) => base.clone(),
        (kind, _) => {
            let kind = match kind {
                Some(k) => k
                    .parse::<StoreKind>()
                    .map_err(|e| format!("trust-store: {e}"))?,
                None => args.trust_store,
            };
            let mut files = args.ca_file.clone();
            files.extend(ca_files);
            Arc::new(TrustStore::load(kind, &files)?)
        }
    };
    let opts = CheckOptions {
        probe: ProbeOptions {
            timeout,
            every_address: !args.first_address_only,
            compare_no_sni: args.compare_no_sni,
            send_sni: true,
        },
        diagnose: DiagnoseOptions {
            warn_days: m.warn_days.or(args.warn_days),
            crit_days: m.crit_days.or(args.crit_days),
            skip_name: false,
        },
        enrich: EnrichOptions {
            aia: !m.no_aia.unwrap_or(args.no_aia),
            revocation: !m.no_revocation.unwrap_or(args.no_revocation),
            timeout,
            at: args.at,
            ..EnrichOptions::default()
        },
        at: args.at,
    };
    Ok(Module {
        name: name.to_string(),
        opts,
        trust,
        sni,
        starttls,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_patterns() {
        let mut a = Allow::default();
        for p in [
            "example.com",
            "*.lab.test",
            "10.0.0.0/8",
            "::1",
            "192.0.2.7",
        ] {
            a.add(p).unwrap();
        }
        let ok = |s: &str| a.allows(&Host::parse(s).unwrap());
        assert!(ok("example.com"));
        assert!(!ok("www.example.com"), "an exact name allows only itself");
        assert!(ok("a.lab.test") && ok("deep.a.lab.test"));
        assert!(!ok("lab.test"), "*. does not allow the name itself");
        assert!(!ok("evillab.test"));
        assert!(ok("10.1.2.3") && ok("[::1]") && ok("192.0.2.7"));
        assert!(!ok("11.0.0.1") && !ok("192.0.2.8"));
        for bad in ["*", "10.0.0.0/33", "a b", "*.*.x", ""] {
            assert!(a.add(bad).is_err(), "{bad:?} accepted");
        }
    }

    fn args() -> ProbeArgs {
        crate::cli::demo_probe_args()
    }

    #[test]
    fn modules_from_a_file_inherit_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("serve.toml");
        std::fs::write(
            &p,
            "[allow]\nhosts = [\"*.lab.test\"]\n[module.smtp]\nstarttls = \"smtp\"\ntimeout = 2\nwarn-days = 40\n",
        )
        .unwrap();
        let c = load(Some(&p), &args(), &["127.0.0.0/8".into()]).unwrap();
        let smtp = &c.modules["smtp"];
        assert_eq!(smtp.default_port(), 25);
        assert_eq!(smtp.timeout, Duration::from_secs(2));
        assert_eq!(smtp.opts.diagnose.warn_days, Some(40));
        let d = &c.modules["default"];
        assert_eq!(
            d.timeout,
            Duration::from_secs(3),
            "the command line's timeout"
        );
        assert!(c.allow.allows(&Host::parse("x.lab.test").unwrap()));
        assert!(c.allow.allows(&Host::parse("127.0.0.9").unwrap()));
    }

    #[test]
    fn the_example_loads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("serve.toml");
        std::fs::write(&p, EXAMPLE).unwrap();
        let c = load(Some(&p), &args(), &[]).unwrap();
        let names: Vec<&str> = c.modules.keys().map(String::as_str).collect();
        assert_eq!(names, ["default", "internal", "smtp"]);
        assert!(!c.modules["internal"].opts.enrich.revocation);
        assert!(c.allow.allows(&Host::parse("www.example.com").unwrap()));
        assert!(c.allow.allows(&Host::parse("192.0.2.9").unwrap()));
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("serve.toml");
        std::fs::write(&p, "[module.x]\ntimeuot = 2\n").unwrap();
        let e = load(Some(&p), &args(), &[]).err().unwrap();
        assert!(
            e.contains("serve.toml") && e.contains("line 2") && e.contains("timeuot"),
            "{e}"
        );
        std::fs::write(&p, "[module.x]\nstarttls = \"gopher\"\n").unwrap();
        let e = load(Some(&p), &args(), &[]).err().unwrap();
        assert!(e.contains("[module.x]") && e.contains("gopher"), "{e}");
        std::fs::write(&p, "[allow]\nnetworks = [\"10.0.0.0/99\"]\n").unwrap();
        let e = load(Some(&p), &args(), &[]).err().unwrap();
        assert!(e.contains("10.0.0.0/99"), "{e}");
        let e = load(Some(&dir.path().join("none.toml")), &args(), &[])
            .err()
            .unwrap();
        assert!(e.contains("none.toml"), "{e}");
    }
}
