//! Text handling shared by the CLI and the TUI.

pub mod lines;
pub mod sanitize;
