//! `certscope serve`: a Prometheus exporter that says why.
//!
//! Stateless and one target per scrape, like blackbox_exporter: Prometheus
//! schedules, relabels and shards (`assets/prometheus/`). Endpoints:
//!
//! - `GET /probe?target=HOST:PORT&module=NAME`: probe now, answer the
//!   report as OpenMetrics ([`metrics`]); the scrape's
//!   `X-Prometheus-Scrape-Timeout-Seconds` bounds it.
//! - `GET /metrics`: the exporter's health, and with `--hosts-file` and
//!   `--interval` the latest results of a background watch of those
//!   targets (a `target` label on each series).
//! - `GET /`: recent probes; `GET /report?target=...`: one's JSON report.
//!
//! Safe by default: only targets in the allowlist ([`config::Allow`], the
//! hosts file) are probed, otherwise 403; bad parameters get 400 naming
//! them; at most `--concurrency` probes run at once and a request waits for
//! a slot only within its own deadline (then 503); every probe is bounded
//! by its deadline, so a silent target never stalls another scrape.
//!
//! Owns: the HTTP endpoints and the watch. Never imports the TUI.

pub mod config;
pub mod metrics;
mod page;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::Semaphore;

use crate::cli::ServeArgs;
use crate::config::hostsfile::{HostsFile, Inherit};
use crate::fetch::FetchCache;
use crate::report::Report;
use crate::run::Engine;
use crate::target::{ResolveRule, Target};
use crate::util::sanitize::for_terminal;
use crate::x509::trust::TrustStore;
use config::{Allow, Module};
use metrics::{Health, Outcome};

/// Probes in flight when `--concurrency` is not given: scrapes wait on the
/// network, so a thousand silent targets cost little and never starve a
/// good one.
pub const DEFAULT_IN_FLIGHT: u32 = 1024;

/// How many recent probes `/` lists and `/report` can show.
const RECENT: usize = 200;
/// Prometheus' default offset: answer this much before the scrape times out.
const SCRAPE_OFFSET: Duration = Duration::from_millis(500);
/// The shortest budget a probe gets.
const MIN_BUDGET: Duration = Duration::from_millis(200);
/// Longest echo of a bad parameter in an error line.
const MAX_ECHO: usize = 120;

/// A hosts-file target, with its store and whether that store is its own.
struct HostEntry {
    target: Target,
    trust: Arc<TrustStore>,
    own_trust: bool,
}

/// One finished probe, for `/` and `/report`.
struct Recent {
    key: String,
    module: String,
    report: Arc<Report>,
}

/// Everything the handlers share.
pub struct Server {
    engine: Arc<Engine>,
    modules: std::collections::BTreeMap<String, Module>,
    allow: Allow,
    allow_any: bool,
    hosts: HashMap<String, HostEntry>,
    resolve: Vec<ResolveRule>,
    slots: Arc<Semaphore>,
    max_in_flight: usize,
    health: Health,
    recent: Mutex<VecDeque<Recent>>,
    /// The watch: hosts-file targets in file order and their latest reports.
    watch: Option<Watch>,
}

struct Watch {
    targets: Vec<(Target, Arc<TrustStore>)>,
    latest: Mutex<Vec<Option<Arc<Report>>>>,
    interval: Duration,
}

/// A one-line plain-text answer.
fn text(code: StatusCode, msg: impl Into<String>) -> Response {
    let mut m = msg.into();
    m.push('\n');
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        m,
    )
        .into_response()
}

/// A refused request: its status and one line.
struct Reject(StatusCode, String);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        text(self.0, self.1)
    }
}

/// Echo untrusted input: escaped and cut.
fn echo(s: &str) -> String {
    let cut: String = s.chars().take(MAX_ECHO).collect();
    let mut out = for_terminal(&cut);
    if s.chars().count() > MAX_ECHO {
        out.push('…');
    }
    out
}

impl Server {
    /// Validate the command line and files into a server (no socket yet).
    pub fn new(args: &ServeArgs) -> Result<Server, String> {
        let sc = config::load(args.config.as_deref(), &args.probe, &args.allow)?;
        let default = sc
            .modules
            .get("default")
            .cloned()
            .ok_or("no default module")?;
        let mut hosts = HashMap::new();
        let mut watched = Vec::new();
        if let Some(path) = &args.probe.hosts_file {
            let inherit = Inherit {
                sni: default.sni.clone(),
                starttls: default.starttls,
                resolve: &args.probe.resolve,
            };
            let file = Arc::new(HostsFile::open(path, &inherit, &default.trust)?);
            for job in file.read() {
                let (target, trust) = job?;
                let own_trust = !Arc::ptr_eq(&trust, &default.trust);
                watched.push((target.clone(), trust.clone()));
                hosts.entry(target.host_port()).or_insert(HostEntry {
                    target,
                    trust,
                    own_trust,
                });
            }
        }
        if args.interval.is_some() && args.probe.hosts_file.is_none() {
            return Err(
                "--interval needs --hosts-file: the watch probes the hosts file's targets".into(),
            );
        }
        let watch = args.interval.map(|secs| Watch {
            latest: Mutex::new(vec![None; watched.len()]),
            targets: watched,
            interval: Duration::from_secs(secs),
        });
        let max_in_flight = args.probe.concurrency.max(1) as usize;
        let mut cfg = crate::config::Config::offline(
            default.trust.clone(),
            default.opts.diagnose.clone(),
            None,
        );
        cfg.concurrency = max_in_flight;
        // Revocation answers and intermediates are kept 10 minutes.
        let cache = FetchCache::new(Some(Duration::from_secs(600)), 4096, 256 << 20);
        Ok(Server {
            engine: Arc::new(Engine::with_cache(cfg, cache)),
            modules: sc.modules,
            allow: sc.allow,
            allow_any: args.allow_any_target,
            hosts,
            resolve: args.probe.resolve.clone(),
            slots: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            health: Health::default(),
            recent: Mutex::new(VecDeque::new()),
            watch,
        })
    }

    /// The routes.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/", get(index))
            .route("/probe", get(probe))
            .route("/metrics", get(metrics_page))
            .route("/report", get(report))
            .fallback(|| async {
                text(
                    StatusCode::NOT_FOUND,
                    "not found: try /probe?target=HOST:PORT, /metrics, /report?target=HOST:PORT or /",
                )
            })
            .with_state(self)
    }

    fn remember(&self, key: String, module: &str, report: Arc<Report>) {
        let mut r = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        r.retain(|x| !(x.key == key && x.module == module));
        if r.len() >= RECENT {
            r.pop_front();
        }
        r.push_back(Recent {
            key,
            module: module.to_string(),
            report,
        });
    }

    /// The target and store to probe for `raw` with `module`, or the
    /// answer refusing it.
    fn resolve_target(
        &self,
        raw: &str,
        module: &Module,
    ) -> Result<(Target, Arc<TrustStore>), Reject> {
        let mut t = Target::parse(raw, module.default_port()).map_err(|e| {
            Reject(
                StatusCode::BAD_REQUEST,
                format!("bad target parameter: {}", echo(&e)),
            )
        })?;
        if let Some(h) = self.hosts.get(&t.host_port()) {
            let trust = if h.own_trust {
                h.trust.clone()
            } else {
                module.trust.clone()
            };
            return Ok((h.target.clone(), trust));
        }
        if !self.allow_any && !self.allow.allows(&t.host) {
            return Err(Reject(
                StatusCode::FORBIDDEN,
                format!(
                    "target {} is not allowed: list it in the hosts file or the config's [allow], pass --allow, or start with --allow-any-target",
                    echo(&t.host_port())
                ),
            ));
        }
        t.sni = module.sni.clone();
        t.starttls = module.starttls;
        ResolveRule::apply(&self.resolve, &mut t);
        Ok((t, module.trust.clone()))
    }
}

/// The query's parameters, or a 400 naming the bad one.
fn params(raw: Option<&str>) -> Result<(String, Option<String>), Reject> {
    let pairs: Vec<(String, String)> = match raw {
        None => Vec::new(),
        Some(q) => Query::<Vec<(String, String)>>::try_from_uri(
            &format!("/?{q}").parse().map_err(|_| {
                Reject(
                    StatusCode::BAD_REQUEST,
                    "the query string is not valid".into(),
                )
            })?,
        )
        .map(|Query(v)| v)
        .map_err(|e| {
            Reject(
                StatusCode::BAD_REQUEST,
                format!("bad query string: {}", echo(&e.body_text())),
            )
        })?,
    };
    let mut target = None;
    let mut module = None;
    for (k, v) in pairs {
        let slot = match k.as_str() {
            "target" => &mut target,
            "module" => &mut module,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Reject(
                StatusCode::BAD_REQUEST,
                format!("the {k} parameter is given twice"),
            ));
        }
        *slot = Some(v);
    }
    let target = target.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        Reject(
            StatusCode::BAD_REQUEST,
            "missing the target parameter: /probe?target=HOST:PORT[&module=NAME]".into(),
        )
    })?;
    Ok((target, module))
}

/// The probe's budget: the scrape timeout (minus Prometheus' offset) if
/// the header gives one, else three steps of the module's timeout.
fn budget(headers: &HeaderMap, module: &Module) -> Result<Duration, Reject> {
    let Some(v) = headers.get("x-prometheus-scrape-timeout-seconds") else {
        return Ok(module.timeout.saturating_mul(3));
    };
    let secs = v
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .ok_or_else(|| {
            Reject(
                StatusCode::BAD_REQUEST,
                format!(
                    "bad X-Prometheus-Scrape-Timeout-Seconds header {}: expected seconds, e.g. 10",
                    echo(&String::from_utf8_lossy(v.as_bytes()))
                ),
            )
        })?;
    let b = Duration::from_secs_f64(secs).saturating_sub(SCRAPE_OFFSET);
    Ok(b.max(MIN_BUDGET))
}

async fn probe(
    State(s): State<Arc<Server>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let t0 = Instant::now();
    let (raw, module_name) = match params(q.as_deref()) {
        Ok(p) => p,
        Err(resp) => {
            s.health.record(Outcome::BadRequest, None);
            return resp.into_response();
        }
    };
    let module_name = module_name.unwrap_or_else(|| "default".into());
    let Some(module) = s.modules.get(&module_name) else {
        s.health.record(Outcome::BadRequest, None);
        let names: Vec<&str> = s.modules.keys().take(20).map(String::as_str).collect();
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown module {:?}: the config defines {}",
                echo(&module_name),
                names.join(", ")
            ),
        );
    };
    let budget = match budget(&headers, module) {
        Ok(b) => b,
        Err(resp) => {
            s.health.record(Outcome::BadRequest, None);
            return resp.into_response();
        }
    };
    let (target, trust) = match s.resolve_target(&raw, module) {
        Ok(x) => x,
        Err(resp) => {
            let outcome = if resp.0 == StatusCode::FORBIDDEN {
                Outcome::Forbidden
            } else {
                Outcome::BadRequest
            };
            s.health.record(outcome, None);
            return resp.into_response();
        }
    };
    // Wait for a slot only within the budget.
    let slot = match tokio::time::timeout(budget, s.slots.clone().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => {
            s.health.record(Outcome::Busy, None);
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "busy: {} probes are running (--concurrency); try again",
                    s.max_in_flight
                ),
            );
        }
    };
    let left = budget.saturating_sub(t0.elapsed()).max(MIN_BUDGET);
    let mut opts = module.opts.clone();
    let step = module.timeout.min(left);
    opts.probe.timeout = step;
    opts.enrich.timeout = step;
    s.health.in_flight.inc();
    let report = s.engine.check_within(&target, &trust, &opts, left).await;
    s.health.in_flight.dec();
    drop(slot);
    let secs = t0.elapsed().as_secs_f64();
    s.health.record(Outcome::Done(report.status), Some(secs));
    let body = metrics::probe_text(&report);
    s.remember(target.host_port(), &module.name, Arc::new(report));
    metrics_response(body)
}

fn metrics_response(body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(metrics::CONTENT_TYPE),
    );
    r
}

async fn metrics_page(State(s): State<Arc<Server>>) -> Response {
    let cache = s.engine.fetch_cache();
    let cache_reg = Health::cache_registry(cache.hits(), cache.misses());
    let watched = s
        .watch
        .as_ref()
        .map(|w| w.latest.lock().unwrap_or_else(|e| e.into_inner()).clone());
    let body = match &watched {
        Some(latest) => {
            let items: Vec<(Vec<(String, String)>, &Report)> = latest
                .iter()
                .flatten()
                .map(|r| {
                    (
                        vec![("target".to_string(), metrics::label(&r.target.host_port()))],
                        r.as_ref(),
                    )
                })
                .collect();
            let reg = metrics::reports_registry(&items);
            metrics::encode(&[&s.health.registry, &cache_reg, &reg])
        }
        None => metrics::encode(&[&s.health.registry, &cache_reg]),
    };
    metrics_response(body)
}

async fn report(State(s): State<Arc<Server>>, RawQuery(q): RawQuery) -> Response {
    let (raw, module) = match params(q.as_deref()) {
        Ok(p) => p,
        Err(resp) => return resp.into_response(),
    };
    // The key a probe was stored under: the target as parsed.
    let key = Target::parse(&raw, 443)
        .map(|t| t.host_port())
        .unwrap_or(raw.clone());
    let found = {
        let r = s.recent.lock().unwrap_or_else(|e| e.into_inner());
        r.iter()
            .rev()
            .find(|x| {
                (x.key == key || x.report.target.host_port() == key)
                    && module.as_ref().is_none_or(|m| *m == x.module)
            })
            .map(|x| x.report.clone())
    };
    let found = found.or_else(|| {
        let w = s.watch.as_ref()?;
        let latest = w.latest.lock().unwrap_or_else(|e| e.into_inner());
        latest
            .iter()
            .flatten()
            .find(|r| r.target.host_port() == key)
            .cloned()
    });
    let Some(r) = found else {
        return text(
            StatusCode::NOT_FOUND,
            format!(
                "no recent probe of {}: GET /probe?target={} first",
                echo(&key),
                page::url_encode(&key)
            ),
        );
    };
    let doc = serde_json::json!({ "version": 1, "results": [r.to_json()] });
    let body = serde_json::to_string_pretty(&doc).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body + "\n").into_response()
}

async fn index(State(s): State<Arc<Server>>) -> Response {
    let recent: Vec<(String, Arc<Report>)> = {
        let r = s.recent.lock().unwrap_or_else(|e| e.into_inner());
        r.iter()
            .rev()
            .map(|x| (x.module.clone(), x.report.clone()))
            .collect()
    };
    let watched: Vec<Arc<Report>> = s
        .watch
        .as_ref()
        .map(|w| {
            w.latest
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .flatten()
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let html = page::render(&recent, &watched, s.watch.as_ref().map(|w| w.interval));
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// Probe the hosts file's targets every `interval`, spread evenly, keeping
/// the latest report of each.
async fn watch(s: Arc<Server>) {
    let Some(w) = &s.watch else { return };
    let n = w.targets.len().max(1) as u32;
    let module = s.modules.get("default").cloned();
    let Some(module) = module else { return };
    // Its own slots: the watch never takes a scrape's.
    let slots = Arc::new(Semaphore::new(s.max_in_flight));
    loop {
        let round = tokio::time::Instant::now();
        for (i, (target, trust)) in w.targets.iter().enumerate() {
            tokio::time::sleep_until(round + w.interval / n * i as u32).await;
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (s2, target, trust, opts) = (
                s.clone(),
                target.clone(),
                trust.clone(),
                module.opts.clone(),
            );
            // Each probe is bounded so a silent host never holds a slot past
            // three steps of the timeout.
            let limit = module.timeout.saturating_mul(3);
            tokio::spawn(async move {
                let r = s2.engine.check_within(&target, &trust, &opts, limit).await;
                s2.health
                    .record(Outcome::Done(r.status), Some(r.elapsed_ms as f64 / 1000.0));
                if let Some(w) = &s2.watch {
                    let mut l = w.latest.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(slot) = l.get_mut(i) {
                        *slot = Some(Arc::new(r));
                    }
                }
                drop(slot);
            });
        }
        tokio::time::sleep_until(round + w.interval).await;
    }
}

/// `certscope serve`: listen and answer until Ctrl-C or SIGTERM. The first
/// line on stdout says where it listens (`--listen` port 0 picks one).
pub async fn run(args: ServeArgs) -> Result<i32, String> {
    let server = Arc::new(Server::new(&args)?);
    if server.allow.is_empty() && server.hosts.is_empty() && !server.allow_any {
        eprintln!(
            "certscope serve: warning: no target is allowed yet; every /probe answers 403. \
             Use --allow PATTERN, [allow] in --config, --hosts-file, or --allow-any-target"
        );
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr: SocketAddr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "certscope serve: listening on http://{addr}/");
        let _ = out.flush();
    }
    eprintln!(
        "certscope serve: {} module(s); probe with http://{addr}/probe?target=HOST:PORT; Ctrl-C stops",
        server.modules.len()
    );
    let watcher = server
        .watch
        .is_some()
        .then(|| tokio::spawn(watch(server.clone())));
    let app = server.clone().router();
    serve_connections(listener, app, shutdown_signal()).await;
    if let Some(w) = watcher {
        w.abort();
    }
    Ok(0)
}

/// At most this many client connections at once; more are closed at once.
const MAX_CONNECTIONS: usize = 1024;
/// A client must send a request's headers within this (idle keep-alive
/// connections are closed after it too).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a graceful shutdown waits for answers in progress.
const DRAIN: Duration = Duration::from_secs(10);

/// Accept and serve HTTP/1.1 connections until `stop` completes, then let
/// the requests in progress finish (for at most [`DRAIN`]).
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    stop: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let conns = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Ok(permit) = conns.clone().try_acquire_owned() else {
            tracing::warn!("too many connections; closing a new one");
            continue;
        };
        let svc = TowerToHyperService::new(app.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .max_header_size(16 * 1024)
            .serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
