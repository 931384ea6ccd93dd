//! Everything the TUI waits on, behind one `next`: the terminal's input,
//! the signals that end the session, the engine's events, questions from
//! hosts, and the reports of background work (files, facts, recipes,
//! transfers). Input comes first (a biased select), so a flooding host
//! never makes a keystroke wait behind its output.

use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;

use super::files_io::Back;
use crate::app::Msg;
use crate::engine::facts::FactsReport;
use crate::engine::files::edit_session::EditSession;
use crate::engine::files::queue::JobView;
use crate::engine::recipe::RecipeEvent;
use crate::engine::{Event, Prompt};

/// One thing that arrived.
pub enum Incoming {
    /// A keystroke, mouse event, paste or resize: draw soon after.
    Input(Msg),
    /// Anything else for the update.
    Msg(Msg),
    /// An engine event; more may be drained with `try_engine`.
    Engine(Event),
    /// A host asks something; the runner keeps the reply channel.
    Prompt(Prompt),
    /// A file is ready to edit in $EDITOR.
    Edit(EditSession),
    /// The terminal went away, or SIGTERM / SIGHUP: the session ends.
    Closed,
    /// Nothing arrived within the wait: time to draw.
    Tick,
}

/// The receivers of everything background work hands back to the loop.
pub struct Receivers {
    pub events: mpsc::Receiver<Event>,
    pub prompts: Option<mpsc::Receiver<Prompt>>,
    pub back: mpsc::UnboundedReceiver<Back>,
    pub facts: mpsc::UnboundedReceiver<FactsReport>,
    pub recipes: mpsc::UnboundedReceiver<RecipeEvent>,
    pub transfers: mpsc::UnboundedReceiver<JobView>,
}

pub struct Sources {
    /// None while $EDITOR has the terminal: it reads stdin alone.
    input: Option<EventStream>,
    sigterm: Signal,
    /// None in a session server: a hangup there is a client's, and the
    /// session outlives it.
    sighup: Option<Signal>,
    rx: Receivers,
    /// Without a prompt channel nothing can be asked; a receiver whose
    /// sender is kept here never yields, so the select stays uniform.
    _no_prompts: mpsc::Sender<Prompt>,
    prompts: mpsc::Receiver<Prompt>,
}

impl Sources {
    pub fn new(rx: Receivers) -> std::io::Result<Sources> {
        let mut s = Sources::headless(rx)?;
        s.input = Some(EventStream::new());
        s.sighup = Some(signal(SignalKind::hangup())?);
        Ok(s)
    }

    /// Everything but a terminal: a session server's input comes from its
    /// clients, over the socket.
    pub fn headless(mut rx: Receivers) -> std::io::Result<Sources> {
        let (keep, none) = mpsc::channel(1);
        let prompts = rx.prompts.take().unwrap_or(none);
        Ok(Sources {
            input: None,
            sigterm: signal(SignalKind::terminate())?,
            sighup: None,
            rx,
            _no_prompts: keep,
            prompts,
        })
    }

    /// The next thing to handle, or `Tick` after `wait`. Engine events
    /// are left waiting unless `engine` (just after a keystroke, see
    /// `Frames::engine_open`).
    pub async fn next(&mut self, wait: Duration, engine: bool) -> Incoming {
        let input = async {
            match self.input.as_mut() {
                Some(i) => i.next().await,
                None => std::future::pending().await,
            }
        };
        let hangup = async {
            match self.sighup.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            ev = input => match ev {
                Some(Ok(ev)) => term_msg(ev).map_or(Incoming::Tick, Incoming::Input),
                Some(Err(_)) | None => Incoming::Closed,
            },
            _ = self.sigterm.recv() => Incoming::Closed,
            _ = hangup => Incoming::Closed,
            p = self.prompts.recv() => p.map_or(Incoming::Tick, Incoming::Prompt),
            b = self.rx.back.recv() => match b {
                Some(Back::Msg(m)) => Incoming::Msg(m),
                Some(Back::Edit(s)) => Incoming::Edit(s),
                None => Incoming::Tick,
            },
            r = self.rx.facts.recv() => r.map_or(Incoming::Tick, |r| Incoming::Msg(Msg::Facts(r))),
            r = self.rx.recipes.recv() => r.map_or(Incoming::Tick, |r| Incoming::Msg(Msg::Recipe(r))),
            v = self.rx.transfers.recv() => v.map_or(Incoming::Tick, |v| Incoming::Msg(Msg::Transfer(v))),
            ev = self.rx.events.recv(), if engine => ev.map_or(Incoming::Tick, Incoming::Engine),
            _ = tokio::time::sleep(wait) => Incoming::Tick,
        }
    }

    /// Engine events back up: a good part of the channel is waiting.
    pub fn engine_backlog(&self) -> bool {
        self.rx.events.len() >= self.rx.events.max_capacity() / 4
    }

    /// An engine event already waiting, for draining a burst.
    pub fn try_engine(&mut self) -> Option<Event> {
        self.rx.events.try_recv().ok()
    }

    /// The engine's events, for the wait at quitting.
    pub fn events(&mut self) -> &mut mpsc::Receiver<Event> {
        &mut self.rx.events
    }

    /// Stop reading the terminal (while $EDITOR has it), and start again.
    pub fn pause_input(&mut self) {
        self.input = None;
    }

    pub fn resume_input(&mut self) {
        self.input = Some(EventStream::new());
    }
}

/// A terminal event as the update's message; None for what it ignores.
pub fn term_msg(ev: TermEvent) -> Option<Msg> {
    match ev {
        TermEvent::Key(k) => Some(Msg::Key(k)),
        TermEvent::Mouse(m) => Some(Msg::Mouse(m)),
        TermEvent::Paste(p) => Some(Msg::Paste(p)),
        TermEvent::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}
