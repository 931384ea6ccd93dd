//! Identity files, loaded once per process and shared by every host task.
//! A passphrase-protected key is asked for once; the decrypted key is reused
//! for the rest of the session and the passphrase itself is wiped at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::keys::PrivateKey;
use tokio::sync::OnceCell;

use crate::engine::prompt::{Answer, Prompter, Question};

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
    /// The same, answered without asking (BatchMode hosts): an encrypted
    /// key is "unusable" there, which must not become every host's answer.
    batch: Mutex<HashMap<PathBuf, Arc<OnceCell<KeyState>>>>,
}

/// Wrong passphrases allowed before we give up on a key (OpenSSH: 3).
const PASSPHRASE_TRIES: usize = 3;

impl KeyStore {
    /// Load `path` once. Concurrent callers for the same key wait for the
    /// first one, so 500 hosts produce one passphrase prompt, not 500.
    ///
    /// With `no_questions` (BatchMode on this host), a key not loaded yet
    /// is read once for all such hosts without asking. That answer is kept
    /// apart: a host that may ask still gets the passphrase question for
    /// an encrypted key.
    pub async fn get(&self, path: &Path, prompter: &Prompter, no_questions: bool) -> KeyState {
        let cell = |map: &Mutex<HashMap<PathBuf, Arc<OnceCell<KeyState>>>>| match map.lock() {
            Ok(mut m) => Some(m.entry(path.to_path_buf()).or_default().clone()),
            Err(_) => None,
        };
        let (Some(asking), Some(batch)) = (cell(&self.cells), cell(&self.batch)) else {
            return KeyState::Unusable("internal lock poisoned".into());
        };
        if !no_questions {
            return asking.get_or_init(|| load(path, prompter)).await.clone();
        }
        if let Some(state) = asking.get() {
            return state.clone();
        }
        // Declining keeps the prompter's reason (no terminal); a host in
        // BatchMode whose prompter could ask declines as batch mode.
        let no_asking = if prompter.can_ask() {
            Prompter::batch()
        } else {
            prompter.clone()
        };
        let state = batch.get_or_init(|| load(path, &no_asking)).await.clone();
        // A key that needed no passphrase (or no file) is the same answer
        // for every host, asking or not.
        if matches!(state, KeyState::Ready(_) | KeyState::Missing) {
            let _ = asking.set(state.clone());
        }
        state
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
        return KeyState::Unusable(format!(
            "is passphrase-protected and {}; load it into ssh-agent",
            prompter.cannot_ask_why()
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_plain_key_read_in_batch_mode_is_read_once() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("id_ed25519");
        let key = PrivateKey::random(
            &mut russh::keys::key::safe_rng(),
            russh::keys::Algorithm::Ed25519,
        )
        .unwrap();
        let pem = key
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .unwrap();
        std::fs::write(&path, pem.as_bytes()).unwrap();
        let store = KeyStore::default();
        let batch = Prompter::batch();
        assert!(matches!(
            store.get(&path, &batch, true).await,
            KeyState::Ready(_)
        ));
        // Gone from disk: the next host still gets the key read once.
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            store.get(&path, &batch, true).await,
            KeyState::Ready(_)
        ));
        // A missing default identity is remembered too.
        let none = d.path().join("id_rsa");
        assert!(matches!(
            store.get(&none, &batch, true).await,
            KeyState::Missing
        ));
        std::fs::write(&none, pem.as_bytes()).unwrap();
        assert!(matches!(
            store.get(&none, &batch, true).await,
            KeyState::Missing
        ));
    }
}
