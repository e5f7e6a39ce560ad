//! Reports as Prometheus metrics (OpenMetrics text, by the Prometheus
//! project's `prometheus-client`), and the exporter's own health.
//!
//! Timestamps are absolute Unix seconds, so alerts compute `... - time()`.
//! Certificate metrics are present whenever a certificate was obtained,
//! valid or not. Label values are sanitized (no control characters) and
//! cut to [`MAX_LABEL`] characters; a report exports at most [`MAX_CERTS`]
//! certificates and [`MAX_FINDINGS`] findings, so a hostile server cannot
//! blow up a series count.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::report::finding::Status;
use crate::report::{Report, RevState, Source};

/// The content type of every metrics answer.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Longest label value, in characters (longer ones end in `…`).
pub const MAX_LABEL: usize = 128;
/// Certificates exported per report.
pub const MAX_CERTS: usize = 16;
/// Findings exported per report.
pub const MAX_FINDINGS: usize = 32;

type Labels = Vec<(String, String)>;
type G = Family<Labels, Gauge<f64, AtomicU64>>;

/// A label value: control characters become `?`, at most [`MAX_LABEL`]
/// characters.
pub fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_LABEL));
    for (n, c) in s.chars().enumerate() {
        if n == MAX_LABEL - 1 {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '?' } else { c });
    }
    out
}

fn with(base: &Labels, more: &[(&str, String)]) -> Labels {
    let mut l = base.clone();
    l.extend(more.iter().map(|(k, v)| ((*k).to_string(), label(v))));
    l
}

/// The 0-3 of `certscope_probe_status`, as the exit codes.
pub fn status_value(s: Status) -> f64 {
    match s {
        Status::Ok => 0.0,
        Status::Warning => 1.0,
        Status::Critical => 2.0,
        Status::Error => 3.0,
    }
}

/// Where a chain entry sits: `leaf` (the first one sent), `root`
/// (self-signed CA, or the store's anchor) or `intermediate`.
fn position(r: &Report, i: usize) -> &'static str {
    let Some(e) = r.chain.get(i) else {
        return "intermediate";
    };
    if i == 0 && matches!(e.source, Source::Server | Source::File) {
        "leaf"
    } else if e.source == Source::Store || (e.info.is_ca && e.info.is_self_signed()) {
        "root"
    } else {
        "intermediate"
    }
}

fn source(s: Source) -> &'static str {
    match s {
        Source::Server => "server",
        Source::File => "file",
        Source::Aia => "aia",
        Source::Store => "store",
    }
}

fn rev_status(r: &RevState) -> &'static str {
    match r {
        RevState::Good { .. } => "good",
        RevState::Revoked { .. } => "revoked",
        RevState::Unknown { .. } => "unknown",
        RevState::NotChecked { .. } => "not-checked",
    }
}

/// The earliest notAfter on the path a client builds (the certificates
/// sent when no path was built), if any certificate was obtained.
pub fn chain_expiry(r: &Report) -> Option<i64> {
    let on_path = r.path.iter().filter_map(|&i| r.chain.get(i));
    let min = on_path.map(|e| e.info.not_after).min();
    min.or_else(|| {
        r.chain
            .iter()
            .filter(|e| e.source == Source::Server)
            .map(|e| e.info.not_after)
            .min()
    })
}

/// One registry holding the metrics of `reports`, each with its base
/// labels (none for `/probe`, `target` for the watch in `/metrics`).
pub fn reports_registry(reports: &[(Labels, &Report)]) -> Registry {
    let mut reg = Registry::default();
    let fam = |reg: &mut Registry, name: &str, help: &str| {
        let f = G::default();
        reg.register(name, help, f.clone());
        f
    };
    let success = fam(
        &mut reg,
        "certscope_probe_success",
        "1 when a certificate chain was obtained (valid or not)",
    );
    let status = fam(
        &mut reg,
        "certscope_probe_status",
        "Overall verdict: 0 ok, 1 warning, 2 critical, 3 error (as certscope check's exit codes)",
    );
    let duration = fam(
        &mut reg,
        "certscope_probe_duration_seconds",
        "How long the probe took: handshake, fetches and diagnosis",
    );
    let not_after = fam(
        &mut reg,
        "certscope_cert_not_after_timestamp_seconds",
        "notAfter of each certificate presented or fetched, Unix seconds",
    );
    let not_before = fam(
        &mut reg,
        "certscope_cert_not_before_timestamp_seconds",
        "notBefore of each certificate presented or fetched, Unix seconds",
    );
    let expiry = fam(
        &mut reg,
        "certscope_chain_expiry_timestamp_seconds",
        "The earliest notAfter on the path a client builds, Unix seconds",
    );
    let finding = fam(
        &mut reg,
        "certscope_finding",
        "1 for each finding: why the probe is not ok (see certscope's finding catalogue)",
    );
    let tls = fam(
        &mut reg,
        "certscope_tls_version_info",
        "The TLS version negotiated",
    );
    let stapled = fam(
        &mut reg,
        "certscope_ocsp_stapled",
        "1 when the server stapled an OCSP response",
    );
    let revocation = fam(
        &mut reg,
        "certscope_cert_revocation_status",
        "1 for each certificate's revocation status: good, revoked, unknown or not-checked",
    );
    let info = fam(
        &mut reg,
        "certscope_target_info",
        "1, with the target's labels from the hosts file (comma-separated)",
    );
    for (base, r) in reports {
        success
            .get_or_create(base)
            .set(if r.chain.is_empty() { 0.0 } else { 1.0 });
        status.get_or_create(base).set(status_value(r.status));
        duration
            .get_or_create(base)
            .set(r.elapsed_ms as f64 / 1000.0);
        for (i, e) in r.chain.iter().enumerate().take(MAX_CERTS) {
            let c = &e.info;
            let l = with(
                base,
                &[
                    ("index", i.to_string()),
                    ("position", position(r, i).into()),
                    ("source", source(e.source).into()),
                    ("subject_cn", c.subject_cn.clone().unwrap_or_default()),
                    ("issuer_cn", c.issuer_cn.clone().unwrap_or_default()),
                    ("serial", c.serial.clone()),
                    ("sha256", c.sha256.clone()),
                ],
            );
            not_after.get_or_create(&l).set(c.not_after as f64);
            not_before.get_or_create(&l).set(c.not_before as f64);
            if let Some(rev) = &e.revocation {
                let l = with(
                    base,
                    &[
                        ("index", i.to_string()),
                        ("sha256", c.sha256.clone()),
                        ("status", rev_status(rev).into()),
                    ],
                );
                revocation.get_or_create(&l).set(1.0);
            }
        }
        if let Some(t) = chain_expiry(r) {
            expiry.get_or_create(base).set(t as f64);
        }
        for f in r.findings.iter().take(MAX_FINDINGS) {
            let l = with(
                base,
                &[
                    ("code", f.code.to_string()),
                    ("severity", f.severity.as_str().into()),
                    ("cert", f.cert.map(|c| c.to_string()).unwrap_or_default()),
                ],
            );
            finding.get_or_create(&l).set(1.0);
        }
        if let Some(t) = &r.tls {
            tls.get_or_create(&with(base, &[("version", t.version.clone())]))
                .set(1.0);
            stapled
                .get_or_create(base)
                .set(if t.ocsp_stapled { 1.0 } else { 0.0 });
        }
        if !r.target.labels.is_empty() {
            let joined = r.target.labels.join(",");
            info.get_or_create(&with(base, &[("labels", joined)]))
                .set(1.0);
        }
    }
    reg
}

/// The OpenMetrics text of `registries`, in order, then `# EOF`.
pub fn encode(registries: &[&Registry]) -> String {
    let mut out = String::new();
    for r in registries {
        if let Err(e) = encode_registry(&mut out, r) {
            tracing::warn!(error = %e, "encoding metrics");
        }
    }
    let _ = encode_eof(&mut out);
    out
}

/// `/probe`'s answer for one report.
pub fn probe_text(r: &Report) -> String {
    encode(&[&reports_registry(&[(Vec::new(), r)])])
}

/// The exporter's own health, for `/metrics`.
pub struct Health {
    pub registry: Registry,
    probes: Family<Labels, Counter>,
    duration: Histogram,
    pub in_flight: Gauge,
}

/// What became of one `/probe` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done(Status),
    Forbidden,
    BadRequest,
    Busy,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Done(s) => s.as_str(),
            Outcome::Forbidden => "forbidden",
            Outcome::BadRequest => "bad-request",
            Outcome::Busy => "busy",
        }
    }
}

impl Default for Health {
    fn default() -> Self {
        let mut registry = Registry::default();
        let build = G::default();
        registry.register(
            "certscope_build_info",
            "1, with the certscope version",
            build.clone(),
        );
        build
            .get_or_create(&vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )])
            .set(1.0);
        let probes = Family::<Labels, Counter>::default();
        registry.register(
            "certscope_exporter_probes",
            "Probe requests by result: ok, warning, critical, error, forbidden, bad-request, busy",
            probes.clone(),
        );
        // Every result is present from the start, so rate() works at once.
        for r in [
            "ok",
            "warning",
            "critical",
            "error",
            "forbidden",
            "bad-request",
            "busy",
        ] {
            let _ = probes.get_or_create(&vec![("result".to_string(), r.to_string())]);
        }
        let duration = Histogram::new(exponential_buckets(0.05, 2.0, 10));
        registry.register(
            "certscope_exporter_probe_duration_seconds",
            "How long probes took",
            duration.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "certscope_exporter_probes_in_flight",
            "Probes running now",
            in_flight.clone(),
        );
        Health {
            registry,
            probes,
            duration,
            in_flight,
        }
    }
}

impl Health {
    /// Count a request, and its duration when it probed.
    pub fn record(&self, outcome: Outcome, seconds: Option<f64>) {
        self.probes
            .get_or_create(&vec![("result".to_string(), outcome.as_str().to_string())])
            .inc();
        if let Some(s) = seconds {
            self.duration.observe(s);
        }
    }

    /// The fetch cache's counters, read now.
    pub fn cache_registry(hits: u64, misses: u64) -> Registry {
        let mut r = Registry::default();
        r.register(
            "certscope_exporter_fetch_cache_hits",
            "AIA, CRL and OCSP fetches answered from the cache",
            ConstCounter::new(hits),
        );
        r.register(
            "certscope_exporter_fetch_cache_misses",
            "AIA, CRL and OCSP fetches that went to the network",
            ConstCounter::new(misses),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_clean_and_bounded() {
        assert_eq!(label("a\u{1b}[31mb\nc"), "a?[31mb?c");
        let long = "x".repeat(1000);
        let l = label(&long);
        assert_eq!(l.chars().count(), MAX_LABEL);
        assert!(l.ends_with('…'));
        assert_eq!(label("short"), "short");
    }

    #[test]
    fn health_encodes_every_result() {
        let h = Health::default();
        h.record(Outcome::Done(Status::Critical), Some(0.2));
        h.record(Outcome::Forbidden, None);
        let text = encode(&[&h.registry, &Health::cache_registry(3, 4)]);
        assert!(
            text.contains("certscope_exporter_probes_total{result=\"critical\"} 1"),
            "{text}"
        );
        assert!(text.contains("certscope_exporter_probes_total{result=\"forbidden\"} 1"));
        assert!(text.contains("certscope_exporter_probes_total{result=\"busy\"} 0"));
        assert!(text.contains("certscope_exporter_fetch_cache_hits_total 3"));
        assert!(text.contains("certscope_exporter_probe_duration_seconds_count 1"));
        assert!(text.ends_with("# EOF\n"));
    }
}
