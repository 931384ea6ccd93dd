//! A session's connections: accepting them (this user only), a thread
//! each to read what a client sends (and `outgoing` for what it is
//! sent). A malformed or oversized message closes that
//! client, never the session.
//!
//! Threads, not runtime tasks: during a flood the runtime's workers are
//! busy with the hosts' output (and run at a lower priority, see
//! `cli/priority.rs`), so a keystroke read by a task would wait behind
//! them, and for them to poll the socket. A thread blocked in `read` wakes
//! the session's loop directly, as the terminal's input thread does for a
//! screen in its own process.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;

use crossterm::event::Event as TermEvent;
use tokio::io::AsyncReadExt;
use tokio::net::UnixListener;
use tokio::sync::mpsc;

use super::outgoing::ClientOut;
use super::protocol::{ClientMsg, FrameReader, MAX_FROM_CLIENT, PROTOCOL, ServerMsg};

/// What the connections tell the session's loop.
pub enum FromClient {
    Attached {
        id: u64,
        size: (u16, u16),
        read_only: bool,
        out: ClientOut,
    },
    Input {
        id: u64,
        event: TermEvent,
    },
    Detach {
        id: u64,
    },
    EditDone {
        id: u64,
        error: String,
    },
    Repaint {
        id: u64,
    },
    Gone {
        id: u64,
    },
    List {
        out: ClientOut,
    },
    Kill {
        force: bool,
        out: ClientOut,
    },
}

/// Accept connections; each peer must be this user.
pub async fn accept(
    listener: UnixListener,
    uid: u32,
    name: String,
    to_loop: mpsc::Sender<FromClient>,
) {
    let mut next_id = 1;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // SO_PEERCRED: another user's process never gets a byte.
        if stream.peer_cred().map(|c| c.uid()).ok() != Some(uid) {
            continue;
        }
        let Ok(read) = stream.into_std() else {
            continue;
        };
        let write = match read.set_nonblocking(false).and_then(|()| read.try_clone()) {
            Ok(w) => w,
            Err(_) => continue,
        };
        let Ok(out) = ClientOut::start(write) else {
            continue;
        };
        let (id, name, to_loop) = (next_id, name.clone(), to_loop.clone());
        let spawned = std::thread::Builder::new()
            .name("session-read".into())
            .spawn(move || read_loop(read, id, name, out, to_loop));
        if spawned.is_err() {
            continue;
        }
        next_id += 1;
    }
}

/// The next message body from a client, None at its end.
pub async fn read_body(
    read: &mut (impl AsyncReadExt + Unpin),
    frames: &mut FrameReader,
) -> io::Result<Option<Vec<u8>>> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(body) = frames.next_body().map_err(io::Error::other)? {
            return Ok(Some(body));
        }
        let n = read.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        frames.push(&buf[..n]);
    }
}

/// `read_body`, blocking, for a connection's read thread.
fn read_body_blocking(
    read: &mut impl Read,
    frames: &mut FrameReader,
) -> io::Result<Option<Vec<u8>>> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(body) = frames.next_body().map_err(io::Error::other)? {
            return Ok(Some(body));
        }
        let n = read.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        frames.push(&buf[..n]);
    }
}

/// One client's messages: its hello, then what it asks. A malformed or
/// oversized message closes this client, never the session.
fn read_loop(
    mut read: UnixStream,
    id: u64,
    name: String,
    out: ClientOut,
    to_loop: mpsc::Sender<FromClient>,
) {
    let mut frames = FrameReader::new(MAX_FROM_CLIENT);
    let mut greeted = false;
    loop {
        let msg = match read_body_blocking(&mut read, &mut frames) {
            Ok(Some(body)) => ClientMsg::decode(&body).map_err(|e| e.to_string()),
            Ok(None) => break,
            Err(e) => Err(e.to_string()),
        };
        let step = match msg {
            Ok(msg) => on_message(msg, &mut greeted, id, &name, &out),
            Err(e) => Err(format!("bad message: {e}")),
        };
        match step {
            Ok(None) => {}
            Ok(Some(forward)) => {
                if to_loop.blocking_send(forward).is_err() {
                    break;
                }
            }
            Err(reason) => {
                out.send(&ServerMsg::Refused { reason });
                break;
            }
        }
    }
    // Nothing more to say to a client that is gone, or was refused.
    out.end();
    let _ = to_loop.blocking_send(FromClient::Gone { id });
}

/// What one decoded message asks of the session: nothing (answered
/// here), something to forward, or a reason to close this client.
fn on_message(
    msg: ClientMsg,
    greeted: &mut bool,
    id: u64,
    name: &str,
    out: &ClientOut,
) -> Result<Option<FromClient>, String> {
    Ok(Some(match msg {
        ClientMsg::Hello { protocol, version } => {
            if protocol != PROTOCOL {
                return Err(format!(
                    "this session's server is sshdeck {} (protocol {PROTOCOL}), the \
                     client is sshdeck {version} (protocol {protocol}); use the same \
                     sshdeck for both, or end the session with its own sshdeck",
                    env!("CARGO_PKG_VERSION")
                ));
            }
            *greeted = true;
            out.send(&ServerMsg::Hello {
                protocol: PROTOCOL,
                version: env!("CARGO_PKG_VERSION").into(),
            });
            return Ok(None);
        }
        _ if !*greeted => return Err("a client says hello first".into()),
        ClientMsg::Attach {
            session,
            read_only,
            size,
            ..
        } => {
            if session != name {
                return Err(format!("this server holds session {name}, not {session}"));
            }
            FromClient::Attached {
                id,
                size,
                read_only,
                out: out.clone(),
            }
        }
        ClientMsg::Input(event) => FromClient::Input { id, event },
        ClientMsg::Detach => FromClient::Detach { id },
        ClientMsg::EditDone { error } => FromClient::EditDone { id, error },
        ClientMsg::Repaint => FromClient::Repaint { id },
        ClientMsg::ListSessions => FromClient::List { out: out.clone() },
        ClientMsg::KillSession { force, .. } => FromClient::Kill {
            force,
            out: out.clone(),
        },
    }))
}
