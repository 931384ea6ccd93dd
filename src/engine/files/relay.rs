//! A host-to-host copy's relay: the sources are fetched from host A into
//! a private spool here (see [`crate::engine::files::spool_dir`]), then put from it to
//! the destinations like any put.
//!
//! A spool may outlive its job: a failed job keeps it so a retry resumes,
//! and a later process copying the same files finds it. Its files are
//! bytes A had *then*. So before every fetch the spool is checked against
//! A as it is now: each file is kept only when A's SHA-256 of its file
//! equals the spool's, each directory only when A still has it; all else
//! goes, and the fetch brings what A has. The fetch's own skip rule (same
//! size and mtime) then only ever skips files proven equal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use rustix::fs::FileType;

use crate::engine::files::copy_job::{CopyError, CopySpec, Direction};
use crate::engine::files::sftp::Sftp;
use crate::engine::files::spool_dir::{SpoolDir, SpoolEntry};
use crate::engine::files::transfer::TransferError;
use crate::engine::link::HostLink;

/// Files hashed at once (here and on A) when checking a kept spool.
const HASHING: usize = 4;

/// Where a host-to-host copy reads from.
pub struct Relay {
    pub from: HostLink,
    /// Paths on `from`.
    pub sources: Vec<String>,
    /// Private to this user (0700) and to this job, named after the source
    /// host and paths, so a retried or resumed copy finds what was already
    /// fetched. For messages: the copy itself reaches it through `dir`.
    pub spool: PathBuf,
    dir: Arc<SpoolDir>,
}

/// Spools in use by this process's jobs: two jobs copying the same files
/// at once each get their own, so neither writes into, or deletes, the
/// other's. (Other processes are kept out by the spool's lock.)
static SPOOLS_IN_USE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

impl Drop for Relay {
    fn drop(&mut self) {
        self.release();
    }
}

impl Relay {
    /// A relay spooling under the user's cache directory.
    pub fn new(from: HostLink, sources: Vec<String>) -> std::io::Result<Relay> {
        let base = crate::engine::connection::target::cache_dir()
            .ok_or_else(|| std::io::Error::other("no home directory for the relay spool"))?;
        Relay::in_dir(from, sources, &base)
    }

    /// A relay spooling under `base/relay/`.
    pub fn in_dir(from: HostLink, sources: Vec<String>, base: &Path) -> std::io::Result<Relay> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(from.label.as_bytes());
        for s in &sources {
            h.update([0]);
            h.update(s.as_bytes());
        }
        let id = data_encoding::HEXLOWER.encode(&h.finalize()[..8]);
        let mut used = SPOOLS_IN_USE
            .lock()
            .map_err(|_| std::io::Error::other("a transfer thread panicked"))?;
        let dir = SpoolDir::claim(base, &id, |p| used.iter().any(|u| u == p))
            .map_err(std::io::Error::other)?;
        used.push(dir.path.clone());
        Ok(Relay {
            from,
            sources,
            spool: dir.path.clone(),
            dir: Arc::new(dir),
        })
    }

    /// The job is over and its spool removed: another job may use the name.
    fn release(&self) {
        if let Ok(mut v) = SPOOLS_IN_USE.lock() {
            v.retain(|p| p != &self.spool);
        }
    }

    /// Remove the spool and free its name; await the handle to know it
    /// is gone.
    pub(super) fn discard(&self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        let dir = self.dir.clone();
        self.release();
        tokio::task::spawn_blocking(move || dir.remove_all())
    }

    /// `text` with the path the copy code used for the spool shown as the
    /// spool's real path.
    pub(super) fn shown(&self, text: &str) -> String {
        if self.dir.via == self.spool {
            return text.to_string();
        }
        text.replace(
            &*self.dir.via.to_string_lossy(),
            &self.spool.to_string_lossy(),
        )
    }

    /// The source's name in the spool (its last path step on A).
    fn top_name(src: &str) -> &str {
        src.trim_end_matches('/').rsplit('/').next().unwrap_or(src)
    }

    /// The put half: the same copy, from the spool.
    pub(super) fn put_spec(&self, spec: &CopySpec) -> CopySpec {
        let mut put = spec.clone();
        put.dir = Direction::Put;
        put.sources = self
            .sources
            .iter()
            .map(|s| {
                self.dir
                    .via
                    .join(Relay::top_name(s))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        put
    }

    /// The get half: every source into the spool. What is already there
    /// and unchanged (size and mtime) is not fetched again; by then
    /// [`Relay::check_spool`] has proven it equal to A's by its hash.
    pub(super) fn get_spec(&self, spec: &CopySpec) -> CopySpec {
        let mut get = spec.clone();
        get.dir = Direction::Get;
        get.sources = self.sources.clone();
        get.dest = self.dir.via.to_string_lossy().into_owned();
        get.per_host_dir = false;
        get.renames = Default::default();
        get.opts.overwrite = crate::engine::files::transfer::Overwrite::SkipSame;
        get
    }

    /// Where the spool entry `rel` comes from on A, or `None` when no
    /// source of this copy names its top.
    fn remote_of(&self, rel: &str) -> Option<String> {
        let top = rel.split('/').next().unwrap_or("");
        let src = self.sources.iter().find(|s| Relay::top_name(s) == top)?;
        let parent = crate::engine::files::tree::remote_parent(src);
        Some(match parent.as_str() {
            "" => rel.to_string(),
            p if p.ends_with('/') => format!("{p}{rel}"),
            p => format!("{p}/{rel}"),
        })
    }

    /// Check what the spool holds against A before fetching: keep a file
    /// only when A has the same bytes (SHA-256 on both sides), a directory
    /// only when A has a directory there, a part file only when A still has
    /// its file (the fetch proves a part a prefix before resuming it).
    /// Links and anything else go: the fetch makes them again from A's
    /// listing. Nothing here follows a link, on either side.
    pub(super) async fn check_spool(&self) -> Result<(), CopyError> {
        let dir = self.dir.clone();
        let entries = tokio::task::spawn_blocking(move || dir.walk())
            .await
            .map_err(|e| self.local_error(format!("reading the spool failed: {e}")))?
            .map_err(|e| self.local_error(e.to_string()))?;
        if entries.is_empty() {
            return Ok(());
        }
        let sftp = self.from.sftp().await?;
        let mut gone: Vec<PathBuf> = Vec::new();
        let mut to_hash: Vec<(SpoolEntry, String)> = Vec::new();
        for e in entries {
            // Below a directory that already went.
            if gone.iter().any(|g| e.raw.starts_with(g)) {
                continue;
            }
            // A part file stands for the file it is part of.
            let part = e.kind == FileType::RegularFile;
            let part = e
                .rel
                .as_deref()
                .and_then(|rel| part.then(|| part_of(rel)).flatten());
            let remote = match &part {
                Some(file) => self.remote_of(file),
                None => e.rel.as_deref().and_then(|rel| self.remote_of(rel)),
            };
            let Some(remote) = remote else {
                gone.push(e.raw);
                continue;
            };
            let lstat = |path: String| {
                let sftp = &sftp;
                async move {
                    sftp.lstat(&path)
                        .await
                        .map_err(|err| self.remote_error(&path, err.to_string()))
                }
            };
            let keep = match e.kind {
                FileType::Directory => lstat(remote).await?.is_some_and(|a| a.is_dir()),
                FileType::RegularFile => match part {
                    Some(_) => lstat(remote).await?.is_some_and(|a| a.is_regular()),
                    None => match lstat(remote.clone()).await? {
                        Some(a) if a.is_regular() && a.size == Some(e.size) => {
                            to_hash.push((e, remote));
                            continue;
                        }
                        _ => false,
                    },
                },
                _ => false,
            };
            if !keep {
                gone.push(e.raw);
            }
        }
        let checks = futures::stream::iter(to_hash)
            .map(|(e, remote)| self.stale_copy(&sftp, e, remote))
            .buffer_unordered(HASHING)
            .collect::<Vec<_>>()
            .await;
        for c in checks {
            if let Some(raw) = c? {
                gone.push(raw);
            }
        }
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || gone.iter().try_for_each(|g| dir.remove(g)))
            .await
            .map_err(|e| self.local_error(format!("cleaning the spool failed: {e}")))?
            .map_err(|e| self.local_error(format!("cleaning the spool: {e}")))
    }

    /// Whether a spooled file still has A's bytes (SHA-256 on both
    /// sides): its spool path when it does not, and must go.
    async fn stale_copy(
        &self,
        sftp: &Sftp,
        e: SpoolEntry,
        remote: String,
    ) -> Result<Option<PathBuf>, CopyError> {
        let dir = self.dir.clone();
        let raw = e.raw.clone();
        let ours = tokio::task::spawn_blocking(move || dir.sha256(&raw));
        let absolute = sftp
            .absolute(&remote)
            .await
            .map_err(|err| self.remote_error(&remote, err.to_string()))?;
        let theirs = self.from.sha256(absolute, None).await;
        let ours = ours
            .await
            .map_err(|err| self.local_error(format!("hashing failed: {err}")))?
            .map_err(|err| self.local_error(format!("{}: {err}", e.raw.display())))?;
        // No hash on A (no tool), or none here (not a plain
        // file of ours): not proven, so fetched again.
        let same = matches!((&ours, &theirs), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b));
        Ok((!same).then_some(e.raw))
    }

    fn local_error(&self, cause: String) -> CopyError {
        CopyError::Transfer(TransferError::Local {
            path: self.spool.clone(),
            cause,
        })
    }

    fn remote_error(&self, path: &str, cause: String) -> CopyError {
        CopyError::Transfer(TransferError::Remote {
            host: self.from.label.clone(),
            path: path.to_string(),
            cause,
        })
    }
}

/// For a part file's path (`dir/.NAME.sshdeck-part`), the file it is part
/// of (`dir/NAME`).
fn part_of(path: &str) -> Option<String> {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (Some(d), n),
        None => (None, path),
    };
    let file = name.strip_prefix('.')?.strip_suffix(".sshdeck-part")?;
    if file.is_empty() {
        return None;
    }
    Some(match dir {
        Some(d) => format!("{d}/{file}"),
        None => file.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::part_of;

    #[test]
    fn part_files_name_their_file() {
        assert_eq!(
            part_of("a/b/.x.bin.sshdeck-part").as_deref(),
            Some("a/b/x.bin")
        );
        assert_eq!(part_of(".x.sshdeck-part").as_deref(), Some("x"));
        assert_eq!(part_of("a/x.bin"), None);
        assert_eq!(part_of("a/..sshdeck-part"), None);
    }
}
