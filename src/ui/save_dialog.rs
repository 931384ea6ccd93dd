//! The "save pane" dialog (`s` on an output pane): where to write the
//! host's output, editable, with the keys that finish it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use tui_textarea::TextArea;

use super::dialog::framed;
use super::style::{ACCENT, MUTED};
use crate::app::AppState;
use crate::text::sanitize::visible_name;

pub fn render(f: &mut Frame, s: &AppState, host: usize, input: &TextArea, area: Rect) {
    let label = s.hosts.get(host).map_or("?", |h| h.label.as_str());
    let text = input.lines().first().cloned().unwrap_or_default();
    // The cursor where typing goes, so an edit in the middle shows.
    let at = input.cursor().1.min(text.chars().count());
    let (before, after): (String, String) = (
        text.chars().take(at).collect(),
        text.chars().skip(at).collect(),
    );
    let lines = vec![
        Line::from(format!(
            "Save {}'s pane (with a header line) to:",
            visible_name(label)
        )),
        Line::from(vec![
            Span::raw(visible_name(&before)),
            Span::styled("█", Style::new().fg(ACCENT)),
            Span::raw(visible_name(&after)),
        ]),
        Line::from(""),
        // The `input` context's keys, as under every input.
        Line::from(Span::styled(
            super::dialog::input_keys(s, "saves (a new file, 0600)"),
            Style::new().fg(MUTED),
        )),
    ];
    framed(f, area, 72, lines, " Save pane ", ACCENT);
}
