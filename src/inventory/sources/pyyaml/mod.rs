//! YAML read the way PyYAML reads it, for the two tools whose files we
//! take as they are: Ansible's inventories and ClusterShell's group
//! files. `tree` keeps each node's line for messages; `scalar` types
//! plain scalars by YAML 1.1's rules.

mod scalar;
mod tree;

pub use scalar::{PyValue, yaml_plain};
pub(crate) use tree::{Node, NodeKind, parse};
