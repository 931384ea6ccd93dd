//! Carrying out the shells tab's effects: each pane's engine handle, keyed
//! by the pane's id. Shared by the runner and the integration tests, so
//! the tests drive exactly what the TUI does.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::app::{Effect, Msg};
use crate::engine::{Engine, HostId, ShellHandle, ShellSpec};

/// What the shells' emulator understands (vt100 with xterm's additions).
pub const SHELL_TERM: &str = "xterm-256color";

pub struct ShellIo {
    handles: HashMap<u64, ShellHandle>,
    /// Record every shell (asciicast) into this directory.
    record: Option<PathBuf>,
}

impl ShellIo {
    pub fn new(record: Option<PathBuf>) -> Self {
        ShellIo {
            handles: HashMap::new(),
            record,
        }
    }

    /// Close every shell; returns their jobs, whose ends are still to come.
    pub fn close_all(&mut self) -> Vec<crate::engine::JobId> {
        self.handles
            .drain()
            .map(|(_, h)| {
                h.close();
                h.job
            })
            .collect()
    }

    /// Is this one of the shells' effects?
    pub fn handles(eff: &Effect) -> bool {
        matches!(
            eff,
            Effect::OpenShell { .. }
                | Effect::ShellInput { .. }
                | Effect::ShellResize { .. }
                | Effect::CloseShell { .. }
        )
    }

    /// Carry out a shell effect, returning the message to feed back (if
    /// any); other effects are not ours and are ignored.
    pub fn apply(&mut self, engine: &mut Engine, eff: Effect) -> Option<Msg> {
        match eff {
            Effect::OpenShell {
                id,
                host,
                cols,
                rows,
            } => {
                let spec = ShellSpec {
                    term: SHELL_TERM.into(),
                    cols,
                    rows,
                    record_dir: self.record.clone(),
                };
                let handle = engine.open_shell(HostId(host), spec);
                let job = handle.job;
                self.handles.insert(id, handle);
                Some(Msg::ShellStarted { id, job })
            }
            Effect::ShellInput { id, bytes } => {
                if let Some(h) = self.handles.get(&id) {
                    h.send(bytes);
                }
                None
            }
            Effect::ShellResize { id, cols, rows } => {
                if let Some(h) = self.handles.get(&id) {
                    h.resize(cols, rows);
                }
                None
            }
            Effect::CloseShell { id } => {
                if let Some(h) = self.handles.remove(&id) {
                    h.close();
                }
                None
            }
            _ => None,
        }
    }
}
