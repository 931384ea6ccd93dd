//! Keyboard routing: which context a key is in, and the keymap's action
//! for it there. The bindings live in `keymap`; this file only routes.
//! Text inputs and y/n dialogs take their keys by hand.

use crossterm::event::{KeyCode, KeyEvent};
use tui_textarea::TextArea;
use zeroize::Zeroizing;

use super::hosts::{command, list, output};
use super::msg::Effect;
use super::state::{AppState, Focus, Job, Overlay, RunResult, View};
use crate::engine::{Answer, HostKeyDecision, Question};
use crate::keymap::{Action, Context};

pub use super::hosts::command::run_text;
pub use super::hosts::list::open_host_info;
pub use super::hosts::output::scroll;

pub fn on_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    s.last_action = None;
    match s.overlay {
        Overlay::Help => return super::help::on_key(s, k),
        Overlay::ConfirmQuit => {
            return match k.code {
                KeyCode::Char('y') | KeyCode::Enter => {
                    s.quit = true;
                    vec![Effect::Quit]
                }
                _ => {
                    s.overlay = Overlay::None;
                    Vec::new()
                }
            };
        }
        Overlay::HostInfo { .. } => return dispatch(s, Context::Info, k).unwrap_or_default(),
        Overlay::Palette => return super::palette::on_key(s, k),
        Overlay::None => {}
    }
    // Shells take every key (Ctrl-C included) but their own few.
    if s.view == View::Shells {
        return super::shell::on_key(s, k);
    }
    if s.deck.options.editing.is_some() {
        s.deck.options.on_key(k);
        return Vec::new();
    }
    if s.deck.history_search.is_some() {
        return command::on_search_key(s, k);
    }
    if let Some(effects) = dispatch(s, Context::Global, k) {
        return effects;
    }
    if s.view == View::Files {
        return on_files_key(s, k);
    }
    if s.deck.input.is_some() {
        return list::on_line_input(s, k);
    }
    if s.focus == Focus::Command {
        return dispatch(s, Context::Command, k).unwrap_or_else(|| {
            s.deck.command.input(k);
            Vec::new()
        });
    }
    let here = super::help::context(s);
    dispatch(s, here, k)
        .or_else(|| dispatch(s, Context::Main, k))
        .unwrap_or_default()
}

/// The keymap's action for `k` in `ctx`, done. None when the key is not
/// bound there, or the action does not apply right now (Up in a command
/// pane off its first line moves the cursor instead).
pub(super) fn dispatch(s: &mut AppState, ctx: Context, k: KeyEvent) -> Option<Vec<Effect>> {
    let action = s.keymap.lookup(ctx, &k)?;
    let effects = perform(s, ctx, action)?;
    s.last_action = Some(action);
    Some(effects)
}

fn perform(s: &mut AppState, ctx: Context, a: Action) -> Option<Vec<Effect>> {
    match ctx {
        Context::Global | Context::Main => main_action(s, a),
        Context::Hosts => list::on_action(s, a),
        Context::Command => command::on_action(s, a),
        Context::Output => output::on_action(s, a),
        Context::Gathered => super::gather::on_action(s, a),
        Context::Recipe => super::recipe::on_action(s, a),
        Context::Info => super::facts::on_info_action(s, a),
        Context::Files => super::files::keys::on_action(s, a),
        Context::Transfers => super::files::keys::on_transfers_action(s, a),
        Context::Shells => super::shell::on_action(s, a),
    }
}

/// Actions of the whole app (Global) and of the Hosts tab (Main).
fn main_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let effects = match a {
        Action::Help => {
            super::help::open(s);
            Vec::new()
        }
        Action::Quit => quit(s),
        Action::Cancel => cancel(s),
        Action::Palette => {
            super::palette::open(s);
            Vec::new()
        }
        Action::ToggleFiles => toggle_view(s),
        Action::Shells => {
            s.files.dialog = None;
            super::shell::enter(s)
        }
        Action::Suspend => vec![Effect::Suspend],
        Action::FocusNext => {
            // Zoom belongs to the output area: leaving it ends zoom.
            s.deck.panes.zoomed = false;
            s.focus = match s.focus {
                Focus::Hosts => Focus::Output,
                Focus::Output => Focus::Command,
                Focus::Command => Focus::Hosts,
            };
            Vec::new()
        }
        Action::FocusPrev => {
            s.deck.panes.zoomed = false;
            s.focus = match s.focus {
                Focus::Hosts => Focus::Command,
                Focus::Output => Focus::Hosts,
                Focus::Command => Focus::Output,
            };
            Vec::new()
        }
        Action::RecipeView => {
            match s.recipe.as_mut() {
                Some(r) => {
                    r.show = !r.show;
                    if r.show {
                        s.focus = Focus::Output;
                    }
                }
                None => {
                    s.status = Some(format!(
                        "no recipe has run yet: the palette ({}) starts one",
                        super::help::key_name(s, Context::Main, Action::Palette)
                    ))
                }
            }
            Vec::new()
        }
        Action::Gather => {
            s.deck.panes.gathered = !s.deck.panes.gathered;
            s.deck.panes.gathered_cursor = 0;
            s.deck.panes.show_diff = false;
            // Focus follows the view: its keys (o: outliers) work at once.
            if s.deck.panes.gathered {
                s.focus = Focus::Output;
            }
            Vec::new()
        }
        Action::RerunFailed => rerun_failed(s),
        _ => return None,
    };
    Some(effects)
}

/// The hosts where the last command did not exit 0: a non-zero status, a
/// signal, a timeout, or no connection.
pub fn failed_hosts(s: &AppState) -> Vec<usize> {
    let Some(job) = &s.deck.job else {
        return Vec::new();
    };
    job.targets
        .iter()
        .copied()
        .filter(|&h| match s.hosts[h].last.as_ref().map(|l| &l.result) {
            Some(RunResult::Exit(st)) => !st.success(),
            Some(RunResult::Failed { .. }) => true,
            Some(RunResult::Running) | None => false,
        })
        .collect()
}

/// `R`: the last command again, on exactly the hosts where it failed.
pub fn rerun_failed(s: &mut AppState) -> Vec<Effect> {
    let Some(job) = &s.deck.job else {
        s.status = Some("nothing has run yet".into());
        return Vec::new();
    };
    let command = job.command.clone();
    if s.running() > 0 {
        s.status = Some(format!(
            "the command is still running: wait, or {} to cancel it",
            super::help::key_name(s, Context::Global, Action::Cancel)
        ));
        return Vec::new();
    }
    let failed = failed_hosts(s);
    if failed.is_empty() {
        s.status = Some("no host failed the last command".into());
        return Vec::new();
    }
    command::run_on(s, &failed, &command)
}

/// F2: between the hosts/output tab and the files tab.
pub fn toggle_view(s: &mut AppState) -> Vec<Effect> {
    s.deck.input = None;
    match s.view {
        View::Deck => {
            s.view = View::Files;
            super::files::on_open(s)
        }
        View::Files | View::Shells => {
            s.view = View::Deck;
            s.files.dialog = None;
            Vec::new()
        }
    }
}

/// The files tab: its dialogs take every key; otherwise the transfers
/// panel's or the file panes' bindings.
fn on_files_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    if s.files.dialog.is_some() {
        return super::files::keys::on_dialog_key(s, k);
    }
    let ctx = if s.files.transfers_focused {
        Context::Transfers
    } else {
        Context::Files
    };
    dispatch(s, ctx, k).unwrap_or_default()
}

pub fn quit(s: &mut AppState) -> Vec<Effect> {
    if s.running() > 0 || s.files.active_transfers() > 0 || super::shell::live(s) > 0 {
        s.overlay = Overlay::ConfirmQuit;
        Vec::new()
    } else {
        s.quit = true;
        vec![Effect::Quit]
    }
}

fn cancel(s: &mut AppState) -> Vec<Effect> {
    match s.deck.job.as_ref() {
        Some(Job {
            id: Some(id),
            running,
            ..
        }) if *running > 0 => vec![Effect::Cancel(*id)],
        _ => {
            s.status = Some("nothing is running".into());
            Vec::new()
        }
    }
}

pub fn on_paste(s: &mut AppState, text: &str) {
    if let Some(p) = s.prompts.front_mut() {
        if let Some(input) = p.inputs.get_mut(p.active) {
            input.insert_str(text.trim_end_matches(['\n', '\r']));
        }
        return;
    }
    if let Some((_, area)) = s.deck.input.as_mut() {
        area.insert_str(text.lines().next().unwrap_or(""));
        return;
    }
    if s.focus == Focus::Command {
        s.deck.command.insert_str(text);
    }
}

/// Keys while a dialog is up: it takes them all.
pub fn on_prompt_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let Some(p) = s.prompts.front_mut() else {
        return Vec::new();
    };
    let answer = match &p.question {
        Question::HostKey { .. } => match k.code {
            KeyCode::Char('o') => Some(Answer::HostKey(HostKeyDecision::AcceptOnce)),
            KeyCode::Char('s') => Some(Answer::HostKey(HostKeyDecision::AcceptAndSave)),
            KeyCode::Char('r') | KeyCode::Esc => Some(Answer::HostKey(HostKeyDecision::Reject)),
            _ => None,
        },
        _ => match k.code {
            KeyCode::Esc => Some(Answer::Cancel),
            KeyCode::Enter | KeyCode::Tab if p.active + 1 < p.inputs.len() => {
                p.active += 1;
                None
            }
            KeyCode::Enter => {
                let secrets: Vec<Zeroizing<String>> = p
                    .inputs
                    .iter_mut()
                    .map(|t| {
                        let s = Zeroizing::new(t.lines().join(""));
                        // Clear the widget's copy right away.
                        *t = TextArea::default();
                        s
                    })
                    .collect();
                Some(match &p.question {
                    Question::KeyboardInteractive { .. } => Answer::Secrets(secrets),
                    _ => Answer::Secret(secrets.into_iter().next().unwrap_or_default()),
                })
            }
            _ => {
                if let Some(input) = p.inputs.get_mut(p.active) {
                    input.input(k);
                }
                None
            }
        },
    };
    let Some(answer) = answer else {
        return Vec::new();
    };
    let Some(p) = s.prompts.pop_front() else {
        return Vec::new();
    };
    if !s.prompts.iter().any(|_| true) {
        for h in &mut s.hosts {
            h.auth_needed = false;
        }
    }
    vec![Effect::Answer { id: p.id, answer }]
}
