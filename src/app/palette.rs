//! The command palette (Ctrl-P, or `:` on the host list and output): one
//! fuzzy list of recipes, saved commands and actions, run by name.

use crossterm::event::{KeyCode, KeyEvent};
use tui_textarea::TextArea;

use super::msg::Effect;
use super::state::{AppState, Overlay, View, fuzzy_match};
use crate::keymap::{Action as KeyAction, Context};

#[derive(Default)]
pub struct Palette {
    pub input: TextArea<'static>,
    /// Index into the filtered entries.
    pub cursor: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Recipe(String),
    /// A saved command (its text), run on the selected hosts.
    Command(String),
    RefreshFacts,
    HostInfo,
    SortBy(usize),
    SortInventory,
    ShowRecipe,
    Files,
    Shells,
    SelectAll,
    SelectNone,
    Gathered,
    RerunFailed,
    Help,
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// "recipe", "command" or "action".
    pub kind: &'static str,
    pub name: String,
    pub detail: String,
    pub action: Action,
}

/// Everything the palette offers, before filtering.
pub fn entries(s: &AppState) -> Vec<Entry> {
    let mut v = Vec::new();
    for r in &s.recipes {
        let detail = if r.description.is_empty() {
            format!("{} steps", r.steps.len())
        } else {
            format!("{} · {} steps", r.description, r.steps.len())
        };
        v.push(Entry {
            kind: "recipe",
            name: r.name.clone(),
            detail,
            action: Action::Recipe(r.name.clone()),
        });
    }
    for (name, cmd) in &s.commands {
        v.push(Entry {
            kind: "command",
            name: name.clone(),
            detail: cmd.clone(),
            action: Action::Command(cmd.clone()),
        });
    }
    // The keys named in details come from the keymap, so a rebinding
    // shows here too.
    let key = |ctx: Context, a: KeyAction, what: &str| match s.keymap.first_key(ctx, a) {
        Some(k) if what.is_empty() => format!("({k})"),
        Some(k) => format!("{what} ({k})"),
        None => what.to_string(),
    };
    let mut action = |name: &str, detail: String, action: Action| {
        v.push(Entry {
            kind: "action",
            name: name.into(),
            detail,
            action,
        })
    };
    if s.deck.job.is_some() {
        action(
            "rerun on failed",
            key(
                Context::Main,
                KeyAction::RerunFailed,
                "the last command again, on the hosts where it failed",
            ),
            Action::RerunFailed,
        );
    }
    action(
        "collect facts",
        key(
            Context::Hosts,
            KeyAction::Facts,
            "on the selected hosts, now",
        ),
        Action::RefreshFacts,
    );
    action(
        "host info",
        key(
            Context::Hosts,
            KeyAction::Info,
            "every fact of the host under the cursor",
        ),
        Action::HostInfo,
    );
    for (i, c) in s.deck.columns.iter().enumerate() {
        action(
            &format!("sort by {}", c.title),
            c.fact.clone(),
            Action::SortBy(i),
        );
    }
    action(
        "sort by inventory order",
        String::new(),
        Action::SortInventory,
    );
    if s.recipe.is_some() {
        action(
            "recipe progress",
            key(
                Context::Main,
                KeyAction::RecipeView,
                "show the last recipe run",
            ),
            Action::ShowRecipe,
        );
    }
    action(
        "files",
        key(
            Context::Global,
            KeyAction::ToggleFiles,
            "the SFTP file browser",
        ),
        Action::Files,
    );
    action(
        "shells",
        key(
            Context::Global,
            KeyAction::Shells,
            "shells on the selected hosts",
        ),
        Action::Shells,
    );
    action(
        "select all",
        key(Context::Hosts, KeyAction::SelectAll, ""),
        Action::SelectAll,
    );
    action(
        "select none",
        key(Context::Hosts, KeyAction::SelectNone, ""),
        Action::SelectNone,
    );
    action(
        "gathered view",
        key(Context::Main, KeyAction::Gather, "hosts grouped by output"),
        Action::Gathered,
    );
    action(
        "help",
        key(Context::Main, KeyAction::Help, "every key"),
        Action::Help,
    );
    action(
        "quit",
        key(Context::Main, KeyAction::Quit, ""),
        Action::Quit,
    );
    v
}

/// The entries matching what is typed, best first: names matching from
/// their start, then anywhere, then matches in the detail.
pub fn filtered(s: &AppState) -> Vec<Entry> {
    let q = s.palette.input.lines().first().cloned().unwrap_or_default();
    let q = q.trim().to_lowercase();
    let mut scored: Vec<(u8, Entry)> = entries(s)
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

pub fn on_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let n = filtered(s).len();
    match k.code {
        KeyCode::Esc => s.overlay = Overlay::None,
        KeyCode::Up => s.palette.cursor = s.palette.cursor.saturating_sub(1),
        KeyCode::Down | KeyCode::Tab => {
            s.palette.cursor = (s.palette.cursor + 1).min(n.saturating_sub(1))
        }
        KeyCode::Enter => {
            let chosen = filtered(s).into_iter().nth(s.palette.cursor);
            s.overlay = Overlay::None;
            if let Some(e) = chosen {
                return run(s, e.action);
            }
        }
        _ => {
            s.palette.input.input(k);
            s.palette.cursor = 0;
        }
    }
    Vec::new()
}

fn run(s: &mut AppState, a: Action) -> Vec<Effect> {
    match a {
        Action::Recipe(name) => super::recipe::start(s, &name),
        Action::Command(cmd) => super::keys::run_text(s, &cmd),
        Action::RefreshFacts => {
            let hosts = s.selected();
            super::facts::refresh(s, hosts)
        }
        Action::HostInfo => {
            super::keys::open_host_info(s);
            Vec::new()
        }
        Action::SortBy(i) => {
            super::facts::sort_by(s, i);
            Vec::new()
        }
        Action::SortInventory => {
            s.deck.sort = super::state::Sort::Inventory;
            s.status = Some("hosts in inventory order".into());
            Vec::new()
        }
        Action::ShowRecipe => {
            if let Some(r) = s.recipe.as_mut() {
                r.show = true;
            }
            Vec::new()
        }
        Action::Files => {
            if s.view == View::Files {
                Vec::new()
            } else {
                s.view = View::Deck;
                super::keys::toggle_view(s)
            }
        }
        Action::Shells => super::shell::enter(s),
        Action::SelectAll => {
            s.hosts.iter_mut().for_each(|h| h.selected = true);
            Vec::new()
        }
        Action::SelectNone => {
            s.hosts.iter_mut().for_each(|h| h.selected = false);
            Vec::new()
        }
        Action::Gathered => {
            s.view = View::Deck;
            s.deck.panes.gathered = !s.deck.panes.gathered;
            Vec::new()
        }
        Action::Help => {
            super::help::open(s);
            Vec::new()
        }
        Action::RerunFailed => super::keys::rerun_failed(s),
        Action::Quit => super::keys::quit(s),
    }
}
