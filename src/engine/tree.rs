//! Recursive copies: a pre-scan lists every directory, file and symlink
//! (so totals are exact before the first byte moves), then directories are
//! made, files copied with [`super::transfer`], and symlinks recreated.

use std::path::{Path, PathBuf};

use russh_sftp::protocol::FileAttributes;
use tokio_util::sync::CancellationToken;

use super::sftp::Sftp;
use super::transfer::{Outcome, RemoteHasher, TransferError, TransferOpts, download, upload};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File { size: u64 },
    Symlink { target: String },
}

/// One thing to copy; `rel` uses `/` and starts with the source's own name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub rel: String,
    pub kind: Kind,
    pub mode: Option<u32>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Totals {
    pub files: usize,
    pub bytes: u64,
    pub skipped: usize,
}

pub fn total_bytes(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| match e.kind {
            Kind::File { size } => size,
            _ => 0,
        })
        .sum()
}

fn name_of(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

/// List `src` (a file, or with `recursive` a directory tree).
pub fn scan_local(src: &Path, recursive: bool) -> Result<Vec<Entry>, TransferError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |p: &Path, e: std::io::Error| TransferError::Local {
        path: p.to_path_buf(),
        cause: e.to_string(),
    };
    let meta = std::fs::symlink_metadata(src).map_err(|e| err(src, e))?;
    let base = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".".into());
    let mut out = Vec::new();
    if meta.is_dir() && !recursive {
        return Err(TransferError::Local {
            path: src.to_path_buf(),
            cause: "is a directory (use -r to copy it recursively)".into(),
        });
    }
    let mut stack = vec![(src.to_path_buf(), base)];
    while let Some((path, rel)) = stack.pop() {
        let m = std::fs::symlink_metadata(&path).map_err(|e| err(&path, e))?;
        let mode = Some(m.permissions().mode() & 0o7777);
        if m.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| err(&path, e))?;
            out.push(Entry {
                rel,
                kind: Kind::Symlink {
                    target: target.to_string_lossy().into_owned(),
                },
                mode: None,
            });
        } else if m.is_dir() {
            out.push(Entry {
                rel: rel.clone(),
                kind: Kind::Dir,
                mode,
            });
            let mut children: Vec<_> = std::fs::read_dir(&path)
                .map_err(|e| err(&path, e))?
                .filter_map(Result::ok)
                .map(|d| d.file_name())
                .collect();
            children.sort();
            for c in children.into_iter().rev() {
                let name = c.to_string_lossy().into_owned();
                stack.push((path.join(&c), format!("{rel}/{name}")));
            }
        } else if m.is_file() {
            out.push(Entry {
                rel,
                kind: Kind::File { size: m.len() },
                mode,
            });
        }
        // Sockets, fifos and devices are not copied.
    }
    Ok(out)
}

/// List a remote `src` the same way.
pub async fn scan_remote(
    sftp: &Sftp,
    src: &str,
    recursive: bool,
) -> Result<Vec<Entry>, TransferError> {
    let rerr = |p: &str, e: russh_sftp::client::error::Error| TransferError::Remote {
        host: sftp.host.clone(),
        path: p.to_string(),
        cause: if super::sftp::is_no_such_file(&e) {
            "no such file or directory".into()
        } else {
            e.to_string()
        },
    };
    let top = sftp
        .lstat(src)
        .await
        .map_err(|e| rerr(src, e))?
        .ok_or_else(|| TransferError::Remote {
            host: sftp.host.clone(),
            path: src.to_string(),
            cause: "no such file or directory".into(),
        })?;
    if top.is_dir() && !recursive {
        return Err(TransferError::Remote {
            host: sftp.host.clone(),
            path: src.to_string(),
            cause: "is a directory (use -r to copy it recursively)".into(),
        });
    }
    let mut out = Vec::new();
    let mut stack = vec![(
        src.trim_end_matches('/').to_string(),
        name_of(src).to_string(),
        top,
    )];
    while let Some((path, rel, attrs)) = stack.pop() {
        let mode = attrs.permissions.map(|p| p & 0o7777);
        if attrs.is_symlink() {
            let target = sftp
                .raw()
                .readlink(path.as_str())
                .await
                .map_err(|e| rerr(&path, e))?;
            let target = target
                .files
                .first()
                .map(|f| f.filename.clone())
                .unwrap_or_default();
            out.push(Entry {
                rel,
                kind: Kind::Symlink { target },
                mode: None,
            });
        } else if attrs.is_dir() {
            out.push(Entry {
                rel: rel.clone(),
                kind: Kind::Dir,
                mode,
            });
            let mut children = sftp.list(&path).await.map_err(|e| rerr(&path, e))?;
            children.sort_by(|a, b| b.0.cmp(&a.0));
            for (name, a) in children {
                stack.push((format!("{path}/{name}"), format!("{rel}/{name}"), a));
            }
        } else if attrs.is_regular() {
            out.push(Entry {
                rel,
                kind: Kind::File {
                    size: attrs.size.unwrap_or(0),
                },
                mode,
            });
        }
    }
    Ok(out)
}

/// Copy scanned local entries (from `src_parent`) into `dest_dir` on the host.
#[allow(clippy::too_many_arguments)]
pub async fn upload_entries(
    sftp: &Sftp,
    entries: &[Entry],
    src_parent: &Path,
    dest_dir: &str,
    opts: &TransferOpts,
    hasher: Option<RemoteHasher<'_>>,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &CancellationToken,
) -> Result<Totals, TransferError> {
    let mut t = Totals::default();
    let remote = |rel: &str| format!("{}/{rel}", dest_dir.trim_end_matches('/'));
    let rerr = |p: String, e: russh_sftp::client::error::Error| TransferError::Remote {
        host: sftp.host.clone(),
        path: p,
        cause: e.to_string(),
    };
    sftp.mkdir_p(dest_dir)
        .await
        .map_err(|e| rerr(dest_dir.to_string(), e))?;
    for e in entries {
        if cancel.is_cancelled() {
            return Err(TransferError::Cancelled);
        }
        let dst = remote(&e.rel);
        match &e.kind {
            Kind::Dir => sftp.mkdir_p(&dst).await.map_err(|x| rerr(dst.clone(), x))?,
            Kind::File { .. } => {
                match upload(
                    sftp,
                    &src_parent.join(&e.rel),
                    &dst,
                    opts,
                    hasher,
                    progress,
                    cancel,
                )
                .await?
                {
                    Outcome::Copied { bytes, .. } => {
                        t.files += 1;
                        t.bytes += bytes;
                    }
                    Outcome::Skipped => t.skipped += 1,
                }
            }
            Kind::Symlink { target } => {
                if sftp
                    .lstat(&dst)
                    .await
                    .map_err(|x| rerr(dst.clone(), x))?
                    .is_some()
                {
                    let _ = sftp.raw().remove(dst.as_str()).await;
                }
                // OpenSSH's order: target first, then the link's path.
                sftp.raw()
                    .symlink(target.as_str(), dst.as_str())
                    .await
                    .map_err(|x| rerr(dst.clone(), x))?;
            }
        }
    }
    // Directory modes last: a read-only directory would refuse its files.
    if opts.preserve {
        for e in entries.iter().rev() {
            if let (Kind::Dir, Some(mode)) = (&e.kind, e.mode) {
                let attrs = FileAttributes {
                    permissions: Some(mode),
                    ..Default::default()
                };
                let dst = remote(&e.rel);
                sftp.raw()
                    .setstat(dst.as_str(), attrs)
                    .await
                    .map_err(|x| rerr(dst.clone(), x))?;
            }
        }
    }
    Ok(t)
}

/// Copy scanned remote entries (from `src_parent`) into local `dest_dir`.
#[allow(clippy::too_many_arguments)]
pub async fn download_entries(
    sftp: &Sftp,
    entries: &[Entry],
    src_parent: &str,
    dest_dir: &Path,
    opts: &TransferOpts,
    hasher: Option<RemoteHasher<'_>>,
    progress: &(dyn Fn(u64) + Sync),
    cancel: &CancellationToken,
) -> Result<Totals, TransferError> {
    use std::os::unix::fs::PermissionsExt;
    let lerr = |p: &Path, e: std::io::Error| TransferError::Local {
        path: p.to_path_buf(),
        cause: e.to_string(),
    };
    let mut t = Totals::default();
    std::fs::create_dir_all(dest_dir).map_err(|e| lerr(dest_dir, e))?;
    let parent = src_parent.trim_end_matches('/');
    for e in entries {
        if cancel.is_cancelled() {
            return Err(TransferError::Cancelled);
        }
        let dst: PathBuf = dest_dir.join(&e.rel);
        match &e.kind {
            Kind::Dir => std::fs::create_dir_all(&dst).map_err(|x| lerr(&dst, x))?,
            Kind::File { .. } => {
                let src = if parent.is_empty() {
                    e.rel.clone()
                } else {
                    format!("{parent}/{}", e.rel)
                };
                match download(sftp, &src, &dst, opts, hasher, progress, cancel).await? {
                    Outcome::Copied { bytes, .. } => {
                        t.files += 1;
                        t.bytes += bytes;
                    }
                    Outcome::Skipped => t.skipped += 1,
                }
            }
            Kind::Symlink { target } => {
                let _ = std::fs::remove_file(&dst);
                std::os::unix::fs::symlink(target, &dst).map_err(|x| lerr(&dst, x))?;
            }
        }
    }
    if opts.preserve {
        for e in entries.iter().rev() {
            if let (Kind::Dir, Some(mode)) = (&e.kind, e.mode) {
                let dst = dest_dir.join(&e.rel);
                std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode))
                    .map_err(|x| lerr(&dst, x))?;
            }
        }
    }
    Ok(t)
}

/// The directory part of a remote path (`/a/b` → `/a`).
pub fn remote_parent(p: &str) -> String {
    let p = p.trim_end_matches('/');
    match p.rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((d, _)) => d.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_scan_lists_tree_in_order_with_totals() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path().join("proj");
        std::fs::create_dir_all(top.join("sub")).unwrap();
        std::fs::write(top.join("a.txt"), "aaa").unwrap();
        std::fs::write(top.join("sub/b.txt"), "bb").unwrap();
        std::os::unix::fs::symlink("a.txt", top.join("link")).unwrap();
        let e = scan_local(&top, true).unwrap();
        let rels: Vec<&str> = e.iter().map(|x| x.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                "proj",
                "proj/a.txt",
                "proj/link",
                "proj/sub",
                "proj/sub/b.txt"
            ]
        );
        assert_eq!(total_bytes(&e), 5);
        assert_eq!(
            e[2].kind,
            Kind::Symlink {
                target: "a.txt".into()
            }
        );
        assert!(
            scan_local(&top, false)
                .unwrap_err()
                .to_string()
                .contains("use -r")
        );
        assert_eq!(remote_parent("/x/y"), "/x");
        assert_eq!(remote_parent("/y"), "/");
        assert_eq!(remote_parent("y"), "");
    }
}
