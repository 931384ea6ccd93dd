//! The output panes' actions: move between panes, pages, zoom, scroll,
//! search, save.

use super::list::open_input;
use crate::app::keymap::Action;
use crate::app::layout::layout;
use crate::app::msg::Effect;
use crate::app::state::{AppState, LineInput};

pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let job = s.deck.job.as_ref()?;
    let n = job.targets.len();
    let lay = layout(s, ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1));
    let cols = lay.cols.max(1);
    let pane_h = lay
        .panes
        .first()
        .map_or(10, |(_, r)| usize::from(r.height.saturating_sub(2)).max(1));
    let f = s.deck.panes.focused;
    let host = job.targets.get(f).copied();
    let last = n.saturating_sub(1);
    match a {
        Action::Left => s.deck.panes.focused = f.saturating_sub(1),
        Action::Right => s.deck.panes.focused = (f + 1).min(last),
        Action::Up => s.deck.panes.focused = f.saturating_sub(cols),
        Action::Down => s.deck.panes.focused = (f + cols).min(last),
        Action::NextPage => {
            let per_page = lay.panes.len().max(1);
            s.deck.panes.focused = ((lay.page + 1) * per_page).min(last);
        }
        Action::PrevPage => {
            let per_page = lay.panes.len().max(1);
            s.deck.panes.focused = lay.page.saturating_sub(1) * per_page;
        }
        Action::Zoom => s.deck.panes.zoomed = !s.deck.panes.zoomed,
        Action::Unzoom => s.deck.panes.zoomed = false,
        Action::PageUp => scroll(s, host, pane_h as isize),
        Action::PageDown => scroll(s, host, -(pane_h as isize)),
        Action::Top => scroll(s, host, isize::MAX / 2),
        Action::Bottom => scroll(s, host, isize::MIN / 2),
        Action::Search => open_input(s, LineInput::Search, ""),
        Action::SearchNext => search_step(s, true),
        Action::SearchPrev => search_step(s, false),
        Action::Save => {
            if let Some(h) = host {
                super::save::open(s, h);
            }
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// Scroll a pane by `delta` lines (positive = up, into the past).
pub fn scroll(s: &mut AppState, host: Option<usize>, delta: isize) {
    let Some(h) = host else { return };
    let max = s.outputs[h].len();
    let cur = s.deck.panes.scroll.get(&h).copied().unwrap_or(0) as isize;
    let next = (cur.saturating_add(delta)).clamp(0, max as isize) as usize;
    if next == 0 {
        s.deck.panes.scroll.remove(&h);
    } else {
        s.deck.panes.scroll.insert(h, next);
    }
}

/// Move the focused pane's view to the next (or previous) line that
/// contains the search text.
pub fn search_step(s: &mut AppState, forward: bool) {
    let (Some(job), Some(needle)) = (&s.deck.job, &s.deck.panes.search) else {
        return;
    };
    let Some(&h) = job.targets.get(s.deck.panes.focused) else {
        return;
    };
    let needle = needle.to_lowercase();
    let out = &s.outputs[h];
    let len = out.len();
    let offset = s.deck.panes.scroll.get(&h).copied().unwrap_or(0);
    // The line currently at the bottom of the view.
    let current = len.saturating_sub(1 + offset);
    let hit = if forward {
        (current + 1..len)
            .chain(0..=current.min(len.saturating_sub(1)))
            .find(|&i| matches(out, i, &needle))
    } else {
        (0..current)
            .rev()
            .chain((current..len).rev())
            .find(|&i| matches(out, i, &needle))
    };
    match hit {
        Some(i) => {
            let off = len - 1 - i;
            if off == 0 {
                s.deck.panes.scroll.remove(&h);
            } else {
                s.deck.panes.scroll.insert(h, off);
            }
            s.status = Some(format!("match on line {} of {len}", i + 1));
        }
        None => s.status = Some(format!("not found: {needle}")),
    }
}

fn matches(out: &crate::app::scrollback::Scrollback, i: usize, needle: &str) -> bool {
    out.get(i)
        .is_some_and(|l| l.line.plain().to_lowercase().contains(needle))
}
