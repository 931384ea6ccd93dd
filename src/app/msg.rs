//! What flows into the pure update, and what it asks the runner to do.

use crossterm::event::{KeyEvent, MouseEvent};

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
    /// The runner started the job requested by `Effect::Exec`.
    JobStarted(JobId),
    /// A message for the status bar (file saved, error...).
    Status(String),
}

/// Side effects, carried out by the runner (never by the update).
#[derive(Debug)]
pub enum Effect {
    Exec {
        hosts: Vec<usize>,
        command: String,
    },
    Cancel(JobId),
    Answer {
        id: u64,
        answer: Answer,
    },
    /// Write a host's output to a file.
    Save {
        host: usize,
    },
    Suspend,
    Quit,
}
