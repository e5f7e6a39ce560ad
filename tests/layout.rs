//! The architecture rules of `src/lib.rs`, checked on the source: the module
//! graph (each file a module, edges from `crate::`, `self::` and `super::`
//! paths in non-test code) has no cycle, and the engine imports no mode,
//! no CLI and no terminal crate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules of the engine: they never import what is in `FORBIDDEN_FOR_ENGINE`.
const ENGINE: &[&str] = &[
    "config", "target", "util", "x509", "report", "probe", "fetch", "diagnose", "run",
];
const MODES: &[&str] = &["check", "inspect", "lab", "tui", "serve", "cli"];
/// Crates of the front ends (terminal, command line, HTTP server): modes only.
const TERMINAL_CRATES: &[&str] = &["clap::", "ratatui::", "crossterm::", "arboard::", "axum::"];

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/a/b.rs` -> ["a", "b"]; `src/a/mod.rs` -> ["a"]; `src/lib.rs` -> [].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("file name");
    let stem = last.trim_end_matches(".rs").to_string();
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem);
    }
    parts
}

/// Test-only files and the test harness are not part of the architecture.
fn is_test_file(m: &[String]) -> bool {
    m.iter()
        .any(|p| p == "tests" || p.ends_with("_tests") || p == "testkit")
}

/// The code of a file without comments and without its `#[cfg(test)]` part.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Module paths named in `code` (`crate::a::b`, `super::x`, `self::y`),
/// resolved against `me`.
fn paths(code: &str, me: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut i = 0;
    while i < bytes.len() {
        if is_ident(bytes[i]) && (i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == ':')) {
            let mut j = i;
            let mut segs = Vec::new();
            loop {
                let s = j;
                while j < bytes.len() && is_ident(bytes[j]) {
                    j += 1;
                }
                segs.push(bytes[s..j].iter().collect::<String>());
                if j + 2 < bytes.len()
                    && bytes[j] == ':'
                    && bytes[j + 1] == ':'
                    && is_ident(bytes[j + 2])
                {
                    j += 2;
                } else {
                    break;
                }
            }
            let base: Option<Vec<String>> = match segs[0].as_str() {
                "crate" => Some(Vec::new()),
                "self" if segs.len() > 1 => Some(me.to_vec()),
                "super" if segs.len() > 1 => {
                    let mut b = me.to_vec();
                    let mut k = 0;
                    while k < segs.len() && segs[k] == "super" {
                        b.pop();
                        k += 1;
                    }
                    let mut full = b;
                    full.extend(segs[k..].iter().cloned());
                    out.push(full);
                    None
                }
                _ => None,
            };
            if let Some(mut b) = base {
                b.extend(segs[1..].iter().cloned());
                out.push(b);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
    code: BTreeMap<String, String>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for f in &files {
        let m = module_of(&src, f);
        if m.is_empty() || is_test_file(&m) {
            continue;
        }
        modules.insert(m, code(&std::fs::read_to_string(f).expect("read")));
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, text) in &modules {
        let me = m.join("::");
        let e = edges.entry(me.clone()).or_default();
        for p in paths(text, m) {
            // The deepest module that the path names.
            let mut target = p.clone();
            while !target.is_empty() && !modules.contains_key(&target) {
                target.pop();
            }
            let t = target.join("::");
            // Naming a submodule of your own (`mod x; x::f()`) is how a
            // folder uses its files; only that direction is free.
            if target.is_empty() || t == me || target.starts_with(m) {
                continue;
            }
            e.insert(t);
        }
    }
    let code = modules
        .into_iter()
        .map(|(k, v)| (k.join("::"), v))
        .collect();
    Graph { edges, code }
}

#[test]
fn module_graph_has_no_cycle() {
    let g = graph();
    assert!(g.edges.len() > 40, "found only {} modules", g.edges.len());
    // Depth-first search for a back edge; report the cycle it closes.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                0 => visit(m, g, state, stack, cycles),
                1 => {
                    let from = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut c = stack[from..].to_vec();
                    c.push(m.clone());
                    cycles.push(c.join(" -> "));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for n in g.edges.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            visit(n, &g.edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_engine_imports_no_mode_and_no_terminal() {
    let g = graph();
    let mut bad = Vec::new();
    for (m, deps) in &g.edges {
        let top = m.split("::").next().unwrap_or("");
        if !ENGINE.contains(&top) {
            continue;
        }
        for d in deps {
            let dtop = d.split("::").next().unwrap_or("");
            if MODES.contains(&dtop) {
                bad.push(format!("{m} imports {d}"));
            }
        }
        let text = &g.code[m];
        for c in TERMINAL_CRATES {
            if text.contains(c) {
                bad.push(format!("{m} uses {c}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "engine boundary crossed:\n{}",
        bad.join("\n")
    );
}

/// The layers of `src/lib.rs`, lowest first; a module may import only
/// from layers below its own (the modes may also use each other, as long
/// as no cycle forms). probe, fetch and diagnose share a layer: none of
/// them imports another.
fn layer(top: &str) -> Option<u8> {
    Some(match top {
        "util" => 0,
        "target" => 1,
        "x509" => 2,
        "report" => 3,
        "probe" | "fetch" | "diagnose" => 4,
        "config" => 5,
        "run" | "logging" => 6,
        "check" | "inspect" | "lab" | "tui" | "cli" | "serve" => 7,
        _ => return None,
    })
}

#[test]
fn layers_point_down() {
    let g = graph();
    let mut bad = Vec::new();
    for (m, deps) in &g.edges {
        let top = m.split("::").next().unwrap_or("");
        let Some(mine) = layer(top) else {
            bad.push(format!("{m}: module {top} has no layer in tests/layout.rs"));
            continue;
        };
        for d in deps {
            let dtop = d.split("::").next().unwrap_or("");
            if dtop == top {
                continue;
            }
            let Some(theirs) = layer(dtop) else {
                bad.push(format!("{m} imports {d}, which has no layer"));
                continue;
            };
            if theirs > mine || (theirs == mine && mine < 7) {
                bad.push(format!("{m} (layer {mine}) imports {d} (layer {theirs})"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "arrows must point down:\n{}",
        bad.join("\n")
    );
}
