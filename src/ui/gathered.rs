//! The gathered view: hosts grouped by result and identical output, in
//! `clush -b`'s order; groups other than the largest are highlighted as
//! divergent, and `d` shows the selected group's diff against the largest.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::style::{ACCENT, BAD, MUTED, OK, WARN, border};
use crate::app::AppState;
use crate::app::gather::{ResultGroup, diff, groups, largest_group};
use crate::app::state::Focus;

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    let gs = groups(s);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border(s.focus == Focus::Output))
        .title(format!(
            " Gathered: {} · {} back ",
            crate::text::count(gs.len(), "group", "groups"),
            crate::app::help::key_name(
                s,
                crate::keymap::Context::Main,
                crate::keymap::Action::Gather
            )
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    if gs.is_empty() {
        lines.push(Line::from(Span::styled(
            "Run a command to see grouped results.",
            Style::new().fg(MUTED),
        )));
    }
    let cursor = s.deck.panes.gathered_cursor.min(gs.len().saturating_sub(1));
    let main = largest_group(&gs);
    for (i, g) in gs.iter().enumerate() {
        let selected = i == cursor;
        let divergent = main.is_some_and(|m| m != i);
        lines.push(group_header(g, divergent, selected));
        if let Some(m) = main.filter(|_| selected && s.deck.panes.show_diff && divergent) {
            lines.extend(diff_lines(&gs[m], g));
        } else {
            lines.extend(output_lines(g, selected));
        }
    }
    let _ = ACCENT;
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// A group's header: its hosts folded, their outcome, and whether it
/// differs from the largest group.
fn group_header(g: &ResultGroup, divergent: bool, selected: bool) -> Line<'static> {
    let color = if g.outcome == "exit 0" && !divergent {
        OK
    } else if divergent {
        WARN
    } else {
        BAD
    };
    let mut header = Style::new().fg(color).add_modifier(Modifier::BOLD);
    if selected {
        header = header.add_modifier(Modifier::REVERSED);
    }
    let tag = if divergent { " (differs)" } else { "" };
    Line::from(Span::styled(
        format!("── {} ({}) · {}{tag}", g.nodeset, g.hosts.len(), g.outcome),
        header,
    ))
}

/// The group's output as a diff against the largest group's.
fn diff_lines(largest: &ResultGroup, g: &ResultGroup) -> Vec<Line<'static>> {
    diff(&largest.text, &g.text)
        .into_iter()
        .map(|(tag, text)| {
            let style = match tag {
                '+' => Style::new().fg(OK),
                '-' => Style::new().fg(BAD),
                _ => Style::new().fg(MUTED),
            };
            Line::from(Span::styled(format!("{tag} {text}"), style))
        })
        .collect()
}

/// The group's output: whole when selected, else its first 8 lines and
/// a count of the rest.
fn output_lines(g: &ResultGroup, selected: bool) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if g.partial {
        // Grouped by all it sent; only the end is still held.
        lines.push(Line::from(Span::styled(
            "  (longer than the scrollback; showing its last lines)",
            Style::new().fg(MUTED),
        )));
    }
    for l in g.text.lines().take(if selected { usize::MAX } else { 8 }) {
        lines.push(Line::from(format!("  {l}")));
    }
    let n = g.text.lines().count();
    if !selected && n > 8 {
        lines.push(Line::from(Span::styled(
            format!("  … {} more lines", n - 8),
            Style::new().fg(MUTED),
        )));
    }
    lines
}
