//! The `certscope` binary: parse the command line and hand over to the
//! library. Bad input prints one line naming it and exits 3.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use certscope::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line: clap's first line, plus where to look.
            let text = e.render().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            let first = first.trim_start_matches("error: ");
            eprintln!("certscope: error: {first} (see certscope --help)");
            return ExitCode::from(3);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("certscope: error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    // The TUI logs to a file; every other mode to stderr when asked.
    let tui = matches!(cli.command, None | Some(Command::Demo));
    let sink = if tui {
        certscope::logging::Sink::File
    } else {
        certscope::logging::Sink::Stderr
    };
    let _log = certscope::logging::init(cli.verbose, sink);
    let code = rt.block_on(async move {
        match cli.command {
            Some(Command::Check(args)) => match certscope::check::run(args).await {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("certscope: error: {e}");
                    3
                }
            },
            Some(Command::Lab(args)) => run_lab(args).await,
            Some(Command::Demo) => run_demo().await,
            Some(Command::Inspect(args)) => match certscope::inspect::run(args) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("certscope: error: {e}");
                    3
                }
            },
            Some(Command::Serve(args)) => match certscope::serve::run(args).await {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("certscope: error: {e}");
                    3
                }
            },
            Some(Command::ExampleServe) => {
                print!("{}", certscope::serve::config::EXAMPLE);
                0
            }
            Some(Command::ExampleHosts) => {
                print!("{}", certscope::config::hostsfile::EXAMPLE);
                0
            }
            None if !cli.file.is_empty() => {
                open_files(&cli.file, &cli.targets, &cli.probe, cli.interval).await
            }
            None => {
                if cli.targets.is_empty()
                    && cli.probe.hosts_file.is_none()
                    && certscope::config::hostsfile::default_file().is_none()
                {
                    eprintln!(
                        "certscope: error: {}; or try `certscope demo`",
                        certscope::config::hostsfile::no_targets_message()
                    );
                    return 3;
                }
                open_tui(&cli.targets, &cli.probe, cli.interval).await
            }
        }
    });
    ExitCode::from(u8::try_from(code).unwrap_or(3))
}

/// `certscope lab`: start the lab's servers, print their check commands, and
/// wait for Ctrl-C.
async fn run_lab(args: certscope::cli::LabArgs) -> i32 {
    use certscope::lab::{Lab, LabOptions, describe};
    let opts = LabOptions {
        port_base: args.port_base,
        dir: args.dir,
        ..LabOptions::default()
    };
    let lab = match Lab::start(opts).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("certscope: error: cannot start the lab: {e:#}");
            return 3;
        }
    };
    println!("{}", describe(&lab));
    println!("The lab runs until Ctrl-C.");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    lab.shutdown();
    0
}

/// Validate the targets and options, then run the TUI until the user quits.
async fn open_tui(
    targets: &[String],
    args: &certscope::cli::ProbeArgs,
    interval: Option<u64>,
) -> i32 {
    // The TUI lists every target, so the hosts file's are all loaded.
    let plan =
        match certscope::cli::config(targets, args).and_then(|mut c| c.load_all().map(|()| c)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("certscope: error: {e}");
                return 3;
            }
        };
    let defaults = certscope::tui::model::AddDefaults {
        sni: None,
        resolve: args.resolve.clone(),
    };
    // --interval wins over the hosts file's.
    let interval = interval.or(plan.interval);
    match certscope::tui::runtime::run(plan, defaults, interval).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("certscope: error: {e}");
            3
        }
    }
}

/// `certscope --file FILE...`: the TUI with a row per certificate file,
/// already diagnosed (and a row per TARGET, probed).
async fn open_files(
    files: &[std::path::PathBuf],
    targets: &[String],
    args: &certscope::cli::ProbeArgs,
    interval: Option<u64>,
) -> i32 {
    let (mut model, plan, settings) = match certscope::tui::setup::tui_setup(files, targets, args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("certscope: error: {e}");
            return 3;
        }
    };
    let defaults = certscope::tui::model::AddDefaults {
        sni: None,
        resolve: args.resolve.clone(),
    };
    model.interval = interval.or(plan.config.interval);
    match certscope::tui::runtime::run_model(model, plan, defaults, settings).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("certscope: error: {e}");
            3
        }
    }
}

/// `certscope demo`: the lab in-process, and the TUI over every lab target,
/// trusting the lab's CA.
async fn run_demo() -> i32 {
    use certscope::lab::{Lab, LabOptions};
    let lab = match Lab::start(LabOptions::default()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("certscope: error: cannot start the lab: {e:#}");
            return 3;
        }
    };
    let targets: Vec<String> = lab.targets.iter().map(|t| t.target()).collect();
    let mut args = certscope::cli::demo_probe_args();
    args.ca_file = vec![lab.ca_file.clone()];
    for t in &lab.targets {
        if let Some(rule) = t.resolve()
            && let Ok(r) = certscope::target::ResolveRule::parse(&rule)
        {
            args.resolve.push(r);
        }
    }
    let code = open_tui(&targets, &args, None).await;
    lab.shutdown();
    code
}
