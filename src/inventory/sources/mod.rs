//! Inventories other tools keep, read into one shape the inventory merges:
//! Ansible inventories (hosts with their connection settings, and groups)
//! and ClusterShell group sources (groups only, resolved on demand because
//! an upcall may run a command).
//!
//! Everything here comes from files and scripts the user named: it is
//! checked as it is read (a host name as OpenSSH would, every error with
//! its file and line), so the inventory never holds half a source.

pub mod ansible;
pub mod clustershell;
pub mod pyyaml;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use thiserror::Error;

/// Where a host or group was named: a file, and its line when the
/// source has lines (a dynamic script's answer has none: line 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based; 0 when the source has no lines.
    pub line: usize,
}

impl Origin {
    pub fn new(file: impl Into<PathBuf>, line: usize) -> Origin {
        Origin {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = crate::text::sanitize::visible_name(&self.file.display().to_string());
        match self.line {
            0 => write!(f, "{file}"),
            n => write!(f, "{file}:{n}"),
        }
    }
}

/// The first character of a group name that `@name` cannot carry: those
/// ClusterShell refuses in group names (its ILLEGAL_GROUP_CHARS), blanks
/// and control characters.
pub fn unsafe_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| "@,!&^*".contains(*c) || c.is_whitespace() || c.is_control())
}

/// One host another tool's inventory names, with the connection
/// settings it gives (each None when the source leaves it to ssh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHost {
    /// The name the source knows it by (Ansible's inventory_hostname).
    pub name: String,
    /// Where to connect (`ansible_host`).
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_file: Option<PathBuf>,
    /// A ProxyJump chain (`a,user@b:2222`), from `-J` or `ProxyJump`.
    pub jump: Option<String>,
    /// Where the host is first named.
    pub origin: Origin,
}

/// A group with its members, flattened (its children's hosts included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceGroup {
    /// Host names, each once, in the source's order.
    pub members: Vec<String>,
    /// Where the group is first named.
    pub origin: Origin,
}

/// Hosts and groups read from one source (all `--inventory` paths are one
/// Ansible inventory, as `ansible-inventory -i a -i b` reads them).
#[derive(Debug, Clone, Default)]
pub struct SourceInventory {
    /// How messages name the source: "Ansible inventory".
    pub label: String,
    /// Each name once, in the order the source lists them.
    pub hosts: Vec<SourceHost>,
    pub groups: BTreeMap<String, SourceGroup>,
    /// What was left out, and why (a host Ansible reaches without SSH, a
    /// group no `@name` can spell), for the caller to say before starting.
    pub notes: Vec<String>,
}

/// What `@group` stands for in a group source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDef {
    /// A node-set expression (it may name other groups).
    pub nodes: String,
    /// The file (and line) that defines it, or the upcall that answered.
    pub origin: Origin,
}

/// Groups looked up by name, as ClusterShell's group sources are: the
/// answer may come from a command (an upcall), so nothing is read until
/// a group is asked for.
pub trait GroupSource: Send + Sync {
    /// The source's name, as written in `@source:group`.
    fn name(&self) -> &str;
    /// How messages name it, e.g. "ClusterShell source local".
    fn describe(&self) -> String;
    /// The nodes `@group` stands for, None when the source has no such group.
    fn group(&self, group: &str) -> Result<Option<GroupDef>, SourceError>;
    /// Every group's name (`nodeset -l`), None when the source cannot list.
    fn group_names(&self) -> Result<Option<Vec<String>>, SourceError>;
    /// Every node (`@*`), None when the source cannot say.
    fn all_nodes(&self) -> Result<Option<String>, SourceError>;
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// A file that could not be read.
    #[error("{}: cannot read: {cause}", crate::text::sanitize::visible_name(&path.display().to_string()))]
    Io { path: PathBuf, cause: String },
    /// A syntax error, an unsafe name, a value that cannot be resolved.
    #[error("{origin}: {msg}")]
    Invalid { origin: Origin, msg: String },
    /// A script or upcall that failed: its command, exit status and the
    /// tail of what it wrote to stderr (sanitized).
    #[error("{what}: {status}{}", if stderr_tail.is_empty() { String::new() } else { format!(": {stderr_tail}") })]
    Command {
        what: String,
        status: String,
        stderr_tail: String,
    },
}
