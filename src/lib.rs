//! sshdeck: work on many SSH hosts at once.
//!
//! - [`engine`]: connections, authentication, host keys, remote commands.
//!   No UI code; commands go in and events come out over channels.
//! - [`inventory`]: where hosts come from (command line, config).
//! - [`cli`]: the headless commands built on the engine.
//! - [`text`]: making remote output safe and line-shaped.

pub mod app;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod inventory;
pub mod logging;
pub mod text;
pub mod tui;
pub mod ui;
