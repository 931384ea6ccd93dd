//! Dialogs of the files tab: path, filter, mkdir, rename and chmod inputs,
//! delete confirmation, the conflict question, the side picker and the
//! recent directories.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use tui_textarea::TextArea;

use super::style::{ACCENT, MUTED, WARN};
use crate::app::AppState;
use crate::app::files::side_label;
use crate::app::files::state::{FileDialog, FilePane, InputKind, PendingCopy, Side};
use crate::app::help::{key_name, key_names};
use crate::engine::files::name::Name;
use crate::keymap::{Action, Context};
use crate::text::sanitize::{clean, visible_name};

/// A dialog's title and its lines, ready to frame.
type Dialog = (String, Vec<Line<'static>>);

pub fn render(f: &mut Frame, s: &AppState, area: Rect) {
    let Some(d) = &s.files.dialog else {
        return;
    };
    let pane = &s.files.panes[s.files.active];
    let (title, lines) = match d {
        FileDialog::Input {
            kind,
            area: input,
            completions,
        } => input_dialog(s, kind, &pane.cwd, input, completions),
        FileDialog::ConfirmDelete { names } => delete_dialog(s, pane, names),
        FileDialog::Conflict(p) => conflict_dialog(s, p),
        FileDialog::PickSide { cursor } => pick_side_dialog(s, *cursor, area.height),
        FileDialog::Recent { cursor } => recent_dialog(pane, *cursor, area.height),
    };
    super::dialog::framed(f, area, 70, lines, &title, ACCENT);
}

/// A one-line text input (path, filter, mkdir, rename, chmod), with the
/// completions offered so far under it.
fn input_dialog(
    s: &AppState,
    kind: &InputKind,
    cwd: &str,
    input: &TextArea<'_>,
    completions: &[String],
) -> Dialog {
    let title = match kind {
        InputKind::Path => format!(
            " Go to ({} completes) ",
            key_name(s, Context::Input, Action::NextField)
        ),
        InputKind::Filter => " Filter ".to_string(),
        InputKind::Mkdir => format!(" New directory in {} ", visible_name(cwd)),
        InputKind::Rename { from } => format!(" Rename {} ", visible_name(from)),
        InputKind::Chmod { names } => format!(" Mode for {} item(s), octal ", names.len()),
    };
    let text = input.lines().first().cloned().unwrap_or_default();
    let mut lines = vec![Line::from(vec![
        Span::raw(clean(&text)),
        Span::styled("▏", Style::new().fg(ACCENT)),
    ])];
    if !completions.is_empty() {
        lines.push(Line::from(Span::styled(
            completions
                .iter()
                .map(|c| visible_name(c))
                .collect::<Vec<_>>()
                .join("  "),
            Style::new().fg(MUTED),
        )));
    }
    lines.push(Line::from(Span::styled(
        super::dialog::input_keys(s, "confirms"),
        Style::new().fg(MUTED),
    )));
    (title, lines)
}

/// The delete confirmation: what goes, from where, and the one key that
/// deletes.
fn delete_dialog(s: &AppState, pane: &FilePane, names: &[Name]) -> Dialog {
    let mut lines = vec![Line::from(format!(
        "Delete {} from {} in {}? Directories go with everything in them.",
        crate::text::count(names.len(), "item", "items"),
        side_label(s, pane.side),
        visible_name(&pane.cwd)
    ))];
    for n in names.iter().take(6) {
        lines.push(Line::from(format!("  {}", visible_name(n))));
    }
    if names.len() > 6 {
        lines.push(Line::from(format!("  … and {} more", names.len() - 6)));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(
            key_names(s, Context::Confirm, Action::Yes),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            " deletes · {} or any other key keeps them",
            key_names(s, Context::Confirm, Action::No)
        )),
    ]));
    (" Delete ".into(), lines)
}

/// The conflict question for the first name already at the destination,
/// with the answers and how many conflicts wait behind it.
fn conflict_dialog(s: &AppState, p: &PendingCopy) -> Dialog {
    let name = p
        .conflicts
        .first()
        .map(|n| visible_name(n))
        .unwrap_or_default();
    let dest = &s.files.panes[1 - p.from];
    let mut lines = vec![
        Line::from(format!(
            "{name} already exists in {}: {}",
            side_label(s, dest.side),
            visible_name(&dest.cwd)
        )),
        Line::from(""),
    ];
    // The answers and their keys are the `conflict` context's, so a
    // rebinding shows here.
    let keys = |a| s.keymap.keys(Context::Conflict, a);
    for a in [
        Action::Overwrite,
        Action::SkipSame,
        Action::Rename,
        Action::Skip,
        Action::Cancel,
    ] {
        let (k, more) = match keys(a) {
            [] => ("(unbound)".to_string(), String::new()),
            [k, rest @ ..] => (
                k.to_string(),
                rest.iter().map(|k| format!(" ({k})")).collect::<String>(),
            ),
        };
        let what = help_of(s, a);
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {k:<4}"),
                Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("{what}{more}")),
        ]));
    }
    // Always said, so the user knows before the second conflict
    // shows up (hosts report theirs one after another).
    lines.push(Line::from(""));
    let more = match p.conflicts.len().saturating_sub(1) {
        0 => String::new(),
        n => format!("{} more · ", crate::text::count(n, "conflict", "conflicts")),
    };
    let all: Vec<String> = [
        Action::OverwriteAll,
        Action::SkipSameAll,
        Action::RenameAll,
        Action::SkipAll,
    ]
    .into_iter()
    .filter_map(|a| keys(a).first().map(ToString::to_string))
    .collect();
    lines.push(Line::from(Span::styled(
        format!("{more}{} answers every remaining conflict", all.join(" ")),
        Style::new().fg(MUTED),
    )));
    (" Already there ".into(), lines)
}

/// The side picker: local, the selected hosts, then every host.
fn pick_side_dialog(s: &AppState, cursor: usize, height: u16) -> Dialog {
    let mut rows = vec![
        side_label(s, Side::Local),
        format!("{} (fan-out and fan-in)", side_label(s, Side::Selected)),
    ];
    rows.extend(s.hosts.iter().map(|h| clean(&h.label)));
    (
        " Show in this pane ".into(),
        list_lines(&rows, cursor, height),
    )
}

/// The pane's recent directories, or a note that there are none yet.
fn recent_dialog(pane: &FilePane, cursor: usize, height: u16) -> Dialog {
    let rows: Vec<String> = pane.recent.iter().map(|d| visible_name(d)).collect();
    let rows = if rows.is_empty() {
        vec!["(none yet)".to_string()]
    } else {
        rows
    };
    (
        " Recent directories ".into(),
        list_lines(&rows, cursor, height),
    )
}

fn list_lines(rows: &[String], cursor: usize, height: u16) -> Vec<Line<'static>> {
    let room = usize::from(height.saturating_sub(4)).max(1);
    let first = cursor.saturating_sub(room - 1);
    rows.iter()
        .enumerate()
        .skip(first)
        .take(room)
        .map(|(i, r)| {
            let line = Line::from(format!("  {r}"));
            if i == cursor {
                line.patch_style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect()
}

/// The conflict context's help for `a`, as the `?` overlay shows it.
fn help_of(s: &AppState, a: Action) -> &'static str {
    s.keymap
        .bindings()
        .iter()
        .find(|b| b.ctx == Context::Conflict && b.action == a)
        .map_or("", |b| b.help)
}
