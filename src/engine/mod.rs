//! The SSH engine: no UI code here. Callers add hosts, send commands in and
//! read [`Event`]s out of one channel. Each host is owned by its own tokio
//! task, so a host that hangs or floods only ever blocks itself.

pub mod commands;
pub mod connection;
pub mod error;
pub mod event;
pub mod facts;
pub mod files;
mod host_task;
pub mod link;
pub mod private_file;
pub mod prompt;
pub mod recipe;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

pub use commands::command::ExecOptions;
pub use commands::expect::ExpectRule;
pub use commands::outcome::HostOutcome;
pub use commands::shell::{ShellHandle, ShellSpec};
pub use connection::known_hosts::KnownHosts;
pub use connection::ssh::display_addr;
pub use connection::target::{AgentChoice, HostKeyPolicy, HostOptions, Target};
pub use connection::trust::TrustStore;
pub use error::HostError;
pub use event::{Event, EventKind, ExitStatus, HostId, JobId};
pub use link::HostLink;
pub use prompt::{Answer, HostKeyDecision, Prompt, Prompter, Question};

use host_task::{HostCmd, Shared};

/// Engine-wide settings; per-host ones live in [`HostOptions`].
pub struct EngineConfig {
    /// known_hosts files for hosts that do not name their own.
    pub known_hosts: Vec<PathBuf>,
    pub policy: HostKeyPolicy,
    /// Identity files offered after each host's own.
    pub identities: Vec<PathBuf>,
    /// Keys held only in memory (the demo's ephemeral key), offered first.
    pub memory_keys: Vec<Arc<russh::keys::PrivateKey>>,
    /// ssh-agent socket whose keys are tried first; usually `$SSH_AUTH_SOCK`.
    pub agent: Option<PathBuf>,
    /// Who answers questions; [`Prompter::batch`] for none.
    pub prompter: Prompter,
    pub connect_timeout: Duration,
    /// Most handshakes in flight at once (OpenSSH's MaxStartups defaults to 10:30:100).
    pub max_connecting: usize,
    /// Send a keepalive after this much silence, unless a host sets its own.
    pub keepalive: Option<Duration>,
    /// Events buffered before producers wait. Bounds memory under a flood:
    /// an output event carries up to 32 KiB, so 256 of them cap the queue
    /// near 8 MiB however many hosts flood at once.
    pub event_buffer: usize,
    /// Prompts answered with named secrets (config `[[expect]]`).
    pub expect: Vec<ExpectRule>,
}

impl EngineConfig {
    pub fn new(known_hosts: Vec<PathBuf>, identities: Vec<PathBuf>) -> Self {
        EngineConfig {
            known_hosts,
            policy: HostKeyPolicy::Ask,
            identities,
            memory_keys: Vec::new(),
            agent: std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from),
            prompter: Prompter::batch(),
            connect_timeout: Duration::from_secs(10),
            max_connecting: 64,
            keepalive: Some(Duration::from_secs(30)),
            event_buffer: 256,
            expect: Vec::new(),
        }
    }
}

struct HostSlot {
    target: Target,
    cmds: mpsc::UnboundedSender<HostCmd>,
}

pub struct Engine {
    shared: Arc<Shared>,
    hosts: Vec<HostSlot>,
    next_job: u64,
    jobs: HashMap<JobId, CancellationToken>,
}

impl Engine {
    /// Must be called inside a tokio runtime. Returns the engine and the
    /// receiver of every event it will produce.
    pub fn new(cfg: EngineConfig) -> (Engine, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(cfg.event_buffer.max(1));
        let expect = commands::answer::ExpectCtx {
            rules: Arc::from(cfg.expect),
            secrets: Arc::new(commands::secrets::Secrets::new(cfg.prompter.clone())),
        };
        let shared = Arc::new(Shared {
            ctx: connection::ssh::ConnectContext {
                russh: host_task::russh_config(cfg.keepalive),
                trust: Arc::new(TrustStore::new(cfg.known_hosts)),
                auth: connection::auth::AuthShared::new(
                    cfg.identities,
                    cfg.memory_keys,
                    cfg.agent,
                    cfg.prompter,
                ),
                policy: cfg.policy,
                connect_timeout: cfg.connect_timeout,
            },
            connect_slots: Semaphore::new(cfg.max_connecting.max(1)),
            events: tx,
            expect,
        });
        let engine = Engine {
            shared,
            hosts: Vec::new(),
            // JobId(0) is reserved for host-level events (Disconnected).
            next_job: 1,
            jobs: HashMap::new(),
        };
        (engine, rx)
    }

    pub fn add_host(&mut self, target: Target) -> HostId {
        let id = HostId(self.hosts.len());
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(host_task::run(id, target.clone(), self.shared.clone(), rx));
        self.hosts.push(HostSlot { target, cmds: tx });
        id
    }

    pub fn target(&self, id: HostId) -> Option<&Target> {
        self.hosts.get(id.0).map(|h| &h.target)
    }

    pub fn trust(&self) -> &TrustStore {
        &self.shared.ctx.trust
    }

    /// Start `command` on every host in `hosts`. Each host reports its own
    /// terminal event (Exit or Failed) for the returned job.
    pub fn exec(&mut self, hosts: &[HostId], command: &str, opts: &ExecOptions) -> JobId {
        let (job, token) = self.new_job();
        let command: Arc<str> = Arc::from(command);
        let opts = Arc::new(opts.clone());
        for id in hosts {
            if let Some(slot) = self.hosts.get(id.0) {
                let _ = slot.cmds.send(HostCmd::Exec {
                    job,
                    command: command.clone(),
                    opts: opts.clone(),
                    cancel: token.child_token(),
                });
            }
        }
        job
    }

    fn new_job(&mut self) -> (JobId, CancellationToken) {
        let job = JobId(self.next_job);
        self.next_job += 1;
        // Forget finished jobs' tokens so a long session does not accumulate them.
        self.jobs.retain(|_, t| !t.is_cancelled());
        let token = CancellationToken::new();
        self.jobs.insert(job, token.clone());
        (job, token)
    }

    /// Open an interactive shell on `host`. Its output arrives as `Stdout`
    /// events of the returned handle's job, then one Exit or Failed.
    pub fn open_shell(&mut self, host: HostId, spec: ShellSpec) -> ShellHandle {
        let (job, token) = self.new_job();
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = ShellHandle {
            job,
            host,
            tx: tx.clone(),
        };
        if let Some(slot) = self.hosts.get(host.0) {
            let _ = slot.cmds.send(HostCmd::Shell {
                job,
                spec,
                input: (tx, rx),
                cancel: token,
            });
        }
        handle
    }

    /// Set a named secret for expect rules without asking (e.g. from a
    /// password manager the caller already queried).
    pub async fn set_secret(&self, name: &str, value: prompt::Secret) {
        self.shared.expect.secrets.insert(name, value).await;
    }

    /// A cloneable handle on the host's task (SFTP, helper commands).
    pub fn link(&self, host: HostId) -> HostLink {
        match self.hosts.get(host.0) {
            Some(h) => HostLink::new(h.target.label.clone(), h.cmds.clone()),
            None => {
                // An unknown id gets a link whose task is gone: every call
                // reports the host as disconnected.
                let (tx, _) = mpsc::unbounded_channel();
                HostLink::new(format!("host #{}", host.0), tx)
            }
        }
    }

    /// The host's SFTP session, connecting first if needed.
    pub fn sftp(
        &self,
        host: HostId,
    ) -> impl std::future::Future<Output = Result<Arc<files::sftp::Sftp>, HostError>> + use<> {
        self.link(host).sftp()
    }

    /// Run a short helper command (not shown as a job) and collect its
    /// exit status and stdout.
    pub fn capture(
        &self,
        host: HostId,
        command: &str,
    ) -> impl std::future::Future<Output = Result<link::Captured, HostError>> + use<> {
        self.link(host).capture(command.to_string())
    }

    /// A [`files::transfer::RemoteHasher`] for `host`: runs a SHA-256 tool there.
    /// Returns `None` for hosts without it, and transfers fall back to
    /// checking sizes only.
    pub fn remote_hasher(
        &self,
        host: HostId,
    ) -> impl Fn(
        String,
        Option<std::ops::Range<u64>>,
    ) -> futures::future::BoxFuture<'static, Option<String>>
    + Sync
    + Send
    + use<> {
        self.link(host).hasher()
    }

    /// Stop a job on every host: its channels are closed and each host
    /// reports `Failed(Cancelled)` unless it had already finished.
    pub fn cancel(&mut self, job: JobId) {
        if let Some(t) = self.jobs.remove(&job) {
            t.cancel();
        }
    }
}
