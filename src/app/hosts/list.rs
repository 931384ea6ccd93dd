//! The host list's actions: move, select (hosts, groups, node sets),
//! filter, fold folders (groups and tags), sort by facts, host info.

use tui_textarea::{CursorMove, TextArea};

use crate::app::layout::layout;
use crate::app::msg::Effect;
use crate::app::state::{AppState, HostListRow, LineInput, Overlay, fuzzy_match};
use crate::keymap::Action;

pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let rows = s.rows();
    let n = rows.len();
    let last = n.saturating_sub(1);
    let page = usize::from(
        layout(s, ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1))
            .hosts
            .height
            .saturating_sub(2),
    )
    .max(1);
    match a {
        Action::Up => s.deck.cursor = s.deck.cursor.saturating_sub(1),
        Action::Down => s.deck.cursor = (s.deck.cursor + 1).min(last),
        Action::PageUp => s.deck.cursor = s.deck.cursor.saturating_sub(page),
        Action::PageDown => s.deck.cursor = (s.deck.cursor + page).min(last),
        Action::Top => s.deck.cursor = 0,
        Action::Bottom => s.deck.cursor = last,
        Action::Select => toggle_under_cursor(s, &rows),
        Action::SelectAll => {
            // Hosts in folded groups count as shown: the group is.
            for i in 0..s.hosts.len() {
                if shown(s, i) {
                    s.hosts[i].selected = true;
                }
            }
        }
        Action::SelectNone => s.hosts.iter_mut().for_each(|h| h.selected = false),
        Action::Info => open_host_info(s),
        Action::Sort => crate::app::facts::cycle_sort(s),
        Action::SortReverse => crate::app::facts::reverse_sort(s),
        Action::Facts => {
            let hosts = s.selected();
            return Some(crate::app::facts::refresh(s, hosts));
        }
        Action::Filter => open_input(s, LineInput::Filter, &s.deck.filter.clone()),
        Action::SelectGroup => open_input(s, LineInput::Group, ""),
        Action::ClearFilter => s.deck.filter.clear(),
        Action::Toggle | Action::Fold | Action::Unfold => fold_under_cursor(s, &rows, a),
        _ => return None,
    }
    let n = s.rows().len();
    s.deck.cursor = s.deck.cursor.min(n.saturating_sub(1));
    Some(Vec::new())
}

/// Whether host `i` passes the list's filter.
fn shown(s: &AppState, i: usize) -> bool {
    s.deck.filter.is_empty() || fuzzy_match(&s.deck.filter, &s.hosts[i].label)
}

/// Space: the host under the cursor, or every shown host of the group
/// under it (all of them off when all are on).
fn toggle_under_cursor(s: &mut AppState, rows: &[HostListRow]) {
    match rows.get(s.deck.cursor) {
        Some(HostListRow::Host(h)) => s.hosts[*h].selected = !s.hosts[*h].selected,
        Some(HostListRow::Group { name, .. }) => {
            let members: Vec<usize> = (s.folders.members(name).iter())
                .copied()
                .filter(|&i| shown(s, i))
                .collect();
            let all = members.iter().all(|&i| s.hosts[i].selected);
            for i in members {
                s.hosts[i].selected = !all;
            }
        }
        None => {}
    }
}

/// Enter, Left, Right: fold or unfold the folder under the cursor; Enter
/// on a host selects it.
fn fold_under_cursor(s: &mut AppState, rows: &[HostListRow], a: Action) {
    match rows.get(s.deck.cursor) {
        Some(HostListRow::Group { name, folded, .. }) => {
            let fold = match a {
                Action::Fold => true,
                Action::Unfold => false,
                _ => !folded,
            };
            if fold {
                s.deck.folded.insert(name.clone());
            } else {
                s.deck.folded.remove(name);
            }
        }
        Some(HostListRow::Host(h)) if a == Action::Toggle => {
            s.hosts[*h].selected = !s.hosts[*h].selected;
        }
        _ => {}
    }
}

/// `i`: the facts of the host under the cursor.
pub fn open_host_info(s: &mut AppState) {
    match s.rows().get(s.deck.cursor) {
        Some(HostListRow::Host(h)) => {
            s.overlay = Overlay::HostInfo {
                host: *h,
                scroll: 0,
            }
        }
        _ => s.status = Some("move the cursor to a host to see its facts".into()),
    }
}

pub fn open_input(s: &mut AppState, kind: LineInput, initial: &str) {
    let mut t = TextArea::new(vec![initial.to_string()]);
    t.move_cursor(CursorMove::End);
    s.deck.input = Some((kind, t));
}

/// Typing in the line at the bottom of the host list: a filter (applied
/// as you type), a node set to select, or text to find in the output.
/// A key the `input` context does not bind: text for the line input.
pub fn on_line_text(s: &mut AppState, k: crossterm::event::KeyEvent) -> Vec<Effect> {
    let Some((kind, area)) = s.deck.input.as_mut() else {
        return Vec::new();
    };
    area.input(k);
    if *kind == LineInput::Filter {
        s.deck.filter = area.lines().first().cloned().unwrap_or_default();
        s.deck.cursor = 0;
    }
    Vec::new()
}

/// The `input` context in the Hosts tab's one-line inputs (filter, group,
/// search, save): Esc cancels (a filter is cleared), Enter applies.
pub fn on_input_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    if !matches!(a, Action::Cancel | Action::Submit) {
        return None;
    }
    let (kind, area) = s.deck.input.take()?;
    if a == Action::Cancel {
        if kind == LineInput::Filter {
            s.deck.filter.clear();
        }
        return Some(Vec::new());
    }
    let text = area.lines().first().cloned().unwrap_or_default();
    match kind {
        LineInput::Filter => s.deck.filter = text,
        LineInput::Group => select_nodeset(s, &text),
        LineInput::Search => {
            s.deck.panes.search = (!text.is_empty()).then_some(text);
            super::output::search_step(s, true);
        }
        LineInput::Save { host } => return Some(super::save::confirm(s, host, &text)),
    }
    Some(Vec::new())
}

/// `g`: add every host named by a node set (with @groups and @tags).
fn select_nodeset(s: &mut AppState, expr: &str) {
    if expr.trim().is_empty() {
        return;
    }
    let groups = crate::app::folders::nodeset_groups(
        s.hosts
            .iter()
            .map(|h| (h.label.as_str(), h.tags.as_slice())),
        &s.groups,
    );
    match crate::inventory::nodeset::expand(expr, &groups) {
        Ok(set) => {
            let names: Vec<String> = set.into_vec();
            let mut hit = 0;
            for h in &mut s.hosts {
                if names.iter().any(|n| n == &h.label) {
                    h.selected = true;
                    hit += 1;
                }
            }
            s.status = Some(format!("{expr}: selected {hit} of {} names", names.len()));
        }
        Err(e) => s.status = Some(e.to_string()),
    }
}
