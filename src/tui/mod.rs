//! The TUI runner: owns the terminal and only dispatches. Each thing that
//! arrives (sources.rs) becomes a message for the pure update; each effect
//! the update asks for is carried out by the effect runner (effects.rs),
//! whose answers are messages again. Only `app::update` writes the state.
//!
//! Loop shape (as in yazi): wait for anything, drain what is pending
//! (within a time budget, input first), then render once, only when
//! something changed and at the pace frames.rs sets (soon after a key,
//! at most ~30 times a second for output).

pub mod effects;
pub mod files_io;
pub mod frames;
pub mod history;
pub mod quit;
pub mod save_pane;
pub mod shell_io;
pub mod sources;
pub mod start;
pub mod terminal;
mod trace;
pub mod turn;
pub mod workflow_io;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::engine::{EngineConfig, Prompt, Target};
use sources::{Incoming, Sources};
use terminal::TerminalGuard;
use turn::Turn;

pub use terminal::restore;

pub struct TuiSetup {
    pub engine: EngineConfig,
    pub prompts: Option<mpsc::Receiver<Prompt>>,
    pub hosts: Vec<(Target, Vec<String>)>,
    /// Said in the status line when the screen opens (group names two
    /// sources define).
    pub notice: Option<String>,
    /// For each host, where the inventory names it, for the host info:
    /// (what, "FILE:LINE"), in merge order.
    pub origins: Vec<Vec<(String, String)>>,
    pub groups: BTreeMap<String, String>,
    pub scrollback: usize,
    /// Hosts selected at start (e.g. from a selector on the command line).
    pub preselect: Vec<usize>,
    /// Host keys trusted for this run only (the demo's ephemeral hosts).
    pub session_keys: Vec<(String, u16, russh::keys::PublicKey)>,
    /// Record shells and command output here.
    pub record: Option<std::path::PathBuf>,
    /// Facts collectors, the host-list columns, and whether every host is
    /// connected at start to show its facts.
    pub facts: Vec<crate::engine::facts::Scheduled>,
    pub columns: Vec<crate::app::state::Column>,
    pub facts_on_start: bool,
    /// Recipes and saved commands for the palette.
    pub recipes: Vec<crate::engine::recipe::Recipe>,
    pub commands: Vec<(String, String)>,
    /// The keymap, with the config's rebindings.
    pub keymap: crate::keymap::Keymap,
    /// Where commands are saved across runs; None keeps them in memory.
    pub history: Option<std::path::PathBuf>,
    /// The config's `command_timeout`: the Ctrl-O timeout starts there.
    pub command_timeout: Option<Duration>,
    /// The session's name when a session server runs this (`tui -s`).
    pub session: Option<String>,
}

pub async fn run(setup: TuiSetup) -> std::io::Result<()> {
    let mut guard = TerminalGuard::new()?;
    let size = guard.term.size()?;
    let started = start::start(setup, (size.width, size.height));
    let (mut state, mut runner) = (started.state, started.runner);
    let mut sources = Sources::new(started.receivers)?;
    let mut frames = frames::Frames::new();
    let mut turn = Turn {
        state: &mut state,
        runner: &mut runner,
        screen: &mut guard,
    };
    let mut open = turn.dispatch_all(started.first)?;
    while open {
        frames.draw_if_due(turn.screen, turn.state)?;
        let incoming = sources.next(frames.wait(), frames.engine_open()).await;
        frames.arrived(&incoming);
        open = match incoming {
            Incoming::Closed => false,
            Incoming::Tick => true,
            Incoming::Input(m) | Incoming::Msg(m) => turn.dispatch(m)?,
            Incoming::Prompt(p) => {
                let m = turn.runner.ask(p);
                turn.dispatch(m)?
            }
            Incoming::Edit(session) => {
                let msgs = turn.runner.edit(session, turn.screen, &mut sources)?;
                turn.dispatch_all(msgs)?
            }
            Incoming::Engine(ev) => {
                let until = frames.drain_until(DRAIN_BUDGET);
                let open = turn.drain_engine(ev, &mut sources, until)?;
                frames.backlog(sources.engine_backlog());
                frames.trace.mark("drained");
                open
            }
        };
        let gone = turn.runner.gone_prompts();
        open = open && turn.dispatch_all(gone)? && !turn.state.quit;
    }
    quit::leave(state, runner, sources.events(), guard).await
}

/// Longest we spend applying engine events before drawing and reading keys
/// again, so a flooding host cannot make the UI lag: a key that arrives
/// meanwhile waits at most this long to be read (BENCHMARKS.md, "the
/// flood's keystroke tail").
const DRAIN_BUDGET: Duration = Duration::from_millis(4);
