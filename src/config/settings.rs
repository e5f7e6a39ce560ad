//! The settings file: defaults for every run, in
//! `$XDG_CONFIG_HOME/certscope/config.toml` (`~/.config/certscope/config.toml`;
//! `CERTSCOPE_CONFIG` names another file). Unknown keys are an error naming
//! the line. Precedence, strongest first: the command line, a hosts-file
//! target's own value, the hosts file's `[defaults]`, this file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::util::sanitize::for_terminal;

/// A commented example (`certscope example-settings`).
pub const EXAMPLE: &str = r#"# certscope settings (TOML): defaults for every run.
#
# Put it at ~/.config/certscope/config.toml (or $XDG_CONFIG_HOME/certscope/,
# or name it with CERTSCOPE_CONFIG). Unknown keys are an error.
# The command line wins over a hosts file, which wins over this file.

# timeout = 10              # seconds per network step
# concurrency = 64          # targets probed at once
# warn-days = 30            # warn below this many days left
# crit-days = 7             # critical below this many days left
# trust-store = "mozilla"   # mozilla, system or none
# ca-file = ["/etc/ssl/private-ca.pem"]   # extra trust anchors; a file or a list
# no-revocation = false     # skip CRL and OCSP lookups
# no-aia = false            # do not fetch missing intermediates
# color = "auto"            # auto, always or never
"#;

/// Settings files larger than this are refused.
const MAX_BYTES: u64 = 256 * 1024;

/// A TOML value that is one path or a list of them (`ca-file`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The paths, relative ones taken from `dir`.
    pub(crate) fn paths(&self, dir: &Path) -> Vec<PathBuf> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(f) => vec![dir.join(f)],
            OneOrMany::Many(v) => v.iter().map(|f| dir.join(f)).collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    timeout: Option<f64>,
    concurrency: Option<u32>,
    warn_days: Option<u32>,
    crit_days: Option<u32>,
    trust_store: Option<String>,
    #[serde(default)]
    ca_file: OneOrMany,
    no_revocation: Option<bool>,
    no_aia: Option<bool>,
    color: Option<String>,
}

/// The settings, checked.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Settings {
    pub timeout: Option<f64>,
    pub concurrency: Option<u32>,
    pub warn_days: Option<u32>,
    pub crit_days: Option<u32>,
    pub trust_store: Option<crate::x509::trust::StoreKind>,
    pub ca_file: Vec<PathBuf>,
    pub no_revocation: Option<bool>,
    pub no_aia: Option<bool>,
    pub color: Option<crate::util::term::ColorChoice>,
    /// The file they came from, for messages.
    pub path: Option<PathBuf>,
}

/// Where the settings file is looked for.
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CERTSCOPE_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    crate::config::hostsfile::default_path().map(|p| p.with_file_name("config.toml"))
}

/// Load the settings file if there is one (none is no error; a
/// `CERTSCOPE_CONFIG` that does not exist is).
pub fn load_default() -> Result<Settings, String> {
    let explicit = std::env::var_os("CERTSCOPE_CONFIG").is_some_and(|p| !p.is_empty());
    match default_path() {
        Some(p) if explicit || p.exists() => load(&p),
        _ => Ok(Settings::default()),
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
}

/// Read and check one settings file; errors name it and the line.
pub fn load(path: &Path) -> Result<Settings, String> {
    let shown = for_terminal(&path.display().to_string());
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read settings file {shown}: {e}"))?;
    if meta.len() > MAX_BYTES {
        return Err(format!(
            "settings file {shown} is larger than {MAX_BYTES} bytes"
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read settings file {shown}: {e}"))?;
    parse(&text, path)
}

/// Check the text of a settings file read from `path` (which names it in
/// messages and anchors relative CA file paths).
pub fn parse(text: &str, path: &Path) -> Result<Settings, String> {
    let shown = for_terminal(&path.display().to_string());
    let at = |offset: Option<usize>| match offset {
        Some(o) => format!("settings file {shown}, line {}", line_of(text, o)),
        None => format!("settings file {shown}"),
    };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        format!(
            "{}: {}",
            at(e.span().map(|s| s.start)),
            for_terminal(e.message().trim())
        )
    })?;
    let bad = |what: String| format!("{}: {what}", at(None));
    if let Some(t) = raw.timeout
        && !(t.is_finite() && t > 0.0 && t <= 3600.0)
    {
        return Err(bad("timeout: expected seconds between 0 and 3600".into()));
    }
    if let Some(c) = raw.concurrency
        && !(1..=4096).contains(&c)
    {
        return Err(bad("concurrency: expected 1 to 4096".into()));
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    let ca_file = raw.ca_file.paths(dir);
    Ok(Settings {
        timeout: raw.timeout,
        concurrency: raw.concurrency,
        warn_days: raw.warn_days,
        crit_days: raw.crit_days,
        trust_store: raw
            .trust_store
            .map(|s| s.parse().map_err(|e| bad(format!("trust-store: {e}"))))
            .transpose()?,
        ca_file,
        no_revocation: raw.no_revocation,
        no_aia: raw.no_aia,
        color: raw
            .color
            .map(|s| s.parse().map_err(|e| bad(format!("color: {e}"))))
            .transpose()?,
        path: Some(path.to_path_buf()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "timeout = 2.5\nconcurrency = 8\nwarn-days = 40\ncrit-days = 5\ntrust-store = \"none\"\nca-file = \"ca.pem\"\nno-revocation = true\ncolor = \"never\"\n",
        )
        .unwrap();
        let s = load(&p).unwrap();
        assert_eq!(s.timeout, Some(2.5));
        assert_eq!(s.concurrency, Some(8));
        assert_eq!((s.warn_days, s.crit_days), (Some(40), Some(5)));
        assert_eq!(s.trust_store, Some(crate::x509::trust::StoreKind::None));
        assert_eq!(s.ca_file, vec![dir.path().join("ca.pem")]);
        assert_eq!(s.no_revocation, Some(true));
        assert_eq!(s.color, Some(crate::util::term::ColorChoice::Never));
        std::fs::write(&p, "timeout = 2\n\ntimout = 3\n").unwrap();
        let e = load(&p).unwrap_err();
        assert!(e.contains("line 3") && e.contains("timout"), "{e}");
        std::fs::write(&p, "color = \"pink\"\n").unwrap();
        assert!(load(&p).unwrap_err().contains("pink"));
        std::fs::write(&p, "timeout = -1\n").unwrap();
        assert!(load(&p).unwrap_err().contains("timeout"));
    }

    #[test]
    fn the_example_is_valid_and_sets_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, EXAMPLE).unwrap();
        let s = load(&p).unwrap();
        assert_eq!(s.timeout, None);
        // Uncommented, every key is accepted.
        let on: String = EXAMPLE
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| r.contains(" = "))
                    .unwrap_or(l)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&p, on).unwrap();
        let s = load(&p).unwrap();
        assert_eq!(s.concurrency, Some(64));
    }
}
