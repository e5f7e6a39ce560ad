//! The published JSON Schemas (`assets/schema/`) against real output: the
//! binary runs `check` over every lab target (started in-process), once as
//! one `--json` document and once as `--format jsonl`, and an independent
//! validator (Python's `jsonschema`, Draft 2020-12) checks the document
//! against `certscope-check.schema.json` and each line against
//! `certscope-result.schema.json`.
//!
//! Twice: with the schemas as published (open to properties added later,
//! as the contract promises), and with every object closed, so that a field
//! the output gains without the schema documenting it fails here. A result
//! with `status: "fine"` must be rejected, proving the validator bites.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use certscope::lab::Lab;
use certscope::report::finding::Code;
use common::start_lab;
use serde_json::Value;

/// Upper bound for one run of the binary over every lab target.
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// Upper bound for one run of the Python validator.
const PYTHON_LIMIT: Duration = Duration::from_secs(60);

/// Validates with Python's jsonschema: `SCHEMA_DIR DOC JSONL BAD_RESULT`.
/// The check schema's relative `$ref` resolves through the schemas' `$id`
/// (a `referencing` registry; jsonschema < 4.18, as Debian 12 ships, has a
/// RefResolver instead). Prints every error; exits 1 if there is one, if
/// BAD_RESULT is accepted, or if a result with a new property is refused.
const VALIDATE: &str = r##"
import json, os, sys

import jsonschema
from jsonschema import Draft202012Validator as V


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


schema_dir, doc_path, jsonl_path, bad_path = sys.argv[1:5]
result = load(os.path.join(schema_dir, "certscope-result.schema.json"))
check = load(os.path.join(schema_dir, "certscope-check.schema.json"))
for s in (result, check):
    V.check_schema(s)


def closed(schema):
    """A copy where every object schema that lists properties allows no others."""
    if isinstance(schema, list):
        return [closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k in ("properties", "$defs"):
            out[k] = {name: closed(sub) for name, sub in v.items()}
        elif k in ("if", "not", "enum", "const", "required", "examples", "default"):
            out[k] = v  # conditions and values: as they are
        else:
            out[k] = closed(v)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def validator(root, schemas):
    try:
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012

        registry = Registry().with_resources(
            (s["$id"], DRAFT202012.create_resource(s)) for s in schemas
        )
        return V(root, registry=registry)
    except (ImportError, TypeError):
        store = {s["$id"]: s for s in schemas}
        resolver = jsonschema.RefResolver(base_uri=root["$id"], referrer=root, store=store)
        return V(root, resolver=resolver)


def errors(v, instance):
    return sorted(v.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))


def show(e):
    if e.context:  # anyOf/oneOf: an error of a branch of the right type
        e = next((c for c in e.context if c.validator != "type"), None) or e
    return "/" + "/".join(map(str, e.absolute_path)) + ": " + e.message[:300]


failed = False
lines = 0
for mode, (res, chk) in (("published", (result, check)), ("closed", (closed(result), closed(check)))):
    doc_v = validator(chk, [res, chk])
    res_v = validator(res, [res, chk])
    for e in errors(doc_v, load(doc_path)):
        failed = True
        print(f"{mode} schema: {doc_path}: {show(e)}")
    with open(jsonl_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            for e in errors(res_v, json.loads(line)):
                failed = True
                print(f"{mode} schema: {jsonl_path} line {n}: {show(e)}")
            lines += 1

# The published schema bites: a result with status "fine" is rejected, on
# its own (a JSONL line) and inside a document, for its status; and it
# tolerates a property added later (the contract: extend, never break).
doc_v = validator(check, [result, check])
res_v = validator(result, [result, check])
bad = load(bad_path)
for what, v, inst in (("result", res_v, bad), ("document", doc_v, {"version": 1, "results": [bad]})):
    errs = errors(v, inst)
    if any(list(e.absolute_path)[-1:] == ["status"] for e in errs):
        print(f"rejected as expected ({what}): {show(errs[0])}")
    else:
        failed = True
        print(f"NOT REJECTED: a {what} with status \"fine\" ({[show(e) for e in errs]})")
extended = dict(bad, status="ok", added_in_a_later_release={"x": 1})
for e in errors(res_v, extended):
    failed = True
    print(f"NOT TOLERATED: a result with a new property: {show(e)}")

try:
    from importlib.metadata import version

    jsonschema_version = version("jsonschema")
except Exception:
    jsonschema_version = "?"
verdict = "FAILED" if failed else "valid"
print(f"jsonschema {jsonschema_version}: 1 document, {lines // 2} JSONL lines: {verdict}")
sys.exit(1 if failed else 0)
"##;

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/schema")
}

/// `check --timeout 3 --ca-file LAB --format FORMAT --resolve ... TARGET...`
/// over every lab target.
fn check_every_target(lab: &Lab, format: &str) -> Vec<String> {
    let mut a: Vec<String> = ["check", "--timeout", "3", "--format", format, "--ca-file"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.push(lab.ca_file.to_string_lossy().into_owned());
    for t in &lab.targets {
        if let Some(rule) = t.resolve() {
            a.push("--resolve".into());
            a.push(rule);
        }
    }
    a.extend(lab.targets.iter().map(|t| t.target()));
    a
}

/// Run the binary off the runtime's worker threads (the lab keeps serving);
/// its stdout, after checking that it exited with a status code.
async fn run_check(args: Vec<String>) -> String {
    let what = format!("certscope {args:?}");
    let label = what.clone();
    common::off_runtime(&label, RUN_LIMIT, move || {
        let o = common::run_bounded(common::certscope(&args), &what, RUN_LIMIT);
        let stdout = String::from_utf8(o.stdout).expect("stdout is UTF-8");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            matches!(o.code, Some(0..=3)) && !stderr.contains("panicked"),
            "{what} exited with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            o.code
        );
        stdout
    })
    .await
}

/// The first Python that has jsonschema with Draft 2020-12: `python3` on
/// PATH, then the system one (Debian's python3-jsonschema installs there,
/// which a pyenv or venv `python3` on PATH does not see).
fn python_with_jsonschema() -> String {
    for python in ["python3", "/usr/bin/python3"] {
        if python.starts_with('/') && !Path::new(python).exists() {
            continue;
        }
        let mut cmd = Command::new(python);
        cmd.args(["-c", "from jsonschema import Draft202012Validator"]);
        if common::run_bounded(cmd, python, PYTHON_LIMIT).code == Some(0) {
            return python.to_string();
        }
    }
    panic!(
        "this test needs Python's jsonschema (4.0 or later), but neither `python3` nor \
         /usr/bin/python3 can import it. Install it: `apt-get install -y python3-jsonschema` \
         (Debian/Ubuntu; scripts/test.sh does) or `pip install jsonschema`."
    )
}

fn results_of(doc: &Value) -> &Vec<Value> {
    doc["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results is not an array: {doc:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_json_and_jsonl_of_every_lab_target_match_the_schema() {
    let python = python_with_jsonschema();
    let lab = start_lab().await;
    let n = lab.targets.len();
    let json = run_check(check_every_target(&lab, "json")).await;
    let jsonl = run_check(check_every_target(&lab, "jsonl")).await;
    lab.shutdown();

    let doc: Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("--json is not one JSON document: {e}\n{json}"));
    let results = results_of(&doc);
    assert_eq!(results.len(), n, "one result per lab target");
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("JSONL line is not JSON: {e}\n{l}"))
        })
        .collect();
    assert_eq!(lines.len(), n, "one JSONL line per lab target:\n{jsonl}");

    // The output exercises the optional parts the schema describes.
    let has = |what: &str, f: &dyn Fn(&Value) -> bool| {
        assert!(results.iter().any(f), "no result with {what} in {doc:#}");
    };
    has("status error", &|r| r["status"] == "error");
    has("endpoints", &|r| r.get("endpoints").is_some());
    has("a finding with addresses", &|r| {
        r["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f.get("addresses").is_some()))
    });
    for state in ["good", "revoked", "unknown", "not-checked"] {
        has(&format!("revocation {state}"), &|r| {
            r["chain"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["revocation"]["status"] == state))
        });
    }
    has("a certificate fetched from AIA", &|r| {
        r["chain"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["source"] == "aia"))
    });

    let dir = tempfile::tempdir().expect("a temporary directory");
    let doc_path = dir.path().join("check.json");
    let jsonl_path = dir.path().join("check.jsonl");
    let bad_path = dir.path().join("bad-result.json");
    std::fs::write(&doc_path, &json).expect("write the document");
    std::fs::write(&jsonl_path, &jsonl).expect("write the lines");
    let mut bad = lines[0].clone();
    bad["status"] = Value::from("fine");
    std::fs::write(&bad_path, bad.to_string()).expect("write the bad result");

    let mut cmd = Command::new(&python);
    cmd.arg("-c").arg(VALIDATE).arg(schema_dir());
    cmd.args([&doc_path, &jsonl_path, &bad_path]);
    let o = common::run_bounded(cmd, "python3 jsonschema validation", PYTHON_LIMIT);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.code,
        Some(0),
        "the output does not match assets/schema/ ({python}):\n{stdout}\n{stderr}"
    );
    for want in [
        "rejected as expected (result): /status:",
        "rejected as expected (document): /results/0/status:",
        &format!("1 document, {n} JSONL lines: valid"),
    ] {
        assert!(stdout.contains(want), "no {want:?} in:\n{stdout}\n{stderr}");
    }
    println!("{python}: {stdout}");
}

#[test]
fn the_result_schema_lists_every_finding_code() {
    let path = schema_dir().join("certscope-result.schema.json");
    let text = std::fs::read_to_string(&path).expect("read the result schema");
    let schema: Value = serde_json::from_str(&text).expect("the result schema is JSON");
    let listed: BTreeSet<&str> = schema["$defs"]["code"]["enum"]
        .as_array()
        .expect("$defs.code.enum is an array")
        .iter()
        .map(|c| c.as_str().expect("a code is a string"))
        .collect();
    let codes: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        listed,
        codes,
        "{}: $defs.code.enum must list exactly the finding codes (src/report/finding.rs)",
        path.display()
    );
}
