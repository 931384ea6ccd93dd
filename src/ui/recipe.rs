//! A recipe's progress in the output area: one row per host, one column
//! per step, and under the table what the chosen host is doing or why it
//! stopped.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::style::{ACCENT, BAD, MUTED, OK, WARN, border};
use crate::app::AppState;
use crate::app::help::key_name;
use crate::app::recipe::state::{Cell, RecipeRun};
use crate::app::state::Focus;
use crate::keymap::{Action, Context};
use crate::text::fmt_secs;

/// Width of one step's cell.
const CELL: usize = 11;

pub fn render(f: &mut Frame, s: &AppState, run: &RecipeRun, area: Rect) {
    let done = run.hosts.len() - run.running();
    // The name gives way first: progress and keys stay whole.
    let state = format!(
        "{done}/{} done{} · {} cancel · {} panes",
        crate::text::count(run.hosts.len(), "host", "hosts"),
        match run.failed() {
            0 => String::new(),
            n => format!(", {n} failed"),
        },
        key_name(s, Context::Recipe, Action::CancelRecipe),
        key_name(s, Context::Recipe, Action::Back)
    );
    let title = super::fit::fit_title(
        &format!("Recipe {}", run.name),
        &state,
        usize::from(area.width.saturating_sub(2)),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border(s.focus == Focus::Output))
        .title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let name_w = run
        .hosts
        .iter()
        .map(|&h| s.hosts[h].label.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    let mut lines = Vec::new();
    let mut head = vec![Span::raw(format!("{:name_w$} ", "host"))];
    for (i, (kind, _)) in run.steps.iter().enumerate() {
        head.push(Span::styled(
            format!("{:<CELL$}", format!("{} {kind}", i + 1)),
            Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
        ));
    }
    lines.push(Line::from(head));
    // Rows that fit, keeping the cursor in view; the detail needs 4 lines.
    let room = usize::from(inner.height).saturating_sub(5).max(1);
    let first = run.cursor.saturating_sub(room.saturating_sub(1));
    for (row, &h) in run.hosts.iter().enumerate().skip(first).take(room) {
        let name: String = s.hosts[h].label.chars().take(name_w).collect();
        let mut spans = vec![Span::raw(format!("{name:name_w$} "))];
        for c in &run.cells[row] {
            let (text, color) = match c {
                Cell::Pending => ("·".to_string(), MUTED),
                Cell::Running(_) => ("▶ running".to_string(), WARN),
                Cell::Done(d) => (format!("✓ {}", fmt_secs(d.as_secs_f64())), OK),
                Cell::Failed(..) => ("✗ failed".to_string(), BAD),
                Cell::Skipped => ("– skipped".to_string(), MUTED),
            };
            spans.push(Span::styled(
                format!("{text:<CELL$}"),
                Style::new().fg(color),
            ));
        }
        let mut line = Line::from(spans);
        if row == run.cursor && s.focus == Focus::Output {
            line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    lines.push(Line::raw(""));
    lines.extend(detail(s, run));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The chosen host's current step, or its failure.
fn detail(s: &AppState, run: &RecipeRun) -> Vec<Line<'static>> {
    let Some(&h) = run.hosts.get(run.cursor) else {
        return Vec::new();
    };
    let label = s.hosts[h].label.clone();
    let cells = &run.cells[run.cursor];
    if let Some((i, Cell::Failed(d, e))) = cells
        .iter()
        .enumerate()
        .find(|(_, c)| matches!(c, Cell::Failed(..)))
    {
        return vec![
            Line::from(Span::styled(
                format!(
                    "{label}: step {} ({}) failed after {}",
                    i + 1,
                    run.steps[i].1,
                    fmt_secs(d.as_secs_f64())
                ),
                Style::new().fg(BAD).add_modifier(Modifier::BOLD),
            )),
            Line::from(Span::styled(e.clone(), Style::new().fg(BAD))),
        ];
    }
    if let Some((i, Cell::Running(what))) = cells
        .iter()
        .enumerate()
        .find(|(_, c)| matches!(c, Cell::Running(_)))
    {
        return vec![Line::from(Span::styled(
            format!("{label}: step {}: {what}", i + 1),
            Style::new().fg(WARN),
        ))];
    }
    let text = if cells.iter().all(|c| matches!(c, Cell::Done(_))) {
        format!("{label}: all {} steps done", cells.len())
    } else if run.cancelled {
        format!("{label}: cancelled")
    } else {
        format!("{label}: waiting to start")
    };
    vec![Line::from(Span::styled(text, Style::new().fg(MUTED)))]
}
