//! Leaf helpers every layer may use: making untrusted text safe for a
//! terminal (`sanitize`) and quoting values for a shell (`shell`).
//!
//! Owns: nothing but text transformations. Never imports another module
//! of the crate.

pub mod sanitize;
pub mod shell;
