//! x509-limbo's server-validation cases (BetterTLS included) through the
//! library: certscope's verdict (no critical finding = accepted) against
//! limbo's expectation. The vectors are read from `../shared/limbo/`
//! (see its README); they are not copied into the repository.
//!
//! Every disagreement must be either in rustls-webpki's own list of
//! deliberate divergences (`webpki-exceptions.json` there) or in README's
//! table "Where certscope differs from x509-limbo", with its reason. The
//! count of each kind is printed and asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;

use certscope::diagnose::{DiagnoseOptions, diagnose};
use certscope::report::Report;
use certscope::report::finding::{Code, Severity, Status};
use certscope::testkit::observation;
use certscope::x509::cert::parse_certificates;
use certscope::x509::trust::{AnchorOrigin, TrustStore};
use serde_json::Value;

/// The instant limbo-short's README asks for when a case has no time.
const SHORT_NOW: &str = "2026-11-30T10:21:00Z";

/// Where the vectors are: `CERTSCOPE_LIMBO_DIR`, else `../shared/limbo`
/// beside the checkout, else beside the repository it was cloned from (a
/// clean clone elsewhere, as CI makes, still finds the project's copy).
fn limbo_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CERTSCOPE_LIMBO_DIR") {
        return PathBuf::from(d);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut tried = vec![here.join("../shared/limbo")];
    let origin = std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "remote",
            "get-url",
            "origin",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(o) = origin.filter(|o| std::path::Path::new(o).is_dir()) {
        tried.push(PathBuf::from(o).join("../shared/limbo"));
    }
    tried
        .iter()
        .find(|d| d.join("limbo.json.gz").is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "x509-limbo's vectors are needed for this test; looked in {tried:?} (set CERTSCOPE_LIMBO_DIR)"
            )
        })
}

fn load(file: &str) -> Vec<Value> {
    let path = limbo_dir().join(file);
    let gz = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{} is needed for this test (x509-limbo's vectors): {e}",
            path.display()
        )
    });
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_string(&mut text)
        .expect("gzip");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["testcases"]
        .as_array()
        .expect("testcases")
        .iter()
        .filter(|t| t["validation_kind"] == "SERVER")
        .cloned()
        .collect()
}

fn instant(s: &str) -> i64 {
    certscope::cli::parse_at(s).expect("an RFC 3339 instant")
}

fn pems(v: &Value) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for p in v.as_array().into_iter().flatten() {
        if let Some(s) = p.as_str() {
            out.extend(parse_certificates(s.as_bytes()).unwrap_or_default());
        }
    }
    out
}

/// certscope's verdict on one case: accepted, and the codes of its
/// critical findings (why it refused).
pub struct Verdict {
    pub accepted: bool,
    pub why: Vec<Code>,
    pub report: Option<Report>,
}

fn judge(t: &Value, default_now: i64) -> Verdict {
    let now = t["validation_time"]
        .as_str()
        .map(instant)
        .unwrap_or(default_now);
    let trusted = pems(&t["trusted_certs"]);
    let Ok(trust) = TrustStore::from_ders(&trusted, AnchorOrigin::CaFile("limbo-roots.pem".into()))
    else {
        return Verdict {
            accepted: false,
            why: vec![Code::UntrustedRoot],
            report: None,
        };
    };
    let mut chain = pems(&serde_json::json!([t["peer_certificate"]]));
    chain.extend(pems(&t["untrusted_intermediates"]));
    let name = t["expected_peer_name"]["value"].as_str().unwrap_or("");
    let target = if name.contains(':') {
        format!("[{name}]:443")
    } else {
        format!("{name}:443")
    };
    let Ok(_) = certscope::target::Target::parse(&target, 443) else {
        return Verdict {
            accepted: false,
            why: vec![Code::HostnameMismatch],
            report: None,
        };
    };
    let report = diagnose(
        &observation(&target, chain, now),
        &trust,
        now,
        &DiagnoseOptions::default(),
    );
    let why: Vec<Code> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .map(|f| f.code)
        .collect();
    Verdict {
        accepted: report.status != Status::Critical && report.status != Status::Error,
        why,
        report: Some(report),
    }
}

/// README's table of documented divergences: test ids (or id prefixes
/// ending in `*`) in backticks in the first column.
fn documented(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README");
    let section = readme
        .split(&format!("### {heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("README has a section '{heading}'"));
    let section = section.split("\n#").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('`').nth(1).map(str::to_string))
        .collect()
}

fn is_documented(id: &str, doc: &[String]) -> bool {
    doc.iter().any(|d| match d.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => d == id,
    })
}

struct Tally {
    cases: usize,
    agree: usize,
    bettertls_paths: (usize, usize),
    lifetime_refusals: Vec<String>,
    webpki_listed: Vec<String>,
    documented: Vec<String>,
    unexplained: Vec<String>,
    refused_for: BTreeMap<String, usize>,
}

fn run(file: &str, default_now: i64, sections: &[&str]) -> Tally {
    let cases = load(file);
    let exceptions: Value = serde_json::from_str(
        &std::fs::read_to_string(limbo_dir().join("webpki-exceptions.json")).expect("exceptions"),
    )
    .expect("json");
    let doc: Vec<String> = sections.iter().flat_map(|h| documented(h)).collect();
    let mut tally = Tally {
        cases: cases.len(),
        agree: 0,
        bettertls_paths: (0, 0),
        lifetime_refusals: Vec::new(),
        webpki_listed: Vec::new(),
        documented: Vec::new(),
        unexplained: Vec::new(),
        refused_for: BTreeMap::new(),
    };
    for t in &cases {
        let id = t["id"].as_str().unwrap_or("?").to_string();
        let want = t["expected_result"] == "SUCCESS";
        let v = judge(t, default_now);
        if id.starts_with("bettertls::pathbuilding::") {
            tally.bettertls_paths.1 += 1;
            if v.accepted == want {
                tally.bettertls_paths.0 += 1;
            }
        }
        if v.why.contains(&Code::LongValidity) {
            tally.lifetime_refusals.push(id.clone());
        }
        if !v.accepted {
            let codes: BTreeSet<&str> = v.why.iter().map(|c| c.as_str()).collect();
            let key = codes.into_iter().collect::<Vec<_>>().join("+");
            *tally.refused_for.entry(key).or_default() += 1;
        }
        if v.accepted == want {
            tally.agree += 1;
        } else if exceptions.get(&id).is_some() {
            tally.webpki_listed.push(id);
        } else if is_documented(&id, &doc) {
            tally.documented.push(id);
        } else {
            let why = v
                .report
                .as_ref()
                .map(|r| {
                    r.findings
                        .iter()
                        .map(|f| format!("{}[{:?}]: {}", f.code, f.severity, f.detail))
                        .collect::<Vec<_>>()
                        .join(" | ")
                })
                .unwrap_or_default();
            tally.unexplained.push(format!(
                "{id} (limbo: {}, certscope: {}) {why}",
                if want { "accept" } else { "refuse" },
                if v.accepted { "accepts" } else { "refuses" },
            ));
        }
    }
    println!(
        "{file}: {} cases; agree {}; in webpki's exceptions {}; documented in README {}; unexplained {}",
        cases.len(),
        tally.agree,
        tally.webpki_listed.len(),
        tally.documented.len(),
        tally.unexplained.len()
    );
    println!("refused for: {:?}", tally.refused_for);
    println!(
        "BetterTLS path building: {} of {} agree",
        tally.bettertls_paths.0, tally.bettertls_paths.1
    );
    for u in tally.unexplained.iter().take(400) {
        println!("UNEXPLAINED {u}");
    }
    tally
}

#[test]
fn limbo_full() {
    let t = run(
        "limbo.json.gz",
        instant(SHORT_NOW),
        &["Where certscope differs from x509-limbo"],
    );
    assert!(
        t.unexplained.is_empty(),
        "{} disagreements neither in webpki's exceptions nor in README",
        t.unexplained.len()
    );
    assert_eq!(t.cases, 9770);
    assert_eq!(t.bettertls_paths, (81, 81), "BetterTLS path building");
    assert_eq!(t.webpki_listed.len(), 54, "{:?}", t.webpki_listed);
    assert_eq!(t.documented.len(), 5, "{:?}", t.documented);
    assert_eq!(t.agree, 9770 - 54 - 5);
    assert!(t.lifetime_refusals.is_empty(), "{:?}", t.lifetime_refusals);
}

#[test]
fn limbo_short() {
    let t = run(
        "limbo-short.json.gz",
        instant(SHORT_NOW),
        &[
            "Where certscope differs from x509-limbo",
            "Where certscope differs from limbo-short",
        ],
    );
    assert!(
        t.unexplained.is_empty(),
        "{} disagreements neither in webpki's exceptions nor in README",
        t.unexplained.len()
    );
    // No chain is refused for its lifetime: every refusal names another reason.
    assert!(t.lifetime_refusals.is_empty(), "{:?}", t.lifetime_refusals);
    assert_eq!(t.cases, 198);
    assert_eq!(t.webpki_listed.len(), 53, "{:?}", t.webpki_listed);
    assert_eq!(t.documented.len(), 8, "{:?}", t.documented);
    assert_eq!(t.agree, 198 - 53 - 8);
}

#[test]
#[ignore = "a tool for looking at verdicts: LIMBO_CODE=verification-failed cargo test --test limbo -- --ignored --nocapture"]
fn show() {
    let code = std::env::var("LIMBO_CODE").unwrap_or_default();
    let mut n = 0;
    for t in load("limbo.json.gz") {
        let v = judge(&t, instant(SHORT_NOW));
        if let Some(r) = &v.report
            && r.findings.iter().any(|f| f.code.as_str() == code)
            && std::env::var("LIMBO_ID")
                .is_ok_and(|p| t["id"].as_str().unwrap_or("").starts_with(&p))
            && n < 12
        {
            n += 1;
            println!("{} ({})", t["id"], t["expected_result"]);
            for f in &r.findings {
                println!("   {} {:?} {:?}: {}", f.code, f.severity, f.cert, f.detail);
            }
        }
    }
}
