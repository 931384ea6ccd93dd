//! Files on hosts: SFTP sessions, the name boundary, browsing (local or
//! remote), single-file transfers and whole trees, the background
//! transfer queue, host-to-host copies through a local spool, moves, and
//! editing a host's file in $EDITOR.

pub mod copy_job;
pub mod edit_session;
pub mod fs;
pub mod local_dest;
pub mod move_sources;
pub mod name;
pub mod part_files;
pub mod queue;
pub mod relay;
pub mod sftp;
pub(super) mod sftp_raw;
pub mod spool_dir;
pub mod transfer;
pub mod tree;
pub mod tree_links;
