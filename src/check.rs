//! `certscope check`: run every target through the engine with bounded
//! concurrency and print text / json / jsonl as results finish; return the
//! Nagios exit code.
//!
//! Output streams: JSONL lines are written as each target finishes and
//! dropped; JSON and text keep input order, holding only the rendered
//! results that finished ahead of an earlier, slower target.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::{CheckArgs, Format};
use crate::config::InputError;
use crate::report::finding::Status;
use crate::report::{self, Report};
use crate::run::Engine;

/// The exit code of a run stopped with Ctrl-C (128 + SIGINT).
pub const INTERRUPTED: i32 = 130;

/// Run `certscope check`; returns the process exit code. Ctrl-C stops the
/// run: what finished is printed, the rest is named as not checked, and
/// the exit code is 130.
pub async fn run(args: CheckArgs) -> Result<i32, InputError> {
    let config = crate::cli::config(&args.targets, &args.probe)?;
    let format = if args.json { Format::Json } else { args.format };
    let total = config.target_count();
    let labels: Vec<String> = config.targets.iter().map(|t| t.host_port()).collect();
    let thresholds = (
        config.diagnose.warn_days.unwrap_or(30),
        config.diagnose.crit_days.unwrap_or(7),
    );
    let engine = Arc::new(Engine::new(config));
    let mut rx = engine.stream();
    let mut out = Printer::new(format, total);
    out.thresholds = thresholds;
    let mut progress = Progress::new(total);
    let mut done_idx = std::collections::HashSet::new();
    let mut interrupt = std::pin::pin!(tokio::signal::ctrl_c());
    let mut interrupted = false;
    loop {
        let done = tokio::select! {
            d = rx.recv() => d,
            _ = &mut interrupt => {
                interrupted = true;
                break;
            }
        };
        let Some(done) = done else { break };
        match done {
            Ok((i, r)) => {
                done_idx.insert(i);
                out.add(i, &r);
                progress.tick();
                // Write out when nothing else is ready: one write for a
                // burst of results, none held back while waiting.
                if rx.is_empty() {
                    out.flush();
                }
            }
            Err(e) => {
                if !crate::util::term::quiet() {
                    eprintln!("certscope: {e}; the targets after it are not checked");
                }
            }
        }
    }
    // Stop what is running.
    drop(rx);
    if interrupted {
        progress.clear();
        let missing: Vec<String> = (0..total)
            .filter(|i| !done_idx.contains(i))
            .map(|i| {
                labels
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", i + 1))
            })
            .collect();
        out.finish_interrupted(&missing);
        return Ok(INTERRUPTED);
    }
    Ok(out.finish())
}

/// One `--format jsonl` line: the result with the contract's version.
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    version: u32,
    #[serde(flatten)]
    result: crate::report::JsonResult<'a>,
}

/// At most this many targets are named in a one-line summary.
const NAMED: usize = 5;

/// "a, b, c and 4 more".
fn named(items: &[String], sep: &str) -> String {
    crate::util::sanitize::and_more(items, NAMED, sep)
}

/// What the plugin line keeps of a report.
struct PluginFacts {
    /// Input order.
    index: usize,
    label: String,
    status: Status,
    why: Option<String>,
    days: Option<i64>,
}

/// A perfdata label: quoted when it holds anything but letters, digits,
/// `_`, `.`, `:` and `-`; a quote inside is doubled.
fn perf_label(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// The one monitoring-plugin line (Monitoring Plugins guidelines):
/// `CERTSCOPE STATUS - text | perfdata`.
fn plugin_line(facts: &[PluginFacts], worst: Status, (warn, crit): (u32, u32)) -> String {
    let word = match worst {
        Status::Ok => "OK",
        Status::Warning => "WARNING",
        Status::Critical => "CRITICAL",
        Status::Error => "UNKNOWN",
    };
    let clean = |s: &str| s.replace(['|', '\n', '\r'], " ");
    let text = match facts {
        [] => "no targets".to_string(),
        [f] => match &f.why {
            Some(w) => format!("{}: {}", f.label, clean(w)),
            None => format!("{}: certificate ok", f.label),
        },
        _ => {
            let mut counts = [0usize; 4];
            for f in facts {
                counts[f.status.exit_code() as usize] += 1;
            }
            let parts: Vec<String> = ["ok", "warning", "critical", "error"]
                .iter()
                .zip(counts)
                .filter(|(_, n)| *n > 0)
                .map(|(w, n)| format!("{n} {w}"))
                .collect();
            let bad: Vec<String> = facts
                .iter()
                .filter(|f| f.status != Status::Ok)
                .map(|f| match &f.why {
                    Some(w) => format!("{}: {}", f.label, clean(w)),
                    None => f.label.clone(),
                })
                .collect();
            if bad.is_empty() {
                format!("{} targets: {}", facts.len(), parts.join(", "))
            } else {
                format!(
                    "{} targets: {}; {}",
                    facts.len(),
                    parts.join(", "),
                    named(&bad, "; ")
                )
            }
        }
    };
    let perf: Vec<String> = match facts {
        [f] => f
            .days
            .map(|d| format!("days={d};{warn};{crit}"))
            .into_iter()
            .collect(),
        _ => facts
            .iter()
            .filter_map(|f| {
                f.days
                    .map(|d| format!("{}={d};{warn};{crit}", perf_label(&f.label)))
            })
            .collect(),
    };
    if perf.is_empty() {
        format!("CERTSCOPE {word} - {text}")
    } else {
        format!("CERTSCOPE {word} - {text} | {}", perf.join(" "))
    }
}

/// Counts per status (ok, warning, critical, error), for the summary line,
/// and the worst status, for the exit code.
#[derive(Debug, Clone, Copy)]
struct Tally {
    counts: [usize; 4],
    worst: Status,
}

impl Tally {
    fn add(&mut self, s: Status) {
        let i = match s {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Error => 3,
        };
        self.counts[i] += 1;
        self.worst = Status::worst(self.worst, s);
    }
    fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// Writes reports in `format` as they arrive (see the module docs).
pub struct Printer {
    format: Format,
    expected: usize,
    color: bool,
    tally: Tally,
    /// Rendered results that finished before an earlier one (JSON, text).
    pending: BTreeMap<usize, String>,
    next: usize,
    started: bool,
    out: std::io::BufWriter<std::io::Stdout>,
    /// `--format nagios`: what each report leaves for the one line.
    plugin: Vec<PluginFacts>,
    /// `--warn-days` / `--crit-days` as the plugin line's perfdata says them.
    pub thresholds: (u32, u32),
    /// Columns the text report wraps at.
    width: usize,
}

/// The text report's width: the terminal's when stdout is one, else
/// `COLUMNS`, else 100.
fn text_width() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c >= 20);
    let tty = std::io::stdout()
        .is_terminal()
        .then(crossterm::terminal::size)
        .and_then(Result::ok)
        .map(|(w, _)| usize::from(w))
        .filter(|&w| w >= 20);
    tty.or(from_env).unwrap_or(100)
}

impl Printer {
    pub fn new(format: Format, expected: usize) -> Printer {
        let color = crate::util::term::color_enabled(std::io::stdout().is_terminal());
        Printer {
            format,
            expected,
            color,
            tally: Tally {
                counts: [0; 4],
                worst: Status::Ok,
            },
            pending: BTreeMap::new(),
            next: 0,
            started: false,
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            plugin: Vec::new(),
            thresholds: (30, 7),
            width: text_width(),
        }
    }

    /// Write out what is buffered.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }

    /// Take report `i` (input order index); print what is ready.
    pub fn add(&mut self, i: usize, r: &Report) {
        self.tally.add(r.status);
        let text = match self.format {
            Format::Jsonl => {
                let line = JsonLine {
                    version: 1,
                    result: r.to_json(),
                };
                let text = serde_json::to_string(&line)
                    .unwrap_or_else(|e| format!("{{\"version\":1,\"error\":\"{e}\"}}"));
                let _ = writeln!(self.out, "{text}");
                return;
            }
            Format::Nagios => {
                self.plugin.push(PluginFacts {
                    index: i,
                    label: r.label.clone(),
                    status: r.status,
                    why: r.root_cause().map(|f| {
                        crate::util::sanitize::for_terminal(&format!("{} ({})", f.title, f.code))
                    }),
                    days: (r.status != Status::Error)
                        .then(|| r.leaf_days_left())
                        .flatten(),
                });
                return;
            }
            Format::Json => indent(&report::json_pretty(r), 4),
            Format::Text => crate::report::text::render_width(r, self.color, self.width),
            Format::Csv => csv_row(r),
        };
        self.pending.insert(i, text);
        while let Some(t) = self.pending.remove(&self.next) {
            self.write(&t);
            self.next += 1;
        }
    }

    fn write(&mut self, t: &str) {
        if self.format == Format::Json {
            let sep = if self.started {
                ",\n"
            } else {
                "{\n  \"version\": 1,\n  \"results\": [\n"
            };
            let _ = write!(self.out, "{sep}{t}");
        } else if self.format == Format::Csv && !self.started {
            let _ = write!(self.out, "{}{t}", csv_record(&CSV_HEADER));
        } else {
            let _ = write!(self.out, "{t}");
        }
        self.started = true;
    }

    /// Print what is left (targets that never finished are skipped) and
    /// the closing lines; return the exit code: the worst status, or 3
    /// when fewer reports than expected arrived.
    pub fn finish(mut self) -> i32 {
        let rest = std::mem::take(&mut self.pending);
        for t in rest.values() {
            self.write(t);
        }
        let counts = self.tally.counts;
        let out = &mut self.out;
        match self.format {
            Format::Json if self.started => {
                let _ = writeln!(out, "\n  ]\n}}");
            }
            Format::Json => {
                let _ = writeln!(out, "{{\n  \"version\": 1,\n  \"results\": []\n}}");
            }
            Format::Csv if !self.started => {
                let _ = write!(out, "{}", csv_record(&CSV_HEADER));
            }
            Format::Text if self.tally.total() > 1 => {
                let _ = writeln!(out, "{}", crate::report::text::summary_of(&counts));
            }
            _ => {}
        }
        let worst = if self.tally.total() < self.expected {
            Status::Error
        } else {
            self.tally.worst
        };
        if self.format == Format::Nagios {
            self.plugin.sort_by_key(|f| f.index);
            let _ = writeln!(out, "{}", plugin_line(&self.plugin, worst, self.thresholds));
        }
        let _ = out.flush();
        worst.exit_code()
    }

    /// Ctrl-C: print what finished, then say which targets were not checked.
    pub fn finish_interrupted(mut self, missing: &[String]) {
        let rest = std::mem::take(&mut self.pending);
        for t in rest.values() {
            self.write(t);
        }
        let note = format!(
            "interrupted: {} of {} targets not checked: {}",
            missing.len(),
            self.expected,
            named(missing, ", ")
        );
        let out = &mut self.out;
        match self.format {
            Format::Json => {
                let list = serde_json::to_string(missing).unwrap_or_else(|_| "[]".into());
                if self.started {
                    let _ = writeln!(
                        out,
                        "\n  ],\n  \"interrupted\": true,\n  \"not_checked\": {list}\n}}"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{{\n  \"version\": 1,\n  \"results\": [],\n  \"interrupted\": true,\n  \"not_checked\": {list}\n}}"
                    );
                }
            }
            Format::Text => {
                let _ = writeln!(out, "{note}");
            }
            Format::Nagios => {
                let _ = writeln!(out, "CERTSCOPE UNKNOWN - {note}");
            }
            Format::Jsonl | Format::Csv => {}
        }
        let _ = out.flush();
        if matches!(self.format, Format::Jsonl | Format::Csv) {
            eprintln!("certscope: {note}");
        }
    }
}

/// The columns of `--format csv`.
const CSV_HEADER: [&str; 14] = [
    "target",
    "address",
    "status",
    "subject",
    "sans",
    "issuer",
    "not_before",
    "not_after",
    "days_left",
    "key",
    "signature",
    "serial",
    "sha256",
    "findings",
];

/// One CSV record (RFC 4180 quoting, CRLF-free: `\n` line ends).
fn csv_record<S: AsRef<[u8]>>(fields: &[S]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(fields);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A report as an inventory row: the leaf's facts (empty without one),
/// SANs and finding codes space-separated.
fn csv_row(r: &Report) -> String {
    // CSV is plain text, often read in a terminal: the terminal-safe copy.
    let r = &r.for_terminal();
    let address = r.address.map(|a| a.ip().to_string()).unwrap_or_default();
    let codes: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
    let leaf = r.chain.first().map(|e| e.info.as_ref());
    let cert = |f: &dyn Fn(&crate::x509::cert::CertInfo) -> String| leaf.map(f).unwrap_or_default();
    let fields = [
        r.label.clone(),
        address,
        r.status.as_str().to_string(),
        cert(&|c| c.subject.clone()),
        cert(&|c| {
            c.sans
                .iter()
                .map(|s| s.display())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        cert(&|c| c.issuer.clone()),
        cert(&|c| report::rfc3339(c.not_before)),
        cert(&|c| report::rfc3339(c.not_after)),
        cert(&|c| c.days_left(r.evaluated_at).to_string()),
        cert(&|c| {
            let mut k = c.key.type_str().to_string();
            if let Some(curve) = &c.key.curve {
                k.push(' ');
                k.push_str(curve);
            } else if let Some(bits) = c.key.bits {
                k.push_str(&format!(" {bits}"));
            }
            k
        }),
        cert(&|c| c.signature_algorithm.clone()),
        cert(&|c| c.serial.clone()),
        cert(&|c| c.sha256.clone()),
        codes.join(" "),
    ];
    csv_record(&fields)
}

fn indent(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    s.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Print `reports` in `format` and return the exit code (see [`Printer::finish`]).
pub fn print_reports(reports: &[Report], expected: usize, format: Format) -> i32 {
    let mut p = Printer::new(format, expected);
    for (i, r) in reports.iter().enumerate() {
        p.add(i, r);
    }
    p.finish()
}

/// "checked N/M targets" on stderr for runs of 10 or more: in place on a
/// terminal, every 5 s otherwise.
struct Progress {
    total: usize,
    done: usize,
    tty: bool,
    last: Instant,
    started: Instant,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            // --quiet: no progress at all.
            total: if crate::util::term::quiet() { 0 } else { total },
            done: 0,
            tty: std::io::stderr().is_terminal(),
            last: Instant::now(),
            started: Instant::now(),
        }
    }

    /// End an in-place progress line (before other stderr output).
    fn clear(&self) {
        if self.tty && self.total >= 10 && self.done < self.total {
            eprintln!();
        }
    }

    fn tick(&mut self) {
        self.done += 1;
        let (done, total) = (self.done, self.total);
        if total < 10
            || !(self.tty && self.last.elapsed() >= Duration::from_millis(50)
                || self.last.elapsed() >= Duration::from_secs(5)
                || done == total)
        {
            return;
        }
        self.last = Instant::now();
        let msg = format!(
            "certscope: checked {done}/{total} targets ({:.1}s)",
            self.started.elapsed().as_secs_f64()
        );
        if self.tty {
            eprint!("\r{msg}");
            if done == total {
                eprintln!();
            }
        } else {
            eprintln!("{msg}");
        }
    }
}
