//! Before the terminal is touched: the TUI's model from the command line,
//! with `--file` rows read and diagnosed (bad input is an error naming it).

use std::path::PathBuf;

use crate::config::{Config, InputError};
use crate::inspect::{PLACEHOLDER, Settings, inspect_file, now_unix, parse_name};
use crate::target::Target;
use crate::tui::model::{Host, HostState, Model};

/// Everything `certscope --file FILE... [TARGET...]` needs before the
/// terminal is touched: the model (every file already read and diagnosed),
/// the plan for the network targets and for hosts added later, and how to
/// re-read the files. `--sni` is the name files are checked against. Bad
/// input (a bad file, option or target) is an error naming it.
pub fn tui_setup(
    files: &[PathBuf],
    targets: &[String],
    args: &crate::cli::ProbeArgs,
) -> Result<(Model, Config, Settings), InputError> {
    let plan = if targets.is_empty() && args.hosts_file.is_none() {
        // Only files: validate the options the same way, without a target
        // (and without the default hosts file).
        let mut plan = crate::cli::config(&[PLACEHOLDER.to_string()], args)?;
        plan.targets.clear();
        plan.trust_for.clear();
        plan
    } else {
        let mut plan = crate::cli::config(targets, args)?;
        plan.load_all()?;
        plan
    };
    let name = args.sni.as_deref().map(parse_name).transpose()?;
    let settings = Settings::from_plan(&plan, name);
    let model = tui_model(plan.targets.clone(), files, &settings, now_unix())?;
    Ok((model, plan, settings))
}

/// The TUI's model: a row per network target (queued) and one per file,
/// already diagnosed. Errors name the file.
pub fn tui_model(
    targets: Vec<Target>,
    files: &[PathBuf],
    s: &Settings,
    now: i64,
) -> Result<Model, InputError> {
    let mut hosts = Vec::with_capacity(files.len());
    for f in files {
        let report = inspect_file(f, s, now)?;
        let mut h = Host::new(report.target.clone());
        h.file = Some(f.clone());
        h.state = HostState::Done(Box::new(report));
        hosts.push(h);
    }
    let mut model = Model::new(targets, now);
    model.hosts.extend(hosts);
    model.refresh_view();
    Ok(model)
}
