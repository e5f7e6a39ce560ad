//! `--format text`: a report readable at a glance. The status first, then the
//! root cause with what clients show and how to fix it, then the rest.
//! Severity is always spelled out, so it survives NO_COLOR and pipes.
//!
//! Every line fits the width it is rendered for: prose wraps at word
//! boundaries, and a command wraps at the spaces between its shell words
//! with a trailing ` \`, so the copied lines still run as one command. Only
//! a word that cannot be broken (a URL, a quoted shell word) may overflow.

use std::fmt::Write;

use crate::report::finding::{Finding, Severity, Status};
use crate::report::{Report, Source};

/// The width when neither the caller nor `COLUMNS` says.
pub const DEFAULT_WIDTH: usize = 100;

/// Below this many columns for the text itself, wrapping gives up being
/// useful; lines keep at least this much room.
const MIN_ROOM: usize = 16;

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 && !code.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

const BOLD: &str = "1";
const DIM: &str = "2";
const PLAIN: &str = "";

fn status_mark(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Ok => ("✓ OK", "32;1"),
        Status::Warning => ("! WARNING", "33;1"),
        Status::Critical => ("✗ CRITICAL", "31;1"),
        Status::Error => ("? ERROR", "35;1"),
    }
}

fn severity_mark(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Info => ("i", "36"),
        Severity::Warning => ("!", "33"),
        Severity::Critical => ("✗", "31"),
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
    crate::util::sanitize::and_more(a, 4, ", ")
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

/// The width from the `COLUMNS` environment variable, else
/// [`DEFAULT_WIDTH`].
pub fn env_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
        .unwrap_or(DEFAULT_WIDTH)
}

/// Render one report at the width `COLUMNS` says (or [`DEFAULT_WIDTH`]).
pub fn render(r: &Report, color: bool) -> String {
    render_width(r, color, env_width())
}

/// A day for people: `2027-06-01`, or the full instant when it is not
/// midnight UTC.
fn day(t: i64) -> String {
    let full = crate::report::rfc3339(t);
    if t.rem_euclid(86_400) == 0 {
        full.get(..10).map(str::to_string).unwrap_or(full)
    } else {
        full
    }
}

/// Render one report with every line at most `width` columns wide (but for
/// words that cannot be broken).
pub fn render_width(r: &Report, color: bool, width: usize) -> String {
    // Certificate text is raw in reports: render the terminal-safe copy.
    let r = &r.for_terminal();
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
    if r.evaluated_at != r.checked_at {
        facts.push(format!("judged as of {}", day(r.evaluated_at)));
    }
    facts.push(format!("{} ms", r.elapsed_ms));
    let (mark, code) = status_mark(r.status);
    let mut head = Line::new();
    head.add(mark, code, 0);
    head.add(&r.label, BOLD, 2);
    head.add(&format!("({})", facts.join(", ")), DIM, 2);
    head.emit(&mut o, &p, 0, 3, width);
    if let Some(leaf) = r.chain.first().map(|c| &c.info)
        && r.status != Status::Error
    {
        // The tense of the time of the check; an instant judged (--at) is
        // in the header and the findings.
        let expired = leaf.not_after < r.checked_at;
        let mut line = Line::new();
        line.add(
            &format!(
                "leaf: {}, {} {}",
                leaf.display_name(),
                if expired { "expired" } else { "expires" },
                crate::report::rfc3339(leaf.not_after)
            ),
            PLAIN,
            0,
        );
        line.emit(&mut o, &p, 3, 9, width);
    }
    for (n, f) in r.findings.iter().enumerate() {
        let (sym, sev) = severity_mark(f.severity);
        let style = if n == 0 { BOLD } else { PLAIN };
        let mut head = Line::new();
        head.add(sym, sev, 0);
        head.add(&f.title, style, 1);
        head.add(&format!("[{}{}]", f.code, blame(r, f)), style, 2);
        if n == 1 {
            let mut also = Line::new();
            also.add("also:", DIM, 0);
            also.emit(&mut o, &p, 3, 3, width);
        }
        head.emit(&mut o, &p, 3, 5, width);
        let mut detail = Line::new();
        detail.add(&f.detail, if n == 0 { PLAIN } else { DIM }, 0);
        detail.emit(&mut o, &p, 5, 5, width);
        if n > 0 {
            continue;
        }
        if f.severity > Severity::Info && f.code != crate::report::finding::Code::ExpiringSoon {
            let mut clients = Line::new();
            clients.add(
                &format!(
                    "Chrome: {} · Firefox: {} · OpenSSL/curl: {}",
                    f.clients.chrome, f.clients.firefox, f.clients.openssl
                ),
                DIM,
                0,
            );
            clients.emit(&mut o, &p, 5, 7, width);
        }
        for (k, step) in f.fix.iter().enumerate() {
            let mut title = Line::new();
            title.add(&format!("{}.", k + 1), PLAIN, 0);
            title.add(&step.title, PLAIN, 1);
            title.emit(&mut o, &p, 5, 8, width);
            if let Some(c) = &step.command {
                for line in command_lines(c, 8, width) {
                    let _ = writeln!(o, "{line}");
                }
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
        let mut chain = Line::new();
        chain.add(&format!("chain: {}", parts.join(" · ")), DIM, 0);
        chain.emit(&mut o, &p, 3, 10, width);
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

fn cols(s: &str) -> usize {
    s.chars().count()
}

/// One word of a line: its text, its style (an SGR code, "" for none) and
/// the spaces before it when it does not start a line (0 for the pieces
/// of a word broken in two).
struct Piece {
    text: String,
    style: &'static str,
    gap: usize,
}

/// A logical line, as words, wrapped when emitted.
struct Line {
    pieces: Vec<Piece>,
}

impl Line {
    fn new() -> Line {
        Line { pieces: Vec::new() }
    }

    /// Add `text`'s words in `style`, `gap` spaces after what is there.
    fn add(&mut self, text: &str, style: &'static str, gap: usize) {
        for (k, w) in text.split_whitespace().enumerate() {
            self.pieces.push(Piece {
                text: w.to_string(),
                style,
                gap: if k == 0 { gap } else { 1 },
            });
        }
    }

    /// Write the line wrapped at `width`: the first row indented by
    /// `first`, the rows after it by `rest`.
    fn emit(self, o: &mut String, p: &Paint, first: usize, rest: usize, width: usize) {
        let room = width.saturating_sub(rest).max(MIN_ROOM);
        let pieces = self
            .pieces
            .into_iter()
            .flat_map(|piece| break_word(piece, room))
            .collect::<Vec<_>>();
        let mut rows: Vec<(usize, Vec<Piece>)> = Vec::new();
        let mut indent = first;
        let mut used = 0usize;
        let mut row: Vec<Piece> = Vec::new();
        for piece in pieces {
            let len = cols(&piece.text);
            let limit = width.saturating_sub(indent).max(MIN_ROOM);
            if !row.is_empty() && used + piece.gap + len > limit {
                rows.push((indent, std::mem::take(&mut row)));
                indent = rest;
                used = 0;
            }
            used += if row.is_empty() { len } else { piece.gap + len };
            row.push(piece);
        }
        if !row.is_empty() {
            rows.push((indent, row));
        }
        for (indent, row) in rows {
            let _ = writeln!(o, "{}{}", " ".repeat(indent), paint_row(&row, p));
        }
    }
}

/// A row's words, each run of one style painted once.
fn paint_row(row: &[Piece], p: &Paint) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let mut style = PLAIN;
    for (k, piece) in row.iter().enumerate() {
        let gap = if k == 0 { 0 } else { piece.gap };
        if k > 0 && piece.style != style {
            out.push_str(&p.wrap(style, &run));
            run.clear();
            out.push_str(&" ".repeat(gap));
        } else {
            run.push_str(&" ".repeat(gap));
        }
        style = piece.style;
        run.push_str(&piece.text);
    }
    out.push_str(&p.wrap(style, &run));
    out
}

/// A word longer than `room` in pieces that fit, broken after `:`, `/`,
/// `,`, `-` or `.` where it can be (a fingerprint after a colon), else
/// anywhere. A URL is never broken: copied, it must still work.
fn break_word(piece: Piece, room: usize) -> Vec<Piece> {
    if cols(&piece.text) <= room || piece.text.contains("://") {
        return vec![piece];
    }
    let chars: Vec<char> = piece.text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let end = (start + room).min(chars.len());
        let cut = if end == chars.len() {
            end
        } else {
            (start + 1..end)
                .rev()
                .find(|&i| matches!(chars[i - 1], ':' | '/' | ',' | '-' | '.'))
                .unwrap_or(end)
        };
        out.push(Piece {
            text: chars[start..cut].iter().collect(),
            style: piece.style,
            gap: if start == 0 { piece.gap } else { 0 },
        });
        start = cut;
    }
    out
}

/// The shell words of `cmd`: split at blanks outside quotes, each word
/// with its quotes, so joining them with spaces gives the same command.
fn shell_words(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut single, mut double, mut escaped) = (false, false, false);
    for c in cmd.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if !single => {
                escaped = true;
                cur.push(c);
            }
            '\'' if !double => {
                single = !single;
                cur.push(c);
            }
            '"' if !single => {
                double = !double;
                cur.push(c);
            }
            c if c.is_whitespace() && !single && !double => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// A word an option may take as its value: not an option itself, not a
/// redirection or an operator (`|`, `;`, `&&`, `</dev/null`, `2>/dev/null`).
fn operand(w: &str) -> bool {
    let redirect = matches!(w.as_bytes(), [d, b'>', ..] if d.is_ascii_digit());
    let operator = w.starts_with(['-', '|', '&', ';', '<', '>', '(', ')']);
    !redirect && !operator
}

/// The shell words of `cmd` in units kept on one row when they fit: an
/// option with its value (`-servername a.test`), else a word alone.
fn command_units(cmd: &str) -> Vec<Vec<String>> {
    let mut units: Vec<Vec<String>> = Vec::new();
    let mut option = false;
    for w in shell_words(cmd) {
        match units.last_mut() {
            Some(last) if option && operand(&w) => {
                last.push(w);
                option = false;
            }
            _ => {
                option = w.starts_with('-') && w.len() > 1;
                units.push(vec![w]);
            }
        }
    }
    units
}

/// `$ cmd` at `indent`, wrapped at `width` between shell words: every row
/// but the last ends in ` \` (a line continuation), the rows after the
/// first line up under the command. An option stays with its value where
/// they fit; a word wider than a row stays whole.
fn command_lines(cmd: &str, indent: usize, width: usize) -> Vec<String> {
    let text_at = indent + 2;
    // Room for the words of a row, keeping two columns for " \".
    let room = width.saturating_sub(text_at + 2).max(MIN_ROOM);
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for unit in command_units(cmd) {
        // A unit too wide for any row goes word by word.
        let joined = unit.join(" ");
        let parts: Vec<String> = if cols(&joined) > room {
            unit
        } else {
            vec![joined]
        };
        for w in parts {
            if !row.is_empty() && cols(&row) + 1 + cols(&w) > room {
                rows.push(std::mem::take(&mut row));
            }
            if !row.is_empty() {
                row.push(' ');
            }
            row.push_str(&w);
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    let last = rows.len() - 1;
    rows.into_iter()
        .enumerate()
        .map(|(k, row)| {
            let lead = if k == 0 {
                format!("{}$ ", " ".repeat(indent))
            } else {
                " ".repeat(text_at)
            };
            let tail = if k < last { " \\" } else { "" };
            format!("{lead}{row}{tail}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_wrap_between_shell_words_and_still_run() {
        let cmd = "openssl s_client -connect 'a b.test:443' -servername a.test </dev/null 2>/dev/null | openssl x509 -noout -subject -dates";
        let lines = command_lines(cmd, 8, 40);
        assert!(lines.len() > 2, "{lines:#?}");
        for l in &lines {
            assert!(cols(l) <= 40, "{l:?} is wider than 40");
        }
        assert!(lines[0].starts_with("        $ openssl"), "{lines:#?}");
        assert!(lines[..lines.len() - 1].iter().all(|l| l.ends_with(" \\")));
        assert!(!lines[lines.len() - 1].ends_with('\\'));
        assert!(
            lines.iter().any(|l| l.contains("'a b.test:443'")),
            "a quoted word is never split: {lines:#?}"
        );
        // What the shell reads back: the continuations joined.
        let joined = lines
            .iter()
            .map(|l| {
                l.trim_start()
                    .trim_start_matches("$ ")
                    .trim_end_matches(" \\")
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(joined, cmd);
    }

    #[test]
    fn an_option_stays_with_its_value() {
        let cmd = "openssl s_client -connect 127.0.0.1:33721 -servername expired.lab.test </dev/null 2>/dev/null | openssl x509 -noout -subject -dates";
        let lines = command_lines(cmd, 8, 80);
        assert_eq!(
            lines,
            vec![
                "        $ openssl s_client -connect 127.0.0.1:33721 \\",
                "          -servername expired.lab.test </dev/null 2>/dev/null | openssl x509 \\",
                "          -noout -subject -dates",
            ]
        );
        let units: Vec<String> = command_units("nc -vz -w 5 a.test 443 2>&1 | head -n 3")
            .iter()
            .map(|u| u.join(" "))
            .collect();
        assert_eq!(
            units,
            [
                "nc", "-vz", "-w 5", "a.test", "443", "2>&1", "|", "head", "-n 3"
            ]
        );
    }

    #[test]
    fn a_wrapped_command_pasted_into_sh_does_what_the_whole_one_does() {
        let cmd = "printf '%s|' -a one 'two words' \"three \\\" quoted\" 'it'\\''s' four five six seven eight nine ten";
        let lines = command_lines(cmd, 8, 36);
        assert!(lines.len() > 3, "{lines:#?}");
        // What a user copies: the rows, without the "$ " prompt.
        let pasted: Vec<&str> = lines
            .iter()
            .enumerate()
            .map(|(k, l)| {
                if k == 0 {
                    l.trim_start().trim_start_matches("$ ")
                } else {
                    l.as_str()
                }
            })
            .collect();
        let sh = |script: &str| {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .output()
                .expect("sh runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let whole = sh(cmd);
        assert_eq!(
            whole,
            "-a|one|two words|three \" quoted|it's|four|five|six|seven|eight|nine|ten|"
        );
        assert_eq!(sh(&pasted.join("\n")), whole, "{pasted:#?}");
    }

    #[test]
    fn a_command_that_fits_is_one_line() {
        assert_eq!(
            command_lines("sudo systemctl reload nginx", 8, 80),
            vec!["        $ sudo systemctl reload nginx".to_string()]
        );
    }

    #[test]
    fn prose_wraps_at_words_and_fingerprints_at_colons() {
        let sha = (0..32).map(|_| "AB").collect::<Vec<_>>().join(":");
        let mut line = Line::new();
        line.add(
            &format!("The leaf certificate is signed by its own key. SHA-256 {sha}."),
            PLAIN,
            0,
        );
        let mut o = String::new();
        line.emit(&mut o, &Paint(false), 5, 5, 40);
        for l in o.lines() {
            assert!(cols(l) <= 40, "{l:?} is wider than 40:\n{o}");
            assert!(l.starts_with("     "), "{l:?}");
        }
        let words: String = o.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains("The leaf certificate is signed"), "{o}");
        let rejoined: String = o.lines().map(str::trim).collect::<Vec<_>>().concat();
        assert!(rejoined.contains(&sha), "{o}");
        let rows: Vec<&str> = o.lines().filter(|l| l.contains("AB")).collect();
        assert!(rows.len() > 1, "{o}");
        assert!(
            rows[..rows.len() - 1].iter().all(|l| l.ends_with(':')),
            "broken after a colon:\n{o}"
        );
    }

    #[test]
    fn urls_are_never_broken() {
        let url = format!("http://example.test/{}", "x".repeat(60));
        let mut line = Line::new();
        line.add(&format!("Fetch {url} now"), PLAIN, 0);
        let mut o = String::new();
        line.emit(&mut o, &Paint(false), 5, 5, 40);
        assert!(o.lines().any(|l| l.trim() == url), "{o}");
    }

    #[test]
    fn color_does_not_count_toward_the_width() {
        let mut line = Line::new();
        line.add("✗", "31", 0);
        line.add(&"word ".repeat(20), BOLD, 1);
        let mut o = String::new();
        line.emit(&mut o, &Paint(true), 3, 5, 30);
        assert!(o.contains("\x1b[31m✗\x1b[0m"), "{o:?}");
        for l in o.lines() {
            let visible: String = strip_sgr(l);
            assert!(cols(&visible) <= 30, "{visible:?}");
        }
    }

    fn strip_sgr(s: &str) -> String {
        let mut out = String::new();
        let mut esc = false;
        for c in s.chars() {
            if esc {
                if c == 'm' {
                    esc = false;
                }
            } else if c == '\x1b' {
                esc = true;
            } else {
                out.push(c);
            }
        }
        out
    }
}
