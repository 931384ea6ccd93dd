//! Mouse in the files view: click picks an entry (and the pane), the wheel
//! scrolls, and a drag from one pane dropped on the other copies what was
//! dragged (the marked entries if the dragged one is marked); Shift makes
//! it a move.

use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::copy;
use super::state::Drag;
use crate::app::layout::{contains, files_layout, files_offset};
use crate::app::msg::Effect;
use crate::app::state::AppState;
use crate::engine::files::name::Name;

/// The pane and entry index under a point, if any.
fn hit(s: &AppState, col: u16, row: u16) -> Option<(usize, Option<usize>)> {
    let lay = files_layout(s, Rect::new(0, 0, s.size.0, s.size.1));
    let pane = (0..2).find(|&i| contains(lay.panes[i], col, row))?;
    let area = lay.panes[pane];
    // Border and column header come first.
    let first_row = area.y + 2;
    if row < first_row || row + 1 >= area.bottom() {
        return Some((pane, None));
    }
    let p = &s.files.panes[pane];
    let idx = files_offset(p.cursor, area) + usize::from(row - first_row);
    Some((pane, (idx < p.visible().len()).then_some(idx)))
}

pub fn on_mouse(s: &mut AppState, m: MouseEvent) -> Vec<Effect> {
    if s.files.dialog.is_some() {
        return Vec::new();
    }
    let (col, row) = (m.column, m.row);
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            let lay = files_layout(s, Rect::new(0, 0, s.size.0, s.size.1));
            s.files.transfers_focused = contains(lay.transfers, col, row);
            if let Some((pane, idx)) = hit(s, col, row) {
                s.files.active = pane;
                if let Some(i) = idx {
                    let p = &mut s.files.panes[pane];
                    p.cursor = i;
                    let name = p.visible()[i].name.clone();
                    s.files.drag = Some(Drag {
                        from: pane,
                        name,
                        at: (col, row),
                    });
                }
            }
        }
        MouseEventKind::Drag(MouseButton::Left) => {
            if let Some(d) = s.files.drag.as_mut() {
                d.at = (col, row);
            }
        }
        MouseEventKind::Up(MouseButton::Left) => {
            let Some(d) = s.files.drag.take() else {
                return Vec::new();
            };
            let Some((pane, _)) = hit(s, col, row) else {
                return Vec::new();
            };
            if pane == d.from {
                // Dropped where it started: a plain click.
                return Vec::new();
            }
            let p = &s.files.panes[d.from];
            let names: Vec<Name> = if p.marked.contains(&d.name) {
                p.chosen().into_iter().map(|e| e.name).collect()
            } else {
                vec![d.name]
            };
            let remove = m.modifiers.contains(KeyModifiers::SHIFT);
            return copy::start(s, d.from, names, remove);
        }
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            if let Some((pane, _)) = hit(s, col, row) {
                let p = &mut s.files.panes[pane];
                let n = p.visible().len();
                p.cursor = if matches!(m.kind, MouseEventKind::ScrollUp) {
                    p.cursor.saturating_sub(3)
                } else {
                    (p.cursor + 3).min(n.saturating_sub(1))
                };
            }
        }
        _ => {}
    }
    Vec::new()
}
