//! Arbitrary text as every input a user types or a file holds: targets,
//! `--resolve`, intervals, a hosts file (TOML or a plain list), the
//! settings file, `--at`.
#![no_main]

use std::path::Path;

use certscope::config::hostsfile::{Inherit, parse, plain_targets};
use certscope::target::{ResolveRule, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Target::parse(text, 443);
    let _ = ResolveRule::parse(text);
    let _ = certscope::config::parse_interval(text);
    let _ = certscope::cli::parse_at(text);
    let _ = plain_targets(text);
    let _ = parse(
        text,
        "fuzz.toml",
        Path::new("/nonexistent"),
        &Inherit::default(),
    );
    let _ = certscope::config::settings::parse(text, Path::new("/nonexistent/config.toml"));
});
