//! `GET /`: a small HTML page of recent probes and watched targets, each
//! linking to its JSON report. Every value is HTML-escaped.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use crate::report::Report;

/// Escape text for HTML element content and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a query value (everything but RFC 3986 unreserved).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn row(out: &mut String, module: Option<&str>, r: &Report) {
    let key = r.target.host_port();
    let mut link = format!("/report?target={}", url_encode(&key));
    if let Some(m) = module {
        let _ = write!(link, "&amp;module={}", url_encode(m));
    }
    let why = r
        .root_cause()
        .map(|f| f.title.as_str())
        .unwrap_or("no problem found");
    let days = r
        .leaf_days_left()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<tr class=\"{st}\"><td><a href=\"{link}\">{t}</a></td><td>{m}</td><td>{st}</td><td>{days}</td><td>{why}</td><td>{at}</td></tr>",
        st = r.status.as_str(),
        t = html(&key),
        m = html(module.unwrap_or("")),
        why = html(why),
        at = html(&crate::report::rfc3339(r.checked_at)),
    );
}

const HEAD: &str = "<tr><th>target</th><th>module</th><th>status</th><th>days left</th><th>why</th><th>checked</th></tr>";

/// The page: recent probes (newest first), then the watched targets.
pub fn render(
    recent: &[(String, Arc<Report>)],
    watched: &[Arc<Report>],
    interval: Option<Duration>,
) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>certscope serve</title>\
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}\
.critical td:nth-child(3),.error td:nth-child(3){color:#b00}.warning td:nth-child(3){color:#a60}\
.ok td:nth-child(3){color:#070}</style></head><body>\n<h1>certscope serve</h1>\n\
<p>Probe: <code>/probe?target=HOST:PORT&amp;module=NAME</code> · \
<a href=\"/metrics\">/metrics</a> (the exporter's health)</p>\n",
    );
    let _ = writeln!(out, "<h2>Recent probes ({})</h2>", recent.len());
    if recent.is_empty() {
        out.push_str("<p>None yet.</p>\n");
    } else {
        let _ = writeln!(out, "<table>{HEAD}");
        for (m, r) in recent {
            row(&mut out, Some(m), r);
        }
        out.push_str("</table>\n");
    }
    if let Some(iv) = interval {
        let _ = writeln!(
            out,
            "<h2>Watched targets ({}; every {} s)</h2>\n<table>{HEAD}",
            watched.len(),
            iv.as_secs()
        );
        for r in watched {
            row(&mut out, None, r);
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            html("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(html("a\u{1b}b"), "a?b");
        assert_eq!(url_encode("[::1]:443"), "%5B%3A%3A1%5D%3A443");
        assert_eq!(url_encode("a.test:443"), "a.test%3A443");
    }
}
