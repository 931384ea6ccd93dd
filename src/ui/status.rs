//! The status bar: selection, running jobs, a message, key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::{ACCENT, MUTED, WARN};
use crate::app::AppState;
use crate::app::state::{Focus, View};

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
    let mut spans = vec![
        tab("Hosts", s.view == View::Deck),
        tab("Files", s.view == View::Files),
        tab("Shells", s.view == View::Shells),
        Span::styled(
            format!(" {} selected ", s.selected_count()),
            Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
        ),
        Span::raw("· "),
    ];
    let running = s.running();
    if running > 0 {
        spans.push(Span::styled(
            format!("{running} running "),
            Style::new().fg(WARN),
        ));
        spans.push(Span::raw("· "));
    }
    if let Some(m) = &s.status {
        spans.push(Span::styled(format!("{m} "), Style::new().fg(WARN)));
        spans.push(Span::raw("· "));
    }
    let active = s.files.active_transfers();
    if active > 0 {
        spans.push(Span::styled(
            format!("{active} transfer(s) "),
            Style::new().fg(WARN),
        ));
        spans.push(Span::raw("· "));
    }
    let hints = if s.view == View::Shells {
        "typing goes to every shell with input on · Ctrl-] ? keys · F3 back"
    } else if s.view == View::Files {
        "Tab pane · F5 copy · F6 move · F7 mkdir · F8 delete · o side · t transfers · F2 hosts · ? help"
    } else {
        match s.focus {
            Focus::Hosts => {
                "Space select · a all · / filter · g group · Tab focus · F2 files · ? help · q quit"
            }
            Focus::Output => "arrows panes · z zoom · PgUp/PgDn · / search · b gather · ? help",
            Focus::Command => {
                "Enter run · Alt-Enter newline · Up history · Tab focus · Ctrl-X cancel"
            }
        }
    };
    spans.push(Span::styled(hints, Style::new().fg(MUTED)));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
