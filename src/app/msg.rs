//! What flows into the pure update, and what it asks the runner to do.

use crossterm::event::{KeyEvent, MouseEvent};

use super::files::state::Side;
use crate::engine::facts::FactsReport;
use crate::engine::files::copy_job::CopySpec;
use crate::engine::files::fs::FileEntry;
use crate::engine::files::name::Name;
use crate::engine::files::queue::{JobView, TransferId};
use crate::engine::recipe::RecipeEvent;
use crate::engine::{Answer, Event, JobId, Question};

pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Bracketed paste.
    Paste(String),
    Resize(u16, u16),
    Engine(Event),
    /// The engine asks something; `id` pairs the answer with its reply channel.
    Prompt {
        id: u64,
        question: Question,
    },
    /// Nobody waits for question `id` any more (its host was cancelled,
    /// or went away): its dialog leaves with it.
    PromptGone(u64),
    /// The runner started the job requested by `Effect::Exec`.
    JobStarted(JobId),
    /// A message for the status bar (file saved, error...).
    Status(String),
    /// A directory listing for a files pane (answer to `Effect::List`).
    Listed {
        pane: usize,
        request: u64,
        result: Result<Listing, String>,
    },
    /// Path completions for the files view's path input.
    Completions {
        pane: usize,
        candidates: Vec<String>,
    },
    /// A file operation (or an edit) ended; panes are listed again.
    FileOpDone {
        message: String,
    },
    /// The transfer queue's latest view of one job.
    Transfer(JobView),
    /// The runner opened the shell requested by `Effect::OpenShell`.
    ShellStarted {
        id: u64,
        job: JobId,
    },
    /// One collector's latest result on one host.
    Facts(FactsReport),
    /// A recipe step changed state on a host.
    Recipe(RecipeEvent),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub dir: String,
    pub entries: Vec<FileEntry>,
    /// Names the listing held that were refused at the boundary (not
    /// shown, never acted on).
    pub refused: usize,
    /// For the selected-hosts side: the host that was listed.
    pub from: Option<String>,
    /// The side's start (home) directory, when known.
    pub home: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    Mkdir {
        dir: String,
        name: Name,
    },
    Rename {
        dir: String,
        from: Name,
        to: Name,
    },
    Chmod {
        dir: String,
        names: Vec<Name>,
        mode: u32,
    },
    /// Recursive; symlinks are removed, never followed.
    Delete {
        dir: String,
        names: Vec<Name>,
    },
}

impl FileOp {
    /// The directory the operation works in, as every host reads it.
    pub fn dir(&self) -> &str {
        match self {
            FileOp::Mkdir { dir, .. }
            | FileOp::Rename { dir, .. }
            | FileOp::Chmod { dir, .. }
            | FileOp::Delete { dir, .. } => dir,
        }
    }

    /// The names that must already be there (the ones a listing gave).
    pub fn listed_names(&self) -> Vec<&Name> {
        match self {
            FileOp::Mkdir { .. } => Vec::new(),
            FileOp::Rename { from, .. } => vec![from],
            FileOp::Chmod { names, .. } | FileOp::Delete { names, .. } => names.iter().collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferAction {
    Pause,
    /// Resume a paused or cancelled job, or retry a failed one's failed
    /// hosts.
    Resume,
    Cancel,
    /// Drop a finished job and what was kept to resume it.
    Forget,
}

#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub title: String,
    pub spec: CopySpec,
    /// Host indices: destinations of a put, sources of a get.
    pub hosts: Vec<usize>,
    pub remove_sources: bool,
    /// A host-to-host copy: the sources are on this host, the destinations
    /// are `hosts`.
    pub relay_from: Option<usize>,
}

/// Side effects, carried out by the runner (never by the update).
#[derive(Debug)]
pub enum Effect {
    Exec {
        hosts: Vec<usize>,
        command: String,
        opts: crate::engine::ExecOptions,
    },
    /// Open a PTY shell of `cols` x `rows` on `host`, for pane `id`.
    OpenShell {
        id: u64,
        host: usize,
        cols: u16,
        rows: u16,
    },
    /// Bytes typed or pasted into shell `id`.
    ShellInput {
        id: u64,
        bytes: Vec<u8>,
    },
    /// Shell `id`'s pane changed size: send a window-change.
    ShellResize {
        id: u64,
        cols: u16,
        rows: u16,
    },
    CloseShell {
        id: u64,
    },
    Cancel(JobId),
    /// Collect facts on `hosts` now, then every interval.
    WatchFacts {
        hosts: Vec<usize>,
    },
    /// Run recipe `name` on `hosts` (config order of steps).
    RunRecipe {
        name: String,
        hosts: Vec<usize>,
    },
    CancelRecipe,
    Answer {
        id: u64,
        answer: Answer,
    },
    /// Write a saved pane (see `hosts::save`) to a new private file.
    Save(SaveRequest),
    Suspend,
    /// Detach the client that asked from its session (which runs on).
    Detach,
    /// Keep a command in the history file (the runner appends it).
    SaveHistory(String),
    /// The last command ended on every host: keep its results for
    /// `--hosts-from-last`. Per host: index, how it ended (`None`: it has
    /// not), and the digests of its stdout and stderr.
    RecordRun {
        command: String,
        hosts: Vec<(usize, Option<crate::engine::HostOutcome>, [[u8; 32]; 2])>,
    },
    Quit,
    /// List `dir` (None: the side's start directory) for a files pane.
    /// `hosts` are the side's hosts (the first is listed).
    List {
        pane: usize,
        side: Side,
        hosts: Vec<usize>,
        dir: Option<String>,
        request: u64,
    },
    /// Complete a typed path for a files pane.
    Complete {
        pane: usize,
        side: Side,
        hosts: Vec<usize>,
        partial: String,
    },
    /// Run a file operation on the side (every host of it).
    FileOp {
        side: Side,
        hosts: Vec<usize>,
        op: FileOp,
    },
    Transfer(TransferRequest),
    TransferCtl {
        id: TransferId,
        action: TransferAction,
    },
    /// Edit a file in $EDITOR (remote: download, edit, upload atomically).
    Edit {
        /// None: a local file.
        host: Option<usize>,
        path: String,
    },
}

/// A pane to save to a file. What the runner writes: `header`, a newline, then `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveRequest {
    pub path: String,
    pub header: String,
    /// The pane's lines as plain text (styles and control sequences gone).
    pub text: String,
}
