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
use tokio::net::UnixListener;
use tokio::sync::mpsc;

use super::connection::{FromClient, accept};
use super::outgoing::ClientOut;
use super::paths::my_uid;
use super::protocol::ServerMsg;
use super::screen::ClientScreen;
use crate::app::{AppState, Msg};
use crate::engine::files::edit_session::EditSession;
use crate::keymap::{Action, Context};
use crate::tui::TuiSetup;
use crate::tui::frames::Frames;
use crate::tui::sources::{Incoming, Sources, term_msg};
use crate::tui::turn::{Screen, Turn};

struct Client {
    screen: ClientScreen,
    out: ClientOut,
    read_only: bool,
    /// Suspended (Ctrl-Z) or lending its terminal to $EDITOR: not drawn
    /// for until it asks for a repaint.
    away: bool,
}

/// What a key asked of the client that pressed it: Ctrl-Z suspends that
/// client (as it would suspend a program; `fg` brings it back to the same
/// session), the detach key detaches it. Either way the session runs on.
#[derive(Default)]
struct ClientAsks {
    typing: Option<u64>,
    suspend: Option<u64>,
    detach: Option<u64>,
}

impl Screen for ClientAsks {
    fn suspend(&mut self) -> io::Result<Option<Msg>> {
        self.suspend = self.typing;
        Ok(None)
    }

    fn detach(&mut self) {
        self.detach = self.typing;
    }
}

/// The session beside the app: its clients, and the edit whose $EDITOR
/// runs on one of their terminals.
struct Attached {
    clients: BTreeMap<u64, Client>,
    /// The interactive client that typed last: $EDITOR opens on its terminal.
    last_typist: Option<u64>,
    editing: Option<(u64, EditSession)>,
}

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
    let mut at = Attached {
        clients: BTreeMap::new(),
        last_typist: None,
        editing: None,
    };
    let mut frames = Frames::new();
    let mut asks = ClientAsks::default();
    let mut turn = Turn {
        state: &mut state,
        runner: &mut runner,
        screen: &mut asks,
    };
    let mut open = turn.dispatch_all(started.first)?;
    let mut why = format!("session {name} ended");
    while open {
        // With nobody attached nothing is drawn (a detached session keeps
        // no screens), but the slot still passes, so the loop sleeps.
        if frames.due() {
            let started = std::time::Instant::now();
            draw(turn.state, &mut at.clients);
            frames.drawn(started.elapsed());
        }
        tokio::select! {
            biased;
            c = from_clients.recv() => {
                let Some(c) = c else { break };
                if matches!(c, FromClient::Input { .. }) {
                    frames.input();
                } else {
                    frames.changed(true);
                }
                open = on_client(&mut turn, &mut at, c, &name, &mut why)?;
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
                        lend_terminal(turn.runner, &mut at, session);
                        true
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
        answer_asks(turn.screen, &mut at.clients);
        let gone = turn.runner.gone_prompts();
        open = open && turn.dispatch_all(gone)? && !turn.state.quit;
    }
    accept.abort();
    end(state, runner, &mut sources, at, why).await;
    Ok(())
}

/// The session's end: an edit still open ends, what runs on the hosts is
/// stopped (shown to the clients meanwhile), and each client is told,
/// with every host where the command may still run.
async fn end(
    state: AppState,
    runner: crate::tui::effects::EffectRunner,
    sources: &mut Sources,
    mut at: Attached,
    mut why: String,
) {
    if let Some((_, session)) = at.editing.take() {
        runner
            .files
            .finish_edit(session, Err("the session ended during the edit".into()));
    }
    let events = sources.events();
    let mut on_clients = |s: &AppState| draw(s, &mut at.clients);
    let left = crate::tui::quit::end_session(state, runner, events, &mut on_clients).await;
    left.iter().for_each(|l| why.push_str(&format!("\n{l}")));
    tell_ended(&at.clients, &why).await;
}

/// Each client is told the session ended (behind the frames it has
/// queued), and its writer gets a moment to say it; a client that reads
/// nothing is not waited for.
async fn tell_ended(clients: &BTreeMap<u64, Client>, why: &str) {
    let wait = std::time::Duration::from_millis(500);
    let ended = ServerMsg::Ended { why: why.into() };
    clients.values().for_each(|c| {
        c.out.send(&ended);
    });
    futures::future::join_all(clients.values().map(|c| c.out.flushed(wait))).await;
}

/// Ctrl-Z and the detach key, for the client that pressed them.
fn answer_asks(asks: &mut ClientAsks, clients: &mut BTreeMap<u64, Client>) {
    if let Some(id) = asks.detach.take()
        && let Some(c) = clients.remove(&id)
    {
        c.out.send(&ServerMsg::Detached {
            why: "detached; the session runs on".into(),
        });
    }
    if let Some(id) = asks.suspend.take()
        && let Some(c) = clients.get_mut(&id)
    {
        c.away = true;
        c.out.send(&ServerMsg::Suspend);
    }
}

/// $EDITOR runs on the terminal of the client that typed last (its own
/// $VISUAL or $EDITOR, on the file the server downloaded: both are this
/// user's, on this machine). With none attached, or an edit already
/// open, the edit ends and says why; the remote file is left as it was.
fn lend_terminal(
    runner: &mut crate::tui::effects::EffectRunner,
    at: &mut Attached,
    session: EditSession,
) {
    let refuse = |why: &str| Err(why.to_string());
    if at.editing.is_some() {
        runner.files.finish_edit(
            session,
            refuse("another file is open in an editor; save and quit it first"),
        );
        return;
    }
    let Some((id, c)) = at
        .last_typist
        .and_then(|id| Some(id).zip(at.clients.get_mut(&id)))
    else {
        runner
            .files
            .finish_edit(session, refuse("no terminal is attached to edit on"));
        return;
    };
    c.away = true;
    let path = session.local.display().to_string();
    if !c.out.send(&ServerMsg::Edit { path }) {
        c.away = false;
        runner
            .files
            .finish_edit(session, refuse("the terminal is behind; try again"));
        return;
    }
    at.editing = Some((id, session));
}

/// A frame for every client that has room for one.
fn draw(state: &AppState, clients: &mut BTreeMap<u64, Client>) {
    for c in clients.values_mut() {
        if c.away || !c.out.has_room() {
            continue;
        }
        if let Ok(bytes) = c.screen.frame(state) {
            c.out.send(&ServerMsg::Frame(bytes));
        }
    }
}

/// One message from a connection. False when the session ends.
fn on_client(
    turn: &mut Turn<'_, ClientAsks>,
    at: &mut Attached,
    c: FromClient,
    name: &str,
    why: &mut String,
) -> io::Result<bool> {
    match c {
        FromClient::Attached {
            id,
            size,
            read_only,
            out,
        } => {
            let screen = ClientScreen::new(size)?;
            let client = Client {
                screen,
                out,
                read_only,
                away: false,
            };
            at.clients.insert(id, client);
            if !read_only && turn.state.size != size {
                return turn.dispatch(Msg::Resize(size.0, size.1));
            }
        }
        FromClient::Input { id, event } => return on_input(turn, at, id, event),
        FromClient::Detach { id } => {
            if let Some(c) = at.clients.remove(&id) {
                c.out.send(&ServerMsg::Detached {
                    why: "detached; the session runs on".into(),
                });
            }
            edit_ends_with(turn, at, id, "the terminal that was editing detached");
        }
        FromClient::EditDone { id, error } => {
            if at.editing.as_ref().is_some_and(|(by, _)| *by == id)
                && let Some((_, session)) = at.editing.take()
            {
                let r = if error.is_empty() { Ok(()) } else { Err(error) };
                turn.runner.files.finish_edit(session, r);
            }
        }
        FromClient::Repaint { id } => {
            if let Some(c) = at.clients.get_mut(&id) {
                c.away = false;
                c.screen.repaint()?;
            }
        }
        FromClient::Gone { id } => {
            at.clients.remove(&id);
            edit_ends_with(turn, at, id, "the terminal that was editing went away");
        }
        FromClient::List { out } => {
            out.send(&ServerMsg::Sessions(vec![describe(
                turn.state,
                name,
                &at.clients,
            )]));
        }
        FromClient::Kill { force, out } => return Ok(!kill(turn.state, force, &out, name, why)),
    }
    Ok(true)
}

/// Client `id` left while $EDITOR ran on its terminal: the edit ends, and
/// the remote file is left as it was (what the editor saved is not known
/// to be finished).
fn edit_ends_with(turn: &mut Turn<'_, ClientAsks>, at: &mut Attached, id: u64, why: &str) {
    if at.last_typist == Some(id) {
        at.last_typist = None;
    }
    if at.editing.as_ref().is_some_and(|(by, _)| *by == id)
        && let Some((_, session)) = at.editing.take()
    {
        turn.runner.files.finish_edit(session, Err(why.to_string()));
    }
}

/// A key, mouse event, paste or resize from client `id`. False when the
/// session ends (the client quit it).
fn on_input(
    turn: &mut Turn<'_, ClientAsks>,
    at: &mut Attached,
    id: u64,
    event: TermEvent,
) -> io::Result<bool> {
    let Some(c) = at.clients.get_mut(&id) else {
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
        if detach && let Some(c) = at.clients.remove(&id) {
            c.out.send(&ServerMsg::Detached {
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
    at.last_typist = Some(id);
    turn.screen.typing = Some(id);
    let open = turn.dispatch(msg)?;
    turn.screen.typing = None;
    Ok(open)
}

/// `kill-session`: true when the session is to end now. While a command
/// runs it ends only when forced; the asker is told either way.
fn kill(s: &AppState, force: bool, out: &ClientOut, name: &str, why: &mut String) -> bool {
    let running = running_hosts(s);
    if running > 0 && !force {
        out.send(&ServerMsg::Refused {
            reason: format!(
                "a command still runs on {running} host(s) in session {name}; \
                 kill-session --force stops it"
            ),
        });
        return false;
    }
    out.send(&ServerMsg::Ended {
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
