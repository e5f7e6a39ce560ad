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

/// The wall clock in unix seconds (0 if the clock is before 1970).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
