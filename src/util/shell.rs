//! POSIX shell quoting for every value interpolated into a copy-able command.

/// Quote `s` so a POSIX shell reads it back as exactly one word with the same
/// bytes. Words made only of safe characters are left as they are.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'-' | b'.' | b'/' | b':' | b'@' | b'%' | b'+' | b'=' | b','
                )
        })
        && !s.starts_with('-')
        && !s.starts_with('=');
    if safe {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_what_needs_it() {
        assert_eq!(quote("good.example.test:443"), "good.example.test:443");
        assert_eq!(quote("/etc/ssl/fullchain.pem"), "/etc/ssl/fullchain.pem");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("x;rm -rf ~"), "'x;rm -rf ~'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(id)"), "'$(id)'");
        assert_eq!(quote("-rf"), "'-rf'");
        assert_eq!(quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn round_trips_through_sh() {
        for s in ["it's", "$(id) `x` \"q\" \\ ;|&", "-n", "a\tb", "*"] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote(s)))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
    }
}
