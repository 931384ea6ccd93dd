//! `i` on the host list: where the inventory names one host, every fact
//! of it and its failed collectors, in a scrollable box.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::help::centered;
use super::style::{ACCENT, BAD, MUTED};
use crate::app::AppState;
use crate::app::facts::info_lines;
use crate::app::help::key_name;
use crate::keymap::{Action, Context};

pub fn render(f: &mut Frame, s: &AppState, host: usize, scroll: usize, area: Rect) {
    let Some(row) = s.hosts.get(host) else {
        return;
    };
    let lines = info_lines(s, host);
    let key_w = lines
        .iter()
        .map(|(k, _, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .min(32);
    let w = 84.min(area.width);
    let h = area.height.saturating_sub(4).max(3);
    let r = centered(area, w, h);
    let mut text: Vec<Line> = lines
        .iter()
        .skip(scroll)
        .map(|(k, v, failed)| {
            let key: String = k.chars().take(key_w).collect();
            let style = if *failed {
                Style::new().fg(BAD)
            } else {
                Style::new()
            };
            Line::from(vec![
                Span::styled(format!("{key:key_w$}  "), Style::new().fg(ACCENT)),
                Span::styled(v.clone(), style),
            ])
        })
        .collect();
    if row.facts.is_empty() && row.fact_errors.is_empty() {
        let why = if !s.facts_enabled {
            "No facts collectors are configured."
        } else if row.facts_watched {
            "Collecting… facts appear as each collector reports."
        } else {
            "No facts yet: they are collected when the host connects (r collects now)."
        };
        text.push(Line::from(Span::styled(why, Style::new().fg(MUTED))));
    }
    let title = Line::from(vec![
        Span::styled(
            format!(" {} ", row.label),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            "· {}, {} failed · {} refresh · {} closes ",
            crate::text::count(row.facts.len(), "fact", "facts"),
            row.fact_errors.len(),
            key_name(s, Context::Info, Action::Refresh),
            key_name(s, Context::Info, Action::Close)
        )),
    ]);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(Style::new().fg(ACCENT))
                .title(title),
        ),
        r,
    );
}
