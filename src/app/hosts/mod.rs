//! The Hosts tab: the host list, the command pane and the output panes.
//! Each file holds one pane's actions; keys reach them through the keymap.

pub mod command;
pub mod history_search;
pub mod list;
pub mod output;
pub mod save;
pub mod viewport;
