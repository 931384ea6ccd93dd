//! Leaving the TUI: a command still running is stopped on its hosts
//! (leaving would only hang up on it, and sshd lets it run on), recipes
//! are cancelled, and open shells are closed in order so recordings get
//! their last output. What may still run is said once the terminal is
//! back, where it stays readable.

use std::time::Duration;

use tokio::sync::mpsc;

use super::effects::EffectRunner;
use super::terminal::TerminalGuard;
use crate::app::{self, AppState, Msg};
use crate::engine::event::EventKind;
use crate::engine::{Engine, Event, HostError};

/// Longest quitting waits for commands to stop: TERM's and KILL's grace,
/// and a second for the hosts to answer.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Longest we wait for shells to close when quitting.
const SHELL_CLOSE_WAIT: Duration = Duration::from_millis(500);

/// Stop what runs, close the shells, restore the terminal, and tell the
/// user where a command may still run.
pub async fn leave(
    mut state: AppState,
    mut runner: EffectRunner,
    events: &mut mpsc::Receiver<Event>,
    mut guard: TerminalGuard,
) -> std::io::Result<()> {
    let mut draw = |s: &AppState| guard.term.draw(|f| crate::ui::render(f, s)).map(|_| ());
    let left_running = stop_running(&mut state, &mut runner.engine, events, &mut draw).await?;
    close_workflows_and_shells(&mut runner, events).await;
    drop(guard);
    for line in left_running {
        eprintln!("sshdeck: {line}");
    }
    Ok(())
}

/// A session server's end (quit from a client, or `kill-session`): what
/// runs is stopped on the hosts, shown to the clients by `draw`, and the
/// shells closed, as when the TUI quits. Returns what to tell them: each
/// host where the command may still run.
pub async fn end_session(
    mut state: AppState,
    mut runner: EffectRunner,
    events: &mut mpsc::Receiver<Event>,
    draw: &mut impl FnMut(&AppState),
) -> Vec<String> {
    let mut draw = |s: &AppState| {
        draw(s);
        Ok(())
    };
    let left = stop_running(&mut state, &mut runner.engine, events, &mut draw)
        .await
        .unwrap_or_default();
    close_workflows_and_shells(&mut runner, events).await;
    left
}

/// Cancel a running recipe and close the shells, waiting a little for
/// them to go (never more than `SHELL_CLOSE_WAIT`).
async fn close_workflows_and_shells(runner: &mut EffectRunner, events: &mut mpsc::Receiver<Event>) {
    runner.workflows.cancel_recipe();
    let mut open = runner.shells.close_all();
    let deadline = tokio::time::Instant::now() + SHELL_CLOSE_WAIT;
    while !open.is_empty() {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(ev)) if ev.is_terminal() => open.retain(|j| *j != ev.job),
            Ok(Some(_)) => {}
            _ => break,
        }
    }
}

/// Stop the deck's running command on every host, showing that it is
/// being stopped, and return what to tell the user afterwards: each host
/// where it may still run, and why.
async fn stop_running(
    state: &mut AppState,
    engine: &mut Engine,
    events: &mut mpsc::Receiver<Event>,
    draw: &mut impl FnMut(&AppState) -> std::io::Result<()>,
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
        let status = format!(
            "quitting: stopping the command on {} (TERM, then KILL)…",
            crate::text::count(state.running(), "host", "hosts")
        );
        let _ = app::update(state, Msg::Status(status));
        draw(state)?;
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
