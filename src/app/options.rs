//! Options for the commands typed in the command pane (Ctrl-O): login
//! shell, PTY, sudo, environment, working directory and a timeout. They stay set for
//! the following commands until changed, and the command pane's title
//! shows them, so a command never runs with options the user cannot see.

use crossterm::event::{KeyCode, KeyEvent};

use crate::engine::ExecOptions;
use crate::engine::commands::command::parse_env;
use crate::keymap::Action;

/// Rows of the options dialog.
pub const ROWS: [&str; 6] = [
    "login shell (bash -lc: reads the host's profile)",
    "allocate a PTY (stderr merges into stdout)",
    "run with sudo (password asked once)",
    "environment  NAME=VALUE ...",
    "directory",
    "timeout  30, 90s, 5m (empty: none)",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOptions {
    pub login: bool,
    pub pty: bool,
    pub sudo: bool,
    /// As typed: `NAME=VALUE` words; `NAME="a b"` for spaces.
    pub env: String,
    pub cwd: String,
    /// As typed; starts as the config's `command_timeout`.
    pub timeout: String,
    /// The dialog is open on this row.
    pub editing: Option<usize>,
    /// Why the last Enter did not close the dialog.
    pub error: Option<String>,
    /// The options as they were when the dialog opened: Esc puts them
    /// back, so a dialog can always be left without its edits.
    pub before: Option<Box<CommandOptions>>,
}

/// Split on blanks, keeping double-quoted parts together (quotes removed).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

impl CommandOptions {
    /// The engine's options, or why the environment line is wrong.
    pub fn to_exec(&self) -> Result<ExecOptions, String> {
        let env = words(&self.env)
            .iter()
            .map(|w| parse_env(w).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let cwd = self.cwd.trim();
        let timeout = parse_timeout(&self.timeout)?;
        Ok(ExecOptions {
            timeout,
            login: self.login,
            pty: self.pty,
            sudo: self.sudo,
            env,
            cwd: (!cwd.is_empty()).then(|| cwd.to_string()),
            ..Default::default()
        })
    }

    /// Short form for the command pane's title; empty when all are off.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for (on, name) in [
            (self.login, "login"),
            (self.pty, "pty"),
            (self.sudo, "sudo"),
        ] {
            if on {
                parts.push(name.into());
            }
        }
        let n = words(&self.env).len();
        if n > 0 {
            parts.push(format!("env {n}"));
        }
        if !self.cwd.trim().is_empty() {
            parts.push(format!("in {}", self.cwd.trim()));
        }
        if let Ok(Some(t)) = parse_timeout(&self.timeout) {
            parts.push(format!(
                "timeout {}",
                crate::text::fmt_secs(t.as_secs_f64())
            ));
        }
        parts.join(" · ")
    }

    /// Open the dialog on its first row, remembering the options as they
    /// are now for Esc.
    pub fn open(&mut self) {
        let mut now = self.clone();
        now.editing = None;
        now.error = None;
        now.before = None;
        self.before = Some(Box::new(now));
        self.editing = Some(0);
        self.error = None;
    }

    /// A key while the dialog is open.
    /// The `input` context's actions while the form is open. Esc cancels:
    /// the options go back to what they were when the dialog opened.
    /// Enter applies, and only when all is valid.
    pub fn on_action(&mut self, a: Action) -> bool {
        let Some(row) = self.editing else {
            return false;
        };
        match a {
            Action::Cancel => match self.before.take() {
                Some(before) => *self = *before,
                None => {
                    self.editing = None;
                    self.error = None;
                }
            },
            Action::Submit => match self.to_exec() {
                Ok(_) => {
                    self.editing = None;
                    self.error = None;
                    self.before = None;
                }
                Err(e) => self.error = Some(e),
            },
            Action::PrevField => self.editing = Some((row + ROWS.len() - 1) % ROWS.len()),
            Action::NextField => self.editing = Some((row + 1) % ROWS.len()),
            _ => return false,
        }
        true
    }

    /// A key the `input` context does not bind: Space ticks a box, text
    /// goes into a text row.
    pub fn on_text_key(&mut self, k: KeyEvent) {
        let Some(row) = self.editing else {
            return;
        };
        match k.code {
            KeyCode::Char(' ') if row < 3 => self.toggle(row),
            KeyCode::Char(c) if row >= 3 => self.text(row).push(c),
            KeyCode::Backspace if row >= 3 => {
                self.text(row).pop();
            }
            _ => {}
        }
    }

    fn toggle(&mut self, row: usize) {
        match row {
            0 => self.login = !self.login,
            1 => self.pty = !self.pty,
            _ => self.sudo = !self.sudo,
        }
    }

    fn text(&mut self, row: usize) -> &mut String {
        match row {
            3 => &mut self.env,
            4 => &mut self.cwd,
            _ => &mut self.timeout,
        }
    }
}

/// "30", "1.5", "90s", "5m", "1h"; empty for no timeout.
pub fn parse_timeout(text: &str) -> Result<Option<std::time::Duration>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let (num, unit) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1.0),
        Some((i, 'm')) => (&t[..i], 60.0),
        Some((i, 'h')) => (&t[..i], 3600.0),
        _ => (t, 1.0),
    };
    match num.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n * unit < 1e9 => {
            Ok(Some(std::time::Duration::from_secs_f64(n * unit)))
        }
        _ => Err(format!(
            "timeout {t:?}: write seconds (30), or 90s, 5m, 1h; leave it empty for none"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    /// A key as the app routes it: the default keymap's `input` action,
    /// else text.
    fn key(o: &mut CommandOptions, code: KeyCode) {
        let k = KeyEvent::new(code, KeyModifiers::NONE);
        let map = crate::keymap::Keymap::default();
        let done = map
            .lookup(crate::keymap::Context::Input, &k)
            .is_some_and(|a| o.on_action(a));
        if !done {
            o.on_text_key(k);
        }
    }

    fn typ(o: &mut CommandOptions, text: &str) {
        text.chars().for_each(|c| key(o, KeyCode::Char(c)));
    }

    #[test]
    fn the_dialog_toggles_and_edits_then_builds_exec_options() {
        let mut o = CommandOptions {
            editing: Some(0),
            ..Default::default()
        };
        key(&mut o, KeyCode::Char(' '));
        key(&mut o, KeyCode::Down);
        key(&mut o, KeyCode::Down);
        key(&mut o, KeyCode::Char(' '));
        key(&mut o, KeyCode::Down);
        typ(&mut o, "A=1 B=\"x y\"");
        key(&mut o, KeyCode::Down);
        typ(&mut o, "/srvx");
        key(&mut o, KeyCode::Backspace);
        key(&mut o, KeyCode::Enter);
        assert_eq!(o.editing, None);
        let e = o.to_exec().unwrap();
        assert!(e.login && e.sudo && !e.pty);
        assert_eq!(
            e.env,
            vec![("A".into(), "1".into()), ("B".into(), "x y".into())]
        );
        assert_eq!(e.cwd.as_deref(), Some("/srv"));
        assert_eq!(o.summary(), "login · sudo · env 2 · in /srv");
    }

    #[test]
    fn a_bad_environment_keeps_the_dialog_open_with_the_reason() {
        let mut o = CommandOptions {
            editing: Some(3),
            ..Default::default()
        };
        typ(&mut o, "1X=2");
        key(&mut o, KeyCode::Enter);
        assert_eq!(o.editing, Some(3));
        assert!(o.error.as_deref().unwrap().contains("\"1X\""));
        // Esc is never a trap: the dialog closes.
        key(&mut o, KeyCode::Esc);
        assert_eq!(o.editing, None);
        assert!(CommandOptions::default().summary().is_empty());
    }

    /// Esc cancels: every edit since the dialog opened is undone, a bad
    /// line included; Enter keeps them.
    #[test]
    fn esc_restores_the_options_as_they_were_when_opened() {
        let mut o = CommandOptions {
            cwd: "/srv".into(),
            timeout: "30".into(),
            ..Default::default()
        };
        o.open();
        key(&mut o, KeyCode::Char(' '));
        key(&mut o, KeyCode::Up);
        key(&mut o, KeyCode::Up);
        typ(&mut o, "x");
        key(&mut o, KeyCode::Up);
        typ(&mut o, "/app");
        key(&mut o, KeyCode::Up);
        typ(&mut o, "1X=2");
        key(&mut o, KeyCode::Enter);
        assert!(o.error.is_some(), "the bad line keeps the dialog open");
        key(&mut o, KeyCode::Esc);
        assert_eq!(o.editing, None);
        assert_eq!(
            o,
            CommandOptions {
                cwd: "/srv".into(),
                timeout: "30".into(),
                ..Default::default()
            }
        );
        assert!(o.to_exec().is_ok());
        // Enter applies: the next Esc restores to this, not to the first.
        o.open();
        key(&mut o, KeyCode::Char(' '));
        key(&mut o, KeyCode::Enter);
        assert!(o.login && o.editing.is_none());
        o.open();
        key(&mut o, KeyCode::Char(' '));
        assert!(!o.login);
        key(&mut o, KeyCode::Esc);
        assert!(o.login, "Esc restores what Enter applied");
    }

    #[test]
    fn a_timeout_is_read_in_seconds_minutes_or_hours() {
        use std::time::Duration;
        assert_eq!(parse_timeout(""), Ok(None));
        assert_eq!(parse_timeout("30"), Ok(Some(Duration::from_secs(30))));
        assert_eq!(parse_timeout("1.5s"), Ok(Some(Duration::from_millis(1500))));
        assert_eq!(parse_timeout("5m"), Ok(Some(Duration::from_secs(300))));
        for bad in ["0", "-3", "soon", "5 d", "nan"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
        let mut o = CommandOptions {
            editing: Some(5),
            ..Default::default()
        };
        typ(&mut o, "2m");
        key(&mut o, KeyCode::Enter);
        assert_eq!(o.editing, None);
        assert_eq!(
            o.to_exec().map(|e| e.timeout),
            Ok(Some(Duration::from_secs(120)))
        );
        assert_eq!(o.summary(), "timeout 2m00s");
        o.editing = Some(5);
        typ(&mut o, "x");
        key(&mut o, KeyCode::Enter);
        assert_eq!(o.editing, Some(5), "a bad timeout keeps the dialog open");
    }
}
