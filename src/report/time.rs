//! Time formatting for reports and messages.

/// Format unix seconds as RFC 3339 UTC (`2026-11-27T10:00:00Z`).
pub fn rfc3339(t: i64) -> String {
    match ::time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(dt) => dt
            .format(&::time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| t.to_string()),
        Err(_) => t.to_string(),
    }
}
