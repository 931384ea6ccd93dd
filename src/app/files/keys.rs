//! The files tab's actions (the keymap binds them) and its dialogs'
//! keys, which are typed text and stay hand-written.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_textarea::{CursorMove, TextArea};

use super::state::{ConflictAction, FileDialog, InputKind, Side};
use super::{copy, hosts_of, list, op_dir, refresh_all, typed_path};
use crate::app::help::key_name;
use crate::app::msg::{Effect, FileOp, TransferAction};
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

pub fn on_dialog_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let Some(dialog) = s.files.dialog.take() else {
        return Vec::new();
    };
    match dialog {
        // Enter applies what the dialog highlights (y: delete); the user
        // already asked for it with the delete key.
        FileDialog::ConfirmDelete { names } => match k.code {
            KeyCode::Char('y') | KeyCode::Enter => {
                let a = s.files.active;
                let side = s.files.panes[a].side;
                let hosts = hosts_of(s, side);
                vec![Effect::FileOp {
                    side,
                    hosts,
                    op: FileOp::Delete {
                        dir: op_dir(s, a),
                        names,
                    },
                }]
            }
            _ => Vec::new(),
        },
        FileDialog::Conflict(p) => {
            let all = k.modifiers.contains(KeyModifiers::SHIFT)
                || matches!(k.code, KeyCode::Char(c) if c.is_ascii_uppercase());
            let action = match k.code {
                KeyCode::Char('o' | 'O') => Some(ConflictAction::Overwrite),
                KeyCode::Char('s' | 'S') => Some(ConflictAction::SkipSame),
                // Enter takes the default: leave this one out, which loses
                // nothing.
                KeyCode::Char('n' | 'N') | KeyCode::Enter => Some(ConflictAction::Skip),
                KeyCode::Char('r' | 'R') => Some(ConflictAction::Rename(String::new())),
                KeyCode::Esc | KeyCode::Char('c') => None,
                _ => {
                    s.files.dialog = Some(FileDialog::Conflict(p));
                    return Vec::new();
                }
            };
            s.files.dialog = Some(FileDialog::Conflict(p));
            copy::answer(s, action, all)
        }
        FileDialog::PickSide { cursor } => {
            // Rows: local, selected hosts, then every host.
            let rows = 2 + s.hosts.len();
            match k.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    s.files.dialog = Some(FileDialog::PickSide {
                        cursor: cursor.saturating_sub(1),
                    })
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    s.files.dialog = Some(FileDialog::PickSide {
                        cursor: (cursor + 1).min(rows - 1),
                    })
                }
                KeyCode::Enter => {
                    let side = match cursor {
                        0 => Side::Local,
                        1 => Side::Selected,
                        n => Side::Host(n - 2),
                    };
                    let a = s.files.active;
                    let p = &mut s.files.panes[a];
                    if p.side != side {
                        *p = super::state::FilePane::new(side);
                        return list(s, a, None);
                    }
                }
                KeyCode::Esc => {}
                _ => s.files.dialog = Some(FileDialog::PickSide { cursor }),
            }
            Vec::new()
        }
        FileDialog::Recent { cursor } => {
            let a = s.files.active;
            let n = s.files.panes[a].recent.len();
            match k.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    s.files.dialog = Some(FileDialog::Recent {
                        cursor: cursor.saturating_sub(1),
                    })
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    s.files.dialog = Some(FileDialog::Recent {
                        cursor: (cursor + 1).min(n.saturating_sub(1)),
                    })
                }
                KeyCode::Enter => {
                    if let Some(d) = s.files.panes[a].recent.get(cursor).cloned() {
                        return list(s, a, Some(d));
                    }
                }
                KeyCode::Esc => {}
                _ => s.files.dialog = Some(FileDialog::Recent { cursor }),
            }
            Vec::new()
        }
        FileDialog::Input {
            kind,
            area,
            completions,
        } => on_input_key(s, k, kind, area, completions),
    }
}

fn on_input_key(
    s: &mut AppState,
    k: KeyEvent,
    kind: InputKind,
    mut area: Box<TextArea<'static>>,
    completions: Vec<String>,
) -> Vec<Effect> {
    let a = s.files.active;
    let text = area.lines().first().cloned().unwrap_or_default();
    match k.code {
        KeyCode::Esc => {
            if kind == InputKind::Filter {
                s.files.panes[a].filter.clear();
            }
            return Vec::new();
        }
        KeyCode::Tab if kind == InputKind::Path => {
            let side = s.files.panes[a].side;
            let hosts = hosts_of(s, side);
            s.files.dialog = Some(FileDialog::Input {
                kind,
                area,
                completions,
            });
            let partial = if text.starts_with('/') {
                text
            } else {
                typed_path(s, a, &text)
            };
            return vec![Effect::Complete {
                pane: a,
                side,
                hosts,
                partial,
            }];
        }
        KeyCode::Enter => return submit_input(s, kind, text.trim()),
        _ => {
            area.input(k);
        }
    }
    if kind == InputKind::Filter {
        let p = &mut s.files.panes[a];
        p.filter = area.lines().first().cloned().unwrap_or_default();
        p.cursor = 0;
    }
    s.files.dialog = Some(FileDialog::Input {
        kind,
        area,
        completions,
    });
    Vec::new()
}

fn submit_input(s: &mut AppState, kind: InputKind, text: &str) -> Vec<Effect> {
    let a = s.files.active;
    let side = s.files.panes[a].side;
    let hosts = hosts_of(s, side);
    let op = |op| {
        vec![Effect::FileOp {
            side,
            hosts: hosts.clone(),
            op,
        }]
    };
    match kind {
        InputKind::Filter => {
            s.files.panes[a].filter = text.to_string();
            Vec::new()
        }
        InputKind::Path if !text.is_empty() => {
            let dir = if text.starts_with('/') {
                text.to_string()
            } else {
                typed_path(s, a, text)
            };
            let dir = dir.trim_end_matches('/');
            list(
                s,
                a,
                Some(if dir.is_empty() {
                    "/".into()
                } else {
                    dir.into()
                }),
            )
        }
        InputKind::Mkdir | InputKind::Rename { .. } if !text.is_empty() => {
            // A typed name passes the same check as a listed one: it is
            // one name in this directory, never a path.
            let name = match Name::parse(text) {
                Ok(n) => n,
                Err(bad) => {
                    s.status = Some(format!("not a file name: {bad}"));
                    return Vec::new();
                }
            };
            let dir = op_dir(s, a);
            match kind {
                InputKind::Rename { from } if from == name => Vec::new(),
                InputKind::Rename { from } => op(FileOp::Rename {
                    dir,
                    from,
                    to: name,
                }),
                _ => op(FileOp::Mkdir { dir, name }),
            }
        }
        InputKind::Chmod { names } => match u32::from_str_radix(text, 8) {
            Ok(mode) if mode <= 0o7777 => op(FileOp::Chmod {
                dir: op_dir(s, a),
                names,
                mode,
            }),
            _ => {
                s.status = Some(format!("not an octal mode: {text:?} (e.g. 644 or 0755)"));
                Vec::new()
            }
        },
        _ => Vec::new(),
    }
}

/// Tab in the path input: fill in the longest common prefix of the
/// candidates; show them when there are several.
pub fn on_completions(s: &mut AppState, pane: usize, candidates: Vec<String>) {
    let Some(FileDialog::Input {
        kind: InputKind::Path,
        area,
        completions,
    }) = s.files.dialog.as_mut()
    else {
        return;
    };
    if pane != s.files.active || candidates.is_empty() {
        if candidates.is_empty() {
            s.status = Some("no completions".into());
        }
        return;
    }
    let typed = area.lines().first().cloned().unwrap_or_default();
    let dir = match typed.rfind('/') {
        Some(i) => typed[..=i].to_string(),
        None => String::new(),
    };
    let mut prefix = candidates[0].clone();
    for c in &candidates[1..] {
        let common = prefix
            .chars()
            .zip(c.chars())
            .take_while(|(a, b)| a == b)
            .count();
        prefix = prefix.chars().take(common).collect();
    }
    let mut filled = format!("{dir}{prefix}");
    if candidates.len() == 1 {
        filled.push('/');
    }
    if filled.len() >= typed.len() {
        let mut t = TextArea::new(vec![filled]);
        t.move_cursor(CursorMove::End);
        **area = t;
    }
    *completions = if candidates.len() > 1 {
        candidates
    } else {
        Vec::new()
    };
}
