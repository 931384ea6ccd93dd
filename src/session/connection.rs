//! A session's connections: accepting them (this user only), and one task
//! each to read what a client sends and to write what the session has for
//! it. A malformed or oversized message closes that client, never the
//! session.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use super::protocol::{ClientMsg, FrameReader, MAX_FROM_CLIENT, PROTOCOL, ServerMsg};
use super::server::{FromClient, QUEUED_FRAMES};

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
        let (read, write) = stream.into_split();
        let (tx, rx) = mpsc::channel(QUEUED_FRAMES);
        tokio::spawn(write_loop(write, rx));
        tokio::spawn(read_loop(read, next_id, name.clone(), tx, to_loop.clone()));
        next_id += 1;
    }
}

/// Send what the session has for this client, in order, until it is told
/// it is detached or the session ended (then the channel closes, which
/// the session's end waits for).
async fn write_loop(mut write: OwnedWriteHalf, mut rx: mpsc::Receiver<ServerMsg>) {
    while let Some(msg) = rx.recv().await {
        let last = matches!(msg, ServerMsg::Detached { .. } | ServerMsg::Ended { .. });
        if write.write_all(&msg.encode()).await.is_err() || last {
            break;
        }
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

/// One client's messages: its hello, then what it asks. A malformed or
/// oversized message closes this client, never the session.
async fn read_loop(
    mut read: OwnedReadHalf,
    id: u64,
    name: String,
    tx: mpsc::Sender<ServerMsg>,
    to_loop: mpsc::Sender<FromClient>,
) {
    let mut frames = FrameReader::new(MAX_FROM_CLIENT);
    let mut greeted = false;
    loop {
        let msg = match read_body(&mut read, &mut frames).await {
            Ok(Some(body)) => ClientMsg::decode(&body).map_err(|e| e.to_string()),
            Ok(None) => break,
            Err(e) => Err(e.to_string()),
        };
        let step = match msg {
            Ok(msg) => on_message(msg, &mut greeted, id, &name, &tx),
            Err(e) => Err(format!("bad message: {e}")),
        };
        match step {
            Ok(None) => {}
            Ok(Some(forward)) => {
                if to_loop.send(forward).await.is_err() {
                    break;
                }
            }
            Err(reason) => {
                let _ = tx.try_send(ServerMsg::Refused { reason });
                break;
            }
        }
    }
    let _ = to_loop.send(FromClient::Gone { id }).await;
}

/// What one decoded message asks of the session: nothing (answered
/// here), something to forward, or a reason to close this client.
fn on_message(
    msg: ClientMsg,
    greeted: &mut bool,
    id: u64,
    name: &str,
    tx: &mpsc::Sender<ServerMsg>,
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
            let _ = tx.try_send(ServerMsg::Hello {
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
                tx: tx.clone(),
            }
        }
        ClientMsg::Input(event) => FromClient::Input { id, event },
        ClientMsg::Detach => FromClient::Detach { id },
        ClientMsg::EditDone { error } => FromClient::EditDone { id, error },
        ClientMsg::Repaint => FromClient::Repaint { id },
        ClientMsg::ListSessions => FromClient::List { tx: tx.clone() },
        ClientMsg::KillSession { force, .. } => FromClient::Kill {
            force,
            tx: tx.clone(),
        },
    }))
}
