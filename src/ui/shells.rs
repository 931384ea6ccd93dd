//! The shells tab: each pane is its host's terminal screen as the emulator
//! holds it. The emulator keeps cells, not bytes, so nothing a host prints
//! can reach the user's terminal as a control sequence.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use tui_term::widget::PseudoTerminal;

use super::style::{ACCENT, BAD, MUTED, OK, WARN};
use crate::app::AppState;
use crate::app::help::{key_name, shell_key};
use crate::app::shell::{area, pane_rects};
use crate::keymap::{Action, Context};

pub fn render(f: &mut Frame, s: &AppState) {
    let v = &s.shells;
    if v.panes.is_empty() {
        let msg = Paragraph::new(vec![
            Line::from(""),
            Line::from("No shells open."),
            Line::from(format!(
                "Select hosts on the Hosts tab, then {} (or {} here).",
                key_name(s, Context::Global, Action::Shells),
                shell_key(s, Action::OpenShells)
            )),
        ])
        .alignment(Alignment::Center)
        .style(Style::new().fg(MUTED));
        f.render_widget(msg, area(s));
        return;
    }
    let receivers = v.receivers();
    let rects = pane_rects(s);
    let pages = rects.len() < v.panes.len() && !v.zoomed;
    for (i, r) in rects {
        let pane = &v.panes[i];
        let focused = i == v.focused;
        let label = s.hosts.get(pane.host).map_or("?", |h| h.label.as_str());
        let taking = receivers.contains(&i);
        let mut title = vec![
            Span::styled(format!(" {} ", i + 1), Style::new().fg(MUTED)),
            Span::styled(
                format!("{label} "),
                Style::new().add_modifier(Modifier::BOLD),
            ),
        ];
        title.push(if taking {
            Span::styled("⌨ on ", Style::new().fg(OK))
        } else {
            Span::styled("⌨ off ", Style::new().fg(MUTED))
        });
        if let Some(end) = &pane.ended {
            title.push(Span::styled(format!("· {end} "), Style::new().fg(BAD)));
        } else if pane.job.is_none() {
            title.push(Span::styled("· opening ", Style::new().fg(WARN)));
        }
        if pane.scroll > 0 {
            title.push(Span::styled(
                format!("· ↑{} ", pane.scroll),
                Style::new().fg(WARN),
            ));
        }
        let border = if focused {
            Style::new().fg(ACCENT)
        } else if taking {
            Style::new().fg(OK)
        } else {
            Style::new().fg(MUTED)
        };
        let mut block = Block::default()
            .borders(Borders::ALL)
            .border_style(border)
            .title(Line::from(title));
        if v.zoomed {
            block = block.title_bottom(
                Line::from(Span::styled(
                    format!(
                        " zoomed: only this host gets input · {} ",
                        shell_key(s, Action::Zoom)
                    ),
                    Style::new().fg(WARN),
                ))
                .right_aligned(),
            );
        } else if pages && focused {
            block = block.title_bottom(
                Line::from(Span::styled(
                    format!(
                        " {} shells, more on other pages · {} {} ",
                        v.panes.len(),
                        shell_key(s, Action::Left),
                        key_name(s, Context::Shells, Action::Right)
                    ),
                    Style::new().fg(MUTED),
                ))
                .right_aligned(),
            );
        }
        let term = PseudoTerminal::new(pane.term.screen())
            .block(block)
            .cursor(tui_term::widget::Cursor::default().visibility(focused && pane.live()));
        f.render_widget(term, r);
        if pane.ended.is_some() {
            let hint = Rect::new(
                r.x + 1,
                r.bottom().saturating_sub(2),
                r.width.saturating_sub(2),
                1,
            );
            f.render_widget(
                Paragraph::new(Span::styled(
                    format!(
                        "shell ended · {} reopens · {} closes",
                        shell_key(s, Action::Reopen),
                        shell_key(s, Action::Close)
                    ),
                    Style::new().fg(WARN),
                )),
                hint,
            );
        }
    }
}
