//! Dialogs: the engine's questions (host key, passphrase, password,
//! keyboard-interactive) and the quit confirmation.

use std::path::Path;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::help::centered;
use super::style::{ACCENT, MUTED, WARN};
use crate::app::AppState;
use crate::app::help::key_name;
use crate::app::state::PromptView;
use crate::engine::Question;
use crate::keymap::{Action, Context};
use crate::text::sanitize::sanitize_line;

pub fn prompt(f: &mut Frame, s: &AppState, p: &PromptView, area: Rect) {
    let (title, mut lines) = match &p.question {
        Question::HostKey {
            host,
            key_type,
            fingerprint,
            save_to,
        } => host_key_question(s, host, key_type, fingerprint, save_to),
        Question::Passphrase { key, retry } => passphrase_question(p, key, *retry),
        Question::Password { user, host, retry } => password_question(p, user, host, *retry),
        Question::KeyboardInteractive {
            user,
            host,
            name,
            instructions,
            prompts,
        } => {
            let login = LoginPrompts {
                user,
                host,
                name,
                instructions,
                prompts,
            };
            keyboard_interactive_question(p, &login)
        }
        Question::Secret {
            name,
            host,
            prompt,
            retry,
        } => secret_question(p, name, host, prompt, *retry),
    };
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        footer(s, &p.question, s.prompts.len()),
        Style::new().fg(MUTED),
    )));
    framed(f, area, 76, lines, title, WARN);
}

/// A question's title and the lines that ask it.
type Asked = (&'static str, Vec<Line<'static>>);

/// The keyboard-interactive round, borrowed from the question.
struct LoginPrompts<'a> {
    user: &'a str,
    host: &'a str,
    name: &'a str,
    instructions: &'a str,
    prompts: &'a [(String, bool)],
}

/// The note that the last answer was refused, when it was.
fn retry_note(retry: bool, text: &'static str) -> Option<Line<'static>> {
    retry.then(|| Line::from(Span::styled(text, Style::new().fg(WARN))))
}

/// An unknown host key: the fingerprint to compare, and the three answers.
fn host_key_question(
    s: &AppState,
    host: &str,
    key_type: &str,
    fingerprint: &str,
    save_to: &Path,
) -> Asked {
    // The answers' keys come from the keymap, so a rebinding shows here.
    let key = |a| {
        Span::styled(
            key_name(s, Context::HostKey, a),
            Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
        )
    };
    let lines = vec![
        Line::from(format!("{host} is not in your known_hosts.")),
        Line::from(""),
        Line::from(vec![
            Span::raw(format!("{key_type} ")),
            Span::styled(
                fingerprint.to_string(),
                Style::new().fg(WARN).add_modifier(Modifier::BOLD),
            ),
        ]),
        Line::from(""),
        Line::from("Compare the fingerprint with one from the host's admin."),
        Line::from(""),
        Line::from(vec![
            key(Action::AcceptOnce),
            Span::raw(" accept once   "),
            key(Action::AcceptSave),
            Span::raw(format!(" accept and save to {}   ", save_to.display())),
            key(Action::Reject),
            Span::raw(" reject"),
        ]),
    ];
    (" Unknown host key ", lines)
}

/// The passphrase of an encrypted identity file.
fn passphrase_question(p: &PromptView, identity: &Path, retry: bool) -> Asked {
    let mut lines: Vec<Line> = retry_note(retry, "Wrong passphrase, try again.")
        .into_iter()
        .collect();
    lines.push(Line::from(format!(
        "Passphrase for {}:",
        identity.display()
    )));
    lines.push(masked(p, 0));
    (" Passphrase ", lines)
}

/// A password for `user@host`, said to be reused for that user.
fn password_question(p: &PromptView, user: &str, host: &str, retry: bool) -> Asked {
    let mut lines: Vec<Line> = retry_note(retry, "Permission denied, try again.")
        .into_iter()
        .collect();
    lines.push(Line::from(format!("Password for {user}@{host}:")));
    lines.push(masked(p, 0));
    lines.push(Line::from(Span::styled(
        format!("(reused for other hosts as {user})"),
        Style::new().fg(MUTED),
    )));
    (" Password ", lines)
}

/// The server's keyboard-interactive prompts, each with its masked input.
fn keyboard_interactive_question(p: &PromptView, login: &LoginPrompts) -> Asked {
    let mut lines = vec![Line::from(format!("{}@{}", login.user, login.host))];
    for t in [login.name, login.instructions] {
        if !t.is_empty() {
            lines.push(Line::from(sanitize_line(t.as_bytes())));
        }
    }
    for (i, (text, _)) in login.prompts.iter().enumerate() {
        lines.push(Line::from(sanitize_line(text.as_bytes())));
        lines.push(masked(p, i));
    }
    (" Login ", lines)
}

/// A named secret for an expect rule, asked once and sent to every host.
fn secret_question(p: &PromptView, name: &str, host: &str, prompt: &str, retry: bool) -> Asked {
    let mut lines: Vec<Line> = retry_note(retry, "A host refused the last answer, try again.")
        .into_iter()
        .collect();
    lines.push(Line::from(format!("{host} asks: {prompt}")));
    lines.push(Line::from(format!("Secret \"{name}\":")));
    lines.push(masked(p, 0));
    lines.push(Line::from(Span::styled(
        "(kept in memory for this session, sent to every host that asks)",
        Style::new().fg(MUTED),
    )));
    (" Answer a prompt ", lines)
}

/// How to answer, and how many questions wait behind this one.
fn footer(s: &AppState, question: &Question, queued: usize) -> String {
    let mut footer = if matches!(question, Question::HostKey { .. }) {
        let key = |a| key_name(s, Context::HostKey, a);
        format!(
            "{} / {} / {}",
            key(Action::AcceptOnce),
            key(Action::AcceptSave),
            key(Action::Reject)
        )
    } else {
        input_keys(s, "confirms")
    };
    match queued.saturating_sub(1) {
        0 => {}
        1 => footer.push_str(" · 1 more question waiting"),
        n => footer.push_str(&format!(" · {n} more questions waiting")),
    }
    footer
}

/// A centred, bordered box of wrapped lines, `width` columns wide and as
/// tall as the lines need once wrapped (so nothing is cut off at the
/// bottom), over whatever is beneath.
pub fn framed(f: &mut Frame, area: Rect, width: u16, lines: Vec<Line>, title: &str, color: Color) {
    let w = width.min(area.width);
    let inner = usize::from(w.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let h = (rows as u16).saturating_add(2).min(area.height);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(Style::new().fg(color))
                .title(title.to_string()),
        ),
        r,
    );
}

/// The input shown as bullets: never the secret itself.
fn masked(p: &PromptView, i: usize) -> Line<'static> {
    let n = p
        .inputs
        .get(i)
        .map_or(0, |t| t.lines().iter().map(|l| l.chars().count()).sum());
    let cursor = if i == p.active { "█" } else { "" };
    Line::from(vec![
        Span::raw("> "),
        Span::raw("•".repeat(n)),
        Span::styled(cursor, Style::new().fg(ACCENT)),
    ])
}

pub fn confirm_quit(f: &mut Frame, s: &AppState, area: Rect) {
    let mut text = Vec::new();
    let running = s.running();
    if running > 0 {
        text.push(Line::from(if running == 1 {
            "1 host is still running a command: quitting stops it there (TERM, then KILL), and says so if it may still run.".to_string()
        } else {
            format!("{running} hosts are still running a command: quitting stops it on each (TERM, then KILL), and says where it may still run.")
        }));
    }
    let transfers = s.files.active_transfers();
    if transfers == 1 {
        text.push(Line::from(
            "1 transfer is not finished; its part files stay, and the same copy resumes from them.",
        ));
    } else if transfers > 1 {
        text.push(Line::from(format!(
            "{transfers} transfers are not finished; their part files stay, and the same copies resume from them."
        )));
    }
    let shells = crate::app::shell::live(s);
    if shells == 1 {
        text.push(Line::from("1 shell is open; it will be closed."));
    } else if shells > 1 {
        text.push(Line::from(format!(
            "{shells} shells are open; they will be closed."
        )));
    }
    text.push(Line::from(""));
    // The answers' keys come from the keymap, so a rebinding shows here.
    let key = |a| s.keymap.first_key(Context::Confirm, a).unwrap_or_default();
    text.push(Line::from(format!(
        "Quit anyway?  {} / {}",
        key(Action::Yes),
        key(Action::No)
    )));
    framed(f, area, 60, text, " Quit ", WARN);
}

/// "Enter confirms · Esc cancels", with the `input` context's keys: the
/// line under every text input says how to leave it.
pub fn input_keys(s: &AppState, submit: &str) -> String {
    format!(
        "{} {submit} · {} cancels",
        key_name(s, Context::Input, Action::Submit),
        key_name(s, Context::Input, Action::Cancel)
    )
}
