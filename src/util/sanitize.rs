//! Text from certificates, servers and users is untrusted: remove control
//! characters and escape sequences before it reaches a terminal.

/// Return `s` with every control character (C0, DEL, C1, and the Unicode
/// bidi overrides) replaced by a visible escape such as `\x1b`, so no escape
/// sequence can reach the terminal and the text stays truthful.
pub fn for_terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_dangerous(c) {
            let n = c as u32;
            if n <= 0xff {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:04x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Lossy variant for raw bytes from a peer (invalid UTF-8 becomes U+FFFD).
pub fn bytes_for_terminal(b: &[u8]) -> String {
    for_terminal(&String::from_utf8_lossy(b))
}

fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes_and_controls() {
        assert_eq!(for_terminal("CN=a\u{1b}[31mred"), "CN=a\\x1b[31mred");
        assert_eq!(for_terminal("a\u{7}b\u{9b}c\u{7f}"), "a\\x07b\\x9bc\\x7f");
        assert_eq!(for_terminal("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(for_terminal("plain ünïcode"), "plain ünïcode");
        assert_eq!(bytes_for_terminal(b"\xff\x1b"), "\u{fffd}\\x1b");
    }
}

/// A bounded list for a message: the first `max` items joined with `sep`,
/// then "and N more".
pub fn and_more(items: &[String], max: usize, sep: &str) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    match items.len().saturating_sub(max) {
        0 => shown.join(sep),
        more => format!("{} and {more} more", shown.join(sep)),
    }
}

#[cfg(test)]
mod and_more_tests {
    #[test]
    fn bounded_lists() {
        let v: Vec<String> = (1..=7).map(|i| i.to_string()).collect();
        assert_eq!(super::and_more(&v, 3, ", "), "1, 2, 3 and 4 more");
        assert_eq!(super::and_more(&v[..2], 3, "; "), "1; 2");
        assert_eq!(super::and_more(&[], 3, ", "), "");
    }
}
