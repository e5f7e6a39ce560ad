//! What the engine is asked to do: targets with their options and trust
//! stores, and the hosts file they may come from (`hostsfile`).
//!
//! Owns: the engine's input. Never imports clap, the CLI types, the TUI or
//! any mode: the command line is turned into this by `cli`.

pub mod hostsfile;
