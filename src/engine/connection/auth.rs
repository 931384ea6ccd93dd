//! The authentication chain, in OpenSSH's order: ssh-agent, identity files,
//! keyboard-interactive, password. Secrets come from the [`Prompter`] and are
//! wiped after use; a password is remembered per user for this process so a
//! fleet that shares one is asked once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::MethodKind;
use russh::MethodSet;
use russh::client::{AuthResult, Handle, Handler, KeyboardInteractiveAuthResponse};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{Certificate, HashAlg, PrivateKeyWithHashAlg, PublicKey};

use crate::engine::connection::identities::{KeyState, KeyStore};
use crate::engine::connection::target::{AgentChoice, Target};
use crate::engine::error::HostError;
use crate::engine::prompt::{Answer, Prompter, Question, Secret};
use crate::text::sanitize::server_text;

/// OpenSSH's default identity files, in its order.
pub fn default_identity_paths(home: &Path) -> Vec<PathBuf> {
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .collect()
}

/// Authentication state shared by every host of one engine.
pub struct AuthShared {
    pub keys: KeyStore,
    pub default_identities: Vec<PathBuf>,
    pub memory_keys: Vec<std::sync::Arc<russh::keys::PrivateKey>>,
    pub agent: Option<PathBuf>,
    pub prompter: Prompter,
    passwords: Mutex<HashMap<String, Secret>>,
    /// One password question per user at a time: hosts that need the same
    /// user's password wait here while the first one asks and tries it,
    /// then take the answer from `passwords` instead of asking again.
    password_gates: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl AuthShared {
    pub fn new(
        default_identities: Vec<PathBuf>,
        memory_keys: Vec<std::sync::Arc<russh::keys::PrivateKey>>,
        agent: Option<PathBuf>,
        prompter: Prompter,
    ) -> Self {
        AuthShared {
            keys: KeyStore::default(),
            default_identities,
            memory_keys,
            agent,
            prompter,
            passwords: Mutex::default(),
            password_gates: Mutex::default(),
        }
    }

    /// Wait for the right to ask for `user`'s password (see `password_gates`).
    async fn password_gate(&self, user: &str) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let gate = self
            .password_gates
            .lock()
            .ok()?
            .entry(user.to_string())
            .or_default()
            .clone();
        Some(gate.lock_owned().await)
    }

    fn cached_password(&self, user: &str) -> Option<Secret> {
        self.passwords.lock().ok()?.get(user).cloned()
    }

    fn remember_password(&self, user: &str, pw: Option<Secret>) {
        if let Ok(mut m) = self.passwords.lock() {
            match pw {
                Some(pw) => m.insert(user.to_string(), pw),
                None => m.remove(user),
            };
        }
    }
}

/// Progress of one host's chain, for a useful error at the end.
///
/// Generic over the russh handler so that authentication does not depend on
/// how the connection checks host keys (that lives in `ssh`).
struct Chain<'a, H: Handler> {
    handle: &'a mut Handle<H>,
    t: &'a Target,
    tried: Vec<String>,
    notes: Vec<String>,
    /// Methods the server still accepts, once we know.
    remaining: Option<MethodSet>,
    rsa_hash: Option<Option<HashAlg>>,
}

enum AuthStep {
    Done,
    Next,
}

impl<H: Handler> Chain<'_, H> {
    fn allows(&self, m: MethodKind) -> bool {
        self.remaining.as_ref().is_none_or(|r| r.contains(&m))
    }

    fn fail(&self, detail: String) -> HostError {
        HostError::Auth {
            user: self.t.user.clone(),
            host: self.t.label.clone(),
            detail: crate::text::sanitize::clean(&detail),
        }
    }

    /// The server's answer to one attempt by `method` (which names the
    /// method and the key file or agent, never a secret), logged for
    /// `--log`.
    fn result(&mut self, method: &str, r: AuthResult) -> AuthStep {
        let ok = matches!(r, AuthResult::Success);
        tracing::info!(host = %self.t.label, user = %self.t.user, method, ok, "auth");
        match r {
            AuthResult::Success => AuthStep::Done,
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                self.remaining = Some(remaining_methods);
                AuthStep::Next
            }
        }
    }

    async fn rsa_hash(&mut self, key: &PublicKey) -> Option<HashAlg> {
        if !key.algorithm().is_rsa() {
            return None;
        }
        if self.rsa_hash.is_none() {
            let h = self
                .handle
                .best_supported_rsa_hash()
                .await
                .ok()
                .flatten()
                .flatten();
            self.rsa_hash = Some(h);
        }
        self.rsa_hash.flatten()
    }
}

/// An authentication method sshdeck knows, by its SSH name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    PublicKey,
    KeyboardInteractive,
    Password,
}

/// The methods to try, in order: PreferredAuthentications when set
/// (unknown names such as gssapi-with-mic are passed over), else
/// OpenSSH's order.
fn method_order(preferred: &[String]) -> Vec<Method> {
    let all = [
        Method::PublicKey,
        Method::KeyboardInteractive,
        Method::Password,
    ];
    if preferred.is_empty() {
        return all.to_vec();
    }
    preferred
        .iter()
        .filter_map(|m| match m.as_str() {
            "publickey" => Some(Method::PublicKey),
            "keyboard-interactive" => Some(Method::KeyboardInteractive),
            "password" => Some(Method::Password),
            _ => None,
        })
        .collect()
}

pub(crate) async fn authenticate<H: Handler>(
    handle: &mut Handle<H>,
    t: &Target,
    shared: &AuthShared,
) -> Result<(), HostError> {
    let mut c = Chain {
        handle,
        t,
        tried: Vec::new(),
        notes: Vec::new(),
        remaining: None,
        rsa_hash: None,
    };
    let files = identity_list(t, shared);
    // BatchMode on this host: no question, whatever the engine could ask.
    let can_ask = shared.prompter.can_ask() && !t.opts.batch;
    for method in method_order(&t.opts.preferred_auth) {
        let step = match method {
            Method::PublicKey => public_keys(&mut c, shared, &files).await?,
            _ if !can_ask => AuthStep::Next,
            secret => {
                if c.remaining.is_none() {
                    // Learn what the server accepts before asking anything.
                    let r = c
                        .handle
                        .authenticate_none(&t.user)
                        .await
                        .map_err(|e| c.fail(e.to_string()))?;
                    if let AuthStep::Done = c.result("none", r) {
                        return Ok(());
                    }
                }
                match secret {
                    Method::KeyboardInteractive if c.allows(MethodKind::KeyboardInteractive) => {
                        keyboard_interactive(&mut c, shared).await?
                    }
                    Method::Password if c.allows(MethodKind::Password) => {
                        password(&mut c, shared).await?
                    }
                    _ => AuthStep::Next,
                }
            }
        };
        if let AuthStep::Done = step {
            return Ok(());
        }
    }
    let why_not = (!can_ask).then(|| {
        if t.opts.batch {
            crate::engine::prompt::CANNOT_ASK_BATCH
        } else {
            shared.prompter.cannot_ask_why()
        }
    });
    Err(c.fail(failure_detail(&c, &files, why_not)))
}

/// The agent this host uses: its IdentityAgent, else the engine's.
fn agent_socket<'a>(t: &'a Target, shared: &'a AuthShared) -> Option<&'a Path> {
    match &t.opts.agent {
        Some(AgentChoice::Off) => None,
        Some(AgentChoice::Socket(p)) => Some(p),
        None => shared.agent.as_deref(),
    }
}

/// User certificates for `key`: `KEY-cert.pub` beside its file, and every
/// CertificateFile that certifies this key.
fn certificates_for(t: &Target, file: Option<&Path>, key: &PublicKey) -> Vec<Certificate> {
    let beside = file.map(|f| {
        let mut p = f.as_os_str().to_owned();
        p.push("-cert.pub");
        PathBuf::from(p)
    });
    beside
        .iter()
        .chain(t.opts.certificate_files.iter())
        .filter_map(|p| russh::keys::load_openssh_certificate(p).ok())
        .filter(|c| c.public_key() == key.key_data())
        .collect()
}

/// Every public key: the agent's, in-memory keys, identity files (each
/// with its certificates first).
async fn public_keys<H: Handler>(
    c: &mut Chain<'_, H>,
    shared: &AuthShared,
    files: &[PathBuf],
) -> Result<AuthStep, HostError> {
    let t = c.t;
    if let Some(sock) = agent_socket(t, shared)
        && let AuthStep::Done = try_agent(c, sock, files, t.opts.identities_only).await?
    {
        return Ok(AuthStep::Done);
    }
    for key in &shared.memory_keys {
        let hash = c.rsa_hash(key.public_key()).await;
        let r = c
            .handle
            .authenticate_publickey(&t.user, PrivateKeyWithHashAlg::new(key.clone(), hash))
            .await
            .map_err(|e| c.fail(e.to_string()))?;
        c.tried.push("in-memory key".into());
        if let AuthStep::Done = c.result("publickey (in-memory key)", r) {
            return Ok(AuthStep::Done);
        }
    }
    let can_ask = shared.prompter.can_ask() && !t.opts.batch;
    for path in files {
        if !c.allows(MethodKind::PublicKey) {
            break;
        }
        match shared.keys.get(path, &shared.prompter, !can_ask).await {
            KeyState::Missing => {}
            KeyState::Unusable(why) => c.notes.push(format!("skipped {} ({why})", path.display())),
            KeyState::Ready(key) => {
                for cert in certificates_for(t, Some(path), key.public_key()) {
                    let r = c
                        .handle
                        .authenticate_openssh_cert(&t.user, key.clone(), cert)
                        .await
                        .map_err(|e| c.fail(e.to_string()))?;
                    c.tried.push(format!("{} (certificate)", path.display()));
                    let m = format!("publickey {} (certificate)", path.display());
                    if let AuthStep::Done = c.result(&m, r) {
                        return Ok(AuthStep::Done);
                    }
                }
                let hash = c.rsa_hash(key.public_key()).await;
                let r = c
                    .handle
                    .authenticate_publickey(&t.user, PrivateKeyWithHashAlg::new(key, hash))
                    .await
                    .map_err(|e| c.fail(e.to_string()))?;
                c.tried.push(path.display().to_string());
                if let AuthStep::Done = c.result(&format!("publickey {}", path.display()), r) {
                    return Ok(AuthStep::Done);
                }
            }
        }
    }
    Ok(AuthStep::Next)
}

fn identity_list(t: &Target, shared: &AuthShared) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = t.opts.identity_files.clone();
    if !t.opts.identities_only || v.is_empty() {
        v.extend(shared.default_identities.iter().cloned());
    }
    let mut seen = std::collections::HashSet::new();
    v.retain(|p| seen.insert(p.clone()));
    v
}

async fn try_agent<H: Handler>(
    c: &mut Chain<'_, H>,
    sock: &Path,
    files: &[PathBuf],
    identities_only: bool,
) -> Result<AuthStep, HostError> {
    let Ok(mut agent) = AgentClient::connect_uds(sock).await else {
        c.notes
            .push(format!("ssh-agent at {} did not answer", sock.display()));
        return Ok(AuthStep::Next);
    };
    let Ok(ids) = agent.request_identities().await else {
        return Ok(AuthStep::Next);
    };
    // With IdentitiesOnly, only agent keys whose .pub sits beside a listed file.
    let allowed: Vec<PublicKey> = if identities_only {
        files
            .iter()
            .filter_map(|p| russh::keys::load_public_key(p.with_extension("pub")).ok())
            .collect()
    } else {
        Vec::new()
    };
    let mut offered = 0;
    for id in ids {
        // A certificate the agent holds, or one from CertificateFile for a
        // key it holds, goes before the plain key.
        let (key, certs) = match id {
            AgentIdentity::PublicKey { key, .. } => {
                let certs = certificates_for(c.t, None, &key);
                (key, certs)
            }
            AgentIdentity::Certificate { certificate, .. } => (
                PublicKey::from(certificate.public_key().clone()),
                vec![certificate],
            ),
        };
        if identities_only && !allowed.iter().any(|a| a.key_data() == key.key_data()) {
            continue;
        }
        if !c.allows(MethodKind::PublicKey) {
            break;
        }
        let hash = c.rsa_hash(&key).await;
        offered += 1;
        for cert in certs {
            if let Ok(r) = c
                .handle
                .authenticate_certificate_with(&c.t.user, cert, hash, &mut agent)
                .await
                && let AuthStep::Done = c.result("publickey (ssh-agent certificate)", r)
            {
                return Ok(AuthStep::Done);
            }
        }
        match c
            .handle
            .authenticate_publickey_with(&c.t.user, key, hash, &mut agent)
            .await
        {
            Ok(r) => {
                if let AuthStep::Done = c.result("publickey (ssh-agent)", r) {
                    return Ok(AuthStep::Done);
                }
            }
            Err(_) => continue,
        }
    }
    if offered > 0 {
        c.tried.push(format!("ssh-agent ({offered} keys)"));
    }
    Ok(AuthStep::Next)
}

/// Multi-line server text (keyboard-interactive instructions), each line
/// cleaned, at most a screenful.
fn server_lines(text: &str) -> String {
    text.lines()
        .take(20)
        .map(server_text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Rounds of server questions we answer before giving up on this method.
const KBD_ROUNDS: usize = 5;

async fn keyboard_interactive<H: Handler>(
    c: &mut Chain<'_, H>,
    shared: &AuthShared,
) -> Result<AuthStep, HostError> {
    let user = c.t.user.clone();
    let mut resp = c
        .handle
        .authenticate_keyboard_interactive_start(&user, None)
        .await
        .map_err(|e| c.fail(e.to_string()))?;
    c.tried.push("keyboard-interactive".into());
    let mut rounds = KbdRounds::default();
    for _ in 0..KBD_ROUNDS {
        match resp {
            KeyboardInteractiveAuthResponse::Success => {
                if let Some(pw) = rounds.sent_password {
                    shared.remember_password(&user, Some(pw));
                }
                tracing::info!(host = %c.t.label, user = %user, method = "keyboard-interactive", ok = true, "auth");
                return Ok(AuthStep::Done);
            }
            KeyboardInteractiveAuthResponse::Failure {
                remaining_methods, ..
            } => {
                if rounds.sent_password.is_some() {
                    shared.remember_password(&user, None);
                }
                tracing::info!(host = %c.t.label, user = %user, method = "keyboard-interactive", ok = false, "auth");
                c.remaining = Some(remaining_methods);
                return Ok(AuthStep::Next);
            }
            KeyboardInteractiveAuthResponse::InfoRequest {
                name,
                instructions,
                prompts,
            } => {
                let asked = KbdQuestion {
                    user: &user,
                    host: &c.t.label,
                    name: &name,
                    instructions: &instructions,
                    prompts: &prompts,
                };
                let Some(answers) = rounds.answer(&asked, shared).await else {
                    return Ok(AuthStep::Next);
                };
                // russh takes plain Strings; they live only until sent.
                let plain: Vec<String> = answers.iter().map(|s| s.as_str().to_owned()).collect();
                resp = c
                    .handle
                    .authenticate_keyboard_interactive_respond(plain)
                    .await
                    .map_err(|e| c.fail(e.to_string()))?;
            }
        }
    }
    Ok(AuthStep::Next)
}

/// One round of the server's keyboard-interactive questions.
struct KbdQuestion<'a> {
    user: &'a str,
    host: &'a str,
    name: &'a str,
    instructions: &'a str,
    prompts: &'a [russh::client::Prompt],
}

/// What a keyboard-interactive exchange carries from round to round.
#[derive(Default)]
struct KbdRounds {
    /// Held from the first password-like prompt until this host knows
    /// whether the password works, so the user's other hosts wait for it.
    gate: Option<tokio::sync::OwnedMutexGuard<()>>,
    used_cache: bool,
    sent_password: Option<Secret>,
}

impl KbdRounds {
    /// The answers to one round: the remembered password for a lone
    /// password prompt, else the user's; `None` when the user gave none.
    async fn answer(&mut self, q: &KbdQuestion<'_>, shared: &AuthShared) -> Option<Vec<Secret>> {
        let prompts = q.prompts;
        // A lone hidden "Password:" prompt is the user's password:
        // asked once per user, as for the password method.
        let password_like = prompts.len() == 1
            && !prompts[0].echo
            && prompts[0].prompt.to_ascii_lowercase().contains("password");
        if password_like && self.gate.is_none() {
            self.gate = shared.password_gate(q.user).await;
        }
        let cached = if password_like && !self.used_cache {
            shared.cached_password(q.user)
        } else {
            None
        };
        let answers: Vec<Secret> = if prompts.is_empty() {
            Vec::new()
        } else if let Some(pw) = cached {
            self.used_cache = true;
            vec![pw]
        } else {
            // All three are the server's words: cleaned here, so no
            // dialog or terminal ever shows them raw.
            let question = Question::KeyboardInteractive {
                user: q.user.to_string(),
                host: q.host.to_string(),
                name: server_text(q.name),
                instructions: server_lines(q.instructions),
                prompts: prompts
                    .iter()
                    .map(|p| (server_text(&p.prompt), p.echo))
                    .collect(),
            };
            match shared.prompter.ask(question).await {
                Answer::Secrets(v) if v.len() == prompts.len() => v,
                _ => return None,
            }
        };
        if password_like {
            self.sent_password = answers.first().cloned();
        }
        Some(answers)
    }
}

/// Password attempts per host before giving up (OpenSSH: 3).
const PASSWORD_TRIES: usize = 3;

async fn password<H: Handler>(
    c: &mut Chain<'_, H>,
    shared: &AuthShared,
) -> Result<AuthStep, HostError> {
    let user = c.t.user.clone();
    c.tried.push("password".into());
    // Held until this host knows whether the password works: the user's
    // other hosts wait, then reuse it instead of asking again.
    let _gate = shared.password_gate(&user).await;
    for attempt in 0..PASSWORD_TRIES {
        let pw = match (attempt, shared.cached_password(&user)) {
            (0, Some(pw)) => pw,
            _ => {
                let q = Question::Password {
                    user: user.clone(),
                    host: c.t.label.clone(),
                    retry: attempt > 0,
                };
                match shared.prompter.ask(q).await {
                    Answer::Secret(s) => s,
                    _ => return Ok(AuthStep::Next),
                }
            }
        };
        let r = c
            .handle
            .authenticate_password(&user, pw.as_str())
            .await
            .map_err(|e| c.fail(e.to_string()))?;
        match c.result("password", r) {
            AuthStep::Done => {
                shared.remember_password(&user, Some(pw));
                return Ok(AuthStep::Done);
            }
            AuthStep::Next => {
                shared.remember_password(&user, None);
                if !c.allows(MethodKind::Password) {
                    break;
                }
            }
        }
    }
    Ok(AuthStep::Next)
}

/// `why_not`: why no password could be asked, when none could.
fn failure_detail<H: Handler>(
    c: &Chain<'_, H>,
    files: &[PathBuf],
    why_not: Option<&str>,
) -> String {
    let mut d = if c.tried.is_empty() {
        let listed: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        format!(
            "no key to offer (looked for {}; use -i FILE or ssh-agent)",
            listed.join(", ")
        )
    } else {
        format!("the server refused: {}", c.tried.join(", "))
    };
    if let Some(r) = &c.remaining {
        let names: Vec<&str> = r.iter().map(<&'static str>::from).collect();
        d.push_str(&format!("; server accepts: {}", names.join(",")));
        let wants_secret =
            r.contains(&MethodKind::Password) || r.contains(&MethodKind::KeyboardInteractive);
        if wants_secret && let Some(why) = why_not {
            d.push_str(&format!(" (it would take a password, but {why})"));
        }
    }
    for n in &c.notes {
        d.push_str("; ");
        d.push_str(n);
    }
    d
}
