//! Watching a fleet: what each result says in brief (a snapshot), what
//! changed between two results of a host, and when a host is due again.
//! Pure: the clock is passed in.

use crate::report::Report;
use crate::report::finding::Status;

/// How many snapshots a host keeps (newest last).
pub const HISTORY: usize = 10;
/// How many changes the summary keeps (newest last).
pub const CHANGES: usize = 1000;

/// One result in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Unix seconds.
    pub at: i64,
    pub status: Status,
    /// SHA-256 of the leaf, when a certificate was obtained.
    pub leaf: Option<String>,
    /// Finding codes, root cause first.
    pub codes: Vec<String>,
}

impl Snapshot {
    pub fn of(report: &Report, at: i64) -> Snapshot {
        Snapshot {
            at,
            status: report.status,
            leaf: report.chain.first().map(|c| c.info.sha256.clone()),
            codes: report.findings.iter().map(|f| f.code.to_string()).collect(),
        }
    }

    /// A probe that failed outright.
    pub fn failed(at: i64) -> Snapshot {
        Snapshot {
            at,
            status: Status::Error,
            leaf: None,
            codes: Vec::new(),
        }
    }
}

/// What a new result changed, against the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new leaf certificate (another fingerprint).
    Renewed,
    /// The status got worse or better.
    Worse {
        from: Status,
        to: Status,
    },
    Better {
        from: Status,
        to: Status,
    },
    /// A finding code that was not there, or is gone.
    NewFinding(String),
    FindingGone(String),
}

fn word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Warning => "warning",
        Status::Critical => "critical",
        Status::Error => "error",
    }
}

impl Change {
    /// The mark shown in the host's row.
    pub fn mark(&self) -> &'static str {
        match self {
            Change::Renewed => "↻",
            Change::Worse { .. } => "▲",
            Change::Better { .. } => "▼",
            Change::NewFinding(_) => "+",
            Change::FindingGone(_) => "−",
        }
    }

    /// In words: "renewed (new leaf)", "worse: ok → critical", ...
    pub fn describe(&self) -> String {
        match self {
            Change::Renewed => "renewed (new leaf)".into(),
            Change::Worse { from, to } => format!("worse: {} → {}", word(*from), word(*to)),
            Change::Better { from, to } => format!("better: {} → {}", word(*from), word(*to)),
            Change::NewFinding(c) => format!("new finding {c}"),
            Change::FindingGone(c) => format!("finding gone: {c}"),
        }
    }
}

/// The changes from `prev` to `now`, the status first.
pub fn diff(prev: &Snapshot, now: &Snapshot) -> Vec<Change> {
    let mut out = Vec::new();
    if now.status > prev.status {
        out.push(Change::Worse {
            from: prev.status,
            to: now.status,
        });
    } else if now.status < prev.status {
        out.push(Change::Better {
            from: prev.status,
            to: now.status,
        });
    }
    if prev.leaf.is_some() && now.leaf.is_some() && prev.leaf != now.leaf {
        out.push(Change::Renewed);
    }
    for c in &now.codes {
        if !prev.codes.contains(c) {
            out.push(Change::NewFinding(c.clone()));
        }
    }
    for c in &prev.codes {
        if !now.codes.contains(c) {
            out.push(Change::FindingGone(c.clone()));
        }
    }
    out
}

/// When host `host`, checked at `now`, is due again: one `interval`
/// later, moved by up to a tenth of it either way (the same for a host
/// every time), so a fleet's re-probes spread out instead of coming in a
/// burst.
pub fn next_due(now: i64, interval: u64, host: usize) -> i64 {
    let interval = i64::try_from(interval).unwrap_or(i64::MAX / 4);
    let spread = interval / 5;
    let offset = if spread > 0 {
        // A fixed, well-mixed position in [-spread/2, spread/2].
        let h = (host as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
        i64::try_from(h % spread.max(1) as u64).unwrap_or(0) - spread / 2
    } else {
        0
    };
    now.saturating_add(interval).saturating_add(offset)
}

pub use crate::config::parse_interval;

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(status: Status, leaf: &str, codes: &[&str]) -> Snapshot {
        Snapshot {
            at: 0,
            status,
            leaf: Some(leaf.into()),
            codes: codes.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn changes_between_two_results() {
        let a = snap(Status::Ok, "AA", &[]);
        assert_eq!(diff(&a, &a), []);
        let b = snap(Status::Critical, "BB", &["expired"]);
        assert_eq!(
            diff(&a, &b),
            [
                Change::Worse {
                    from: Status::Ok,
                    to: Status::Critical
                },
                Change::Renewed,
                Change::NewFinding("expired".into()),
            ]
        );
        assert_eq!(
            diff(&b, &a)[..],
            [
                Change::Better {
                    from: Status::Critical,
                    to: Status::Ok
                },
                Change::Renewed,
                Change::FindingGone("expired".into()),
            ]
        );
        // A failed probe has no leaf: not "renewed".
        assert_eq!(
            diff(&a, &Snapshot::failed(0)),
            [Change::Worse {
                from: Status::Ok,
                to: Status::Error
            }]
        );
    }

    #[test]
    fn due_times_spread_within_a_tenth() {
        let mut seen = std::collections::BTreeSet::new();
        for host in 0..1000 {
            let d = next_due(1_000, 300, host) - 1_000;
            assert!((270..=330).contains(&d), "{d}");
            seen.insert(d);
            assert_eq!(next_due(1_000, 300, host), next_due(1_000, 300, host));
        }
        assert!(seen.len() > 30, "spread out: {} distinct times", seen.len());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("5m"), Ok(300));
        assert_eq!(parse_interval("90"), Ok(90));
        assert_eq!(parse_interval("2h"), Ok(7200));
        assert_eq!(parse_interval("1d"), Ok(86_400));
        assert!(
            parse_interval("5")
                .unwrap_err()
                .contains("between 10s and 7d")
        );
        assert!(parse_interval("8d").is_err());
        assert!(
            parse_interval("5 minutes")
                .unwrap_err()
                .contains("invalid interval")
        );
        assert!(parse_interval("").is_err());
        assert!(parse_interval("99999999999999999999d").is_err());
    }
}
