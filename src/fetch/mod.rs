//! After the handshake, before the diagnosis: fetch what the certificates
//! point at. Missing intermediates from AIA caIssuers URLs (up to 3 hops),
//! then revocation evidence, CRL first and OCSP as the fallback. An AIA
//! issuer extends the target's parsed [`Chain`] (parsed once); each CRL or
//! OCSP answer is checked once here, at the diagnosis' instant, and its
//! verdict travels in `Observation::fetches` with the raw body.
//!
//! Bounded: every fetch has a size cap; the AIA hops of a target share one
//! deadline of `timeout`, and so do all its revocation lookups, so
//! unreachable URLs give `revocation-unknown` within `--timeout`, never a
//! hang. Fetches are cached by URL for the whole run (bounded; see
//! [`FetchCache`]).
//!
//! Owns: retrieval over HTTP (`http/`). Never imports `probe`, `diagnose`,
//! `run`, a mode, clap or the terminal.

pub mod http;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::fetch::http::Limits;
use crate::report::observation::{Checked, Fetch, FetchError, FetchKind, Observation};
use crate::x509::cert::CertInfo;
use crate::x509::chain::{Chain, PathEnd};
use crate::x509::crl::{self, CrlVerdict};
use crate::x509::ocsp::{self, OcspVerdict};
use crate::x509::trust::TrustStore;

/// What to fetch, and the bounds.
#[derive(Debug, Clone)]
pub struct EnrichOptions {
    /// Fetch missing intermediates from AIA caIssuers URLs (`--no-aia` turns off).
    pub aia: bool,
    /// Look up revocation (`--no-revocation` turns off).
    pub revocation: bool,
    pub timeout: Duration,
    /// Size caps.
    pub aia_max: usize,
    pub crl_max: usize,
    pub ocsp_max: usize,
    /// `--at`: judge CRL and OCSP answers at this instant (default: the
    /// probe's start), the same instant the diagnosis uses.
    pub at: Option<i64>,
}

impl Default for EnrichOptions {
    fn default() -> Self {
        EnrichOptions {
            aia: true,
            revocation: true,
            timeout: Duration::from_secs(10),
            aia_max: 1 << 20,
            crl_max: 20 << 20,
            ocsp_max: 1 << 20,
            at: None,
        }
    }
}

type Slot = Arc<OnceCell<Result<Vec<u8>, FetchError>>>;
type SlotKey = (String, Vec<u8>);

struct Entry {
    slot: Slot,
    at: Instant,
}

struct CacheInner {
    slots: Mutex<HashMap<SlotKey, Entry>>,
    /// Answers older than this are fetched again (`None`: kept for the run).
    ttl: Option<Duration>,
    max_entries: usize,
    max_bytes: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Fetch results shared by every target of a run, keyed by URL (and the
/// request body for OCSP), so a CRL or intermediate is fetched once.
///
/// Bounded: at most `max_entries` answers and `max_bytes` of bodies are
/// kept (the oldest go first); a long-running process (`serve`) also sets
/// a time to live, so revocation answers are fetched again.
#[derive(Clone)]
pub struct FetchCache {
    inner: Arc<CacheInner>,
}

impl std::fmt::Debug for FetchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchCache")
            .field("ttl", &self.inner.ttl)
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish_non_exhaustive()
    }
}

impl Default for FetchCache {
    fn default() -> Self {
        FetchCache::new(None, 4096, 256 << 20)
    }
}

impl FetchCache {
    /// A cache keeping answers for `ttl` (`None`: for its lifetime), at
    /// most `max_entries` of them and `max_bytes` of bodies in all.
    pub fn new(ttl: Option<Duration>, max_entries: usize, max_bytes: usize) -> FetchCache {
        FetchCache {
            inner: Arc::new(CacheInner {
                slots: Mutex::new(HashMap::new()),
                ttl,
                max_entries: max_entries.max(1),
                max_bytes,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
        }
    }

    /// Fetches answered from the cache (or joined while in flight).
    pub fn hits(&self) -> u64 {
        self.inner.hits.load(Ordering::Relaxed)
    }

    /// Fetches that went to the network.
    pub fn misses(&self) -> u64 {
        self.inner.misses.load(Ordering::Relaxed)
    }

    /// How many answers are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SlotKey, Entry>> {
        self.inner.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The slot for `key`: a fresh one (a miss) unless a live one exists.
    fn slot(&self, key: SlotKey) -> Slot {
        let inner = &self.inner;
        let now = Instant::now();
        let mut m = self.lock();
        if let Some(e) = m.get(&key)
            && inner.ttl.is_none_or(|ttl| now.duration_since(e.at) < ttl)
        {
            inner.hits.fetch_add(1, Ordering::Relaxed);
            return e.slot.clone();
        }
        inner.misses.fetch_add(1, Ordering::Relaxed);
        let slot = Slot::default();
        m.insert(
            key,
            Entry {
                slot: slot.clone(),
                at: now,
            },
        );
        Self::evict(&mut m, inner, now);
        slot
    }

    /// Drop expired answers, then the oldest until within the bounds.
    fn evict(m: &mut HashMap<SlotKey, Entry>, inner: &CacheInner, now: Instant) {
        if let Some(ttl) = inner.ttl {
            m.retain(|_, e| now.duration_since(e.at) < ttl);
        }
        let size = |e: &Entry| match e.slot.get() {
            Some(Ok(b)) => b.len(),
            _ => 0,
        };
        let mut bytes: usize = m.values().map(size).sum();
        while m.len() > inner.max_entries || (bytes > inner.max_bytes && m.len() > 1) {
            let Some(oldest) = m.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(e) = m.remove(&oldest) {
                bytes = bytes.saturating_sub(size(&e));
            }
        }
    }

    async fn get(
        &self,
        url: &str,
        post: Option<&[u8]>,
        limits: Limits,
    ) -> Result<Vec<u8>, FetchError> {
        let key = (
            url.to_string(),
            post.map(<[u8]>::to_vec).unwrap_or_default(),
        );
        let slot = self.slot(key);
        slot.get_or_init(|| {
            async {
                let r = match post {
                    Some(body) => http::post(url, "application/ocsp-request", body, &limits).await,
                    None => http::get(url, &limits).await,
                };
                match &r {
                    Ok(b) => tracing::debug!(bytes = b.len(), "fetched"),
                    Err(e) => tracing::debug!(error = %e, "fetch failed"),
                }
                r
            }
            .instrument(tracing::debug_span!("fetch", url))
        })
        .await
        .clone()
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

fn http_url(urls: &[String]) -> Option<&String> {
    urls.iter()
        .find(|u| u.to_ascii_lowercase().starts_with("http://"))
}

/// Fetch what `obs`'s certificates point at (see the module docs). Parses
/// the chain itself; the runner uses [`enrich_chain`] with the chain it
/// already holds.
pub async fn enrich(
    obs: &mut Observation,
    trust: &TrustStore,
    opts: &EnrichOptions,
    cache: &FetchCache,
) {
    let mut chain = Chain::parse(&obs.chain);
    enrich_chain(obs, &mut chain, trust, opts, cache).await;
}

/// Fetch what the certificates of `chain` point at: AIA issuers extend
/// `chain` (each parsed once), and each CRL or OCSP answer is checked once,
/// its verdict handed on in the [`Fetch`] for the diagnosis.
pub async fn enrich_chain(
    obs: &mut Observation,
    chain: &mut Chain,
    trust: &TrustStore,
    opts: &EnrichOptions,
    cache: &FetchCache,
) {
    if chain.certs.is_empty() {
        return;
    }
    if opts.aia {
        // Up to 3 hops, all within one `timeout`.
        let deadline = Instant::now() + opts.timeout;
        let now = opts.at.unwrap_or(obs.started_at);
        for _ in 0..3 {
            let Some(walk) = chain.walk(trust, now) else {
                break;
            };
            let PathEnd::IssuerMissing { top } = walk.end else {
                break;
            };
            // A sent certificate with the issuer's name but another key
            // (bad_signature) does not stop the fetch: the right issuer may
            // be at the AIA URL, as browsers that fetch it find.
            let Some(c) = chain.certs.get(top) else { break };
            let Some(url) = http_url(&c.aia_ca_issuers).cloned() else {
                break;
            };
            if obs
                .fetches
                .iter()
                .any(|f| f.kind == FetchKind::Aia && f.url == url)
            {
                break;
            }
            let for_cert = c.sha256.clone();
            let t = Instant::now();
            let left = deadline.saturating_duration_since(t);
            let result = if left.is_zero() {
                Err(FetchError::Timeout(format!("no time left to fetch {url}")))
            } else {
                cache
                    .get(
                        &url,
                        None,
                        Limits {
                            timeout: left,
                            max_bytes: opts.aia_max,
                        },
                    )
                    .await
            };
            if let Ok(body) = &result
                && let Ok(ders) = crate::x509::bundle::certs_from_body(body)
            {
                chain.extend_fetched(&ders, &url);
            }
            obs.fetches.push(Fetch {
                kind: FetchKind::Aia,
                url,
                for_cert,
                result,
                elapsed_ms: ms(t.elapsed()),
                checked: None,
            });
        }
    }
    if opts.revocation {
        obs.revocation_checked = true;
        revocation(obs, chain, trust, opts, cache).await;
    }
}

/// One certificate to look up and the key its evidence must be signed by.
struct Subject {
    cert: std::sync::Arc<CertInfo>,
    issuer_subject: Vec<u8>,
    issuer_spki: Vec<u8>,
    staple_ok: bool,
}

async fn revocation(
    obs: &mut Observation,
    chain: &mut Chain,
    trust: &TrustStore,
    opts: &EnrichOptions,
    cache: &FetchCache,
) {
    let deadline = Instant::now() + opts.timeout;
    let now = opts.at.unwrap_or(obs.started_at);
    let Some(walk) = chain.walk(trust, now) else {
        return;
    };
    let walk = walk.clone();
    let certs = &chain.certs;
    let mut subjects = Vec::new();
    for (k, &i) in walk.path.iter().enumerate() {
        let c = &certs[i];
        if c.is_self_signed() {
            continue;
        }
        let issuer = match walk.path.get(k + 1) {
            Some(&j) => Some((certs[j].subject_raw.clone(), certs[j].spki_der.clone())),
            None => match &walk.end {
                PathEnd::Anchored { anchor, .. } => trust
                    .anchors
                    .get(*anchor)
                    .map(|a| (a.subject_raw.clone(), a.spki_der.clone())),
                _ => None,
            },
        };
        let Some((issuer_subject, issuer_spki)) = issuer else {
            continue;
        };
        let mut staple_ok = false;
        if i == 0
            && let Some(s) = obs.ocsp_stapled.as_deref()
        {
            let v = ocsp::check(s, c, &issuer_subject, &issuer_spki, now);
            staple_ok = matches!(v, OcspVerdict::Good { .. } | OcspVerdict::Revoked { .. });
            obs.staple_checked = Some((now, v));
        }
        subjects.push(Subject {
            cert: c.clone(),
            issuer_subject,
            issuer_spki,
            staple_ok,
        });
    }
    // All certificates at once, each CRL first then OCSP, under one deadline.
    let jobs = subjects
        .iter()
        .map(|s| lookup(s, deadline, now, opts, cache));
    let results = futures_join(jobs).await;
    for r in results {
        obs.fetches.extend(r);
    }
}

/// Await every future concurrently on this task (a tiny join_all; the
/// lookups borrow the subjects, so they cannot be spawned).
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futs.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (f, res) in pending.iter_mut().zip(results.iter_mut()) {
            if res.is_none()
                && let Poll::Ready(v) = f.as_mut().poll(cx)
            {
                *res = Some(v);
            }
        }
        if results.iter().all(Option::is_some) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

async fn lookup(
    s: &Subject,
    deadline: Instant,
    now: i64,
    opts: &EnrichOptions,
    cache: &FetchCache,
) -> Vec<Fetch> {
    let mut fetches = Vec::new();
    let remaining = || deadline.saturating_duration_since(Instant::now());
    let mut usable = s.staple_ok;
    if !usable && let Some(url) = http_url(&s.cert.crl_urls) {
        let t = Instant::now();
        let result = match remaining() {
            d if d.is_zero() => Err(FetchError::Timeout("no time left for the CRL".into())),
            d => {
                cache
                    .get(
                        url,
                        None,
                        Limits {
                            timeout: d,
                            max_bytes: opts.crl_max,
                        },
                    )
                    .await
            }
        };
        let mut checked = None;
        if let Ok(body) = &result {
            let v = crl::check(body, &s.cert, &s.issuer_subject, &s.issuer_spki, now);
            usable = matches!(v, CrlVerdict::Good { .. } | CrlVerdict::Revoked { .. });
            checked = Some((now, Checked::Crl(v)));
        }
        fetches.push(Fetch {
            kind: FetchKind::Crl,
            url: url.clone(),
            for_cert: s.cert.sha256.clone(),
            result,
            elapsed_ms: ms(t.elapsed()),
            checked,
        });
    }
    if !usable && let Some(url) = http_url(&s.cert.aia_ocsp) {
        let t = Instant::now();
        let result = match ocsp::request(&s.cert, &s.issuer_subject, &s.issuer_spki) {
            Err(e) => Err(FetchError::Io(format!(
                "cannot build the OCSP request: {e}"
            ))),
            Ok(req) => match remaining() {
                d if d.is_zero() => Err(FetchError::Timeout(
                    "no time left for OCSP after the CRL".into(),
                )),
                d => {
                    cache
                        .get(
                            url,
                            Some(&req),
                            Limits {
                                timeout: d,
                                max_bytes: opts.ocsp_max,
                            },
                        )
                        .await
                }
            },
        };
        let checked = result.as_ref().ok().map(|body| {
            (
                now,
                Checked::Ocsp(ocsp::check(
                    body,
                    &s.cert,
                    &s.issuer_subject,
                    &s.issuer_spki,
                    now,
                )),
            )
        });
        fetches.push(Fetch {
            kind: FetchKind::Ocsp,
            url: url.clone(),
            for_cert: s.cert.sha256.clone(),
            result,
            elapsed_ms: ms(t.elapsed()),
            checked,
        });
    }
    fetches
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    fn key(i: usize) -> SlotKey {
        (format!("http://a.test/{i}"), Vec::new())
    }

    #[test]
    fn hits_misses_and_the_entry_bound() {
        let c = FetchCache::new(None, 3, usize::MAX);
        let a = c.slot(key(1));
        let b = c.slot(key(1));
        assert!(
            Arc::ptr_eq(&a, &b),
            "a second fetch of a URL joins the first"
        );
        assert_eq!((c.hits(), c.misses()), (1, 1));
        for i in 2..10 {
            c.slot(key(i));
        }
        assert_eq!(c.len(), 3, "at most max_entries answers are kept");
        c.slot(key(1));
        assert_eq!(c.misses(), 10, "the oldest answer was evicted");
    }

    #[test]
    fn answers_expire_after_the_ttl() {
        let c = FetchCache::new(Some(Duration::from_millis(20)), 16, usize::MAX);
        let a = c.slot(key(1));
        std::thread::sleep(Duration::from_millis(40));
        let b = c.slot(key(1));
        assert!(!Arc::ptr_eq(&a, &b), "an expired answer is fetched again");
        assert_eq!((c.hits(), c.misses()), (0, 2));
    }

    #[test]
    fn bodies_are_bounded_in_bytes() {
        let c = FetchCache::new(None, 100, 1000);
        for i in 0..5 {
            let s = c.slot(key(i));
            let _ = s.set(Ok(vec![0u8; 400]));
        }
        // A new miss evicts the oldest bodies until 1000 bytes are left.
        c.slot(key(99));
        let bytes: usize = c
            .lock()
            .values()
            .map(|e| match e.slot.get() {
                Some(Ok(b)) => b.len(),
                _ => 0,
            })
            .sum();
        assert!(bytes <= 1000, "{bytes} bytes held");
        assert!(c.len() >= 2);
    }
}
