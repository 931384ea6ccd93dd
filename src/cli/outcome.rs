//! How one host's headless run ended, with how long it took, as `run`,
//! the gathered (`-b`) printer and the streaming printer all report it.
//! Kept apart from run.rs so the printers depend on it and not on the
//! command.

use std::time::Duration;

use crate::engine::HostOutcome;

/// How one host's run ended, and after how long (the streaming printer's
/// JSON gives the time; the rest goes by the outcome alone).
#[derive(Debug)]
pub(crate) struct Ended {
    pub outcome: HostOutcome,
    pub elapsed: Duration,
}

impl Ended {
    pub fn new(outcome: HostOutcome, elapsed: Duration) -> Ended {
        Ended { outcome, elapsed }
    }
}
