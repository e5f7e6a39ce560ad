//! The conventions a newcomer expects of a command-line tool, on the real
//! binary: completions, the man page, `--color`, targets from stdin and
//! plain lists, the settings file and its precedence, suggestions for
//! typos, Ctrl-C in `check`, the monitoring-plugin line, `version` on every
//! JSONL line. Every child is bounded in time and killed on drop.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use certscope::lab::Lab;
use common::{ChildGuard, start_lab};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_env(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Out {
    let mut cmd = common::certscope(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // No settings file from the machine running the tests.
    if !env.iter().any(|(k, _)| *k == "CERTSCOPE_CONFIG") {
        cmd.env("XDG_CONFIG_HOME", "/nonexistent-certscope-test");
    }
    match stdin {
        None => {
            let o = common::run_bounded(cmd, &format!("certscope {args:?}"), LIMIT);
            Out {
                code: o.code,
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            }
        }
        Some(input) => {
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut raw = cmd.spawn().unwrap();
            let mut w = raw.stdin.take().unwrap();
            let mut child = ChildGuard::new(raw);
            w.write_all(input.as_bytes()).unwrap();
            drop(w);
            let out = common::drain(child.child.stdout.take());
            let err = common::drain(child.child.stderr.take());
            let start = Instant::now();
            let status = loop {
                if let Some(s) = child.child.try_wait().unwrap() {
                    break s;
                }
                assert!(start.elapsed() < LIMIT, "certscope {args:?} hung");
                std::thread::sleep(Duration::from_millis(10));
            };
            Out {
                code: status.code(),
                stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
                stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
            }
        }
    }
}

fn run(args: &[&str]) -> Out {
    run_env(args, &[], None)
}

async fn run_async(args: Vec<String>, env: Vec<(String, String)>, stdin: Option<String>) -> Out {
    common::off_runtime("certscope", LIMIT, move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_env(&a, &e, stdin.as_deref())
    })
    .await
}

/// `check --ca-file LAB --timeout 3 --resolve ...` for the scenarios, then `extra`.
fn lab_args(lab: &Lab, ids: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "check".to_string(),
        "--timeout".into(),
        "3".into(),
        "--ca-file".into(),
        lab.ca_file.display().to_string(),
    ];
    for id in ids {
        if let Some(r) = lab.get(id).unwrap().resolve() {
            a.push("--resolve".into());
            a.push(r);
        }
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn target(lab: &Lab, id: &str) -> String {
    lab.get(id).unwrap().target()
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let dir = tempfile::tempdir().unwrap();
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.code, Some(0), "{}", bash.stderr);
    assert!(bash.stdout.contains("_certscope()") && bash.stdout.contains("inspect"));
    let f = dir.path().join("certscope.bash");
    std::fs::write(&f, &bash.stdout).unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-n").arg(&f);
    let o = common::run_bounded(cmd, "bash -n", LIMIT);
    assert_eq!(
        o.code,
        Some(0),
        "bash -n: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let zsh = run(&["completions", "zsh"]);
    assert!(
        zsh.stdout.starts_with("#compdef certscope"),
        "{}",
        zsh.stdout
    );
    let fish = run(&["completions", "fish"]);
    assert!(
        fish.stdout.contains("complete -c certscope"),
        "{}",
        fish.stdout
    );
    assert!(fish.stdout.contains("check"));
    let bad = run(&["completions", "tcsh"]);
    assert_eq!(bad.code, Some(3));
    assert!(
        bad.stderr.contains("possible values") && bad.stderr.contains("fish"),
        "{}",
        bad.stderr
    );
}

#[test]
fn the_man_page_is_shipped_and_current() {
    let man = run(&["man"]);
    assert_eq!(man.code, Some(0));
    assert!(man.stdout.contains(".TH certscope 1"), "{}", man.stdout);
    assert!(man.stdout.contains("check") && man.stdout.contains("serve"));
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/man/certscope.1"),
    )
    .unwrap();
    assert!(
        shipped == man.stdout,
        "assets/man/certscope.1 is out of date: regenerate it with `cargo run -- man > assets/man/certscope.1`"
    );
}

#[test]
fn typos_are_refused_with_a_suggestion() {
    let o = run(&["chek", "example.test"]);
    assert_eq!(o.code, Some(3));
    assert!(o.stderr.contains("did you mean 'check'"), "{}", o.stderr);
    assert!(
        o.stderr.contains("chek:443") && o.stderr.contains("--"),
        "{}",
        o.stderr
    );
    let o = run(&["check", "--jsn", "example.test"]);
    assert_eq!(o.code, Some(3));
    assert!(o.stderr.contains("did you mean '--json'"), "{}", o.stderr);
    let o = run(&["check", "--format", "xml", "example.test"]);
    assert_eq!(o.code, Some(3));
    assert!(
        o.stderr
            .contains("possible values: text, json, jsonl, csv, nagios"),
        "{}",
        o.stderr
    );
    assert_eq!(o.stderr.trim_end().lines().count(), 1, "{}", o.stderr);
    // Examples in --help.
    let h = run(&["check", "--help"]);
    assert!(
        h.stdout.contains("Examples:") && h.stdout.contains("certscope check -"),
        "{}",
        h.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn color_never_always_and_the_environment() {
    let lab = start_lab().await;
    let mut a = lab_args(&lab, &["expired"], &[]);
    a.push(target(&lab, "expired"));
    let esc = |o: &Out| o.stdout.contains('\u{1b}');
    let with = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = a.clone();
        args.extend(extra.iter().map(|s| s.to_string()));
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        run_async(args, env, None)
    };
    // stdout is a pipe here: auto means no colour.
    assert!(!esc(&with(&[], &[]).await));
    assert!(esc(&with(&["--color", "always"], &[]).await));
    assert!(!esc(&with(
        &["--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    )
    .await));
    assert!(esc(&with(&[], &[("CLICOLOR_FORCE", "1")]).await));
    assert!(!esc(&with(
        &[],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    )
    .await));
    assert!(
        esc(&with(&["--color", "always"], &[("NO_COLOR", "1")]).await),
        "the flag wins"
    );
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_from_stdin_and_from_a_plain_list() {
    let lab = start_lab().await;
    let (good, expired) = (target(&lab, "good"), target(&lab, "expired"));
    let mut a = lab_args(&lab, &["good", "expired"], &["--json", "-"]);
    let input = format!("# two lab hosts\n{good}\n\n{expired}   # this one expired\n");
    let o = run_async(a.clone(), Vec::new(), Some(input)).await;
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    let doc: Value = serde_json::from_str(&o.stdout).unwrap();
    let names: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(names, [good.as_str(), expired.as_str()]);
    // A bad line is named.
    let o = run_async(a.clone(), Vec::new(), Some("good.test\nbad host\n".into())).await;
    assert_eq!(o.code, Some(3));
    assert!(o.stderr.contains("standard input, line 2"), "{}", o.stderr);
    // The same list as a file.
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("hosts.txt");
    std::fs::write(&list, format!("{good}\n{expired}\n")).unwrap();
    a.pop();
    a.push("--hosts-file".into());
    a.push(list.display().to_string());
    let o = run_async(a, Vec::new(), None).await;
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    let doc: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(doc["results"].as_array().unwrap().len(), 2);
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_file_and_precedence() {
    let lab = start_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("config.toml");
    // The good leaf has about 80 days left: warn-days 100 makes it a warning.
    std::fs::write(&settings, "warn-days = 100\ncolor = \"always\"\n").unwrap();
    let env = vec![(
        "CERTSCOPE_CONFIG".to_string(),
        settings.display().to_string(),
    )];
    let mut a = lab_args(&lab, &["good"], &[]);
    a.push(target(&lab, "good"));
    let o = run_async(a.clone(), env.clone(), None).await;
    assert_eq!(
        o.code,
        Some(1),
        "the settings file's warn-days: {}",
        o.stdout
    );
    assert!(o.stdout.contains('\u{1b}'), "the settings file's colour");
    // The command line wins over the settings file.
    let mut b = a.clone();
    b.extend([
        "--warn-days".into(),
        "10".into(),
        "--color".into(),
        "never".into(),
    ]);
    let o = run_async(b, env.clone(), None).await;
    assert_eq!(o.code, Some(0), "{}", o.stdout);
    assert!(!o.stdout.contains('\u{1b}'));
    // Unknown keys are errors naming the line.
    std::fs::write(&settings, "warn-days = 100\n\nwarn_dayz = 3\n").unwrap();
    let o = run_async(a, env, None).await;
    assert_eq!(o.code, Some(3));
    assert!(
        o.stderr.contains("line 3") && o.stderr.contains("warn_dayz"),
        "{}",
        o.stderr
    );

    // In a hosts file the command line wins over a target's own value.
    let hosts = dir.path().join("hosts.toml");
    let good = lab.get("good").unwrap();
    std::fs::write(
        &hosts,
        format!(
            "[[target]]\nhost = \"{}\"\nsni = \"other.lab.test\"\nresolve = \"127.0.0.1\"\n",
            good.target()
        ),
    )
    .unwrap();
    let h = |extra: &[&str]| {
        let mut args = vec![
            "check".to_string(),
            "--json".into(),
            "--timeout".into(),
            "3".into(),
            "--ca-file".into(),
            lab.ca_file.display().to_string(),
            "--hosts-file".into(),
            hosts.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        run_async(args, Vec::new(), None)
    };
    let doc: Value = serde_json::from_str(&h(&[]).await.stdout).unwrap();
    assert_eq!(
        doc["results"][0]["sni"], "other.lab.test",
        "the target's own sni"
    );
    let doc: Value = serde_json::from_str(&h(&["--sni", "good.lab.test"]).await.stdout).unwrap();
    assert_eq!(doc["results"][0]["sni"], "good.lab.test", "--sni wins");
    assert_eq!(doc["results"][0]["status"], "ok");
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitoring_plugin_line() {
    let lab = start_lab().await;
    let mut a = lab_args(&lab, &["expired"], &["--format", "nagios"]);
    a.push(target(&lab, "expired"));
    let o = run_async(a, Vec::new(), None).await;
    assert_eq!(o.code, Some(2));
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", o.stdout);
    let want = format!(
        "CERTSCOPE CRITICAL - {}: Certificate expired 10 days ago (expired) | days=-10;30;7",
        target(&lab, "expired")
    );
    assert_eq!(lines[0], want);

    let mut a = lab_args(
        &lab,
        &["good", "expiring-soon"],
        &["--format", "nagios", "--crit-days", "3"],
    );
    a.push(target(&lab, "good"));
    a.push(target(&lab, "expiring-soon"));
    let o = run_async(a, Vec::new(), None).await;
    assert_eq!(o.code, Some(1));
    let line = o.stdout.trim_end();
    assert!(
        line.starts_with("CERTSCOPE WARNING - 2 targets: 1 ok, 1 warning; "),
        "{line}"
    );
    let (_, perf) = line.split_once(" | ").unwrap();
    let labels: Vec<&str> = perf
        .split(' ')
        .map(|p| p.split('=').next().unwrap())
        .collect();
    assert_eq!(
        labels,
        [target(&lab, "good"), target(&lab, "expiring-soon")]
    );
    assert!(perf.contains(";30;3"), "{perf}");
    lab.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_jsonl_line_carries_the_version() {
    let lab = start_lab().await;
    let mut a = lab_args(&lab, &["good", "expired", "closed"], &["--format", "jsonl"]);
    for id in ["good", "expired", "closed"] {
        a.push(target(&lab, id));
    }
    let o = run_async(a, Vec::new(), None).await;
    let lines: Vec<Value> = o
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for l in &lines {
        assert_eq!(l["version"], 1, "{l}");
        assert!(l["target"].is_string());
    }
    lab.shutdown();
}

/// Start `certscope check ARGS` with stdout piped; return the guard and a
/// receiver of its stdout bytes as they come.
fn spawn_reading(args: &[String]) -> (ChildGuard, std::sync::mpsc::Receiver<Vec<u8>>) {
    let mut cmd = common::certscope(args);
    cmd.env("XDG_CONFIG_HOME", "/nonexistent-certscope-test")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = ChildGuard::new(cmd.spawn().unwrap());
    let mut out = child.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_in_check_keeps_what_finished() {
    let lab = start_lab().await;
    for format in ["json", "text"] {
        // good answers at once; silent holds its connection for 20 s.
        let mut a: Vec<String> = ["check", "--timeout", "20", "--format", format, "--ca-file"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.push(lab.ca_file.display().to_string());
        for id in ["good", "silent"] {
            a.push("--resolve".into());
            a.push(lab.get(id).unwrap().resolve().unwrap());
        }
        a.push(target(&lab, "good"));
        a.push(target(&lab, "silent"));
        let (child, rx) = spawn_reading(&a);
        let (mut child, text) = common::off_runtime("ctrl-c run", LIMIT, move || {
            let mut child = child;
            let mut got = Vec::new();
            let start = Instant::now();
            // Until good's result is out.
            while !String::from_utf8_lossy(&got).contains("good.lab.test") {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "good never printed"
                );
                if let Ok(b) = rx.recv_timeout(Duration::from_millis(100)) {
                    got.extend(b);
                }
            }
            let pid = child.child.id().to_string();
            let o = std::process::Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap();
            assert!(o.success());
            let status = loop {
                if let Some(s) = child.child.try_wait().unwrap() {
                    break s;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(15),
                    "no exit after SIGINT"
                );
                std::thread::sleep(Duration::from_millis(10));
            };
            while let Ok(b) = rx.recv_timeout(Duration::from_millis(200)) {
                got.extend(b);
            }
            assert_eq!(status.code(), Some(130), "exit code after Ctrl-C");
            (child, String::from_utf8_lossy(&got).into_owned())
        })
        .await;
        let _ = child.child.kill();
        let silent = target(&lab, "silent");
        if format == "json" {
            let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(doc["results"].as_array().unwrap().len(), 1);
            assert_eq!(doc["results"][0]["status"], "ok");
            assert_eq!(doc["interrupted"], true);
            assert_eq!(doc["not_checked"], serde_json::json!([silent]));
        } else {
            assert!(text.contains("good.lab.test"), "{text}");
            assert!(
                text.contains(&format!(
                    "interrupted: 1 of 2 targets not checked: {silent}"
                )),
                "{text}"
            );
        }
    }
    lab.shutdown();
}
