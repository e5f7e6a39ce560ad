//! `--format text`: a report readable at a glance. The status first, then the
//! root cause with what clients show and how to fix it, then the rest.
//! Severity is always spelled out, so it survives NO_COLOR and pipes.

use std::fmt::Write;

use crate::report::finding::{Finding, Severity, Status};
use crate::report::{Report, Source};

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn status(&self, s: Status) -> String {
        let (sym, word, code) = match s {
            Status::Ok => ("✓", "OK", "32;1"),
            Status::Warning => ("!", "WARNING", "33;1"),
            Status::Critical => ("✗", "CRITICAL", "31;1"),
            Status::Error => ("?", "ERROR", "35;1"),
        };
        self.wrap(code, &format!("{sym} {word}"))
    }
    fn severity(&self, s: Severity) -> String {
        let (sym, code) = match s {
            Severity::Info => ("i", "36"),
            Severity::Warning => ("!", "33"),
            Severity::Critical => ("✗", "31"),
        };
        self.wrap(code, sym)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
}

fn blame(r: &Report, f: &Finding) -> String {
    // On a multi-address target, where it was seen (unless everywhere).
    let at = if !r.endpoints.is_empty() && f.addresses.len() < r.endpoints.len() {
        format!(" · at {}", list_addresses(&f.addresses))
    } else {
        String::new()
    };
    format!("{}{at}", blame_cert(r, f))
}

/// "a, b and 3 more".
fn list_addresses(a: &[String]) -> String {
    let shown: Vec<&str> = a.iter().take(4).map(String::as_str).collect();
    let more = a.len().saturating_sub(4);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn blame_cert(r: &Report, f: &Finding) -> String {
    match f.cert {
        None => String::new(),
        Some(0) => " · leaf".to_string(),
        Some(i) => {
            let name = r
                .chain
                .get(i)
                .map(|c| c.info.display_name())
                .unwrap_or_default();
            format!(" · cert #{i} {name}")
        }
    }
}

/// Render one report.
pub fn render(r: &Report, color: bool) -> String {
    let p = Paint(color);
    let mut o = String::new();
    let mut facts = Vec::new();
    if !r.endpoints.is_empty() {
        let addrs: Vec<String> = r.endpoints.iter().map(|e| e.address.clone()).collect();
        facts.push(list_addresses(&addrs));
    } else if let Some(a) = r.address {
        facts.push(a.ip().to_string());
    }
    if let Some(p) = r.target.starttls {
        facts.push(format!("STARTTLS {p}"));
    }
    if let Some(t) = &r.tls {
        facts.push(t.version.clone());
    }
    if r.name != r.target.host.to_string() {
        facts.push(format!("name {}", r.name));
    }
    facts.push(format!("{} ms", r.elapsed_ms));
    let _ = writeln!(
        o,
        "{}  {}  {}",
        p.status(r.status),
        p.bold(&r.label),
        p.dim(&format!("({})", facts.join(", ")))
    );
    if let Some(d) = r.leaf_days_left()
        && r.status != Status::Error
    {
        let leaf = &r.chain[0].info;
        let _ = writeln!(
            o,
            "   leaf: {}, {} {}",
            leaf.display_name(),
            if d >= 0 { "expires" } else { "expired" },
            crate::report::rfc3339(leaf.not_after)
        );
    }
    for (n, f) in r.findings.iter().enumerate() {
        let head = format!(
            "{} {}  [{}{}]",
            p.severity(f.severity),
            f.title,
            f.code,
            blame(r, f)
        );
        if n == 0 {
            let _ = writeln!(o, "   {}", p.bold(&head));
            for line in wrap(&f.detail, 90) {
                let _ = writeln!(o, "     {line}");
            }
            if f.severity > Severity::Info && f.code != crate::report::finding::Code::ExpiringSoon {
                let _ = writeln!(
                    o,
                    "     {}",
                    p.dim(&format!(
                        "Chrome: {} · Firefox: {} · OpenSSL/curl: {}",
                        f.clients.chrome, f.clients.firefox, f.clients.openssl
                    ))
                );
            }
            for (k, step) in f.fix.iter().enumerate() {
                let _ = writeln!(o, "     {}. {}", k + 1, step.title);
                if let Some(c) = &step.command {
                    let _ = writeln!(o, "        $ {c}");
                }
            }
        } else {
            if n == 1 {
                let _ = writeln!(o, "   {}", p.dim("also:"));
            }
            let _ = writeln!(o, "   {head}");
            for line in wrap(&f.detail, 90) {
                let _ = writeln!(o, "     {}", p.dim(&line));
            }
        }
    }
    if r.findings.is_empty() {
        let _ = writeln!(o, "   no problems found");
    }
    if !r.chain.is_empty() {
        let parts: Vec<String> = r
            .chain
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let src = match c.source {
                    Source::Server | Source::File => "",
                    Source::Aia => " (fetched)",
                    Source::Store => " (trust store)",
                };
                format!("#{i} {}{src}", c.info.display_name())
            })
            .collect();
        let _ = writeln!(o, "   {}", p.dim(&format!("chain: {}", parts.join(" · "))));
    }
    o
}

/// The summary line from counts: [ok, warning, critical, error].
pub fn summary_of(counts: &[usize; 4]) -> String {
    let [ok, warning, critical, error] = *counts;
    format!(
        "{} targets: {ok} ok, {warning} warning, {critical} critical, {error} error",
        ok + warning + critical + error
    )
}

fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}
