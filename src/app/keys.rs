//! Keyboard routing: which context a key is in, and the keymap's action
//! for it there. The bindings live in `keymap`; this file only routes.
//! Text inputs and y/n dialogs take their keys by hand.

use crossterm::event::{KeyCode, KeyEvent};
use tui_textarea::TextArea;
use zeroize::Zeroizing;

use super::actions;
use super::hosts::{command, list};
use super::msg::Effect;
use super::state::{AppState, Focus, Overlay, View};
use crate::engine::{Answer, HostKeyDecision, Question};
use crate::keymap::Context;

pub fn on_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    s.last_action = None;
    match s.overlay {
        Overlay::Help => return super::help::on_key(s, k),
        // A confirmation's keys are the keymap's; any other key is no.
        Overlay::ConfirmQuit => {
            return dispatch(s, Context::Confirm, k).unwrap_or_else(|| {
                s.overlay = Overlay::None;
                Vec::new()
            });
        }
        Overlay::HostInfo { .. } => return dispatch(s, Context::Info, k).unwrap_or_default(),
        Overlay::Palette => {
            return match super::palette::on_key(s, k) {
                Some(choice) => actions::choose(s, choice),
                None => Vec::new(),
            };
        }
        Overlay::None => {}
    }
    // Shells take every key (Ctrl-C included) but their own few.
    if s.view == View::Shells {
        return super::shell::on_key(s, k)
            .unwrap_or_else(|ctx| dispatch(s, ctx, k).unwrap_or_default());
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
    let effects = actions::perform(s, ctx, action)?;
    s.last_action = Some(action);
    Some(effects)
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
