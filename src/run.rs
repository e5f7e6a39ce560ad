//! The one runner: probe, fetch and diagnose targets with bounded
//! concurrency and cancellation. `check`, `inspect`'s TUI rows, `serve`
//! and the TUI all go through it.
//!
//! Per target the work is one pass: the handshake captures the chain, each
//! certificate is parsed once into a [`Chain`], webpki verifies the
//! presented path once (its verified links are handed to the walk), AIA
//! extends the same chain, each CRL/OCSP answer is checked once, and the
//! diagnosis reads it all in place (no hop to another thread).
//!
//! Memory is bounded by the concurrency, not by the number of targets:
//! [`Engine::stream`] starts a target only when a slot is free and hands
//! each report to the consumer as it finishes, over a bounded channel.
//!
//! Owns: scheduling. Never imports a mode, clap or the terminal.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};
use tracing::Instrument;

use crate::config::Config;
use crate::diagnose::{DiagnoseOptions, diagnose_chain};
use crate::fetch::{EnrichOptions, FetchCache, enrich_chain};
use crate::probe::{ProbeOptions, probe_at};
use crate::report::Report;
use crate::report::observation::Observation;
use crate::target::Target;
use crate::x509::chain::{Chain, IssuerCache};
use crate::x509::trust::TrustStore;

/// The engine of one run: its configuration, the fetch cache its targets
/// share, and the slots that bound how many run at once.
pub struct Engine {
    pub config: Config,
    opts: CheckOptions,
    cache: FetchCache,
    issuers: IssuerCache,
    slots: Arc<Semaphore>,
}

/// How one target is checked: the configuration's options, or another
/// set for the same engine (`serve`'s modules share its caches).
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub probe: ProbeOptions,
    pub diagnose: DiagnoseOptions,
    pub enrich: EnrichOptions,
    /// Judge at this instant instead of the probe's start.
    pub at: Option<i64>,
}

impl CheckOptions {
    pub fn of(config: &Config) -> CheckOptions {
        CheckOptions {
            probe: config.probe.clone(),
            diagnose: config.diagnose.clone(),
            enrich: config.enrich.clone(),
            at: config.at,
        }
    }
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine::with_cache(config, FetchCache::default())
    }

    /// An engine whose fetches go through `cache` (a long-running process
    /// gives one with a time to live).
    pub fn with_cache(config: Config, cache: FetchCache) -> Engine {
        let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
        Engine {
            opts: CheckOptions::of(&config),
            config,
            cache,
            issuers: IssuerCache::default(),
            slots,
        }
    }

    /// The fetch cache the engine's checks share.
    pub fn fetch_cache(&self) -> &FetchCache {
        &self.cache
    }

    /// Probe `target`, fetch what its certificates point at, and diagnose,
    /// now (without waiting for a slot). `trust` is the store to judge by.
    pub async fn check(&self, target: &Target, trust: &TrustStore) -> Report {
        self.check_with(target, trust, &self.opts).await
    }

    /// [`Engine::check`] with other options than the configuration's.
    /// A name with several addresses is probed on each (unless
    /// `every_address` is off) and the reports merged.
    pub async fn check_with(
        &self,
        target: &Target,
        trust: &TrustStore,
        opts: &CheckOptions,
    ) -> Report {
        let span = tracing::info_span!("check", target = %target.host_port());
        async {
            let report = if opts.probe.every_address {
                match crate::probe::addresses(target, &opts.probe).await {
                    Ok(addrs) if addrs.len() > 1 => {
                        let each = addrs.iter().map(|a| {
                            self.check_at(target, trust, opts, Some(std::slice::from_ref(a)))
                        });
                        let mut reports = futures_util::future::join_all(each).await;
                        let first = reports.remove(0);
                        crate::diagnose::endpoints::merge(first, reports)
                    }
                    Ok(addrs) => self.check_at(target, trust, opts, Some(&addrs)).await,
                    Err(f) => {
                        let started = crate::report::time::now_unix();
                        let obs = crate::probe::failed(target, f, started, Default::default());
                        let now = opts.at.unwrap_or(started);
                        crate::diagnose::diagnose(&obs, trust, now, &opts.diagnose)
                    }
                }
            } else {
                self.check_at(target, trust, opts, None).await
            };
            tracing::info!(
                status = ?report.status,
                findings = report.findings.len(),
                elapsed_ms = report.elapsed_ms,
                "checked"
            );
            report
        }
        .instrument(span)
        .await
    }

    /// Probe `target` at `addrs` (resolving when `None`) and diagnose.
    async fn check_at(
        &self,
        target: &Target,
        trust: &TrustStore,
        opts: &CheckOptions,
        addrs: Option<&[std::net::SocketAddr]>,
    ) -> Report {
        let (obs, mut chain) = self.observe_with(target, trust, opts, addrs).await;
        let now = opts.at.unwrap_or(obs.started_at);
        diagnose_chain(&obs, &mut chain, trust, now, &opts.diagnose)
    }

    /// [`Engine::check_with`], but never past `deadline`: a probe still
    /// running then is dropped and reported as a timeout (status error),
    /// so a caller with a budget (a Prometheus scrape) always gets a report.
    pub async fn check_within(
        &self,
        target: &Target,
        trust: &TrustStore,
        opts: &CheckOptions,
        deadline: std::time::Duration,
    ) -> Report {
        let started = crate::report::time::now_unix();
        let t0 = std::time::Instant::now();
        match tokio::time::timeout(deadline, self.check_with(target, trust, opts)).await {
            Ok(r) => r,
            Err(_) => {
                use crate::report::observation::{ConnCode, ConnFailure, Observation, Origin};
                let obs = Observation {
                    target: target.clone(),
                    address: None,
                    chain: Vec::new(),
                    tls: None,
                    ocsp_stapled: None,
                    error: Some(ConnFailure {
                        code: ConnCode::Timeout,
                        step: "deadline",
                        message: format!(
                            "the probe did not finish within its {:.1} s budget",
                            deadline.as_secs_f64()
                        ),
                        alert: None,
                        peer_said: None,
                        local: false,
                    }),
                    timings: Default::default(),
                    started_at: started,
                    origin: Origin::Network,
                    fetches: Vec::new(),
                    revocation_checked: false,
                    staple_checked: None,
                    deployed: None,
                    no_sni: None,
                };
                let now = opts.at.unwrap_or(started);
                let mut r = crate::diagnose::diagnose(&obs, trust, now, &opts.diagnose);
                r.elapsed_ms = t0.elapsed().as_millis().min(u128::from(u64::MAX)) as u64;
                r
            }
        }
    }

    /// Read a certificate file and diagnose it (offline: nothing is
    /// fetched), at `--at` or now. Errors name the file.
    pub fn inspect_file(
        &self,
        path: &std::path::Path,
        opts: &crate::probe::file::FileOptions,
    ) -> Result<Report, String> {
        let obs = crate::probe::file::observe_file(path, opts, crate::report::time::now_unix())?;
        let mut diagnose = self.config.diagnose.clone();
        diagnose.skip_name = opts.name.is_none();
        let at = self.config.at.unwrap_or(obs.started_at);
        Ok(crate::diagnose::diagnose(
            &obs,
            &self.config.trust,
            at,
            &diagnose,
        ))
    }

    /// Probe and fetch, keeping the parsed chain for the diagnosis.
    pub async fn observe(&self, target: &Target, trust: &TrustStore) -> (Observation, Chain) {
        self.observe_with(target, trust, &self.opts, None).await
    }

    async fn observe_with(
        &self,
        target: &Target,
        trust: &TrustStore,
        opts: &CheckOptions,
        addrs: Option<&[std::net::SocketAddr]>,
    ) -> (Observation, Chain) {
        let mut obs = probe_at(target, addrs, &opts.probe).await;
        obs.deployed = crate::probe::file::read_deployed(target);
        // The same address again, without SNI (only when SNI is sent at all).
        if opts.probe.compare_no_sni
            && obs.error.is_none()
            && target.verify_name().parse::<std::net::IpAddr>().is_err()
            && let Some(a) = obs.address
        {
            let mut o = opts.probe.clone();
            o.send_sni = false;
            o.compare_no_sni = false;
            let other = probe_at(target, Some(&[a]), &o).await;
            obs.no_sni = Some(crate::report::observation::NoSni {
                leaf: other.chain.first().cloned(),
                error: other.error,
            });
        }
        let mut chain = Chain::parse_with(&obs.chain, Some(&self.issuers));
        if chain.leaf_parsed {
            // Verify the presented path first, at the diagnosis' instant, so
            // every walk after it reuses the verified links.
            let now = opts.at.unwrap_or(obs.started_at);
            let _ = chain.webpki_verdict(trust, now);
        }
        enrich_chain(&mut obs, &mut chain, trust, &opts.enrich, &self.cache).await;
        (obs, chain)
    }

    /// Check target `i` of the configuration, waiting for a slot.
    pub async fn check_index(&self, i: usize, target: &Target) -> Report {
        let _slot = self.slots.clone().acquire_owned().await.ok();
        self.check(target, self.config.trust_at(i)).await
    }

    /// Check every configured target, at most `concurrency` at once, and
    /// send `Ok((index, report))` as each finishes (completion order). A
    /// target is taken from the configuration (the hosts file is read as
    /// the run goes) only when a slot is free, and the channel holds at
    /// most `concurrency` finished reports, so memory does not grow with
    /// the number of targets. An `Err` says the hosts file could not be
    /// read further (it changed); the run stops taking targets. Dropping
    /// the receiver cancels what is running.
    pub fn stream(self: &Arc<Self>) -> mpsc::Receiver<Result<(usize, Report), String>> {
        let cap = self.config.concurrency.max(1);
        let (tx, rx) = mpsc::channel(cap);
        let engine = self.clone();
        tokio::spawn(async move {
            let mut running = JoinSet::new();
            let mut hosts = engine.config.hosts.as_ref().map(|h| h.read());
            for i in 0.. {
                let slot = tokio::select! {
                    s = engine.slots.clone().acquire_owned() => s,
                    _ = tx.closed() => break,
                };
                let Ok(slot) = slot else { break };
                let job = match engine.config.targets.get(i) {
                    Some(t) => Some(Ok((t.clone(), engine.config.trust_at(i).clone()))),
                    None => hosts.as_mut().and_then(Iterator::next),
                };
                let (target, trust) = match job {
                    None => break,
                    Some(Ok(job)) => job,
                    Some(Err(e)) => {
                        let _ = tx.send(Err(e)).await;
                        break;
                    }
                };
                // Reap finished tasks so the set stays small.
                while running.try_join_next().is_some() {}
                let engine = engine.clone();
                let tx = tx.clone();
                running.spawn(async move {
                    let report = engine.check(&target, &trust).await;
                    // The slot is held until the report is handed over, so
                    // a slow consumer holds back new targets, not memory.
                    let _ = tx.send(Ok((i, report))).await;
                    drop(slot);
                });
            }
            // Wait for the last ones; dropping the set aborts them if the
            // receiver went away.
            tokio::select! {
                _ = async { while running.join_next().await.is_some() {} } => {}
                _ = tx.closed() => running.abort_all(),
            }
        });
        rx
    }

    /// Run one check in the background under a slot: `on_start` when it
    /// gets its slot, `on_done` with the report. The handle cancels it
    /// (then neither the report nor anything else is sent).
    pub fn spawn(
        self: &Arc<Self>,
        target: Target,
        trust: Arc<TrustStore>,
        on_start: impl FnOnce() + Send + 'static,
        on_done: impl FnOnce(Report) + Send + 'static,
    ) -> AbortHandle {
        self.spawn_with(target, trust, self.opts.clone(), on_start, on_done)
    }

    /// [`Engine::spawn`] with other options than the configuration's.
    pub fn spawn_with(
        self: &Arc<Self>,
        target: Target,
        trust: Arc<TrustStore>,
        opts: CheckOptions,
        on_start: impl FnOnce() + Send + 'static,
        on_done: impl FnOnce(Report) + Send + 'static,
    ) -> AbortHandle {
        let engine = self.clone();
        tokio::spawn(async move {
            let _slot = engine.slots.clone().acquire_owned().await.ok();
            on_start();
            let report = engine.check_with(&target, &trust, &opts).await;
            on_done(report);
        })
        .abort_handle()
    }

    /// The options the configuration gives every check.
    pub fn options(&self) -> &CheckOptions {
        &self.opts
    }
}
