//! The diagnosis rules, one file per family. Each function looks at one
//! aspect of the chain and pushes every finding it sees, each blaming the
//! certificate at fault.

mod crypto;
mod leaf;
mod name;
mod order;
mod path;
mod trust;
mod validity;
mod webpki;

pub use crypto::crypto_findings;
pub use leaf::leaf_findings;
pub use name::name_findings;
pub use order::{SentOrder, order_findings, sent_order};
pub use path::path_findings;
pub use trust::trust_findings;
pub use validity::validity_findings;
pub use webpki::webpki_cross_check;

use crate::diagnose::fix::Facts;

pub(crate) const DAY: i64 = 86_400;

/// "in 5 days", "3 days ago", "in 2 hours", "today".
pub fn when(delta_secs: i64) -> String {
    let abs = delta_secs.unsigned_abs() as i64;
    let amount = if abs >= 2 * DAY {
        format!("{} days", abs / DAY)
    } else if abs >= DAY {
        "1 day".to_string()
    } else if abs >= 2 * 3600 {
        format!("{} hours", abs / 3600)
    } else if abs >= 120 {
        format!("{} minutes", abs / 60)
    } else {
        format!("{abs} seconds")
    };
    if delta_secs >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

pub(crate) fn intermediate(i: usize) -> Facts {
    Facts {
        intermediate: i > 0,
        ..Facts::default()
    }
}

pub fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
