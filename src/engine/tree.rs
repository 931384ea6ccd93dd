//! Recursive copies: a pre-scan lists every directory, file and symlink
//! (so totals are exact before the first byte moves), then directories are
//! made, files copied with [`super::transfer`], and symlinks recreated.
//!
//! A host's listing is untrusted: a name that is empty, `.`, `..`, or holds
//! `/` or NUL, or that appears twice in one directory, is refused with its
//! host and name while the rest of the tree still copies. Symlinks are
//! recreated as links and never followed; one that points outside the
//! copied tree (absolute, or climbing above its top with `..`) is not
//! created unless the user asked for such links (rsync's `--safe-links`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use futures::StreamExt;
use russh_sftp::protocol::FileAttributes;
use tokio_util::sync::CancellationToken;

use super::local_dest::{LocalDir, check_name, link_stays_inside, local_mode};
use super::sftp::Sftp;
use super::transfer::source::SourceCache;
use super::transfer::{
    Outcome, RemoteHasher, TransferError, TransferOpts, Upload, download, upload_shared,
};
use crate::text::sanitize::{server_text, visible_name};

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
    /// Seconds since the epoch, as listed.
    pub mtime: Option<u64>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Totals {
    pub files: usize,
    pub bytes: u64,
    pub skipped: usize,
    /// Entries not copied because of what they are (a refused name, a
    /// symlink in the way here); the rest of the tree was copied.
    pub refused: Vec<TransferError>,
    /// Things to tell the user that are not failures: a part file that
    /// could not be resumed, a link left out as unsafe.
    pub notes: Vec<String>,
}

impl Totals {
    pub fn add(&mut self, b: &Totals) {
        self.files += b.files;
        self.bytes += b.bytes;
        self.skipped += b.skipped;
        self.refused.extend(b.refused.iter().cloned());
        self.notes.extend(b.notes.iter().cloned());
    }
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

/// `(parent, name)` of a relative path: `a/b/c` → `(a/b, c)`, `c` → `("", c)`.
fn split_last(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

/// `parent/rel` on a host; `/` stays absolute and `""` stays relative.
pub fn remote_child(parent: &str, rel: &str) -> String {
    match parent.trim_end_matches('/') {
        "" if parent.starts_with('/') => format!("/{rel}"),
        "" => rel.to_string(),
        p => format!("{p}/{rel}"),
    }
}

/// List `src` (a file, or with `recursive` a directory tree).
pub fn scan_local(src: &Path, recursive: bool) -> Result<Vec<Entry>, TransferError> {
    use std::os::unix::fs::MetadataExt;
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
        let mode = Some(m.mode() & 0o7777);
        let mtime = u64::try_from(m.mtime()).ok();
        if m.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| err(&path, e))?;
            out.push(Entry {
                rel,
                kind: Kind::Symlink {
                    target: target.to_string_lossy().into_owned(),
                },
                mode: None,
                mtime,
            });
        } else if m.is_dir() {
            out.push(Entry {
                rel: rel.clone(),
                kind: Kind::Dir,
                mode,
                mtime,
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
                mtime,
            });
        }
        // Sockets, fifos and devices are not copied.
    }
    Ok(out)
}

/// A remote scan: what to copy, and the names refused on the way.
#[derive(Debug, Default)]
pub struct RemoteScan {
    pub entries: Vec<Entry>,
    pub refused: Vec<TransferError>,
}

/// List a remote `src` the same way, checking every name the host lists.
pub async fn scan_remote(
    sftp: &Sftp,
    src: &str,
    recursive: bool,
) -> Result<RemoteScan, TransferError> {
    let rerr = |p: &str, e: russh_sftp::client::error::Error| TransferError::Remote {
        host: sftp.host.clone(),
        path: p.to_string(),
        cause: if super::sftp::is_no_such_file(&e) {
            "no such file or directory".into()
        } else {
            super::transfer::describe_sftp(&e)
        },
    };
    let top_name = name_of(src);
    if let Err(why) = check_name(top_name) {
        return Err(TransferError::Remote {
            host: sftp.host.clone(),
            path: src.to_string(),
            cause: format!("cannot be copied by that name ({why}); name the directory itself"),
        });
    }
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
    let mut scan = RemoteScan::default();
    let top_path = match src.trim_end_matches('/') {
        "" => "/".to_string(),
        p => p.to_string(),
    };
    let mut stack = vec![(top_path, top_name.to_string(), top)];
    while let Some((path, rel, attrs)) = stack.pop() {
        let mode = attrs.permissions.map(|p| p & 0o7777);
        let mtime = attrs.mtime.map(u64::from);
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
            scan.entries.push(Entry {
                rel,
                kind: Kind::Symlink { target },
                mode: None,
                mtime,
            });
        } else if attrs.is_dir() {
            scan.entries.push(Entry {
                rel: rel.clone(),
                kind: Kind::Dir,
                mode,
                mtime,
            });
            let mut children = sftp.list(&path).await.map_err(|e| rerr(&path, e))?;
            children.sort_by(|a, b| b.0.cmp(&a.0));
            // A name listed twice is ambiguous: neither copy is taken.
            let mut times: HashMap<&str, usize> = HashMap::new();
            for (name, _) in &children {
                *times.entry(name.as_str()).or_default() += 1;
            }
            let twice: HashSet<String> = times
                .into_iter()
                .filter(|&(_, n)| n > 1)
                .map(|(name, _)| name.to_string())
                .collect();
            for (name, a) in children {
                let child = remote_child(&path, &name);
                let why = check_name(&name)
                    .err()
                    .or_else(|| twice.contains(&name).then_some("the name is listed twice"));
                if let Some(why) = why {
                    if !scan
                        .refused
                        .iter()
                        .any(|r| matches!(r, TransferError::Remote { path, .. } if *path == child))
                    {
                        scan.refused.push(TransferError::Remote {
                            host: sftp.host.clone(),
                            path: child,
                            cause: format!("not copied: {why}"),
                        });
                    }
                    continue;
                }
                stack.push((child, format!("{rel}/{name}"), a));
            }
        } else if attrs.is_regular() {
            scan.entries.push(Entry {
                rel,
                kind: Kind::File {
                    size: attrs.size.unwrap_or(0),
                },
                mode,
                mtime,
            });
        }
    }
    Ok(scan)
}

/// Files copied at once over one session. Each keeps its own requests in
/// flight, so small files stop paying a round trip each and a large file
/// beside them keeps the pipe full.
pub const FILES_IN_PARALLEL: usize = 4;

/// What a copy did with one source, for a move to delete afterwards:
/// only what was copied (and verified), and only if it has not changed
/// since it was listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Copied {
    /// The source's path (local or on the host).
    pub src: String,
    pub kind: CopiedKind,
    pub size: u64,
    pub mtime: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CopiedKind {
    File,
    Link,
    Dir,
}

/// What one host's job has done so far, kept across a pause and resume:
/// destinations already copied (not copied again) and the sources behind
/// them (for a move).
#[derive(Debug, Default)]
pub struct Ledger {
    done: std::sync::Mutex<HashSet<String>>,
    copied: std::sync::Mutex<Vec<Copied>>,
}

impl Ledger {
    fn has(&self, path: &str) -> bool {
        self.done.lock().is_ok_and(|s| s.contains(path))
    }

    fn add(&self, path: String, source: Copied) {
        if let Ok(mut s) = self.done.lock() {
            s.insert(path);
        }
        self.record(source);
    }

    fn record(&self, source: Copied) {
        if let Ok(mut c) = self.copied.lock()
            && !c.contains(&source)
        {
            c.push(source);
        }
    }

    /// Every source copied so far, in the order it was copied.
    pub fn copied(&self) -> Vec<Copied> {
        self.copied.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// Everything a tree copy needs besides what to copy and where.
pub struct CopyCtx<'a> {
    pub opts: &'a TransferOpts,
    /// Files being read for this job's hosts (each is read once).
    pub sources: &'a SourceCache,
    /// Symlinks pointing outside the copied tree are recreated too.
    pub unsafe_links: bool,
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

fn copied(src: String, e: &Entry) -> Copied {
    let kind = match e.kind {
        Kind::File { .. } => CopiedKind::File,
        Kind::Symlink { .. } => CopiedKind::Link,
        Kind::Dir => CopiedKind::Dir,
    };
    Copied {
        src,
        kind,
        size: file_size(e),
        mtime: e.mtime,
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
        note: None,
    }
}

/// Record a finished copy in the ledger (a skipped file is not "copied":
/// a move keeps its source).
fn settle(ctx: &CopyCtx<'_>, key: String, source: Copied, o: &Outcome) {
    if let Outcome::Copied { .. } = o {
        ctx.ledger.add(key, source);
    }
}

// Named functions rather than closures returning futures: their
// lifetimes are explicit, so callers can spawn the whole copy.
async fn upload_one(
    sftp: &Sftp,
    src: PathBuf,
    dst: String,
    entry: &Entry,
    ctx: &CopyCtx<'_>,
) -> Result<Outcome, TransferError> {
    if ctx.ledger.has(&dst) {
        return Ok(done_earlier(ctx, file_size(entry)));
    }
    if ctx.cancel.is_cancelled() {
        return Err(TransferError::Cancelled);
    }
    (ctx.on_file)(&dst);
    let up = Upload {
        sources: ctx.sources,
        opts: ctx.opts,
        remote_hash: ctx.hasher,
        progress: ctx.progress,
        cancel: ctx.cancel,
    };
    let o = upload_shared(sftp, &src, &dst, &up).await?;
    settle(
        ctx,
        dst,
        copied(src.to_string_lossy().into_owned(), entry),
        &o,
    );
    Ok(o)
}

async fn download_one(
    sftp: &Sftp,
    src: String,
    dir: LocalDir,
    name: String,
    entry: &Entry,
    ctx: &CopyCtx<'_>,
) -> Result<Outcome, TransferError> {
    let key = dir.display(&name).to_string_lossy().into_owned();
    if ctx.ledger.has(&key) {
        return Ok(done_earlier(ctx, file_size(entry)));
    }
    if ctx.cancel.is_cancelled() {
        return Err(TransferError::Cancelled);
    }
    (ctx.on_file)(&key);
    let o = download(
        sftp,
        &src,
        &dir,
        &name,
        ctx.opts,
        ctx.hasher,
        ctx.progress,
        ctx.cancel,
    )
    .await?;
    settle(ctx, key, copied(src, entry), &o);
    Ok(o)
}

fn count(t: &mut Totals, o: Outcome) {
    match o {
        Outcome::Copied { bytes, note, .. } => {
            t.files += 1;
            t.bytes += bytes;
            t.notes.extend(note);
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
    let remote = |rel: &str| remote_child(dest_dir, &renamed(rel, rename));
    let rerr = |p: String, e: russh_sftp::client::error::Error| TransferError::Remote {
        host: sftp.host.clone(),
        path: p,
        cause: super::transfer::describe_sftp(&e),
    };
    let source = |rel: &str| src_parent.join(rel).to_string_lossy().into_owned();
    sftp.mkdir_p(dest_dir)
        .await
        .map_err(|e| rerr(dest_dir.to_string(), e))?;
    // Directories first (the scan lists parents before children), so the
    // files can then go in parallel.
    for e in entries.iter().filter(|e| e.kind == Kind::Dir) {
        let dst = remote(&e.rel);
        sftp.mkdir_p(&dst).await.map_err(|x| rerr(dst.clone(), x))?;
        ctx.ledger.record(copied(source(&e.rel), e));
    }
    let files = entries
        .iter()
        .filter(|e| matches!(e.kind, Kind::File { .. }))
        .map(|e| upload_one(sftp, src_parent.join(&e.rel), remote(&e.rel), e, ctx))
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
        ctx.ledger.record(copied(source(&e.rel), e));
    }
    // Directory modes last: a read-only directory would refuse its files.
    // As for files: the source's bits, less the umask unless preserving.
    for e in entries.iter().rev() {
        if let (Kind::Dir, Some(mode)) = (&e.kind, e.mode) {
            let attrs = FileAttributes {
                permissions: Some(local_mode(Some(mode), true, ctx.opts.preserve)),
                ..Default::default()
            };
            let dst = remote(&e.rel);
            sftp.raw()
                .setstat(dst.as_str(), attrs)
                .await
                .map_err(|x| rerr(dst.clone(), x))?;
        }
    }
    Ok(t)
}

/// How deep below the copied tree's top a link sits (0: in the top
/// directory itself), for judging where its target leads.
fn link_depth(rel: &str) -> usize {
    rel.matches('/').count().saturating_sub(1)
}

/// Copy scanned remote entries (from `src_parent`) into local `dest_dir`,
/// the top-level entry named `rename` there when given. Nothing is ever
/// written outside `dest_dir`, nor through a symlink inside it.
pub async fn download_entries(
    sftp: &Sftp,
    entries: &[Entry],
    src_parent: &str,
    dest_dir: &Path,
    rename: Option<&str>,
    ctx: &CopyCtx<'_>,
) -> Result<Totals, TransferError> {
    let lerr = |p: PathBuf, e: std::io::Error| TransferError::Local {
        path: p,
        cause: e.to_string(),
    };
    let mut t = Totals::default();
    let root = LocalDir::open_root(dest_dir).map_err(|e| lerr(dest_dir.to_path_buf(), e))?;
    let source = |rel: &str| remote_child(src_parent, rel);
    // Directories by their destination path; "" is the destination itself.
    let mut dirs: HashMap<String, LocalDir> = HashMap::new();
    dirs.insert(String::new(), root.clone());
    for e in entries.iter().filter(|e| e.kind == Kind::Dir) {
        let rel = renamed(&e.rel, rename);
        let (parent, name) = split_last(&rel);
        // A parent that could not be made was reported already.
        let Some(parent) = dirs.get(parent) else {
            continue;
        };
        // Made private-ish while filling; the umask applies as usual.
        let mode = e.mode.unwrap_or(0o755) & 0o777 | 0o700;
        match parent.subdir(&[name], mode) {
            Ok(d) => {
                dirs.insert(rel, d);
                ctx.ledger.record(copied(source(&e.rel), e));
            }
            Err(x) => t.refused.push(lerr(root.path().join(&rel), x)),
        }
    }
    let mut files = Vec::new();
    for e in entries
        .iter()
        .filter(|e| matches!(e.kind, Kind::File { .. }))
    {
        let rel = renamed(&e.rel, rename);
        let (parent, name) = split_last(&rel);
        if let Some(dir) = dirs.get(parent) {
            let (dir, name) = (dir.clone(), name.to_string());
            files.push(download_one(sftp, source(&e.rel), dir, name, e, ctx));
        }
    }
    let mut running = futures::stream::iter(files).buffer_unordered(FILES_IN_PARALLEL);
    while let Some(r) = running.next().await {
        count(&mut t, r?);
    }
    for e in entries {
        let Kind::Symlink { target } = &e.kind else {
            continue;
        };
        let rel = renamed(&e.rel, rename);
        let (parent, name) = split_last(&rel);
        let Some(dir) = dirs.get(parent) else {
            continue;
        };
        if !ctx.unsafe_links && !link_stays_inside(target, link_depth(&rel)) {
            t.notes.push(format!(
                "{}:{}: symlink to {} left out: it points outside the copied tree \
                 (--unsafe-links copies such links too, as links)",
                sftp.host,
                visible_name(&source(&e.rel)),
                server_text(target)
            ));
            continue;
        }
        match dir.symlink(name, target) {
            Ok(()) => ctx.ledger.record(copied(source(&e.rel), e)),
            Err(x) => t.refused.push(lerr(dir.display(name), x)),
        }
    }
    if ctx.opts.preserve {
        for e in entries.iter().rev().filter(|e| e.kind == Kind::Dir) {
            if let Some(d) = dirs.get(&renamed(&e.rel, rename)) {
                d.chmod_self(local_mode(e.mode, true, true))
                    .map_err(|x| lerr(d.path().to_path_buf(), x))?;
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
        assert_eq!(remote_child("/", "etc/x"), "/etc/x");
        assert_eq!(remote_child("", "x"), "x");
        assert_eq!(remote_child("/a/", "x"), "/a/x");
        assert_eq!(split_last("a/b/c"), ("a/b", "c"));
        assert_eq!(split_last("c"), ("", "c"));
        assert_eq!(link_depth("top/link"), 0);
        assert_eq!(link_depth("top/a/link"), 1);
    }
}
