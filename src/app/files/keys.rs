//! The files tab's actions and the transfers panel's (the keymap binds
//! them). Its dialogs are in `dialogs.rs`.

use tui_textarea::{CursorMove, TextArea};

use super::state::{FileDialog, InputKind, Side};
use super::{copy, hosts_of, list, refresh_all};
use crate::app::help::key_name;
use crate::app::msg::{Effect, TransferAction};
use crate::app::state::AppState;
use crate::engine::files::fs::{join, parent};
use crate::engine::files::name::Name;
use crate::engine::files::queue::JobState;
use crate::keymap::{Action, Context};

/// The file panes' actions.
pub fn on_action(s: &mut AppState, act: Action) -> Option<Vec<Effect>> {
    if act == Action::Reload {
        return Some(refresh_all(s));
    }
    let a = s.files.active;
    // A page is the pane's entry rows (border and column header excluded).
    let lay =
        crate::app::layout::files_layout(s, ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1));
    let page = usize::from(lay.panes[a].height.saturating_sub(3)).max(1);
    let n = s.files.panes[a].visible().len();
    let last = n.saturating_sub(1);
    let pane = &mut s.files.panes[a];
    match act {
        Action::Help => crate::app::help::open(s),
        Action::Quit => return Some(crate::app::actions::global::quit(s)),
        Action::OtherPane => s.files.active = 1 - a,
        Action::Up => pane.cursor = pane.cursor.saturating_sub(1),
        Action::Down => pane.cursor = (pane.cursor + 1).min(last),
        Action::PageUp => pane.cursor = pane.cursor.saturating_sub(page),
        Action::PageDown => pane.cursor = (pane.cursor + page).min(last),
        Action::Top => pane.cursor = 0,
        Action::Bottom => pane.cursor = last,
        Action::Open => {
            if let Some(e) = pane.current()
                && e.is_dir_like()
            {
                let dir = join(&pane.cwd, &e.name);
                return Some(list(s, a, Some(dir)));
            }
        }
        Action::Parent => {
            if !pane.cwd.is_empty() && pane.cwd != "/" {
                let up = parent(&pane.cwd);
                return Some(list(s, a, Some(up)));
            }
        }
        Action::Mark => {
            if let Some(name) = pane.current().map(|e| e.name.clone()) {
                if !pane.marked.remove(&name) {
                    pane.marked.insert(name);
                }
                pane.cursor = (pane.cursor + 1).min(last);
            }
        }
        Action::MarkAll => {
            let names: Vec<Name> = pane.visible().iter().map(|e| e.name.clone()).collect();
            pane.marked.extend(names);
        }
        Action::UnmarkAll => pane.marked.clear(),
        Action::Copy | Action::Move => {
            let names = pane.chosen().into_iter().map(|e| e.name).collect();
            return Some(copy::start(s, a, names, act == Action::Move));
        }
        Action::Mkdir => open_input(s, InputKind::Mkdir, ""),
        Action::Delete => {
            let names: Vec<Name> = pane.chosen().into_iter().map(|e| e.name).collect();
            if !names.is_empty() {
                s.files.dialog = Some(FileDialog::ConfirmDelete { names });
            }
        }
        Action::Rename => {
            if let Some(name) = pane.current().map(|e| e.name.clone()) {
                let text = name.to_string();
                open_input(s, InputKind::Rename { from: name }, &text);
            }
        }
        Action::Chmod => {
            let chosen = pane.chosen();
            if let Some(first) = chosen.first() {
                let mode = format!("{:o}", first.mode);
                let names = chosen.into_iter().map(|e| e.name).collect();
                open_input(s, InputKind::Chmod { names }, &mode);
            }
        }
        Action::Edit => return Some(edit(s)),
        Action::Side => s.files.dialog = Some(FileDialog::PickSide { cursor: 0 }),
        Action::Goto => {
            let cwd = pane.cwd.clone();
            open_input(
                s,
                InputKind::Path,
                &format!("{}/", cwd.trim_end_matches('/')),
            );
        }
        Action::Recent => s.files.dialog = Some(FileDialog::Recent { cursor: 0 }),
        Action::Sort => {
            pane.sort = pane.sort.next();
            s.status = Some(format!("sorted by {}", pane.sort.label()));
        }
        Action::SortReverse => pane.reverse = !pane.reverse,
        Action::Hidden => {
            pane.show_hidden = !pane.show_hidden;
            pane.clamp_cursor();
        }
        Action::Filter => {
            let f = pane.filter.clone();
            open_input(s, InputKind::Filter, &f);
        }
        Action::ClearFilter => {
            if pane.filter.is_empty() {
                return Some(crate::app::actions::global::toggle_view(s));
            }
            pane.filter.clear();
        }
        Action::Transfers => {
            if s.files.transfers.is_empty() {
                s.status = Some(format!(
                    "no transfers yet: {} copies, {} moves",
                    key_name(s, Context::Files, Action::Copy),
                    key_name(s, Context::Files, Action::Move)
                ));
            } else {
                super::transfers::open_panel(s);
            }
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn open_input(s: &mut AppState, kind: InputKind, initial: &str) {
    let mut area = TextArea::new(vec![initial.to_string()]);
    area.move_cursor(CursorMove::End);
    s.files.dialog = Some(FileDialog::Input {
        kind,
        area: Box::new(area),
        completions: Vec::new(),
    });
}

fn edit(s: &mut AppState) -> Vec<Effect> {
    let a = s.files.active;
    let pane = &s.files.panes[a];
    let Some(e) = pane.current() else {
        return Vec::new();
    };
    if e.is_dir_like() {
        s.status = Some("that is a directory".into());
        return Vec::new();
    }
    let path = join(&pane.cwd, &e.name);
    let side = pane.side;
    let hosts = hosts_of(s, side);
    if side == Side::Selected && hosts.len() != 1 {
        s.status = Some(format!(
            "edit works on one host: point the pane at it ({})",
            key_name(s, Context::Files, Action::Side)
        ));
        return Vec::new();
    }
    vec![Effect::Edit {
        host: hosts.first().copied(),
        path,
    }]
}

/// The transfers panel's actions.
pub fn on_transfers_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let n = s.files.transfers.len();
    let id = s.files.selected_transfer();
    let state = s
        .files
        .transfers
        .get(s.files.transfer_cursor)
        .map(|t| t.state);
    let ctl = |action| match id {
        Some(id) => vec![Effect::TransferCtl { id, action }],
        None => Vec::new(),
    };
    match a {
        Action::Close => s.files.transfers_focused = false,
        Action::Up => s.files.transfer_cursor = s.files.transfer_cursor.saturating_sub(1),
        Action::Down => {
            s.files.transfer_cursor = (s.files.transfer_cursor + 1).min(n.saturating_sub(1))
        }
        Action::Pause => {
            return Some(match state {
                Some(JobState::Paused) => ctl(TransferAction::Resume),
                Some(JobState::Running | JobState::Queued) => ctl(TransferAction::Pause),
                _ => Vec::new(),
            });
        }
        Action::Cancel => return Some(ctl(TransferAction::Cancel)),
        // A cancelled job resumes from its part files; a failed one
        // retries its failed hosts.
        Action::Retry if matches!(state, Some(JobState::Failed | JobState::Cancelled)) => {
            return Some(ctl(TransferAction::Resume));
        }
        Action::Retry => {
            s.status = Some("only a failed or cancelled transfer can be retried".into())
        }
        Action::ClearDone => {
            // The queue forgets them too, and drops what it kept to
            // resume them (a host-to-host copy's spool).
            let (done, kept) = std::mem::take(&mut s.files.transfers)
                .into_iter()
                .partition(|t| t.state.is_finished());
            s.files.transfers = kept;
            s.files.transfer_cursor = 0;
            let done: Vec<crate::engine::files::queue::JobView> = done;
            return Some(
                done.iter()
                    .map(|t| Effect::TransferCtl {
                        id: t.id,
                        action: TransferAction::Forget,
                    })
                    .collect(),
            );
        }
        _ => return None,
    }
    Some(Vec::new())
}
