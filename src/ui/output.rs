//! Live output panes: one per target host of the last command, in a grid,
//! each with an exit badge. Lines wrap to the pane; stderr is tinted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::hosts::fmt_elapsed;
use super::style::{ACCENT, BAD, MUTED, OK, WARN, border, from_ansi};
use crate::app::AppState;
use crate::app::help::key_name;
use crate::app::hosts::viewport::Lines;
use crate::app::layout::AppLayout;
use crate::app::scrollback::{OutLine, Scrollback};
use crate::app::state::{Focus, LineInput};
use crate::engine::{ExitStatus, HostOutcome};
use crate::keymap::{Action, Context};
use crate::text::sanitize::clean;

pub fn render(f: &mut Frame, s: &AppState, lay: &AppLayout) {
    let area = lay.output;
    let focused = s.focus == Focus::Output;
    let Some(job) = &s.deck.job else {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(border(focused))
            .title(" Output ");
        let key = |c, a| key_name(s, c, a);
        let hint = vec![
            Line::from(""),
            Line::from(format!(
                "1. Select hosts: {}, {} (all), {} (group or node set)",
                key(Context::Hosts, Action::Select),
                key(Context::Hosts, Action::SelectAll),
                key(Context::Hosts, Action::SelectGroup)
            )),
            Line::from(format!(
                "2. Type a command below and press {}",
                key(Context::Command, Action::Run)
            )),
            Line::from(format!(
                "3. Watch every host here; {} groups identical results",
                key(Context::Main, Action::Gather)
            )),
            Line::from(""),
            Line::from(Span::styled(
                format!(
                    "{} moves focus · {} shows every key",
                    key(Context::Main, Action::FocusNext),
                    key(Context::Main, Action::Help)
                ),
                Style::new().fg(MUTED),
            )),
        ];
        // Wrapped, so nothing is cut in a narrow pane.
        f.render_widget(
            Paragraph::new(hint)
                .wrap(ratatui::widgets::Wrap { trim: false })
                .block(block.padding(ratatui::widgets::Padding::horizontal(1))),
            area,
        );
        return;
    };
    let title = job_title(s, lay, job);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border(focused))
        .title(title);
    f.render_widget(block, area);
    for (k, r) in &lay.panes {
        let Some(&h) = job.targets.get(*k) else {
            continue;
        };
        pane(f, s, h, *r, focused && *k == s.deck.panes.focused);
    }
    if let Some((LineInput::Search, input)) = &s.deck.input {
        let r = Rect::new(
            area.x + 1,
            area.bottom().saturating_sub(1),
            area.width.saturating_sub(2),
            1,
        );
        let text = input.lines().first().cloned().unwrap_or_default();
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("search: ", Style::new().fg(ACCENT)),
                Span::raw(text),
                Span::styled("█", Style::new().fg(ACCENT)),
            ])),
            r,
        );
    }
}

/// The output block's title: the command, shortened to leave room for
/// its state (hosts done, the page) which is always shown whole.
fn job_title(s: &AppState, lay: &AppLayout, job: &crate::app::state::Job) -> String {
    let done = job.targets.len() - job.running.min(job.targets.len());
    let mut state = format!("{done}/{} done", job.targets.len());
    if lay.pages > 1 && !s.deck.panes.zoomed {
        state.push_str(&format!(" · page {}/{}", lay.page + 1, lay.pages));
    }
    let width = usize::from(lay.output.width.saturating_sub(2));
    super::fit::fit_title(&one_line(&job.command, 40), &state, width)
}

fn pane(f: &mut Frame, s: &AppState, h: usize, r: Rect, focused: bool) {
    let block = pane_block(s, h, r, focused);
    let inner = block.inner(r);
    let out = &s.outputs[h];
    let width = usize::from(inner.width).max(1);
    let height = usize::from(inner.height);
    let rows_of = crate::app::hosts::output::rows_of(out, width);
    let view = Lines {
        len: out.len(),
        rows: &rows_of,
        height,
    };
    // Clamped here too: a resize can leave the stored offset past the top.
    let offset = view.clamp(s.deck.panes.scroll.get(&h).copied().unwrap_or(0));
    f.render_widget(with_scroll_note(s, block, offset, r.width), r);
    let hit = s.deck.panes.hit.filter(|(hh, _)| *hh == h).map(|(_, i)| i);
    let mut rows = visible_rows(out, &view, offset, hit, width);
    if let Some(failure) = failure_rows(s, h, width, height) {
        rows = failure;
    }
    if out.dropped > 0 && rows.len() < height && offset == 0 {
        rows.insert(
            0,
            Line::from(Span::styled(
                format!("({} older lines dropped)", out.dropped),
                Style::new().fg(MUTED),
            )),
        );
    }
    f.render_widget(Paragraph::new(rows), inner);
}

/// A pane's frame: the host's name on the left of the top border, its
/// badge on the right.
fn pane_block(s: &AppState, h: usize, r: Rect, focused: bool) -> Block<'static> {
    let host = &s.hosts[h];
    let (badge, color) = badge(s, h);
    // The host's name and the badge share the top border: when both do
    // not fit, the name is shortened with an ellipsis, never dropped.
    // Both titles take their text plus a space each side; between them
    // one space is enough.
    let room = usize::from(r.width.saturating_sub(2)).saturating_sub(3);
    let mut badge = badge;
    if badge.chars().count() + 3 > room {
        // Too narrow for name and badge: the badge loses its time first.
        if let Some((head, _)) = badge.rsplit_once(" · ") {
            badge = head.to_string();
        }
    }
    let badge = crate::text::shorten(&badge, room.saturating_sub(3).max(2));
    let label_room = room.saturating_sub(badge.chars().count()).max(3);
    let label = crate::text::shorten(&host.label, label_room);
    Block::default()
        .borders(Borders::ALL)
        .border_style(border(focused))
        .title(Span::styled(
            format!(" {label} "),
            if focused {
                Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            },
        ))
        .title_top(
            Line::from(Span::styled(format!(" {badge} "), Style::new().fg(color))).right_aligned(),
        )
}

/// Adds the "lines up" note when the pane is scrolled back.
fn with_scroll_note<'a>(s: &AppState, block: Block<'a>, offset: usize, width: u16) -> Block<'a> {
    // The scroll note sits on the bottom border, never over a line of
    // output (a search match at the bottom would hide under it).
    if offset == 0 {
        return block;
    }
    let note = format!(
        " ↑ {offset} lines up · {} returns ",
        key_name(s, Context::Output, Action::Bottom)
    );
    let room = usize::from(width.saturating_sub(2));
    block.title_bottom(Span::styled(
        crate::text::shorten(&note, room),
        Style::new().fg(WARN),
    ))
}

/// The wrapped rows that fill the pane, ending `offset` lines above the
/// bottom; the search hit (line `hit`) is reversed.
fn visible_rows(
    out: &Scrollback,
    view: &Lines,
    offset: usize,
    hit: Option<usize>,
    width: usize,
) -> Vec<Line<'static>> {
    let height = view.height;
    // Walk back from the bottom line until the pane is full, wrapping each.
    let pending = if offset == 0 { out.pending() } else { None };
    let mut rows: Vec<Line> = Vec::with_capacity(height);
    let shown = view
        .bottom(offset)
        .map(|b| (0..=b).rev())
        .into_iter()
        .flatten();
    let lines = shown.filter_map(|i| out.get(i).map(|l| (Some(i), l.clone())));
    for (i, l) in pending.map(|p| (None, p)).into_iter().chain(lines) {
        let mut wrapped = wrap(&l, width);
        if i.is_some() && i == hit {
            // The match stands out, reversed, wherever it lands.
            for row in &mut wrapped {
                *row =
                    std::mem::take(row).patch_style(Style::new().add_modifier(Modifier::REVERSED));
            }
        }
        while let Some(row) = wrapped.pop() {
            rows.push(row);
            if rows.len() >= height {
                break;
            }
        }
        if rows.len() >= height {
            break;
        }
    }
    rows.reverse();
    rows
}

/// For a host that failed before printing anything: why, in the pane.
fn failure_rows(s: &AppState, h: usize, width: usize, height: usize) -> Option<Vec<Line<'static>>> {
    let Some(HostOutcome::Failed { cause, .. }) =
        s.hosts[h].last.as_ref().and_then(|l| l.outcome.as_ref())
    else {
        return None;
    };
    // The error may quote what the host said.
    let cause = clean(cause);
    if !s.outputs[h].is_empty() {
        return None;
    }
    let cut: String = cause.chars().take(width * height.max(1)).collect();
    let rows = cut
        .chars()
        .collect::<Vec<_>>()
        .chunks(width)
        .map(|c| {
            Line::from(Span::styled(
                c.iter().collect::<String>(),
                Style::new().fg(BAD),
            ))
        })
        .collect();
    Some(rows)
}

/// Split a styled line into rows of at most `width` characters.
fn wrap(l: &OutLine, width: usize) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = vec![Line::default()];
    let mut used = 0;
    for span in &l.line.spans {
        let style = from_ansi(&span.style, l.stderr);
        let mut buf = String::new();
        for c in span.text.chars() {
            if used == width {
                if let Some(last) = rows.last_mut() {
                    last.push_span(Span::styled(std::mem::take(&mut buf), style));
                }
                rows.push(Line::default());
                used = 0;
            }
            buf.push(c);
            used += 1;
        }
        if !buf.is_empty()
            && let Some(last) = rows.last_mut()
        {
            last.push_span(Span::styled(buf, style));
        }
    }
    rows
}

/// The exit badge: code, signal or failure kind, and duration.
pub fn badge(s: &AppState, h: usize) -> (String, ratatui::style::Color) {
    match s.hosts[h].last.as_ref() {
        None => (String::new(), MUTED),
        Some(l) => match &l.outcome {
            None => ("running".into(), WARN),
            Some(HostOutcome::Exit(ExitStatus::Code(0))) => {
                (format!("✓ 0 · {}", fmt_elapsed(l.elapsed)), OK)
            }
            Some(HostOutcome::Exit(ExitStatus::Code(c))) => {
                (format!("✗ exit {c} · {}", fmt_elapsed(l.elapsed)), BAD)
            }
            Some(HostOutcome::Exit(ExitStatus::Signal { name, .. })) => {
                (format!("✗ SIG{name} · {}", fmt_elapsed(l.elapsed)), BAD)
            }
            Some(HostOutcome::Failed { kind, .. }) => {
                (format!("✗ {kind} · {}", fmt_elapsed(l.elapsed)), BAD)
            }
        },
    }
}

fn one_line(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    let mut out: String = first.chars().take(max).collect();
    if first.chars().count() > max || s.lines().count() > 1 {
        out.push('…');
    }
    out
}
