//! One browsing interface for both file panes, local or remote (the idea of
//! termscp's HostBridge): the panes, their file operations and completion
//! never ask which side they are on.

use std::sync::Arc;

use futures::future::BoxFuture;
use russh_sftp::protocol::FileAttributes;
use thiserror::Error;

use crate::engine::files::name::{BadName, Name};
use crate::engine::files::sftp::{Sftp, is_no_such_file};

pub use crate::engine::files::name::join;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Dir,
    File,
    Symlink,
    /// Sockets, fifos, devices: shown, never copied.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Checked at the listing's boundary: usable in a path as it is.
    pub name: Name,
    pub kind: FileKind,
    pub size: u64,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// Seconds since the epoch.
    pub mtime: Option<u64>,
    /// A symlink whose target is a directory (browsable).
    pub to_dir: bool,
}

impl FileEntry {
    pub fn is_dir_like(&self) -> bool {
        self.kind == FileKind::Dir || self.to_dir
    }
}

/// A directory's entries, and the names in it that were refused (shown
/// escaped, with why) so the user learns they exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirList {
    pub entries: Vec<FileEntry>,
    pub refused: Vec<BadName>,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{place}: {path}: {cause}")]
pub struct FsError {
    /// "local" or the host's label.
    pub place: String,
    pub path: String,
    pub cause: String,
}

pub trait FileSystem: Send + Sync {
    /// "local" or the host's label, for messages.
    fn place(&self) -> &str;
    /// Where browsing starts: the user's home directory.
    fn home(&self) -> BoxFuture<'_, Result<String, FsError>>;
    /// Entries of `dir`, without `.` and `..`, unsorted; every name has
    /// passed [`Name::parse`].
    fn list<'a>(&'a self, dir: &'a str) -> BoxFuture<'a, Result<DirList, FsError>>;
    /// `lstat`; `None` when nothing is there.
    fn stat<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Option<FileEntry>, FsError>>;
    fn mkdir<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), FsError>>;
    /// Rename without replacing: an existing `to` is an error.
    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), FsError>>;
    fn chmod<'a>(&'a self, path: &'a str, mode: u32) -> BoxFuture<'a, Result<(), FsError>>;
    /// Delete a file, a symlink (never its target) or a whole tree.
    fn remove_all<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), FsError>>;
}

/// The parent of an absolute path (`/a/b` → `/a`, `/a` → `/`).
pub fn parent(path: &str) -> String {
    let p = path.trim_end_matches('/');
    match p.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((dir, _)) => dir.to_string(),
    }
}

pub struct LocalFs;

fn local_err(path: &str, e: std::io::Error) -> FsError {
    FsError {
        place: "local".into(),
        path: path.to_string(),
        cause: e.to_string(),
    }
}

fn local_entry(name: Name, meta: &std::fs::Metadata, path: &std::path::Path) -> FileEntry {
    use std::os::unix::fs::MetadataExt;
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_file() {
        FileKind::File
    } else if ft.is_symlink() {
        FileKind::Symlink
    } else {
        FileKind::Other
    };
    let to_dir = kind == FileKind::Symlink && std::fs::metadata(path).is_ok_and(|m| m.is_dir());
    FileEntry {
        name,
        kind,
        size: meta.len(),
        mode: meta.mode() & 0o7777,
        mtime: u64::try_from(meta.mtime()).ok(),
        to_dir,
    }
}

/// Local file work runs on the blocking pool: a slow disk or NFS mount
/// must not stall the UI's async workers.
async fn blocking<T: Send + 'static>(
    path: &str,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, FsError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(|e| local_err(path, e)),
        Err(e) => Err(local_err(path, std::io::Error::other(e))),
    }
}

impl FileSystem for LocalFs {
    fn place(&self) -> &str {
        "local"
    }

    fn home(&self) -> BoxFuture<'_, Result<String, FsError>> {
        Box::pin(async {
            let cwd = std::env::current_dir().map_err(|e| local_err(".", e))?;
            Ok(cwd.to_string_lossy().into_owned())
        })
    }

    fn list<'a>(&'a self, dir: &'a str) -> BoxFuture<'a, Result<DirList, FsError>> {
        let d = dir.to_string();
        Box::pin(blocking(dir, move || {
            let mut out = DirList::default();
            for e in std::fs::read_dir(&d)? {
                let e = e?;
                let path = e.path();
                // An entry that vanished meanwhile is simply not listed.
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                // A name that is not UTF-8 would name another file once
                // made lossy: it is shown as refused, never acted on.
                let Some(raw) = e.file_name().to_str().map(str::to_string) else {
                    out.refused.push(BadName {
                        shown: e.file_name().to_string_lossy().into_owned(),
                        why: "the name is not valid UTF-8",
                    });
                    continue;
                };
                match Name::parse(&raw) {
                    Ok(name) => out.entries.push(local_entry(name, &meta, &path)),
                    Err(bad) => out.refused.push(bad),
                }
            }
            Ok(out)
        }))
    }

    fn stat<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Option<FileEntry>, FsError>> {
        let p = path.to_string();
        Box::pin(blocking(path, move || {
            let pb = std::path::PathBuf::from(&p);
            match std::fs::symlink_metadata(&pb) {
                Ok(m) => Ok(Some(local_entry(entry_name(&p)?, &m, &pb))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        }))
    }

    fn mkdir<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), FsError>> {
        let p = path.to_string();
        Box::pin(blocking(path, move || std::fs::create_dir(p)))
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), FsError>> {
        let (f, t) = (from.to_string(), to.to_string());
        Box::pin(blocking(to, move || {
            if std::fs::symlink_metadata(&t).is_ok() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a file with that name already exists",
                ));
            }
            std::fs::rename(f, t)
        }))
    }

    fn chmod<'a>(&'a self, path: &'a str, mode: u32) -> BoxFuture<'a, Result<(), FsError>> {
        use std::os::unix::fs::PermissionsExt;
        let p = path.to_string();
        Box::pin(blocking(path, move || {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        }))
    }

    fn remove_all<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), FsError>> {
        let p = path.to_string();
        Box::pin(blocking(path, move || {
            let m = std::fs::symlink_metadata(&p)?;
            if m.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            }
        }))
    }
}

/// A host's files over its shared SFTP session.
pub struct RemoteFs {
    pub sftp: Arc<Sftp>,
}

impl RemoteFs {
    fn err(&self, path: &str, e: impl std::fmt::Display) -> FsError {
        FsError {
            place: self.sftp.host.clone(),
            path: path.to_string(),
            cause: e.to_string(),
        }
    }

    async fn remove_tree(&self, path: String) -> Result<(), FsError> {
        // Iterative, depth-first: directories are removed after their
        // contents, symlinks are never followed.
        let mut stack = vec![(path, false)];
        while let Some((p, visited)) = stack.pop() {
            let attrs = match self.sftp.lstat(&p).await {
                Ok(Some(a)) => a,
                Ok(None) => continue,
                Err(e) => return Err(self.err(&p, e)),
            };
            if attrs.is_dir() {
                if visited {
                    self.sftp
                        .raw()
                        .rmdir(p.as_str())
                        .await
                        .map_err(|e| self.err(&p, e))?;
                } else {
                    let children = self.sftp.list(&p).await.map_err(|e| self.err(&p, e))?;
                    // A refused name cannot be removed by name; the rmdir
                    // of its directory then fails and says so.
                    stack.push((p.clone(), true));
                    for (name, _) in children.kept {
                        stack.push((join(&p, &name), false));
                    }
                }
            } else {
                self.sftp
                    .raw()
                    .remove(p.as_str())
                    .await
                    .map_err(|e| self.err(&p, e))?;
            }
        }
        Ok(())
    }
}

/// The name of a path the user chose, for `stat`'s answer: its last
/// component (`/` itself has none).
fn entry_name(path: &str) -> std::io::Result<Name> {
    Name::parse(
        path.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(path),
    )
    .map_err(|b| std::io::Error::new(std::io::ErrorKind::InvalidInput, b.to_string()))
}

pub fn remote_entry(name: Name, a: &FileAttributes) -> FileEntry {
    let kind = if a.is_dir() {
        FileKind::Dir
    } else if a.is_symlink() {
        FileKind::Symlink
    } else if a.is_regular() {
        FileKind::File
    } else {
        FileKind::Other
    };
    FileEntry {
        name,
        kind,
        size: a.size.unwrap_or(0),
        mode: a.permissions.unwrap_or(0) & 0o7777,
        mtime: a.mtime.map(u64::from),
        to_dir: false,
    }
}

impl FileSystem for RemoteFs {
    fn place(&self) -> &str {
        &self.sftp.host
    }

    fn home(&self) -> BoxFuture<'_, Result<String, FsError>> {
        Box::pin(async {
            let name = self
                .sftp
                .raw()
                .realpath(".")
                .await
                .map_err(|e| self.err(".", e))?;
            name.files
                .into_iter()
                .next()
                .map(|f| f.filename)
                .ok_or_else(|| self.err(".", "the server gave no path for the start directory"))
        })
    }

    fn list<'a>(&'a self, dir: &'a str) -> BoxFuture<'a, Result<DirList, FsError>> {
        Box::pin(async move {
            let sifted = self.sftp.list(dir).await.map_err(|e| self.err(dir, e))?;
            let mut out = Vec::with_capacity(sifted.kept.len());
            for (name, attrs) in sifted.kept {
                let mut e = remote_entry(name, &attrs);
                if e.kind == FileKind::Symlink {
                    // One extra stat per symlink, to know if it leads to a directory.
                    let full = join(dir, &e.name);
                    e.to_dir = matches!(self.sftp.stat(&full).await, Ok(Some(a)) if a.is_dir());
                }
                out.push(e);
            }
            Ok(DirList {
                entries: out,
                refused: sifted.refused,
            })
        })
    }

    fn stat<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Option<FileEntry>, FsError>> {
        Box::pin(async move {
            let name = entry_name(path).map_err(|e| self.err(path, e))?;
            match self.sftp.raw().lstat(path).await {
                Ok(a) => Ok(Some(remote_entry(name, &a.attrs))),
                Err(e) if is_no_such_file(&e) => Ok(None),
                Err(e) => Err(self.err(path, e)),
            }
        })
    }

    fn mkdir<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), FsError>> {
        Box::pin(async move {
            self.sftp
                .raw()
                .mkdir(path, FileAttributes::default())
                .await
                .map(|_| ())
                .map_err(|e| self.err(path, e))
        })
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, Result<(), FsError>> {
        Box::pin(async move {
            // Plain SFTP rename refuses to replace an existing file, which
            // is what a user's rename wants.
            if matches!(self.sftp.lstat(to).await, Ok(Some(_))) {
                return Err(self.err(to, "a file with that name already exists"));
            }
            self.sftp
                .raw()
                .rename(from, to)
                .await
                .map(|_| ())
                .map_err(|e| self.err(from, e))
        })
    }

    fn chmod<'a>(&'a self, path: &'a str, mode: u32) -> BoxFuture<'a, Result<(), FsError>> {
        Box::pin(async move {
            let attrs = FileAttributes {
                permissions: Some(mode),
                ..Default::default()
            };
            self.sftp
                .raw()
                .setstat(path, attrs)
                .await
                .map(|_| ())
                .map_err(|e| self.err(path, e))
        })
    }

    fn remove_all<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), FsError>> {
        Box::pin(self.remove_tree(path.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents() {
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a/b/"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/"), "/");
    }

    #[tokio::test]
    async fn local_fs_lists_renames_and_removes() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().to_string_lossy().into_owned();
        let fs = LocalFs;
        fs.mkdir(&format!("{root}/sub")).await.unwrap();
        std::fs::write(d.path().join("sub/f"), b"abc").unwrap();
        std::os::unix::fs::symlink("sub", d.path().join("link")).unwrap();
        let mut l = fs.list(&root).await.unwrap().entries;
        l.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(l.len(), 2);
        assert_eq!(
            (l[0].name.as_str(), l[0].kind, l[0].to_dir),
            ("link", FileKind::Symlink, true)
        );
        assert_eq!(l[1].kind, FileKind::Dir);
        std::fs::write(d.path().join("g"), b"x").unwrap();
        let clash = fs
            .rename(&format!("{root}/g"), &format!("{root}/sub"))
            .await;
        assert!(clash.unwrap_err().cause.contains("already exists"));
        fs.chmod(&format!("{root}/g"), 0o600).await.unwrap();
        assert_eq!(
            fs.stat(&format!("{root}/g")).await.unwrap().unwrap().mode,
            0o600
        );
        // Removing the link leaves its target alone.
        fs.remove_all(&format!("{root}/link")).await.unwrap();
        assert!(d.path().join("sub/f").exists());
        fs.remove_all(&format!("{root}/sub")).await.unwrap();
        assert!(fs.stat(&format!("{root}/sub")).await.unwrap().is_none());
    }
}
