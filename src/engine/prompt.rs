//! How the engine asks the user something: a request with a reply channel.
//! The TUI answers with dialogs, the CLI on the terminal; with no prompter
//! (batch mode) every question is answered "no".
//!
//! Secrets travel as `Zeroizing<String>` so they are wiped when dropped, and
//! no type here implements a Debug that would print them.

use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

pub type Secret = Zeroizing<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyDecision {
    AcceptOnce,
    AcceptAndSave,
    Reject,
}

#[derive(Debug, Clone)]
pub enum Question {
    /// An unknown host key under the `ask` policy.
    HostKey {
        host: String,
        key_type: String,
        fingerprint: String,
        /// Where "save" would write.
        save_to: PathBuf,
    },
    /// The passphrase of an encrypted identity file.
    Passphrase { key: PathBuf, retry: bool },
    /// A password for `user@host`.
    Password {
        user: String,
        host: String,
        retry: bool,
    },
    /// Keyboard-interactive prompts from the server.
    KeyboardInteractive {
        user: String,
        host: String,
        name: String,
        instructions: String,
        /// (prompt text, echo input?)
        prompts: Vec<(String, bool)>,
    },
    /// A named secret for an expect rule (e.g. "sudo"), asked once per
    /// session and sent to every host that shows the prompt.
    Secret {
        name: String,
        /// The first host that showed the prompt.
        host: String,
        /// The matched prompt text, escape-free.
        prompt: String,
        /// The last answer was refused by a host.
        retry: bool,
    },
}

pub enum Answer {
    HostKey(HostKeyDecision),
    Secret(Secret),
    Secrets(Vec<Secret>),
    /// The user declined, or nobody can ask.
    Cancel,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::HostKey(d) => write!(f, "HostKey({d:?})"),
            Answer::Secret(_) => f.write_str("Secret(<redacted>)"),
            Answer::Secrets(v) => write!(f, "Secrets(<{} redacted>)", v.len()),
            Answer::Cancel => f.write_str("Cancel"),
        }
    }
}

#[derive(Debug)]
pub struct Prompt {
    pub question: Question,
    pub reply: oneshot::Sender<Answer>,
}

/// The engine's side: cheap to clone, `None` inside means batch mode.
#[derive(Clone, Default)]
pub struct Prompter {
    tx: Option<mpsc::Sender<Prompt>>,
}

impl Prompter {
    /// A prompter and the receiver the UI answers from.
    pub fn channel() -> (Prompter, mpsc::Receiver<Prompt>) {
        let (tx, rx) = mpsc::channel(16);
        (Prompter { tx: Some(tx) }, rx)
    }

    /// Nobody to ask: every question is declined.
    pub fn batch() -> Prompter {
        Prompter { tx: None }
    }

    pub fn can_ask(&self) -> bool {
        self.tx.is_some()
    }

    pub async fn ask(&self, question: Question) -> Answer {
        let Some(tx) = &self.tx else {
            return Answer::Cancel;
        };
        let (reply, rx) = oneshot::channel();
        if tx.send(Prompt { question, reply }).await.is_err() {
            return Answer::Cancel;
        }
        rx.await.unwrap_or(Answer::Cancel)
    }
}
