//! The transfers panel: every queued, running, paused, finished and failed
//! job, with total progress, rate and ETA, and a row per host (failures
//! with their causes).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::style::{ACCENT, BAD, MUTED, OK, WARN, border};
use crate::app::AppState;
use crate::app::help::key_name;
use crate::engine::files::queue::{HostView, JobState, JobView};
use crate::engine::files::tree::Totals;
use crate::keymap::{Action, Context};
use crate::text::human_bytes;
use crate::text::sanitize::{clean, visible_name};

/// Host rows shown per job; the rest are summed up in one line.
const HOST_ROWS: usize = 4;

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    let focused = s.files.transfers_focused;
    let title = match crate::app::files::transfers::summary(&s.files) {
        Some(counts) => format!(" Transfers · {counts} "),
        None => " Transfers ".to_string(),
    };
    let key = |c, a| key_name(s, c, a);
    let hint = if focused {
        format!(
            " {} pause/resume · {} cancel · {} retry/resume · {} clear finished · {} back ",
            key(Context::Transfers, Action::Pause),
            key(Context::Transfers, Action::Cancel),
            key(Context::Transfers, Action::Retry),
            key(Context::Transfers, Action::ClearDone),
            key(Context::Transfers, Action::Close)
        )
    } else {
        format!(" {}: manage ", key(Context::Files, Action::Transfers))
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border(focused))
        .title(title)
        .title_bottom(hint);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = usize::from(inner.width);
    let mut lines: Vec<Line> = Vec::new();
    if s.files.transfers.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "no transfers: {} copies, {} moves, or drag entries onto the other pane",
                key(Context::Files, Action::Copy),
                key(Context::Files, Action::Move)
            ),
            Style::new().fg(MUTED),
        )));
    }
    // A cancelled copy kept its part files: say how to go on from them.
    let resume_hint = format!(
        "cancelled · {} resumes",
        key(Context::Transfers, Action::Retry)
    );
    // Keep the selected job on screen: start a few jobs before it.
    let skip = s.files.transfer_cursor.saturating_sub(1);
    for (i, t) in s.files.transfers.iter().enumerate().skip(skip) {
        let mut head = job_line(t, w);
        if focused && i == s.files.transfer_cursor {
            head = head.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(head);
        lines.extend(host_lines(t, &resume_hint));
        if lines.len() >= usize::from(inner.height) {
            break;
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn totals(t: &JobView) -> (u64, u64) {
    let done = t.hosts.iter().map(|h| h.done).sum::<u64>();
    let total = t.hosts.iter().map(|h| h.total).sum::<u64>().max(done);
    (done, total)
}

fn state_span(state: JobState) -> Span<'static> {
    let (text, color) = match state {
        JobState::Queued => ("queued", MUTED),
        JobState::Running => ("running", ACCENT),
        JobState::Paused => ("paused", WARN),
        JobState::Done => ("done", OK),
        JobState::Failed => ("failed", BAD),
        JobState::Cancelled => ("cancelled", WARN),
    };
    Span::styled(
        format!("{text:<9} "),
        Style::new().fg(color).add_modifier(Modifier::BOLD),
    )
}

/// "42% · 1.2 GiB of 3.0 GiB · 180.5 MiB/s · ETA 10s"
pub fn progress_text(done: u64, total: u64, active_secs: f64, state: JobState) -> String {
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    let mut out = format!(
        "{pct:>3}% · {} of {}",
        human_bytes(done),
        human_bytes(total)
    );
    if active_secs > 0.05 && done > 0 {
        let rate = done as f64 / active_secs;
        out.push_str(&format!(" · {}/s", human_bytes(rate as u64)));
        if state == JobState::Running && total > done && rate > 0.0 {
            out.push_str(&format!(" · ETA {}", eta((total - done) as f64 / rate)));
        }
    }
    out
}

fn eta(secs: f64) -> String {
    let s = secs.ceil() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = if total == 0 {
        width
    } else {
        ((done as f64 / total as f64) * width as f64).round() as usize
    };
    let filled = filled.min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn job_line(t: &JobView, w: usize) -> Line<'static> {
    let (done, total) = totals(t);
    let prog = progress_text(done, total, t.active.as_secs_f64(), t.state);
    // Columns, not bytes ("·" is two bytes): the state (10), two spaces
    // and the progress; a cut title says so with "…".
    let room = w.saturating_sub(prog.chars().count() + 12);
    let full = visible_name(&t.title);
    let title: String = if full.chars().count() <= room {
        full
    } else {
        let mut cut: String = full.chars().take(room.saturating_sub(1)).collect();
        cut.push('…');
        cut
    };
    Line::from(vec![
        state_span(t.state),
        Span::raw(format!("{title}  ")),
        Span::styled(prog, Style::new().fg(MUTED)),
    ])
}

/// One line per host (failed and running first, at most `HOST_ROWS`),
/// then a count of the others.
fn host_lines(t: &JobView, resume_hint: &str) -> Vec<Line<'static>> {
    // Failed and running hosts first: they are what needs attention.
    let mut hosts: Vec<&HostView> = t.hosts.iter().collect();
    hosts.sort_by_key(|h| match &h.result {
        Some(Err(_)) => 0,
        None => 1,
        Some(Ok(_)) => 2,
    });
    let label_w = hosts
        .iter()
        .map(|h| h.label.chars().count())
        .max()
        .unwrap_or(4)
        .min(24);
    let mut out = Vec::new();
    for h in hosts.iter().take(HOST_ROWS) {
        let label = Span::raw(format!("  {:<label_w$} ", clean(&h.label)));
        let line = match &h.result {
            Some(Err(cause)) => Line::from(vec![
                label,
                Span::styled(format!("FAILED: {}", clean(cause)), Style::new().fg(BAD)),
            ]),
            Some(Ok(tot)) => finished_line(label, tot),
            None => running_line(label, t, h, resume_hint),
        };
        out.push(line);
    }
    if hosts.len() > HOST_ROWS {
        let ok = t
            .hosts
            .iter()
            .filter(|h| matches!(h.result, Some(Ok(_))))
            .count();
        out.push(Line::from(Span::styled(
            format!(
                "  … {} more hosts ({ok} of {} done)",
                hosts.len() - HOST_ROWS,
                t.hosts.len()
            ),
            Style::new().fg(MUTED),
        )));
    }
    out
}

/// A host that finished: what it copied, and its first note.
fn finished_line(label: Span<'static>, tot: &Totals) -> Line<'static> {
    let skipped = if tot.skipped > 0 {
        format!(", {} unchanged", tot.skipped)
    } else {
        String::new()
    };
    let mut spans = vec![
        label,
        Span::styled(
            format!(
                "✓ {}, {}{skipped}",
                crate::text::count(tot.files, "file", "files"),
                human_bytes(tot.bytes)
            ),
            Style::new().fg(OK),
        ),
    ];
    // The first note is what the user most needs (a restart, a
    // link left out); the rest are counted.
    if let Some(first) = tot.notes.first() {
        let more = match tot.notes.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        spans.push(Span::styled(
            format!("  note: {}{more}", clean(first)),
            Style::new().fg(MUTED),
        ));
    }
    Line::from(spans)
}

/// A host still at it (or stopped by a cancel): its bar and current file.
fn running_line(
    label: Span<'static>,
    t: &JobView,
    h: &HostView,
    resume_hint: &str,
) -> Line<'static> {
    let total = h.total.max(h.done);
    let pct = (h.done * 100).checked_div(total).unwrap_or(0);
    let current = h.current.rsplit('/').next().unwrap_or("");
    // A host stopped by a cancel has no result: it is not
    // failed, and goes on from its part file when resumed.
    let current = if t.state == JobState::Cancelled {
        resume_hint.to_string()
    } else {
        visible_name(current)
    };
    Line::from(vec![
        label,
        Span::styled(bar(h.done, total, 20), Style::new().fg(ACCENT)),
        Span::styled(format!(" {pct:>3}% {current}"), Style::new().fg(MUTED)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_has_rate_and_eta_while_running() {
        let t = progress_text(50 << 20, 100 << 20, 1.0, JobState::Running);
        assert_eq!(t, " 50% · 50.0 MiB of 100.0 MiB · 50.0 MiB/s · ETA 1s");
        let t = progress_text(100, 100, 1.0, JobState::Done);
        assert!(!t.contains("ETA"));
        assert_eq!(eta(125.0), "2m05s");
        assert_eq!(bar(1, 2, 4), "██░░");
    }
}
