//! certscope: why does this server's certificate fail?
//!
//! # Layout: wings, arrows one way
//!
//! ```text
//! main.rs ─► cli (clap) ─► Config ─► a mode: check · inspect · lab · tui · serve
//!                                        │
//!                                     run (the one runner: bounded concurrency,
//!                                        │  cancellation, results as a stream)
//!                     ┌──────────────────┼──────────────────┐
//!                   probe              fetch             diagnose
//!         (dial, capture, classify,  (AIA, CRL, OCSP:   (pure: observation +
//!          starttls/, legacy hello)   bounded HTTP)      trust + instant -> Report)
//!                     └──────────────────┼──────────────────┘
//!                                     report (observation, findings, Report, json, text)
//!                                        │
//!                                      x509 (certificate model, chains, trust, CRL/OCSP)
//!                                        │
//!                              target · util (sanitize, shell quoting)
//! ```
//!
//! The rules (1, 2 and 5 are checked by `tests/layout.rs` and the lints):
//!
//! 1. Arrows point down only, through the layers `util` < `target` < `x509`
//!    < `report` < {`probe`, `fetch`, `diagnose`} (which never import each
//!    other) < `config` < `run`, `logging` < the modes. No two modules
//!    import each other, directly or through others: no cycle.
//! 2. The engine (`config`, `target`, `util`, `x509`, `report`, `probe`,
//!    `fetch`, `diagnose`, `run`) never imports a mode (`check`, `inspect`,
//!    `lab`, `tui`, `serve`), `cli`, clap, ratatui, crossterm, arboard or
//!    axum. It receives
//!    a [`config`] value, never the command line.
//! 3. `diagnose` does no I/O and reads no clock: the instant is passed in,
//!    so every rule is a table test. (`x509` reads clock-free too; its only
//!    I/O is loading trust stores and CA files.)
//! 4. Each folder's `mod.rs` says what it owns and what it never imports.
//! 5. Unsafe code is forbidden; `unwrap`/`expect` only in tests
//!    (`[lints]` in Cargo.toml).

pub mod check;
pub mod cli;
pub mod config;
pub mod diagnose;
pub mod fetch;
pub mod inspect;
pub mod lab;
pub mod logging;
pub mod probe;
pub mod report;
pub mod run;
pub mod serve;
pub mod target;
#[doc(hidden)]
pub mod testkit;
pub mod tui;
pub mod util;
pub mod x509;
