//! Hosts files with the real binary: per-target `resolve`, `ca-file` and
//! `labels` against the built-in lab, one-line errors (exit 3) for unknown
//! keys and bad values, and the default file under `$XDG_CONFIG_HOME`.
//! Every child process is bounded in time and killed when it overruns.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::time::Duration;

use certscope::lab::Lab;
use common::{Run, codes, start_lab};
use serde_json::Value;

const RUN_LIMIT: Duration = Duration::from_secs(30);
const BAD_INPUT_LIMIT: Duration = Duration::from_secs(10);

impl Run {
    fn assert_code(&self, want: i32) {
        assert!(
            !self.stderr.contains("panicked"),
            "{:?} panicked: {}",
            self.args,
            self.stderr
        );
        assert_eq!(
            self.code,
            Some(want),
            "exit code of certscope {:?}\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
    }

    fn results(&self) -> Vec<Value> {
        let doc: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr));
        doc["results"].as_array().cloned().unwrap_or_default()
    }

    /// The one stderr line of a bad-input run.
    fn one_error_line(&self) -> &str {
        self.assert_code(3);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one stderr line: {:?}", self.stderr);
        assert!(lines[0].starts_with("certscope: error: "), "{}", lines[0]);
        assert!(self.stdout.is_empty(), "stdout: {}", self.stdout);
        lines[0]
    }
}

/// Run the binary with stdin null and a controlled config environment,
/// killing it past `limit`.
fn run_blocking(args: Vec<String>, config_home: &Path, limit: Duration) -> Run {
    let mut cmd = common::certscope(&args);
    cmd.env("XDG_CONFIG_HOME", config_home)
        .env("HOME", config_home)
        .env("XDG_STATE_HOME", config_home.join("state"));
    common::run_bounded(cmd, &format!("certscope {args:?}"), limit).into_run(args)
}

/// Run off the runtime's worker threads, so the lab keeps serving.
async fn run(args: &[&str], config_home: &Path, limit: Duration) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let home = config_home.to_path_buf();
    common::off_runtime("certscope", limit, move || run_blocking(args, &home, limit)).await
}

/// `(host, port)` of a lab scenario.
fn host_port(lab: &Lab, id: &str) -> (String, u16) {
    let t = lab
        .get(id)
        .unwrap_or_else(|| panic!("no lab scenario {id}"));
    (t.host.clone(), t.port)
}

fn toml_str(p: &Path) -> String {
    serde_json::to_string(&p.to_string_lossy()).expect("a JSON string is a TOML string")
}

fn labels(r: &Value) -> Option<Vec<String>> {
    r.get("labels").map(|l| {
        l.as_array()
            .unwrap_or_else(|| panic!("labels is not an array: {r:#}"))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_target_resolve_ca_file_and_labels_with_command_line_targets() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&lab.ca_file, dir.path().join("lab-ca.pem")).unwrap();
    let (good, good_port) = host_port(&lab, "good");
    let (expired, expired_port) = host_port(&lab, "expired");
    let hosts = dir.path().join("hosts.toml");
    std::fs::write(
        &hosts,
        format!(
            r#"# lab targets
[defaults]
labels = ["lab"]

[[target]]
host = "{good}:{good_port}"
resolve = "127.0.0.1"
ca-file = {abs_ca}
labels = ["prod", "web"]

[[target]]
host = "{expired}"
port = {expired_port}
resolve = "127.0.0.1"
ca-file = "lab-ca.pem"

[[target]]
host = "{good}:{good_port}"
resolve = "127.0.0.1"
labels = ["no-ca"]
"#,
            abs_ca = toml_str(&lab.ca_file),
        ),
    )
    .unwrap();
    let ip_ok = lab.get("ip-ok").expect("ip-ok").target();
    let hosts_s = hosts.to_string_lossy().into_owned();
    let r = run(
        &[
            "check",
            "--trust-store",
            "none",
            "--timeout",
            "5",
            "--format",
            "json",
            "--hosts-file",
            &hosts_s,
            &ip_ok,
        ],
        dir.path(),
        RUN_LIMIT,
    )
    .await;
    r.assert_code(2);
    let results = r.results();
    assert_eq!(results.len(), 4, "{results:#?}");
    // The command-line target first, without labels and without the CA.
    assert_eq!(results[0]["target"], ip_ok.as_str());
    assert_eq!(labels(&results[0]), None, "{:#}", results[0]);
    assert_eq!(results[0]["status"], "critical");
    // Trusted through its own (absolute) CA file, reached via `resolve`.
    assert_eq!(results[1]["target"], format!("{good}:{good_port}"));
    assert_eq!(results[1]["status"], "ok", "{:#}", results[1]);
    assert_eq!(results[1]["address"], "127.0.0.1");
    assert_eq!(labels(&results[1]).unwrap(), ["lab", "prod", "web"]);
    // A CA file relative to the hosts file; the leaf is expired.
    assert_eq!(results[2]["target"], format!("{expired}:{expired_port}"));
    assert_eq!(results[2]["status"], "critical");
    assert_eq!(codes(&results[2]), ["expired"], "{:#}", results[2]);
    assert_eq!(labels(&results[2]).unwrap(), ["lab"]);
    // The same server without a CA file: not trusted.
    assert_eq!(results[3]["status"], "critical");
    assert!(!codes(&results[3]).contains(&"expired".to_string()));
    assert_eq!(labels(&results[3]).unwrap(), ["lab", "no-ca"]);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_file_under_xdg_config_home_is_used_without_targets() {
    let lab = start_lab().await;
    let config = tempfile::tempdir().unwrap();
    let conf_dir = config.path().join("certscope");
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::copy(&lab.ca_file, conf_dir.join("ca.pem")).unwrap();
    let (good, port) = host_port(&lab, "good");
    std::fs::write(
        conf_dir.join("hosts.toml"),
        format!(
            "[[target]]\nhost = \"{good}\"\nport = {port}\nresolve = \"127.0.0.1\"\n\
             ca-file = \"ca.pem\"\nlabels = [\"from-xdg\"]\n"
        ),
    )
    .unwrap();
    let r = run(
        &["check", "--timeout", "5", "--format", "json"],
        config.path(),
        RUN_LIMIT,
    )
    .await;
    r.assert_code(0);
    let results = r.results();
    assert_eq!(results.len(), 1, "{results:#?}");
    assert_eq!(results[0]["status"], "ok", "{:#}", results[0]);
    assert_eq!(labels(&results[0]).unwrap(), ["from-xdg"]);

    // A TARGET on the command line: the default file is not read.
    let ip_ok = lab.get("ip-ok").expect("ip-ok").target();
    let ca = lab.ca_file.to_string_lossy().into_owned();
    let r = run(
        &[
            "check",
            "--timeout",
            "5",
            "--format",
            "json",
            "--ca-file",
            &ca,
            &ip_ok,
        ],
        config.path(),
        RUN_LIMIT,
    )
    .await;
    r.assert_code(0);
    let results = r.results();
    assert_eq!(results.len(), 1, "{results:#?}");
    assert_eq!(labels(&results[0]), None);

    // The TUI picks the default file up too (and then needs a terminal).
    let r = run(&[], config.path(), BAD_INPUT_LIMIT).await;
    let line = r.one_error_line();
    assert!(line.contains("needs a terminal"), "{line}");
    lab.shutdown();
}

#[tokio::test]
async fn no_targets_and_no_default_file_is_one_clear_error() {
    let config = tempfile::tempdir().unwrap();
    for args in [&["check"][..], &["check", "--format", "json"], &[]] {
        let r = run(args, config.path(), BAD_INPUT_LIMIT).await;
        let line = r.one_error_line();
        assert!(
            line.contains("no targets")
                && line.contains("--hosts-file FILE")
                && line.contains("~/certscope/hosts.toml")
                && line.contains("certscope example-hosts"),
            "{args:?}: {line}"
        );
    }
}

#[tokio::test]
async fn unknown_keys_and_bad_values_exit_3_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[target]]\nhost = \"a.test\"\nprot = 443\n",
            "line 3: unknown field `prot`",
        ),
        (
            "[defaults]\ntimeout = 5\n[[target]]\nhost = \"a.test\"\n",
            "line 2: unknown field `timeout`",
        ),
        (
            "[[target]]\nhost = \"a.test\"\nport = 70000\n",
            "line 3: port 70000 is out of range (1-65535)",
        ),
        (
            "[[target]]\nhost = \"a.test\"\nstarttls = \"smtps\"\n",
            "line 3: unknown STARTTLS protocol \"smtps\"",
        ),
        (
            "[[target]]\n\nhost = \"bad host.test\"\n",
            "line 3: invalid target \"bad host.test\"",
        ),
        (
            "[[target]]\nhost = \"a.test\"\nca-file = \"missing-ca.pem\"\n",
            "line 3: cannot read CA file",
        ),
        ("[[target]\nhost = \"a.test\"\n", "line 1: "),
        ("[defaults]\n", "has no targets"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("hosts-{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let p = path.to_string_lossy().into_owned();
        let r = run(
            &["check", "--hosts-file", &p, "--format", "json"],
            dir.path(),
            BAD_INPUT_LIMIT,
        )
        .await;
        let line = r.one_error_line();
        assert!(
            line.contains(&format!("hosts file {p}")) && line.contains(want),
            "{text:?}: want {want:?} in {line}"
        );
    }
    let missing = dir.path().join("nope.toml");
    let p = missing.to_string_lossy().into_owned();
    let r = run(&["check", "--hosts-file", &p], dir.path(), BAD_INPUT_LIMIT).await;
    let line = r.one_error_line();
    assert!(line.contains("cannot read hosts file") && line.contains("nope.toml"));
}

#[tokio::test]
async fn example_hosts_prints_the_documented_example() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["example-hosts"], dir.path(), BAD_INPUT_LIMIT).await;
    r.assert_code(0);
    assert_eq!(r.stdout, certscope::config::hostsfile::EXAMPLE);
}
