//! Running one command on one channel and streaming what it prints.

use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::ChannelMsg;
use russh::client::Msg;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::engine::commands::answer::{Answerer, Stream};
use crate::engine::commands::record::ExecLog;
use crate::engine::commands::redact::HOLD;
use crate::engine::commands::stdin_feed::StdinFeed;
use crate::engine::commands::stop::{self, GroupSniffer};
use crate::engine::connection::ssh::Connection;
use crate::engine::error::HostError;
use crate::engine::event::{Event, EventKind, ExitStatus, HostId, JobId};

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
    /// Prompt answering, when there are expect rules.
    pub answer: Option<Answerer>,
    pub log: Option<ExecLog>,
    /// What the command reads; `None` is end-of-input at once.
    pub stdin: Option<StdinFeed>,
    /// The command runs on a PTY (end-of-input is then ^D).
    pub pty: bool,
    /// Set by [`ExecRun::stream`]; start with `Input::Released`.
    pub input: Input,
    /// The connection, for the second channel that kills the command's
    /// process group when it is stopped.
    pub conn: Option<Arc<Connection>>,
    /// Takes the process group report off the head of stdout.
    pub group: GroupSniffer,
}

/// With expect rules, input waits until prompts have settled: a `sudo -S`
/// reads its password from the same input, so the command's own bytes (or
/// end-of-input) go only once no prompt has come for this long after the
/// start or the last answer.
const PROMPTS_SETTLE: Duration = Duration::from_millis(1500);

/// Where the command's input stands.
pub(crate) enum Input {
    /// Not sent yet: held back until `at` while prompts may come.
    Held {
        feed: Option<StdinFeed>,
        at: tokio::time::Instant,
    },
    /// Sent (or being sent by its own task), or ended.
    Released,
}

impl Input {
    fn release_at(&self) -> Option<tokio::time::Instant> {
        match self {
            Input::Held { at, .. } => Some(*at),
            Input::Released => None,
        }
    }
}

/// Send the input to the channel, then end-of-input, from a task of its
/// own: a command that does not read its input must not stop us reading
/// its output. `done` stops the task when the command has ended.
///
/// On a PTY, sshd does not pass the channel's end-of-input on (a terminal
/// has no such thing), so the terminal's own end-of-file character, ^D,
/// follows the input: twice after a line without newline, since the first
/// only hands that line over.
fn release(
    channel: &russh::Channel<Msg>,
    feed: Option<StdinFeed>,
    pty: bool,
    done: &CancellationToken,
) {
    use tokio::io::AsyncWriteExt;
    let mut writer = channel.make_writer();
    let done = done.clone();
    tokio::spawn(async move {
        let send = async {
            let mut ends_line = true;
            if let Some(feed) = feed {
                let mut r = feed.reader();
                while let Some(chunk) = r.next().await {
                    writer.write_all(&chunk).await?;
                    ends_line = chunk.ends_with(b"\n");
                }
            }
            if pty {
                let eof: &[u8] = if ends_line { b"\x04" } else { b"\x04\x04" };
                writer.write_all(eof).await?;
            }
            // Shutting the writer down sends end-of-input.
            writer.shutdown().await
        };
        tokio::select! {
            _ = send => {}
            _ = done.cancelled() => {}
        }
    });
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

    /// Output on its way out: answered prompts are written back to the
    /// channel, and secrets masked before the chunk is shown or logged.
    async fn output(&mut self, channel: &russh::Channel<Msg>, stream: Stream, data: bytes::Bytes) {
        let data = match &mut self.answer {
            Some(a) => {
                let seen = tokio::select! {
                    biased;
                    _ = self.cancel.cancelled() => return,
                    r = a.chunk(stream, data) => r,
                };
                for ans in seen.answers.iter() {
                    let _ = channel.data(&ans[..]).await;
                }
                if !seen.answers.is_empty()
                    && let Input::Held { at, .. } = &mut self.input
                {
                    *at = tokio::time::Instant::now() + PROMPTS_SETTLE;
                }
                if seen.unanswered && matches!(self.input, Input::Held { .. }) {
                    // End its input: `sudo -S` then fails at once ("no
                    // password was provided") instead of hanging.
                    self.input = Input::Released;
                    let _ = channel.eof().await;
                }
                seen.shown
            }
            None => data,
        };
        self.show(stream, data).await;
    }

    async fn show(&mut self, stream: Stream, data: bytes::Bytes) {
        if data.is_empty() {
            return;
        }
        let stderr = stream == Stream::Stderr;
        if let Some(log) = &mut self.log
            && let Err(e) = log.output(stderr, &data)
        {
            let warning = format!("cannot write {}: {e}; log stopped", log.path.display());
            self.log = None;
            self.emit(EventKind::Warning(warning)).await;
        }
        self.emit(if stderr {
            EventKind::Stderr(data)
        } else {
            EventKind::Stdout(data)
        })
        .await
    }

    async fn flush_held(&mut self) {
        if let Some(a) = &mut self.answer {
            let [out, err] = a.flush();
            self.show(Stream::Stdout, out).await;
            self.show(Stream::Stderr, err).await;
        }
    }

    /// The log's last line, then the terminal event.
    async fn end(mut self, kind: EventKind) {
        self.flush_held().await;
        match &kind {
            EventKind::Exit { status, elapsed } => {
                tracing::info!(host = %self.host_name, job = self.job.0, "command ended: {status} after {elapsed:.1?}")
            }
            EventKind::Failed { error, elapsed } => {
                tracing::info!(host = %self.host_name, job = self.job.0, "command failed after {elapsed:.1?}: {error}")
            }
            _ => {}
        }
        if let Some(log) = self.log.take() {
            let how = match &kind {
                EventKind::Exit { status, elapsed } => format!("{status} after {elapsed:.1?}"),
                EventKind::Failed { error, .. } => format!("failed: {error}"),
                _ => String::new(),
            };
            let path = log.path.clone();
            if let Err(e) = log.finish(&how) {
                let warning = format!("cannot write {}: {e}", path.display());
                self.emit(EventKind::Warning(warning)).await;
            }
        }
        self.emit(kind).await;
    }

    pub async fn end_failed(self, error: HostError) {
        let elapsed = self.started.elapsed();
        self.end(EventKind::Failed { error, elapsed }).await
    }

    /// Stream the channel until it closes. Output is forwarded chunk by chunk
    /// as it arrives; we never buffer a whole command's output.
    pub async fn stream(mut self, mut channel: russh::Channel<Msg>) {
        let deadline = self.timeout.map(|t| tokio::time::Instant::now() + t);
        let input_done = CancellationToken::new();
        let _stop_input = input_done.clone().drop_guard();
        self.start_input(&channel, &input_done);
        let mut status: Option<ExitStatus> = None;
        // `Close` is an orderly end; the channel vanishing (`None`) without
        // one means the transport died under us.
        let orderly = loop {
            let msg = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => {
                    return self.stop(channel, HostError::Cancelled).await;
                }
                _ = sleep_until(deadline) => {
                    let after = self.timeout.unwrap_or_default();
                    return self.stop(channel, HostError::CommandTimeout { after }).await;
                }
                _ = tokio::time::sleep(HOLD), if self.answer.as_ref().is_some_and(Answerer::holding) => {
                    self.flush_held().await;
                    continue;
                }
                _ = sleep_until(self.input.release_at()) => {
                    if let Input::Held { feed, .. } = std::mem::replace(&mut self.input, Input::Released) {
                        release(&channel, feed, self.pty, &input_done);
                    }
                    continue;
                }
                msg = channel.wait() => msg,
            };
            match msg {
                Some(ChannelMsg::Data { data }) => {
                    let data = self.group.feed(data);
                    self.output(&channel, Stream::Stdout, data).await
                }
                Some(ChannelMsg::ExtendedData { data, ext }) if ext == EXTENDED_STDERR => {
                    self.output(&channel, Stream::Stderr, data).await
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
                    let error = HostError::Protocol {
                        host: self.host_name.clone(),
                        cause: "the server refused to run the command".into(),
                    };
                    return self.end_failed(error).await;
                }
                // Data may still follow the exit status, so only Close (or
                // the channel going away) ends the stream; EOF is just a hint.
                Some(ChannelMsg::Close) => break true,
                None => break false,
                Some(_) => {}
            }
        };
        self.end_closed(&channel, status, orderly).await
    }

    /// Give the command its input now, or hold it while answer rules may
    /// still see a prompt (see [`Input::Held`]).
    fn start_input(&mut self, channel: &russh::Channel<Msg>, input_done: &CancellationToken) {
        let feed = self.stdin.take();
        if self.answer.as_ref().is_some_and(Answerer::has_rules) {
            self.input = Input::Held {
                feed,
                at: tokio::time::Instant::now() + PROMPTS_SETTLE,
            };
        } else {
            release(channel, feed, self.pty, input_done);
        }
    }

    /// The channel closed (`orderly`) or vanished: show what is still
    /// held, then end with the exit status, or say why there is none.
    async fn end_closed(
        mut self,
        channel: &russh::Channel<Msg>,
        status: Option<ExitStatus>,
        orderly: bool,
    ) {
        let held = self.group.flush();
        self.output(channel, Stream::Stdout, held).await;
        match status {
            Some(status) => {
                let elapsed = self.started.elapsed();
                self.end(EventKind::Exit { status, elapsed }).await
            }
            None if !orderly => {
                let host = self.host_name.clone();
                self.end_failed(HostError::Disconnected { host }).await
            }
            None => self.end_failed(HostError::NoExitStatus).await,
        }
    }
}

impl ExecRun {
    /// Stop the command on its host (see [`stop`]): TERM, then KILL, each
    /// by the SSH signal request and to its process group over a second
    /// channel. Output that comes meanwhile is still shown. Only the
    /// channel closing proves the stop; otherwise the host is reported
    /// with why the command may still be running.
    async fn stop(mut self, mut channel: russh::Channel<Msg>, cause: HostError) {
        // What the group's report held back comes out with the tail.
        let (verdict, tail) =
            stop::stop_channel(&mut channel, &mut self.group, self.conn.clone()).await;
        self.show(Stream::Stdout, tail.stdout.into()).await;
        self.show(Stream::Stderr, tail.stderr.into()).await;
        let error = match verdict {
            Ok(()) => cause,
            Err(why) => HostError::NotStopped {
                cause: Box::new(cause),
                host: self.host_name.clone(),
                why,
            },
        };
        self.end_failed(error).await
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

pub(crate) fn signal_name_str(sig: &russh::Sig) -> String {
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
        // The server names it: shown cleaned and short.
        Sig::Custom(s) => {
            let name = crate::text::sanitize::server_text(s);
            match name.char_indices().nth(32) {
                Some((at, _)) => format!("{}…", &name[..at]),
                None => name,
            }
        }
    }
}
