//! The task that owns one host's connection. Commands arrive on its queue;
//! it connects on first use, reuses the connection for later commands (one
//! channel each) and reconnects when the transport has died.

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

pub(crate) async fn run(
    id: HostId,
    target: Target,
    shared: Arc<Shared>,
    mut cmds: mpsc::UnboundedReceiver<HostCmd>,
) {
    let mut conn: Option<Connection> = None;
    while let Some(cmd) = cmds.recv().await {
        match cmd {
            HostCmd::Exec {
                job,
                command,
                timeout,
                cancel,
            } => {
                let run = ExecRun {
                    host: id,
                    job,
                    started: Instant::now(),
                    timeout,
                    cancel,
                    events: shared.events.clone(),
                    host_name: target.label.clone(),
                };
                if conn.as_ref().is_none_or(|c| c.is_closed()) {
                    conn = None;
                    match ensure_connected(&run, &target, &shared).await {
                        Ok(c) => conn = Some(c),
                        Err(e) => {
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
        }
    }
    if let Some(c) = conn {
        let _ = c
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

async fn ensure_connected(
    run: &ExecRun,
    target: &Target,
    shared: &Shared,
) -> Result<Connection, HostError> {
    let emit = |kind| Event {
        host: run.host,
        job: run.job,
        kind,
    };
    let connect_with_slot = async {
        let _permit = shared.connect_slots.acquire().await;
        let _ = shared.events.send(emit(EventKind::Connecting)).await;
        connect(&shared.ctx, target).await
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
