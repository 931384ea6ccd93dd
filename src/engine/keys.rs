//! Identity files, loaded once per process and shared by every host task.
//! A passphrase-protected key is asked for once; the decrypted key is reused
//! for the rest of the session and the passphrase itself is wiped at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::keys::PrivateKey;
use tokio::sync::OnceCell;

use super::prompt::{Answer, Prompter, Question};

#[derive(Clone, Debug)]
pub enum KeyState {
    Ready(Arc<PrivateKey>),
    /// The file does not exist (normal for default identity paths).
    Missing,
    /// Exists but cannot be used; the reason is shown on auth failure.
    Unusable(String),
}

#[derive(Default)]
pub struct KeyStore {
    cells: Mutex<HashMap<PathBuf, Arc<OnceCell<KeyState>>>>,
}

/// Wrong passphrases allowed before we give up on a key (OpenSSH: 3).
const PASSPHRASE_TRIES: usize = 3;

impl KeyStore {
    /// Load `path` once. Concurrent callers for the same key wait for the
    /// first one, so 500 hosts produce one passphrase prompt, not 500.
    ///
    /// With `no_questions` (BatchMode on this host), a key not loaded yet
    /// is read without asking, and that answer is not kept: another host
    /// may still ask for the passphrase.
    pub async fn get(&self, path: &Path, prompter: &Prompter, no_questions: bool) -> KeyState {
        let cell = match self.cells.lock() {
            Ok(mut m) => m.entry(path.to_path_buf()).or_default().clone(),
            Err(_) => return KeyState::Unusable("internal lock poisoned".into()),
        };
        if no_questions {
            return match cell.get() {
                Some(state) => state.clone(),
                None => load(path, &Prompter::batch()).await,
            };
        }
        cell.get_or_init(|| load(path, prompter)).await.clone()
    }
}

async fn load(path: &Path, prompter: &Prompter) -> KeyState {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(t) => zeroize::Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return KeyState::Missing,
        Err(e) => return KeyState::Unusable(e.to_string()),
    };
    match russh::keys::decode_secret_key(&text, None) {
        Ok(k) => return KeyState::Ready(Arc::new(k)),
        Err(russh::keys::Error::KeyIsEncrypted) => {}
        Err(e) => return KeyState::Unusable(format!("not a usable private key ({e})")),
    }
    if !prompter.can_ask() {
        return KeyState::Unusable(
            "is passphrase-protected and sshdeck cannot ask (batch mode); load it into ssh-agent"
                .into(),
        );
    }
    for attempt in 0..PASSPHRASE_TRIES {
        let q = Question::Passphrase {
            key: path.to_path_buf(),
            retry: attempt > 0,
        };
        let pass = match prompter.ask(q).await {
            Answer::Secret(s) => s,
            _ => return KeyState::Unusable("passphrase not given".into()),
        };
        // Decryption (bcrypt KDF) is deliberately slow; keep it off the
        // async workers so other hosts keep streaming meanwhile.
        let text2 = text.clone();
        let res = tokio::task::spawn_blocking(move || {
            russh::keys::decode_secret_key(&text2, Some(pass.as_str()))
        })
        .await;
        if let Ok(Ok(k)) = res {
            return KeyState::Ready(Arc::new(k));
        }
    }
    KeyState::Unusable(format!("wrong passphrase, {PASSPHRASE_TRIES} times"))
}
