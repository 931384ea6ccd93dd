//! Opening the TUI: the engine with its hosts, the IO beside it, the app
//! state, and what the screen has to say when it opens.

use super::effects::{EffectRunner, Parts};
use super::sources::Receivers;
use super::{TuiSetup, files_io, history, workflow_io};
use crate::app::opening::{self, Opening};
use crate::app::{AppState, Msg};
use crate::engine::Engine;
use crate::engine::commands::run_record::RecordedTarget;

/// What the loop starts from.
pub struct Started {
    pub state: AppState,
    pub runner: EffectRunner,
    pub receivers: Receivers,
    /// Said in the status line as the screen opens, in this order.
    pub first: Vec<Msg>,
}

/// Start the engine and open the app state, for a terminal of `size`.
pub fn start(setup: TuiSetup, size: (u16, u16)) -> Started {
    // The engine's queue is small: when the screen falls behind a flood,
    // hosts wait (SSH flow control) instead of our memory growing.
    let (engine, events) = Engine::new(setup.engine);
    for (host, port, key) in &setup.session_keys {
        engine.trust().trust_for_session(host, *port, key);
    }
    let rows: Vec<(String, Vec<String>)> = (setup.hosts.iter())
        .map(|(t, tags)| (t.label.clone(), tags.clone()))
        .collect();
    // The demo's hosts exist only in this process: its runs are not
    // recorded, as there is nothing to select again later.
    let ran_on = setup.session_keys.is_empty().then(|| {
        (setup.hosts.iter())
            .map(|(t, _)| (t.select_as.clone(), RecordedTarget::of(t)))
            .collect()
    });
    let mut engine = engine;
    for (t, _) in setup.hosts {
        engine.add_host(t);
    }
    let (back_tx, back) = tokio::sync::mpsc::unbounded_channel();
    let (files, transfers) = files_io::FilesIo::new(files_io::links(&engine, rows.len()), back_tx);
    let (mut workflows, facts, recipes) =
        workflow_io::WorkflowIo::new(setup.facts, setup.recipes.clone());
    let mut first: Vec<Msg> = setup.notice.into_iter().map(Msg::Status).collect();
    let history = match &setup.history {
        Some(path) => history::load(path).unwrap_or_else(|e| {
            first.push(Msg::Status(format!("history {}: {e}", path.display())));
            Vec::new()
        }),
        None => Vec::new(),
    };
    let facts_enabled = workflows.has_collectors();
    if setup.facts_on_start && facts_enabled {
        let all: Vec<usize> = (0..rows.len()).collect();
        workflows.watch(&engine, &all);
    }
    first.extend(known_hosts_notice(&engine));
    let state = opening::open(Opening {
        rows,
        origins: setup.origins,
        groups: setup.groups,
        scrollback: setup.scrollback,
        columns: setup.columns,
        recipes: setup.recipes,
        commands: setup.commands,
        keymap: setup.keymap,
        history,
        command_timeout: setup.command_timeout,
        facts_enabled,
        facts_on_start: setup.facts_on_start,
        preselect: setup.preselect,
        size,
        session: setup.session,
    });
    let runner = EffectRunner::new(Parts {
        engine,
        files,
        workflows,
        record: setup.record,
        history: setup.history,
        ran_on,
    });
    let receivers = Receivers {
        events,
        prompts: setup.prompts,
        back,
        facts,
        recipes,
        transfers,
    };
    Started {
        state,
        runner,
        receivers,
        first,
    }
}

/// Unreadable known_hosts lines are ignored, and the screen says so.
fn known_hosts_notice(engine: &Engine) -> Option<Msg> {
    let trust = engine.trust();
    let bad = trust.take_new_bad_lines(trust.default_files());
    let first = bad.first()?;
    Some(Msg::Status(format!(
        "{} ignored, first {}:{}: {}",
        crate::text::count(
            bad.len(),
            "unreadable known_hosts line",
            "unreadable known_hosts lines"
        ),
        first.file.display(),
        first.line,
        first.reason
    )))
}
