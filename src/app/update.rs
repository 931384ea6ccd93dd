//! The pure update: `update(state, msg) -> effects`. No IO happens here, so
//! every behaviour can be tested by feeding messages and reading state.

use crate::text::sanitize::clean;
use crossterm::event::KeyEvent;

use super::files;
use super::keys;
use super::mouse;
use super::msg::{Effect, Msg};
use super::shell;
use super::state::{AppState, HostState, LastRun, Overlay, PromptView, View};
use crate::engine::{Event, EventKind, HostError, HostOutcome, Question};
use crate::keymap::{Action, Context};

#[must_use = "the runner must apply every effect: a dropped one is a shell never told its size, a job never started"]
pub fn update(s: &mut AppState, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Engine(ev) => {
            let mut effects = match ev.kind {
                EventKind::Connected => super::facts::on_connected(s, ev.host.0),
                _ => Vec::new(),
            };
            let was_running = s.running();
            on_engine(s, ev);
            // The command just ended everywhere: keep its results, so
            // `sshdeck run --hosts-from-last` can act on the TUI's runs too.
            if was_running > 0 && s.running() == 0 {
                effects.extend(record_run(s));
            }
            effects
        }
        Msg::Facts(report) => {
            super::facts::on_report(s, report);
            Vec::new()
        }
        Msg::Recipe(ev) => {
            super::recipe::on_event(s, ev);
            Vec::new()
        }
        Msg::Prompt { id, question } => {
            on_prompt(s, id, question);
            Vec::new()
        }
        Msg::PromptGone(id) => {
            on_prompt_gone(s, id);
            Vec::new()
        }
        Msg::JobStarted(id) => {
            if let Some(job) = s.deck.job.as_mut() {
                job.id = Some(id);
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            s.size = (w, h);
            shell::sync(s)
        }
        Msg::Status(m) => {
            s.status = Some(m);
            Vec::new()
        }
        Msg::Key(k) => on_key(s, k),
        Msg::Mouse(m) => mouse::on_mouse(s, m),
        Msg::Paste(text) if s.view == View::Shells && s.prompts.is_empty() => {
            shell::on_paste(s, &text)
        }
        Msg::Paste(text) => {
            keys::on_paste(s, &text);
            Vec::new()
        }
        Msg::Listed {
            pane,
            request,
            result,
        } => {
            files::on_listed(s, pane, request, result);
            Vec::new()
        }
        Msg::Completions { pane, candidates } => {
            files::dialogs::on_completions(s, pane, candidates);
            Vec::new()
        }
        Msg::FileOpDone { message } => {
            s.status = Some(message);
            files::refresh_all(s)
        }
        Msg::Transfer(view) => files::on_transfer(s, view),
        Msg::ShellStarted { id, job } => {
            shell::on_started(s, id, job);
            Vec::new()
        }
    }
}

fn on_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    if k.kind != crossterm::event::KeyEventKind::Press {
        return Vec::new();
    }
    // Ctrl-Z suspends (dialogs come back after resume), except in shells,
    // where it is the hosts' job control; Ctrl-] Ctrl-Z suspends there.
    let in_shells = s.view == View::Shells && s.overlay == Overlay::None;
    if !in_shells && s.keymap.lookup(Context::Global, &k) == Some(Action::Suspend) {
        s.last_action = Some(Action::Suspend);
        return vec![Effect::Suspend];
    }
    if !s.prompts.is_empty() {
        return keys::on_prompt_key(s, k);
    }
    keys::on_key(s, k)
}

fn on_engine(s: &mut AppState, ev: Event) {
    let h = ev.host.0;
    if h >= s.hosts.len() {
        return;
    }
    if shell::on_event(s, &ev) {
        if let EventKind::Failed { error, .. } = &ev.kind
            && is_connection_failure(error)
        {
            s.hosts[h].state = HostState::Failed(clean(&error.to_string()));
        }
        return;
    }
    let current = s.deck.job.as_ref().and_then(|j| j.id) == Some(ev.job);
    match ev.kind {
        EventKind::Connecting => s.hosts[h].state = HostState::Connecting,
        EventKind::Connected => s.hosts[h].state = HostState::Connected,
        EventKind::Disconnected => s.hosts[h].state = HostState::Disconnected,
        EventKind::Stdout(d) => s.outputs[h].push(false, &d),
        EventKind::Stderr(d) => s.outputs[h].push(true, &d),
        EventKind::Warning(w) => s.status = Some(format!("{}: {}", s.hosts[h].label, clean(&w))),
        EventKind::Exit { status, elapsed } => {
            s.outputs[h].finish();
            s.hosts[h].last = Some(LastRun {
                outcome: Some(HostOutcome::Exit(status.cleaned())),
                elapsed: Some(elapsed),
            });
            finished(s, current);
        }
        EventKind::Failed { error, elapsed } => {
            s.outputs[h].finish();
            // Errors can quote what a host said: the host's state keeps it
            // cleaned, and the outcome's cause is cleaned where it is drawn.
            if is_connection_failure(&error) {
                s.hosts[h].state = HostState::Failed(clean(&error.to_string()));
            }
            s.hosts[h].last = Some(LastRun {
                outcome: Some(HostOutcome::from(&error)),
                elapsed: Some(elapsed),
            });
            finished(s, current);
        }
    }
}

/// The last command's per-host results, for the run record.
fn record_run(s: &AppState) -> Option<Effect> {
    let job = s.deck.job.as_ref()?;
    let hosts = job
        .targets
        .iter()
        .map(|&h| {
            let outcome = s.hosts[h].last.as_ref().and_then(|l| l.outcome.clone());
            (h, outcome, s.outputs[h].digests())
        })
        .collect();
    // A leading space kept the command out of the history; its text stays
    // out of the record too (only which hosts failed is kept).
    let command = if job.command.starts_with(' ') {
        "(a command typed with a leading space)".to_string()
    } else {
        job.command.clone()
    };
    Some(Effect::RecordRun { command, hosts })
}

fn finished(s: &mut AppState, current: bool) {
    if current && let Some(job) = s.deck.job.as_mut() {
        job.running = job.running.saturating_sub(1);
    }
}

/// Failures that say something about the host's connection, as opposed to
/// the command (timeout, cancel) on a healthy connection.
fn is_connection_failure(e: &HostError) -> bool {
    !matches!(
        e,
        HostError::CommandTimeout { .. }
            | HostError::Cancelled
            | HostError::NotStopped { .. }
            | HostError::NoExitStatus
    )
}

fn on_prompt_gone(s: &mut AppState, id: u64) {
    let Some(at) = s.prompts.iter().position(|p| p.id == id) else {
        return;
    };
    if let Some(p) = s.prompts.remove(at) {
        let who = match &p.question {
            Question::HostKey { host, .. }
            | Question::Password { host, .. }
            | Question::KeyboardInteractive { host, .. } => host.clone(),
            Question::Passphrase { key, .. } => key.display().to_string(),
            Question::Secret { name, .. } => format!("secret {name:?}"),
        };
        s.status = Some(format!(
            "the question for {} was withdrawn: nothing waits for it any more",
            crate::text::sanitize::server_text(&who)
        ));
    }
}

fn on_prompt(s: &mut AppState, id: u64, question: Question) {
    let (inputs, who) = match &question {
        Question::HostKey { host, .. } => (0, host.clone()),
        Question::Passphrase { .. } => (1, String::new()),
        Question::Password { host, .. } => (1, host.clone()),
        Question::KeyboardInteractive { host, prompts, .. } => (prompts.len().max(1), host.clone()),
        // Not about logging in: the host list keeps its state.
        Question::Secret { .. } => (1, String::new()),
    };
    for row in &mut s.hosts {
        if !who.is_empty() && (row.label == who || who.contains(&row.label)) {
            row.auth_needed = true;
        }
    }
    let inputs = (0..inputs)
        .map(|_| {
            let mut t = tui_textarea::TextArea::default();
            t.set_mask_char('•');
            t
        })
        .collect();
    s.prompts.push_back(PromptView {
        id,
        question,
        inputs,
        active: 0,
    });
}
