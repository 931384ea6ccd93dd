//! The host list: folders (groups and tags), state glyphs, selection, last result, and the
//! failure cause on a detail line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::fit::columns_that_fit;
use super::style::{ACCENT, BAD, MUTED, OK, WARN, border};
use crate::app::AppState;
use crate::app::layout::fact_col_width;
use crate::app::mouse::host_list_offset;
use crate::app::state::{Focus, HostListRow, HostRow, HostState, LineInput, Sort};
use crate::engine::HostOutcome;
use crate::inventory::facts_config::Level;
use crate::text::shorten;

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    let focused = s.focus == Focus::Hosts;
    let title = format!(" Hosts {}/{} ", s.selected_count(), s.hosts.len());
    // The column titles share the top border with this one.
    let title_w = title.chars().count() + 1;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(border(focused))
        .title(title);
    if !s.deck.filter.is_empty() {
        block = block.title_bottom(format!(" filter: {} ", s.deck.filter));
    }
    let rows = s.rows();
    let first = host_list_offset(s, area);
    let width = usize::from(area.width.saturating_sub(2));
    let cols = fact_columns_shown(s, area, &rows[first.min(rows.len())..], title_w);
    if cols > 0 {
        block = block.title(column_titles(s, cols).right_aligned());
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let list = ListShape {
        first,
        height: usize::from(inner.height),
        width,
        cols,
        focused,
    };
    let mut lines = list_lines(s, &rows, &list);
    if s.hosts.is_empty() {
        lines.push(Line::from(Span::styled(
            "No hosts. Add them to ~/.ssh/config or the sshdeck config, or try `sshdeck demo`.",
            Style::new().fg(MUTED),
        )));
        // The only text here: wrapped, not cut at the pane's edge.
        f.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
    } else {
        f.render_widget(Paragraph::new(lines), inner);
    }
    line_input(f, s, area);
}

/// Where and how the rows of the list are drawn.
struct ListShape {
    /// The first row on screen.
    first: usize,
    /// Lines the list has room for.
    height: usize,
    /// Columns inside the border.
    width: usize,
    /// Fact columns shown.
    cols: usize,
    focused: bool,
}

/// How many fact columns fit beside what the rows on screen (`shown`,
/// from the first one on) need of their own; the same for every row, so
/// values stay under their titles.
fn fact_columns_shown(s: &AppState, area: Rect, shown: &[HostListRow], title_w: usize) -> usize {
    if !s.hosts.iter().any(|h| !h.facts.is_empty()) {
        return 0;
    }
    let width = usize::from(area.width.saturating_sub(2));
    let on_screen = shown
        .iter()
        .take(usize::from(area.height.saturating_sub(2)));
    let widths: Vec<usize> = s.deck.columns.iter().map(fact_col_width).collect();
    columns_that_fit(width, host_need(s, on_screen).max(title_w), &widths)
}

/// The lines of the list: one per row on screen, plus a failure line
/// under each failed host while there is room.
fn list_lines(s: &AppState, rows: &[HostListRow], list: &ListShape) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(list.first) {
        if lines.len() >= list.height {
            break;
        }
        let cursor = list.focused && i == s.deck.cursor;
        let mut line = match row {
            HostListRow::Group {
                name,
                hosts,
                folded,
            } => group_line(name, *hosts, *folded),
            HostListRow::Host(h) => host_line(s, *h, list.width, list.cols),
        };
        if cursor {
            line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
        // The failure cause goes on its own dim line under the host.
        if let HostListRow::Host(h) = row
            && let HostState::Failed(cause) = &s.hosts[*h].state
            && lines.len() < list.height
        {
            let text: String = cause.chars().take(list.width.saturating_sub(4)).collect();
            lines.push(Line::from(Span::styled(
                format!("    {text}"),
                Style::new().fg(BAD).add_modifier(Modifier::DIM),
            )));
        }
    }
    lines
}

/// A folder's line: its arrow, name and host count.
fn group_line(name: &str, hosts: usize, folded: bool) -> Line<'static> {
    let arrow = if folded { "▸" } else { "▾" };
    let name = if name.is_empty() {
        crate::app::folders::UNGROUPED_TITLE
    } else {
        name
    };
    Line::from(vec![Span::styled(
        format!("{arrow} {name} ({hosts})"),
        Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
    )])
}

/// The filter or group-select input, on the list's last line.
fn line_input(f: &mut Frame, s: &AppState, area: Rect) {
    let Some((kind @ (LineInput::Filter | LineInput::Group), area_input)) = &s.deck.input else {
        return;
    };
    let label = if *kind == LineInput::Filter {
        "filter"
    } else {
        "select"
    };
    let r = Rect::new(
        area.x + 1,
        area.bottom().saturating_sub(2),
        area.width.saturating_sub(2),
        1,
    );
    let text = area_input.lines().first().cloned().unwrap_or_default();
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{label}: "), Style::new().fg(ACCENT)),
            Span::raw(text),
            Span::styled("█", Style::new().fg(ACCENT)),
        ])),
        r,
    );
}

/// The first `cols` column titles over the values, on the top border;
/// the sorted column has an arrow.
fn column_titles(s: &AppState, cols: usize) -> Line<'static> {
    let spans: Vec<Span> = s
        .deck
        .columns
        .iter()
        .take(cols)
        .enumerate()
        .map(|(i, c)| {
            let arrow = match s.deck.sort {
                Sort::Column { index, reversed } if index == i => {
                    if reversed {
                        "▲"
                    } else {
                        "▼"
                    }
                }
                _ => "",
            };
            let w = fact_col_width(c);
            let text = format!("{}{arrow}", c.title);
            let style = if arrow.is_empty() {
                Style::new().fg(MUTED)
            } else {
                Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
            };
            Span::styled(format!("{text:>w$}"), style)
        })
        .collect();
    Line::from(spans)
}

/// A host's values of the first `cols` fact columns, right-aligned under
/// the titles and coloured by each column's thresholds.
fn fact_spans(s: &AppState, h: usize, cols: usize) -> Vec<Span<'static>> {
    let host = &s.hosts[h];
    s.deck
        .columns
        .iter()
        .take(cols)
        .map(|c| {
            let w = fact_col_width(c);
            let collector = c.fact.split('.').next().unwrap_or("");
            let (text, style) = match host.facts.get(&c.fact) {
                Some(v) => {
                    let color = match c.level(v) {
                        Level::Crit => Some(BAD),
                        Level::Warn => Some(WARN),
                        Level::Normal => None,
                    };
                    let st = color.map_or(Style::new(), |c| {
                        Style::new().fg(c).add_modifier(Modifier::BOLD)
                    });
                    (v.clone(), st)
                }
                None if host.fact_errors.contains_key(collector) => {
                    ("err".to_string(), Style::new().fg(BAD))
                }
                None => ("·".to_string(), Style::new().fg(MUTED)),
            };
            let text = shorten(&text, w - 1);
            Span::styled(format!("{text:>w$}"), style)
        })
        .collect()
}

/// Columns a host row needs before any fact column: state glyph and
/// mark (6), the name up to `NAME_KEPT`, a space, the result with its time.
fn host_need<'a>(s: &AppState, rows: impl Iterator<Item = &'a HostListRow>) -> usize {
    let (mut name, mut result) = (4, 0);
    for r in rows {
        if let HostListRow::Host(h) = r {
            let host = &s.hosts[*h];
            name = name.max(host.label.chars().count().min(NAME_KEPT));
            let (code, elapsed, _) = result_parts(host);
            result = result.max(full_result(&code, elapsed).chars().count());
        }
    }
    6 + name + 1 + result
}

/// A name keeps up to this many characters before the result or a fact
/// column takes its room; longer names are shortened with an ellipsis.
const NAME_KEPT: usize = 10;

/// The last result's code (or "…", or failure kind), time and colour.
fn result_parts(host: &HostRow) -> (String, Option<std::time::Duration>, Color) {
    match host.last.as_ref().map(|l| (&l.outcome, l.elapsed)) {
        None => (String::new(), None, MUTED),
        Some((None, _)) => ("…".to_string(), None, WARN),
        Some((Some(HostOutcome::Exit(st)), el)) => {
            let code = match st {
                crate::engine::ExitStatus::Code(c) => c.to_string(),
                crate::engine::ExitStatus::Signal { name, .. } => format!("SIG{name}"),
            };
            let c = if st.success() { OK } else { BAD };
            (code, el, c)
        }
        Some((Some(HostOutcome::Failed { kind, .. }), el)) => (kind.clone(), el, BAD),
    }
}

fn full_result(code: &str, elapsed: Option<std::time::Duration>) -> String {
    match elapsed {
        Some(_) => format!("{code} {}", fmt_elapsed(elapsed)),
        None => code.to_string(),
    }
}

fn host_line(s: &AppState, h: usize, width: usize, cols: usize) -> Line<'static> {
    let host = &s.hosts[h];
    let (glyph, color) = if host.auth_needed {
        ("?", WARN)
    } else {
        match &host.state {
            HostState::Idle => ("○", MUTED),
            HostState::Connecting => ("◌", WARN),
            HostState::Connected => ("●", OK),
            HostState::Disconnected => ("◍", WARN),
            HostState::Failed(_) => ("✗", BAD),
        }
    };
    let mark = if host.selected { "[x]" } else { "[ ]" };
    let (code, elapsed, rcolor) = result_parts(host);
    let facts = fact_spans(s, h, cols);
    let facts_w: usize = facts.iter().map(|sp| sp.content.chars().count()).sum();
    // In a narrow list the time goes first, then the result is shortened
    // with an ellipsis: never cut mid-word at the border.
    // The name keeps up to NAME_KEPT characters before the result shrinks.
    let name_min = host.label.chars().count().clamp(4, NAME_KEPT);
    let room = width.saturating_sub(7 + facts_w + name_min);
    let full = full_result(&code, elapsed);
    let result = if full.chars().count() <= room {
        full
    } else {
        shorten(&code, room)
    };
    let name_w = width
        .saturating_sub(7 + result.chars().count() + facts_w)
        .max(4);
    let name = format!("{:name_w$}", shorten(&host.label, name_w));
    let mut spans = vec![
        Span::styled(format!("{glyph} "), Style::new().fg(color)),
        Span::styled(
            format!("{mark} "),
            Style::new().fg(if host.selected { ACCENT } else { MUTED }),
        ),
        Span::raw(name),
        Span::styled(format!(" {result}"), Style::new().fg(rcolor)),
    ];
    if !facts.is_empty() {
        // Push the values to the right edge, under their titles.
        let used: usize = spans.iter().map(|sp| sp.content.chars().count()).sum();
        let pad = width.saturating_sub(used + facts_w);
        spans.push(Span::raw(" ".repeat(pad)));
        spans.extend(facts);
    }
    Line::from(spans)
}

pub fn fmt_elapsed(d: Option<std::time::Duration>) -> String {
    match d {
        None => String::new(),
        Some(d) if d.as_secs() >= 60 => format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60),
        Some(d) => format!("{:.1}s", d.as_secs_f64()),
    }
}
