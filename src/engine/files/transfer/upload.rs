//! Putting one local file on one host: pieces from the shared source
//! (read and hashed once for every host of the job), many writes in
//! flight, then the host's own hash of what it stored.

use std::path::Path;
use std::time::UNIX_EPOCH;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use russh_sftp::protocol::{FileAttributes, OpenFlags};

use super::checksum::{hash_prefix, proven_prefix};
use super::outcome::{
    TransferError, TransferOutcome, Verified, describe_sftp, local_err, remote_err, restart_note,
};
use super::part_path::{mangled_check, part_name, remote_join, split_remote};
use super::request::{Overwrite, TransferCtx};
use super::source::{SharedSource, SourceCache};
use super::upload_checks::PartChecks;
use crate::engine::files::local_dest::local_mode;
use crate::engine::files::sftp::{CHUNK, IN_FLIGHT, Sftp, in_flight};
use crate::text::sanitize::visible_name;

/// Copy a local file to `remote` on one host.
pub async fn upload(
    sftp: &Sftp,
    local: &Path,
    remote: &str,
    ctx: &TransferCtx<'_>,
) -> Result<TransferOutcome, TransferError> {
    let sources = SourceCache::new(ctx.opts.verify);
    let up = Upload {
        sources: &sources,
        ctx: *ctx,
    };
    upload_shared(sftp, local, remote, &up).await
}

/// [`upload`], the host's copy given `mode` (never setuid, setgid or
/// sticky) rather than the local file's: a private local copy (a file
/// being edited) goes back with the mode the host's file had.
pub async fn upload_as(
    sftp: &Sftp,
    local: &Path,
    remote: &str,
    mode: u32,
    ctx: &TransferCtx<'_>,
) -> Result<TransferOutcome, TransferError> {
    let sources = SourceCache::new(ctx.opts.verify);
    let up = Upload {
        sources: &sources,
        ctx: *ctx,
    };
    let file = FileUpload {
        sftp,
        local,
        remote,
        mode: Some(mode),
        up: &up,
    };
    file.run_until_cancelled().await
}

/// What an upload shares with the other uploads of its job.
pub struct Upload<'a> {
    /// Local files being read, so every host of the job shares one read.
    pub sources: &'a SourceCache,
    pub ctx: TransferCtx<'a>,
}

/// [`upload`], reading through the job's shared sources.
pub async fn upload_shared(
    sftp: &Sftp,
    local: &Path,
    remote: &str,
    up: &Upload<'_>,
) -> Result<TransferOutcome, TransferError> {
    let file = FileUpload {
        sftp,
        local,
        remote,
        mode: None,
        up,
    };
    file.run_until_cancelled().await
}

/// One local file going to one host.
struct FileUpload<'a> {
    sftp: &'a Sftp,
    local: &'a Path,
    remote: &'a str,
    /// The host's copy's mode; `None` for the local file's.
    mode: Option<u32>,
    up: &'a Upload<'a>,
}

/// The part file an upload writes into, beside the destination.
struct PartPath {
    /// The destination's directory, as given.
    dir: String,
    /// The part file's path, as given to SFTP.
    path: String,
    /// What the host's hash commands are given (see `Sftp::absolute`).
    hashed: String,
}

impl<'a> FileUpload<'a> {
    fn ctx(&self) -> &TransferCtx<'a> {
        &self.up.ctx
    }

    /// The upload, stopped by the cancel at any await.
    async fn run_until_cancelled(&self) -> Result<TransferOutcome, TransferError> {
        // Cancel is heard at every await, not only between requests: after
        // the last write an upload waits for acknowledgements, the sync and
        // the host's hash, any of which a loaded or stuck host can drag
        // out. What was stored stays in the part file, for a later resume.
        tokio::select! {
            biased;
            r = self.run() => r,
            _ = self.ctx().cancel.cancelled() => Err(TransferError::Cancelled),
        }
    }

    /// Every step of the upload, in order.
    async fn run(&self) -> Result<TransferOutcome, TransferError> {
        let (sftp, local) = (self.sftp, self.local);
        let lerr = local_err(local);
        mangled_check(sftp, self.remote, Some(local))?;
        // Open the source first: a file that cannot be read touches nothing.
        let reader = self.up.sources.reader(local, CHUNK).map_err(&lerr)?;
        let src = &reader.source;
        let meta = src.file().metadata().map_err(&lerr)?;
        let (size, mtime) = (src.size, mtime_secs(&meta));
        if let Some(skipped) = self.existing_destination(size, mtime).await? {
            return Ok(skipped);
        }
        let part = self.part_path().await?;
        let (start, note) = self.resume_point(&part, src).await?;
        let handle = self.open_part(&part, start).await?;
        if start > 0 {
            (self.ctx().progress)(start);
        }
        let sent = self.send_pieces(&part, src, &handle, start).await;
        let _ = sftp.raw().close(handle.as_str()).await;
        let verified = self.confirm_stored(&part, src, sent?).await?;
        drop(reader);
        self.put_in_place(&part, &meta, mtime).await?;
        Ok(TransferOutcome::Copied {
            bytes: size,
            resumed_from: start,
            verified,
            note,
        })
    }

    /// What the destination already there decides, by the overwrite rule:
    /// an error when it must not be replaced, `Some` when the upload is
    /// skipped as the same file.
    async fn existing_destination(
        &self,
        size: u64,
        mtime: Option<u32>,
    ) -> Result<Option<TransferOutcome>, TransferError> {
        let (sftp, remote) = (self.sftp, self.remote);
        let Some(existing) = sftp.stat(remote).await.map_err(remote_err(sftp, remote))? else {
            return Ok(None);
        };
        match self.ctx().opts.overwrite {
            Overwrite::Never => Err(TransferError::Exists {
                path: remote.into(),
            }),
            Overwrite::SkipSame if existing.size == Some(size) && existing.mtime == mtime => {
                Ok(Some(TransferOutcome::Skipped))
            }
            _ => Ok(None),
        }
    }

    /// Where the part file goes, and how the host's hasher names it.
    async fn part_path(&self) -> Result<PartPath, TransferError> {
        let (dir, name) = split_remote(self.remote);
        let path = remote_join(dir, &part_name(name));
        let hashed = match self.ctx().remote_hash {
            Some(_) => {
                let abs = self.sftp.absolute(dir).await;
                remote_join(
                    &abs.map_err(remote_err(self.sftp, &path))?,
                    &part_name(name),
                )
            }
            None => path.clone(),
        };
        Ok(PartPath {
            dir: dir.to_string(),
            path,
            hashed,
        })
    }

    /// Where writing starts: after an earlier attempt's part file when its
    /// bytes are proven to be the source's first bytes, else at 0 (with a
    /// note saying why the earlier part was not used). A part file that is
    /// not resumed is removed.
    async fn resume_point(
        &self,
        part: &PartPath,
        src: &SharedSource,
    ) -> Result<(u64, Option<String>), TransferError> {
        let sftp = self.sftp;
        let mut note = None;
        let mut start = 0;
        let earlier = sftp
            .lstat(&part.path)
            .await
            .map_err(remote_err(sftp, &part.path))?;
        if let Some(a) = &earlier
            && self.ctx().opts.resume
        {
            let len = a.size.unwrap_or(0);
            let why = if !a.is_regular() {
                Some("it is not a regular file")
            } else if len > src.size {
                Some("it is longer than the source")
            } else if len == 0 {
                None
            } else {
                // The part is there, the source here: each side hashes its own.
                let ours = hash_prefix(src.file(), len)
                    .await
                    .map_err(local_err(self.local))?;
                let theirs = self.ctx().remote_hash.map(|f| f(part.hashed.clone(), None));
                match proven_prefix(&ours, theirs).await {
                    Ok(()) => {
                        start = len;
                        None
                    }
                    Err(why) => Some(why),
                }
            };
            if let Some(why) = why {
                note = Some(restart_note(&part.path, why));
            }
        }
        if earlier.is_some() && start == 0 {
            // Start from nothing: whatever is there (even a link the server
            // would follow) goes first.
            let _ = sftp.raw().remove(part.path.as_str()).await;
        }
        Ok((start, note))
    }

    /// Open the part file for writing at `start` (truncated when 0),
    /// private to the user until it is finished.
    async fn open_part(&self, part: &PartPath, start: u64) -> Result<String, TransferError> {
        let sftp = self.sftp;
        let mut flags = OpenFlags::WRITE | OpenFlags::CREATE;
        if start == 0 {
            flags |= OpenFlags::TRUNCATE;
        }
        // Private until finished: a half-written file is nobody's business.
        let attrs = FileAttributes {
            permissions: Some(0o600),
            ..Default::default()
        };
        let opened = sftp
            .raw()
            .open(part.path.as_str(), flags, attrs)
            .await
            .map_err(|e| TransferError::Remote {
                host: sftp.host.clone(),
                path: part.path.clone(),
                cause: format!(
                    "cannot create the file ({}); is {} read-only, full, or not writable by this user?",
                    describe_sftp(&e),
                    visible_name(&part.dir)
                ),
            })?;
        Ok(opened.handle)
    }

    /// Write every piece from `start` on, many in flight, asking the host
    /// for its hash of each part as soon as it is stored; then check the
    /// source kept its size and sync the part. Returns the asked checks.
    async fn send_pieces(
        &self,
        part: &PartPath,
        src: &SharedSource,
        handle: &str,
        start: u64,
    ) -> Result<Option<PartChecks<'a>>, TransferError> {
        let (sftp, ctx) = (self.sftp, self.up.ctx);
        let lerr = local_err(self.local);
        let rerr = remote_err(sftp, &part.path);
        let size = src.size;
        let chunk = u64::from(CHUNK);
        let mut pending = FuturesUnordered::new();
        let mut next = start / chunk;
        let mut checks = ctx
            .remote_hash
            .filter(|_| ctx.opts.verify)
            .map(|f| PartChecks::new(f, &part.hashed, size, start, src.part_bytes()));
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
                    pending.push(async move {
                        let r = sftp.raw().write(handle, at, data).await.map(|_| (at, n));
                        drop(permit);
                        r
                    });
                    next += 1;
                }
                done = pending.next(), if !pending.is_empty() => {
                    if let Some(r) = done {
                        let (at, n) = r.map_err(&rerr)?;
                        (ctx.progress)(n);
                        if let Some(c) = checks.as_mut() {
                            c.stored(at, n);
                        }
                    }
                }
                else => break,
            }
        }
        let now = src.file().metadata().map_err(&lerr)?.len();
        if now != size {
            return Err(TransferError::Local {
                path: self.local.to_path_buf(),
                cause: format!("file changed size while being read ({size} → {now} bytes)"),
            });
        }
        if sftp.fsync {
            sftp.raw().fsync(handle).await.map_err(&rerr)?;
        }
        Ok(checks)
    }

    /// The part file's size, then the host's hashes, compared with the
    /// source; a part that fails its hashes is removed.
    async fn confirm_stored(
        &self,
        part: &PartPath,
        src: &SharedSource,
        checks: Option<PartChecks<'_>>,
    ) -> Result<Verified, TransferError> {
        let sftp = self.sftp;
        let size = src.size;
        let got = sftp
            .stat(&part.path)
            .await
            .map_err(remote_err(sftp, &part.path))?
            .and_then(|a| a.size);
        if got != Some(size) {
            return Err(TransferError::Mismatch {
                path: self.remote.into(),
                what: "size",
                detail: format!("expected {size} bytes, the part file has {got:?}"),
            });
        }
        let Some(c) = checks else {
            return Ok(Verified::SizeOnly);
        };
        let verdict = c.verdict(src, self.remote).await;
        if verdict.is_err() {
            // The part is wrong: remove it so a retry starts clean.
            let _ = sftp.raw().remove(part.path.as_str()).await;
        }
        verdict
    }

    /// Give the part its mode and mtime, then rename it over the
    /// destination in one step.
    async fn put_in_place(
        &self,
        part: &PartPath,
        meta: &std::fs::Metadata,
        mtime: Option<u32>,
    ) -> Result<(), TransferError> {
        let sftp = self.sftp;
        let attrs = FileAttributes {
            permissions: Some(match self.mode {
                Some(m) => m & 0o777,
                None => local_mode(Some(meta_mode(meta)), false, self.ctx().opts.preserve),
            }),
            mtime,
            atime: mtime,
            ..Default::default()
        };
        sftp.raw()
            .setstat(part.path.as_str(), attrs)
            .await
            .map_err(remote_err(sftp, &part.path))?;
        sftp.rename_over(&part.path, self.remote)
            .await
            .map_err(remote_err(sftp, self.remote))
    }
}

fn meta_mode(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}

fn mtime_secs(m: &std::fs::Metadata) -> Option<u32> {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs().min(u64::from(u32::MAX)) as u32)
}
