//! Per-command options and how they become the command line the host runs.
//!
//! SSH runs a command through the user's shell without a login, so profile
//! scripts (PATH additions, modules, conda) are skipped: a frequent surprise.
//! `login` runs it under `bash -lc`. Environment variables are exported by
//! the command itself rather than sent as SSH `env` requests, which sshd
//! drops unless `AcceptEnv` names them.

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::files::transfer::shell_quote;

/// A command typed with a leading space is private, as bash's
/// `ignorespace`: it runs, but its text goes to no file (history, run
/// record, `--log`).
pub fn is_private(command: &str) -> bool {
    command.starts_with(' ')
}

/// The prompt `--sudo` makes sudo print, whatever sudoers or the locale
/// say, so the built-in expect rule always recognises it.
pub const SUDO_PROMPT: &str = "[sudo] password for %u: ";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    pub timeout: Option<Duration>,
    /// Run under a login shell (`bash -lc`), reading the host's profile.
    pub login: bool,
    /// Allocate a PTY: programs see a terminal (colours, line buffering,
    /// sudo without -S); stderr then arrives merged into stdout.
    pub pty: bool,
    pub env: Vec<(String, String)>,
    /// Directory to run in (`~` and relative paths are the shell's).
    pub cwd: Option<String>,
    /// Run under sudo; its password prompt is answered by the "sudo" secret.
    pub sudo: bool,
    /// Append each host's output to `DIR/<host>.log`.
    pub log_dir: Option<PathBuf>,
    /// Input sent to every host's command, then end-of-input. `None`:
    /// end-of-input at once, so a command that reads its input never waits
    /// for bytes that cannot come.
    pub stdin: Option<crate::engine::commands::stdin_feed::StdinFeed>,
}

/// Why an option is not usable, for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("{0:?} is not NAME=VALUE")]
    NotAssignment(String),
    #[error("{0:?} is not a valid environment variable name (letters, digits, _)")]
    BadName(String),
}

/// Parse `NAME=VALUE`.
pub fn parse_env(s: &str) -> Result<(String, String), OptionError> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| OptionError::NotAssignment(s.to_string()))?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(OptionError::BadName(name.to_string()));
    }
    Ok((name.to_string(), value.to_string()))
}

impl ExecOptions {
    /// The command line to send, with the options applied. Order matters:
    /// sudo resets the environment and directory, so both are set inside
    /// what sudo runs.
    pub fn wrap(&self, command: &str) -> String {
        let mut inner = String::new();
        if let Some(dir) = &self.cwd {
            inner.push_str(&format!("cd {} && ", cwd_word(dir)));
        }
        if !self.env.is_empty() {
            inner.push_str("export");
            for (k, v) in &self.env {
                inner.push_str(&format!(" {k}={}", shell_quote(v)));
            }
            inner.push_str(" && ");
        }
        if inner.is_empty() && !self.login && !self.sudo {
            return command.to_string();
        }
        inner.push_str(command);
        let shell = if self.login {
            // A host without bash still gets a login shell, from sh.
            format!(
                "\"$(command -v bash || echo sh)\" -lc {}",
                shell_quote(&inner)
            )
        } else if self.sudo {
            format!("sh -c {}", shell_quote(&inner))
        } else {
            return inner;
        };
        if self.sudo {
            format!("sudo -S -p {} -- {shell}", shell_quote(SUDO_PROMPT))
        } else {
            shell
        }
    }
}

/// `~` and `~/x` stay unquoted so the shell expands them.
fn cwd_word(dir: &str) -> String {
    if dir == "~" {
        "~".into()
    } else if let Some(rest) = dir.strip_prefix("~/") {
        format!("~/{}", shell_quote(rest))
    } else {
        shell_quote(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_commands_are_unchanged() {
        assert_eq!(ExecOptions::default().wrap("uptime"), "uptime");
    }

    #[test]
    fn cwd_env_login_and_sudo_nest_in_order() {
        let o = ExecOptions {
            cwd: Some("~/my dir".into()),
            env: vec![("A".into(), "it's".into())],
            ..Default::default()
        };
        assert_eq!(o.wrap("ls"), "cd ~/'my dir' && export A='it'\\''s' && ls");
        let login = ExecOptions {
            login: true,
            ..Default::default()
        };
        assert_eq!(
            login.wrap("echo $PATH"),
            "\"$(command -v bash || echo sh)\" -lc 'echo $PATH'"
        );
        let sudo = ExecOptions {
            sudo: true,
            cwd: Some("/srv".into()),
            ..Default::default()
        };
        assert_eq!(
            sudo.wrap("id -u"),
            "sudo -S -p '[sudo] password for %u: ' -- sh -c 'cd '\\''/srv'\\'' && id -u'"
        );
    }

    #[test]
    fn env_assignments_are_checked() {
        assert_eq!(parse_env("A_1=x=y").unwrap(), ("A_1".into(), "x=y".into()));
        assert!(matches!(
            parse_env("novalue"),
            Err(OptionError::NotAssignment(_))
        ));
        assert!(matches!(parse_env("1A=x"), Err(OptionError::BadName(_))));
        assert!(matches!(parse_env("A-B=x"), Err(OptionError::BadName(_))));
    }
}
