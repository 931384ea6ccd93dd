//! The command options dialog (Ctrl-O in the command pane).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::dialog::framed;
use super::style::{ACCENT, BAD, MUTED};
use crate::app::AppState;
use crate::app::help::key_name;
use crate::app::options::ROWS;
use crate::keymap::{Action, Context};

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    let o = &s.deck.options;
    let row = o.editing.unwrap_or(0);
    let mut lines = Vec::new();
    for (i, label) in ROWS.iter().enumerate() {
        let cursor = if i == row { "› " } else { "  " };
        let style = if i == row {
            Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        let value = match i {
            0 => check(o.login),
            1 => check(o.pty),
            2 => check(o.sudo),
            3 => format!("{}{}", o.env, if i == row { "▏" } else { "" }),
            4 => format!("{}{}", o.cwd, if i == row { "▏" } else { "" }),
            _ => format!("{}{}", o.timeout, if i == row { "▏" } else { "" }),
        };
        let line = if i < 3 {
            Line::from(vec![Span::styled(
                format!("{cursor}{value} {label}"),
                style,
            )])
        } else {
            Line::from(vec![
                Span::styled(format!("{cursor}{label}: "), style),
                Span::raw(value),
            ])
        };
        lines.push(line);
    }
    lines.push(Line::from(""));
    if let Some(e) = &o.error {
        lines.push(Line::from(Span::styled(e.clone(), Style::new().fg(BAD))));
    }
    lines.push(Line::from(Span::styled(
        format!(
            "{} {} move · Space toggles · type to edit · {}",
            key_name(s, Context::Input, Action::PrevField),
            key_name(s, Context::Input, Action::NextField),
            super::dialog::input_keys(s, "applies")
        ),
        Style::new().fg(MUTED),
    )));
    framed(f, area, 64, lines, " Command options ", ACCENT);
}

fn check(on: bool) -> String {
    if on { "[x]".into() } else { "[ ]".into() }
}
