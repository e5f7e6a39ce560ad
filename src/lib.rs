//! certscope: why does this server's certificate fail?
//!
//! The engine (`probe`, `cert`, `trust`, `chain`, `diagnose`, `fix`, `report`)
//! never touches the terminal; `tui` only adapts its reports to the screen.

pub mod aia;
pub mod catalog;
pub mod cert;
pub mod chain;
pub mod check;
pub mod cli;
pub mod crl;
pub mod diagnose;
pub mod enrich;
pub mod finding;
pub mod fix;
pub mod hostsfile;
pub mod http;
pub mod inspect;
pub mod lab;
pub mod legacy;
pub mod model;
pub mod names;
pub mod ocsp;
pub mod probe;
pub mod report;
pub mod revocation;
pub mod rules;
pub mod sanitize;
pub mod shell;
pub mod starttls;
pub mod target;
#[doc(hidden)]
pub mod testkit;
pub mod text;
pub mod trust;
pub mod tui;
