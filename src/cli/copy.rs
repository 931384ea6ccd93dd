//! `sshdeck put` and `sshdeck get`: one copy to or from many hosts at once,
//! with the engine's safe transfers. `get` writes each host's files under
//! `LOCAL_DIR/<host>/`, so nothing collides.

use crate::text::sanitize::clean;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::CliError;
use super::args::{CopyArgs, GlobalArgs};
use super::json_out::{CopyLine, to_line};
use super::setup;
use crate::engine::HostId;
pub use crate::engine::files::copy_job::Direction;
use crate::engine::files::copy_job::{self, CopyError, CopySpec, HostProgress};
use crate::engine::files::transfer::{Overwrite, TransferOpts};
use crate::engine::files::tree::{Ledger, Totals};
use crate::text::human_bytes;

pub async fn copy(g: &GlobalArgs, a: &CopyArgs, dir: Direction) -> Result<ExitCode, CliError> {
    let setup = setup::prepare(g)?;
    let targets = setup::select(&setup.inventory, &a.hosts, None, false)?;
    let spec = copy_spec(a, dir);
    // Local sources are scanned before any connection: a typo fails fast.
    let local_scans =
        Arc::new(copy_job::prepare(&spec).map_err(|e| CliError::BadArg(e.to_string()))?);
    let (mut engine, _asking) = setup::headless_engine(setup);
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    let ids: Vec<HostId> = targets.into_iter().map(|t| engine.add_host(t)).collect();

    let progress: Vec<Arc<HostProgress>> = ids.iter().map(|_| Arc::default()).collect();
    let hosts_done = Arc::new(AtomicUsize::new(0));
    let cancel = CancellationToken::new();
    let spec = Arc::new(spec);
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let link = engine.link(*id);
        let (spec, scans, progress) = (spec.clone(), local_scans.clone(), progress[i].clone());
        let (cancel, hosts_done) = (cancel.clone(), hosts_done.clone());
        tasks.push(tokio::spawn(async move {
            let ledger = Ledger::default();
            let r = copy_job::host_copy(&link, &spec, &scans, &progress, &ledger, &cancel).await;
            hosts_done.fetch_add(1, Ordering::Relaxed);
            r
        }));
    }
    let watch = Watch {
        progress: &progress,
        hosts_done: &hosts_done,
        tty: std::io::stderr().is_terminal() && !a.json,
        dir,
    };
    let (results, interrupted) = wait_for_hosts(tasks, &watch, &cancel).await;
    let results: Vec<HostResult> = results.into_iter().map(host_result).collect();
    let failed = if a.json {
        report_json(&labels, &results, dir)
    } else {
        report_text(&labels, &results)
    };
    if interrupted {
        return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The copy the arguments ask for: the last path is the destination.
fn copy_spec(a: &CopyArgs, dir: Direction) -> CopySpec {
    let (sources, dest) = a.paths.split_at(a.paths.len() - 1);
    CopySpec {
        dir,
        sources: sources.to_vec(),
        dest: dest[0].clone(),
        recursive: a.recursive,
        opts: TransferOpts {
            overwrite: if a.skip_same {
                Overwrite::SkipSame
            } else {
                Overwrite::Always
            },
            verify: !a.no_verify,
            preserve: a.preserve,
            ..TransferOpts::default()
        },
        unsafe_links: a.unsafe_links,
        per_host_dir: true,
        renames: Default::default(),
        only_listed: false,
    }
}

/// What the progress line reads while the hosts copy.
struct Watch<'a> {
    progress: &'a [Arc<HostProgress>],
    hosts_done: &'a AtomicUsize,
    /// Draw the progress line (stderr is a terminal, and not `--json`).
    tty: bool,
    dir: Direction,
}

/// One host's copy task.
type CopyTask = tokio::task::JoinHandle<Result<Totals, CopyError>>;

/// How one host's copy task ended.
type Joined = Result<Result<Totals, CopyError>, tokio::task::JoinError>;

/// Waits for every host's copy, drawing progress; a stop signal cancels
/// them (they still end). Returns their results and whether one came.
async fn wait_for_hosts(
    tasks: Vec<CopyTask>,
    watch: &Watch<'_>,
    cancel: &CancellationToken,
) -> (Vec<Joined>, bool) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let all = futures::future::join_all(tasks);
    tokio::pin!(all);
    // Ctrl-C, SIGTERM and SIGHUP all stop the work on the hosts first.
    let mut signals = super::stop_signals::StopSignals::new();
    let mut interrupted = false;
    let results = loop {
        tokio::select! {
            r = &mut all => break r,
            _ = tick.tick() => if watch.tty {
                draw_progress(watch.progress, watch.hosts_done, started, watch.dir)
            },
            _ = signals.recv(), if !interrupted => {
                interrupted = true;
                cancel.cancel();
            }
        }
    };
    if watch.tty {
        eprint!("\r\x1b[K");
    }
    (results, interrupted)
}

/// A host's totals (also when some entries were refused) and error.
fn host_result(r: Joined) -> HostResult {
    match r {
        Ok(Ok(t)) => (Some(t), None),
        Ok(Err(e)) => {
            let why = clean(&e.to_string());
            match e {
                CopyError::Incomplete(t) => (Some(t), Some(why)),
                _ => (None, Some(why)),
            }
        }
        Err(e) => (None, Some(format!("internal error: {e}"))),
    }
}

/// One host's totals (when it copied anything) and its error, if it failed.
type HostResult = (Option<Totals>, Option<String>);

/// One line per host for people (failures and notes on stderr); returns
/// how many hosts failed.
fn report_text(labels: &[String], results: &[HostResult]) -> usize {
    let mut failed = 0;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    for (label, (totals, error)) in labels.iter().zip(results) {
        match (totals, error) {
            (Some(t), None) => {
                let skipped = if t.skipped > 0 {
                    format!(", {} unchanged", t.skipped)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "{label}: {} files, {}{skipped}",
                    t.files,
                    human_bytes(t.bytes)
                );
            }
            (_, Some(e)) => {
                failed += 1;
                let _ = writeln!(err, "{label}: FAILED: {e}");
            }
            (None, None) => {}
        }
        if let Some(t) = totals {
            print_notes(&mut err, label, &t.notes);
        }
    }
    if failed > 0 {
        let _ = writeln!(err, "sshdeck: {failed} of {} hosts failed", labels.len());
    }
    failed
}

/// `--json`: one object per host, then a summary, each on its own line.
fn report_json(labels: &[String], results: &[HostResult], dir: Direction) -> usize {
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    let op = if dir == Direction::Put { "put" } else { "get" };
    for (label, (totals, error)) in labels.iter().zip(results) {
        let mut v = CopyLine::new("host", op);
        v.host = Some(label);
        v.ok = Some(error.is_none());
        if let Some(t) = totals {
            v.files = Some(t.files as u64);
            v.bytes = Some(t.bytes);
            v.unchanged = Some(t.skipped as u64);
            v.notes = Some(t.notes.clone());
        }
        if let Some(e) = error {
            failed += 1;
            v.error = Some(e.clone());
        }
        let _ = writeln!(out, "{}", to_line(&v));
    }
    let mut summary = CopyLine::new("summary", op);
    summary.hosts = Some(labels.len());
    summary.failed = Some(failed);
    let summary = to_line(&summary);
    let _ = writeln!(out, "{summary}");
    failed
}

/// Notes are not failures (a part file that could not be resumed, a link
/// left out); one line each, after the host's result.
fn print_notes(err: &mut impl Write, label: &str, notes: &[String]) {
    for n in notes {
        let _ = writeln!(err, "{label}: note: {n}");
    }
}

fn draw_progress(
    hosts: &[Arc<HostProgress>],
    hosts_done: &AtomicUsize,
    started: Instant,
    dir: Direction,
) {
    let done: u64 = hosts.iter().map(|h| h.done.load(Ordering::Relaxed)).sum();
    let total: u64 = hosts.iter().map(|h| h.total.load(Ordering::Relaxed)).sum();
    let total = total.max(done);
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let rate = done as f64 / secs;
    let eta = if rate > 0.0 && total > done {
        format!(", ETA {:.0}s", (total - done) as f64 / rate)
    } else {
        String::new()
    };
    let verb = if dir == Direction::Put { "put" } else { "get" };
    eprint!(
        "\r\x1b[K{verb}: {}/{} hosts, {} of {}, {}/s{eta}",
        hosts_done.load(Ordering::Relaxed),
        hosts.len(),
        human_bytes(done),
        human_bytes(total),
        human_bytes(rate as u64)
    );
    let _ = std::io::stderr().flush();
}
