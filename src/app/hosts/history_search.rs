//! The state of a Ctrl-R search through the command history; the keys
//! that drive it are in command.rs.

/// Ctrl-R: an incremental search back through the history, as in bash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistorySearch {
    pub query: String,
    /// Index into the history of the match shown; None = no match.
    pub hit: Option<usize>,
    /// What the pane held before the search: back on Ctrl-G, or when
    /// nothing matched.
    pub original: String,
}
