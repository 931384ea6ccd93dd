//! Putting one local file on one host: pieces from the shared source
//! (read and hashed once for every host of the job), many writes in
//! flight, then the host's own hash of what it stored.

use std::path::Path;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use tokio_util::sync::CancellationToken;

use std::ops::Range;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::checksum::{TO_EOF, compare_sums, hash_prefix, hex, proven_prefix};
use super::source::{SharedSource, SourceCache};
use super::{
    Outcome, Overwrite, RemoteHasher, TransferError, TransferOpts, Verified, describe_sftp,
    local_err, mangled_check, mtime_secs, part_name, remote_err, remote_join, restart_note,
    split_remote,
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

/// [`upload`], the host's copy given `mode` (never setuid, setgid or
/// sticky) rather than the local file's: a private local copy (a file
/// being edited) goes back with the mode the host's file had.
#[allow(clippy::too_many_arguments)]
pub async fn upload_as(
    sftp: &Sftp,
    local: &Path,
    remote: &str,
    mode: u32,
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
    tokio::select! {
        biased;
        r = upload_inner(sftp, local, remote, Some(mode), &ctx) => r,
        _ = cancel.cancelled() => Err(TransferError::Cancelled),
    }
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
    // Cancel is heard at every await, not only between requests: after the
    // last write an upload waits for acknowledgements, the sync and the
    // host's hash, any of which a loaded or stuck host can drag out. What
    // was stored stays in the part file, for a later resume.
    tokio::select! {
        biased;
        r = upload_inner(sftp, local, remote, None, ctx) => r,
        _ = ctx.cancel.cancelled() => Err(TransferError::Cancelled),
    }
}

/// `mode`: the host's copy's mode; `None` for the local file's.
async fn upload_inner(
    sftp: &Sftp,
    local: &Path,
    remote: &str,
    mode: Option<u32>,
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
    // What the host's hash commands are given (see `Sftp::absolute`).
    let hashed_part = match remote_hash {
        Some(_) => remote_join(&sftp.absolute(dir).await.map_err(&rerr)?, &part_name(name)),
        None => part.clone(),
    };
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
            let theirs = remote_hash.map(|f| f(hashed_part.clone(), None));
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
        let mut checks = remote_hash
            .filter(|_| opts.verify)
            .map(|f| PartChecks::new(f, &hashed_part, size, start, src.part_bytes()));
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
                        let r = sftp.raw().write(h, at, data).await.map(|_| (at, n));
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
                path: local.to_path_buf(),
                cause: format!("file changed size while being read ({size} → {now} bytes)"),
            });
        }
        if sftp.fsync {
            sftp.raw().fsync(handle.as_str()).await.map_err(&rerr)?;
        }
        Ok(checks)
    }
    .await;
    let _ = sftp.raw().close(handle.as_str()).await;
    let checks = result?;

    let got = sftp.stat(&part).await.map_err(&rerr)?.and_then(|a| a.size);
    if got != Some(size) {
        return Err(TransferError::Mismatch {
            path: remote.into(),
            what: "size",
            detail: format!("expected {size} bytes, the part file has {got:?}"),
        });
    }
    let verified = match checks {
        Some(c) => match c.verdict(src, remote).await {
            Ok(v) => v,
            Err(e) => {
                // The part is wrong: remove it so a retry starts clean.
                let _ = sftp.raw().remove(part.as_str()).await;
                return Err(e);
            }
        },
        None => Verified::SizeOnly,
    };
    drop(reader);
    let attrs = FileAttributes {
        permissions: Some(match mode {
            Some(m) => m & 0o777,
            None => local_mode(Some(meta_mode(&meta)), false, opts.preserve),
        }),
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

/// Concurrent hash commands per upload: sshd allows ten sessions per
/// connection (MaxSessions), shared with SFTP, commands and collectors.
const CHECKS_AT_ONCE: usize = 2;

/// The host's confirmation of what it stored, part by part. Only the host
/// can say what it stored, so its hash of a part is asked for once every
/// write into that part is acknowledged, while the next parts are still
/// being sent: most of the hashing is done by the time the last byte
/// lands. Ours come from the shared source, made once as it read the file.
struct PartChecks<'a> {
    hasher: RemoteHasher<'a>,
    path: String,
    size: u64,
    /// Bytes before this were proven before the upload resumed.
    start: u64,
    part_bytes: u64,
    stored: Vec<u64>,
    asked: Vec<Option<tokio::task::JoinHandle<Option<String>>>>,
    limit: Arc<Semaphore>,
}

impl<'a> PartChecks<'a> {
    fn new(hasher: RemoteHasher<'a>, path: &str, size: u64, start: u64, part_bytes: u64) -> Self {
        let parts = size.div_ceil(part_bytes).max(1) as usize;
        PartChecks {
            hasher,
            path: path.to_string(),
            size,
            start,
            part_bytes,
            stored: vec![0; parts],
            asked: (0..parts).map(|_| None).collect(),
            limit: Arc::new(Semaphore::new(CHECKS_AT_ONCE)),
        }
    }

    fn range(&self, k: usize) -> Range<u64> {
        let from = k as u64 * self.part_bytes;
        from..(from + self.part_bytes).min(self.size)
    }

    /// Bytes of part `k` this upload writes.
    fn to_write(&self, k: usize) -> u64 {
        let r = self.range(k);
        r.end.saturating_sub(r.start.max(self.start))
    }

    /// `n` bytes at `at` are stored: once a part is complete, ask for it.
    fn stored(&mut self, at: u64, n: u64) {
        let k = (at / self.part_bytes) as usize;
        let Some(s) = self.stored.get_mut(k) else {
            return;
        };
        *s += n;
        if *s == self.to_write(k) {
            self.ask(k);
        }
    }

    fn ask(&mut self, k: usize) {
        // The last part is hashed to the end of the file: no pipe for the
        // host to copy through, and bytes past what we sent fail it too.
        let mut range = self.range(k);
        if k + 1 == self.asked.len() {
            range.end = TO_EOF;
        }
        let run = (self.hasher)(self.path.clone(), Some(range));
        let limit = self.limit.clone();
        self.asked[k] = Some(tokio::spawn(async move {
            let _turn = limit.acquire_owned().await;
            run.await
        }));
    }

    /// Every part compared. Parts wholly before `start` were proven when
    /// the upload resumed; an empty file is asked about once.
    async fn verdict(
        mut self,
        src: &SharedSource,
        remote: &str,
    ) -> Result<Verified, TransferError> {
        if self.size == 0 {
            self.ask(0);
        }
        let parts = self.asked.len();
        let mut size_only = false;
        let mut whole = None;
        for (k, asked) in std::mem::take(&mut self.asked).into_iter().enumerate() {
            let Some(asked) = asked else { continue };
            let ours = hex(&src.part_digest(k).await.map_err(|e| TransferError::Local {
                path: src.path().to_path_buf(),
                cause: e.to_string(),
            })?);
            let theirs = asked.await.ok().flatten();
            let r = self.range(k);
            let what = if parts == 1 {
                remote.to_string()
            } else {
                format!("{remote} (bytes {}-{})", r.start, r.end)
            };
            match compare_sums(ours, theirs, &what)? {
                Verified::SizeOnly => size_only = true,
                Verified::Sha256(s) => whole = Some(s),
                Verified::Sha256Parts(_) => {}
            }
        }
        Ok(match (size_only, parts, whole) {
            (true, _, _) => Verified::SizeOnly,
            (false, 1, Some(s)) if self.start == 0 => Verified::Sha256(s),
            _ => Verified::Sha256Parts(parts),
        })
    }
}

fn meta_mode(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}
