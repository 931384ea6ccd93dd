//! The command palette (Ctrl-P, or `:` on the host list and output): one
//! fuzzy list of recipes, saved commands and actions, run by name. Its
//! actions are the keymap's (`keymap::defaults::PALETTE`): same names,
//! same help, and the same effect, since a chosen action is performed as
//! its key is (`actions::perform`).

use crossterm::event::KeyEvent;
pub mod state;

use super::state::{AppState, Overlay, fuzzy_match};
use crate::keymap::{Action as KeyAction, Context};
use state::Palette;

/// What a palette entry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Recipe(String),
    /// A saved command (its text), run on the selected hosts.
    Command(String),
    /// Sort the host list by a fact column.
    SortBy(usize),
    SortInventory,
    /// A keymap action, done as its key in that context does it.
    Key(Context, KeyAction),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaletteEntry {
    /// "recipe", "command" or "action".
    pub kind: &'static str,
    pub name: String,
    pub detail: String,
    pub choice: Choice,
}

/// Everything the palette offers, before filtering: the config's recipes
/// and saved commands, a sort for each fact column, then the keymap's
/// palette actions.
pub fn entries(s: &AppState) -> Vec<PaletteEntry> {
    let mut v = Vec::new();
    for r in &s.recipes {
        let detail = if r.description.is_empty() {
            format!("{} steps", r.steps.len())
        } else {
            format!("{} · {} steps", r.description, r.steps.len())
        };
        v.push(entry(
            "recipe",
            r.name.clone(),
            detail,
            Choice::Recipe(r.name.clone()),
        ));
    }
    for (name, cmd) in &s.commands {
        v.push(entry(
            "command",
            name.clone(),
            cmd.clone(),
            Choice::Command(cmd.clone()),
        ));
    }
    for (i, c) in s.deck.columns.iter().enumerate() {
        let name = format!("sort by {}", c.title);
        v.push(entry("action", name, c.fact.clone(), Choice::SortBy(i)));
    }
    let name = "sort by inventory order".to_string();
    v.push(entry("action", name, String::new(), Choice::SortInventory));
    for (ctx, a, help, key) in s.keymap.palette() {
        let detail = match key {
            Some(k) => format!("{help} ({k})"),
            None => help.to_string(),
        };
        let name = a.name().replace('_', " ");
        v.push(entry("action", name, detail, Choice::Key(ctx, a)));
    }
    v
}

fn entry(kind: &'static str, name: String, detail: String, choice: Choice) -> PaletteEntry {
    PaletteEntry {
        kind,
        name,
        detail,
        choice,
    }
}

/// The entries matching what is typed, best first: names matching from
/// their start, then anywhere, then matches in the detail.
pub fn filtered(s: &AppState) -> Vec<PaletteEntry> {
    let q = s.palette.input.lines().first().cloned().unwrap_or_default();
    let q = q.trim().to_lowercase();
    let mut scored: Vec<(u8, PaletteEntry)> = entries(s)
        .into_iter()
        .filter_map(|e| {
            let name = e.name.to_lowercase();
            let rank = if q.is_empty() || name.starts_with(&q) {
                0
            } else if name.contains(&q) {
                1
            } else if fuzzy_match(&q, &name) {
                2
            } else if e.detail.to_lowercase().contains(&q) {
                3
            } else {
                return None;
            };
            Some((rank, e))
        })
        .collect();
    scored.sort_by_key(|(r, _)| *r);
    scored.into_iter().map(|(_, e)| e).collect()
}

pub fn open(s: &mut AppState) {
    s.palette = Palette::default();
    s.palette
        .input
        .set_placeholder_text("recipe, saved command or action");
    s.overlay = Overlay::Palette;
}

/// The `palette` context's moves and close. Choose is the caller's
/// (`actions::perform`), which does what `take_chosen` returns.
pub fn on_action(s: &mut AppState, a: KeyAction) -> Option<Vec<super::msg::Effect>> {
    let n = filtered(s).len();
    match a {
        KeyAction::Close => s.overlay = Overlay::None,
        KeyAction::Up => s.palette.cursor = s.palette.cursor.saturating_sub(1),
        KeyAction::Down => s.palette.cursor = (s.palette.cursor + 1).min(n.saturating_sub(1)),
        _ => return None,
    }
    Some(Vec::new())
}

/// Close the palette and hand over the entry under the cursor, if any.
pub fn take_chosen(s: &mut AppState) -> Option<Choice> {
    let chosen = filtered(s).into_iter().nth(s.palette.cursor);
    s.overlay = Overlay::None;
    chosen.map(|e| e.choice)
}

/// A key the palette's context does not bind: text for the filter.
pub fn on_text_key(s: &mut AppState, k: KeyEvent) {
    s.palette.input.input(k);
    s.palette.cursor = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::actions;
    use crate::keymap::{Keymap, Override};
    use std::collections::BTreeMap;

    fn state() -> AppState {
        let rows = ["web1", "web2", "db1"]
            .iter()
            .map(|n| (n.to_string(), Vec::new()))
            .collect();
        let mut s = AppState::new(rows, BTreeMap::new(), 100);
        s.size = (100, 30);
        s
    }

    fn choose(s: &mut AppState, name: &str) {
        let e = entries(s).into_iter().find(|e| e.name == name);
        let e = e.unwrap_or_else(|| panic!("no palette entry {name:?}"));
        let _ = actions::choose(s, e.choice);
    }

    #[test]
    fn every_palette_action_is_a_keymap_binding_with_its_name_and_help() {
        let s = state();
        let km = Keymap::default();
        let actions: Vec<PaletteEntry> = entries(&s)
            .into_iter()
            .filter(|e| matches!(e.choice, Choice::Key(..)))
            .collect();
        assert_eq!(actions.len(), crate::keymap::defaults::PALETTE.len());
        for e in actions {
            let Choice::Key(ctx, a) = e.choice else {
                unreachable!()
            };
            assert_eq!(e.name, a.name().replace('_', " "));
            let b = km.bindings().iter().find(|b| b.ctx == ctx && b.action == a);
            let help = b.map(|b| b.help).unwrap_or_default();
            assert!(e.detail.starts_with(help), "{e:?}");
        }
    }

    #[test]
    fn a_rebinding_shows_in_the_palette() {
        let mut s = state();
        s.keymap = Keymap::with_overrides(&[Override {
            ctx: "main".into(),
            action: "gather".into(),
            keys: vec!["G".into()],
            at: 0,
        }])
        .unwrap_or_else(|e| panic!("{e:?}"));
        let e = entries(&s).into_iter().find(|e| e.name == "gather");
        assert!(e.is_some_and(|e| e.detail.ends_with("(G)")));
    }

    #[test]
    fn palette_actions_do_what_their_keys_do() {
        // "select all" selects the hosts shown, as `a` does, not hidden ones.
        let mut s = state();
        s.deck.filter = "web".into();
        choose(&mut s, "select all");
        let picked: Vec<bool> = s.hosts.iter().map(|h| h.selected).collect();
        assert_eq!(picked, [true, true, false]);
        // "gather" resets the gathered view's cursor, as `b` does.
        s.deck.panes.gathered_cursor = 3;
        choose(&mut s, "gather");
        assert!(s.deck.panes.gathered);
        assert_eq!(s.deck.panes.gathered_cursor, 0);
    }
}
