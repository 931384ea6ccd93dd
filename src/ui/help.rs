//! The `?` overlay: every binding, from the same table the keys use.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::style::ACCENT;
use crate::app::AppState;
use crate::app::files::keys::help_lines as files_help;
use crate::app::keys::help_lines;
use crate::app::state::View;

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    // The files tab shows the global keys, then its own.
    let table: Vec<&(&str, &str)> = match s.view {
        View::Deck => help_lines().iter().collect(),
        View::Files => help_lines()
            .iter()
            .take_while(|(k, _)| !k.is_empty())
            .filter(|(k, _)| !k.starts_with("Tab"))
            .chain(std::iter::once(&("", "")))
            .chain(files_help().iter())
            .collect(),
        View::Shells => std::iter::once(&("Shells", ""))
            .chain(crate::app::shell::help_lines().iter())
            .collect(),
    };
    let lines: Vec<Line> = table
        .into_iter()
        .map(|(k, what)| {
            if what.is_empty() {
                Line::from(Span::styled(
                    k.to_string(),
                    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
                ))
            } else {
                Line::from(vec![
                    Span::styled(format!("  {k:<20}"), Style::new().fg(ACCENT)),
                    Span::raw(*what),
                ])
            }
        })
        .collect();
    let w = 72.min(area.width);
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys · Esc closes "),
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
