//! `http_proxy` / `no_proxy` from the environment.

use std::net::IpAddr;

use super::url::{Url, parse_url};
use crate::report::observation::FetchError;

/// The proxy settings from the environment.
#[derive(Debug, Clone, Default)]
pub(super) struct ProxyEnv {
    pub(super) http_proxy: Option<String>,
    pub(super) no_proxy: Option<String>,
}

impl ProxyEnv {
    pub(super) fn from_env() -> Self {
        let var = |lower: &str, upper: &str| {
            std::env::var(lower)
                .ok()
                .or_else(|| std::env::var(upper).ok())
                .filter(|v| !v.trim().is_empty())
        };
        ProxyEnv {
            http_proxy: var("http_proxy", "HTTP_PROXY"),
            no_proxy: var("no_proxy", "NO_PROXY"),
        }
    }

    /// The proxy to use for `url`, if any. Loopback hosts never go through
    /// a proxy.
    pub(super) fn proxy_for(&self, url: &Url) -> Result<Option<Url>, FetchError> {
        let Some(setting) = self
            .http_proxy
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        else {
            return Ok(None);
        };
        if is_loopback(&url.host)
            || self
                .no_proxy
                .as_deref()
                .is_some_and(|np| no_proxy_matches(np, &url.host))
        {
            return Ok(None);
        }
        let full = if setting.contains("://") {
            setting.to_string()
        } else {
            format!("http://{setting}")
        };
        // The setting may hold credentials: never quote it.
        parse_url(&full).map(Some).map_err(|_| {
            FetchError::BadUrl(
                "the http_proxy setting is not a usable http://host:port proxy URL".into(),
            )
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `no_proxy`: comma-separated host names or suffixes (`example.com`,
/// `.example.com`, `*.example.com`), IP addresses, or `*` for everything.
pub(super) fn no_proxy_matches(list: &str, host: &str) -> bool {
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches('*').trim_start_matches('.');
        let entry = entry
            .strip_prefix('[')
            .and_then(|e| e.strip_suffix(']'))
            .unwrap_or(entry)
            .to_ascii_lowercase();
        !entry.is_empty()
            && (host == entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|p| p.ends_with('.')))
    })
}
