use thiserror::Error;

use crate::inventory::config::ConfigError;
use crate::inventory::resolve::ResolveError;

/// Errors that stop a command before or outside any host's work.
/// Per-host failures are not errors here: they are reported and counted.
#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("{what}: {cause}")]
    Io { what: String, cause: std::io::Error },
    #[error("{0}")]
    BadArg(String),
    /// An Ansible inventory or a ClusterShell group source that cannot be
    /// read whole.
    #[error(transparent)]
    Inventory(#[from] crate::inventory::sources::SourceError),
}
