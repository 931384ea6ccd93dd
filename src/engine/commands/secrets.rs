//! Named secrets for expect rules (e.g. "sudo"), asked once per session.
//!
//! The first host whose output matches a rule asks the user; hosts matching
//! meanwhile wait on the same lock and then reuse the answer, so a fan-out
//! to 1,000 hosts shows one dialog. Values are `Zeroizing` and never leave
//! this module except to be written to a channel. A declined question is
//! not asked again for the same job (1,000 dialogs in a row would be the
//! alternative), but a later job asks again.

use std::collections::HashMap;

use tokio::sync::Mutex;

use crate::engine::event::JobId;
use crate::engine::prompt::{Answer, Prompter, Question, Secret};

enum SecretSlot {
    Known(Secret),
    Declined(JobId),
    /// The host refused it; ask again, saying so.
    Wrong,
}

pub struct Secrets {
    prompter: Prompter,
    slots: Mutex<HashMap<String, SecretSlot>>,
    /// Every value given this session, for masking output of channels
    /// that never saw a prompt (a later command echoing the password).
    given: std::sync::Mutex<Vec<Secret>>,
}

impl Secrets {
    pub fn new(prompter: Prompter) -> Secrets {
        Secrets {
            prompter,
            slots: Mutex::new(HashMap::new()),
            given: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Values given so far (to mask, never to send).
    pub fn given(&self) -> Vec<Secret> {
        self.given.lock().map(|g| g.clone()).unwrap_or_default()
    }

    fn remember(&self, value: &Secret) {
        if let Ok(mut g) = self.given.lock()
            && !g.iter().any(|s| s.as_str() == value.as_str())
        {
            g.push(value.clone());
        }
    }

    /// Set a secret up front (tests, or a UI that asked already).
    pub async fn insert(&self, name: &str, value: Secret) {
        self.remember(&value);
        self.slots
            .lock()
            .await
            .insert(name.to_string(), SecretSlot::Known(value));
    }

    /// The secret `name`, asking the user if it is not known yet.
    /// `prompt` is the text that matched (already stripped of escapes).
    pub async fn get(&self, name: &str, host: &str, prompt: &str, job: JobId) -> Option<Secret> {
        let mut slots = self.slots.lock().await;
        let retry = match slots.get(name) {
            Some(SecretSlot::Known(s)) => return Some(s.clone()),
            Some(SecretSlot::Declined(j)) if *j == job => return None,
            Some(SecretSlot::Wrong) => true,
            Some(SecretSlot::Declined(_)) | None => false,
        };
        let question = Question::Secret {
            name: name.to_string(),
            host: host.to_string(),
            prompt: crate::text::sanitize::clean(prompt),
            retry,
        };
        match self.prompter.ask(question).await {
            Answer::Secret(s) => {
                self.remember(&s);
                slots.insert(name.to_string(), SecretSlot::Known(s.clone()));
                Some(s)
            }
            _ => {
                slots.insert(name.to_string(), SecretSlot::Declined(job));
                None
            }
        }
    }

    /// A host refused `refused`: ask again next time. Hosts that got the
    /// same wrong answer all say so, maybe after the user already gave a
    /// new one; only the value that was refused is forgotten.
    pub async fn forget(&self, name: &str, refused: &str) {
        let mut slots = self.slots.lock().await;
        if let Some(SecretSlot::Known(s)) = slots.get(name)
            && s.as_str() == refused
        {
            slots.insert(name.to_string(), SecretSlot::Wrong);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use zeroize::Zeroizing;

    #[tokio::test]
    async fn asked_once_for_many_hosts_and_again_after_forget() {
        let (prompter, mut rx) = Prompter::channel();
        let secrets = Arc::new(Secrets::new(prompter));
        let asked = tokio::spawn(async move {
            let mut n = 0;
            while let Some(p) = rx.recv().await {
                n += 1;
                let Question::Secret { retry, .. } = p.question else {
                    panic!("not a secret question");
                };
                assert_eq!(retry, n == 2);
                let _ = p
                    .reply
                    .send(Answer::Secret(Zeroizing::new(format!("pw{n}"))));
            }
            n
        });
        let mut tasks = Vec::new();
        for h in 0..20 {
            let s = secrets.clone();
            tasks.push(tokio::spawn(async move {
                s.get("sudo", &format!("h{h}"), "Password:", JobId(1)).await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().as_str(), "pw1");
        }
        secrets.forget("sudo", "not the one").await;
        assert_eq!(
            secrets
                .get("sudo", "h0", "Password:", JobId(1))
                .await
                .unwrap()
                .as_str(),
            "pw1",
            "a refusal of another value changes nothing"
        );
        secrets.forget("sudo", "pw1").await;
        let again = secrets.get("sudo", "h0", "Password:", JobId(1)).await;
        assert_eq!(again.unwrap().as_str(), "pw2");
        drop(secrets);
        assert_eq!(asked.await.unwrap(), 2);
    }

    #[tokio::test]
    async fn declined_is_not_asked_again_in_the_same_job() {
        let (prompter, mut rx) = Prompter::channel();
        let secrets = Secrets::new(prompter);
        let answerer = tokio::spawn(async move {
            let mut n = 0;
            while let Some(p) = rx.recv().await {
                n += 1;
                let _ = p.reply.send(Answer::Cancel);
            }
            n
        });
        assert!(secrets.get("s", "h", "p", JobId(1)).await.is_none());
        assert!(secrets.get("s", "h", "p", JobId(1)).await.is_none());
        assert!(secrets.get("s", "h", "p", JobId(2)).await.is_none());
        drop(secrets);
        assert_eq!(answerer.await.unwrap(), 2);
    }
}
