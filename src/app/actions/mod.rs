//! What a key or a palette entry does, in one place. The keymap names an
//! action in a context; `perform` does it, whether the key was pressed or
//! the action was chosen in the palette, so the two cannot drift apart.
//! `keys.rs` only routes a key to its context.

pub mod detach;
pub mod global;

use crate::app::hosts;
use crate::app::msg::Effect;
use crate::app::palette::Choice;
use crate::app::state::{AppState, Overlay, View};
use crate::keymap::{Action, Context};

/// Do `a` as its key in `ctx` would. None when the action does not apply
/// there right now.
pub fn perform(s: &mut AppState, ctx: Context, a: Action) -> Option<Vec<Effect>> {
    match ctx {
        Context::Global | Context::Main => global::main_action(s, a),
        Context::Hosts => hosts::list::on_action(s, a),
        Context::Command => hosts::command::on_action(s, a),
        Context::Output => hosts::output::on_action(s, a),
        Context::Gathered => crate::app::gather::on_action(s, a),
        Context::Recipe => crate::app::recipe::on_action(s, a),
        Context::Info => crate::app::facts::on_info_action(s, a),
        Context::Files => crate::app::files::keys::on_action(s, a),
        Context::Transfers => crate::app::files::keys::on_transfers_action(s, a),
        Context::Shells => crate::app::shell::on_action(s, a),
        Context::Confirm if s.overlay == Overlay::ConfirmQuit => global::confirm_quit(s, a),
        Context::Confirm | Context::Conflict | Context::Picker => {
            crate::app::files::dialogs::on_action(s, a)
        }
        Context::Input => input_action(s, a),
        Context::Help => crate::app::help::on_action(s, a),
        Context::HostKey => crate::app::prompts::on_action(s, a),
        Context::Palette if a == Action::Choose => {
            let chosen = crate::app::palette::take_chosen(s);
            Some(chosen.map(|c| choose(s, c)).unwrap_or_default())
        }
        Context::Palette => crate::app::palette::on_action(s, a),
        Context::HistorySearch => hosts::command::on_search_action(s, a),
    }
}

/// The `input` context's action, for the input that has the keys: a
/// prompt first, then the options form, a files-tab input, a Hosts-tab
/// one (the order `keys::on_key` routes in).
fn input_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    if !s.prompts.is_empty() {
        return crate::app::prompts::on_action(s, a);
    }
    if s.deck.options.editing.is_some() {
        return s.deck.options.on_action(a).then(Vec::new);
    }
    if s.view == View::Files && s.files.dialog.is_some() {
        return crate::app::files::dialogs::on_action(s, a);
    }
    hosts::list::on_input_action(s, a)
}

/// Do what a palette entry names.
pub fn choose(s: &mut AppState, c: Choice) -> Vec<Effect> {
    match c {
        Choice::Recipe(name) => crate::app::recipe::start(s, &name),
        Choice::Command(cmd) => hosts::command::run_text(s, &cmd),
        Choice::SortBy(i) => {
            crate::app::facts::sort_by(s, i);
            Vec::new()
        }
        Choice::SortInventory => {
            s.deck.sort = crate::app::state::Sort::Inventory;
            s.status = Some("hosts in inventory order".into());
            Vec::new()
        }
        Choice::Key(ctx, a) => {
            // An action of the Hosts tab is done there, as its key would be.
            if on_hosts_tab(ctx) && s.view != View::Deck {
                s.view = View::Deck;
                s.files.dialog = None;
            }
            perform(s, ctx, a).unwrap_or_else(|| {
                // Named as the palette lists it.
                let name = a.name().replace('_', " ");
                s.status = Some(format!("{name} does nothing here"));
                Vec::new()
            })
        }
    }
}

fn on_hosts_tab(ctx: Context) -> bool {
    matches!(
        ctx,
        Context::Main
            | Context::Hosts
            | Context::Command
            | Context::Output
            | Context::Gathered
            | Context::Recipe
    )
}
