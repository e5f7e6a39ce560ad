//! The command line (cli.md): clap definitions and value parsers whose
//! errors name the bad input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, InputError, hostsfile};
use crate::diagnose::DiagnoseOptions;
use crate::fetch::EnrichOptions;
use crate::probe::ProbeOptions;
use crate::target::{Host, ResolveRule, Target};
use crate::x509::trust::{StoreKind, TrustStore};

#[derive(Debug, Parser)]
#[command(
    name = "certscope",
    version,
    about = "Why does this server's certificate fail? Diagnose TLS certificate chains.",
    long_about = "Why does this server's certificate fail?\n\n\
certscope connects to TLS servers, captures the certificate chain they present (even an \
invalid one), and says in plain words what is wrong, what browsers and clients will show, \
and the commands that fix it.\n\n\
Exit codes of `check` follow the Nagios convention: 0 ok, 1 warning, 2 critical, \
3 error or bad input (the worst target wins); 130 when interrupted.\n\n\
Defaults come from ~/.config/certscope/config.toml when it exists (see \
`certscope example-settings`); the command line wins over it.",
    after_help = "Examples:\n  \
certscope example.com                         the TUI on one host\n  \
certscope demo                                the TUI over the offline lab of broken servers\n  \
certscope check example.com mail.example.com  a report without the TUI (exit code = worst status)\n  \
certscope check --json example.com            the same as JSON\n  \
certscope inspect fullchain.pem --name example.com\n  \
certscope -- check                            the TUI on a host named check"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Targets for the TUI: host, host:port, [v6addr]:port or https://host[:port]/...
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Open certificate files (PEM or DER) in the TUI instead of probing (repeatable).
    #[arg(long, value_name = "FILE")]
    pub file: Vec<PathBuf>,
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Watch: probe every host again this often (e.g. 30s, 5m, 1h; 10s to
    /// 7d), spread out so the fleet is never probed in one burst. Also the
    /// hosts file's `interval` key; this wins.
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_interval)]
    pub interval: Option<u64>,
    /// Log more (-v info, -vv debug, -vvv trace): to stderr, or for the TUI
    /// to $XDG_STATE_HOME/certscope/certscope.log. RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Print results and errors only: no progress, no warnings.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set or TERM=dumb;
    /// CLICOLOR_FORCE forces it), always or never.
    #[arg(long, value_name = "WHEN", value_enum, global = true)]
    pub color: Option<ColorArg>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

impl From<ColorArg> for crate::util::term::ColorChoice {
    fn from(c: ColorArg) -> Self {
        match c {
            ColorArg::Auto => Self::Auto,
            ColorArg::Always => Self::Always,
            ColorArg::Never => Self::Never,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose targets without the TUI, print a report, exit with the status.
    Check(CheckArgs),
    /// Open the TUI on the built-in offline lab of broken servers (no network needed).
    Demo,
    /// Diagnose certificate files offline: PEM chains and bundles, or DER.
    Inspect(InspectArgs),
    /// Print a commented example hosts file (TOML) for --hosts-file.
    ExampleHosts,
    /// Print a commented example settings file (~/.config/certscope/config.toml).
    ExampleSettings,
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    #[command(after_help = "Examples:\n  \
certscope completions bash > ~/.local/share/bash-completion/completions/certscope\n  \
certscope completions zsh > ~/.zfunc/_certscope\n  \
certscope completions fish > ~/.config/fish/completions/certscope.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): certscope man | man -l -
    Man,
    /// Run a Prometheus exporter: GET /probe?target=HOST:PORT answers why a
    /// target's certificate fails, as metrics (see assets/prometheus/).
    Serve(ServeArgs),
    /// Print a commented example config file (TOML) for `serve --config`.
    ExampleServe,
    /// Run the built-in lab of loopback TLS servers (one per broken setup) and
    /// print the `certscope check` command line for each. Ctrl-C stops it.
    Lab(LabArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A compact human report (colored on a terminal unless NO_COLOR is set).
    Text,
    /// One JSON document with every result.
    Json,
    /// One JSON result per line, printed as each target finishes.
    Jsonl,
    /// Inventory: a header and one row per target (RFC 4180): target,
    /// address, status, the leaf's subject, SANs, issuer, dates, key,
    /// signature, serial, SHA-256 and the finding codes.
    Csv,
    /// One monitoring-plugin line (Nagios, Icinga, Sensu) with perfdata:
    /// `CERTSCOPE CRITICAL - ... | days=-30;30;7`.
    Nagios,
}

/// Options shared by the TUI and `check`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Probe options")]
pub struct ProbeArgs {
    /// Server name to send (SNI) and verify against (default: the target's host).
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Upgrade a plaintext connection first: smtp, imap, pop3, ftp, xmpp, ldap, postgres or mysql (the port then defaults to the protocol's).
    #[arg(long, value_name = "PROTO", value_parser = parse_starttls)]
    pub starttls: Option<crate::target::Proto>,
    /// Read targets from a hosts file: TOML with per-target options (see
    /// `certscope example-hosts`), or a plain list, one target per line.
    #[arg(long, value_name = "FILE")]
    pub hosts_file: Option<PathBuf>,
    /// Connect to ADDR for HOST:PORT (curl's syntax; repeatable), e.g.
    /// a.test:443:127.0.0.1; a list (a.test:443:192.0.2.1,192.0.2.2) probes each.
    #[arg(long, value_name = "HOST:PORT:ADDR[,ADDR]", value_parser = parse_resolve)]
    pub resolve: Vec<ResolveRule>,
    /// Probe only the first address that connects, not every address the
    /// name resolves to (faster for huge fleets; misses a stale node).
    #[arg(long)]
    pub first_address_only: bool,
    /// Also probe without SNI and say when the server's default
    /// certificate differs or the handshake fails (old clients see that).
    #[arg(long)]
    pub compare_no_sni: bool,
    /// The certificate file the server should present (e.g. the deployed
    /// fullchain.pem): says when the server serves another one, and which
    /// is newer (not reloaded, or a missed copy).
    #[arg(long, value_name = "FILE")]
    pub expect_cert: Option<PathBuf>,
    /// The private key the served certificate should match (PEM).
    #[arg(long, value_name = "FILE")]
    pub expect_key: Option<PathBuf>,
    /// Extra trust anchors (PEM), added to the base store (repeatable).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Vec<PathBuf>,
    /// Base trust store: webpki-roots (mozilla), the OS store (system), or none (only --ca-file).
    #[arg(long, value_name = "STORE", default_value = "mozilla", value_parser = parse_store)]
    pub trust_store: StoreKind,
    /// Do not look up revocation (CRL, OCSP); a stapled response is still judged.
    #[arg(long)]
    pub no_revocation: bool,
    /// Do not fetch missing intermediates from AIA caIssuers URLs.
    #[arg(long)]
    pub no_aia: bool,
    /// Bound on each network step (resolve, connect, handshake, STARTTLS, AIA/CRL/OCSP fetch), in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", allow_negative_numbers = true, value_parser = parse_timeout)]
    pub timeout: f64,
    /// How many targets to probe in parallel.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Warn when fewer than N days are left (default: the smaller of 30 days and a third of the certificate's lifetime).
    #[arg(long, value_name = "N")]
    pub warn_days: Option<u32>,
    /// Below N days left, expiry is critical rather than a warning.
    #[arg(long, value_name = "N")]
    pub crit_days: Option<u32>,
    /// Judge validity at this instant instead of now, e.g. 2027-03-01T00:00:00Z.
    #[arg(long, value_name = "RFC3339", value_parser = parse_at)]
    pub at: Option<i64>,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
certscope check example.com\n  \
certscope check --starttls smtp mail.example.com\n  \
certscope check --resolve www.example.com:443:192.0.2.1,192.0.2.2 www.example.com\n  \
certscope check --hosts-file hosts.toml --format jsonl\n  \
certscope check --format nagios example.com     (a monitoring-plugin line)\n  \
certscope check - < hosts.txt                   (one target per line)")]
pub struct CheckArgs {
    /// host, host:port, [v6addr]:port or https://host[:port]/... (port defaults to 443);
    /// `-` reads targets from standard input, one per line.
    /// Without TARGET and --hosts-file: ~/.config/certscope/hosts.toml.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
certscope inspect fullchain.pem\n  \
certscope inspect fullchain.pem --name www.example.com --key privkey.pem\n  \
certscope inspect --json cert.der")]
pub struct InspectArgs {
    /// PEM (a chain, a bundle) or DER certificate files; the leaf first is expected.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Check the leaf against this host name or IP address.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Check that this private key (PEM) belongs to the leaf.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Extra trust anchors (PEM), added to the base store (repeatable).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Vec<PathBuf>,
    /// Base trust store: mozilla, system or none.
    #[arg(long, value_name = "STORE", default_value = "mozilla", value_parser = parse_store)]
    pub trust_store: StoreKind,
    /// Judge validity at this instant instead of now, e.g. 2027-03-01T00:00:00Z.
    #[arg(long, value_name = "RFC3339", value_parser = parse_at)]
    pub at: Option<i64>,
    /// Warn when fewer than N days are left.
    #[arg(long, value_name = "N")]
    pub warn_days: Option<u32>,
    /// Below N days left, expiry is critical.
    #[arg(long, value_name = "N")]
    pub crit_days: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
certscope serve --allow '*.example.com'\n  \
curl 'http://127.0.0.1:9259/probe?target=www.example.com:443'\n  \
certscope serve --config serve.toml --hosts-file hosts.toml --interval 5m --listen 0.0.0.0:9259")]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one (the first line on
    /// stdout says which). The default port collides with neither
    /// blackbox_exporter (9115) nor ssl_exporter (9219).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9259")]
    pub listen: std::net::SocketAddr,
    /// Probe modules and the target allowlist (TOML; see `certscope example-serve`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Allow /probe to connect to targets matching this: a name, *.name, an
    /// IP address or a network such as 10.0.0.0/8 (repeatable). Targets in
    /// --hosts-file are always allowed; anything else gets 403.
    #[arg(long, value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Probe any target a request names. Anyone who can reach the exporter
    /// can then make it connect anywhere: use only behind a firewall.
    #[arg(long)]
    pub allow_any_target: bool,
    /// With --hosts-file: probe its targets in the background this often
    /// (e.g. 5m; 10s to 7d) and export the latest results in /metrics.
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_interval)]
    pub interval: Option<u64>,
    /// Defaults of every module (`--concurrency` bounds the probes in
    /// flight; for serve its default is 1024).
    #[command(flatten)]
    pub probe: ProbeArgs,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    /// Listen on consecutive ports from N (default: free ports picked by the OS).
    #[arg(long, value_name = "N")]
    pub port_base: Option<u16>,
    /// Write the lab's CA file (ca.pem) into this directory (default: a temporary one).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The engine's [`Config`] from the command line's targets and probe
/// options (and the hosts file they name, or the default one when no
/// TARGET is given).
pub fn config(raw_targets: &[String], args: &ProbeArgs) -> Result<Config, InputError> {
    let raw_targets = expand_targets(raw_targets, args)?;
    let raw_targets = &raw_targets[..];
    let sni = match &args.sni {
        None => None,
        Some(s) => Some(match Host::parse(s) {
            Ok(h) => h.to_string(),
            Err(e) => return Err(InputError(format!("invalid --sni: {e}"))),
        }),
    };
    let mut targets = Vec::with_capacity(raw_targets.len());
    let default_port = args.starttls.map(|p| p.default_port()).unwrap_or(443);
    // The deployed files must be readable now; they are read again at each
    // probe (a watch sees a renewal).
    if let Some(p) = &args.expect_key {
        crate::probe::file::load_key(p).map_err(|e| InputError(format!("--expect-key: {e}")))?;
    }
    for raw in raw_targets {
        let mut t = Target::parse(raw, default_port).map_err(InputError)?;
        t.sni = sni.clone();
        t.starttls = args.starttls;
        t.expect_cert = args.expect_cert.clone();
        t.expect_key = args.expect_key.clone();
        if let Some(p) = &args.expect_cert {
            crate::probe::file::load_leaf(p, &t)
                .map_err(|e| InputError(format!("--expect-cert: {e}")))?;
        }
        ResolveRule::apply(&args.resolve, &mut t);
        targets.push(t);
    }
    let trust = Arc::new(TrustStore::load(args.trust_store, &args.ca_file).map_err(InputError)?);
    let trust_for = vec![trust.clone(); targets.len()];
    // A hosts file: --hosts-file, else the default one when no TARGET is given
    // (a plain list was read into the targets already).
    let hosts_file = match &args.hosts_file {
        Some(p) if is_plain_list(p) => None,
        Some(p) => Some(p.clone()),
        None if raw_targets.is_empty() => hostsfile::default_file(),
        None => None,
    };
    let hosts = match hosts_file {
        Some(path) => {
            let inherit = hostsfile::Inherit {
                sni: sni.clone(),
                starttls: args.starttls,
                resolve: &args.resolve,
            };
            Some(Arc::new(
                hostsfile::HostsFile::open(&path, &inherit, &trust).map_err(InputError)?,
            ))
        }
        None => None,
    };
    if targets.is_empty() && hosts.is_none() {
        return Err(InputError(hostsfile::no_targets_message()));
    }
    Ok(Config {
        targets,
        trust,
        trust_for,
        probe: ProbeOptions {
            timeout: Duration::from_secs_f64(args.timeout),
            every_address: !args.first_address_only,
            compare_no_sni: args.compare_no_sni,
            send_sni: true,
        },
        diagnose: DiagnoseOptions {
            warn_days: args.warn_days,
            crit_days: args.crit_days,
            skip_name: false,
        },
        at: args.at,
        concurrency: args.concurrency as usize,
        enrich: EnrichOptions {
            aia: !args.no_aia,
            revocation: !args.no_revocation,
            timeout: Duration::from_secs_f64(args.timeout),
            at: args.at,
            ..EnrichOptions::default()
        },
        interval: hosts.as_ref().and_then(|h| h.interval()),
        hosts,
    })
}

/// The manual page (roff), from the same definitions as `--help`.
pub fn man_page() -> Vec<u8> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    let _ = clap_mangen::Man::new(Cli::command()).render(&mut out);
    out
}

/// Most targets read from standard input or a plain list.
const MAX_LISTED: usize = 1_000_000;

fn is_plain_list(p: &std::path::Path) -> bool {
    matches!(hostsfile::read_plain_list(p), Ok(Some(_)))
}

/// The command line's targets with `-` replaced by standard input's lines
/// and a plain-list `--hosts-file` appended (blank lines and `#` comments
/// skipped). Errors name the line.
fn expand_targets(raw: &[String], args: &ProbeArgs) -> Result<Vec<String>, InputError> {
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        if r != "-" {
            out.push(r.clone());
            continue;
        }
        let mut text = String::new();
        use std::io::Read;
        std::io::stdin()
            .take(64 << 20)
            .read_to_string(&mut text)
            .map_err(|e| InputError(format!("cannot read targets from standard input: {e}")))?;
        let list = hostsfile::plain_targets(&text).ok_or_else(|| {
            InputError(
                "standard input holds TOML, not one target per line: give it with --hosts-file"
                    .into(),
            )
        })?;
        for (line, t) in list {
            Target::parse(&t, 443)
                .map_err(|e| InputError(format!("standard input, line {line}: {e}")))?;
            out.push(t);
        }
    }
    if let Some(p) = &args.hosts_file
        && let Some(list) = hostsfile::read_plain_list(p).map_err(InputError)?
    {
        let shown = crate::util::sanitize::for_terminal(&p.display().to_string());
        for (line, t) in list {
            Target::parse(&t, 443)
                .map_err(|e| InputError(format!("hosts file {shown}, line {line}: {e}")))?;
            out.push(t);
        }
    }
    if out.len() > MAX_LISTED {
        return Err(InputError(format!(
            "{} targets: more than {MAX_LISTED}; split the list",
            out.len()
        )));
    }
    Ok(out)
}

/// Fill in what the command line left at its default from the settings
/// file (`m` is the matches of the (sub)command that holds `args`).
pub fn apply_settings(
    args: &mut ProbeArgs,
    m: &clap::ArgMatches,
    s: &crate::config::settings::Settings,
) {
    let given = |id: &str| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if !given("timeout")
        && let Some(t) = s.timeout
    {
        args.timeout = t;
    }
    if !given("concurrency")
        && let Some(c) = s.concurrency
    {
        args.concurrency = c;
    }
    if !given("warn_days") && s.warn_days.is_some() {
        args.warn_days = s.warn_days;
    }
    if !given("crit_days") && s.crit_days.is_some() {
        args.crit_days = s.crit_days;
    }
    if !given("trust_store")
        && let Some(k) = s.trust_store
    {
        args.trust_store = k;
    }
    if !given("ca_file") && !s.ca_file.is_empty() {
        args.ca_file = s.ca_file.clone();
    }
    if !given("no_revocation")
        && let Some(b) = s.no_revocation
    {
        args.no_revocation = b;
    }
    if !given("no_aia")
        && let Some(b) = s.no_aia
    {
        args.no_aia = b;
    }
}

/// [`apply_settings`] for `inspect`'s own options.
pub fn apply_settings_inspect(
    args: &mut InspectArgs,
    m: &clap::ArgMatches,
    s: &crate::config::settings::Settings,
) {
    let given = |id: &str| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if !given("warn_days") && s.warn_days.is_some() {
        args.warn_days = s.warn_days;
    }
    if !given("crit_days") && s.crit_days.is_some() {
        args.crit_days = s.crit_days;
    }
    if !given("trust_store")
        && let Some(k) = s.trust_store
    {
        args.trust_store = k;
    }
    if !given("ca_file") && !s.ca_file.is_empty() {
        args.ca_file = s.ca_file.clone();
    }
}

/// The subcommands, for typo suggestions.
const COMMANDS: &[&str] = &[
    "check",
    "demo",
    "inspect",
    "serve",
    "lab",
    "example-hosts",
    "example-serve",
    "example-settings",
    "completions",
    "man",
    "help",
];

/// Levenshtein distance (short words only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A first TUI target that looks like a mistyped subcommand (`chek`): no
/// dot, colon or slash, and close to a command's name. `None` when the
/// target came after `--` or looks like a host.
pub fn mistyped_command(first_target: &str, after_double_dash: bool) -> Option<&'static str> {
    if after_double_dash || first_target.len() > 20 || first_target.contains(['.', ':', '/', '[']) {
        return None;
    }
    let t = first_target.to_ascii_lowercase();
    COMMANDS
        .iter()
        .copied()
        .map(|c| (distance(&t, c), c))
        .filter(|(d, c)| *d > 0 && *d <= if c.len() > 4 { 2 } else { 1 })
        .min()
        .map(|(_, c)| c)
}

/// Probe options for `certscope demo`: the defaults, with a short timeout
/// so the lab's silent server times out quickly.
pub fn demo_probe_args() -> ProbeArgs {
    ProbeArgs {
        sni: None,
        starttls: None,
        hosts_file: None,
        no_revocation: false,
        no_aia: false,
        resolve: Vec::new(),
        first_address_only: false,
        compare_no_sni: false,
        expect_cert: None,
        expect_key: None,
        ca_file: Vec::new(),
        trust_store: StoreKind::Mozilla,
        timeout: 3.0,
        concurrency: 64,
        warn_days: None,
        crit_days: None,
        at: None,
    }
}

fn parse_starttls(s: &str) -> Result<crate::target::Proto, String> {
    s.parse()
}

fn parse_resolve(s: &str) -> Result<ResolveRule, String> {
    ResolveRule::parse(s)
}

fn parse_store(s: &str) -> Result<StoreKind, String> {
    s.parse::<StoreKind>().map_err(|e| e.to_string())
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err("expected a number of seconds between 0 and 3600, e.g. 10 or 0.5".into()),
    }
}

/// Parse an RFC 3339 instant (or a plain date, taken as midnight UTC).
pub fn parse_at(s: &str) -> Result<i64, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &fmt) {
        return Ok(d.midnight().assume_utc().unix_timestamp());
    }
    Err("expected an RFC 3339 instant such as 2027-03-01T00:00:00Z (or a date, 2027-03-01)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_parses() {
        assert_eq!(parse_at("1970-01-02T00:00:00Z"), Ok(86_400));
        assert_eq!(parse_at("1970-01-02"), Ok(86_400));
        assert_eq!(parse_at("1970-01-01T01:00:00+01:00"), Ok(0));
        assert!(parse_at("tomorrow").is_err());
        assert!(parse_at("2026-13-01").is_err());
    }

    #[test]
    fn typos_of_commands() {
        assert_eq!(mistyped_command("chek", false), Some("check"));
        assert_eq!(mistyped_command("inspetc", false), Some("inspect"));
        assert_eq!(mistyped_command("serv", false), Some("serve"));
        assert_eq!(mistyped_command("chek", true), None, "after --");
        assert_eq!(mistyped_command("chek:443", false), None);
        assert_eq!(mistyped_command("example.com", false), None);
        assert_eq!(mistyped_command("localhost", false), None);
        assert_eq!(
            mistyped_command("check", false),
            None,
            "an exact name is the command"
        );
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("0.5"), Ok(0.5));
        for bad in ["0", "-1", "nan", "inf", "x", "99999"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
