//! The context every rule reads: the parsed certificates, the path a
//! client builds, the trust store, the instant and the options. Rules
//! build their findings through it so client texts and fix steps are
//! filled in one place.

use crate::diagnose::fix::{Facts, FixContext};
use crate::report::finding::{Code, Finding, Severity};
use crate::report::observation::Observation;
use crate::x509::cert::CertInfo;
use crate::x509::chain;
use crate::x509::trust::TrustStore;

/// Diagnosis options (thresholds from the command line).
#[derive(Debug, Clone, Default)]
pub struct DiagnoseOptions {
    /// `--warn-days`: overrides the lifetime-based warning window.
    pub warn_days: Option<u32>,
    /// `--crit-days`: below this many days left, `expiring-soon` is critical.
    pub crit_days: Option<u32>,
    /// Do not check the leaf against a host name (`inspect` without `--name`).
    pub skip_name: bool,
}

/// Everything a rule needs to know about the target, in one place.
pub struct Ctx<'a> {
    pub certs: &'a [std::sync::Arc<CertInfo>],
    pub trust: &'a TrustStore,
    pub now: i64,
    pub opts: &'a DiagnoseOptions,
    pub fix: FixContext,
    pub name: String,
    pub walk: chain::ChainWalk,
    /// `certs[..presented]` were sent; the rest were fetched from AIA.
    pub presented: usize,
    pub obs: &'a Observation,
}

impl Ctx<'_> {
    /// Build a finding with the catalog's client texts and fix steps.
    pub fn finding(
        &self,
        code: Code,
        severity: Severity,
        cert: Option<usize>,
        title: String,
        detail: String,
        facts: &Facts,
    ) -> Finding {
        Finding {
            code,
            severity,
            cert,
            title,
            detail,
            clients: crate::diagnose::clients::clients(code, facts.intermediate),
            fix: crate::diagnose::fix::steps(code, &self.fix, facts),
            addresses: Vec::new(),
        }
    }

    /// How to say where the certificates came from: "The server sent", or,
    /// for a chain read from a file (an observation with a label), "The file holds".
    pub fn sender(&self) -> &'static str {
        if self.obs.origin.file().is_some() {
            "The file holds"
        } else {
            "The server sent"
        }
    }

    /// The probe's own time (unix seconds): when the certificates were seen.
    pub fn checked_at(&self) -> i64 {
        self.obs.started_at
    }

    /// The instant judged is not the time of the check (`--at`): findings
    /// about dates then speak of that instant, not of now.
    pub fn hypothetical(&self) -> bool {
        self.now != self.obs.started_at
    }

    /// A short label for certificate `i`: "the leaf" or "intermediate 'CN'".
    pub fn label(&self, i: usize) -> String {
        let name = self
            .certs
            .get(i)
            .map(|c| c.display_name())
            .unwrap_or_default();
        if i == 0 {
            format!("the leaf certificate ({name})")
        } else if self.certs.get(i).is_some_and(|c| c.is_self_signed()) {
            format!("the root certificate '{name}' (#{i})")
        } else {
            format!("the intermediate '{name}' (#{i})")
        }
    }
}
