//! Where and as whom to connect. Resolution of names, ssh_config and config
//! files happens in `inventory`; the engine receives finished targets.

use std::path::PathBuf;
use std::time::Duration;

/// What to do with a host key that no known_hosts file mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Show the fingerprint and let the user accept once, save, or reject.
    #[default]
    Ask,
    /// Trust on first use and save (OpenSSH's `accept-new`).
    AcceptNew,
    /// Refuse every unknown key.
    Strict,
}

impl HostKeyPolicy {
    pub fn parse(s: &str) -> Option<HostKeyPolicy> {
        match s.to_ascii_lowercase().as_str() {
            "ask" => Some(HostKeyPolicy::Ask),
            "accept-new" | "accept_new" => Some(HostKeyPolicy::AcceptNew),
            "strict" | "yes" => Some(HostKeyPolicy::Strict),
            _ => None,
        }
    }
}

/// Which ssh-agent a host uses (ssh_config's IdentityAgent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentChoice {
    /// `IdentityAgent none`: no agent for this host.
    Off,
    /// This socket instead of `$SSH_AUTH_SOCK`.
    Socket(PathBuf),
}

/// Per-host connection settings, mostly from ssh_config. Empty fields fall
/// back to the engine's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostOptions {
    /// Identity files to offer before the engine's defaults.
    pub identity_files: Vec<PathBuf>,
    /// Offer only `identity_files` (and agent keys matching them).
    pub identities_only: bool,
    /// CertificateFile: user certificates, offered with the key they
    /// certify (a `KEY-cert.pub` beside an identity file is found too).
    pub certificate_files: Vec<PathBuf>,
    /// ProxyJump hops, nearest first.
    pub jump: Vec<Target>,
    /// ProxyCommand, tokens expanded: run by the shell, its standard input
    /// and output carry the connection. Unused when there are jump hops.
    pub proxy_command: Option<String>,
    pub connect_timeout: Option<Duration>,
    /// ServerAliveInterval.
    pub keepalive: Option<Duration>,
    /// ServerAliveCountMax: unanswered keepalives before giving up.
    pub keepalive_max: Option<u32>,
    /// ConnectionAttempts: tries to open the TCP connection, a second apart.
    pub connection_attempts: Option<u32>,
    /// UserKnownHostsFile then GlobalKnownHostsFile; replaces the engine's
    /// list when non-empty. New keys are saved in the first.
    pub known_hosts: Vec<PathBuf>,
    /// HostKeyAlias: the name looked up (and saved) in known_hosts.
    pub host_key_alias: Option<String>,
    pub policy: Option<HostKeyPolicy>,
    /// Compression (zlib), as ssh's `-C`.
    pub compression: bool,
    /// IdentityAgent; `None` uses the engine's agent.
    pub agent: Option<AgentChoice>,
    /// PreferredAuthentications, in order (`publickey`,
    /// `keyboard-interactive`, `password`); empty is OpenSSH's order.
    pub preferred_auth: Vec<String>,
    /// BatchMode: never ask anything for this host.
    pub batch: bool,
    /// HashKnownHosts: new known_hosts lines are saved hashed.
    pub hash_known_hosts: bool,
}

/// A host the engine can connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What the user calls it: the inventory name or `user@host:port`.
    pub label: String,
    /// How to select it again (`-H`): the label, or for a named host given
    /// with a user or port, `user@name:port`, so its config entry applies.
    pub select_as: String,
    /// Address or DNS name to connect to.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub opts: HostOptions,
}

impl Target {
    pub fn new(
        label: impl Into<String>,
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
    ) -> Self {
        let label = label.into();
        Target {
            select_as: label.clone(),
            label,
            host: host.into(),
            port,
            user: user.into(),
            opts: HostOptions::default(),
        }
    }
}

/// The login name of the user running sshdeck, as OpenSSH picks it: from the
/// password database, not from `$USER` (which a shell can leave stale).
pub fn local_user() -> String {
    // Asked once per process: every target without a user needs it, and
    // getpwuid reads the password database each time (100,000 targets
    // were 100,000 reads of /etc/passwd). Once also keeps its static
    // buffer from being read by two threads at a time.
    static USER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    USER.get_or_init(|| {
        // SAFETY: getpwuid returns a pointer into static storage or null;
        // we copy the name out immediately and never keep the pointer.
        unsafe {
            let pw = libc::getpwuid(libc::getuid());
            if !pw.is_null()
                && !(*pw).pw_name.is_null()
                && let Ok(name) = std::ffi::CStr::from_ptr((*pw).pw_name).to_str()
            {
                return name.to_string();
            }
        }
        std::env::var("USER").unwrap_or_else(|_| "root".into())
    })
    .clone()
}

/// `$HOME` as OpenSSH resolves it: the environment first, then passwd.
/// `$XDG_STATE_HOME/sshdeck`, else `~/.local/state/sshdeck`: where the
/// history and the last run's results are kept.
pub fn state_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".local").join("state")))?;
    Some(base.join("sshdeck"))
}

/// `$XDG_CACHE_HOME/sshdeck`, else `~/.cache/sshdeck`: the spool of
/// host-to-host copies.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".cache")))?;
    Some(base.join("sshdeck"))
}

pub fn home_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(h.into());
    }
    // SAFETY: as in `local_user`.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if !pw.is_null() && !(*pw).pw_dir.is_null() {
            use std::os::unix::ffi::OsStrExt;
            let dir = std::ffi::CStr::from_ptr((*pw).pw_dir);
            return Some(std::ffi::OsStr::from_bytes(dir.to_bytes()).into());
        }
    }
    None
}
