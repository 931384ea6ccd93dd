//! When to draw: at most one frame per ~33 ms, and only when something
//! changed; after a keystroke, within ~2 ms, so typing never waits for a
//! frame slot. The figures are from `scripts/bench-tui --profile`
//! (BENCHMARKS.md, "the flood's keystroke tail"): under a flood every
//! frame of 50 live panes is tens of KiB the terminal must parse, on the
//! same cores that carry the keystroke, and writing it blocks while the
//! terminal is behind. So output frames are paced by what the last one
//! cost: a frame that took long to draw and write means the terminal is
//! behind, and the next output frame waits for it to catch up (at most
//! ~4 frames a second); a keystroke's frame never waits for that.

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
/// An output frame waits this many times what the last frame cost...
const COST_FACTOR: u32 = 4;
/// ...but never longer than this.
const SLOWEST: Duration = Duration::from_millis(250);
/// After a keystroke during a flood (engine events backed up), engine
/// events wait this long: the hosts' output backs up further (SSH flow
/// control holds them), so the cores the flood was using are free for
/// the keystroke's way to the screen, the terminal's share included.
/// Typing is sparse: the flood loses little. Without a backlog (a shell's
/// echo, say) nothing waits.
const QUIET: Duration = Duration::from_millis(40);

pub struct Frames {
    dirty: bool,
    urgent: bool,
    last_draw: Instant,
    /// How long the last frame took to render and write.
    last_cost: Duration,
    /// Engine events wait until then (see `QUIET`).
    quiet_until: Option<Instant>,
    /// Engine events were backed up after the last drain.
    backlog: bool,
    /// The opt-in timing trace (`SSHDECK_FRAME_TRACE`).
    pub trace: Trace,
}

impl Default for Frames {
    fn default() -> Self {
        Frames::new()
    }
}

impl Frames {
    pub fn new() -> Frames {
        Frames {
            dirty: true,
            urgent: false,
            last_draw: Instant::now() - FRAME,
            last_cost: Duration::ZERO,
            quiet_until: None,
            backlog: false,
            trace: Trace::from_env(),
        }
    }

    /// Something arrived: the screen may change, soon when it was input.
    pub fn arrived(&mut self, incoming: &Incoming) {
        match incoming {
            Incoming::Input(_) => self.input(),
            Incoming::Engine(_) => {
                self.trace.mark("drain");
                self.changed(false);
            }
            _ => self.changed(false),
        }
    }

    /// A keystroke (a click, a paste): its frame comes soon, and during a
    /// flood engine events wait (see `QUIET`). A session's loop calls
    /// this for its clients' input.
    pub fn input(&mut self) {
        self.trace.mark("input");
        if self.backlog {
            self.quiet_until = Some(Instant::now() + QUIET);
        }
        self.changed(true);
    }

    /// Something changed: draw at the next slot (sooner for input).
    pub fn changed(&mut self, urgent: bool) {
        self.dirty = true;
        self.urgent |= urgent;
    }

    fn slot(&self) -> Duration {
        if self.urgent {
            INPUT_FRAME
        } else {
            (self.last_cost * COST_FACTOR).clamp(FRAME, SLOWEST)
        }
    }

    /// Something changed and the slot has come: draw now.
    pub fn due(&self) -> bool {
        self.dirty && self.last_draw.elapsed() >= self.slot()
    }

    /// A frame was drawn (by a loop that draws for itself), at a cost.
    pub fn drawn(&mut self, cost: Duration) {
        self.dirty = false;
        self.urgent = false;
        self.last_draw = Instant::now();
        self.last_cost = cost;
    }

    /// Draw when something changed and the slot has come.
    pub fn draw_if_due(
        &mut self,
        term: &mut TerminalGuard,
        state: &AppState,
    ) -> std::io::Result<()> {
        if self.due() {
            self.trace.mark("draw");
            let started = Instant::now();
            term.term.draw(|f| crate::ui::render(f, state))?;
            self.trace.mark("drawn");
            self.drawn(started.elapsed());
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

    /// After a drain: whether engine events are still backed up.
    pub fn backlog(&mut self, backed_up: bool) {
        self.backlog = backed_up;
    }

    /// Whether engine events may be read now (not just after a keystroke).
    pub fn engine_open(&self) -> bool {
        self.quiet_until.is_none_or(|t| Instant::now() >= t)
    }

    /// How long the loop may wait for something to happen: the next frame
    /// slot, or the end of a keystroke's quiet time.
    pub fn wait(&self) -> Duration {
        let frame = if self.dirty {
            self.slot().saturating_sub(self.last_draw.elapsed())
        } else {
            Duration::from_secs(1)
        };
        match self.quiet_until {
            Some(t) if Instant::now() < t => frame.min(t - Instant::now()),
            _ => frame,
        }
    }
}
