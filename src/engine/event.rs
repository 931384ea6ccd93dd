//! What the engine reports back. Every event names its host and the job that
//! caused it, so one receiver can serve any number of hosts and jobs.

use std::time::Duration;

use bytes::Bytes;

use super::error::HostError;

/// Index of a host inside one [`super::Engine`]. Cheap to copy and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub usize);

/// One fan-out command. The same job id is shared by every host it targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

/// How a remote command ended when it did end on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitStatus {
    Code(u32),
    /// Signal name without the `SIG` prefix, as the SSH protocol carries it.
    Signal {
        name: String,
        core_dumped: bool,
    },
}

impl ExitStatus {
    pub fn success(&self) -> bool {
        matches!(self, ExitStatus::Code(0))
    }
}

impl ExitStatus {
    /// The same status with a signal name a host chose made safe to show
    /// (the engine already cleans it; this keeps states built elsewhere
    /// safe too).
    pub fn cleaned(self) -> ExitStatus {
        match self {
            ExitStatus::Signal { name, core_dumped } => ExitStatus::Signal {
                name: crate::text::sanitize::server_text(&name),
                core_dumped,
            },
            code => code,
        }
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit {c}"),
            ExitStatus::Signal { name, core_dumped } => {
                write!(f, "killed by SIG{name}")?;
                if *core_dumped {
                    f.write_str(" (core dumped)")?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug)]
pub enum EventKind {
    /// A new TCP+SSH connection is being opened for this job.
    Connecting,
    /// The connection is authenticated and ready.
    Connected,
    /// An idle connection died (keepalives unanswered, server gone). Sent
    /// with `JobId(0)`; the next command reconnects.
    Disconnected,
    Stdout(Bytes),
    Stderr(Bytes),
    /// Something the user should know that does not end the job (a log or
    /// recording that could not be written).
    Warning(String),
    /// The command finished; `elapsed` is measured from when the engine
    /// started working on this host for this job.
    Exit {
        status: ExitStatus,
        elapsed: Duration,
    },
    /// The job could not finish on this host. Terminal for (host, job).
    Failed {
        error: HostError,
        elapsed: Duration,
    },
}

#[derive(Debug)]
pub struct Event {
    pub host: HostId,
    pub job: JobId,
    pub kind: EventKind,
}

impl Event {
    /// True when no more events will come for this (host, job).
    pub fn is_terminal(&self) -> bool {
        matches!(self.kind, EventKind::Exit { .. } | EventKind::Failed { .. })
    }
}
