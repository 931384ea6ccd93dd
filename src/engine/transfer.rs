//! File transfers over SFTP that never damage the destination:
//!
//! 1. the source is opened (and so known readable) first;
//! 2. data goes to `.NAME.sshdeck-part` beside the destination, with many
//!    requests in flight;
//! 3. the part file is fsynced (when the server can), its size checked,
//!    and its SHA-256 compared with the source's when a hash is available;
//! 4. mode and mtime are copied, then the part is renamed over the
//!    destination in one step.
//!
//! A failure or cancel leaves the destination untouched and the part file
//! in place, so the next attempt resumes from it.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::sftp::{CHUNK, IN_FLIGHT, Sftp};
use crate::text::sanitize::is_mangled_name;

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
    /// Continue from an existing part file.
    pub resume: bool,
    /// Copy permission bits and mtime.
    pub preserve: bool,
    pub overwrite: Overwrite,
}

impl Default for TransferOpts {
    fn default() -> Self {
        TransferOpts {
            resume: true,
            preserve: true,
            overwrite: Overwrite::Always,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Sizes match and both SHA-256 sums match.
    Sha256(String),
    /// No remote checksum tool: sizes match.
    SizeOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Copied {
        bytes: u64,
        resumed_from: u64,
        verified: Verified,
    },
    /// `Overwrite::SkipSame` found the same file already there.
    Skipped,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransferError {
    #[error("{}: {cause}", path.display())]
    Local { path: PathBuf, cause: String },
    #[error("{host}:{path}: {cause}")]
    Remote {
        host: String,
        path: String,
        cause: String,
    },
    #[error("{what} mismatch after copying {path}: {detail}; the destination was left untouched")]
    Mismatch {
        path: String,
        what: &'static str,
        detail: String,
    },
    #[error("{path} already exists")]
    Exists { path: String },
    #[error("cancelled; the part file is kept for resuming")]
    Cancelled,
}

/// Computes the SHA-256 of a remote file (e.g. by running `sha256sum`);
/// `None` when the host cannot.
pub type RemoteHasher<'a> = &'a (dyn Fn(String) -> BoxFuture<'static, Option<String>> + Sync);

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

fn describe_sftp(e: &russh_sftp::client::error::Error) -> String {
    use russh_sftp::client::error::Error as E;
    use russh_sftp::protocol::StatusCode as S;
    match e {
        E::Status(s) => match s.status_code {
            S::NoSuchFile => "no such file or directory".into(),
            S::PermissionDenied => "permission denied".into(),
            _ if !s.error_message.is_empty() => s.error_message.clone(),
            _ => s.status_code.to_string(),
        },
        other => other.to_string(),
    }
}

fn mtime_secs(m: &std::fs::Metadata) -> Option<u32> {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs().min(u64::from(u32::MAX)) as u32)
}

async fn hash_prefix(file: &mut tokio::fs::File, len: u64, h: &mut Sha256) -> std::io::Result<()> {
    file.seek(std::io::SeekFrom::Start(0)).await?;
    let mut left = len;
    let mut buf = vec![0u8; 256 * 1024];
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = file.read(&mut buf[..want]).await?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(())
}

/// Copy a local file to `remote` on one host.
pub async fn upload(
    sftp: &Sftp,
    local: &Path,
    remote: &str,
    opts: &TransferOpts,
    remote_hash: Option<RemoteHasher<'_>>,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &CancellationToken,
) -> Result<Outcome, TransferError> {
    let lerr = local_err(local);
    mangled_check(sftp, remote, Some(local))?;
    let mut src = tokio::fs::File::open(local).await.map_err(&lerr)?;
    let meta = src.metadata().await.map_err(&lerr)?;
    let size = meta.len();
    let mtime = mtime_secs(&meta);
    if let Some(existing) = sftp.stat(remote).await.map_err(remote_err(sftp, remote))? {
        match opts.overwrite {
            Overwrite::Never => {
                return Err(TransferError::Exists {
                    path: remote.into(),
                });
            }
            Overwrite::SkipSame if existing.size == Some(size) && existing.mtime == mtime => {
                return Ok(Outcome::Skipped);
            }
            _ => {}
        }
    }
    let (dir, name) = split_remote(remote);
    let part = remote_join(dir, &part_name(name));
    let rerr = remote_err(sftp, &part);
    let start = if opts.resume {
        match sftp.stat(&part).await.map_err(&rerr)? {
            Some(a) => a.size.filter(|&s| s <= size).unwrap_or(0),
            None => 0,
        }
    } else {
        0
    };
    let mut flags = OpenFlags::WRITE | OpenFlags::CREATE;
    if start == 0 {
        flags |= OpenFlags::TRUNCATE;
    }
    // Private until finished: a half-written file is nobody's business.
    let attrs = FileAttributes {
        permissions: Some(0o600),
        ..Default::default()
    };
    let handle = sftp
        .raw()
        .open(part.as_str(), flags, attrs)
        .await
        .map_err(|e| TransferError::Remote {
            host: sftp.host.clone(),
            path: part.clone(),
            cause: format!(
                "cannot create the file ({}); is {dir} read-only, full, or not writable by this user?",
                describe_sftp(&e)
            ),
        })?
        .handle;
    let mut hasher = Sha256::new();
    if start > 0 {
        hash_prefix(&mut src, start, &mut hasher)
            .await
            .map_err(&lerr)?;
        progress(start);
    }
    src.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(&lerr)?;
    let result = async {
        let mut offset = start;
        let mut pending = FuturesUnordered::new();
        let mut eof = false;
        loop {
            while !eof && pending.len() < IN_FLIGHT {
                if cancel.is_cancelled() {
                    return Err(TransferError::Cancelled);
                }
                let mut buf = vec![0u8; CHUNK as usize];
                let mut filled = 0;
                while filled < buf.len() {
                    let n = src.read(&mut buf[filled..]).await.map_err(&lerr)?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                if filled == 0 {
                    eof = true;
                    break;
                }
                buf.truncate(filled);
                hasher.update(&buf);
                let at = offset;
                offset += filled as u64;
                let h = handle.as_str();
                pending
                    .push(async move { sftp.raw().write(h, at, buf).await.map(|_| filled as u64) });
            }
            match pending.next().await {
                Some(r) => progress(r.map_err(&rerr)?),
                None => break,
            }
        }
        if offset != size {
            return Err(TransferError::Local {
                path: local.to_path_buf(),
                cause: format!("file changed size while being read ({size} → {offset} bytes)"),
            });
        }
        if sftp.fsync {
            sftp.raw().fsync(handle.as_str()).await.map_err(&rerr)?;
        }
        Ok(())
    }
    .await;
    let _ = sftp.raw().close(handle.as_str()).await;
    result?;

    let got = sftp.stat(&part).await.map_err(&rerr)?.and_then(|a| a.size);
    if got != Some(size) {
        return Err(TransferError::Mismatch {
            path: remote.into(),
            what: "size",
            detail: format!("expected {size} bytes, the part file has {got:?}"),
        });
    }
    let local_sum = data_encoding::HEXLOWER.encode(&hasher.finalize());
    let remote_sum = match remote_hash {
        Some(f) => f(part.clone()).await,
        None => None,
    };
    let verified = match compare_sums(local_sum, remote_sum, remote) {
        Ok(v) => v,
        Err(e) => {
            // The part is wrong: remove it so a retry starts clean.
            let _ = sftp.raw().remove(part.as_str()).await;
            return Err(e);
        }
    };
    if opts.preserve {
        let attrs = FileAttributes {
            permissions: Some(meta_mode(&meta)),
            mtime,
            atime: mtime,
            ..Default::default()
        };
        sftp.raw()
            .setstat(part.as_str(), attrs)
            .await
            .map_err(&rerr)?;
    }
    sftp.rename_over(&part, remote)
        .await
        .map_err(remote_err(sftp, remote))?;
    Ok(Outcome::Copied {
        bytes: size,
        resumed_from: start,
        verified,
    })
}

fn meta_mode(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}

/// Copy `remote` on one host to a local file.
pub async fn download(
    sftp: &Sftp,
    remote: &str,
    local: &Path,
    opts: &TransferOpts,
    remote_hash: Option<RemoteHasher<'_>>,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &CancellationToken,
) -> Result<Outcome, TransferError> {
    let rerr = remote_err(sftp, remote);
    mangled_check(sftp, remote, None)?;
    // Open the source first: nothing local is touched if it is unreadable.
    let handle = sftp
        .raw()
        .open(remote, OpenFlags::READ, FileAttributes::default())
        .await
        .map_err(&rerr)?
        .handle;
    let result = download_open(
        sftp,
        remote,
        &handle,
        local,
        opts,
        remote_hash,
        progress,
        cancel,
    )
    .await;
    let _ = sftp.raw().close(handle.as_str()).await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn download_open(
    sftp: &Sftp,
    remote: &str,
    handle: &str,
    local: &Path,
    opts: &TransferOpts,
    remote_hash: Option<RemoteHasher<'_>>,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &CancellationToken,
) -> Result<Outcome, TransferError> {
    let rerr = remote_err(sftp, remote);
    let lerr = local_err(local);
    let attrs = sftp.raw().fstat(handle).await.map_err(&rerr)?.attrs;
    let size = attrs.size.unwrap_or(0);
    if let Ok(existing) = std::fs::metadata(local) {
        match opts.overwrite {
            Overwrite::Never => {
                return Err(TransferError::Exists {
                    path: local.display().to_string(),
                });
            }
            Overwrite::SkipSame
                if existing.len() == size && mtime_secs(&existing) == attrs.mtime =>
            {
                return Ok(Outcome::Skipped);
            }
            _ => {}
        }
    }
    let name = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let part = local.with_file_name(part_name(&name));
    let perr = local_err(&part);
    let start = if opts.resume {
        std::fs::metadata(&part)
            .map(|m| m.len())
            .ok()
            .filter(|&l| l <= size)
            .unwrap_or(0)
    } else {
        0
    };
    let mut out = {
        use std::os::unix::fs::OpenOptionsExt;
        let mut o = std::fs::OpenOptions::new();
        o.write(true)
            .read(true)
            .create(true)
            .truncate(start == 0)
            .mode(0o600);
        tokio::fs::File::from_std(o.open(&part).map_err(&perr)?)
    };
    let mut hasher = Sha256::new();
    if start > 0 {
        hash_prefix(&mut out, start, &mut hasher)
            .await
            .map_err(&perr)?;
        progress(start);
    }
    out.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(&perr)?;
    // Ordered pipeline: many reads in flight, written in offset order.
    let offsets = (start..size).step_by(CHUNK as usize);
    let mut chunks = futures::stream::iter(offsets)
        .map(|off| {
            let len = (size - off).min(u64::from(CHUNK));
            read_exact_at(sftp, handle, off, len)
        })
        .buffered(IN_FLIGHT);
    let mut written = start;
    while let Some(chunk) = chunks.next().await {
        if cancel.is_cancelled() {
            let _ = out.flush().await;
            return Err(TransferError::Cancelled);
        }
        let data = chunk.map_err(&rerr)?;
        out.write_all(&data).await.map_err(&perr)?;
        hasher.update(&data);
        written += data.len() as u64;
        progress(data.len() as u64);
    }
    out.flush().await.map_err(&perr)?;
    out.sync_all().await.map_err(&perr)?;
    drop(out);
    let got = std::fs::metadata(&part).map_err(&perr)?.len();
    if got != size || written != size {
        return Err(TransferError::Mismatch {
            path: remote.into(),
            what: "size",
            detail: format!("expected {size} bytes, got {got}"),
        });
    }
    let local_sum = data_encoding::HEXLOWER.encode(&hasher.finalize());
    let remote_sum = match remote_hash {
        Some(f) => f(remote.to_string()).await,
        None => None,
    };
    let verified = match compare_sums(local_sum, remote_sum, remote) {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    if opts.preserve {
        use std::os::unix::fs::PermissionsExt;
        if let Some(mode) = attrs.permissions {
            std::fs::set_permissions(&part, std::fs::Permissions::from_mode(mode & 0o7777))
                .map_err(&perr)?;
        }
        if let Some(m) = attrs.mtime {
            let f = std::fs::File::options()
                .write(true)
                .open(&part)
                .map_err(&perr)?;
            f.set_modified(UNIX_EPOCH + Duration::from_secs(u64::from(m)))
                .map_err(&perr)?;
        }
    }
    std::fs::rename(&part, local).map_err(&lerr)?;
    Ok(Outcome::Copied {
        bytes: size,
        resumed_from: start,
        verified,
    })
}

/// Judge a copy by its checksums: equal sums verify it, different sums
/// reject it, and no remote sum (no hashing tool there) leaves size only.
fn compare_sums(
    local: String,
    remote: Option<String>,
    path: &str,
) -> Result<Verified, TransferError> {
    match remote {
        Some(r) if r == local => Ok(Verified::Sha256(local)),
        Some(r) => Err(TransferError::Mismatch {
            path: path.into(),
            what: "SHA-256",
            detail: format!("this side {local}, the host {r}"),
        }),
        None => Ok(Verified::SizeOnly),
    }
}

/// Read exactly `len` bytes at `off` (servers may return short reads).
async fn read_exact_at(
    sftp: &Sftp,
    handle: &str,
    off: u64,
    len: u64,
) -> Result<Vec<u8>, russh_sftp::client::error::Error> {
    let mut buf = Vec::with_capacity(len as usize);
    while (buf.len() as u64) < len {
        let want = (len - buf.len() as u64) as u32;
        let d = sftp
            .raw()
            .read(handle, off + buf.len() as u64, want)
            .await?;
        if d.data.is_empty() {
            break;
        }
        buf.extend_from_slice(&d.data);
    }
    Ok(buf)
}

/// Quote for a POSIX shell: `it's` → `'it'\''s'`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A shell command printing `HASH  NAME` for `path`. OpenSSL goes first:
/// it uses the CPU's SHA instructions and is about 4x faster than
/// coreutils' `sha256sum` on large files; the others are fallbacks.
pub fn sha256_command(path: &str) -> String {
    // A leading '-' would read as an option to openssl.
    let p = if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_string()
    };
    let q = shell_quote(&p);
    format!(
        "openssl dgst -sha256 -r {q} 2>/dev/null || sha256sum {q} 2>/dev/null || shasum -a 256 {q}"
    )
}

/// Parse `sha256sum` output: the first field, if it is 64 hex digits.
pub fn parse_sha256sum(out: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(out).ok()?;
    let first = text.split_whitespace().next()?;
    (first.len() == 64 && first.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| first.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quoting() {
        assert_eq!(part_name("a.tar"), ".a.tar.sshdeck-part");
        assert_eq!(split_remote("/x/y/z"), ("/x/y", "z"));
        assert_eq!(split_remote("/z"), ("/", "z"));
        assert_eq!(split_remote("z"), (".", "z"));
        assert_eq!(remote_join("/", "a"), "/a");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        let sum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            parse_sha256sum(format!("{sum}  /tmp/x\n").as_bytes()),
            Some(sum.to_string())
        );
        assert_eq!(parse_sha256sum(b"sha256sum: not found"), None);
        // openssl dgst -r prints `HASH *NAME`.
        assert_eq!(
            parse_sha256sum(format!("{sum} *x\n").as_bytes()),
            Some(sum.to_string())
        );
        assert!(sha256_command("-x").contains("'./-x'"));
        assert_eq!(
            compare_sums("ab".into(), Some("ab".into()), "p"),
            Ok(Verified::Sha256("ab".into()))
        );
        assert_eq!(compare_sums("ab".into(), None, "p"), Ok(Verified::SizeOnly));
        assert!(matches!(
            compare_sums("ab".into(), Some("cd".into()), "p"),
            Err(TransferError::Mismatch {
                what: "SHA-256",
                ..
            })
        ));
    }
}
