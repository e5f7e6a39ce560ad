//! The interactive TUI: it only adapts the engine's reports to the screen.
//!
//! Keys, ticks, resizes and probe results all become [`update::Action`]s;
//! `update` changes the [`model::Model`] and returns [`update::Effect`]s
//! (spawn a probe, copy, save, quit) that the event loop carries out.
//!
//! Owns: the terminal. Probes and files go through `run::Engine`; no other
//! module imports this one.

pub mod clipboard;
pub mod keys;
pub mod model;
pub mod runtime;
pub mod setup;
pub mod ui;
pub mod update;
pub mod watch;
