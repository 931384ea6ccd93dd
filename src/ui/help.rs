//! The `?` overlay: every binding, from the same table the keys use,
//! wrapped to fit and scrolled.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::style::{ACCENT, MUTED};
use crate::app::AppState;
use crate::app::help::key_name;
use crate::app::help::{HelpRow, KEYS_COL, geometry, rows, visible};
use crate::keymap::{Action, Context};

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    let size = (area.width, area.height);
    let all = rows(s, size);
    let room = visible(size);
    let first = s.help.scroll.min(all.len().saturating_sub(room));
    let lines: Vec<Line> = all
        .iter()
        .skip(first)
        .take(room)
        .map(|r| match r {
            HelpRow::Heading(h) => Line::from(Span::styled(
                h.to_string(),
                Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
            )),
            HelpRow::Entry { keys, help } => Line::from(vec![
                Span::styled(
                    format!("  {keys:<w$} ", w = KEYS_COL - 3),
                    Style::new().fg(ACCENT),
                ),
                Span::raw(help.clone()),
            ]),
        })
        .collect();
    let (w, h) = geometry(size);
    let r = centered(area, w, h);
    let position = if all.is_empty() {
        " no key matches ".to_string()
    } else {
        format!(
            " {}-{} of {} ",
            first + 1,
            (first + room).min(all.len()),
            all.len()
        )
    };
    let bottom = if s.help.filter.is_empty() {
        let key = |a| key_name(s, Context::Help, a);
        Line::from(Span::styled(
            format!(
                " type to filter · {} {} {} {} scroll ",
                key(Action::Up),
                key(Action::Down),
                key(Action::PageUp),
                key(Action::PageDown)
            ),
            Style::new().fg(MUTED),
        ))
    } else {
        Line::from(vec![
            Span::styled(" filter: ", Style::new().fg(ACCENT)),
            Span::raw(s.help.filter.clone()),
            Span::styled("█ ", Style::new().fg(ACCENT)),
        ])
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(
                    " Keys · {} closes ",
                    key_name(s, Context::Help, Action::ClearFilter)
                ))
                .title(Line::from(position).right_aligned())
                .title_bottom(bottom),
        ),
        r,
    );
}

pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
