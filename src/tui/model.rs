//! The TUI's state. Only `update` changes it; rendering reads it.

use crate::report::Report;
use crate::report::finding::{Severity, Status};
use crate::target::{ResolveRule, Target};
use crate::tui::watch::{Change, Snapshot};

/// Where a host's probe is.
#[derive(Debug, Clone)]
pub enum HostState {
    Queued,
    /// Probing since `since_ms` (model clock).
    Connecting {
        since_ms: u64,
    },
    Done(Box<Report>),
    /// The probe task itself failed (not a TLS failure: those are reports).
    Failed(String),
}

/// One row of the host list.
#[derive(Debug, Clone)]
pub struct Host {
    pub target: Target,
    pub state: HostState,
    /// Bumped on every (re-)probe; results of older generations are dropped.
    pub generation: u64,
    /// A certificate file shown instead of a probed target (`--file`):
    /// re-probing re-reads it.
    pub file: Option<std::path::PathBuf>,
    /// Its last results in brief, oldest first (at most `watch::HISTORY`).
    pub history: std::collections::VecDeque<Snapshot>,
    /// What the last result that changed something changed (against the
    /// one before it); kept until another change.
    pub changes: Vec<Change>,
    /// When a result last changed something (unix seconds).
    pub changed_at: Option<i64>,
    /// When the watch probes it again (unix seconds; `--interval`).
    pub next_at: Option<i64>,
    /// A watch re-probe is running; the last result stays shown meanwhile.
    pub rechecking: bool,
}

impl Host {
    pub fn new(target: Target) -> Host {
        Host {
            target,
            state: HostState::Queued,
            generation: 0,
            file: None,
            history: std::collections::VecDeque::new(),
            changes: Vec::new(),
            changed_at: None,
            next_at: None,
            rechecking: false,
        }
    }

    /// When it was last checked (unix seconds).
    pub fn checked_at(&self) -> Option<i64> {
        self.history.back().map(|s| s.at)
    }

    /// What the row is called: the file path, or `host:port`.
    pub fn label(&self) -> String {
        match &self.file {
            Some(p) => crate::util::sanitize::for_terminal(&p.display().to_string()),
            None => self.target.host_port(),
        }
    }

    /// What its row in the list shows: the label, and for a target given
    /// by IP address the name on the certificate it presented, so that
    /// several IP targets tell apart ("127.0.0.1:8443 (api.example)").
    pub fn row_label(&self) -> String {
        let label = self.label();
        if self.file.is_some() || !self.target.host.is_ip() {
            return label;
        }
        match self
            .report()
            .and_then(|r| r.chain.first())
            .map(|c| c.info.display_name())
        {
            Some(name) if !name.is_empty() && name != self.target.host.to_string() => {
                format!("{label} ({name})")
            }
            _ => label,
        }
    }

    pub fn report(&self) -> Option<&Report> {
        match &self.state {
            HostState::Done(r) => Some(r),
            _ => None,
        }
    }

    /// Status used for sorting and the row symbol (`None` while pending).
    pub fn status(&self) -> Option<Status> {
        match &self.state {
            HostState::Done(r) => Some(r.status),
            HostState::Failed(_) => Some(Status::Error),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Hosts,
    Tree,
    Diagnosis,
}

impl Focus {
    pub const ORDER: [Focus; 3] = [Focus::Hosts, Focus::Tree, Focus::Diagnosis];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortMode {
    /// Worst first, then name.
    Severity,
    Name,
    /// Fewest days left first.
    Expiry,
    /// Most recently changed first; hosts that never changed last.
    Changed,
}

impl SortMode {
    pub fn next(self) -> SortMode {
        match self {
            SortMode::Severity => SortMode::Name,
            SortMode::Name => SortMode::Expiry,
            SortMode::Expiry => SortMode::Changed,
            SortMode::Changed => SortMode::Severity,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SortMode::Severity => "severity",
            SortMode::Name => "name",
            SortMode::Expiry => "expiry",
            SortMode::Changed => "changed",
        }
    }
}

/// One entry of the summary of changes since start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// Unix seconds.
    pub at: i64,
    /// Index into `Model::hosts`.
    pub host: usize,
    pub change: Change,
}

/// One entry of the copy menu: exactly the text that will be copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyItem {
    pub label: String,
    pub text: String,
}

/// A modal layer over the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    /// The key help, scrolled by `scroll` lines.
    Help {
        scroll: usize,
    },
    CopyMenu {
        items: Vec<CopyItem>,
        selected: usize,
    },
    AddHost {
        input: String,
        error: Option<String>,
    },
    /// The summary of changes since start (newest first), scrolled.
    Changes {
        scroll: usize,
    },
    SaveChain {
        input: String,
        error: Option<String>,
    },
    /// The file to save to exists: overwrite it? (y/N)
    ConfirmOverwrite {
        path: std::path::PathBuf,
        contents: String,
    },
}

/// The full-screen certificate detail view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    /// Index into the selected report's chain.
    pub cert: usize,
    pub scroll: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub kind: MessageKind,
    /// When it was set (`Model::now_ms`); it expires [`Message::ttl_ms`]
    /// later.
    pub at_ms: u64,
}

impl Message {
    /// How long it stays in the status bar: 5 s, errors 10 s.
    pub fn ttl_ms(&self) -> u64 {
        match self.kind {
            MessageKind::Info => 5_000,
            MessageKind::Error => 10_000,
        }
    }

    /// Whether it has expired at `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.at_ms) >= self.ttl_ms()
    }
}

/// Defaults applied to hosts added with `a`.
#[derive(Debug, Clone, Default)]
pub struct AddDefaults {
    pub sni: Option<String>,
    pub resolve: Vec<ResolveRule>,
}

/// The whole TUI state.
#[derive(Debug, Clone)]
pub struct Model {
    pub hosts: Vec<Host>,
    /// Indices into `hosts` after filtering and sorting: the rows shown.
    pub view: Vec<usize>,
    /// Position in `view` of the selected row.
    pub selected: usize,
    /// The cursor follows the first row (the worst host, sorting by
    /// severity) as results arrive, until the user moves it; from then on
    /// it stays on its host.
    pub follow_top: bool,
    pub focus: Focus,
    pub sort: SortMode,
    pub filter: String,
    /// The `/` filter prompt is open.
    pub filter_editing: bool,
    /// Selected row of the chain tree (index into the report's chain).
    pub tree_selected: usize,
    pub tree_collapsed: bool,
    /// Selected fix command in the diagnosis pane (index into `fix_commands`).
    pub fix_selected: usize,
    pub diag_scroll: u16,
    pub overlay: Overlay,
    pub detail: Option<Detail>,
    pub message: Option<Message>,
    /// Wall clock, unix seconds (days left are computed against it).
    pub now_unix: i64,
    /// Monotonic milliseconds since start, for spinners.
    pub now_ms: u64,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    pub color: bool,
    pub quit: bool,
    pub add_defaults: AddDefaults,
    /// `--interval`: re-probe every host this often (seconds).
    pub interval: Option<u64>,
    /// Every change since start, oldest first (at most `watch::CHANGES`).
    pub change_log: std::collections::VecDeque<ChangeEvent>,
}

impl Model {
    pub fn new(targets: Vec<Target>, now_unix: i64) -> Model {
        let mut m = Model {
            hosts: targets.into_iter().map(Host::new).collect(),
            view: Vec::new(),
            selected: 0,
            follow_top: true,
            focus: Focus::Hosts,
            sort: SortMode::Severity,
            filter: String::new(),
            filter_editing: false,
            tree_selected: 0,
            tree_collapsed: false,
            fix_selected: 0,
            diag_scroll: 0,
            overlay: Overlay::None,
            detail: None,
            message: None,
            now_unix,
            now_ms: 0,
            size: (80, 24),
            color: true,
            quit: false,
            add_defaults: AddDefaults::default(),
            interval: None,
            change_log: std::collections::VecDeque::new(),
        };
        m.refresh_view();
        m
    }

    /// The host under the cursor.
    pub fn selected_host(&self) -> Option<&Host> {
        self.view
            .get(self.selected)
            .and_then(|i| self.hosts.get(*i))
    }

    pub fn selected_index(&self) -> Option<usize> {
        self.view.get(self.selected).copied()
    }

    pub fn selected_report(&self) -> Option<&Report> {
        self.selected_host().and_then(Host::report)
    }

    /// Findings shown in the diagnosis pane: all of the host's, or, when the
    /// tree has focus, those blaming the selected certificate.
    pub fn shown_findings(&self) -> Vec<&crate::report::finding::Finding> {
        let Some(r) = self.selected_report() else {
            return Vec::new();
        };
        if self.focus == Focus::Tree || self.detail.is_some() {
            let sel = self.tree_selected;
            r.findings.iter().filter(|f| f.cert == Some(sel)).collect()
        } else {
            r.findings.iter().collect()
        }
    }

    /// Every fix command in the diagnosis pane, in display order:
    /// (finding index among shown findings, step number, command).
    pub fn fix_commands(&self) -> Vec<(usize, usize, String)> {
        let mut v = Vec::new();
        for (fi, f) in self.shown_findings().iter().enumerate() {
            for (si, s) in f.fix.iter().enumerate() {
                if let Some(c) = &s.command {
                    v.push((fi, si, c.clone()));
                }
            }
        }
        v
    }

    /// The fix command the cursor is on (or the first one).
    pub fn selected_fix_command(&self) -> Option<String> {
        let cmds = self.fix_commands();
        cmds.get(self.fix_selected)
            .or_else(|| cmds.first())
            .map(|(_, _, c)| c.clone())
    }

    /// Recompute `view` from the filter and sort mode, keeping the
    /// selected host selected when it is still shown.
    pub fn refresh_view(&mut self) {
        let keep = self.selected_index();
        let mut view: Vec<usize> = (0..self.hosts.len())
            .filter(|&i| self.passes_filter(i))
            .collect();
        // Each host's key once (labels allocate), not once per comparison.
        let (hosts, sort) = (&self.hosts, self.sort);
        view.sort_by_cached_key(|&i| sort_key(hosts, sort, i));
        self.view = view;
        self.keep_selection(keep);
    }

    /// Host `i` changed (a result arrived): move it to its place in the
    /// view without re-sorting the others, keeping the cursor on its host.
    /// O(n) moves and O(log n) key computations, where a re-sort is
    /// O(n log n).
    pub fn refresh_host(&mut self, i: usize) {
        let keep = self.selected_index();
        if let Some(p) = self.view.iter().position(|&x| x == i) {
            self.view.remove(p);
        }
        if i < self.hosts.len() && self.passes_filter(i) {
            let (hosts, sort) = (&self.hosts, self.sort);
            let key = sort_key(hosts, sort, i);
            let at = self
                .view
                .partition_point(|&x| sort_key(hosts, sort, x) < key);
            self.view.insert(at, i);
        }
        self.keep_selection(keep);
    }

    /// Put the cursor back on host `keep` (or on the first row while it
    /// follows the top); a cursor that lands on another host starts at the
    /// top of that host's chain and diagnosis.
    fn keep_selection(&mut self, keep: Option<usize>) {
        let follow = self.follow_top && self.sort == SortMode::Severity;
        self.selected = if follow {
            0
        } else {
            keep.and_then(|k| self.view.iter().position(|i| *i == k))
                .unwrap_or(0)
                .min(self.view.len().saturating_sub(1))
        };
        if self.selected_index() != keep {
            self.tree_selected = 0;
            self.fix_selected = 0;
            self.diag_scroll = 0;
        }
    }

    /// Whether host `i` matches the filter (its label or root cause).
    fn passes_filter(&self, i: usize) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let Some(h) = self.hosts.get(i) else {
            return false;
        };
        let needle = self.filter.trim().to_ascii_lowercase();
        // A status word filters by status: ok, warn, crit, error, changed.
        match needle.as_str() {
            "ok" => return h.status() == Some(Status::Ok),
            "warn" => return h.status() == Some(Status::Warning),
            "crit" => return h.status() == Some(Status::Critical),
            "error" => return h.status() == Some(Status::Error),
            "changed" => return !h.changes.is_empty(),
            _ => {}
        }
        // What the row shows (code and reason) and the root cause's title.
        let (title, shown) = h
            .report()
            .map(|r| {
                let title = r
                    .root_cause()
                    .map(|f| f.title.to_ascii_lowercase())
                    .unwrap_or_default();
                let shown = problem(r).map(|p| p.full().to_ascii_lowercase());
                (title, shown.unwrap_or_default())
            })
            .unwrap_or_default();
        h.row_label().to_ascii_lowercase().contains(&needle)
            || title.contains(&needle)
            || shown.contains(&needle)
    }

    pub fn set_message(&mut self, text: impl Into<String>, kind: MessageKind) {
        self.message = Some(Message {
            text: crate::util::sanitize::for_terminal(&text.into()),
            kind,
            at_ms: self.now_ms,
        });
    }

    /// Drop the status-bar message once it has expired; whether it did.
    pub fn expire_message(&mut self) -> bool {
        if self
            .message
            .as_ref()
            .is_some_and(|m| m.expired(self.now_ms))
        {
            self.message = None;
            return true;
        }
        false
    }
}

/// A host's problem in brief, for its row in the list: the root cause's
/// code and, where one code covers several different problems, why (the
/// name mismatch's reason, the certificate it blames when not the leaf).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub reason: Option<&'static str>,
}

impl Problem {
    /// "hostname-mismatch (wildcard too deep)", or the code alone.
    pub fn full(&self) -> String {
        match &self.reason {
            Some(r) => format!("{} ({r})", self.code),
            None => self.code.to_string(),
        }
    }

    /// A shorter form that still tells problems apart: the reason alone
    /// when it names the problem by itself (a name mismatch's), "(CA)" for
    /// an intermediate or a root, else the full form.
    pub fn short(&self) -> String {
        match (self.reason, self.code) {
            (Some(r), "hostname-mismatch") => r.to_string(),
            (Some(_), code) => format!("{code} (CA)"),
            (None, code) => code.to_string(),
        }
    }
}

/// The problem of a report: its root cause (`None` with no finding).
pub fn problem(r: &Report) -> Option<Problem> {
    use crate::report::finding::Code;
    use crate::x509::names::{Mismatch, check};
    let f = r.root_cause()?;
    let reason = match (f.code, f.cert) {
        (Code::HostnameMismatch, _) => {
            let why = r.chain.first().map(|leaf| check(&leaf.info, &r.name));
            Some(match why {
                Some(Err(Mismatch::NoSan { .. })) => "CN only, no SAN",
                Some(Err(Mismatch::OnlyInCn { .. })) => "name only in CN",
                Some(Err(Mismatch::WildcardOneLabel { .. })) => "wildcard too deep",
                Some(Err(Mismatch::IpNotListed)) => "IP not in SAN",
                Some(Err(Mismatch::DnsNotListed)) => "only IPs in SAN",
                _ => "name not in SAN",
            })
        }
        // Codes that may concern the leaf or a CA: say when it is a CA.
        (
            Code::Expired
            | Code::NotYetValid
            | Code::ExpiringSoon
            | Code::Revoked
            | Code::RevocationUnknown
            | Code::WeakKey
            | Code::WeakSignature
            | Code::LongValidity,
            Some(i),
        ) if i > 0 => Some(match r.chain.get(i) {
            Some(e) if e.info.is_self_signed() => "root",
            _ => "intermediate",
        }),
        _ => None,
    };
    Some(Problem {
        code: f.code.as_str(),
        reason,
    })
}

/// Rows of the fleet header over the host list (status counts and the
/// expiry histogram), for a list `inner_h` rows high: two lines, one
/// compact line on a short list, none when too short for both.
pub fn header_rows(inner_h: usize) -> usize {
    match inner_h {
        0..=4 => 0,
        5..=11 => 1,
        _ => 2,
    }
}

/// The fleet at a glance: hosts per status `[ok, warning, critical, error,
/// pending]` and leaves by time left `[expired, < 7 days, < 30 days,
/// later]`.
pub fn fleet_counts(hosts: &[Host]) -> ([usize; 5], [usize; 4]) {
    let mut status = [0usize; 5];
    let mut expiry = [0usize; 4];
    for h in hosts {
        let k = match h.status() {
            Some(Status::Ok) => 0,
            Some(Status::Warning) => 1,
            Some(Status::Critical) => 2,
            Some(Status::Error) => 3,
            None => 4,
        };
        status[k] += 1;
        if let Some(r) = h.report()
            && let Some(d) = r.leaf_days_left()
        {
            // Expired by the instant, not by whole days (days_left is 0 for
            // a leaf that expired an hour ago).
            let expired = r
                .chain
                .first()
                .is_some_and(|e| e.info.not_after < r.evaluated_at);
            let b = match d {
                _ if expired => 0,
                d if d < 7 => 1,
                d if d < 30 => 2,
                _ => 3,
            };
            expiry[b] += 1;
        }
    }
    (status, expiry)
}

/// Where host `i` sorts under `sort`: worst first (then by name), by name,
/// or soonest expiry; ties by position, so the order is total.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Severity(std::cmp::Reverse<u8>, String, usize),
    Name(String, usize),
    Expiry(i64, usize),
    Changed(std::cmp::Reverse<i64>, usize),
}

fn sort_key(hosts: &[Host], sort: SortMode, i: usize) -> SortKey {
    let Some(h) = hosts.get(i) else {
        return SortKey::Expiry(i64::MAX, i);
    };
    match sort {
        SortMode::Severity => SortKey::Severity(std::cmp::Reverse(rank(h)), h.label(), i),
        SortMode::Name => SortKey::Name(h.label(), i),
        SortMode::Expiry => SortKey::Expiry(
            h.report()
                .and_then(Report::leaf_days_left)
                .unwrap_or(i64::MAX),
            i,
        ),
        SortMode::Changed => {
            SortKey::Changed(std::cmp::Reverse(h.changed_at.unwrap_or(i64::MIN)), i)
        }
    }
}

/// Sort rank: error > critical > warning > ok > pending.
fn rank(h: &Host) -> u8 {
    match h.status() {
        Some(Status::Error) => 5,
        Some(Status::Critical) => 4,
        Some(Status::Warning) => 3,
        Some(Status::Ok) => 2,
        None => 1,
    }
}

/// Symbol and word for a status, so severity reads without color.
pub fn status_symbol(s: Option<Status>) -> (&'static str, &'static str) {
    match s {
        Some(Status::Ok) => ("✓", "ok"),
        Some(Status::Warning) => ("!", "warn"),
        Some(Status::Critical) => ("✗", "crit"),
        Some(Status::Error) => ("?", "error"),
        None => ("…", "pending"),
    }
}

pub fn severity_symbol(s: Severity) -> &'static str {
    match s {
        Severity::Info => "i",
        Severity::Warning => "!",
        Severity::Critical => "✗",
    }
}

/// First visible row of a list of `height` rows that keeps `selected` in
/// view (the renderer and mouse hit-testing share this rule).
pub fn list_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        selected.saturating_sub(height - 1)
    }
}
