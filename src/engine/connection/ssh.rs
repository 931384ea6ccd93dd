//! Opening one authenticated SSH connection: TCP (or a direct-tcpip channel
//! through ProxyJump hops), handshake, host-key trust, authentication, all
//! under one connect timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{Algorithm, HashAlg, PublicKeyOrCertificate};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::engine::connection::auth::{AuthShared, authenticate};
use crate::engine::connection::target::{HostKeyPolicy, Target};
use crate::engine::connection::trust::{TrustRequest, TrustStore};
use crate::engine::error::HostError;
use crate::engine::prompt::Prompter;
use crate::text::sanitize::server_text;

/// russh calls back into this during the handshake.
pub(crate) struct ClientHandler {
    host: String,
    port: u16,
    /// HostKeyAlias, BatchMode and HashKnownHosts for this host.
    alias: Option<String>,
    batch: bool,
    hash_known_hosts: bool,
    files: Vec<std::path::PathBuf>,
    policy: HostKeyPolicy,
    trust: Arc<TrustStore>,
    prompter: Prompter,
    /// Why we refused the key. russh only sees `false`, so the precise cause
    /// travels back through this slot to the caller.
    refusal: Arc<Mutex<Option<HostError>>>,
    /// What the server said when it hung up (made safe to show), so the
    /// error can carry it ("Too many authentication failures").
    farewell: Arc<Mutex<Option<String>>>,
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    /// The pre-authentication banner is the server's text: it is logged
    /// (cleaned, a line at a time, at most a screenful), never printed raw.
    async fn auth_banner(
        &mut self,
        banner: &str,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        for line in banner.lines().take(40) {
            tracing::info!(host = %self.host, "banner: {}", server_text(line));
        }
        Ok(())
    }

    async fn disconnected(
        &mut self,
        reason: client::DisconnectReason<Self::Error>,
    ) -> Result<(), Self::Error> {
        match reason {
            client::DisconnectReason::ReceivedDisconnect(info) => {
                let said = server_text(&info.message);
                tracing::info!(host = %self.host, "the server disconnected: {said}");
                if let Ok(mut slot) = self.farewell.lock() {
                    *slot = Some(said);
                }
                Ok(())
            }
            client::DisconnectReason::Error(e) => Err(e),
        }
    }

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let req = TrustRequest {
            host: &self.host,
            port: self.port,
            alias: self.alias.as_deref(),
            files: &self.files,
            policy: self.policy,
            prompter: &self.prompter,
            batch: self.batch,
            hash: self.hash_known_hosts,
        };
        match self.trust.decide(&req, offered).await {
            Ok(()) => Ok(true),
            Err(e) => {
                if let Ok(mut slot) = self.refusal.lock() {
                    *slot = Some(e);
                }
                Ok(false)
            }
        }
    }
}

/// Everything a connection needs that is the same for every host.
pub(crate) struct ConnectContext {
    pub russh: Arc<client::Config>,
    pub trust: Arc<TrustStore>,
    pub auth: AuthShared,
    pub policy: HostKeyPolicy,
    pub connect_timeout: Duration,
}

/// An authenticated connection, plus the jump-host connections or the
/// ProxyCommand it runs through (they must live as long as it does).
pub(crate) struct Connection {
    pub handle: Handle<ClientHandler>,
    _hops: Vec<Handle<ClientHandler>>,
    /// Killed when the connection is dropped.
    _proxy: Option<tokio::process::Child>,
}

impl Connection {
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed() || self._hops.iter().any(|h| h.is_closed())
    }
}

pub(crate) async fn connect(
    ctx: &ConnectContext,
    t: &Target,
    cfg: Arc<client::Config>,
) -> Result<Connection, HostError> {
    // Each hop gets the full timeout: a two-hop chain legitimately takes
    // three handshakes.
    let per_hop = t.opts.connect_timeout.unwrap_or(ctx.connect_timeout);
    let attempts = t.opts.connection_attempts.unwrap_or(1).max(1);
    let limit = per_hop * (1 + t.opts.jump.len() as u32) * attempts;
    // The limit is on time the host takes, not on the user: while a
    // question (host key, passphrase, password) is open, it does not run.
    let prompter = &ctx.auth.prompter;
    let asked_before = prompter.waited();
    let started = tokio::time::Instant::now();
    let chain = connect_chain(ctx, t, cfg);
    tokio::pin!(chain);
    loop {
        let used = started
            .elapsed()
            .saturating_sub(prompter.waited().saturating_sub(asked_before));
        let nap = if prompter.is_waiting() {
            QUESTION_POLL
        } else if used >= limit {
            return Err(HostError::ConnectTimeout {
                addr: display_addr(&t.host, t.port),
                after: limit,
            });
        } else {
            limit - used
        };
        tokio::select! {
            r = &mut chain => return r,
            _ = tokio::time::sleep(nap) => {}
        }
    }
}

/// How often a connect timeout looks again while a question is open.
const QUESTION_POLL: Duration = Duration::from_millis(200);

async fn connect_chain(
    ctx: &ConnectContext,
    t: &Target,
    cfg: Arc<client::Config>,
) -> Result<Connection, HostError> {
    let mut hops: Vec<Handle<ClientHandler>> = Vec::new();
    for hop in &t.opts.jump {
        let h = match hops.last() {
            None => connect_tcp(ctx, hop, cfg.clone()).await,
            Some(prev) => connect_through(ctx, prev, hop, cfg.clone()).await,
        }
        .map_err(|e| HostError::Jump {
            hop: hop.label.clone(),
            cause: Box::new(e),
        })?;
        hops.push(h);
    }
    // ProxyJump wins over ProxyCommand (the resolver keeps only the first
    // one set, and `-J` always counts first).
    if let (None, Some(cmd)) = (hops.last(), &t.opts.proxy_command) {
        let (handle, child) = connect_command(ctx, t, cmd, cfg).await?;
        return Ok(Connection {
            handle,
            _hops: hops,
            _proxy: Some(child),
        });
    }
    let handle = match hops.last() {
        None => connect_tcp(ctx, t, cfg).await?,
        Some(prev) => connect_through(ctx, prev, t, cfg).await?,
    };
    Ok(Connection {
        handle,
        _hops: hops,
        _proxy: None,
    })
}

/// Connect through a ProxyCommand: the shell runs it (`exec`, as OpenSSH
/// does), and its standard input and output carry the SSH connection.
/// What it writes to stderr is kept (the last lines) for the error, and
/// logged; it never reaches the terminal.
async fn connect_command(
    ctx: &ConnectContext,
    t: &Target,
    cmd: &str,
    cfg: Arc<client::Config>,
) -> Result<(Handle<ClientHandler>, tokio::process::Child), HostError> {
    use tokio::io::AsyncBufReadExt;
    let addr = display_addr(&t.host, t.port);
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut child = tokio::process::Command::new(shell)
        .arg("-c")
        .arg(format!("exec {cmd}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| HostError::Network {
            addr: addr.clone(),
            cause: format!("cannot start ProxyCommand {cmd:?}: {e}"),
        })?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(HostError::Network {
            addr,
            cause: "ProxyCommand: no pipes".into(),
        });
    };
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    if let Some(stderr) = child.stderr.take() {
        let (said, host) = (said.clone(), t.label.clone());
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let line = server_text(&line);
                tracing::info!(host = %host, "ProxyCommand: {line}");
                if let Ok(mut v) = said.lock() {
                    if v.len() == 3 {
                        v.remove(0);
                    }
                    v.push(line);
                }
            }
        });
    }
    match handshake(ctx, t, tokio::io::join(stdout, stdin), cfg).await {
        Ok(h) => Ok((h, child)),
        Err(e) => {
            // Give its last words a moment to arrive.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let said = said.lock().map(|v| v.join(" / ")).unwrap_or_default();
            let exited = child.try_wait().ok().flatten();
            Err(match (exited, e) {
                (
                    Some(status),
                    HostError::Disconnected { .. }
                    | HostError::Network { .. }
                    | HostError::Protocol { .. },
                ) => HostError::Network {
                    addr,
                    cause: format!(
                        "ProxyCommand {cmd:?} ended ({status}){}",
                        if said.is_empty() {
                            String::new()
                        } else {
                            format!(": {said}")
                        }
                    ),
                },
                (_, e) => e,
            })
        }
    }
}

async fn connect_tcp(
    ctx: &ConnectContext,
    t: &Target,
    cfg: Arc<client::Config>,
) -> Result<Handle<ClientHandler>, HostError> {
    let addr = display_addr(&t.host, t.port);
    let addrs: Vec<_> = tokio::net::lookup_host((t.host.as_str(), t.port))
        .await
        .map_err(|e| HostError::Resolve {
            host: t.host.clone(),
            cause: e.to_string(),
        })?
        .collect();
    let mut last_err = None;
    let mut stream = None;
    // ConnectionAttempts: every address, again a second later, as ssh does.
    for attempt in 0..t.opts.connection_attempts.unwrap_or(1).max(1) {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        for sa in &addrs {
            match TcpStream::connect(sa).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        if stream.is_some() {
            break;
        }
    }
    let stream = match (stream, last_err) {
        (Some(s), _) => s,
        (None, Some(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(HostError::Refused { addr });
        }
        (None, e) => {
            return Err(HostError::Network {
                addr,
                cause: e.map_or_else(|| "no address found".into(), |e| e.to_string()),
            });
        }
    };
    // Interactive keystrokes and small command round trips matter more than
    // packet coalescing.
    let _ = stream.set_nodelay(true);
    handshake(ctx, t, stream, cfg).await
}

/// Reach `t` through an established connection with a direct-tcpip channel.
async fn connect_through(
    ctx: &ConnectContext,
    via: &Handle<ClientHandler>,
    t: &Target,
    cfg: Arc<client::Config>,
) -> Result<Handle<ClientHandler>, HostError> {
    let ch = via
        .channel_open_direct_tcpip(t.host.clone(), u32::from(t.port), "127.0.0.1", 0)
        .await
        .map_err(|e| HostError::Network {
            addr: display_addr(&t.host, t.port),
            cause: format!("the jump host could not open a tunnel: {e}"),
        })?;
    handshake(ctx, t, ch.into_stream(), cfg).await
}

async fn handshake<S>(
    ctx: &ConnectContext,
    t: &Target,
    stream: S,
    cfg: Arc<client::Config>,
) -> Result<Handle<ClientHandler>, HostError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let refusal = Arc::new(Mutex::new(None));
    let farewell = Arc::new(Mutex::new(None));
    let files = if t.opts.known_hosts.is_empty() {
        ctx.trust.default_files().to_vec()
    } else {
        t.opts.known_hosts.clone()
    };
    let handler = ClientHandler {
        host: t.host.clone(),
        port: t.port,
        alias: t.opts.host_key_alias.clone(),
        batch: t.opts.batch,
        hash_known_hosts: t.opts.hash_known_hosts,
        files,
        policy: t.opts.policy.unwrap_or(ctx.policy),
        trust: ctx.trust.clone(),
        prompter: ctx.auth.prompter.clone(),
        refusal: refusal.clone(),
        farewell: farewell.clone(),
    };
    let addr = display_addr(&t.host, t.port);
    let lookup = match &t.opts.host_key_alias {
        Some(a) => a.to_ascii_lowercase(),
        None => crate::engine::connection::known_hosts::lookup_name(&t.host, t.port),
    };
    let known = ctx.trust.known_key_types(&handler.files, &lookup);
    let cfg = known_types_first(&cfg, &known);
    let mut handle = match client::connect_stream(cfg, stream, handler).await {
        Ok(h) => h,
        Err(e) => {
            let refused = refusal.lock().ok().and_then(|mut s| s.take());
            let e = refused.unwrap_or_else(|| map_russh_error(&t.label, &addr, e));
            return Err(with_farewell(e, &farewell));
        }
    };
    authenticate(&mut handle, t, &ctx.auth)
        .await
        .map_err(|e| with_farewell(e, &farewell))?;
    Ok(handle)
}

/// An error that ended with the server hanging up, with what it said.
fn with_farewell(e: HostError, farewell: &Mutex<Option<String>>) -> HostError {
    let Some(said) = farewell.lock().ok().and_then(|s| s.clone()) else {
        return e;
    };
    match e {
        HostError::Auth { user, host, detail } => HostError::Auth {
            user,
            host,
            detail: format!("{detail}; the server hung up saying: {said}"),
        },
        HostError::Disconnected { host } | HostError::Protocol { host, .. } => {
            HostError::Protocol {
                host,
                cause: format!("the server hung up saying: {said}"),
            }
        }
        other => other,
    }
}

/// The host key algorithms for a known_hosts key type (`ssh-rsa` keys sign
/// with SHA-2 nowadays).
fn algorithms_for(key_type: &str) -> Vec<Algorithm> {
    match key_type {
        "ssh-rsa" => vec![
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
        ],
        other => other.parse().into_iter().collect(),
    }
}

/// `cfg` asking first for the host key types known for this host, as
/// OpenSSH does: a host pinned with its RSA or ECDSA key then shows that
/// key, not an Ed25519 key nobody has seen.
fn known_types_first(cfg: &Arc<client::Config>, known: &[String]) -> Arc<client::Config> {
    let mut order: Vec<Algorithm> = Vec::new();
    for a in known.iter().flat_map(|t| algorithms_for(t)) {
        if !order.contains(&a) {
            order.push(a);
        }
    }
    if order.is_empty() || cfg.preferred.key.starts_with(&order) {
        return cfg.clone();
    }
    for a in cfg.preferred.key.iter() {
        if !order.contains(a) {
            order.push(a.clone());
        }
    }
    Arc::new(client::Config {
        // SshId is not Clone.
        client_id: match &cfg.client_id {
            russh::SshId::Standard(s) => russh::SshId::Standard(s.clone()),
            russh::SshId::Raw(s) => russh::SshId::Raw(s.clone()),
        },
        limits: cfg.limits.clone(),
        window_size: cfg.window_size,
        maximum_packet_size: cfg.maximum_packet_size,
        channel_buffer_size: cfg.channel_buffer_size,
        preferred: russh::Preferred {
            key: std::borrow::Cow::Owned(order),
            ..cfg.preferred.clone()
        },
        inactivity_timeout: cfg.inactivity_timeout,
        keepalive_interval: cfg.keepalive_interval,
        keepalive_max: cfg.keepalive_max,
        anonymous: cfg.anonymous,
        gex: cfg.gex.clone(),
        nodelay: cfg.nodelay,
    })
}

pub(crate) fn map_russh_error(host: &str, addr: &str, e: russh::Error) -> HostError {
    match e {
        russh::Error::IO(io) => HostError::Network {
            addr: addr.into(),
            cause: io.to_string(),
        },
        russh::Error::HUP | russh::Error::Disconnect => {
            HostError::Disconnected { host: host.into() }
        }
        russh::Error::KeepaliveTimeout => HostError::Network {
            addr: addr.into(),
            cause: "no answer to keepalives".into(),
        },
        // russh's messages can quote what the server sent.
        other => HostError::Protocol {
            host: host.into(),
            cause: server_text(&other.to_string()),
        },
    }
}

/// `host:port`, bracketing IPv6 literals so the port stays unambiguous.
pub fn display_addr(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_key_types_go_first_and_nothing_is_lost() {
        let base = crate::engine::host_task::russh_config(None);
        let rsa = known_types_first(&base, &["ssh-rsa".into()]);
        assert!(matches!(
            rsa.preferred.key[0],
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512)
            }
        ));
        assert_eq!(rsa.preferred.key.len(), base.preferred.key.len());
        let ecdsa = known_types_first(&base, &["ecdsa-sha2-nistp256".into()]);
        assert!(matches!(ecdsa.preferred.key[0], Algorithm::Ecdsa { .. }));
        // Nothing known, or already first: the shared config is reused.
        assert!(Arc::ptr_eq(&known_types_first(&base, &[]), &base));
        assert!(Arc::ptr_eq(
            &known_types_first(&base, &["ssh-ed25519".into()]),
            &base
        ));
    }
}
