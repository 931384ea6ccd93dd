//! sshdeck: work on many SSH hosts at once.
//!
//! - [`engine`]: connections, authentication, host keys, remote commands,
//!   SFTP and transfers. No UI code; commands go in and events come out
//!   over channels, one tokio task per host.
//! - [`inventory`]: where hosts come from: the command line, config.toml
//!   (with its facts, recipes and `[keys]`), ssh_config, node sets.
//! - [`keymap`]: the one table of keys (context, keys, action, help) that
//!   drives dispatch, help, hints, the palette and `[keys]` overrides.
//! - [`app`]: the TUI's state and its pure update (Msg → effects). No IO.
//! - [`ui`]: a pure render of the app state, one file per pane.
//! - [`tui`]: the runner: terminal, one loop that dispatches, and the IO
//!   behind each effect (files, shells, facts, recipes, the history file).
//! - [`session`]: sessions that outlive the terminal: the socket protocol
//!   between the session server and its clients.
//! - [`cli`]: the headless commands built on the engine.
//! - [`demo`]: the embedded SSH hosts `sshdeck demo` runs against.
//! - [`text`]: making remote output safe and line-shaped.
//! - [`logging`]: the log file (never secrets).
//! - [`layers`]: the order of the layers above, which a test holds every
//!   import to.

pub mod app;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod inventory;
pub mod keymap;
pub mod layers;
pub mod logging;
pub mod session;
pub mod text;
pub mod tui;
pub mod ui;

// Test-only: the check that no two types share a name (see names.rs).
#[cfg(test)]
mod names;
