//! Host trust: known_hosts files, the policy for unknown keys, and saving
//! accepted keys. Never accepts an unknown key without either the user's
//! word or an explicit `accept-new` policy (no AutoAddPolicy here).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::keys::{PublicKey, PublicKeyOrCertificate};

use crate::engine::connection::known_hosts::{self, KnownHosts, Verdict};
use crate::engine::connection::target::HostKeyPolicy;
use crate::engine::error::HostError;
use crate::engine::prompt::{Answer, HostKeyDecision, Prompter, Question};

pub struct TrustStore {
    default_files: Vec<PathBuf>,
    /// Parsed known_hosts per file list; dropped when one of its files is written.
    cache: Mutex<HashMap<Vec<PathBuf>, Arc<KnownHosts>>>,
    /// Keys accepted "once": trusted for this process only.
    session: Mutex<HashSet<(String, Vec<u8>)>>,
    /// Keys the user refused in this process: not asked about again.
    rejected: Mutex<HashSet<(String, Vec<u8>)>>,
    /// One question at a time per host name (see `decide`).
    asking: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Serializes appends so concurrent saves never interleave lines.
    write_lock: Mutex<()>,
    reported_bad: Mutex<HashSet<(PathBuf, usize)>>,
}

enum Judged {
    Trusted,
    Unknown(PublicKey),
}

/// A key that neither the files nor this session's answers know, as the
/// policy (or the user) is about to decide on it.
struct NewKey<'r> {
    req: &'r TrustRequest<'r>,
    /// The host's name in known_hosts terms.
    name: String,
    key: PublicKey,
    blob: Vec<u8>,
    fingerprint: String,
}

impl NewKey<'_> {
    /// The key refused as unknown, with why.
    fn unknown(&self, why: &str) -> HostError {
        HostError::HostKeyUnknown {
            host: self.name.clone(),
            key_type: self.key.algorithm().as_str().to_string(),
            fingerprint: self.fingerprint.clone(),
            files: self.req.files.to_vec(),
            why: why.to_string(),
        }
    }
}

/// What the handshake needs to decide about one server key.
pub(crate) struct TrustRequest<'a> {
    pub host: &'a str,
    pub port: u16,
    /// HostKeyAlias: looked up (and saved) instead of `[host]:port`.
    pub alias: Option<&'a str>,
    pub files: &'a [PathBuf],
    pub policy: HostKeyPolicy,
    pub prompter: &'a Prompter,
    /// BatchMode for this host: nothing is asked.
    pub batch: bool,
    /// HashKnownHosts: save new keys with the name hashed.
    pub hash: bool,
}

impl TrustRequest<'_> {
    /// The name known_hosts lines are matched against.
    pub fn name(&self) -> String {
        match self.alias {
            Some(a) => a.to_ascii_lowercase(),
            None => known_hosts::lookup_name(self.host, self.port),
        }
    }

    /// The name a host certificate must list.
    fn principal(&self) -> &str {
        self.alias.unwrap_or(self.host)
    }
}

impl TrustStore {
    pub fn new(default_files: Vec<PathBuf>) -> Self {
        TrustStore {
            default_files,
            cache: Mutex::default(),
            session: Mutex::default(),
            rejected: Mutex::default(),
            asking: Mutex::default(),
            write_lock: Mutex::default(),
            reported_bad: Mutex::default(),
        }
    }

    pub fn default_files(&self) -> &[PathBuf] {
        &self.default_files
    }

    /// Lines that could not be parsed, each reported once per process.
    pub fn take_new_bad_lines(&self, files: &[PathBuf]) -> Vec<known_hosts::BadLine> {
        let Ok(view) = self.view(files) else {
            return Vec::new();
        };
        let Ok(mut seen) = self.reported_bad.lock() else {
            return Vec::new();
        };
        view.bad_lines
            .iter()
            .filter(|b| seen.insert((b.file.clone(), b.line)))
            .cloned()
            .collect()
    }

    fn view(&self, files: &[PathBuf]) -> std::io::Result<Arc<KnownHosts>> {
        if let Ok(cache) = self.cache.lock()
            && let Some(kh) = cache.get(files)
        {
            return Ok(kh.clone());
        }
        let kh = Arc::new(KnownHosts::load(files)?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(files.to_vec(), kh.clone());
        }
        Ok(kh)
    }

    /// Key types the known_hosts files list under `name`, to offer first
    /// in the handshake (see [`KnownHosts::known_key_types`]).
    pub(crate) fn known_key_types(&self, files: &[PathBuf], name: &str) -> Vec<String> {
        self.view(files)
            .map(|v| v.known_key_types_name(name).0)
            .unwrap_or_default()
    }

    /// Decide about `offered`, asking the user if the policy says so.
    pub(crate) async fn decide(
        &self,
        req: &TrustRequest<'_>,
        offered: &PublicKeyOrCertificate,
    ) -> Result<(), HostError> {
        let r = self.decide_inner(req, offered).await;
        // The decision for `--log`: trusted (known, accepted or saved), or
        // refused with the reason (the fingerprint, never anything secret).
        match &r {
            Ok(()) => tracing::info!(host = %req.name(), "host key trusted"),
            Err(e) => tracing::info!(host = %req.name(), "host key refused: {e}"),
        }
        r
    }

    async fn decide_inner(
        &self,
        req: &TrustRequest<'_>,
        offered: &PublicKeyOrCertificate,
    ) -> Result<(), HostError> {
        let name = req.name();
        let key = match self.judge(req, offered, &name)? {
            Judged::Trusted => return Ok(()),
            Judged::Unknown(key) => key,
        };
        // One question per host at a time: hosts that meet the same new
        // key at once (N hosts behind one new jump host) wait for the
        // first answer, then find the key saved or trusted for the
        // session, or refused, and are not asked again.
        let gate = self
            .asking
            .lock()
            .map(|mut m| m.entry(name.clone()).or_default().clone())
            .unwrap_or_default();
        let _turn = gate.lock().await;
        if let Judged::Trusted = self.judge(req, offered, &name)? {
            return Ok(());
        }
        let new = NewKey {
            req,
            blob: key.to_bytes().unwrap_or_default(),
            fingerprint: known_hosts::fingerprint(&key),
            name,
            key,
        };
        if self
            .rejected
            .lock()
            .is_ok_and(|s| s.contains(&(new.name.clone(), new.blob.clone())))
        {
            return Err(new.unknown("rejected"));
        }
        match req.policy {
            HostKeyPolicy::Strict => Err(new.unknown("host key policy is strict")),
            HostKeyPolicy::AcceptNew => self.save_new(&new, "cannot save the new key"),
            HostKeyPolicy::Ask => self.ask_user(new).await,
        }
    }

    /// Ask the user about a new key (unless nobody can be asked), then
    /// trust it for the session, save it, or remember it as rejected.
    async fn ask_user(&self, new: NewKey<'_>) -> Result<(), HostError> {
        let req = new.req;
        if req.batch || !req.prompter.can_ask() {
            // BatchMode on the host is batch mode whatever the
            // terminal; otherwise the prompter knows why.
            let why = if req.batch {
                crate::engine::prompt::CANNOT_ASK_BATCH
            } else {
                req.prompter.cannot_ask_why()
            };
            return Err(new.unknown(&format!(
                "{why}; use --host-key-policy accept-new or add it to known_hosts"
            )));
        }
        let question = Question::HostKey {
            host: new.name.clone(),
            key_type: new.key.algorithm().as_str().to_string(),
            fingerprint: new.fingerprint.clone(),
            save_to: req.files.first().cloned().unwrap_or_default(),
        };
        match req.prompter.ask(question).await {
            Answer::HostKey(HostKeyDecision::AcceptOnce) => {
                if let Ok(mut s) = self.session.lock() {
                    s.insert((new.name, new.blob));
                }
                Ok(())
            }
            Answer::HostKey(HostKeyDecision::AcceptAndSave) => {
                self.save_new(&new, "cannot save the key")
            }
            _ => {
                if let Ok(mut s) = self.rejected.lock() {
                    s.insert((new.name.clone(), new.blob.clone()));
                }
                Err(new.unknown("rejected"))
            }
        }
    }

    /// Save a new key to the first known_hosts file; `failed` starts the
    /// message when that cannot be done.
    fn save_new(&self, new: &NewKey<'_>, failed: &str) -> Result<(), HostError> {
        let file = new
            .req
            .files
            .first()
            .cloned()
            .ok_or_else(|| new.unknown("no known_hosts file to save it in"))?;
        self.save(&file, &new.name, &new.key, new.req.hash)
            .map_err(|e| HostError::Trust {
                host: new.name.clone(),
                cause: format!("{failed} to {}: {e}", file.display()),
            })
    }

    /// What the files (and this session's answers) say about `offered`:
    /// trusted, refused (revoked, changed), or unknown with the plain key
    /// to ask about.
    fn judge(
        &self,
        req: &TrustRequest<'_>,
        offered: &PublicKeyOrCertificate,
        name: &str,
    ) -> Result<Judged, HostError> {
        let view = self.view(req.files).map_err(|e| HostError::Trust {
            host: name.to_string(),
            cause: e.to_string(),
        })?;
        let key: PublicKey = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => {
                match view.check_cert_name(name, req.principal(), cert) {
                    Some(Verdict::Trusted) => return Ok(Judged::Trusted),
                    Some(Verdict::Revoked { file, line }) => {
                        return Err(HostError::HostKeyRevoked {
                            host: name.to_string(),
                            fingerprint: known_hosts::fingerprint(
                                &cert.public_key().clone().into(),
                            ),
                            file,
                            line,
                        });
                    }
                    // Not CA-trusted: judge the certified key on its own.
                    _ => cert.public_key().clone().into(),
                }
            }
        };
        let fingerprint = known_hosts::fingerprint(&key);
        match view.check_name(name, &key) {
            Verdict::Trusted => Ok(Judged::Trusted),
            Verdict::Revoked { file, line } => Err(HostError::HostKeyRevoked {
                host: name.to_string(),
                fingerprint,
                file,
                line,
            }),
            // Never overridable from here: the user must edit the file.
            Verdict::Changed {
                file,
                line,
                expected_fingerprint,
            } => Err(HostError::HostKeyChanged {
                host: name.to_string(),
                file,
                line,
                expected: expected_fingerprint,
                offered: fingerprint,
            }),
            Verdict::Unknown => {
                let blob = key.to_bytes().unwrap_or_default();
                let once = self
                    .session
                    .lock()
                    .is_ok_and(|s| s.contains(&(name.to_string(), blob)));
                Ok(if once {
                    Judged::Trusted
                } else {
                    Judged::Unknown(key)
                })
            }
        }
    }

    /// Trust `key` for `host:port` for this process only, without writing
    /// anything (the demo's ephemeral hosts).
    pub fn trust_for_session(&self, host: &str, port: u16, key: &PublicKey) {
        if let (Ok(mut s), Ok(blob)) = (self.session.lock(), key.to_bytes()) {
            s.insert((known_hosts::lookup_name(host, port), blob));
        }
    }

    /// Append `key` for the lookup name `name` (`[host]:port` or an alias)
    /// in OpenSSH's format, so `ssh` trusts it too; `hash` hides the name
    /// as HashKnownHosts does.
    pub fn save(
        &self,
        file: &Path,
        name: &str,
        key: &PublicKey,
        hash: bool,
    ) -> std::io::Result<()> {
        let _guard = self.write_lock.lock();
        if let Some(dir) = file.parent() {
            // ~/.ssh is private: made 0700 when sshdeck is the one making it.
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)?;
        // Start on a fresh line even if the file lacks a final newline.
        let needs_nl = std::fs::read(file).is_ok_and(|b| !b.is_empty() && !b.ends_with(b"\n"));
        let salt: Option<[u8; 20]> = if hash {
            let mut salt = [0u8; 20];
            // SAFETY: a writable buffer of the given length.
            let n = unsafe { libc::getrandom(salt.as_mut_ptr().cast(), salt.len(), 0) };
            if n != salt.len() as isize {
                return Err(std::io::Error::other(
                    "no randomness for a hashed known_hosts name",
                ));
            }
            Some(salt)
        } else {
            None
        };
        let line = known_hosts::format_entry_name(name, key, salt.as_ref().map(|s| &s[..]));
        if needs_nl {
            writeln!(f)?;
        }
        writeln!(f, "{line}")?;
        f.sync_all()?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|files, _| !files.iter().any(|p| p == file));
        }
        Ok(())
    }
}
