//! The `certscope` binary: parse the command line and hand over to the
//! library. Bad input prints one line naming it and exits 3.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches};

use certscope::cli::{Cli, Command};

fn main() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let matches = match Cli::command().try_get_matches_from(&raw) {
        Ok(m) => m,
        Err(e) => return clap_error(e),
    };
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    // `certscope chek example.com` is a typo, not a host named chek (unless
    // it came after `--`).
    if cli.command.is_none()
        && let Some(first) = cli.targets.first()
    {
        let dashed = raw.iter().any(|a| a == "--");
        if let Some(cmd) = certscope::cli::mistyped_command(first, dashed) {
            let shown = certscope::util::sanitize::for_terminal(first);
            eprintln!(
                "certscope: error: unknown command '{shown}'; did you mean '{cmd}'? (for a host named {shown}, write {shown}:443 or put it after --; see certscope --help)"
            );
            return ExitCode::from(3);
        }
    }
    // The settings file gives what the command line leaves unset.
    let settings = match certscope::config::settings::load_default() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("certscope: error: {e}");
            return ExitCode::from(3);
        }
    };
    let sub = matches.subcommand().map(|(_, m)| m);
    match (&mut cli.command, sub) {
        (None, _) => certscope::cli::apply_settings(&mut cli.probe, &matches, &settings),
        (Some(Command::Check(a)), Some(m)) => {
            certscope::cli::apply_settings(&mut a.probe, m, &settings)
        }
        (Some(Command::Serve(a)), Some(m)) => {
            certscope::cli::apply_settings(&mut a.probe, m, &settings);
            // Scrapes wait on the network, not the CPU: the exporter's
            // default is many more in flight, so slow targets never starve
            // the others.
            if m.value_source("concurrency") != Some(clap::parser::ValueSource::CommandLine)
                && settings.concurrency.is_none()
            {
                a.probe.concurrency = certscope::serve::DEFAULT_IN_FLIGHT;
            }
        }
        (Some(Command::Inspect(a)), Some(m)) => {
            certscope::cli::apply_settings_inspect(a, m, &settings)
        }
        _ => {}
    }
    let color = cli
        .color
        .map(Into::into)
        .or(settings.color)
        .unwrap_or_default();
    certscope::util::term::set_choice(color);
    certscope::util::term::set_quiet(cli.quiet);
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
            Some(Command::ExampleSettings) => {
                print!("{}", certscope::config::settings::EXAMPLE);
                0
            }
            Some(Command::Completions { shell }) => {
                let mut cmd = Cli::command();
                clap_complete::generate(shell, &mut cmd, "certscope", &mut std::io::stdout());
                0
            }
            Some(Command::Man) => {
                use std::io::Write;
                let mut out = std::io::stdout();
                let _ = out.write_all(&certscope::cli::man_page());
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

/// Bad command line: clap's first line, with its suggestion ("did you mean")
/// and the possible values when it has them, then exit 3. Help and version
/// print as clap prints them.
fn clap_error(e: clap::Error) -> ExitCode {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.render().to_string();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments");
    let mut msg = first.trim_start_matches("error: ").to_string();
    let strings = |v: &ContextValue| -> Vec<String> {
        match v {
            ContextValue::String(s) => vec![s.clone()],
            ContextValue::Strings(v) => v.clone(),
            _ => Vec::new(),
        }
    };
    for kind in [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg] {
        if let Some(v) = e.get(kind) {
            let s = strings(v);
            if !s.is_empty() {
                msg.push_str(&format!("; did you mean '{}'?", s.join("' or '")));
            }
        }
    }
    if let Some(v) = e.get(ContextKind::ValidValue) {
        let s = strings(v);
        if !s.is_empty() {
            msg.push_str(&format!(" (possible values: {})", s.join(", ")));
        }
    }
    eprintln!("certscope: error: {msg} (see certscope --help)");
    ExitCode::from(3)
}
