//! What a key or a palette entry does, in one place. The keymap names an
//! action in a context; `perform` does it, whether the key was pressed or
//! the action was chosen in the palette, so the two cannot drift apart.
//! `keys.rs` only routes a key to its context.

pub mod global;

use crate::app::hosts;
use crate::app::msg::Effect;
use crate::app::palette::Choice;
use crate::app::state::{AppState, View};
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
        Context::Confirm => global::confirm_quit(s, a),
    }
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
