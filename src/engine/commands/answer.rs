//! The part of a running channel that answers prompts: it watches each
//! output chunk with the expect rules, fetches the named secret (asking the
//! user once per session), writes it to the channel, and masks the secret
//! in everything shown or recorded afterwards.

use std::sync::Arc;

use bytes::Bytes;
use zeroize::Zeroizing;

use crate::engine::commands::expect::{ExpectMatch, ExpectRule, Watcher};
use crate::engine::commands::redact::Redactor;
use crate::engine::commands::secrets::Secrets;
use crate::engine::event::JobId;

/// Expect rules plus the session's secrets, shared by every host.
#[derive(Clone)]
pub struct ExpectCtx {
    pub rules: Arc<[ExpectRule]>,
    pub secrets: Arc<Secrets>,
}

/// Output streams of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

/// What [`Answerer::chunk`] made of a chunk.
pub(crate) struct Inspected {
    /// What may be shown (secrets masked, a possible secret held back).
    pub shown: Bytes,
    /// Lines to write to the channel: secret plus newline, one per prompt.
    pub answers: Vec<Zeroizing<Vec<u8>>>,
    /// A prompt matched but no secret was given (declined, or nobody to
    /// ask): a command waiting for it would wait forever.
    pub unanswered: bool,
}

pub(crate) struct Answerer {
    secrets: Arc<Secrets>,
    host: String,
    job: JobId,
    watchers: [Watcher; 2],
    redactors: [Redactor; 2],
    /// The last value sent per secret name, to say which one was refused.
    sent: std::collections::HashMap<String, crate::engine::prompt::Secret>,
}

impl Answerer {
    pub fn new(ctx: &ExpectCtx, host: &str, job: JobId) -> Answerer {
        // Values given earlier in the session are masked from the start.
        let mut redactors = [Redactor::default(), Redactor::default()];
        for s in ctx.secrets.given() {
            for r in &mut redactors {
                r.add(s.clone());
            }
        }
        Answerer {
            secrets: ctx.secrets.clone(),
            host: host.to_string(),
            job,
            watchers: [
                Watcher::new(ctx.rules.clone()),
                Watcher::new(ctx.rules.clone()),
            ],
            redactors,
            sent: std::collections::HashMap::new(),
        }
    }

    /// Look at a chunk, answering the prompts it completes.
    pub async fn chunk(&mut self, stream: Stream, data: Bytes) -> Inspected {
        let mut answers = Vec::new();
        let mut unanswered = false;
        let s = stream as usize;
        for found in self.watchers[s].feed(&data) {
            match found {
                ExpectMatch::Rejected { rule } => {
                    if let Some(r) = self.watchers[s].rule(rule) {
                        tracing::info!(host = %self.host, secret = %r.secret, "answer refused; will ask again");
                        if let Some(refused) = self.sent.get(&r.secret) {
                            self.secrets.forget(&r.secret, refused).await;
                        }
                    }
                }
                ExpectMatch::Prompt { rule, text } => {
                    let Some(name) = self.watchers[s].rule(rule).map(|r| r.secret.clone()) else {
                        continue;
                    };
                    match self.secrets.get(&name, &self.host, &text, self.job).await {
                        Some(secret) => {
                            tracing::info!(host = %self.host, secret = %name, "answering prompt");
                            let mut line = Zeroizing::new(Vec::with_capacity(secret.len() + 1));
                            line.extend_from_slice(secret.as_bytes());
                            line.push(b'\n');
                            answers.push(line);
                            self.watchers[s].answered(rule);
                            for r in &mut self.redactors {
                                r.add(secret.clone());
                            }
                            self.sent.insert(name, secret);
                        }
                        None => {
                            unanswered = true;
                            tracing::info!(host = %self.host, secret = %name, "prompt left unanswered")
                        }
                    }
                }
            }
        }
        Inspected {
            shown: self.redactors[s].filter(data),
            answers,
            unanswered,
        }
    }

    /// Prompts may be answered (not only secrets masked).
    pub fn has_rules(&self) -> bool {
        !self.watchers[0].is_empty()
    }

    /// Some output is held back in case it starts a secret.
    pub fn holding(&self) -> bool {
        self.redactors.iter().any(Redactor::holding)
    }

    /// Release held-back output, per stream.
    pub fn flush(&mut self) -> [Bytes; 2] {
        [self.redactors[0].flush(), self.redactors[1].flush()]
    }
}
