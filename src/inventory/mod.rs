//! Where hosts come from: the command line, config.toml and (later)
//! ssh_config, turned into engine [`Target`](crate::engine::Target)s.

pub mod config;
pub mod hostspec;
pub mod nodeset;
pub mod resolve;
