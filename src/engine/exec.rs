//! Running one command on one channel and streaming what it prints.

use std::time::{Duration, Instant};

use russh::ChannelMsg;
use russh::client::Msg;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::error::HostError;
use super::event::{Event, EventKind, ExitStatus, HostId, JobId};

/// SSH_EXTENDED_DATA_STDERR from RFC 4254.
const EXTENDED_STDERR: u32 = 1;

pub(crate) struct ExecRun {
    pub host: HostId,
    pub job: JobId,
    pub started: Instant,
    pub timeout: Option<Duration>,
    pub cancel: CancellationToken,
    pub events: mpsc::Sender<Event>,
    /// Label used in a disconnect error.
    pub host_name: String,
}

impl ExecRun {
    async fn emit(&self, kind: EventKind) {
        // A closed receiver means nobody listens any more; nothing to do.
        let _ = self
            .events
            .send(Event {
                host: self.host,
                job: self.job,
                kind,
            })
            .await;
    }

    pub async fn fail(&self, error: HostError) {
        self.emit(EventKind::Failed {
            error,
            elapsed: self.started.elapsed(),
        })
        .await;
    }

    /// Stream the channel until it closes. Output is forwarded chunk by chunk
    /// as it arrives; we never buffer a whole command's output.
    pub async fn stream(self, mut channel: russh::Channel<Msg>) {
        let deadline = self.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut status: Option<ExitStatus> = None;
        // `Close` is an orderly end; the channel vanishing (`None`) without
        // one means the transport died under us.
        let orderly = loop {
            let msg = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    let _ = channel.close().await;
                    return self.fail(HostError::Cancelled).await;
                }
                _ = sleep_until(deadline) => {
                    let _ = channel.close().await;
                    let after = self.timeout.unwrap_or_default();
                    return self.fail(HostError::CommandTimeout { after }).await;
                }
                msg = channel.wait() => msg,
            };
            match msg {
                Some(ChannelMsg::Data { data }) => self.emit(EventKind::Stdout(data)).await,
                Some(ChannelMsg::ExtendedData { data, ext }) if ext == EXTENDED_STDERR => {
                    self.emit(EventKind::Stderr(data)).await
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    status = Some(ExitStatus::Code(exit_status))
                }
                Some(ChannelMsg::ExitSignal {
                    signal_name,
                    core_dumped,
                    ..
                }) => {
                    status = Some(ExitStatus::Signal {
                        name: signal_name_str(&signal_name),
                        core_dumped,
                    })
                }
                Some(ChannelMsg::Failure) => {
                    let _ = channel.close().await;
                    return self
                        .fail(HostError::Protocol {
                            host: self.host_name.clone(),
                            cause: "the server refused to run the command".into(),
                        })
                        .await;
                }
                // Data may still follow the exit status, so only Close (or
                // the channel going away) ends the stream; EOF is just a hint.
                Some(ChannelMsg::Close) => break true,
                None => break false,
                Some(_) => {}
            }
        };
        match status {
            Some(status) => {
                self.emit(EventKind::Exit {
                    status,
                    elapsed: self.started.elapsed(),
                })
                .await
            }
            None if !orderly => {
                let host = self.host_name.clone();
                self.fail(HostError::Disconnected { host }).await
            }
            None => self.fail(HostError::NoExitStatus).await,
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn signal_name_str(sig: &russh::Sig) -> String {
    use russh::Sig;
    match sig {
        Sig::ABRT => "ABRT".into(),
        Sig::ALRM => "ALRM".into(),
        Sig::FPE => "FPE".into(),
        Sig::HUP => "HUP".into(),
        Sig::ILL => "ILL".into(),
        Sig::INT => "INT".into(),
        Sig::KILL => "KILL".into(),
        Sig::PIPE => "PIPE".into(),
        Sig::QUIT => "QUIT".into(),
        Sig::SEGV => "SEGV".into(),
        Sig::TERM => "TERM".into(),
        Sig::USR1 => "USR1".into(),
        Sig::Custom(s) => s.clone(),
    }
}
