//! Where session servers listen, and the checks that make the sockets
//! the user's alone: a private directory (`$XDG_RUNTIME_DIR/sshdeck`, or
//! `/tmp/sshdeck-<uid>` without it) that is ours, not a link, and 0700,
//! checked before every use; per session, `NAME.sock` and `NAME.lock`,
//! the lock held by its one server for its life; and a stale socket (its
//! server crashed) told apart from a live one.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("{path}: {what}; sshdeck keeps its session socket only in a private directory")]
    NotPrivate { path: PathBuf, what: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("session {0:?} already has a server")]
    Running(String),
    #[error("{0} sessions run already; end some with `sshdeck kill-session NAME`")]
    Full(u32),
    #[error("{0:?} is not a session name: use letters, digits, '-', '_' or '.' (at most 64)")]
    BadName(String),
}

/// Generated session names stop here: past it, something is wrong.
const MAX_SESSIONS: u32 = 1000;

/// The socket directory and the files in it.
#[derive(Debug, Clone)]
pub struct SocketDir {
    dir: PathBuf,
}

/// This process's effective uid, without unsafe code: the owner of what
/// it just created is it.
pub fn my_uid() -> std::io::Result<u32> {
    std::fs::metadata("/proc/self").map(|m| m.uid())
}

impl SocketDir {
    /// `$XDG_RUNTIME_DIR/sshdeck`, else `/tmp/sshdeck-<uid>`: created
    /// 0700 when missing, and checked either way.
    pub fn locate() -> Result<SocketDir, PathError> {
        let uid = my_uid().map_err(|source| PathError::Io {
            path: "/proc/self".into(),
            source,
        })?;
        let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
            Some(d) => PathBuf::from(d).join("sshdeck"),
            None => PathBuf::from(format!("/tmp/sshdeck-{uid}")),
        };
        SocketDir::at(dir, uid)
    }

    /// `dir`, created 0700 when missing, then held to: a directory (not a
    /// link to one), owned by `uid`, with no access for group or others.
    pub fn at(dir: PathBuf, uid: u32) -> Result<SocketDir, PathError> {
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(source) => return Err(PathError::Io { path: dir, source }),
        }
        let meta = std::fs::symlink_metadata(&dir).map_err(|source| PathError::Io {
            path: dir.clone(),
            source,
        })?;
        let refuse = |what: String| {
            Err(PathError::NotPrivate {
                path: dir.clone(),
                what,
            })
        };
        if meta.file_type().is_symlink() {
            return refuse("a symbolic link".into());
        }
        if !meta.is_dir() {
            return refuse("not a directory".into());
        }
        if meta.uid() != uid {
            return refuse(format!("owned by uid {}, not {uid}", meta.uid()));
        }
        if meta.mode() & 0o077 != 0 {
            return refuse(format!(
                "mode {:o}, open to others (want 700)",
                meta.mode() & 0o777
            ));
        }
        Ok(SocketDir { dir })
    }

    /// Session `name`'s socket. Names are checked first: they become
    /// file names here.
    pub fn socket(&self, name: &str) -> Result<PathBuf, PathError> {
        check_name(name)?;
        Ok(self.dir.join(format!("{name}.sock")))
    }

    /// The sessions with a socket here, live or stale, by name.
    pub fn sessions(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let name = name.strip_suffix(".sock")?;
                check_name(name).ok().map(|()| name.to_string())
            })
            .collect();
        names.sort();
        names
    }

    /// Take session `name`'s lock, for as long as the returned file lives.
    /// Fails when its server holds it: there is never a second one.
    pub fn lock(&self, name: &str) -> Result<File, PathError> {
        check_name(name)?;
        let path = self.dir.join(format!("{name}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| PathError::Io {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(PathError::Running(name.into())),
            Err(std::fs::TryLockError::Error(source)) => Err(PathError::Io { path, source }),
        }
    }

    /// `lock`, tried for a moment: a client checking whether the
    /// session's socket is stale holds the lock for an instant.
    pub fn lock_patiently(&self, name: &str) -> Result<File, PathError> {
        for _ in 0..10 {
            match self.lock(name) {
                Err(PathError::Running(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other,
            }
        }
        self.lock(name)
    }

    /// The first free session name ("0", "1", …, as tmux names them) with
    /// its lock taken, so two sessions started at once never share one.
    pub fn claim_next(&self) -> Result<(String, File), PathError> {
        for n in 0..MAX_SESSIONS {
            let name = n.to_string();
            match self.lock(&name) {
                Ok(lock) => return Ok((name, lock)),
                Err(PathError::Running(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Err(PathError::Full(MAX_SESSIONS))
    }

    /// A socket file left by a server that is gone: nothing answers on it
    /// and nobody holds the lock. A socket whose lock is held belongs to a
    /// live (maybe busy) server and is never called stale.
    pub fn socket_is_stale(&self, name: &str) -> bool {
        let Ok(sock) = self.socket(name) else {
            return false;
        };
        if !sock.exists() {
            return false;
        }
        let answers = std::os::unix::net::UnixStream::connect(&sock).is_ok();
        !answers && self.lock(name).is_ok()
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// A session name is a file name here: a few safe characters only.
pub fn check_name(name: &str) -> Result<(), PathError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(PathError::BadName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch() -> (tempfile::TempDir, u32) {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        (t, my_uid().unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn the_directory_is_made_private_and_held_to_it() {
        let (t, uid) = scratch();
        let dir = t.path().join("sshdeck");
        let d = SocketDir::at(dir.clone(), uid).unwrap_or_else(|e| panic!("{e}"));
        let mode = std::fs::metadata(d.path()).map(|m| m.mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o700));
        // Opened to the group later: refused, with the path and the mode.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).ok();
        let e = SocketDir::at(dir.clone(), uid).err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(e.contains("mode 750") && e.contains("sshdeck"), "{e}");
        // Someone else's: refused.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).ok();
        let e = SocketDir::at(dir, uid + 1).err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("owned by uid"));
    }

    #[test]
    fn a_link_is_never_followed() {
        let (t, uid) = scratch();
        let real = t.path().join("real");
        std::fs::create_dir(&real).ok();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).ok();
        let link = t.path().join("sshdeck");
        std::os::unix::fs::symlink(&real, &link).ok();
        let e = SocketDir::at(link, uid).err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("symbolic link"));
    }

    #[test]
    fn one_server_holds_the_lock_and_its_socket_is_not_stale() {
        let (t, uid) = scratch();
        let d = SocketDir::at(t.path().join("s"), uid).unwrap_or_else(|e| panic!("{e}"));
        let held = d.lock("work").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(d.lock("work"), Err(PathError::Running(_))));
        // Another session has its own lock.
        assert!(d.lock("other").is_ok());
        // A socket file with nobody listening, but the lock held: a live
        // server that is busy, not a stale socket.
        let sock = d.socket("work").unwrap_or_else(|e| panic!("{e}"));
        drop(std::os::unix::net::UnixListener::bind(&sock));
        assert!(sock.exists());
        assert!(!d.socket_is_stale("work"));
        assert_eq!(d.sessions(), ["work"]);
        drop(held);
        // Lock free and nothing answers: the server crashed.
        assert!(d.socket_is_stale("work"));
    }

    #[test]
    fn session_names_are_plain_file_names() {
        for good in ["work", "upgrade-2026.12", "a_b"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "a b",
            "x\u{1b}[2J",
            &"x".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
