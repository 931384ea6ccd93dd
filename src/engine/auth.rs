//! Client identities and public-key authentication.
//!
//! Keys are read and parsed once per engine and shared by every host task:
//! parsing a key per connection would cost CPU on every one of 1,000 hosts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::client::{AuthResult, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use thiserror::Error;

use super::error::HostError;
use super::ssh::ClientHandler;

#[derive(Debug)]
pub struct Identity {
    pub path: PathBuf,
    key: Arc<PrivateKey>,
}

/// The keys offered to servers, in order.
#[derive(Debug, Default)]
pub struct Identities {
    keys: Vec<Identity>,
    /// Files that exist but could not be used, with why; shown on auth failure.
    pub skipped: Vec<(PathBuf, String)>,
}

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("identity file {}: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: String },
}

/// OpenSSH's default identity files, in its order.
pub fn default_identity_paths(home: &Path) -> Vec<PathBuf> {
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .collect()
}

impl Identities {
    /// Load `paths`. Explicit files (`-i`) must exist and parse; default files
    /// are optional, as with OpenSSH.
    pub fn load(paths: &[PathBuf], explicit: bool) -> Result<Self, IdentityError> {
        let mut ids = Identities::default();
        for path in paths {
            match russh::keys::load_secret_key(path, None) {
                Ok(key) => ids.keys.push(Identity {
                    path: path.clone(),
                    key: Arc::new(key),
                }),
                Err(russh::keys::Error::IO(e))
                    if !explicit && e.kind() == std::io::ErrorKind::NotFound => {}
                Err(russh::keys::Error::KeyIsEncrypted) => ids.skipped.push((
                    path.clone(),
                    "is passphrase-protected; load it into ssh-agent or use an unencrypted key"
                        .into(),
                )),
                Err(e) if explicit => {
                    return Err(IdentityError::Unreadable {
                        path: path.clone(),
                        cause: describe_key_error(&e),
                    });
                }
                Err(e) => ids.skipped.push((path.clone(), describe_key_error(&e))),
            }
        }
        Ok(ids)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.keys.iter().map(|k| k.path.as_path())
    }
}

fn describe_key_error(e: &russh::keys::Error) -> String {
    match e {
        russh::keys::Error::IO(io) => io.to_string(),
        other => format!("not a usable private key ({other})"),
    }
}

/// Try each identity in turn until the server accepts one.
pub(crate) async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    user: &str,
    host: &str,
    ids: &Identities,
) -> Result<(), HostError> {
    let fail = |detail: String| HostError::Auth {
        user: user.to_string(),
        host: host.to_string(),
        detail,
    };
    let mut rsa_hash = None;
    for id in &ids.keys {
        // RSA needs the server's preferred SHA-2 variant; ask once, lazily,
        // since most fleets use ed25519 and the query costs a round trip.
        let hash = if id.key.algorithm().is_rsa() {
            if rsa_hash.is_none() {
                rsa_hash = Some(
                    handle
                        .best_supported_rsa_hash()
                        .await
                        .map_err(|e| fail(e.to_string()))?
                        .flatten(),
                );
            }
            rsa_hash.flatten()
        } else {
            None
        };
        let key = PrivateKeyWithHashAlg::new(id.key.clone(), hash);
        match handle.authenticate_publickey(user, key).await {
            Ok(AuthResult::Success) => return Ok(()),
            Ok(AuthResult::Failure { .. }) => continue,
            Err(e) => return Err(fail(e.to_string())),
        }
    }
    let mut detail = if ids.keys.is_empty() {
        "no identity file to offer (tried ~/.ssh/id_ed25519, id_ecdsa, id_rsa; use -i FILE)"
            .to_string()
    } else {
        let tried: Vec<String> = ids.paths().map(|p| p.display().to_string()).collect();
        format!("server rejected every key offered ({})", tried.join(", "))
    };
    for (path, why) in &ids.skipped {
        detail.push_str(&format!("; skipped {} ({why})", path.display()));
    }
    Err(fail(detail))
}
