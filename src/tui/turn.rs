//! One turn of a loop that runs the app: a message goes to the pure
//! update, each effect to the runner, and what the runner answers back to
//! the update, in the same turn. Shared by the terminal's loop (`tui::run`)
//! and a session server's (`session`), which differ only in who owns the
//! screen: that is the `Screen` they pass in.

use std::collections::VecDeque;
use std::time::Instant;

use super::effects::{Applied, EffectRunner};
use super::sources::Sources;
use super::terminal::TerminalGuard;
use crate::app::{self, AppState, Msg};

/// Who owns the screen: what Ctrl-Z does.
pub trait Screen {
    /// Suspend (a terminal stops; a session's client detaches), and the
    /// message to handle once back, if any (the terminal's new size).
    fn suspend(&mut self) -> std::io::Result<Option<Msg>>;

    /// Detach the client that asked; a terminal of its own has no
    /// session to leave (the app only asks inside one).
    fn detach(&mut self) {}
}

impl Screen for TerminalGuard {
    fn suspend(&mut self) -> std::io::Result<Option<Msg>> {
        TerminalGuard::suspend(self)?;
        let size = self.term.size()?;
        Ok(Some(Msg::Resize(size.width, size.height)))
    }
}

/// What one turn of the loop works on.
pub struct Turn<'a, S: Screen> {
    pub state: &'a mut AppState,
    pub runner: &'a mut EffectRunner,
    pub screen: &'a mut S,
}

impl<S: Screen> Turn<'_, S> {
    /// Update with `msg`, apply its effects, and feed what they yield back
    /// in the same turn (a resize after Ctrl-Z tells the shells their new
    /// size), so nothing is dropped. False when the user quit.
    pub fn dispatch(&mut self, msg: Msg) -> std::io::Result<bool> {
        let mut msgs = VecDeque::from([msg]);
        while let Some(msg) = msgs.pop_front() {
            for eff in app::update(self.state, msg) {
                match self.runner.apply(eff) {
                    Applied::Msgs(more) => msgs.extend(more),
                    Applied::Quit => return Ok(false),
                    Applied::Suspend => msgs.extend(self.screen.suspend()?),
                    Applied::Detach => self.screen.detach(),
                }
            }
        }
        Ok(true)
    }

    pub fn dispatch_all(&mut self, msgs: Vec<Msg>) -> std::io::Result<bool> {
        for m in msgs {
            if !self.dispatch(m)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// An engine event, then those already waiting, until `until`.
    pub fn drain_engine(
        &mut self,
        ev: crate::engine::Event,
        sources: &mut Sources,
        until: Instant,
    ) -> std::io::Result<bool> {
        let mut next = Some(ev);
        while let Some(ev) = next {
            if !self.dispatch(Msg::Engine(ev))? {
                return Ok(false);
            }
            next = (Instant::now() < until)
                .then(|| sources.try_engine())
                .flatten();
        }
        Ok(true)
    }
}
