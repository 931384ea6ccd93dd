//! When to draw: at most one frame per ~33 ms, and only when something
//! changed; after a keystroke, within ~2 ms, so typing never waits for a
//! frame slot. The figures are from `scripts/bench-tui --profile`
//! (BENCHMARKS.md, "the flood's keystroke tail"): under a flood every
//! frame of 50 live panes is tens of KiB the terminal must parse, on the
//! same cores that carry the keystroke; 30 frames a second of streaming
//! output is smooth, and leaves the terminal room for the keystroke.

use std::time::{Duration, Instant};

use super::sources::Incoming;
use super::terminal::TerminalGuard;
use super::trace::Trace;
use crate::app::AppState;

/// At most one frame per this interval (about 30 fps) for output.
const FRAME: Duration = Duration::from_millis(33);
/// After a keystroke we draw sooner, so typing never waits for a frame
/// slot; a little later than at once, so a burst (a paste) is one frame.
const INPUT_FRAME: Duration = Duration::from_millis(2);

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

    /// Until when engine events may be applied before the next draw: the
    /// frame's slot when a keystroke waits to be shown (its frame comes
    /// first), else `budget` from now.
    pub fn drain_until(&self, budget: Duration) -> Instant {
        let budget_end = Instant::now() + budget;
        if self.dirty && self.urgent {
            budget_end.min(self.last_draw + self.slot())
        } else {
            budget_end
        }
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
