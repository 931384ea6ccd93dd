//! What the app-wide keys do (the Global and Main contexts of the
//! keymap): quit, cancel, switch tabs, rerun on the failed hosts, and the
//! like. Other parts of the app (the files tab, the mouse, the palette)
//! call these directly; this file imports none of them back, so the
//! calls run one way.

use crate::app::msg::Effect;
use crate::app::state::{AppState, Focus, Job, Overlay, View};
use crate::keymap::{Action, Context};

/// Actions of the whole app (Global) and of the Hosts tab (Main).
pub fn main_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let effects = match a {
        Action::Help => {
            crate::app::help::open(s);
            Vec::new()
        }
        Action::Quit => quit(s),
        Action::Cancel => cancel(s),
        Action::Palette => {
            crate::app::palette::open(s);
            Vec::new()
        }
        Action::ToggleFiles => toggle_view(s),
        // The same key leaves the shells tab.
        Action::Shells if s.view == View::Shells => {
            s.view = View::Deck;
            Vec::new()
        }
        Action::Shells => {
            s.files.dialog = None;
            crate::app::shell::enter(s)
        }
        Action::Suspend => vec![Effect::Suspend],
        Action::Detach => super::detach::detach(s),
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
                        crate::app::help::key_name(s, Context::Main, Action::Palette)
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
        .filter(|&h| {
            // Still running (or never run) is not failed.
            let outcome = s.hosts[h].last.as_ref().and_then(|l| l.outcome.as_ref());
            outcome.is_some_and(|o| !o.ok())
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
            crate::app::help::key_name(s, Context::Global, Action::Cancel)
        ));
        return Vec::new();
    }
    let failed = failed_hosts(s);
    if failed.is_empty() {
        s.status = Some("no host failed the last command".into());
        return Vec::new();
    }
    crate::app::hosts::command::run_on(s, &failed, &command)
}

/// F2: between the hosts/output tab and the files tab.
pub fn toggle_view(s: &mut AppState) -> Vec<Effect> {
    s.deck.input = None;
    match s.view {
        View::Deck => {
            s.view = View::Files;
            crate::app::files::on_open(s)
        }
        View::Files | View::Shells => {
            s.view = View::Deck;
            s.files.dialog = None;
            Vec::new()
        }
    }
}

pub fn quit(s: &mut AppState) -> Vec<Effect> {
    if s.running() > 0 || s.files.active_transfers() > 0 || crate::app::shell::live(s) > 0 {
        s.overlay = Overlay::ConfirmQuit;
        Vec::new()
    } else {
        s.quit = true;
        vec![Effect::Quit]
    }
}

pub fn cancel(s: &mut AppState) -> Vec<Effect> {
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

/// The answer to "quit anyway?": yes quits, no closes the question.
pub fn confirm_quit(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    s.overlay = Overlay::None;
    match a {
        Action::Yes => {
            s.quit = true;
            Some(vec![Effect::Quit])
        }
        _ => Some(Vec::new()),
    }
}
