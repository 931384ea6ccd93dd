//! When to draw: at most one frame per ~16 ms, and only when something
//! changed; after a keystroke, within ~4 ms, so typing never waits for a
//! frame slot.

use std::time::{Duration, Instant};

use super::sources::Incoming;
use super::terminal::TerminalGuard;
use super::trace::Trace;
use crate::app::AppState;

/// At most one frame per this interval (about 60 fps).
const FRAME: Duration = Duration::from_millis(16);
/// After a keystroke we draw sooner, so typing never waits for a frame slot.
const INPUT_FRAME: Duration = Duration::from_millis(4);

pub struct Frames {
    dirty: bool,
    urgent: bool,
    last_draw: Instant,
    /// The opt-in timing trace (`SSHDECK_FRAME_TRACE`).
    pub trace: Trace,
}

impl Frames {
    pub fn new() -> Frames {
        Frames {
            dirty: true,
            urgent: false,
            last_draw: Instant::now() - FRAME,
            trace: Trace::from_env(),
        }
    }

    /// Something arrived: the screen may change, soon when it was input.
    pub fn arrived(&mut self, incoming: &Incoming) {
        let input = matches!(incoming, Incoming::Input(_));
        match incoming {
            Incoming::Input(_) => self.trace.mark("input"),
            Incoming::Engine(_) => self.trace.mark("drain"),
            _ => {}
        }
        self.changed(input);
    }

    /// Something changed: draw at the next slot (sooner for input).
    pub fn changed(&mut self, urgent: bool) {
        self.dirty = true;
        self.urgent |= urgent;
    }

    fn slot(&self) -> Duration {
        if self.urgent { INPUT_FRAME } else { FRAME }
    }

    /// Draw when something changed and the slot has come.
    pub fn draw_if_due(
        &mut self,
        term: &mut TerminalGuard,
        state: &AppState,
    ) -> std::io::Result<()> {
        if self.dirty && self.last_draw.elapsed() >= self.slot() {
            self.trace.mark("draw");
            term.term.draw(|f| crate::ui::render(f, state))?;
            self.trace.mark("drawn");
            self.dirty = false;
            self.urgent = false;
            self.last_draw = Instant::now();
        }
        Ok(())
    }

    /// How long the loop may wait for something to happen.
    pub fn wait(&self) -> Duration {
        if self.dirty {
            self.slot().saturating_sub(self.last_draw.elapsed())
        } else {
            Duration::from_secs(1)
        }
    }
}
