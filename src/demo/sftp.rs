//! The demo hosts' SFTP subsystem (russh-sftp's server), confined to each
//! host's scratch directory: client paths are resolved lexically under it
//! and `..` can never climb above it.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode,
};
use russh_sftp::server::StatusReply;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

enum OpenHandle {
    File(tokio::fs::File),
    /// Directory entries not yet sent.
    Dir(Option<Vec<File>>),
}

pub struct SftpHandler {
    root: PathBuf,
    handles: HashMap<String, OpenHandle>,
    next: u64,
}

fn status(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

fn io_err(e: std::io::Error) -> StatusReply {
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => StatusCode::NoSuchFile,
        std::io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    StatusReply::new(code).with_message(e.to_string())
}

impl SftpHandler {
    pub fn new(root: PathBuf) -> Self {
        SftpHandler {
            root,
            handles: HashMap::new(),
            next: 1,
        }
    }

    /// `/a/../b` → `<root>/b`; relative paths start at the root too.
    fn local(&self, path: &str) -> PathBuf {
        let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
        for c in Path::new(path).components() {
            match c {
                Component::Normal(p) => parts.push(p),
                Component::ParentDir => {
                    parts.pop();
                }
                _ => {}
            }
        }
        let mut p = self.root.clone();
        p.extend(parts);
        p
    }

    /// The client's view of a local path: `/` is the scratch directory.
    fn remote(&self, local: &Path) -> String {
        let rel = local.strip_prefix(&self.root).unwrap_or(Path::new(""));
        format!("/{}", rel.display())
    }

    fn file(&mut self, handle: &str) -> Result<&mut tokio::fs::File, StatusReply> {
        match self.handles.get_mut(handle) {
            Some(OpenHandle::File(f)) => Ok(f),
            _ => Err(StatusReply::new(StatusCode::Failure).with_message("bad handle")),
        }
    }

    fn handle(&mut self, open: OpenHandle) -> String {
        let h = format!("h{}", self.next);
        self.next += 1;
        self.handles.insert(h.clone(), open);
        h
    }
}

impl russh_sftp::server::Handler for SftpHandler {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusReply::new(StatusCode::OpUnsupported)
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let path = self.local(&filename);
        let mut o = tokio::fs::OpenOptions::new();
        o.read(pflags.contains(OpenFlags::READ))
            .write(pflags.contains(OpenFlags::WRITE) || pflags.contains(OpenFlags::APPEND))
            .append(pflags.contains(OpenFlags::APPEND))
            .truncate(pflags.contains(OpenFlags::TRUNCATE));
        if pflags.contains(OpenFlags::CREATE) {
            if pflags.contains(OpenFlags::EXCLUDE) {
                o.create_new(true);
            } else {
                o.create(true);
            }
            o.mode(attrs.permissions.unwrap_or(0o644) & 0o7777);
        }
        let f = o.open(&path).await.map_err(io_err)?;
        Ok(Handle {
            id,
            handle: self.handle(OpenHandle::File(f)),
        })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        if let Some(OpenHandle::File(mut f)) = self.handles.remove(&handle) {
            f.flush().await.map_err(io_err)?;
        }
        Ok(status(id))
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let f = self.file(&handle)?;
        f.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(io_err)?;
        let mut buf = vec![0u8; len.min(256 * 1024) as usize];
        let n = f.read(&mut buf).await.map_err(io_err)?;
        if n == 0 {
            return Err(StatusReply::new(StatusCode::Eof));
        }
        buf.truncate(n);
        Ok(Data { id, data: buf })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let f = self.file(&handle)?;
        f.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(io_err)?;
        f.write_all(&data).await.map_err(io_err)?;
        Ok(status(id))
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let m = tokio::fs::symlink_metadata(self.local(&path))
            .await
            .map_err(io_err)?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&m),
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let m = tokio::fs::metadata(self.local(&path))
            .await
            .map_err(io_err)?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&m),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let f = self.file(&handle)?;
        let m = f.metadata().await.map_err(io_err)?;
        Ok(Attrs {
            id,
            attrs: FileAttributes::from(&m),
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        set_attrs(&self.local(&path), &attrs).map_err(io_err)?;
        Ok(status(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let f = self.file(&handle)?;
        let f = f.try_clone().await.map_err(io_err)?.into_std().await;
        if let Some(mode) = attrs.permissions {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))
                .map_err(io_err)?;
        }
        if let Some(size) = attrs.size {
            f.set_len(size).map_err(io_err)?;
        }
        if let Some(mtime) = attrs.mtime {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(mtime));
            f.set_modified(t).map_err(io_err)?;
        }
        Ok(status(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let dir = self.local(&path);
        let mut rd = tokio::fs::read_dir(&dir).await.map_err(io_err)?;
        let mut files = vec![];
        for name in [".", ".."] {
            if let Ok(m) = tokio::fs::metadata(&dir).await {
                files.push(File::new(name, FileAttributes::from(&m)));
            }
        }
        while let Some(e) = rd.next_entry().await.map_err(io_err)? {
            if let Ok(m) = e.metadata().await {
                files.push(File::new(
                    e.file_name().to_string_lossy(),
                    FileAttributes::from(&m),
                ));
            }
        }
        Ok(Handle {
            id,
            handle: self.handle(OpenHandle::Dir(Some(files))),
        })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(OpenHandle::Dir(files)) => match files.take() {
                Some(files) => Ok(Name { id, files }),
                None => Err(StatusReply::new(StatusCode::Eof)),
            },
            _ => Err(StatusReply::new(StatusCode::Failure).with_message("bad handle")),
        }
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        tokio::fs::remove_file(self.local(&filename))
            .await
            .map_err(io_err)?;
        Ok(status(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        tokio::fs::create_dir(self.local(&path))
            .await
            .map_err(io_err)?;
        Ok(status(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, Self::Error> {
        tokio::fs::remove_dir(self.local(&path))
            .await
            .map_err(io_err)?;
        Ok(status(id))
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let p = self.remote(&self.local(&path));
        Ok(Name {
            id,
            files: vec![File::dummy(p)],
        })
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        tokio::fs::rename(self.local(&oldpath), self.local(&newpath))
            .await
            .map_err(io_err)?;
        Ok(status(id))
    }

    async fn readlink(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let target = tokio::fs::read_link(self.local(&path))
            .await
            .map_err(io_err)?;
        Ok(Name {
            id,
            files: vec![File::dummy(target.to_string_lossy())],
        })
    }

    async fn symlink(
        &mut self,
        id: u32,
        linkpath: String,
        targetpath: String,
    ) -> Result<Status, Self::Error> {
        // The target is stored as given (relative links stay relative).
        tokio::fs::symlink(targetpath, self.local(&linkpath))
            .await
            .map_err(io_err)?;
        Ok(status(id))
    }
}

fn set_attrs(path: &Path, attrs: &FileAttributes) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // Times and size first, while the old mode still lets us open the
    // file; a read handle is enough for times (futimens as the owner).
    if attrs.size.is_some() || attrs.mtime.is_some() {
        let f = std::fs::OpenOptions::new()
            .read(attrs.size.is_none())
            .write(attrs.size.is_some())
            .open(path)?;
        if let Some(size) = attrs.size {
            f.set_len(size)?;
        }
        if let Some(mtime) = attrs.mtime {
            f.set_modified(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(mtime)),
            )?;
        }
    }
    if let Some(mode) = attrs.permissions {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o7777))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setstat_with_only_mtime_and_mode_works() {
        // What a transfer's last step sends before its rename.
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let attrs = FileAttributes {
            permissions: Some(0o600),
            mtime: Some(1_000_000),
            atime: Some(1_000_000),
            ..Default::default()
        };
        set_attrs(&f, &attrs).unwrap();
        let m = std::fs::metadata(&f).unwrap();
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        assert_eq!(m.permissions().mode() & 0o7777, 0o600);
        assert_eq!(m.mtime(), 1_000_000);
    }

    #[test]
    fn paths_stay_inside_the_scratch_dir() {
        let h = SftpHandler::new(PathBuf::from("/scratch/demo01"));
        assert_eq!(
            h.local("/../../etc/passwd"),
            PathBuf::from("/scratch/demo01/etc/passwd")
        );
        assert_eq!(h.local("a/./b/../c"), PathBuf::from("/scratch/demo01/a/c"));
        assert_eq!(h.local("."), PathBuf::from("/scratch/demo01"));
        assert_eq!(h.remote(&h.local("/x/y")), "/x/y");
        assert_eq!(h.remote(&h.local("/")), "/");
    }
}
