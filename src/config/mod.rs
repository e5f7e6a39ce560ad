//! What the engine is asked to do: targets with their options and trust
//! stores, and the hosts file they may come from (`hostsfile`).
//!
//! Owns: the engine's input. Never imports clap, the CLI types, the TUI or
//! any mode: the command line is turned into this by `cli`.

pub mod hostsfile;
pub mod settings;

use std::sync::Arc;

use crate::diagnose::DiagnoseOptions;
use crate::fetch::EnrichOptions;
use crate::probe::ProbeOptions;
use crate::target::Target;
use crate::x509::trust::TrustStore;

/// Bad input: one line for the user, exit code 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// Everything a run needs, validated: what the engine receives.
#[derive(Clone)]
pub struct Config {
    /// Targets held in memory: the command line's (and, after
    /// [`Config::load_all`], the hosts file's).
    pub targets: Vec<Target>,
    /// The command line's store (`--trust-store` plus `--ca-file`): for
    /// command-line targets and hosts added later in the TUI.
    pub trust: Arc<TrustStore>,
    /// Each target's store, parallel to `targets` (hosts-file targets may
    /// add CA files); identical stores are one `Arc`.
    pub trust_for: Vec<Arc<TrustStore>>,
    pub probe: ProbeOptions,
    pub diagnose: DiagnoseOptions,
    /// `--at`: judge at this instant instead of each probe's start.
    pub at: Option<i64>,
    /// At most this many targets in flight at once.
    pub concurrency: usize,
    /// AIA and revocation fetching after each handshake.
    pub enrich: EnrichOptions,
    /// The hosts file's targets, checked and read as the run goes (they
    /// follow `targets`).
    pub hosts: Option<Arc<hostsfile::HostsFile>>,
    /// The hosts file's `interval` (seconds), for modes that watch (the
    /// TUI; `--interval` overrides it).
    pub interval: Option<u64>,
}

/// Parse a watch interval: `90`, `90s`, `5m`, `2h`, `1d` (10 s to 7 days).
pub fn parse_interval(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let shown = crate::util::sanitize::for_terminal(s);
    let bad = || format!("invalid interval {shown:?}: expected e.g. 30s, 5m, 1h");
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    if !(10..=7 * 86_400).contains(&secs) {
        return Err(format!(
            "interval {shown:?} is out of range: between 10s and 7d"
        ));
    }
    Ok(secs)
}

impl Config {
    /// The trust store for target `i` (the shared one past the listed targets).
    pub fn trust_at(&self, i: usize) -> &Arc<TrustStore> {
        self.trust_for.get(i).unwrap_or(&self.trust)
    }

    /// A run with no network targets (`inspect`): the store, thresholds
    /// and `--at` that certificate files are judged by.
    pub fn offline(trust: Arc<TrustStore>, diagnose: DiagnoseOptions, at: Option<i64>) -> Config {
        Config {
            targets: Vec::new(),
            trust_for: Vec::new(),
            trust,
            probe: ProbeOptions::default(),
            diagnose,
            at,
            concurrency: 1,
            enrich: EnrichOptions {
                aia: false,
                revocation: false,
                ..EnrichOptions::default()
            },
            hosts: None,
            interval: None,
        }
    }

    /// How many targets the run has: those held plus the hosts file's.
    pub fn target_count(&self) -> usize {
        self.targets.len() + self.hosts.as_ref().map_or(0, |h| h.len())
    }

    /// Hold the hosts file's targets in memory too (the TUI lists them all).
    pub fn load_all(&mut self) -> Result<(), InputError> {
        if let Some(h) = self.hosts.take() {
            for job in h.read() {
                let (t, trust) = job.map_err(InputError)?;
                self.targets.push(t);
                self.trust_for.push(trust);
            }
        }
        Ok(())
    }
}
