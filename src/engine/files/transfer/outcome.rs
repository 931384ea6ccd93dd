//! What a transfer ends with: how it was verified, or why it failed, in
//! words for the user.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::engine::files::sftp::Sftp;
use crate::text::sanitize::{server_text, visible_name};

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
pub enum TransferOutcome {
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

pub(super) fn local_err(path: &Path) -> impl Fn(std::io::Error) -> TransferError + '_ {
    move |e| TransferError::Local {
        path: path.to_path_buf(),
        cause: e.to_string(),
    }
}

pub(super) fn remote_err<'a>(
    sftp: &'a Sftp,
    path: &'a str,
) -> impl Fn(russh_sftp::client::error::Error) -> TransferError + 'a {
    move |e| TransferError::Remote {
        host: sftp.host.clone(),
        path: path.to_string(),
        cause: describe_sftp(&e),
    }
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

pub(super) fn restart_note(part: &str, why: &str) -> String {
    format!(
        "{}: the part file from an earlier attempt was not used ({why}); started over",
        visible_name(part)
    )
}
