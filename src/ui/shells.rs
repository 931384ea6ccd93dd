//! The shells tab: each pane is its host's terminal screen as the emulator
//! holds it. The emulator keeps cells, not bytes, so nothing a host prints
//! can reach the user's terminal as a control sequence.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use tui_term::widget::PseudoTerminal;

use super::style::{ACCENT, BAD, MUTED, OK, WARN};
use crate::app::AppState;
use crate::app::help::{key_name, shell_key};
use crate::app::shell::state::ShellPane;
use crate::app::shell::{area, pane_rects};
use crate::keymap::{Action, Context};

pub fn render(f: &mut Frame, s: &AppState) {
    let v = &s.shells;
    if v.panes.is_empty() {
        no_shells(f, s);
        return;
    }
    let receivers = v.receivers();
    let rects = pane_rects(s);
    let pages = rects.len() < v.panes.len() && !v.zoomed;
    for (i, r) in rects {
        let pane = &v.panes[i];
        let look = PaneLook {
            index: i,
            focused: i == v.focused,
            taking: receivers.contains(&i),
            pages,
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(border(&look))
            .title(pane_title(s, pane, &look));
        let block = with_bottom_note(s, block, &look);
        let term = PseudoTerminal::new(pane.term.screen())
            .block(block)
            .cursor(tui_term::widget::Cursor::default().visibility(look.focused && pane.live()));
        f.render_widget(term, r);
        if pane.ended.is_some() {
            ended_hint(f, s, r);
        }
    }
}

/// What sets one pane's frame apart from the others.
struct PaneLook {
    /// The pane's place, counted from 0.
    index: usize,
    focused: bool,
    /// Typed input goes to this pane.
    taking: bool,
    /// Not every pane fits on screen.
    pages: bool,
}

/// The empty tab: how to open shells.
fn no_shells(f: &mut Frame, s: &AppState) {
    let msg = Paragraph::new(vec![
        Line::from(""),
        Line::from("No shells open."),
        Line::from(format!(
            "Select hosts on the Hosts tab, then {} (or {} here).",
            key_name(s, Context::Global, Action::Shells),
            shell_key(s, Action::OpenShells)
        )),
    ])
    .alignment(Alignment::Center)
    .style(Style::new().fg(MUTED));
    f.render_widget(msg, area(s));
}

/// The top border: number, host, whether it takes input, and its state.
fn pane_title(s: &AppState, pane: &ShellPane, look: &PaneLook) -> Line<'static> {
    let label = s.hosts.get(pane.host).map_or("?", |h| h.label.as_str());
    let mut title = vec![
        Span::styled(format!(" {} ", look.index + 1), Style::new().fg(MUTED)),
        Span::styled(
            format!("{label} "),
            Style::new().add_modifier(Modifier::BOLD),
        ),
    ];
    title.push(if look.taking {
        Span::styled("⌨ on ", Style::new().fg(OK))
    } else {
        Span::styled("⌨ off ", Style::new().fg(MUTED))
    });
    if let Some(end) = &pane.ended {
        title.push(Span::styled(format!("· {end} "), Style::new().fg(BAD)));
    } else if pane.job.is_none() {
        title.push(Span::styled("· opening ", Style::new().fg(WARN)));
    }
    if pane.scroll > 0 {
        title.push(Span::styled(
            format!("· ↑{} ", pane.scroll),
            Style::new().fg(WARN),
        ));
    }
    Line::from(title)
}

/// The border's colour: focus first, then whether the pane takes input.
fn border(look: &PaneLook) -> Style {
    if look.focused {
        Style::new().fg(ACCENT)
    } else if look.taking {
        Style::new().fg(OK)
    } else {
        Style::new().fg(MUTED)
    }
}

/// The bottom border's note: zoomed, or (on the focused pane) that more
/// shells are on other pages.
fn with_bottom_note<'a>(s: &AppState, block: Block<'a>, look: &PaneLook) -> Block<'a> {
    let v = &s.shells;
    if v.zoomed {
        block.title_bottom(
            Line::from(Span::styled(
                format!(
                    " zoomed: only this host gets input · {} ",
                    shell_key(s, Action::Zoom)
                ),
                Style::new().fg(WARN),
            ))
            .right_aligned(),
        )
    } else if look.pages && look.focused {
        block.title_bottom(
            Line::from(Span::styled(
                format!(
                    " {} shells, more on other pages · {} {} ",
                    v.panes.len(),
                    shell_key(s, Action::Left),
                    key_name(s, Context::Shells, Action::Right)
                ),
                Style::new().fg(MUTED),
            ))
            .right_aligned(),
        )
    } else {
        block
    }
}

/// Over an ended shell's last line: how to reopen or close it.
fn ended_hint(f: &mut Frame, s: &AppState, r: Rect) {
    let hint = Rect::new(
        r.x + 1,
        r.bottom().saturating_sub(2),
        r.width.saturating_sub(2),
        1,
    );
    f.render_widget(
        Paragraph::new(Span::styled(
            format!(
                "shell ended · {} reopens · {} closes",
                shell_key(s, Action::Reopen),
                shell_key(s, Action::Close)
            ),
            Style::new().fg(WARN),
        )),
        hint,
    );
}
