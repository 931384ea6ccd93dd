//! File transfers over SFTP that never damage the destination:
//!
//! 1. the source is opened (and so known readable) first;
//! 2. data goes to `.NAME.sshdeck-part` beside the destination, with many
//!    requests in flight; a part file left by an earlier attempt is resumed
//!    only once its bytes are proven to be a prefix of the source;
//! 3. the part file is fsynced (when the server can), its size checked,
//!    and its SHA-256 compared with the source's when a hash is available;
//! 4. mode and mtime are set, then the part is renamed over the
//!    destination in one step.
//!
//! A failure or cancel leaves the destination untouched and the part file
//! in place, so the next attempt resumes from it. On this machine every
//! write goes through [`LocalDir`], which never follows a symlink.

mod checksum;
mod download;
mod outcome;
mod part_path;
mod request;
mod sink;
pub mod source;
mod upload;
mod upload_checks;

pub use checksum::{parse_sha256sum, sha256_command, shell_quote};
pub use download::{download, download_private, download_to};
pub use outcome::{TransferError, TransferOutcome, Verified, describe_sftp};
pub use part_path::part_name;
pub use request::{Overwrite, RemoteHasher, TransferCtx, TransferOpts};
pub use upload::{Upload, upload, upload_as, upload_shared};
