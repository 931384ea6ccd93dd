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
mod sink;
pub mod source;
mod upload;

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use futures::future::BoxFuture;
use thiserror::Error;

pub use checksum::{parse_sha256sum, sha256_command, shell_quote};
pub use download::{download, download_private, download_to};
pub use upload::{Upload, upload, upload_as, upload_shared};

use super::sftp::Sftp;
use crate::text::sanitize::{is_mangled_name, server_text, visible_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Replace an existing destination.
    #[default]
    Always,
    /// Skip when the destination has the same size and mtime.
    SkipSame,
    /// Refuse if the destination exists.
    Never,
}

#[derive(Debug, Clone, Copy)]
pub struct TransferOpts {
    /// Continue from an existing part file (once it is proven a prefix).
    pub resume: bool,
    /// Keep the source's permission bits exactly (never more than 0777).
    /// Without it they are masked by the local umask, as OpenSSH's sftp
    /// does. The mtime is always kept: `SkipSame` relies on it.
    pub preserve: bool,
    pub overwrite: Overwrite,
    /// Compare SHA-256 sums after copying (sizes are always checked).
    pub verify: bool,
}

impl Default for TransferOpts {
    fn default() -> Self {
        TransferOpts {
            resume: true,
            preserve: false,
            overwrite: Overwrite::Always,
            verify: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Sizes match and both SHA-256 sums match.
    Sha256(String),
    /// Sizes match and the SHA-256 sums of each of this many parts match
    /// (a large upload is checked part by part, as the parts are stored).
    Sha256Parts(usize),
    /// No remote checksum tool (or `--no-verify`): sizes match.
    SizeOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Copied {
        bytes: u64,
        resumed_from: u64,
        verified: Verified,
        /// Something the user should hear about, such as a part file that
        /// could not be resumed.
        note: Option<String>,
    },
    /// `Overwrite::SkipSame` found the same file already there.
    Skipped,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransferError {
    #[error("{}: {cause}", visible_name(&path.to_string_lossy()))]
    Local { path: PathBuf, cause: String },
    #[error("{host}:{}: {cause}", visible_name(path))]
    Remote {
        host: String,
        path: String,
        cause: String,
    },
    #[error(
        "{what} mismatch after copying {}: {detail}; the destination was left untouched",
        visible_name(path)
    )]
    Mismatch {
        path: String,
        what: &'static str,
        detail: String,
    },
    #[error("{} already exists", visible_name(path))]
    Exists { path: String },
    #[error("cancelled; the part file is kept for resuming")]
    Cancelled,
}

/// Computes the SHA-256 of a remote file, or of a byte range of it (e.g.
/// by running `sha256sum`); `None` when the host cannot.
pub type RemoteHasher<'a> =
    &'a (dyn Fn(String, Option<std::ops::Range<u64>>) -> BoxFuture<'static, Option<String>> + Sync);

/// `dir/.NAME.sshdeck-part`
pub fn part_name(name: &str) -> String {
    format!(".{name}.sshdeck-part")
}

fn split_remote(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((dir, name)) => (if dir.is_empty() { "/" } else { dir }, name),
        None => (".", path),
    }
}

fn remote_join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn local_err(path: &Path) -> impl Fn(std::io::Error) -> TransferError + '_ {
    move |e| TransferError::Local {
        path: path.to_path_buf(),
        cause: e.to_string(),
    }
}

fn remote_err<'a>(
    sftp: &'a Sftp,
    path: &'a str,
) -> impl Fn(russh_sftp::client::error::Error) -> TransferError + 'a {
    move |e| TransferError::Remote {
        host: sftp.host.clone(),
        path: path.to_string(),
        cause: describe_sftp(&e),
    }
}

/// A path that came out of a listing with U+FFFD in place of bytes that
/// were not UTF-8 names no file: say so, instead of "no such file".
fn mangled_check(sftp: &Sftp, remote: &str, local: Option<&Path>) -> Result<(), TransferError> {
    const WHY: &str = "the name is not valid UTF-8 there, so it cannot be addressed by name; \
                       rename it on that side first";
    if is_mangled_name(remote) {
        return Err(TransferError::Remote {
            host: sftp.host.clone(),
            path: remote.into(),
            cause: WHY.into(),
        });
    }
    if let Some(local) = local
        && is_mangled_name(&local.to_string_lossy())
        && !local.exists()
    {
        return Err(TransferError::Local {
            path: local.to_path_buf(),
            cause: WHY.into(),
        });
    }
    Ok(())
}

pub fn describe_sftp(e: &russh_sftp::client::error::Error) -> String {
    use russh_sftp::client::error::Error as E;
    use russh_sftp::protocol::StatusCode as S;
    match e {
        E::Status(s) => match s.status_code {
            S::NoSuchFile => "no such file or directory".into(),
            S::PermissionDenied => "permission denied".into(),
            _ if !s.error_message.is_empty() => server_text(&s.error_message),
            _ => s.status_code.to_string(),
        },
        other => server_text(&other.to_string()),
    }
}

fn mtime_secs(m: &std::fs::Metadata) -> Option<u32> {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs().min(u64::from(u32::MAX)) as u32)
}

fn restart_note(part: &str, why: &str) -> String {
    format!(
        "{}: the part file from an earlier attempt was not used ({why}); started over",
        visible_name(part)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_and_remote_paths() {
        assert_eq!(part_name("a.tar"), ".a.tar.sshdeck-part");
        assert_eq!(split_remote("/x/y/z"), ("/x/y", "z"));
        assert_eq!(split_remote("/z"), ("/", "z"));
        assert_eq!(split_remote("z"), (".", "z"));
        assert_eq!(remote_join("/", "a"), "/a");
    }
}
