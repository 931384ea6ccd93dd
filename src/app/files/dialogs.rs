//! The files tab's dialogs, each a keymap context: the delete question
//! (`confirm`), a name already at a copy's destination (`conflict`), the
//! side and recent-directory pickers (`picker`), and the one-line inputs
//! (`input`: go to, filter, mkdir, rename, chmod). A dialog takes every
//! key; what its context does not bind is text for an input, "no" for the
//! question, and nothing for the others.

use crossterm::event::KeyEvent;
use tui_textarea::{CursorMove, TextArea};

use super::state::{ConflictAction, FileDialog, InputKind, Side};
use super::{copy, hosts_of, list, op_dir, typed_path};
use crate::app::msg::{Effect, FileOp};
use crate::app::state::AppState;
use crate::engine::files::name::Name;
use crate::keymap::{Action, Context};

/// The context the open dialog's keys are looked up in.
pub fn context(s: &AppState) -> Option<Context> {
    Some(match s.files.dialog.as_ref()? {
        FileDialog::ConfirmDelete { .. } => Context::Confirm,
        FileDialog::Conflict(_) => Context::Conflict,
        FileDialog::PickSide { .. } | FileDialog::Recent { .. } => Context::Picker,
        FileDialog::Input { .. } => Context::Input,
    })
}

/// A key the open dialog's context does not bind.
pub fn on_unbound_key(s: &mut AppState, ctx: Context, k: KeyEvent) {
    match ctx {
        // Any other key keeps the files: only the yes key deletes.
        Context::Confirm => s.files.dialog = None,
        Context::Input => on_text_key(s, k),
        _ => {}
    }
}

/// What an action does in the open dialog. None (the dialog kept as it
/// was) when the action is not the dialog's.
pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let dialog = s.files.dialog.take()?;
    let done = match dialog {
        FileDialog::ConfirmDelete { names } => match a {
            Action::Yes => Ok(delete(s, names)),
            Action::No => Ok(Vec::new()),
            _ => Err(FileDialog::ConfirmDelete { names }),
        },
        FileDialog::Conflict(p) => {
            s.files.dialog = Some(FileDialog::Conflict(p));
            return conflict_answer(a).map(|(answer, all)| copy::answer(s, answer, all));
        }
        FileDialog::PickSide { cursor } => pick_side(s, a, cursor),
        FileDialog::Recent { cursor } => recent(s, a, cursor),
        FileDialog::Input {
            kind,
            area,
            completions,
        } => input_action(s, a, kind, area, completions),
    };
    match done {
        Ok(effects) => Some(effects),
        Err(kept) => {
            s.files.dialog = Some(kept);
            None
        }
    }
}

/// The conflict question's answer an action gives, and whether it is for
/// every remaining conflict. `Some((None, _))` cancels the copy.
fn conflict_answer(a: Action) -> Option<(Option<ConflictAction>, bool)> {
    let one = |c| Some((Some(c), false));
    let all = |c| Some((Some(c), true));
    match a {
        Action::Overwrite => one(ConflictAction::Overwrite),
        Action::OverwriteAll => all(ConflictAction::Overwrite),
        Action::SkipSame => one(ConflictAction::SkipSame),
        Action::SkipSameAll => all(ConflictAction::SkipSame),
        // Skip is the default (Enter): leaving one out loses nothing.
        Action::Skip => one(ConflictAction::Skip),
        Action::SkipAll => all(ConflictAction::Skip),
        Action::Rename => one(ConflictAction::Rename(String::new())),
        Action::RenameAll => all(ConflictAction::Rename(String::new())),
        Action::Cancel => Some((None, false)),
        _ => None,
    }
}

/// What a dialog's action did, or the dialog back when the action is not
/// its own.
type DialogResult = Result<Vec<Effect>, FileDialog>;

/// Delete `names` in the active pane, on every host it shows.
fn delete(s: &AppState, names: Vec<Name>) -> Vec<Effect> {
    let a = s.files.active;
    let side = s.files.panes[a].side;
    vec![Effect::FileOp {
        side,
        hosts: hosts_of(s, side),
        op: FileOp::Delete {
            dir: op_dir(s, a),
            names,
        },
    }]
}

/// The side picker. Rows: local, selected hosts, then every host.
fn pick_side(s: &mut AppState, a: Action, cursor: usize) -> DialogResult {
    let rows = 2 + s.hosts.len();
    let cursor = match a {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (cursor + 1).min(rows - 1),
        Action::Close => return Ok(Vec::new()),
        Action::Choose => {
            let side = match cursor {
                0 => Side::Local,
                1 => Side::Selected,
                n => Side::Host(n - 2),
            };
            let a = s.files.active;
            let p = &mut s.files.panes[a];
            if p.side == side {
                return Ok(Vec::new());
            }
            *p = super::state::FilePane::new(side);
            return Ok(list(s, a, None));
        }
        _ => return Err(FileDialog::PickSide { cursor }),
    };
    s.files.dialog = Some(FileDialog::PickSide { cursor });
    Ok(Vec::new())
}

/// The pane's recent directories.
fn recent(s: &mut AppState, a: Action, cursor: usize) -> DialogResult {
    let pane = s.files.active;
    let n = s.files.panes[pane].recent.len();
    let cursor = match a {
        Action::Up => cursor.saturating_sub(1),
        Action::Down => (cursor + 1).min(n.saturating_sub(1)),
        Action::Close => return Ok(Vec::new()),
        Action::Choose => {
            return Ok(match s.files.panes[pane].recent.get(cursor).cloned() {
                Some(d) => list(s, pane, Some(d)),
                None => Vec::new(),
            });
        }
        _ => return Err(FileDialog::Recent { cursor }),
    };
    s.files.dialog = Some(FileDialog::Recent { cursor });
    Ok(Vec::new())
}

/// The `input` context in a one-line input: Esc cancels (a filter is
/// cleared), Tab completes a path, Enter submits.
fn input_action(
    s: &mut AppState,
    a: Action,
    kind: InputKind,
    area: Box<TextArea<'static>>,
    completions: Vec<String>,
) -> DialogResult {
    let pane = s.files.active;
    let text = area.lines().first().cloned().unwrap_or_default();
    match a {
        Action::Cancel => {
            if kind == InputKind::Filter {
                s.files.panes[pane].filter.clear();
            }
            Ok(Vec::new())
        }
        Action::Submit => Ok(submit_input(s, kind, text.trim())),
        Action::NextField if kind == InputKind::Path => {
            let side = s.files.panes[pane].side;
            let hosts = hosts_of(s, side);
            let partial = if text.starts_with('/') {
                text
            } else {
                typed_path(s, pane, &text)
            };
            s.files.dialog = Some(FileDialog::Input {
                kind,
                area,
                completions,
            });
            Ok(vec![Effect::Complete {
                pane,
                side,
                hosts,
                partial,
            }])
        }
        _ => Err(FileDialog::Input {
            kind,
            area,
            completions,
        }),
    }
}

/// A key the `input` context does not bind: text for the input. A filter
/// applies as it is typed.
fn on_text_key(s: &mut AppState, k: KeyEvent) {
    let Some(FileDialog::Input { kind, area, .. }) = s.files.dialog.as_mut() else {
        return;
    };
    area.input(k);
    if *kind == InputKind::Filter {
        let typed = area.lines().first().cloned().unwrap_or_default();
        let p = &mut s.files.panes[s.files.active];
        p.filter = typed;
        p.cursor = 0;
    }
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
