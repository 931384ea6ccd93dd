//! The command pane (tui-textarea).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders};

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::style::{WARN, border};
use crate::app::AppState;
use crate::app::help::key_name;
use crate::app::state::Focus;
use crate::keymap::{Action, Context};

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    let focused = s.focus == Focus::Command;
    let n = s.selected_count();
    let key = |a| key_name(s, Context::Command, a);
    let title = match n {
        0 => " Command · select hosts first ".to_string(),
        n => format!(
            " Command · {} runs on {} · {} new line ",
            key(Action::Run),
            crate::text::count(n, "host", "hosts"),
            key(Action::Newline)
        ),
    };
    let options = key(Action::Options);
    // While Ctrl-R searches, the title says so and how to leave.
    let title = match &s.deck.history_search {
        Some(h) => format!(
            " History search: {}{} · {} older · {} runs · {} edits · {} cancels ",
            h.query,
            if h.hit.is_none() && !h.query.is_empty() {
                " (no match)"
            } else {
                ""
            },
            key_name(s, Context::HistorySearch, Action::Older),
            key_name(s, Context::HistorySearch, Action::Run),
            key_name(s, Context::HistorySearch, Action::Keep),
            key_name(s, Context::HistorySearch, Action::Cancel)
        ),
        None => title,
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(border(focused))
        .title(title);
    // Options in force are always visible: nothing runs with a hidden sudo.
    let opts = s.deck.options.summary();
    block = if opts.is_empty() {
        block.title_bottom(Line::from(format!(" {options} options ")).right_aligned())
    } else {
        block.title_bottom(
            Line::from(Span::styled(
                format!(" {opts} · {options} "),
                Style::new().fg(WARN).add_modifier(Modifier::BOLD),
            ))
            .right_aligned(),
        )
    };
    let inner = block.inner(area);
    f.render_widget(block, area);
    // The placeholder names the run key as the keymap has it; an empty
    // area is cheap to copy.
    if s.deck.command.is_empty() {
        let mut t = s.deck.command.clone();
        t.set_placeholder_text(format!(
            "type a command for the selected hosts ({} runs it)",
            key(Action::Run)
        ));
        f.render_widget(&t, inner);
    } else {
        f.render_widget(&s.deck.command, inner);
    }
}
