//! Writing a saved output pane (`Effect::Save`): a new file for the user
//! alone (0600; what a host printed may be secret), written whole or not
//! at all (a temp file beside it, then a rename), and never through a
//! symlink planted at the name.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::app::msg::SaveRequest;
use crate::engine::private_file::create_new;

#[derive(Debug, Error)]
pub enum SaveError {
    #[error("not saved: {} is a symbolic link; it is not followed (choose another path)", .0.display())]
    Symlink(PathBuf),
    #[error("not saved: {} already exists (choose another path)", .0.display())]
    Exists(PathBuf),
    #[error("not saved: {}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// Refuse a link or anything already at `path`; a missing path is fine.
fn check_free(path: &Path) -> Result<(), SaveError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(SaveError::Symlink(path.to_path_buf())),
        Ok(_) => Err(SaveError::Exists(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(cause) => Err(SaveError::Io {
            path: path.to_path_buf(),
            cause,
        }),
    }
}

/// Write `req` and say where it went ("saved 12 lines to ./x.log").
pub fn save(req: &SaveRequest) -> Result<String, SaveError> {
    let path = PathBuf::from(&req.path);
    check_free(&path)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |cause| SaveError::Io { path, cause }
    };
    let name = path
        .file_name()
        .ok_or_else(|| SaveError::Io {
            path: path.clone(),
            cause: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
        })?
        .to_string_lossy()
        .into_owned();
    // Beside the destination, so the rename stays on one file system.
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let written = (|| {
        let mut f = create_new(&tmp)?;
        f.write_all(req.header.as_bytes())?;
        f.write_all(b"\n")?;
        f.write_all(req.text.as_bytes())?;
        f.sync_all()
    })();
    if let Err(cause) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&tmp)(cause));
    }
    // Checked again just before: a link planted meanwhile is refused too
    // (and a rename would replace a link, never write through it).
    if let Err(e) = check_free(&path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Err(cause) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&path)(cause));
    }
    Ok(format!(
        "saved {} to {}",
        crate::text::count(req.text.lines().count(), "line", "lines"),
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn req(path: &Path) -> SaveRequest {
        SaveRequest {
            path: path.to_string_lossy().into_owned(),
            header: "# sshdeck · host web01 · command: uptime · 2026-12-06 03:10:05 UTC · exit 0"
                .into(),
            text: "up 3 days\nload 0.1\n".into(),
        }
    }

    #[test]
    fn a_saved_pane_is_private_with_its_header_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pane.log");
        let msg = save(&req(&path)).unwrap();
        assert!(msg.contains("2 lines"), "{msg}");
        let got = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            got,
            "# sshdeck · host web01 · command: uptime · 2026-12-06 03:10:05 UTC · exit 0\nup 3 days\nload 0.1\n"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Nothing left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // Never over an existing file.
        let e = save(&req(&path)).unwrap_err();
        assert!(matches!(e, SaveError::Exists(_)), "{e}");
    }

    #[test]
    fn a_symlink_at_the_path_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("pane.log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = save(&req(&link)).unwrap_err();
        assert!(matches!(e, SaveError::Symlink(_)), "{e}");
        let shown = e.to_string();
        assert!(
            shown.contains("pane.log") && shown.contains("symbolic link"),
            "{shown}"
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // A dangling link too: nothing is created at its target.
        let gone = dir.path().join("gone");
        let dangling = dir.path().join("d.log");
        std::os::unix::fs::symlink(&gone, &dangling).unwrap();
        assert!(matches!(save(&req(&dangling)), Err(SaveError::Symlink(_))));
        assert!(!gone.exists());
        // A missing directory names the path and the cause.
        let e = save(&req(&dir.path().join("no/such/dir/x.log"))).unwrap_err();
        assert!(e.to_string().contains("no/such/dir"), "{e}");
    }
}
