//! The event loop: terminal lifecycle, input thread, probe tasks, effects.
//!
//! Render on demand: a dirty flag, drain the event batch, draw at most every
//! 16 ms, nothing while idle. Background tasks never touch the model: each
//! probe sends its result over the channel, tagged with its generation.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::clipboard::Clipboard;
use super::model::{AddDefaults, HostState, Model};
use super::update::{self, Action, Effect};
use crate::config::Config;
use crate::probe::file::FileOptions;
use crate::run::Engine;

/// Puts the terminal in TUI mode and always restores it: on drop, on error
/// and on panic.
struct TerminalGuard;

fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
}

impl TerminalGuard {
    fn enter() -> std::io::Result<TerminalGuard> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            hook(info);
        }));
        enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(
            std::io::stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            cursor::Hide
        )?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

use crate::report::time::now_unix;

/// The shortest time between two frames.
const FRAME: Duration = Duration::from_millis(16);
/// How long one turn of the loop may spend applying probe results before
/// it reads keys and draws again.
const RESULT_BUDGET: Duration = Duration::from_millis(8);

/// Runs probes for the TUI: bounded concurrency, cancellable per host.
///
/// Probes wait in a queue and a task exists only for those running (at
/// most `--concurrency`): re-probing 10,000 hosts queues 10,000 entries,
/// not 10,000 tasks.
struct Prober {
    engine: Arc<Engine>,
    tx: mpsc::UnboundedSender<Action>,
    running: HashMap<usize, AbortHandle>,
    /// What `--file` hosts are checked against when re-read.
    files: Arc<FileOptions>,
    /// Network probes waiting for a slot, oldest first.
    /// Host, generation, target, and whether to compare without SNI.
    queue: std::collections::VecDeque<(usize, u64, crate::target::Target, bool)>,
    /// Each host's newest generation: queued entries of older ones (or of
    /// a cancelled host) are skipped.
    latest: HashMap<usize, u64>,
}

impl Prober {
    fn new(engine: Engine, tx: mpsc::UnboundedSender<Action>, files: FileOptions) -> Prober {
        Prober {
            engine: Arc::new(engine),
            tx,
            running: HashMap::new(),
            files: Arc::new(files),
            queue: std::collections::VecDeque::new(),
            latest: HashMap::new(),
        }
    }

    fn cancel(&mut self, host: usize) {
        self.latest.remove(&host);
        if let Some(h) = self.running.remove(&host) {
            h.abort();
            self.pump();
        }
    }

    /// A result for `host` arrived: its slot is free.
    fn done(&mut self, host: usize, generation: u64) {
        if self.latest.get(&host) == Some(&generation) {
            self.latest.remove(&host);
            self.running.remove(&host);
        }
        self.pump();
    }

    /// Free the slot of a probe whose result is `a`.
    fn note(&mut self, a: &Action) {
        if let Action::ProbeFinished {
            host, generation, ..
        }
        | Action::ProbeFailed {
            host, generation, ..
        } = a
        {
            self.done(*host, *generation);
        }
    }

    /// Start queued probes while slots are free.
    fn pump(&mut self) {
        let limit = self.engine.config.concurrency.max(1);
        while self.running.len() < limit {
            let Some((host, generation, target, no_sni)) = self.queue.pop_front() else {
                break;
            };
            if self.latest.get(&host) == Some(&generation) && !self.running.contains_key(&host) {
                self.start(host, generation, target, no_sni);
            }
        }
    }

    /// Re-read and re-diagnose a `--file` host off the event loop.
    fn inspect(&mut self, host: usize, generation: u64, path: std::path::PathBuf) {
        self.cancel(host);
        self.latest.insert(host, generation);
        let (engine, opts) = (self.engine.clone(), self.files.clone());
        let inner = tokio::task::spawn_blocking(move || engine.inspect_file(&path, &opts));
        self.deliver(host, generation, inner);
    }

    fn spawn(&mut self, host: usize, generation: u64, target: crate::target::Target, no_sni: bool) {
        self.cancel(host);
        self.latest.insert(host, generation);
        self.queue.push_back((host, generation, target, no_sni));
        self.pump();
    }

    fn start(&mut self, host: usize, generation: u64, target: crate::target::Target, no_sni: bool) {
        let trust = self.engine.config.trust_at(host).clone();
        let (start_tx, done_tx) = (self.tx.clone(), self.tx.clone());
        let mut opts = self.engine.options().clone();
        opts.probe.compare_no_sni |= no_sni;
        let handle = self.engine.spawn_with(
            target,
            trust,
            opts,
            move || {
                let _ = start_tx.send(Action::ProbeStarted { host, generation });
            },
            move |report| {
                let _ = done_tx.send(Action::ProbeFinished {
                    host,
                    generation,
                    report: Box::new(report),
                });
            },
        );
        self.running.insert(host, handle);
    }

    /// Keep `inner` cancellable under `host`, and send its result (tagged
    /// with `generation`) when it ends; a cancelled task sends nothing.
    fn deliver(
        &mut self,
        host: usize,
        generation: u64,
        inner: tokio::task::JoinHandle<Result<crate::report::Report, String>>,
    ) {
        self.running.insert(host, inner.abort_handle());
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let msg = match inner.await {
                Ok(Ok(report)) => Action::ProbeFinished {
                    host,
                    generation,
                    report: Box::new(report),
                },
                Ok(Err(error)) => {
                    tracing::warn!(host, %error, "probe failed");
                    Action::ProbeFailed {
                        host,
                        generation,
                        error,
                    }
                }
                Err(e) if !e.is_cancelled() => {
                    tracing::error!(host, error = %e, "probe task failed");
                    Action::ProbeFailed {
                        host,
                        generation,
                        error: format!("internal error: {e}"),
                    }
                }
                Err(_) => return,
            };
            let _ = tx.send(msg);
        });
    }
}

/// Run the TUI until the user quits. Returns the process exit code.
pub async fn run(
    plan: Config,
    add_defaults: AddDefaults,
    interval: Option<u64>,
) -> Result<i32, String> {
    let mut model = Model::new(plan.targets.clone(), now_unix());
    model.interval = interval;
    run_model(
        model,
        Engine::new(plan),
        add_defaults,
        FileOptions::default(),
    )
    .await
}

/// Run the TUI on a prepared model (e.g. with `--file` hosts already
/// diagnosed, see [`crate::tui::setup::tui_model`]) until the user quits.
pub async fn run_model(
    mut model: Model,
    engine: Engine,
    add_defaults: AddDefaults,
    files: FileOptions,
) -> Result<i32, String> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err("the TUI needs a terminal; use `certscope check` for scripts and pipes".into());
    }
    model.add_defaults = add_defaults;
    model.color = crate::util::term::color_enabled(true);
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut prober = Prober::new(engine, tx.clone(), files);
    let mut clipboard = Clipboard::from_env();

    let guard = TerminalGuard::enter().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .map_err(|e| format!("cannot set up the terminal: {e}"))?;
    if let Ok(s) = terminal.size() {
        model.size = (s.width, s.height);
    }

    // Input: a thread blocked on the terminal, feeding its own channel so
    // that keys are never queued behind probe results.
    let (input_tx, mut input_rx) = mpsc::unbounded_channel::<Action>();
    std::thread::spawn(move || {
        while !input_tx.is_closed() {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => {
                    let action = match event::read() {
                        Ok(Event::Key(k)) => Action::Key(k),
                        Ok(Event::Mouse(m)) => Action::Mouse(m),
                        Ok(Event::Resize(w, h)) => Action::Resize(w, h),
                        Ok(_) => continue,
                        Err(_) => break,
                    };
                    if input_tx.send(action).is_err() {
                        break;
                    }
                }
                Ok(false) => {}
                Err(_) => break,
            }
        }
    });

    let start = Instant::now();
    let effects = update::start(&mut model);
    apply(effects, &mut model, &mut prober, &mut clipboard, &tx);
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_second = now_unix();
    // Each turn: every key first, then background results for at most
    // RESULT_BUDGET (the rest wait for the next turn), then a frame if
    // anything changed and FRAME has passed; nothing runs while idle.
    while !model.quit {
        while let Ok(a) = input_rx.try_recv() {
            let t = Instant::now();
            let eff = update::update(&mut model, a);
            apply(eff, &mut model, &mut prober, &mut clipboard, &tx);
            tracing::debug!(us = t.elapsed().as_micros() as u64, "input handled");
            dirty = true;
        }
        let budget = Instant::now() + RESULT_BUDGET;
        while Instant::now() < budget {
            let Ok(a) = rx.try_recv() else { break };
            prober.note(&a);
            let eff = update::update(&mut model, a);
            apply(eff, &mut model, &mut prober, &mut clipboard, &tx);
            dirty = true;
        }
        if model.quit {
            break;
        }
        let backlog = !rx.is_empty();
        if dirty && last_draw.elapsed() >= FRAME {
            let t = Instant::now();
            terminal
                .draw(|f| super::ui::render(f, &model))
                .map_err(|e| format!("cannot draw: {e}"))?;
            last_draw = Instant::now();
            tracing::debug!(us = t.elapsed().as_micros() as u64, "frame drawn");
            dirty = false;
        }
        let next_frame = tokio::time::Instant::from_std(last_draw + FRAME);
        tokio::select! {
            biased;
            a = input_rx.recv() => {
                let Some(a) = a else { break };
                let t = Instant::now();
                let eff = update::update(&mut model, a);
                apply(eff, &mut model, &mut prober, &mut clipboard, &tx);
                tracing::debug!(us = t.elapsed().as_micros() as u64, "input handled");
                dirty = true;
            }
            // A backlog or a pending frame: come back at the next frame.
            _ = tokio::time::sleep_until(next_frame), if dirty || backlog => {}
            a = rx.recv(), if !backlog => {
                let Some(a) = a else { break };
                prober.note(&a);
                let eff = update::update(&mut model, a);
                apply(eff, &mut model, &mut prober, &mut clipboard, &tx);
                dirty = true;
            }
            _ = ticker.tick() => {
                let spinning = model.hosts.iter().any(|h| matches!(h.state, HostState::Connecting { .. }));
                let now = now_unix();
                if spinning || now != last_second {
                    last_second = now;
                    let ms = start.elapsed().as_millis() as u64;
                    let had_message = model.message.is_some();
                    let eff = update::update(&mut model, Action::Tick { now_ms: ms, now_unix: now });
                    apply(eff, &mut model, &mut prober, &mut clipboard, &tx);
                    // Watching: the "next in ..." countdown moves every second;
                    // an expired message leaves the status bar.
                    let expired = had_message && model.message.is_none();
                    dirty = spinning || model.interval.is_some() || expired || dirty;
                }
            }
        }
    }
    for (_, h) in prober.running.drain() {
        h.abort();
    }
    drop(terminal);
    drop(guard);
    Ok(0)
}

/// What became of a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Written to the file (its path as shown).
    Written(String),
    /// The file exists and `overwrite` was not given: nothing was written.
    Exists,
    Failed(String),
}

/// Write `contents` to `path`. Without `overwrite` the file must not exist
/// (created exclusively, so a file appearing meanwhile is not replaced).
pub fn save_file(path: &std::path::Path, contents: &str, overwrite: bool) -> Saved {
    use std::io::Write;
    let shown = path.display().to_string();
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if overwrite {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    let r = open
        .open(path)
        .and_then(|mut f| f.write_all(contents.as_bytes()).and_then(|()| f.flush()));
    match r {
        Ok(()) => Saved::Written(shown),
        Err(e) if !overwrite && e.kind() == std::io::ErrorKind::AlreadyExists => Saved::Exists,
        Err(e) => Saved::Failed(format!("cannot write {shown}: {e}")),
    }
}

fn apply(
    effects: Vec<Effect>,
    model: &mut Model,
    prober: &mut Prober,
    clipboard: &mut Clipboard,
    tx: &mpsc::UnboundedSender<Action>,
) {
    for e in effects {
        match e {
            Effect::Probe {
                host,
                generation,
                target,
                compare_no_sni,
            } => prober.spawn(host, generation, target, compare_no_sni),
            Effect::Inspect {
                host,
                generation,
                path,
            } => prober.inspect(host, generation, path),
            Effect::Cancel { host } => prober.cancel(host),
            Effect::Copy(text) => {
                let r = clipboard.copy(&text, &mut std::io::stdout());
                if let Err(e) = &r {
                    tracing::warn!(error = %e, "copy failed");
                }
                let _ = tx.send(Action::Copied(r));
            }
            Effect::Save {
                path,
                contents,
                overwrite,
            } => {
                let tx = tx.clone();
                tokio::task::spawn_blocking(move || {
                    let action = match save_file(&path, &contents, overwrite) {
                        Saved::Written(shown) => Action::Saved(Ok(shown)),
                        Saved::Exists => Action::SaveExists { path, contents },
                        Saved::Failed(e) => Action::Saved(Err(e)),
                    };
                    let _ = tx.send(action);
                });
            }
            Effect::Quit => model.quit = true,
            Effect::Release(old) => {
                tokio::task::spawn_blocking(move || drop(old));
            }
        }
    }
}
