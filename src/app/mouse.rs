//! Mouse: a click focuses what it lands on (and selects a host), the wheel
//! scrolls what is under the pointer.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::hosts::output::scroll;
use super::layout::{contains, layout};
use super::msg::Effect;
use super::state::{AppState, Focus, HostListRow, View};

const WHEEL_LINES: isize = 3;

pub fn on_mouse(s: &mut AppState, m: MouseEvent) -> Vec<Effect> {
    if !s.prompts.is_empty() {
        return Vec::new();
    }
    // The tab labels at the left of the status bar: " Hosts " " Files " " Shells ".
    if m.kind == MouseEventKind::Down(MouseButton::Left) && m.row + 1 == s.size.1 && m.column < 22 {
        let want = match m.column {
            0..7 => View::Deck,
            7..14 => View::Files,
            _ => View::Shells,
        };
        return match (s.view, want) {
            (a, b) if a == b => Vec::new(),
            (_, View::Shells) => super::shell::enter(s),
            (View::Shells, View::Files) => {
                s.view = View::Deck;
                super::actions::global::toggle_view(s)
            }
            (View::Shells, View::Deck) => {
                s.view = View::Deck;
                Vec::new()
            }
            _ => super::actions::global::toggle_view(s),
        };
    }
    match s.view {
        View::Files => return super::files::mouse::on_mouse(s, m),
        View::Shells => return super::shell::on_mouse(s, m),
        View::Deck => {}
    }
    let lay = layout(s, Rect::new(0, 0, s.size.0, s.size.1));
    let (col, row) = (m.column, m.row);
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            if contains(lay.hosts, col, row) {
                s.focus = Focus::Hosts;
                let first = host_list_offset(s, lay.hosts);
                let idx = first + usize::from(row.saturating_sub(lay.hosts.y + 1));
                let rows = s.rows();
                if row > lay.hosts.y && idx < rows.len() {
                    s.deck.cursor = idx;
                    if let HostListRow::Host(h) = rows[idx] {
                        s.hosts[h].selected = !s.hosts[h].selected;
                    }
                }
            } else if contains(lay.command, col, row) {
                s.focus = Focus::Command;
            } else if contains(lay.output, col, row) {
                s.focus = Focus::Output;
                if let Some((k, _)) = lay.panes.iter().find(|(_, r)| contains(*r, col, row)) {
                    s.deck.panes.focused = *k;
                }
            }
        }
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let up = matches!(m.kind, MouseEventKind::ScrollUp);
            if contains(lay.hosts, col, row) {
                let n = s.rows().len();
                s.deck.cursor = if up {
                    s.deck.cursor.saturating_sub(3)
                } else {
                    (s.deck.cursor + 3).min(n.saturating_sub(1))
                };
            } else if let Some((k, _)) = lay.panes.iter().find(|(_, r)| contains(*r, col, row)) {
                let host = s.deck.job.as_ref().and_then(|j| j.targets.get(*k).copied());
                scroll(s, host, if up { WHEEL_LINES } else { -WHEEL_LINES });
            }
        }
        _ => {}
    }
    Vec::new()
}

/// First visible row of the host list, so the cursor stays on screen.
pub fn host_list_offset(s: &AppState, area: Rect) -> usize {
    let visible = usize::from(area.height.saturating_sub(2)).max(1);
    s.deck.cursor.saturating_sub(visible - 1)
}
