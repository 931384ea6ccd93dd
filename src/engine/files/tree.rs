//! Recursive copies: a pre-scan lists every directory, file and symlink
//! (so totals are exact before the first byte moves), then directories are
//! made, files copied with [`crate::engine::files::transfer`], and symlinks recreated.
//!
//! A host's listing is untrusted: its names pass [`crate::engine::files::name`]'s checks
//! (a refused one is reported with its host while the rest of the tree
//! still copies), and a tree may not grow past [`MAX_TREE_ENTRIES`],
//! [`MAX_DEPTH`] or [`MAX_REL_BYTES`] per path. Symlinks are recreated as
//! links and never followed; one that resolves outside the copied tree
//! ([`crate::engine::files::tree_links`]) is not created unless the user asked for such
//! links (rsync's `--safe-links`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use russh_sftp::protocol::FileAttributes;
use tokio_util::sync::CancellationToken;

use crate::engine::files::local_dest::{LocalDir, local_mode};
use crate::engine::files::name::{Name, RelPath};
use crate::engine::files::sftp::Sftp;
use crate::engine::files::transfer::source::SourceCache;
use crate::engine::files::transfer::{
    RemoteHasher, TransferCtx, TransferError, TransferOpts, TransferOutcome, Upload, download,
    upload_shared,
};
use crate::engine::files::tree_links::TreeShape;
use crate::text::sanitize::{server_text, visible_name};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File { size: u64 },
    Symlink { target: String },
}

/// Entries one host's tree may hold: each costs memory here until the
/// copy ends, so a host listing without end is stopped with a message.
pub const MAX_TREE_ENTRIES: usize = 1_000_000;
/// Directories deep below the copied top. Real trees are far shallower;
/// a host nesting deeper is making memory grow with depth squared.
pub const MAX_DEPTH: usize = 256;
/// Bytes of one path below the copied top (PATH_MAX): a longer one could
/// not be opened by most tools at the destination anyway.
pub const MAX_REL_BYTES: usize = 4096;

/// One thing to copy; `rel` starts with the source's own name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub rel: RelPath,
    pub kind: EntryKind,
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

pub fn total_bytes(entries: &[TreeEntry]) -> u64 {
    entries
        .iter()
        .map(|e| match e.kind {
            EntryKind::File { size } => size,
            _ => 0,
        })
        .sum()
}

fn name_of(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

/// Why a tree cannot grow by `rel`, or `Ok`: the bounds above.
fn within_bounds(rel: &RelPath, entries: usize) -> Result<(), String> {
    if entries >= MAX_TREE_ENTRIES {
        Err(format!(
            "the tree has more than {} entries; sshdeck stops there (copy a part of it)",
            crate::text::thousands(MAX_TREE_ENTRIES as u64)
        ))
    } else if rel.len() > MAX_DEPTH {
        Err(format!(
            "the tree is more than {MAX_DEPTH} directories deep; sshdeck stops there"
        ))
    } else if rel.as_str().len() > MAX_REL_BYTES {
        Err(format!(
            "a path in the tree is longer than {MAX_REL_BYTES} bytes; sshdeck stops there"
        ))
    } else {
        Ok(())
    }
}

/// The checked name of a source the user named (`/srv/app/` → `app`).
fn top_name(src: &str) -> Result<Name, String> {
    Name::parse(name_of(src)).map_err(|b| {
        format!(
            "cannot be copied by that name ({}); name the directory itself",
            b.why
        )
    })
}

/// List `src` (a file, or with `recursive` a directory tree).
pub fn scan_local(src: &Path, recursive: bool) -> Result<Vec<TreeEntry>, TransferError> {
    use std::os::unix::fs::MetadataExt;
    let err = |p: &Path, cause: String| TransferError::Local {
        path: p.to_path_buf(),
        cause,
    };
    let meta = std::fs::symlink_metadata(src).map_err(|e| err(src, e.to_string()))?;
    let shown = src.to_string_lossy();
    let base = match shown.trim_end_matches('/') {
        "" | "." | ".." => std::fs::canonicalize(src)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
        _ => shown.into_owned(),
    };
    let top = RelPath::top(&top_name(&base).map_err(|why| err(src, why))?);
    let mut out = Vec::new();
    if meta.is_dir() && !recursive {
        return Err(err(
            src,
            "is a directory (use -r to copy it recursively)".into(),
        ));
    }
    let mut stack = vec![(src.to_path_buf(), top)];
    while let Some((path, rel)) = stack.pop() {
        within_bounds(&rel, out.len()).map_err(|why| err(&path, why))?;
        let m = std::fs::symlink_metadata(&path).map_err(|e| err(&path, e.to_string()))?;
        let mode = Some(m.mode() & 0o7777);
        let mtime = u64::try_from(m.mtime()).ok();
        if m.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| err(&path, e.to_string()))?;
            out.push(TreeEntry {
                rel,
                kind: EntryKind::Symlink {
                    target: target.to_string_lossy().into_owned(),
                },
                mode: None,
                mtime,
            });
        } else if m.is_dir() {
            out.push(TreeEntry {
                rel: rel.clone(),
                kind: EntryKind::Dir,
                mode,
                mtime,
            });
            let mut children: Vec<_> = std::fs::read_dir(&path)
                .map_err(|e| err(&path, e.to_string()))?
                .filter_map(Result::ok)
                .map(|d| d.file_name())
                .collect();
            children.sort();
            for c in children.into_iter().rev() {
                // The host is given the name as text: one that is not
                // UTF-8 would arrive as another name, so it is refused.
                let name = c
                    .to_str()
                    .ok_or_else(|| "the name is not valid UTF-8".to_string())
                    .and_then(|n| Name::parse(n).map_err(|b| b.why.to_string()))
                    .map_err(|why| err(&path.join(&c), why))?;
                stack.push((path.join(&c), rel.child(&name)));
            }
        } else if m.is_file() {
            out.push(TreeEntry {
                rel,
                kind: EntryKind::File { size: m.len() },
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
    pub entries: Vec<TreeEntry>,
    pub refused: Vec<TransferError>,
}

/// List a remote `src` the same way; every name the host lists has passed
/// the boundary ([`Sftp::list`]), and the tree stays within its bounds.
pub async fn scan_remote(
    sftp: &Sftp,
    src: &str,
    recursive: bool,
) -> Result<RemoteScan, TransferError> {
    let fail = |p: &str, cause: String| remote_fail(sftp, p, cause);
    let rerr = |p: &str, e| remote_read_err(sftp, p, e);
    let (top_path, top, top_attrs) = scan_top(sftp, src, recursive).await?;
    let mut scan = RemoteScan::default();
    let mut stack = vec![(top_path, top, top_attrs)];
    while let Some((path, rel, attrs)) = stack.pop() {
        within_bounds(&rel, scan.entries.len()).map_err(|why| fail(&path, why))?;
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
            scan.entries.push(TreeEntry {
                rel,
                kind: EntryKind::Symlink { target },
                mode: None,
                mtime,
            });
        } else if attrs.is_dir() {
            scan.entries.push(TreeEntry {
                rel: rel.clone(),
                kind: EntryKind::Dir,
                mode,
                mtime,
            });
            let mut children = sftp.list(&path).await.map_err(|e| rerr(&path, e))?;
            for bad in children.refused {
                scan.refused.push(fail(
                    &format!("{}/{}", path.trim_end_matches('/'), bad.shown),
                    format!("not copied: {}", bad.why),
                ));
            }
            children.kept.sort_by(|a, b| b.0.cmp(&a.0));
            for (name, a) in children.kept {
                stack.push((
                    crate::engine::files::name::join(&path, &name),
                    rel.child(&name),
                    a,
                ));
            }
        } else if attrs.is_regular() {
            scan.entries.push(TreeEntry {
                rel,
                kind: EntryKind::File {
                    size: attrs.size.unwrap_or(0),
                },
                mode,
                mtime,
            });
        }
    }
    Ok(scan)
}

/// A failure at `p` on the host, in words.
fn remote_fail(sftp: &Sftp, p: &str, cause: String) -> TransferError {
    TransferError::Remote {
        host: sftp.host.clone(),
        path: p.to_string(),
        cause,
    }
}

/// A failed SFTP request about `p` during a scan.
fn remote_read_err(sftp: &Sftp, p: &str, e: russh_sftp::client::error::Error) -> TransferError {
    let cause = if crate::engine::files::sftp::is_no_such_file(&e) {
        "no such file or directory".into()
    } else {
        crate::engine::files::transfer::describe_sftp(&e)
    };
    remote_fail(sftp, p, cause)
}

/// The top of a remote scan: its path (without a trailing slash, but `/`
/// kept), its name, and its attributes; a directory only with `recursive`.
async fn scan_top(
    sftp: &Sftp,
    src: &str,
    recursive: bool,
) -> Result<(String, RelPath, FileAttributes), TransferError> {
    let fail = |p: &str, cause: String| remote_fail(sftp, p, cause);
    let top = RelPath::top(&top_name(src).map_err(|why| fail(src, why))?);
    let top_attrs = sftp
        .lstat(src)
        .await
        .map_err(|e| remote_read_err(sftp, src, e))?
        .ok_or_else(|| fail(src, "no such file or directory".into()))?;
    if top_attrs.is_dir() && !recursive {
        return Err(fail(
            src,
            "is a directory (use -r to copy it recursively)".into(),
        ));
    }
    let top_path = match src.trim_end_matches('/') {
        "" => "/".to_string(),
        p => p.to_string(),
    };
    Ok((top_path, top, top_attrs))
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

impl<'a> CopyCtx<'a> {
    /// What each file's transfer is given.
    fn transfer(&self) -> TransferCtx<'a> {
        TransferCtx {
            opts: self.opts,
            remote_hash: self.hasher,
            progress: self.progress,
            cancel: self.cancel,
        }
    }
}

fn file_size(e: &TreeEntry) -> u64 {
    match e.kind {
        EntryKind::File { size } => size,
        _ => 0,
    }
}

fn copied(src: String, e: &TreeEntry) -> Copied {
    let kind = match e.kind {
        EntryKind::File { .. } => CopiedKind::File,
        EntryKind::Symlink { .. } => CopiedKind::Link,
        EntryKind::Dir => CopiedKind::Dir,
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
fn done_earlier(ctx: &CopyCtx<'_>, size: u64) -> TransferOutcome {
    (ctx.progress)(size);
    TransferOutcome::Copied {
        bytes: size,
        resumed_from: size,
        verified: crate::engine::files::transfer::Verified::SizeOnly,
        note: None,
    }
}

/// Record a finished copy in the ledger (a skipped file is not "copied":
/// a move keeps its source).
fn settle(ctx: &CopyCtx<'_>, key: String, source: Copied, o: &TransferOutcome) {
    if let TransferOutcome::Copied { .. } = o {
        ctx.ledger.add(key, source);
    }
}

// Named functions rather than closures returning futures: their
// lifetimes are explicit, so callers can spawn the whole copy.
async fn upload_one(
    sftp: &Sftp,
    src: PathBuf,
    dst: String,
    entry: &TreeEntry,
    ctx: &CopyCtx<'_>,
) -> Result<TransferOutcome, TransferError> {
    if ctx.ledger.has(&dst) {
        return Ok(done_earlier(ctx, file_size(entry)));
    }
    if ctx.cancel.is_cancelled() {
        return Err(TransferError::Cancelled);
    }
    (ctx.on_file)(&dst);
    let up = Upload {
        sources: ctx.sources,
        ctx: ctx.transfer(),
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
    root: &LocalDir,
    parent: Vec<String>,
    name: String,
    entry: &TreeEntry,
    ctx: &CopyCtx<'_>,
) -> Result<TransferOutcome, TransferError> {
    let key = parent
        .iter()
        .fold(root.path().to_path_buf(), |p, n| p.join(n))
        .join(&name)
        .to_string_lossy()
        .into_owned();
    if ctx.ledger.has(&key) {
        return Ok(done_earlier(ctx, file_size(entry)));
    }
    if ctx.cancel.is_cancelled() {
        return Err(TransferError::Cancelled);
    }
    // Opened now, not when the tree was made: only the files in flight
    // hold their directories open (a host serving 25,000 directories
    // must not use up this process's descriptors).
    let names: Vec<&str> = parent.iter().map(String::as_str).collect();
    let dir = root
        .subdir(&names, 0o700)
        .map_err(|e| TransferError::Local {
            path: PathBuf::from(&key),
            cause: e.to_string(),
        })?;
    (ctx.on_file)(&key);
    let o = download(sftp, &src, &dir, &name, &ctx.transfer()).await?;
    settle(ctx, key, copied(src, entry), &o);
    Ok(o)
}

fn count(t: &mut Totals, o: TransferOutcome) {
    match o {
        TransferOutcome::Copied { bytes, note, .. } => {
            t.files += 1;
            t.bytes += bytes;
            t.notes.extend(note);
        }
        TransferOutcome::Skipped => t.skipped += 1,
    }
}

/// The tree's shape for judging its links (see [`crate::engine::files::tree_links`]),
/// with paths as they will be written.
fn shape_of<'a>(written: &'a [(RelPath, &'a TreeEntry)]) -> TreeShape<'a> {
    let mut shape = TreeShape::new();
    for (rel, e) in written {
        match &e.kind {
            EntryKind::Dir => shape.add_dir(rel),
            EntryKind::Symlink { target } => shape.add_link(rel, target),
            EntryKind::File { .. } => {}
        }
    }
    shape
}

/// The note for a link left out because it resolves outside the tree.
fn unsafe_link_note(place: &str, path: &str, target: &str) -> String {
    format!(
        "{place}:{}: symlink to {} left out: it resolves outside the copied tree \
         (--unsafe-links copies such links too, as links)",
        visible_name(path),
        server_text(target)
    )
}

/// Whether the directory holding `rel` was made (the top's is the
/// destination itself).
fn parent_made(made: &HashSet<&str>, rel: &RelPath) -> bool {
    match rel.split_last().0 {
        "" => true,
        p => made.contains(p),
    }
}

/// Copy scanned local entries (from `src_parent`) into `dest_dir` on the
/// host, the top-level entry named `rename` there when given. Below
/// `dest_dir` nothing is written through a link that stands on the host
/// (each directory is checked with lstat), and links that resolve outside
/// the tree are left out unless `unsafe_links`.
pub async fn upload_entries(
    sftp: &Sftp,
    entries: &[TreeEntry],
    src_parent: &Path,
    dest_dir: &str,
    rename: Option<&Name>,
    ctx: &CopyCtx<'_>,
) -> Result<Totals, TransferError> {
    let mut t = Totals::default();
    let rerr = |p: String, e| upload_err(sftp, p, e);
    let source = |e: &TreeEntry| src_parent.join(e.rel.as_str());
    let written: Vec<(RelPath, &TreeEntry)> =
        entries.iter().map(|e| (e.rel.renamed(rename), e)).collect();
    // The destination is the user's own choice (links in it are theirs).
    sftp.mkdir_p(dest_dir)
        .await
        .map_err(|e| rerr(dest_dir.to_string(), e))?;
    // Directories first (the scan lists parents before children), so the
    // files can then go in parallel.
    let mut made = HashSet::new();
    for (rel, e) in written.iter().filter(|(_, e)| e.kind == EntryKind::Dir) {
        if !parent_made(&made, rel) {
            continue;
        }
        match sftp.mkdir_below(dest_dir, rel).await {
            Ok(()) => {
                made.insert(rel.as_str());
                ctx.ledger
                    .record(copied(source(e).to_string_lossy().into_owned(), e));
            }
            Err(x) => t.refused.push(rerr(rel.under(dest_dir), x)),
        }
    }
    let files = written
        .iter()
        .filter(|(rel, e)| matches!(e.kind, EntryKind::File { .. }) && parent_made(&made, rel))
        .map(|(rel, e)| upload_one(sftp, source(e), rel.under(dest_dir), e, ctx))
        // Collected so no iterator closure lives across an await (that
        // would make the future unusable with tokio::spawn).
        .collect::<Vec<_>>();
    let mut running = futures::stream::iter(files).buffer_unordered(FILES_IN_PARALLEL);
    while let Some(r) = running.next().await {
        count(&mut t, r?);
    }
    let shape = shape_of(&written);
    for (rel, e) in &written {
        let EntryKind::Symlink { target } = &e.kind else {
            continue;
        };
        if !parent_made(&made, rel) {
            continue;
        }
        if !ctx.unsafe_links && !shape.stays_inside(rel) {
            t.notes.push(unsafe_link_note(
                "local",
                &source(e).to_string_lossy(),
                target,
            ));
            continue;
        }
        let dst = rel.under(dest_dir);
        match make_remote_link(sftp, target, dst).await? {
            Ok(()) => ctx
                .ledger
                .record(copied(source(e).to_string_lossy().into_owned(), e)),
            Err(refused) => t.refused.push(refused),
        }
    }
    set_remote_dir_modes(sftp, &written, &made, dest_dir, ctx.opts.preserve).await?;
    Ok(t)
}

/// A failed SFTP request about `p` during an upload.
fn upload_err(sftp: &Sftp, p: String, e: russh_sftp::client::error::Error) -> TransferError {
    TransferError::Remote {
        host: sftp.host.clone(),
        path: p,
        cause: crate::engine::files::transfer::describe_sftp(&e),
    }
}

/// Make a link at `dst` on the host, replacing whatever is there but a
/// directory (then the inner error says it was not made).
async fn make_remote_link(
    sftp: &Sftp,
    target: &str,
    dst: String,
) -> Result<Result<(), TransferError>, TransferError> {
    if let Some(a) = sftp
        .lstat(&dst)
        .await
        .map_err(|x| upload_err(sftp, dst.clone(), x))?
    {
        if a.is_dir() {
            return Ok(Err(TransferError::Remote {
                host: sftp.host.clone(),
                path: dst,
                cause: "a directory stands there; the link was not made".into(),
            }));
        }
        let _ = sftp.raw().remove(dst.as_str()).await;
    }
    // OpenSSH's order: target first, then the link's path.
    sftp.raw()
        .symlink(target, dst.as_str())
        .await
        .map_err(|x| upload_err(sftp, dst.clone(), x))?;
    Ok(Ok(()))
}

/// Give the made directories their modes, after everything went in: a
/// read-only directory would refuse its files. As for files: the
/// source's bits, less the umask unless preserving.
async fn set_remote_dir_modes(
    sftp: &Sftp,
    written: &[(RelPath, &TreeEntry)],
    made: &HashSet<&str>,
    dest_dir: &str,
    preserve: bool,
) -> Result<(), TransferError> {
    for (rel, e) in written.iter().rev() {
        if let (EntryKind::Dir, Some(mode)) = (&e.kind, e.mode)
            && made.contains(rel.as_str())
        {
            let attrs = FileAttributes {
                permissions: Some(local_mode(Some(mode), true, preserve)),
                ..Default::default()
            };
            let dst = rel.under(dest_dir);
            sftp.raw()
                .setstat(dst.as_str(), attrs)
                .await
                .map_err(|x| upload_err(sftp, dst.clone(), x))?;
        }
    }
    Ok(())
}

/// The names of the directory holding `rel`, below the destination.
fn parent_names(rel: &RelPath) -> Vec<&str> {
    match rel.split_last().0 {
        "" => Vec::new(),
        p => p.split('/').collect(),
    }
}

/// Copy scanned remote entries (from `src_parent`) into local `dest_dir`,
/// the top-level entry named `rename` there when given. Nothing is ever
/// written outside `dest_dir`, nor through a symlink inside it. Only the
/// chains of directories to the files in flight are held open, never one
/// descriptor per directory of the tree.
pub async fn download_entries(
    sftp: &Sftp,
    entries: &[TreeEntry],
    src_parent: &str,
    dest_dir: &Path,
    rename: Option<&Name>,
    ctx: &CopyCtx<'_>,
) -> Result<Totals, TransferError> {
    let mut t = Totals::default();
    let root = LocalDir::open_root(dest_dir).map_err(|e| local_err(dest_dir.to_path_buf(), e))?;
    let source = |e: &TreeEntry| e.rel.under(src_parent);
    let written: Vec<(RelPath, &TreeEntry)> =
        entries.iter().map(|e| (e.rel.renamed(rename), e)).collect();
    let made = make_local_dirs(&root, &written, &source, ctx, &mut t);
    let files: Vec<_> = written
        .iter()
        .filter(|(rel, e)| matches!(e.kind, EntryKind::File { .. }) && parent_made(&made, rel))
        .map(|(rel, e)| {
            let parent = parent_names(rel).into_iter().map(str::to_string).collect();
            let name = rel.split_last().1.to_string();
            download_one(sftp, source(e), &root, parent, name, e, ctx)
        })
        .collect();
    let mut running = futures::stream::iter(files).buffer_unordered(FILES_IN_PARALLEL);
    while let Some(r) = running.next().await {
        count(&mut t, r?);
    }
    let shape = shape_of(&written);
    for (rel, e) in &written {
        let EntryKind::Symlink { target } = &e.kind else {
            continue;
        };
        if !parent_made(&made, rel) {
            continue;
        }
        if !ctx.unsafe_links && !shape.stays_inside(rel) {
            t.notes
                .push(unsafe_link_note(&sftp.host, &source(e), target));
            continue;
        }
        let made_link = root
            .subdir(&parent_names(rel), 0o700)
            .and_then(|d| d.symlink(rel.split_last().1, target));
        match made_link {
            Ok(()) => ctx.ledger.record(copied(source(e), e)),
            Err(x) => t.refused.push(local_err(root.path().join(rel.as_str()), x)),
        }
    }
    if ctx.opts.preserve {
        restore_dir_modes(&root, &written, &made)?;
    }
    Ok(t)
}

/// A local failure at `p`, for a tree download.
fn local_err(p: PathBuf, e: std::io::Error) -> TransferError {
    TransferError::Local {
        path: p,
        cause: e.to_string(),
    }
}

/// Make the downloaded tree's directories under `root`, parents first;
/// returns the paths (below the destination) of those made. A directory
/// that cannot be made is reported in `t`, and nothing goes below it.
fn make_local_dirs<'e>(
    root: &LocalDir,
    written: &'e [(RelPath, &TreeEntry)],
    source: &dyn Fn(&TreeEntry) -> String,
    ctx: &CopyCtx<'_>,
    t: &mut Totals,
) -> HashSet<&'e str> {
    // Directories made, by their path below the destination.
    let mut made = HashSet::new();
    for (rel, e) in written.iter().filter(|(_, e)| e.kind == EntryKind::Dir) {
        if !parent_made(&made, rel) {
            // Its parent could not be made: reported already.
            continue;
        }
        // Made private-ish while filling; the umask applies as usual.
        let mode = e.mode.unwrap_or(0o755) & 0o777 | 0o700;
        let names: Vec<&str> = rel.names().collect();
        match root.subdir(&names, mode) {
            Ok(_) => {
                made.insert(rel.as_str());
                ctx.ledger.record(copied(source(e), e));
            }
            Err(x) => t.refused.push(local_err(root.path().join(rel.as_str()), x)),
        }
    }
    made
}

/// Give the made directories the host's modes, last made first, so a
/// parent made read-only does not stop its children being changed.
fn restore_dir_modes(
    root: &LocalDir,
    written: &[(RelPath, &TreeEntry)],
    made: &HashSet<&str>,
) -> Result<(), TransferError> {
    for (rel, e) in written
        .iter()
        .rev()
        .filter(|(_, e)| e.kind == EntryKind::Dir)
    {
        if !made.contains(rel.as_str()) {
            continue;
        }
        let names: Vec<&str> = rel.names().collect();
        let d = root
            .subdir(&names, 0o700)
            .map_err(|x| local_err(root.path().join(rel.as_str()), x))?;
        d.chmod_self(local_mode(e.mode, true, true))
            .map_err(|x| local_err(d.path().to_path_buf(), x))?;
    }
    Ok(())
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
            EntryKind::Symlink {
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

    #[test]
    fn a_tree_too_deep_or_too_long_is_stopped_with_a_reason() {
        let n = Name::parse("d").unwrap();
        let mut rel = RelPath::top(&n);
        for _ in 0..MAX_DEPTH {
            rel = rel.child(&n);
        }
        assert!(within_bounds(&rel, 0).unwrap_err().contains("deep"));
        let long = Name::parse(&"x".repeat(255)).unwrap();
        let mut rel = RelPath::top(&long);
        for _ in 0..17 {
            rel = rel.child(&long);
        }
        assert!(within_bounds(&rel, 0).unwrap_err().contains("longer"));
        let ok = RelPath::top(&n);
        assert!(within_bounds(&ok, 10).is_ok());
        let full = within_bounds(&ok, MAX_TREE_ENTRIES).unwrap_err();
        assert!(full.contains("1,000,000 entries"), "{full}");
    }
}
