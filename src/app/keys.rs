//! Keyboard routing: which context a key is in, and the keymap's action
//! for it there. The bindings live in `keymap`; this file only routes.
//! Every dialog, picker and overlay has its context; what stays by hand
//! is text typed into an input or a filter.

use crossterm::event::KeyEvent;

use super::actions;
use super::hosts::{command, list};
use super::msg::Effect;
use super::state::{AppState, Focus, Overlay, View};
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
            return dispatch(s, Context::Palette, k).unwrap_or_else(|| {
                super::palette::on_text_key(s, k);
                Vec::new()
            });
        }
        Overlay::None => {}
    }
    // Shells take every key (Ctrl-C included) but their own few.
    if s.view == View::Shells {
        return super::shell::on_key(s, k)
            .unwrap_or_else(|ctx| dispatch(s, ctx, k).unwrap_or_default());
    }
    if s.deck.options.editing.is_some() {
        return dispatch(s, Context::Input, k).unwrap_or_else(|| {
            s.deck.options.on_text_key(k);
            Vec::new()
        });
    }
    if s.deck.history_search.is_some() {
        return dispatch(s, Context::HistorySearch, k)
            .unwrap_or_else(|| command::on_search_text(s, k));
    }
    if let Some(effects) = dispatch(s, Context::Global, k) {
        return effects;
    }
    if s.view == View::Files {
        return on_files_key(s, k);
    }
    if s.deck.input.is_some() {
        return dispatch(s, Context::Input, k).unwrap_or_else(|| list::on_line_text(s, k));
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

/// The context that has the keyboard now, dialogs and overlays included,
/// in the order `on_key` (and `update`, for prompts) routes.
pub fn context(s: &AppState) -> Context {
    if let Some(ctx) = super::prompts::context(s) {
        return ctx;
    }
    match s.overlay {
        Overlay::Help => return Context::Help,
        Overlay::Palette => return Context::Palette,
        Overlay::ConfirmQuit | Overlay::HostInfo { .. } | Overlay::None => {}
    }
    if s.view == View::Shells {
        return super::help::context(s);
    }
    if s.deck.options.editing.is_some() {
        return Context::Input;
    }
    if s.deck.history_search.is_some() {
        return Context::HistorySearch;
    }
    if s.view == View::Files {
        if let Some(ctx) = super::files::dialogs::context(s) {
            return ctx;
        }
    } else if s.deck.input.is_some() {
        return Context::Input;
    }
    super::help::context(s)
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
    if let Some(ctx) = super::files::dialogs::context(s) {
        return dispatch(s, ctx, k).unwrap_or_else(|| {
            super::files::dialogs::on_unbound_key(s, ctx, k);
            Vec::new()
        });
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

/// Keys while a prompt is up (it takes them all): its context's action,
/// or text for the field being typed.
pub fn on_prompt_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let Some(ctx) = super::prompts::context(s) else {
        return Vec::new();
    };
    dispatch(s, ctx, k).unwrap_or_else(|| {
        super::prompts::on_text_key(s, k);
        Vec::new()
    })
}
