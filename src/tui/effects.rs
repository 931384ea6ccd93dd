//! Carrying out the effects the update asks for. The runner owns the
//! engine and the IO beside it (files, shells, facts, recipes, history,
//! the run record); each effect is applied here and what it yields goes
//! back as messages, so only `app::update` ever writes the app state.

use std::collections::HashMap;
use std::path::PathBuf;

use tokio::sync::oneshot;

use super::files_io::FilesIo;
use super::shell_io::ShellIo;
use super::sources::Sources;
use super::terminal::TerminalGuard;
use super::workflow_io::WorkflowIo;
use super::{files_io, history, save_pane};
use crate::app::{Effect, Msg};
use crate::engine::commands::run_record::{self, RecordedHost, RecordedTarget, RunRecord};
use crate::engine::files::edit_session::EditSession;
use crate::engine::{Answer, Engine, HostId, HostOutcome, Prompt};

/// What applying an effect asks of the loop.
pub enum Applied {
    /// Feed these messages to the update.
    Msgs(Vec<Msg>),
    /// The user quit.
    Quit,
    /// Ctrl-Z: the terminal's owner stops (a session's client detaches).
    Suspend,
    /// The client that asked leaves its session.
    Detach,
}

pub struct EffectRunner {
    pub engine: Engine,
    pub files: FilesIo,
    pub workflows: WorkflowIo,
    pub shells: ShellIo,
    /// Each open question's reply channel, by the id the app knows it by.
    replies: HashMap<u64, oneshot::Sender<Answer>>,
    next_prompt: u64,
    /// Record shells and command output here.
    record: Option<PathBuf>,
    /// Where commands are saved across runs; None keeps them in memory.
    history: Option<PathBuf>,
    /// How each host was selected and where it runs, for the run record;
    /// None when runs are not recorded (the demo's hosts exist only in
    /// this process: there is nothing to select again later).
    ran_on: Option<Vec<(String, RecordedTarget)>>,
}

/// The parts an `EffectRunner` is made of.
pub struct Parts {
    pub engine: Engine,
    pub files: FilesIo,
    pub workflows: WorkflowIo,
    pub record: Option<PathBuf>,
    pub history: Option<PathBuf>,
    pub ran_on: Option<Vec<(String, RecordedTarget)>>,
}

impl EffectRunner {
    pub fn new(p: Parts) -> EffectRunner {
        EffectRunner {
            engine: p.engine,
            files: p.files,
            workflows: p.workflows,
            shells: ShellIo::new(p.record.clone()),
            replies: HashMap::new(),
            next_prompt: 1,
            record: p.record,
            history: p.history,
            ran_on: p.ran_on,
        }
    }

    /// Apply one effect. What needs the terminal (quitting, Ctrl-Z) is
    /// handed back to the loop that owns it, so the runner serves a
    /// terminal or a session's clients alike.
    pub fn apply(&mut self, eff: Effect) -> Applied {
        match eff {
            Effect::Quit => Applied::Quit,
            Effect::Suspend => Applied::Suspend,
            Effect::Detach => Applied::Detach,
            eff => Applied::Msgs(self.apply_io(eff)),
        }
    }

    /// The effects that only start IO or hand work to the engine.
    fn apply_io(&mut self, eff: Effect) -> Vec<Msg> {
        let one = |m: Option<Msg>| m.into_iter().collect();
        match eff {
            Effect::Exec {
                hosts,
                command,
                mut opts,
            } => {
                let ids: Vec<_> = hosts.iter().map(|&h| HostId(h)).collect();
                opts.log_dir = self.record.clone();
                vec![Msg::JobStarted(self.engine.exec(&ids, &command, &opts))]
            }
            eff if ShellIo::handles(&eff) => one(self.shells.apply(&mut self.engine, eff)),
            Effect::Cancel(job) => {
                self.engine.cancel(job);
                vec![]
            }
            Effect::WatchFacts { hosts } => {
                self.workflows.watch(&self.engine, &hosts);
                vec![]
            }
            Effect::RunRecipe { name, hosts } => {
                one(self.workflows.run_recipe(&self.engine, &name, &hosts))
            }
            Effect::CancelRecipe => {
                self.workflows.cancel_recipe();
                vec![]
            }
            Effect::Answer { id, answer } => {
                if let Some(tx) = self.replies.remove(&id) {
                    let _ = tx.send(answer);
                }
                vec![]
            }
            Effect::Save(req) => {
                vec![Msg::Status(
                    save_pane::save(&req).unwrap_or_else(|e| e.to_string()),
                )]
            }
            Effect::RecordRun { command, hosts } => one(self.record_run(command, hosts)),
            Effect::SaveHistory(command) => one(self.save_history(&command)),
            eff => {
                self.apply_files(eff);
                vec![]
            }
        }
    }

    /// The files tab's effects: listings, file operations, transfers.
    fn apply_files(&mut self, eff: Effect) {
        match eff {
            Effect::List {
                pane,
                side,
                hosts,
                dir,
                request,
            } => self.files.list(pane, side, &hosts, dir, request),
            Effect::Complete {
                pane,
                side,
                hosts,
                partial,
            } => self.files.complete(pane, side, &hosts, partial),
            Effect::FileOp { side, hosts, op } => self.files.file_op(side, &hosts, op),
            Effect::Transfer(req) => self.files.transfer(req),
            Effect::TransferCtl { id, action } => self.files.control(id, action),
            Effect::Edit { host, path } => self.files.start_edit(host, path),
            // Every other effect is applied in `apply_io` or `apply`.
            _ => {}
        }
    }

    /// Keep a host's question until the user answers it.
    pub fn ask(&mut self, p: Prompt) -> Msg {
        let id = self.next_prompt;
        self.next_prompt += 1;
        self.replies.insert(id, p.reply);
        Msg::Prompt {
            id,
            question: p.question,
        }
    }

    /// Questions whose asker has gone (its host cancelled or failed)
    /// leave the screen with it.
    pub fn gone_prompts(&mut self) -> Vec<Msg> {
        let gone: Vec<u64> = self
            .replies
            .iter()
            .filter(|(_, tx)| tx.is_closed())
            .map(|(id, _)| *id)
            .collect();
        gone.into_iter()
            .map(|id| {
                self.replies.remove(&id);
                Msg::PromptGone(id)
            })
            .collect()
    }

    /// Give the terminal to $EDITOR for a fetched file, then send the
    /// edited file back (in the background). The input reader is paused
    /// meanwhile: the editor reads stdin alone.
    pub fn edit(
        &mut self,
        session: EditSession,
        term: &mut TerminalGuard,
        sources: &mut Sources,
    ) -> std::io::Result<Vec<Msg>> {
        sources.pause_input();
        let r = term.outside(|| files_io::run_editor(&session.local))?;
        sources.resume_input();
        self.files.finish_edit(session, r);
        let size = term.term.size()?;
        Ok(vec![Msg::Resize(size.width, size.height)])
    }

    /// Keep this run's results for `sshdeck run --hosts-from-last`.
    fn record_run(
        &self,
        command: String,
        hosts: Vec<(usize, Option<HostOutcome>, [[u8; 32]; 2])>,
    ) -> Option<Msg> {
        let ran_on = self.ran_on.as_ref()?;
        let path = run_record::default_path()?;
        let record = RunRecord {
            command,
            hosts: hosts
                .into_iter()
                .filter_map(|(h, outcome, digests)| {
                    let (label, target) = ran_on.get(h)?;
                    Some(RecordedHost::new(
                        label.clone(),
                        target.clone(),
                        outcome.as_ref(),
                        digests,
                    ))
                })
                .collect(),
        };
        let e = record.save(&path).err()?;
        Some(Msg::Status(format!(
            "cannot keep this run's results in {}: {e}",
            path.display()
        )))
    }

    fn save_history(&self, command: &str) -> Option<Msg> {
        let path = self.history.as_ref()?;
        let e = history::append(path, command).err()?;
        Some(Msg::Status(format!("history {}: {e}", path.display())))
    }
}
