//! How the engine asks the user something: a request with a reply channel.
//! The TUI answers with dialogs, the CLI on the terminal; with no prompter
//! (batch mode) every question is answered "no".
//!
//! Secrets travel as `Zeroizing<String>` so they are wiped when dropped, and
//! no type here implements a Debug that would print them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    waits: Arc<UserWait>,
    /// Without `tx`: stdin is not a terminal, as opposed to batch mode
    /// asked for. The refusals say which, so a user who never gave
    /// `--batch` is not told about it.
    no_terminal: bool,
}

/// Why nobody could be asked, for refusals: batch mode.
pub const CANNOT_ASK_BATCH: &str = "sshdeck cannot ask in batch mode";
/// Why nobody could be asked, for refusals: no terminal.
pub const CANNOT_ASK_NO_TTY: &str = "no terminal to ask on (stdin is not a terminal)";

/// How long sshdeck has waited for the user, over all questions: while a
/// question is open, connect timeouts do not run (see
/// [`Prompter::waited`]). Every host's clock pauses, not only the asking
/// host's: hosts wait on the same passphrase, and the CLI stops showing
/// output while it asks.
#[derive(Default)]
struct UserWait {
    inner: Mutex<WaitState>,
}

#[derive(Default)]
struct WaitState {
    open: usize,
    since: Option<Instant>,
    total: Duration,
}

/// Marks a question open while it lives.
struct Asking<'a>(&'a UserWait);

impl<'a> Asking<'a> {
    fn new(w: &'a UserWait) -> Self {
        if let Ok(mut s) = w.inner.lock() {
            s.open += 1;
            if s.open == 1 {
                s.since = Some(Instant::now());
            }
        }
        Asking(w)
    }
}

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.inner.lock() {
            s.open = s.open.saturating_sub(1);
            if s.open == 0
                && let Some(t) = s.since.take()
            {
                s.total += t.elapsed();
            }
        }
    }
}

impl Prompter {
    /// A prompter and the receiver the UI answers from.
    pub fn channel() -> (Prompter, mpsc::Receiver<Prompt>) {
        let (tx, rx) = mpsc::channel(16);
        let waits = Arc::default();
        (
            Prompter {
                tx: Some(tx),
                waits,
                no_terminal: false,
            },
            rx,
        )
    }

    /// Nobody to ask: every question is declined.
    pub fn batch() -> Prompter {
        Prompter::default()
    }

    /// Nobody to ask because stdin is not a terminal (no `--batch`):
    /// every question is declined, and refusals say why.
    pub fn no_terminal() -> Prompter {
        Prompter {
            no_terminal: true,
            ..Prompter::default()
        }
    }

    /// Why a question could not be asked: [`CANNOT_ASK_NO_TTY`] for a
    /// prompter made by [`Prompter::no_terminal`], else
    /// [`CANNOT_ASK_BATCH`].
    pub fn cannot_ask_why(&self) -> &'static str {
        if self.no_terminal && self.tx.is_none() {
            CANNOT_ASK_NO_TTY
        } else {
            CANNOT_ASK_BATCH
        }
    }

    /// Time spent with a question open, in all: a clock that only runs
    /// while sshdeck waits for the user.
    pub fn waited(&self) -> Duration {
        match self.waits.inner.lock() {
            Ok(s) => s.total + s.since.map_or(Duration::ZERO, |t| t.elapsed()),
            Err(_) => Duration::ZERO,
        }
    }

    /// A question is open now.
    pub fn is_waiting(&self) -> bool {
        self.waits.inner.lock().is_ok_and(|s| s.open > 0)
    }

    pub fn can_ask(&self) -> bool {
        self.tx.is_some()
    }

    pub async fn ask(&self, question: Question) -> Answer {
        let Some(tx) = &self.tx else {
            return Answer::Cancel;
        };
        let _open = Asking::new(&self.waits);
        let (reply, rx) = oneshot::channel();
        if tx.send(Prompt { question, reply }).await.is_err() {
            return Answer::Cancel;
        }
        rx.await.unwrap_or(Answer::Cancel)
    }
}

#[cfg(test)]
mod wait_tests {
    use super::*;

    #[tokio::test]
    async fn the_wait_clock_runs_only_while_a_question_is_open() {
        let (p, mut rx) = Prompter::channel();
        assert!(!p.is_waiting());
        assert_eq!(p.waited(), Duration::ZERO);
        let asker = {
            let p = p.clone();
            tokio::spawn(async move {
                p.ask(Question::Passphrase {
                    key: "k".into(),
                    retry: false,
                })
                .await
            })
        };
        let q = rx.recv().await.expect("a question");
        assert!(p.is_waiting());
        tokio::time::sleep(Duration::from_millis(60)).await;
        let _ = q.reply.send(Answer::Cancel);
        let _ = asker.await;
        assert!(!p.is_waiting());
        let waited = p.waited();
        assert!(waited >= Duration::from_millis(60), "{waited:?}");
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(p.waited(), waited, "the clock ran with no question open");
    }
}
