//! Per-host failures. Each variant carries enough to tell the user what went
//! wrong and what to do, without a debug dump.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error, Clone)]
pub enum HostError {
    #[error("cannot resolve {host}: {cause}")]
    Resolve { host: String, cause: String },

    #[error("connection refused by {addr}")]
    Refused { addr: String },

    #[error("connection to {addr} timed out after {}", fmt_secs(*.after))]
    ConnectTimeout { addr: String, after: Duration },

    #[error("network error talking to {addr}: {cause}")]
    Network { addr: String, cause: String },

    #[error(
        "host key for {host} is unknown ({key_type} {fingerprint}; not in {}): refused, {why}",
        fmt_paths(files)
    )]
    HostKeyUnknown {
        host: String,
        key_type: String,
        fingerprint: String,
        files: Vec<PathBuf>,
        why: String,
    },

    #[error("host key for {host}: {cause}")]
    Trust { host: String, cause: String },

    #[error("via jump host {hop}: {cause}")]
    Jump { hop: String, cause: Box<HostError> },

    #[error(
        "HOST KEY CHANGED for {host}: {}:{line} has {expected}, the server offered {offered}. \
         Someone could be intercepting the connection; refusing to connect",
        file.display()
    )]
    HostKeyChanged {
        host: String,
        file: PathBuf,
        line: usize,
        expected: String,
        offered: String,
    },

    #[error("host key for {host} ({fingerprint}) is revoked in {}:{line}", file.display())]
    HostKeyRevoked {
        host: String,
        fingerprint: String,
        file: PathBuf,
        line: usize,
    },

    #[error("authentication failed for {user}@{host}: {detail}")]
    Auth {
        user: String,
        host: String,
        detail: String,
    },

    #[error("SSH protocol error with {host}: {cause}")]
    Protocol { host: String, cause: String },

    #[error("connection to {host} was lost")]
    Disconnected { host: String },

    #[error("command timed out after {}", fmt_secs(*.after))]
    CommandTimeout { after: Duration },

    #[error("channel closed without an exit status")]
    NoExitStatus,

    #[error("cancelled")]
    Cancelled,

    /// A stop (cancel or timeout) that the host did not confirm: the
    /// command may still run there, and the user must be told so.
    #[error("{cause}; may still be running on {host}: {why}")]
    NotStopped {
        cause: Box<HostError>,
        host: String,
        why: NotStopped,
    },
}

/// Why a stopped command may still be running, in words for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStopped {
    /// Neither signal was acted on, and no group was reported to kill.
    SignalIgnored,
    /// TERM and KILL went to the group, and the command went on.
    SurvivedKill,
    /// It exited, but something it started still holds its output.
    OutputHeld,
    /// The connection went away before the stop was confirmed.
    ConnectionLost,
}

impl std::fmt::Display for NotStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotStopped::SignalIgnored => {
                "the server did not act on the stop signal, and the command's process group is unknown"
            }
            NotStopped::SurvivedKill => {
                "it went on after TERM and KILL to its process group"
            }
            NotStopped::OutputHeld => {
                "it exited, but a process it started (outside its group) still holds its output"
            }
            NotStopped::ConnectionLost => "the connection was lost before the stop was confirmed",
        })
    }
}

/// A short, stable word for summaries, JSON and grouping.
impl HostError {
    pub fn kind(&self) -> &'static str {
        match self {
            HostError::Resolve { .. } => "resolve",
            HostError::Refused { .. } => "refused",
            HostError::ConnectTimeout { .. } => "connect-timeout",
            HostError::Network { .. } => "network",
            HostError::HostKeyUnknown { .. } => "host-key-unknown",
            HostError::Trust { .. } => "host-key",
            HostError::Jump { cause, .. } => cause.kind(),
            HostError::HostKeyChanged { .. } => "host-key-changed",
            HostError::HostKeyRevoked { .. } => "host-key-revoked",
            HostError::Auth { .. } => "auth",
            HostError::Protocol { .. } => "protocol",
            HostError::Disconnected { .. } => "disconnected",
            HostError::CommandTimeout { .. } => "timeout",
            HostError::NoExitStatus => "no-exit-status",
            HostError::Cancelled => "cancelled",
            HostError::NotStopped { .. } => "may-still-run",
        }
    }
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s:.1}s")
    }
}

fn fmt_paths(files: &[PathBuf]) -> String {
    if files.is_empty() {
        return "any known_hosts file (none configured)".into();
    }
    files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_key_message_names_file_line_and_both_fingerprints() {
        let e = HostError::HostKeyChanged {
            host: "[127.0.0.1]:2222".into(),
            file: PathBuf::from("/home/u/.ssh/known_hosts"),
            line: 7,
            expected: "SHA256:old".into(),
            offered: "SHA256:new".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("/home/u/.ssh/known_hosts:7"), "{msg}");
        assert!(
            msg.contains("SHA256:old") && msg.contains("SHA256:new"),
            "{msg}"
        );
        assert_eq!(e.kind(), "host-key-changed");
    }

    #[test]
    fn timeouts_print_whole_and_fractional_seconds() {
        let e = HostError::CommandTimeout {
            after: Duration::from_millis(1500),
        };
        assert_eq!(e.to_string(), "command timed out after 1.5s");
        let e = HostError::CommandTimeout {
            after: Duration::from_secs(3),
        };
        assert_eq!(e.to_string(), "command timed out after 3s");
    }
}
