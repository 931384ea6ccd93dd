//! The command palette: what is typed, and the matching recipes, saved
//! commands and actions, the chosen one highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::style::{ACCENT, MUTED, OK, WARN};
use crate::app::AppState;
use crate::app::help::key_name;
use crate::app::palette::filtered;
use crate::keymap::{Action, Context};

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    let entries = filtered(s);
    let w = 76.min(area.width);
    let list_h = (entries.len() as u16).clamp(1, area.height.saturating_sub(6).max(1));
    let h = (list_h + 3).min(area.height);
    // Near the top, where the eye is after pressing Ctrl-P.
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + 1.min(area.height),
        w,
        h,
    );
    let typed = s.palette.input.lines().first().cloned().unwrap_or_default();
    let mut lines = vec![Line::from(vec![
        Span::styled("> ", Style::new().fg(ACCENT)),
        if typed.is_empty() {
            Span::styled("recipe, saved command or action", Style::new().fg(MUTED))
        } else {
            Span::raw(typed)
        },
        Span::styled("█", Style::new().fg(ACCENT)),
    ])];
    let visible = usize::from(list_h);
    let first = s.palette.cursor.saturating_sub(visible.saturating_sub(1));
    let inner_w = usize::from(w.saturating_sub(2));
    for (i, e) in entries.iter().enumerate().skip(first).take(visible) {
        let kind_color = match e.kind {
            "recipe" => OK,
            "command" => WARN,
            _ => MUTED,
        };
        let head = format!("{:<8}{}  ", e.kind, e.name);
        let room = inner_w.saturating_sub(head.chars().count());
        let detail = shorten(&e.detail, room);
        let mut line = Line::from(vec![
            Span::styled(format!("{:<8}", e.kind), Style::new().fg(kind_color)),
            Span::styled(e.name.clone(), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw("  "),
            Span::styled(detail, Style::new().fg(MUTED)),
        ]);
        if i == s.palette.cursor {
            line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    if entries.is_empty() {
        lines.push(Line::from(Span::styled(
            "nothing matches",
            Style::new().fg(MUTED),
        )));
    }
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(Style::new().fg(ACCENT))
                .title(format!(
                    " Palette · {} runs · {} closes ",
                    key_name(s, Context::Palette, Action::Choose),
                    key_name(s, Context::Palette, Action::Close)
                )),
        ),
        r,
    );
}

/// `detail` in at most `room` characters: a long help is cut with "…",
/// keeping its key at the end ("… (R)"), which is what the entry is for.
fn shorten(detail: &str, room: usize) -> String {
    if detail.chars().count() <= room {
        return detail.to_string();
    }
    let (help, key) = match detail.rfind(" (") {
        Some(i) if detail.ends_with(')') => detail.split_at(i),
        _ => (detail, ""),
    };
    let keep = room.saturating_sub(key.chars().count() + 1);
    if keep == 0 {
        return detail.chars().take(room).collect();
    }
    let cut: String = help.chars().take(keep).collect();
    // At a word's end, when there is one: "again…", not "agai…".
    let cut = match cut.rfind(' ') {
        Some(i) if i > 0 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…{key}", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn a_long_detail_keeps_its_key() {
        let d = "run the last command again on the hosts where it failed (R)";
        assert_eq!(shorten(d, 100), d);
        let s = shorten(d, 30);
        assert_eq!(s, "run the last command… (R)");
        assert!(s.chars().count() <= 30, "{s}");
        assert_eq!(shorten("no key here at all", 8), "no key…");
        assert_eq!(shorten("unbreakable-words-only", 8), "unbreak…");
    }
}
