//! `certscope inspect FILE...`: diagnose certificate files on disk (PEM
//! chains and bundles, or DER) with the same engine, findings and output
//! formats as `check`. Reading a file is the engine's (`probe::file`,
//! through `run::Engine::inspect_file`); this mode validates the command
//! line and prints.

use std::sync::Arc;

use crate::cli::{Format, InspectArgs};
use crate::config::{Config, InputError};
use crate::diagnose::DiagnoseOptions;
use crate::probe::file::{FileOptions, load_key, parse_name};
use crate::run::Engine;
use crate::x509::trust::TrustStore;

/// Validate `certscope inspect`'s options and load the trust store and key.
pub fn setup(args: &InspectArgs) -> Result<(Engine, FileOptions), InputError> {
    let name = args
        .name
        .as_deref()
        .map(parse_name)
        .transpose()
        .map_err(InputError)?;
    let trust = TrustStore::load(args.trust_store, &args.ca_file).map_err(InputError)?;
    let key = args
        .key
        .as_deref()
        .map(load_key)
        .transpose()
        .map_err(InputError)?;
    let config = Config::offline(
        Arc::new(trust),
        DiagnoseOptions {
            warn_days: args.warn_days,
            crit_days: args.crit_days,
            skip_name: false,
        },
        args.at,
    );
    Ok((Engine::new(config), FileOptions { name, key }))
}

/// Run `certscope inspect`; returns the exit code. Every file is read and
/// diagnosed before anything is printed, so bad input prints nothing on
/// stdout.
pub fn run(args: InspectArgs) -> Result<i32, InputError> {
    let (engine, opts) = setup(&args)?;
    let format = if args.json { Format::Json } else { args.format };
    let reports = args
        .files
        .iter()
        .map(|f| engine.inspect_file(f, &opts).map_err(InputError))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::check::print_reports(
        &reports,
        args.files.len(),
        format,
    ))
}

#[cfg(test)]
mod tests {
    use crate::diagnose::fix::{Facts, FixContext};
    use crate::report::finding::Code;

    #[test]
    fn file_fix_commands_read_the_file() {
        let mut ctx = FixContext::new("a.test:443".into(), "a.test".into());
        ctx.file = Some("my chain.pem".into());
        assert_eq!(
            ctx.reproduce(),
            "openssl verify -untrusted 'my chain.pem' -verify_hostname a.test 'my chain.pem'"
        );
        let steps = crate::diagnose::fix::steps(Code::ChainOrder, &ctx, &Facts::default());
        let cmds: Vec<&str> = steps.iter().filter_map(|s| s.command.as_deref()).collect();
        assert!(cmds[0].contains("-certfile 'my chain.pem'"), "{cmds:?}");
        assert!(!cmds.iter().any(|c| c.contains("s_client")), "{cmds:?}");
    }
}
