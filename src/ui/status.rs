//! The status bar: selection, running jobs, a message, key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::{ACCENT, MUTED, WARN};
use crate::app::AppState;
use crate::app::help::{help_key, hints, key_name};
use crate::app::state::View;
use crate::keymap::{Action, Context};

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    // The two tabs, the current one highlighted; F2 switches.
    let tab = |name: &'static str, on: bool| {
        if on {
            Span::styled(
                format!(" {name} "),
                Style::new()
                    .fg(ratatui::style::Color::Black)
                    .bg(ACCENT)
                    .add_modifier(Modifier::BOLD),
            )
        } else {
            Span::styled(format!(" {name} "), Style::new().fg(MUTED))
        }
    };
    let mut spans = Vec::new();
    // The session's name, as tmux shows it: what `sshdeck attach` takes.
    if let Some(name) = &s.session {
        spans.push(Span::styled(format!("[{name}]"), Style::new().fg(MUTED)));
    }
    spans.extend([
        tab("Hosts", s.view == View::Deck),
        tab("Files", s.view == View::Files),
        tab("Shells", s.view == View::Shells),
        Span::styled(
            format!(" {} selected ", s.selected_count()),
            Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
        ),
    ]);
    let running = s.running();
    if running > 0 {
        spans.push(Span::raw("· "));
        spans.push(Span::styled(
            format!("{running} running "),
            Style::new().fg(WARN),
        ));
    }
    if let Some(transfers) = crate::app::files::transfers::summary(&s.files) {
        spans.push(Span::raw("· "));
        spans.push(Span::styled(format!("{transfers} "), Style::new().fg(WARN)));
    }
    // `? help` is always shown; the message gets what is left after it,
    // and hints fill the rest, dropped from the least useful end.
    let width = usize::from(area.width);
    let help = help_key(s).map(|k| format!("· {k} help"));
    let help_w = help.as_ref().map_or(0, |h| h.chars().count());
    let used: usize = spans.iter().map(|sp| sp.content.chars().count()).sum();
    let mut room = width.saturating_sub(used + help_w);
    if let Some(m) = &s.status {
        let text = fit(&format!("· {m} "), room);
        room = room.saturating_sub(text.chars().count());
        spans.push(Span::styled(text, Style::new().fg(WARN)));
    }
    let mut hint_text = String::new();
    let hint_list = if s.view == View::Shells {
        vec![
            (key_name(s, Context::Global, Action::Shells), "back"),
            (String::new(), "keys go to every shell with input on"),
        ]
    } else {
        hints(s)
    };
    for (key, label) in hint_list {
        let piece = if key.is_empty() {
            format!("· {label} ")
        } else {
            format!("· {key} {label} ")
        };
        // A hint that does not fit is skipped; a shorter one after it may.
        if hint_text.chars().count() + piece.chars().count() > room {
            continue;
        }
        hint_text.push_str(&piece);
    }
    spans.push(Span::styled(hint_text, Style::new().fg(MUTED)));
    if let Some(h) = help {
        spans.push(Span::styled(h, Style::new().fg(ACCENT)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `text` (which ends in a space) cut to `room` characters; too little
/// room for a word and an ellipsis shows nothing.
fn fit(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    if room < 4 {
        return String::new();
    }
    crate::text::shorten(text.trim_end(), room - 1) + " "
}
