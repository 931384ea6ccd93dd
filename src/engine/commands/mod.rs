//! Running commands and shells on a host: the command line and its
//! options, streaming output, stopping a command for real, answering
//! prompts with named secrets, feeding input, recording sessions, how a
//! host's command ended, and the record of the last run (which hosts
//! failed, for a rerun).

pub(super) mod answer;
pub mod command;
pub(super) mod exec;
pub mod expect;
pub mod outcome;
pub mod record;
pub(super) mod redact;
pub mod run_record;
pub mod secrets;
pub mod shell;
pub mod stdin_feed;
pub mod stop;
