//! `sshdeck put` and `sshdeck get`: one copy to or from many hosts at once,
//! with the engine's safe transfers. `get` writes each host's files under
//! `LOCAL_DIR/<host>/`, so nothing collides.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::CliError;
use super::args::{CopyArgs, GlobalArgs};
use super::setup;
use crate::engine::transfer::{Overwrite, TransferError, TransferOpts};
use crate::engine::tree::{self, Entry, Totals};
use crate::engine::{Engine, HostError, HostId};
use crate::text::file_stem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Put,
    Get,
}

#[derive(Debug, thiserror::Error)]
enum HostFailure {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Transfer(#[from] TransferError),
}

pub async fn copy(g: &GlobalArgs, a: &CopyArgs, dir: Direction) -> Result<ExitCode, CliError> {
    let mut setup = setup::prepare(g)?;
    let targets = if a.all {
        setup.inventory.all()?
    } else {
        setup.inventory.select(a.hosts.as_deref().unwrap_or(""))?
    };
    let (sources, dest) = a.paths.split_at(a.paths.len() - 1);
    let dest = dest[0].clone();
    // Local sources are scanned before any connection: a typo fails fast.
    let local_scans: Vec<(PathBuf, Vec<Entry>)> = match dir {
        Direction::Put => sources
            .iter()
            .map(|s| {
                let p = PathBuf::from(s);
                let entries = tree::scan_local(&p, a.recursive)
                    .map_err(|e| CliError::BadArg(e.to_string()))?;
                Ok((p, entries))
            })
            .collect::<Result<_, CliError>>()?,
        Direction::Get => Vec::new(),
    };
    let per_host_bytes: u64 = local_scans.iter().map(|(_, e)| tree::total_bytes(e)).sum();
    let opts = TransferOpts {
        overwrite: if a.skip_same {
            Overwrite::SkipSame
        } else {
            Overwrite::Always
        },
        ..TransferOpts::default()
    };
    let prompting = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(rx) = setup.prompts.take() {
        super::prompt::spawn_answerer(rx, prompting);
    }
    let (mut engine, mut events) = Engine::new(setup.engine);
    setup::warn_bad_known_hosts(&engine);
    // Connection events are not shown here; drain them.
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    let ids: Vec<HostId> = targets.into_iter().map(|t| engine.add_host(t)).collect();

    let shared = Arc::new(Shared {
        done_bytes: AtomicU64::new(0),
        total_bytes: AtomicU64::new(per_host_bytes * ids.len() as u64),
        hosts_done: AtomicUsize::new(0),
    });
    let cancel = CancellationToken::new();
    let engine = Arc::new(engine);
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let engine = engine.clone();
        let shared = shared.clone();
        let cancel = cancel.clone();
        let scans = local_scans.clone();
        let sources: Vec<String> = sources.to_vec();
        let dest = dest.clone();
        let label = labels[i].clone();
        let verify = !a.no_verify;
        let recursive = a.recursive;
        let id = *id;
        tasks.push(tokio::spawn(async move {
            let r = host_copy(
                &engine, id, &label, dir, &scans, &sources, &dest, recursive, verify, &opts,
                &shared, &cancel,
            )
            .await;
            shared.hosts_done.fetch_add(1, Ordering::Relaxed);
            r
        }));
    }
    let tty = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let all = futures::future::join_all(tasks);
    tokio::pin!(all);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let results = loop {
        tokio::select! {
            r = &mut all => break r,
            _ = tick.tick() => if tty { draw_progress(&shared, ids.len(), started, dir) },
            _ = &mut ctrl_c => cancel.cancel(),
        }
    };
    if tty {
        eprint!("\r\x1b[K");
    }
    let mut failed = 0;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    for (label, r) in labels.iter().zip(results) {
        match r {
            Ok(Ok(t)) => {
                let skipped = if t.skipped > 0 {
                    format!(", {} unchanged", t.skipped)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "{label}: {} files, {}{skipped}",
                    t.files,
                    human(t.bytes)
                );
            }
            Ok(Err(e)) => {
                failed += 1;
                let _ = writeln!(err, "{label}: FAILED: {e}");
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(err, "{label}: FAILED: internal error: {e}");
            }
        }
    }
    if failed > 0 {
        let _ = writeln!(err, "sshdeck: {failed} of {} hosts failed", labels.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

struct Shared {
    done_bytes: AtomicU64,
    total_bytes: AtomicU64,
    hosts_done: AtomicUsize,
}

#[allow(clippy::too_many_arguments)]
async fn host_copy(
    engine: &Engine,
    id: HostId,
    label: &str,
    dir: Direction,
    local_scans: &[(PathBuf, Vec<Entry>)],
    sources: &[String],
    dest: &str,
    recursive: bool,
    verify: bool,
    opts: &TransferOpts,
    shared: &Shared,
    cancel: &CancellationToken,
) -> Result<Totals, HostFailure> {
    let sftp = engine.sftp(id).await?;
    let hasher = engine.remote_hasher(id);
    let hasher: Option<crate::engine::transfer::RemoteHasher<'_>> = verify.then_some(&hasher);
    let progress = |n: u64| {
        shared.done_bytes.fetch_add(n, Ordering::Relaxed);
    };
    let mut totals = Totals::default();
    match dir {
        Direction::Put => {
            for (src, entries) in local_scans {
                let parent = src
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let t = tree::upload_entries(
                    &sftp, entries, parent, dest, opts, hasher, &progress, cancel,
                )
                .await?;
                add(&mut totals, &t);
            }
        }
        Direction::Get => {
            let host_dir = Path::new(dest).join(file_stem(label));
            for src in sources {
                let entries = tree::scan_remote(&sftp, src, recursive).await?;
                shared
                    .total_bytes
                    .fetch_add(tree::total_bytes(&entries), Ordering::Relaxed);
                let parent = tree::remote_parent(src);
                let t = tree::download_entries(
                    &sftp, &entries, &parent, &host_dir, opts, hasher, &progress, cancel,
                )
                .await?;
                add(&mut totals, &t);
            }
        }
    }
    Ok(totals)
}

fn add(a: &mut Totals, b: &Totals) {
    a.files += b.files;
    a.bytes += b.bytes;
    a.skipped += b.skipped;
}

fn draw_progress(s: &Shared, hosts: usize, started: Instant, dir: Direction) {
    let done = s.done_bytes.load(Ordering::Relaxed);
    let total = s.total_bytes.load(Ordering::Relaxed).max(done);
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let rate = done as f64 / secs;
    let eta = if rate > 0.0 && total > done {
        format!(", ETA {:.0}s", (total - done) as f64 / rate)
    } else {
        String::new()
    };
    let verb = if dir == Direction::Put { "put" } else { "get" };
    eprint!(
        "\r\x1b[K{verb}: {}/{hosts} hosts, {} of {}, {}/s{eta}",
        s.hosts_done.load(Ordering::Relaxed),
        human(done),
        human(total),
        human(rate as u64)
    );
    let _ = std::io::stderr().flush();
}

pub fn human(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
