//! `certscope check`: probe every target with bounded concurrency, diagnose,
//! print text / json / jsonl, and return the Nagios exit code.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cli::{CheckArgs, Format, ProbeArgs};
use crate::diagnose::{DiagnoseOptions, diagnose};
use crate::fetch::{EnrichOptions, FetchCache, enrich};
use crate::probe::{ProbeOptions, probe};
use crate::report::finding::Status;
use crate::report::observation::Observation;
use crate::report::{self, Report};
use crate::target::{ResolveRule, Target};
use crate::x509::trust::TrustStore;

/// Bad input: one line for the user, exit code 3.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything a run needs, validated.
#[derive(Clone)]
pub struct Plan {
    pub targets: Vec<Target>,
    /// The command line's store (`--trust-store` plus `--ca-file`): for
    /// command-line targets and hosts added later in the TUI.
    pub trust: Arc<TrustStore>,
    /// Each target's store, parallel to `targets` (hosts-file targets may
    /// add CA files); identical stores are one `Arc`.
    pub trust_for: Vec<Arc<TrustStore>>,
    pub probe: ProbeOptions,
    pub diagnose: DiagnoseOptions,
    pub at: Option<i64>,
    pub concurrency: usize,
    /// AIA and revocation fetching after each handshake.
    pub enrich: EnrichOptions,
    /// Fetches shared by every target of the run.
    pub cache: FetchCache,
}

impl Plan {
    /// Probe target `i`, then fetch what its certificates point at (AIA,
    /// CRL, OCSP) unless turned off.
    pub async fn observe(&self, i: usize, target: &Target) -> Observation {
        let mut obs = probe(target, &self.probe).await;
        enrich(&mut obs, self.trust_at(i), &self.enrich, &self.cache).await;
        obs
    }

    /// Observe and diagnose target `i`; diagnosis runs off the I/O threads.
    pub async fn check(self: Arc<Self>, i: usize, target: Target) -> Option<Report> {
        let obs = self.observe(i, &target).await;
        let now = self.at.unwrap_or(obs.started_at);
        tokio::task::spawn_blocking(move || diagnose(&obs, self.trust_at(i), now, &self.diagnose))
            .await
            .ok()
    }

    /// The trust store for target `i` (the shared one past the planned targets).
    pub fn trust_at(&self, i: usize) -> &Arc<TrustStore> {
        self.trust_for.get(i).unwrap_or(&self.trust)
    }
}

/// Validate targets and options; every error names the bad input.
pub fn plan(raw_targets: &[String], args: &ProbeArgs) -> Result<Plan, InputError> {
    let sni = match &args.sni {
        None => None,
        Some(s) => Some(match crate::target::Host::parse(s) {
            Ok(h) => h.to_string(),
            Err(e) => return Err(InputError(format!("invalid --sni: {e}"))),
        }),
    };
    let mut targets = Vec::with_capacity(raw_targets.len());
    let default_port = args.starttls.map(|p| p.default_port()).unwrap_or(443);
    for raw in raw_targets {
        let mut t = Target::parse(raw, default_port).map_err(InputError)?;
        t.sni = sni.clone();
        t.starttls = args.starttls;
        ResolveRule::apply(&args.resolve, &mut t);
        targets.push(t);
    }
    let trust = Arc::new(TrustStore::load(args.trust_store, &args.ca_file).map_err(InputError)?);
    let mut trust_for = vec![trust.clone(); targets.len()];
    // A hosts file: --hosts-file, else the default one when no TARGET is given.
    let hosts_file = match &args.hosts_file {
        Some(p) => Some(p.clone()),
        None if raw_targets.is_empty() => crate::config::hostsfile::default_file(),
        None => None,
    };
    if let Some(path) = hosts_file {
        let inherit = crate::config::hostsfile::Inherit {
            sni: sni.clone(),
            starttls: args.starttls,
            resolve: &args.resolve,
        };
        for (t, store) in crate::config::hostsfile::load_with_trust(&path, &inherit, &trust)
            .map_err(InputError)?
        {
            targets.push(t);
            trust_for.push(store);
        }
    }
    if targets.is_empty() {
        return Err(InputError(crate::config::hostsfile::no_targets_message()));
    }
    Ok(Plan {
        targets,
        trust,
        trust_for,
        probe: ProbeOptions {
            timeout: Duration::from_secs_f64(args.timeout),
        },
        diagnose: DiagnoseOptions {
            warn_days: args.warn_days,
            crit_days: args.crit_days,
            skip_name: false,
        },
        at: args.at,
        concurrency: args.concurrency as usize,
        enrich: EnrichOptions {
            aia: !args.no_aia,
            revocation: !args.no_revocation,
            timeout: Duration::from_secs_f64(args.timeout),
            ..EnrichOptions::default()
        },
        cache: FetchCache::default(),
    })
}

/// Probe and diagnose every target, at most `concurrency` at once, calling
/// `on_done(index, report)` as each finishes. Returns the reports in input order.
pub async fn run_all(plan: &Plan, mut on_done: impl FnMut(usize, &Report)) -> Vec<Report> {
    let sem = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let shared = Arc::new(plan.clone());
    let mut set = JoinSet::new();
    for (i, t) in plan.targets.iter().cloned().enumerate() {
        let sem = sem.clone();
        let shared = shared.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            (i, shared.check(i, t).await)
        });
    }
    let mut out: Vec<Option<Report>> = vec![None; plan.targets.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, Some(report))) = joined {
            on_done(i, &report);
            out[i] = Some(report);
        }
    }
    out.into_iter().flatten().collect()
}

/// Run `certscope check`; returns the process exit code.
pub async fn run(args: CheckArgs) -> Result<i32, InputError> {
    let plan = plan(&args.targets, &args.probe)?;
    let format = if args.json { Format::Json } else { args.format };
    let total = plan.targets.len();
    let tty = std::io::stderr().is_terminal();
    let show_progress = total >= 10;
    let mut done = 0usize;
    let mut last = Instant::now();
    let started = Instant::now();
    let reports = run_all(&plan, |_, r| {
        done += 1;
        if format == Format::Jsonl {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", report::json_line(r));
            let _ = out.flush();
        }
        if show_progress && (tty || last.elapsed() >= Duration::from_secs(5) || done == total) {
            last = Instant::now();
            let msg = format!(
                "certscope: checked {done}/{total} targets ({:.1}s)",
                started.elapsed().as_secs_f64()
            );
            if tty {
                eprint!("\r{msg}");
                if done == total {
                    eprintln!();
                }
            } else {
                eprintln!("{msg}");
            }
        }
    })
    .await;
    Ok(print_reports(&reports, total, format, true))
}

/// Print `reports` in `format` (JSONL lines too, unless `streamed`: then
/// they were printed as each report finished) and return the exit code: the
/// worst status, or 3 when there are fewer than `expected` reports.
pub fn print_reports(reports: &[Report], expected: usize, format: Format, streamed: bool) -> i32 {
    let worst = reports
        .iter()
        .map(|r| r.status)
        .fold(Status::Ok, Status::worst);
    let worst = if reports.len() < expected {
        Status::Error
    } else {
        worst
    };
    match format {
        Format::Json => println!("{}", report::json_document(reports)),
        Format::Jsonl if streamed => {}
        Format::Jsonl => {
            let mut out = std::io::stdout().lock();
            for r in reports {
                let _ = writeln!(out, "{}", report::json_line(r));
            }
        }
        Format::Text => {
            let color = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let mut out = std::io::stdout().lock();
            for r in reports {
                let _ = write!(out, "{}", crate::report::text::render(r, color));
            }
            if reports.len() > 1 {
                let _ = writeln!(out, "{}", crate::report::text::summary(reports));
            }
        }
    }
    worst.exit_code()
}
