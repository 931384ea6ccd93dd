//! SFTP over a host's pooled connection: one subsystem channel per session,
//! the raw protocol from russh-sftp, and the OpenSSH extensions we rely on
//! for safe transfers (fsync, posix-rename).

use std::time::Duration;

use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, StatusCode};
use tokio_util::sync::CancellationToken;

use crate::engine::error::HostError;
use crate::engine::files::name::{RelPath, Sifted, sift};
use crate::engine::files::sftp_raw::EndWatch;
pub use crate::engine::files::sftp_raw::Raw;

/// Most names one directory listing may hold. A real directory this large
/// is rare (mail spools, HPC scratch); a host listing more is flooding,
/// and each name costs memory here until the listing ends.
pub const MAX_DIR_ENTRIES: usize = 250_000;
/// A listing that gives no new name for this long is abandoned: nothing
/// waits forever on a host that stopped answering (each request also has
/// its own 60 s timeout).
pub const LISTING_STALL: Duration = Duration::from_secs(30);

/// Requests in flight per transfer. Loopback and LAN links need many to
/// fill the pipe; each is at most `CHUNK` bytes, so about 8 MiB are in
/// flight per file.
pub const IN_FLIGHT: usize = 32;
/// Bytes per read/write request. OpenSSH's sftp uses 32 KiB; its server
/// takes messages up to 256 KiB (reads up to 255 KiB), and larger
/// requests halve the server's per-request work against 128 KiB
/// (measured in BENCHMARKS.md, issue 18).
pub const CHUNK: u32 = 252 * 1024;

/// Bytes of file data in flight (sent and not yet acknowledged, or asked
/// for and not yet here) across every transfer of the process, in KiB.
/// Each transfer keeps up to `IN_FLIGHT` requests going, which one host
/// needs to fill a fast link; a fan-out to hundreds of hosts would
/// otherwise hold hundreds of times that. The semaphore is fair, so the
/// budget is shared evenly among the hosts waiting for it.
static IN_FLIGHT_KIB: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(96 * 1024);

/// Hold `bytes` of the in-flight budget until the permit is dropped.
pub async fn in_flight(bytes: usize) -> Option<tokio::sync::SemaphorePermit<'static>> {
    let kib = u32::try_from(bytes.div_ceil(1024))
        .unwrap_or(u32::MAX)
        .max(1);
    IN_FLIGHT_KIB.acquire_many(kib).await.ok()
}

pub struct Sftp {
    raw: RawSftpSession,
    /// Cancelled when the channel under `raw` ends.
    ended: CancellationToken,
    pub fsync: bool,
    pub posix_rename: bool,
    pub host: String,
}

impl Sftp {
    pub(crate) async fn open(
        handle: &russh::client::Handle<crate::engine::connection::ssh::ClientHandler>,
        host: &str,
    ) -> Result<Sftp, HostError> {
        let fail = |cause: String| HostError::Protocol {
            host: host.to_string(),
            cause,
        };
        let ch = handle
            .channel_open_session()
            .await
            .map_err(|e| fail(format!("cannot open a channel for SFTP: {e}")))?;
        ch.request_subsystem(true, "sftp")
            .await
            .map_err(|e| fail(format!("the server refused the sftp subsystem: {e}")))?;
        let cfg = russh_sftp::client::Config {
            max_packet_len: 512 * 1024,
            max_concurrent_reads: IN_FLIGHT,
            max_concurrent_writes: IN_FLIGHT,
            max_write_packet_len: CHUNK,
            request_timeout_secs: 60,
        };
        let ended = CancellationToken::new();
        let stream = EndWatch::new(ch.into_stream(), ended.clone());
        let raw = RawSftpSession::new_with_config(stream, cfg);
        let guarded = Raw {
            raw: &raw,
            ended: &ended,
        };
        let version = tokio::time::timeout(Duration::from_secs(30), guarded.init())
            .await
            .map_err(|_| fail("no answer to the SFTP handshake".into()))?
            .map_err(|e| fail(format!("SFTP handshake failed: {e}")))?;
        let has = |name: &str| version.extensions.contains_key(name);
        Ok(Sftp {
            raw,
            ended,
            fsync: has("fsync@openssh.com"),
            posix_rename: has("posix-rename@openssh.com"),
            host: host.to_string(),
        })
    }

    /// The raw protocol; every request fails at once if the connection
    /// is lost meanwhile.
    pub fn raw(&self) -> Raw<'_> {
        Raw {
            raw: &self.raw,
            ended: &self.ended,
        }
    }

    /// The channel under this session has ended: it is of no further use.
    pub fn is_closed(&self) -> bool {
        self.ended.is_cancelled()
    }

    /// `stat`, with "no such file" as `None`.
    pub async fn stat(&self, path: &str) -> Result<Option<FileAttributes>, SftpError> {
        match self.raw().stat(path).await {
            Ok(a) => Ok(Some(a.attrs)),
            Err(e) if is_no_such_file(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `path` as the server resolves it, absolute. A shell command on the
    /// host (a checksum) must be given this: its working directory need
    /// not be where SFTP starts (`internal-sftp -d`, a chroot, a home
    /// that differs), and a relative path would name another file there.
    pub async fn absolute(&self, path: &str) -> Result<String, SftpError> {
        if path.starts_with('/') {
            return Ok(path.to_string());
        }
        let name = self.raw().realpath(path).await?;
        name.files
            .into_iter()
            .next()
            .map(|f| f.filename)
            .filter(|p| p.starts_with('/'))
            .ok_or(SftpError::UnexpectedBehavior(
                "the server did not resolve the path".into(),
            ))
    }

    pub async fn lstat(&self, path: &str) -> Result<Option<FileAttributes>, SftpError> {
        match self.raw().lstat(path).await {
            Ok(a) => Ok(Some(a.attrs)),
            Err(e) if is_no_such_file(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Rename `from` over `to`, replacing it atomically when the server has
    /// posix-rename (OpenSSH does); plain SFTP rename refuses to replace.
    pub async fn rename_over(&self, from: &str, to: &str) -> Result<(), SftpError> {
        if self.posix_rename {
            let mut data = Vec::with_capacity(8 + from.len() + to.len());
            for s in [from, to] {
                data.extend_from_slice(&(s.len() as u32).to_be_bytes());
                data.extend_from_slice(s.as_bytes());
            }
            let reply = self
                .raw()
                .extended("posix-rename@openssh.com", data)
                .await?;
            return match reply {
                russh_sftp::protocol::Packet::Status(s) if s.status_code == StatusCode::Ok => {
                    Ok(())
                }
                russh_sftp::protocol::Packet::Status(s) => Err(SftpError::Status(s)),
                _ => Err(SftpError::UnexpectedPacket),
            };
        }
        // Plain SFTP rename refuses to replace, so the old file steps aside
        // under a temporary name first and goes only once the new one is
        // in place; if that fails, it comes back. The destination is never
        // deleted while nothing new stands in its place.
        if self.lstat(to).await?.is_none() {
            return self.raw().rename(from, to).await.map(|_| ());
        }
        let (dir, name) = to.rsplit_once('/').unwrap_or(("", to));
        let aside = if dir.is_empty() && !to.starts_with('/') {
            format!(".{name}.sshdeck-old")
        } else {
            format!("{dir}/.{name}.sshdeck-old")
        };
        if self.lstat(&aside).await?.is_some() {
            self.raw().remove(aside.as_str()).await?;
        }
        self.raw().rename(to, aside.as_str()).await?;
        match self.raw().rename(from, to).await {
            Ok(_) => {
                let _ = self.raw().remove(aside.as_str()).await;
                Ok(())
            }
            Err(e) => {
                let _ = self.raw().rename(aside.as_str(), to).await;
                Err(e)
            }
        }
    }

    /// Directory entries, every name checked at the boundary (see
    /// [`crate::engine::files::name`]): `.`, `..`, bad and twice-listed names are left out,
    /// the bad ones reported in `refused`. A host cannot make this grow
    /// without end: past [`MAX_DIR_ENTRIES`] names, or [`LISTING_STALL`]
    /// without a new one, the listing fails with a message saying so.
    pub async fn list(&self, dir: &str) -> Result<Sifted<FileAttributes>, SftpError> {
        let h = self.raw().opendir(dir).await?.handle;
        let r = self.read_all(h.as_str()).await;
        let _ = self.raw().close(h.as_str()).await;
        r.map(sift)
    }

    async fn read_all(&self, h: &str) -> Result<Vec<(String, FileAttributes)>, SftpError> {
        let mut out = Vec::new();
        let mut progress_at = tokio::time::Instant::now();
        loop {
            let batch = tokio::time::timeout_at(progress_at + LISTING_STALL, self.raw().readdir(h));
            match batch.await {
                Err(_) => {
                    return Err(SftpError::UnexpectedBehavior(format!(
                        "the listing gave no new name for {} s; stopped reading it",
                        LISTING_STALL.as_secs()
                    )));
                }
                Ok(Ok(name)) => {
                    // An empty batch is no progress: a host that answers
                    // every READDIR with nothing (and never EOF) is stuck.
                    if !name.files.is_empty() {
                        progress_at = tokio::time::Instant::now();
                    }
                    out.extend(name.files.into_iter().map(|f| (f.filename, f.attrs)));
                    if out.len() > MAX_DIR_ENTRIES {
                        return Err(SftpError::UnexpectedBehavior(format!(
                            "the directory lists more than {} names; stopped reading it",
                            crate::text::thousands(MAX_DIR_ENTRIES as u64)
                        )));
                    }
                }
                Ok(Err(SftpError::Status(s))) if s.status_code == StatusCode::Eof => {
                    return Ok(out);
                }
                Ok(Err(e)) => return Err(e),
            }
        }
    }

    /// Make `base/rel` one name at a time, where missing, going through
    /// nothing but real directories: SFTP has no O_NOFOLLOW, so each name
    /// is checked with lstat before mkdir and before it is used. A link
    /// standing there (made by an earlier copy, or by anyone) is refused,
    /// never followed. `base` is the user's own choice and is not checked.
    /// What remains is a race: a directory swapped for a link between the
    /// check and the write (see the README).
    pub async fn mkdir_below(&self, base: &str, rel: &RelPath) -> Result<(), SftpError> {
        let mut path = base.trim_end_matches('/').to_string();
        if path.is_empty() && base.starts_with('/') {
            path.push('/');
        }
        for name in rel.names() {
            if !path.is_empty() && !path.ends_with('/') {
                path.push('/');
            }
            path.push_str(name);
            let made = match self.lstat(&path).await? {
                Some(a) if a.is_dir() => continue,
                Some(a) => Err(if a.is_symlink() {
                    "is a symbolic link here; sshdeck never writes through one"
                } else {
                    "is not a directory here"
                }),
                None => Ok(()),
            };
            if let Err(why) = made {
                return Err(SftpError::UnexpectedBehavior(format!(
                    "{}: {why}",
                    crate::text::sanitize::visible_name(&path)
                )));
            }
            if let Err(e) = self
                .raw()
                .mkdir(path.as_str(), FileAttributes::default())
                .await
            {
                // Another file of the same copy may have made it meanwhile.
                match self.lstat(&path).await? {
                    Some(a) if a.is_dir() => {}
                    _ => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Create `dir` and its missing parents.
    pub async fn mkdir_p(&self, dir: &str) -> Result<(), SftpError> {
        let mut path = String::new();
        for part in dir.split('/') {
            if part.is_empty() {
                if path.is_empty() && dir.starts_with('/') {
                    path.push('/');
                }
                continue;
            }
            if !path.is_empty() && !path.ends_with('/') {
                path.push('/');
            }
            path.push_str(part);
            if self.stat(&path).await?.is_none()
                && let Err(e) = self.raw().mkdir(path.as_str(), FileAttributes::default()).await
                // A concurrent transfer may have made it meanwhile.
                && self.stat(&path).await?.is_none()
            {
                return Err(e);
            }
        }
        Ok(())
    }
}

pub fn is_no_such_file(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::NoSuchFile)
}
