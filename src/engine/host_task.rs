//! The task that owns one host's connection. Commands arrive on its queue;
//! it connects on first use, reuses the connection for later commands (one
//! channel each), notices when the transport dies (keepalives), and
//! reconnects on the next use with exponential backoff.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::error::HostError;
use super::event::{Event, EventKind, HostId, JobId};
use super::exec::ExecRun;
use super::ssh::{ConnectContext, Connection, connect, display_addr, map_russh_error};
use super::target::Target;

pub(crate) enum HostCmd {
    Exec {
        job: JobId,
        command: Arc<str>,
        timeout: Option<Duration>,
        cancel: CancellationToken,
    },
}

pub(crate) struct Shared {
    pub ctx: ConnectContext,
    /// Caps simultaneous handshakes so a 1,000-host fan-out does not trip
    /// sshd's MaxStartups or exhaust file descriptors.
    pub connect_slots: Semaphore,
    pub events: mpsc::Sender<Event>,
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

pub(crate) async fn run(
    id: HostId,
    target: Target,
    shared: Arc<Shared>,
    mut cmds: mpsc::UnboundedReceiver<HostCmd>,
) {
    // Share the engine's config unless this host sets its own keepalive.
    let russh_cfg = match target.opts.keepalive {
        Some(k) => russh_config(Some(k)),
        None => shared.ctx.russh.clone(),
    };
    let mut conn: Option<Connection> = None;
    let mut backoff = Backoff::default();
    let mut liveness = tokio::time::interval(LIVENESS_CHECK);
    liveness.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let cmd = tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(c) => c,
                None => break,
            },
            _ = liveness.tick(), if conn.is_some() => {
                if conn.as_ref().is_some_and(Connection::is_closed) {
                    conn = None;
                    let _ = shared.events.send(Event {
                        host: id,
                        job: JobId(0),
                        kind: EventKind::Disconnected,
                    }).await;
                }
                continue;
            }
        };
        let HostCmd::Exec {
            job,
            command,
            timeout,
            cancel,
        } = cmd;
        let run = ExecRun {
            host: id,
            job,
            started: Instant::now(),
            timeout,
            cancel,
            events: shared.events.clone(),
            host_name: target.label.clone(),
        };
        if conn.as_ref().is_none_or(Connection::is_closed) {
            conn = None;
            match ensure_connected(&run, &target, &shared, &backoff, russh_cfg.clone()).await {
                Ok(c) => {
                    backoff = Backoff::default();
                    conn = Some(c);
                }
                Err(e) => {
                    if !matches!(e, HostError::Cancelled) {
                        backoff.failures += 1;
                        backoff.last = Some(Instant::now());
                    }
                    run.fail(e).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_ref() else { continue };
        match start_exec(c, &command, &target).await {
            Ok(channel) => {
                tokio::spawn(run.stream(channel));
            }
            Err(e) => {
                // The connection may be half-dead; drop it so the next
                // command starts afresh.
                conn = None;
                run.fail(e).await;
            }
        }
    }
    if let Some(c) = conn {
        let _ = c
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

pub(crate) fn russh_config(keepalive: Option<Duration>) -> Arc<russh::client::Config> {
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
        ..Default::default()
    };
    Arc::new(russh::client::Config {
        keepalive_interval: keepalive,
        // Three unanswered keepalives mean the host is gone (OpenSSH's
        // ServerAliveCountMax default).
        keepalive_max: 3,
        nodelay: true,
        // Messages queued per channel before russh stops reading that
        // connection: bounds memory per flooding host (16 x 32 KiB).
        channel_buffer_size: 16,
        preferred,
        ..Default::default()
    })
}

async fn ensure_connected(
    run: &ExecRun,
    target: &Target,
    shared: &Shared,
    backoff: &Backoff,
    cfg: Arc<russh::client::Config>,
) -> Result<Connection, HostError> {
    let emit = |kind| Event {
        host: run.host,
        job: run.job,
        kind,
    };
    let connect_with_slot = async {
        tokio::time::sleep(backoff.wait()).await;
        let _permit = shared.connect_slots.acquire().await;
        let _ = shared.events.send(emit(EventKind::Connecting)).await;
        connect(&shared.ctx, target, cfg).await
    };
    let conn = tokio::select! {
        _ = run.cancel.cancelled() => return Err(HostError::Cancelled),
        r = connect_with_slot => r?,
    };
    let _ = shared.events.send(emit(EventKind::Connected)).await;
    Ok(conn)
}

async fn start_exec(
    conn: &Connection,
    command: &str,
    target: &Target,
) -> Result<russh::Channel<russh::client::Msg>, HostError> {
    let addr = display_addr(&target.host, target.port);
    let channel = conn
        .handle
        .channel_open_session()
        .await
        .map_err(|e| map_russh_error(&target.label, &addr, e))?;
    // want_reply=true so a server that refuses exec says so (ChannelMsg::Failure)
    // instead of leaving us waiting for output that never comes.
    channel
        .exec(true, command.as_bytes())
        .await
        .map_err(|e| map_russh_error(&target.label, &addr, e))?;
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
