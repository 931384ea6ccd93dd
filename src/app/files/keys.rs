//! Keys in the files view. The bindings are listed in `help_lines`, which
//! the `?` overlay shows.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_textarea::{CursorMove, TextArea};

use super::state::{ConflictAction, FileDialog, InputKind, Side};
use super::{copy, hosts_of, list, op_path, path_in, refresh_all};
use crate::app::msg::{Effect, FileOp, TransferAction};
use crate::app::state::AppState;
use crate::engine::fs::{join, parent};
use crate::engine::queue::JobState;

pub fn help_lines() -> &'static [(&'static str, &'static str)] {
    &[
        ("Files (F2)", ""),
        ("Tab", "other pane"),
        ("Enter / Backspace", "open directory / go up"),
        ("Space / a / u", "mark / mark all / unmark all"),
        ("F5 or c", "copy marked (or current) to the other pane"),
        ("F6 or m", "move to the other pane"),
        (
            "mouse drag",
            "drop entries on the other pane to copy (Shift: move)",
        ),
        ("F7 or N", "new directory"),
        ("F8 or Delete", "delete, recursively, after confirming"),
        ("r / p", "rename / chmod (octal)"),
        (
            "F4 or e",
            "edit in $EDITOR (remote: uploaded back atomically)",
        ),
        ("o", "what this pane shows: local, a host, selected hosts"),
        ("g / Tab in it", "go to a path / complete it"),
        ("'", "recent directories"),
        (
            "s / S / .",
            "sort by name, size, mtime / reverse / hidden files",
        ),
        ("/", "filter"),
        ("Ctrl-R", "list again"),
        ("t", "transfers panel: p pause/resume, x cancel, R retry"),
    ]
}

pub fn on_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    if s.files.dialog.is_some() {
        return on_dialog_key(s, k);
    }
    if s.files.transfers_focused {
        return on_transfers_key(s, k);
    }
    if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('r') {
        return refresh_all(s);
    }
    let a = s.files.active;
    // A page is the pane's entry rows (border and column header excluded).
    let lay =
        crate::app::layout::files_layout(s, ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1));
    let page = usize::from(lay.panes[a].height.saturating_sub(3)).max(1);
    let n = s.files.panes[a].visible().len();
    let pane = &mut s.files.panes[a];
    match k.code {
        KeyCode::Tab | KeyCode::BackTab => s.files.active = 1 - a,
        KeyCode::Up | KeyCode::Char('k') => pane.cursor = pane.cursor.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => {
            pane.cursor = (pane.cursor + 1).min(n.saturating_sub(1))
        }
        KeyCode::PageUp => pane.cursor = pane.cursor.saturating_sub(page),
        KeyCode::PageDown => pane.cursor = (pane.cursor + page).min(n.saturating_sub(1)),
        KeyCode::Home => pane.cursor = 0,
        KeyCode::End => pane.cursor = n.saturating_sub(1),
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
            if let Some(e) = pane.current()
                && e.is_dir_like()
            {
                let dir = join(&pane.cwd, &e.name);
                return list(s, a, Some(dir));
            }
        }
        KeyCode::Backspace | KeyCode::Left | KeyCode::Char('h')
            if !pane.cwd.is_empty() && pane.cwd != "/" =>
        {
            let up = parent(&pane.cwd);
            return list(s, a, Some(up));
        }
        KeyCode::Char(' ') | KeyCode::Insert => {
            if let Some(name) = pane.current().map(|e| e.name.clone()) {
                if !pane.marked.remove(&name) {
                    pane.marked.insert(name);
                }
                pane.cursor = (pane.cursor + 1).min(n.saturating_sub(1));
            }
        }
        KeyCode::Char('a') => {
            let names: Vec<String> = pane.visible().iter().map(|e| e.name.clone()).collect();
            pane.marked.extend(names);
        }
        KeyCode::Char('u') => pane.marked.clear(),
        KeyCode::F(5) | KeyCode::Char('c') => {
            let names = pane.chosen().into_iter().map(|e| e.name).collect();
            return copy::start(s, a, names, false);
        }
        KeyCode::F(6) | KeyCode::Char('m') => {
            let names = pane.chosen().into_iter().map(|e| e.name).collect();
            return copy::start(s, a, names, true);
        }
        KeyCode::F(7) | KeyCode::Char('N') => open_input(s, InputKind::Mkdir, ""),
        KeyCode::F(8) | KeyCode::Delete => {
            let names: Vec<String> = pane.chosen().into_iter().map(|e| e.name).collect();
            if !names.is_empty() {
                s.files.dialog = Some(FileDialog::ConfirmDelete { names });
            }
        }
        KeyCode::Char('r') => {
            if let Some(name) = pane.current().map(|e| e.name.clone()) {
                open_input(s, InputKind::Rename { from: name.clone() }, &name);
            }
        }
        KeyCode::Char('p') => {
            let chosen = pane.chosen();
            if let Some(first) = chosen.first() {
                let mode = format!("{:o}", first.mode);
                let names = chosen.into_iter().map(|e| e.name).collect();
                open_input(s, InputKind::Chmod { names }, &mode);
            }
        }
        KeyCode::F(4) | KeyCode::Char('e') => return edit(s),
        KeyCode::Char('o') => s.files.dialog = Some(FileDialog::PickSide { cursor: 0 }),
        KeyCode::Char('g') => {
            let cwd = pane.cwd.clone();
            open_input(
                s,
                InputKind::Path,
                &format!("{}/", cwd.trim_end_matches('/')),
            );
        }
        KeyCode::Char('\'') => s.files.dialog = Some(FileDialog::Recent { cursor: 0 }),
        KeyCode::Char('s') => {
            pane.sort = pane.sort.next();
            s.status = Some(format!("sorted by {}", pane.sort.label()));
        }
        KeyCode::Char('S') => pane.reverse = !pane.reverse,
        KeyCode::Char('.') => {
            pane.show_hidden = !pane.show_hidden;
            pane.clamp_cursor();
        }
        KeyCode::Char('/') => {
            let f = pane.filter.clone();
            open_input(s, InputKind::Filter, &f);
        }
        KeyCode::Esc if !pane.filter.is_empty() => {
            pane.filter.clear();
        }
        KeyCode::Char('t') => {
            if s.files.transfers.is_empty() {
                s.status = Some("no transfers yet: F5 copies, F6 moves".into());
            } else {
                s.files.transfers_focused = true;
            }
        }
        _ => {}
    }
    Vec::new()
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
        s.status = Some("edit works on one host: point the pane at it (o)".into());
        return Vec::new();
    }
    vec![Effect::Edit {
        host: hosts.first().copied(),
        path,
    }]
}

fn on_transfers_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
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
    match k.code {
        KeyCode::Esc | KeyCode::Char('t') | KeyCode::Tab => s.files.transfers_focused = false,
        KeyCode::Up | KeyCode::Char('k') => {
            s.files.transfer_cursor = s.files.transfer_cursor.saturating_sub(1)
        }
        KeyCode::Down | KeyCode::Char('j') => {
            s.files.transfer_cursor = (s.files.transfer_cursor + 1).min(n.saturating_sub(1))
        }
        KeyCode::Char('p') | KeyCode::Char(' ') => {
            return match state {
                Some(JobState::Paused) => ctl(TransferAction::Resume),
                Some(JobState::Running | JobState::Queued) => ctl(TransferAction::Pause),
                _ => Vec::new(),
            };
        }
        KeyCode::Char('x') | KeyCode::Delete => return ctl(TransferAction::Cancel),
        KeyCode::Char('R') if state == Some(JobState::Failed) => {
            return ctl(TransferAction::Resume);
        }
        KeyCode::Char('D') => {
            // Clear finished jobs from the list.
            s.files.transfers.retain(|t| !t.state.is_finished());
            s.files.transfer_cursor = 0;
        }
        _ => {}
    }
    Vec::new()
}

fn on_dialog_key(s: &mut AppState, k: KeyEvent) -> Vec<Effect> {
    let Some(dialog) = s.files.dialog.take() else {
        return Vec::new();
    };
    match dialog {
        FileDialog::ConfirmDelete { names } => match k.code {
            KeyCode::Char('y') => {
                let a = s.files.active;
                let side = s.files.panes[a].side;
                let paths = names.iter().map(|n| op_path(s, a, n)).collect();
                let hosts = hosts_of(s, side);
                vec![Effect::FileOp {
                    side,
                    hosts,
                    op: FileOp::Delete(paths),
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
                KeyCode::Char('n' | 'N') => Some(ConflictAction::Skip),
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
                path_in(s, a, &text)
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
                path_in(s, a, text)
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
        InputKind::Mkdir if !text.is_empty() => op(FileOp::Mkdir(op_path(s, a, text))),
        InputKind::Rename { from } if !text.is_empty() && text != from => op(FileOp::Rename {
            from: op_path(s, a, &from),
            to: op_path(s, a, text),
        }),
        InputKind::Chmod { names } => match u32::from_str_radix(text, 8) {
            Ok(mode) if mode <= 0o7777 => op(FileOp::Chmod {
                paths: names.iter().map(|n| op_path(s, a, n)).collect(),
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
