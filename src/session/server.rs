//! A session server: the TUI's loop with clients instead of a terminal.
//! It owns the engine, every connection and the app state; each client
//! (an attached terminal) sends input and gets frames rendered at its own
//! size. A client that goes away, however, leaves the session running.
//!
//! Whose keys move the state: every interactive client's, in the order
//! they arrive (as tmux); the state's size (page sizes, mouse hit tests,
//! the shells' terminal size) follows the client that last typed.

use std::collections::BTreeMap;
use std::io;

use crossterm::event::Event as TermEvent;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use super::paths::my_uid;
use super::protocol::{ClientMsg, FrameReader, MAX_FROM_CLIENT, PROTOCOL, ServerMsg};
use super::screen::ClientScreen;
use crate::app::{AppState, Msg};
use crate::keymap::{Action, Context};
use crate::tui::TuiSetup;
use crate::tui::frames::Frames;
use crate::tui::sources::{Incoming, Sources, term_msg};
use crate::tui::turn::{Screen, Turn};

/// What the connection tasks tell the session loop.
enum FromClient {
    Attached {
        id: u64,
        size: (u16, u16),
        read_only: bool,
        tx: mpsc::Sender<ServerMsg>,
    },
    Input {
        id: u64,
        event: TermEvent,
    },
    Detach {
        id: u64,
    },
    Gone {
        id: u64,
    },
    List {
        tx: mpsc::Sender<ServerMsg>,
    },
    Kill {
        force: bool,
        tx: mpsc::Sender<ServerMsg>,
    },
}

struct Client {
    screen: ClientScreen,
    tx: mpsc::Sender<ServerMsg>,
    read_only: bool,
}

/// Ctrl-Z in a session: the client that pressed it detaches.
#[derive(Default)]
struct Detacher {
    typing: Option<u64>,
    detach: Option<u64>,
}

impl Screen for Detacher {
    fn suspend(&mut self) -> io::Result<Option<Msg>> {
        self.detach = self.typing;
        Ok(None)
    }

    fn detach(&mut self) {
        self.detach = self.typing;
    }
}

/// Frames a client may have queued: past that it is behind, and is not
/// drawn for until it catches up (so it never slows the session).
const QUEUED_FRAMES: usize = 2;

/// Run the session `name` from `setup` until it is ended (quit from a
/// client, or `kill-session`), serving clients on `listener`.
pub async fn serve(setup: TuiSetup, name: String, listener: UnixListener) -> io::Result<()> {
    // A hangup is a terminal's, and the session outlives terminals: with
    // a handler registered and never read, SIGHUP no longer ends us.
    let _hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let started = crate::tui::start::start(setup, (80, 24));
    let (mut state, mut runner) = (started.state, started.runner);
    let mut sources = Sources::headless(started.receivers)?;
    let (to_loop, mut from_clients) = mpsc::channel(256);
    let accept = tokio::spawn(accept(listener, my_uid()?, name.clone(), to_loop));
    let mut clients: BTreeMap<u64, Client> = BTreeMap::new();
    let mut frames = Frames::new();
    let mut detacher = Detacher::default();
    let mut turn = Turn {
        state: &mut state,
        runner: &mut runner,
        screen: &mut detacher,
    };
    let mut open = turn.dispatch_all(started.first)?;
    let mut why = "the session ended".to_string();
    while open {
        // With nobody attached nothing is drawn (a detached session keeps
        // no screens), but the slot still passes, so the loop sleeps.
        if frames.due() {
            let started = std::time::Instant::now();
            draw(turn.state, &mut clients);
            frames.drawn(started.elapsed());
        }
        tokio::select! {
            biased;
            c = from_clients.recv() => {
                let Some(c) = c else { break };
                frames.changed(true);
                open = on_client(&mut turn, &mut clients, c, &name, &mut why)?;
            }
            incoming = sources.next(frames.wait(), frames.engine_open()) => {
                frames.arrived(&incoming);
                open = match incoming {
                    Incoming::Closed => false,
                    Incoming::Tick | Incoming::Input(_) => true,
                    Incoming::Msg(m) => turn.dispatch(m)?,
                    Incoming::Prompt(p) => {
                        let m = turn.runner.ask(p);
                        turn.dispatch(m)?
                    }
                    Incoming::Edit(session) => {
                        let m = turn.runner.refuse_edit(session);
                        turn.dispatch_all(m)?
                    }
                    Incoming::Engine(ev) => {
                        let until = frames.drain_until(std::time::Duration::from_millis(4));
                        let open = turn.drain_engine(ev, &mut sources, until)?;
                        frames.backlog(sources.engine_backlog());
                        open
                    }
                };
            }
        }
        if let Some(id) = turn.screen.detach.take()
            && let Some(c) = clients.remove(&id)
        {
            let _ = c.tx.try_send(ServerMsg::Detached {
                why: "detached; the session runs on".into(),
            });
        }
        let gone = turn.runner.gone_prompts();
        open = open && turn.dispatch_all(gone)? && !turn.state.quit;
    }
    accept.abort();
    let events = sources.events();
    crate::tui::quit::end_session(state, runner, events).await;
    // Each client is told (behind the frames it has queued), and its
    // writer gets a moment to say it; a client that reads nothing is not
    // waited for.
    let wait = std::time::Duration::from_millis(500);
    let tell = clients.values().map(|c| {
        let ended = ServerMsg::Ended { why: why.clone() };
        tokio::time::timeout(wait, c.tx.send(ended))
    });
    futures::future::join_all(tell).await;
    let told = futures::future::join_all(clients.values().map(|c| c.tx.closed()));
    let _ = tokio::time::timeout(wait, told).await;
    Ok(())
}

/// A frame for every client that has room for one.
fn draw(state: &AppState, clients: &mut BTreeMap<u64, Client>) {
    for c in clients.values_mut() {
        if c.tx.capacity() == 0 {
            continue;
        }
        if let Ok(bytes) = c.screen.frame(state) {
            let _ = c.tx.try_send(ServerMsg::Frame(bytes));
        }
    }
}

/// One message from a connection. False when the session ends.
fn on_client(
    turn: &mut Turn<'_, Detacher>,
    clients: &mut BTreeMap<u64, Client>,
    c: FromClient,
    name: &str,
    why: &mut String,
) -> io::Result<bool> {
    match c {
        FromClient::Attached {
            id,
            size,
            read_only,
            tx,
        } => {
            let screen = ClientScreen::new(size)?;
            clients.insert(
                id,
                Client {
                    screen,
                    tx,
                    read_only,
                },
            );
            if !read_only && turn.state.size != size {
                return turn.dispatch(Msg::Resize(size.0, size.1));
            }
        }
        FromClient::Input { id, event } => return on_input(turn, clients, id, event),
        FromClient::Detach { id } => {
            if let Some(c) = clients.remove(&id) {
                let _ = c.tx.try_send(ServerMsg::Detached {
                    why: "detached; the session runs on".into(),
                });
            }
        }
        FromClient::Gone { id } => {
            clients.remove(&id);
        }
        FromClient::List { tx } => {
            let _ = tx.try_send(ServerMsg::Sessions(vec![describe(
                turn.state, name, clients,
            )]));
        }
        FromClient::Kill { force, tx } => return Ok(!kill(turn.state, force, &tx, name, why)),
    }
    Ok(true)
}

/// A key, mouse event, paste or resize from client `id`. False when the
/// session ends (the client quit it).
fn on_input(
    turn: &mut Turn<'_, Detacher>,
    clients: &mut BTreeMap<u64, Client>,
    id: u64,
    event: TermEvent,
) -> io::Result<bool> {
    let Some(c) = clients.get_mut(&id) else {
        return Ok(true);
    };
    if let TermEvent::Resize(w, h) = event {
        c.screen.resize((w, h))?;
    }
    // A watcher looks: nothing it presses reaches the state, but the
    // detach keys (F12, Ctrl-Z, as rebound) let it go.
    if c.read_only {
        let detach = matches!(event, TermEvent::Key(k)
            if matches!(turn.state.keymap.lookup(Context::Global, &k),
                Some(Action::Detach | Action::Suspend)));
        if detach && let Some(c) = clients.remove(&id) {
            let _ = c.tx.try_send(ServerMsg::Detached {
                why: "stopped watching; the session runs on".into(),
            });
        }
        return Ok(true);
    }
    let size = c.screen.size();
    if turn.state.size != size && !matches!(event, TermEvent::Resize(..)) {
        turn.dispatch(Msg::Resize(size.0, size.1))?;
    }
    let Some(msg) = term_msg(event) else {
        return Ok(true);
    };
    turn.screen.typing = Some(id);
    let open = turn.dispatch(msg)?;
    turn.screen.typing = None;
    Ok(open)
}

/// `kill-session`: true when the session is to end now. While a command
/// runs it ends only when forced; the asker is told either way.
fn kill(
    s: &AppState,
    force: bool,
    tx: &mpsc::Sender<ServerMsg>,
    name: &str,
    why: &mut String,
) -> bool {
    let running = running_hosts(s);
    if running > 0 && !force {
        let _ = tx.try_send(ServerMsg::Refused {
            reason: format!(
                "a command still runs on {running} host(s) in session {name}; \
                 kill-session --force stops it"
            ),
        });
        return false;
    }
    let _ = tx.try_send(ServerMsg::Ended {
        why: format!("session {name} ended"),
    });
    *why = format!("session {name} was ended by kill-session");
    true
}

fn running_hosts(s: &AppState) -> usize {
    s.hosts
        .iter()
        .filter(|h| h.last.as_ref().is_some_and(|l| l.outcome.is_none()))
        .count()
}

/// One line for `sshdeck ls`.
fn describe(s: &AppState, name: &str, clients: &BTreeMap<u64, Client>) -> String {
    let watchers = clients.values().filter(|c| c.read_only).count();
    format!(
        "{name}: {} · {} running · {} attached{}",
        crate::text::count(s.hosts.len(), "host", "hosts"),
        running_hosts(s),
        clients.len() - watchers,
        match watchers {
            0 => String::new(),
            n => format!(", {n} watching"),
        }
    )
}

/// Accept connections; each peer must be this user.
async fn accept(listener: UnixListener, uid: u32, name: String, to_loop: mpsc::Sender<FromClient>) {
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
        ClientMsg::EditDone => return Ok(None),
        ClientMsg::ListSessions => FromClient::List { tx: tx.clone() },
        ClientMsg::KillSession { force, .. } => FromClient::Kill {
            force,
            tx: tx.clone(),
        },
    }))
}
