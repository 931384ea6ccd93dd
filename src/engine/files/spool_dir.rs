//! The relay spool's directory on this machine: `relay/NAME` under
//! sshdeck's cache directory, where a host-to-host copy keeps what it
//! fetched from the source host before putting it to the others.
//!
//! The spool holds another host's files, so it is private and it is ours:
//!
//! - `relay/` and the spool are 0700 directories of this user, reached
//!   with `openat(O_NOFOLLOW | O_DIRECTORY)` from the cache directory. A
//!   symlink planted at either is an error, never followed: sshdeck made
//!   both, so a link there is not the user's choice. (The cache directory
//!   itself is the user's, and may be a link, as `~/.cache` often is.)
//! - A spool is claimed under a lock (`NAME.lock`, flock) and created with
//!   `mkdirat`, which fails when anything is there already. What is there
//!   is used only when it is a directory of ours: an earlier job's spool,
//!   kept after a failure so a retry resumes from it. Its files are then
//!   checked against the source host again before use (see
//!   [`crate::engine::files::relay`]).
//! - Everything below the spool is walked and removed relative to open
//!   directories, never through a link.

use std::ffi::{CStr, OsStr};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;
use thiserror::Error;

/// Copies of the same files that may run at once, each with its own spool.
const MAX_SPOOLS: usize = 64;

#[derive(Debug, Error)]
pub enum SpoolError {
    #[error("relay spool {}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "relay spool {}: is a symbolic link, which sshdeck did not make and never follows; remove it and copy again",
        path.display()
    )]
    Symlink { path: PathBuf },
    #[error("relay spool {}: is not a directory; remove it and copy again", path.display())]
    NotDir { path: PathBuf },
    #[error(
        "relay spool {}: belongs to another user (uid {uid}); sshdeck keeps another host's files only in a directory of yours",
        path.display()
    )]
    NotOurs { path: PathBuf, uid: u32 },
    #[error("relay spool under {}: {MAX_SPOOLS} copies of these files are already running", path.display())]
    Busy { path: PathBuf },
}

/// One job's spool, held open (with `relay/`) for as long as the job lives.
#[derive(Debug)]
pub struct SpoolDir {
    relay: OwnedFd,
    name: String,
    fd: OwnedFd,
    /// `relay/NAME`, for messages (and tests); never opened again by path here.
    pub path: PathBuf,
    /// The path the copy code is given for the spool: `/proc/self/fd/N`
    /// names this very directory, whatever is renamed or linked meanwhile,
    /// so the fetch cannot be sent elsewhere between our checks and its
    /// open. Without procfs, the plain path.
    pub via: PathBuf,
    /// There was a spool of ours at the name already (an earlier job's).
    pub reused: bool,
    _lock: File,
}

/// What is in a spool, as [`SpoolDir::walk`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolEntry {
    /// `top/a/b`, relative to the spool; `None` when a name is not UTF-8
    /// (no host listed it: it can only go).
    pub rel: Option<String>,
    /// The same, as bytes, for removing it.
    pub raw: PathBuf,
    pub kind: FileType,
    pub size: u64,
}

fn uid() -> u32 {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}

impl SpoolDir {
    /// Claim a spool named `id` (or `id-1`, `id-2`, … when that one is in
    /// use) under `cache/relay/`. `taken` says which paths this process's
    /// other jobs hold; another process's are told by their locks.
    pub fn claim(
        cache: &Path,
        id: &str,
        taken: impl Fn(&Path) -> bool,
    ) -> Result<SpoolDir, SpoolError> {
        let io_at = |path: &Path| {
            let path = path.to_path_buf();
            move |e: std::io::Error| SpoolError::Io { path, cause: e }
        };
        crate::engine::private_file::private_dir(cache).map_err(io_at(cache))?;
        let root = rustix::fs::open(
            cache,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_at(cache)(e.into()))?;
        let relay_path = cache.join("relay");
        let relay = private_subdir(&root, "relay", &relay_path)?.0;
        for n in 0..MAX_SPOOLS {
            let name = match n {
                0 => id.to_string(),
                n => format!("{id}-{n}"),
            };
            let path = relay_path.join(&name);
            if taken(&path) {
                continue;
            }
            let lock_path = relay_path.join(format!("{name}.lock"));
            let Some(lock) = lock_at(&relay, &format!("{name}.lock"), &lock_path)? else {
                // Held by another process: that one is using this spool.
                continue;
            };
            let (fd, reused) = private_subdir(&relay, &name, &path)?;
            let via = proc_path(&fd).unwrap_or_else(|| path.clone());
            return Ok(SpoolDir {
                relay,
                name,
                fd,
                path,
                via,
                reused,
                _lock: lock,
            });
        }
        Err(SpoolError::Busy { path: relay_path })
    }

    /// Every entry below the spool, parents before their children, without
    /// following a link. Holds one descriptor per level of the path being
    /// read, never one per directory.
    pub fn walk(&self) -> std::io::Result<Vec<SpoolEntry>> {
        let mut out = Vec::new();
        let mut stack: Vec<(Dir, PathBuf)> = vec![(dir_of(self.fd.as_fd())?, PathBuf::new())];
        while let Some((dir, prefix)) = stack.last_mut() {
            let Some(entry) = dir.next() else {
                stack.pop();
                continue;
            };
            let entry = entry.map_err(std::io::Error::from)?;
            let name = entry.file_name();
            if is_dot(name) {
                continue;
            }
            let raw = prefix.join(OsStr::from_bytes(name.to_bytes()));
            let parent = dir.fd().map_err(std::io::Error::from)?;
            let st = match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            };
            let kind = FileType::from_raw_mode(st.st_mode);
            let child = (kind == FileType::Directory)
                .then(|| open_dir_nofollow(parent, name))
                .transpose()
                .map_err(std::io::Error::from)?;
            out.push(SpoolEntry {
                rel: raw.to_str().map(str::to_string),
                raw: raw.clone(),
                kind,
                size: u64::try_from(st.st_size).unwrap_or(0),
            });
            if let Some(child) = child {
                stack.push((Dir::new(child).map_err(std::io::Error::from)?, raw));
            }
        }
        Ok(out)
    }

    /// The directory holding `rel` (a path below the spool), opened
    /// component by component without following a link, and its last name.
    fn parent_of<'a>(&self, rel: &'a Path) -> std::io::Result<(OwnedFd, &'a OsStr)> {
        let mut names: Vec<&OsStr> = rel.iter().collect();
        let last = names
            .pop()
            .ok_or_else(|| std::io::Error::other("an empty path in the spool"))?;
        let mut dir = rustix::io::dup(&self.fd)?;
        for n in names {
            dir = open_dir_nofollow(dir.as_fd(), n)?;
        }
        Ok((dir, last))
    }

    /// SHA-256 (hex) of the regular file `rel`, or `None` when it is not a
    /// plain file of ours (a link, a FIFO, another user's, one with other
    /// hard links): such a thing is never read.
    pub fn sha256(&self, rel: &Path) -> std::io::Result<Option<String>> {
        use sha2::{Digest, Sha256};
        let (dir, name) = self.parent_of(rel)?;
        let fd = match rustix::fs::openat(
            &dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::LOOP | Errno::NXIO | Errno::NOENT) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let st = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile
            || st.st_uid != uid()
            || st.st_nlink != 1
        {
            return Ok(None);
        }
        let mut f = File::from(fd);
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(Some(data_encoding::HEXLOWER.encode(&h.finalize())))
    }

    /// Remove `rel` (a path below the spool), a whole directory included,
    /// never following a link. Nothing there is not an error.
    pub fn remove(&self, rel: &Path) -> std::io::Result<()> {
        let (dir, name) = self.parent_of(rel)?;
        remove_tree(dir.as_fd(), name)
    }

    /// Remove the spool and its lock file: the job is over.
    pub fn remove_all(&self) -> std::io::Result<()> {
        remove_tree(self.relay.as_fd(), OsStr::new(&self.name))?;
        // This job still holds the lock, so no other process is using the
        // name; one that opens the old lock file after this gets a spool
        // that is checked before use all the same.
        match rustix::fs::unlinkat(&self.relay, format!("{}.lock", self.name), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn is_dot(name: &CStr) -> bool {
    matches!(name.to_bytes(), b"." | b"..")
}

fn dir_of(fd: BorrowedFd<'_>) -> std::io::Result<Dir> {
    Ok(Dir::read_from(fd)?)
}

fn open_dir_nofollow<P: rustix::path::Arg>(
    dir: BorrowedFd<'_>,
    name: P,
) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// `name` in `parent`, made 0700 when missing, opened without following a
/// link, ours and 0700; with whether it was there before.
fn private_subdir(
    parent: &OwnedFd,
    name: &str,
    path: &Path,
) -> Result<(OwnedFd, bool), SpoolError> {
    let io = |e: Errno| SpoolError::Io {
        path: path.to_path_buf(),
        cause: e.into(),
    };
    // O_EXCL for a directory: fails when anything, a link included, is there.
    let existed = match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
        Ok(()) => false,
        Err(Errno::EXIST) => true,
        Err(e) => return Err(io(e)),
    };
    let fd = match open_dir_nofollow(parent.as_fd(), name) {
        Ok(fd) => fd,
        Err(e @ (Errno::LOOP | Errno::NOTDIR)) => {
            let link = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
            return Err(if link {
                SpoolError::Symlink {
                    path: path.to_path_buf(),
                }
            } else if e == Errno::NOTDIR {
                SpoolError::NotDir {
                    path: path.to_path_buf(),
                }
            } else {
                io(e)
            });
        }
        Err(e) => return Err(io(e)),
    };
    let st = rustix::fs::fstat(&fd).map_err(io)?;
    if st.st_uid != uid() {
        return Err(SpoolError::NotOurs {
            path: path.to_path_buf(),
            uid: st.st_uid,
        });
    }
    // Ours, so ours to make private (the umask may have widened nothing,
    // but an older sshdeck or the user may have).
    if st.st_mode & 0o777 != 0o700 {
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o700)).map_err(io)?;
    }
    Ok((fd, existed))
}

/// An exclusive lock on `name` in `dir` (a 0600 file, never through a
/// link); `None` when another holder has it.
fn lock_at(dir: &OwnedFd, name: &str, path: &Path) -> Result<Option<File>, SpoolError> {
    let io = |e: Errno| SpoolError::Io {
        path: path.to_path_buf(),
        cause: e.into(),
    };
    let fd = match rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    ) {
        Ok(fd) => fd,
        Err(Errno::LOOP) => {
            return Err(SpoolError::Symlink {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io(e)),
    };
    match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(File::from(fd))),
        Err(Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// `/proc/self/fd/N` for `fd`, when it names the same directory.
fn proc_path(fd: &OwnedFd) -> Option<PathBuf> {
    let p = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    let via = rustix::fs::stat(&p).ok()?;
    let ours = rustix::fs::fstat(fd).ok()?;
    (via.st_dev == ours.st_dev && via.st_ino == ours.st_ino).then_some(p)
}

/// Remove `name` in `parent` and, for a directory, all below it. Each
/// directory is entered relative to its parent without following a link;
/// a link is removed, never what it points to. One descriptor per level.
fn remove_tree(parent: BorrowedFd<'_>, name: &OsStr) -> std::io::Result<()> {
    let st = match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        return unlink(parent, name, AtFlags::empty());
    }
    let top = open_dir_nofollow(parent, name)?;
    let mut stack: Vec<(Dir, std::ffi::OsString)> = vec![(Dir::new(top)?, name.to_owned())];
    loop {
        let Some((dir, _)) = stack.last_mut() else {
            return Ok(());
        };
        let Some(entry) = dir.next() else {
            let (_, done) = stack
                .pop()
                .ok_or_else(|| std::io::Error::other("empty stack"))?;
            let up = match stack.last() {
                Some((d, _)) => d.fd()?,
                None => parent,
            };
            unlink(up, &done, AtFlags::REMOVEDIR)?;
            continue;
        };
        let entry = entry?;
        let name = entry.file_name();
        if is_dot(name) {
            continue;
        }
        let here = dir.fd()?;
        let is_dir = match rustix::fs::statat(here, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => FileType::from_raw_mode(st.st_mode) == FileType::Directory,
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        };
        let owned = OsStr::from_bytes(name.to_bytes()).to_owned();
        if is_dir {
            let child = open_dir_nofollow(here, name)?;
            stack.push((Dir::new(child)?, owned));
        } else {
            unlink(here, &owned, AtFlags::empty())?;
        }
    }
}

fn unlink(dir: BorrowedFd<'_>, name: &OsStr, flags: AtFlags) -> std::io::Result<()> {
    match rustix::fs::unlinkat(dir, name, flags) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
    }

    /// A bystander's files, to see that nothing reaches them.
    fn victim(root: &Path) -> PathBuf {
        let v = root.join("victim");
        std::fs::create_dir_all(v.join("deep")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(v.join("keep.txt"), b"mine").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(v.join("deep/keep2"), b"mine").unwrap_or_else(|e| panic!("{e}"));
        v
    }

    fn victim_intact(v: &Path) {
        assert_eq!(
            std::fs::read(v.join("keep.txt")).unwrap_or_default(),
            b"mine"
        );
        assert_eq!(
            std::fs::read(v.join("deep/keep2")).unwrap_or_default(),
            b"mine"
        );
        let n = std::fs::read_dir(v).map(|d| d.count()).unwrap_or(0);
        assert_eq!(n, 2, "something was added to the victim directory");
    }

    #[test]
    fn a_new_spool_is_private_and_new() {
        let d = tmp();
        let cache = d.path().join("cache");
        let s = SpoolDir::claim(&cache, "abc", |_| false).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.reused);
        assert_eq!(s.path, cache.join("relay/abc"));
        assert_eq!(mode(&cache.join("relay")), 0o700);
        assert_eq!(mode(&s.path), 0o700);
        assert_eq!(mode(&cache.join("relay/abc.lock")), 0o600);
        // The path handed to the copy code is this directory.
        std::fs::write(s.via.join("f"), b"x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(s.path.join("f")).unwrap_or_default(), b"x");
        // A second claim while this one lives gets another name.
        let t = SpoolDir::claim(&cache, "abc", |_| false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.path, cache.join("relay/abc-1"));
        s.remove_all().unwrap_or_else(|e| panic!("{e}"));
        assert!(!cache.join("relay/abc").exists());
        assert!(!cache.join("relay/abc.lock").exists());
    }

    #[test]
    fn a_kept_spool_of_ours_is_reused_and_made_private() {
        let d = tmp();
        let cache = d.path().join("cache");
        std::fs::create_dir_all(cache.join("relay/abc/top")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(
            cache.join("relay/abc"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let s = SpoolDir::claim(&cache, "abc", |_| false).unwrap_or_else(|e| panic!("{e}"));
        assert!(s.reused);
        assert_eq!(mode(&s.path), 0o700);
    }

    /// A link planted where the spool goes: a clear error, and nothing
    /// written, listed or deleted where it points.
    #[test]
    fn a_symlink_at_the_spool_path_is_refused() {
        let d = tmp();
        let v = victim(d.path());
        let before = mode(&v);
        let cache = d.path().join("cache");
        std::fs::create_dir_all(cache.join("relay")).unwrap_or_else(|e| panic!("{e}"));
        symlink(&v, cache.join("relay/abc")).unwrap_or_else(|e| panic!("{e}"));
        let err = SpoolDir::claim(&cache, "abc", |_| false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("relay/abc") && err.contains("symbolic link"),
            "{err}"
        );
        victim_intact(&v);
        assert_eq!(mode(&v), before, "the link's target was made private");
    }

    #[test]
    fn a_symlink_at_the_relay_dir_is_refused() {
        let d = tmp();
        let v = victim(d.path());
        let cache = d.path().join("cache");
        std::fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("{e}"));
        symlink(&v, cache.join("relay")).unwrap_or_else(|e| panic!("{e}"));
        let err = SpoolDir::claim(&cache, "abc", |_| false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("symbolic link"), "{err}");
        victim_intact(&v);
        // Nor at the lock file.
        let cache2 = d.path().join("cache2");
        std::fs::create_dir_all(cache2.join("relay")).unwrap_or_else(|e| panic!("{e}"));
        symlink(v.join("keep.txt"), cache2.join("relay/abc.lock"))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = SpoolDir::claim(&cache2, "abc", |_| false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("symbolic link"), "{err}");
        victim_intact(&v);
    }

    /// Links inside the spool are listed as links and removed as links:
    /// pruning and clearing never reach what they point to.
    #[test]
    fn walking_and_removing_never_follow_links() {
        let d = tmp();
        let v = victim(d.path());
        let cache = d.path().join("cache");
        let s = SpoolDir::claim(&cache, "abc", |_| false).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(s.path.join("top/sub")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(s.path.join("top/sub/f"), b"data").unwrap_or_else(|e| panic!("{e}"));
        symlink(&v, s.path.join("top/link")).unwrap_or_else(|e| panic!("{e}"));
        symlink(&v, s.path.join("top/sub/link2")).unwrap_or_else(|e| panic!("{e}"));
        let mut seen: Vec<(String, FileType)> = s
            .walk()
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|e| (e.rel.unwrap_or_default(), e.kind))
            .collect();
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            seen,
            [
                ("top".to_string(), FileType::Directory),
                ("top/link".to_string(), FileType::Symlink),
                ("top/sub".to_string(), FileType::Directory),
                ("top/sub/f".to_string(), FileType::RegularFile),
                ("top/sub/link2".to_string(), FileType::Symlink),
            ]
        );
        // A link is never hashed (read) as a file.
        assert_eq!(s.sha256(Path::new("top/link")).unwrap_or_default(), None);
        assert!(
            s.sha256(Path::new("top/sub/f"))
                .unwrap_or_default()
                .is_some()
        );
        // A path through a link is refused, not followed.
        assert!(s.remove(Path::new("top/link/keep.txt")).is_err());
        s.remove(Path::new("top/link"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.path.join("top/link").exists());
        s.remove_all().unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.path.exists());
        victim_intact(&v);
    }
}
