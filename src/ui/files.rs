//! The files tab: two panes (name, size, mode, mtime), the drop hint while
//! dragging, and the footer with sort, filter and marks.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::style::{ACCENT, BAD, MUTED, WARN, border};
use crate::app::AppState;
use crate::app::files::side_label;
use crate::app::files::state::{FilePane, Side, mode_string};
use crate::app::layout::{contains, files_offset};
use crate::engine::files::fs::{FileEntry, FileKind};
use crate::text::sanitize::{is_mangled_name, visible_name};
use crate::text::{human_bytes, utc_minute};

/// " side (listing host): /path " fitted to `room` columns. The path keeps
/// its end ("…/app/releases", which says where you are); the listing note
/// stays while the path keeps at least a dozen characters beside it.
fn pane_title(side: &str, listing: Option<&str>, cwd: &str, room: usize) -> String {
    const PATH_MIN: usize = 12;
    // Nothing listed yet (no hosts selected): no colon left dangling.
    if cwd.is_empty() {
        return format!(" {side} ");
    }
    let width = |t: &str| t.chars().count();
    let fitted = |head: String| {
        let path_room = room.saturating_sub(width(&head) + 1);
        let path = if width(cwd) <= path_room {
            cwd.to_string()
        } else {
            let keep = path_room.saturating_sub(1);
            format!(
                "…{}",
                cwd.chars().skip(width(cwd) - keep).collect::<String>()
            )
        };
        (format!("{head}{path} "), path_room)
    };
    if let Some(from) = listing {
        let (title, path_room) = fitted(format!(" {side} (listing {from}): "));
        if path_room >= PATH_MIN.min(width(cwd)) {
            return title;
        }
    }
    fitted(format!(" {side}: ")).0
}

pub fn render(f: &mut Frame, s: &AppState, idx: usize, area: Rect) {
    let p = &s.files.panes[idx];
    let active = s.files.active == idx && !s.files.transfers_focused;
    let drop_here = s
        .files
        .drag
        .as_ref()
        .is_some_and(|d| d.from != idx && contains(area, d.at.0, d.at.1));
    let listing = match (p.side, &p.listed_from) {
        (Side::Selected, Some(from)) => Some(visible_name(from)),
        _ => None,
    };
    let title = pane_title(
        &side_label(s, p.side),
        listing.as_deref(),
        &visible_name(&p.cwd),
        usize::from(area.width.saturating_sub(2)),
    );
    let style = if drop_here {
        Style::new().fg(WARN).add_modifier(Modifier::BOLD)
    } else {
        border(active)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(title)
        .title_bottom(footer(p, drop_here));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = usize::from(inner.width);
    let mut lines = vec![Line::from(Span::styled(
        row_text(w, "Name", "Size", "Mode", "Modified"),
        Style::new().fg(MUTED).add_modifier(Modifier::BOLD),
    ))];
    if let Some(e) = &p.error {
        lines.push(Line::from(Span::styled(
            visible_name(e),
            Style::new().fg(BAD),
        )));
    } else if p.loading && p.entries.is_empty() {
        lines.push(Line::from(Span::styled("listing…", Style::new().fg(MUTED))));
    } else if p.visible().is_empty() {
        let why = if p.entries.is_empty() {
            "empty directory"
        } else {
            "nothing matches (. shows hidden files)"
        };
        lines.push(Line::from(Span::styled(why, Style::new().fg(MUTED))));
    }
    let vis = p.visible();
    let first = files_offset(p.cursor, area);
    let room = usize::from(inner.height).saturating_sub(lines.len());
    for (i, e) in vis.iter().enumerate().skip(first).take(room) {
        let mut line = entry_line(p, e, w);
        if i == p.cursor {
            let st = if active {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new().add_modifier(Modifier::UNDERLINED)
            };
            line = line.patch_style(st);
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn footer(p: &FilePane, drop_here: bool) -> String {
    if drop_here {
        return " drop to copy here (Shift: move) ".into();
    }
    let mut parts = vec![format!(
        "sort {}{}",
        p.sort.label(),
        if p.reverse { " ↓" } else { "" }
    )];
    if !p.filter.is_empty() {
        parts.push(format!("filter {}", p.filter));
    }
    if p.show_hidden {
        parts.push("hidden shown".into());
    }
    if p.refused > 0 {
        parts.push(format!(
            "{} not shown: unsafe",
            crate::text::count(p.refused, "name", "names")
        ));
    }
    if !p.marked.is_empty() {
        let bytes: u64 = p
            .entries
            .iter()
            .filter(|e| p.marked.contains(&e.name))
            .map(|e| e.size)
            .sum();
        parts.push(format!("{} marked, {}", p.marked.len(), human_bytes(bytes)));
    }
    if p.loading {
        parts.push("listing…".into());
    }
    format!(" {} ", parts.join(" · "))
}

/// Columns: name takes what is left after size (10), mode (10) and
/// mtime (16), which drop out (mtime first) on narrow panes.
fn row_text(w: usize, name: &str, size: &str, mode: &str, mtime: &str) -> String {
    let mut fixed = Vec::new();
    if w >= 30 {
        fixed.push(format!("{size:>10}"));
    }
    if w >= 44 {
        fixed.push(format!("{mode:<10}"));
    }
    if w >= 56 {
        fixed.push(format!("{mtime:<16}"));
    }
    let rest: usize = fixed.iter().map(|c| c.chars().count() + 1).sum();
    let name_w = w.saturating_sub(rest + 2).max(1);
    let n = crate::text::shorten(name, name_w);
    let mut out = format!("  {n:<name_w$}");
    for c in fixed {
        out.push(' ');
        out.push_str(&c);
    }
    out
}

fn entry_line(p: &FilePane, e: &FileEntry, w: usize) -> Line<'static> {
    // Names come from remote hosts: never let one drive the terminal.
    let mut name = visible_name(&e.name);
    let (size, style) = match e.kind {
        FileKind::Dir => (
            "<DIR>".to_string(),
            Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
        ),
        FileKind::Symlink if e.to_dir => ("<LINK>".to_string(), Style::new().fg(ACCENT)),
        FileKind::Symlink => (
            human_bytes(e.size),
            Style::new().fg(ACCENT).add_modifier(Modifier::ITALIC),
        ),
        FileKind::Other => (String::new(), Style::new().fg(MUTED)),
        FileKind::File if e.mode & 0o111 != 0 => {
            (human_bytes(e.size), Style::new().fg(super::style::OK))
        }
        FileKind::File => (human_bytes(e.size), Style::new()),
    };
    if e.is_dir_like() {
        name.push('/');
    } else if e.kind == FileKind::Symlink {
        name.push('@');
    }
    let mtime = e.mtime.map(utc_minute).unwrap_or_default();
    let text = row_text(w, &name, &size, &mode_string(e.kind, e.mode), &mtime);
    let marked = p.marked.contains(&e.name);
    // Its real name has bytes that are not UTF-8: it can be seen, not copied.
    let style = if is_mangled_name(&e.name) {
        style.fg(BAD)
    } else {
        style
    };
    let (mark, rest) = text.split_at(2);
    let mark = if marked { "● " } else { mark };
    let style = if marked { style.fg(WARN) } else { style };
    Line::from(vec![
        Span::styled(mark.to_string(), Style::new().fg(WARN)),
        Span::styled(rest.to_string(), style),
    ])
}

#[cfg(test)]
mod tests {
    use super::pane_title;

    #[test]
    fn a_narrow_pane_keeps_the_end_of_its_path() {
        assert_eq!(
            pane_title("3 selected hosts", Some("web01"), "/srv/app", 60),
            " 3 selected hosts (listing web01): /srv/app "
        );
        assert_eq!(
            pane_title("3 selected hosts", Some("web01"), "/srv/app", 38),
            " 3 selected hosts: /srv/app "
        );
        let t = pane_title("local", None, "/home/me/projects/deep/tree", 20);
        assert_eq!(t, " local: …/deep/tree ");
        assert!(t.chars().count() <= 20);
        // Room for the note and a dozen characters of path: both stay.
        let t = pane_title(
            "2 selected hosts",
            Some("node0"),
            "/tmp/farm-abc/host000/files",
            50,
        );
        assert_eq!(t, " 2 selected hosts (listing node0): …host000/files ");
        assert!(t.chars().count() <= 50);
        assert_eq!(
            pane_title("no hosts selected", None, "", 40),
            " no hosts selected "
        );
    }
}
