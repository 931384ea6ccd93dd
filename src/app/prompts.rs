//! Questions from the engine while they are on screen: an unknown host
//! key (the `host_key` context) and secrets to type (the `input`
//! context). A prompt takes every key while it is up.

use crossterm::event::KeyEvent;
use tui_textarea::TextArea;
use zeroize::Zeroizing;

use super::msg::Effect;
use super::state::AppState;
use crate::engine::{Answer, HostKeyDecision, Question};
use crate::keymap::{Action, Context};

/// The context the front prompt's keys are looked up in.
pub fn context(s: &AppState) -> Option<Context> {
    let p = s.prompts.front()?;
    Some(match p.question {
        Question::HostKey { .. } => Context::HostKey,
        _ => Context::Input,
    })
}

/// A key the prompt's context does not bind: text for the field being
/// typed (a host key question takes no text).
pub fn on_text_key(s: &mut AppState, k: KeyEvent) {
    if context(s) == Some(Context::Input)
        && let Some(p) = s.prompts.front_mut()
        && let Some(input) = p.inputs.get_mut(p.active)
    {
        input.input(k);
    }
}

/// What an action does to the front prompt: an answer ends it.
pub fn on_action(s: &mut AppState, a: Action) -> Option<Vec<Effect>> {
    let p = s.prompts.front_mut()?;
    let answer = match (&p.question, a) {
        (Question::HostKey { .. }, Action::AcceptOnce) => {
            Answer::HostKey(HostKeyDecision::AcceptOnce)
        }
        (Question::HostKey { .. }, Action::AcceptSave) => {
            Answer::HostKey(HostKeyDecision::AcceptAndSave)
        }
        (Question::HostKey { .. }, Action::Reject) => Answer::HostKey(HostKeyDecision::Reject),
        (Question::HostKey { .. }, _) => return None,
        (_, Action::Cancel) => Answer::Cancel,
        (_, Action::NextField | Action::Submit) if p.active + 1 < p.inputs.len() => {
            p.active += 1;
            return Some(Vec::new());
        }
        (_, Action::PrevField) if p.active > 0 => {
            p.active -= 1;
            return Some(Vec::new());
        }
        (_, Action::Submit) => secrets_answer(p),
        _ => return None,
    };
    Some(answer_front(s, answer))
}

/// The typed secrets as the answer; the widgets' copies are cleared at
/// once, and the answer's are zeroed when dropped.
fn secrets_answer(p: &mut super::state::PromptView) -> Answer {
    let secrets: Vec<Zeroizing<String>> = p
        .inputs
        .iter_mut()
        .map(|t| {
            let s = Zeroizing::new(t.lines().join(""));
            *t = TextArea::default();
            s
        })
        .collect();
    match &p.question {
        Question::KeyboardInteractive { .. } => Answer::Secrets(secrets),
        _ => Answer::Secret(secrets.into_iter().next().unwrap_or_default()),
    }
}

/// Take the front prompt off the screen with its answer for the engine.
fn answer_front(s: &mut AppState, answer: Answer) -> Vec<Effect> {
    let Some(p) = s.prompts.pop_front() else {
        return Vec::new();
    };
    if s.prompts.is_empty() {
        for h in &mut s.hosts {
            h.auth_needed = false;
        }
    }
    vec![Effect::Answer { id: p.id, answer }]
}
