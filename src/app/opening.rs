//! The state the TUI opens with: the hosts and their groups, where each
//! comes from, the config's columns, recipes, commands and keymap, and
//! what was selected on the command line. Built here, in the app, so the
//! runner never writes state; what the opening has to say (a clash of
//! group names, an unreadable history) goes through `update` as
//! `Msg::Status`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::state::{AppState, Column};
use crate::keymap::Keymap;

/// Everything the app state is opened from.
pub struct Opening {
    /// Each host's label and tags, in the host list's order.
    pub rows: Vec<(String, Vec<String>)>,
    /// For each host, where the inventory names it: (what, "FILE:LINE").
    pub origins: Vec<Vec<(String, String)>>,
    pub groups: BTreeMap<String, String>,
    pub scrollback: usize,
    pub columns: Vec<Column>,
    pub recipes: Vec<crate::engine::recipe::Recipe>,
    pub commands: Vec<(String, String)>,
    pub keymap: Keymap,
    /// Commands saved by earlier runs, oldest first.
    pub history: Vec<String>,
    /// The config's `command_timeout`: the Ctrl-O timeout starts there.
    pub command_timeout: Option<Duration>,
    /// Whether facts collectors are configured.
    pub facts_enabled: bool,
    /// Every host's facts are collected from the start.
    pub facts_on_start: bool,
    /// Hosts selected at start (a selector on the command line).
    pub preselect: Vec<usize>,
    /// The terminal's size.
    pub size: (u16, u16),
    /// The session's name, when a session server opens it.
    pub session: Option<String>,
}

/// The app state an `Opening` describes.
pub fn open(o: Opening) -> AppState {
    let mut state = AppState::new(o.rows, o.groups, o.scrollback);
    for (row, origin) in state.hosts.iter_mut().zip(o.origins) {
        row.origin = origin;
    }
    state.facts_enabled = o.facts_enabled;
    state.deck.columns = o.columns;
    state.recipes = o.recipes;
    state.commands = o.commands;
    state.keymap = o.keymap;
    state.session = o.session;
    state.deck.history = o.history;
    if let Some(t) = o.command_timeout {
        state.deck.options.timeout = format!("{}", t.as_secs_f64());
    }
    if o.facts_on_start && o.facts_enabled {
        for h in &mut state.hosts {
            h.facts_watched = true;
        }
    }
    for i in o.preselect {
        if let Some(h) = state.hosts.get_mut(i) {
            h.selected = true;
        }
    }
    state.size = o.size;
    state
}
