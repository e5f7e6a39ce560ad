//! How far a fetch got, for the timeout message.

use std::fmt::Write as _;
use std::time::Duration;

use super::url::Url;

/// How far a fetch got, for the timeout message.
#[derive(Debug)]
pub(super) struct Progress {
    pub(super) first: String,
    url: String,
    redirects: usize,
    pub(super) stage: Stage,
    pub(super) got: usize,
    pub(super) expected: Option<usize>,
}

#[derive(Debug)]
pub(super) enum Stage {
    Resolve(String),
    Connect(String),
    Request,
    Head,
    Body,
}

impl Progress {
    pub(super) fn new(url: &Url) -> Self {
        Progress {
            first: url.to_string(),
            url: url.to_string(),
            redirects: 0,
            stage: Stage::Request,
            got: 0,
            expected: None,
        }
    }

    pub(super) fn at(&mut self, url: &Url, redirects: usize) {
        self.url = url.to_string();
        self.redirects = redirects;
        self.got = 0;
        self.expected = None;
    }

    pub(super) fn describe(&self, limit: Duration) -> String {
        let (url, d) = (&self.url, fmt_duration(limit));
        let mut s = match &self.stage {
            Stage::Resolve(host) => {
                format!("no response from {url} within {d}: resolving {host} did not finish")
            }
            Stage::Connect(addr) => {
                format!("no response from {url} within {d}: connecting to {addr} did not finish")
            }
            Stage::Request => {
                format!("no response from {url} within {d}: sending the request did not finish")
            }
            Stage::Head => format!(
                "no response from {url} within {d}: connected, but no complete response headers"
            ),
            Stage::Body => match self.expected {
                Some(n) => format!(
                    "no complete response from {url} within {d} (got {} of {n} bytes)",
                    self.got
                ),
                None => format!(
                    "no complete response from {url} within {d} (got {} bytes)",
                    self.got
                ),
            },
        };
        if self.redirects > 0 {
            let plural = if self.redirects == 1 { "" } else { "s" };
            let _ = write!(
                s,
                ", after {} redirect{plural} from {}",
                self.redirects, self.first
            );
        }
        s
    }
}

/// `2s`, `1.5s`, `250ms`.
pub(super) fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        let frac = format!("{:03}", ms % 1000);
        format!("{}.{}s", ms / 1000, frac.trim_end_matches('0'))
    }
}
