//! The shells tab (F3): a PTY shell per host, each drawn by its own
//! terminal emulator, and typing that goes to every host whose input is on
//! (ClusterSSH's model). Keys are encoded per pane, since each program
//! picks its own cursor-key and paste modes.
//!
//! Every key goes to the hosts except F3 (back to the other tabs) and the
//! prefix Ctrl-], after which one key is a command for sshdeck; Ctrl-] ]
//! sends a literal Ctrl-].

pub mod encode;
pub mod state;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::layout::{contains, grid};
use super::msg::Effect;
use super::state::{AppState, HostListRow, View};
use crate::engine::{Event, EventKind, JobId};
use crate::keymap::{Action, Context};
use state::{SCROLLBACK, ShellPane};

/// Smallest shell pane (columns, rows), borders included.
pub const MIN_SHELL: (u16, u16) = (30, 8);

/// The tab's area: everything above the status bar.
pub fn area(s: &AppState) -> Rect {
    let (w, h) = s.size;
    Rect::new(0, 0, w, h.saturating_sub(1))
}

/// (pane index, area) for the panes on screen.
pub fn pane_rects(s: &AppState) -> Vec<(usize, Rect)> {
    let v = &s.shells;
    grid(area(s), v.panes.len(), v.focused, v.zoomed, MIN_SHELL).0
}

/// Inside a pane's border: (cols, rows) of its terminal.
pub fn inner_size(r: Rect) -> (u16, u16) {
    (
        r.width.saturating_sub(2).max(1),
        r.height.saturating_sub(2).max(1),
    )
}

/// F3 from the other tabs: show the shells, opening them for the selected
/// hosts when none is open.
pub fn enter(s: &mut AppState) -> Vec<Effect> {
    s.view = View::Shells;
    s.deck.input = None;
    s.shells.prefix = false;
    if s.shells.panes.iter().any(ShellPane::live) {
        return sync(s);
    }
    s.shells.panes.clear();
    open_for_selection(s)
}

/// Open a shell for every selected host (the host under the cursor when
/// none is selected) that has no live one yet.
pub fn open_for_selection(s: &mut AppState) -> Vec<Effect> {
    let mut hosts = s.selected();
    if hosts.is_empty()
        && let Some(HostListRow::Host(h)) = s.rows().get(s.deck.cursor)
    {
        hosts.push(*h);
    }
    if hosts.is_empty() {
        s.status = Some(format!(
            "select hosts first ({} in the host list)",
            super::help::key_name(s, crate::keymap::Context::Hosts, Action::Select)
        ));
        return Vec::new();
    }
    let mut opened = Vec::new();
    for h in hosts {
        if s.shells.panes.iter().any(|p| p.host == h && p.live()) {
            continue;
        }
        let id = new_pane(s, h);
        opened.push(id);
    }
    size_new_panes(s, &opened)
}

fn new_pane(s: &mut AppState, host: usize) -> u64 {
    let v = &mut s.shells;
    v.next_id += 1;
    let id = v.next_id;
    v.panes.push(ShellPane {
        id,
        host,
        job: None,
        term: vt100::Parser::new(24, 80, SCROLLBACK),
        input: true,
        ended: None,
        size: (0, 0),
        scroll: 0,
    });
    id
}

/// Give new panes their size and ask the runner to open them; panes not on
/// the current page take the size of the first visible one.
fn size_new_panes(s: &mut AppState, ids: &[u64]) -> Vec<Effect> {
    let rects = pane_rects(s);
    let fallback = rects.first().map_or((80, 24), |(_, r)| inner_size(*r));
    let mut effects = Vec::new();
    for id in ids {
        let Some(i) = s.shells.panes.iter().position(|p| p.id == *id) else {
            continue;
        };
        let (cols, rows) = rects
            .iter()
            .find(|(k, _)| *k == i)
            .map_or(fallback, |(_, r)| inner_size(*r));
        let pane = &mut s.shells.panes[i];
        pane.term.screen_mut().set_size(rows, cols);
        pane.size = (cols, rows);
        effects.push(Effect::OpenShell {
            id: *id,
            host: pane.host,
            cols,
            rows,
        });
    }
    effects.extend(sync(s));
    effects
}

/// Resize the emulators of visible panes to their areas, and tell their
/// hosts (window-change) when that changed.
pub fn sync(s: &mut AppState) -> Vec<Effect> {
    let mut effects = Vec::new();
    for (i, r) in pane_rects(s) {
        let (cols, rows) = inner_size(r);
        let pane = &mut s.shells.panes[i];
        if pane.size != (cols, rows) {
            pane.size = (cols, rows);
            pane.term.screen_mut().set_size(rows, cols);
            if pane.live() {
                effects.push(Effect::ShellResize {
                    id: pane.id,
                    cols,
                    rows,
                });
            }
        }
    }
    effects
}

pub fn on_started(s: &mut AppState, id: u64, job: JobId) {
    if let Some(p) = s.shells.pane_by_id(id) {
        p.job = Some(job);
    }
}

/// Output and ends of shell jobs. Returns false for events of other jobs.
pub fn on_event(s: &mut AppState, ev: &Event) -> bool {
    let Some(p) = s.shells.pane_by_job(ev.job) else {
        return false;
    };
    match &ev.kind {
        EventKind::Stdout(d) | EventKind::Stderr(d) => p.term.process(d),
        EventKind::Exit { status, .. } => p.ended = Some(status.to_string()),
        EventKind::Failed { error, .. } => p.ended = Some(error.to_string()),
        // Connection states are the host list's business.
        _ => return false,
    }
    true
}

fn broadcast(
    s: &mut AppState,
    bytes_for: impl Fn(&vt100::Screen) -> Option<Vec<u8>>,
) -> Vec<Effect> {
    let receivers = s.shells.receivers();
    if receivers.is_empty() {
        s.status = Some(format!(
            "no shell takes input: {} turns it on for all",
            super::help::shell_key(s, Action::InputAll)
        ));
        return Vec::new();
    }
    let mut effects = Vec::new();
    for i in receivers {
        let pane = &mut s.shells.panes[i];
        let Some(bytes) = bytes_for(pane.term.screen()) else {
            continue;
        };
        // Typing returns a scrolled-back pane to its live screen.
        pane.scroll = 0;
        pane.term.screen_mut().set_scrollback(0);
        effects.push(Effect::ShellInput { id: pane.id, bytes });
    }
    effects
}

pub fn on_paste(s: &mut AppState, text: &str) -> Vec<Effect> {
    broadcast(s, |screen| {
        Some(encode::paste_bytes(text, screen.bracketed_paste()))
    })
}

/// A key in the shells tab: typed into the shells, or `Err(context)` when
/// it is the keymap's in that context (the key after the Ctrl-] prefix,
/// or the key of the global `shells` action, which leaves the tab), for
/// the caller to dispatch.
pub fn on_key(s: &mut AppState, k: KeyEvent) -> Result<Vec<Effect>, Context> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if s.shells.prefix {
        s.shells.prefix = false;
        return on_command(s, k);
    }
    if s.keymap.lookup(Context::Global, &k) == Some(Action::Shells) {
        return Err(Context::Global);
    }
    Ok(match k.code {
        KeyCode::Char(']') | KeyCode::Char('5') if ctrl => {
            s.shells.prefix = true;
            Vec::new()
        }
        _ => broadcast(s, |screen| {
            encode::key_bytes(&k, screen.application_cursor())
        }),
    })
}

/// The key after Ctrl-]: digits focus a shell; the rest is the keymap's.
fn on_command(s: &mut AppState, k: KeyEvent) -> Result<Vec<Effect>, Context> {
    if let KeyCode::Char(c @ '1'..='9') = k.code
        && k.modifiers.is_empty()
    {
        let i = (c as usize) - ('1' as usize);
        if i < s.shells.panes.len() {
            s.shells.focused = i;
            return Ok(sync(s));
        }
        return Ok(Vec::new());
    }
    Err(Context::Shells)
}

/// The shells tab's actions, after the prefix.
pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let v = &mut s.shells;
    match a {
        Action::SendPrefix => return Some(broadcast(s, |_| Some(vec![0x1d]))),
        Action::Suspend => return Some(vec![Effect::Suspend]),
        Action::Detach => return Some(crate::app::actions::detach::detach(s)),
        Action::Zoom => {
            v.zoomed = !v.zoomed;
            return Some(sync(s));
        }
        Action::InputToggle => {
            if let Some(p) = v.panes.get_mut(v.focused) {
                p.input = !p.input;
            }
        }
        Action::InputAll => v.panes.iter_mut().for_each(|p| p.input = true),
        Action::InputInvert => v.panes.iter_mut().for_each(|p| p.input = !p.input),
        Action::InputSolo => {
            let f = v.focused;
            for (i, p) in v.panes.iter_mut().enumerate() {
                p.input = i == f;
            }
        }
        Action::Left => move_focus(s, -1),
        Action::Right => move_focus(s, 1),
        Action::Up => move_focus_rows(s, -1),
        Action::Down => move_focus_rows(s, 1),
        Action::PageUp => scroll(s, None, half_page(s) as isize),
        Action::PageDown => scroll(s, None, -(half_page(s) as isize)),
        Action::OpenShells => return Some(open_for_selection(s)),
        Action::Close => return Some(close_focused(s)),
        Action::Reopen => return Some(reopen_focused(s)),
        Action::Help => super::help::open(s),
        Action::Back => s.view = View::Deck,
        _ => return None,
    }
    Some(Vec::new())
}

fn half_page(s: &AppState) -> usize {
    s.shells
        .panes
        .get(s.shells.focused)
        .map_or(10, |p| usize::from(p.size.1 / 2).max(1))
}

fn move_focus(s: &mut AppState, d: isize) {
    let n = s.shells.panes.len();
    if n > 0 {
        s.shells.focused = (s.shells.focused as isize + d).rem_euclid(n as isize) as usize;
    }
}

fn move_focus_rows(s: &mut AppState, d: isize) {
    let v = &s.shells;
    let cols = grid(area(s), v.panes.len(), v.focused, v.zoomed, MIN_SHELL).1;
    let target = v.focused as isize + d * cols as isize;
    if target >= 0 && (target as usize) < v.panes.len() {
        s.shells.focused = target as usize;
    }
}

/// Scroll pane `i` (the focused one when None) back by `delta` lines.
fn scroll(s: &mut AppState, i: Option<usize>, delta: isize) {
    let i = i.unwrap_or(s.shells.focused);
    if let Some(p) = s.shells.panes.get_mut(i) {
        let want = (p.scroll as isize + delta).clamp(0, SCROLLBACK as isize) as usize;
        p.term.screen_mut().set_scrollback(want);
        // The emulator stops at what it has.
        p.scroll = p.term.screen().scrollback();
    }
}

fn close_focused(s: &mut AppState) -> Vec<Effect> {
    let f = s.shells.focused;
    if f >= s.shells.panes.len() {
        return Vec::new();
    }
    let pane = s.shells.panes.remove(f);
    s.shells.focused = f.min(s.shells.panes.len().saturating_sub(1));
    if s.shells.panes.is_empty() {
        s.shells.zoomed = false;
    }
    let mut effects = Vec::new();
    if pane.live() {
        effects.push(Effect::CloseShell { id: pane.id });
    }
    effects.extend(sync(s));
    effects
}

fn reopen_focused(s: &mut AppState) -> Vec<Effect> {
    let f = s.shells.focused;
    let Some(p) = s.shells.panes.get(f) else {
        return Vec::new();
    };
    if p.live() {
        s.status = Some(format!(
            "this shell is still open ({} closes it)",
            super::help::shell_key(s, Action::Close)
        ));
        return Vec::new();
    }
    let host = p.host;
    let id = new_pane(s, host);
    // The new pane takes the old one's place.
    if let Some(new) = s.shells.panes.pop() {
        s.shells.panes[f] = new;
    }
    size_new_panes(s, &[id])
}

pub fn on_mouse(s: &mut AppState, m: MouseEvent) -> Vec<Effect> {
    let Some((i, r)) = pane_rects(s)
        .into_iter()
        .find(|(_, r)| contains(*r, m.column, m.row))
    else {
        return Vec::new();
    };
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            if m.row == r.y
                && let Some(p) = s.shells.panes.get_mut(i)
            {
                p.input = !p.input;
            }
            s.shells.focused = i;
            Vec::new()
        }
        MouseEventKind::ScrollUp => {
            scroll(s, Some(i), 3);
            Vec::new()
        }
        MouseEventKind::ScrollDown => {
            scroll(s, Some(i), -3);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Shells that are still open (for the quit question).
pub fn live(s: &AppState) -> usize {
    s.shells.panes.iter().filter(|p| p.live()).count()
}
