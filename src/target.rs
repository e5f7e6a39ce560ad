//! Targets (`host`, `host:port`, `[v6]:port`, `https://host[:port]/...`) and
//! `--resolve HOST:PORT:ADDR` overrides. Everything here is untrusted input:
//! errors name the bad input and never panic.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Untrusted input echoed in a message: at most 100 characters, then `…`.
pub fn cut(s: &str) -> String {
    const MAX: usize = 100;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

/// The host part of a target: a validated DNS name or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// Lower-case ASCII DNS name without a trailing dot.
    Dns(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Dns(d) => f.write_str(d),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl Host {
    /// Parse and validate a host name or an IP address (IPv6 may be in brackets).
    pub fn parse(s: &str) -> Result<Host, String> {
        let t = s.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
        if let Some(inner) = t {
            return inner
                .parse::<Ipv6Addr>()
                .map(|ip| Host::Ip(IpAddr::V6(ip)))
                .map_err(|_| format!("{:?} is not a valid IPv6 address", cut(inner)));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        validate_dns_name(s).map(Host::Dns)
    }

    pub fn is_ip(&self) -> bool {
        matches!(self, Host::Ip(_))
    }
}

/// Validate a DNS name: ASCII letters, digits, `-` and `_`, labels of 1 to 63
/// characters, 253 in all. Returns the lower-cased name without a trailing dot.
pub fn validate_dns_name(s: &str) -> Result<String, String> {
    let shown = crate::util::sanitize::for_terminal(&cut(s));
    if s.is_empty() {
        return Err("the host name is empty".into());
    }
    if !s.is_ascii() {
        return Err(format!(
            "host name {shown:?} is not ASCII; give it in punycode (xn--...) form"
        ));
    }
    let name = s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase();
    if name.is_empty() || name.len() > 253 {
        return Err(format!("host name {shown:?} has an invalid length"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!("host name {shown:?} has an empty label"));
        }
        if label.len() > 63 {
            return Err(format!(
                "host name {shown:?} has a label longer than 63 characters"
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "host name {shown:?} contains the character {c:?}, which is not allowed in a host name"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "host name {shown:?} has a label that starts or ends with '-'"
            ));
        }
    }
    Ok(name)
}

/// One thing to probe.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// What the user typed (sanitized), for messages.
    pub input: String,
    pub host: Host,
    pub port: u16,
    /// Server name to send and verify (`--sni`); `None` = the host.
    pub sni: Option<String>,
    /// Addresses to connect to instead of resolving (`--resolve`); each
    /// is probed (unless only the first is asked for).
    pub connect_addrs: Vec<IpAddr>,
    /// STARTTLS protocol, when the connection starts in plaintext.
    pub starttls: Option<crate::target::Proto>,
    /// Free-form labels from a hosts file (empty otherwise).
    pub labels: Vec<String>,
    /// The deployed certificate file the server should present
    /// (`--expect-cert`, the hosts file's `expect-cert`).
    pub expect_cert: Option<std::path::PathBuf>,
    /// The deployed private key the served leaf should match.
    pub expect_key: Option<std::path::PathBuf>,
}

impl Target {
    /// Parse `host`, `host:port`, `[v6]:port`, a bare IPv6 address, or an
    /// `https://host[:port]/...` URL. `default_port` applies when none is given.
    pub fn parse(input: &str, default_port: u16) -> Result<Target, String> {
        let shown = crate::util::sanitize::for_terminal(&cut(input));
        let bad = |why: String| format!("invalid target {shown:?}: {why}");
        let s = input.trim();
        if s.is_empty() {
            return Err(bad("it is empty".into()));
        }
        let mut rest = s;
        let mut port = default_port;
        if let Some((scheme, after)) = s.split_once("://") {
            match scheme.to_ascii_lowercase().as_str() {
                "https" => {
                    rest = after;
                    port = 443;
                }
                other => {
                    return Err(bad(format!(
                        "the scheme {:?} is not supported (use https:// or host:port)",
                        crate::util::sanitize::for_terminal(other)
                    )));
                }
            }
            // Cut the path, query and fragment; refuse user info.
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            rest = &rest[..end];
            if rest.contains('@') {
                return Err(bad("user names in URLs are not supported".into()));
            }
        } else if s.contains('/') {
            return Err(bad(
                "use host, host:port, [v6]:port or an https:// URL".into()
            ));
        }
        let (host_s, port_s) = split_host_port(rest).map_err(bad)?;
        if let Some(p) = port_s {
            port = parse_port(p).map_err(bad)?;
        }
        let host = Host::parse(host_s).map_err(bad)?;
        Ok(Target {
            input: shown,
            host,
            port,
            sni: None,
            connect_addrs: Vec::new(),
            expect_cert: None,
            expect_key: None,
            starttls: None,
            labels: Vec::new(),
        })
    }

    /// The name sent in SNI and checked against the certificate, as text.
    pub fn verify_name(&self) -> String {
        match &self.sni {
            Some(s) => s.clone(),
            None => self.host.to_string(),
        }
    }

    /// `host:port`, with IPv6 addresses in brackets.
    pub fn host_port(&self) -> String {
        match &self.host {
            Host::Ip(IpAddr::V6(v6)) => format!("[{v6}]:{}", self.port),
            h => format!("{h}:{}", self.port),
        }
    }
}

fn split_host_port(s: &str) -> Result<(&str, Option<&str>), String> {
    if s.starts_with('[') {
        let close = s
            .find(']')
            .ok_or_else(|| "missing ']' after the IPv6 address".to_string())?;
        let host = &s[..=close];
        let after = &s[close + 1..];
        if after.is_empty() {
            return Ok((host, None));
        }
        let p = after
            .strip_prefix(':')
            .ok_or_else(|| "expected ':PORT' after ']'".to_string())?;
        return Ok((host, Some(p)));
    }
    match s.matches(':').count() {
        0 => Ok((s, None)),
        1 => {
            let (h, p) = s.split_once(':').unwrap_or((s, ""));
            Ok((h, Some(p)))
        }
        // A bare IPv6 address without a port.
        _ if s.parse::<Ipv6Addr>().is_ok() => Ok((s, None)),
        _ => Err("an IPv6 address with a port must be written [addr]:port".into()),
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) => Err("port 0 is not a usable port".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "{:?} is not a port number (1-65535)",
            crate::util::sanitize::for_terminal(p)
        )),
    }
}

/// At most this many addresses in one `--resolve` rule.
pub const MAX_RESOLVE_ADDRS: usize = 16;

/// One `--resolve HOST:PORT:ADDR[,ADDR...]` rule (curl's syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRule {
    pub host: Host,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

/// Parse a list of IP addresses (`a,b`, IPv6 optionally in brackets), as
/// `--resolve` and the hosts file's `resolve` take it; the error names
/// the bad element.
pub fn parse_addr_list(s: &str) -> Result<Vec<IpAddr>, String> {
    let mut out: Vec<IpAddr> = Vec::new();
    for part in s.split(',') {
        let p = part.trim();
        if p.is_empty() {
            return Err("an address in the list is empty".into());
        }
        let t = p
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(p);
        let ip = t.parse::<IpAddr>().map_err(|_| {
            format!(
                "{:?} is not an IP address",
                crate::util::sanitize::for_terminal(&p.chars().take(64).collect::<String>())
            )
        })?;
        if !out.contains(&ip) {
            out.push(ip);
        }
        if out.len() > MAX_RESOLVE_ADDRS {
            return Err(format!("more than {MAX_RESOLVE_ADDRS} addresses"));
        }
    }
    Ok(out)
}

impl ResolveRule {
    pub fn parse(s: &str) -> Result<ResolveRule, String> {
        let shown = crate::util::sanitize::for_terminal(&s.chars().take(200).collect::<String>());
        let bad = |why: &str| {
            format!("invalid --resolve {shown:?}: {why} (expected HOST:PORT:ADDR[,ADDR...])")
        };
        let (host_s, rest) = if s.starts_with('[') {
            let close = s.find(']').ok_or_else(|| bad("missing ']'"))?;
            let r = s[close + 1..]
                .strip_prefix(':')
                .ok_or_else(|| bad("missing ':PORT'"))?;
            (&s[..=close], r)
        } else {
            s.split_once(':')
                .ok_or_else(|| bad("missing ':PORT:ADDR'"))?
        };
        let (port_s, addr_s) = rest.split_once(':').ok_or_else(|| bad("missing ':ADDR'"))?;
        let host = Host::parse(host_s).map_err(|e| bad(&e))?;
        let port = parse_port(port_s).map_err(|e| bad(&e))?;
        let addrs = parse_addr_list(addr_s).map_err(|e| bad(&e))?;
        Ok(ResolveRule { host, port, addrs })
    }

    /// Apply the matching rule, if any, to a target.
    pub fn apply(rules: &[ResolveRule], t: &mut Target) {
        if let Some(r) = rules.iter().find(|r| r.host == t.host && r.port == t.port) {
            t.connect_addrs = r.addrs.clone();
        }
    }
}

/// The loopback address, used by the lab.
pub const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A protocol that starts in plaintext and upgrades to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Smtp,
    Imap,
    Pop3,
    Ftp,
    Xmpp,
    Ldap,
    Postgres,
    Mysql,
}

impl Proto {
    pub const ALL: [Proto; 8] = [
        Proto::Smtp,
        Proto::Imap,
        Proto::Pop3,
        Proto::Ftp,
        Proto::Xmpp,
        Proto::Ldap,
        Proto::Postgres,
        Proto::Mysql,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Proto::Smtp => "smtp",
            Proto::Imap => "imap",
            Proto::Pop3 => "pop3",
            Proto::Ftp => "ftp",
            Proto::Xmpp => "xmpp",
            Proto::Ldap => "ldap",
            Proto::Postgres => "postgres",
            Proto::Mysql => "mysql",
        }
    }

    /// The port the protocol's STARTTLS is usually offered on.
    pub fn default_port(self) -> u16 {
        match self {
            Proto::Smtp => 25,
            Proto::Imap => 143,
            Proto::Pop3 => 110,
            Proto::Ftp => 21,
            Proto::Xmpp => 5222,
            Proto::Ldap => 389,
            Proto::Postgres => 5432,
            Proto::Mysql => 3306,
        }
    }
}

impl std::str::FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Proto, String> {
        Proto::ALL
            .iter()
            .copied()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown STARTTLS protocol {:?} (choose from {})",
                    crate::util::sanitize::for_terminal(&cut(s)),
                    Proto::ALL.map(|p| p.name()).join(", ")
                )
            })
    }
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_forms() {
        let t = Target::parse("example.test", 443).unwrap();
        assert_eq!(
            (t.host.clone(), t.port),
            (Host::Dns("example.test".into()), 443)
        );
        let t = Target::parse("Example.TEST.:8443", 443).unwrap();
        assert_eq!(t.host_port(), "example.test:8443");
        let t = Target::parse("[::1]:8443", 443).unwrap();
        assert_eq!(t.host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(t.host_port(), "[::1]:8443");
        let t = Target::parse("::1", 443).unwrap();
        assert_eq!(t.port, 443);
        let t = Target::parse("https://a.test:9443/path?q=1", 25).unwrap();
        assert_eq!(t.host_port(), "a.test:9443");
        let t = Target::parse("https://a.test/x", 25).unwrap();
        assert_eq!(t.port, 443);
        let t = Target::parse("127.0.0.1:1", 443).unwrap();
        assert!(t.host.is_ip());
    }

    #[test]
    fn bad_targets_name_the_input() {
        for bad in [
            "",
            "a.test:0",
            "a.test:99999",
            "a.test:x",
            "ftp://a.test",
            "a..test",
            "a_b!.test",
            "-a.test",
            "[::1",
            "[::1]x",
            "1:2:3:zz",
            "https://user@a.test/",
            "a.test/path",
            "h\u{1b}[31m.test",
        ] {
            let e = Target::parse(bad, 443).unwrap_err();
            assert!(e.starts_with("invalid target"), "{bad:?} -> {e}");
            assert!(!e.contains('\u{1b}'), "escape leaked: {e:?}");
        }
        let long = format!("{}.test", "a".repeat(64));
        assert!(Target::parse(&long, 443).is_err());
    }

    #[test]
    fn resolve_rules() {
        let r = ResolveRule::parse("a.test:443:127.0.0.1").unwrap();
        assert_eq!(r.addrs, vec![LOOPBACK]);
        let r = ResolveRule::parse("a.test:443:[::1]").unwrap();
        assert_eq!(r.addrs, vec!["::1".parse::<IpAddr>().unwrap()]);
        let r = ResolveRule::parse("a.test:443:::1").unwrap();
        assert_eq!(r.addrs, vec!["::1".parse::<IpAddr>().unwrap()]);
        for bad in [
            "a.test",
            "a.test:443",
            "a.test:x:127.0.0.1",
            "a.test:443:nope",
            ":443:1.2.3.4",
        ] {
            let e = ResolveRule::parse(bad).unwrap_err();
            assert!(e.contains("--resolve"), "{e}");
        }
        let mut t = Target::parse("a.test:443", 443).unwrap();
        ResolveRule::apply(&[r], &mut t);
        assert_eq!(t.connect_addrs, vec!["::1".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn resolve_takes_a_list() {
        let r = ResolveRule::parse("a.test:443:127.0.0.1,127.0.0.2,[::1]").unwrap();
        let want: Vec<IpAddr> = ["127.0.0.1", "127.0.0.2", "::1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(r.addrs, want);
        let r = ResolveRule::parse("a.test:443:127.0.0.1,127.0.0.1").unwrap();
        assert_eq!(r.addrs.len(), 1, "duplicates are dropped");
        for (bad, says) in [
            ("a.test:443:127.0.0.1,", "empty"),
            ("a.test:443:,127.0.0.1", "empty"),
            ("a.test:443:127.0.0.1,nope", "\"nope\" is not an IP address"),
        ] {
            let e = ResolveRule::parse(bad).unwrap_err();
            assert!(e.contains(says) && e.contains("--resolve"), "{bad}: {e}");
        }
        let many: Vec<String> = (1..=17).map(|i| format!("127.0.0.{i}")).collect();
        let e = ResolveRule::parse(&format!("a.test:443:{}", many.join(","))).unwrap_err();
        assert!(e.contains("more than 16"), "{e}");
    }
}
