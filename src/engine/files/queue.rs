//! The background transfer queue (a scheduler in the manner of yazi's):
//! jobs wait their turn, run on every host of theirs at once, report
//! progress a few times a second, and can be paused, resumed (from their
//! part files and ledgers) or cancelled. Callers see only [`JobView`]
//! snapshots, so a UI never reads shared counters itself.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::files::copy_job::{self, CopyError, CopySpec, Direction, HostProgress};
use crate::engine::files::move_sources::{self, Removal, copied_everywhere};
pub use crate::engine::files::relay::Relay;
use crate::engine::files::tree::{Copied, Ledger, Totals};
use crate::engine::link::HostLink;

pub type TransferId = u64;

/// Jobs running at once; the rest wait. Each job already runs all of its
/// hosts in parallel with several files each.
pub const MAX_ACTIVE: usize = 2;
/// How often running jobs report progress.
const TICK: Duration = Duration::from_millis(250);

pub struct QueueJob {
    /// Shown in the transfers panel ("put app.tar → /srv").
    pub title: String,
    pub spec: CopySpec,
    /// Put: the destinations. Get: the sources.
    pub hosts: Vec<HostLink>,
    /// Move instead of copy: sources are deleted once copied and verified
    /// (put: a file once every host has it; get: on each host, what came
    /// from it), and only if they have not changed since.
    pub remove_sources: bool,
    /// A host-to-host copy: the sources are on this host. They are first
    /// fetched (verified) into a private spool here, then put from it to
    /// `hosts` like any put; the spool goes once every host has them.
    pub relay: Option<Relay>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Paused,
    Done,
    /// Some hosts failed (see their results).
    Failed,
    Cancelled,
}

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostView {
    pub label: String,
    pub done: u64,
    pub total: u64,
    pub files_started: usize,
    pub current: String,
    /// None while queued or running.
    pub result: Option<Result<Totals, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobView {
    pub id: TransferId,
    pub title: String,
    pub dir: Direction,
    pub dest: String,
    pub state: JobState,
    /// Time spent running (pauses excluded): rate = done / active.
    pub active: Duration,
    pub hosts: Vec<HostView>,
    /// Problems after the copy itself (removing moved sources).
    pub note: Option<String>,
}

enum Cmd {
    Submit(TransferId, Box<QueueJob>),
    Pause(TransferId),
    Resume(TransferId),
    Cancel(TransferId),
    Forget(TransferId),
    Finished(TransferId, Vec<Option<Result<Totals, CopyError>>>),
}

pub struct TransferQueue {
    cmds: mpsc::UnboundedSender<Cmd>,
    next: std::sync::atomic::AtomicU64,
}

impl TransferQueue {
    /// Must be called inside a tokio runtime.
    pub fn new() -> (TransferQueue, mpsc::UnboundedReceiver<JobView>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (vtx, vrx) = mpsc::unbounded_channel();
        tokio::spawn(actor(rx, tx.clone(), vtx));
        let q = TransferQueue {
            cmds: tx,
            next: std::sync::atomic::AtomicU64::new(1),
        };
        (q, vrx)
    }

    pub fn submit(&self, job: QueueJob) -> TransferId {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let _ = self.cmds.send(Cmd::Submit(id, Box::new(job)));
        id
    }

    pub fn pause(&self, id: TransferId) {
        let _ = self.cmds.send(Cmd::Pause(id));
    }

    /// Resume a paused or cancelled job (from its part files and spool),
    /// or retry the failed hosts of a failed one.
    pub fn resume(&self, id: TransferId) {
        let _ = self.cmds.send(Cmd::Resume(id));
    }

    /// Stop a job; its part files and spool stay, so [`Self::resume`]
    /// continues from them.
    pub fn cancel(&self, id: TransferId) {
        let _ = self.cmds.send(Cmd::Cancel(id));
    }

    /// Drop a finished job: it can no longer be resumed, so what was kept
    /// for resuming it (a host-to-host copy's spool) goes.
    pub fn forget(&self, id: TransferId) {
        let _ = self.cmds.send(Cmd::Forget(id));
    }
}

struct QueueSlot {
    job: Arc<QueueJob>,
    state: JobState,
    progress: Vec<Arc<HostProgress>>,
    ledgers: Vec<Arc<Ledger>>,
    results: Vec<Option<Result<Totals, String>>>,
    cancel: CancellationToken,
    active: Duration,
    since: Option<Instant>,
    note: Option<String>,
    /// The user asked to cancel (as opposed to pause) the running copy.
    cancelling: bool,
    /// A run's task has not reported back yet; a resumed job waits for it.
    in_flight: bool,
    /// Bytes each host had shown when its last run stopped. A new run
    /// counts from zero while it proves its part files (hashing can take a
    /// while), so the view shows no less than this meanwhile: progress
    /// never jumps back to 0% on resume or retry.
    floor: Vec<u64>,
    /// Cleared by the user while its run was still stopping.
    forgotten: bool,
}

impl QueueSlot {
    fn view(&self, id: TransferId) -> JobView {
        let active = self.active + self.since.map_or(Duration::ZERO, |s| s.elapsed());
        let hosts = self
            .job
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| HostView {
                label: h.label.clone(),
                done: self.progress[i]
                    .done
                    .load(Ordering::Relaxed)
                    .max(self.floor[i]),
                total: self.progress[i].total.load(Ordering::Relaxed),
                files_started: self.progress[i].files_started.load(Ordering::Relaxed),
                current: self.progress[i].current_file(),
                result: self.results[i].clone(),
            })
            .collect();
        JobView {
            id,
            title: self.job.title.clone(),
            dir: self.job.spec.dir,
            dest: self.job.spec.dest.clone(),
            state: self.state,
            active,
            hosts,
            note: self.note.clone(),
        }
    }

    /// A new job, queued, nothing done yet.
    fn new(job: QueueJob) -> QueueSlot {
        let n = job.hosts.len();
        QueueSlot {
            job: Arc::new(job),
            state: JobState::Queued,
            progress: (0..n).map(|_| Arc::default()).collect(),
            ledgers: (0..n).map(|_| Arc::default()).collect(),
            results: vec![None; n],
            cancel: CancellationToken::new(),
            active: Duration::ZERO,
            since: None,
            note: None,
            cancelling: false,
            in_flight: false,
            floor: vec![0; n],
            forgotten: false,
        }
    }

    /// Pause a running or queued job; whether it changed.
    fn pause(&mut self) -> bool {
        match self.state {
            JobState::Running => {
                self.cancel.cancel();
                self.state = JobState::Paused;
                self.stop_clock();
                true
            }
            JobState::Queued => {
                self.state = JobState::Paused;
                true
            }
            _ => false,
        }
    }

    /// Queue a paused, cancelled or failed job again; whether it changed.
    fn resume(&mut self) -> bool {
        match self.state {
            JobState::Paused => {
                self.state = JobState::Queued;
                true
            }
            JobState::Cancelled => {
                // Its stopped hosts have no result: they run again,
                // resuming their part files (and the kept spool).
                self.cancelling = false;
                self.state = JobState::Queued;
                true
            }
            JobState::Failed => {
                // Retry the failed hosts only.
                for r in &mut self.results {
                    if matches!(r, Some(Err(_))) {
                        *r = None;
                    }
                }
                self.note = None;
                self.state = JobState::Queued;
                true
            }
            _ => false,
        }
    }

    /// Cancel an unfinished job; whether it changed.
    fn cancel_job(&mut self) -> bool {
        if self.state.is_finished() {
            return false;
        }
        self.cancelling = true;
        self.cancel.cancel();
        self.stop_clock();
        self.state = JobState::Cancelled;
        // The spool and part files stay: the job can be resumed until it
        // is forgotten (cleared from the panel).
        true
    }

    fn stop_clock(&mut self) {
        if let Some(s) = self.since.take() {
            self.active += s.elapsed();
        }
    }
}

async fn actor(
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    tx: mpsc::UnboundedSender<Cmd>,
    views: mpsc::UnboundedSender<JobView>,
) {
    let mut slots: BTreeMap<TransferId, QueueSlot> = BTreeMap::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let cmd = tokio::select! {
            c = rx.recv() => match c {
                Some(c) => c,
                None => return,
            },
            _ = tick.tick() => {
                for (id, s) in &slots {
                    if s.state == JobState::Running && views.send(s.view(*id)).is_err() {
                        return;
                    }
                }
                continue;
            }
        };
        let changed = match cmd {
            Cmd::Submit(id, job) => {
                slots.insert(id, QueueSlot::new(*job));
                Some(id)
            }
            Cmd::Pause(id) => slots.get_mut(&id).and_then(|s| s.pause().then_some(id)),
            Cmd::Resume(id) => slots.get_mut(&id).and_then(|s| s.resume().then_some(id)),
            Cmd::Cancel(id) => slots
                .get_mut(&id)
                .and_then(|s| s.cancel_job().then_some(id)),
            Cmd::Forget(id) => {
                if let Some(s) = slots.get_mut(&id).filter(|s| s.state.is_finished()) {
                    if s.in_flight {
                        // A cancelled run still winding down may write its
                        // part files yet: clean up once it has stopped.
                        s.forgotten = true;
                    } else if let Some(s) = slots.remove(&id) {
                        clean_up(s);
                    }
                }
                None
            }
            Cmd::Finished(id, results) => match slots.get_mut(&id) {
                Some(s) if s.forgotten => {
                    // Cleared from the panel: no view brings it back.
                    s.in_flight = false;
                    if let Some(s) = slots.remove(&id) {
                        clean_up(s);
                    }
                    None
                }
                Some(s) => {
                    finish(s, results).await;
                    Some(id)
                }
                None => None,
            },
        };
        if let Some(id) = changed
            && let Some(s) = slots.get(&id)
            && views.send(s.view(id)).is_err()
        {
            return;
        }
        start_ready(&mut slots, &tx, &views);
    }
}

/// Start queued jobs while there is room, oldest first.
fn start_ready(
    slots: &mut BTreeMap<TransferId, QueueSlot>,
    tx: &mpsc::UnboundedSender<Cmd>,
    views: &mpsc::UnboundedSender<JobView>,
) {
    let running = slots
        .values()
        .filter(|s| s.state == JobState::Running)
        .count();
    let ready: Vec<TransferId> = slots
        .iter()
        .filter(|(_, s)| s.state == JobState::Queued && !s.in_flight)
        .map(|(id, _)| *id)
        .take(MAX_ACTIVE.saturating_sub(running))
        .collect();
    for id in ready {
        if let Some(s) = slots.get_mut(&id) {
            start(id, s, tx.clone());
            let _ = views.send(s.view(id));
        }
    }
}

fn start(id: TransferId, s: &mut QueueSlot, tx: mpsc::UnboundedSender<Cmd>) {
    for (floor, p) in s.floor.iter_mut().zip(&s.progress) {
        *floor = (*floor).max(p.done.load(Ordering::Relaxed));
    }
    s.state = JobState::Running;
    s.in_flight = true;
    s.cancel = CancellationToken::new();
    s.since = Some(Instant::now());
    let run = JobRun {
        job: s.job.clone(),
        todo: s.results.iter().map(Option::is_none).collect(),
        progress: s.progress.clone(),
        ledgers: s.ledgers.clone(),
        cancel: s.cancel.clone(),
    };
    tokio::spawn(async move {
        let results = run.copy().await;
        let _ = tx.send(Cmd::Finished(id, results));
    });
}

/// What each host of a run ended with (`None`: not part of this run).
type HostResults = Vec<Option<Result<Totals, CopyError>>>;

/// One run of a job, on a task of its own.
struct JobRun {
    job: Arc<QueueJob>,
    /// The hosts without a result yet: those this run copies to.
    todo: Vec<bool>,
    progress: Vec<Arc<HostProgress>>,
    ledgers: Vec<Arc<Ledger>>,
    cancel: CancellationToken,
}

impl JobRun {
    /// The whole run: the fetch of a host-to-host copy first, then the
    /// local scans, then every host at once.
    async fn copy(self) -> HostResults {
        let (spec, fetched_notes) = match self.fetch_first().await {
            Ok(fetched) => fetched,
            Err(results) => return results,
        };
        let spec = Arc::new(spec);
        let prep = spec.clone();
        let scans = tokio::task::spawn_blocking(move || copy_job::prepare(&prep)).await;
        let scans = scans.unwrap_or_else(|e| {
            Err(crate::engine::files::transfer::TransferError::Local {
                path: PathBuf::from("."),
                cause: format!("scanning failed: {e}"),
            })
        });
        let scans: Arc<copy_job::Prepared> = match scans {
            Ok(s) => Arc::new(s),
            Err(e) => {
                // A local source that cannot be read fails every host it was for.
                return self.fail_all(|| CopyError::Transfer(e.clone()));
            }
        };
        self.copy_to_hosts(spec, scans, fetched_notes).await
    }

    /// The spec to copy with, and what the fetch had to say. A host-to-host
    /// copy fetches first; a failure there fails every destination with
    /// its cause, and the spool keeps what came. What the fetch had to say
    /// (links left out on A's side) is told with every destination's
    /// result.
    async fn fetch_first(&self) -> Result<(CopySpec, Vec<String>), HostResults> {
        let job = &self.job;
        let Some(relay) = &job.relay else {
            return Ok((job.spec.clone(), Vec::new()));
        };
        match fetch(relay, &job.spec, &self.progress, &self.todo, &self.cancel).await {
            Ok(notes) => Ok((relay.put_spec(&job.spec), notes)),
            Err(e) => {
                let why = relay.shown(&e.to_string());
                let cancelled = e.is_cancelled();
                Err(self.fail_all(|| {
                    if cancelled {
                        CopyError::Transfer(
                            crate::engine::files::transfer::TransferError::Cancelled,
                        )
                    } else {
                        CopyError::Transfer(crate::engine::files::transfer::TransferError::Local {
                            path: relay.spool.clone(),
                            cause: format!("fetching from {}: {why}", relay.from.label),
                        })
                    }
                }))
            }
        }
    }

    /// The same error for every host of this run.
    fn fail_all(&self, error: impl Fn() -> CopyError) -> HostResults {
        self.todo.iter().map(|&t| t.then(|| Err(error()))).collect()
    }

    /// Copy to every host of this run at once, each result carrying the
    /// fetch's notes first.
    async fn copy_to_hosts(
        &self,
        spec: Arc<CopySpec>,
        scans: Arc<copy_job::Prepared>,
        fetched_notes: Vec<String>,
    ) -> HostResults {
        let runs = self.job.hosts.iter().enumerate().map(|(i, link)| {
            let (spec, scans, cancel) = (spec.clone(), scans.clone(), self.cancel.clone());
            let (progress, ledger) = (self.progress[i].clone(), self.ledgers[i].clone());
            let run = self.todo[i];
            let link = link.clone();
            let fetched_notes = fetched_notes.clone();
            async move {
                if !run {
                    return None;
                }
                let mut r =
                    copy_job::host_copy(&link, &spec, &scans, &progress, &ledger, &cancel).await;
                match &mut r {
                    Ok(t) | Err(CopyError::Incomplete(t)) => {
                        t.notes.splice(0..0, fetched_notes.iter().cloned());
                    }
                    Err(_) => {}
                }
                Some(r)
            }
        });
        futures::future::join_all(runs).await
    }
}

/// The fetch half of a host-to-host copy: the sources from the relay host
/// into the spool, verified as any get. Every destination's progress shows
/// it meanwhile ("from HOST: file"), so the panel never sits at zero.
async fn fetch(
    relay: &Relay,
    spec: &CopySpec,
    progress: &[Arc<HostProgress>],
    todo: &[bool],
    cancel: &CancellationToken,
) -> Result<Vec<String>, CopyError> {
    let get = relay.get_spec(spec);
    let fetching = Arc::new(HostProgress::default());
    let ledger = Ledger::default();
    let prepared = copy_job::Prepared::default();
    let mirror = {
        let (fetching, progress) = (fetching.clone(), progress.to_vec());
        let todo = todo.to_vec();
        let from = relay.from.label.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let (done, total) = (
                    fetching.done.load(Ordering::Relaxed),
                    fetching.total.load(Ordering::Relaxed),
                );
                let current = format!("from {from}: {}", fetching.current_file());
                for (p, _) in progress.iter().zip(&todo).filter(|(_, t)| **t) {
                    p.done.store(done, Ordering::Relaxed);
                    p.total.store(total, Ordering::Relaxed);
                    if let Ok(mut c) = p.current.lock() {
                        c.clone_from(&current);
                    }
                }
            }
        })
    };
    // What an earlier attempt left is checked against the host first.
    let r = match relay.check_spool().await {
        Ok(()) => {
            copy_job::host_copy(&relay.from, &get, &prepared, &fetching, &ledger, cancel).await
        }
        Err(e) => Err(e),
    };
    mirror.abort();
    Ok(r?.notes)
}

/// A forgotten job can never be resumed: remove what was kept for that,
/// the part files on the hosts that did not finish (a put's) and a
/// host-to-host copy's spool. In the background: the actor goes on.
fn clean_up(s: QueueSlot) {
    let unfinished: Vec<HostLink> = s
        .job
        .hosts
        .iter()
        .zip(&s.results)
        .filter(|(_, r)| !matches!(r, Some(Ok(_))))
        .map(|(h, _)| h.clone())
        .collect();
    let job = s.job;
    tokio::spawn(async move {
        if job.spec.dir == Direction::Put && !unfinished.is_empty() {
            // What the put reads: for a relay, the spool (still there).
            let spec = match &job.relay {
                Some(relay) => relay.put_spec(&job.spec),
                None => job.spec.clone(),
            };
            let scan = spec.clone();
            let parts = tokio::task::spawn_blocking(move || {
                copy_job::prepare(&scan)
                    .map(|p| crate::engine::files::part_files::put_parts(&scan, &p))
                    .unwrap_or_default()
            })
            .await
            .unwrap_or_default();
            if !parts.is_empty() {
                for link in &unfinished {
                    crate::engine::files::part_files::remove_remote(link, &parts).await;
                }
            }
        }
        if let Some(relay) = &job.relay {
            let _ = relay.discard().await;
        }
    });
}

/// Record a run's results; for a move, delete the sources that were
/// copied everywhere.
async fn finish(s: &mut QueueSlot, results: Vec<Option<Result<Totals, CopyError>>>) {
    s.in_flight = false;
    // Paused or cancelled (or already resumed): hosts stopped with
    // "cancelled" are not done and run again on resume.
    let paused = matches!(s.state, JobState::Paused | JobState::Queued);
    let stopped = paused || s.cancelling;
    // A relay's put reads the spool through a path of its own (see
    // `Relay::put_spec`): the user is shown the spool's real path.
    let shown = |text: String| match &s.job.relay {
        Some(relay) => relay.shown(&text),
        None => text,
    };
    for (slot, r) in s.results.iter_mut().zip(results) {
        match r {
            Some(Ok(mut t)) => {
                t.notes = t.notes.into_iter().map(shown).collect();
                *slot = Some(Ok(t));
            }
            Some(Err(e)) if e.is_cancelled() && stopped => {}
            Some(Err(e)) => *slot = Some(Err(shown(e.to_string()))),
            None => {}
        }
    }
    if paused {
        return;
    }
    s.stop_clock();
    if s.cancelling {
        // The spool and part files stay for a resume; forgetting the job
        // removes the spool.
        s.state = JobState::Cancelled;
        return;
    }
    let all_ok = s.results.iter().all(|r| matches!(r, Some(Ok(_))));
    s.state = if all_ok {
        JobState::Done
    } else {
        JobState::Failed
    };
    // Every destination has it: the spool has served. (A failed job keeps
    // it, so a retry resumes from what was fetched.)
    if all_ok && let Some(relay) = &s.job.relay {
        let _ = relay.discard().await;
    }
    if s.job.remove_sources {
        s.note = remove_sources(s).await;
    }
}

/// Delete, for a move, exactly the sources that were copied and are
/// unchanged since (see [`crate::engine::files::move_sources`]).
async fn remove_sources(s: &QueueSlot) -> Option<String> {
    let mut removal = Removal::default();
    let mut errors = Vec::new();
    let ledgers: Vec<Vec<Copied>> = s.ledgers.iter().map(|l| l.copied()).collect();
    match s.job.spec.dir {
        Direction::Put => {
            let (everywhere, kept) = copied_everywhere(&ledgers);
            removal = tokio::task::spawn_blocking(move || move_sources::remove_local(&everywhere))
                .await
                .unwrap_or_default();
            removal.kept.extend(kept);
        }
        Direction::Get => {
            for (link, copied) in s.job.hosts.iter().zip(&ledgers) {
                if copied.is_empty() {
                    continue;
                }
                match link.sftp().await {
                    Ok(sftp) => {
                        let r = move_sources::remove_remote(&sftp, copied).await;
                        removal.removed += r.removed;
                        removal.kept.extend(r.kept);
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
    }
    errors.extend(removal.kept);
    (!errors.is_empty()).then(|| {
        format!(
            "moved {} item(s); not removed: {}",
            removal.removed,
            errors.join("; ")
        )
    })
}
