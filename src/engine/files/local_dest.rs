//! The local end of a copy from hosts, confined to the directory the user
//! named.
//!
//! Everything a host sends is untrusted, names included. A listing may
//! carry `../../x`, a name with `/` in it, or a symlink that a later copy
//! would walk through. So:
//!
//! - names are checked one by one ([`check_name`], the one boundary in
//!   [`crate::engine::files::name`]); a bad one is refused;
//! - below the destination, every directory is opened relative to its
//!   parent's descriptor with `O_NOFOLLOW` (`openat`), and every create,
//!   rename, chmod and delete is made relative to such a descriptor. A
//!   symlink inside the tree (served by a host in an earlier copy, or put
//!   there meanwhile) is never followed, and there is no window between a
//!   check and the write for anyone to swap a directory for a link.
//!
//! The destination itself is the user's own choice and is opened as
//! given, following links, as `cp` would.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

pub use crate::engine::files::name::check_name;

/// A directory at or below the destination, held open.
#[derive(Clone, Debug)]
pub struct LocalDir {
    fd: Arc<OwnedFd>,
    /// For messages only; never used to reach the directory again.
    path: PathBuf,
}

/// What is at a name in a [`LocalDir`], without following a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalStat {
    pub kind: FileType,
    pub size: u64,
    pub mtime: i64,
}

/// The part file may be resumed, or why not.
pub enum PartFile {
    /// Nothing there.
    None,
    /// A regular file of ours with one link, opened for reading and writing.
    Resumable(File),
    /// Something we will not write into; removed, with the reason.
    Refused(&'static str),
}

fn io(e: Errno) -> std::io::Error {
    e.into()
}

fn umask_from_status(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
}

/// This process's umask, read without changing it: `umask(2)` can only be
/// read by setting it, which would race with other threads creating files.
pub fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| umask_from_status(&s))
            .unwrap_or(0o022)
            & 0o777
    })
}

/// The mode a copied file or directory gets here. Never setuid, setgid or
/// sticky. With `preserve`, the source's permission bits; without, those
/// bits less the local umask, the owner always able to write to a file
/// and to use a directory (as OpenSSH's sftp does).
pub fn local_mode(source: Option<u32>, dir: bool, preserve: bool) -> u32 {
    let (default, owner) = if dir { (0o755, 0o700) } else { (0o644, 0o200) };
    let bits = source.unwrap_or(default) & 0o777;
    if preserve {
        bits
    } else {
        (bits | owner) & !umask()
    }
}

impl LocalDir {
    /// Open the destination the user named, creating it and its parents
    /// when missing.
    pub fn open_root(path: &Path) -> std::io::Result<LocalDir> {
        std::fs::create_dir_all(path)?;
        LocalDir::open_existing(path)
    }

    /// Open a directory that must already exist (following links in
    /// `path`, which is the user's own).
    pub fn open_existing(path: &Path) -> std::io::Result<LocalDir> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io)?;
        Ok(LocalDir {
            fd: Arc::new(fd),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `path/name`, for messages.
    pub fn display(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The directory `names` below this one (each a checked name), made
    /// with `mode` (less the umask) where missing. A symlink on the way is
    /// an error, never followed.
    pub fn subdir(&self, names: &[&str], mode: u32) -> std::io::Result<LocalDir> {
        let mut dir = self.clone();
        for name in names {
            if let Err(why) = check_name(name) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{}: {why}", dir.display(name).display()),
                ));
            }
            dir = dir.child(name, mode)?;
        }
        Ok(dir)
    }

    fn child(&self, name: &str, mode: u32) -> std::io::Result<LocalDir> {
        let open = || {
            rustix::fs::openat(
                &*self.fd,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
        };
        let fd = match open() {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                match rustix::fs::mkdirat(&*self.fd, name, Mode::from_raw_mode(mode)) {
                    // Another file of the same copy may have made it meanwhile.
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(self.error(name, e)),
                }
                open().map_err(|e| self.error(name, e))?
            }
            Err(e) => return Err(self.error(name, e)),
        };
        Ok(LocalDir {
            fd: Arc::new(fd),
            path: self.path.join(name),
        })
    }

    /// An error about `name`, saying plainly when a symlink was in the way.
    fn error(&self, name: &str, e: Errno) -> std::io::Error {
        let what = match self.find(name) {
            Ok(Some(f)) if f.kind == FileType::Symlink => {
                "is a symbolic link here; sshdeck never writes through one".to_string()
            }
            Ok(Some(f))
                if matches!(e, Errno::NOTDIR | Errno::LOOP) && f.kind != FileType::Directory =>
            {
                "is not a directory here".to_string()
            }
            _ => std::io::Error::from(e).to_string(),
        };
        std::io::Error::new(
            std::io::Error::from(e).kind(),
            format!("{}: {what}", self.display(name).display()),
        )
    }

    /// What is at `name`, not following a symlink; `None` when nothing is.
    // `stat` field types differ between architectures.
    #[allow(clippy::unnecessary_cast)]
    pub fn find(&self, name: &str) -> std::io::Result<Option<LocalStat>> {
        match rustix::fs::statat(&*self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(LocalStat {
                kind: FileType::from_raw_mode(st.st_mode as _),
                size: st.st_size as u64,
                mtime: st.st_mtime as i64,
            })),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Create `name` as a new file (mode 0600), failing if anything,
    /// a symlink included, is already there.
    pub fn create_new(&self, name: &str) -> std::io::Result<File> {
        let fd = rustix::fs::openat(
            &*self.fd,
            name,
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| self.error(name, e))?;
        Ok(File::from(fd))
    }

    /// Open an earlier copy's part file to resume it, only when it is a
    /// regular file owned by this user with one link (not a hard link to
    /// someone's file, not a FIFO, not a symlink). Anything else is
    /// removed, so the copy starts over.
    pub fn open_part(&self, name: &str) -> std::io::Result<PartFile> {
        let opened = rustix::fs::openat(
            &*self.fd,
            name,
            // NONBLOCK: opening a FIFO must not wait for a writer.
            OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        );
        let refused = match opened {
            Err(Errno::NOENT) => return Ok(PartFile::None),
            Err(Errno::LOOP) => "it is a symbolic link",
            Err(Errno::NXIO | Errno::ISDIR) => "it is not a regular file",
            Err(e) => return Err(self.error(name, e)),
            Ok(fd) => {
                let st = rustix::fs::fstat(&fd).map_err(io)?;
                // SAFETY: getuid has no preconditions.
                let uid = unsafe { libc::getuid() };
                if FileType::from_raw_mode(st.st_mode as _) != FileType::RegularFile {
                    "it is not a regular file"
                } else if st.st_uid != uid {
                    "it belongs to another user"
                } else if st.st_nlink != 1 {
                    "it has other hard links"
                } else {
                    // Back to blocking reads and writes.
                    rustix::fs::fcntl_setfl(&fd, OFlags::empty()).map_err(io)?;
                    return Ok(PartFile::Resumable(File::from(fd)));
                }
            }
        };
        self.remove_file(name)?;
        Ok(PartFile::Refused(refused))
    }

    /// Remove the file or symlink `name` (never a directory, never what a
    /// link points to); nothing there is not an error.
    pub fn remove_file(&self, name: &str) -> std::io::Result<()> {
        match rustix::fs::unlinkat(&*self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(self.error(name, e)),
        }
    }

    /// Remove the directory `name` if it is empty; `false` when it is not
    /// (or is not there).
    pub fn remove_empty_dir(&self, name: &str) -> std::io::Result<bool> {
        match rustix::fs::unlinkat(&*self.fd, name, AtFlags::REMOVEDIR) {
            Ok(()) => Ok(true),
            Err(Errno::NOTEMPTY | Errno::EXIST | Errno::NOENT) => Ok(false),
            Err(e) => Err(self.error(name, e)),
        }
    }

    /// Rename `from` over `to` in this directory, in one step. A symlink
    /// at `to` is replaced, not followed.
    pub fn rename(&self, from: &str, to: &str) -> std::io::Result<()> {
        rustix::fs::renameat(&*self.fd, from, &*self.fd, to).map_err(|e| self.error(to, e))
    }

    /// Make `name` a symlink to `target`, replacing a file or link there
    /// (made under a temporary name, then renamed over it).
    pub fn symlink(&self, name: &str, target: &str) -> std::io::Result<()> {
        let temp = format!(".{name}.sshdeck-link");
        self.remove_file(&temp)?;
        rustix::fs::symlinkat(target, &*self.fd, temp.as_str()).map_err(|e| self.error(name, e))?;
        self.rename(&temp, name).inspect_err(|_| {
            let _ = self.remove_file(&temp);
        })
    }

    /// Set the permission bits of the directory `name` (not through a link).
    pub fn chmod_dir(&self, name: &str, mode: u32) -> std::io::Result<()> {
        let fd = rustix::fs::openat(
            &*self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| self.error(name, e))?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o777)).map_err(io)
    }

    /// Set this directory's own permission bits.
    pub fn chmod_self(&self, mode: u32) -> std::io::Result<()> {
        rustix::fs::fchmod(&*self.fd, Mode::from_raw_mode(mode & 0o777)).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn modes_never_carry_setuid_setgid_or_sticky() {
        assert_eq!(local_mode(Some(0o4755), false, true), 0o755);
        assert_eq!(local_mode(Some(0o1777), true, true), 0o777);
        assert_eq!(local_mode(Some(0o0777), true, false), 0o777 & !umask());
        assert_eq!(local_mode(Some(0o0444), false, false), 0o644 & !umask());
        assert_eq!(local_mode(None, true, true), 0o755);
        assert_eq!(umask_from_status("Name:\tx\nUmask:\t0027\n"), Some(0o027));
    }

    #[test]
    fn a_symlinked_directory_inside_the_tree_is_never_entered() {
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let dest = d.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        std::os::unix::fs::symlink(&outside, dest.join("sub")).unwrap();
        let root = LocalDir::open_root(&dest).unwrap();
        let err = root.subdir(&["sub", "deeper"], 0o755).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
        // A new file is never created through a dangling or real link.
        std::os::unix::fs::symlink(outside.join("f"), dest.join("f")).unwrap();
        assert!(root.create_new("f").is_err());
        assert!(!outside.join("f").exists());
        // Renaming over a link replaces the link itself.
        let mut f = root.create_new("new").unwrap();
        f.write_all(b"data").unwrap();
        root.rename("new", "f").unwrap();
        assert!(!outside.join("f").exists());
        assert_eq!(std::fs::read(dest.join("f")).unwrap(), b"data");
    }

    #[test]
    fn part_files_are_resumed_only_when_plainly_ours() {
        let d = tempfile::tempdir().unwrap();
        let root = LocalDir::open_root(d.path()).unwrap();
        assert!(matches!(root.open_part("p").unwrap(), PartFile::None));
        std::fs::write(d.path().join("p"), b"abc").unwrap();
        assert!(matches!(
            root.open_part("p").unwrap(),
            PartFile::Resumable(_)
        ));
        std::fs::hard_link(d.path().join("p"), d.path().join("other")).unwrap();
        assert!(matches!(
            root.open_part("p").unwrap(),
            PartFile::Refused("it has other hard links")
        ));
        assert!(!d.path().join("p").exists() && d.path().join("other").exists());
        std::os::unix::fs::symlink(d.path().join("other"), d.path().join("p")).unwrap();
        assert!(matches!(
            root.open_part("p").unwrap(),
            PartFile::Refused("it is a symbolic link")
        ));
        assert_eq!(std::fs::read(d.path().join("other")).unwrap(), b"abc");
        let fifo = std::ffi::CString::new(d.path().join("p").as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            root.open_part("p").unwrap(),
            PartFile::Refused("it is not a regular file")
        ));
    }
}
