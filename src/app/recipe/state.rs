//! A recipe run as the app keeps it: each host's row of step cells.
//! Kept apart from the handlers so the app state can hold it without
//! importing them.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Pending,
    Running(String),
    Done(Duration),
    Failed(Duration, String),
    Skipped,
}

#[derive(Debug, Clone)]
pub struct RecipeRun {
    pub name: String,
    /// Each step's kind and one-line description (unexpanded).
    pub steps: Vec<(String, String)>,
    /// Host indices, in row order.
    pub hosts: Vec<usize>,
    /// Per row, per step.
    pub cells: Vec<Vec<Cell>>,
    /// Shown in the output area instead of the panes.
    pub show: bool,
    pub cursor: usize,
    pub cancelled: bool,
}

impl RecipeRun {
    /// A host is finished once its last step has an end state (a failure
    /// marks the rest skipped).
    pub fn finished(&self, row: usize) -> bool {
        self.cells[row]
            .last()
            .is_none_or(|c| !matches!(c, Cell::Pending | Cell::Running(_)))
    }

    pub fn running(&self) -> usize {
        (0..self.hosts.len()).filter(|&r| !self.finished(r)).count()
    }

    pub fn failed(&self) -> usize {
        self.cells
            .iter()
            .filter(|r| r.iter().any(|c| matches!(c, Cell::Failed(..))))
            .count()
    }
}
