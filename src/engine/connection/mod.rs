//! Getting onto a host: where and as whom ([`target`]), the SSH connection
//! through any jump hosts ([`ssh`]), host-key trust and the known_hosts
//! files, and authentication with identity files, the agent and passwords.

pub mod auth;
pub mod identities;
pub mod known_hosts;
pub(super) mod ssh;
pub mod target;
pub mod trust;
