//! Where hosts come from: the command line, config.toml and ssh_config,
//! with groups and node sets, turned into engine
//! [`Target`](crate::engine::Target)s.

pub mod config;
pub mod facts_config;
pub mod group_table;
pub mod hostspec;
pub mod keys_config;
pub mod named;
pub mod nodeset;
pub mod recipes_config;
pub mod resolve;
pub mod shell_safe;
pub mod sources;
pub mod ssh_config;
