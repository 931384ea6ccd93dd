//! The task that owns one host's connection. Commands arrive on its queue;
//! it connects on first use, reuses the connection for later commands (one
//! channel each), notices when the transport dies (keepalives), and
//! reconnects on the next use with exponential backoff.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::commands::answer::{Answerer, ExpectCtx};
use super::commands::command::ExecOptions;
use super::commands::exec::ExecRun;
use super::commands::expect::ExpectRule;
use super::commands::record::{self, Asciicast, ExecLog};
use super::commands::shell::{ShellInput, ShellRun, ShellSpec};
use super::connection::ssh::{ConnectContext, Connection, connect, display_addr, map_russh_error};
use super::connection::target::Target;
use super::error::HostError;
use super::event::{Event, EventKind, ExitStatus, HostId, JobId};
use super::files::sftp::Sftp;

pub(crate) enum HostCmd {
    Exec {
        job: JobId,
        /// What the user typed, for logs.
        command: Arc<str>,
        opts: Arc<ExecOptions>,
        cancel: CancellationToken,
    },
    /// Open an interactive shell; input arrives on `input`.
    Shell {
        job: JobId,
        spec: ShellSpec,
        input: (
            mpsc::UnboundedSender<ShellInput>,
            mpsc::UnboundedReceiver<ShellInput>,
        ),
        cancel: CancellationToken,
    },
    /// Hand out the host's SFTP session (opened on first use).
    Sftp {
        reply: oneshot::Sender<Result<Arc<Sftp>, HostError>>,
    },
    /// Run a short command and return its exit status and stdout.
    Capture {
        command: String,
        /// Stop the command after this long.
        timeout: Option<Duration>,
        /// Stop it when this is cancelled.
        cancel: CancellationToken,
        reply: oneshot::Sender<Result<Captured, HostError>>,
    },
}

pub(crate) struct Shared {
    pub ctx: ConnectContext,
    /// Caps simultaneous handshakes so a 1,000-host fan-out does not trip
    /// sshd's MaxStartups or exhaust file descriptors.
    pub connect_slots: Semaphore,
    pub events: mpsc::Sender<Event>,
    /// Expect rules from the config and the session's secrets.
    pub expect: ExpectCtx,
}

/// How often an idle host checks whether its connection is still alive.
/// The check is a flag read; russh's keepalives do the real probing.
const LIVENESS_CHECK: Duration = Duration::from_secs(1);
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Failed attempts so far, to space out reconnects to a host that is down.
#[derive(Default)]
struct Backoff {
    failures: u32,
    last: Option<Instant>,
}

impl Backoff {
    fn wait(&self) -> Duration {
        let Some(last) = self.last else {
            return Duration::ZERO;
        };
        let exp = BACKOFF_FIRST.saturating_mul(1 << self.failures.saturating_sub(1).min(8));
        exp.min(BACKOFF_MAX).saturating_sub(last.elapsed())
    }
}

/// The host task's state: its connection (if any) and how to make one.
struct Worker {
    id: HostId,
    target: Target,
    shared: Arc<Shared>,
    russh_cfg: Arc<russh::client::Config>,
    /// Shared with running commands, which need it to stop themselves.
    conn: Option<Arc<Connection>>,
    /// SFTP session on `conn`, opened on first use and reused.
    sftp: Option<Arc<Sftp>>,
    backoff: Backoff,
}

impl Worker {
    async fn emit(&self, job: JobId, kind: EventKind) {
        let _ = self
            .shared
            .events
            .send(Event {
                host: self.id,
                job,
                kind,
            })
            .await;
    }

    /// The live connection, connecting (with backoff) if there is none.
    async fn ensure(&mut self, job: JobId, cancel: &CancellationToken) -> Result<(), HostError> {
        if self.conn.as_ref().is_none_or(|c| c.is_closed()) {
            self.conn = None;
            self.sftp = None;
            let wait = self.backoff.wait();
            let connect_with_slot = async {
                tokio::time::sleep(wait).await;
                let _permit = self.shared.connect_slots.acquire().await;
                self.emit(job, EventKind::Connecting).await;
                tracing::info!(
                    host = %self.target.label,
                    address = %self.target.host,
                    port = self.target.port,
                    user = %self.target.user,
                    "connecting"
                );
                connect(&self.shared.ctx, &self.target, self.russh_cfg.clone()).await
            };
            let result = tokio::select! {
                _ = cancel.cancelled() => return Err(HostError::Cancelled),
                r = connect_with_slot => r,
            };
            match result {
                Ok(c) => {
                    tracing::info!(host = %self.target.label, "connected");
                    self.backoff = Backoff::default();
                    self.conn = Some(Arc::new(c));
                    self.emit(job, EventKind::Connected).await;
                }
                Err(e) => {
                    tracing::info!(host = %self.target.label, "connection failed: {e}");
                    self.backoff.failures += 1;
                    self.backoff.last = Some(Instant::now());
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn conn(&self) -> Result<&Arc<Connection>, HostError> {
        self.conn.as_ref().ok_or(HostError::Disconnected {
            host: self.target.label.clone(),
        })
    }

    /// Prompt answering for one channel, when any rule applies.
    fn answerer(&self, job: JobId, sudo: bool) -> Option<Answerer> {
        let ctx = &self.shared.expect;
        let has_sudo_rule = ctx.rules.iter().any(|r| r.secret == "sudo");
        if sudo && !has_sudo_rule {
            let mut rules: Vec<ExpectRule> = ctx.rules.to_vec();
            rules.push(ExpectRule::sudo());
            let ctx = ExpectCtx {
                rules: Arc::from(rules),
                secrets: ctx.secrets.clone(),
            };
            return Some(Answerer::new(&ctx, &self.target.label, job));
        }
        // Without rules, still mask secrets given earlier in the session.
        let masking = !ctx.secrets.given().is_empty();
        (!ctx.rules.is_empty() || masking).then(|| Answerer::new(ctx, &self.target.label, job))
    }

    async fn exec(
        &mut self,
        job: JobId,
        command: Arc<str>,
        opts: Arc<ExecOptions>,
        cancel: CancellationToken,
    ) {
        let mut warning = None;
        let log = opts.log_dir.as_ref().and_then(|dir| {
            let path = record::log_path(dir, &self.target.label);
            ExecLog::open(&path)
                .map_err(|e| warning = Some(format!("cannot write {}: {e}", path.display())))
                .ok()
        });
        if let Some(w) = warning {
            self.emit(job, EventKind::Warning(w)).await;
        }
        let run = ExecRun {
            host: self.id,
            job,
            started: Instant::now(),
            timeout: opts.timeout,
            cancel: cancel.clone(),
            events: self.shared.events.clone(),
            host_name: self.target.label.clone(),
            answer: self.answerer(job, opts.sudo),
            log,
            stdin: opts.stdin.clone(),
            pty: opts.pty,
            input: super::commands::exec::Input::Released,
            conn: None,
            group: Default::default(),
        };
        let mut run = run;
        // The command is what the user typed: a private one (leading
        // space) is logged without its text.
        let shown = if super::commands::command::is_private(&command) {
            "(a command typed with a leading space)".to_string()
        } else {
            crate::text::sanitize::clean(&command)
        };

        // The process group is reported first, so a stop can kill it.
        let line = format!(
            "{}{}",
            super::commands::stop::REPORT_GROUP,
            opts.wrap(&command)
        );
        let started = match self.ensure(job, &cancel).await {
            Ok(()) => match self.conn() {
                Ok(c) => {
                    run.conn = Some(c.clone());
                    start_exec(c, &line, opts.pty, &self.target).await
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match started {
            Ok(channel) => {
                tracing::info!(host = %self.target.label, job = job.0, "command started: {shown}");
                tokio::spawn(run.stream(channel));
            }
            Err(e) => {
                // The connection may be half-dead; drop it so the next
                // command starts afresh.
                if !matches!(e, HostError::Cancelled) {
                    self.conn = None;
                }
                run.end_failed(e).await;
            }
        }
    }

    async fn shell(
        &mut self,
        job: JobId,
        spec: ShellSpec,
        input: (
            mpsc::UnboundedSender<ShellInput>,
            mpsc::UnboundedReceiver<ShellInput>,
        ),
        cancel: CancellationToken,
    ) {
        let started = Instant::now();
        let opened = match self.ensure(job, &cancel).await {
            Ok(()) => match self.conn() {
                Ok(c) => start_shell(c, &spec, &self.target).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let channel = match opened {
            Ok(ch) => ch,
            Err(error) => {
                if !matches!(error, HostError::Cancelled) {
                    self.conn = None;
                }
                tracing::info!(host = %self.target.label, "shell not opened: {error}");
                let elapsed = started.elapsed();
                return self.emit(job, EventKind::Failed { error, elapsed }).await;
            }
        };
        tracing::info!(host = %self.target.label, cols = spec.cols, rows = spec.rows, "shell opened");
        let mut cast = None;
        if let Some(dir) = &spec.record_dir {
            let path = record::cast_path(dir, &self.target.label);
            match Asciicast::create(&path, spec.cols, spec.rows, &spec.term, &self.target.label) {
                Ok(c) => cast = Some(c),
                Err(e) => {
                    let w = format!("cannot record to {}: {e}", path.display());
                    self.emit(job, EventKind::Warning(w)).await;
                }
            }
        }
        let run = ShellRun {
            host: self.id,
            job,
            host_name: self.target.label.clone(),
            started,
            events: self.shared.events.clone(),
            cancel,
            answer: self.answerer(job, false),
            cast,
        };
        let (tx, rx) = input;
        tokio::spawn(run.run(channel, tx, rx));
    }

    async fn sftp(&mut self) -> Result<Arc<Sftp>, HostError> {
        let never = CancellationToken::new();
        self.ensure(JobId(0), &never).await?;
        // A session whose channel ended (the server's sftp process died)
        // is replaced; the connection itself may still be fine.
        if let Some(s) = self.sftp.as_ref().filter(|s| !s.is_closed()) {
            return Ok(s.clone());
        }
        let s = Arc::new(Sftp::open(&self.conn()?.handle, &self.target.label).await?);
        self.sftp = Some(s.clone());
        Ok(s)
    }

    /// Start a short command whose output is collected (capped), for
    /// helpers such as remote checksums and facts collectors. The reading
    /// runs in its own task: a command that hangs holds only its channel,
    /// never this host's queue.
    async fn capture(
        &mut self,
        command: &str,
        timeout: Option<Duration>,
        cancel: CancellationToken,
        reply: oneshot::Sender<Result<Captured, HostError>>,
    ) {
        // The process group is reported first, so a stop can kill it.
        let line = format!("{}{command}", super::commands::stop::REPORT_GROUP);
        let mut conn = None;
        let started = match self.ensure(JobId(0), &cancel).await {
            Ok(()) => match self.conn() {
                Ok(c) => {
                    conn = Some(c.clone());
                    start_exec(c, &line, false, &self.target).await
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match started {
            Ok(ch) => {
                // Helpers get no input: one that reads it ends at once.
                let _ = ch.eof().await;
                let host = self.target.label.clone();
                tokio::spawn(async move {
                    let stop = Stop {
                        timeout,
                        cancel,
                        conn,
                        host,
                    };
                    let _ = reply.send(read_captured(ch, stop).await);
                });
            }
            Err(e) => {
                if !matches!(e, HostError::Cancelled) {
                    self.conn = None;
                }
                let _ = reply.send(Err(e));
            }
        }
    }
}

/// A helper command's exit status and output, each stream capped at
/// [`CAPTURE_LIMIT`].
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Captured {
    pub fn success(&self) -> bool {
        self.status.as_ref().is_some_and(ExitStatus::success)
    }
}

/// When and how a captured command is stopped.
struct Stop {
    timeout: Option<Duration>,
    cancel: CancellationToken,
    conn: Option<Arc<Connection>>,
    host: String,
}

async fn read_captured(
    mut ch: russh::Channel<russh::client::Msg>,
    stop: Stop,
) -> Result<Captured, HostError> {
    let mut out = Captured::default();
    let mut group = super::commands::stop::GroupSniffer::default();
    let read = async {
        while let Some(msg) = ch.wait().await {
            match msg {
                russh::ChannelMsg::Data { data } if out.stdout.len() < CAPTURE_LIMIT => {
                    let data = group.feed(data);
                    out.stdout.extend_from_slice(&data)
                }
                russh::ChannelMsg::ExtendedData { data, .. }
                    if out.stderr.len() < CAPTURE_LIMIT =>
                {
                    out.stderr.extend_from_slice(&data)
                }
                russh::ChannelMsg::ExitStatus { exit_status } => {
                    out.status = Some(ExitStatus::Code(exit_status))
                }
                russh::ChannelMsg::ExitSignal {
                    signal_name,
                    core_dumped,
                    ..
                } => {
                    out.status = Some(ExitStatus::Signal {
                        name: super::commands::exec::signal_name_str(&signal_name),
                        core_dumped,
                    })
                }
                russh::ChannelMsg::Close => break,
                _ => {}
            }
        }
    };
    let deadline = async {
        match stop.timeout {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    let cause = tokio::select! {
        _ = read => None,
        _ = deadline => Some(HostError::CommandTimeout { after: stop.timeout.unwrap_or_default() }),
        _ = stop.cancel.cancelled() => Some(HostError::Cancelled),
    };
    let Some(cause) = cause else {
        out.stdout.extend_from_slice(&group.flush());
        return Ok(out);
    };
    // Closing the channel alone leaves a command without a terminal
    // running on the host: it is stopped there.
    let (verdict, _) = super::commands::stop::stop_channel(&mut ch, &mut group, stop.conn).await;
    Err(match verdict {
        Ok(()) => cause,
        Err(why) => HostError::NotStopped {
            cause: Box::new(cause),
            host: stop.host,
            why,
        },
    })
}

/// Most output kept per stream by `capture`; it is for short answers.
const CAPTURE_LIMIT: usize = 1 << 20;

pub(crate) async fn run(
    id: HostId,
    target: Target,
    shared: Arc<Shared>,
    mut cmds: mpsc::UnboundedReceiver<HostCmd>,
) {
    // Share the engine's config unless this host sets its own keepalive,
    // keepalive count or compression.
    let o = &target.opts;
    let russh_cfg =
        if o.keepalive.is_some() || o.keepalive_max.is_some_and(|m| m != 3) || o.compression {
            let keepalive = o.keepalive.or(shared.ctx.russh.keepalive_interval);
            russh_config_with(keepalive, o.keepalive_max.unwrap_or(3), o.compression)
        } else {
            shared.ctx.russh.clone()
        };
    let mut w = Worker {
        id,
        target,
        shared,
        russh_cfg,
        conn: None,
        sftp: None,
        backoff: Backoff::default(),
    };
    let mut liveness = tokio::time::interval(LIVENESS_CHECK);
    liveness.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let cmd = tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(c) => c,
                None => break,
            },
            _ = liveness.tick(), if w.conn.is_some() => {
                if w.conn.as_ref().is_some_and(|c| c.is_closed()) {
                    w.conn = None;
                    w.sftp = None;
                    w.emit(JobId(0), EventKind::Disconnected).await;
                }
                continue;
            }
        };
        match cmd {
            HostCmd::Exec {
                job,
                command,
                opts,
                cancel,
            } => w.exec(job, command, opts, cancel).await,
            HostCmd::Shell {
                job,
                spec,
                input,
                cancel,
            } => w.shell(job, spec, input, cancel).await,
            HostCmd::Sftp { reply } => {
                let _ = reply.send(w.sftp().await);
            }
            HostCmd::Capture {
                command,
                timeout,
                cancel,
                reply,
            } => w.capture(&command, timeout, cancel, reply).await,
        }
    }
    if let Some(c) = w.conn {
        let _ = c
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

pub(crate) fn russh_config(keepalive: Option<Duration>) -> Arc<russh::client::Config> {
    russh_config_with(keepalive, 3, false)
}

/// The client config for keepalives every `keepalive`, giving up after
/// `keepalive_max` unanswered ones (ServerAliveCountMax), and zlib
/// compression offered first when `compress` (ssh's `-C`).
pub(crate) fn russh_config_with(
    keepalive: Option<Duration>,
    keepalive_max: u32,
    compress: bool,
) -> Arc<russh::client::Config> {
    // Offer host-certificate algorithms first, as OpenSSH does; a server
    // without a certificate just uses its plain key.
    let preferred = russh::Preferred {
        host_key_certificates: std::borrow::Cow::Borrowed(&[
            russh::keys::Algorithm::Ed25519,
            russh::keys::Algorithm::Ecdsa {
                curve: russh::keys::EcdsaCurve::NistP256,
            },
            russh::keys::Algorithm::Rsa {
                hash: Some(russh::keys::HashAlg::Sha512),
            },
        ]),
        cipher: std::borrow::Cow::Borrowed(cipher_order()),
        compression: std::borrow::Cow::Borrowed(if compress {
            // OpenSSH's sshd offers only the delayed form by default.
            &[
                russh::compression::ZLIB_LEGACY,
                russh::compression::ZLIB,
                russh::compression::NONE,
            ]
        } else {
            &[russh::compression::NONE]
        }),
        ..Default::default()
    };
    Arc::new(russh::client::Config {
        keepalive_interval: keepalive,
        // Unanswered keepalives that mean the host is gone (OpenSSH's
        // ServerAliveCountMax, 3 by default).
        keepalive_max: keepalive_max as usize,
        nodelay: true,
        // Messages queued per channel before russh stops reading that
        // connection: bounds memory per flooding host (16 x 32 KiB).
        channel_buffer_size: 16,
        preferred,
        ..Default::default()
    })
}

/// Cipher preference. OpenSSH puts chacha20-poly1305 first because it is
/// fast everywhere in software; on CPUs with AES and carry-less multiply
/// instructions AES-GCM costs a fraction of it, and bulk transfers are
/// bound by the client's cipher CPU (1 GiB over SFTP: measured in
/// BENCHMARKS.md). Both are AEAD ciphers OpenSSH enables by default.
fn cipher_order() -> &'static [russh::cipher::Name] {
    use russh::cipher::{
        AES_128_CTR, AES_128_GCM, AES_192_CTR, AES_256_CTR, AES_256_GCM, CHACHA20_POLY1305,
    };
    static AES_FIRST: &[russh::cipher::Name] = &[
        AES_128_GCM,
        AES_256_GCM,
        CHACHA20_POLY1305,
        AES_256_CTR,
        AES_192_CTR,
        AES_128_CTR,
    ];
    static CHACHA_FIRST: &[russh::cipher::Name] = &[
        CHACHA20_POLY1305,
        AES_128_GCM,
        AES_256_GCM,
        AES_256_CTR,
        AES_192_CTR,
        AES_128_CTR,
    ];
    if has_aes_hardware() {
        AES_FIRST
    } else {
        CHACHA_FIRST
    }
}

#[cfg(target_arch = "x86_64")]
fn has_aes_hardware() -> bool {
    std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("pclmulqdq")
}

#[cfg(target_arch = "aarch64")]
fn has_aes_hardware() -> bool {
    std::arch::is_aarch64_feature_detected!("aes")
        && std::arch::is_aarch64_feature_detected!("pmull")
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn has_aes_hardware() -> bool {
    false
}

/// Terminal size given to commands run with a PTY: the classic default,
/// as `ssh -t` from a script would get.
const EXEC_PTY_SIZE: (u32, u32) = (80, 24);

async fn start_exec(
    conn: &Connection,
    command: &str,
    pty: bool,
    target: &Target,
) -> Result<russh::Channel<russh::client::Msg>, HostError> {
    let addr = display_addr(&target.host, target.port);
    let channel = conn
        .handle
        .channel_open_session()
        .await
        .map_err(|e| map_russh_error(&target.label, &addr, e))?;
    if pty {
        // A refusal arrives as ChannelMsg::Failure and is reported by the
        // stream like a refused exec.
        let (cols, rows) = EXEC_PTY_SIZE;
        channel
            .request_pty(true, "xterm-256color", cols, rows, 0, 0, &[])
            .await
            .map_err(|e| map_russh_error(&target.label, &addr, e))?;
    }
    // want_reply=true so a server that refuses exec says so (ChannelMsg::Failure)
    // instead of leaving us waiting for output that never comes.
    channel
        .exec(true, command.as_bytes())
        .await
        .map_err(|e| map_russh_error(&target.label, &addr, e))?;
    Ok(channel)
}

async fn start_shell(
    conn: &Connection,
    spec: &ShellSpec,
    target: &Target,
) -> Result<russh::Channel<russh::client::Msg>, HostError> {
    let addr = display_addr(&target.host, target.port);
    let map = |e| map_russh_error(&target.label, &addr, e);
    let channel = conn.handle.channel_open_session().await.map_err(map)?;
    channel
        .request_pty(
            true,
            &spec.term,
            u32::from(spec.cols),
            u32::from(spec.rows),
            0,
            0,
            &[],
        )
        .await
        .map_err(map)?;
    channel.request_shell(true).await.map_err(map)?;
    Ok(channel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let mut b = Backoff::default();
        assert_eq!(b.wait(), Duration::ZERO);
        b.last = Some(Instant::now());
        b.failures = 1;
        assert!(b.wait() <= BACKOFF_FIRST && b.wait() > BACKOFF_FIRST / 2);
        b.failures = 3;
        assert!(b.wait() > BACKOFF_FIRST * 3);
        b.failures = 30;
        assert!(b.wait() <= BACKOFF_MAX);
    }
}
