//! The client half of a session: it owns only the terminal. Input events
//! and resizes go to the server; frames come back and are written as
//! they are. Whatever ends the client (detach, SIGHUP, the terminal
//! closing, kill -9) leaves the session running; a server that goes away
//! leaves the terminal restored and says so.

use std::io::Write;
use std::path::Path;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::signal::unix::{SignalKind, signal};

use super::connection::read_body;
use super::protocol::{ClientMsg, FrameReader, MAX_FROM_SERVER, PROTOCOL, ServerMsg};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the session at {path}: {cause}")]
    Connect { path: String, cause: std::io::Error },
    #[error("the session server refused: {0}")]
    Refused(String),
    #[error("the sshdeck server went away ({0}); the terminal is restored")]
    Lost(String),
    #[error("terminal: {0}")]
    Terminal(std::io::Error),
}

/// How an attach ended, for the user.
pub enum AttachEnd {
    /// This client left; the session runs on.
    Detached(String),
    /// The session itself ended.
    SessionEnded(String),
}

/// Connect and say hello: the server's answer is checked before anything
/// else (another protocol is refused, with both versions).
pub async fn connect(sock: &Path) -> Result<UnixStream, ClientError> {
    let mut stream = UnixStream::connect(sock)
        .await
        .map_err(|cause| ClientError::Connect {
            path: sock.display().to_string(),
            cause,
        })?;
    send(
        &mut stream,
        &ClientMsg::Hello {
            protocol: PROTOCOL,
            version: env!("CARGO_PKG_VERSION").into(),
        },
    )
    .await?;
    let mut frames = FrameReader::new(MAX_FROM_SERVER);
    match answer(&mut stream, &mut frames).await? {
        ServerMsg::Hello { .. } => Ok(stream),
        ServerMsg::Refused { reason } => Err(ClientError::Refused(reason)),
        other => Err(ClientError::Lost(format!(
            "it answered a greeting with {}",
            other.kind()
        ))),
    }
}

async fn send(stream: &mut UnixStream, msg: &ClientMsg) -> Result<(), ClientError> {
    stream
        .write_all(&msg.encode())
        .await
        .map_err(|e| ClientError::Lost(e.to_string()))
}

/// How long a server may take to answer a question: a hung server is
/// reported, never waited on.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The server's answer, within `ANSWER_WAIT`.
async fn answer(
    stream: &mut UnixStream,
    frames: &mut FrameReader,
) -> Result<ServerMsg, ClientError> {
    tokio::time::timeout(ANSWER_WAIT, recv(stream, frames))
        .await
        .map_err(|_| ClientError::Lost(format!("no answer within {} s", ANSWER_WAIT.as_secs())))?
}

async fn recv(stream: &mut UnixStream, frames: &mut FrameReader) -> Result<ServerMsg, ClientError> {
    match read_body(stream, frames).await {
        Ok(Some(body)) => ServerMsg::decode(&body).map_err(|e| ClientError::Lost(e.to_string())),
        Ok(None) => Err(ClientError::Lost("connection closed".into())),
        Err(e) => Err(ClientError::Lost(e.to_string())),
    }
}

/// Ask the server one thing and return its answer (`ls`, `kill-session`).
pub async fn ask(sock: &Path, msg: ClientMsg) -> Result<ServerMsg, ClientError> {
    let mut stream = connect(sock).await?;
    send(&mut stream, &msg).await?;
    let mut frames = FrameReader::new(MAX_FROM_SERVER);
    answer(&mut stream, &mut frames).await
}

/// Attach this terminal to `session` until it detaches or the session
/// ends. The terminal is restored on every way out.
pub async fn attach(sock: &Path, session: &str, read_only: bool) -> Result<AttachEnd, ClientError> {
    let mut stream = connect(sock).await?;
    let size = crossterm::terminal::size().map_err(ClientError::Terminal)?;
    crate::tui::terminal::enter().map_err(ClientError::Terminal)?;
    let r = attached(&mut stream, session, read_only, size).await;
    crate::tui::terminal::restore();
    r
}

async fn attached(
    stream: &mut UnixStream,
    session: &str,
    read_only: bool,
    size: (u16, u16),
) -> Result<AttachEnd, ClientError> {
    send(
        stream,
        &ClientMsg::Attach {
            session: session.to_string(),
            create: false,
            read_only,
            size,
        },
    )
    .await?;
    let mut input = crossterm::event::EventStream::new();
    let mut hangup = signal(SignalKind::hangup()).map_err(ClientError::Terminal)?;
    let mut term = signal(SignalKind::terminate()).map_err(ClientError::Terminal)?;
    let (mut read, mut write) = stream.split();
    let mut frames = FrameReader::new(MAX_FROM_SERVER);
    let mut out = std::io::stdout();
    loop {
        tokio::select! {
            body = read_body(&mut read, &mut frames) => {
                let body = match body {
                    Ok(Some(b)) => b,
                    Ok(None) => return Err(ClientError::Lost("connection closed".into())),
                    Err(e) => return Err(ClientError::Lost(e.to_string())),
                };
                let back = match ServerMsg::decode(&body).map_err(|e| ClientError::Lost(e.to_string()))? {
                    ServerMsg::Frame(bytes) => {
                        out.write_all(&bytes).map_err(ClientError::Terminal)?;
                        out.flush().map_err(ClientError::Terminal)?;
                        continue;
                    }
                    ServerMsg::Suspend => {
                        drop(input);
                        let back = away(suspend)?;
                        input = crossterm::event::EventStream::new();
                        back
                    }
                    ServerMsg::Edit { path } => {
                        drop(input);
                        let edited = std::path::PathBuf::from(path);
                        let mut error = String::new();
                        let mut back = away(|| {
                            if let Err(e) = crate::tui::files_io::run_editor(&edited) {
                                error = e;
                            }
                        })?;
                        input = crossterm::event::EventStream::new();
                        back.insert(0, ClientMsg::EditDone { error });
                        back
                    }
                    ServerMsg::Detached { why } => return Ok(AttachEnd::Detached(why)),
                    ServerMsg::Ended { why } => return Ok(AttachEnd::SessionEnded(why)),
                    ServerMsg::Refused { reason } => return Err(ClientError::Refused(reason)),
                    ServerMsg::Hello { .. } | ServerMsg::Sessions(_) => continue,
                };
                for msg in back {
                    write.write_all(&msg.encode()).await.map_err(|e| ClientError::Lost(e.to_string()))?;
                }
            }
            ev = input.next() => {
                let Some(Ok(ev)) = ev else {
                    // The terminal is gone: the session runs on.
                    return Ok(AttachEnd::Detached("the terminal closed".into()));
                };
                let msg = ClientMsg::Input(ev).encode();
                write.write_all(&msg).await.map_err(|e| ClientError::Lost(e.to_string()))?;
            }
            _ = hangup.recv() => return Ok(AttachEnd::Detached("hangup".into())),
            _ = term.recv() => return Ok(AttachEnd::Detached("terminated".into())),
        }
    }
}

/// Ctrl-Z: stop as any program does; `fg` continues here.
fn suspend() {
    // SAFETY: raise(2) on our own process; SIGTSTP's default action stops
    // us, and execution continues here after SIGCONT.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
}

/// Give the terminal back for `f` (stopped by Ctrl-Z, or $EDITOR), take
/// it again, and say what the server needs to know after: the size, if
/// it changed meanwhile, and that the screen must be painted whole.
fn away(f: impl FnOnce()) -> Result<Vec<ClientMsg>, ClientError> {
    let before = crossterm::terminal::size().map_err(ClientError::Terminal)?;
    crate::tui::terminal::restore();
    f();
    crate::tui::terminal::enter().map_err(ClientError::Terminal)?;
    let now = crossterm::terminal::size().map_err(ClientError::Terminal)?;
    let mut back = Vec::new();
    if now != before {
        back.push(ClientMsg::Input(crossterm::event::Event::Resize(
            now.0, now.1,
        )));
    }
    back.push(ClientMsg::Repaint);
    Ok(back)
}
