//! How one host's headless run ended, as `run`, the gathered (`-b`)
//! printer and the streaming printer all report it. Kept apart from
//! run.rs so the printers depend on it and not on the command.

use std::time::Duration;

use crate::engine::{ExitStatus, HostError};
use crate::text::sanitize::clean;

/// How one host's run ended.
#[derive(Debug)]
pub(crate) enum RunOutcome {
    Exit {
        status: ExitStatus,
        elapsed: Duration,
    },
    Failed {
        error: HostError,
        elapsed: Duration,
    },
}

impl RunOutcome {
    pub fn ok(&self) -> bool {
        matches!(self, RunOutcome::Exit { status, .. } if status.success())
    }

    /// "exit 3", "killed by SIGTERM", or "refused: connection refused by …".
    pub fn describe(&self) -> String {
        match self {
            RunOutcome::Exit { status, .. } => clean(&status.to_string()),
            RunOutcome::Failed { error, .. } => clean(&format!("{}: {error}", error.kind())),
        }
    }
}
