//! `http://` URLs: parsing, redirect `Location` resolution, dot segments.

use std::fmt;
use std::net::Ipv6Addr;

use super::{MAX_URL, shown};
use crate::report::observation::FetchError;

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Url {
    /// Lower-case host name or IP address (IPv6 without brackets).
    pub(super) host: String,
    pub(super) port: u16,
    /// Path and query, starting with `/`; no fragment.
    pub(super) target: String,
}

impl Url {
    /// `host[:port]` as in the Host header (port 80 left out).
    pub(super) fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.target)
    }
}

/// `scheme` and what follows its colon, when `s` starts with a valid scheme.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    (first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .then_some((scheme, rest))
}

/// Why `s` cannot go on a request line, if it cannot.
fn unusable_chars(s: &str) -> Option<&'static str> {
    let c = s.chars().find(|c| !c.is_ascii_graphic())?;
    Some(if c.is_whitespace() {
        "contains whitespace"
    } else if c.is_control() {
        "contains a control character"
    } else {
        "contains non-ASCII characters"
    })
}

/// Parse `http://host[:port][/path][?query][#fragment]`.
pub(super) fn parse_url(input: &str) -> Result<Url, FetchError> {
    let bad = |why: &str| FetchError::BadUrl(format!("{} ({why})", shown(input)));
    if input.len() > MAX_URL {
        return Err(bad("longer than 8 KiB"));
    }
    let Some((scheme, rest)) = split_scheme(input) else {
        return Err(bad("not an absolute http:// URL"));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(bad("only plain http:// URLs are fetched"));
    }
    if let Some(why) = unusable_chars(input) {
        return Err(bad(why));
    }
    let rest = rest
        .strip_prefix("//")
        .ok_or_else(|| bad("no //host after http:"))?;
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (authority, target) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(bad("user names in URLs are not supported"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in the host"))?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| bad("not an IPv6 address inside [ ]"))?;
        (ip.to_string(), after)
    } else {
        let (host, port) = authority.split_at(authority.find(':').unwrap_or(authority.len()));
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(bad("invalid character in the host name"));
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => 80,
        None => return Err(bad("unexpected text after the host")),
        Some("") => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad("invalid port")),
        },
    };
    let target = if target.is_empty() {
        "/".to_string()
    } else if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_string()
    };
    Ok(Url { host, port, target })
}

/// Resolve a `Location` value against the URL it came from.
pub(super) fn join(base: &Url, location: &str) -> Result<Url, FetchError> {
    let loc = location.trim();
    if loc.starts_with("//") {
        return parse_url(&format!("http:{loc}"));
    }
    if split_scheme(loc).is_some() {
        return parse_url(loc);
    }
    if let Some(why) = unusable_chars(loc) {
        return Err(FetchError::BadUrl(format!(
            "redirect from {base} to {} ({why})",
            shown(loc)
        )));
    }
    let loc = loc.split_once('#').map_or(loc, |(l, _)| l);
    let path = base
        .target
        .split_once('?')
        .map_or(base.target.as_str(), |(p, _)| p);
    let target = if loc.is_empty() {
        base.target.clone()
    } else if loc.starts_with('/') {
        loc.to_string()
    } else if loc.starts_with('?') {
        format!("{path}{loc}")
    } else {
        let dir = path
            .get(..path.rfind('/').map_or(0, |i| i + 1))
            .unwrap_or("/");
        format!("{dir}{loc}")
    };
    Ok(Url {
        host: base.host.clone(),
        port: base.port,
        target: remove_dot_segments(&target),
    })
}

/// RFC 3986 §5.2.4 for a target starting with `/` (the query is kept).
pub(super) fn remove_dot_segments(target: &str) -> String {
    let (path, query) = target.split_at(target.find('?').unwrap_or(target.len()));
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {}
            ".." => {
                out.pop();
            }
            s => {
                out.push(s);
                continue;
            }
        }
        if last {
            out.push("");
        }
    }
    format!("/{}{query}", out.join("/"))
}
