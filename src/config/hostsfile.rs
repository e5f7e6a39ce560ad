//! Hosts files (TOML): the targets to check, with per-target options (port,
//! SNI, STARTTLS, extra CA files, a fixed address, labels).
//!
//! A hosts file is untrusted input: every error is one line naming the file,
//! the line and the bad key or value, and nothing here panics.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use crate::target::Proto;
use crate::target::{Host, ResolveRule, Target};
use crate::util::sanitize::for_terminal;
use crate::x509::trust::TrustStore;

/// A commented example, printed by `certscope example-hosts`.
pub const EXAMPLE: &str = r#"# certscope hosts file (TOML): the targets to check, with per-target options.
#
#   certscope check --hosts-file hosts.toml     # or: certscope --hosts-file hosts.toml
#
# With no TARGET and no --hosts-file, certscope reads
# $XDG_CONFIG_HOME/certscope/hosts.toml (default ~/.config/certscope/hosts.toml).
# Unknown keys are an error. Relative paths are relative to this file.
# Targets given on the command line are checked too, before these.
# The command line (--starttls, --sni, --resolve) wins over a value set on a
# target, which wins over [defaults], which wins over the settings file
# (certscope example-settings); --ca-file and --trust-store apply to all.
# A plain list (one target per line, # comments) works as a hosts file too.

# Optional: values for every [[target]] below.
[defaults]
# port = 443                 # when a target gives none (default: its STARTTLS protocol's port, else 443)
# starttls = "smtp"          # upgrade every target with STARTTLS first
# ca-file = "/etc/ssl/private-ca.pem"   # extra trust anchors (PEM) for every target; a file or a list
labels = ["example"]         # added to every target's labels
# interval = "5m"            # the TUI probes every host again this often (10s to 7d; --interval wins)

# One [[target]] table per server; only `host` is required.
[[target]]
host = "www.example.com"     # host, host:port, [v6addr]:port or https://host[:port]/...

[[target]]
host = "mail.example.com"
port = 587                   # 1-65535 (or give it in host, not both)
starttls = "smtp"            # smtp, imap, pop3, ftp, xmpp, ldap, postgres or mysql
labels = ["mail", "prod"]    # free-form; shown as "labels" in JSON output

[[target]]
host = "intranet.example.test:8443"
sni = "portal.example.test"  # the name to send (SNI) and verify (default: the host)
resolve = "192.0.2.10"       # connect to this address (or "a,b": each is probed) instead of resolving the host (like --resolve)
# expect-cert = "/etc/ssl/portal/fullchain.pem"  # the deployed certificate: is it the one served? (like --expect-cert)
# expect-key = "/etc/ssl/portal/privkey.pem"     # the deployed key: does it match the served certificate?
# ca-file = "corp-root.pem"  # extra trust anchors (PEM) for this target only; a file or a list
labels = ["internal"]
"#;

/// Hosts files larger than this are refused (they are lists of names).
const MAX_BYTES: u64 = 8 * 1024 * 1024;

/// Command-line options that apply where the hosts file leaves them unset.
#[derive(Debug, Clone, Default)]
pub struct Inherit<'a> {
    /// `--sni`, validated.
    pub sni: Option<String>,
    /// `--starttls`.
    pub starttls: Option<Proto>,
    /// `--resolve` rules.
    pub resolve: &'a [ResolveRule],
}

/// An extra CA file for a target, with the line that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaFile {
    pub path: PathBuf,
    pub line: usize,
}

/// One `[[target]]`, with every option applied to its [`Target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub target: Target,
    /// Extra trust anchors: `[defaults]`'s, then the target's (no duplicates).
    pub ca_files: Vec<CaFile>,
    /// The line of the target's `host`.
    pub line: usize,
}

/// `$XDG_CONFIG_HOME/certscope/hosts.toml`, or `~/.config/certscope/hosts.toml`.
pub fn default_path() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = match xdg {
        Some(d) => d,
        None => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".config"),
    };
    Some(base.join("certscope").join("hosts.toml"))
}

/// The default hosts file, when it exists.
pub fn default_file() -> Option<PathBuf> {
    default_path().filter(|p| p.is_file())
}

/// The default hosts file's path for messages, `~/`-abbreviated.
pub fn default_path_shown() -> String {
    let Some(p) = default_path() else {
        return "~/.config/certscope/hosts.toml".to_string();
    };
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        && let Ok(rest) = p.strip_prefix(&home)
    {
        return for_terminal(&format!("~/{}", rest.display()));
    }
    for_terminal(&p.display().to_string())
}

/// The one-line error for a run without targets.
pub fn no_targets_message() -> String {
    format!(
        "no targets: give TARGET..., --hosts-file FILE, or create {} (see certscope example-hosts)",
        default_path_shown()
    )
}

/// A hosts file's text (size-capped, UTF-8) and its name for messages.
fn read_text(path: &Path) -> Result<(String, String), String> {
    let shown = for_terminal(&path.display().to_string());
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read hosts file {shown}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read hosts file {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!(
            "hosts file {shown} is larger than {} MiB",
            MAX_BYTES / 1024 / 1024
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = line_of(e.as_bytes(), at);
        format!("hosts file {shown}, line {line}: the file is not UTF-8 text")
    })?;
    Ok((shown, text))
}

/// The targets of a plain list (one per line; blank lines and `#` comments
/// skipped), each with its line, or `None` when the text is TOML (a line
/// starts with `[` or holds `=`).
pub fn plain_targets(text: &str) -> Option<Vec<(usize, String)>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        if l.starts_with('[') && !l.starts_with("[::") && !l.contains("]:") || l.contains('=') {
            return None;
        }
        out.push((i + 1, l.to_string()));
    }
    Some(out)
}

/// A plain-list hosts file's targets (see [`plain_targets`]), or `None`
/// when the file is TOML. Errors name the file.
pub fn read_plain_list(path: &Path) -> Result<Option<Vec<(usize, String)>>, String> {
    let (_, text) = read_text(path)?;
    Ok(plain_targets(&text))
}

/// Read and parse a hosts file. Relative CA file paths are resolved against
/// the file's directory.
pub fn load(path: &Path, inherit: &Inherit<'_>) -> Result<Vec<Entry>, String> {
    let (shown, text) = read_text(path)?;
    let base_dir = path.parent().unwrap_or(Path::new(""));
    let entries = parse(&text, &shown, base_dir, inherit)?;
    if entries.is_empty() {
        return Err(format!(
            "hosts file {shown} has no targets: add [[target]] tables with a host (see certscope example-hosts)"
        ));
    }
    Ok(entries)
}

/// A hosts file checked whole, then read one table at a time while the run
/// goes, so memory does not grow with the number of targets: what is kept
/// is where each table lies (12 bytes a table), the parsed `[defaults]`, and
/// the trust stores of the CA files it names.
pub struct HostsFile {
    path: PathBuf,
    shown: String,
    base_dir: PathBuf,
    defaults: Defaults,
    /// (start, end, first line) of each table holding targets.
    tables: Vec<(u32, u32, u32)>,
    count: usize,
    /// The file's length when checked: a file that changes during the run
    /// is reported, not misread.
    len: u64,
    sni: Option<String>,
    starttls: Option<Proto>,
    resolve: Vec<ResolveRule>,
    trust: std::sync::Mutex<TrustCache>,
}

impl HostsFile {
    /// Read and check every table (values, CA files); the first error is
    /// returned, naming the file, the line and the bad key or value.
    pub fn open(
        path: &Path,
        inherit: &Inherit<'_>,
        base: &Arc<TrustStore>,
    ) -> Result<HostsFile, String> {
        let (shown, text) = read_text(path)?;
        let base_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let index = Index::build(&text, &shown, &base_dir)?;
        let mut trust = TrustCache::new(base.clone());
        let mut count = 0;
        let mut tables = Vec::with_capacity(index.targets.len());
        for &(start, end, line) in &index.targets {
            let chunk = text.get(start..end).unwrap_or_default();
            for e in index
                .defaults
                .entries(chunk, line, &shown, &base_dir, inherit)?
            {
                trust.get(&e.ca_files, &shown)?;
                count += 1;
            }
            let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            tables.push((small(start), small(end), small(line)));
        }
        if count == 0 {
            return Err(format!(
                "hosts file {shown} has no targets: add [[target]] tables with a host (see certscope example-hosts)"
            ));
        }
        Ok(HostsFile {
            path: path.to_path_buf(),
            shown,
            base_dir,
            defaults: index.defaults,
            tables,
            count,
            len: text.len() as u64,
            sni: inherit.sni.clone(),
            starttls: inherit.starttls,
            resolve: inherit.resolve.to_vec(),
            trust: std::sync::Mutex::new(trust),
        })
    }

    /// `[defaults] interval`: how often the TUI probes every host again.
    pub fn interval(&self) -> Option<u64> {
        self.defaults.interval
    }

    /// How many targets the file lists.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always false: an empty file is refused by [`HostsFile::open`].
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The targets in file order, each with its trust store, read from the
    /// file as they are taken.
    pub fn read(self: &Arc<Self>) -> HostsReader {
        HostsReader {
            file: self.clone(),
            reader: None,
            pos: 0,
            table: 0,
            pending: std::collections::VecDeque::new(),
            failed: false,
        }
    }

    fn next_table(
        &self,
        reader: &mut std::io::BufReader<std::fs::File>,
        pos: &mut u64,
        table: usize,
    ) -> Result<Vec<(Target, Arc<TrustStore>)>, String> {
        let changed = || format!("hosts file {} changed while it was being read", self.shown);
        let Some(&(start, end, line)) = self.tables.get(table) else {
            return Ok(Vec::new());
        };
        let (start, end) = (u64::from(start), u64::from(end));
        let skip = start.checked_sub(*pos).ok_or_else(changed)?;
        std::io::copy(&mut reader.by_ref().take(skip), &mut std::io::sink())
            .map_err(|e| format!("cannot read hosts file {}: {e}", self.shown))?;
        let mut buf = vec![0u8; usize::try_from(end - start).unwrap_or(0)];
        reader.read_exact(&mut buf).map_err(|_| changed())?;
        *pos = end;
        let chunk = String::from_utf8(buf).map_err(|_| changed())?;
        let inherit = Inherit {
            sni: self.sni.clone(),
            starttls: self.starttls,
            resolve: &self.resolve,
        };
        let entries =
            self.defaults
                .entries(&chunk, line as usize, &self.shown, &self.base_dir, &inherit)?;
        let mut trust = self.trust.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .into_iter()
            .map(|e| Ok((e.target, trust.get(&e.ca_files, &self.shown)?)))
            .collect()
    }
}

/// Reads a [`HostsFile`]'s targets in order (see [`HostsFile::read`]).
pub struct HostsReader {
    file: Arc<HostsFile>,
    reader: Option<std::io::BufReader<std::fs::File>>,
    pos: u64,
    table: usize,
    pending: std::collections::VecDeque<(Target, Arc<TrustStore>)>,
    failed: bool,
}

impl Iterator for HostsReader {
    type Item = Result<(Target, Arc<TrustStore>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(t) = self.pending.pop_front() {
                return Some(Ok(t));
            }
            if self.failed || self.table >= self.file.tables.len() {
                return None;
            }
            let file = self.file.clone();
            let reader = match &mut self.reader {
                Some(r) => r,
                None => {
                    let opened = std::fs::File::open(&file.path).and_then(|f| {
                        let len = f.metadata()?.len();
                        Ok((f, len))
                    });
                    match opened {
                        Ok((f, len)) if len == file.len => {
                            self.reader.insert(std::io::BufReader::new(f))
                        }
                        Ok(_) => {
                            self.failed = true;
                            return Some(Err(format!(
                                "hosts file {} changed while it was being read",
                                file.shown
                            )));
                        }
                        Err(e) => {
                            self.failed = true;
                            return Some(Err(format!(
                                "cannot read hosts file {}: {e}",
                                file.shown
                            )));
                        }
                    }
                }
            };
            match file.next_table(reader, &mut self.pos, self.table) {
                Ok(v) => self.pending.extend(v),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
            self.table += 1;
        }
    }
}

/// Read a hosts file and give each target its trust store: `base` plus the
/// target's CA files. Each CA file is read once and targets with the same CA
/// files share one store.
pub fn load_with_trust(
    path: &Path,
    inherit: &Inherit<'_>,
    base: &Arc<TrustStore>,
) -> Result<Vec<(Target, Arc<TrustStore>)>, String> {
    let file = Arc::new(HostsFile::open(path, inherit, base)?);
    file.read().collect()
}

/// Trust stores built from a base store and extra CA files, memoized.
pub struct TrustCache {
    base: Arc<TrustStore>,
    files: HashMap<PathBuf, TrustStore>,
    stores: HashMap<Vec<PathBuf>, Arc<TrustStore>>,
}

impl TrustCache {
    pub fn new(base: Arc<TrustStore>) -> TrustCache {
        TrustCache {
            base,
            files: HashMap::new(),
            stores: HashMap::new(),
        }
    }

    /// The base store plus `extra`; errors name the hosts file and line.
    pub fn get(&mut self, extra: &[CaFile], shown: &str) -> Result<Arc<TrustStore>, String> {
        if extra.is_empty() {
            return Ok(self.base.clone());
        }
        let key: Vec<PathBuf> = extra.iter().map(|c| c.path.clone()).collect();
        if let Some(s) = self.stores.get(&key) {
            return Ok(s.clone());
        }
        let mut store = (*self.base).clone();
        for ca in extra {
            let loaded = match self.files.entry(ca.path.clone()) {
                MapEntry::Occupied(o) => o.into_mut(),
                MapEntry::Vacant(v) => v.insert(
                    TrustStore::from_ca_file(&ca.path)
                        .map_err(|e| format!("hosts file {shown}, line {}: {e}", ca.line))?,
                ),
            };
            // The same anchor from --ca-file and the hosts file: keep one.
            let fresh = TrustStore::new(
                loaded
                    .anchors
                    .iter()
                    .filter(|a| {
                        !store
                            .anchors
                            .iter()
                            .any(|b| b.subject_raw == a.subject_raw && b.spki_der == a.spki_der)
                    })
                    .cloned()
                    .collect(),
                loaded.kind_label.clone(),
            );
            store.extend(fresh);
        }
        let store = Arc::new(store);
        self.stores.insert(key, store.clone());
        Ok(store)
    }
}

/// Parse hosts-file text. `shown` names the file in messages; relative CA
/// file paths are joined to `base_dir`.
pub fn parse(
    text: &str,
    shown: &str,
    base_dir: &Path,
    inherit: &Inherit<'_>,
) -> Result<Vec<Entry>, String> {
    let index = Index::build(text, shown, base_dir)?;
    let mut out = Vec::new();
    for &(start, end, line) in &index.targets {
        let chunk = text.get(start..end).unwrap_or_default();
        out.extend(
            index
                .defaults
                .entries(chunk, line, shown, base_dir, inherit)?,
        );
    }
    Ok(out)
}

/// A hosts file cut into its tables, each parsed on its own so that a
/// large file is never held as one TOML document: `[defaults]` parsed,
/// and where each `[[target]]` table lies (byte range and first line).
struct Index {
    defaults: Defaults,
    targets: Vec<(usize, usize, usize)>,
}

impl Index {
    /// Cut `text` at its top-level table headers (found by the TOML lexer,
    /// so a bracket inside a string or a multi-line array never cuts) and
    /// check every table; the first error is returned, naming the line.
    fn build(text: &str, shown: &str, base_dir: &Path) -> Result<Index, String> {
        // Sections: (start, end, first line), the preamble first.
        let mut sections = Vec::new();
        let (mut start, mut line) = (0, 1);
        for cut in table_starts(text).into_iter().chain([text.len()]) {
            if cut > start || (cut == start && start == 0 && cut == text.len()) {
                sections.push((start, cut, line));
            }
            line += count_lines(text.get(start..cut).unwrap_or_default());
            start = cut;
        }
        // Plain tables ([defaults], and anything misspelt) first: the
        // defaults apply to targets listed before them too.
        let mut defaults: Option<(Defaults, usize)> = None;
        let mut targets = Vec::new();
        for (start, end, line) in sections {
            let chunk = text.get(start..end).unwrap_or_default();
            if chunk.trim_start().starts_with("[[") {
                targets.push((start, end, line));
                continue;
            }
            let raw: RawFile =
                toml::from_str(chunk).map_err(|e| toml_error(&e, chunk, line, shown))?;
            if !raw.target.is_empty() {
                targets.push((start, end, line));
            }
            if let Some(d) = raw.defaults {
                if let Some((_, first)) = &defaults {
                    return Err(format!(
                        "hosts file {shown}, line {line}: a second [defaults] table (the first is on line {first}); merge them"
                    ));
                }
                defaults = Some((Defaults::new(d, chunk, line, base_dir), line));
            }
        }
        Ok(Index {
            defaults: defaults.map(|(d, _)| d).unwrap_or_default(),
            targets,
        })
    }
}

/// Byte offsets of the top-level table headers (`[x]`, `[[x]]`) in `text`:
/// a `[` that opens a line outside any value.
fn table_starts(text: &str) -> Vec<usize> {
    use toml_parser::lexer::TokenKind as K;
    let mut starts = Vec::new();
    let mut depth = 0usize;
    let mut line_start = true;
    let mut in_header = false;
    for tok in toml_parser::Source::new(text).lex() {
        match tok.kind() {
            K::Newline => {
                line_start = true;
                in_header = false;
                continue;
            }
            K::Whitespace => continue,
            K::LeftSquareBracket if depth == 0 && line_start && !in_header => {
                starts.push(tok.span().start());
                in_header = true;
            }
            _ if in_header => {}
            K::LeftSquareBracket | K::LeftCurlyBracket => depth += 1,
            K::RightSquareBracket | K::RightCurlyBracket => depth = depth.saturating_sub(1),
            _ => {}
        }
        line_start = false;
    }
    starts
}

fn count_lines(s: &str) -> usize {
    s.bytes().filter(|b| *b == b'\n').count()
}

/// `[defaults]`, applied to every target.
#[derive(Debug, Clone, Default)]
struct Defaults {
    ca_files: Vec<CaFile>,
    labels: Vec<String>,
    port: Option<u16>,
    starttls: Option<Proto>,
    interval: Option<u64>,
}

impl Defaults {
    fn new(raw: RawDefaults, chunk: &str, line: usize, base_dir: &Path) -> Defaults {
        let mut ca_files = Vec::new();
        if let Some(ca) = &raw.ca_file {
            let at = line + count_lines(chunk.get(..ca.span().start).unwrap_or_default());
            for p in &ca.get_ref().0 {
                push_ca(&mut ca_files, base_dir, p, at);
            }
        }
        Defaults {
            ca_files,
            labels: raw
                .labels
                .unwrap_or_default()
                .into_iter()
                .map(|l| l.0)
                .collect(),
            port: raw.port.map(|p| p.0),
            starttls: raw.starttls.map(|s| s.0),
            interval: raw.interval.map(|i| i.0),
        }
    }

    /// The targets in `chunk` (a table starting on `line`) as entries, with
    /// these defaults and `inherit` applied.
    fn entries(
        &self,
        chunk: &str,
        line: usize,
        shown: &str,
        base_dir: &Path,
        inherit: &Inherit<'_>,
    ) -> Result<Vec<Entry>, String> {
        let raw: RawFile = toml::from_str(chunk).map_err(|e| toml_error(&e, chunk, line, shown))?;
        raw.target
            .into_iter()
            .map(|rt| self.entry(rt, chunk, line, shown, base_dir, inherit))
            .collect()
    }

    fn entry(
        &self,
        rt: RawTarget,
        chunk: &str,
        line: usize,
        shown: &str,
        base_dir: &Path,
        inherit: &Inherit<'_>,
    ) -> Result<Entry, String> {
        let at = |span: std::ops::Range<usize>| {
            line + count_lines(chunk.get(..span.start).unwrap_or_default())
        };
        let host_line = at(rt.host.span());
        let mut t = rt.host.into_inner().0;
        let own_starttls = rt.starttls.map(|s| s.0);
        // The command line wins over the target, which wins over [defaults].
        let starttls = inherit.starttls.or(own_starttls).or(self.starttls);
        if let Some(p) = &rt.port {
            let port = p.get_ref().0;
            if t.port != 0 && t.port != port {
                return Err(format!(
                    "hosts file {shown}, line {}: port {port} conflicts with the port {} in host {:?}; give one",
                    at(p.span()),
                    t.port,
                    t.input
                ));
            }
            t.port = port;
        }
        if t.port == 0 {
            t.port = inherit
                .starttls
                .or(own_starttls)
                .map(Proto::default_port)
                .or(self.port)
                .or(starttls.map(Proto::default_port))
                .unwrap_or(443);
        }
        t.starttls = starttls;
        t.sni = inherit.sni.clone().or(rt.sni.map(|s| s.0));
        if let Some(addrs) = rt.resolve {
            t.connect_addrs = addrs.0;
        }
        // A --resolve rule for this host and port wins over `resolve`.
        ResolveRule::apply(inherit.resolve, &mut t);
        let mut labels = self.labels.clone();
        for l in rt.labels.unwrap_or_default() {
            if !labels.contains(&l.0) {
                labels.push(l.0);
            }
        }
        t.labels = labels;
        t.expect_cert = rt.expect_cert.as_deref().map(|p| local_path(base_dir, p));
        t.expect_key = rt.expect_key.as_deref().map(|p| local_path(base_dir, p));
        let mut ca_files = self.ca_files.clone();
        if let Some(ca) = &rt.ca_file {
            let line = at(ca.span());
            for p in &ca.get_ref().0 {
                push_ca(&mut ca_files, base_dir, p, line);
            }
        }
        Ok(Entry {
            target: t,
            ca_files,
            line: host_line,
        })
    }
}

/// A path from the file: `~/` is the home directory, a relative path is
/// relative to the file's directory.
fn local_path(base_dir: &Path, p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => PathBuf::from(home).join(rest),
            None => base_dir.join(p),
        },
        None => base_dir.join(p),
    }
}

fn push_ca(out: &mut Vec<CaFile>, base_dir: &Path, p: &str, line: usize) {
    let path = local_path(base_dir, p);
    if !out.iter().any(|c| c.path == path) {
        out.push(CaFile { path, line });
    }
}

/// 1-based line of byte offset `at`.
fn line_of(text: &[u8], at: usize) -> usize {
    text.iter().take(at).filter(|b| **b == b'\n').count() + 1
}

/// toml's error as one line: "hosts file F, line N: message". `text`
/// starts on line `first_line` of the file.
fn toml_error(e: &toml::de::Error, text: &str, first_line: usize, shown: &str) -> String {
    let msg = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let msg = for_terminal(&msg);
    match e.span() {
        Some(span) => format!(
            "hosts file {shown}, line {}: {msg}",
            first_line + count_lines(text.get(..span.start).unwrap_or_default())
        ),
        None => format!("hosts file {shown}: {msg}"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    defaults: Option<RawDefaults>,
    #[serde(default)]
    target: Vec<RawTarget>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDefaults {
    port: Option<Port>,
    starttls: Option<Starttls>,
    ca_file: Option<Spanned<Paths>>,
    labels: Option<Vec<Label>>,
    interval: Option<Interval>,
}

/// `interval`: how often the TUI probes every host again.
struct Interval(u64);

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |s| crate::config::parse_interval(s).map(Interval))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTarget {
    host: Spanned<HostValue>,
    port: Option<Spanned<Port>>,
    sni: Option<Sni>,
    starttls: Option<Starttls>,
    ca_file: Option<Spanned<Paths>>,
    resolve: Option<Addr>,
    labels: Option<Vec<Label>>,
    #[serde(alias = "expect_cert")]
    expect_cert: Option<String>,
    #[serde(alias = "expect_key")]
    expect_key: Option<String>,
}

/// A string, checked by `check`; its error becomes the value's error.
fn checked<'de, D, T>(d: D, check: impl FnOnce(&str) -> Result<T, String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let s = String::deserialize(d)?;
    check(&s).map_err(de::Error::custom)
}

/// `host`: a target; its port is 0 when it gives none.
struct HostValue(Target);

impl<'de> Deserialize<'de> for HostValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |s| Target::parse(s, 0).map(HostValue))
    }
}

struct Sni(String);

impl<'de> Deserialize<'de> for Sni {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |s| {
            Host::parse(s)
                .map(|h| Sni(h.to_string()))
                .map_err(|e| format!("invalid sni: {e}"))
        })
    }
}

struct Starttls(Proto);

impl<'de> Deserialize<'de> for Starttls {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |s| s.parse::<Proto>().map(Starttls))
    }
}

struct Addr(Vec<IpAddr>);

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |s| {
            crate::target::parse_addr_list(s).map(Addr).map_err(|e| {
                format!(
                    "resolve {:?}: {e} (give the addresses to connect to, e.g. \"127.0.0.1\" or \"192.0.2.1,192.0.2.2\")",
                    for_terminal(s)
                )
            })
        })
    }
}

struct Label(String);

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked(d, |s| {
            if s.trim().is_empty() {
                Err("a label is empty".to_string())
            } else if s.chars().any(char::is_control) {
                Err(format!(
                    "label {:?} contains a control character",
                    for_terminal(s)
                ))
            } else {
                Ok(Label(s.to_string()))
            }
        })
    }
}

struct Port(u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number (1-65535)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                match u16::try_from(v) {
                    Ok(p) if p != 0 => Ok(Port(p)),
                    _ => Err(E::custom(format!("port {v} is out of range (1-65535)"))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                match u16::try_from(v) {
                    Ok(p) if p != 0 => Ok(Port(p)),
                    _ => Err(E::custom(format!("port {v} is out of range (1-65535)"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `ca-file`: one path or a list of paths.
struct Paths(Vec<String>);

impl<'de> Deserialize<'de> for Paths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn one<E: de::Error>(s: &str) -> Result<String, E> {
            if s.trim().is_empty() {
                Err(E::custom("ca-file is empty"))
            } else {
                Ok(s.to_string())
            }
        }
        impl<'de> Visitor<'de> for V {
            type Value = Paths;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file name or a list of file names")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Paths, E> {
                Ok(Paths(vec![one(s)?]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Paths, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(one(&s)?);
                }
                Ok(Paths(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<Entry> {
        parse(
            text,
            "hosts.toml",
            Path::new("/etc/certscope"),
            &Inherit::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> String {
        let e = parse(text, "hosts.toml", Path::new("/cfg"), &Inherit::default()).unwrap_err();
        assert!(!e.contains('\n'), "one line: {e:?}");
        e
    }

    #[test]
    fn valid_file_with_every_key() {
        let text = r#"
[defaults]
port = 8443
starttls = "imap"
ca-file = ["/abs/root.pem", "rel/root.pem"]
labels = ["all"]

[[target]]
host = "www.example.test"
port = 443
sni = "Other.Example.TEST"
starttls = "smtp"
ca-file = "corp-root.pem"
resolve = "127.0.0.1"
labels = ["prod", "web", "all"]

[[target]]
host = "[::1]:993"
resolve = "[::1]"

[[target]]
host = "plain.example.test"
"#;
        let es = parse_ok(text);
        assert_eq!(es.len(), 3);
        let a = &es[0];
        assert_eq!(a.line, 9);
        assert_eq!(a.target.host_port(), "www.example.test:443");
        assert_eq!(a.target.sni.as_deref(), Some("other.example.test"));
        assert_eq!(a.target.starttls, Some(Proto::Smtp));
        assert_eq!(
            a.target.connect_addrs,
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(a.target.labels, ["all", "prod", "web"]);
        let paths: Vec<_> = a.ca_files.iter().map(|c| c.path.clone()).collect();
        assert_eq!(
            paths,
            [
                PathBuf::from("/abs/root.pem"),
                PathBuf::from("/etc/certscope/rel/root.pem"),
                PathBuf::from("/etc/certscope/corp-root.pem"),
            ]
        );
        assert_eq!(
            a.ca_files.iter().map(|c| c.line).collect::<Vec<_>>(),
            [5, 5, 13]
        );
        let b = &es[1];
        assert_eq!(b.target.host_port(), "[::1]:993");
        assert_eq!(b.target.starttls, Some(Proto::Imap));
        assert_eq!(
            b.target.connect_addrs,
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(b.target.labels, ["all"]);
        // No port anywhere: [defaults] port.
        assert_eq!(es[2].target.port, 8443);
        assert_eq!(es[2].target.sni, None);
    }

    #[test]
    fn plain_lists() {
        let l =
            plain_targets("# web\na.test\n\n  b.test:8443  # note\n[::1]:443\nhttps://c.test/x\n")
                .unwrap();
        assert_eq!(
            l,
            [
                (2, "a.test".to_string()),
                (4, "b.test:8443".to_string()),
                (5, "[::1]:443".to_string()),
                (6, "https://c.test/x".to_string())
            ]
        );
        assert!(plain_targets("[[target]]\nhost = \"a.test\"\n").is_none());
        assert!(plain_targets("[defaults]\n").is_none());
    }

    #[test]
    fn ports_and_inherited_options() {
        let rules = [ResolveRule::parse("b.test:25:10.0.0.1").unwrap()];
        let inherit = Inherit {
            sni: Some("cli.test".into()),
            starttls: Some(Proto::Smtp),
            resolve: &rules,
        };
        let text = "[[target]]\nhost = \"a.test\"\nstarttls = \"imap\"\nsni = \"own.test\"\n\
                    [[target]]\nhost = \"b.test\"\nresolve = \"10.9.9.9\"\n\
                    [[target]]\nhost = \"https://c.test/x\"\nport = 443\n";
        let es = parse(text, "h", Path::new(""), &inherit).unwrap();
        // The command line wins over the target's own values.
        assert_eq!(es[0].target.port, 25);
        assert_eq!(es[0].target.starttls, Some(Proto::Smtp));
        assert_eq!(es[0].target.sni.as_deref(), Some("cli.test"));
        assert_eq!(es[1].target.port, 25);
        assert_eq!(es[1].target.starttls, Some(Proto::Smtp));
        assert_eq!(
            es[1].target.connect_addrs,
            vec!["10.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(es[2].target.port, 443);
        assert!(es.iter().all(|e| e.ca_files.is_empty()));
    }

    #[test]
    fn unknown_key_names_the_key_and_line() {
        let e = parse_err("[[target]]\nhost = \"a.test\"\nprot = 443\n");
        assert!(e.starts_with("hosts file hosts.toml, line 3: "), "{e}");
        assert!(e.contains("unknown field `prot`"), "{e}");
        assert!(e.contains("`port`"), "{e}");
        let e = parse_err("[defaults]\n\ntimeout = 5\n");
        assert!(
            e.starts_with("hosts file hosts.toml, line 3: unknown field `timeout`"),
            "{e}"
        );
        let e = parse_err("[[targets]]\nhost = \"a.test\"\n");
        assert!(
            e.contains("line 1") && e.contains("unknown field `targets`"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_name_the_value_and_line() {
        let cases = [
            ("port = 70000", "port 70000 is out of range"),
            ("port = 0", "port 0 is out of range"),
            ("port = \"443\"", "expected a port number"),
            ("starttls = \"smtps\"", "\"smtps\""),
            ("resolve = \"nowhere\"", "\"nowhere\" is not an IP address"),
            ("sni = \"a b\"", "invalid sni"),
            ("labels = [\"\"]", "label is empty"),
            ("labels = \"prod\"", "expected a sequence"),
            ("ca-file = 5", "expected a file name"),
            ("ca-file = [\"\"]", "ca-file is empty"),
        ];
        for (line, want) in cases {
            let e = parse_err(&format!("[[target]]\nhost = \"a.test\"\n{line}\n"));
            assert!(
                e.starts_with("hosts file hosts.toml, line 3: ") && e.contains(want),
                "{line}: {e}"
            );
        }
        let e = parse_err("[[target]]\n\nhost = \"a..test\"\n");
        assert!(
            e.starts_with("hosts file hosts.toml, line 3: invalid target \"a..test\""),
            "{e}"
        );
        let e = parse_err("[[target]]\nhost = \"a.test:8443\"\nport = 443\n");
        assert!(e.contains("line 3") && e.contains("conflicts"), "{e}");
        let e = parse_err("[[target]]\nport = 443\n");
        assert!(
            e.contains("line 1") && e.contains("missing field `host`"),
            "{e}"
        );
        let e = parse_err("[[target]\nhost = \"a.test\"\n");
        assert!(e.starts_with("hosts file hosts.toml, line 1: "), "{e}");
        let e = parse_err("[[target]]\nhost = \"a\u{1b}[31m.test\"\n");
        assert!(!e.contains('\u{1b}'), "{e:?}");
        let e = parse_err("[[target]]\nhost = \"a.test\"\nhost = \"b.test\"\n");
        assert!(e.contains("line 3") && e.contains("duplicate"), "{e}");
    }

    #[test]
    fn example_parses_with_and_without_its_commented_keys() {
        let es = parse_ok(EXAMPLE);
        assert_eq!(es.len(), 3);
        assert_eq!(es[1].target.host_port(), "mail.example.com:587");
        assert_eq!(es[1].target.labels, ["example", "mail", "prod"]);
        assert_eq!(es[2].target.sni.as_deref(), Some("portal.example.test"));
        // Every documented key, uncommented, is valid too.
        let keys = ["port", "starttls", "ca-file"];
        let uncommented: String = EXAMPLE
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if keys.iter().any(|k| rest.starts_with(&format!("{k} ="))) => {
                    format!("{rest}\n")
                }
                _ => format!("{l}\n"),
            })
            .collect();
        assert_ne!(uncommented, EXAMPLE);
        let es = parse_ok(&uncommented);
        assert_eq!(es[0].target.starttls, Some(Proto::Smtp));
        assert_eq!(es[0].target.port, 443);
        assert_eq!(es[2].ca_files.len(), 2);
        for key in [
            "host", "port", "sni", "starttls", "ca-file", "resolve", "labels",
        ] {
            assert!(uncommented.contains(&format!("\n{key} = ")), "{key}");
        }
    }

    #[test]
    fn files_and_trust() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.toml");
        let e = load(&missing, &Inherit::default()).unwrap_err();
        assert!(e.starts_with("cannot read hosts file") && e.contains("missing.toml"));
        let empty = dir.path().join("empty.toml");
        std::fs::write(&empty, "# nothing\n[defaults]\n").unwrap();
        let e = load(&empty, &Inherit::default()).unwrap_err();
        assert!(e.contains("has no targets"), "{e}");
        let binary = dir.path().join("bin.toml");
        std::fs::write(&binary, b"[[target]]\nhost = \"\xff\"\n").unwrap();
        let e = load(&binary, &Inherit::default()).unwrap_err();
        assert!(e.contains("line 2") && e.contains("not UTF-8"), "{e}");

        let pki = crate::testkit::TestPki::new();
        let pem = pem::encode(&pem::Pem::new("CERTIFICATE", pki.root_der.clone()));
        std::fs::write(dir.path().join("root.pem"), pem).unwrap();
        let hosts = dir.path().join("hosts.toml");
        std::fs::write(
            &hosts,
            "[[target]]\nhost = \"a.test\"\nca-file = \"root.pem\"\n\
             [[target]]\nhost = \"b.test\"\nca-file = \"root.pem\"\n\
             [[target]]\nhost = \"c.test\"\n\
             [[target]]\nhost = \"d.test\"\nca-file = \"nope.pem\"\n",
        )
        .unwrap();
        let base = Arc::new(TrustStore::default());
        let e = load_with_trust(&hosts, &Inherit::default(), &base).unwrap_err();
        assert!(
            e.contains("hosts.toml, line 11: cannot read CA file") && e.contains("nope.pem"),
            "{e}"
        );
        std::fs::write(
            &hosts,
            std::fs::read_to_string(&hosts)
                .unwrap()
                .replace("nope.pem", "root.pem"),
        )
        .unwrap();
        let got = load_with_trust(&hosts, &Inherit::default(), &base).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].1.anchors.len(), 1);
        assert!(Arc::ptr_eq(&got[0].1, &got[1].1));
        assert!(Arc::ptr_eq(&got[2].1, &base));
    }

    #[test]
    fn tables_are_cut_only_at_real_headers() {
        // A header-like line inside a multi-line string, and a multi-line
        // array whose lines start with brackets, do not start a table.
        let text = "[[target]]\nhost = \"a.test\"\nlabels = [\n  \"x\",\n]\n\
                    [[target]]\nhost = \"b.test\"\nlabels = [\"\"\"\n[[target]]\nhost\"\"\"]\n";
        assert_eq!(table_starts(text).len(), 2);
        let e = parse_err(text);
        assert!(
            e.contains("line 8") && e.contains("control character"),
            "{e}"
        );
        let ok = parse_ok(
            "[[target]]\nhost = \"a.test\"\nlabels = [\n  \"x\", # [[target]]\n]\n[[target]]\nhost = \"b.test\"\n",
        );
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].target.labels, ["x"]);
        assert_eq!((ok[0].line, ok[1].line), (2, 7));
    }

    #[test]
    fn defaults_apply_wherever_they_are_and_only_once() {
        let got = parse_ok(
            "[[target]]\nhost = \"a.test\"\n\n[defaults]\nport = 8443\nlabels = [\"d\"]\n[[target]]\nhost = \"b.test\"\n",
        );
        assert_eq!(got.len(), 2);
        assert!(
            got.iter()
                .all(|e| e.target.port == 8443 && e.target.labels == ["d"])
        );
        let e = parse_err(
            "[defaults]\nport = 1\n[[target]]\nhost = \"a.test\"\n[defaults]\nport = 2\n",
        );
        assert!(
            e.contains("line 5") && e.contains("second [defaults]") && e.contains("line 1"),
            "{e}"
        );
        // Errors in later tables name their own lines.
        let e = parse_err(
            "[[target]]\nhost = \"a.test\"\n[[target]]\nhost = \"b.test\"\nport = 70000\n",
        );
        assert!(e.contains("line 5") && e.contains("70000"), "{e}");
    }

    #[test]
    fn a_hosts_file_is_read_as_the_run_goes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts.toml");
        let mut text = String::from("[defaults]\nlabels = [\"fleet\"]\n");
        for i in 0..50 {
            text.push_str(&format!("[[target]]\nhost = \"h{i}.test:{}\"\n", 1000 + i));
        }
        std::fs::write(&path, &text).unwrap();
        let base = Arc::new(TrustStore::default());
        let file = Arc::new(HostsFile::open(&path, &Inherit::default(), &base).unwrap());
        assert_eq!(file.len(), 50);
        let read: Vec<_> = file.read().map(|r| r.unwrap().0).collect();
        let parsed: Vec<_> = parse_ok(&text).into_iter().map(|e| e.target).collect();
        assert_eq!(read, parsed);
        assert_eq!(read[49].port, 1049);
        assert_eq!(read[0].labels, ["fleet"]);
        // A file that changes between the check and the read is reported.
        std::fs::write(&path, text.replace("h1.test", "h1.tests")).unwrap();
        let mut r = file.read();
        let e = r.next().unwrap().unwrap_err();
        assert!(e.contains("changed while it was being read"), "{e}");
        assert!(r.next().is_none());
    }
}
