//! The command pane's actions: run on the selected hosts, history (Up,
//! Down and Ctrl-R search), options, leaving the pane.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::history_search::HistorySearch;
use crate::app::help::key_name;
use crate::app::msg::Effect;
use crate::app::state::{AppState, Focus, Job, LastRun, new_command_area};
use crate::keymap::{Action, Context};

pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    match a {
        Action::Run => return Some(run_command(s)),
        Action::Newline => s.deck.command.insert_newline(),
        Action::Options => {
            s.deck.options.open();
        }
        Action::Leave => s.focus = Focus::Hosts,
        Action::FocusNext => s.focus = Focus::Hosts,
        Action::FocusPrev => s.focus = Focus::Output,
        // On the first line only: elsewhere Up moves the cursor.
        Action::HistoryPrev if s.deck.command.cursor().0 == 0 && !s.deck.history.is_empty() => {
            let pos = match s.deck.history_pos {
                None => s.deck.history.len() - 1,
                Some(p) => p.saturating_sub(1),
            };
            s.deck.history_pos = Some(pos);
            set_command(s, &s.deck.history[pos].clone());
        }
        Action::HistoryNext
            if s.deck.command.cursor().0 + 1 >= s.deck.command.lines().len()
                && s.deck.history_pos.is_some() =>
        {
            match s.deck.history_pos {
                Some(p) if p + 1 < s.deck.history.len() => {
                    s.deck.history_pos = Some(p + 1);
                    set_command(s, &s.deck.history[p + 1].clone());
                }
                _ => {
                    s.deck.history_pos = None;
                    set_command(s, "");
                }
            }
        }
        Action::HistorySearch => {
            s.deck.history_search = Some(HistorySearch {
                original: s.deck.command.lines().join("\n"),
                ..Default::default()
            });
            if s.deck.history.is_empty() {
                s.status = Some("no history yet: commands you run are kept".into());
            }
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// The newest entry before `before` that contains `query`.
fn find(history: &[String], query: &str, before: usize) -> Option<usize> {
    let q = query.to_lowercase();
    (0..before.min(history.len()))
        .rev()
        .find(|&i| history[i].to_lowercase().contains(&q))
}

/// Keys while Ctrl-R is searching: type to search, Ctrl-R for an older
/// match, Enter runs the match, Esc or arrows keep it to edit, Ctrl-G
/// gives up.
/// A key the `history_search` context does not bind: text for the query.
pub fn on_search_text(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let Some(mut search) = s.deck.history_search.take() else {
        return Vec::new();
    };
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match k.code {
        KeyCode::Backspace => {
            search.query.pop();
        }
        KeyCode::Char(c) if !ctrl => search.query.push(c),
        _ => {
            s.deck.history_search = Some(search);
            return Vec::new();
        }
    }
    search.hit = find(&s.deck.history, &search.query, s.deck.history.len());
    show_hit(s, search);
    Vec::new()
}

/// The `history_search` context: an older match, run it, keep it to
/// edit, or go back to the command as it was.
pub fn on_search_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let mut search = s.deck.history_search.take()?;
    match a {
        Action::Older => {
            let before = search.hit.unwrap_or(s.deck.history.len());
            match find(&s.deck.history, &search.query, before) {
                Some(i) => search.hit = Some(i),
                None => s.status = Some(format!("no older command contains {:?}", search.query)),
            }
            show_hit(s, search);
        }
        Action::Cancel => set_command(s, &search.original),
        Action::Run => {
            if let Some(i) = search.hit {
                set_command(s, &s.deck.history[i].clone());
                return Some(run_command(s));
            }
            set_command(s, &search.original);
        }
        Action::Keep => match search.hit {
            Some(i) => set_command(s, &s.deck.history[i].clone()),
            None => set_command(s, &search.original),
        },
        _ => {
            s.deck.history_search = Some(search);
            return None;
        }
    }
    Some(Vec::new())
}

/// Show the match (or the original command) in the pane, searching on.
fn show_hit(s: &mut AppState, search: HistorySearch) {
    let shown = match search.hit {
        Some(i) => s.deck.history[i].clone(),
        None => search.original.clone(),
    };
    set_command(s, &shown);
    s.deck.history_search = Some(search);
}

pub fn set_command(s: &mut AppState, text: &str) {
    let mut t = new_command_area();
    t.insert_str(text);
    s.deck.command = t;
}

/// Run `text` on the selected hosts as if typed in the command pane.
pub fn run_text(s: &mut AppState, text: &str) -> Vec<Effect> {
    set_command(s, text);
    run_command(s)
}

/// Run `command` on exactly `hosts`, selecting them (rerun on failed).
/// What was being typed in the command pane stays there.
pub fn run_on(s: &mut AppState, hosts: &[usize], command: &str) -> Vec<Effect> {
    let set: std::collections::HashSet<usize> = hosts.iter().copied().collect();
    for (i, h) in s.hosts.iter_mut().enumerate() {
        h.selected = set.contains(&i);
    }
    let typed = std::mem::replace(&mut s.deck.command, new_command_area());
    let effects = run_text(s, command);
    s.deck.command = typed;
    effects
}

pub fn run_command(s: &mut AppState) -> Vec<Effect> {
    let command = s.deck.command.lines().join("\n");
    if command.trim().is_empty() {
        return Vec::new();
    }
    let hosts = s.selected();
    if hosts.is_empty() {
        let key = |a| key_name(s, Context::Hosts, a);
        s.status = Some(format!(
            "no hosts selected: {} selects, {} selects all, {} selects a group",
            key(Action::Select),
            key(Action::SelectAll),
            key(Action::SelectGroup)
        ));
        return Vec::new();
    }
    let opts = match s.deck.options.to_exec() {
        Ok(o) => o,
        Err(e) => {
            s.status = Some(format!(
                "command options: {e} ({})",
                key_name(s, Context::Command, Action::Options)
            ));
            return Vec::new();
        }
    };
    if s.running() > 0 {
        s.status = Some(format!(
            "a command is still running: wait, or {} to cancel it",
            key_name(s, Context::Global, Action::Cancel)
        ));
        return Vec::new();
    }
    let mut save = None;
    // A leading space keeps a command out of the saved history, as
    // bash's ignorespace does; it still runs.
    if !command.starts_with(' ') {
        s.deck.history.retain(|c| c != &command);
        s.deck.history.push(command.clone());
        save = Some(Effect::SaveHistory(command.clone()));
    }
    s.deck.history_pos = None;
    set_command(s, "");
    for &h in &hosts {
        s.outputs[h].clear();
        s.hosts[h].last = Some(LastRun {
            outcome: None,
            elapsed: None,
        });
    }
    s.deck.job = Some(Job {
        id: None,
        command: command.clone(),
        targets: hosts.clone(),
        running: hosts.len(),
    });
    s.deck.panes = crate::app::state::Panes {
        gathered: s.deck.panes.gathered,
        ..Default::default()
    };
    s.status = None;
    if let Some(r) = s.recipe.as_mut() {
        r.show = false;
    }
    let mut effects = vec![Effect::Exec {
        hosts,
        command,
        opts,
    }];
    effects.extend(save);
    effects
}
