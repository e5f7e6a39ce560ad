//! Leaf helpers every layer may use: making untrusted text safe for a
//! terminal (`sanitize`), quoting values for a shell (`shell`), and reading
//! a TLV from untrusted bytes (`tlv`), and whether to colour (`term`).
//!
//! Owns: nothing but text transformations. Never imports another module
//! of the crate.

pub mod sanitize;
pub mod shell;
pub mod term;
pub mod tlv;
