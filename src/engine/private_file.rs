//! sshdeck's own files under the user's state and cache directories
//! (history, the last run, relay spools), and the files it makes for the
//! user (saved panes): directories 0700, files 0600, never through a
//! symlink, replaced atomically, and locked against other sshdeck
//! processes where two could write at once.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// `dir` and its missing parents, 0700.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Replace `path` with `bytes` in one step (a temp file beside it, synced,
/// then renamed): a crash never leaves half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

/// A new file at `path` for the user alone (0600), never replacing
/// anything: a file, or a symlink planted at the name, is an error
/// (`AlreadyExists`), so nothing is written through a link or over
/// someone's file.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Write `bytes` to a new private file in `dir` named `stem.ext`, or
/// `stem-1.ext`, `stem-2.ext`, … when that name is taken; the path used.
pub fn write_new(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    for n in 0..100 {
        let name = match n {
            0 => format!("{stem}.{ext}"),
            n => format!("{stem}-{n}.{ext}"),
        };
        let path = dir.join(name);
        match create_new(&path) {
            Ok(mut f) => {
                f.write_all(bytes)?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{}: {stem}.{ext} and 99 more names are taken",
            dir.display()
        ),
    ))
}

/// An exclusive lock on the file at `path` (created 0600), held until the
/// returned file is dropped. With `wait` false, None when another holder
/// has it.
pub fn lock(path: &Path, wait: bool) -> io::Result<Option<File>> {
    use rustix::fs::FlockOperation;
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let op = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    match rustix::fs::flock(&f, op) {
        Ok(()) => Ok(Some(f)),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// The lock is exclusive across open files, as it is across
    /// processes: a second holder is told no, and dropping frees it.
    #[test]
    fn a_held_lock_is_refused_then_freed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("abc.lock");
        let first = lock(&path, false).unwrap_or_else(|e| panic!("{e}"));
        assert!(first.is_some());
        assert!(
            lock(&path, false)
                .unwrap_or_else(|e| panic!("{e}"))
                .is_none()
        );
        drop(first);
        assert!(
            lock(&path, false)
                .unwrap_or_else(|e| panic!("{e}"))
                .is_some()
        );
    }

    /// A new file is private, takes the next free name, and is never
    /// written through a link planted at its name.
    #[test]
    fn new_files_are_private_and_never_replace_or_follow() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let victim = dir.path().join("victim");
        fs::write(&victim, b"mine").unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(&victim, dir.path().join("pane.log"))
            .unwrap_or_else(|e| panic!("{e}"));
        let p = write_new(dir.path(), "pane", "log", b"out").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p, dir.path().join("pane-1.log"));
        assert_eq!(fs::read(&p).unwrap_or_default(), b"out");
        assert_eq!(
            fs::metadata(&p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0),
            0o600
        );
        assert_eq!(fs::read(&victim).unwrap_or_default(), b"mine");
        let q = write_new(dir.path(), "pane", "log", b"two").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q, dir.path().join("pane-2.log"));
        assert_eq!(fs::read(&p).unwrap_or_default(), b"out");
    }

    #[test]
    fn atomic_writes_are_private_and_refuse_a_planted_link() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state/sshdeck/file");
        write_atomic(&path, b"one").unwrap_or_else(|e| panic!("{e}"));
        write_atomic(&path, b"two").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fs::read(&path).unwrap_or_default(), b"two");
        let mode = |p: &Path| {
            fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0)
        };
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap_or(&path)), 0o700);
        // A link where the temp file goes is not followed.
        let victim = dir.path().join("victim");
        fs::write(&victim, b"mine").unwrap_or_else(|e| panic!("{e}"));
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap_or_else(|e| panic!("{e}"));
        assert!(write_atomic(&path, b"three").is_err());
        assert_eq!(fs::read(&victim).unwrap_or_default(), b"mine");
    }
}
