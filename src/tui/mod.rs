//! The TUI runner: owns the terminal, the engine and the event sources, and
//! carries out the effects the pure update asks for.
//!
//! Loop shape (as in yazi): wait for anything, drain everything pending
//! (within a time budget, input first), then render once, at most ~60 times
//! a second and only when something changed.

pub mod edit_session;
mod files_io;
pub mod history;
pub mod save_pane;
pub mod shell_io;
mod terminal;
pub mod workflow_io;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

use crate::app::{self, AppState, Effect, Msg};
use crate::engine::event::EventKind;
use crate::engine::{Answer, Engine, EngineConfig, HostError, HostId, Prompt, Target};
use terminal::TerminalGuard;

pub use terminal::restore;

/// At most one frame per this interval (about 60 fps).
const FRAME: Duration = Duration::from_millis(16);
/// After a keystroke we draw sooner, so typing never waits for a frame slot.
const INPUT_FRAME: Duration = Duration::from_millis(4);
/// Longest we spend applying engine events before drawing and reading keys
/// again, so a flooding host cannot make the UI lag.
const DRAIN_BUDGET: Duration = Duration::from_millis(8);

pub struct TuiSetup {
    pub engine: EngineConfig,
    pub prompts: Option<mpsc::Receiver<Prompt>>,
    pub hosts: Vec<(Target, Vec<String>)>,
    /// Said in the status line when the screen opens (group names two
    /// sources define).
    pub notice: Option<String>,
    /// For each host, where the inventory names it, for the host info:
    /// (what, "FILE:LINE"), in merge order.
    pub origins: Vec<Vec<(String, String)>>,
    pub groups: BTreeMap<String, String>,
    pub scrollback: usize,
    /// Hosts selected at start (e.g. from a selector on the command line).
    pub preselect: Vec<usize>,
    /// Host keys trusted for this run only (the demo's ephemeral hosts).
    pub session_keys: Vec<(String, u16, russh::keys::PublicKey)>,
    /// Record shells and command output here.
    pub record: Option<std::path::PathBuf>,
    /// Facts collectors, the host-list columns, and whether every host is
    /// connected at start to show its facts.
    pub facts: Vec<crate::engine::facts::Scheduled>,
    pub columns: Vec<crate::app::state::Column>,
    pub facts_on_start: bool,
    /// Recipes and saved commands for the palette.
    pub recipes: Vec<crate::engine::recipe::Recipe>,
    pub commands: Vec<(String, String)>,
    /// The keymap, with the config's rebindings.
    pub keymap: crate::app::keymap::Keymap,
    /// Where commands are saved across runs; None keeps them in memory.
    pub history: Option<std::path::PathBuf>,
    /// The config's `command_timeout`: the Ctrl-O timeout starts there.
    pub command_timeout: Option<Duration>,
}

pub async fn run(setup: TuiSetup) -> std::io::Result<()> {
    let TuiSetup {
        engine,
        prompts,
        hosts,
        notice,
        origins,
        groups,
        scrollback,
        preselect,
        session_keys,
        record,
        facts,
        columns,
        facts_on_start,
        recipes,
        commands,
        keymap,
        history,
        command_timeout,
    } = setup;
    // The engine's queue is small: when the screen falls behind a flood,
    // hosts wait (SSH flow control) instead of our memory growing.
    let (mut engine, mut events) = Engine::new(engine);
    for (host, port, key) in &session_keys {
        engine.trust().trust_for_session(host, *port, key);
    }
    let rows: Vec<(String, Vec<String>)> = hosts
        .iter()
        .map(|(t, tags)| (t.label.clone(), tags.clone()))
        .collect();
    // How each host is selected again, for the run record.
    // How each host was selected and where it runs, for the run record.
    let ran_on: Vec<(String, crate::cli::last_run::RecordedTarget)> = hosts
        .iter()
        .map(|(t, _)| {
            (
                t.select_as.clone(),
                crate::cli::last_run::RecordedTarget::of(t),
            )
        })
        .collect();
    for (t, _) in hosts {
        engine.add_host(t);
    }
    let (back_tx, mut back) = mpsc::unbounded_channel();
    let (files, mut transfer_views) =
        files_io::FilesIo::new(files_io::links(&engine, rows.len()), back_tx);
    let mut state = AppState::new(rows, groups, scrollback);
    for (row, origin) in state.hosts.iter_mut().zip(origins) {
        row.origin = origin;
    }
    state.status = notice;
    let mut workflows = workflow_io::WorkflowIo::new(facts, recipes.clone());
    state.facts_enabled = workflows.has_collectors();
    state.deck.columns = columns;
    state.recipes = recipes;
    state.commands = commands;
    state.keymap = keymap;
    if let Some(t) = command_timeout {
        state.deck.options.timeout = format!("{}", t.as_secs_f64());
    }
    if let Some(path) = &history {
        match history::load(path) {
            Ok(h) => state.deck.history = h,
            Err(e) => state.status = Some(format!("history {}: {e}", path.display())),
        }
    }
    if facts_on_start && state.facts_enabled {
        let all: Vec<usize> = (0..state.hosts.len()).collect();
        for h in &all {
            state.hosts[*h].facts_watched = true;
        }
        workflows.watch(&engine, &all);
    }
    let trust = engine.trust();
    let bad = trust.take_new_bad_lines(trust.default_files());
    if let Some(first) = bad.first() {
        state.status = Some(format!(
            "{} ignored, first {}:{}: {}",
            crate::text::count(
                bad.len(),
                "unreadable known_hosts line",
                "unreadable known_hosts lines"
            ),
            first.file.display(),
            first.line,
            first.reason
        ));
    }
    for i in preselect {
        if let Some(h) = state.hosts.get_mut(i) {
            h.selected = true;
        }
    }
    // Without a prompt channel nothing can be asked; keep a dummy receiver
    // so the select below stays uniform.
    let (_keep, dummy) = mpsc::channel::<Prompt>(1);
    let mut prompts = prompts.unwrap_or(dummy);

    let mut guard = TerminalGuard::new()?;
    let size = guard.term.size()?;
    state.size = (size.width, size.height);
    let mut input = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut replies: HashMap<u64, oneshot::Sender<Answer>> = HashMap::new();
    let mut shells = shell_io::ShellIo::new(record.clone());
    let mut next_prompt = 1u64;
    let mut dirty = true;
    let mut urgent = false;
    let mut last_draw = Instant::now() - FRAME;

    'main: loop {
        let slot = if urgent { INPUT_FRAME } else { FRAME };
        if dirty && last_draw.elapsed() >= slot {
            guard.term.draw(|f| crate::ui::render(f, &state))?;
            dirty = false;
            urgent = false;
            last_draw = Instant::now();
        }
        let wait = if dirty {
            slot.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(1)
        };
        // Effects of effects (a resize after Ctrl-Z tells the shells their
        // new size) join the same queue, so none is dropped.
        let mut effects = std::collections::VecDeque::new();
        tokio::select! {
            biased;
            ev = input.next() => {
                match ev {
                    Some(Ok(ev)) => {
                        if let Some(msg) = term_msg(ev) {
                            effects.extend(app::update(&mut state, msg));
                        }
                        dirty = true;
                        urgent = true;
                    }
                    // The terminal went away: nothing more to show.
                    Some(Err(_)) | None => break,
                }
            }
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
            p = prompts.recv() => {
                if let Some(p) = p {
                    let id = next_prompt;
                    next_prompt += 1;
                    replies.insert(id, p.reply);
                    effects.extend(app::update(&mut state, Msg::Prompt { id, question: p.question }));
                    dirty = true;
                }
            }
            b = back.recv() => {
                match b {
                    Some(files_io::Back::Msg(m)) => effects.extend(app::update(&mut state, m)),
                    Some(files_io::Back::Edit(session)) => {
                        // The editor gets the terminal and stdin to itself:
                        // the input reader is dropped until it returns.
                        drop(input);
                        let r = guard.outside(|| files_io::run_editor(&session.local))?;
                        input = EventStream::new();
                        files.finish_edit(session, r);
                        let size = guard.term.size()?;
                        effects.extend(app::update(&mut state, Msg::Resize(size.width, size.height)));
                    }
                    None => {}
                }
                dirty = true;
            }
            r = workflows.reports.recv() => {
                if let Some(r) = r {
                    effects.extend(app::update(&mut state, Msg::Facts(r)));
                    dirty = true;
                }
            }
            r = workflows.recipe_events.recv() => {
                if let Some(r) = r {
                    effects.extend(app::update(&mut state, Msg::Recipe(r)));
                    dirty = true;
                }
            }
            v = transfer_views.recv() => {
                if let Some(v) = v {
                    effects.extend(app::update(&mut state, Msg::Transfer(v)));
                    dirty = true;
                }
            }
            ev = events.recv() => {
                if let Some(ev) = ev {
                    effects.extend(app::update(&mut state, Msg::Engine(ev)));
                    let started = Instant::now();
                    while started.elapsed() < DRAIN_BUDGET {
                        match events.try_recv() {
                            Ok(ev) => effects.extend(app::update(&mut state, Msg::Engine(ev))),
                            Err(_) => break,
                        }
                    }
                    dirty = true;
                }
            }
            _ = tokio::time::sleep(wait) => {}
        }
        // A question whose asker has gone (its host cancelled or failed)
        // leaves the screen with it.
        let gone: Vec<u64> = replies
            .iter()
            .filter(|(_, tx)| tx.is_closed())
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            replies.remove(&id);
            effects.extend(app::update(&mut state, Msg::PromptGone(id)));
            dirty = true;
        }
        while let Some(eff) = effects.pop_front() {
            match eff {
                Effect::Quit => break 'main,
                Effect::Exec {
                    hosts,
                    command,
                    mut opts,
                } => {
                    let ids: Vec<_> = hosts.iter().map(|&h| HostId(h)).collect();
                    opts.log_dir = record.clone();
                    let job = engine.exec(&ids, &command, &opts);
                    effects.extend(app::update(&mut state, Msg::JobStarted(job)));
                }
                eff @ (Effect::OpenShell { .. }
                | Effect::ShellInput { .. }
                | Effect::ShellResize { .. }
                | Effect::CloseShell { .. }) => {
                    if let Some(msg) = shells.apply(&mut engine, eff) {
                        effects.extend(app::update(&mut state, msg));
                    }
                }
                Effect::Cancel(job) => engine.cancel(job),
                Effect::WatchFacts { hosts } => workflows.watch(&engine, &hosts),
                Effect::RunRecipe { name, hosts } => {
                    workflows.run_recipe(&engine, &mut state, &name, &hosts)
                }
                Effect::CancelRecipe => workflows.cancel_recipe(),
                Effect::Answer { id, answer } => {
                    if let Some(tx) = replies.remove(&id) {
                        let _ = tx.send(answer);
                    }
                }
                Effect::Save(req) => {
                    let msg = save_pane::save(&req).unwrap_or_else(|e| e.to_string());
                    effects.extend(app::update(&mut state, Msg::Status(msg)));
                }
                Effect::List {
                    pane,
                    side,
                    hosts,
                    dir,
                    request,
                } => files.list(pane, side, &hosts, dir, request),
                Effect::Complete {
                    pane,
                    side,
                    hosts,
                    partial,
                } => files.complete(pane, side, &hosts, partial),
                Effect::FileOp { side, hosts, op } => files.file_op(side, &hosts, op),
                Effect::Transfer(req) => files.transfer(req),
                Effect::TransferCtl { id, action } => files.control(id, action),
                Effect::Edit { host, path } => files.start_edit(host, path),
                Effect::RecordRun { command, hosts } => {
                    // The demo's hosts exist only in this process: nothing
                    // to select again later.
                    if let Some(path) = crate::cli::last_run::default_path()
                        && session_keys.is_empty()
                    {
                        let record = crate::cli::last_run::LastRun {
                            command,
                            hosts: hosts
                                .into_iter()
                                .filter_map(|(h, ok, outcome, digest)| {
                                    let (label, target) = ran_on.get(h)?;
                                    Some(crate::cli::last_run::HostResult {
                                        label: label.clone(),
                                        target: Some(target.clone()),
                                        ok,
                                        outcome,
                                        digest: crate::cli::last_run::output_digest(digest),
                                    })
                                })
                                .collect(),
                        };
                        if let Err(e) = record.save(&path) {
                            state.status = Some(format!(
                                "cannot keep this run's results in {}: {e}",
                                path.display()
                            ));
                        }
                    }
                }
                Effect::SaveHistory(command) => {
                    if let Some(path) = &history
                        && let Err(e) = history::append(path, &command)
                    {
                        state.status = Some(format!("history {}: {e}", path.display()));
                    }
                }
                Effect::Suspend => {
                    guard.suspend()?;
                    let size = guard.term.size()?;
                    effects.extend(app::update(
                        &mut state,
                        Msg::Resize(size.width, size.height),
                    ));
                }
            }
            dirty = true;
        }
        if state.quit {
            break;
        }
    }
    // A command still running is stopped on its hosts before we go:
    // leaving would only hang up on it, and sshd lets it run on.
    let left_running = stop_running(&mut state, &mut engine, &mut events, &mut guard).await?;
    workflows.cancel_recipe();
    // Close open shells and give them a moment to end, so recordings get
    // their last output and hosts see an orderly close.
    let mut open = shells.close_all();
    let deadline = tokio::time::Instant::now() + SHELL_CLOSE_WAIT;
    while !open.is_empty() {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(ev)) if ev.is_terminal() => open.retain(|j| *j != ev.job),
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    // Said once the terminal is back, where it stays readable.
    drop(guard);
    for line in left_running {
        eprintln!("sshdeck: {line}");
    }
    Ok(())
}

/// Stop the deck's running command on every host, showing that it is
/// being stopped, and return what to tell the user afterwards: each host
/// where it may still run, and why.
async fn stop_running(
    state: &mut AppState,
    engine: &mut Engine,
    events: &mut mpsc::Receiver<crate::engine::Event>,
    guard: &mut TerminalGuard,
) -> std::io::Result<Vec<String>> {
    let mut told = Vec::new();
    let Some(job) = state
        .deck
        .job
        .as_ref()
        .filter(|j| j.running > 0)
        .and_then(|j| j.id)
    else {
        return Ok(told);
    };
    engine.cancel(job);
    let deadline = tokio::time::Instant::now() + STOP_WAIT;
    while state.running() > 0 {
        let n = state.running();
        let status = format!(
            "quitting: stopping the command on {} (TERM, then KILL)…",
            crate::text::count(n, "host", "hosts")
        );
        state.status = Some(status);
        guard.term.draw(|f| crate::ui::render(f, state))?;
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(ev)) => {
                if let EventKind::Failed {
                    error: e @ HostError::NotStopped { .. },
                    ..
                } = &ev.kind
                {
                    told.push(crate::text::sanitize::server_text(&e.to_string()));
                }
                // Quitting: what an event would start next is not wanted.
                let _ = app::update(state, Msg::Engine(ev));
            }
            _ => break,
        }
    }
    if let Some(j) = state.deck.job.as_ref().filter(|j| j.running > 0) {
        told.push(format!(
            "no answer from {} within {}s of the stop; the command may still be running there",
            crate::text::count(j.running, "host", "hosts"),
            STOP_WAIT.as_secs()
        ));
    }
    Ok(told)
}

/// Longest quitting waits for commands to stop: TERM's and KILL's grace,
/// and a second for the hosts to answer.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Longest we wait for shells to close when quitting.
const SHELL_CLOSE_WAIT: Duration = Duration::from_millis(500);

fn term_msg(ev: TermEvent) -> Option<Msg> {
    match ev {
        TermEvent::Key(k) => Some(Msg::Key(k)),
        TermEvent::Mouse(m) => Some(Msg::Mouse(m)),
        TermEvent::Paste(p) => Some(Msg::Paste(p)),
        TermEvent::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}
