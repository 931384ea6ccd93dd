//! Sessions that outlive the terminal (issue 28; ARCHITECTURE.md,
//! "Sessions"). A per-user server owns each session's engine and app
//! state; clients own only their terminal.

pub mod client;
mod connection;
mod outgoing;
pub mod paths;
pub mod protocol;
pub mod screen;
pub mod server;
