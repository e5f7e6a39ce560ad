//! The offline lab: an rcgen-made PKI and one TLS (or deliberately broken)
//! server per scenario on 127.0.0.1, presenting every broken setup the
//! diagnosis engine must recognise.
//!
//! One in-process HTTP/1.1 server ([`Lab::http_url`]) serves what the
//! revocation and AIA scenarios' certificates point at: the intermediate
//! for AIA, a wrong certificate, a CRL, a stale CRL, and an OCSP responder
//! answering per URL path. No other scenario names such a URL.
//!
//! Certificates, CRLs and OCSP answers (stapled ones too; they are valid
//! for 7 days) are generated at [`Lab::start`] relative to the current
//! time. Hosts live under `lab.test` and are reached with `--resolve`
//! (see [`LabTarget::resolve`]); the IP scenarios use `127.0.0.1` directly.
//! Tests, `certscope lab` and the TUI demo all use this module.

mod pki;
mod sct;
mod server;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How to start a [`Lab`].
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// Scenario `i` (its index in [`Lab::targets`], from 0) listens on
    /// `port_base + i`, the HTTP server ([`Lab::http_url`]) on the next
    /// port, and the one after it stays closed (`responder-down`); `None`
    /// binds port 0 for each (read the port back from [`LabTarget::port`]).
    pub port_base: Option<u16>,
    /// Delay before the handshake for the `slow` scenario (default 100 ms).
    pub slow_delay: Duration,
    /// Where to write `ca.pem`; `None` = a fresh temporary directory under
    /// [`std::env::temp_dir`], removed when the lab drops.
    pub dir: Option<PathBuf>,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            port_base: None,
            slow_delay: Duration::from_millis(100),
            dir: None,
        }
    }
}

/// One lab server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabTarget {
    /// Scenario id, e.g. `expired`.
    pub id: &'static str,
    /// `expired.lab.test`, or `127.0.0.1` for the IP scenarios.
    pub host: String,
    /// The port it listens on (for `closed`: a port nothing listens on).
    pub port: u16,
    /// One line: what this server presents.
    pub summary: &'static str,
    /// A second address serving the same name and port (127.0.0.2).
    pub second_addr: Option<std::net::IpAddr>,
}

impl LabTarget {
    /// `host:port`.
    pub fn target(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The curl-style `--resolve` rule `host:port:127.0.0.1` (with
    /// `,127.0.0.2` when the name has a second address), or `None` for IP
    /// hosts.
    pub fn resolve(&self) -> Option<String> {
        if self.host.parse::<std::net::IpAddr>().is_ok() {
            None
        } else {
            let second = self
                .second_addr
                .map(|a| format!(",{a}"))
                .unwrap_or_default();
            Some(format!("{}:{}:127.0.0.1{second}", self.host, self.port))
        }
    }
}

/// A running lab. Dropping it (or [`Lab::shutdown`]) stops every server and
/// removes the temporary directory it created.
pub struct Lab {
    /// PEM file with the lab root and the fixture root (not the rogue root).
    pub ca_file: PathBuf,
    /// Every scenario, in the documented order.
    pub targets: Vec<LabTarget>,
    /// The HTTP server the revocation and AIA scenarios' certificates point
    /// at (`/lab-intermediate.der`, `/wrong.der`, `/lab.crl`, `/stale.crl`,
    /// `/ocsp/<scenario>`), e.g. `http://127.0.0.1:8443/`.
    pub http_url: String,
    root_ders: Vec<Vec<u8>>,
    tasks: Vec<JoinHandle<()>>,
    temp_dir: Option<PathBuf>,
    /// Ports that must refuse connections (`closed`, the dead responder):
    /// bound but not listening, so nothing else can take them meanwhile.
    _reserved: Vec<tokio::net::TcpSocket>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("ca_file", &self.ca_file)
            .field("targets", &self.targets)
            .field("http_url", &self.http_url)
            .finish_non_exhaustive()
    }
}

impl Lab {
    /// Binds the HTTP server (AIA, CRL, OCSP), generates the PKI naming its
    /// port, binds every scenario port (failing with the port's number if
    /// one is busy), then spawns the servers on the current tokio runtime.
    pub async fn start(opts: LabOptions) -> Result<Lab> {
        let n = pki::SCENARIO_COUNT;
        // With a port base: the scenarios on base..base+n-1, the HTTP server
        // on base+n, and base+n+1 left closed for `responder-down`.
        if let Some(base) = opts.port_base {
            let last = u16::try_from(n + 1).ok().and_then(|i| base.checked_add(i));
            if base == 0 || last.is_none() {
                return Err(anyhow!(
                    "lab: port base {base} does not leave room for {n} scenarios and the HTTP server (ports base..base+{})",
                    n + 1
                ));
            }
        }
        // In range: checked above.
        let offset = |i: usize| opts.port_base.map_or(0, |base| base + i as u16);

        let http_listener = bind(offset(n), "the AIA, CRL and OCSP server").await?;
        let http_port = http_listener.local_addr()?.port();
        let mut reserved = Vec::new();
        let down_port = match opts.port_base {
            Some(_) => offset(n + 1),
            None => {
                let s = reserve("responder-down's dead responder")?;
                let port = s.local_addr()?.port();
                reserved.push(s);
                port
            }
        };
        let pki = pki::build(&pki::Urls {
            http_port,
            down_port,
        })?;

        // Bind everything before spawning anything.
        let mut bound = Vec::with_capacity(n);
        let mut seconds: Vec<(usize, TcpListener)> = Vec::new();
        for (i, sc) in pki.scenarios.iter().enumerate() {
            let port = offset(i);
            let closed = matches!(sc.behavior, pki::Behavior::Closed);
            if closed && opts.port_base.is_some() {
                bound.push((port, None));
                continue;
            }
            if closed {
                let s = reserve(&format!("scenario {}", sc.id))?;
                bound.push((s.local_addr()?.port(), None));
                reserved.push(s);
                continue;
            }
            let (listener, second) = match &sc.second {
                None => (bind(port, &format!("scenario {}", sc.id)).await?, None),
                Some(_) => bind_pair(port, sc.id).await?,
            };
            let port = listener.local_addr()?.port();
            bound.push((port, Some(listener)));
            if let Some(l) = second {
                seconds.push((i, l));
            }
        }

        // Write ca.pem.
        let (dir, temp_dir) = match opts.dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("lab: cannot create {}", dir.display()))?;
                (dir, None)
            }
            None => {
                let dir = fresh_temp_dir()?;
                (dir.clone(), Some(dir))
            }
        };
        let ca_file = dir.join("ca.pem");
        if let Err(e) = std::fs::write(&ca_file, &pki.ca_pem) {
            if let Some(t) = &temp_dir {
                let _ = std::fs::remove_dir_all(t);
            }
            return Err(e).with_context(|| format!("lab: cannot write {}", ca_file.display()));
        }

        let mut lab = Lab {
            ca_file,
            targets: Vec::with_capacity(bound.len()),
            http_url: format!("http://127.0.0.1:{http_port}/"),
            root_ders: pki.root_ders,
            tasks: Vec::new(),
            temp_dir,
            _reserved: reserved,
        };
        lab.tasks.push(tokio::spawn(server::serve(
            http_listener,
            server::http_handler(pki.routes),
        )));
        for (i, (sc, (port, listener))) in pki.scenarios.iter().zip(bound).enumerate() {
            lab.targets.push(LabTarget {
                id: sc.id,
                host: sc.host(),
                port,
                summary: sc.summary,
                second_addr: sc.second.as_ref().map(|_| SECOND_ADDR.into()),
            });
            // On error `lab` drops here, which aborts what was spawned.
            let handler = server::handler(sc.id, &sc.behavior, opts.slow_delay)?;
            if let (Some(listener), Some(handler)) = (listener, handler) {
                lab.tasks
                    .push(tokio::spawn(server::serve(listener, handler)));
            }
            if let (Some(b), Some(pos)) = (&sc.second, seconds.iter().position(|(k, _)| *k == i)) {
                let (_, listener) = seconds.swap_remove(pos);
                if let Some(handler) = server::handler(sc.id, b, opts.slow_delay)? {
                    lab.tasks
                        .push(tokio::spawn(server::serve(listener, handler)));
                }
            }
        }
        Ok(lab)
    }

    /// The target with this scenario id.
    pub fn get(&self, id: &str) -> Option<&LabTarget> {
        self.targets.iter().find(|t| t.id == id)
    }

    /// The exact command that checks `t` against the lab CA file, every
    /// value single-quoted for a POSIX shell.
    pub fn check_command(&self, t: &LabTarget) -> String {
        let mut cmd = format!(
            "certscope check --ca-file {}",
            sh_quote(&self.ca_file.to_string_lossy())
        );
        if let Some(rule) = t.resolve() {
            cmd.push_str(" --resolve ");
            cmd.push_str(&sh_quote(&rule));
        }
        cmd.push(' ');
        cmd.push_str(&sh_quote(&t.target()));
        cmd
    }

    /// The DER certificates in [`Lab::ca_file`] (lab root, fixture root).
    pub fn root_ders(&self) -> Vec<Vec<u8>> {
        self.root_ders.clone()
    }

    /// Stops every server (same as dropping the lab).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(dir) = self.temp_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Print the lab's targets as a table with their check commands (used by
/// `certscope lab`).
pub fn describe(lab: &Lab) -> String {
    let id_w = lab
        .targets
        .iter()
        .map(|t| t.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let tgt_w = lab
        .targets
        .iter()
        .map(|t| t.target().len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "certscope lab: {} scenarios on 127.0.0.1",
        lab.targets.len()
    );
    let _ = writeln!(out, "CA file: {}", lab.ca_file.display());
    let _ = writeln!(out, "AIA, CRL and OCSP server: {}", lab.http_url);
    out.push('\n');
    let _ = writeln!(
        out,
        "{:<id_w$}  {:<tgt_w$}  WHAT IT PRESENTS",
        "ID", "TARGET"
    );
    for t in &lab.targets {
        let _ = writeln!(
            out,
            "{:<id_w$}  {:<tgt_w$}  {}",
            t.id,
            t.target(),
            t.summary
        );
    }
    out.push_str("\nCheck commands:\n");
    for t in &lab.targets {
        let _ = writeln!(out, "  # {}\n  {}", t.id, lab.check_command(t));
    }
    out
}

/// Listens on 127.0.0.1:`port` (0 = any free port) for `what`.
/// A free loopback port that refuses connections: a socket bound to it but
/// never listening. (Binding, learning the port and closing it would let
/// another listener take the port before anyone connects.)
fn reserve(what: &str) -> Result<tokio::net::TcpSocket> {
    let s =
        tokio::net::TcpSocket::new_v4().with_context(|| format!("lab: no socket for {what}"))?;
    s.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .with_context(|| format!("lab: cannot reserve a port on 127.0.0.1 for {what}"))?;
    Ok(s)
}

/// The second address of the two-address scenarios.
pub const SECOND_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// The same port on 127.0.0.1 and [`SECOND_ADDR`] (`port` 0: one free on
/// both, trying a few).
async fn bind_pair(port: u16, id: &str) -> Result<(TcpListener, Option<TcpListener>)> {
    let what = format!("scenario {id}");
    for _ in 0..20 {
        let first = bind(port, &what).await?;
        let p = first.local_addr()?.port();
        match TcpListener::bind(SocketAddr::from((SECOND_ADDR, p))).await {
            Ok(second) => return Ok((first, Some(second))),
            Err(e) if port != 0 => {
                return Err(e).with_context(|| {
                    format!("lab: cannot listen on {SECOND_ADDR}:{p} for {what}")
                });
            }
            Err(_) => continue,
        }
    }
    Err(anyhow!(
        "lab: no port free on both 127.0.0.1 and {SECOND_ADDR} for {what}"
    ))
}

async fn bind(port: u16, what: &str) -> Result<TcpListener> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).await.with_context(|| {
        if port == 0 {
            format!("lab: cannot bind a port on 127.0.0.1 for {what}")
        } else {
            format!("lab: cannot listen on 127.0.0.1:{port} for {what} (port busy?)")
        }
    })
}

/// POSIX single-quoting: `it's` → `'it'\''s'`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A new, empty directory under the system temp dir.
fn fresh_temp_dir() -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!(
            "certscope-lab-{}-{nanos:x}-{n}",
            std::process::id()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("lab: cannot create {}", dir.display()));
            }
        }
    }
    Err(anyhow!(
        "lab: cannot create a temporary directory under {}",
        base.display()
    ))
}
