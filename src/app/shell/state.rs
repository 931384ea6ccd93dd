//! Shell panes as data: one terminal emulator per host, and which hosts
//! take the keyboard.

use crate::engine::JobId;

/// Lines a pane keeps above its screen, for scrolling back.
pub const SCROLLBACK: usize = 1000;

pub struct ShellPane {
    /// Ours, stable for the pane's life; the engine job comes later.
    pub id: u64,
    pub host: usize,
    pub job: Option<JobId>,
    pub term: vt100::Parser,
    /// Keystrokes go to this host.
    pub input: bool,
    /// How the shell ended, once it has.
    pub ended: Option<String>,
    /// (cols, rows) the host was last told.
    pub size: (u16, u16),
    /// Lines scrolled back from the live screen.
    pub scroll: usize,
}

impl ShellPane {
    pub fn live(&self) -> bool {
        self.ended.is_none()
    }
}

#[derive(Default)]
pub struct ShellsView {
    pub panes: Vec<ShellPane>,
    pub focused: usize,
    /// One pane fills the view; only its host gets input.
    pub zoomed: bool,
    /// Ctrl-] was pressed: the next key is a command for sshdeck.
    pub prefix: bool,
    pub next_id: u64,
}

impl ShellsView {
    pub fn pane_by_job(&mut self, job: JobId) -> Option<&mut ShellPane> {
        self.panes.iter_mut().find(|p| p.job == Some(job))
    }

    pub fn pane_by_id(&mut self, id: u64) -> Option<&mut ShellPane> {
        self.panes.iter_mut().find(|p| p.id == id)
    }

    /// Indices of the panes that receive what is typed now.
    pub fn receivers(&self) -> Vec<usize> {
        if self.zoomed {
            return (self.focused < self.panes.len())
                .then_some(self.focused)
                .filter(|&i| self.panes[i].live())
                .into_iter()
                .collect();
        }
        (0..self.panes.len())
            .filter(|&i| self.panes[i].input && self.panes[i].live())
            .collect()
    }
}
