//! The TUI's model: state plus a pure update (Msg → effects), in the style
//! of an Elm architecture. Nothing here does IO; `crate::tui` runs effects.

pub mod actions;
pub mod facts;
pub mod files;
pub mod folders;
pub mod gather;
pub mod help;
pub mod hosts;
pub mod key_places;
pub mod keys;
pub mod layout;
pub mod mouse;
pub mod msg;
pub mod opening;
pub mod options;
pub mod palette;
pub mod prompts;
pub mod recipe;
pub mod scrollback;
pub mod shell;
pub mod state;
pub mod update;

pub use msg::{Effect, Msg};
pub use state::AppState;
pub use update::update;
