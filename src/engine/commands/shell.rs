//! Interactive shells: a PTY and a login shell on one channel, with input
//! and window changes going in and output coming out as events (the UI runs
//! the terminal emulator; the engine only moves bytes).
//!
//! The channel is split: a writer task owns the sending half, so a host
//! that stops reading its input (its window full) never stops us reading
//! its output, and other hosts are not affected at all.

use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use russh::ChannelMsg;
use russh::client::Msg;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use crate::engine::commands::answer::{Answerer, Stream};
use crate::engine::commands::record::Asciicast;
use crate::engine::commands::redact::HOLD;
use crate::engine::error::HostError;
use crate::engine::event::{Event, EventKind, ExitStatus, HostId, JobId};

/// How to open a shell.
#[derive(Debug, Clone)]
pub struct ShellSpec {
    /// `TERM` for the remote side; the UI emulates xterm.
    pub term: String,
    pub cols: u16,
    pub rows: u16,
    /// Record the session as asciicast v2 into this directory.
    pub record_dir: Option<PathBuf>,
}

pub(crate) enum ShellInput {
    Data(Bytes),
    /// An answer to a prompt; wiped after it is written.
    Secret(Zeroizing<Vec<u8>>),
    Resize {
        cols: u16,
        rows: u16,
    },
    Close,
}

/// The caller's end of one shell: cheap to clone, never blocks. Input to a
/// shell that has ended is dropped.
#[derive(Clone)]
pub struct ShellHandle {
    pub job: JobId,
    pub host: HostId,
    pub(crate) tx: mpsc::UnboundedSender<ShellInput>,
}

impl ShellHandle {
    /// Send keystrokes or pasted text, already encoded for the terminal.
    pub fn send(&self, bytes: impl Into<Bytes>) {
        let _ = self.tx.send(ShellInput::Data(bytes.into()));
    }

    /// The pane changed size: the host gets a window-change request.
    pub fn resize(&self, cols: u16, rows: u16) {
        let _ = self.tx.send(ShellInput::Resize { cols, rows });
    }

    /// Close the channel; the host reports the shell's end.
    pub fn close(&self) {
        let _ = self.tx.send(ShellInput::Close);
    }
}

pub(crate) struct ShellRun {
    pub host: HostId,
    pub job: JobId,
    pub host_name: String,
    pub started: Instant,
    pub events: mpsc::Sender<Event>,
    pub cancel: CancellationToken,
    pub answer: Option<Answerer>,
    pub cast: Option<Asciicast>,
}

/// Writes input to the channel until told to close or the channel goes.
async fn writer(half: russh::ChannelWriteHalf<Msg>, mut rx: mpsc::UnboundedReceiver<ShellInput>) {
    while let Some(input) = rx.recv().await {
        let ok = match input {
            ShellInput::Data(b) => half.data_bytes(b).await.is_ok(),
            ShellInput::Secret(s) => half.data(&s[..]).await.is_ok(),
            ShellInput::Resize { cols, rows } => half
                .window_change(u32::from(cols), u32::from(rows), 0, 0)
                .await
                .is_ok(),
            ShellInput::Close => {
                let _ = half.eof().await;
                let _ = half.close().await;
                false
            }
        };
        if !ok {
            break;
        }
    }
}

impl ShellRun {
    async fn emit(&self, kind: EventKind) {
        let _ = self
            .events
            .send(Event {
                host: self.host,
                job: self.job,
                kind,
            })
            .await;
    }

    async fn show(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        if let Some(cast) = &mut self.cast
            && let Err(e) = cast.output(&data)
        {
            let warning = format!(
                "cannot write {}: {e}; recording stopped",
                cast.path.display()
            );
            self.cast = None;
            self.emit(EventKind::Warning(warning)).await;
        }
        self.emit(EventKind::Stdout(data)).await;
    }

    async fn flush_held(&mut self) {
        if let Some(a) = &mut self.answer {
            let [out, err] = a.flush();
            self.show(out).await;
            self.show(err).await;
        }
    }

    /// Run until the shell ends. `tx` is the writer's queue (answers to
    /// prompts go there too); `rx` is its other end.
    pub async fn run(
        mut self,
        channel: russh::Channel<Msg>,
        tx: mpsc::UnboundedSender<ShellInput>,
        rx: mpsc::UnboundedReceiver<ShellInput>,
    ) {
        let (mut read, write) = channel.split();
        let writer = tokio::spawn(writer(write, rx));
        let mut status = None;
        let orderly = loop {
            let msg = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    let _ = tx.send(ShellInput::Close);
                    break true;
                }
                _ = tokio::time::sleep(HOLD), if self.answer.as_ref().is_some_and(Answerer::holding) => {
                    self.flush_held().await;
                    continue;
                }
                msg = read.wait() => msg,
            };
            match msg {
                Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                    let shown = match &mut self.answer {
                        Some(a) => {
                            // Unanswered prompts are left to the user, who
                            // is at the keyboard.
                            let seen = a.chunk(Stream::Stdout, data).await;
                            for ans in seen.answers {
                                let _ = tx.send(ShellInput::Secret(ans));
                            }
                            seen.shown
                        }
                        None => data,
                    };
                    self.show(shown).await;
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    status = Some(ExitStatus::Code(exit_status))
                }
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                    status = Some(ExitStatus::Signal {
                        name: crate::engine::commands::exec::signal_name_str(&signal_name),
                        core_dumped: false,
                    })
                }
                Some(ChannelMsg::Failure) => {
                    let _ = tx.send(ShellInput::Close);
                    self.flush_held().await;
                    let error = HostError::Protocol {
                        host: self.host_name.clone(),
                        cause: "the server refused a terminal or a shell".into(),
                    };
                    return self.finish(writer, Err(error)).await;
                }
                Some(ChannelMsg::Close) => break true,
                None => break false,
                Some(_) => {}
            }
        };
        self.flush_held().await;
        let end = match status {
            Some(s) => Ok(s),
            None if self.cancel.is_cancelled() => Err(HostError::Cancelled),
            None if !orderly => Err(HostError::Disconnected {
                host: self.host_name.clone(),
            }),
            // A shell closed by us, or one whose server sent no status.
            None => Ok(ExitStatus::Code(0)),
        };
        self.finish(writer, end).await;
    }

    async fn finish(
        mut self,
        writer: tokio::task::JoinHandle<()>,
        end: Result<ExitStatus, HostError>,
    ) {
        writer.abort();
        if let Some(cast) = self.cast.take() {
            let path = cast.path.clone();
            if let Err(e) = cast.finish() {
                let warning = format!("cannot write {}: {e}", path.display());
                self.emit(EventKind::Warning(warning)).await;
            }
        }
        let elapsed = self.started.elapsed();
        tracing::info!(host = %self.host_name, ok = end.is_ok(), "shell ended");
        let kind = match end {
            Ok(status) => EventKind::Exit { status, elapsed },
            Err(error) => EventKind::Failed { error, elapsed },
        };
        self.emit(kind).await;
    }
}
