//! One copy job on one host, shared by `sshdeck put/get` and the TUI's
//! transfer queue: put local sources into a remote directory, or get
//! remote sources into `DEST/` (or `DEST/<host>/` when fanning in).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use thiserror::Error;
use tokio_util::sync::CancellationToken;

use crate::engine::HostError;
use crate::engine::files::name::Name;
use crate::engine::files::sftp::Sftp;
use crate::engine::files::transfer::source::SourceCache;
use crate::engine::files::transfer::{RemoteHasher, TransferError, TransferOpts};
use crate::engine::files::tree::{self, CopyCtx, Ledger, Totals, TreeEntry};
use crate::engine::link::HostLink;
use crate::text::file_stem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Put,
    Get,
}

#[derive(Debug, Clone)]
pub struct CopySpec {
    pub dir: Direction,
    /// Put: local paths. Get: remote paths.
    pub sources: Vec<String>,
    /// Put: the remote directory. Get: the local directory.
    pub dest: String,
    pub recursive: bool,
    pub opts: TransferOpts,
    /// Recreate symlinks that point outside the copied tree too (as links;
    /// they are never followed either way).
    pub unsafe_links: bool,
    /// Get: each host writes under `DEST/<host>/`, so nothing collides.
    pub per_host_dir: bool,
    /// Destination names for top-level sources, by source name (the
    /// "rename" answer to a conflict).
    pub renames: BTreeMap<String, Name>,
    /// Get: the sources were picked from one host's listing (a pane on
    /// the selected hosts). Each host then copies only the names that its
    /// own listing holds, and a name it lacks is skipped with a note for
    /// that host instead of failing its job.
    pub only_listed: bool,
}

#[derive(Debug, Error)]
pub enum CopyError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// The tree was copied except for entries refused on the way.
    #[error("{}", incomplete(.0))]
    Incomplete(Totals),
}

/// "copied 3 files, but 2 entries were refused: …; …"
fn incomplete(t: &Totals) -> String {
    const SHOWN: usize = 5;
    let mut why: Vec<String> = t
        .refused
        .iter()
        .take(SHOWN)
        .map(|e| e.to_string())
        .collect();
    if t.refused.len() > SHOWN {
        why.push(format!("and {} more", t.refused.len() - SHOWN));
    }
    let n = t.refused.len();
    format!(
        "copied {} file{}, but {n} entr{} refused: {}",
        t.files,
        if t.files == 1 { "" } else { "s" },
        if n == 1 { "y was" } else { "ies were" },
        why.join("; ")
    )
}

impl CopyError {
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            CopyError::Transfer(TransferError::Cancelled) | CopyError::Host(HostError::Cancelled)
        )
    }
}

/// Live counters of one host's copy, read by progress displays.
#[derive(Debug, Default)]
pub struct HostProgress {
    pub done: AtomicU64,
    pub total: AtomicU64,
    pub files_started: AtomicUsize,
    pub current: Mutex<String>,
}

impl HostProgress {
    pub fn current_file(&self) -> String {
        self.current.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// What every host of one job shares: the local sources, scanned once
/// (put) before any connection so a typo fails fast, and the files being
/// read, so each is read and hashed once however many hosts it goes to.
#[derive(Default)]
pub struct Prepared {
    pub scans: Vec<(PathBuf, Vec<TreeEntry>)>,
    pub sources: SourceCache,
}

/// Scan the local sources of a put (nothing for a get).
pub fn prepare(spec: &CopySpec) -> Result<Prepared, TransferError> {
    if spec.dir == Direction::Get {
        return Ok(Prepared::default());
    }
    let scans = spec
        .sources
        .iter()
        .map(|s| {
            let p = PathBuf::from(s);
            tree::scan_local(&p, spec.recursive).map(|e| (p, e))
        })
        .collect::<Result<_, _>>()?;
    Ok(Prepared {
        scans,
        sources: SourceCache::new(spec.opts.verify),
    })
}

/// Put every scanned local tree on this host; the total is known from the
/// scans made before.
async fn put_trees(
    sftp: &Sftp,
    spec: &CopySpec,
    prepared: &Prepared,
    progress: &HostProgress,
    ctx: &CopyCtx<'_>,
) -> Result<Totals, CopyError> {
    let mut totals = Totals::default();
    let total: u64 = prepared
        .scans
        .iter()
        .map(|(_, e)| tree::total_bytes(e))
        .sum();
    progress.total.store(total, Ordering::Relaxed);
    progress.done.store(0, Ordering::Relaxed);
    for (src, entries) in &prepared.scans {
        let parent = src
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let rename = spec.renames.get(name_of(&src.to_string_lossy()));
        let t = tree::upload_entries(sftp, entries, parent, &spec.dest, rename, ctx).await?;
        totals.add(&t);
    }
    Ok(totals)
}

/// Scan this host's sources (those it has, with `only_listed`), then get
/// every tree into the destination (its own folder with `per_host_dir`).
async fn get_trees(
    sftp: &Sftp,
    label: &str,
    spec: &CopySpec,
    progress: &HostProgress,
    ctx: &CopyCtx<'_>,
) -> Result<Totals, CopyError> {
    let mut totals = Totals::default();
    let dest = if spec.per_host_dir {
        Path::new(&spec.dest).join(file_stem(label))
    } else {
        PathBuf::from(&spec.dest)
    };
    let sources = if spec.only_listed {
        let (kept, notes) = listed_here(sftp, &spec.sources).await?;
        totals.notes.extend(notes);
        kept
    } else {
        spec.sources.iter().collect()
    };
    // Pre-scan everything first, so the total is exact from the start.
    let mut scans = Vec::new();
    for src in sources {
        let scan = tree::scan_remote(sftp, src, spec.recursive).await?;
        totals.refused.extend(scan.refused);
        scans.push((src, scan.entries));
    }
    let total: u64 = scans.iter().map(|(_, e)| tree::total_bytes(e)).sum();
    progress.total.store(total, Ordering::Relaxed);
    progress.done.store(0, Ordering::Relaxed);
    for (src, entries) in scans {
        let rename = spec.renames.get(name_of(src));
        let parent = tree::remote_parent(src);
        let t = tree::download_entries(sftp, &entries, &parent, &dest, rename, ctx).await?;
        totals.add(&t);
    }
    Ok(totals)
}

fn name_of(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

/// The sources that this host's own listing of their directory holds,
/// and a note for each it lacks. A name listed by another host is never
/// looked up here by itself: only what this host lists is copied (and,
/// for a move, deleted) here.
async fn listed_here<'s>(
    sftp: &Sftp,
    sources: &'s [String],
) -> Result<(Vec<&'s String>, Vec<String>), TransferError> {
    let mut listings: BTreeMap<String, std::collections::HashSet<Name>> = BTreeMap::new();
    let (mut kept, mut notes) = (Vec::new(), Vec::new());
    for src in sources {
        // Built from a checked name by the files tab; anything else (a
        // `..` on the way) is not a name this host listed.
        if src.split('/').any(|c| c == "..") || Name::parse(name_of(src)).is_err() {
            notes.push(format!(
                "{}:{}: not a name from a listing; skipped",
                sftp.host,
                crate::text::sanitize::visible_name(src)
            ));
            continue;
        }
        let dir = tree::remote_parent(src);
        if !listings.contains_key(&dir) {
            let list_dir = if dir.is_empty() { "." } else { dir.as_str() };
            let sifted = sftp
                .list(list_dir)
                .await
                .map_err(|e| TransferError::Remote {
                    host: sftp.host.clone(),
                    path: list_dir.to_string(),
                    cause: crate::engine::files::transfer::describe_sftp(&e),
                })?;
            listings.insert(
                dir.clone(),
                sifted.kept.into_iter().map(|(n, _)| n).collect(),
            );
        }
        let here = listings
            .get(&dir)
            .is_some_and(|names| names.contains(name_of(src)));
        if here {
            kept.push(src);
        } else {
            notes.push(format!(
                "{}:{}: not on this host; skipped",
                sftp.host,
                crate::text::sanitize::visible_name(src)
            ));
        }
    }
    Ok((kept, notes))
}

/// Run `spec` on one host. `prepared` comes from [`prepare`] and is
/// shared by every host of the job; `ledger` remembers finished files
/// across a pause.
pub async fn host_copy(
    link: &HostLink,
    spec: &CopySpec,
    prepared: &Prepared,
    progress: &HostProgress,
    ledger: &Ledger,
    cancel: &CancellationToken,
) -> Result<Totals, CopyError> {
    // Start and end of each host's transfer for `--log` (paths only).
    let (verb, arrow) = match spec.dir {
        Direction::Put => ("put", "to"),
        Direction::Get => ("get", "into"),
    };
    let what =
        crate::text::sanitize::clean(&format!("{} {arrow} {}", spec.sources.join(" "), spec.dest));
    tracing::info!(host = %link.label, "transfer started: {verb} {what}");
    let r = host_copy_inner(link, spec, prepared, progress, ledger, cancel).await;
    match &r {
        Ok(t) => tracing::info!(
            host = %link.label,
            "transfer ended: {verb} {what}: {} files, {} bytes, {} skipped",
            t.files,
            t.bytes,
            t.skipped
        ),
        Err(e) => tracing::info!(host = %link.label, "transfer failed: {verb} {what}: {e}"),
    }
    r
}

async fn host_copy_inner(
    link: &HostLink,
    spec: &CopySpec,
    prepared: &Prepared,
    progress: &HostProgress,
    ledger: &Ledger,
    cancel: &CancellationToken,
) -> Result<Totals, CopyError> {
    let sftp = tokio::select! {
        s = link.sftp() => s?,
        _ = cancel.cancelled() => return Err(TransferError::Cancelled.into()),
    };
    // Always there: resuming needs it to prove a part file, even when the
    // copy itself is not verified.
    let hasher = link.hasher();
    let hasher: Option<RemoteHasher<'_>> = Some(&hasher);
    let add = |n: u64| {
        progress.done.fetch_add(n, Ordering::Relaxed);
    };
    let on_file = |path: &str| {
        progress.files_started.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut c) = progress.current.lock() {
            path.clone_into(&mut c);
        }
    };
    let ctx = CopyCtx {
        opts: &spec.opts,
        sources: &prepared.sources,
        unsafe_links: spec.unsafe_links,
        hasher,
        progress: &add,
        on_file: &on_file,
        cancel,
        ledger,
    };
    let totals = match spec.dir {
        Direction::Put => put_trees(&sftp, spec, prepared, progress, &ctx).await?,
        Direction::Get => get_trees(&sftp, &link.label, spec, progress, &ctx).await?,
    };
    if totals.refused.is_empty() {
        Ok(totals)
    } else {
        Err(CopyError::Incomplete(totals))
    }
}
