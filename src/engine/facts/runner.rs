//! Running collectors on hosts: once (`sshdeck facts`) or when a host
//! connects and again every interval (the TUI). Each host's collectors run
//! in their own tasks, so a hanging collector delays nothing but itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Collector, FactError, Facts, collect};
use crate::engine::HostId;
use crate::engine::link::HostLink;

/// Collectors of one host running at once. sshd allows 10 sessions per
/// connection (MaxSessions); shells, commands and SFTP need the rest.
const PER_HOST: usize = 3;

/// Collectors running at once over all hosts. 10,000 hosts connecting
/// together would otherwise open 30,000 collector channels in the same
/// second, all competing with the handshakes still under way; paced, the
/// first hosts' facts arrive while the rest connect. The semaphore is
/// fair, so hosts are served in the order they asked.
const AT_ONCE: usize = 256;

/// A collector with its schedule resolved.
#[derive(Clone)]
pub struct Scheduled {
    pub collector: Arc<dyn Collector>,
    pub interval: Duration,
    pub timeout: Duration,
}

impl Scheduled {
    pub fn new(collector: Arc<dyn Collector>, interval: Duration, timeout: Duration) -> Self {
        Scheduled {
            interval: collector.interval().unwrap_or(interval),
            timeout: collector.timeout().unwrap_or(timeout),
            collector,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FactsReport {
    pub host: HostId,
    pub collector: String,
    pub result: Result<Facts, FactError>,
    pub elapsed: Duration,
}

pub struct FactsRunner {
    collectors: Arc<[Scheduled]>,
    tx: mpsc::UnboundedSender<FactsReport>,
    watching: HashMap<HostId, CancellationToken>,
    root: CancellationToken,
    /// Shared by every host's collectors (see [`AT_ONCE`]).
    paced: Arc<Semaphore>,
}

impl FactsRunner {
    /// Reports come out of the returned receiver, one per collector run.
    pub fn new(collectors: Vec<Scheduled>) -> (FactsRunner, mpsc::UnboundedReceiver<FactsReport>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let runner = FactsRunner {
            collectors: collectors.into(),
            tx,
            watching: HashMap::new(),
            root: CancellationToken::new(),
            paced: Arc::new(Semaphore::new(AT_ONCE)),
        };
        (runner, rx)
    }

    pub fn is_empty(&self) -> bool {
        self.collectors.is_empty()
    }

    pub fn names(&self) -> Vec<String> {
        self.collectors
            .iter()
            .map(|s| s.collector.name().to_string())
            .collect()
    }

    /// Collect on `host` now and then every interval, until [`Self::stop`].
    /// Watching a host already watched does nothing.
    pub fn watch(&mut self, host: HostId, link: HostLink) {
        if self.watching.contains_key(&host) || self.collectors.is_empty() {
            return;
        }
        let token = self.root.child_token();
        self.watching.insert(host, token.clone());
        tokio::spawn(run_host(
            host,
            link,
            self.collectors.clone(),
            self.tx.clone(),
            true,
            token,
            self.paced.clone(),
        ));
    }

    pub fn is_watching(&self, host: HostId) -> bool {
        self.watching.contains_key(&host)
    }

    /// Collect everything on `host` once, now.
    pub fn once(&self, host: HostId, link: HostLink) {
        tokio::spawn(run_host(
            host,
            link,
            self.collectors.clone(),
            self.tx.clone(),
            false,
            self.root.child_token(),
            self.paced.clone(),
        ));
    }

    pub fn stop(&mut self, host: HostId) {
        if let Some(t) = self.watching.remove(&host) {
            t.cancel();
        }
    }
}

impl Drop for FactsRunner {
    fn drop(&mut self) {
        self.root.cancel();
    }
}

async fn run_host(
    host: HostId,
    link: HostLink,
    collectors: Arc<[Scheduled]>,
    tx: mpsc::UnboundedSender<FactsReport>,
    repeat: bool,
    cancel: CancellationToken,
    paced: Arc<Semaphore>,
) {
    let slots = Arc::new(Semaphore::new(PER_HOST));
    let mut tasks = tokio::task::JoinSet::new();
    for s in collectors.iter().cloned() {
        let (link, tx, slots, cancel) = (link.clone(), tx.clone(), slots.clone(), cancel.clone());
        let paced = paced.clone();
        tasks.spawn(async move {
            loop {
                let report = tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = run_one(host, &link, &s, &slots, &paced) => r,
                };
                if tx.send(report).is_err() || !repeat {
                    return;
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(s.interval) => {}
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn run_one(
    host: HostId,
    link: &HostLink,
    s: &Scheduled,
    slots: &Semaphore,
    paced: &Semaphore,
) -> FactsReport {
    // The host's own slot first: waiting for it must not hold a shared one.
    let _slot = slots.acquire().await;
    let _turn = paced.acquire().await;
    let started = Instant::now();
    let result = collect(link, s.collector.as_ref(), s.timeout).await;
    if let Err(e) = &result {
        tracing::debug!(host = %link.label, collector = s.collector.name(), error = %e, "facts failed");
    }
    FactsReport {
        host,
        collector: s.collector.name().to_string(),
        result,
        elapsed: started.elapsed(),
    }
}
