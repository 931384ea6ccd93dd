//! The output panes' actions: move between panes, pages, zoom, scroll,
//! search, save.

use super::list::open_input;
use super::viewport::{Lines, wrapped_rows};
use crate::app::layout::layout;
use crate::app::msg::Effect;
use crate::app::state::{AppState, LineInput};
use crate::keymap::Action;

pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let job = s.deck.job.as_ref()?;
    let n = job.targets.len();
    let lay = layout(s, ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1));
    let cols = lay.cols.max(1);
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
        Action::PageUp => move_view(s, host, |v, o| v.page_up(o)),
        Action::PageDown => move_view(s, host, |v, o| v.page_down(o)),
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

/// Inner size (columns, rows) of the pane showing host `h`: the one on
/// screen, else the first pane's (all panes on a page are alike).
pub fn pane_size(s: &AppState, h: usize) -> (usize, usize) {
    let lay = layout(s, ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1));
    let targets = s.deck.job.as_ref().map(|j| j.targets.as_slice());
    let on_screen = lay
        .panes
        .iter()
        .find(|(k, _)| targets.and_then(|t| t.get(*k)) == Some(&h))
        .or(lay.panes.first());
    on_screen.map_or((80, 10), |(_, r)| {
        (
            usize::from(r.width.saturating_sub(2)).max(1),
            usize::from(r.height.saturating_sub(2)).max(1),
        )
    })
}

/// Runs `f` over host `h`'s lines as its pane shows them (wrapped to its
/// width), with the pane's current offset.
pub fn with_lines<T>(s: &AppState, h: usize, f: impl FnOnce(&Lines, usize) -> T) -> T {
    let (width, height) = pane_size(s, h);
    let out = &s.outputs[h];
    let rows = rows_of(out, width);
    let lines = Lines {
        len: out.len(),
        rows: &rows,
        height,
    };
    f(&lines, s.deck.panes.scroll.get(&h).copied().unwrap_or(0))
}

fn set_offset(s: &mut AppState, h: usize, offset: usize) {
    if offset == 0 {
        s.deck.panes.scroll.remove(&h);
    } else {
        s.deck.panes.scroll.insert(h, offset);
    }
}

fn move_view(s: &mut AppState, host: Option<usize>, step: fn(&Lines, usize) -> usize) {
    let Some(h) = host else { return };
    let next = with_lines(s, h, step);
    set_offset(s, h, next);
}

/// Scroll a pane by `delta` lines (positive = up, into the past); it
/// stops with the oldest line on the top row.
pub fn scroll(s: &mut AppState, host: Option<usize>, delta: isize) {
    let Some(h) = host else { return };
    let next = with_lines(s, h, |v, cur| {
        let cur = v.clamp(cur) as isize;
        v.clamp(cur.saturating_add(delta).max(0) as usize)
    });
    set_offset(s, h, next);
}

/// Move the focused pane's view to the next (or previous) line that
/// contains the search text, and mark it so the pane highlights it.
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
    // From the last match in this pane, else from the bottom line shown.
    let current = match s.deck.panes.hit {
        Some((hh, i)) if hh == h && i < len => i,
        _ => with_lines(s, h, |v, off| v.bottom(off).unwrap_or(0)),
    };
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
            let off = with_lines(s, h, |v, _| v.reveal(i));
            set_offset(s, h, off);
            s.deck.panes.hit = Some((h, i));
            s.status = Some(format!("match on line {} of {len}", i + 1));
        }
        None => {
            s.deck.panes.hit = None;
            s.status = Some(format!("not found: {needle}"));
        }
    }
}

fn matches(out: &crate::app::scrollback::Scrollback, i: usize, needle: &str) -> bool {
    out.get(i)
        .is_some_and(|l| l.line.plain().to_lowercase().contains(needle))
}

/// Screen rows each line of `out` takes in a pane `width` wide: the one
/// measure paging (here) and drawing (ui/output.rs) both use, so what a
/// page skips is what the screen shows.
pub fn rows_of(
    out: &crate::app::scrollback::Scrollback,
    width: usize,
) -> impl Fn(usize) -> usize + '_ {
    move |i| {
        out.get(i)
            .map_or(1, |l| wrapped_rows(l.line.len_chars(), width))
    }
}
