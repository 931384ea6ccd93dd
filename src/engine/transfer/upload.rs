//! Putting one local file on one host: pieces from the shared source
//! (read and hashed once for every host of the job), many writes in
//! flight, then the host's own hash of what it stored.

use std::path::Path;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use tokio_util::sync::CancellationToken;

use super::checksum::{compare_sums, hash_prefix, hex, proven_prefix};
use super::source::SourceCache;
use super::{
    Outcome, Overwrite, RemoteHasher, TransferError, TransferOpts, describe_sftp, local_err,
    mangled_check, mtime_secs, part_name, remote_err, remote_join, restart_note, split_remote,
};
use crate::engine::local_dest::local_mode;
use crate::engine::sftp::{CHUNK, IN_FLIGHT, Sftp, in_flight};
use crate::text::sanitize::visible_name;

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
    let sources = SourceCache::new(opts.verify);
    let ctx = Upload {
        sources: &sources,
        opts,
        remote_hash,
        progress,
        cancel,
    };
    upload_shared(sftp, local, remote, &ctx).await
}

/// What an upload shares with the other uploads of its job.
pub struct Upload<'a> {
    /// Local files being read, so every host of the job shares one read.
    pub sources: &'a SourceCache,
    pub opts: &'a TransferOpts,
    pub remote_hash: Option<RemoteHasher<'a>>,
    pub progress: &'a (dyn Fn(u64) + Sync),
    pub cancel: &'a CancellationToken,
}

/// [`upload`], reading through the job's shared sources.
pub async fn upload_shared(
    sftp: &Sftp,
    local: &Path,
    remote: &str,
    ctx: &Upload<'_>,
) -> Result<Outcome, TransferError> {
    let (opts, remote_hash) = (ctx.opts, ctx.remote_hash);
    let lerr = local_err(local);
    mangled_check(sftp, remote, Some(local))?;
    // Open the source first: a file that cannot be read touches nothing.
    let reader = ctx.sources.reader(local, CHUNK).map_err(&lerr)?;
    let src = &reader.source;
    let meta = src.file().metadata().map_err(&lerr)?;
    let size = src.size;
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
    let mut note = None;
    let mut start = 0;
    let earlier = sftp.lstat(&part).await.map_err(&rerr)?;
    if let Some(a) = &earlier
        && opts.resume
    {
        let len = a.size.unwrap_or(0);
        let why = if !a.is_regular() {
            Some("it is not a regular file")
        } else if len > size {
            Some("it is longer than the source")
        } else if len == 0 {
            None
        } else {
            // The part is there, the source here: each side hashes its own.
            let ours = hash_prefix(src.file(), len).await.map_err(&lerr)?;
            let theirs = remote_hash.map(|f| f(part.clone(), None));
            match proven_prefix(&ours, theirs).await {
                Ok(()) => {
                    start = len;
                    None
                }
                Err(why) => Some(why),
            }
        };
        if let Some(why) = why {
            note = Some(restart_note(&part, why));
        }
    }
    if earlier.is_some() && start == 0 {
        // Start from nothing: whatever is there (even a link the server
        // would follow) goes first.
        let _ = sftp.raw().remove(part.as_str()).await;
    }
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
                "cannot create the file ({}); is {} read-only, full, or not writable by this user?",
                describe_sftp(&e),
                visible_name(dir)
            ),
        })?
        .handle;
    if start > 0 {
        (ctx.progress)(start);
    }
    let result = async {
        let chunk = u64::from(CHUNK);
        let mut pending = FuturesUnordered::new();
        let mut next = start / chunk;
        let pieces = size.div_ceil(chunk);
        loop {
            let more = next < pieces && pending.len() < IN_FLIGHT;
            // Waiting for room in the shared budget must not stop us
            // collecting our own acknowledgements, which is what frees it.
            tokio::select! {
                permit = in_flight(chunk as usize), if more => {
                    if ctx.cancel.is_cancelled() {
                        return Err(TransferError::Cancelled);
                    }
                    let piece = src.piece(next).await.map_err(&lerr)?;
                    // Resuming mid-piece: only what the part lacks.
                    let at = start.max(next * chunk);
                    let data = piece.slice((at - next * chunk) as usize..).to_vec();
                    let n = data.len() as u64;
                    let h = handle.as_str();
                    pending.push(async move {
                        let r = sftp.raw().write(h, at, data).await.map(|_| n);
                        drop(permit);
                        r
                    });
                    next += 1;
                }
                done = pending.next(), if !pending.is_empty() => {
                    if let Some(r) = done {
                        (ctx.progress)(r.map_err(&rerr)?);
                    }
                }
                else => break,
            }
        }
        let now = src.file().metadata().map_err(&lerr)?.len();
        if now != size {
            return Err(TransferError::Local {
                path: local.to_path_buf(),
                cause: format!("file changed size while being read ({size} → {now} bytes)"),
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
    let verified = if opts.verify {
        // Only the host can say what it stored, so its hash comes after
        // the last write; ours was made once, while the file was read.
        let ours = hex(&src.digest().await.map_err(&lerr)?);
        let theirs = match remote_hash {
            Some(f) => f(part.clone(), None).await,
            None => None,
        };
        match compare_sums(ours, theirs, remote) {
            Ok(v) => v,
            Err(e) => {
                // The part is wrong: remove it so a retry starts clean.
                let _ = sftp.raw().remove(part.as_str()).await;
                return Err(e);
            }
        }
    } else {
        super::Verified::SizeOnly
    };
    drop(reader);
    let attrs = FileAttributes {
        permissions: Some(local_mode(Some(meta_mode(&meta)), false, opts.preserve)),
        mtime,
        atime: mtime,
        ..Default::default()
    };
    sftp.raw()
        .setstat(part.as_str(), attrs)
        .await
        .map_err(&rerr)?;
    sftp.rename_over(&part, remote)
        .await
        .map_err(remote_err(sftp, remote))?;
    Ok(Outcome::Copied {
        bytes: size,
        resumed_from: start,
        verified,
        note,
    })
}

fn meta_mode(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}
