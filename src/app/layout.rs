//! Where everything goes on screen. Shared by rendering and by mouse
//! handling, so a click lands on what was drawn there.

use ratatui::layout::Rect;

use super::state::AppState;

/// Smallest useful output pane (columns, rows), borders included.
pub const MIN_PANE: (u16, u16) = (24, 5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppLayout {
    pub hosts: Rect,
    pub output: Rect,
    pub command: Rect,
    pub status: Rect,
    /// (index into the job's targets, area) for the panes on this page.
    pub panes: Vec<(usize, Rect)>,
    pub cols: usize,
    pub page: usize,
    pub pages: usize,
}

pub fn layout(s: &AppState, area: Rect) -> AppLayout {
    let status = Rect::new(
        area.x,
        area.bottom().saturating_sub(1),
        area.width,
        1.min(area.height),
    );
    let cmd_lines = s.deck.command.lines().len().clamp(1, 4) as u16;
    let cmd_h = (cmd_lines + 2).min(area.height.saturating_sub(1));
    let command = Rect::new(area.x, status.y.saturating_sub(cmd_h), area.width, cmd_h);
    let top_h = command.y.saturating_sub(area.y);
    let base = (area.width / 4).clamp(24.min(area.width), 40.min(area.width));
    // Fact columns widen the list once there are facts to show, up to
    // half the screen.
    let hosts_w = if s.hosts.iter().any(|h| !h.facts.is_empty()) {
        let extra: usize = s.deck.columns.iter().map(fact_col_width).sum();
        (base + extra as u16).min((area.width / 2).max(base))
    } else {
        base
    };
    let mut hosts = Rect::new(area.x, area.y, hosts_w, top_h);
    let mut output = Rect::new(area.x + hosts_w, area.y, area.width - hosts_w, top_h);
    let mut command = command;
    // A zoomed pane fills the terminal but the status bar, as tmux's zoom
    // does: the host list and the command pane give up their room.
    if zoomed(s) {
        hosts = Rect::new(area.x, area.y, 0, 0);
        command = Rect::new(area.x, status.y, 0, 0);
        output = Rect::new(area.x, area.y, area.width, status.y.saturating_sub(area.y));
    }
    let (panes, cols, page, pages) = pane_grid(s, output);
    AppLayout {
        hosts,
        output,
        command,
        status,
        panes,
        cols,
        page,
        pages,
    }
}

/// Whether the output area fills the screen: a pane zoomed while the
/// output has focus and shows panes (not the gathered or recipe view).
pub fn zoomed(s: &AppState) -> bool {
    s.deck.panes.zoomed
        && s.focus == super::state::Focus::Output
        && !s.deck.panes.gathered
        && s.deck.job.is_some()
        && !s.recipe.as_ref().is_some_and(|r| r.show)
}

/// Columns one fact column takes in the host list (a space included):
/// room for its title and a sort arrow, and at least 5 for the value.
pub fn fact_col_width(c: &super::state::Column) -> usize {
    c.title.chars().count().max(5) + 2
}

fn pane_grid(s: &AppState, output: Rect) -> (Vec<(usize, Rect)>, usize, usize, usize) {
    let Some(job) = &s.deck.job else {
        return (Vec::new(), 1, 0, 1);
    };
    let n = job.targets.len();
    if n == 0 || s.deck.panes.gathered {
        return (Vec::new(), 1, 0, 1);
    }
    // Inside the output block's border.
    let inner = Rect::new(
        output.x + 1,
        output.y + 1,
        output.width.saturating_sub(2),
        output.height.saturating_sub(2),
    );
    grid(inner, n, s.deck.panes.focused, zoomed(s), MIN_PANE)
}

/// `n` panes in `inner`: the page holding `focused`, as squarish as fits
/// with panes no smaller than `min`. Returns (index, area) per pane on the
/// page, the column count, the page and the page count.
pub fn grid(
    inner: Rect,
    n: usize,
    focused: usize,
    zoomed: bool,
    min: (u16, u16),
) -> (Vec<(usize, Rect)>, usize, usize, usize) {
    if n == 0 {
        return (Vec::new(), 1, 0, 1);
    }
    let focused = focused.min(n - 1);
    if zoomed {
        return (vec![(focused, inner)], 1, focused, n);
    }
    let max_cols = (inner.width / min.0).max(1) as usize;
    let max_rows = (inner.height / min.1).max(1) as usize;
    let per_page = max_cols * max_rows;
    let pages = n.div_ceil(per_page);
    let page = focused / per_page;
    let first = page * per_page;
    let count = (n - first).min(per_page);
    // Pick the column count that gives the squarest panes (a cell is about
    // twice as tall as wide).
    let mut best = (1usize, f32::MIN);
    for cols in 1..=max_cols.min(count) {
        let rows = count.div_ceil(cols);
        if rows > max_rows {
            continue;
        }
        let w = f32::from(inner.width) / cols as f32;
        let h = f32::from(inner.height) / rows as f32 * 2.0;
        let score = w.min(h);
        if score > best.1 {
            best = (cols, score);
        }
    }
    let cols = best.0;
    let rows = count.div_ceil(cols);
    let mut panes = Vec::with_capacity(count);
    for k in 0..count {
        let (r, c) = (k / cols, k % cols);
        let x0 = inner.x + (u32::from(inner.width) * c as u32 / cols as u32) as u16;
        let x1 = inner.x + (u32::from(inner.width) * (c as u32 + 1) / cols as u32) as u16;
        let y0 = inner.y + (u32::from(inner.height) * r as u32 / rows as u32) as u16;
        let y1 = inner.y + (u32::from(inner.height) * (r as u32 + 1) / rows as u32) as u16;
        panes.push((first + k, Rect::new(x0, y0, x1 - x0, y1 - y0)));
    }
    (panes, cols, page, pages)
}

pub fn contains(r: Rect, col: u16, row: u16) -> bool {
    col >= r.x && col < r.right() && row >= r.y && row < r.bottom()
}

/// The files view: two panes side by side, the transfers panel under
/// them, the status bar last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesLayout {
    pub panes: [Rect; 2],
    pub transfers: Rect,
    pub status: Rect,
}

/// Rows of the transfers panel, borders included.
fn transfers_height(s: &AppState, area: Rect) -> u16 {
    let rows: usize = s
        .files
        .transfers
        .iter()
        .map(|t| 1 + t.hosts.len().min(4))
        .sum();
    let wanted = (rows.max(1) + 2) as u16;
    let max = if s.files.transfers_focused {
        area.height / 2
    } else {
        area.height / 3
    };
    wanted.clamp(3.min(max), max.max(3))
}

pub fn files_layout(s: &AppState, area: Rect) -> FilesLayout {
    let status = Rect::new(
        area.x,
        area.bottom().saturating_sub(1),
        area.width,
        1.min(area.height),
    );
    let th = transfers_height(s, area).min(status.y.saturating_sub(area.y));
    let transfers = Rect::new(area.x, status.y.saturating_sub(th), area.width, th);
    let top = transfers.y.saturating_sub(area.y);
    let left_w = area.width / 2;
    FilesLayout {
        panes: [
            Rect::new(area.x, area.y, left_w, top),
            Rect::new(area.x + left_w, area.y, area.width - left_w, top),
        ],
        transfers,
        status,
    }
}

/// First visible entry of a files pane (two rows of frame: border and
/// column header), so the cursor stays on screen.
pub fn files_offset(cursor: usize, area: Rect) -> usize {
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    cursor.saturating_sub(visible - 1)
}
