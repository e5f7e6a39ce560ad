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

/// Run `certscope check`; returns the process exit code.
pub async fn run(args: CheckArgs) -> Result<i32, InputError> {
    let config = crate::cli::config(&args.targets, &args.probe)?;
    let format = if args.json { Format::Json } else { args.format };
    let total = config.target_count();
    let engine = Arc::new(Engine::new(config));
    let mut rx = engine.stream();
    let mut out = Printer::new(format, total);
    let mut progress = Progress::new(total);
    while let Some(done) = rx.recv().await {
        match done {
            Ok((i, r)) => {
                out.add(i, &r);
                progress.tick();
                // Write out when nothing else is ready: one write for a
                // burst of results, none held back while waiting.
                if rx.is_empty() {
                    out.flush();
                }
            }
            Err(e) => eprintln!("certscope: {e}; the targets after it are not checked"),
        }
    }
    Ok(out.finish())
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
}

impl Printer {
    pub fn new(format: Format, expected: usize) -> Printer {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
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
                let _ = writeln!(self.out, "{}", report::json_line(r));
                return;
            }
            Format::Json => indent(&report::json_pretty(r), 4),
            Format::Text => crate::report::text::render(r, self.color),
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
        let _ = out.flush();
        let worst = if self.tally.total() < self.expected {
            Status::Error
        } else {
            self.tally.worst
        };
        worst.exit_code()
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
            total,
            done: 0,
            tty: std::io::stderr().is_terminal(),
            last: Instant::now(),
            started: Instant::now(),
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
