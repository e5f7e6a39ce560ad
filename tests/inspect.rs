//! `certscope inspect FILE...` on files made by the `openssl` command-line
//! tool at test time (root -> intermediate -> leaf for inspect.test), run
//! through the real binary: a good chain, a reversed one, keys that do and
//! do not match, a bundle with an extra certificate, a DER leaf, a wrong
//! name, and bad files. Plus the TUI's `--file` model, without a terminal.
//!
//! The `openssl` binary is required: without it these tests fail rather
//! than silently pass. Every child process is bounded in time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{BIN, CA_SECTIONS, EC, Run, openssl, req_csr, req_self_signed, x509_sign};
use serde_json::Value;
use tempfile::TempDir;

/// How long one `sh` command or one run of certscope may take.
const LIMIT: Duration = Duration::from_secs(30);

/// Run `program ARGS` in `dir` with stdin closed; kill it past [`LIMIT`].
fn run_in(dir: &Path, program: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    let shown = format!("{program} {}", args.join(" "));
    common::run_bounded(cmd, &shown, LIMIT).into_run(args.iter().map(|a| a.to_string()).collect())
}

// ---------------------------------------------------------------------------
// The PKI

const LEAF_SECTION: &str = r#"[ leaf ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:inspect.test
"#;

/// root.pem -> inter.pem -> leaf.pem (inspect.test, EC key leaf.key in
/// PKCS#8), and the files built from them.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let d = dir.path();
        fs::write(d.join("pki.cnf"), format!("{CA_SECTIONS}\n{LEAF_SECTION}"))
            .expect("write the config");
        req_self_signed(
            d,
            &EC,
            "root.key",
            "root.pem",
            "3650",
            "/CN=certscope Inspect Root",
            "pki.cnf",
            Some("v3_root"),
        );
        let pki = Pki { dir };
        pki.sign(
            "inter",
            "/CN=certscope Inspect Intermediate",
            "root",
            "v3_inter",
            &EC,
        );
        pki.sign("leaf", "/CN=inspect.test", "inter", "leaf", &EC);
        pki.cat("good.pem", &["leaf.pem", "inter.pem"]);
        pki
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `NAME.key` + `NAME.pem` for `subj`, issued by `ca` with extension
    /// section `ext`; `newkey` picks the key type.
    fn sign(&self, name: &str, subj: &str, ca: &str, ext: &str, newkey: &[&str]) {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        req_csr(self.path(), newkey, &key, &csr, subj, "pki.cnf");
        let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        x509_sign(
            self.path(),
            &csr,
            &ca_pem,
            &ca_key,
            "90",
            "pki.cnf",
            ext,
            &pem,
        );
    }

    fn cat(&self, out: &str, parts: &[&str]) {
        let mut all = Vec::new();
        for p in parts {
            all.extend(fs::read(self.path().join(p)).expect("read a PEM part"));
        }
        fs::write(self.path().join(out), all).expect("write a bundle");
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// `certscope inspect --trust-store none --ca-file root.pem ARGS`.
    fn inspect(&self, args: &[&str]) -> Run {
        let mut full = vec!["inspect", "--trust-store", "none", "--ca-file", "root.pem"];
        full.extend_from_slice(args);
        let o = run_in(self.path(), BIN, &full);
        for s in [&o.stdout, &o.stderr] {
            assert!(!s.contains("panicked"), "certscope {full:?} panicked:\n{s}");
        }
        o
    }

    /// `inspect ... --json`: (exit code, the one result).
    fn json(&self, args: &[&str]) -> (Option<i32>, Value) {
        let mut full = args.to_vec();
        full.push("--json");
        let o = self.inspect(&full);
        let doc: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not JSON ({e})\nstdout:\n{}\nstderr:\n{}",
                o.stdout, o.stderr
            )
        });
        let results = doc["results"].as_array().expect("results").clone();
        assert_eq!(results.len(), 1, "{doc:#}");
        (o.code, results[0].clone())
    }
}

fn codes(result: &Value) -> Vec<String> {
    result["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn finding<'a>(result: &'a Value, code: &str) -> &'a Value {
    result["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} finding in {result:#}"))
}

fn commands(f: &Value) -> Vec<String> {
    f["fix"]
        .as_array()
        .expect("fix")
        .iter()
        .filter_map(|s| s["command"].as_str().map(str::to_string))
        .collect()
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn good_chain_is_ok_in_every_format() {
    let pki = Pki::new();
    let (code, r) = pki.json(&["--name", "inspect.test", "good.pem"]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["status"], "ok", "{r:#}");
    assert_eq!(r["target"], "good.pem");
    assert_eq!(r["chain"][0]["subject"], "CN=inspect.test");
    assert_eq!(
        r["chain"][0]["source"], "file",
        "read from the file, not sent by a server"
    );
    assert_eq!(r["chain"][1]["source"], "file");
    assert_eq!(
        r["chain"][1]["subject"],
        "CN=certscope Inspect Intermediate"
    );
    assert!(
        !r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["severity"] != "info"),
        "{r:#}"
    );

    let text = pki.inspect(&["--name", "inspect.test", "good.pem"]);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    assert!(text.stdout.contains("good.pem"), "{}", text.stdout);
    assert!(text.stdout.contains("no problems found"), "{}", text.stdout);

    // Without --name the name is not checked; two files are two results.
    let o = pki.inspect(&["--format", "jsonl", "good.pem", "good.pem"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", o.stdout);
    for l in lines {
        let v: Value = serde_json::from_str(l).expect("a JSON line");
        assert_eq!(v["status"], "ok", "{v:#}");
    }
}

#[test]
fn reversed_order_is_a_chain_order_warning_with_a_working_fix() {
    let pki = Pki::new();
    pki.cat("reversed.pem", &["inter.pem", "leaf.pem"]);
    let (code, r) = pki.json(&["--name", "inspect.test", "reversed.pem"]);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["status"], "warning", "{r:#}");
    assert_eq!(codes(&r), vec!["chain-order"], "{r:#}");
    // The leaf is found and diagnosed first.
    assert_eq!(r["chain"][0]["subject"], "CN=inspect.test");
    let f = finding(&r, "chain-order");
    assert_eq!(f["severity"], "warning");
    let detail = f["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("not first") && detail.contains("The right order is 2, 1"),
        "{detail}"
    );
    let cmds = commands(f);
    assert!(
        cmds.iter()
            .any(|c| c.contains("openssl crl2pkcs7 -nocrl -certfile reversed.pem")),
        "{cmds:?}"
    );
    let rebuild = cmds
        .iter()
        .find(|c| c.contains("cat cert-2.pem cert-1.pem > fullchain.pem"))
        .unwrap_or_else(|| panic!("no rebuild command in {cmds:?}"));
    assert!(!cmds.iter().any(|c| c.contains("s_client")), "{cmds:?}");

    // The fix does what it says: the rebuilt file is the good chain.
    let o = run_in(pki.path(), "sh", &["-c", rebuild]);
    assert_eq!(o.code, Some(0), "{rebuild}: {}", o.stderr);
    assert_eq!(
        fs::read(pki.file("fullchain.pem")).expect("fullchain.pem"),
        fs::read(pki.file("good.pem")).expect("good.pem")
    );
    let (code, r) = pki.json(&["--name", "inspect.test", "fullchain.pem"]);
    assert_eq!(code, Some(0), "{r:#}");
}

#[test]
fn keys_that_do_and_do_not_match() {
    let pki = Pki::new();
    let d = pki.path();
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "other.key",
        ],
    );
    // The same leaf key as SEC1 ("EC PRIVATE KEY").
    openssl(
        d,
        &[
            "ec",
            "-in",
            "leaf.key",
            "-out",
            "leaf-sec1.key",
            "-outform",
            "PEM",
        ],
    );
    let sec1 = fs::read_to_string(pki.file("leaf-sec1.key")).expect("read the SEC1 key");
    assert!(sec1.contains("BEGIN EC PRIVATE KEY"), "{sec1}");
    // An RSA leaf with a PKCS#1 ("RSA PRIVATE KEY") key.
    pki.sign(
        "rsa",
        "/CN=inspect.test",
        "inter",
        "leaf",
        &["-newkey", "rsa:2048"],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "rsa.key",
            "-traditional",
            "-out",
            "rsa-pkcs1.key",
        ],
    );
    let pkcs1 = fs::read_to_string(pki.file("rsa-pkcs1.key")).expect("read the PKCS#1 key");
    assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"), "{pkcs1}");
    pki.cat("rsa-chain.pem", &["rsa.pem", "inter.pem"]);

    // The wrong key: critical, on the leaf, with both fingerprints.
    let (code, r) = pki.json(&["--name", "inspect.test", "--key", "other.key", "good.pem"]);
    assert_eq!(code, Some(2), "{r:#}");
    assert_eq!(r["status"], "critical");
    let f = finding(&r, "key-mismatch");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["cert"], 0);
    assert_eq!(f["clients"]["openssl"], "key values mismatch");
    let cmds = commands(f);
    assert!(
        cmds.iter()
            .any(|c| c.contains("openssl x509 -noout -pubkey -in good.pem")),
        "{cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| c.contains("openssl pkey -pubout -outform DER -in other.key")),
        "{cmds:?}"
    );
    // The fingerprints in the detail are what the fix commands print.
    let detail = f["detail"].as_str().unwrap_or_default().to_string();
    for c in &cmds {
        let o = run_in(d, "sh", &["-c", c]);
        assert_eq!(o.code, Some(0), "{c}: {}", o.stderr);
        let hash = o.stdout.trim().rsplit(' ').next().unwrap_or_default();
        assert!(
            hash.len() == 64 && detail.contains(hash),
            "{c} printed {:?}, not in {detail}",
            o.stdout
        );
    }
    // An RSA key against the EC leaf: a mismatch too.
    let (code, r) = pki.json(&["--key", "rsa-pkcs1.key", "good.pem"]);
    assert_eq!(code, Some(2), "{r:#}");
    assert!(codes(&r).contains(&"key-mismatch".to_string()), "{r:#}");

    // The right keys, in every format: no key finding.
    for (key, chain) in [
        ("leaf.key", "good.pem"),
        ("leaf-sec1.key", "good.pem"),
        ("rsa.key", "rsa-chain.pem"),
        ("rsa-pkcs1.key", "rsa-chain.pem"),
    ] {
        let (code, r) = pki.json(&["--name", "inspect.test", "--key", key, chain]);
        assert_eq!(code, Some(0), "{key} / {chain}: {r:#}");
        assert!(!codes(&r).contains(&"key-mismatch".to_string()), "{r:#}");
    }

    // A key file without a key, and a missing one: bad input naming it.
    fs::write(
        pki.file("nokey.pem"),
        fs::read(pki.file("leaf.pem")).unwrap(),
    )
    .unwrap();
    for bad in ["nokey.pem", "missing.key"] {
        let o = pki.inspect(&["--key", bad, "good.pem"]);
        assert_eq!(o.code, Some(3), "{bad}: {}", o.stderr);
        assert!(o.stdout.is_empty(), "{bad}: {}", o.stdout);
        assert_eq!(o.stderr.lines().count(), 1, "{bad}: {}", o.stderr);
        assert!(o.stderr.contains(bad), "{bad}: {}", o.stderr);
    }
}

#[test]
fn the_public_half_of_each_key_format_is_the_certificates() {
    let pki = Pki::new();
    let d = pki.path();
    openssl(d, &["ec", "-in", "leaf.key", "-out", "leaf-sec1.key"]);
    pki.sign(
        "rsa",
        "/CN=inspect.test",
        "inter",
        "leaf",
        &["-newkey", "rsa:2048"],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "rsa.key",
            "-traditional",
            "-out",
            "rsa-pkcs1.key",
        ],
    );
    for (key, cert) in [
        ("leaf.key", "leaf.pem"),
        ("leaf-sec1.key", "leaf.pem"),
        ("rsa.key", "rsa.pem"),
        ("rsa-pkcs1.key", "rsa.pem"),
    ] {
        let k = certscope::x509::private_key::public_key_of(&fs::read(pki.file(key)).unwrap())
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        let ders = certscope::x509::cert::parse_certificates(&fs::read(pki.file(cert)).unwrap())
            .expect("the certificate parses");
        let info = certscope::x509::cert::CertInfo::from_der(&ders[0]).expect("CertInfo");
        assert_eq!(k.spki, info.spki_der, "{key} vs {cert}");
    }
}

#[test]
fn a_bundle_with_an_extra_certificate_is_a_chain_order_warning() {
    let pki = Pki::new();
    // An unrelated self-signed certificate after the chain.
    req_self_signed(
        pki.path(),
        &EC,
        "stray.key",
        "stray.pem",
        "30",
        "/CN=stray.example.test",
        "pki.cnf",
        None,
    );
    pki.cat("bundle.pem", &["leaf.pem", "inter.pem", "stray.pem"]);
    let (code, r) = pki.json(&["--name", "inspect.test", "bundle.pem"]);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(codes(&r), vec!["chain-order"], "{r:#}");
    let f = finding(&r, "chain-order");
    let detail = f["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("no. 3 ('stray.example.test') belongs to no path")
            && detail.contains("The right order is 1, 2"),
        "{detail}"
    );
    assert!(
        commands(f)
            .iter()
            .any(|c| c.contains("cat cert-1.pem cert-2.pem > fullchain.pem")),
        "{f:#}"
    );
}

#[test]
fn a_der_leaf_alone_parses_and_lacks_its_intermediate() {
    let pki = Pki::new();
    openssl(
        pki.path(),
        &[
            "x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der",
        ],
    );
    let (code, r) = pki.json(&["--name", "inspect.test", "leaf.der"]);
    assert_eq!(code, Some(2), "{r:#}");
    assert_eq!(r["chain"][0]["subject"], "CN=inspect.test");
    assert_eq!(codes(&r)[0], "incomplete-chain", "{r:#}");
    let cmds = commands(finding(&r, "incomplete-chain"));
    assert!(
        cmds.iter()
            .any(|c| c == "openssl x509 -in leaf.der -noout -subject -issuer"),
        "{cmds:?}"
    );
}

#[test]
fn another_name_is_a_hostname_mismatch() {
    let pki = Pki::new();
    let (code, r) = pki.json(&["--name", "other.test", "good.pem"]);
    assert_eq!(code, Some(2), "{r:#}");
    assert_eq!(codes(&r), vec!["hostname-mismatch"], "{r:#}");
    let cmds = commands(finding(&r, "hostname-mismatch"));
    assert!(
        cmds.iter()
            .any(|c| c == "openssl x509 -in good.pem -noout -ext subjectAltName"),
        "{cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| c.contains("-verify_hostname other.test")),
        "{cmds:?}"
    );
}

#[test]
fn bad_files_are_bad_input() {
    let pki = Pki::new();
    fs::write(pki.file("garbage.pem"), "this is not a certificate\n").unwrap();
    fs::write(
        pki.file("garbage.der"),
        [0x30, 0x82, 0x01, 0x00, 0xff, 0x00],
    )
    .unwrap();
    fs::write(pki.file("empty.pem"), "").unwrap();
    fs::write(pki.file("blank.pem"), "\n  \n").unwrap();
    fs::write(
        pki.file("key-only.pem"),
        fs::read(pki.file("leaf.key")).unwrap(),
    )
    .unwrap();
    for (file, why) in [
        ("garbage.pem", "no certificate"),
        ("garbage.der", ""),
        ("empty.pem", "empty"),
        ("blank.pem", "empty"),
        ("key-only.pem", "no certificate"),
        ("missing.pem", "cannot read"),
    ] {
        for extra in [&[][..], &["--json"][..]] {
            let mut args = extra.to_vec();
            args.push(file);
            let o = pki.inspect(&args);
            assert_eq!(o.code, Some(3), "{file}: {}", o.stderr);
            assert!(o.stdout.is_empty(), "{file}: stdout {:?}", o.stdout);
            assert_eq!(o.stderr.lines().count(), 1, "{file}: {:?}", o.stderr);
            assert!(
                o.stderr.starts_with("certscope: error: ")
                    && o.stderr.contains(file)
                    && o.stderr.contains(why),
                "{file}: {:?}",
                o.stderr
            );
        }
    }
    // One bad file among good ones: nothing is printed.
    let o = pki.inspect(&["good.pem", "empty.pem"]);
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    // A bad --name too.
    let o = pki.inspect(&["--name", "bad name!", "good.pem"]);
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert!(o.stderr.contains("--name"), "{}", o.stderr);
}

#[test]
fn tui_file_rows_are_diagnosed_before_the_terminal_opens() {
    use certscope::tui::model::HostState;
    use certscope::tui::update::{Action, Effect, start, update};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    let pki = Pki::new();
    pki.cat("reversed.pem", &["inter.pem", "leaf.pem"]);
    let mut args = certscope::cli::demo_probe_args();
    args.trust_store = "none".parse().expect("a store kind");
    args.ca_file = vec![pki.file("root.pem")];
    args.sni = Some("inspect.test".into());
    let files = [pki.file("good.pem"), pki.file("reversed.pem")];
    let (mut model, plan, _settings) =
        certscope::tui::setup::tui_setup(&files, &[], &args).expect("the files load");
    assert!(plan.config.targets.is_empty());
    assert_eq!(model.hosts.len(), 2);
    for (h, f) in model.hosts.iter().zip(&files) {
        assert_eq!(h.file.as_deref(), Some(f.as_path()));
        assert_eq!(h.label(), f.display().to_string());
        assert!(matches!(h.state, HostState::Done(_)), "{:?}", h.state);
    }
    let status = |m: &certscope::tui::model::Model, i: usize| {
        m.hosts[i].report().map(|r| r.status.as_str().to_string())
    };
    assert_eq!(status(&model, 0).as_deref(), Some("ok"));
    assert_eq!(status(&model, 1).as_deref(), Some("warning"));
    // Nothing to probe at start; `r` re-reads the selected file.
    assert!(start(&mut model).is_empty());
    let selected = model.selected_index().expect("a selected row");
    let effects = update(
        &mut model,
        Action::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)),
    );
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::Inspect { host, path, .. } if *host == selected && *path == files[selected]
        )),
        "{effects:?}"
    );
    assert!(!effects.iter().any(|e| matches!(e, Effect::Probe { .. })));

    // A bad file is an error naming it, before any terminal.
    fs::write(pki.file("empty.pem"), "").unwrap();
    let err = certscope::tui::setup::tui_setup(&[pki.file("empty.pem")], &[], &args)
        .err()
        .expect("an empty file is refused");
    assert!(err.to_string().contains("empty.pem"), "{err}");
}
