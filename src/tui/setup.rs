//! Before the terminal is touched: the TUI's model from the command line,
//! with `--file` rows read and diagnosed (bad input is an error naming it).

use std::path::PathBuf;

use crate::config::InputError;
use crate::probe::file::{FileOptions, PLACEHOLDER, parse_name};
use crate::report::time::now_unix;
use crate::run::Engine;
use crate::target::Target;
use crate::tui::model::{Host, HostState, Model};

/// Everything `certscope --file FILE... [TARGET...]` needs before the
/// terminal is touched: the model (every file already read and diagnosed),
/// the engine for the network targets, hosts added later and re-reading
/// the files, and what files are checked against. `--sni` is the name files are checked against. Bad
/// input (a bad file, option or target) is an error naming it.
pub fn tui_setup(
    files: &[PathBuf],
    targets: &[String],
    args: &crate::cli::ProbeArgs,
) -> Result<(Model, Engine, FileOptions), InputError> {
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
    let name = args
        .sni
        .as_deref()
        .map(parse_name)
        .transpose()
        .map_err(InputError)?;
    let opts = FileOptions { name, key: None };
    let engine = Engine::new(plan);
    let model = tui_model(&engine, files, &opts, now_unix())?;
    Ok((model, engine, opts))
}

/// The TUI's model: a row per network target (queued) and one per file,
/// already diagnosed. Errors name the file.
pub fn tui_model(
    engine: &Engine,
    files: &[PathBuf],
    opts: &FileOptions,
    now: i64,
) -> Result<Model, InputError> {
    let targets: Vec<Target> = engine.config.targets.clone();
    let mut hosts = Vec::with_capacity(files.len());
    for f in files {
        let report = engine.inspect_file(f, opts).map_err(InputError)?;
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
