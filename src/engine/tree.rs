//! Recursive copies: a pre-scan lists every directory, file and symlink
//! (so totals are exact before the first byte moves), then directories are
//! made, files copied with [`super::transfer`], and symlinks recreated.

use std::path::{Path, PathBuf};

use futures::StreamExt;
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

/// Files copied at once over one session. Each keeps its own requests in
/// flight, so small files stop paying a round trip each and a large file
/// beside them keeps the pipe full.
pub const FILES_IN_PARALLEL: usize = 4;

/// Destination paths of files already copied by this job, so a paused and
/// resumed (or retried) job does not copy them again.
#[derive(Debug, Default)]
pub struct Ledger(std::sync::Mutex<std::collections::HashSet<String>>);

impl Ledger {
    fn has(&self, path: &str) -> bool {
        self.0.lock().is_ok_and(|s| s.contains(path))
    }
    fn add(&self, path: String) {
        if let Ok(mut s) = self.0.lock() {
            s.insert(path);
        }
    }
}

/// Everything a tree copy needs besides what to copy and where.
pub struct CopyCtx<'a> {
    pub opts: &'a TransferOpts,
    pub hasher: Option<RemoteHasher<'a>>,
    /// Called with every chunk of bytes moved (from many files at once).
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// Called when a file starts, with its destination path.
    pub on_file: &'a (dyn Fn(&str) + Sync),
    pub cancel: &'a CancellationToken,
    pub ledger: &'a Ledger,
}

/// `rel` with its first component replaced by `rename` (the destination
/// name chosen for a top-level source).
pub fn renamed(rel: &str, rename: Option<&str>) -> String {
    match rename {
        None => rel.to_string(),
        Some(n) => match rel.split_once('/') {
            Some((_, rest)) => format!("{n}/{rest}"),
            None => n.to_string(),
        },
    }
}

fn file_size(e: &Entry) -> u64 {
    match e.kind {
        Kind::File { size } => size,
        _ => 0,
    }
}

/// A file this job already copied before a pause: its bytes count again in
/// this run's progress, and it is not copied twice.
fn done_earlier(ctx: &CopyCtx<'_>, size: u64) -> Outcome {
    (ctx.progress)(size);
    Outcome::Copied {
        bytes: size,
        resumed_from: size,
        verified: super::transfer::Verified::SizeOnly,
    }
}

// Named functions rather than closures returning futures: their
// lifetimes are explicit, so callers can spawn the whole copy.
async fn upload_one(
    sftp: &Sftp,
    src: PathBuf,
    dst: String,
    size: u64,
    ctx: &CopyCtx<'_>,
) -> Result<Outcome, TransferError> {
    if ctx.ledger.has(&dst) {
        return Ok(done_earlier(ctx, size));
    }
    if ctx.cancel.is_cancelled() {
        return Err(TransferError::Cancelled);
    }
    (ctx.on_file)(&dst);
    let o = upload(
        sftp,
        &src,
        &dst,
        ctx.opts,
        ctx.hasher,
        ctx.progress,
        ctx.cancel,
    )
    .await?;
    ctx.ledger.add(dst);
    Ok(o)
}

async fn download_one(
    sftp: &Sftp,
    src: String,
    dst: PathBuf,
    size: u64,
    ctx: &CopyCtx<'_>,
) -> Result<Outcome, TransferError> {
    let key = dst.to_string_lossy().into_owned();
    if ctx.ledger.has(&key) {
        return Ok(done_earlier(ctx, size));
    }
    if ctx.cancel.is_cancelled() {
        return Err(TransferError::Cancelled);
    }
    (ctx.on_file)(&key);
    let o = download(
        sftp,
        &src,
        &dst,
        ctx.opts,
        ctx.hasher,
        ctx.progress,
        ctx.cancel,
    )
    .await?;
    ctx.ledger.add(key);
    Ok(o)
}

fn count(t: &mut Totals, o: Outcome) {
    match o {
        Outcome::Copied { bytes, .. } => {
            t.files += 1;
            t.bytes += bytes;
        }
        Outcome::Skipped => t.skipped += 1,
    }
}

/// Copy scanned local entries (from `src_parent`) into `dest_dir` on the
/// host, the top-level entry named `rename` there when given.
pub async fn upload_entries(
    sftp: &Sftp,
    entries: &[Entry],
    src_parent: &Path,
    dest_dir: &str,
    rename: Option<&str>,
    ctx: &CopyCtx<'_>,
) -> Result<Totals, TransferError> {
    let mut t = Totals::default();
    let remote = |rel: &str| {
        format!(
            "{}/{}",
            dest_dir.trim_end_matches('/'),
            renamed(rel, rename)
        )
    };
    let rerr = |p: String, e: russh_sftp::client::error::Error| TransferError::Remote {
        host: sftp.host.clone(),
        path: p,
        cause: e.to_string(),
    };
    sftp.mkdir_p(dest_dir)
        .await
        .map_err(|e| rerr(dest_dir.to_string(), e))?;
    // Directories first (the scan lists parents before children), so the
    // files can then go in parallel.
    for e in entries.iter().filter(|e| e.kind == Kind::Dir) {
        let dst = remote(&e.rel);
        sftp.mkdir_p(&dst).await.map_err(|x| rerr(dst.clone(), x))?;
    }
    let files = entries
        .iter()
        .filter(|e| matches!(e.kind, Kind::File { .. }))
        .map(|e| (src_parent.join(&e.rel), remote(&e.rel), file_size(e)))
        .map(|(src, dst, size)| upload_one(sftp, src, dst, size, ctx))
        // Collected so no iterator closure lives across an await (that
        // would make the future unusable with tokio::spawn).
        .collect::<Vec<_>>();
    let mut running = futures::stream::iter(files).buffer_unordered(FILES_IN_PARALLEL);
    while let Some(r) = running.next().await {
        count(&mut t, r?);
    }
    for e in entries {
        let Kind::Symlink { target } = &e.kind else {
            continue;
        };
        let dst = remote(&e.rel);
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
    // Directory modes last: a read-only directory would refuse its files.
    if ctx.opts.preserve {
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

/// Copy scanned remote entries (from `src_parent`) into local `dest_dir`,
/// the top-level entry named `rename` there when given.
pub async fn download_entries(
    sftp: &Sftp,
    entries: &[Entry],
    src_parent: &str,
    dest_dir: &Path,
    rename: Option<&str>,
    ctx: &CopyCtx<'_>,
) -> Result<Totals, TransferError> {
    use std::os::unix::fs::PermissionsExt;
    let lerr = |p: &Path, e: std::io::Error| TransferError::Local {
        path: p.to_path_buf(),
        cause: e.to_string(),
    };
    let mut t = Totals::default();
    std::fs::create_dir_all(dest_dir).map_err(|e| lerr(dest_dir, e))?;
    let parent = src_parent.trim_end_matches('/');
    let local = |rel: &str| dest_dir.join(renamed(rel, rename));
    for e in entries.iter().filter(|e| e.kind == Kind::Dir) {
        let dst = local(&e.rel);
        std::fs::create_dir_all(&dst).map_err(|x| lerr(&dst, x))?;
    }
    let files = entries
        .iter()
        .filter(|e| matches!(e.kind, Kind::File { .. }))
        .map(|e| {
            let src = if parent.is_empty() {
                e.rel.clone()
            } else {
                format!("{parent}/{}", e.rel)
            };
            (src, local(&e.rel), file_size(e))
        })
        .map(|(src, dst, size)| download_one(sftp, src, dst, size, ctx))
        .collect::<Vec<_>>();
    let mut running = futures::stream::iter(files).buffer_unordered(FILES_IN_PARALLEL);
    while let Some(r) = running.next().await {
        count(&mut t, r?);
    }
    for e in entries {
        if let Kind::Symlink { target } = &e.kind {
            let dst = local(&e.rel);
            let _ = std::fs::remove_file(&dst);
            std::os::unix::fs::symlink(target, &dst).map_err(|x| lerr(&dst, x))?;
        }
    }
    if ctx.opts.preserve {
        for e in entries.iter().rev() {
            if let (Kind::Dir, Some(mode)) = (&e.kind, e.mode) {
                let dst = local(&e.rel);
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
        assert_eq!(renamed("proj/sub/b", Some("proj.1")), "proj.1/sub/b");
        assert_eq!(renamed("proj", Some("proj.1")), "proj.1");
        assert_eq!(renamed("proj/x", None), "proj/x");
    }
}
