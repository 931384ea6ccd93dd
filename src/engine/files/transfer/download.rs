//! Getting one remote file into a local directory: the host starts hashing
//! its file as the download starts, many reads are in flight, and a thread
//! of its own writes (and hashes) the pieces in order into an exclusive
//! part file that is renamed into place only once both sums agree.

use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use futures::StreamExt;
use futures::future::BoxFuture;
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use sha2::{Digest, Sha256};

use super::checksum::{compare_sums, hash_prefix, hex, proven_prefix};
use super::outcome::{
    TransferError, TransferOutcome, Verified, local_err, remote_err, restart_note,
};
use super::part_path::{mangled_check, part_name};
use super::request::{Overwrite, TransferCtx};
use super::sink::{Sink, Written};
use crate::engine::files::local_dest::{LocalDir, PartFile, check_name, local_mode};
use crate::engine::files::sftp::{CHUNK, IN_FLIGHT, Sftp, in_flight};

/// Copy `remote` on one host into `dest` as `name`.
pub async fn download(
    sftp: &Sftp,
    remote: &str,
    dest: &LocalDir,
    name: &str,
    ctx: &TransferCtx<'_>,
) -> Result<TransferOutcome, TransferError> {
    let to = Dest {
        dir: dest,
        name,
        private: false,
    };
    download_into(sftp, remote, to, ctx).await
}

/// [`download`], the copy made 0600 whatever the host's mode: a copy for
/// the user alone (a file to edit), which the host's mode must not open
/// to other local users.
pub async fn download_private(
    sftp: &Sftp,
    remote: &str,
    dest: &LocalDir,
    name: &str,
    ctx: &TransferCtx<'_>,
) -> Result<TransferOutcome, TransferError> {
    let to = Dest {
        dir: dest,
        name,
        private: true,
    };
    download_into(sftp, remote, to, ctx).await
}

/// Check the name, open the source, run the download until it ends or is
/// cancelled, then close the source.
async fn download_into(
    sftp: &Sftp,
    remote: &str,
    to: Dest<'_>,
    ctx: &TransferCtx<'_>,
) -> Result<TransferOutcome, TransferError> {
    let (dest, name) = (to.dir, to.name);
    if let Err(why) = check_name(name) {
        return Err(TransferError::Local {
            path: dest.display(name),
            cause: why.into(),
        });
    }
    mangled_check(sftp, remote, None)?;
    // Open the source first: nothing local is touched if it is unreadable.
    let handle = sftp
        .raw()
        .open(remote, OpenFlags::READ, FileAttributes::default())
        .await
        .map_err(remote_err(sftp, remote))?
        .handle;
    let file = FileDownload {
        sftp,
        remote,
        handle: &handle,
        to: &to,
        ctx,
    };
    // Cancel is heard at every await (the host's hash, a stalled read),
    // not only between chunks; the part file stays for a later resume.
    let result = tokio::select! {
        biased;
        r = file.run() => r,
        _ = ctx.cancel.cancelled() => Err(TransferError::Cancelled),
    };
    // A host that stopped answering must not hold a cancel up at the end.
    let close = sftp.raw().close(handle.as_str());
    if ctx.cancel.is_cancelled() {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), close).await;
    } else {
        let _ = close.await;
    }
    result
}

/// [`download`] to a path the user chose; its directory is made when
/// missing.
pub async fn download_to(
    sftp: &Sftp,
    remote: &str,
    local: &Path,
    ctx: &TransferCtx<'_>,
) -> Result<TransferOutcome, TransferError> {
    let dir = local
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dest = LocalDir::open_root(dir).map_err(local_err(dir))?;
    download(sftp, remote, &dest, &name, ctx).await
}

struct Dest<'a> {
    dir: &'a LocalDir,
    name: &'a str,
    /// 0600, not the host's mode.
    private: bool,
}

fn local_err_owned(path: PathBuf) -> impl Fn(std::io::Error) -> TransferError {
    move |e| TransferError::Local {
        path: path.clone(),
        cause: e.to_string(),
    }
}

/// The part file to write into, positioned where writing goes on:
/// resumed when an earlier attempt's bytes are proven to be the source's
/// first bytes. With it: the offset, the hash of what it holds (when
/// resumed), and a note when an earlier part was not used.
async fn open_local_part(
    to: &Dest<'_>,
    part: &str,
    size: u64,
    theirs: impl FnOnce(u64) -> Option<BoxFuture<'static, Option<String>>>,
    resume: bool,
) -> Result<(std::fs::File, u64, Option<Sha256>, Option<String>), TransferError> {
    let perr = local_err_owned(to.dir.display(part));
    if !resume {
        to.dir.remove_file(part).map_err(&perr)?;
    }
    let (earlier, refused) = match to.dir.open_part(part).map_err(&perr)? {
        PartFile::None => (None, None),
        PartFile::Refused(why) => (None, Some(why)),
        PartFile::Resumable(f) => (Some(f), None),
    };
    let shown = to.dir.display(part).to_string_lossy().into_owned();
    if let Some(mut f) = earlier {
        let len = f.metadata().map_err(&perr)?.len();
        let why = if len > size {
            Some("it is longer than the source")
        } else if len == 0 {
            None
        } else {
            let ours = hash_prefix(&f, len).await.map_err(&perr)?;
            match proven_prefix(&ours, theirs(len)).await {
                Ok(()) => {
                    f.seek(SeekFrom::Start(len)).map_err(&perr)?;
                    return Ok((f, len, Some(ours), None));
                }
                Err(why) => Some(why),
            }
        };
        f.set_len(0).map_err(&perr)?;
        f.seek(SeekFrom::Start(0)).map_err(&perr)?;
        let note = why.map(|w| restart_note(&shown, w));
        return Ok((f, 0, None, note));
    }
    let f = to.dir.create_new(part).map_err(&perr)?;
    let note = refused.map(|w| restart_note(&shown, w));
    Ok((f, 0, None, note))
}

/// One remote file, open on its host, coming into one local directory.
struct FileDownload<'a> {
    sftp: &'a Sftp,
    remote: &'a str,
    /// The source's open SFTP handle.
    handle: &'a str,
    to: &'a Dest<'a>,
    ctx: &'a TransferCtx<'a>,
}

/// How the piece pipeline ended.
struct Fetched {
    /// Bytes in the part file, counting the resumed ones.
    bytes: u64,
    /// The host sent more than the size it gave.
    longer: bool,
    /// The writer thread stopped; `Sink::finish` says why.
    broken: bool,
}

impl FileDownload<'_> {
    /// Every step of the download, in order.
    async fn run(&self) -> Result<TransferOutcome, TransferError> {
        let (sftp, remote, opts) = (self.sftp, self.remote, self.ctx.opts);
        let attrs = sftp
            .raw()
            .fstat(self.handle)
            .await
            .map_err(remote_err(sftp, remote))?
            .attrs;
        let size = attrs.size.unwrap_or(0);
        if let Some(skipped) = self.existing_destination(size, attrs.mtime)? {
            return Ok(skipped);
        }
        let part = part_name(self.to.name);
        let perr = local_err_owned(self.to.dir.display(&part));
        // What the host's hash commands are given (see `Sftp::absolute`).
        let hashed = match self.ctx.remote_hash {
            Some(_) => sftp
                .absolute(remote)
                .await
                .map_err(remote_err(sftp, remote))?,
            None => remote.to_string(),
        };
        let theirs = |len: u64| {
            self.ctx
                .remote_hash
                .map(|f| f(hashed.clone(), Some(0..len)))
        };
        let (out, start, prefix, note) =
            open_local_part(self.to, &part, size, theirs, opts.resume).await?;
        // The host hashes its file while we fetch it, instead of after: by
        // the time the last piece is written its answer is usually in.
        let theirs = self
            .ctx
            .remote_hash
            .filter(|_| opts.verify)
            .map(|f| tokio::spawn(f(hashed.clone(), None)));
        let hasher = (opts.verify && self.ctx.remote_hash.is_some())
            .then(|| prefix.unwrap_or_else(Sha256::new));
        let sink = Sink::spawn(out, hasher).map_err(&perr)?;
        if start > 0 {
            (self.ctx.progress)(start);
        }
        let fetched = match self.fetch_pieces(&sink, start, size).await {
            Ok(f) => f,
            Err(e) => {
                let _ = sink.finish().await;
                return Err(e);
            }
        };
        let written = sink.finish().await.map_err(&perr)?;
        self.check_size(&part, &written, &fetched, size)?;
        let verified = match (written.digest, theirs) {
            (Some(ours), Some(theirs)) => {
                let theirs = theirs.await.ok().flatten();
                compare_sums(hex(&ours), theirs, remote).inspect_err(|_| {
                    let _ = self.to.dir.remove_file(&part);
                })?
            }
            _ => Verified::SizeOnly,
        };
        self.put_in_place(&part, written.file, &attrs)?;
        Ok(TransferOutcome::Copied {
            bytes: size,
            resumed_from: start,
            verified,
            note,
        })
    }

    /// What the local file already there decides, by the overwrite rule:
    /// an error when it must not be replaced (or is a directory), `Some`
    /// when the download is skipped as the same file.
    fn existing_destination(
        &self,
        size: u64,
        mtime: Option<u32>,
    ) -> Result<Option<TransferOutcome>, TransferError> {
        let local = self.to.dir.display(self.to.name);
        let Some(existing) = self.to.dir.find(self.to.name).map_err(local_err(&local))? else {
            return Ok(None);
        };
        if existing.kind == rustix::fs::FileType::Directory {
            return Err(TransferError::Local {
                path: local.clone(),
                cause: "a directory of that name is in the way".into(),
            });
        }
        match self.ctx.opts.overwrite {
            Overwrite::Never => Err(TransferError::Exists {
                path: local.display().to_string(),
            }),
            Overwrite::SkipSame
                if existing.size == size && u32::try_from(existing.mtime).ok() == mtime =>
            {
                Ok(Some(TransferOutcome::Skipped))
            }
            _ => Ok(None),
        }
    }

    /// Fetch from `start` to `size` into `sink`: many reads in flight,
    /// written in offset order. The last read asks for one byte more than
    /// the size the host gave, so a file longer than it said is noticed
    /// without another round trip.
    async fn fetch_pieces(
        &self,
        sink: &Sink,
        start: u64,
        size: u64,
    ) -> Result<Fetched, TransferError> {
        let (sftp, handle) = (self.sftp, self.handle);
        let rerr = remote_err(sftp, self.remote);
        let offsets = (start..size).step_by(CHUNK as usize);
        let mut chunks = futures::stream::iter(offsets)
            .map(|off| {
                let len = (size - off).min(u64::from(CHUNK));
                let probe = off + len == size;
                async move {
                    let _permit = in_flight(len as usize).await;
                    read_exact_at(sftp, handle, off, len + u64::from(probe)).await
                }
            })
            .buffered(IN_FLIGHT);
        let mut got = Fetched {
            bytes: start,
            longer: false,
            broken: false,
        };
        while let Some(chunk) = chunks.next().await {
            if self.ctx.cancel.is_cancelled() {
                return Err(TransferError::Cancelled);
            }
            let mut data = chunk.map_err(&rerr)?;
            if got.bytes + data.len() as u64 > size {
                got.longer = true;
                data.truncate((size - got.bytes) as usize);
            }
            got.bytes += data.len() as u64;
            let n = data.len() as u64;
            if sink.write(data).await.is_err() {
                got.broken = true;
                break;
            }
            (self.ctx.progress)(n);
        }
        drop(chunks);
        if start == size && !got.broken {
            // Nothing was read (an empty file, or all of it resumed): ask once.
            got.longer = !read_exact_at(sftp, handle, size, 1)
                .await
                .map_err(&rerr)?
                .is_empty();
        }
        Ok(got)
    }

    /// The part file must hold exactly the size the host gave; if not, it
    /// is removed and the mismatch reported.
    fn check_size(
        &self,
        part: &str,
        written: &Written,
        fetched: &Fetched,
        size: u64,
    ) -> Result<(), TransferError> {
        let perr = local_err_owned(self.to.dir.display(part));
        let got = written.file.metadata().map_err(&perr)?.len();
        if !fetched.longer && got == size && fetched.bytes == size {
            return Ok(());
        }
        let _ = self.to.dir.remove_file(part);
        let detail = if fetched.longer {
            format!(
                "the host gave its size as {size} bytes but sent more; it changed while being copied, or the host is not telling the truth"
            )
        } else {
            format!(
                "the host gave its size as {size} bytes but sent {}",
                fetched.bytes
            )
        };
        Err(TransferError::Mismatch {
            path: self.remote.into(),
            what: "size",
            detail,
        })
    }

    /// Give the part its mode and mtime on the open descriptor, then
    /// rename it over the destination.
    fn put_in_place(
        &self,
        part: &str,
        out: std::fs::File,
        attrs: &FileAttributes,
    ) -> Result<(), TransferError> {
        use std::os::unix::fs::PermissionsExt;
        let perr = local_err_owned(self.to.dir.display(part));
        let mode = match self.to.private {
            true => 0o600,
            false => local_mode(attrs.permissions, false, self.ctx.opts.preserve),
        };
        // On the open descriptor: no path, so no link, is involved.
        out.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(&perr)?;
        if let Some(m) = attrs.mtime {
            out.set_modified(UNIX_EPOCH + Duration::from_secs(u64::from(m)))
                .map_err(&perr)?;
        }
        drop(out);
        let local = self.to.dir.display(self.to.name);
        self.to
            .dir
            .rename(part, self.to.name)
            .map_err(local_err(&local))
    }
}

/// Read up to `len` bytes at `off`: servers may return short reads, and
/// fewer bytes come back only at the end of the file. A reply longer than
/// what was asked is a protocol violation.
async fn read_exact_at(
    sftp: &Sftp,
    handle: &str,
    off: u64,
    len: u64,
) -> Result<Vec<u8>, russh_sftp::client::error::Error> {
    use russh_sftp::client::error::Error as E;
    use russh_sftp::protocol::StatusCode;
    let mut buf = Vec::with_capacity(len as usize);
    while (buf.len() as u64) < len {
        let want = (len - buf.len() as u64) as u32;
        let d = match sftp.raw().read(handle, off + buf.len() as u64, want).await {
            Ok(d) => d,
            Err(E::Status(s)) if s.status_code == StatusCode::Eof => break,
            Err(e) => return Err(e),
        };
        if d.data.is_empty() {
            break;
        }
        if d.data.len() > want as usize {
            return Err(E::UnexpectedBehavior(format!(
                "the server sent {} bytes for a read of {want}",
                d.data.len()
            )));
        }
        buf.extend_from_slice(&d.data);
    }
    Ok(buf)
}
