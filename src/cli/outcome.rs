//! How one host's headless run ended, as `run`, the gathered (`-b`)
//! printer and the streaming printer all report it. Kept apart from
//! run.rs so the printers depend on it and not on the command.

use std::time::Duration;

use crate::engine::{ExitStatus, HostError};
use crate::text::sanitize::clean;

/// How one host's run ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Exit {
        status: ExitStatus,
        elapsed: Duration,
    },
    Failed {
        error: HostError,
        elapsed: Duration,
    },
}

impl Outcome {
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Exit { status, .. } if status.success())
    }

    /// "exit 3", "killed by SIGTERM", or "refused: connection refused by …".
    pub fn describe(&self) -> String {
        match self {
            Outcome::Exit { status, .. } => clean(&status.to_string()),
            Outcome::Failed { error, .. } => clean(&format!("{}: {error}", error.kind())),
        }
    }
}
