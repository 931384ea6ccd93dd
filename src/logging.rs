//! `--log FILE`: engine events as text lines through `tracing`, for
//! debugging a session after the fact. Only sshdeck's own events are kept
//! (not every dependency's); nothing logged carries a secret: the engine
//! logs that a prompt was answered and with which secret's name, never the
//! value.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

pub fn init(path: &Path) -> std::io::Result<()> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_target(false)
        .with_writer(std::sync::Mutex::new(file));
    let filter = Targets::new().with_target("sshdeck", LevelFilter::DEBUG);
    tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init()
        .map_err(std::io::Error::other)
}
